//! Cases, their alerts and their audit trail.

use chrono::{DateTime, Utc};
use sqlx::{AnyConnection, AnyPool, Row};

use super::StoreError;
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
        "SELECT id, opened_ms FROM cases WHERE household_id = $1 AND resolved_ms IS NULL",
    )
    .bind(household)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let id: i64 = row.try_get("id")?;
    let opened: i64 = row.try_get("opened_ms")?;
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
    Ok(Some(Case {
        id: Some(id),
        household: household.to_owned(),
        opened: from_ms(opened),
        resolved: None,
        alerts,
    }))
}

/// Write a case as `step` left it: new rows inserted, resolutions recorded.
/// Returns the case id.
pub async fn save(conn: &mut AnyConnection, case: &Case) -> Result<i64, StoreError> {
    let id = match case.id {
        Some(id) => {
            sqlx::query("UPDATE cases SET severity = $1, resolved_ms = $2 WHERE id = $3")
                .bind(case.severity().as_str())
                .bind(case.resolved.map(|t| t.timestamp_millis()))
                .bind(id)
                .execute(&mut *conn)
                .await?;
            id
        }
        None => {
            let row = sqlx::query(
                "INSERT INTO cases (household_id, opened_ms, severity, resolved_ms) \
                 VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&case.household)
            .bind(case.opened.timestamp_millis())
            .bind(case.severity().as_str())
            .bind(case.resolved.map(|t| t.timestamp_millis()))
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

/// A case as listed by the API: (id, household, severity, opened, resolved).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseSummary {
    pub id: i64,
    pub household: String,
    pub severity: String,
    pub opened_ms: i64,
    pub resolved_ms: Option<i64>,
}

pub async fn list(pool: &AnyPool, limit: i64) -> Result<Vec<CaseSummary>, StoreError> {
    sqlx::query(
        "SELECT id, household_id, severity, opened_ms, resolved_ms FROM cases \
         ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?
    .into_iter()
    .map(|r| {
        Ok(CaseSummary {
            id: r.try_get("id")?,
            household: r.try_get("household_id")?,
            severity: r.try_get("severity")?,
            opened_ms: r.try_get("opened_ms")?,
            resolved_ms: r.try_get("resolved_ms")?,
        })
    })
    .collect()
}
