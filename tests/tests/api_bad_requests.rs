//! A bad API request gets a clear error and changes nothing: every write
//! endpoint of a running daemon, sent every body in a table of bad ones
//! (wrong JSON, wrong types, unknown values, absurd times, huge strings,
//! invalid UTF-8) under both content types, and odd ids in the path,
//! answers 4xx with a JSON `error` — never a 5xx — and the case it was
//! aimed at is still open, unacknowledged, afterwards.

use std::time::Duration;

use chrono::Utc;
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::DaemonProcess;
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::{eventually, get_json, quiet_batch};

/// Bodies no endpoint should take.
fn bad_bodies() -> Vec<Vec<u8>> {
    let huge = "x".repeat(300_000);
    let mut bodies: Vec<Vec<u8>> = [
        "",
        "{",
        "[]",
        "null",
        "42",
        "\"text\"",
        r#"{"by": 5}"#,
        r#"{"by": ["a"]}"#,
        r#"{"reason": "nope"}"#,
        r#"{"reason": null}"#,
        r#"{"reason": 7, "by": "x"}"#,
        r#"{"unknown_field": true}"#,
        r#"{"until": "yesterday", "reason": "trip", "by": "x"}"#,
        r#"{"until": "1970-01-01T00:00:00Z", "reason": "trip", "by": "x"}"#,
        r#"{"until": "9999-12-31T23:59:59Z", "reason": "trip", "by": "x"}"#,
        r#"{"until": "-5h", "household": "home-1", "reason": "x", "by": "x"}"#,
        r#"{"monitoring": "maybe"}"#,
        r#"{"family_sees_usage": "yes", "by": 1}"#,
        r#"{"text": null}"#,
    ]
    .iter()
    .map(|b| b.as_bytes().to_vec())
    .collect();
    bodies.push(format!(r#"{{"by": "{huge}", "note": "{huge}"}}"#).into_bytes());
    bodies.push(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}']);
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_clear_error_and_change_nothing() {
    let broker = TestBroker::start();
    let (daemon, _dir) = DaemonProcess::running(waterwatch_e2e::daemon_binary!(), &broker).await;
    let base = daemon.base_url();
    let http = waterwatch_e2e::http();

    // A real case to aim at: 14 hours without water.
    let mut meters = Publisher::connect(broker.port, "bad-requests-meters").await;
    meters
        .reading("home-1", quiet_batch("home-1", Utc::now(), 14))
        .await;
    meters.flush().await;
    let case_id = eventually(Duration::from_secs(30), "a case opens", async || {
        let cases: serde_json::Value = http
            .get(format!("{base}/api/v1/cases"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        cases["cases"][0]["id"].as_i64()
    })
    .await;

    let writes = [
        ("POST", format!("/api/v1/cases/{case_id}/ack")),
        ("POST", format!("/api/v1/cases/{case_id}/close")),
        ("POST", format!("/api/v1/cases/{case_id}/notes")),
        ("POST", "/api/v1/households/home-1/away".to_owned()),
        ("POST", "/api/v1/silences".to_owned()),
        ("PUT", "/api/v1/households/home-1/consent".to_owned()),
        ("PUT", "/api/v1/households/home-1/monitoring".to_owned()),
    ];
    let mut asked = 0;
    for (method, path) in &writes {
        for body in bad_bodies() {
            for content_type in ["application/json", "text/plain"] {
                let request = match *method {
                    "PUT" => http.put(format!("{base}{path}")),
                    _ => http.post(format!("{base}{path}")),
                };
                let answer = request
                    .header("content-type", content_type)
                    .body(body.clone())
                    .send()
                    .await
                    .expect("an answer");
                let status = answer.status();
                let full = answer.text().await.unwrap_or_default();
                let text: String = full.chars().take(300).collect();
                let shown = String::from_utf8_lossy(&body);
                let shown: String = shown.chars().take(120).collect();
                assert!(
                    status.is_client_error(),
                    "{method} {path} ({content_type}) {shown}: {status} {text}"
                );
                let error: serde_json::Value = serde_json::from_str(&full)
                    .unwrap_or_else(|_| panic!("{method} {path} {shown}: not JSON: {text}"));
                assert!(
                    error["error"].as_str().is_some_and(|e| !e.is_empty()),
                    "{method} {path} {shown}: {text}"
                );
                asked += 1;
            }
        }
    }
    // Odd ids in the path.
    for id in [
        "abc",
        "-1",
        "0",
        "99999999999999999999",
        "1.5",
        "%00",
        "1%20OR%201=1",
    ] {
        for action in ["ack", "close", "resident-ok", "notes"] {
            let answer = http
                .post(format!("{base}/api/v1/cases/{id}/{action}"))
                .json(&serde_json::json!({"reason": "fine", "by": "x", "text": "x"}))
                .send()
                .await
                .expect("an answer");
            assert!(
                answer.status().is_client_error(),
                "{id}/{action}: {}",
                answer.status()
            );
            asked += 1;
        }
    }
    // Odd queries and unknown households on the read endpoints.
    for path in [
        "/api/v1/cases?limit=0",
        "/api/v1/cases?limit=abc",
        "/api/v1/cases?limit=99999999999999999999",
        "/api/v1/cases?open=maybe",
        "/api/v1/households/nobody",
        "/api/v1/households/nobody/usage",
        "/api/v1/households/%00/consent",
        "/api/v1/cases/abc",
        "/api/v1/cases/99999999",
    ] {
        let answer = http
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("an answer");
        let status = answer.status();
        let text = answer.text().await.unwrap_or_default();
        assert!(status.is_client_error(), "GET {path}: {status} {text}");
        asked += 1;
    }
    assert!(asked > 300, "{asked}");

    // Nothing changed: the case is open and nobody acknowledged it.
    let case = get_json(&format!("{base}/api/v1/cases/{case_id}")).await;
    let shown = case.to_string();
    assert!(case["resolved_ms"].is_null(), "{shown}");
    assert!(case["acknowledged_by"].is_null(), "{shown}");
    assert!(
        daemon.logs().lines().all(|l| !l.contains("panicked")),
        "{}",
        daemon.logs()
    );
}
