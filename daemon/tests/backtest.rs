//! Backtest: the stored readings through the running rules and a candidate.

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde_json::json;
use tokio::sync::Notify;
use waterwatch::backtest;
use waterwatch::clock::ManualClock;
use waterwatch::config::UnknownMeters;
use waterwatch::ingest::adapter::Router;
use waterwatch::ingest::mqtt::Delivery;
use waterwatch::ingest::native::TimeWindow;
use waterwatch::metrics::Metrics;
use waterwatch::process::{Processor, Settings};
use waterwatch_rules::RuleSet;

fn local(t: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    t.with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// A day with use in its first hour and none for the next 14.
fn quiet_day(meter: &str, from: DateTime<Utc>) -> Delivery {
    let mut readings = Vec::new();
    let mut total = 500;
    for step in 0..=60 {
        if step < 4 {
            total += 6;
        }
        readings.push(json!({"ts": local(from + Duration::minutes(15 * step)), "total_l": total}));
    }
    Delivery::unacked(
        &format!("waterwatch/meters/{meter}/reading"),
        json!({"meter_id": meter, "readings": readings}).to_string(),
    )
}

#[tokio::test]
async fn a_looser_inactivity_limit_shows_the_alerts_it_would_remove() {
    for (backend, store, _dir) in common::stores().await {
        let from = Utc::now() - Duration::days(2);
        let clock = Arc::new(ManualClock::new(from + Duration::hours(16)));
        let settings = Settings {
            router: Router::new("waterwatch", &[]),
            unknown_meters: UnknownMeters::Register,
            window: TimeWindow::default(),
            max_payload_bytes: 1 << 20,
            dead_letters_kept: 10,
            channels: vec![],
            contacts: vec![],
            grids: Default::default(),
            templates: Default::default(),
            links: None,
            display_offset: FixedOffset::east_opt(0).expect("utc"),
            routes: vec![],
            names: Default::default(),
            ops: Default::default(),
        };
        let mut processor = Processor::load(
            store.clone(),
            RuleSet::default_rules(),
            Arc::new(Metrics::new()),
            clock,
            settings,
            Arc::new(Notify::new()),
        )
        .await
        .expect("processor");
        processor
            .handle(&[quiet_day("h1", from), quiet_day("h2", from)])
            .await
            .expect("stored");

        let looser = waterwatch_rules::config::DEFAULT_RULES_TOML.replacen(
            "after = \"12h\"",
            "after = \"20h\"",
            1,
        );
        let candidate = RuleSet::parse("looser.toml", &looser).expect("candidate parses");
        let report = backtest::run(
            &store,
            RuleSet::default_rules(),
            candidate,
            Utc::now() - Duration::days(30),
        )
        .await
        .expect("backtest");
        assert_eq!(report.readings, 2 * 61, "{backend}");
        assert_eq!(report.removed.len(), 2, "{backend}: {}", report.render());
        assert!(report.added.is_empty(), "{backend}: {}", report.render());
        assert_eq!(
            report.counts[&("h1".to_string(), "inactivity".to_string())],
            (1, 0)
        );
        assert!(
            report.render().contains("2 alerts removed"),
            "{}",
            report.render()
        );
    }
}
