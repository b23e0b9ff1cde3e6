//! Households with more than one meter: a hot-water meter beside the cold
//! one is quiet for most of the day while the resident is fine, so water
//! used on any of a household's meters counts for all of them.

mod support;

use support::{Household, METER, Run, assert_between, at, dates, minutes};
use waterwatch_rules::{Reading, Transition};

const HOT: &str = "m-0001-hot";

/// Usual days on the cold meter and a shower at 07:10 on the hot one,
/// for `n` days from 2026-11-01; on the last, nothing after `until`.
fn cold_and_hot(n: i64, until: &str) -> Vec<Reading> {
    let all = dates(n);
    let (mut cold, mut hot) = (Household::new(1000.0), Household::new(500.0));
    for (i, d) in (1..).zip(&all) {
        if i < n {
            cold = cold.normal_day(d);
        } else {
            cold = cold.day_until(d, until);
        }
        hot = hot.uses(&format!("{d} 07:10"), 30.0);
    }
    let last = format!("{} 23:45", all[all.len() - 1]);
    let mut readings = cold.readings("2026-11-01 00:00", &last, minutes(15));
    readings.extend(
        hot.readings("2026-11-01 00:00", &last, minutes(15))
            .into_iter()
            .map(|mut r| {
                r.meter_id = HOT.into();
                r
            }),
    );
    readings.sort_by_key(|r| r.ts);
    readings
}

fn fired(run: &Run) -> Vec<(String, String)> {
    run.events
        .iter()
        .filter(|e| e.rule == "inactivity" && e.event == Transition::Fired)
        .map(|e| (e.meter_id.clone(), e.ts.format("%m-%d %H:%M").to_string()))
        .collect()
}

#[test]
fn a_hot_water_meter_quiet_all_day_beside_a_cold_one_in_use_raises_nothing() {
    let readings = cold_and_hot(30, "23:59");
    let mut run = Run::new();
    run.engine.set_household(METER, "home");
    run.engine.set_household(HOT, "home");
    run.live(&readings);
    assert_eq!(fired(&run), [], "{:?}", run.story());

    // Judged as two households, the hot meter alerted every evening.
    let mut apart = Run::new();
    apart.live(&readings);
    assert_eq!(fired(&apart).len(), 30, "{:?}", apart.story());
}

#[test]
fn when_all_the_households_meters_fall_quiet_the_alert_comes_as_for_one_meter() {
    let readings = cold_and_hot(25, "12:00");
    let mut run = Run::new();
    run.engine.set_household(METER, "home");
    run.engine.set_household(HOT, "home");
    run.live(&readings);
    let mut alone = Run::new();
    alone.live(
        &readings
            .iter()
            .filter(|r| r.meter_id == METER)
            .cloned()
            .collect::<Vec<_>>(),
    );
    let first = |run: &Run| {
        run.events
            .iter()
            .find(|e| e.rule == "inactivity" && e.event == Transition::Fired)
            .map(|e| (e.meter_id.clone(), e.ts))
    };
    assert_eq!(first(&run), first(&alone), "{:?}", run.story());
    let (meter, when) = first(&run).expect("the collapse is found");
    assert_eq!(meter, METER);
    assert_between(when, "2026-11-25 12:15", "2026-11-25 20:00");
}

#[test]
fn a_firing_alert_on_one_meter_resolves_when_another_meter_of_the_household_shows_use() {
    // The hot meter alone for a day: 12 h after the shower it alerts.
    let readings = cold_and_hot(2, "23:59");
    let (hot, cold): (Vec<Reading>, Vec<Reading>) =
        readings.into_iter().partition(|r| r.meter_id == HOT);
    let mut run = Run::new();
    run.engine.set_household(METER, "home");
    run.engine.set_household(HOT, "home");
    let day_one: Vec<Reading> = hot
        .into_iter()
        .filter(|r| r.ts <= at("2026-11-01 19:30"))
        .collect();
    run.live(&day_one);
    assert_eq!(fired(&run), [(HOT.to_owned(), "11-01 19:15".to_owned())]);
    // Then the cold meter's readings of the evening arrive.
    let evening: Vec<Reading> = cold
        .into_iter()
        .filter(|r| r.ts >= at("2026-11-01 19:30") && r.ts <= at("2026-11-01 21:30"))
        .collect();
    run.live(&evening);
    let resolved = run
        .events
        .iter()
        .find(|e| e.meter_id == HOT && e.event == Transition::Resolved)
        .expect("the hot meter's alert resolves");
    assert!(
        resolved
            .summary
            .starts_with("Water used on another of the household's meters at "),
        "{}",
        resolved.summary
    );
}

#[test]
fn a_silent_meter_beside_others_does_not_call_the_resident_unmonitored() {
    // The hot meter stops reporting on the second day; the cold one goes on.
    let readings: Vec<Reading> = cold_and_hot(3, "23:59")
        .into_iter()
        .filter(|r| r.meter_id == METER || r.ts < at("2026-11-02 00:00"))
        .collect();
    let mut run = Run::new();
    run.engine.set_household(METER, "home");
    run.engine.set_household(HOT, "home");
    run.live(&readings);
    let offline = run
        .events
        .iter()
        .find(|e| e.rule == "meter_offline" && e.event == Transition::Fired)
        .expect("the silent meter is offline");
    assert_eq!(offline.meter_id, HOT);
    assert!(
        offline.summary.ends_with(
            "the limit is 3 h beyond that. The household's other meters are still watched."
        ),
        "{}",
        offline.summary
    );
    // Alone in its household, it is.
    let mut alone = Run::new();
    alone.live(&readings);
    let text = &alone
        .events
        .iter()
        .find(|e| e.rule == "meter_offline" && e.event == Transition::Fired)
        .expect("offline")
        .summary;
    assert!(text.ends_with("The resident is unmonitored."), "{text}");
}
