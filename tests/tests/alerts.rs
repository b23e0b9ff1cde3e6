//! A reading published by a meter reaches a person: real broker, the daemon
//! as a process, a real webhook receiver checking signatures.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, config};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::receiver::Receiver;
use waterwatch_e2e::{eventually, free_port, local, quiet_batch};

const SECRET: &str = "e2e-webhook-secret";

fn single(meter: &str, t: DateTime<Utc>, total: i64) -> String {
    json!({"meter_id": meter, "ts": local(t), "total_l": total, "flow_lpm": 0.0, "battery_pct": 90, "status": []})
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_home_and_a_burst_pipe_reach_the_webhook_signed_and_then_clear() {
    let broker = TestBroker::start();
    let receiver = Receiver::start(SECRET).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let http_port = free_port();
    let text = config(
        &broker.url(),
        http_port,
        &dir.path().join("ww.db"),
        Some(&receiver.url),
    );
    let mut daemon = DaemonProcess::start(
        waterwatch_e2e::daemon_binary!(),
        dir.path(),
        http_port,
        &text,
        &[("WW_TEST_WEBHOOK_SECRET", SECRET)],
    );
    daemon.wait_ready().await;
    let mut meters = Publisher::connect(broker.port, "e2e-meters").await;

    // A daily batch reveals 14 hours without any water: inactivity fires on arrival.
    let now = Utc::now();
    meters
        .reading("quiet-1", quiet_batch("quiet-1", now, 14))
        .await;
    // A burst: 600 L in 10 minutes, reported a little over an hour ago (so
    // that the next reading, now, shows a quiet hour: the pipe is mended).
    meters
        .reading(
            "burst-1",
            single("burst-1", now - chrono::Duration::minutes(80), 8_000),
        )
        .await;
    meters
        .reading(
            "burst-1",
            single("burst-1", now - chrono::Duration::minutes(70), 8_600),
        )
        .await;
    meters.flush().await;

    let opened = eventually(
        Duration::from_secs(20),
        "the inactivity case to be notified",
        async || receiver.of("case_opened", "quiet-1").into_iter().next(),
    )
    .await;
    assert!(opened.signature_ok, "bad signature: {opened:?}");
    assert_eq!(opened.body["alert"]["kind"], "inactivity");
    assert_eq!(opened.body["alert"]["event"], "fired");
    assert_eq!(opened.body["severity"], "critical");
    assert!(!opened.idempotency_key.is_empty());

    // The grid worker acknowledges through the API; everyone told hears it.
    let case_id = opened.body["case_id"].as_i64().expect("a case id");
    let http = waterwatch_e2e::http();
    let ack_url = format!("{}/api/v1/cases/{case_id}/ack", daemon.base_url());
    let bad = http
        .post(&ack_url)
        .json(&json!({"who": "x"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(bad.status(), 400);
    let missing = http
        .post(format!("{}/api/v1/cases/999999/ack", daemon.base_url()))
        .json(&json!({"by": "Li Wei"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(missing.status(), 404);
    let acked = http
        .post(&ack_url)
        .json(&json!({"by": "Li Wei"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(acked.status(), 200);
    let heard = eventually(
        Duration::from_secs(20),
        "the acknowledgement to be told",
        async || receiver.of("acknowledged", "quiet-1").into_iter().next(),
    )
    .await;
    assert_eq!(heard.body["acknowledged_by"], "Li Wei");

    let burst = eventually(
        Duration::from_secs(20),
        "the burst case to be notified",
        async || receiver.of("case_opened", "burst-1").into_iter().next(),
    )
    .await;
    assert!(burst.signature_ok);
    assert_eq!(burst.body["alert"]["kind"], "spike");

    // Water again: both homes get the all-clear.
    // (A minute on, so the reading is not a duplicate of the batch's last.)
    let later = now + chrono::Duration::minutes(1);
    meters
        .reading("quiet-1", single("quiet-1", later, 52_040))
        .await;
    meters
        .reading("burst-1", single("burst-1", later, 8_601))
        .await;
    meters.flush().await;
    for household in ["quiet-1", "burst-1"] {
        let what = format!("the all-clear for {household}");
        let clear = eventually(Duration::from_secs(20), &what, async || {
            receiver.of("all_clear", household).into_iter().next()
        })
        .await;
        assert!(clear.signature_ok);
        assert_eq!(clear.body["alert"]["event"], "resolved");
    }

    // Nothing was said twice.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = receiver.deliveries();
    let mut keys: Vec<_> = all.iter().map(|d| d.idempotency_key.clone()).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(
        keys.len(),
        all.len(),
        "a notification was delivered twice: {all:#?}"
    );
    assert_eq!(receiver.of("case_opened", "quiet-1").len(), 1);

    // The receiver may hear a delivery a moment before the daemon records it.
    for want in [
        "waterwatch_alerts_total{kind=\"inactivity\",event=\"fired\"} 1",
        "waterwatch_deliveries_total{channel=\"grid\",outcome=\"delivered\"} 5",
    ] {
        eventually(Duration::from_secs(10), want, async || {
            daemon.metrics().await.contains(want).then_some(())
        })
        .await;
    }
    let took = daemon.terminate();
    assert!(
        took < Duration::from_secs(10),
        "graceful stop took {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_counted_by_reason_dead_lettered_and_changes_nothing_else() {
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let http_port = free_port();
    let mut text = config(&broker.url(), http_port, &dir.path().join("ww.db"), None);
    text = text.replace(
        "[store]",
        "[ingest]\nmax_payload_bytes = 4096\nunknown_meters = \"reject\"\n\n\
         [[household]]\nid = \"home-1\"\nmeters = [\"m1\"]\n\n[store]",
    );
    let mut daemon = DaemonProcess::start(
        waterwatch_e2e::daemon_binary!(),
        dir.path(),
        http_port,
        &text,
        &[],
    );
    daemon.wait_ready().await;
    let mut meters = Publisher::connect(broker.port, "e2e-bad").await;
    let now = Utc::now();

    let huge = format!("{{\"meter_id\":\"m1\",\"pad\":\"{}\"}}", "x".repeat(10_000));
    let cases: Vec<(&str, String, &str)> = vec![
        ("m1", "{not json".into(), "malformed"),
        (
            "m1",
            json!({"meter_id": "m1", "ts": local(now), "total_l": "lots"}).to_string(),
            "wrong_type",
        ),
        (
            "m1",
            json!({"meter_id": "m1", "total_l": 5}).to_string(),
            "missing_field",
        ),
        (
            "m1",
            json!({"meter_id": "m1", "ts": local(now), "total_l": -3}).to_string(),
            "bad_total",
        ),
        (
            "m1",
            json!({"meter_id": "m1", "ts": local(now + chrono::Duration::days(2)), "total_l": 3})
                .to_string(),
            "future_timestamp",
        ),
        (
            "m1",
            json!({"meter_id": "m1", "ts": local(now - chrono::Duration::days(400)), "total_l": 3})
                .to_string(),
            "old_timestamp",
        ),
        ("m1", huge, "oversized"),
        ("m2", single("m1", now, 10), "topic_mismatch"),
        ("stranger", single("stranger", now, 10), "unknown_meter"),
    ];
    for (meter, payload, _) in &cases {
        meters.reading(meter, payload.clone()).await;
    }
    meters.flush().await;

    for (_, _, reason) in &cases {
        let want = format!("waterwatch_messages_rejected_total{{reason=\"{reason}\"}} 1");
        eventually(Duration::from_secs(15), &want, async || {
            daemon.metrics().await.contains(&want).then_some(())
        })
        .await;
    }
    let store = waterwatch::store::Store::connect(&format!(
        "sqlite://{}",
        dir.path().join("ww.db").display()
    ))
    .await
    .expect("open the daemon's database");
    let letters = waterwatch::store::ingest::dead_letters(store.pool(), 100)
        .await
        .expect("dead letters");
    assert_eq!(letters.len(), cases.len(), "{letters:#?}");
    assert_eq!(
        waterwatch::store::ingest::count_readings(store.pool(), "m1")
            .await
            .expect("count"),
        0
    );
    // The daemon is still running and still takes good readings.
    meters.reading("m1", single("m1", now, 10)).await;
    meters.flush().await;
    eventually(
        Duration::from_secs(15),
        "the good reading to be stored",
        async || {
            let n = waterwatch::store::ingest::count_readings(store.pool(), "m1")
                .await
                .ok()?;
            (n == 1).then_some(())
        },
    )
    .await;
    // Away mode over the API: bad requests are refused with a reason.
    let http = waterwatch_e2e::http();
    let away = format!("{}/api/v1/households/home-1/away", daemon.base_url());
    let until = (Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let past = http
        .post(&away)
        .json(&json!({"until": "2020-01-01T00:00:00Z", "reason": "trip", "by": "Zhang Jun"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(past.status(), 400);
    assert!(
        past.text()
            .await
            .expect("body")
            .contains("until: must be in the future")
    );
    let set = http
        .post(&away)
        .json(&json!({"until": until, "reason": "visiting family", "by": "Zhang Jun"}))
        .send()
        .await
        .expect("POST");
    assert_eq!(set.status(), 201);
    let listed = waterwatch_e2e::get_json(&format!("{}/api/v1/silences", daemon.base_url())).await;
    assert_eq!(listed["suppressions"][0]["household"], "home-1");
    assert_eq!(
        http.delete(&away).send().await.expect("DELETE").status(),
        200
    );
    assert_eq!(
        http.delete(&away).send().await.expect("DELETE").status(),
        404
    );
    daemon.terminate();
}
