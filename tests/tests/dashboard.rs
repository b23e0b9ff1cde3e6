//! The dashboard and API through a real daemon with `login = "always"`:
//! every page and API route, each role's limits, sessions, CSRF tokens,
//! login rate limiting, consent and the audit log.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, config};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::{daemon_binary, eventually, free_port, local, quiet_batch};

const PASSWORD: &str = "a long test password";

/// `waterwatch --config … user …` on the daemon's config; its stdout.
fn user(config: &Path, args: &[&str]) -> String {
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
fn client() -> reqwest::Client {
    waterwatch::notify::install_tls_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A logged-in browser: its cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn log_in(base: &str, name: &str) -> Session {
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
    async fn get(&self, base: &str, path: &str) -> (StatusCode, String) {
        let r = client()
            .get(format!("{base}{path}"))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("GET");
        let status = r.status();
        (status, r.text().await.expect("body"))
    }

    async fn form(&self, base: &str, path: &str, fields: &[(&str, &str)]) -> StatusCode {
        client()
            .post(format!("{base}{path}"))
            .header(COOKIE, &self.cookie)
            .form(fields)
            .send()
            .await
            .expect("POST")
            .status()
    }

    async fn post_json(&self, base: &str, path: &str, csrf: bool, body: Value) -> StatusCode {
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

async fn open_case_of(base: &str, token: &str, household: &str) -> i64 {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_route_keeps_to_each_roles_limits() {
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let http_port = free_port();
    let mut text = config(&broker.url(), http_port, &dir.path().join("ww.db"), None)
        .replace("[http]\n", "[http]\nlogin = \"always\"\n");
    text.push_str(
        "\n[[household]]\nid = \"h-east\"\nname = \"Mrs Chen\"\ngrid = \"east\"\nmeters = [\"m-east\"]\n\
         \n[[household]]\nid = \"h-west\"\nname = \"Mr Wang\"\ngrid = \"west\"\nmeters = [\"m-west\"]\n",
    );
    let config_path = dir.path().join("waterwatch.toml");
    std::fs::write(&config_path, &text).expect("config");
    user(&config_path, &["add", "root", "--role", "admin"]);
    user(&config_path, &["add", "olga", "--role", "ops"]);
    user(
        &config_path,
        &["add", "li", "--role", "grid_worker", "--scope", "east"],
    );
    user(
        &config_path,
        &[
            "add",
            "wang-jr",
            "--role",
            "family",
            "--scope",
            "h-west",
            "--language",
            "zh-CN",
        ],
    );
    let admin_token = user(&config_path, &["token", "root"]);
    let ops_token = user(&config_path, &["token", "olga"]);
    assert!(user(&config_path, &["list"]).contains("li\tgrid_worker\teast\ten"));

    let mut daemon = DaemonProcess::start(daemon_binary!(), dir.path(), http_port, &text, &[]);
    daemon.wait_ready().await;
    let base = daemon.base_url();
    let mut meters = Publisher::connect(broker.port, "e2e-dashboard").await;
    let now = Utc::now();
    meters
        .reading("m-east", quiet_batch("m-east", now, 14))
        .await;
    meters
        .reading("m-west", quiet_batch("m-west", now, 14))
        .await;
    meters.flush().await;
    let east_case = open_case_of(&base, &admin_token, "h-east").await;
    let west_case = open_case_of(&base, &admin_token, "h-west").await;

    // Without a session: pages send the browser to log in, the API says 401.
    let http = client();
    let anonymous = http
        .get(format!("{base}/households/h-east"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        anonymous.headers()[LOCATION],
        "/login?next=%2Fhouseholds%2Fh-east"
    );
    for path in ["/api/v1/cases", "/api/v1/households", "/api/v1/me"] {
        let r = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let r = http
        .get(format!("{base}/api/v1/cases"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .post(format!("{base}/api/v1/cases/{east_case}/ack"))
        .json(&json!({"by": "someone"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let login_page = http.get(format!("{base}/login")).send().await.unwrap();
    assert_eq!(login_page.status(), StatusCode::OK);
    assert!(
        login_page
            .text()
            .await
            .unwrap()
            .contains("name=\"password\"")
    );

    // A wrong password is refused; five in a row lock the name for a while.
    for _ in 0..5 {
        let r = http
            .post(format!("{base}/login"))
            .form(&[("name", "olga"), ("password", "wrong password!")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = http
        .post(format!("{base}/login"))
        .form(&[("name", "olga"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the sixth attempt is refused"
    );

    // The grid worker of "east" sees east only.
    let li = log_in(&base, "li").await;
    let (status, overview) = li.get(&base, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        overview.contains("Mrs Chen") && !overview.contains("Mr Wang"),
        "{overview}"
    );
    assert!(overview.contains("Case open"), "{overview}");
    assert!(overview.len() < 100 * 1024);
    let (status, page) = li.get(&base, "/households/h-east").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<svg") && page.contains("Alerts after"),
        "{page}"
    );
    assert!(page.len() < 100 * 1024);
    assert_eq!(
        li.get(&base, "/households/h-west").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.get(&base, "/households/nobody").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, cases) = li.get(&base, "/cases").await;
    assert_eq!(status, StatusCode::OK);
    assert!(cases.contains(&format!("#{east_case}")) && !cases.contains(&format!("#{west_case}")));
    assert_eq!(
        li.get(&base, &format!("/cases/{east_case}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        li.get(&base, &format!("/cases/{west_case}")).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, listed) = li.get(&base, "/api/v1/cases").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert!(
        listed["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["household"] == "h-east")
    );
    let (_, households) = li.get(&base, "/api/v1/households").await;
    assert!(households.contains("h-east") && !households.contains("h-west"));
    assert_eq!(
        li.get(&base, "/api/v1/households/h-west").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.get(&base, "/api/v1/households/h-east/usage").await.0,
        StatusCode::OK
    );
    for ops_only in [
        "/meters",
        "/rules",
        "/api/v1/meters",
        "/api/v1/rules",
        "/api/v1/audit",
    ] {
        assert_eq!(
            li.get(&base, ops_only).await.0,
            StatusCode::FORBIDDEN,
            "{ops_only}"
        );
    }
    // Acting on another grid's case is refused, with or without a token.
    let csrf = li.csrf.clone();
    assert_eq!(
        li.form(
            &base,
            &format!("/cases/{west_case}/ack"),
            &[("csrf", &csrf)]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.post_json(
            &base,
            &format!("/api/v1/cases/{west_case}/ack"),
            true,
            json!({})
        )
        .await,
        StatusCode::FORBIDDEN
    );
    // JSON writes with a session need the CSRF header; forms need the field.
    assert_eq!(
        li.post_json(
            &base,
            &format!("/api/v1/cases/{east_case}/ack"),
            false,
            json!({})
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.form(
            &base,
            &format!("/cases/{east_case}/ack"),
            &[("csrf", "forged")]
        )
        .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        li.form(
            &base,
            &format!("/cases/{east_case}/ack"),
            &[("csrf", &csrf)]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let (_, case_page) = li.get(&base, &format!("/cases/{east_case}")).await;
    assert!(case_page.contains("going: li"), "{case_page}");
    assert_eq!(
        li.post_json(
            &base,
            &format!("/api/v1/cases/{east_case}/notes"),
            true,
            json!({"text": "on my way"})
        )
        .await,
        StatusCode::CREATED
    );
    assert_eq!(
        li.form(
            &base,
            &format!("/cases/{east_case}/note"),
            &[("csrf", &csrf), ("text", "door locked, neighbour has key")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        li.form(
            &base,
            &format!("/cases/{east_case}/close"),
            &[
                ("csrf", &csrf),
                ("reason", "fine"),
                ("note", "she was gardening")
            ]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let (_, case_page) = li.get(&base, &format!("/cases/{east_case}")).await;
    assert!(
        case_page.contains("on my way") && case_page.contains("neighbour has key"),
        "{case_page}"
    );
    assert!(case_page.contains("Closed: Fine (li)"), "{case_page}");
    // Away mode from the household page, then back home.
    let tomorrow = (now + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    assert_eq!(
        li.form(
            &base,
            "/households/h-east/away",
            &[
                ("csrf", &csrf),
                ("until", &tomorrow),
                ("reason", "visiting her son")
            ]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let (_, page) = li.get(&base, "/households/h-east").await;
    assert!(page.contains("visiting her son"), "{page}");
    assert_eq!(
        li.form(&base, "/households/h-east/back", &[("csrf", &csrf)])
            .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        li.post_json(
            &base,
            "/api/v1/silences",
            true,
            json!({"grid": "east", "until": local(now + chrono::Duration::hours(2)), "reason": "x"})
        )
        .await,
        StatusCode::FORBIDDEN,
        "silences are for ops"
    );
    let (status, events) = {
        let r = client()
            .get(format!("{base}/events"))
            .header(COOKIE, &li.cookie)
            .send()
            .await
            .unwrap();
        (
            r.status(),
            r.headers()["content-type"].to_str().unwrap().to_owned(),
        )
    };
    assert_eq!(status, StatusCode::OK);
    assert!(events.starts_with("text/event-stream"));
    // A form posted from another site is refused even with a session.
    let cross = client()
        .post(format!("{base}/cases/{west_case}/ack"))
        .header(COOKIE, &li.cookie)
        .header("Origin", "https://evil.example")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);

    // Family: their household's status, in Chinese; water use only with consent.
    let family = log_in(&base, "wang-jr").await;
    let (status, page) = family.get(&base, "/households/h-west").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("待处理") && !page.contains("<svg"), "{page}");
    assert!(page.contains("尚无授权记录"), "{page}");
    assert_eq!(
        family.get(&base, "/households/h-east").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        family.get(&base, "/api/v1/households/h-west/usage").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        family
            .form(
                &base,
                "/households/h-west/consent",
                &[("csrf", &family.csrf), ("family_sees_usage", "yes")]
            )
            .await,
        StatusCode::FORBIDDEN,
        "family cannot grant consent for the resident"
    );
    let recorded = client()
        .put(format!("{base}/api/v1/households/h-west/consent"))
        .bearer_auth(&ops_token)
        .json(&json!({"family_sees_usage": true, "note": "signed form on file"}))
        .send()
        .await
        .unwrap();
    assert_eq!(recorded.status(), StatusCode::OK);
    assert_eq!(
        family.get(&base, "/api/v1/households/h-west/usage").await.0,
        StatusCode::OK
    );
    let (_, page) = family.get(&base, "/households/h-west").await;
    assert!(
        page.contains("<svg") && page.contains("signed form on file"),
        "{page}"
    );

    let (status, consent) = family.get(&base, "/api/v1/households/h-west/consent").await;
    assert_eq!(status, StatusCode::OK);
    assert!(consent.contains("\"family_sees_usage\":true"), "{consent}");
    assert_eq!(
        family
            .get(&base, "/api/v1/households/h-east/consent")
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        family
            .post_json(
                &base,
                &format!("/api/v1/cases/{east_case}/resident-ok"),
                true,
                json!({})
            )
            .await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        family
            .post_json(
                &base,
                "/api/v1/households/h-west/away",
                true,
                json!({"until": local(now + chrono::Duration::days(1)), "reason": "x"})
            )
            .await,
        StatusCode::FORBIDDEN,
        "away mode is set by those who look after the household"
    );
    let withdraw = client()
        .put(format!("{base}/api/v1/households/h-west/monitoring"))
        .header(COOKIE, &family.cookie)
        .header("X-CSRF-Token", &family.csrf)
        .json(&json!({"monitoring": false, "confirm": "h-west"}))
        .send()
        .await
        .unwrap();
    assert_eq!(withdraw.status(), StatusCode::FORBIDDEN);

    // Ops: meters and rules; no audit log (admins only).
    let ops = client();
    for (path, expected) in [
        ("/api/v1/meters", StatusCode::OK),
        ("/api/v1/rules", StatusCode::OK),
        ("/api/v1/audit", StatusCode::FORBIDDEN),
        ("/api/v1/households/h-west", StatusCode::OK),
        (
            &format!("/api/v1/cases/{west_case}") as &str,
            StatusCode::OK,
        ),
    ] {
        let r = ops
            .get(format!("{base}{path}"))
            .bearer_auth(&ops_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), expected, "{path}");
    }
    let admin = log_in(&base, "root").await;
    for page in [
        "/",
        "/cases",
        "/meters",
        "/rules",
        "/households/h-west",
        &format!("/cases/{west_case}"),
    ] {
        let (status, body) = admin.get(&base, page).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(body.len() < 100 * 1024, "{page} is {} bytes", body.len());
        assert!(
            !body.contains("http://") && !body.contains("https://")
                || body.contains("xmlns=\"http://www.w3.org/2000/svg\""),
            "{page} asks for something external"
        );
    }
    let (_, rules) = admin.get(&base, "/rules").await;
    assert!(
        rules.contains("inactivity") && rules.contains("fine 1"),
        "{rules}"
    );
    let (_, meters_page) = admin.get(&base, "/meters").await;
    assert!(
        meters_page.contains("m-east")
            && meters_page.contains("80 %")
            && meters_page.contains("-71 dBm"),
        "{meters_page}"
    );
    assert_eq!(
        admin.post_json(&base, "/api/v1/silences", true, json!({"grid": "east", "until": local(now + chrono::Duration::hours(2)), "reason": "maintenance"})).await,
        StatusCode::CREATED
    );
    let (status, silences) = admin.get(&base, "/api/v1/silences").await;
    assert_eq!(status, StatusCode::OK);
    assert!(silences.contains("maintenance"), "{silences}");
    let (status, households) = admin.get(&base, "/api/v1/households").await;
    assert_eq!(status, StatusCode::OK);
    assert!(households.contains("h-east") && households.contains("h-west"));
    let (status, me) = admin.get(&base, "/api/v1/me").await;
    assert_eq!(status, StatusCode::OK);
    assert!(me.contains("\"role\":\"admin\""), "{me}");
    for asset in [
        "/assets/style.css",
        "/assets/live.js",
        "/api/v1/openapi.json",
    ] {
        assert_eq!(admin.get(&base, asset).await.0, StatusCode::OK, "{asset}");
    }

    // The audit log has every view of personal data and every action.
    let audit: Value = client()
        .get(format!("{base}/api/v1/audit"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = audit["entries"].as_array().unwrap();
    let has = |actor: &str, action: &str, target: &str| {
        entries
            .iter()
            .any(|e| e["actor"] == actor && e["action"] == action && e["target"] == target)
    };
    assert!(has("li", "view", "household/h-east"));
    assert!(has("li", "acknowledge", &format!("case/{east_case}")));
    assert!(has("li", "close", &format!("case/{east_case}")));
    assert!(has("li", "away", "household/h-east"));
    assert!(has("olga", "consent", "household/h-west"));
    assert!(has("olga", "login_blocked", "olga"));
    assert!(has("wang-jr", "view", "household/h-west"));

    // Logging out ends the session.
    assert_eq!(
        li.form(&base, "/logout", &[("csrf", &li.csrf)]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(li.get(&base, "/").await.0, StatusCode::SEE_OTHER);
    // A disabled user's sessions and tokens stop working at once.
    user(&config_path, &["disable", "olga"]);
    let r = client()
        .get(format!("{base}/api/v1/meters"))
        .bearer_auth(&ops_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    drop(daemon);
}
