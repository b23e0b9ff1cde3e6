//! What a case notification says, as JSON: the same body for every channel
//! that takes JSON, so receivers can rely on one shape.
//!
//! ```json
//! {"type":"case_opened","case_id":7,"household":"h0003","severity":"critical",
//!  "ts":"2026-11-24T21:45:00+08:00","text":"…",
//!  "alert":{…one replay-format alert event…},
//!  "alerts":[{"rule":"inactivity","kind":"inactivity","severity":"critical","summary":"…","active":true}]}
//! ```

use serde_json::json;
use waterwatch_rules::AlertEvent;
use waterwatch_rules::event::ts_secs;

use crate::case::{Case, NotifyReason};

pub fn case_notification(
    case_id: i64,
    case: &Case,
    reason: NotifyReason,
    cause: &AlertEvent,
) -> String {
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
        "ts": ts_secs::format(&cause.ts),
        "text": text(case, reason, cause),
        "alert": cause,
        "alerts": alerts,
    })
    .to_string()
}

/// One short line a person can act on (fits an SMS).
pub fn text(case: &Case, reason: NotifyReason, cause: &AlertEvent) -> String {
    match reason {
        NotifyReason::CaseOpened | NotifyReason::SeverityRaised => format!(
            "[waterwatch] {} {}: {}",
            case.household,
            case.severity().as_str(),
            cause.summary
        ),
        NotifyReason::AllClear => format!(
            "[waterwatch] {} all clear: {}",
            case.household, cause.summary
        ),
    }
}
