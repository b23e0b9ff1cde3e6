//! Delivery survives trouble, with the daemon as a real process: killed with
//! SIGKILL while notifications are in flight, it loses none and sends each
//! at most once more; an SMTP server that is down for a while gets every
//! message once it is back.

#[path = "../../daemon/tests/support_channels/mod.rs"]
mod support_channels;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use support_channels::{SmtpSink, aiosmtpd_missing};
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, config};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::receiver::Receiver;
use waterwatch_e2e::{eventually, free_port, quiet_batch};

const SECRET: &str = "delivery-secret";

/// Quiet homes: water for the first hour, then none for 14 hours; one
/// batch per meter.
async fn quiet_homes(broker: &TestBroker, meters: &[String]) {
    let now = Utc::now();
    let mut publisher = Publisher::connect(broker.port, "delivery-meters").await;
    for meter in meters {
        publisher.reading(meter, quiet_batch(meter, now, 14)).await;
    }
    publisher.flush().await;
}

/// A counter from the daemon's `/metrics`, 0 when absent.
fn counter(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series))
        .and_then(|rest| rest.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_killed_during_delivery_loses_no_notification_and_repeats_each_at_most_once() {
    let broker = TestBroker::start();
    if broker.kind != "mosquitto" {
        eprintln!("skipped: needs Mosquitto's persistent sessions across the daemon's restart");
        return;
    }
    const HOMES: usize = 12;
    const CONCURRENCY: usize = 2;
    let receiver = Receiver::start(SECRET).await;
    // A slow endpoint: every delivery is recorded, then answered 400 ms later.
    receiver.delay_answers(Duration::from_millis(400));
    let dir = tempfile::tempdir().expect("temp dir");
    let http_port = free_port();
    let mut text = config(
        &broker.url(),
        http_port,
        &dir.path().join("ww.db"),
        Some(&receiver.url),
    );
    text.push_str(&format!("\n[outbox]\nconcurrency = {CONCURRENCY}\n"));
    let mut daemon = DaemonProcess::start(
        waterwatch_e2e::daemon_binary!(),
        dir.path(),
        http_port,
        &text,
        &[("WW_TEST_WEBHOOK_SECRET", SECRET)],
    );
    daemon.wait_ready().await;
    let meters: Vec<String> = (0..HOMES).map(|i| format!("home-{i:02}")).collect();
    quiet_homes(&broker, &meters).await;

    // Killed part-way through the deliveries, with some in flight.
    eventually(
        Duration::from_secs(30),
        "the first deliveries",
        async || (receiver.deliveries().len() >= 3).then_some(()),
    )
    .await;
    daemon.kill9();
    let before_kill = receiver.deliveries().len();
    assert!(
        before_kill < HOMES,
        "all {HOMES} were delivered before the kill; the test proves nothing"
    );
    daemon.restart();
    daemon.wait_ready().await;

    let opened = eventually(
        Duration::from_secs(60),
        "a notification for every home",
        async || {
            let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
            for d in receiver.deliveries() {
                if d.body["type"] == "case_opened" {
                    *by_key.entry(d.idempotency_key).or_default() += 1;
                }
            }
            (by_key.len() == HOMES).then_some(by_key)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let deliveries = receiver.deliveries();
    assert!(deliveries.iter().all(|d| d.signature_ok));
    let households: std::collections::BTreeSet<_> = deliveries
        .iter()
        .filter_map(|d| d.body["household"].as_str())
        .collect();
    assert_eq!(households.len(), HOMES, "{households:?}");
    let repeated: Vec<_> = opened.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        opened.values().all(|n| *n <= 2),
        "a notification went out more than twice: {opened:#?}"
    );
    assert!(
        repeated.len() <= CONCURRENCY,
        "only those in flight at the kill may repeat: {repeated:?}"
    );
    assert_eq!(deliveries.len(), HOMES + repeated.len());
    daemon.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_server_down_for_a_while_gets_every_message_when_it_comes_back() {
    if let Some(why) = aiosmtpd_missing() {
        eprintln!("skipped: {why}");
        return;
    }
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("temp dir");
    // Reserve a port for the SMTP server, and leave nothing listening on it.
    let smtp_port = free_port();
    let http_port = free_port();
    let homes = ["wang", "zhao", "sun"];
    let mut text = config(&broker.url(), http_port, &dir.path().join("ww.db"), None);
    for home in homes {
        text.push_str(&format!(
            "\n[[household]]\nid = \"{home}\"\ngrid = \"grid-1\"\nmeters = [\"{home}-m\"]\n"
        ));
    }
    text.push_str(&format!(
        r#"
[[email]]
name = "mail"
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from = "waterwatch@example.org"
timeout = "3s"

[[contact]]
name = "Li Wei"
role = "grid_worker"
grids = ["grid-1"]
reach = [{{ channel = "mail", to = "li.wei@example.org" }}]
"#
    ));
    let mut daemon = DaemonProcess::start(
        waterwatch_e2e::daemon_binary!(),
        dir.path(),
        http_port,
        &text,
        &[],
    );
    daemon.wait_ready().await;
    let meters: Vec<String> = homes.iter().map(|h| format!("{h}-m")).collect();
    quiet_homes(&broker, &meters).await;

    // Every message is tried while the server is down, and kept for later.
    let retry = "waterwatch_deliveries_total{channel=\"mail\",outcome=\"retry\"}";
    eventually(
        Duration::from_secs(30),
        "an attempt at every email while the server is down",
        async || (counter(&daemon.metrics().await, retry) >= homes.len() as f64).then_some(()),
    )
    .await;
    let metrics = daemon.metrics().await;
    assert_eq!(
        counter(
            &metrics,
            "waterwatch_deliveries_total{channel=\"mail\",outcome=\"failed\"}"
        ),
        0.0,
        "{metrics}"
    );

    let smtp = SmtpSink::start(smtp_port, &dir.path().join("mail"));
    let mail = eventually(
        Duration::from_secs(60),
        "every email once the server is back",
        async || {
            let mail = smtp.messages();
            (mail.len() >= homes.len()).then_some(mail)
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mail = if smtp.messages().len() > mail.len() {
        smtp.messages()
    } else {
        mail
    };
    assert_eq!(mail.len(), homes.len(), "each exactly once: {mail:#?}");
    for home in homes {
        assert_eq!(
            mail.iter()
                .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains(home)))
                .count(),
            1,
            "{home}: {mail:#?}"
        );
    }
    assert!(mail.iter().all(|m| m["to"] == "li.wei@example.org"));
    daemon.terminate();
}
