//! The case lifecycle, pure: `step(case, input, routes, now)` returns the
//! case afterwards and the effects to carry out (who to notify and why, audit
//! lines). One open case per household groups all its alerts.
//!
//! Status is computed from stored facts (`acknowledged`, `closed`), never a
//! separate field; escalation progress is a record of what has been done, so
//! the same tick twice never notifies twice.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use waterwatch_rules::{AlertEvent, Kind, Severity, Transition};

use super::route::{Role, Route};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Why a case was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Fine,
    Away,
    Hospital,
    LateRiser,
    Leak,
    Emergency,
    FalseAlarm,
    Other,
    /// Every alert resolved on its own (water use or data resumed).
    AllClear,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Fine => "fine",
            Reason::Away => "away",
            Reason::Hospital => "hospital",
            Reason::LateRiser => "late_riser",
            Reason::Leak => "leak",
            Reason::Emergency => "emergency",
            Reason::FalseAlarm => "false_alarm",
            Reason::Other => "other",
            Reason::AllClear => "all_clear",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub by: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closure {
    pub at: DateTime<Utc>,
    pub reason: Reason,
    pub by: Option<String>,
    pub note: Option<String>,
}

/// What escalation has done so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub resident_asked: Option<DateTime<Utc>>,
    /// Escalation steps of the current route already sent.
    pub steps_done: usize,
    /// How often a more severe alert moved the case to another route.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reroutes: u32,
    /// When the case took its current route, if not when it opened: the
    /// route's steps count from then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routed: Option<DateTime<Utc>>,
    pub last_notice: Option<DateTime<Utc>>,
    /// Everyone told so far (they get the all-clear).
    pub told: BTreeSet<Role>,
    pub reminders: u32,
    pub visit_overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Row id once stored.
    pub id: Option<i64>,
    pub household: String,
    pub opened: DateTime<Utc>,
    /// The route chosen when the case opened.
    pub route: String,
    pub alerts: Vec<CaseAlert>,
    pub progress: Progress,
    pub acknowledged: Option<Ack>,
    pub closed: Option<Closure>,
}

impl Case {
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    /// Whether a person can still record what they found: water use
    /// closed the case on its own (all clear) at most [`OUTCOME_WINDOW`]
    /// ago. A grid worker who helped the resident and ran the tap before
    /// closing the case can still say it was an emergency.
    pub fn takes_outcome(&self, now: DateTime<Utc>) -> bool {
        self.closed
            .as_ref()
            .is_some_and(|c| c.reason == Reason::AllClear && now - c.at <= OUTCOME_WINDOW)
    }

