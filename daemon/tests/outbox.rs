//! Delivery from the durable outbox against a real HTTP server: retries with
//! backoff after failures, permanent failures given up, signatures checked.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::{TimeZone, Utc};
use tokio::sync::Notify;
use waterwatch::clock::ManualClock;
use waterwatch::deliver::{RateLimit, Worker};
use waterwatch::metrics::Metrics;
use waterwatch::notify::webhook::{self, Webhook};
use waterwatch::store::{Store, outbox};

#[derive(Clone, Default)]
struct Server {
    /// Status codes to answer, in order; then 200.
    script: Arc<Mutex<Vec<StatusCode>>>,
    received: Arc<Mutex<Vec<(String, bool)>>>,
}

async fn hook(State(server): State<Server>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let key = headers
        .get(webhook::IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let now = Utc::now().timestamp();
    let valid = webhook::verify(b"secret", signature, &body, now, 24 * 3600);
    server.received.lock().expect("lock").push((key, valid));
    let mut script = server.script.lock().expect("lock");
    if script.is_empty() {
        StatusCode::OK
    } else {
        script.remove(0)
    }
}

async fn serve(server: Server) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let app = Router::new().route("/hook", post(hook)).with_state(server);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

async fn enqueue(store: &Store, key: &str, channel: &str, clock: &ManualClock) {
    use waterwatch::clock::Clock;
    let mut conn = store.pool().acquire().await.expect("connection");
    let now_ms = clock.now().timestamp_millis();
    let message = waterwatch::notify::Message {
        to: None,
        subject: "s".into(),
        text: "t".into(),
        body: serde_json::json!({"type": "case_opened"}),
    };
    let payload = serde_json::to_string(&message).expect("json");
    outbox::enqueue(&mut conn, key, channel, None, &payload, now_ms, now_ms)
        .await
        .expect("enqueue");
}

fn worker(store: &Store, url: &str, clock: Arc<ManualClock>, max_attempts: i64) -> Worker {
    Worker {
        store: store.clone(),
        channel: waterwatch::notify::channel::Channel::Webhook(
            Webhook::new("grid", url, b"secret".to_vec(), Duration::from_secs(2)).expect("client"),
        ),
        metrics: Arc::new(Metrics::new()),
        clock,
        max_attempts,
        concurrency: 4,
        wake: Arc::new(Notify::new()),
        rate_limit: None,
    }
}

#[tokio::test]
async fn a_server_that_fails_twice_gets_the_message_on_the_third_attempt_after_backoff() {
    for (backend, store, _dir) in common::stores().await {
        let server = Server::default();
        *server.script.lock().expect("lock") =
            vec![StatusCode::SERVICE_UNAVAILABLE, StatusCode::BAD_GATEWAY];
        let url = serve(server.clone()).await;
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let worker = worker(&store, &url, clock.clone(), 5);
        enqueue(&store, "k1", "grid", &clock).await;

        assert_eq!(worker.deliver_due().await.expect("attempt"), 1);
        // Not due again until the backoff has passed.
        assert_eq!(worker.deliver_due().await.expect("attempt"), 0, "{backend}");
        clock.advance(chrono::Duration::seconds(7));
        assert_eq!(worker.deliver_due().await.expect("attempt"), 1);
        clock.advance(chrono::Duration::seconds(13));
        assert_eq!(worker.deliver_due().await.expect("attempt"), 1);
        assert_eq!(
            outbox::count_by_status(store.pool(), "delivered")
                .await
                .expect("n"),
            1
        );

        let received = server.received.lock().expect("lock").clone();
        assert_eq!(received.len(), 3, "{backend}");
        assert!(
            received.iter().all(|(key, valid)| key == "k1" && *valid),
            "{received:?}"
        );
    }
}

#[tokio::test]
async fn a_rejected_request_is_given_up_at_once_and_other_messages_still_go() {
    for (backend, store, _dir) in common::stores().await {
        let server = Server::default();
        *server.script.lock().expect("lock") = vec![StatusCode::BAD_REQUEST];
        let url = serve(server.clone()).await;
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0)
                .single()
                .expect("t"),
        ));
        let worker = worker(&store, &url, clock.clone(), 5);
        enqueue(&store, "bad", "grid", &clock).await;
        assert_eq!(worker.deliver_due().await.expect("attempt"), 1);
        enqueue(&store, "good", "grid", &clock).await;
        assert_eq!(worker.deliver_due().await.expect("attempt"), 1);
        assert_eq!(
            outbox::count_by_status(store.pool(), "failed")
                .await
                .expect("n"),
            1,
            "{backend}"
        );
        assert_eq!(
            outbox::count_by_status(store.pool(), "delivered")
                .await
                .expect("n"),
            1,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_endpoint_is_retried_until_the_attempts_run_out() {
    for (backend, store, _dir) in common::stores().await {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let url = format!("http://127.0.0.1:{port}/nobody-home");
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let worker = worker(&store, &url, clock.clone(), 3);
        enqueue(&store, "k", "grid", &clock).await;
        for _ in 0..3 {
            assert_eq!(worker.deliver_due().await.expect("attempt"), 1, "{backend}");
            clock.advance(chrono::Duration::hours(1));
        }
        assert_eq!(worker.deliver_due().await.expect("attempt"), 0);
        assert_eq!(
            outbox::count_by_status(store.pool(), "failed")
                .await
                .expect("n"),
            1,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_rate_limited_channel_holds_the_rest_in_order_and_never_holds_another_channel() {
    for (backend, store, _dir) in common::stores().await {
        let sms_server = Server::default();
        let sms_url = serve(sms_server.clone()).await;
        let ops_server = Server::default();
        let ops_url = serve(ops_server.clone()).await;
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 11, 24, 8, 0, 0)
                .single()
                .expect("t"),
        ));
        let mut limited = worker(&store, &sms_url, clock.clone(), 5);
        limited.rate_limit = Some(RateLimit::per_minute(2));
        let mut other = worker(&store, &ops_url, clock.clone(), 5);
        other.channel = waterwatch::notify::channel::Channel::Webhook(
            Webhook::new("ops", &ops_url, b"secret".to_vec(), Duration::from_secs(2))
                .expect("client"),
        );
        for i in 0..5 {
            enqueue(&store, &format!("sms-{i}"), "grid", &clock).await;
            clock.advance(chrono::Duration::milliseconds(1));
        }
        for i in 0..3 {
            enqueue(&store, &format!("ops-{i}"), "ops", &clock).await;
        }

        // Two in the first minute; the rest wait, whatever else is going on.
        assert_eq!(
            limited.deliver_due().await.expect("attempt"),
            2,
            "{backend}"
        );
        assert_eq!(
            limited.deliver_due().await.expect("attempt"),
            0,
            "{backend}"
        );
        assert_eq!(other.deliver_due().await.expect("attempt"), 3, "{backend}");
        clock.advance(chrono::Duration::seconds(59));
        assert_eq!(
            limited.deliver_due().await.expect("attempt"),
            0,
            "{backend}"
        );
        clock.advance(chrono::Duration::seconds(1));
        assert_eq!(
            limited.deliver_due().await.expect("attempt"),
            2,
            "{backend}"
        );
        clock.advance(chrono::Duration::seconds(60));
        assert_eq!(
            limited.deliver_due().await.expect("attempt"),
            1,
            "{backend}"
        );

        let mut keys: Vec<String> = sms_server
            .received
            .lock()
            .expect("lock")
            .iter()
            .map(|(key, _)| key.clone())
            .collect();
        // Each window's attempts run concurrently: order within a window is free.
        keys[..2].sort();
        keys[2..4].sort();
        assert_eq!(
            keys,
            ["sms-0", "sms-1", "sms-2", "sms-3", "sms-4"],
            "{backend}: oldest first, none dropped"
        );
        assert_eq!(ops_server.received.lock().expect("lock").len(), 3);
        assert_eq!(
            outbox::count_by_status(store.pool(), "delivered")
                .await
                .expect("n"),
            8,
            "{backend}"
        );
    }
}
