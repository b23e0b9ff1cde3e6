//! The processor as a timeline against each store backend: readings in,
//! cases and outbox entries out, all in one transaction per batch.

mod common;

use std::sync::Arc;

use chrono::Duration;
use tokio::sync::Notify;
use waterwatch::clock::ManualClock;
use waterwatch::config::UnknownMeters;
use waterwatch::metrics::Metrics;
use waterwatch::process::Processor;
use waterwatch::store;
use waterwatch_rules::RuleSet;

use common::timeline::*;

#[tokio::test]
async fn a_reading_delivered_twice_is_stored_once() {
    for (backend, store, _dir) in common::stores().await {
        let clock = Arc::new(ManualClock::new(start() + Duration::hours(1)));
        let mut p = processor(&store, clock.clone(), UnknownMeters::Register).await;
        let first = reading("m1", start(), 100);
        p.handle(&[first]).await.expect("stored");
        p.handle(&[reading("m1", start(), 100), reading("m1", start(), 100)])
            .await
            .expect("stored");
        assert_eq!(
            store::ingest::count_readings(store.pool(), "m1")
                .await
                .expect("count"),
            1,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_batch_revealing_fourteen_quiet_hours_opens_one_case_and_then_clears() {
    for (backend, store, _dir) in common::stores().await {
        let (now, clock, mut p) = evening(&store).await;

        p.handle(&[quiet_day("h1", start(), now)])
            .await
            .expect("stored");
        let cases = stored_cases(&store).await;
        assert_eq!(cases.len(), 1, "{backend}: {cases:?}");
        assert_eq!(cases[0].household, "h1");
        assert_eq!(cases[0].severity, "critical");
        assert!(cases[0].resolved_ms.is_none());
        // One notification per channel.
        assert_eq!(pending(&store).await, 2);

        // The same batch again (a redelivery) changes nothing.
        p.handle(&[quiet_day("h1", start(), now)])
            .await
            .expect("stored");
        assert_eq!(stored_cases(&store).await.len(), 1);
        assert_eq!(pending(&store).await, 2);

        // Water again: the case resolves and everyone told gets the all-clear.
        clock.advance(Duration::minutes(15));
        p.handle(&[reading("h1", now + Duration::minutes(15), 1_100)])
            .await
            .expect("stored");
        let cases = stored_cases(&store).await;
        assert!(cases[0].resolved_ms.is_some(), "{backend}: {cases:?}");
        assert_eq!(pending(&store).await, 4);
        let audit = scalar(&store, "SELECT COUNT(*) FROM case_events").await;
        assert!(audit >= 6, "{backend}: audit trail has {audit} lines");
    }
}

#[tokio::test]
async fn readings_from_unregistered_meters_are_dead_lettered_when_configured() {
    for (backend, store, _dir) in common::stores().await {
        let clock = Arc::new(ManualClock::new(start() + Duration::hours(1)));
        let mut p = processor(&store, clock, UnknownMeters::Reject).await;
        p.handle(&[reading("stranger", start(), 10)])
            .await
            .expect("handled");
        assert_eq!(
            store::ingest::count_readings(store.pool(), "stranger")
                .await
                .expect("n"),
            0
        );
        let letters = store::ingest::dead_letters(store.pool(), 10)
            .await
            .expect("letters");
        assert_eq!(letters.len(), 1, "{backend}");
        assert_eq!(letters[0].0, "unknown_meter");
    }
}

#[tokio::test]
async fn decisions_after_a_restart_match_an_uninterrupted_run() {
    for (backend, store, _dir) in common::stores().await {
        // Uninterrupted: all readings through one processor, in a second store.
        let (_, reference, _rdir) = common::stores().await.remove(0);
        let now = start() + Duration::hours(15);
        let clock = Arc::new(ManualClock::new(now));
        let first_half = quiet_day("h1", start(), start() + Duration::hours(8));
        let second_half = quiet_day(
            "h1",
            start() + Duration::hours(8) + Duration::minutes(15),
            now,
        );
        let mut whole = processor(&reference, clock.clone(), UnknownMeters::Register).await;
        whole
            .handle(&[quiet_day("h1", start(), start() + Duration::hours(8))])
            .await
            .expect("a");
        whole
            .handle(&[quiet_day(
                "h1",
                start() + Duration::hours(8) + Duration::minutes(15),
                now,
            )])
            .await
            .expect("b");

        // Interrupted: the first processor is dropped after the first half.
        let mut before = processor(&store, clock.clone(), UnknownMeters::Register).await;
        before.handle(&[first_half]).await.expect("a");
        drop(before);
        let mut after = processor(&store, clock.clone(), UnknownMeters::Register).await;
        after.handle(&[second_half]).await.expect("b");

        let ours = stored_cases(&store).await;
        let theirs = store::cases::list(reference.pool(), 10)
            .await
            .expect("cases");
        assert_eq!(ours.len(), theirs.len(), "{backend}");
        assert_eq!(ours.len(), 1, "{backend}");
        let alerts = "SELECT COUNT(*) FROM alerts";
        assert_eq!(
            scalar(&store, alerts).await,
            scalar(&reference, alerts).await,
            "{backend}"
        );
    }
}

#[tokio::test]
async fn an_unacknowledged_case_escalates_on_time_and_stops_when_acknowledged() {
    use waterwatch::case::Route;
    use waterwatch::process::{Action, ActionOutcome};
    let routes: Vec<Route> = toml::from_str::<std::collections::BTreeMap<String, Vec<Route>>>(
        r#"
        [[route]]
        name = "urgent"
        kinds = ["inactivity"]
        steps = [
          { after = "0m", notify = ["grid_worker"] },
          { after = "15m", notify = ["family", "supervisor"] },
        ]
        remind_every = "30m"
        "#,
    )
    .expect("routes")
    .remove("route")
    .expect("route list");
    for (backend, store, _dir) in common::stores().await {
        let now = start() + Duration::hours(15);
        let clock = Arc::new(ManualClock::new(now));
        let mut settings = settings(UnknownMeters::Register);
        settings.channels = vec!["grid".into()];
        settings.routes = routes.clone();
        let mut p = Processor::load(
            store.clone(),
            RuleSet::default_rules(),
            Arc::new(Metrics::new()),
            clock.clone(),
            settings,
            Arc::new(Notify::new()),
        )
        .await
        .expect("processor");
        p.handle(&[quiet_day("h1", start(), now)])
            .await
            .expect("stored");
        let pending = || async { pending(&store).await };
        assert_eq!(pending().await, 1, "{backend}: the grid worker is told");

        clock.advance(Duration::minutes(10));
        p.escalate().await.expect("escalate");
        assert_eq!(pending().await, 1, "{backend}: nothing due at 10 min");
        clock.advance(Duration::minutes(6));
        p.escalate().await.expect("escalate");
        p.escalate().await.expect("escalate twice at the same time");
        assert_eq!(
            pending().await,
            2,
            "{backend}: family and supervisor at 15 min, once"
        );
        clock.advance(Duration::minutes(31));
        p.escalate().await.expect("escalate");
        assert_eq!(pending().await, 3, "{backend}: a reminder 30 min later");

        let case_id = store::cases::list(store.pool(), 1).await.expect("cases")[0].id;
        let outcome = p
            .act(
                case_id,
                &Action::Acknowledge {
                    by: "Li Wei".into(),
                    note: Some("on my way".into()),
                },
            )
            .await
            .expect("ack");
        assert!(
            matches!(outcome, ActionOutcome::Done(ref c) if c.acknowledged.is_some()),
            "{outcome:?}"
        );
        assert_eq!(
            pending().await,
            4,
            "{backend}: everyone told hears who is going"
        );
        clock.advance(Duration::hours(3));
        p.escalate().await.expect("escalate");
        assert_eq!(
            pending().await,
            4,
            "{backend}: no reminders after the acknowledgement"
        );
        let listed = &store::cases::list(store.pool(), 1).await.expect("cases")[0];
        assert_eq!(listed.acknowledged_by.as_deref(), Some("Li Wei"));

        let outcome = p
            .act(
                case_id,
                &Action::Close {
                    by: "Li Wei".into(),
                    reason: waterwatch::case::Reason::LateRiser,
                    note: None,
                },
            )
            .await
            .expect("close");
        assert!(matches!(outcome, ActionOutcome::Done(ref c) if !c.is_open()));
        let again = p
            .act(
                case_id,
                &Action::Acknowledge {
                    by: "x".into(),
                    note: None,
                },
            )
            .await
            .expect("ack");
        assert!(matches!(again, ActionOutcome::AlreadyClosed(_)));
        let listed = &store::cases::list(store.pool(), 1).await.expect("cases")[0];
        assert_eq!(listed.resolution.as_deref(), Some("late_riser"));
    }
}

#[tokio::test]
async fn notifications_reach_the_households_contacts_by_role_with_numbers_kept_out_of_the_audit() {
    use waterwatch::notify::contacts::ContactConfig;
    let contacts: Vec<ContactConfig> = toml::from_str::<std::collections::BTreeMap<String, Vec<ContactConfig>>>(
        r#"
        [[contact]]
        name = "Li Wei"
        role = "grid_worker"
        grids = ["grid-7"]
        reach = [{ channel = "sms", to = "+8613800001234" }]

        [[contact]]
        name = "Wang Fang"
        role = "grid_worker"
        grids = ["grid-9"]
        reach = [{ channel = "sms", to = "+8613900005678" }]

        [[contact]]
        name = "Zhang Jun"
        role = "family"
        households = ["h1"]
        reach = [{ channel = "email", to = "jun@example.org" }, { channel = "sms", to = "+8613700009999" }]
        "#,
    )
    .expect("contacts")
    .remove("contact")
    .expect("list");
    for (backend, store, _dir) in common::stores().await {
        let now = start() + Duration::hours(15);
        let clock = Arc::new(ManualClock::new(now));
        let mut settings = settings(UnknownMeters::Register);
        settings.channels = vec![];
        settings.contacts = contacts.clone();
        settings.grids = [("h1".to_string(), "grid-7".to_string())].into();
        let mut p = Processor::load(
            store.clone(),
            RuleSet::default_rules(),
            Arc::new(Metrics::new()),
            clock,
            settings,
            Arc::new(Notify::new()),
        )
        .await
        .expect("processor");
        p.handle(&[quiet_day("h1", start(), now)])
            .await
            .expect("stored");
        use sqlx::Row;
        let rows = sqlx::query("SELECT channel, idempotency_key, payload FROM outbox ORDER BY id")
            .fetch_all(store.pool())
            .await
            .expect("outbox");
        let sent: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("channel"),
                    r.get::<String, _>("idempotency_key"),
                )
            })
            .collect();
        assert_eq!(sent.len(), 3, "{backend}: {sent:#?}");
        assert!(sent.iter().any(|(c, k)| c == "sms" && k.contains("Li Wei")));
        assert!(
            !sent.iter().any(|(_, k)| k.contains("Wang Fang")),
            "another grid's worker is not told"
        );
        assert!(
            sent.iter()
                .any(|(c, k)| c == "email" && k.contains("Zhang Jun"))
        );
        let payload: serde_json::Value =
            serde_json::from_str(&rows[0].get::<String, _>("payload")).expect("a message");
        assert!(payload["to"].as_str().is_some_and(|to| to.starts_with('+')));
        assert!(payload["text"].as_str().is_some_and(|t| t.contains("h1")));
        let audit = sqlx::query("SELECT detail FROM case_events")
            .fetch_all(store.pool())
            .await
            .expect("audit");
        let trail: Vec<String> = audit.iter().map(|r| r.get::<String, _>("detail")).collect();
        assert!(
            trail.iter().any(|d| d.contains("+86******1234")),
            "{trail:#?}"
        );
        assert!(
            !trail.iter().any(|d| d.contains("13800001234")),
            "{trail:#?}"
        );
    }
}

