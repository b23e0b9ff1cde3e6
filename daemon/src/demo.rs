//! `waterwatch --demo`: the whole pipeline on an accelerated clock, with
//! simulated households publishing over MQTT to the embedded broker, so a
//! newcomer sees alerts fire (and clear) within a minute.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use meter_sim::{Fleet, Scenario};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use tokio_util::sync::CancellationToken;
use waterwatch_rules::{RuleSet, Transition};

use crate::broker;
use crate::clock::{Clock, ScaledClock};
use crate::config::Config;
use crate::daemon::{self, Options, StartError};

/// Simulated seconds per real second: one simulated day per real minute.
pub const SPEED: f64 = 1440.0;
const HOUSEHOLDS: usize = 8;

pub async fn run(mut config: Config, shutdown: CancellationToken) -> Result<(), StartError> {
    // The demo never fights a broker or a dashboard already running here.
    let port = broker::free_loopback_port()
        .map_err(|e| StartError::Config(format!("no free port for the demo broker: {e}")))?;
    config.broker.enabled = true;
    config.broker.listen = ([127, 0, 0, 1], port).into();
    config.mqtt.client_id = format!("waterwatch-demo-{}", std::process::id());
    if std::net::TcpListener::bind(config.http.listen).is_err() {
        config.http.listen.set_port(0);
    }
    let db = std::env::temp_dir().join(format!("waterwatch-demo-{}.db", std::process::id()));
    config.store.url = format!("sqlite://{}", db.display());

    let offset = FixedOffset::east_opt(8 * 3600)
        .unwrap_or(FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
    // The simulated day starts at the most recent 06:30 (+08:00), when people are up.
    let now_local = Utc::now().with_timezone(&offset);
    let morning = now_local.date_naive().and_time(chrono::NaiveTime::MIN)
        + chrono::Duration::minutes(6 * 60 + 30);
    let mut start_utc =
        (morning - chrono::Duration::seconds(i64::from(offset.local_minus_utc()))).and_utc();
    if start_utc > Utc::now() {
        start_utc -= chrono::Duration::days(1);
    }
    let clock = Arc::new(ScaledClock::new(start_utc, SPEED));
    let running = daemon::start(Options {
        config,
        rules: RuleSet::default_rules(),
        clock: clock.clone(),
        tick_every: Duration::from_millis(500),
        rules_path: None,
    })
    .await?;

    let start = start_utc.with_timezone(&offset);
    let minutes = |m: i64| start + chrono::Duration::minutes(m);
    let scenarios = vec![
        Scenario::Collapse {
            household: 3,
            at: minutes(150),
        },
        Scenario::Burst {
            household: 5,
            at: minutes(60),
            lpm: 40.0,
        },
        Scenario::TapLeftOpen {
            household: 2,
            at: minutes(90),
            lpm: 6.0,
        },
        Scenario::MeterSilent {
            household: 7,
            at: minutes(45),
        },
    ];
    println!(
        "waterwatch demo — {HOUSEHOLDS} simulated households, one simulated day per real minute"
    );
    println!(
        "  dashboard: http://{}/   (metrics: /metrics, API: /api/v1/openapi.json)",
        running.http_addr
    );
    println!(
        "  broker:  mqtt://{}:{} (embedded)",
        running.mqtt_addr.0, running.mqtt_addr.1
    );
    println!("  store:   {} (deleted on exit)", db.display());
    println!(
        "  what happens: h0005's pipe bursts after 1 h, h0002 leaves a tap running after 1.5 h,"
    );
    println!("  h0007's meter goes silent after 45 min, and h0003 collapses at 09:00");
    println!(
        "  (the fixed 12 h inactivity rule fires about 12 simulated hours after the last use)."
    );
    println!("  Ctrl-C to stop.\n");

    let mut events = running.events();
    let printer_clock = clock.clone();
    let printer = tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            let sim = printer_clock.now().with_timezone(&offset);
            let marker = match event.event {
                Transition::Fired => "ALERT   ",
                Transition::Resolved => "resolved",
            };
            println!(
                "[sim {}] {marker} {:<8} {:<14} {:<8} {}",
                sim.format("%a %H:%M"),
                event.household,
                event.rule,
                event.severity.as_str(),
                event.summary
            );
        }
    });

    let fleet = Fleet::new(
        HOUSEHOLDS,
        7,
        start,
        Duration::from_secs(15 * 60),
        scenarios,
    );
    let publisher = tokio::spawn(publish_fleet(
        fleet,
        running.mqtt_addr.clone(),
        clock.clone(),
        shutdown.clone(),
    ));

    shutdown.cancelled().await;
    let _ = publisher.await;
    running.stop(Duration::from_secs(5)).await;
    printer.abort();
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    Ok(())
}

/// Publish each simulated reading as the accelerated clock passes its time.
async fn publish_fleet(
    mut fleet: Fleet,
    broker: (String, u16),
    clock: Arc<ScaledClock>,
    shutdown: CancellationToken,
) {
    let mut options = MqttOptions::new(
        format!("meter-sim-demo-{}", std::process::id()),
        broker.0,
        broker.1,
    );
    options.set_keep_alive(Duration::from_secs(30));
    let (client, mut eventloop) = AsyncClient::new(options, 1024);
    let poller = tokio::spawn(async move {
        loop {
            if eventloop.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    });
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let now: DateTime<Utc> = clock.now();
        for reading in fleet.advance(now.fixed_offset()) {
            let topic = format!("waterwatch/meters/{}/reading", reading.meter_id);
            if client
                .publish(topic, QoS::AtLeastOnce, false, reading.to_native_json())
                .await
                .is_err()
            {
                break;
            }
        }
    }
    poller.abort();
}
