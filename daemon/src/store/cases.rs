//! Cases, their alerts and their audit trail.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool, Row};

use super::StoreError;
use crate::case::lifecycle::{Ack, Closure, Progress};
use crate::case::{Case, CaseAlert};

fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn parse_enum<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(|e| {
        StoreError::Sql(sqlx::Error::Decode(
            format!("unknown stored value `{text}`: {e}").into(),
        ))
    })
}

/// The household's open case, with all its alerts.
pub async fn open_case(
    conn: &mut AnyConnection,
    household: &str,
) -> Result<Option<Case>, StoreError> {
    let Some(row) = sqlx::query(
        "SELECT id, household_id, opened_ms, route, state FROM cases \
         WHERE household_id = $1 AND resolved_ms IS NULL",
    )
    .bind(household)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    load(conn, &row).await.map(Some)
}

/// The facts of a case that have no column of their own.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct State {
    #[serde(default)]
    progress: Progress,
    #[serde(default)]
    acknowledged: Option<Ack>,
    #[serde(default)]
    closed: Option<Closure>,
}

/// Every open case (for escalation ticks).
pub async fn open_cases(conn: &mut AnyConnection) -> Result<Vec<Case>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, household_id, opened_ms, route, state FROM cases WHERE resolved_ms IS NULL \
         ORDER BY id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut cases = Vec::with_capacity(rows.len());
    for row in &rows {
        cases.push(load(conn, row).await?);
    }
    Ok(cases)
}

/// One case by id, open or not.
pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Case>, StoreError> {
    let row =
        sqlx::query("SELECT id, household_id, opened_ms, route, state FROM cases WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        Some(row) => load(conn, &row).await.map(Some),
        None => Ok(None),
    }
}

async fn load(conn: &mut AnyConnection, row: &sqlx::any::AnyRow) -> Result<Case, StoreError> {
    let id: i64 = row.try_get("id")?;
    let household: String = row.try_get("household_id")?;
    let opened: i64 = row.try_get("opened_ms")?;
    let route: String = row.try_get("route")?;
    let state_json: String = row.try_get("state")?;
    let state: State = serde_json::from_str(&state_json).map_err(|e| {
        StoreError::Sql(sqlx::Error::Decode(format!("case {id} state: {e}").into()))
    })?;
    let alerts = sqlx::query(
        "SELECT id, meter_id, rule, kind, severity, summary, fired_ms, resolved_ms \
         FROM alerts WHERE case_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|r| {
        Ok(CaseAlert {
            id: Some(r.try_get("id")?),
            meter_id: r.try_get("meter_id")?,
            rule: r.try_get("rule")?,
            kind: parse_enum(&r.try_get::<String, _>("kind")?)?,
            severity: parse_enum(&r.try_get::<String, _>("severity")?)?,
            summary: r.try_get("summary")?,
            fired: from_ms(r.try_get("fired_ms")?),
            resolved: r.try_get::<Option<i64>, _>("resolved_ms")?.map(from_ms),
        })
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Case {
        id: Some(id),
        household,
        opened: from_ms(opened),
        route,
        alerts,
        progress: state.progress,
        acknowledged: state.acknowledged,
        closed: state.closed,
    })
}

