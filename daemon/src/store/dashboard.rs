//! Read-only queries behind the dashboard and the `/api/v1` listings.

use sqlx::{AnyPool, Row};
use waterwatch_rules::{Kind, Learning, MeterState};

use super::StoreError;

/// A registered household.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Household {
    pub id: String,
    pub name: Option<String>,
    pub grid: Option<String>,
    /// Consent withdrawn: nothing is kept and nothing is watched.
    #[serde(default)]
    pub withdrawn: bool,
}

pub async fn households(pool: &AnyPool) -> Result<Vec<Household>, StoreError> {
    sqlx::query("SELECT id, name, grid, withdrawn_ms FROM households ORDER BY id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(Household {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                grid: r.try_get("grid")?,
                withdrawn: r.try_get::<Option<i64>, _>("withdrawn_ms")?.is_some(),
            })
        })
        .collect()
}

pub async fn household(pool: &AnyPool, id: &str) -> Result<Option<Household>, StoreError> {
    let row = sqlx::query("SELECT id, name, grid, withdrawn_ms FROM households WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        Ok(Household {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            grid: r.try_get("grid")?,
            withdrawn: r.try_get::<Option<i64>, _>("withdrawn_ms")?.is_some(),
        })
    })
    .transpose()
}

/// A meter with what its newest reading said.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Meter {
    pub id: String,
    pub household: String,
    pub last_seen_ms: Option<i64>,
    pub last_reading_ms: Option<i64>,
    pub battery_pct: Option<f64>,
    /// Radio signal strength of the newest reading (dBm).
    pub rssi_dbm: Option<f64>,
    pub utc_offset_s: Option<i64>,
    /// What the overview needs of the engine state, as stored beside it
    /// (`None` for state written before migration 0008, or no state yet).
    #[serde(skip)]
    pub summary: Option<StateSummary>,
    /// The engine state as JSON: loaded by [`meters_with_state`], and by
    /// [`meters`] only where `summary` is missing.
    #[serde(skip)]
    pub engine_state: Option<String>,
}

/// What the overview needs of a meter's engine state, kept in columns of its
/// own (`meters.baseline_days`, `meters.offline`) written in the same
/// statement as the state, so listing households parses no JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateSummary {
    /// Days with water use the meter's baseline has seen.
    pub baseline_days: u32,
    /// A meter_offline alert is active.
    pub offline: bool,
}

impl StateSummary {
    pub fn of(state: &MeterState) -> StateSummary {
        StateSummary {
            baseline_days: state.baseline().days(),
            offline: state
                .active_alerts()
                .iter()
                .any(|a| a.kind == Kind::MeterOffline),
        }
    }

    /// Learned rules still use their fixed fallback.
    // Design: the days are stored rather than the verdict because
    // `learning_days` is in the hot-reloaded rules file; this is
    // `Baseline::learning` on the stored days.
    pub fn learning(&self, learning: &Learning) -> bool {
        self.baseline_days < learning.learning_days
    }
}

/// Every meter, or only `household`'s, with the summary of its engine state
/// (the state itself only for meters whose summary is not stored yet).
pub async fn meters(pool: &AnyPool, household: Option<&str>) -> Result<Vec<Meter>, StoreError> {
    meters_where(pool, household, false).await
}

/// [`meters`] with every meter's engine state.
pub async fn meters_with_state(
    pool: &AnyPool,
    household: Option<&str>,
) -> Result<Vec<Meter>, StoreError> {
    meters_where(pool, household, true).await
}

async fn meters_where(
    pool: &AnyPool,
    household: Option<&str>,
    with_state: bool,
) -> Result<Vec<Meter>, StoreError> {
    sqlx::query(
        "SELECT m.id, m.household_id, m.last_seen_ms, m.last_reading_ms, m.baseline_days, \
         m.offline, CASE WHEN $2 = 1 OR m.baseline_days IS NULL OR m.offline IS NULL \
         THEN m.engine_state END AS engine_state, \
         r.battery_pct, r.rssi_dbm, r.utc_offset_s FROM meters m \
         LEFT JOIN readings r ON r.meter_id = m.id AND r.ts_ms = m.last_reading_ms \
         WHERE m.replaced_by IS NULL AND ($1 = '' OR m.household_id = $1) ORDER BY m.id",
    )
    .bind(household.unwrap_or(""))
    .bind(i64::from(with_state))
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        let days: Option<i64> = r.try_get("baseline_days")?;
        let offline: Option<i64> = r.try_get("offline")?;
        Ok(Meter {
            id: r.try_get("id")?,
            household: r.try_get("household_id")?,
            last_seen_ms: r.try_get("last_seen_ms")?,
            last_reading_ms: r.try_get("last_reading_ms")?,
            battery_pct: r.try_get("battery_pct")?,
            rssi_dbm: r.try_get("rssi_dbm")?,
            utc_offset_s: r.try_get("utc_offset_s")?,
            summary: days.zip(offline).map(|(days, offline)| StateSummary {
                baseline_days: u32::try_from(days).unwrap_or(0),
                offline: offline != 0,
            }),
            engine_state: r.try_get("engine_state")?,
        })
    })
    .collect()
}

