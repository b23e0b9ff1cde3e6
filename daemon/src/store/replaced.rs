//! Meters replaced by another in the same home: recorded from the
//! household registry, retired once by the processor (which hands what the
//! engine learned to the new meter and resolves the old one's alerts).

use sqlx::{AnyConnection, Row};

use super::StoreError;

/// Record that `old`, of `household`, was replaced by `new`. A meter not
/// stored yet is added (its readings are refused from now on). Naming a
/// different successor than before retires it again (for the new one).
pub async fn record(
    conn: &mut AnyConnection,
    household: &str,
    old: &str,
    new: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO meters (id, household_id, created_ms, replaced_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET household_id = excluded.household_id, \
         replaced_by = excluded.replaced_by, \
         retired_ms = CASE WHEN meters.replaced_by = excluded.replaced_by \
                           THEN meters.retired_ms ELSE NULL END",
    )
    .bind(old)
    .bind(household)
    .bind(now_ms)
    .bind(new)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Replaced meters not retired yet: `(old, new)`, in id order.
pub async fn pending(conn: &mut AnyConnection) -> Result<Vec<(String, String)>, StoreError> {
    sqlx::query(
        "SELECT id, replaced_by FROM meters \
         WHERE replaced_by IS NOT NULL AND retired_ms IS NULL ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| Ok((row.try_get("id")?, row.try_get("replaced_by")?)))
    .collect()
}

/// `old` is retired at `now_ms`: what the engine knew of it went to the
/// meter that replaced it, so its stored state goes.
pub async fn retire(conn: &mut AnyConnection, old: &str, now_ms: i64) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE meters SET retired_ms = $1, engine_state = NULL, baseline_days = NULL, \
         offline = NULL WHERE id = $2",
    )
    .bind(now_ms)
    .bind(old)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A meter of a household that another took the place of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    pub id: String,
    pub by: String,
    /// When the processor retired it (`None` until the next start).
    pub retired_ms: Option<i64>,
}

/// `household`'s replaced meters, in id order: their readings are part of
/// its history (the usage chart), though they are watched no more.
pub async fn of_household(
    pool: &sqlx::AnyPool,
    household: &str,
) -> Result<Vec<Replaced>, StoreError> {
    sqlx::query(
        "SELECT id, replaced_by, retired_ms FROM meters \
         WHERE household_id = $1 AND replaced_by IS NOT NULL ORDER BY id",
    )
    .bind(household)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|row| {
        Ok(Replaced {
            id: row.try_get("id")?,
            by: row.try_get("replaced_by")?,
            retired_ms: row.try_get("retired_ms")?,
        })
    })
    .collect()
}
