//! The household-relative flow and volume rules as timelines: weeks of a
//! household's own use, then a tap left open, a running toilet, an unusual
//! hour; and the glitches that must not look like any of them. Daily use
//! sliding (`usage_drop`) is in `usage_drop.rs`.

mod support;

use support::{Household, METER, Run, assert_between, at, dates, low_day, minutes, usual};
use waterwatch_rules::rule::continuous_flow::ContinuousFlowConfig;
use waterwatch_rules::rule::spike::SpikeConfig;
use waterwatch_rules::{Detector, Engine, Language, MeterState, Note, RuleSet};

/// The shipped rules with every learned flow and spike rule made fixed.
fn fixed_rules() -> RuleSet {
    let mut rules = RuleSet::default_rules();
    for rule in &mut rules.rules {
        match &mut rule.detector {
            Detector::ContinuousFlow(ContinuousFlowConfig {
                learned, steady, ..
            }) => {
                *learned = None;
                *steady = None;
            }
            Detector::Spike(SpikeConfig { learned, .. }) => *learned = None,
            _ => {}
        }
    }
    rules
}

#[test]
fn a_tap_left_open_in_a_household_of_short_uses_fires_within_an_hour_where_the_fixed_rule_takes_two()
 {
    let all = dates(22);
    let home = usual(21)
        .normal_day(&all[21])
        .flow("2026-11-22 10:30", "2026-11-22 16:00", 3.0);
    let readings = home.readings("2026-11-01 00:00", "2026-11-22 16:00", minutes(15));
    let mut learned = Run::new();
    learned.live(&readings);
    let fired = learned.fired("tap_running");
    assert_eq!(fired.len(), 1, "{:?}", learned.story());
    assert_between(fired[0], "2026-11-22 11:15", "2026-11-22 11:45");
    assert!(
        learned
            .story()
            .iter()
            .any(|s| s.contains("this household's runs usually last at most")),
        "{:?}",
        learned.story()
    );
    let mut fixed = Run::with_rules(fixed_rules());
    fixed.live(&readings);
    let fixed_at = fixed.fired("tap_running");
    assert_eq!(fixed_at.len(), 1, "{:?}", fixed.story());
    assert_between(fixed_at[0], "2026-11-22 12:30", "2026-11-22 12:50");
}

#[test]
fn a_running_toilet_fires_within_two_hours_once_the_household_is_learned() {
    let all = dates(22);
    let home = usual(21)
        .normal_day(&all[21])
        .flow("2026-11-22 13:10", "2026-11-23 12:00", 0.5);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-11-22 23:45", minutes(15)));
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // Use at 13:10 shows in the 13:15 reading: the run counts from 13:00
    // and this household's runs are short, so the limit is the 1 h minimum.
    assert_between(fired[0], "2026-11-22 14:00", "2026-11-22 15:10");
    assert!(run.fired("tap_running").is_empty(), "{:?}", run.story());
}

/// The shipped rules with `steady = "1h"` on the running-toilet rule.
fn with_steady_toilet() -> RuleSet {
    let mut rules = RuleSet::default_rules();
    for rule in &mut rules.rules {
        if let Detector::ContinuousFlow(config) = &mut rule.detector
            && rule.name == "running_toilet"
        {
            config.steady = Some(std::time::Duration::from_secs(3600));
        }
    }
    rules
}

#[test]
fn a_running_toilet_in_the_first_days_waits_for_the_fixed_day_unless_steady_is_on() {
    let home = usual(3).flow("2026-11-02 13:10", "2026-11-04 00:00", 0.5);
    let readings = home.readings("2026-11-01 00:00", "2026-11-03 23:45", minutes(15));
    let mut shipped = Run::new();
    shipped.live(&readings);
    assert_eq!(
        shipped.fired("running_toilet").len(),
        1,
        "{:?}",
        shipped.story()
    );
    assert_between(
        shipped.fired("running_toilet")[0],
        "2026-11-03 13:00",
        "2026-11-03 13:30",
    );
    let mut run = Run::with_rules(with_steady_toilet());
    run.live(&readings);
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // 7 or 8 litres every quarter hour from 13:15: five like readings and an
    // hour by 14:30, long before the fixed day of the learning period.
    assert_between(fired[0], "2026-11-02 14:15", "2026-11-02 14:30");
    assert!(
        run.story().iter().any(|s| s.contains(
            "Water has flowed steadily at about 0.5 L/min since 13:15 (1 h 15 min), like a running toilet or a dripping tap."
        )),
        "{:?}",
        run.story()
    );
}

