//! Reading-to-webhook latency of a burst under load (DESIGN.md: p99 ≤ 100 ms
//! under 10 k readings/s). A private Mosquitto, the daemon (this package's
//! release build, SQLite, default settings) with one webhook channel, and
//! `meter-sim load` publishing `WW_BENCH_RATE` readings/s (default 10,000)
//! from `WW_BENCH_METERS` meters (default 10,000) for `WW_BENCH_SECONDS`
//! (default 30). Meanwhile, `WW_BENCH_BURSTS` new meters (default 200), spread
//! over the run, each report a reading and then one a minute later with a
//! burst pipe's flow (45 L/min); the time from publishing that reading to
//! the webhook's `case_opened` arriving is its latency. Everything runs on
//! this machine, on loopback.
//!
//! `cargo bench -p waterwatch-e2e --bench latency`

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::Utc;
use meter_sim::{Format, LoadOptions, run_load};
use waterwatch_e2e::broker::TestBroker;
use waterwatch_e2e::daemon::{DaemonProcess, config};
use waterwatch_e2e::publish::Publisher;
use waterwatch_e2e::receiver::Receiver;
use waterwatch_e2e::{daemon_binary, free_port, local};

const SECRET: &str = "bench-secret";

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Readings the daemon handled so far (stored, or known duplicates).
async fn handled(daemon: &DaemonProcess) -> f64 {
    daemon
        .metrics()
        .await
        .lines()
        .filter(|l| {
            l.starts_with("waterwatch_readings_ingested_total")
                || l.starts_with("waterwatch_readings_duplicate_total")
        })
        .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    let rate: f64 = setting("WW_BENCH_RATE", 10_000.0);
    let meters: usize = setting("WW_BENCH_METERS", 10_000);
    let seconds: u64 = setting("WW_BENCH_SECONDS", 30);
    let bursts: usize = setting("WW_BENCH_BURSTS", 200);

    let broker = TestBroker::start();
    let receiver = Receiver::start(SECRET).await;
    let dir = tempfile::tempdir().expect("a temp dir");
    let port = free_port();
    let text = config(
        &broker.url(),
        port,
        &dir.path().join("ww.db"),
        Some(&receiver.url),
    );
    let env = [("WW_TEST_WEBHOOK_SECRET", SECRET), ("RUST_LOG", "warn")];
    let mut daemon = DaemonProcess::start(daemon_binary!(), dir.path(), port, &text, &env);
    daemon.wait_ready().await;

    let options = LoadOptions {
        broker: broker.url(),
        prefix: "waterwatch".into(),
        meters,
        rate,
        duration: Duration::from_secs(seconds),
        format: Format::Native,
        connections: 4,
        inflight: 1000,
        utc_offset: chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00"),
    };
    let before = handled(&daemon).await;
    let began = Instant::now();
    let load = tokio::spawn(async move { run_load(&options).await });

    // Let the load settle, then spread the bursts over the rest of the run.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut publisher = Publisher::connect(broker.port, "bench-bursts").await;
    let gap = Duration::from_secs(seconds.saturating_sub(5)) / bursts.max(1) as u32;
    let mut published: HashMap<String, Instant> = HashMap::new();
    for k in 0..bursts {
        let meter = format!("burst-{k:04}");
        let now = Utc::now();
        let earlier = serde_json::json!({
            "meter_id": meter, "ts": local(now - chrono::Duration::minutes(1)), "total_l": 1000.0
        });
        publisher.reading(&meter, earlier.to_string()).await;
        let burst = serde_json::json!({
            "meter_id": meter, "ts": local(now), "total_l": 1045.0, "flow_lpm": 45.0
        });
        published.insert(meter.clone(), Instant::now());
        publisher.reading(&meter, burst.to_string()).await;
        tokio::time::sleep(gap).await;
    }
    let report = load.await.expect("the load task").expect("the load ran");
    let during = (handled(&daemon).await - before) / began.elapsed().as_secs_f64();

    // Wait for the last webhooks.
    let deadline = Instant::now() + Duration::from_secs(30);
    let latencies = loop {
        let mut latencies: Vec<Duration> = receiver
            .deliveries()
            .iter()
            .filter(|d| d.body["type"] == "case_opened")
            .filter_map(|d| {
                let meter = d.body["household"].as_str()?;
                Some(d.received.saturating_duration_since(*published.get(meter)?))
            })
            .collect();
        if latencies.len() >= bursts || Instant::now() > deadline {
            latencies.sort();
            break latencies;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    println!(
        "load: {:.0} readings/s published ({} meters, {} s), {during:.0} readings/s handled by the daemon",
        report.sent as f64 / report.sending.as_secs_f64(),
        meters,
        seconds
    );
    if latencies.is_empty() {
        println!("bursts: {bursts} published, no case_opened webhook arrived");
        println!("daemon log:\n{}", daemon.logs());
        std::process::exit(1);
    }
    println!(
        "bursts: {} of {bursts} alerted; reading to webhook: median {}, p90 {}, p99 {}, max {}",
        latencies.len(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.9)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies[latencies.len() - 1]),
    );
}
