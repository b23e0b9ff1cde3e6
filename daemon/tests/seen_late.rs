//! A quiet stretch seen only once it was over (a daily upload, a backlog):
//! kept as a case closed on arrival, nobody paged, and the people the
//! route tells first hear of it once their quiet hours end.

mod common;

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use sqlx::Row;
use tokio::sync::Notify;
use waterwatch::case::Route;
use waterwatch::clock::ManualClock;
use waterwatch::config::UnknownMeters;
use waterwatch::ingest::mqtt::Delivery;
use waterwatch::metrics::Metrics;
use waterwatch::notify::contacts::ContactConfig;
use waterwatch::process::Processor;
use waterwatch::store::Store;
use waterwatch_rules::RuleSet;

use common::timeline::*;

/// A grid worker with quiet hours at +08:00 and a family member, over SMS.
const PEOPLE: &str = r#"
[[contact]]
name = "Li Wei"
role = "grid_worker"
grids = ["grid-7"]
utc_offset = "+08:00"
quiet_hours = "22:00-07:00"
reach = [{ channel = "sms", to = "+8613800001234" }]

[[contact]]
name = "Zhang Jun"
role = "family"
households = ["h1"]
reach = [{ channel = "sms", to = "+8613700009999" }]

[[route]]
name = "urgent"
kinds = ["inactivity"]
min_severity = "critical"
steps = [
  { after = "0m", notify = ["grid_worker"] },
  { after = "15m", notify = ["family"] },
]

[[route]]
name = "check_in"
ask_resident = "10m"
steps = [{ after = "0m", notify = ["family"] }]
"#;

fn people() -> (Vec<ContactConfig>, Vec<Route>) {
    #[derive(serde::Deserialize)]
    struct People {
        contact: Vec<ContactConfig>,
        route: Vec<Route>,
    }
    let people: People = toml::from_str(PEOPLE).expect("contacts and routes");
    (people.contact, people.route)
}

/// The shipped rules, plus an earlier check-in rule when `check_in`.
fn rules(check_in: bool) -> RuleSet {
    let mut text = include_str!("../../rules/default.toml").to_owned();
    if check_in {
        text.push_str(
            "\n[[rule]]\nname = \"inactivity_check\"\nkind = \"inactivity\"\n\
             severity = \"warning\"\nafter = \"6h\"\nroute = \"check_in\"\n",
        );
    }
    RuleSet::parse("rules.toml", &text).expect("rules")
}

async fn processor(store: &Store, rules: RuleSet, now: chrono::DateTime<Utc>) -> Processor {
    let (contacts, routes) = people();
    let mut settings = settings(UnknownMeters::Register);
    settings.channels = vec![];
    settings.contacts = contacts;
    settings.routes = routes;
    settings.grids = [("h1".to_string(), "grid-7".to_string())].into();
    Processor::load(
        store.clone(),
        rules,
        Arc::new(Metrics::new()),
        Arc::new(ManualClock::new(now)),
        settings,
        Arc::new(Notify::new()),
    )
    .await
    .expect("processor loads")
}

/// A daily upload at 20:00 UTC (04:00 at +08:00) of a day quiet from
/// 01:00 until water at 15:15: the resident was up hours ago.
fn upload() -> (chrono::DateTime<Utc>, Vec<Delivery>) {
    let now = start() + Duration::hours(20);
    let water = start() + Duration::hours(15) + Duration::minutes(15);
    let batch = vec![
        quiet_day("h1", start(), start() + Duration::hours(15)),
        reading("h1", water, 1_100),
    ];
    (now, batch)
}

/// The outbox: (idempotency key, when due, payload).
async fn outbox(store: &Store) -> Vec<(String, i64, String)> {
    sqlx::query("SELECT idempotency_key, next_attempt_ms, payload FROM outbox ORDER BY id")
        .fetch_all(store.pool())
        .await
        .expect("outbox")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn a_quiet_stretch_over_before_its_upload_pages_nobody_and_tells_the_grid_worker_at_seven() {
    for (backend, store, _dir) in common::stores().await {
        let (now, batch) = upload();
        let mut p = processor(&store, rules(false), now).await;
        p.handle(&batch).await.expect("stored");

        let cases = stored_cases(&store).await;
        assert_eq!(cases.len(), 1, "{backend}: {cases:?}");
        assert_eq!(cases[0].resolution.as_deref(), Some("all_clear"));
        let audit = scalar(
            &store,
            "SELECT COUNT(*) FROM case_events WHERE detail LIKE '%seen late%'",
        )
        .await;
        assert_eq!(audit, 2, "{backend}: opened and closed as seen late");

        // Only the urgent route's first step, and not before 07:00 at
        // +08:00 (23:00 UTC): no all-clear, no page, no family.
        let sent = outbox(&store).await;
        assert_eq!(sent.len(), 1, "{backend}: {sent:#?}");
        let (key, due, payload) = &sent[0];
        assert!(key.contains("seen_late") && key.contains("Li Wei"), "{key}");
        let seven = Utc.with_ymd_and_hms(2026, 11, 24, 23, 0, 0).unwrap();
        assert_eq!(*due, seven.timestamp_millis(), "{backend}");
        let message: serde_json::Value = serde_json::from_str(payload).expect("json");
        let text = message["text"].as_str().unwrap_or_default();
        assert!(
            text.starts_with("Seen late: h1 (h1): No water used since 09:00"),
            "{text}"
        );
        assert_eq!(message["body"]["type"], "seen_late", "{message}");

        // The same upload again (a redelivery after a restart) adds nothing.
        let mut p = processor(&store, rules(false), now).await;
        p.handle(&upload().1).await.expect("stored");
        assert_eq!(outbox(&store).await.len(), 1, "{backend}");
        assert_eq!(stored_cases(&store).await.len(), 1, "{backend}");
    }
}

#[tokio::test]
async fn two_rules_over_the_same_quiet_make_one_case_on_the_most_severe_rules_route() {
    for (backend, store, _dir) in common::stores().await {
        let (now, batch) = upload();
        let mut p = processor(&store, rules(true), now).await;
        p.handle(&batch).await.expect("stored");

        let cases = stored_cases(&store).await;
        assert_eq!(cases.len(), 1, "{backend}: {cases:?}");
        assert_eq!(cases[0].severity, "critical", "{backend}");
        let sent = outbox(&store).await;
        assert_eq!(sent.len(), 1, "{backend}: {sent:#?}");
        assert!(sent[0].0.contains("Li Wei"), "{sent:#?}");
        let route = scalar(
            &store,
            "SELECT COUNT(*) FROM case_events WHERE detail LIKE '%route urgent%'",
        )
        .await;
        assert_eq!(route, 1, "{backend}: the urgent rule's route");
    }
}
