//! Escalation: what a case's route says is due at a given time — the next
//! step, a reminder, or the supervisor when a visit is overdue — recorded in
//! the case's progress so the same tick twice never notifies twice.

use chrono::{DateTime, Utc};

use super::{Case, Effect, NotifyReason};
use crate::case::route::{Role, Route};

/// Send whatever escalation is due at `now`.
pub(super) fn advance(
    case: &mut Case,
    route: &Route,
    now: DateTime<Utc>,
    effects: &mut Vec<Effect>,
) {
    if !case.is_open() {
        return;
    }
    if let Some(ack) = &case.acknowledged {
        let overdue = route
            .visit_within
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .is_some_and(|d| now >= ack.at + d);
        if overdue && !case.progress.visit_overdue {
            case.progress.visit_overdue = true;
            let mut roles = case.told_people();
            if !roles.contains(&Role::Supervisor) {
                roles.push(Role::Supervisor);
            }
            case.progress.told.extend(roles.iter().copied());
            effects.push(Effect::Audit(
                "visit_overdue",
                format!("acknowledged by {} at {}, still open", ack.by, ack.at),
            ));
            effects.push(Effect::Notify {
                reason: NotifyReason::VisitOverdue,
                roles,
            });
        }
        return;
    }
    // Steps count from when the case took this route, or from the end of
    // the resident's chance to answer.
    let routed = case.progress.routed.unwrap_or(case.opened);
    let base = match (route.ask_resident, case.progress.resident_asked) {
        (Some(wait), Some(asked)) => {
            routed.max(asked + chrono::Duration::from_std(wait).unwrap_or_default())
        }
        _ => routed,
    };
    if now < base {
        return;
    }
    while let Some(step) = route.steps.get(case.progress.steps_done) {
        let due = base + chrono::Duration::from_std(step.after).unwrap_or_default();
        if now < due {
            break;
        }
        send_step(case, route, now, "", effects);
    }
    let all_steps_sent = case.progress.steps_done >= route.steps.len();
    if let (true, Some(every), Some(last)) = (
        all_steps_sent,
        route.remind_every,
        case.progress.last_notice,
    ) && now >= last + chrono::Duration::from_std(every).unwrap_or_default()
    {
        case.progress.reminders += 1;
        case.progress.last_notice = Some(now);
        effects.push(Effect::Audit(
            "reminder",
            format!("reminder {}", case.progress.reminders),
        ));
        effects.push(Effect::Notify {
            reason: NotifyReason::Reminder,
            roles: case.told_people(),
        });
    }
}

/// Send the next escalation step of the route now; `why` is said in the
/// audit trail when it is not the step's time that sent it.
pub(super) fn send_step(
    case: &mut Case,
    route: &Route,
    now: DateTime<Utc>,
    why: &str,
    effects: &mut Vec<Effect>,
) {
    let Some(step) = route.steps.get(case.progress.steps_done) else {
        return;
    };
    let reason = if case.progress.steps_done == 0 {
        NotifyReason::CaseOpened
    } else {
        NotifyReason::Escalated
    };
    case.progress.steps_done += 1;
    case.progress.told.extend(step.notify.iter().copied());
    case.progress.last_notice = Some(now);
    let why = if why.is_empty() {
        String::new()
    } else {
        format!(" (early: {why})")
    };
    effects.push(Effect::Audit(
        "escalation",
        format!(
            "step {} of route {}: {}{why}",
            case.progress.steps_done,
            route.name,
            crate::case::roles_text(&step.notify)
        ),
    ));
    effects.push(Effect::Notify {
        reason,
        roles: step.notify.clone(),
    });
}