/// A case as the dashboard lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub household: String,
    pub severity: String,
    pub opened_ms: i64,
    pub acknowledged_ms: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub resolved_ms: Option<i64>,
    pub resolution: Option<String>,
    pub closed_by: Option<String>,
    pub note: Option<String>,
    /// The kinds of its alerts, e.g. `inactivity`.
    pub kinds: Vec<String>,
}

/// Open cases and those closed since `closed_since_ms` (of one household,
/// or all): oldest unacknowledged first, then the other open ones, then the
/// closed ones, newest first.
pub async fn cases(
    pool: &AnyPool,
    closed_since_ms: i64,
    household: Option<&str>,
) -> Result<Vec<CaseRow>, StoreError> {
    macro_rules! case_filter {
        () => {
            "(c.resolved_ms IS NULL OR c.resolved_ms >= $1) AND ($2 = '' OR c.household_id = $2)"
        };
    }
    let rows = sqlx::query(concat!(
        "SELECT c.id, c.household_id, c.severity, c.opened_ms, c.acknowledged_ms, \
         c.acknowledged_by, c.resolved_ms, c.resolution, c.closed_by, c.note \
         FROM cases c WHERE ",
        case_filter!()
    ))
    .bind(closed_since_ms)
    .bind(household.unwrap_or(""))
    .fetch_all(pool)
    .await?;
    let kinds = sqlx::query(concat!(
        "SELECT DISTINCT a.case_id, a.kind FROM alerts a JOIN cases c ON c.id = a.case_id WHERE ",
        case_filter!(),
        " ORDER BY a.case_id, a.kind"
    ))
    .bind(closed_since_ms)
    .bind(household.unwrap_or(""))
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<i64, _>("case_id")?,
            r.try_get::<String, _>("kind")?,
        ))
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    let mut cases = rows
        .iter()
        .map(|r| {
            let id: i64 = r.try_get("id")?;
            Ok(CaseRow {
                id,
                household: r.try_get("household_id")?,
                severity: r.try_get("severity")?,
                opened_ms: r.try_get("opened_ms")?,
                acknowledged_ms: r.try_get("acknowledged_ms")?,
                acknowledged_by: r.try_get("acknowledged_by")?,
                resolved_ms: r.try_get("resolved_ms")?,
                resolution: r.try_get("resolution")?,
                closed_by: r.try_get("closed_by")?,
                note: r.try_get("note")?,
                kinds: kinds
                    .iter()
                    .filter(|(case, _)| *case == id)
                    .map(|(_, kind)| kind.clone())
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    cases.sort_by_key(|c| {
        let rank = match (c.resolved_ms, c.acknowledged_ms) {
            (None, None) => 0,
            (None, Some(_)) => 1,
            (Some(_), _) => 2,
        };
        let order = if rank == 2 {
            -c.resolved_ms.unwrap_or(0)
        } else {
            c.opened_ms
        };
        (rank, order)
    });
    Ok(cases)
}

/// One line of a case's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CaseEvent {
    pub ts_ms: i64,
    pub kind: String,
    pub detail: String,
}

pub async fn case_events(pool: &AnyPool, case_id: i64) -> Result<Vec<CaseEvent>, StoreError> {
    sqlx::query("SELECT ts_ms, kind, detail FROM case_events WHERE case_id = $1 ORDER BY id")
        .bind(case_id)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| {
            Ok(CaseEvent {
                ts_ms: r.try_get("ts_ms")?,
                kind: r.try_get("kind")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}

/// Which household a case belongs to.
pub async fn case_household(pool: &AnyPool, case_id: i64) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT household_id FROM cases WHERE id = $1")
        .bind(case_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.try_get("household_id")).transpose()?)
}

/// A meter's counter at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub ts_ms: i64,
    pub total_l: f64,
    pub utc_offset_s: i64,
}

/// A household's readings from `since_ms` on, one list per meter: its
/// `meters` first (in order), then the meters they `replaced` — its whole
/// history (the usage chart, the first water of the day).
pub async fn history(
    pool: &AnyPool,
    meters: &[Meter],
    replaced: &[super::replaced::Replaced],
    since_ms: i64,
) -> Result<Vec<Vec<Sample>>, StoreError> {
    let ids = meters
        .iter()
        .map(|m| &m.id)
        .chain(replaced.iter().map(|r| &r.id));
    let mut out = Vec::new();
    for id in ids {
        out.push(samples(pool, id, since_ms).await?);
    }
    Ok(out)
}

/// A meter's readings from `since_ms` on, in time order.
pub async fn samples(
    pool: &AnyPool,
    meter_id: &str,
    since_ms: i64,
) -> Result<Vec<Sample>, StoreError> {
    sqlx::query(
        "SELECT ts_ms, total_l, utc_offset_s FROM readings WHERE meter_id = $1 AND ts_ms >= $2 \
         ORDER BY ts_ms",
    )
    .bind(meter_id)
    .bind(since_ms)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Sample {
            ts_ms: r.try_get("ts_ms")?,
            total_l: r.try_get("total_l")?,
            utc_offset_s: r.try_get("utc_offset_s")?,
        })
    })
    .collect()
}

