//! A meter replaced by another in the same home (`Engine::replace_meter`):
//! the new meter watches with what the old one learned, the old one is
//! watched no more.

mod support;

use support::{Household, METER, Run, assert_between, at, dates, minutes};
use waterwatch_rules::{Kind, Reading, Transition};

const NEW: &str = "m-0002";
const HOURLY: &[&str] = &[
    "07:00", "08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00",
    "17:00", "18:00", "19:00", "20:00", "21:00", "22:00",
];
const MORNING: &[&str] = &["07:00", "08:00", "09:00", "10:00", "11:00", "12:00"];

/// Three weeks and three days at home all day, water every hour from 07:00
/// to 22:00; on 2026-11-25 a fall after the 12:00 use.
fn home() -> Household {
    let all = dates(25);
    all.iter()
        .enumerate()
        .fold(Household::new(1000.0), |h, (i, d)| {
            h.uses_at(d, if i == 24 { MORNING } else { HOURLY })
        })
}

/// The old meter's readings up to 10:30 on the day of the swap, the new
/// one's (its register starting at zero) from 11:00 to `until`.
fn swapped(h: &Household, until: &str) -> (Vec<Reading>, Vec<Reading>) {
    let old = h.readings("2026-11-01 00:00", "2026-11-25 10:30", minutes(15));
    let fitted = h.register(at("2026-11-25 10:45"));
    let new = h
        .readings("2026-11-25 11:00", until, minutes(15))
        .into_iter()
        .map(|r| Reading {
            meter_id: NEW.to_owned(),
            total_l: r.total_l - fitted,
            ..r
        })
        .collect();
    (old, new)
}

/// The swap as the daemon sees it: the old meter's readings, the new one
/// replacing it at 10:50 (when `replace` is set; otherwise the new meter
/// is merely another meter of the home), then the new one's readings.
fn run(replace: bool) -> Run {
    let (old, new) = swapped(&home(), "2026-11-26 06:00");
    let mut run = Run::new();
    run.engine.set_household(METER, "h-1");
    run.engine.set_household(NEW, "h-1");
    run.live(&old);
    run.tick_until(at("2026-11-25 10:50"));
    if replace {
        let events = run.engine.replace_meter(METER, NEW, at("2026-11-25 10:50"));
        run.events.extend(events);
    }
    run.live(&new);
    run
}

#[test]
fn the_new_meter_finds_a_fall_on_its_first_day_as_the_old_one_would() {
    let run = run(true);
    let fired: Vec<_> = run
        .events
        .iter()
        .filter(|e| e.kind == Kind::Inactivity && e.event == Transition::Fired)
        .collect();
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_eq!(fired[0].meter_id, NEW);
    // Water every hour for three weeks: a few hours' quiet is news.
    assert_between(fired[0].ts, "2026-11-25 14:45", "2026-11-25 16:00");
    assert!(
        fired[0].summary.contains("On a usual day"),
        "{}",
        fired[0].summary
    );
    assert!(!run.engine.learning(NEW));
}

#[test]
fn without_the_replacement_the_new_meter_learns_from_scratch_and_finds_it_at_midnight() {
    // The old meter left silent beside it is offline, and its history says
    // nothing to the new one: the fixed 12 h fallback, ten hours late.
    let run = run(false);
    let fired = run.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], "2026-11-26 00:00", "2026-11-26 00:15");
    assert!(run.engine.learning(NEW));
}

#[test]
fn the_old_meter_is_watched_no_more_and_its_offline_alert_resolves_saying_why() {
    let (old, _) = swapped(&home(), "2026-11-26 06:00");
    let mut run = Run::new();
    run.live(&old);
    // The plumber took an hour and a half; then the swap is recorded.
    run.tick_until(at("2026-11-25 15:00"));
    assert_eq!(run.fired("meter_offline").len(), 1, "{:?}", run.story());
    let events = run.engine.replace_meter(METER, NEW, at("2026-11-25 15:05"));
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].rule, "meter_offline");
    assert_eq!(events[0].event, Transition::Resolved);
    assert_eq!(events[0].household, METER);
    assert!(
        events[0].summary.contains("replaced by m-0002"),
        "{}",
        events[0].summary
    );
    run.events.extend(events);
    // The new meter, never heard from, has learned the household and is
    // expected from now; the old one draws nothing more.
    assert!(!run.engine.learning(NEW));
    run.tick_until(at("2026-11-27 15:00"));
    let offline: Vec<_> = run
        .events
        .iter()
        .filter(|e| e.rule == "meter_offline" && e.event == Transition::Fired)
        .map(|e| e.meter_id.as_str())
        .collect();
    assert_eq!(offline, [METER, NEW], "{:?}", run.story());
    assert!(run.engine.state(METER).is_none());
    assert_eq!(run.engine.meters().collect::<Vec<_>>(), [NEW]);
}

