//! Case timelines with a controlled clock.

use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::*;
use crate::case::route::Step;

fn at(minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap() + chrono::Duration::minutes(minute)
}

fn event(rule: &str, kind: Kind, severity: Severity, transition: Transition) -> AlertEvent {
    AlertEvent {
        ts: at(0).fixed_offset(),
        household: "h1".into(),
        meter_id: "m1".into(),
        rule: rule.into(),
        kind,
        event: transition,
        severity,
        summary: format!("{rule} {}", transition.as_str()),
    }
}

fn inactivity(transition: Transition) -> AlertEvent {
    event(
        "inactivity",
        Kind::Inactivity,
        Severity::Critical,
        transition,
    )
}

/// The inactivity alert firing at minute 0 with no case open: the new case.
fn open_at_zero(routes: &[Route]) -> (Option<Case>, Vec<Effect>) {
    step(
        None,
        Input::alert(&inactivity(Transition::Fired)),
        routes,
        at(0),
    )
}

/// The grid worker answers "I'm going".
const LI_WEI_ACKNOWLEDGES: Input<'static> = Input::Acknowledge {
    by: "Li Wei",
    note: None,
};

fn urgent() -> Vec<Route> {
    vec![Route {
        name: "urgent".into(),
        kinds: vec![Kind::Inactivity],
        min_severity: Severity::Critical,
        ask_resident: None,
        steps: vec![
            Step {
                after: Duration::ZERO,
                notify: vec![Role::GridWorker],
            },
            Step {
                after: Duration::from_secs(15 * 60),
                notify: vec![Role::Family, Role::Supervisor],
            },
        ],
        remind_every: Some(Duration::from_secs(30 * 60)),
        visit_within: Some(Duration::from_secs(2 * 3600)),
        seen_late: true,
    }]
}

fn notices(effects: &[Effect]) -> Vec<(NotifyReason, Vec<Role>)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Notify { reason, roles } => Some((*reason, roles.clone())),
            Effect::Audit(..) => None,
        })
        .collect()
}

/// Run ticks every minute from `from` to `to`, collecting notices.
fn run(
    case: &mut Case,
    routes: &[Route],
    from: i64,
    to: i64,
) -> Vec<(i64, NotifyReason, Vec<Role>)> {
    let mut out = Vec::new();
    for minute in from..=to {
        let (next, effects) = step(Some(case), Input::Tick, routes, at(minute));
        if let Some(next) = next {
            *case = next;
        }
        out.extend(
            notices(&effects)
                .into_iter()
                .map(|(r, roles)| (minute, r, roles)),
        );
    }
    out
}

#[test]
fn escalation_goes_step_by_step_then_reminds_until_acknowledged() {
    let routes = urgent();
    let (case, effects) = open_at_zero(&routes);
    let mut case = case.unwrap();
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::CaseOpened, vec![Role::GridWorker])]
    );

    let sent = run(&mut case, &routes, 1, 60);
    assert_eq!(
        sent,
        vec![
            (
                15,
                NotifyReason::Escalated,
                vec![Role::Family, Role::Supervisor]
            ),
            (
                45,
                NotifyReason::Reminder,
                vec![Role::GridWorker, Role::Family, Role::Supervisor]
            ),
        ]
    );

    let (acked, effects) = step(Some(&case), LI_WEI_ACKNOWLEDGES, &routes, at(61));
    let mut case = acked.unwrap();
    assert_eq!(notices(&effects)[0].0, NotifyReason::Acknowledged);
    // No more reminders once someone is going; the visit deadline is 2 h.
    assert!(run(&mut case, &routes, 62, 180).is_empty());
    let sent = run(&mut case, &routes, 181, 240);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].0, 181);
    assert_eq!(sent[0].1, NotifyReason::VisitOverdue);
}

#[test]
fn a_second_acknowledgement_changes_nothing() {
    let routes = urgent();
    let (case, _) = open_at_zero(&routes);
    let (case, _) = step(case.as_ref(), LI_WEI_ACKNOWLEDGES, &routes, at(5));
    let case = case.unwrap();
    let (again, effects) = step(
        Some(&case),
        Input::Acknowledge {
            by: "Zhang",
            note: None,
        },
        &routes,
        at(6),
    );
    assert!(again.is_none());
    assert!(effects.is_empty());
    assert_eq!(case.acknowledged.unwrap().by, "Li Wei");
}

