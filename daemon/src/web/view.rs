//! What the pages show, worked out from the store and the running rules:
//! each household's state; beside it, its thresholds in words
//! (`view/thresholds.rs`) and its hourly use against its usual band
//! (`view/usage.rs`).

use std::collections::HashMap;

use waterwatch_rules::{Language, MeterState, RuleSet};

use super::i18n::{self, Texts};
use crate::store::dashboard::{CaseRow, Household, Meter, StateSummary};
use crate::suppress::Suppression;

mod thresholds;
mod usage;

pub use thresholds::thresholds;
pub use usage::{UsageSeries, usage_series};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A household's state at a glance, most urgent first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    CaseOpen,
    Acknowledged,
    Silent,
    Away,
    Learning,
    Fine,
    /// Consent withdrawn: not monitored.
    Withdrawn,
}

impl State {
    pub const ALL: [State; 7] = [
        State::CaseOpen,
        State::Acknowledged,
        State::Silent,
        State::Away,
        State::Learning,
        State::Fine,
        State::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::CaseOpen => "case_open",
            State::Acknowledged => "acknowledged",
            State::Silent => "silent",
            State::Away => "away",
            State::Learning => "learning",
            State::Fine => "fine",
            State::Withdrawn => "withdrawn",
        }
    }

    pub fn label(self, t: &Texts) -> &'static str {
        match self {
            State::CaseOpen => t.case_open,
            State::Acknowledged => t.acknowledged,
            State::Silent => t.silent,
            State::Away => t.away,
            State::Learning => t.learning,
            State::Fine => t.fine,
            State::Withdrawn => t.withdrawn,
        }
    }
}

/// One household's line on the overview.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub household: Household,
    pub state: State,
    /// Why, in words: "I'm going: Li Wei, 12 min ago".
    pub detail: String,
    /// The open case, if any.
    pub case_id: Option<i64>,
    /// Since when the state holds (for ordering: oldest case first).
    pub since_ms: Option<i64>,
    /// The household's UTC offset, from its newest reading.
    pub utc_offset_s: i64,
}

/// Everything the statuses are worked out from.
pub struct Facts<'a> {
    pub households: &'a [Household],
    pub meters: &'a [Meter],
    /// Open cases.
    pub cases: &'a [CaseRow],
    pub suppressions: &'a [Suppression],
    pub rules: &'a RuleSet,
    pub now_ms: i64,
    pub lang: Language,
}

/// The engine state stored for a meter, if it was loaded and can be read.
pub fn meter_state(meter: &Meter) -> Option<MeterState> {
    serde_json::from_str(meter.engine_state.as_deref()?).ok()
}

/// What the overview needs of a meter's engine state: the stored summary,
/// or (for state saved before the summary columns existed) the state read.
pub fn summary(meter: &Meter) -> Option<StateSummary> {
    meter
        .summary
        .or_else(|| meter_state(meter).as_ref().map(StateSummary::of))
}

/// The status of each household, in overview order: open cases (oldest
/// first), then those being checked, silent meters, away, learning, fine.
/// Whether the overview lists `household`: it has a meter, or an open
/// case. A household left without meters — one that registered itself on
/// its meter's first reading, the meter then listed for a household of the
/// registry — is watched by nothing; listed, it would show as silent
/// forever. (Its page and its cases stay.)
pub fn on_overview(household: &Household, meters: &[Meter], open_cases: &[CaseRow]) -> bool {
    meters.iter().any(|m| m.household == household.id)
        || open_cases.iter().any(|c| c.household == household.id)
}

pub fn statuses(facts: &Facts<'_>) -> Vec<Status> {
    let t = i18n::texts(facts.lang);
    let mut by_household: HashMap<&str, Vec<&Meter>> = HashMap::new();
    for meter in facts.meters {
        by_household
            .entry(&meter.household)
            .or_default()
            .push(meter);
    }
    let mut out: Vec<Status> = facts
        .households
        .iter()
        .map(|h| {
            let meters = by_household.get(h.id.as_str()).cloned().unwrap_or_default();
            status(facts, t, h, &meters)
        })
        .collect();
    out.sort_by(|a, b| {
        (a.state, a.since_ms.unwrap_or(i64::MAX), &a.household.id).cmp(&(
            b.state,
            b.since_ms.unwrap_or(i64::MAX),
            &b.household.id,
        ))
    });
    out
}

fn status(facts: &Facts<'_>, t: &Texts, h: &Household, meters: &[&Meter]) -> Status {
    let lang = facts.lang;
    let now = facts.now_ms;
    let utc_offset_s = meters
        .iter()
        .filter_map(|m| m.utc_offset_s)
        .next()
        .unwrap_or(0);
    let base = |state, detail: String, case_id, since_ms| Status {
        household: h.clone(),
        state,
        detail,
        case_id,
        since_ms,
        utc_offset_s,
    };
    if h.withdrawn {
        return base(State::Withdrawn, t.withdrawn_detail.to_owned(), None, None);
    }
    if let Some(case) = facts
        .cases
        .iter()
        .find(|c| c.household == h.id && c.resolved_ms.is_none())
    {
        let what: Vec<&str> = case.kinds.iter().map(|k| i18n::kind(lang, k)).collect();
        return match (&case.acknowledged_by, case.acknowledged_ms) {
            (Some(by), Some(at)) => base(
                State::Acknowledged,
                format!("{}: {by}, {}", t.im_going, i18n::ago(lang, now - at)),
                Some(case.id),
                Some(at),
            ),
            _ => base(
                State::CaseOpen,
                format!(
                    "{} · {}",
                    what.join(", "),
                    i18n::ago(lang, now - case.opened_ms)
                ),
                Some(case.id),
                Some(case.opened_ms),
            ),
        };
    }
    let summaries: Vec<StateSummary> = meters.iter().filter_map(|m| summary(m)).collect();
    let offline = summaries.iter().any(|s| s.offline);
    let last_seen = meters.iter().filter_map(|m| m.last_seen_ms).max();
    if offline || last_seen.is_none() {
        let detail = match last_seen {
            Some(at) => format!("{} {}", t.last_seen, i18n::ago(lang, now - at)),
            None => format!("{} {}", t.last_seen, t.never),
        };
        return base(State::Silent, detail, None, last_seen);
    }
    if let Some(away) = facts.suppressions.iter().find(|s| {
        s.away
            && s.household.as_deref() == Some(h.id.as_str())
            && s.starts.timestamp_millis() <= now
            && s.ends.timestamp_millis() > now
    }) {
        let until = local_time(away.ends.timestamp_millis(), utc_offset_s, "%m-%d %H:%M");
        return base(
            State::Away,
            format!("{} {until} · {}", t.away_until, away.reason),
            None,
            Some(away.starts.timestamp_millis()),
        );
    }
    let learning = summaries
        .iter()
        .find(|s| s.learning(&facts.rules.baseline))
        .map(|s| s.baseline_days);
    if let Some(days) = learning {
        return base(
            State::Learning,
            format!(
                "{} {days}/{}",
                t.learning_days, facts.rules.baseline.learning_days
            ),
            None,
            None,
        );
    }
    let detail = last_seen
        .map(|at| format!("{} {}", t.last_seen, i18n::ago(lang, now - at)))
        .unwrap_or_default();
    base(State::Fine, detail, None, None)
}

/// `ms` as local time at `offset_s` in `format`.
pub fn local_time(ms: i64, offset_s: i64, format: &str) -> String {
    let offset = chrono::FixedOffset::east_opt(offset_s as i32)
        .unwrap_or(chrono::FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format(format)
        .to_string()
}
