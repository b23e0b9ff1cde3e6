//! The hot path's tables: readings (idempotent on meter and time), meters with
//! their engine state, and the bounded dead-letter table.

use std::collections::HashMap;

use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Row};
use waterwatch_rules::{MeterState, Reading};

use super::StoreError;
use super::dashboard::StateSummary;

/// Rows written by one statement at most.
// Design: under load it is the number of statements that costs, not the
// rows (each is a round trip to SQLite's worker thread or to PostgreSQL), so
// a batch's rows go together. 500 rows of at most 9 values stay far below
// the values a statement may bind (32,766 in the bundled SQLite, 65,535 in
// PostgreSQL).
pub const ROWS_PER_STATEMENT: usize = 500;

/// A statement writing `rows` rows, kept prepared on the connection only
/// when it is a full chunk: a batch's odd-sized last chunks would otherwise
/// fill the statement cache with large statements used once.
pub(super) fn chunk_query<'q>(sql: String, rows: usize) -> AnyQuery<'q> {
    sqlx::query(AssertSqlSafe(sql)).persistent(rows == ROWS_PER_STATEMENT)
}

/// The placeholders of `rows` rows of `columns` values: `(?, ?), (?, ?)` on
/// SQLite, `($1, $2), ($3, $4)` on PostgreSQL (which knows no other kind).
// Design: SQLite finds a numbered parameter by walking the list of them, so
// binding n numbered parameters costs n² steps: a chunk of 500 readings
// with `$n` took longer than the 500 statements it replaced. Plain `?` are
// bound in order without that walk.
pub(super) fn value_rows(conn: &AnyConnection, rows: usize, columns: usize) -> String {
    let numbered = conn.backend_name() != <sqlx::Sqlite as sqlx::Database>::NAME;
    placeholders(numbered, rows, columns)
}

fn placeholders(numbered: bool, rows: usize, columns: usize) -> String {
    let row = |r: usize| {
        let values: Vec<String> = (1..=columns)
            .map(|c| {
                if numbered {
                    format!("${}", r * columns + c)
                } else {
                    "?".to_owned()
                }
            })
            .collect();
        format!("({})", values.join(", "))
    };
    (0..rows).map(row).collect::<Vec<_>>().join(", ")
}

/// Register meters not known yet, each as its own household.
pub async fn register_meters(
    conn: &mut AnyConnection,
    meter_ids: &[String],
    now_ms: i64,
) -> Result<(), StoreError> {
    for chunk in meter_ids.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO households (id, created_ms) VALUES {} ON CONFLICT (id) DO NOTHING",
            value_rows(conn, chunk.len(), 2)
        );
        let mut query = chunk_query(sql, chunk.len());
        for meter_id in chunk {
            query = query.bind(meter_id).bind(now_ms);
        }
        query.execute(&mut *conn).await?;
        let sql = format!(
            "INSERT INTO meters (id, household_id, created_ms) VALUES {} \
             ON CONFLICT (id) DO NOTHING",
            value_rows(conn, chunk.len(), 3)
        );
        let mut query = chunk_query(sql, chunk.len());
        for meter_id in chunk {
            query = query.bind(meter_id).bind(meter_id).bind(now_ms);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Store readings; for each, in order, `true` when it is new and `false`
/// when one for that meter and time is already stored (or comes earlier in
/// `readings`: the first of a batch's repeats is the one kept).
pub async fn insert_readings(
    conn: &mut AnyConnection,
    readings: &[Reading],
    received_ms: i64,
) -> Result<Vec<bool>, StoreError> {
    // The first reading of each meter and time, by its place in `readings`.
    let mut first_of: HashMap<(&str, i64), usize> = HashMap::with_capacity(readings.len());
    for (i, reading) in readings.iter().enumerate() {
        let key = (reading.meter_id.as_str(), reading.ts.timestamp_millis());
        first_of.entry(key).or_insert(i);
    }
    let mut firsts: Vec<usize> = first_of.values().copied().collect();
    firsts.sort_unstable();
    let mut is_new = vec![false; readings.len()];
    for chunk in firsts.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO readings \
             (meter_id, ts_ms, utc_offset_s, total_l, flow_lpm, battery_pct, status, received_ms, \
             rssi_dbm) VALUES {} \
             ON CONFLICT (meter_id, ts_ms) DO NOTHING RETURNING meter_id, ts_ms",
            value_rows(conn, chunk.len(), 9)
        );
        let mut query = chunk_query(sql, chunk.len());
        for reading in chunk.iter().map(|&i| &readings[i]) {
            let status = (!reading.status.is_empty()).then(|| reading.status.join(" "));
            query = query
                .bind(&reading.meter_id)
                .bind(reading.ts.timestamp_millis())
                .bind(i64::from(reading.ts.offset().local_minus_utc()))
                .bind(reading.total_l)
                .bind(reading.flow_lpm)
                .bind(reading.battery_pct)
                .bind(status)
                .bind(received_ms)
                .bind(reading.rssi_dbm);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let (meter_id, ts_ms): (String, i64) = (row.try_get(0)?, row.try_get(1)?);
            if let Some(&i) = first_of.get(&(meter_id.as_str(), ts_ms)) {
                is_new[i] = true;
            }
        }
    }
    Ok(is_new)
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

