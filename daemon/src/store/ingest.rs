//! The hot path's tables: readings (idempotent on meter and time), meters with
//! their engine state, and the bounded dead-letter table.

use sqlx::{AnyConnection, AnyPool, Row};
use waterwatch_rules::Reading;

use super::StoreError;
use super::dashboard::StateSummary;

/// A registered meter as loaded at start-up.
#[derive(Debug, Clone)]
pub struct MeterRow {
    pub id: String,
    pub household_id: String,
    pub engine_state: Option<String>,
}

pub async fn meters(pool: &AnyPool) -> Result<Vec<MeterRow>, StoreError> {
    let rows = sqlx::query("SELECT id, household_id, engine_state FROM meters ORDER BY id")
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|row| {
            Ok(MeterRow {
                id: row.try_get("id")?,
                household_id: row.try_get("household_id")?,
                engine_state: row.try_get("engine_state")?,
            })
        })
        .collect()
}

/// Register a meter (and its household) if it is not known yet.
pub async fn register_meter(
    conn: &mut AnyConnection,
    meter_id: &str,
    household_id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO households (id, created_ms) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(household_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO meters (id, household_id, created_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(meter_id)
    .bind(household_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A household as the registry lists it.
#[derive(Debug, Clone)]
pub struct HouseholdRow {
    pub id: String,
    pub name: Option<String>,
    pub grid: Option<String>,
    pub meters: Vec<String>,
}

/// Make the stored registry match the configured households: create or
/// update each household and move each listed meter to it.
pub async fn sync_households(
    conn: &mut AnyConnection,
    households: &[HouseholdRow],
    now_ms: i64,
) -> Result<(), StoreError> {
    for HouseholdRow {
        id,
        name,
        grid,
        meters,
    } in households
    {
        sqlx::query(
            "INSERT INTO households (id, name, grid, created_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, grid = excluded.grid",
        )
        .bind(id)
        .bind(name.as_deref())
        .bind(grid.as_deref())
        .bind(now_ms)
        .execute(&mut *conn)
        .await?;
        for meter in meters {
            sqlx::query(
                "INSERT INTO meters (id, household_id, created_ms) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET household_id = excluded.household_id",
            )
            .bind(meter)
            .bind(id)
            .bind(now_ms)
            .execute(&mut *conn)
            .await?;
        }
    }
    Ok(())
}

/// Store a reading; `false` when one for that meter and time is already stored.
pub async fn insert_reading(
    conn: &mut AnyConnection,
    reading: &Reading,
    received_ms: i64,
) -> Result<bool, StoreError> {
    let status = (!reading.status.is_empty()).then(|| reading.status.join(" "));
    let done = sqlx::query(
        "INSERT INTO readings \
         (meter_id, ts_ms, utc_offset_s, total_l, flow_lpm, battery_pct, status, received_ms, \
         rssi_dbm) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (meter_id, ts_ms) DO NOTHING",
    )
    .bind(&reading.meter_id)
    .bind(reading.ts.timestamp_millis())
    .bind(i64::from(reading.ts.offset().local_minus_utc()))
    .bind(reading.total_l)
    .bind(reading.flow_lpm)
    .bind(reading.battery_pct)
    .bind(status)
    .bind(received_ms)
    .bind(reading.rssi_dbm)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The register of the meter's latest reading before `ts_ms`, if any.
pub async fn previous_total(
    conn: &mut AnyConnection,
    meter_id: &str,
    ts_ms: i64,
) -> Result<Option<f64>, StoreError> {
    let row = sqlx::query(
        "SELECT total_l FROM readings WHERE meter_id = $1 AND ts_ms < $2 \
         ORDER BY ts_ms DESC LIMIT 1",
    )
    .bind(meter_id)
    .bind(ts_ms)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("total_l")?),
        None => None,
    })
}

/// What the engine knows of a meter: its state as JSON and the summary the
/// dashboard reads instead (always written together).
#[derive(Debug, Clone, Copy)]
pub struct SavedState<'a> {
    pub json: &'a str,
    pub summary: StateSummary,
}

impl<'a> SavedState<'a> {
    /// Bind the state, its learned days and its offline flag, in that order.
    fn bind(self, query: AnyQuery<'a>) -> AnyQuery<'a> {
        query
            .bind(self.json)
            .bind(i64::from(self.summary.baseline_days))
            .bind(i64::from(self.summary.offline))
    }
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, <sqlx::Any as sqlx::Database>::Arguments>;

/// Record what the engine now knows of a meter, and when it was last heard.
pub async fn save_meter(
    conn: &mut AnyConnection,
    meter_id: &str,
    last_seen_ms: i64,
    newest_reading_ms: i64,
    state: SavedState<'_>,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "UPDATE meters SET last_seen_ms = $1, \
         last_reading_ms = CASE WHEN last_reading_ms IS NULL OR $2 > last_reading_ms THEN $2 \
                                ELSE last_reading_ms END, \
         engine_state = $3, baseline_days = $4, offline = $5 WHERE id = $6",
    )
    .bind(last_seen_ms)
    .bind(newest_reading_ms);
    state.bind(query).bind(meter_id).execute(&mut *conn).await?;
    Ok(())
}

/// Record the engine's state of a meter alone (after a time-only evaluation).
pub async fn save_engine_state(
    conn: &mut AnyConnection,
    meter_id: &str,
    state: SavedState<'_>,
) -> Result<(), StoreError> {
    let query = sqlx::query(
        "UPDATE meters SET engine_state = $1, baseline_days = $2, offline = $3 WHERE id = $4",
    );
    state.bind(query).bind(meter_id).execute(&mut *conn).await?;
    Ok(())
}

/// Keep a rejected message for inspection; the table holds at most `keep` rows.
pub async fn dead_letter(
    conn: &mut AnyConnection,
    received_ms: i64,
    topic: &str,
    reason: &str,
    detail: &str,
    payload: &[u8],
    keep: i64,
) -> Result<(), StoreError> {
    const MAX_KEPT_PAYLOAD: usize = 4096;
    let shown = &payload[..payload.len().min(MAX_KEPT_PAYLOAD)];
    sqlx::query(
        "INSERT INTO dead_letters (received_ms, topic, reason, detail, payload) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(received_ms)
    .bind(topic)
    .bind(reason)
    .bind(detail)
    .bind(String::from_utf8_lossy(shown).into_owned())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM dead_letters WHERE id <= (SELECT MAX(id) FROM dead_letters) - $1")
        .bind(keep)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// How many readings are stored for a meter (for tests and the API).
pub async fn count_readings(pool: &AnyPool, meter_id: &str) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM readings WHERE meter_id = $1")
        .bind(meter_id)
        .fetch_one(pool)
        .await?;
    Ok(row.try_get("n")?)
}

/// Dead letters, newest first: (reason, detail).
pub async fn dead_letters(pool: &AnyPool, limit: i64) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query("SELECT reason, detail FROM dead_letters ORDER BY id DESC LIMIT $1")
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|r| Ok((r.try_get("reason")?, r.try_get("detail")?)))
        .collect()
}

/// Stored readings with `ts >= since_ms`, in time order, a page at a time:
/// pass the last (ts_ms, meter_id) seen as `after` to get the next page.
pub async fn readings_page(
    pool: &AnyPool,
    since_ms: i64,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<Reading>, StoreError> {
    let (after_ts, after_meter) = after.unwrap_or((i64::MIN, String::new()));
    let rows = sqlx::query(
        "SELECT meter_id, ts_ms, utc_offset_s, total_l, flow_lpm, battery_pct, rssi_dbm, status \
         FROM readings WHERE ts_ms >= $1 AND (ts_ms > $2 OR (ts_ms = $2 AND meter_id > $3)) \
         ORDER BY ts_ms, meter_id LIMIT $4",
    )
    .bind(since_ms)
    .bind(after_ts)
    .bind(after_meter)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|row| {
            let ts_ms: i64 = row.try_get("ts_ms")?;
            let offset_s: i64 = row.try_get("utc_offset_s")?;
            let offset = chrono::FixedOffset::east_opt(offset_s as i32)
                .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
            let ts = chrono::DateTime::from_timestamp_millis(ts_ms)
                .unwrap_or_default()
                .with_timezone(&offset);
            let status: Option<String> = row.try_get("status")?;
            Ok(Reading {
                meter_id: row.try_get("meter_id")?,
                ts,
                total_l: row.try_get("total_l")?,
                flow_lpm: row.try_get("flow_lpm")?,
                battery_pct: row.try_get("battery_pct")?,
                rssi_dbm: row.try_get("rssi_dbm")?,
                status: status
                    .map(|s| s.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}
