//! The operator's commands against a running daemon process: list cases,
//! acknowledge, resolve, away mode and silences — all through the daemon's
//! HTTP API, as an operator at a terminal would use them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::DaemonProcess;
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::{eventually, quiet_batch};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `waterwatch ARGS…` with `env`, as a separate process.
async fn waterwatch(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = tokio::process::Command::new(waterwatch_e2e::daemon_binary!())
        .args(args)
        .env_remove("WATERWATCH_API_TOKEN")
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run the CLI");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A quiet home: water for the first hour, then none for 14 hours.
async fn quiet_home(broker: &TestBroker, meter: &str) {
    let mut meters = Publisher::connect(broker.port, "operator-meters").await;
    meters
        .reading(meter, quiet_batch(meter, Utc::now(), 14))
        .await;
    meters.flush().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_lists_acknowledges_and_resolves_a_case_and_sets_away_and_silences() {
    let broker = TestBroker::start();
    let (mut daemon, dir) = DaemonProcess::running(waterwatch_e2e::daemon_binary!(), &broker).await;
    let http_port = daemon.http_port;
    let config_path = dir.path().join("waterwatch.toml");
    let config_arg = config_path.to_str().expect("a UTF-8 path");
    let url = daemon.base_url();

    // The address comes from the daemon's own config file.
    let none = waterwatch(&["--config", config_arg, "cases", "--open"], &[]).await;
    assert_eq!(none.code, 0, "{}", none.stderr);
    assert_eq!(none.stdout.trim(), "no open cases");

    quiet_home(&broker, "quiet-7").await;
    let listed = eventually(Duration::from_secs(30), "an open case", async || {
        let run = waterwatch(&["--url", &url, "cases", "--open"], &[]).await;
        run.stdout.contains("quiet-7").then_some(run)
    })
    .await;
    assert!(
        listed.stdout.contains("critical") && listed.stdout.contains("open, unacknowledged"),
        "{}",
        listed.stdout
    );
    let listed = waterwatch(&["--url", &url, "cases", "--open", "--json"], &[]).await;
    let cases: serde_json::Value = serde_json::from_str(&listed.stdout).expect("JSON");
    let id = cases["cases"][0]["id"].as_i64().expect("a case id");
    let id_arg = id.to_string();

    let acked = waterwatch(
        &[
            "--url",
            &url,
            "ack",
            &id_arg,
            "--by",
            "Li Wei",
            "--note",
            "on my way",
        ],
        &[],
    )
    .await;
    assert_eq!(acked.code, 0, "{}", acked.stderr);
    assert_eq!(
        acked.stdout.trim(),
        format!("case {id}: acknowledged by Li Wei")
    );
    let listed = waterwatch(&["--url", &url, "cases"], &[]).await;
    assert!(
        listed.stdout.contains("acknowledged by Li Wei"),
        "{}",
        listed.stdout
    );

    let unknown = waterwatch(&["--url", &url, "ack", "999999"], &[]).await;
    assert_eq!(unknown.code, 1);
    assert!(
        unknown.stderr.contains("case 999999: no such case"),
        "{}",
        unknown.stderr
    );

    let bad = waterwatch(
        &["--url", &url, "resolve", &id_arg, "--reason", "sleepy"],
        &[],
    )
    .await;
    assert_ne!(bad.code, 0);
    assert!(
        bad.stderr.contains("invalid value 'sleepy'") && bad.stderr.contains("late_riser"),
        "{}",
        bad.stderr
    );

    let resolved = waterwatch(
        &[
            "--url",
            &url,
            "resolve",
            &id_arg,
            "--reason",
            "late_riser",
            "--note",
            "slept in after a late night",
            "--by",
            "Li Wei",
        ],
        &[],
    )
    .await;
    assert_eq!(resolved.code, 0, "{}", resolved.stderr);
    assert_eq!(
        resolved.stdout.trim(),
        format!("case {id}: closed (late_riser)")
    );
    let open = waterwatch(&["--url", &url, "cases", "--open"], &[]).await;
    assert_eq!(open.stdout.trim(), "no open cases");
    let all = waterwatch(&["--url", &url, "cases"], &[]).await;
    assert!(all.stdout.contains("closed (late_riser)"), "{}", all.stdout);
    let again = waterwatch(
        &["--url", &url, "resolve", &id_arg, "--reason", "fine"],
        &[],
    )
    .await;
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already closed"), "{}", again.stderr);

    // Away mode and silences.
    let away = waterwatch(
        &[
            "--url",
            &url,
            "away",
            "quiet-7",
            "--until",
            "2d",
            "--reason",
            "visiting her son",
        ],
        &[],
    )
    .await;
    assert_eq!(away.code, 0, "{}", away.stderr);
    assert!(
        away.stdout.starts_with("quiet-7: away until "),
        "{}",
        away.stdout
    );
    let silence = waterwatch(
        &[
            "--url",
            &url,
            "silence",
            "--grid",
            "grid-3",
            "--kind",
            "meter_offline",
            "--until",
            "4h",
            "--reason",
            "network maintenance",
            "--by",
            "ops",
        ],
        &[],
    )
    .await;
    assert_eq!(silence.code, 0, "{}", silence.stderr);
    let list = waterwatch(&["--url", &url, "silence", "--list"], &[]).await;
    assert!(
        list.stdout.contains("away quiet-7") && list.stdout.contains("visiting her son"),
        "{}",
        list.stdout
    );
    assert!(
        list.stdout
            .contains("silence grid=grid-3 kind=meter_offline"),
        "{}",
        list.stdout
    );
    let back = waterwatch(&["--url", &url, "away", "quiet-7", "--end"], &[]).await;
    assert_eq!(back.code, 0, "{}", back.stderr);
    let not_away = waterwatch(&["--url", &url, "away", "quiet-7", "--end"], &[]).await;
    assert_eq!(not_away.code, 1);
    assert!(
        not_away
            .stderr
            .contains("quiet-7: the household is not away"),
        "{}",
        not_away.stderr
    );
    let past = waterwatch(
        &[
            "--url",
            &url,
            "away",
            "quiet-7",
            "--until",
            "2020-01-01T00:00:00Z",
            "--reason",
            "x",
        ],
        &[],
    )
    .await;
    assert_eq!(past.code, 1);
    assert!(
        past.stderr.contains("until: must be in the future"),
        "{}",
        past.stderr
    );
    daemon.terminate();

    // Once the daemon has stopped, the CLI says so instead of failing obscurely.
    let down = waterwatch(&["--config", config_arg, "cases"], &[]).await;
    assert_eq!(down.code, 1);
    assert!(
        down.stderr.contains(&format!(
            "cannot reach the waterwatch daemon at http://127.0.0.1:{http_port}"
        )),
        "{}",
        down.stderr
    );
    assert!(down.stderr.contains("Is it running"), "{}", down.stderr);
}

/// A stand-in API that records the Authorization header it was sent.
async fn recording_api(seen: Arc<Mutex<Vec<String>>>) -> String {
    use axum::http::HeaderMap;
    let app = axum::Router::new().route(
        "/api/v1/cases",
        axum::routing::get(move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                seen.lock().expect("lock").push(auth.clone());
                if auth == "Bearer s3cret" {
                    (axum::http::StatusCode::OK, r#"{"cases":[]}"#)
                } else {
                    (
                        axum::http::StatusCode::UNAUTHORIZED,
                        r#"{"error":"log in first"}"#,
                    )
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_the_api_token_from_the_environment_and_explains_a_refusal() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let url = recording_api(seen.clone()).await;
    let with = waterwatch(
        &["--url", &url, "cases"],
        &[("WATERWATCH_API_TOKEN", "s3cret")],
    )
    .await;
    assert_eq!(with.code, 0, "{}", with.stderr);
    assert_eq!(with.stdout.trim(), "no cases");
    let without = waterwatch(&["--url", &url, "cases"], &[]).await;
    assert_eq!(without.code, 1);
    assert!(
        without
            .stderr
            .contains("refused the request (HTTP 401): log in first")
            && without.stderr.contains("WATERWATCH_API_TOKEN"),
        "{}",
        without.stderr
    );
    assert_eq!(*seen.lock().expect("lock"), ["Bearer s3cret", ""]);
}
