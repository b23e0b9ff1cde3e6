//! How the walk talks to the daemon: the `user` CLI, a client that follows
//! no redirects, a logged-in browser (`Session`), and waiting for a case.

use std::path::Path;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::Value;
use waterwatch_e2e::{daemon_binary, eventually};

pub const PASSWORD: &str = "a long test password";

/// `waterwatch --config … user …` on the daemon's config; its stdout.
pub fn user(config: &Path, args: &[&str]) -> String {
    let dir = config.parent().expect("config dir");
    let password = dir.join("password");
    std::fs::write(&password, format!("{PASSWORD}\n")).expect("write password");
    let mut command = std::process::Command::new(daemon_binary!());
    command.arg("--config").arg(config).arg("user").args(args);
    if args[0] == "add" {
        command.arg("--password-file").arg(&password);
    }
    let out = command.output().expect("the CLI runs");
    assert!(
        out.status.success(),
        "user {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A client that follows no redirects, so that they can be checked.
pub fn client() -> reqwest::Client {
    waterwatch::notify::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A logged-in browser: its cookie and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub async fn log_in(base: &str, name: &str) -> Session {
    let http = client();
    let response = http
        .post(format!("{base}/login"))
        .form(&[("name", name), ("password", PASSWORD), ("next", "/cases")])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "login of {name}");
    assert_eq!(response.headers()[LOCATION], "/cases");
    let set = response.headers()[SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    let cookie = set.split(';').next().expect("name=value").to_owned();
    let me: Value = http
        .get(format!("{base}/api/v1/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("GET /api/v1/me")
        .json()
        .await
        .expect("json");
    Session {
        cookie,
        csrf: me["csrf_token"].as_str().expect("csrf").to_owned(),
    }
}

impl Session {
    pub async fn get(&self, base: &str, path: &str) -> (StatusCode, String) {
        let r = client()
            .get(format!("{base}{path}"))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("GET");
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    pub async fn form(&self, base: &str, path: &str, fields: &[(&str, &str)]) -> StatusCode {
        client()
            .post(format!("{base}{path}"))
            .header(COOKIE, &self.cookie)
            .form(fields)
            .send()
            .await
            .expect("POST")
            .status()
    }

    pub async fn post_json(&self, base: &str, path: &str, csrf: bool, body: Value) -> StatusCode {
        let mut request = client()
            .post(format!("{base}{path}"))
            .header(COOKIE, &self.cookie)
            .json(&body);
        if csrf {
            request = request.header("X-CSRF-Token", &self.csrf);
        }
        request.send().await.expect("POST").status()
    }
}

pub async fn open_case_of(base: &str, token: &str, household: &str) -> i64 {
    let http = client();
    eventually(Duration::from_secs(20), "the case to open", async || {
        let body: Value = http
            .get(format!("{base}/api/v1/cases"))
            .bearer_auth(token)
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        body["cases"]
            .as_array()?
            .iter()
            .find(|c| c["household"] == household && c["resolved_ms"].is_null())
            .and_then(|c| c["id"].as_i64())
    })
    .await
}