#[test]
fn an_hour_far_busier_than_any_this_household_has_is_unusual_volume_but_not_a_burst() {
    let all = dates(22);
    let home = usual(21)
        .normal_day(&all[21])
        .flow("2026-11-22 10:00", "2026-11-22 11:00", 5.0);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-11-22 14:00", minutes(15)));
    let fired = run.fired("unusual_volume");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], "2026-11-22 10:15", "2026-11-22 11:00");
    assert_eq!(run.resolved("unusual_volume").len(), 1, "{:?}", run.story());
    assert!(run.fired("burst").is_empty(), "{:?}", run.story());
    // The same hour during the learning period is under the fixed 10 L/min.
    let early = usual(2).flow("2026-11-02 10:00", "2026-11-02 11:00", 5.0);
    let mut run = Run::new();
    run.live(&early.readings("2026-11-01 00:00", "2026-11-02 14:00", minutes(15)));
    assert!(run.fired("unusual_volume").is_empty(), "{:?}", run.story());
}

#[test]
fn a_tap_running_over_midnight_is_not_learned_as_the_households_busiest_hour() {
    // Three weeks of usual days, then a tap open at 6 L/min from 20:00 to
    // 09:00 the next morning. Closing the day at midnight once learned
    // the tap as this household's busiest hour (with three weeks behind
    // it, one day in 20 is "usual"), which raised the limit above it and
    // resolved the alert at 00:00 with the tap still running.
    let all = dates(23);
    let home = usual(21).normal_day(&all[21]).normal_day(&all[22]).flow(
        "2026-11-22 20:00",
        "2026-11-23 09:00",
        6.0,
    );
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-11-23 14:00", minutes(15)));
    let fired = run.fired("unusual_volume");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], "2026-11-22 20:15", "2026-11-22 21:00");
    let resolved = run.resolved("unusual_volume");
    assert_eq!(resolved.len(), 1, "{:?}", run.story());
    assert_between(resolved[0], "2026-11-23 09:15", "2026-11-23 10:00");
}

#[test]
fn a_burst_starting_on_a_reading_fires_at_the_next_one() {
    let home = usual(21).flow("2026-11-21 10:00", "2026-11-21 12:00", 40.0);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-11-21 11:00", minutes(15)));
    assert_eq!(
        run.fired("burst"),
        [at("2026-11-21 10:15")],
        "{:?}",
        run.story()
    );
}

#[test]
fn a_counter_reset_in_the_middle_of_a_run_breaks_it() {
    let home = usual(21).flow("2026-11-21 10:15", "2026-11-21 11:00", 3.0);
    let readings = home.readings("2026-11-01 00:00", "2026-11-21 13:00", minutes(15));
    // Unbroken, 45 minutes of use reach this household's 45-minute limit.
    let mut whole = Run::new();
    whole.live(&readings);
    assert_eq!(
        whole.fired("tap_running"),
        [at("2026-11-21 11:00")],
        "{:?}",
        whole.story()
    );
    // The meter is replaced and reads near zero from 10:45: the quarter hour
    // before cannot be known, so neither half of the flow is a long run.
    let mut replaced = readings.clone();
    let reset = replaced
        .iter()
        .position(|r| r.ts == at("2026-11-21 10:45"))
        .unwrap();
    let offset = replaced[reset].total_l - 5.0;
    for r in &mut replaced[reset..] {
        r.total_l -= offset;
    }
    let mut run = Run::new();
    run.live(&replaced);
    assert_eq!(run.count(Note::CounterReset), 1);
    assert!(run.fired("tap_running").is_empty(), "{:?}", run.story());
}

