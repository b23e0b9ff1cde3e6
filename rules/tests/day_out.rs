//! What a household has not shown yet: a whole day out, and a morning later
//! than any it has had. A few weeks of history rarely hold either, yet both
//! are normal; `day_out_until` and `late_morning` allow them (and someone
//! who never leaves the house is not given a day out).

mod support;

use support::{Household, METER, Run, at, dates, shipped_with};
use waterwatch_rules::{Language, RuleSet};

/// Up at 07:00, out every afternoon from 13:00 to 16:30, in bed after 22:00.
const GOES_OUT: &[&str] = &[
    "07:00", "07:30", "08:00", "09:00", "10:00", "11:00", "12:00", "12:45", "16:30", "17:00",
    "18:00", "19:00", "20:00", "21:00", "22:00",
];
/// Up at 07:00, water every hour until 22:00: never out for long.
const STAYS_IN: &[&str] = &[
    "07:00", "07:30", "08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00",
    "16:00", "17:00", "18:00", "19:00", "20:00", "21:00", "22:00",
];

/// Three weeks of `routine`, then on 2026-11-22 water only at `today`.
fn three_weeks_then(routine: &[&str], today: &[&str]) -> Household {
    let all = dates(22);
    let mut h = Household::new(1000.0);
    for d in &all[..21] {
        h = h.uses_at(d, routine);
    }
    h.uses_at(&all[21], today)
}

fn run(h: &Household, rules: RuleSet, until: &str) -> Run {
    Run::household(Language::En, h, rules, until)
}

fn story_on(run: &Run, date: &str) -> Vec<String> {
    run.story()
        .into_iter()
        .filter(|s| s.contains(&format!(" {}", &date[5..])))
        .collect()
}

#[test]
fn a_day_out_after_breakfast_does_not_alert() {
    // Out from 09:00 to 19:00: a day this household has never had.
    let mut today: Vec<&str> = vec!["07:00", "07:30", "08:00", "09:00"];
    today.extend(["19:00", "20:00", "21:00", "22:00"]);
    let h = three_weeks_then(GOES_OUT, &today);
    let shipped = run(&h, RuleSet::default_rules(), "2026-11-22 23:00");
    assert!(
        story_on(&shipped, "2026-11-22").is_empty(),
        "{:?}",
        shipped.story()
    );
    // Judged by its own history alone, the same day alerts in the afternoon.
    let own = run(
        &h,
        shipped_with(|l| l.day_out_until = None),
        "2026-11-22 23:00",
    );
    let fired = own.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", own.story());
    assert!(fired[0] < at("2026-11-22 19:00"), "{:?}", own.story());
}

#[test]
fn a_collapse_after_breakfast_alerts_at_the_day_out_limit_in_both_languages() {
    let h = three_weeks_then(GOES_OUT, &["07:00", "07:30", "08:00", "09:00", "09:30"]);
    let r = run(&h, RuleSet::default_rules(), "2026-11-22 23:00");
    assert_eq!(
        story_on(&r, "2026-11-22"),
        [
            "inactivity fired 11-22 21:00: No water used since 09:30 (11 h 30 min). It began in this household's morning, when a whole day out is normal, so the limit runs until 21:00 (11 h 30 min)."
        ]
    );
    let zh = Run::household(
        Language::ZhCn,
        &h,
        RuleSet::default_rules(),
        "2026-11-22 23:00",
    );
    assert_eq!(
        story_on(&zh, "2026-11-22"),
        [
            "inactivity fired 11-22 21:00: 自09:30起未用水（11小时30分钟）。此时段始于该住户的上午，整天外出属正常，报警阈值延至21:00（11小时30分钟）。"
        ]
    );
}

#[test]
fn an_early_start_is_held_to_the_rule_maximum() {
    // Last water at 07:30: 21:00 is 13 h 30 min away, past the 12 h `max`.
    let h = three_weeks_then(GOES_OUT, &["07:00", "07:30"]);
    let r = run(&h, RuleSet::default_rules(), "2026-11-22 23:00");
    assert_eq!(
        story_on(&r, "2026-11-22"),
        [
            "inactivity fired 11-22 19:30: No water used since 07:30 (12 h). It began in this household's morning, when a whole day out is normal, so the limit is the 12 h maximum."
        ]
    );
}

