//! Retention: residents' readings, closed cases (with their alerts, trails and
//! outbox entries) and the audit log are deleted once older than configured.

use sqlx::{AnyPool, Row};

use super::StoreError;

/// How many rows went, by table.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pruned {
    pub readings: u64,
    pub cases: u64,
    pub audit: u64,
}

/// Delete readings before `readings_before_ms`, and cases closed, audit
/// entries written and expired sessions ended before `cases_before_ms`.
/// Meter by meter and case by case, so no statement holds the store long.
pub async fn prune(
    pool: &AnyPool,
    readings_before_ms: i64,
    cases_before_ms: i64,
    now_ms: i64,
) -> Result<Pruned, StoreError> {
    let mut pruned = Pruned::default();
    let meters = sqlx::query("SELECT id FROM meters")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    for meter in meters {
        pruned.readings += sqlx::query("DELETE FROM readings WHERE meter_id = $1 AND ts_ms < $2")
            .bind(&meter)
            .bind(readings_before_ms)
            .execute(pool)
            .await?
            .rows_affected();
    }
    let old_cases = sqlx::query("SELECT id FROM cases WHERE resolved_ms < $1")
        .bind(cases_before_ms)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    for id in old_cases {
        let mut tx = pool.begin().await?;
        for query in [
            "DELETE FROM case_events WHERE case_id = $1",
            "DELETE FROM alerts WHERE case_id = $1",
            "DELETE FROM outbox WHERE case_id = $1",
            "DELETE FROM cases WHERE id = $1",
        ] {
            sqlx::query(query).bind(id).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        pruned.cases += 1;
    }
    pruned.audit = sqlx::query("DELETE FROM audit_log WHERE ts_ms < $1")
        .bind(cases_before_ms)
        .execute(pool)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1")
        .bind(now_ms)
        .execute(pool)
        .await?;
    Ok(pruned)
}

/// Prune once an hour until `shutdown`, by `clock`'s time.
pub async fn run(
    store: super::Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    keep_readings: std::time::Duration,
    keep_cases: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
        }
        let now = clock.now().timestamp_millis();
        let before = |keep: std::time::Duration| now - keep.as_millis() as i64;
        match prune(store.pool(), before(keep_readings), before(keep_cases), now).await {
            Ok(p) if p != Pruned::default() => tracing::info!(
                readings = p.readings,
                cases = p.cases,
                audit = p.audit,
                "retention: old data deleted"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "retention: pruning failed; next try in an hour"),
        }
    }
}
