//! `usage_drop` as timelines: weeks of a household's own use, then its daily
//! use sliding to a third; and what must not look like a decline — a silent
//! meter, days with hours of data missing, a week away, a counter reset.

mod support;

use support::{METER, Run, assert_between, at, dates, low_day, minutes, usual};
use waterwatch_rules::{Language, Note, RuleSet};

#[test]
fn daily_use_sliding_to_a_third_fires_usage_drop_with_evidence_and_recovery_resolves_it() {
    let all = dates(36);
    let mut home = usual(24);
    for d in &all[24..30] {
        home = low_day(home, d);
    }
    for d in &all[30..36] {
        home = home.normal_day(d);
    }
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-12-06 23:45", minutes(15)));
    let fired = run.fired("usage_drop");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // The fourth low day (11-28) closes with the first interval of 11-29.
    assert_between(fired[0], "2026-11-29 00:00", "2026-11-29 00:15");
    let story = run.story();
    assert!(
        story.iter().any(|s| s
            == "usage_drop fired 11-29 00:15: Daily use has been 30 L/day for 4 days; this household usually uses 87 L/day."),
        "{story:?}"
    );
    let resolved = run.resolved("usage_drop");
    assert_eq!(resolved.len(), 1, "{story:?}");
    // The first usual day again (12-01) resolves it when it closes.
    assert_between(resolved[0], "2026-12-02 00:00", "2026-12-02 00:15");
    assert!(run.fired("inactivity").is_empty(), "{story:?}");
}

#[test]
fn usage_drop_speaks_chinese_to_a_chinese_household() {
    let all = dates(30);
    let mut home = usual(24);
    for d in &all[24..30] {
        home = low_day(home, d);
    }
    let mut run = Run::new();
    run.engine.set_household_language(METER, Language::ZhCn);
    run.live(&home.readings("2026-11-01 00:00", "2026-11-30 12:00", minutes(15)));
    let drop: Vec<_> = run
        .events
        .iter()
        .filter(|e| e.rule == "usage_drop")
        .collect();
    assert_eq!(drop.len(), 1, "{:?}", run.story());
    assert_eq!(
        drop[0].summary,
        "近4天日用水量为30升/天；该户通常每天用水87升。"
    );
}

#[test]
fn a_meter_silent_for_a_week_is_offline_and_never_a_usage_drop() {
    let all = dates(40);
    let mut home = usual(24);
    for d in &all[24..40] {
        home = home.normal_day(d);
    }
    let mut readings = home.readings("2026-11-01 00:00", "2026-11-24 23:45", minutes(15));
    // Nothing from 11-25 to 12-01; then the meter reports again.
    readings.extend(home.readings("2026-12-02 00:00", "2026-12-09 23:45", minutes(15)));
    let mut run = Run::new();
    run.live(&readings);
    assert!(run.fired("usage_drop").is_empty(), "{:?}", run.story());
    assert!(run.fired("inactivity").is_empty(), "{:?}", run.story());
    assert_eq!(run.fired("meter_offline").len(), 1, "{:?}", run.story());
}

#[test]
fn low_looking_days_with_hours_of_missing_data_are_unknown_not_low() {
    let all = dates(32);
    let mut home = usual(24);
    for d in &all[24..32] {
        home = home.normal_day(d);
    }
    // From 11-25 on the meter reports only from 06:00 to 14:00: each day
    // shows a fraction of its use, and a 16-hour interval covers the rest.
    let mut readings = home.readings("2026-11-01 00:00", "2026-11-24 23:45", minutes(15));
    for d in &all[24..32] {
        readings.extend(home.readings(&format!("{d} 06:00"), &format!("{d} 14:00"), minutes(15)));
    }
    let mut run = Run::new();
    run.live(&readings);
    assert!(run.fired("usage_drop").is_empty(), "{:?}", run.story());
}

#[test]
fn a_week_away_is_an_absence_not_a_usage_drop() {
    let all = dates(40);
    let mut home = usual(24);
    // Away 11-25 to 12-01: the meter reports, nothing is used.
    for d in &all[31..40] {
        home = home.normal_day(d);
    }
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-12-09 23:45", minutes(15)));
    assert!(run.fired("usage_drop").is_empty(), "{:?}", run.story());
}

#[test]
fn a_week_away_from_a_dripping_tap_is_still_an_absence() {
    // The same week away, with a tap dripping 1.2 L an hour all along: the
    // drip's 29 L a day are nobody's use.
    let all = dates(40);
    let mut home = usual(24).flow("2026-11-01 00:00", "2026-12-10 00:00", 0.02);
    for d in &all[31..40] {
        home = home.normal_day(d);
    }
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-12-09 23:45", minutes(15)));
    assert!(run.fired("usage_drop").is_empty(), "{:?}", run.story());
}

#[test]
fn a_counter_reset_and_jitter_on_low_days_still_count_the_days_right() {
    let all = dates(30);
    let mut home = usual(24);
    for d in &all[24..30] {
        home = low_day(home, d);
    }
    let mut readings = home.readings("2026-11-01 00:00", "2026-11-30 06:00", minutes(15));
    // The meter is replaced at 11-26 13:00 (register restarts at 0) and the
    // register jitters back by a litre now and then.
    let reset = readings
        .iter()
        .position(|r| r.ts == at("2026-11-26 13:00"))
        .unwrap();
    let offset = readings[reset].total_l;
    for r in &mut readings[reset..] {
        r.total_l -= offset;
    }
    for r in readings.iter_mut().skip(reset + 10).step_by(37) {
        r.total_l -= 1.0;
    }
    let mut run = Run::new();
    run.live(&readings);
    assert_eq!(run.count(Note::CounterReset), 1, "{:?}", run.notes);
    // The reset hides only the quarter hour it happened in: the day stays
    // known and low, and the jitter is no use; four low days from 11-25.
    let fired = run.fired("usage_drop");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], "2026-11-29 00:00", "2026-11-29 00:15");
    assert!(run.fired("burst").is_empty() && run.fired("unusual_volume").is_empty());
}

#[test]
fn a_household_override_of_the_usage_drop_fraction_applies_to_that_household_only() {
    let all = dates(30);
    let mut home = usual(24);
    for d in &all[24..30] {
        home = low_day(home, d);
    }
    let readings = home.readings("2026-11-01 00:00", "2026-11-30 12:00", minutes(15));
    let text = format!(
        "{}\n[[household]]\nid = \"{METER}\"\nnote = \"uses little on purpose\"\nusage_drop_fraction = 0.3\n",
        waterwatch_rules::config::DEFAULT_RULES_TOML
    );
    let rules = RuleSet::parse("override.toml", &text).expect("valid override");
    // 30 L a day is under 60 % of 87 L but not under 30 %.
    let mut tolerant = Run::with_rules(rules.clone());
    tolerant.live(&readings);
    assert!(
        tolerant.fired("usage_drop").is_empty(),
        "{:?}",
        tolerant.story()
    );
    // The same file, another household: the shipped fraction applies.
    let mut other = Run::with_rules(rules);
    other.engine.set_household(METER, "h-elsewhere");
    other.live(&readings);
    assert_eq!(other.fired("usage_drop").len(), 1, "{:?}", other.story());
}