/// A meter's engine state in its stored form: the JSON of [`SavedState`]
/// and its summary.
pub fn encode_state(
    meter_id: &str,
    state: &MeterState,
) -> Result<(String, StateSummary), StoreError> {
    let json = serde_json::to_string(state).map_err(|e| StoreError::BadState {
        meter: meter_id.to_owned(),
        detail: e.to_string(),
    })?;
    Ok((json, StateSummary::of(state)))
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

/// A meter heard from in a batch: what the engine now knows of it.
#[derive(Debug, Clone, Copy)]
pub struct HeardMeter<'a> {
    pub id: &'a str,
    pub last_seen_ms: i64,
    pub newest_reading_ms: i64,
    pub state: SavedState<'a>,
}

/// Record what the engine now knows of a meter, and when it was last heard.
pub async fn save_meter(
    conn: &mut AnyConnection,
    meter_id: &str,
    last_seen_ms: i64,
    newest_reading_ms: i64,
    state: SavedState<'_>,
) -> Result<(), StoreError> {
    let meter = HeardMeter {
        id: meter_id,
        last_seen_ms,
        newest_reading_ms,
        state,
    };
    save_meters(conn, &[meter]).await
}

/// Record what the engine now knows of each meter, and when each was last
/// heard; `last_reading_ms` never moves back. Each meter once per call.
pub async fn save_meters(
    conn: &mut AnyConnection,
    meters: &[HeardMeter<'_>],
) -> Result<(), StoreError> {
    // Both SQLite and PostgreSQL name the columns of a VALUES list column1, column2, …
    for chunk in meters.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE meters SET last_seen_ms = v.column2, \
             last_reading_ms = CASE WHEN meters.last_reading_ms IS NULL \
                                         OR v.column3 > meters.last_reading_ms THEN v.column3 \
                                    ELSE meters.last_reading_ms END, \
             engine_state = v.column4, baseline_days = v.column5, offline = v.column6 \
             FROM (VALUES {}) AS v WHERE meters.id = v.column1",
            value_rows(conn, chunk.len(), 6)
        );
        let mut query = chunk_query(sql, chunk.len());
        for meter in chunk {
            query = meter.state.bind(
                query
                    .bind(meter.id)
                    .bind(meter.last_seen_ms)
                    .bind(meter.newest_reading_ms),
            );
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Record the engine's state of each meter alone (after a time-only
/// evaluation; meters expected at start), a chunk of meters per statement:
/// a first start expecting 100,000 listed meters took 4 s one by one.
pub async fn save_engine_states(
    conn: &mut AnyConnection,
    states: &[(&str, SavedState<'_>)],
) -> Result<(), StoreError> {
    for chunk in states.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE meters SET engine_state = v.column2, baseline_days = v.column3, \
             offline = v.column4 FROM (VALUES {}) AS v WHERE meters.id = v.column1",
            value_rows(conn, chunk.len(), 4)
        );
        let mut query = chunk_query(sql, chunk.len());
        for &(meter_id, state) in chunk {
            query = state.bind(query.bind(meter_id));
        }
        query.execute(&mut *conn).await?;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_one_row_after_another_or_plain() {
        assert_eq!(placeholders(true, 1, 2), "($1, $2)");
        assert_eq!(placeholders(true, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(false, 2, 2), "(?, ?), (?, ?)");
    }
}
