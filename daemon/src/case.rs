//! The case lifecycle, pure: one open case per household groups its alerts.
//!
//! `step(case, alert_event, now)` returns the case afterwards and the effects
//! to carry out (notifications, audit lines). Status is *computed* from the
//! stored facts (`resolved` timestamps), never stored as a separate field.

use chrono::{DateTime, Utc};
use serde::Serialize;
use waterwatch_rules::{AlertEvent, Kind, Severity, Transition};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseAlert {
    /// Row id once stored.
    #[serde(skip)]
    pub id: Option<i64>,
    pub meter_id: String,
    pub rule: String,
    pub kind: Kind,
    pub severity: Severity,
    pub summary: String,
    pub fired: DateTime<Utc>,
    pub resolved: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Case {
    /// Row id once stored.
    pub id: Option<i64>,
    pub household: String,
    pub opened: DateTime<Utc>,
    pub resolved: Option<DateTime<Utc>>,
    pub alerts: Vec<CaseAlert>,
}

impl Case {
    pub fn is_open(&self) -> bool {
        self.resolved.is_none()
    }

    /// The highest severity among the case's alerts.
    pub fn severity(&self) -> Severity {
        self.alerts
            .iter()
            .map(|a| a.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    fn active(&self) -> impl Iterator<Item = &CaseAlert> {
        self.alerts.iter().filter(|a| a.resolved.is_none())
    }
}

/// Why a notification goes out; logs and payloads say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyReason {
    /// A new case: the first alert for a household.
    CaseOpened,
    /// An alert joined an open case and raised its severity.
    SeverityRaised,
    /// Every alert of the case has resolved: the all-clear.
    AllClear,
}

impl NotifyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyReason::CaseOpened => "case_opened",
            NotifyReason::SeverityRaised => "severity_raised",
            NotifyReason::AllClear => "all_clear",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Notify(NotifyReason),
    /// An audit line for the case's trail: (kind, detail).
    Audit(&'static str, String),
}

/// Apply one alert event to the household's open case (if any).
/// Returns `None` for the case when the event changes nothing.
pub fn step(
    case: Option<&Case>,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> (Option<Case>, Vec<Effect>) {
    let open = case.filter(|c| c.is_open());
    match event.event {
        Transition::Fired => fire(open, event, now),
        Transition::Resolved => resolve(open, event, now),
    }
}

fn fire(
    open: Option<&Case>,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> (Option<Case>, Vec<Effect>) {
    let alert = CaseAlert {
        id: None,
        meter_id: event.meter_id.clone(),
        rule: event.rule.clone(),
        kind: event.kind,
        severity: event.severity,
        summary: event.summary.clone(),
        fired: now,
        resolved: None,
    };
    let added = Effect::Audit(
        "alert_fired",
        format!(
            "{} ({}): {}",
            event.rule,
            event.severity.as_str(),
            event.summary
        ),
    );
    let Some(open) = open else {
        let case = Case {
            id: None,
            household: event.household.clone(),
            opened: now,
            resolved: None,
            alerts: vec![alert],
        };
        return (
            Some(case),
            vec![added, Effect::Notify(NotifyReason::CaseOpened)],
        );
    };
    let already = open
        .active()
        .any(|a| a.rule == event.rule && a.meter_id == event.meter_id);
    if already {
        return (None, Vec::new());
    }
    let before = open.severity();
    let mut case = open.clone();
    case.alerts.push(alert);
    let mut effects = vec![added];
    if case.severity() > before {
        effects.push(Effect::Notify(NotifyReason::SeverityRaised));
    }
    (Some(case), effects)
}

fn resolve(
    open: Option<&Case>,
    event: &AlertEvent,
    now: DateTime<Utc>,
) -> (Option<Case>, Vec<Effect>) {
    let Some(open) = open else {
        return (None, Vec::new());
    };
    let mut case = open.clone();
    let Some(alert) = case
        .alerts
        .iter_mut()
        .find(|a| a.resolved.is_none() && a.rule == event.rule && a.meter_id == event.meter_id)
    else {
        return (None, Vec::new());
    };
    alert.resolved = Some(now);
    let mut effects = vec![Effect::Audit(
        "alert_resolved",
        format!("{}: {}", event.rule, event.summary),
    )];
    if case.active().next().is_none() {
        case.resolved = Some(now);
        effects.push(Effect::Audit(
            "case_resolved",
            "every alert resolved (water use or data resumed)".into(),
        ));
        effects.push(Effect::Notify(NotifyReason::AllClear));
    }
    (Some(case), effects)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, hour, minute, 0).unwrap()
    }

    fn event(rule: &str, kind: Kind, severity: Severity, transition: Transition) -> AlertEvent {
        AlertEvent {
            ts: at(0, 0).fixed_offset(),
            household: "h1".into(),
            meter_id: "m1".into(),
            rule: rule.into(),
            kind,
            event: transition,
            severity,
            summary: format!("{rule} {}", transition.as_str()),
        }
    }

    fn notifications(effects: &[Effect]) -> Vec<NotifyReason> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Notify(reason) => Some(*reason),
                Effect::Audit(..) => None,
            })
            .collect()
    }

    #[test]
    fn the_first_alert_opens_a_case_and_notifies() {
        let fired = event(
            "inactivity",
            Kind::Inactivity,
            Severity::Critical,
            Transition::Fired,
        );
        let (case, effects) = step(None, &fired, at(10, 0));
        let case = case.unwrap();
        assert!(case.is_open());
        assert_eq!(case.severity(), Severity::Critical);
        assert_eq!(notifications(&effects), vec![NotifyReason::CaseOpened]);
    }

    #[test]
    fn a_second_alert_joins_the_open_case_quietly_unless_it_raises_severity() {
        let offline = event(
            "meter_offline",
            Kind::MeterOffline,
            Severity::Warning,
            Transition::Fired,
        );
        let (case, _) = step(None, &offline, at(10, 0));
        let case = case.unwrap();

        let fault = event(
            "meter_fault",
            Kind::MeterFault,
            Severity::Warning,
            Transition::Fired,
        );
        let (joined, effects) = step(Some(&case), &fault, at(10, 5));
        let joined = joined.unwrap();
        assert_eq!(joined.alerts.len(), 2);
        assert!(notifications(&effects).is_empty());

        let burst = event("burst", Kind::Spike, Severity::Critical, Transition::Fired);
        let (raised, effects) = step(Some(&joined), &burst, at(10, 6));
        assert_eq!(raised.unwrap().severity(), Severity::Critical);
        assert_eq!(notifications(&effects), vec![NotifyReason::SeverityRaised]);
    }

    #[test]
    fn the_same_alert_firing_twice_changes_nothing() {
        let fired = event(
            "inactivity",
            Kind::Inactivity,
            Severity::Critical,
            Transition::Fired,
        );
        let (case, _) = step(None, &fired, at(10, 0));
        let (again, effects) = step(case.as_ref(), &fired, at(10, 15));
        assert!(again.is_none());
        assert!(effects.is_empty());
    }

    #[test]
    fn the_case_resolves_with_an_all_clear_only_when_every_alert_has() {
        let a = event(
            "inactivity",
            Kind::Inactivity,
            Severity::Critical,
            Transition::Fired,
        );
        let b = event(
            "meter_fault",
            Kind::MeterFault,
            Severity::Warning,
            Transition::Fired,
        );
        let (case, _) = step(None, &a, at(10, 0));
        let (case, _) = step(case.as_ref(), &b, at(10, 1));
        let case = case.unwrap();

        let a_done = event(
            "inactivity",
            Kind::Inactivity,
            Severity::Critical,
            Transition::Resolved,
        );
        let (case, effects) = step(Some(&case), &a_done, at(11, 0));
        let case = case.unwrap();
        assert!(case.is_open());
        assert!(notifications(&effects).is_empty());

        let b_done = event(
            "meter_fault",
            Kind::MeterFault,
            Severity::Warning,
            Transition::Resolved,
        );
        let (case, effects) = step(Some(&case), &b_done, at(11, 30));
        let case = case.unwrap();
        assert_eq!(case.resolved, Some(at(11, 30)));
        assert_eq!(notifications(&effects), vec![NotifyReason::AllClear]);
    }

    #[test]
    fn a_resolution_without_an_open_case_is_ignored() {
        let done = event(
            "inactivity",
            Kind::Inactivity,
            Severity::Critical,
            Transition::Resolved,
        );
        let (case, effects) = step(None, &done, at(11, 0));
        assert!(case.is_none());
        assert!(effects.is_empty());
    }

    #[test]
    fn an_alert_after_the_case_resolved_opens_a_new_case() {
        let fired = event("burst", Kind::Spike, Severity::Critical, Transition::Fired);
        let done = event(
            "burst",
            Kind::Spike,
            Severity::Critical,
            Transition::Resolved,
        );
        let (case, _) = step(None, &fired, at(10, 0));
        let (closed, _) = step(case.as_ref(), &done, at(10, 15));
        let closed = closed.unwrap();
        let (fresh, effects) = step(Some(&closed), &fired, at(12, 0));
        let fresh = fresh.unwrap();
        assert_eq!(fresh.id, None);
        assert_eq!(fresh.opened, at(12, 0));
        assert_eq!(notifications(&effects), vec![NotifyReason::CaseOpened]);
    }
}
