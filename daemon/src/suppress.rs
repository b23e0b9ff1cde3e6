//! Away mode and silences: time-boxed suppression of alerts, pure.
//!
//! Away (a household is away, e.g. visiting family) suppresses the alerts
//! absence explains — inactivity and usage drop — never leaks or bursts.
//! A silence matches by household, grid and/or kind (every field given must
//! match). Alerts that fire while suppressed are held, and open a case when
//! the suppression ends if they are still active then: coming home late is
//! exactly when a fall would go unnoticed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use waterwatch_rules::Kind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppression {
    pub id: Option<i64>,
    /// Away mode (for one household) rather than a silence.
    pub away: bool,
    pub household: Option<String>,
    pub grid: Option<String>,
    pub kind: Option<Kind>,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
    pub reason: String,
    pub created_by: String,
}

impl Suppression {
    pub fn active(&self, now: DateTime<Utc>) -> bool {
        self.starts <= now && now < self.ends
    }

    /// Does this suppression hold back an alert of `kind` for this household?
    pub fn covers(&self, household: &str, grid: Option<&str>, kind: Kind) -> bool {
        if self.away {
            return self.household.as_deref() == Some(household)
                && matches!(kind, Kind::Inactivity | Kind::UsageDrop);
        }
        let household_ok = self.household.as_deref().is_none_or(|h| h == household);
        let grid_ok = self.grid.as_deref().is_none_or(|g| Some(g) == grid);
        let kind_ok = self.kind.is_none_or(|k| k == kind);
        household_ok && grid_ok && kind_ok
    }

    /// Problems with a new suppression: (field, message).
    pub fn problems(&self, now: DateTime<Utc>) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.ends <= now {
            out.push(("until", "must be in the future".into()));
        }
        if self.ends - self.starts > chrono::Duration::days(90) {
            out.push((
                "until",
                "at most 90 days ahead; renew it if the absence goes on".into(),
            ));
        }
        if self.reason.trim().is_empty() {
            out.push(("reason", "say why, for the audit trail".into()));
        }
        if self.reason.chars().count() > 500 {
            out.push(("reason", "at most 500 characters".into()));
        }
        if self.away && self.household.is_none() {
            out.push(("household", "away mode is for one household".into()));
        }
        if !self.away && self.household.is_none() && self.grid.is_none() && self.kind.is_none() {
            out.push((
                "household",
                "a silence names a household, a grid or a kind".into(),
            ));
        }
        out
    }
}

/// The first active suppression covering this alert, if any.
pub fn covering<'s>(
    suppressions: &'s [Suppression],
    household: &str,
    grid: Option<&str>,
    kind: Kind,
    now: DateTime<Utc>,
) -> Option<&'s Suppression> {
    suppressions
        .iter()
        .find(|s| s.active(now) && s.covers(household, grid, kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, hour, 0, 0).unwrap()
    }

    fn away(household: &str) -> Suppression {
        Suppression {
            id: None,
            away: true,
            household: Some(household.into()),
            grid: None,
            kind: None,
            starts: at(8),
            ends: at(20),
            reason: "visiting her daughter".into(),
            created_by: "Zhang Jun".into(),
        }
    }

    #[test]
    fn away_holds_back_inactivity_but_never_a_leak() {
        let list = vec![away("h1")];
        assert!(covering(&list, "h1", None, Kind::Inactivity, at(10)).is_some());
        assert!(covering(&list, "h1", None, Kind::UsageDrop, at(10)).is_some());
        assert!(covering(&list, "h1", None, Kind::Spike, at(10)).is_none());
        assert!(covering(&list, "h1", None, Kind::ContinuousFlow, at(10)).is_none());
        assert!(covering(&list, "h2", None, Kind::Inactivity, at(10)).is_none());
    }

    #[test]
    fn suppressions_expire_on_their_own() {
        let list = vec![away("h1")];
        assert!(covering(&list, "h1", None, Kind::Inactivity, at(7)).is_none());
        assert!(covering(&list, "h1", None, Kind::Inactivity, at(20)).is_none());
    }

    #[test]
    fn a_silence_matches_every_field_it_names() {
        let mut silence = away("h1");
        silence.away = false;
        silence.household = None;
        silence.grid = Some("grid-7".into());
        silence.kind = Some(Kind::MeterOffline);
        let list = vec![silence];
        assert!(covering(&list, "h9", Some("grid-7"), Kind::MeterOffline, at(10)).is_some());
        assert!(covering(&list, "h9", Some("grid-8"), Kind::MeterOffline, at(10)).is_none());
        assert!(covering(&list, "h9", Some("grid-7"), Kind::Inactivity, at(10)).is_none());
    }

    #[test]
    fn a_suppression_without_reason_or_target_or_future_is_refused() {
        let mut s = away("h1");
        s.away = false;
        s.household = None;
        s.reason = " ".into();
        let fields: Vec<_> = s.problems(at(21)).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["until", "reason", "household"]);
        let mut long = away("h1");
        long.reason = "x".repeat(501);
        assert_eq!(
            long.problems(at(9)),
            vec![("reason", "at most 500 characters".to_owned())]
        );
    }
}