#[test]
fn water_resuming_closes_the_case_with_an_all_clear_to_everyone_told() {
    let routes = urgent();
    let (case, _) = open_at_zero(&routes);
    let mut case = case.unwrap();
    run(&mut case, &routes, 1, 20);
    let (closed, effects) = step(
        Some(&case),
        Input::alert(&inactivity(Transition::Resolved)),
        &routes,
        at(21),
    );
    let closed = closed.unwrap();
    assert_eq!(closed.closed.as_ref().unwrap().reason, Reason::AllClear);
    assert_eq!(
        notices(&effects),
        vec![(
            NotifyReason::AllClear,
            vec![Role::GridWorker, Role::Family, Role::Supervisor]
        )]
    );
    // Closed cases take no more ticks.
    let (after, effects) = step(Some(&closed), Input::Tick, &routes, at(90));
    assert!(after.is_none() && effects.is_empty());
}

#[test]
fn a_case_water_use_closed_takes_what_the_grid_worker_found_for_a_day() {
    // Li Wei is on her way; she helps the resident up and runs the tap
    // before she closes the case, so water use closes it first.
    let routes = urgent();
    let (case, _) = open_at_zero(&routes);
    let (case, _) = step(case.as_ref(), LI_WEI_ACKNOWLEDGES, &routes, at(5));
    let (closed, _) = step(
        case.as_ref(),
        Input::alert(&inactivity(Transition::Resolved)),
        &routes,
        at(40),
    );
    let closed = closed.unwrap();
    let found = |reason| Input::Close {
        by: "Li Wei",
        reason,
        note: Some("found on the floor, ambulance called"),
    };
    let (recorded, effects) = step(Some(&closed), found(Reason::Emergency), &routes, at(60));
    let closure = recorded.unwrap().closed.unwrap();
    assert_eq!(closure.reason, Reason::Emergency);
    assert_eq!(closure.at, at(40), "closed when the water ran");
    assert_eq!(closure.by.as_deref(), Some("Li Wei"));
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::Closed, vec![Role::GridWorker])]
    );
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Audit("outcome", detail) if detail.starts_with("emergency by Li Wei: found on the floor")
    )));
    // Not "all clear" again, and not after a day.
    let (none, _) = step(Some(&closed), found(Reason::AllClear), &routes, at(60));
    assert!(none.is_none());
    let (late, _) = step(
        Some(&closed),
        found(Reason::Emergency),
        &routes,
        at(40 + 24 * 60 + 1),
    );
    assert!(late.is_none());
    // A case a person closed keeps that person's reason.
    let (by_hand, _) = step(case.as_ref(), found(Reason::LateRiser), &routes, at(30));
    let (again, _) = step(by_hand.as_ref(), found(Reason::Emergency), &routes, at(31));
    assert!(again.is_none());
}

#[test]
fn the_resident_answering_stands_the_case_down_before_anyone_else_is_told() {
    let mut routes = urgent();
    routes[0].ask_resident = Some(Duration::from_secs(10 * 60));
    let (case, effects) = open_at_zero(&routes);
    let mut case = case.unwrap();
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::ResidentCheck, vec![Role::Resident])]
    );
    assert!(run(&mut case, &routes, 1, 5).is_empty());
    let (closed, effects) = step(Some(&case), Input::ResidentOk, &routes, at(6));
    assert_eq!(closed.unwrap().closed.unwrap().reason, Reason::Fine);
    assert!(
        notices(&effects).is_empty(),
        "nobody else was told, so nobody needs an all-clear"
    );
}

#[test]
fn a_resident_who_does_not_answer_delays_the_first_step_by_the_wait_only() {
    let mut routes = urgent();
    routes[0].ask_resident = Some(Duration::from_secs(10 * 60));
    let (case, _) = open_at_zero(&routes);
    let mut case = case.unwrap();
    let sent = run(&mut case, &routes, 1, 26);
    assert_eq!(
        sent[0],
        (10, NotifyReason::CaseOpened, vec![Role::GridWorker])
    );
    assert_eq!(sent[1].0, 25);
}

#[test]
fn a_person_closing_the_case_records_the_reason_and_tells_everyone() {
    let routes = urgent();
    let (case, _) = open_at_zero(&routes);
    let close = Input::Close {
        by: "Li Wei",
        reason: Reason::LateRiser,
        note: Some("slept in"),
    };
    let (closed, effects) = step(case.as_ref(), close, &routes, at(30));
    let closure = closed.unwrap().closed.unwrap();
    assert_eq!(closure.reason, Reason::LateRiser);
    assert_eq!(closure.note.as_deref(), Some("slept in"));
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::Closed, vec![Role::GridWorker])]
    );
}

