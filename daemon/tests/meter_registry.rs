//! The meters of the household registry, on each store backend.
//!
//! - A meter replaced by another in the same home (`replaced` in the
//!   household's config): at the next start the old meter's alerts about
//!   itself resolve, the new meter carries on with what the old one
//!   learned, the old one's readings are refused, and a second start
//!   changes nothing.
//! - A meter listed but never heard from: its silence draws meter_offline.

mod common;

use common::timeline::scalar;
use common::{offset, on};

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;
use tokio::sync::Notify;
use waterwatch::backtest;
use waterwatch::clock::ManualClock;
use waterwatch::ingest::mqtt::Delivery;
use waterwatch::metrics::Metrics;
use waterwatch::process::Processor;
use waterwatch::store::{self, Store, registry::HouseholdRow};
use waterwatch_rules::{MeterState, RuleSet};

/// `meter`'s 15-minute readings from `from` to `to`, with their times: 10 L
/// every hour from 07:00 to 21:00 local, the register starting at `start`.
fn series(
    meter: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    start: i64,
) -> Vec<(DateTime<Utc>, Delivery)> {
    series_using_until(meter, from, to, start, to)
}

/// [`series`] with no use after `last_use`.
fn series_using_until(
    meter: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    start: i64,
    last_use: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, Delivery)> {
    let (mut t, mut total, mut list) = (from, start, Vec::new());
    while t <= to {
        let local = t.with_timezone(&offset());
        let hourly = t <= last_use && t.timestamp() % 3600 == 0;
        if hourly && (7..=21).contains(&chrono::Timelike::hour(&local)) {
            total += 10;
        }
        let reading = json!({"meter_id": meter, "ts": local.to_rfc3339(), "total_l": total});
        let topic = format!("waterwatch/meters/{meter}/reading");
        list.push((t, Delivery::unacked(&topic, reading.to_string())));
        t += Duration::minutes(15);
    }
    list
}

/// Each reading of `series` handled as it is taken.
async fn live(p: &mut Processor, clock: &ManualClock, series: Vec<(DateTime<Utc>, Delivery)>) {
    for (t, delivery) in series {
        clock.set(t);
        p.handle(&[delivery]).await.expect("stored");
    }
}

async fn load(store: &Store, clock: &Arc<ManualClock>) -> Processor {
    Processor::load(
        store.clone(),
        RuleSet::default_rules(),
        Arc::new(Metrics::new()),
        clock.clone(),
        common::settings(),
        Arc::new(Notify::new()),
    )
    .await
    .expect("processor loads")
}

/// The registry as `[[household]]` says it, stored as the daemon does at start.
async fn registry(store: &Store, meters: &[&str], replaced: &[(&str, &str)], now: DateTime<Utc>) {
    let row = HouseholdRow {
        id: "h1".into(),
        name: Some("Zhang Mei".into()),
        grid: Some("grid-7".into()),
        meters: meters.iter().map(|m| m.to_string()).collect(),
        replaced: replaced
            .iter()
            .map(|(o, n)| (o.to_string(), n.to_string()))
            .collect(),
    };
    let mut tx = store.pool().begin().await.expect("tx");
    store::registry::sync_households(&mut tx, &[row], now.timestamp_millis())
        .await
        .expect("registry stored");
    tx.commit().await.expect("commit");
}

/// The registry lists `meter` for h1 at `at`; a processor starts then.
async fn start(store: &Store, meter: &str, at: DateTime<Utc>) -> (Processor, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at));
    registry(store, &[meter], &[], at).await;
    let p = load(store, &clock).await;
    (p, clock)
}

/// m-old's sixteen usual days from 2026-11-01, a day's readings handled at
/// a time; the processor, its clock, and m-old's register after them.
async fn sixteen_usual_days(store: &Store) -> (Processor, Arc<ManualClock>, i64) {
    let (mut p, clock) = start(store, "m-old", on(1, 0, 0)).await;
    let mut register = 1000;
    for day in 1..=16 {
        let readings = series("m-old", on(day, 0, 0), on(day, 23, 45), register);
        register += 150;
        clock.set(on(day, 23, 50));
        let batch: Vec<Delivery> = readings.into_iter().map(|(_, d)| d).collect();
        p.handle(&batch).await.expect("stored");
    }
    (p, clock, register)
}

