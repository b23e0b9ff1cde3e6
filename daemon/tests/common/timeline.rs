//! A household's timeline for the processor tests (`pipeline.rs`,
//! `away.rs`): a day from `start()` with water used in its first hour and
//! none after, its readings and batches, and a processor over the default
//! rules with webhook channels `grid` and `family`.

use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use serde_json::json;
use tokio::sync::Notify;
use waterwatch::clock::ManualClock;
use waterwatch::config::UnknownMeters;
use waterwatch::ingest::mqtt::Delivery;
use waterwatch::metrics::Metrics;
use waterwatch::process::{Processor, Settings};
use waterwatch::store::cases::CaseSummary;
use waterwatch::store::{self, Store};
use waterwatch_rules::RuleSet;

pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0)
        .single()
        .expect("a time")
}

pub fn local(t: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    t.with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// [`super::settings`] with webhook channels `grid` and `family`, no
/// registry, and `unknown_meters` as given.
pub fn settings(unknown_meters: UnknownMeters) -> Settings {
    Settings {
        unknown_meters,
        channels: vec!["grid".into(), "family".into()],
        grids: Default::default(),
        names: Default::default(),
        ..super::settings()
    }
}

pub async fn processor(
    store: &Store,
    clock: Arc<ManualClock>,
    unknown: UnknownMeters,
) -> Processor {
    Processor::load(
        store.clone(),
        RuleSet::default_rules(),
        Arc::new(Metrics::new()),
        clock,
        settings(unknown),
        Arc::new(Notify::new()),
    )
    .await
    .expect("processor loads")
}

pub fn reading(meter: &str, t: DateTime<Utc>, total: i64) -> Delivery {
    Delivery::unacked(
        &format!("waterwatch/meters/{meter}/reading"),
        json!({"meter_id": meter, "ts": local(t), "total_l": total}).to_string(),
    )
}

/// The register of a household that used water in the first hour of the
/// day (from `start()`), 6 L every 15 minutes, and none after.
pub fn total_at(t: DateTime<Utc>) -> i64 {
    let used_steps = (t.min(start() + Duration::hours(1)) - start()).num_minutes() / 15;
    1_000 + 6 * used_steps
}

/// A batch of 15-minute readings from `from` to `to` of that household.
pub fn quiet_day(meter: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Delivery {
    let mut readings = Vec::new();
    let mut t = from;
    while t <= to {
        readings.push(json!({"ts": local(t), "total_l": total_at(t)}));
        t += Duration::minutes(15);
    }
    Delivery::unacked(
        &format!("waterwatch/meters/{meter}/reading"),
        json!({"meter_id": meter, "readings": readings}).to_string(),
    )
}

pub async fn scalar(store: &Store, sql: &'static str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .and_then(|r| r.try_get::<i64, _>(0))
        .expect(sql)
}

/// 15 h after `start()`, with a processor that registers unknown meters:
/// the moment a batch of the quiet day reveals 14 quiet hours.
pub async fn evening(store: &Store) -> (DateTime<Utc>, Arc<ManualClock>, Processor) {
    let now = start() + Duration::hours(15);
    let clock = Arc::new(ManualClock::new(now));
    let p = processor(store, clock.clone(), UnknownMeters::Register).await;
    (now, clock, p)
}

/// The cases the store holds (up to ten), newest first.
pub async fn stored_cases(store: &Store) -> Vec<CaseSummary> {
    store::cases::list(store.pool(), 10).await.expect("cases")
}

/// How many notifications wait in the outbox.
pub async fn pending(store: &Store) -> i64 {
    store::outbox::count_by_status(store.pool(), "pending")
        .await
        .expect("n")
}
