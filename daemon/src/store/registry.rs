//! The household registry as stored: households and their meters synced
//! from the config at start, and every meter read back to restore the
//! engine.

use std::collections::HashMap;

use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row};

use super::StoreError;
use super::ingest::{ROWS_PER_STATEMENT, chunk_query, value_rows};

/// A registered meter as loaded at start-up.
#[derive(Debug, Clone)]
pub struct MeterRow {
    pub id: String,
    pub household_id: String,
    pub engine_state: Option<String>,
    /// The meter that took this one's place (see `store::replaced`).
    pub replaced_by: Option<String>,
    /// When the processor retired it (replaced): watched no more since.
    pub retired_ms: Option<i64>,
}

pub async fn meters(pool: &AnyPool) -> Result<Vec<MeterRow>, StoreError> {
    let mut out = Vec::new();
    for_each_meter(pool, |row| {
        out.push(row);
        Ok(())
    })
    .await?;
    Ok(out)
}

/// How many meters [`for_each_meter`] reads at a time.
const METERS_PER_PAGE: i64 = 1_000;

/// Hands every meter to `f`, in id order, a page at a time: a start with
/// 100,000 meters holds a thousand stored states in memory at once, not
/// all of them (about 3 KiB each, as text).
pub async fn for_each_meter(
    pool: &AnyPool,
    mut f: impl FnMut(MeterRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    const COLUMNS: &str = "id, household_id, engine_state, replaced_by, retired_ms";
    let mut after: Option<String> = None;
    loop {
        let rows = match &after {
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM meters ORDER BY id LIMIT $1"
                )))
                .bind(METERS_PER_PAGE)
                .fetch_all(pool)
                .await?
            }
            Some(last) => {
                sqlx::query(AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM meters WHERE id > $1 ORDER BY id LIMIT $2"
                )))
                .bind(last.as_str())
                .bind(METERS_PER_PAGE)
                .fetch_all(pool)
                .await?
            }
        };
        let full = rows.len() as i64 == METERS_PER_PAGE;
        for row in rows {
            let row = MeterRow {
                id: row.try_get("id")?,
                household_id: row.try_get("household_id")?,
                engine_state: row.try_get("engine_state")?,
                replaced_by: row.try_get("replaced_by")?,
                retired_ms: row.try_get("retired_ms")?,
            };
            after = Some(row.id.clone());
            f(row)?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// A household as the registry lists it.
#[derive(Debug, Clone)]
pub struct HouseholdRow {
    pub id: String,
    pub name: Option<String>,
    pub grid: Option<String>,
    pub meters: Vec<String>,
    /// `(old meter, the meter that took its place)`.
    pub replaced: Vec<(String, String)>,
}

/// Make the stored registry match the configured households: create or
/// update each household and move each listed meter to it (a listed meter
/// is watched, even one replaced before); record each replaced meter.
pub async fn sync_households(
    conn: &mut AnyConnection,
    households: &[HouseholdRow],
    now_ms: i64,
) -> Result<(), StoreError> {
    // Written a chunk of rows per statement, as readings are: one statement
    // per household took 4 s for 100,000 of them. An id listed twice (the
    // config's validation refuses that) would fail a statement on
    // PostgreSQL: the last one is kept, as writing them in turn would.
    let households = last_of_each(households, |h| h.id.as_str());
    for chunk in households.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO households (id, name, grid, created_ms) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, grid = excluded.grid",
            value_rows(conn, chunk.len(), 4)
        );
        let mut query = chunk_query(sql, chunk.len());
        for h in chunk {
            query = query
                .bind(h.id.as_str())
                .bind(h.name.as_deref())
                .bind(h.grid.as_deref())
                .bind(now_ms);
        }
        query.execute(&mut *conn).await?;
    }
    let listed: Vec<(&str, &str)> = households
        .iter()
        .flat_map(|h| h.meters.iter().map(|m| (m.as_str(), h.id.as_str())))
        .collect();
    let listed = last_of_each(&listed, |(meter, _)| meter);
    for chunk in listed.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO meters (id, household_id, created_ms) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET household_id = excluded.household_id, \
             replaced_by = NULL, retired_ms = NULL",
            value_rows(conn, chunk.len(), 3)
        );
        let mut query = chunk_query(sql, chunk.len());
        for (meter, household) in chunk {
            query = query.bind(*meter).bind(*household).bind(now_ms);
        }
        query.execute(&mut *conn).await?;
    }
    for h in &households {
        for (old, new) in &h.replaced {
            super::replaced::record(conn, &h.id, old, new, now_ms).await?;
        }
    }
    Ok(())
}

/// `items` without the earlier of any two with the same key, in order.
fn last_of_each<'a, T, K: Eq + std::hash::Hash>(
    items: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<&'a T> {
    let last: HashMap<K, usize> = items.iter().enumerate().map(|(i, t)| (key(t), i)).collect();
    items
        .iter()
        .enumerate()
        .filter(|(i, t)| last.get(&key(t)) == Some(i))
        .map(|(_, t)| t)
        .collect()
}
