//! A household whose own life has quiet stretches longer than the rule's
//! `max` (a night away every week): `routine_max` holds it to its own usual
//! longest stretch from the hours it leaves at, and a night with no morning
//! by 13:00 is remembered, so the morning check does not call every night
//! away overdue. Hours it never leaves at keep their short limits, and a
//! household that went long once, or has a cap of its own, keeps `max`.

mod support;

use support::{Household, METER, Run, at, dates, shipped_with};
use waterwatch_rules::{Language, RuleSet};

/// Up at 07:00, water every hour or so until 20:00.
const DAY: &[&str] = &[
    "07:00", "07:30", "08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00",
    "16:00", "17:00", "18:00", "19:00", "20:00",
];
/// The day after a night away: home at 14:00.
const BACK_AT_TWO: &[&str] = &[
    "14:00", "15:00", "16:00", "17:00", "18:00", "19:00", "20:00",
];

/// Four weeks from 2026-11-01 with a night away before each day in `back`
/// (by index: last water at 20:00 the evening before, home at 14:00, 18 h),
/// then on 2026-11-29 water only at `today`.
fn four_weeks_then(back: &[usize], today: &[&str]) -> Household {
    let all = dates(29);
    let mut h = Household::new(1000.0);
    for (i, d) in all[..28].iter().enumerate() {
        h = h.uses_at(d, if back.contains(&i) { BACK_AT_TWO } else { DAY });
    }
    h.uses_at(&all[28], today)
}

/// Every Saturday night away (home on Sundays 8, 15 and 22 November).
const WEEKLY: &[usize] = &[7, 14, 21];

fn run(h: &Household, rules: RuleSet, until: &str) -> Run {
    Run::household(Language::En, h, rules, until)
}

/// What happened from 2026-11-29 on.
fn story_from_29(run: &Run) -> Vec<String> {
    run.story()
        .into_iter()
        .filter(|s| s.contains(" 11-29 ") || s.contains(" 11-30 "))
        .collect()
}

fn without_routine() -> RuleSet {
    shipped_with(|l| l.routine_max = None)
}

#[test]
fn a_weekly_night_away_is_not_an_alarm_once_it_is_routine() {
    // Another night away from Sunday 20:00, home on Monday at 14:00.
    let h = four_weeks_then(WEEKLY, DAY).uses_at("2026-11-30", BACK_AT_TWO);
    let shipped = run(&h, RuleSet::default_rules(), "2026-11-30 21:00");
    assert!(story_from_29(&shipped).is_empty(), "{:?}", shipped.story());
    // The earlier nights away were alarms too, while they were new.
    assert!(!shipped.fired("inactivity").is_empty());
    // With `max` a hard cap, the same night is an alarm at 12 h.
    let capped = run(&h, without_routine(), "2026-11-30 21:00");
    assert_eq!(
        story_from_29(&capped),
        [
            "inactivity fired 11-30 08:00: No water used since 20:00 yesterday (12 h). On a usual day this household goes at most 1 d 4 h without water from around 20:00; the limit is capped at 12 h.",
            "inactivity resolved 11-30 14:00: Water used again between 13:45 and 14:00.",
        ]
    );
}

#[test]
fn a_collapse_in_the_evening_is_found_at_the_households_own_longest_in_both_languages() {
    // This is the price: from the hour it leaves at, the household is
    // given its own longest night, up to `routine_max` (its three 18 h
    // nights away extrapolate to 28 h on 1 day in 1000; the decayed count
    // says "about once every 10 days" of three in four weeks).
    let h = four_weeks_then(WEEKLY, DAY);
    let r = run(&h, RuleSet::default_rules(), "2026-11-30 23:00");
    assert_eq!(
        story_from_29(&r),
        [
            "inactivity fired 11-30 16:00: No water used since 20:00 yesterday (20 h). This household often goes longer than 12 h without water (about once every 10 days); on a usual day it goes at most 1 d 4 h without water from around 20:00; the limit is capped at 20 h."
        ]
    );
    let zh = Run::household(
        Language::ZhCn,
        &h,
        RuleSet::default_rules(),
        "2026-11-30 23:00",
    );
    assert_eq!(
        story_from_29(&zh),
        [
            "inactivity fired 11-30 16:00: 自昨天20:00起未用水（20小时）。该住户常超过12小时不用水（约每10天一次），平时在20:00前后最长约1天4小时不用水，报警阈值以20小时为上限。"
        ]
    );
}

#[test]
fn hours_the_household_never_leaves_at_keep_their_short_limits() {
    // Last water at 10:00: this household is never out for long by day.
    let h = four_weeks_then(WEEKLY, &["07:00", "07:30", "08:00", "09:00", "10:00"]);
    let r = run(&h, RuleSet::default_rules(), "2026-11-29 23:00");
    let fired = r.fired("inactivity");
    let last = fired
        .last()
        .copied()
        .unwrap_or_else(|| at("2026-11-01 00:00"));
    assert_eq!(last, at("2026-11-29 13:00"), "{:?}", r.story());
}

#[test]
fn a_household_that_went_long_only_once_keeps_the_cap() {
    // One night away in four weeks is not a routine.
    let h = four_weeks_then(&[14], DAY);
    let r = run(&h, RuleSet::default_rules(), "2026-11-30 23:00");
    let story = story_from_29(&r);
    assert_eq!(story.len(), 1, "{:?}", r.story());
    assert!(
        story[0].starts_with("inactivity fired 11-30 08:00:"),
        "{story:?}"
    );
}

#[test]
fn a_households_own_max_is_a_hard_cap() {
    let h = four_weeks_then(WEEKLY, DAY);
    let text = format!(
        "{}\n[[household]]\nid = \"{METER}\"\nnote = \"heart condition\"\ninactivity_max = \"12h\"\n",
        include_str!("../default.toml")
    );
    let rules = RuleSet::parse("household.toml", &text).unwrap();
    let r = run(&h, rules, "2026-11-30 23:00");
    let story = story_from_29(&r);
    assert!(
        story[0].starts_with("inactivity fired 11-30 08:00:"),
        "{story:?}"
    );
}