/// The backtest of the stored readings (the shipped rules against
/// themselves) counts `counts` alerts of `rule` for h1.
async fn assert_backtest(store: &Store, rule: &str, counts: (u64, u64), backend: &str) {
    let report = backtest::run(
        store,
        RuleSet::default_rules(),
        RuleSet::default_rules(),
        on(1, 0, 0) - Duration::days(1),
    )
    .await
    .expect("backtest");
    assert_eq!(
        report.counts.get(&("h1".to_string(), rule.to_string())),
        Some(&counts),
        "{backend}: {}",
        report.render()
    );
}

/// `(meter, rule, resolved)` of every alert recorded, oldest first.
async fn alert_events(store: &Store) -> Vec<(String, String, bool)> {
    sqlx::query("SELECT meter_id, rule, resolved_ms FROM alerts ORDER BY id")
        .fetch_all(store.pool())
        .await
        .expect("alerts")
        .iter()
        .map(|r| {
            let resolved: Option<i64> = r.get("resolved_ms");
            (r.get("meter_id"), r.get("rule"), resolved.is_some())
        })
        .collect()
}

async fn stored_state(store: &Store, meter: &str) -> Option<MeterState> {
    let json: Option<String> = sqlx::query("SELECT engine_state FROM meters WHERE id = $1")
        .bind(meter)
        .fetch_one(store.pool())
        .await
        .expect("a meter")
        .get("engine_state");
    json.map(|j| serde_json::from_str(&j).expect("a state"))
}

#[tokio::test]
async fn a_replaced_meter_hands_over_its_rhythm_and_is_watched_no_more() {
    for (backend, store, _dir) in common::stores().await {
        let (mut p, clock) = start(&store, "m-old", on(1, 0, 0)).await;
        // Four days of use; then the meter is taken away at 09:00 on the 5th.
        live(
            &mut p,
            &clock,
            series("m-old", on(1, 0, 0), on(5, 9, 0), 1000),
        )
        .await;
        clock.set(on(5, 15, 0));
        p.tick().await.expect("tick");
        let offline = ("m-old".to_owned(), "meter_offline".to_owned(), false);
        assert_eq!(alert_events(&store).await, [offline], "{backend}");
        let days = stored_state(&store, "m-old")
            .await
            .expect("a state")
            .baseline()
            .days();
        assert!(days >= 4, "{backend}: {days}");
        drop(p);

        // Ops record the swap and restart the daemon.
        registry(&store, &["m-new"], &[("m-old", "m-new")], on(5, 15, 5)).await;
        clock.set(on(5, 15, 10));
        let mut p = load(&store, &clock).await;
        let resolved = ("m-old".to_owned(), "meter_offline".to_owned(), true);
        assert_eq!(
            alert_events(&store).await,
            std::slice::from_ref(&resolved),
            "{backend}"
        );
        let trail: Vec<String> = sqlx::query("SELECT detail FROM case_events ORDER BY id")
            .fetch_all(store.pool())
            .await
            .expect("the case's trail")
            .iter()
            .map(|r| r.get("detail"))
            .collect();
        assert!(
            trail.iter().any(|d| d.contains("replaced by m-new")),
            "{backend}: {trail:#?}"
        );
        let open = scalar(
            &store,
            "SELECT COUNT(*) AS n FROM cases WHERE resolution IS NULL",
        )
        .await;
        assert_eq!(open, 0, "{backend}: the offline case closed");
        let new = stored_state(&store, "m-new").await.expect("handed over");
        assert_eq!(new.baseline().days(), days, "{backend}");
        assert!(stored_state(&store, "m-old").await.is_none(), "{backend}");

        // The new meter is heard from; the old one, still on the network,
        // is refused and dead-lettered with the reason.
        clock.set(on(5, 16, 0));
        let new_meter = series("m-new", on(5, 15, 30), on(5, 16, 0), 0);
        live(&mut p, &clock, new_meter).await;
        let (_, old_meter) = series("m-old", on(5, 16, 0), on(5, 16, 0), 1500).remove(0);
        p.handle(&[old_meter]).await.expect("refused, not failed");
        let kept: Vec<String> = sqlx::query(
            "SELECT DISTINCT meter_id FROM readings WHERE ts_ms > $1 ORDER BY meter_id",
        )
        .bind(on(5, 15, 0).timestamp_millis())
        .fetch_all(store.pool())
        .await
        .expect("readings")
        .iter()
        .map(|r| r.get("meter_id"))
        .collect();
        assert_eq!(kept, ["m-new"], "{backend}");
        let reason: String = sqlx::query("SELECT reason FROM dead_letters")
            .fetch_one(store.pool())
            .await
            .expect("one dead letter")
            .get("reason");
        assert_eq!(reason, "replaced_meter", "{backend}");
        let listed: Vec<String> = store::dashboard::meters(store.pool(), Some("h1"))
            .await
            .expect("meters")
            .into_iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(listed, ["m-new"], "{backend}");
        // Its readings stay the household's history (the usage chart).
        let history = store::replaced::of_household(store.pool(), "h1")
            .await
            .expect("replaced meters");
        assert_eq!(history.len(), 1, "{backend}");
        assert_eq!(
            (history[0].id.as_str(), history[0].by.as_str()),
            ("m-old", "m-new")
        );
        assert_eq!(
            history[0].retired_ms,
            Some(on(5, 15, 10).timestamp_millis())
        );
        // The old meter, silent for nine hours, draws no second offline
        // alert (the new one has been quiet for two: not offline yet).
        clock.set(on(5, 18, 0));
        p.tick().await.expect("tick");
        drop(p);

        // Started again with the same registry: nothing more happens.
        registry(&store, &["m-new"], &[("m-old", "m-new")], on(5, 18, 5)).await;
        let _p = load(&store, &clock).await;
        assert_eq!(alert_events(&store).await, [resolved], "{backend}");
        let cases = scalar(&store, "SELECT COUNT(*) AS n FROM cases").await;
        assert_eq!(cases, 1, "{backend}");
        let again = stored_state(&store, "m-new").await.expect("its own state");
        assert!(again.baseline().days() >= days, "{backend}");
    }
}

