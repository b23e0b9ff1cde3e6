//! What a case notification says, as JSON: the same body for every channel
//! that takes JSON, so receivers can rely on one shape.
//!
//! ```json
//! {"type":"case_opened","case_id":7,"household":"h0003","severity":"critical",
//!  "ts":"2026-11-24T21:45:00+08:00","roles":["grid_worker"],"text":"…",
//!  "acknowledged_by":null,
//!  "alert":{…the replay-format alert event that caused it, or null…},
//!  "alerts":[{"rule":"inactivity","kind":"inactivity","severity":"critical","summary":"…","active":true}]}
//! ```

use chrono::{DateTime, Utc};
use serde_json::json;
use waterwatch_rules::AlertEvent;

use crate::case::{Case, NotifyReason, Role};

pub fn case_notification(
    case_id: i64,
    case: &Case,
    reason: NotifyReason,
    roles: &[Role],
    cause: Option<&AlertEvent>,
    now: DateTime<Utc>,
) -> serde_json::Value {
    let alerts: Vec<_> = case
        .alerts
        .iter()
        .map(|a| {
            json!({
                "meter_id": a.meter_id,
                "rule": a.rule,
                "kind": a.kind,
                "severity": a.severity,
                "summary": a.summary,
                "active": a.resolved.is_none(),
            })
        })
        .collect();
    json!({
        "type": reason.as_str(),
        "case_id": case_id,
        "household": case.household,
        "severity": case.severity(),
        "ts": cause
            .map(|c| waterwatch_rules::event::ts_secs::format(&c.ts))
            .unwrap_or_else(|| now.to_rfc3339_opts(chrono::SecondsFormat::Secs, false)),
        "roles": roles,
        "text": text(case, reason),
        "acknowledged_by": case.acknowledged.as_ref().map(|a| a.by.clone()),
        "alert": cause,
        "alerts": alerts,
    })
}

/// One short line a person can act on (fits an SMS).
pub fn text(case: &Case, reason: NotifyReason) -> String {
    let summary = case
        .alerts
        .iter()
        .rev()
        .find(|a| a.resolved.is_none())
        .or(case.alerts.last())
        .map(|a| a.summary.as_str())
        .unwrap_or("");
    let who = &case.household;
    let severity = case.severity().as_str();
    match reason {
        NotifyReason::ResidentCheck => {
            "[waterwatch] Are you OK? Please confirm; no water has been used for a while.".into()
        }
        NotifyReason::CaseOpened | NotifyReason::SeverityRaised => {
            format!("[waterwatch] {who} {severity}: {summary}")
        }
        NotifyReason::Escalated => format!("[waterwatch] {who}, not yet acknowledged: {summary}"),
        NotifyReason::Reminder => {
            format!("[waterwatch] Reminder, {who} still needs a check: {summary}")
        }
        NotifyReason::Acknowledged => format!(
            "[waterwatch] {who}: {} is going.",
            case.acknowledged
                .as_ref()
                .map(|a| a.by.as_str())
                .unwrap_or("someone")
        ),
        NotifyReason::VisitOverdue => {
            format!("[waterwatch] {who}: acknowledged but not closed in time; please check.")
        }
        NotifyReason::AllClear => format!("[waterwatch] {who} all clear: water use resumed."),
        NotifyReason::SeenLate => format!(
            "[waterwatch] {who} seen late, nobody was paged: {summary} Water ran again before these readings arrived."
        ),
        NotifyReason::Closed => format!(
            "[waterwatch] {who} closed: {}",
            case.closed
                .as_ref()
                .map(|c| c.reason.as_str())
                .unwrap_or("closed")
        ),
    }
}
