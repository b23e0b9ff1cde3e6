//! Cases end to end on each store backend, with a controlled clock:
//!
//! - a rule's `route`: an early check-in rule asks the resident and then the
//!   family; when the urgent rule fires later in the same quiet stretch, the
//!   case moves to the urgent route and the grid worker is sent at once.
//!   Every message goes out once, redelivered readings included.
//! - a case closed as fine while the quiet goes on: the quiet is measured
//!   again from then, and a new case opens if it goes on too long.
//! - a case closed as an emergency while the quiet goes on: the stretch is
//!   not learned as the household's usual when water runs again; one
//!   closed as a leak while the tap runs: the run is not learned either.

mod common;

use common::{offset, on};

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;
use tokio::sync::Notify;
use waterwatch::case::Reason;
use waterwatch::case::Route;
use waterwatch::clock::ManualClock;
use waterwatch::ingest::mqtt::Delivery;
use waterwatch::metrics::Metrics;
use waterwatch::notify::contacts::ContactConfig;
use waterwatch::process::{Action, ActionOutcome, Processor, Settings};
use waterwatch::store::Store;
use waterwatch_rules::RuleSet;
use waterwatch_rules::config::DEFAULT_RULES_TOML;

/// `hh:mm` local (+08:00) on 2026-11-24.
fn at(hh: u32, mm: u32) -> DateTime<Utc> {
    on(24, hh, mm)
}

/// 15-minute readings of a household that used water from 06:00 to 07:00
/// local and none after, up to `to`.
fn quiet_since_seven(to: DateTime<Utc>) -> Delivery {
    quiet_from_seven_until(to, to + Duration::days(1))
}

/// As [`quiet_since_seven`], with water used again from `water` on.
fn quiet_from_seven_until(to: DateTime<Utc>, water: DateTime<Utc>) -> Delivery {
    let mut readings = Vec::new();
    let mut t = at(6, 0);
    let mut total = 1_000;
    while t <= to {
        if t <= at(7, 0) || t >= water {
            total += 6;
        }
        readings.push(json!({"ts": t.with_timezone(&offset()).to_rfc3339(), "total_l": total}));
        t += Duration::minutes(15);
    }
    Delivery::unacked(
        "waterwatch/meters/h1/reading",
        json!({"meter_id": "h1", "readings": readings}).to_string(),
    )
}

/// 15-minute readings of a household whose tap ran (6 L/min) from 07:00
/// until `off`, up to `to`.
fn tap_from_seven_until(to: DateTime<Utc>, off: DateTime<Utc>) -> Delivery {
    let mut readings = Vec::new();
    let (mut t, mut total) = (at(6, 0), 1_000);
    while t <= to {
        if t > at(7, 0) && t <= off {
            total += 90;
        }
        readings.push(json!({"ts": t.with_timezone(&offset()).to_rfc3339(), "total_l": total}));
        t += Duration::minutes(15);
    }
    Delivery::unacked(
        "waterwatch/meters/h1/reading",
        json!({"meter_id": "h1", "readings": readings}).to_string(),
    )
}

fn list<T: serde::de::DeserializeOwned>(key: &str, text: &str) -> Vec<T> {
    toml::from_str::<BTreeMap<String, Vec<T>>>(text)
        .expect("a list")
        .remove(key)
        .expect("the key")
}

/// The shipped rules and a check-in: warn after 2 h without water (a fixed
/// limit, to keep the timeline short), routed to `check_in`.
fn rules(routes: &[Route]) -> RuleSet {
    let text = format!(
        "{DEFAULT_RULES_TOML}\n\
         [[rule]]\nname = \"inactivity_check\"\nkind = \"inactivity\"\nseverity = \"warning\"\n\
         after = \"2h\"\nroute = \"check_in\"\n"
    );
    let names: Vec<&str> = routes.iter().map(|r| r.name.as_str()).collect();
    RuleSet::parse_routed("rules.toml", &text, &names).expect("valid rules")
}

