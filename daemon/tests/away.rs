//! Away mode against each store backend: inactivity held back while the
//! household is away, a case opened if it is still quiet when away ends,
//! and nothing at all for an alert that fired and ended while away.

mod common;

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use waterwatch::ingest::mqtt::Delivery;
use waterwatch::store::{self, Store};

use common::timeline::*;

#[tokio::test]
async fn away_mode_holds_inactivity_back_and_opens_the_case_if_still_quiet_when_it_ends() {
    for (backend, store, _dir) in common::stores().await {
        let (now, clock, mut p) = evening(&store).await;
        set_away(
            &store,
            "h1",
            now + Duration::hours(2),
            "visiting her daughter",
        )
        .await;

        p.handle(&[quiet_day("h1", start(), now)])
            .await
            .expect("stored");
        assert!(stored_cases(&store).await.is_empty(), "{backend}");

        // A burst is never held back by away mode.
        let burst = Delivery::unacked(
            "waterwatch/meters/h2/reading",
            json!({"meter_id": "h2", "readings": [
                {"ts": local(now - Duration::minutes(30)), "total_l": 100},
                {"ts": local(now - Duration::minutes(15)), "total_l": 105},
                {"ts": local(now), "total_l": 800},
            ]})
            .to_string(),
        );
        p.handle(&[burst]).await.expect("stored");
        assert_eq!(stored_cases(&store).await.len(), 1, "{backend}");

        // Still away: nothing more. Past the expected return and still quiet: a case.
        clock.advance(Duration::hours(1));
        p.escalate().await.expect("escalate");
        assert_eq!(stored_cases(&store).await.len(), 1, "{backend}");
        clock.advance(Duration::hours(1) + Duration::minutes(1));
        p.escalate().await.expect("escalate");
        let cases = stored_cases(&store).await;
        assert_eq!(cases.len(), 2, "{backend}: {cases:?}");
        assert!(
            cases.iter().any(|c| c.household == "h1"),
            "{backend}: {cases:?}"
        );
        p.escalate().await.expect("escalate again");
        assert_eq!(stored_cases(&store).await.len(), 2, "released once");
    }
}

#[tokio::test]
async fn an_alert_that_fires_and_ends_while_away_never_reaches_anyone() {
    for (backend, store, _dir) in common::stores().await {
        let (now, clock, mut p) = evening(&store).await;
        set_away(&store, "h1", now + Duration::hours(2), "hospital stay").await;
        p.handle(&[quiet_day("h1", start(), now)])
            .await
            .expect("stored");
        clock.advance(Duration::minutes(15));
        p.handle(&[reading("h1", now + Duration::minutes(15), 1_100)])
            .await
            .expect("stored");
        clock.advance(Duration::hours(3));
        p.escalate().await.expect("escalate");
        assert!(stored_cases(&store).await.is_empty(), "{backend}");
        assert_eq!(pending(&store).await, 0);
    }
}

/// Mark a household away from `start()` until `ends`.
async fn set_away(store: &Store, household: &str, ends: DateTime<Utc>, reason: &str) {
    let away = waterwatch::suppress::Suppression {
        id: None,
        away: true,
        household: Some(household.into()),
        grid: None,
        kind: None,
        starts: start(),
        ends,
        reason: reason.into(),
        created_by: "family".into(),
    };
    let mut conn = store.pool().acquire().await.expect("connection");
    store::suppressions::insert(&mut conn, &away, start())
        .await
        .expect("stored");
}
