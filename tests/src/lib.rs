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

/// A free loopback port (bound and released; the tests never use fixed ports).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