#[test]
fn restoring_state_mid_stream_keeps_every_learned_decision() {
    let all = dates(32);
    let mut home = usual(22)
        .flow("2026-11-21 10:00", "2026-11-21 14:00", 3.0)
        .flow("2026-11-22 13:10", "2026-11-22 18:00", 0.5);
    for d in &all[22..28] {
        home = low_day(home, d);
    }
    for d in &all[28..32] {
        home = home.normal_day(d);
    }
    let readings = home.readings("2026-11-01 00:00", "2026-12-02 23:45", minutes(15));
    let mut straight = Run::new();
    straight.live(&readings);
    let story = straight.story();
    for rule in ["tap_running", "running_toilet", "usage_drop"] {
        assert!(!straight.fired(rule).is_empty(), "{rule}: {story:?}");
    }

    let mut restarted = Run::new();
    let mut largest = 0;
    for (i, r) in readings.iter().enumerate() {
        if i % 97 == 13 {
            let json = restarted
                .engine
                .meter_state(METER)
                .map(|s| serde_json::to_string(&s).unwrap());
            restarted.engine = Engine::new(RuleSet::default_rules());
            if let Some(json) = json {
                largest = largest.max(json.len());
                let state: MeterState = serde_json::from_str(&json).unwrap();
                restarted.engine.restore_meter(METER, state);
            }
        }
        restarted.tick_until(r.ts);
        restarted.observe(r, r.ts);
    }
    assert_eq!(restarted.story(), story);
    assert_eq!(
        restarted.engine.meter_state(METER),
        straight.engine.meter_state(METER)
    );
    assert!(largest < 4096, "state is {largest} bytes");
}

#[test]
fn hourly_readings_in_a_daily_batch_judge_the_days_in_event_time() {
    let all = dates(30);
    let mut home = usual(24);
    for d in &all[24..30] {
        home = low_day(home, d);
    }
    let mut run = Run::new();
    // Each day's hourly readings arrive in one batch at 23:30.
    for d in &all {
        let batch = home.readings(&format!("{d} 00:00"), &format!("{d} 23:00"), minutes(60));
        run.batch(&batch, at(&format!("{d} 23:30")));
    }
    let fired = run.fired("usage_drop");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // Day 4 of the low days (11-28) closes with the first reading of 11-29.
    assert_eq!(fired[0], at("2026-11-29 23:30"));
}

