//! Weekdays and weekends as timelines: a household that sleeps in on
//! Saturdays and Sundays is judged by its weekends on weekends and by its
//! weekdays on weekdays, once each has days of its own.

mod support;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use support::{Household, METER, Run, assert_between, at, minutes, shipped_with};
use waterwatch_rules::{Engine, Language, MeterState, RuleSet};

/// Weekdays: up at 07:00, water every hour to 22:00. Weekends: up at
/// 09:30, then the same. So a weekday night is 9 h, a weekend one 11 h 30 min.
fn late_weekends(days: i64) -> Household {
    let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let mut h = Household::new(1000.0);
    for d in 0..days {
        let date = first + Duration::days(d);
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        let date = date.format("%Y-%m-%d");
        h = h.uses(
            &format!("{date} {}", if weekend { "09:30" } else { "07:00" }),
            8.0,
        );
        for hour in 10..=22 {
            h = h.uses(&format!("{date} {hour:02}:00"), 3.0);
        }
    }
    h
}

/// These timelines test how the household's own mornings are split, so the
/// `late_morning` allowance for mornings not yet seen (tested in
/// `day_out.rs`) is off.
fn rules(weekend: bool) -> RuleSet {
    let mut rules = shipped_with(|l| l.late_morning = None);
    rules.baseline.weekend_min_days = weekend.then_some(8);
    rules
}

fn run(h: &Household, until: &str, weekend: bool) -> Run {
    let mut run = Run::with_rules(rules(weekend));
    run.live(&h.readings("2026-11-01 00:00", until, minutes(15)));
    run
}

fn story_from(run: &Run, from: &str) -> Vec<String> {
    run.events
        .iter()
        .filter(|e| e.ts >= at(from))
        .map(|e| format!("{} {} {}", e.rule, e.event.as_str(), e.summary))
        .collect()
}

// 2026-11-01 is a Sunday; five weeks later, Saturday 2026-12-05, Sunday
// 12-06, Monday 12-07.

#[test]
fn a_late_weekend_morning_is_normal_and_a_weekday_morning_alerts_at_the_weekday_deadline() {
    // Five weeks of history (10 weekend days, 25 weekdays), then a normal
    // weekend, then no water after 22:00 on Sunday.
    let h = late_weekends(36);
    let with_split = run(&h, "2026-12-07 13:00", true);
    assert!(
        story_from(&with_split, "2026-12-05 00:00").len() == 1,
        "{:?}",
        with_split.story()
    );
    let fired = with_split.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", with_split.story());
    assert_between(fired[0], "2026-12-07 07:45", "2026-12-07 08:15");
    assert_eq!(
        story_from(&with_split, "2026-12-05 00:00"),
        [
            "inactivity fired No water used since 22:00 yesterday (10 h). This household's weekday mornings usually start by 07:00; still no water at 08:00."
        ]
    );

    // Judged by all days, the nights are 9 h or 11 h 30 min and the latest
    // usual rising is a weekend one: the same Monday alerts only at the
    // 12 h cap.
    let pooled = run(&h, "2026-12-07 13:00", false);
    let fired = pooled.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", pooled.story());
    assert_between(fired[0], "2026-12-07 09:45", "2026-12-07 10:15");
    assert!(
        pooled.story()[0].contains("On a usual day this household goes at most"),
        "{:?}",
        pooled.story()
    );
}

#[test]
fn a_normal_late_weekend_morning_does_not_alert_and_a_quiet_one_is_told_by_the_weekend_model() {
    // A normal late Saturday morning after five weeks: nothing.
    let h = late_weekends(36);
    let split = run(&h, "2026-12-05 13:00", true);
    assert!(
        story_from(&split, "2026-12-04 00:00").is_empty(),
        "{:?}",
        split.story()
    );
    // The same Saturday, but no water after Friday 22:00: the weekend
    // model's stretch from 22:00 is longer than the rule's 12 h `max`, so
    // the cap (not the weekday's 08:00 deadline) decides, in the weekend's
    // words.
    let mut quiet = late_weekends(34);
    quiet = quiet.uses("2026-12-04 07:00", 8.0);
    for hour in 10..=22 {
        quiet = quiet.uses(&format!("2026-12-04 {hour:02}:00"), 3.0);
    }
    let run_quiet = run(&quiet, "2026-12-05 13:00", true);
    let fired = run_quiet.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", run_quiet.story());
    assert_between(fired[0], "2026-12-05 09:45", "2026-12-05 10:15");
    assert!(
        run_quiet.story()[0].contains("On a usual weekend day this household goes at most")
            && run_quiet.story()[0].contains("the limit is capped at 12 h."),
        "{:?}",
        run_quiet.story()
    );
}

#[test]
fn thin_weekend_history_falls_back_to_all_days() {
    // Three weeks: 15 weekdays (their own model), 5 weekend days (not
    // yet): Saturday 2026-11-21, no water after Friday 22:00, is judged by
    // all days.
    let h = late_weekends(20);
    let r = run(&h, "2026-11-21 13:00", true);
    let fired = r.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", r.story());
    assert!(
        r.story()[0].contains("On a usual day this household goes at most"),
        "{:?}",
        r.story()
    );
    // Monday 2026-11-23, no water after Sunday 22:00: the weekdays have
    // their own model already.
    let r = run(&late_weekends(22), "2026-11-23 13:00", true);
    let fired = r.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", r.story());
    assert_between(fired[0], "2026-11-23 07:45", "2026-11-23 08:15");
    assert!(r.story()[0].contains("weekday mornings"), "{:?}", r.story());
    let status = r.engine.baseline_status(METER).unwrap();
    assert!(!status.learning);
}

#[test]
fn the_weekend_model_is_told_in_chinese_too() {
    let h = late_weekends(36);
    let mut r = Run::with_rules(rules(true));
    r.engine.set_household_language(METER, Language::ZhCn);
    r.live(&h.readings("2026-11-01 00:00", "2026-12-07 13:00", minutes(15)));
    assert_eq!(
        story_from(&r, "2026-12-05 00:00"),
        [
            "inactivity fired 自昨天22:00起未用水（10小时）。该住户工作日早上通常在07:00前开始用水，到08:00仍未用水。"
        ]
    );
}

#[test]
fn restoring_a_split_baseline_changes_no_decision_and_fits_in_three_kibibytes() {
    let h = late_weekends(36);
    let readings = h.readings("2026-11-01 00:00", "2026-12-07 13:00", minutes(15));
    let mut straight = Run::with_rules(rules(true));
    straight.live(&readings);

    let mut restarted = Run::with_rules(rules(true));
    let mut largest = 0;
    for (i, r) in readings.iter().enumerate() {
        if i % 700 == 0 {
            let json = serde_json::to_string(&restarted.engine.meter_state(METER)).unwrap();
            largest = largest.max(json.len());
            let state: Option<MeterState> = serde_json::from_str(&json).unwrap();
            restarted.engine = Engine::new(rules(true));
            if let Some(state) = state {
                restarted.engine.restore_meter(METER, state);
            }
        }
        restarted.live(std::slice::from_ref(r));
    }
    assert_eq!(straight.story(), restarted.story());
    assert_eq!(
        straight.engine.meter_state(METER),
        restarted.engine.meter_state(METER)
    );
    assert_eq!(straight.fired("inactivity").len(), 1);
    assert!(largest < 3072, "{largest} bytes");
}