#[test]
fn a_new_meter_that_has_learned_more_keeps_its_own_rhythm() {
    let (old, _) = swapped(&home(), "2026-11-26 06:00");
    let mut run = Run::new();
    run.live(&old);
    let mut young = Run::new();
    young.live(&old[..4 * 24 * 2]);
    let young = young.engine.meter_state(METER).unwrap();
    assert!(young.baseline().days() < 24);
    // Recorded the wrong way round: the meter with 24 days is the "new" one.
    run.engine.restore_meter(NEW, young);
    let own = run.engine.state(METER).unwrap().clone();
    run.engine.replace_meter(NEW, METER, at("2026-11-25 10:50"));
    assert_eq!(run.engine.state(METER), Some(&own));
    assert!(run.engine.state(NEW).is_none());
}

#[test]
fn a_swap_does_not_resolve_an_alert_about_the_household() {
    // The fall is found on the old meter; the meter is swapped before
    // anyone has closed the case. Nothing shows the resident is fine.
    let old = home().readings("2026-11-01 00:00", "2026-11-25 17:00", minutes(15));
    let mut run = Run::new();
    run.live(&old);
    assert_eq!(run.fired("inactivity").len(), 1, "{:?}", run.story());
    let events = run.engine.replace_meter(METER, NEW, at("2026-11-25 17:05"));
    assert!(events.is_empty(), "{events:?}");
    assert!(run.engine.state(METER).is_none());
}

#[test]
fn a_new_meter_that_never_comes_online_is_reported_offline() {
    // The old meter reported every 15 minutes; the swap is recorded at
    // 10:50 and the new meter never sends anything.
    let (old, new) = swapped(&home(), "2026-11-26 06:00");
    let mut run = Run::new();
    run.live(&old);
    run.tick_until(at("2026-11-25 10:50"));
    run.engine.replace_meter(METER, NEW, at("2026-11-25 10:50"));
    run.tick_until(at("2026-11-25 18:00"));
    let offline: Vec<_> = run
        .events
        .iter()
        .filter(|e| e.rule == "meter_offline")
        .collect();
    assert_eq!(offline.len(), 1, "{:?}", run.story());
    assert_eq!(offline[0].meter_id, NEW);
    // 3 h past the old meter's 15 minutes, at the next tick.
    assert_between(offline[0].ts, "2026-11-25 14:05", "2026-11-25 14:15");
    assert!(
        offline[0]
            .summary
            .starts_with("No data from this meter since it replaced the old one at 10:50 (3 h 25 min); the old one reported every 15 min"),
        "{}",
        offline[0].summary
    );

    // One that comes online in time draws nothing, and is then expected
    // at its own pace.
    let mut run = Run::new();
    run.live(&old);
    run.tick_until(at("2026-11-25 10:50"));
    run.engine.replace_meter(METER, NEW, at("2026-11-25 10:50"));
    run.live(&new);
    assert!(run.fired("meter_offline").is_empty(), "{:?}", run.story());
}

#[test]
fn a_listed_meter_never_heard_from_is_reported_offline() {
    let mut run = Run::new();
    run.engine.set_household(NEW, "h-1");
    run.tick_until(at("2026-11-25 09:00"));
    run.engine.expect_meter(NEW, at("2026-11-25 09:00"));
    run.tick_until(at("2026-11-25 13:00"));
    let story = run.story();
    assert_eq!(
        story,
        [
            "meter_offline fired 11-25 12:15: Never heard from this meter, expected since 09:00 (3 h 15 min): check its id in the configuration and its connection. The resident is unmonitored."
        ],
    );
    // Its first reading resolves it; a meter heard from is not reset.
    let first = support::reading(at("2026-11-25 13:00"), 0.0);
    run.observe(
        &Reading {
            meter_id: NEW.to_owned(),
            ..first
        },
        at("2026-11-25 13:00"),
    );
    run.tick_until(at("2026-11-25 13:15"));
    assert_eq!(run.resolved("meter_offline").len(), 1, "{:?}", run.story());
    run.engine.expect_meter(NEW, at("2026-11-25 13:20"));
    run.tick_until(at("2026-11-25 16:30"));
    assert_eq!(
        run.fired("meter_offline").len(),
        2,
        "silent again from 13:00"
    );
    assert_eq!(run.events[1].summary, "First data from this meter.");
}
