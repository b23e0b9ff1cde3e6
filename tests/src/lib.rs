//! Harness for whole-system tests: a real MQTT broker process, the daemon as
//! a child process, a webhook receiver that checks signatures, and a
//! publisher that waits for the broker's acknowledgements.
//!
//! # Layout
//! - `broker`: Mosquitto on a free port (or the embedded broker when Mosquitto is absent).
//! - `daemon`: the daemon under test as a child process.
//! - `receiver`: an HTTP server recording webhook deliveries.
//! - `publish`: an MQTT publisher with QoS 1 acknowledgements.

pub mod broker;
pub mod daemon;
pub mod publish;
pub mod receiver;

use std::time::{Duration, Instant};

/// Poll `check` until it returns `Some`, or give up after `timeout`.
pub async fn eventually<T>(
    timeout: Duration,
    what: &str,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// An HTTP client for the tests (TLS provider installed first).
pub fn http() -> reqwest::Client {
    waterwatch::notify::install_tls_provider();
    reqwest::Client::new()
}

/// `GET url` answered with JSON; panics otherwise.
pub async fn get_json(url: &str) -> serde_json::Value {
    http()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

/// The first `http://` link in a message's text, without the sentence's
/// closing punctuation; panics when there is none.
pub fn link_in(text: &str) -> String {
    text.split_whitespace()
        .find_map(|word| {
            word.find("http://")
                .map(|i| word[i..].trim_end_matches(['.', '。', '，']).to_string())
        })
        .unwrap_or_else(|| panic!("no link in {text}"))
}

/// A free loopback port (bound and released; the tests never use fixed ports).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `t` as the meters here write it: RFC 3339 at +08:00.
pub fn local(t: chrono::DateTime<chrono::Utc>) -> String {
    let offset = chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00");
    t.with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A daily batch from `meter` (register at 52,000 L, battery 80 %, signal
/// −71 dBm): 15-minute readings with use in the first hour, then
/// `quiet_hours` without any, ending at `now`. Published at once, it reveals
/// the long silence.
pub fn quiet_batch(meter: &str, now: chrono::DateTime<chrono::Utc>, quiet_hours: i64) -> String {
    let start = now - chrono::Duration::hours(quiet_hours + 1);
    let mut total = 52_000;
    let mut readings = Vec::new();
    let mut t = start;
    while t <= now {
        if t < start + chrono::Duration::hours(1) {
            total += 7;
        }
        readings.push(serde_json::json!({"ts": local(t), "total_l": total, "battery_pct": 80, "rssi_dbm": -71}));
        t += chrono::Duration::minutes(15);
    }
    serde_json::json!({"meter_id": meter, "readings": readings}).to_string()
}
