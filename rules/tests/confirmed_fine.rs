//! A person confirms the resident fine while the quiet goes on (the
//! resident answers "I'm OK", or a grid worker who checked closes the case):
//! the inactivity alert resolves and fires again if the quiet goes on, and
//! a confirmation never makes an alert fire sooner than it would have.

mod support;

use support::{Household, METER, Run, at, minutes};
use waterwatch_rules::{Engine, MeterState, Reading, RuleSet};

const DAY1: &str = "2026-11-24";

/// Used water until 07:00 on day 1, then nothing.
fn quiet_from_seven() -> Household {
    Household::new(5000.0).day_until(DAY1, "07:00")
}

/// `home`'s 15-minute readings from 06:00 on day 1 to `until`: those up to
/// `split`, and those after it.
fn readings_split(home: &Household, split: &str, until: &str) -> (Vec<Reading>, Vec<Reading>) {
    home.readings("2026-11-24 06:00", until, minutes(15))
        .into_iter()
        .partition(|r| r.ts <= at(split))
}

#[test]
fn a_confirmation_resolves_the_alert_and_the_quiet_after_it_fires_it_again() {
    let (before, after) =
        readings_split(&quiet_from_seven(), "2026-11-24 19:15", "2026-11-25 09:00");
    let mut run = Run::new();
    run.live(&before);
    // The grid worker visited, found her fine, and closed the case at 19:20.
    assert_eq!(run.confirm_fine(METER, at("2026-11-24 19:20")), 1);
    run.live(&after);
    assert_eq!(
        run.story(),
        [
            "inactivity fired 11-24 19:00: No water used since 07:00 (12 h); still learning this household's rhythm (0 of 14 days), so the fixed limit of 12 h applies.",
            "inactivity resolved 11-24 19:20: The resident was confirmed fine at 19:20; the quiet is watched again from then.",
            "inactivity fired 11-25 07:30: No water used since 07:00 yesterday (1 d), nor since the resident was confirmed fine at 19:20 yesterday (12 h 10 min); still learning this household's rhythm (1 of 14 days), so the fixed limit of 12 h applies.",
        ]
    );
}

#[test]
fn a_confirmation_early_in_the_quiet_only_ever_delays_the_alert() {
    let (before, after) =
        readings_split(&quiet_from_seven(), "2026-11-24 09:30", "2026-11-25 00:00");
    let mut run = Run::new();
    run.live(&before);
    // An early check-in: the resident answered at 09:40. Not 12 h after
    // 07:15, but 12 h after 09:40.
    assert_eq!(run.confirm_fine(METER, at("2026-11-24 09:40")), 0);
    run.live(&after);
    assert_eq!(run.fired("inactivity"), [at("2026-11-24 21:45")]);
}

#[test]
fn use_after_the_confirmation_ends_it_and_old_or_unknown_confirmations_change_nothing() {
    let home = quiet_from_seven().uses("2026-11-24 12:00", 3.0);
    let (before, after) = readings_split(&home, "2026-11-24 09:30", "2026-11-25 01:00");
    let mut run = Run::new();
    run.live(&before);
    assert_eq!(run.confirm_fine(METER, at("2026-11-24 09:40")), 0);
    // Before the quiet began, or for a meter never seen: nothing.
    assert_eq!(run.confirm_fine(METER, at("2026-11-24 06:30")), 0);
    assert_eq!(run.confirm_fine("nobody", at("2026-11-24 09:40")), 0);
    run.live(&after);
    // Water at 12:00 starts a new stretch: 12 h from then, as always.
    assert_eq!(run.fired("inactivity"), [at("2026-11-25 00:00")]);
    let state = run.engine.meter_state(METER).unwrap();
    assert!(
        !serde_json::to_string(&state).unwrap().contains("fine"),
        "a confirmation older than the last use is forgotten"
    );
}

#[test]
fn a_confirmation_survives_a_restart() {
    let (before, after) =
        readings_split(&quiet_from_seven(), "2026-11-24 19:15", "2026-11-25 09:00");
    let mut run = Run::new();
    run.live(&before);
    assert_eq!(run.confirm_fine(METER, at("2026-11-24 19:20")), 1);
    let json = serde_json::to_string(&run.engine.meter_state(METER).unwrap()).unwrap();
    run.engine = Engine::new(RuleSet::default_rules());
    let state: MeterState = serde_json::from_str(&json).unwrap();
    run.engine.restore_meter(METER, state);
    run.live(&after);
    assert_eq!(
        run.fired("inactivity"),
        [at("2026-11-24 19:00"), at("2026-11-25 07:30")]
    );
}

#[test]
fn the_texts_read_in_the_households_language() {
    let (before, after) =
        readings_split(&quiet_from_seven(), "2026-11-24 19:15", "2026-11-25 07:30");
    let mut run = Run::new();
    run.engine
        .set_household_language(METER, waterwatch_rules::Language::ZhCn);
    run.live(&before);
    assert_eq!(run.confirm_fine(METER, at("2026-11-24 19:20")), 1);
    run.live(&after);
    let story = run.story();
    assert_eq!(
        story[1],
        "inactivity resolved 11-24 19:20: 已于19:20确认住户安好；从此时起重新观察。"
    );
    assert_eq!(
        story[2],
        "inactivity fired 11-25 07:30: 自昨天07:00起未用水（1天），自昨天19:20确认住户安好后也未用水（12小时10分钟）；仍在学习该住户的用水规律（1/14天），采用固定阈值12小时。"
    );
}