#[test]
fn an_afternoon_collapse_keeps_the_learned_limit() {
    // The day-out allowance is for the morning; from 17:00 the household's
    // own (short) evening stretches decide.
    let h = three_weeks_then(GOES_OUT, &["07:00", "07:30", "08:00", "09:00", "17:00"]);
    let r = run(&h, RuleSet::default_rules(), "2026-11-22 23:59");
    assert_eq!(
        story_on(&r, "2026-11-22"),
        [
            "inactivity fired 11-22 20:00: No water used since 17:00 (3 h). On a usual day this household goes at most 2 h 5 min without water from around 17:00; the limit is the 3 h minimum."
        ]
    );
}

#[test]
fn someone_who_never_goes_out_gets_no_day_out_allowance() {
    let h = three_weeks_then(STAYS_IN, &["07:00", "07:30", "08:00", "09:00"]);
    let r = run(&h, RuleSet::default_rules(), "2026-11-22 23:00");
    let fired = r.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", r.story());
    assert!(fired[0] <= at("2026-11-22 12:30"), "{:?}", r.story());
    assert!(r.story()[0].contains("On a usual day"), "{:?}", r.story());
}

#[test]
fn a_morning_later_than_any_seen_is_normal_up_to_the_allowance() {
    // Up at 07:00 every day so far; in bed after 23:00. (A margin of 1.5
    // keeps the household's night stretch from deciding first, so the
    // morning check is what this tests.)
    let routine = &[
        "07:00", "07:30", "08:00", "12:00", "13:00", "17:00", "18:00", "21:00", "22:00", "23:00",
    ];
    let rules = || shipped_with(|l| l.margin = 1.5);
    // Up at 09:30 today, later than ever: normal.
    let late = three_weeks_then(routine, &["09:30", "10:00", "12:00"]);
    let r = run(&late, rules(), "2026-11-22 13:00");
    assert!(story_on(&r, "2026-11-22").is_empty(), "{:?}", r.story());
    // Judged by its own mornings alone, it alerted at 08:00.
    let own = run(
        &late,
        shipped_with(|l| {
            l.margin = 1.5;
            l.late_morning = None;
        }),
        "2026-11-22 13:00",
    );
    assert_eq!(
        story_on(&own, "2026-11-22"),
        [
            "inactivity fired 11-22 08:00: No water used since 23:00 yesterday (9 h). This household's mornings usually start by 07:00; still no water at 08:00.",
            "inactivity resolved 11-22 09:30: Water used again between 09:15 and 09:30."
        ]
    );
    // No water at all today: an hour after the allowance, in both languages.
    let quiet = three_weeks_then(routine, &[]);
    let r = run(&quiet, rules(), "2026-11-22 13:00");
    assert_eq!(
        story_on(&r, "2026-11-22"),
        [
            "inactivity fired 11-22 10:00: No water used since 23:00 yesterday (11 h). This household's mornings usually start around 07:00, and one up to 2 h later is still normal; still no water at 10:00."
        ]
    );
    let zh = Run::household(Language::ZhCn, &quiet, rules(), "2026-11-22 13:00");
    assert_eq!(
        story_on(&zh, "2026-11-22"),
        [
            "inactivity fired 11-22 10:00: 自昨天23:00起未用水（11小时）。该住户早上通常在07:00前后开始用水，晚2小时以内仍属正常，到10:00仍未用水。"
        ]
    );
}

#[test]
fn a_household_can_be_denied_the_day_out_and_given_a_shorter_late_morning() {
    // A resident at risk who goes out every afternoon but never for the day.
    let text = format!(
        "{}\n[[household]]\nid = \"{METER}\"\nnote = \"out for the afternoon, never all day\"\ninactivity_day_out_until = \"off\"\ninactivity_late_morning = \"1h\"\n",
        waterwatch_rules::config::DEFAULT_RULES_TOML
    );
    let rules = || RuleSet::parse("rules.toml", &text).expect("valid override");
    let collapse = three_weeks_then(GOES_OUT, &["07:00", "07:30", "08:00", "09:00", "09:30"]);
    let shipped = run(&collapse, RuleSet::default_rules(), "2026-11-22 23:00");
    let overridden = run(&collapse, rules(), "2026-11-22 23:00");
    let (shipped, overridden) = (shipped.fired("inactivity"), overridden.fired("inactivity"));
    assert_eq!(shipped, [at("2026-11-22 21:00")]);
    assert_eq!(overridden.len(), 1);
    assert!(overridden[0] < at("2026-11-22 16:00"), "{overridden:?}");
    // The rule's own setting, for comparison: the same as the override.
    let off = run(
        &collapse,
        shipped_with(|l| l.day_out_until = None),
        "2026-11-22 23:00",
    );
    assert_eq!(off.fired("inactivity"), overridden);
}