/// Rejected messages by reason (from the bounded dead-letter table).
pub async fn rejected_by_reason(pool: &AnyPool) -> Result<Vec<(String, i64)>, StoreError> {
    sqlx::query("SELECT reason, COUNT(*) AS n FROM dead_letters GROUP BY reason ORDER BY n DESC")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("reason")?, r.try_get("n")?)))
        .collect()
}

/// One alert with how its case ended, for the per-rule statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertOutcome {
    pub rule: String,
    pub fired_ms: i64,
    pub resolution: Option<String>,
}

pub async fn alert_outcomes(
    pool: &AnyPool,
    since_ms: i64,
) -> Result<Vec<AlertOutcome>, StoreError> {
    sqlx::query(
        "SELECT a.rule, a.fired_ms, c.resolution FROM alerts a JOIN cases c ON c.id = a.case_id \
         WHERE a.fired_ms >= $1 ORDER BY a.fired_ms",
    )
    .bind(since_ms)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(AlertOutcome {
            rule: r.try_get("rule")?,
            fired_ms: r.try_get("fired_ms")?,
            resolution: r.try_get("resolution")?,
        })
    })
    .collect()
}

/// Something that changes whenever a case, an alert, a case event or a
/// suppression changes: the live view polls it.
pub async fn change_mark(pool: &AnyPool) -> Result<String, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COALESCE(MAX(id), 0) FROM case_events) AS events, \
         (SELECT COALESCE(MAX(id), 0) FROM alerts) AS alerts, \
         (SELECT COUNT(*) FROM alerts WHERE resolved_ms IS NULL) AS active, \
         (SELECT COALESCE(MAX(id), 0) FROM suppressions) AS suppressions, \
         (SELECT COUNT(*) FROM cases WHERE resolved_ms IS NULL) AS open, \
         (SELECT COUNT(*) FROM cases WHERE resolved_ms IS NULL AND acknowledged_ms IS NOT NULL) \
         AS acknowledged",
    )
    .fetch_one(pool)
    .await?;
    let mut mark = String::new();
    for column in [
        "events",
        "alerts",
        "active",
        "suppressions",
        "open",
        "acknowledged",
    ] {
        mark.push_str(&row.try_get::<i64, _>(column)?.to_string());
        mark.push('.');
    }
    Ok(mark)
}

/// Cases by state for the metrics: open, acknowledged, closed since `since_ms`.
pub async fn case_counts(
    pool: &AnyPool,
    since_ms: i64,
) -> Result<Vec<(&'static str, i64)>, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM cases WHERE resolved_ms IS NULL AND acknowledged_ms IS NULL) \
         AS open, (SELECT COUNT(*) FROM cases WHERE resolved_ms IS NULL AND acknowledged_ms IS \
         NOT NULL) AS acknowledged, (SELECT COUNT(*) FROM cases WHERE resolved_ms >= $1) AS closed",
    )
    .bind(since_ms)
    .fetch_one(pool)
    .await?;
    Ok(vec![
        ("open", row.try_get("open")?),
        ("acknowledged", row.try_get("acknowledged")?),
        ("closed", row.try_get("closed")?),
    ])
}