#[test]
fn flow_and_volume_alerts_speak_chinese_to_a_chinese_household() {
    let all = dates(22);
    let home = usual(21)
        .normal_day(&all[21])
        .flow("2026-11-22 10:30", "2026-11-22 16:00", 3.0);
    let mut run = Run::new();
    run.engine.set_household_language(METER, Language::ZhCn);
    run.live(&home.readings("2026-11-01 00:00", "2026-11-22 16:00", minutes(15)));
    let said = |rule: &str| {
        run.events
            .iter()
            .filter(|e| e.rule == rule)
            .map(|e| e.summary.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        said("tap_running"),
        [
            "自10:30起每15分钟都在用水（45分钟，平均3升/分钟）；该户连续用水通常不超过17分钟，报警阈值为45分钟。"
        ],
        "{:?}",
        run.story()
    );
    let volume = said("unusual_volume");
    assert!(
        volume
            .first()
            .is_some_and(|s| s.starts_with("截至") && s.contains("该户最忙的1小时通常不超过")),
        "{volume:?}"
    );
}

/// `n` usual days from 2026-11-01 in a busy household: water in every
/// hour of its evenings (2.5 L/min on average from 17:00 to 23:00).
fn busy_evenings(n: i64) -> Household {
    dates(n).iter().fold(usual(n), |h, d| {
        h.flow(&format!("{d} 17:00"), &format!("{d} 23:00"), 2.5)
    })
}

/// The `tap_running` alerts after the learning period (from 11-16).
fn learned_taps(run: &Run) -> Vec<String> {
    run.fired("tap_running")
        .iter()
        .filter(|t| **t >= at("2026-11-16 00:00"))
        .map(|t| t.format("%m-%d %H:%M").to_string())
        .collect()
}

#[test]
fn an_hourly_household_whose_evenings_are_long_runs_is_held_to_its_own_up_to_routine_max() {
    // On an hourly meter every evening is one six-hour run at 2.5 L/min:
    // with `max` a hard cap, the tap rule called each one a tap left open.
    let home = busy_evenings(22);
    let readings = home.readings("2026-11-01 00:00", "2026-11-22 08:00", minutes(60));
    let mut hard_cap = Run::with_rules(support::shipped_flow_with(|l| l.routine_max = None));
    hard_cap.live(&readings);
    assert!(learned_taps(&hard_cap).len() >= 5, "{:?}", hard_cap.story());
    let mut run = Run::new();
    run.live(&readings);
    assert!(learned_taps(&run).is_empty(), "{:?}", run.story());

    // A tap left open at 6 L/min from 09:00 is still found, at the 4 h
    // `routine_max` (the reading at 13:00), with the household's own runs
    // in the evidence.
    let home = home.flow("2026-11-22 09:00", "2026-11-22 16:00", 6.0);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-11-22 16:00", minutes(60)));
    assert_eq!(learned_taps(&run), ["11-22 13:00"], "{:?}", run.story());
    assert!(
        run.story().iter().any(|s| s.starts_with("tap_running fired 11-22 13:00: Water used in every reading since 09:00 (one every 1 h; 4 h")
            && s.ends_with("so the limit is 4 h.")),
        "{:?}",
        run.story()
    );
}

/// Six weeks of usual days; a running toilet (0.5 L/min) from 13:10 on
/// `first` until noon the next day, and another from 13:10 on `second`.
fn two_running_toilets(first: &str, second: &str) -> Household {
    let next = |d: &str| {
        (at(&format!("{d} 12:00")) + chrono::Duration::days(1))
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    usual(42)
        .flow(&format!("{first} 13:10"), &next(first), 0.5)
        .flow(&format!("{second} 13:10"), &next(second), 0.5)
}

#[test]
fn a_running_toilet_repaired_after_a_day_does_not_make_the_next_one_wait_a_day() {
    let home = two_running_toilets("2026-11-22", "2026-12-05");
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-12-06 23:45", minutes(15)));
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 2, "{:?}", run.story());
    assert_between(fired[0], "2026-11-22 14:00", "2026-11-22 14:15");
    // The first run is learned only as long as the hour it was allowed:
    // the next limit is that hour times the margin, not the 24 h cap it
    // was while the whole 23-hour run counted as usual.
    assert_between(fired[1], "2026-12-05 15:00", "2026-12-05 15:45");
    assert!(
        run.story().iter().any(|s| s.starts_with("running_toilet fired 12-05")
            && s.ends_with("this household's runs usually last at most 1 h 11 min, so the limit is 2 h 22 min.")),
        "{:?}",
        run.story()
    );
}

/// [`two_running_toilets`] fed live, a person reporting a leak at `leak`.
fn toilets_with_a_leak_reported(leak: &str) -> Run {
    let home = two_running_toilets("2026-11-22", "2026-12-05");
    let mut run = Run::new();
    for r in &home.readings("2026-11-01 00:00", "2026-12-06 23:45", minutes(15)) {
        if r.ts == at(leak) {
            assert!(run.engine.confirm_leak(METER), "{leak}");
        }
        run.tick_until(r.ts);
        run.observe(r, r.ts);
    }
    run
}

#[test]
fn a_running_toilet_reported_as_a_leak_is_not_learned_at_all() {
    // Reported while it still ran, or the afternoon after it was repaired:
    // the next toilet is found at the household's own hour again.
    for leak in ["2026-11-22 18:00", "2026-11-23 15:00", "2026-11-25 09:00"] {
        let run = toilets_with_a_leak_reported(leak);
        let fired = run.fired("running_toilet");
        assert_eq!(fired.len(), 2, "{leak}: {:?}", run.story());
        assert_between(fired[1], "2026-12-05 14:00", "2026-12-05 14:15");
    }
    // Three days with use later it stays learned (as the hour it broke).
    let mut late = Run::new();
    let home = two_running_toilets("2026-11-22", "2026-12-05");
    late.live(&home.readings("2026-11-01 00:00", "2026-11-27 00:15", minutes(15)));
    assert!(!late.engine.confirm_leak(METER), "{:?}", late.story());
    // And a meter no flow alert fired on has nothing to take back.
    let mut quiet = Run::new();
    quiet.live(&usual(5).readings("2026-11-01 00:00", "2026-11-05 12:00", minutes(15)));
    assert!(!quiet.engine.confirm_leak(METER));
}

#[test]
fn a_new_habit_of_long_runs_fires_once_or_twice_and_is_then_learned() {
    // From day 22 the resident waters the garden, 1 L/min from 15:00 to
    // 17:30, every day: each alert lets the limit grow by its margin.
    let all = dates(36);
    let home = all[21..].iter().fold(usual(36), |h, d| {
        h.flow(&format!("{d} 15:00"), &format!("{d} 17:30"), 1.0)
    });
    let mut run = Run::new();
    run.live(&home.readings("2026-11-01 00:00", "2026-12-06 23:45", minutes(15)));
    let fired = run.fired("running_toilet");
    assert!(!fired.is_empty() && fired.len() <= 2, "{:?}", run.story());
    assert!(
        fired.iter().all(|t| *t < at("2026-11-24 00:00")),
        "{:?}",
        run.story()
    );
}