#[tokio::test]
async fn the_backtest_hands_over_as_the_daemon_did() {
    for (backend, store, _dir) in common::stores().await {
        let (p, clock, _) = sixteen_usual_days(&store).await;
        drop(p);
        registry(&store, &["m-new"], &[("m-old", "m-new")], on(17, 6, 0)).await;
        let mut p = load(&store, &clock).await;
        // The new meter's first day: water until 12:00, then none until
        // 20:00 (a fall). Eight hours is far beyond this household's
        // usual; the fixed 12 h fallback of a meter learning from scratch
        // would not fire yet.
        let first_day = series_using_until("m-new", on(17, 6, 0), on(17, 20, 0), 0, on(17, 12, 0));
        live(&mut p, &clock, first_day).await;
        let fired = scalar(
            &store,
            "SELECT COUNT(*) AS n FROM alerts WHERE rule = 'inactivity'",
        )
        .await;
        assert_eq!(fired, 1, "{backend}: the daemon found it");

        assert_backtest(&store, "inactivity", (1, 1), &backend).await;
    }
}

#[tokio::test]
async fn a_case_about_the_household_stays_open_through_a_swap() {
    for (backend, store, _dir) in common::stores().await {
        // Sixteen usual days; on the 17th no water after 12:00: by 17:00 an
        // inactivity case is open. Then the meter is swapped, before
        // anyone has closed the case.
        let (mut p, clock, register) = sixteen_usual_days(&store).await;
        let fall = series_using_until(
            "m-old",
            on(17, 0, 0),
            on(17, 17, 0),
            register,
            on(17, 12, 0),
        );
        live(&mut p, &clock, fall).await;
        let open = "SELECT COUNT(*) AS n FROM cases WHERE resolution IS NULL";
        assert_eq!(scalar(&store, open).await, 1, "{backend}");
        drop(p);

        registry(&store, &["m-new"], &[("m-old", "m-new")], on(17, 17, 5)).await;
        clock.set(on(17, 17, 10));
        let _p = load(&store, &clock).await;
        assert_eq!(scalar(&store, open).await, 1, "{backend}: still open");
        assert_eq!(
            alert_events(&store).await,
            [("m-old".to_owned(), "inactivity".to_owned(), false)],
            "{backend}"
        );
        let trail: Vec<(String, String)> =
            sqlx::query("SELECT kind, detail FROM case_events ORDER BY id")
                .fetch_all(store.pool())
                .await
                .expect("the trail")
                .iter()
                .map(|r| (r.get("kind"), r.get("detail")))
                .collect();
        let last = trail.last().expect("a trail");
        assert_eq!(last.0, "meter_replaced", "{backend}: {trail:#?}");
        assert!(last.1.contains("Close the case"), "{backend}: {}", last.1);
    }
}

