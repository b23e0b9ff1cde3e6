//! Alerts joining and leaving a case: a fired alert opens one (asking the
//! resident first when its route says so) or joins the open one, moving it
//! to a more severe alert's route; a resolved alert closes the case when it
//! was the last.

use chrono::{DateTime, Utc};
use waterwatch_rules::AlertEvent;

use super::escalation::advance;
use super::{Case, CaseAlert, Effect, NotifyReason, Progress, Reason, close};
use crate::case::route::{Role, Route};

pub(super) fn open_case(
    event: &AlertEvent,
    route: &Route,
    now: DateTime<Utc>,
    effects: &mut Vec<Effect>,
) -> Case {
    let mut case = Case {
        id: None,
        household: event.household.clone(),
        opened: now,
        route: route.name.clone(),
        alerts: vec![alert_of(event, now)],
        progress: Progress::default(),
        acknowledged: None,
        closed: None,
    };
    effects.push(Effect::Audit(
        "opened",
        format!("{}; route {}", fired_text(event), route.name),
    ));
    if route.ask_resident.is_some() {
        ask_resident(&mut case, now, effects);
    }
    advance(&mut case, route, now, effects);
    case
}

/// An inactivity alert seen only once it was over: it fired and resolved
/// within one batch of readings, so water has run since. Paging anyone
/// about a quiet stretch that ended hours ago (a daily upload at 02:00
/// reporting yesterday's outing) would wake the grid worker for nothing;
/// the case is kept, closed as all clear, and a person can still give it
/// a reason for a day. The people of the route's first step (never the
/// resident) are told it happened, as a notice that waits for the end of
/// their quiet hours: a resident who went half a day without water may
/// have fallen and got up, and whoever visits next should know.
pub(super) fn seen_late(
    event: &AlertEvent,
    ended: &AlertEvent,
    route: &Route,
    now: DateTime<Utc>,
    effects: &mut Vec<Effect>,
) -> Case {
    let mut alert = alert_of(event, now);
    alert.resolved = Some(now);
    let mut case = Case {
        id: None,
        household: event.household.clone(),
        opened: now,
        route: route.name.clone(),
        alerts: vec![alert],
        progress: Progress::default(),
        acknowledged: None,
        closed: None,
    };
    effects.push(Effect::Audit(
        "opened",
        format!(
            "{}; route {}; seen late: it ended before its readings arrived",
            fired_text(event),
            route.name
        ),
    ));
    effects.push(Effect::Audit(
        "alert_resolved",
        format!("{}: {}", ended.rule, ended.summary),
    ));
    let roles: Vec<Role> = (route.seen_late.then(|| route.steps.first()))
        .flatten()
        .map(|step| {
            let others = step.notify.iter().filter(|&&r| r != Role::Resident);
            others.copied().collect()
        })
        .unwrap_or_default();
    let note = if roles.is_empty() {
        "seen late: over before its readings arrived; nobody was paged".to_owned()
    } else {
        format!(
            "seen late: over before its readings arrived; nobody was paged, {} told outside quiet hours",
            crate::case::roles_text(&roles)
        )
    };
    // Closed before anyone is told, so no all-clear goes out with it.
    close(
        &mut case,
        Reason::AllClear,
        None,
        Some(&note),
        now,
        NotifyReason::AllClear,
        effects,
    );
    if !roles.is_empty() {
        // They hear what a person later records about it.
        case.progress.told.extend(roles.iter().copied());
        case.progress.last_notice = Some(now);
        effects.push(Effect::Notify {
            reason: NotifyReason::SeenLate,
            roles,
        });
    }
    case
}

/// "Are you OK?" to the resident, before anyone else is told.
fn ask_resident(case: &mut Case, now: DateTime<Utc>, effects: &mut Vec<Effect>) {
    case.progress.resident_asked = Some(now);
    case.progress.told.insert(Role::Resident);
    case.progress.last_notice = Some(now);
    effects.push(Effect::Notify {
        reason: NotifyReason::ResidentCheck,
        roles: vec![Role::Resident],
    });
}

fn alert_of(event: &AlertEvent, now: DateTime<Utc>) -> CaseAlert {
    CaseAlert {
        id: None,
        meter_id: event.meter_id.clone(),
        rule: event.rule.clone(),
        kind: event.kind,
        severity: event.severity,
        summary: event.summary.clone(),
        fired: now,
        resolved: None,
    }
}

/// A fired alert joins the open case. When it makes the case more severe
/// and would take another route (a check-in route gives way to an urgent
/// one), the case follows that route from now on: its steps go out as if
/// the case had opened now, and the resident is not asked twice.
pub(super) fn join(
    case: &Case,
    event: &AlertEvent,
    route: &Route,
    now: DateTime<Utc>,
    effects: &mut Vec<Effect>,
) -> Option<Case> {
    let already = case
        .active()
        .any(|a| a.rule == event.rule && a.meter_id == event.meter_id);
    if already {
        return None;
    }
    let before = case.severity();
    let mut next = case.clone();
    next.alerts.push(alert_of(event, now));
    effects.push(Effect::Audit("alert_fired", fired_text(event)));
    if next.severity() <= before {
        return Some(next);
    }
    let mut told_now = Vec::new();
    if route.name != case.route && case.acknowledged.is_none() {
        effects.push(Effect::Audit(
            "rerouted",
            format!(
                "from route {} to route {}: {} is {}",
                case.route,
                route.name,
                event.rule,
                event.severity.as_str()
            ),
        ));
        next.route = route.name.clone();
        next.progress.reroutes += 1;
        next.progress.routed = Some(now);
        next.progress.steps_done = 0;
        if route.ask_resident.is_some() && next.progress.resident_asked.is_none() {
            ask_resident(&mut next, now, effects);
        }
        let first = effects.len();
        advance(&mut next, route, now, effects);
        told_now = notified(&effects[first..]);
    }
    // Whoever was told before hears it got worse, unless a step just told them.
    let roles: Vec<Role> = case
        .told_people()
        .into_iter()
        .filter(|r| !told_now.contains(r))
        .collect();
    if !roles.is_empty() {
        effects.push(Effect::Notify {
            reason: NotifyReason::SeverityRaised,
            roles,
        });
    }
    Some(next)
}

/// Every role these effects notify.
fn notified(effects: &[Effect]) -> Vec<Role> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify { roles, .. } => Some(roles.iter().copied()),
            Effect::Audit(..) => None,
        })
        .flatten()
        .collect()
}

pub(super) fn resolve_alert(
    case: &Case,
    event: &AlertEvent,
    now: DateTime<Utc>,
    effects: &mut Vec<Effect>,
) -> Option<Case> {
    let mut next = case.clone();
    let alert = next
        .alerts
        .iter_mut()
        .find(|a| a.resolved.is_none() && a.rule == event.rule && a.meter_id == event.meter_id)?;
    alert.resolved = Some(now);
    effects.push(Effect::Audit(
        "alert_resolved",
        format!("{}: {}", event.rule, event.summary),
    ));
    if next.active().next().is_none() {
        close(
            &mut next,
            Reason::AllClear,
            None,
            None,
            now,
            NotifyReason::AllClear,
            effects,
        );
    }
    Some(next)
}

/// `rule (severity): summary`, as the audit trail says a fired alert.
fn fired_text(event: &AlertEvent) -> String {
    format!(
        "{} ({}): {}",
        event.rule,
        event.severity.as_str(),
        event.summary
    )
}
