//! A person reports that the resident was in need (`Engine::confirm_incident`,
//! a case closed as an emergency or a hospital stay): the quiet stretch of the
//! incident must not make the next one look usual.

mod support;

use support::{Household, METER, Run, assert_between, at, dates, minutes};
use waterwatch_rules::{Engine, MeterState, RuleSet};

const HOURLY: &[&str] = &[
    "07:00", "08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00",
    "17:00", "18:00", "19:00", "20:00", "21:00", "22:00",
];
const MORNING: &[&str] = &["07:00", "08:00", "09:00", "10:00", "11:00", "12:00"];
const EVENING: &[&str] = &["18:00", "19:00", "20:00", "21:00", "22:00"];

/// Three weeks at home all day; on day 22 (2026-11-22) a fall after the
/// 12:00 use, found at 18:00; usual days after; on day 26 (2026-11-26)
/// another fall after 12:00. Readings every 15 minutes.
fn two_falls_by_day() -> Household {
    let all = dates(26);
    let mut h = Household::new(1000.0);
    for (i, d) in all.iter().enumerate() {
        h = match i {
            21 => h.uses_at(d, MORNING).uses_at(d, EVENING),
            25 => h.uses_at(d, MORNING),
            _ => h.uses_at(d, HOURLY),
        };
    }
    h
}

/// Feeds `h` from 2026-11-01 to `until`, confirming an incident at each
/// of `incidents` (local times) as the daemon would when a case closes.
fn run(h: &Household, until: &str, incidents: &[&str]) -> Run {
    let mut run = Run::new();
    let readings = h.readings("2026-11-01 00:00", until, minutes(15));
    for r in &readings {
        for &when in incidents {
            if r.ts == at(when) {
                run.engine.confirm_incident(METER);
            }
        }
        run.tick_until(r.ts);
        run.observe(r, r.ts);
    }
    run
}

#[test]
fn a_fall_confirmed_after_water_ran_again_does_not_delay_the_next_one() {
    let h = two_falls_by_day();
    let forgotten = run(&h, "2026-11-26 23:45", &["2026-11-22 19:00"]);
    let fired = forgotten.fired("inactivity");
    assert_eq!(fired.len(), 2, "{:?}", forgotten.story());
    assert_between(fired[0], "2026-11-22 14:45", "2026-11-22 16:00");
    assert_between(fired[1], "2026-11-26 14:45", "2026-11-26 16:00");

    // Unconfirmed, the first fall's six hours from noon became usual.
    let learned = run(&h, "2026-11-26 23:45", &[]);
    let fired = learned.fired("inactivity");
    assert_eq!(fired.len(), 2, "{:?}", learned.story());
    assert!(fired[1] > at("2026-11-26 18:00"), "{:?}", learned.story());
}

#[test]
fn a_fall_confirmed_days_later_is_taken_back_as_decayed_and_after_three_days_not_at_all() {
    let h = two_falls_by_day();
    // Two days with use closed since: still taken back.
    let late = run(&h, "2026-11-26 23:45", &["2026-11-24 12:00"]);
    let fired = late.fired("inactivity");
    assert_eq!(fired.len(), 2, "{:?}", late.story());
    assert_between(fired[1], "2026-11-26 14:45", "2026-11-26 16:00");
    // Three days with use closed since: kept as learned.
    let mut too_late = run(&h, "2026-11-25 12:00", &[]);
    assert!(!too_late.engine.confirm_incident(METER));
    // And a stretch no alert fired on is never taken back.
    let mut quiet = run(&h, "2026-11-20 12:00", &[]);
    assert!(!quiet.engine.confirm_incident(METER));
}

/// Up at 07:00 for three weeks; on 2026-11-22 no water after 22:00 the
/// night before until a helper runs it at 11:30; usual days after; on
/// 2026-11-26 no water after 22:00 the night before.
fn two_falls_by_night() -> Household {
    let all = dates(26);
    let mut h = Household::new(1000.0);
    for (i, d) in all.iter().enumerate() {
        h = match i {
            21 => h.uses_at(d, &["11:30"]).uses_at(d, &HOURLY[5..]),
            25 => h,
            _ => h.uses_at(d, HOURLY),
        };
    }
    h
}

#[test]
fn a_night_fall_confirmed_while_the_quiet_goes_on_teaches_no_late_morning() {
    let h = two_falls_by_night();
    // The case is closed as an emergency at 10:30, before water runs.
    let confirmed = run(&h, "2026-11-26 23:45", &["2026-11-22 10:30"]);
    let fired = confirmed.fired("inactivity");
    assert_eq!(fired.len(), 2, "{:?}", confirmed.story());
    assert_between(fired[0], "2026-11-22 09:00", "2026-11-22 09:45");
    assert_between(fired[1], "2026-11-26 09:00", "2026-11-26 09:45");

    // Unconfirmed, the 13 h 30 min from 22:00 became usual (and 11:30 a
    // usual morning): the second fall waits for the 12 h cap.
    let learned = run(&h, "2026-11-26 23:45", &[]);
    let fired = learned.fired("inactivity");
    assert_eq!(fired.len(), 2, "{:?}", learned.story());
    assert!(fired[1] >= at("2026-11-26 10:00"), "{:?}", learned.story());
}

#[test]
fn a_stretch_kept_aside_survives_a_restart() {
    let h = two_falls_by_day();
    let mut before = run(&h, "2026-11-22 20:00", &[]);
    let state = before.engine.meter_state(METER).unwrap();
    assert!(state.baseline().alerted().is_some());
    let json = serde_json::to_string(&state).unwrap();
    let mut restarted = Engine::new(RuleSet::default_rules());
    restarted.restore_meter(METER, serde_json::from_str::<MeterState>(&json).unwrap());
    assert!(restarted.confirm_incident(METER));
    assert!(before.engine.confirm_incident(METER));
    assert_eq!(
        restarted
            .meter_state(METER)
            .map(|s| serde_json::to_string(&s).unwrap()),
        before
            .engine
            .meter_state(METER)
            .map(|s| serde_json::to_string(&s).unwrap())
    );
}
