//! Consent withdrawn: everything stored about a household goes — readings,
//! cases with their alerts, trails and messages, away modes and silences,
//! held alerts, what the rules learned, the consent record — and the
//! household is marked so that its meters' readings are refused from now on.
//! The audit log keeps who did what (it names the household, nothing else).

use sqlx::{AnyConnection, Row};

use super::StoreError;

/// How many rows went.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub readings: u64,
    pub cases: u64,
    pub messages: u64,
}

/// Purge `household` and mark it withdrawn (in the caller's transaction).
pub async fn withdraw(
    conn: &mut AnyConnection,
    household: &str,
    now_ms: i64,
) -> Result<Purged, StoreError> {
    let mut purged = Purged::default();
    let meters = sqlx::query("SELECT id FROM meters WHERE household_id = $1")
        .bind(household)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("id"))
        .collect::<Result<Vec<_>, _>>()?;
    for meter in &meters {
        purged.readings += sqlx::query("DELETE FROM readings WHERE meter_id = $1")
            .bind(meter)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        sqlx::query(
            "UPDATE meters SET engine_state = NULL, baseline_days = NULL, offline = NULL, \
             last_seen_ms = NULL, last_reading_ms = NULL WHERE id = $1",
        )
        .bind(meter)
        .execute(&mut *conn)
        .await?;
    }
    for query in [
        "DELETE FROM case_events WHERE case_id IN (SELECT id FROM cases WHERE household_id = $1)",
        "DELETE FROM alerts WHERE household_id = $1",
    ] {
        sqlx::query(query)
            .bind(household)
            .execute(&mut *conn)
            .await?;
    }
    purged.messages = sqlx::query(
        "DELETE FROM outbox WHERE case_id IN (SELECT id FROM cases WHERE household_id = $1)",
    )
    .bind(household)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    purged.cases = sqlx::query("DELETE FROM cases WHERE household_id = $1")
        .bind(household)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    for query in [
        "DELETE FROM held_alerts WHERE household = $1",
        "DELETE FROM suppressions WHERE household = $1",
        "DELETE FROM consents WHERE household = $1",
    ] {
        sqlx::query(query)
            .bind(household)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE households SET withdrawn_ms = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(household)
        .execute(&mut *conn)
        .await?;
    Ok(purged)
}

/// Consent given again: the household's meters are heard from now on.
pub async fn resume(conn: &mut AnyConnection, household: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE households SET withdrawn_ms = NULL WHERE id = $1 AND withdrawn_ms IS NOT NULL",
    )
    .bind(household)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Households whose consent is withdrawn.
pub async fn withdrawn(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    sqlx::query("SELECT id FROM households WHERE withdrawn_ms IS NOT NULL")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("id")?))
        .collect()
}
