//! A quiet stretch seen only once it was over: kept, closed, nobody paged,
//! the first step of its rule's route told.

use std::time::Duration;

use super::*;

/// The inactivity alert fired and resolved within one batch.
fn over() -> (AlertEvent, AlertEvent) {
    (
        inactivity(Transition::Fired),
        inactivity(Transition::Resolved),
    )
}

fn seen_late<'a>(over: &'a (AlertEvent, AlertEvent), route: Option<&'a str>) -> Input<'a> {
    Input::SeenLate {
        event: &over.0,
        ended: &over.1,
        route,
    }
}

#[test]
fn a_quiet_stretch_seen_only_once_over_is_kept_closed_and_pages_nobody() {
    let routes = urgent();
    let over = over();
    let late = seen_late(&over, None);
    let (case, effects) = step(None, late.clone(), &routes, at(0));
    let case = case.unwrap();
    // No all-clear and no page: the first step's people get a notice
    // (held to the end of their quiet hours, as it is not critical).
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::SeenLate, vec![Role::GridWorker])]
    );
    assert_eq!(case.route, "urgent");
    assert_eq!(case.alerts[0].resolved, Some(at(0)));
    let closed = case.closed.as_ref().unwrap();
    assert_eq!(closed.reason, Reason::AllClear);
    assert!(
        closed
            .note
            .as_deref()
            .is_some_and(|n| n.contains("nobody was paged, grid_worker told")),
        "{closed:?}"
    );
    // What a person found there can still be recorded for a day, and
    // whoever was told hears it.
    assert!(case.takes_outcome(at(60)));
    let found = Input::Close {
        by: "Li Wei",
        reason: Reason::Emergency,
        note: None,
    };
    let (recorded, effects) = step(Some(&case), found, &routes, at(60));
    assert!(recorded.is_some());
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::Closed, vec![Role::GridWorker])]
    );
    // With a case open, the daemon sends the two alerts as they are.
    let (open, _) = step(None, Input::alert(&over.0), &routes, at(0));
    let (none, _) = step(open.as_ref(), late, &routes, at(5));
    assert!(none.is_none());
}

#[test]
fn a_quiet_stretch_seen_late_takes_its_rules_route_and_never_asks_the_resident() {
    let mut routes = urgent();
    routes.push(Route {
        name: "check_in".into(),
        kinds: vec![Kind::Inactivity],
        min_severity: Severity::Info,
        ask_resident: Some(Duration::from_secs(10 * 60)),
        steps: vec![Step {
            after: Duration::ZERO,
            notify: vec![Role::Resident, Role::Family],
        }],
        remind_every: None,
        visit_within: None,
        seen_late: true,
    });
    let over = over();
    let late = seen_late(&over, Some("check_in"));
    let (case, effects) = step(None, late, &routes, at(0));
    assert_eq!(case.unwrap().route, "check_in");
    assert_eq!(
        notices(&effects),
        vec![(NotifyReason::SeenLate, vec![Role::Family])]
    );
    // Nor does a route that says not to, or whose first step is the
    // resident alone.
    routes[1].seen_late = false;
    let late = seen_late(&over, Some("check_in"));
    let (_, effects) = step(None, late, &routes, at(0));
    assert!(notices(&effects).is_empty(), "{effects:?}");
    routes[1].seen_late = true;
    routes[1].steps[0].notify = vec![Role::Resident];
    let late = seen_late(&over, Some("check_in"));
    let (case, effects) = step(None, late, &routes, at(0));
    assert!(notices(&effects).is_empty(), "{effects:?}");
    let note = case.unwrap().closed.unwrap().note.unwrap();
    assert!(note.ends_with("nobody was paged"), "{note}");
}
