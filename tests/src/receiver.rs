//! A webhook receiver: a real HTTP server that records every delivery and
//! checks its HMAC-SHA256 signature independently of the daemon's code.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use sha2::Sha256;

#[derive(Debug, Clone)]
pub struct Delivery {
    pub idempotency_key: String,
    pub signature_ok: bool,
    pub body: serde_json::Value,
    /// When the request arrived (for latency measurements).
    pub received: std::time::Instant,
}

#[derive(Clone)]
struct Shared {
    secret: Vec<u8>,
    received: Arc<Mutex<Vec<Delivery>>>,
    /// Answer 503 to this many requests first (to exercise retries).
    fail_first: Arc<Mutex<usize>>,
    /// Hold each answer this long after recording the delivery (a slow
    /// endpoint: deliveries are in flight when the daemon is killed).
    delay: Arc<Mutex<std::time::Duration>>,
}

pub struct Receiver {
    pub url: String,
    shared: Shared,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    pub async fn start(secret: &str) -> Receiver {
        let shared = Shared {
            secret: secret.as_bytes().to_vec(),
            received: Arc::default(),
            fail_first: Arc::default(),
            delay: Arc::default(),
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { url, shared, task }
    }

    pub fn fail_next(&self, count: usize) {
        *self.shared.fail_first.lock().expect("lock") = count;
    }

    pub fn delay_answers(&self, by: std::time::Duration) {
        *self.shared.delay.lock().expect("lock") = by;
    }

    pub fn deliveries(&self) -> Vec<Delivery> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// Deliveries of notification `kind` (`case_opened`, `all_clear`, …) for `household`.
    pub fn of(&self, kind: &str, household: &str) -> Vec<Delivery> {
        self.deliveries()
            .into_iter()
            .filter(|d| d.body["type"] == kind && d.body["household"] == household)
            .collect()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn signature_ok(secret: &[u8], header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        if let Some(value) = part.strip_prefix("t=") {
            t = Some(value.to_owned());
        } else if let Some(value) = part.strip_prefix("v1=") {
            v1 = hex::decode(value).ok();
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(t.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    {
        let mut fail = shared.fail_first.lock().expect("lock");
        if *fail > 0 {
            *fail -= 1;
            return StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let received = std::time::Instant::now();
    let delivery = Delivery {
        received,
        idempotency_key: header("x-waterwatch-idempotency-key"),
        signature_ok: signature_ok(&shared.secret, &header("x-waterwatch-signature"), &body),
        body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    };
    shared.received.lock().expect("lock").push(delivery);
    let delay = *shared.delay.lock().expect("lock");
    tokio::time::sleep(delay).await;
    StatusCode::OK
}