#[tokio::test]
async fn a_listed_meter_never_heard_from_draws_meter_offline() {
    for (backend, store, _dir) in common::stores().await {
        // The registry lists m-typo; the meter on the wall sends as m-0001.
        let (mut p, clock) = start(&store, "m-typo", on(1, 9, 0)).await;
        clock.set(on(1, 11, 0));
        p.tick().await.expect("tick");
        assert!(alert_events(&store).await.is_empty(), "{backend}");
        drop(p);
        // A restart before the alert does not wait afresh: the wait is
        // stored with the meter's state.
        clock.set(on(1, 12, 15));
        let mut p = load(&store, &clock).await;
        clock.set(on(1, 15, 20));
        p.tick().await.expect("tick");
        let offline = ("m-typo".to_owned(), "meter_offline".to_owned(), false);
        assert_eq!(alert_events(&store).await, [offline], "{backend}");
        let trail: String = sqlx::query("SELECT detail FROM case_events ORDER BY id")
            .fetch_one(store.pool())
            .await
            .expect("the case's trail")
            .get("detail");
        assert!(
            trail.contains("Never heard from this meter, expected since 09:00 (6 h 20 min)"),
            "{backend}: {trail}"
        );
        // Once it fired, a restart raises it no second time.
        drop(p);
        let _p = load(&store, &clock).await;
        assert_eq!(alert_events(&store).await.len(), 1, "{backend}");
    }
}

#[tokio::test]
async fn consent_given_again_waits_afresh_for_a_meter_never_heard_from() {
    for (backend, store, _dir) in common::stores().await {
        let (mut p, clock) = start(&store, "m-a", on(1, 9, 0)).await;
        clock.set(on(1, 10, 0));
        p.set_consent("h1", false).await.expect("withdrawn");
        clock.set(on(1, 14, 0));
        p.tick().await.expect("tick");
        p.set_consent("h1", true).await.expect("given again");
        clock.set(on(1, 16, 0));
        p.tick().await.expect("tick");
        assert!(
            alert_events(&store).await.is_empty(),
            "{backend}: expected from 14:00"
        );
        clock.set(on(1, 17, 5));
        p.tick().await.expect("tick");
        assert_eq!(alert_events(&store).await.len(), 1, "{backend}");
    }
}

#[tokio::test]
async fn the_backtest_hands_over_when_the_daemon_retired_the_meter() {
    for (backend, store, _dir) in common::stores().await {
        // Both meters listed; the new one is fitted on the 10th and reports
        // beside the old one, which falls silent on the 12th. The swap is
        // recorded on the 17th.
        let clock = Arc::new(ManualClock::new(on(1, 0, 0)));
        registry(&store, &["m-old", "m-new"], &[], on(1, 0, 0)).await;
        let mut p = load(&store, &clock).await;
        for day in 1..=16 {
            let mut batch = Vec::new();
            if day < 12 {
                let old = series(
                    "m-old",
                    on(day, 0, 0),
                    on(day, 23, 45),
                    1000 + 150 * i64::from(day),
                );
                batch.extend(old.into_iter().map(|(_, d)| d));
            }
            if day >= 10 {
                let new = series(
                    "m-new",
                    on(day, 0, 0),
                    on(day, 23, 45),
                    150 * i64::from(day),
                );
                batch.extend(new.into_iter().map(|(_, d)| d));
            }
            clock.set(on(day, 23, 50));
            p.handle(&batch).await.expect("stored");
        }
        drop(p);
        registry(&store, &["m-new"], &[("m-old", "m-new")], on(17, 6, 0)).await;
        clock.set(on(17, 6, 0));
        let _p = load(&store, &clock).await;

        // The daemon watched m-old until the 17th: silent from the 12th, it
        // was offline, and the backtest says so too.
        assert_backtest(&store, "meter_offline", (1, 1), &backend).await;
    }
}
