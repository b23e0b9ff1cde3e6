//! `kill -9` while meters are publishing: every reading is stored exactly
//! once and no alert is notified twice.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use waterwatch::store::Store;
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, config};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::receiver::Receiver;
use waterwatch_e2e::{eventually, free_port, local};

const SECRET: &str = "restart-secret";
const METERS: usize = 20;
const READINGS_PER_METER: usize = 120;

fn reading(meter: &str, t: DateTime<Utc>, total: i64) -> String {
    json!({"meter_id": meter, "ts": local(t), "total_l": total}).to_string()
}

async fn count_all(store: &Store) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM readings")
        .fetch_one(store.pool())
        .await
        .and_then(|row| row.try_get("n"))
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_mid_stream_loses_no_reading_and_repeats_no_alert() {
    let broker = TestBroker::start();
    if broker.kind != "mosquitto" {
        eprintln!(
            "skipped: the embedded broker keeps no session across client restarts in this test's shape"
        );
        return;
    }
    let receiver = Receiver::start(SECRET).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ww.db");
    let http_port = free_port();
    let text = config(&broker.url(), http_port, &db, Some(&receiver.url));
    let env = [("WW_TEST_WEBHOOK_SECRET", SECRET)];
    let mut daemon = DaemonProcess::start(
        waterwatch_e2e::daemon_binary!(),
        dir.path(),
        http_port,
        &text,
        &env,
    );
    daemon.wait_ready().await;
    let mut meters = Publisher::connect(broker.port, "restart-meters").await;
    let now = Utc::now();

    // Phase A: one home shows 13 hours without water; wait for its alert.
    let start = now - chrono::Duration::hours(20);
    let mut t = start;
    let mut total = 1_000;
    while t <= now - chrono::Duration::hours(6) {
        if t < start + chrono::Duration::minutes(30) {
            total += 5;
        }
        meters.reading("quiet", reading("quiet", t, total)).await;
        t += chrono::Duration::minutes(15);
    }
    meters.flush().await;
    eventually(
        Duration::from_secs(20),
        "the inactivity alert",
        async || receiver.of("case_opened", "quiet").into_iter().next(),
    )
    .await;

    // Phase B: many meters stream readings; the daemon is killed part-way and restarted.
    let base = now - chrono::Duration::hours(4);
    let mut published = 0;
    for i in 0..READINGS_PER_METER {
        for m in 0..METERS {
            let meter = format!("m{m:02}");
            let t = base + chrono::Duration::minutes(2 * i as i64);
            meters
                .reading(&meter, reading(&meter, t, 10_000 + i as i64))
                .await;
            published += 1;
        }
        if i == READINGS_PER_METER / 3 {
            meters.flush().await;
            daemon.kill9();
        }
        if i == READINGS_PER_METER / 2 {
            meters.flush().await;
            daemon.restart();
            daemon.wait_ready().await;
        }
    }
    meters.flush().await;

    // Phase C: water again in the quiet home.
    meters
        .reading("quiet", reading("quiet", now, total + 10))
        .await;
    meters.flush().await;
    eventually(Duration::from_secs(30), "the all-clear", async || {
        receiver.of("all_clear", "quiet").into_iter().next()
    })
    .await;

    let store = Store::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the db");
    let quiet_readings = waterwatch::store::ingest::count_readings(store.pool(), "quiet")
        .await
        .expect("count");
    let expected = published as i64 + quiet_readings;
    eventually(
        Duration::from_secs(30),
        "every reading to be stored",
        async || (count_all(&store).await == expected).then_some(()),
    )
    .await;
    for m in 0..METERS {
        let meter = format!("m{m:02}");
        let n = waterwatch::store::ingest::count_readings(store.pool(), &meter)
            .await
            .expect("count");
        assert_eq!(n, READINGS_PER_METER as i64, "{meter}");
    }

    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        receiver.of("case_opened", "quiet").len(),
        1,
        "{:#?}",
        receiver.deliveries()
    );
    assert_eq!(
        receiver.of("all_clear", "quiet").len(),
        1,
        "{:#?}",
        receiver.deliveries()
    );
    assert!(receiver.deliveries().iter().all(|d| d.signature_ok));
    daemon.terminate();
}
