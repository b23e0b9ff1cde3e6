//! `waterwatch --demo`: the whole pipeline on an accelerated clock, with
//! simulated households publishing over MQTT to the embedded broker, so a
//! newcomer sees alerts fire (and clear) within a minute.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use meter_sim::{Fleet, Scenario};
use rumqttc::{AsyncClient, MqttOptions, QoS};
use tokio_util::sync::CancellationToken;
use waterwatch_rules::{Engine, Reading, RuleSet, Transition};

use crate::broker;
use crate::clock::{Clock, ScaledClock};
use crate::config::Config;
use crate::daemon::{self, Options, StartError};
use crate::store::ingest::{self, SavedState};
use crate::store::{Store, StoreError};

/// Simulated seconds per real second: one simulated day per real minute.
pub const SPEED: f64 = 1440.0;
const HOUSEHOLDS: usize = 8;
/// Days of history each household brings: past the learned rules'
/// `learning_days` (14), so the demo judges every household by its own
/// rhythm from the first live minute, as a deployment does after a month.
const HISTORY_DAYS: i64 = 21;

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
    let start = start_utc.with_timezone(&offset);
    let minutes = |m: i64| start + chrono::Duration::minutes(m);
    let scenarios = vec![
        Scenario::Collapse {
            household: 3,
            at: minutes(750),
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
    let mut fleet = Fleet::new(
        HOUSEHOLDS,
        7,
        start - chrono::Duration::days(HISTORY_DAYS),
        Duration::from_secs(15 * 60),
        scenarios,
    );
    let rules = RuleSet::default_rules();
    warm_up(&config.store.url, &mut fleet, &rules, start)
        .await
        .map_err(|e| StartError::Config(format!("cannot store the demo's history: {e}")))?;

    let clock = Arc::new(ScaledClock::new(start_utc, SPEED));
    let running = daemon::start(Options {
        config,
        rules,
        clock: clock.clone(),
        tick_every: Duration::from_millis(500),
        rules_path: None,
    })
    .await?;

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
    println!("  h0007's meter goes silent after 45 min, and h0003 collapses at 19:00.");
    println!(
        "  Each household brings {HISTORY_DAYS} days of history, so it is judged by its own rhythm:"
    );
    println!("  h0003 is found at its own limit, with why, not at the fixed 12 h (see its page).");
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

/// Lives the fleet's history up to `until` through an engine of `rules` and
/// stores its readings and each meter's learned state, as the daemon would
/// have them after those days. The history's own alerts are not kept: they
/// happened before the demo (the scenarios all come after `until`).
async fn warm_up(
    url: &str,
    fleet: &mut Fleet,
    rules: &RuleSet,
    until: DateTime<FixedOffset>,
) -> Result<(), StoreError> {
    let readings: Vec<Reading> = fleet
        .advance(until)
        .into_iter()
        .map(|r| Reading {
            meter_id: r.meter_id,
            ts: r.ts,
            total_l: r.total_l,
            flow_lpm: r.flow_lpm,
            battery_pct: r.battery_pct,
            rssi_dbm: None,
            status: r.status,
        })
        .collect();
    let mut engine = Engine::new(rules.clone());
    for reading in &readings {
        engine.observe(reading, reading.ts + chrono::Duration::seconds(5));
    }
    let store = Store::connect(url).await?;
    let mut conn = store.pool().acquire().await?;
    let until_ms = until.timestamp_millis();
    let ids: Vec<String> = engine.meters().map(str::to_owned).collect();
    ingest::register_meters(&mut conn, &ids, until_ms).await?;
    ingest::insert_readings(&mut conn, &readings, until_ms).await?;
    let mut encoded = Vec::new();
    for id in &ids {
        if let Some(state) = engine.state(id) {
            let (json, summary) = ingest::encode_state(id, state)?;
            encoded.push((id.as_str(), json, summary));
        }
    }
    let states: Vec<(&str, SavedState)> = encoded
        .iter()
        .map(|(id, json, summary)| {
            let summary = *summary;
            (*id, SavedState { json, summary })
        })
        .collect();
    ingest::save_engine_states(&mut conn, &states).await?;
    drop(conn);
    store.close().await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_demo_households_start_learned_with_their_history_stored() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00");
        let start = DateTime::parse_from_rfc3339("2026-11-26T06:30:00+08:00")
            .expect("time")
            .with_timezone(&offset);
        let mut fleet = Fleet::new(
            HOUSEHOLDS,
            7,
            start - chrono::Duration::days(HISTORY_DAYS),
            Duration::from_secs(15 * 60),
            Vec::new(),
        );
        let rules = RuleSet::default_rules();
        warm_up(&url, &mut fleet, &rules, start)
            .await
            .expect("history stored");

        let store = Store::connect(&url).await.expect("store");
        let meters = crate::store::registry::meters(store.pool())
            .await
            .expect("meters");
        assert_eq!(meters.len(), HOUSEHOLDS);
        for meter in &meters {
            let json = meter.engine_state.as_deref().expect("a state");
            let state: waterwatch_rules::MeterState = serde_json::from_str(json).expect("state");
            // Past the learning period, so the learned limits judge it.
            assert!(
                state.baseline().days() >= rules.baseline.learning_days,
                "{}: {} days",
                meter.id,
                state.baseline().days()
            );
            // Nothing left firing from the history: no alert without a case.
            assert!(state.active_alerts().is_empty(), "{}", meter.id);
            let stored = ingest::count_readings(store.pool(), &meter.id)
                .await
                .expect("count");
            // Every quarter hour, the demo's start included.
            assert_eq!(stored, HISTORY_DAYS * 96 + 1, "{}", meter.id);
        }
        // The live fleet carries on from the history's last reading.
        let next = fleet.advance(start + chrono::Duration::minutes(15));
        assert_eq!(next.len(), HOUSEHOLDS);
        assert!(next.iter().all(|r| r.ts > start));
        store.close().await;
    }
}