    /// The highest severity among the case's alerts.
    pub fn severity(&self) -> Severity {
        self.alerts
            .iter()
            .map(|a| a.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    /// The alerts of the case still firing.
    pub fn active(&self) -> impl Iterator<Item = &CaseAlert> {
        self.alerts.iter().filter(|a| a.resolved.is_none())
    }

    /// Everyone told so far but the resident.
    fn told_people(&self) -> Vec<Role> {
        self.progress
            .told
            .iter()
            .copied()
            .filter(|r| *r != Role::Resident)
            .collect()
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Why a notification goes out; logs, payloads and templates say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyReason {
    /// "Are you OK?" to the resident, before anyone else is told.
    ResidentCheck,
    /// The first escalation step of a new case.
    CaseOpened,
    /// A later escalation step: nobody has acknowledged yet.
    Escalated,
    /// Still unacknowledged: everyone told so far, again.
    Reminder,
    /// A more severe alert joined the case.
    SeverityRaised,
    /// Someone acknowledged ("I'm going").
    Acknowledged,
    /// Acknowledged, but not closed within the visit deadline.
    VisitOverdue,
    /// Every alert resolved on its own.
    AllClear,
    /// Closed by a person, with a reason.
    Closed,
    /// A quiet stretch over before its readings arrived (a daily upload):
    /// nobody is paged, the route's first people hear of it outside their
    /// quiet hours.
    SeenLate,
}

impl NotifyReason {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyReason::ResidentCheck => "resident_check",
            NotifyReason::CaseOpened => "case_opened",
            NotifyReason::Escalated => "escalated",
            NotifyReason::Reminder => "reminder",
            NotifyReason::SeverityRaised => "severity_raised",
            NotifyReason::Acknowledged => "acknowledged",
            NotifyReason::VisitOverdue => "visit_overdue",
            NotifyReason::AllClear => "all_clear",
            NotifyReason::Closed => "closed",
            NotifyReason::SeenLate => "seen_late",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Tell these roles of the household, for this reason.
    Notify {
        reason: NotifyReason,
        roles: Vec<Role>,
    },
    /// A line for the case's audit trail: (kind, detail).
    Audit(&'static str, String),
}

/// What happens to a case.
#[derive(Debug, Clone)]
pub enum Input<'a> {
    /// An alert fired or resolved; `route` is the route its rule names, if any.
    Alert {
        event: &'a AlertEvent,
        route: Option<&'a str>,
    },
    /// An inactivity alert that fired and resolved within one batch of
    /// readings (a daily upload, a backlog): over before it could be told.
    /// With no case open, it is kept as a case closed on arrival: nobody
    /// is paged, and the people of the first step of `route` (the route
    /// its rule names, if any) are told it happened, as a non-critical
    /// notice. The daemon sends the two events as `Alert`s when a case is
    /// open.
    SeenLate {
        event: &'a AlertEvent,
        ended: &'a AlertEvent,
        route: Option<&'a str>,
    },
    /// Time passes: escalation steps, reminders, visit deadlines.
    Tick,
    Acknowledge {
        by: &'a str,
        note: Option<&'a str>,
    },
    Close {
        by: &'a str,
        reason: Reason,
        note: Option<&'a str>,
    },
    /// The resident answered "I'm OK".
    ResidentOk,
    /// A notification of this case could not be delivered, for good: if
    /// nobody has acknowledged, the next escalation step goes out now.
    DeliveryFailed,
}

#[cfg(test)]
impl<'a> Input<'a> {
    /// An alert whose rule names no route.
    pub fn alert(event: &'a AlertEvent) -> Input<'a> {
        Input::Alert { event, route: None }
    }
}

/// The route a case follows: by its stored name, else the fallback.
pub fn route_of<'r>(case: &Case, routes: &'r [Route]) -> std::borrow::Cow<'r, Route> {
    match routes.iter().find(|r| r.name == case.route) {
        Some(route) => std::borrow::Cow::Borrowed(route),
        None => std::borrow::Cow::Owned(Route::fallback()),
    }
}

/// Apply one input to the household's case. Returns `None` for the case when
/// nothing changed.
pub fn step(
    case: Option<&Case>,
    input: Input<'_>,
    routes: &[Route],
    now: DateTime<Utc>,
) -> (Option<Case>, Vec<Effect>) {
    let open = case.filter(|c| c.is_open());
    let mut effects = Vec::new();
    let next = match (open, input) {
        (None, Input::Close { by, reason, note })
            if reason != Reason::AllClear && case.is_some_and(|c| c.takes_outcome(now)) =>
        {
            case.map(|c| record_outcome(c, reason, by, note, &mut effects))
        }
        (None, Input::Alert { event, route }) if event.event == Transition::Fired => {
            let route = super::route::choose(routes, route, event.kind, event.severity);
            Some(open_case(event, &route, now, &mut effects))
        }
        (
            None,
            Input::SeenLate {
                event,
                ended,
                route,
            },
        ) => {
            let route = super::route::choose(routes, route, event.kind, event.severity);
            Some(seen_late(event, ended, &route, now, &mut effects))
        }
        (None, _) => None,
        (Some(case), Input::Alert { event, route }) => match event.event {
            Transition::Fired => {
                let route = super::route::choose(routes, route, event.kind, event.severity);
                join(case, event, &route, now, &mut effects)
            }
            Transition::Resolved => resolve_alert(case, event, now, &mut effects),
        },
        (Some(_), Input::SeenLate { .. }) => None,
        (Some(case), Input::Tick) => {
            let mut next = case.clone();
            advance(&mut next, &route_of(case, routes), now, &mut effects);
            (next != *case).then_some(next)
        }
        (Some(case), Input::Acknowledge { by, note }) => {
            if case.acknowledged.is_some() {
                None
            } else {
                let mut next = case.clone();
                next.acknowledged = Some(Ack {
                    by: by.to_owned(),
                    at: now,
                });
                let note = note.map(|n| format!(": {n}")).unwrap_or_default();
                effects.push(Effect::Audit("acknowledged", format!("by {by}{note}")));
                effects.push(Effect::Notify {
                    reason: NotifyReason::Acknowledged,
                    roles: case.told_people(),
                });
                Some(next)
            }
        }
        (Some(case), Input::Close { by, reason, note }) => {
            let mut next = case.clone();
            close(
                &mut next,
                reason,
                Some(by),
                note,
                now,
                NotifyReason::Closed,
                &mut effects,
            );
            Some(next)
        }
        (Some(case), Input::DeliveryFailed) => {
            let route = route_of(case, routes);
            if case.acknowledged.is_some() || case.progress.steps_done >= route.steps.len() {
                None
            } else {
                let mut next = case.clone();
                send_step(&mut next, &route, now, "a delivery failed", &mut effects);
                Some(next)
            }
        }
        (Some(case), Input::ResidentOk) => {
            let mut next = case.clone();
            effects.push(Effect::Audit(
                "resident_ok",
                "the resident confirmed they are fine".into(),
            ));
            close(
                &mut next,
                Reason::Fine,
                Some("resident"),
                None,
                now,
                NotifyReason::Closed,
                &mut effects,
            );
            Some(next)
        }
    };
    (next, effects)
}

/// How long after an all-clear a person can still record what they found.
pub const OUTCOME_WINDOW: chrono::Duration = chrono::Duration::hours(24);

/// A person's reason for a case water use closed on its own: the closure
/// keeps its time and takes the reason; everyone told hears it.
fn record_outcome(
    case: &Case,
    reason: Reason,
    by: &str,
    note: Option<&str>,
    effects: &mut Vec<Effect>,
) -> Case {
    let mut next = case.clone();
    if let Some(closed) = &mut next.closed {
        closed.reason = reason;
        closed.by = Some(by.to_owned());
        closed.note = note.map(str::to_owned);
    }
    announce(&next, "outcome", NotifyReason::Closed, effects);
    next
}

fn close(
    case: &mut Case,
    reason: Reason,
    by: Option<&str>,
    note: Option<&str>,
    now: DateTime<Utc>,
    notice: NotifyReason,
    effects: &mut Vec<Effect>,
) {
    case.closed = Some(Closure {
        at: now,
        reason,
        by: by.map(str::to_owned),
        note: note.map(str::to_owned),
    });
    announce(case, "closed", notice, effects);
}

/// The audit line (`kind`) of a case's closure, and `notice` to everyone
/// told so far.
fn announce(case: &Case, kind: &'static str, notice: NotifyReason, effects: &mut Vec<Effect>) {
    if let Some(closed) = &case.closed {
        let who = closed
            .by
            .as_ref()
            .map(|b| format!(" by {b}"))
            .unwrap_or_default();
        let note = closed
            .note
            .as_ref()
            .map(|n| format!(": {n}"))
            .unwrap_or_default();
        effects.push(Effect::Audit(
            kind,
            format!("{}{who}{note}", closed.reason.as_str()),
        ));
    }
    let told = case.told_people();
    if !told.is_empty() {
        effects.push(Effect::Notify {
            reason: notice,
            roles: told,
        });
    }
}

mod alerts;
mod escalation;
#[cfg(test)]
#[path = "lifecycle_tests.rs"]
mod tests;

use alerts::{join, open_case, resolve_alert, seen_late};
use escalation::{advance, send_step};