#[test]
fn a_more_severe_alert_joins_the_case_and_says_so_once() {
    let routes = urgent();
    let offline = event(
        "meter_offline",
        Kind::MeterOffline,
        Severity::Warning,
        Transition::Fired,
    );
    let (case, effects) = step(None, Input::alert(&offline), &routes, at(0));
    let case = case.unwrap();
    assert_eq!(case.route, "default");
    assert_eq!(notices(&effects)[0].0, NotifyReason::CaseOpened);
    let burst = event("burst", Kind::Spike, Severity::Critical, Transition::Fired);
    let (joined, effects) = step(Some(&case), Input::alert(&burst), &routes, at(2));
    let joined = joined.unwrap();
    assert_eq!(joined.alerts.len(), 2);
    assert_eq!(
        notices(&effects),
        vec![(
            NotifyReason::SeverityRaised,
            vec![Role::GridWorker, Role::Family]
        )]
    );
    let (again, effects) = step(Some(&joined), Input::alert(&burst), &routes, at(3));
    assert!(again.is_none() && effects.is_empty());
}

#[test]
fn an_alert_after_the_case_closed_opens_a_new_one() {
    let routes = urgent();
    let (case, _) = open_at_zero(&routes);
    let (closed, _) = step(
        case.as_ref(),
        Input::alert(&inactivity(Transition::Resolved)),
        &routes,
        at(5),
    );
    let (fresh, effects) = step(
        closed.as_ref(),
        Input::alert(&inactivity(Transition::Fired)),
        &routes,
        at(60),
    );
    let fresh = fresh.unwrap();
    assert_eq!(fresh.id, None);
    assert_eq!(fresh.opened, at(60));
    assert_eq!(notices(&effects)[0].0, NotifyReason::CaseOpened);
}

#[test]
fn inputs_without_an_open_case_do_nothing() {
    let routes = urgent();
    for input in [
        Input::alert(&inactivity(Transition::Resolved)),
        Input::Tick,
        Input::Acknowledge {
            by: "x",
            note: None,
        },
        Input::ResidentOk,
    ] {
        let (case, effects) = step(None, input, &routes, at(0));
        assert!(case.is_none() && effects.is_empty());
    }
}

#[test]
fn a_failed_delivery_sends_the_next_step_at_once_and_the_timeline_goes_on_from_there() {
    let routes = urgent();
    let (case, _) = open_at_zero(&routes);
    let mut case = case.unwrap();
    // The grid worker's SMS bounced at minute 3: family and supervisor now,
    // not at minute 15.
    let (next, effects) = step(Some(&case), Input::DeliveryFailed, &routes, at(3));
    case = next.expect("escalated");
    assert_eq!(
        notices(&effects),
        vec![(
            NotifyReason::Escalated,
            vec![Role::Family, Role::Supervisor]
        )]
    );
    assert!(effects.iter().any(
        |e| matches!(e, Effect::Audit("escalation", d) if d.contains("early: a delivery failed"))
    ));
    // Nothing again at minute 15; reminders count from the early step.
    let sent = run(&mut case, &routes, 4, 40);
    assert_eq!(
        sent,
        vec![(
            33,
            NotifyReason::Reminder,
            vec![Role::GridWorker, Role::Family, Role::Supervisor]
        )]
    );
    // With every step sent, a further failure has nobody new to tell.
    let (next, effects) = step(Some(&case), Input::DeliveryFailed, &routes, at(41));
    assert!(next.is_none() && effects.is_empty(), "{effects:?}");
}

#[test]
fn a_failed_delivery_after_an_acknowledgement_escalates_nothing() {
    let routes = urgent();
    let (case, _) = open_at_zero(&routes);
    let (acked, _) = step(case.as_ref(), LI_WEI_ACKNOWLEDGES, &routes, at(1));
    let (next, effects) = step(acked.as_ref(), Input::DeliveryFailed, &routes, at(2));
    assert!(next.is_none() && effects.is_empty(), "{effects:?}");
}

#[path = "lifecycle/routing_tests.rs"]
mod routing;
#[path = "lifecycle/seen_late_tests.rs"]
mod seen_late;
