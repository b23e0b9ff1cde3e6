//! Which route a case follows: the one its rule names, and a more severe
//! alert's when it joins.

use std::time::Duration;

use super::*;

/// `urgent()` after a check-in route: ask the resident, then the family.
fn check_in_then_urgent() -> Vec<Route> {
    let mut routes = vec![Route {
        name: "check_in".into(),
        kinds: vec![Kind::Inactivity],
        min_severity: Severity::Info,
        ask_resident: Some(Duration::from_secs(20 * 60)),
        steps: vec![Step {
            after: Duration::ZERO,
            notify: vec![Role::Family],
        }],
        remind_every: None,
        visit_within: None,
        seen_late: true,
    }];
    routes.extend(urgent());
    routes
}

fn check_in(transition: Transition) -> AlertEvent {
    event(
        "inactivity_check",
        Kind::Inactivity,
        Severity::Info,
        transition,
    )
}

#[test]
fn a_rule_that_names_a_route_takes_it_whatever_its_kind_and_severity() {
    let routes = check_in_then_urgent();
    let fired = inactivity(Transition::Fired);
    let (case, effects) = step(
        None,
        Input::Alert {
            event: &fired,
            route: Some("check_in"),
        },
        &routes,
        at(0),
    );
    assert_eq!(case.unwrap().route, "check_in");
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::ResidentCheck, vec![Role::Resident])]
    );
    // Without a name, the first route that takes it: critical inactivity
    // is taken by check_in too (it takes every severity), so order matters.
    let (case, _) = step(None, Input::alert(&fired), &urgent(), at(0));
    assert_eq!(case.unwrap().route, "urgent");
    // A name that is not a route (a rule renamed since) falls back to the match.
    let (case, _) = step(
        None,
        Input::Alert {
            event: &fired,
            route: Some("gone"),
        },
        &urgent(),
        at(0),
    );
    assert_eq!(case.unwrap().route, "urgent");
}

#[test]
fn a_more_severe_alert_moves_the_case_to_its_route_at_once() {
    let routes = check_in_then_urgent();
    let first = check_in(Transition::Fired);
    let (case, _) = step(
        None,
        Input::Alert {
            event: &first,
            route: Some("check_in"),
        },
        &routes,
        at(0),
    );
    let mut case = case.unwrap();
    // The resident does not answer: the family is told after 20 minutes.
    let sent = run(&mut case, &routes, 1, 30);
    assert_eq!(
        sent,
        vec![(20, NotifyReason::CaseOpened, vec![Role::Family])]
    );

    // Two hours on, the urgent rule fires: the grid worker is sent now (the
    // resident was asked already), the family hears it got worse.
    let worse = inactivity(Transition::Fired);
    let (next, effects) = step(
        Some(&case),
        Input::Alert {
            event: &worse,
            route: Some("urgent"),
        },
        &routes,
        at(120),
    );
    let mut case = next.unwrap();
    assert_eq!(case.route, "urgent");
    assert_eq!(case.progress.reroutes, 1);
    assert_eq!(
        notices(&effects),
        vec![
            (NotifyReason::CaseOpened, vec![Role::GridWorker]),
            (NotifyReason::SeverityRaised, vec![Role::Family]),
        ]
    );
    // The urgent route's later steps count from the move, not the opening.
    let sent = run(&mut case, &routes, 121, 140);
    assert_eq!(
        sent,
        vec![(
            135,
            NotifyReason::Escalated,
            vec![Role::Family, Role::Supervisor]
        )]
    );
}

#[test]
fn a_case_moved_to_a_route_that_asks_the_resident_asks_only_once() {
    let mut routes = check_in_then_urgent();
    routes[1].ask_resident = Some(Duration::from_secs(10 * 60));
    let first = check_in(Transition::Fired);
    let (case, _) = step(None, Input::alert(&first), &routes, at(0));
    let case = case.unwrap();
    assert_eq!(case.route, "check_in");
    let worse = inactivity(Transition::Fired);
    let (next, effects) = step(Some(&case), Input::alert(&worse), &routes[1..], at(5));
    // Taken by urgent (check_in is not in the list given): the resident,
    // asked 5 minutes ago, is not asked again; urgent's 10 minutes for an
    // answer count from that question.
    let mut case = next.unwrap();
    assert_eq!(case.route, "urgent");
    assert!(notices(&effects).is_empty(), "{effects:?}");
    let sent = run(&mut case, &routes, 6, 10);
    assert_eq!(
        sent,
        vec![(10, NotifyReason::CaseOpened, vec![Role::GridWorker])]
    );
}

#[test]
fn an_alert_no_more_severe_or_an_acknowledged_case_keeps_its_route() {
    let routes = check_in_then_urgent();
    let critical = inactivity(Transition::Fired);
    let (case, _) = step(None, Input::alert(&critical), &urgent(), at(0));
    let case = case.unwrap();
    let milder = check_in(Transition::Fired);
    let (next, effects) = step(
        Some(&case),
        Input::Alert {
            event: &milder,
            route: Some("check_in"),
        },
        &routes,
        at(5),
    );
    assert_eq!(next.unwrap().route, "urgent");
    assert!(notices(&effects).is_empty());

    // Acknowledged: someone is going; they hear it got worse, nothing else.
    let (case, _) = step(None, Input::alert(&milder), &routes, at(0));
    let (acked, _) = step(case.as_ref(), LI_WEI_ACKNOWLEDGES, &routes, at(1));
    let mut acked = acked.unwrap();
    acked.progress.told.insert(Role::GridWorker);
    let (next, effects) = step(
        Some(&acked),
        Input::Alert {
            event: &critical,
            route: Some("urgent"),
        },
        &routes,
        at(2),
    );
    assert_eq!(next.unwrap().route, "check_in");
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::SeverityRaised, vec![Role::GridWorker])]
    );
}
