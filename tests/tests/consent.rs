//! Consent withdrawn through the CLI against a running daemon: every reading,
//! case and message of the household is deleted, its meter's readings are
//! refused from then on (kept nowhere, not even as dead letters), and consent
//! given again lets it be heard afresh.

use std::time::Duration;

use chrono::Utc;
use serde_json::json;
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, config};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::{daemon_binary, eventually, free_port, local, quiet_batch};

/// `waterwatch --config CONFIG ARGS…`: (success, stdout, stderr).
fn cli(config: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(daemon_binary!())
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("WATERWATCH_API_TOKEN")
        .output()
        .expect("the CLI runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn sql_count(db: &std::path::Path, query: &'static str) -> i64 {
    let url = format!("sqlite://{}", db.display());
    let store = waterwatch::store::Store::connect(&url)
        .await
        .expect("store");
    let n: i64 = sqlx::query_scalar(query)
        .fetch_one(store.pool())
        .await
        .expect("count");
    store.close().await;
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawing_consent_purges_the_household_and_refuses_its_readings() {
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ww.db");
    let http_port = free_port();
    let mut text = config(&broker.url(), http_port, &db, None);
    text.push_str(
        "\n[[household]]\nid = \"h-gone\"\ngrid = \"g\"\nmeters = [\"m-gone\"]\n\
         \n[[household]]\nid = \"h-stays\"\ngrid = \"g\"\nmeters = [\"m-stays\"]\n",
    );
    let mut daemon = DaemonProcess::start(daemon_binary!(), dir.path(), http_port, &text, &[]);
    daemon.wait_ready().await;
    let config_path = dir.path().join("waterwatch.toml");
    let base = daemon.base_url();
    let mut meters = Publisher::connect(broker.port, "consent-meters").await;
    let now = Utc::now();
    for meter in ["m-gone", "m-stays"] {
        meters.reading(meter, quiet_batch(meter, now, 14)).await;
    }
    meters.flush().await;
    eventually(Duration::from_secs(20), "both cases to open", async || {
        let cases = waterwatch_e2e::get_json(&format!("{base}/api/v1/cases")).await;
        (cases["cases"].as_array()?.len() == 2).then_some(())
    })
    .await;

    // Without the confirmation nothing happens.
    let (ok, _, stderr) = cli(&config_path, &["household", "withdraw", "h-gone"]);
    assert!(!ok && stderr.contains("confirm"), "{stderr}");
    assert!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM readings WHERE meter_id = 'm-gone'"
        )
        .await
            > 0
    );

    let (ok, stdout, stderr) = cli(
        &config_path,
        &["household", "withdraw", "h-gone", "--confirm", "h-gone"],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("deleted 61 readings, 1 cases"), "{stdout}");
    for (query, expected) in [
        ("SELECT COUNT(*) FROM readings WHERE meter_id = 'm-gone'", 0),
        (
            "SELECT COUNT(*) FROM cases WHERE household_id = 'h-gone'",
            0,
        ),
        (
            "SELECT COUNT(*) FROM alerts WHERE household_id = 'h-gone'",
            0,
        ),
        (
            "SELECT COUNT(*) FROM meters WHERE id = 'm-gone' AND engine_state IS NOT NULL",
            0,
        ),
        (
            "SELECT COUNT(*) FROM readings WHERE meter_id = 'm-stays'",
            61,
        ),
        (
            "SELECT COUNT(*) FROM cases WHERE household_id = 'h-stays'",
            1,
        ),
    ] {
        assert_eq!(sql_count(&db, query).await, expected, "{query}");
    }
    let (ok, listed, _) = cli(&config_path, &["household", "list"]);
    assert!(ok);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("h-gone\tg\twithdrawn")),
        "{listed}"
    );

    // Its meter keeps sending: refused, counted, and kept nowhere.
    let later = now + chrono::Duration::minutes(1);
    let reading = json!({"meter_id": "m-gone", "ts": local(later), "total_l": 60_000}).to_string();
    meters.reading("m-gone", reading.clone()).await;
    meters.flush().await;
    eventually(
        Duration::from_secs(20),
        "the reading to be refused",
        async || {
            daemon
                .metrics()
                .await
                .contains("waterwatch_messages_rejected_total{reason=\"consent_withdrawn\"} 1")
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM readings WHERE meter_id = 'm-gone'"
        )
        .await,
        0
    );
    assert_eq!(
        sql_count(
            &db,
            "SELECT COUNT(*) FROM dead_letters WHERE payload LIKE '%60000%'"
        )
        .await,
        0,
        "a refused reading must not be kept as a dead letter either"
    );

    // Consent again: heard from now on, learning afresh.
    let (ok, _, stderr) = cli(&config_path, &["household", "resume", "h-gone"]);
    assert!(ok, "{stderr}");
    let again = json!({"meter_id": "m-gone", "ts": local(later + chrono::Duration::minutes(1)), "total_l": 60_010}).to_string();
    meters.reading("m-gone", again).await;
    meters.flush().await;
    eventually(
        Duration::from_secs(20),
        "the reading to be stored",
        async || {
            let n = sql_count(
                &db,
                "SELECT COUNT(*) FROM readings WHERE meter_id = 'm-gone'",
            )
            .await;
            (n == 1).then_some(())
        },
    )
    .await;
    let status = waterwatch_e2e::get_json(&format!("{base}/api/v1/households")).await;
    let gone = status["households"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["household"]["id"] == "h-gone")
        .cloned()
        .unwrap();
    assert_eq!(gone["state"], "learning", "{gone}");
}
