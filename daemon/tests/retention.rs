//! Retention against each store backend: old readings, old closed cases with
//! their trails, and old audit entries go; everything newer stays.

mod common;

use sqlx::Row;
use waterwatch::store::access::{self, AuditEntry};
use waterwatch::store::retention;

const DAY: i64 = 86_400_000;

async fn count(store: &waterwatch::store::Store, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .expect("count")
        .try_get::<i64, _>(0)
        .expect("a number")
}

#[tokio::test]
async fn old_readings_cases_and_audit_entries_are_deleted_and_nothing_newer() {
    for (backend, store, _dir) in common::stores().await {
        let pool = store.pool();
        let now = 1_000 * DAY;
        sqlx::query("INSERT INTO households (id, created_ms) VALUES ('h1', 0)")
            .execute(pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO meters (id, household_id, created_ms) VALUES ('m1', 'h1', 0)")
            .execute(pool)
            .await
            .unwrap();
        for day in [500, 599, 600, 999] {
            sqlx::query(
                "INSERT INTO readings (meter_id, ts_ms, utc_offset_s, total_l, received_ms) \
                 VALUES ('m1', $1, 0, 1.0, $1)",
            )
            .bind(day * DAY)
            .execute(pool)
            .await
            .unwrap();
        }
        // Case 1 closed long ago, case 2 closed recently, case 3 still open.
        for (closed, opened) in [
            (Some(10 * DAY), 9 * DAY),
            (Some(990 * DAY), 980 * DAY),
            (None, DAY),
        ] {
            let row = sqlx::query(
                "INSERT INTO cases (household_id, opened_ms, severity, resolved_ms) \
                 VALUES ('h1', $1, 'critical', $2) RETURNING id",
            )
            .bind(opened)
            .bind(closed)
            .fetch_one(pool)
            .await
            .unwrap();
            let id: i64 = row.try_get("id").unwrap();
            sqlx::query("INSERT INTO case_events (case_id, ts_ms, kind, detail) VALUES ($1, $2, 'opened', '')")
                .bind(id)
                .bind(opened)
                .execute(pool)
                .await
                .unwrap();
        }
        for ts_ms in [5 * DAY, 995 * DAY] {
            access::audit(
                pool,
                &AuditEntry {
                    ts_ms,
                    actor: "li".into(),
                    action: "view".into(),
                    target: "household/h1".into(),
                    detail: String::new(),
                    source: String::new(),
                },
            )
            .await
            .unwrap();
        }

        let pruned = retention::prune(pool, now - 400 * DAY, now - 365 * DAY, now)
            .await
            .unwrap();
        assert_eq!(
            (pruned.readings, pruned.cases, pruned.audit),
            (2, 1, 1),
            "{backend}"
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM readings").await,
            2,
            "{backend}"
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM cases").await,
            2,
            "{backend}"
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM case_events").await,
            2,
            "{backend}"
        );
        assert_eq!(
            count(&store, "SELECT COUNT(*) FROM audit_log").await,
            1,
            "{backend}"
        );
        // A second pass finds nothing more.
        let again = retention::prune(pool, now - 400 * DAY, now - 365 * DAY, now)
            .await
            .unwrap();
        assert_eq!(again, retention::Pruned::default(), "{backend}");
    }
}
