//! Away mode, silences, and the alerts held back by them.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, Row};
use waterwatch_rules::AlertEvent;

use super::StoreError;
use crate::suppress::Suppression;

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

pub async fn insert(
    conn: &mut AnyConnection,
    s: &Suppression,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO suppressions (away, household, grid, kind, starts_ms, ends_ms, reason, \
         created_by, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(i64::from(s.away))
    .bind(s.household.as_deref())
    .bind(s.grid.as_deref())
    .bind(s.kind.map(|k| k.as_str()))
    .bind(s.starts.timestamp_millis())
    .bind(s.ends.timestamp_millis())
    .bind(&s.reason)
    .bind(&s.created_by)
    .bind(now.timestamp_millis())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get("id")?)
}

/// Suppressions that have not ended by `now` (active or still to come).
pub async fn current(
    conn: &mut AnyConnection,
    now: DateTime<Utc>,
) -> Result<Vec<Suppression>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, away, household, grid, kind, starts_ms, ends_ms, reason, created_by \
         FROM suppressions WHERE ends_ms > $1 ORDER BY id",
    )
    .bind(now.timestamp_millis())
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let kind: Option<String> = r.try_get("kind")?;
            Ok(Suppression {
                id: Some(r.try_get("id")?),
                away: r.try_get::<i64, _>("away")? != 0,
                household: r.try_get("household")?,
                grid: r.try_get("grid")?,
                kind: kind.and_then(|k| serde_json::from_value(serde_json::Value::String(k)).ok()),
                starts: from_ms(r.try_get("starts_ms")?),
                ends: from_ms(r.try_get("ends_ms")?),
                reason: r.try_get("reason")?,
                created_by: r.try_get("created_by")?,
            })
        })
        .collect()
}

/// End a household's away mode now (they are back). Returns how many ended.
pub async fn end_away(
    conn: &mut AnyConnection,
    household: &str,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE suppressions SET ends_ms = $1 WHERE away = 1 AND household = $2 AND ends_ms > $1",
    )
    .bind(now.timestamp_millis())
    .bind(household)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// Hold back an alert that fired while suppressed.
pub async fn hold(
    conn: &mut AnyConnection,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let json =
        serde_json::to_string(event).map_err(|e| StoreError::Sql(sqlx::Error::Encode(e.into())))?;
    sqlx::query(
        "INSERT INTO held_alerts (household, meter_id, rule, event, held_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (household, meter_id, rule) DO UPDATE SET event = excluded.event, held_ms = excluded.held_ms",
    )
    .bind(&event.household)
    .bind(&event.meter_id)
    .bind(&event.rule)
    .bind(json)
    .bind(now.timestamp_millis())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Forget a held alert (it resolved, or it was released). True if one was held.
pub async fn release(conn: &mut AnyConnection, event: &AlertEvent) -> Result<bool, StoreError> {
    let done =
        sqlx::query("DELETE FROM held_alerts WHERE household = $1 AND meter_id = $2 AND rule = $3")
            .bind(&event.household)
            .bind(&event.meter_id)
            .bind(&event.rule)
            .execute(&mut *conn)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Every held alert.
pub async fn held(conn: &mut AnyConnection) -> Result<Vec<AlertEvent>, StoreError> {
    let rows = sqlx::query("SELECT event FROM held_alerts ORDER BY held_ms")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            let json: String = r.try_get("event")?;
            serde_json::from_str(&json).map_err(|e| {
                StoreError::Sql(sqlx::Error::Decode(format!("held alert: {e}").into()))
            })
        })
        .collect()
}