/// Write a case as `step` left it: new rows inserted, resolutions recorded.
/// Returns the case id.
pub async fn save(conn: &mut AnyConnection, case: &Case) -> Result<i64, StoreError> {
    let state = serde_json::to_string(&State {
        progress: case.progress.clone(),
        acknowledged: case.acknowledged.clone(),
        closed: case.closed.clone(),
    })
    .map_err(|e| StoreError::Sql(sqlx::Error::Encode(e.into())))?;
    let closed_ms = case.closed.as_ref().map(|c| c.at.timestamp_millis());
    let reason = case.closed.as_ref().map(|c| c.reason.as_str());
    let closed_by = case.closed.as_ref().and_then(|c| c.by.clone());
    let note = case.closed.as_ref().and_then(|c| c.note.clone());
    let ack_ms = case.acknowledged.as_ref().map(|a| a.at.timestamp_millis());
    let ack_by = case.acknowledged.as_ref().map(|a| a.by.clone());
    let id = match case.id {
        Some(id) => {
            sqlx::query(
                "UPDATE cases SET severity = $1, resolved_ms = $2, resolution = $3, closed_by = $4, \
                 note = $5, acknowledged_ms = $6, acknowledged_by = $7, route = $8, state = $9 \
                 WHERE id = $10",
            )
            .bind(case.severity().as_str())
            .bind(closed_ms)
            .bind(reason)
            .bind(closed_by)
            .bind(note)
            .bind(ack_ms)
            .bind(ack_by)
            .bind(&case.route)
            .bind(&state)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            id
        }
        None => {
            let row = sqlx::query(
                "INSERT INTO cases (household_id, opened_ms, severity, resolved_ms, resolution, \
                 closed_by, note, acknowledged_ms, acknowledged_by, route, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(&case.household)
            .bind(case.opened.timestamp_millis())
            .bind(case.severity().as_str())
            .bind(closed_ms)
            .bind(reason)
            .bind(closed_by)
            .bind(note)
            .bind(ack_ms)
            .bind(ack_by)
            .bind(&case.route)
            .bind(&state)
            .fetch_one(&mut *conn)
            .await?;
            row.try_get("id")?
        }
    };
    for alert in &case.alerts {
        match alert.id {
            Some(alert_id) => {
                sqlx::query("UPDATE alerts SET resolved_ms = $1 WHERE id = $2")
                    .bind(alert.resolved.map(|t| t.timestamp_millis()))
                    .bind(alert_id)
                    .execute(&mut *conn)
                    .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO alerts (case_id, household_id, meter_id, rule, kind, severity, \
                     summary, fired_ms, resolved_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                )
                .bind(id)
                .bind(&case.household)
                .bind(&alert.meter_id)
                .bind(&alert.rule)
                .bind(alert.kind.as_str())
                .bind(alert.severity.as_str())
                .bind(&alert.summary)
                .bind(alert.fired.timestamp_millis())
                .bind(alert.resolved.map(|t| t.timestamp_millis()))
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(id)
}

/// Append a line to a case's audit trail.
pub async fn audit(
    conn: &mut AnyConnection,
    case_id: i64,
    ts: DateTime<Utc>,
    kind: &str,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO case_events (case_id, ts_ms, kind, detail) VALUES ($1, $2, $3, $4)")
        .bind(case_id)
        .bind(ts.timestamp_millis())
        .bind(kind)
        .bind(detail)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A person's note on a case, in its audit trail.
pub async fn add_note(
    pool: &sqlx::AnyPool,
    case_id: i64,
    ts: DateTime<Utc>,
    by: &str,
    text: &str,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    audit(&mut conn, case_id, ts, "note", &format!("{by}: {text}")).await
}

/// A case as listed by the API.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseSummary {
    pub id: i64,
    pub household: String,
    pub severity: String,
    pub opened_ms: i64,
    pub acknowledged_by: Option<String>,
    pub resolved_ms: Option<i64>,
    pub resolution: Option<String>,
}

pub async fn list(pool: &AnyPool, limit: i64) -> Result<Vec<CaseSummary>, StoreError> {
    list_where(pool, limit, false).await
}

/// Cases newest first; with `open_only`, only those not closed.
pub async fn list_where(
    pool: &AnyPool,
    limit: i64,
    open_only: bool,
) -> Result<Vec<CaseSummary>, StoreError> {
    sqlx::query(
        "SELECT id, household_id, severity, opened_ms, acknowledged_by, resolved_ms, resolution \
         FROM cases WHERE resolved_ms IS NULL OR NOT $2 ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .bind(open_only)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        Ok(CaseSummary {
            id: r.try_get("id")?,
            household: r.try_get("household_id")?,
            severity: r.try_get("severity")?,
            opened_ms: r.try_get("opened_ms")?,
            acknowledged_by: r.try_get("acknowledged_by")?,
            resolved_ms: r.try_get("resolved_ms")?,
            resolution: r.try_get("resolution")?,
        })
    })
    .collect()
}