#[tokio::test]
async fn a_batch_longer_than_a_statement_with_repeats_and_new_meters_is_stored_and_judged_once() {
    use waterwatch::store::ingest::ROWS_PER_STATEMENT;
    for (backend, store, _dir) in common::stores().await {
        let clock = Arc::new(ManualClock::new(start() + Duration::hours(1)));
        let metrics = Arc::new(Metrics::new());
        let mut p = Processor::load(
            store.clone(),
            RuleSet::default_rules(),
            metrics.clone(),
            clock,
            settings(UnknownMeters::Register),
            Arc::new(Notify::new()),
        )
        .await
        .expect("processor loads");
        p.handle(&[reading("m0", start(), 100)])
            .await
            .expect("stored");

        let meters = 2 * ROWS_PER_STATEMENT + 1;
        let mut batch = vec![
            reading("m0", start(), 100), // redelivered
            reading("m0", start() + Duration::minutes(15), 106),
        ];
        batch.extend((1..meters).map(|i| reading(&format!("m{i}"), start(), 50)));
        batch.push(reading("m1", start(), 50)); // repeated within the batch
        p.handle(&batch).await.expect("stored");

        assert_eq!(
            metrics.readings_ingested.get() as usize,
            meters + 1,
            "{backend}"
        );
        assert_eq!(metrics.readings_duplicate.get(), 2, "{backend}");
        assert_eq!(
            scalar(&store, "SELECT COUNT(*) FROM readings").await as usize,
            meters + 1,
            "{backend}"
        );
        assert_eq!(
            scalar(
                &store,
                "SELECT COUNT(*) FROM meters WHERE engine_state IS NOT NULL \
                 AND last_reading_ms IS NOT NULL"
            )
            .await as usize,
            meters,
            "{backend}"
        );
        let newest_of_m0 = scalar(&store, "SELECT last_reading_ms FROM meters WHERE id = 'm0'");
        assert_eq!(
            newest_of_m0.await,
            (start() + Duration::minutes(15)).timestamp_millis(),
            "{backend}"
        );
    }
}
