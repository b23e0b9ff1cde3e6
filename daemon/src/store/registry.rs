//! The household registry as stored: households and their meters synced
//! from the config at start, and every meter read back to restore the
//! engine.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

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

/// How many meters are registered (retired ones too).
pub async fn meter_count(pool: &AnyPool) -> Result<usize, StoreError> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM meters")
        .fetch_one(pool)
        .await?;
    Ok(usize::try_from(count).unwrap_or(0))
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
    let mut pages = MeterPages::read(pool.clone());
    while let Some(page) = pages.next().await? {
        page.into_iter().try_for_each(&mut f)?;
    }
    Ok(())
}

/// Every meter, in id order, a page at a time, read ahead by a task of its
/// own: the next page is on its way while the caller works on this one.
pub struct MeterPages {
    pages: mpsc::Receiver<Result<Vec<MeterRow>, StoreError>>,
    reader: Option<JoinHandle<()>>,
}

impl MeterPages {
    pub fn read(pool: AnyPool) -> MeterPages {
        let (tx, pages) = mpsc::channel(1);
        let reader = tokio::spawn(async move {
            let mut after: Option<String> = None;
            loop {
                let page = meter_page(&pool, after.as_deref()).await;
                after = match &page {
                    Ok(rows) if rows.len() as i64 == METERS_PER_PAGE => {
                        rows.last().map(|row| row.id.clone())
                    }
                    _ => None,
                };
                if tx.send(page).await.is_err() || after.is_none() {
                    return;
                }
            }
        });
        MeterPages {
            pages,
            reader: Some(reader),
        }
    }

    /// The next page, or `None` after the last. An error ends the pages.
    pub async fn next(&mut self) -> Result<Option<Vec<MeterRow>>, StoreError> {
        if let Some(page) = self.pages.recv().await {
            return page.map(Some);
        }
        // The reader is done; had it panicked, the pages would look complete.
        if let Some(reader) = self.reader.take()
            && let Err(e) = reader.await
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
        Ok(None)
    }
}

/// Up to [`METERS_PER_PAGE`] meters with ids after `after`, in id order.
async fn meter_page(pool: &AnyPool, after: Option<&str>) -> Result<Vec<MeterRow>, StoreError> {
    const COLUMNS: &str = "id, household_id, engine_state, replaced_by, retired_ms";
    let rows = match after {
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
            .bind(last)
            .bind(METERS_PER_PAGE)
            .fetch_all(pool)
            .await?
        }
    };
    rows.iter()
        .map(|row| {
            Ok(MeterRow {
                id: row.try_get("id")?,
                household_id: row.try_get("household_id")?,
                engine_state: row.try_get("engine_state")?,
                replaced_by: row.try_get("replaced_by")?,
                retired_ms: row.try_get("retired_ms")?,
            })
        })
        .collect()
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
/// Returns whether anything was written: a registry the same as the one
/// last written (by its fingerprint) is not written again.
// Design: rows synced here change nowhere else (readings only add meters
// the registry does not list, a retired meter is one no household lists,
// consent withdrawal leaves these columns alone), so the fingerprint of
// the last registry written says what the rows hold. Checking 100,000
// meters row by row took a second at every start.
pub async fn sync_households(
    conn: &mut AnyConnection,
    households: &[HouseholdRow],
    now_ms: i64,
) -> Result<bool, StoreError> {
    let fingerprint = fingerprint(households);
    let last: Option<String> =
        sqlx::query_scalar("SELECT fingerprint FROM registry_synced WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await?;
    if last.as_deref() == Some(fingerprint.as_str()) {
        return Ok(false);
    }
    // Written a chunk of rows per statement, as readings are: one statement
    // per household took 4 s for 100,000 of them. An id listed twice (the
    // config's validation refuses that) would fail a statement on
    // PostgreSQL: the last one is kept, as writing them in turn would. A
    // row already as listed is left alone: rewriting every meter's row (and
    // its stored state with it) at each start took a second for 100,000.
    let households = last_of_each(households, |h| h.id.as_str());
    for chunk in households.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO households (id, name, grid, created_ms) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, grid = excluded.grid \
             WHERE households.name IS DISTINCT FROM excluded.name \
             OR households.grid IS DISTINCT FROM excluded.grid",
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
             replaced_by = NULL, retired_ms = NULL \
             WHERE meters.household_id <> excluded.household_id \
             OR meters.replaced_by IS NOT NULL OR meters.retired_ms IS NOT NULL",
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
    sqlx::query(
        "INSERT INTO registry_synced (id, fingerprint, synced_ms) VALUES (1, $1, $2) \
         ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, \
         synced_ms = excluded.synced_ms",
    )
    .bind(fingerprint)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// SHA-256 of everything [`sync_households`] writes from `households`, in
/// order, each text with its length before it (so no two registries run
/// together into the same bytes), as hex.
fn fingerprint(households: &[HouseholdRow]) -> String {
    let mut hash = Sha256::new();
    let mut text = |s: Option<&str>| match s {
        Some(s) => {
            hash.update((s.len() as u64 + 1).to_le_bytes());
            hash.update(s.as_bytes());
        }
        None => hash.update(0u64.to_le_bytes()),
    };
    for h in households {
        text(Some(&h.id));
        text(h.name.as_deref());
        text(h.grid.as_deref());
        for meter in &h.meters {
            text(Some(meter));
        }
        text(None);
        for (old, new) in &h.replaced {
            text(Some(old));
            text(Some(new));
        }
        text(None);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