fn settings(routes: Vec<Route>) -> Settings {
    let contacts: Vec<ContactConfig> = list(
        "contact",
        r#"
        [[contact]]
        name = "Zhang Mei"
        role = "resident"
        households = ["h1"]
        reach = [{ channel = "sms", to = "+8613900005678" }]

        [[contact]]
        name = "Zhang Jun"
        role = "family"
        households = ["h1"]
        reach = [{ channel = "mail", to = "jun@example.org" }]

        [[contact]]
        name = "Li Wei"
        role = "grid_worker"
        grids = ["grid-7"]
        reach = [{ channel = "sms", to = "+8613800001234" }]
        "#,
    );
    Settings {
        contacts,
        routes,
        ..common::settings()
    }
}

/// (to, message type) of every outbox entry, oldest first.
async fn sent(store: &Store) -> Vec<(String, String)> {
    sqlx::query("SELECT payload FROM outbox ORDER BY id")
        .fetch_all(store.pool())
        .await
        .expect("outbox")
        .iter()
        .map(|r| {
            let message: serde_json::Value =
                serde_json::from_str(&r.get::<String, _>("payload")).expect("a message");
            (
                message["to"].as_str().unwrap_or_default().to_owned(),
                message["body"]["type"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_check_in_asks_the_resident_first_and_the_urgent_rule_sends_the_grid_worker() {
    // The urgent route comes first, so a critical alert of a rule that names
    // no route is never taken by the check-in route.
    let routes: Vec<Route> = list(
        "route",
        r#"
        [[route]]
        name = "urgent"
        kinds = ["inactivity"]
        min_severity = "critical"
        steps = [
          { after = "0m", notify = ["grid_worker"] },
          { after = "30m", notify = ["family"] },
        ]

        [[route]]
        name = "check_in"
        ask_resident = "20m"
        steps = [{ after = "0m", notify = ["family"] }]
        "#,
    );
    for (backend, store, _dir) in common::stores().await {
        let clock = Arc::new(ManualClock::new(at(9, 15)));
        let mut p = Processor::load(
            store.clone(),
            rules(&routes),
            Arc::new(Metrics::new()),
            clock.clone(),
            settings(routes.clone()),
            Arc::new(Notify::new()),
        )
        .await
        .expect("processor loads");

        // 2 h 15 min without water: the check-in asks the resident only.
        p.handle(&[quiet_since_seven(at(9, 15))])
            .await
            .expect("stored");
        let resident = ("+8613900005678".to_owned(), "resident_check".to_owned());
        assert_eq!(
            sent(&store).await,
            std::slice::from_ref(&resident),
            "{backend}"
        );

        // No answer in 20 minutes: the family.
        clock.advance(Duration::minutes(20));
        p.escalate().await.expect("escalate");
        let family = ("jun@example.org".to_owned(), "case_opened".to_owned());
        assert_eq!(
            sent(&store).await,
            [resident.clone(), family.clone()],
            "{backend}"
        );

        // 12 h: the urgent rule (the household is new, so its fixed
        // fallback) moves the case to the urgent route: the grid worker now,
        // the family hears it got worse. A redelivered batch sends nothing.
        clock.set(at(19, 15));
        for _ in 0..2 {
            p.handle(&[quiet_since_seven(at(19, 15))])
                .await
                .expect("stored");
        }
        let expected = [
            resident,
            family,
            ("+8613800001234".to_owned(), "case_opened".to_owned()),
            ("jun@example.org".to_owned(), "severity_raised".to_owned()),
        ];
        assert_eq!(sent(&store).await, expected, "{backend}");
        let route: String = sqlx::query("SELECT route FROM cases")
            .fetch_one(store.pool())
            .await
            .expect("one case")
            .get("route");
        assert_eq!(route, "urgent", "{backend}");

        // The urgent route's second step counts from the move: 30 minutes
        // later the family is told again, as that step says.
        clock.advance(Duration::minutes(29));
        p.escalate().await.expect("escalate");
        assert_eq!(sent(&store).await.len(), 4, "{backend}");
        clock.advance(Duration::minutes(1));
        p.escalate().await.expect("escalate");
        let all = sent(&store).await;
        assert_eq!(
            all.last(),
            Some(&("jun@example.org".to_owned(), "escalated".to_owned())),
            "{backend}: {all:#?}"
        );
    }
}

/// A processor with the shipped rules and no routes, its clock at `now`.
async fn shipped(store: &Store, now: DateTime<Utc>) -> (Processor, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(now));
    let p = Processor::load(
        store.clone(),
        RuleSet::default_rules(),
        Arc::new(Metrics::new()),
        clock.clone(),
        settings(Vec::new()),
        Arc::new(Notify::new()),
    )
    .await
    .expect("processor loads");
    (p, clock)
}

/// A processor with the shipped rules at 19:15, after a new household's
/// 12 h without water (the fixed fallback) opened a case; and its clock.
async fn twelve_quiet_hours(store: &Store) -> (Processor, Arc<ManualClock>) {
    let (mut p, clock) = shipped(store, at(19, 15)).await;
    p.handle(&[quiet_since_seven(at(19, 15))])
        .await
        .expect("stored");
    (p, clock)
}

/// The id of the one open case.
async fn open_case(store: &Store) -> i64 {
    sqlx::query("SELECT id FROM cases WHERE resolution IS NULL")
        .fetch_one(store.pool())
        .await
        .expect("an open case")
        .get("id")
}

/// Meter h1's stored engine state (JSON).
async fn engine_state(store: &Store) -> String {
    sqlx::query("SELECT engine_state FROM meters WHERE id = 'h1'")
        .fetch_one(store.pool())
        .await
        .expect("a meter")
        .get("engine_state")
}

#[tokio::test]
async fn a_case_closed_as_fine_while_the_quiet_goes_on_opens_again_if_it_goes_on_too_long() {
    for (backend, store, _dir) in common::stores().await {
        let (mut p, clock) = twelve_quiet_hours(&store).await;
        let cases = || async {
            sqlx::query("SELECT id, resolution FROM cases ORDER BY id")
                .fetch_all(store.pool())
                .await
                .expect("cases")
                .iter()
                .map(|r| {
                    (
                        r.get::<i64, _>("id"),
                        r.get::<Option<String>, _>("resolution"),
                    )
                })
                .collect::<Vec<_>>()
        };
        let opened = cases().await;
        assert_eq!(opened.len(), 1, "{backend}: {opened:?}");

        // Li Wei visits: she is fine, just not thirsty. Case closed.
        clock.set(at(19, 40));
        let done = p
            .act(
                opened[0].0,
                &Action::Close {
                    by: "Li Wei".into(),
                    reason: Reason::Fine,
                    note: None,
                },
            )
            .await
            .expect("closed");
        assert!(matches!(done, ActionOutcome::Done(_)), "{backend}");

        // Still no water through the night: 12 h after the visit, a new
        // case (without the confirmation the alert would stay silent until
        // water ran again).
        clock.set(on(25, 7, 30));
        p.handle(&[quiet_since_seven(on(25, 7, 30))])
            .await
            .expect("stored");
        assert_eq!(cases().await.len(), 1, "{backend}: not before 07:40");
        clock.set(on(25, 7, 45));
        p.handle(&[quiet_since_seven(on(25, 7, 45))])
            .await
            .expect("stored");
        let after = cases().await;
        assert_eq!(after.len(), 2, "{backend}: {after:?}");
        assert_eq!(after[0].1.as_deref(), Some("fine"), "{backend}");
        assert_eq!(after[1].1, None, "{backend}: the new case is open");
        let summary: String = sqlx::query("SELECT summary FROM alerts ORDER BY id DESC")
            .fetch_one(store.pool())
            .await
            .expect("an alert")
            .get("summary");
        assert!(
            summary.contains("nor since the resident was confirmed fine at 19:40 yesterday"),
            "{backend}: {summary}"
        );
    }
}

#[tokio::test]
async fn a_case_closed_as_an_emergency_keeps_its_quiet_from_being_learned_as_usual() {
    // (reason, backend) → whether the stretch was learned.
    let mut learned = Vec::new();
    for reason in [Reason::Emergency, Reason::Other] {
        for (backend, store, _dir) in common::stores().await {
            let (mut p, clock) = twelve_quiet_hours(&store).await;
            let case = open_case(&store).await;
            // Li Wei finds Zhang Mei on the floor and calls an ambulance.
            clock.set(at(19, 40));
            let by = "Li Wei".to_owned();
            let done = p
                .act(
                    case,
                    &Action::Close {
                        by,
                        reason,
                        note: None,
                    },
                )
                .await
                .expect("closed");
            assert!(matches!(done, ActionOutcome::Done(_)), "{backend}");
            // Back home, water runs at 20:00.
            clock.set(at(20, 15));
            p.handle(&[quiet_from_seven_until(at(20, 15), at(20, 0))])
                .await
                .expect("stored");
            let state = engine_state(&store).await;
            // A stretch learned while its alert fired is kept aside.
            learned.push((reason.as_str(), backend, state.contains("\"alerted\"")));
        }
    }
    for (reason, backend, learned) in learned {
        assert_eq!(learned, reason == "other", "{reason} on {backend}");
    }
}

#[tokio::test]
async fn an_emergency_recorded_after_water_closed_the_case_takes_the_quiet_back() {
    for (backend, store, _dir) in common::stores().await {
        let (mut p, clock) = twelve_quiet_hours(&store).await;
        let case = open_case(&store).await;
        // Li Wei helps Zhang Mei up and runs the tap at 20:00: water use
        // closes the case with an all-clear before Li Wei can.
        clock.set(at(20, 15));
        p.handle(&[quiet_from_seven_until(at(20, 15), at(20, 0))])
            .await
            .expect("stored");
        let state = || engine_state(&store);
        assert!(state().await.contains("\"alerted\""), "{backend}");
        // Half an hour later she records what she found.
        clock.set(at(20, 45));
        let close = Action::Close {
            by: "Li Wei".into(),
            reason: Reason::Emergency,
            note: Some("found on the floor".into()),
        };
        let done = p.act(case, &close).await.expect("recorded");
        assert!(matches!(done, ActionOutcome::Done(_)), "{backend}");
        let resolution: String = sqlx::query("SELECT resolution FROM cases WHERE id = $1")
            .bind(case)
            .fetch_one(store.pool())
            .await
            .expect("the case")
            .get("resolution");
        assert_eq!(resolution, "emergency", "{backend}");
        assert!(
            !state().await.contains("\"alerted\""),
            "{backend}: taken back"
        );
        // The reason is recorded once.
        clock.set(at(20, 45) + Duration::days(1));
        let again = p.act(case, &close).await.expect("answered");
        assert!(
            matches!(again, ActionOutcome::AlreadyClosed(_)),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_case_closed_as_a_leak_keeps_the_run_from_being_learned() {
    // (reason, backend) -> whether the run was learned (kept aside).
    let mut learned = Vec::new();
    for reason in [Reason::Leak, Reason::Other] {
        for (backend, store, _dir) in common::stores().await {
            let (mut p, clock) = shipped(&store, at(9, 30)).await;
            // The tap has run since 07:00: tap_running fired at 09:00.
            p.handle(&[tap_from_seven_until(at(9, 30), at(10, 0))])
                .await
                .expect("stored");
            let case = open_case(&store).await;
            clock.set(at(9, 40));
            let close = Action::Close {
                by: "Li Wei".into(),
                reason,
                note: None,
            };
            let done = p.act(case, &close).await.expect("closed");
            assert!(matches!(done, ActionOutcome::Done(_)), "{backend}");
            // Turned off at 10:00; the run ends with the next quiet quarter.
            clock.set(at(10, 30));
            p.handle(&[tap_from_seven_until(at(10, 30), at(10, 0))])
                .await
                .expect("stored");
            let state: serde_json::Value =
                serde_json::from_str(&engine_state(&store).await).expect("json");
            let flows = state["flows"].to_string();
            assert!(!flows.contains("\"leak\""), "{backend}: {flows}");
            learned.push((reason.as_str(), backend, flows.contains("\"alerted\"")));
        }
    }
    for (reason, backend, learned) in learned {
        assert_eq!(learned, reason == "other", "{reason} on {backend}");
    }
}
