//! The flow a meter reports with each reading (`flow_lpm`) as timelines: a
//! running toilet seen flowing at every reading, a burst caught at the
//! reading it began just before; and what must not look like either (a busy
//! morning, one odd sample, a missing value, a gap, duplicates), and meters
//! that report no flow, judged exactly as before.

mod support;

use chrono::Duration;
use support::{Household, METER, Run, assert_between, at, minutes};
use waterwatch_rules::{Detector, Note, Reading, RuleSet};

/// `n` usual days from 2026-11-01 (short uses, no flow to speak of).
fn usual(n: i64) -> Household {
    (1..=n).fold(Household::new(1000.0), |h, d| {
        h.normal_day(&format!("2026-11-{d:02}"))
    })
}

/// A running toilet (0.5 L/min) from 13:10 on the second day.
fn toilet() -> Household {
    usual(3).flow("2026-11-02 13:10", "2026-11-04 00:00", 0.5)
}

/// The shipped rules without the reported-flow checks (the rules before them).
fn register_only() -> RuleSet {
    let mut rules = RuleSet::default_rules();
    for rule in &mut rules.rules {
        match &mut rule.detector {
            Detector::ContinuousFlow(config) => config.flow_running = None,
            Detector::Spike(config) => config.reported_flow = false,
            _ => {}
        }
    }
    rules
}

fn live(readings: &[Reading]) -> Run {
    let mut run = Run::new();
    run.live(readings);
    run
}

#[test]
fn a_running_toilet_reported_flowing_at_every_reading_fires_after_an_hour_not_a_day() {
    let with_flow =
        toilet().readings_with_flow("2026-11-01 00:00", "2026-11-03 23:45", minutes(15));
    let run = live(&with_flow);
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // Flowing at 13:15, 13:30, 13:45, 14:00 and 14:15: five readings, an hour.
    assert_between(fired[0], "2026-11-02 14:15", "2026-11-02 14:15");
    assert!(
        run.story().contains(
            &"running_toilet fired 11-02 14:15: Water flowing at every reading since 13:15 (1 h, 5 readings, 0.5 L/min now); a person's use comes and goes, so water is running somewhere: a toilet, a tap left on or a leak."
                .to_owned()
        ),
        "{:?}",
        run.story()
    );
    // The same meter without its flow: the fixed day of the learning period.
    let without = toilet().readings("2026-11-01 00:00", "2026-11-03 23:45", minutes(15));
    let run = live(&without);
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], "2026-11-03 13:00", "2026-11-03 13:30");
}

#[test]
fn the_evidence_speaks_the_households_language() {
    let with_flow =
        toilet().readings_with_flow("2026-11-02 00:00", "2026-11-02 15:00", minutes(15));
    let mut run = Run::new();
    run.engine
        .set_household_language(METER, waterwatch_rules::Language::ZhCn);
    run.live(&with_flow);
    assert!(
        run.story().contains(
            &"running_toilet fired 11-02 14:15: 自13:15起每次读数水表都报告有水流（1小时，连续5次，当前0.5升/分钟）；人用水时断时续，可能是马桶漏水、水龙头未关或漏水。"
                .to_owned()
        ),
        "{:?}",
        run.story()
    );
}

#[test]
fn hourly_meters_see_one_flow_sample_an_hour_and_need_four_in_a_row() {
    let hourly = toilet().readings_with_flow("2026-11-01 00:00", "2026-11-03 23:00", minutes(60));
    let run = live(&hourly);
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // Flowing at 14:00, 15:00, 16:00, 17:00.
    assert_between(fired[0], "2026-11-02 17:00", "2026-11-02 17:00");
}

#[test]
fn ten_second_readings_find_the_toilet_though_most_intervals_show_no_litre() {
    let readings = toilet().readings_with_flow(
        "2026-11-02 12:00",
        "2026-11-02 15:00",
        Duration::seconds(10),
    );
    let run = live(&readings);
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // Flowing from the 13:10:00 reading (the toilet starts then); an hour
    // later, at the first reading whose register moved.
    assert_between(fired[0], "2026-11-02 14:10", "2026-11-02 14:12:30");
}

#[test]
fn a_busy_morning_caught_flowing_at_reading_after_reading_is_not_a_running_toilet() {
    // Water running at 07:15, 07:30, 07:45, 08:00 and 08:15 (a shower, the
    // kitchen tap, a flush, the kettle, the washing-up), but only minutes of
    // it in each quarter hour: far less than flowing all the time.
    let morning = Household::new(1000.0)
        .runs("2026-11-01 07:10", 8, 8.0)
        .runs("2026-11-01 07:28", 3, 6.0)
        .runs("2026-11-01 07:44", 2, 6.0)
        .runs("2026-11-01 07:59", 2, 6.0)
        .runs("2026-11-01 08:12", 4, 5.0)
        .uses("2026-11-01 12:00", 10.0)
        .uses("2026-11-01 19:00", 30.0);
    let readings = morning.readings_with_flow("2026-11-01 00:00", "2026-11-01 23:45", minutes(15));
    let caught = readings
        .iter()
        .filter(|r| r.flow_lpm.is_some_and(|f| f > 0.0))
        .count();
    assert_eq!(
        caught, 5,
        "the test morning must be seen flowing five times"
    );
    let run = live(&readings);
    assert_eq!(run.story(), Vec::<String>::new());
    // A cistern refilling slowly for 50 minutes: flowing, confirmed, but
    // not for an hour.
    let refill = Household::new(1000.0).flow("2026-11-01 07:10", "2026-11-01 08:00", 0.5);
    let run = live(&refill.readings_with_flow("2026-11-01 00:00", "2026-11-01 12:00", minutes(15)));
    assert_eq!(run.story(), Vec::<String>::new());
}

#[test]
fn a_ten_litre_pulse_meter_finds_the_toilet_once_and_keeps_it_until_it_stops() {
    // The same toilet on a meter whose register moves in 10 L pulses: at
    // 0.5 L/min one quarter hour in four shows nothing. Judged per quarter
    // hour, the run broke there and the alert fired and resolved every one
    // or two hours (77 times for one toilet in a 60-household replay).
    let pulses: Vec<Reading> = toilet()
        .readings_with_flow("2026-11-01 00:00", "2026-11-03 23:45", minutes(15))
        .into_iter()
        .map(|mut r| {
            r.total_l = (r.total_l / 10.0).floor() * 10.0;
            r
        })
        .collect();
    let run = live(&pulses);
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], "2026-11-02 14:15", "2026-11-02 14:45");
    assert!(
        run.resolved("running_toilet").is_empty(),
        "{:?}",
        run.story()
    );
}

#[test]
fn a_reading_without_a_flow_value_starts_the_run_again() {
    let mut readings =
        toilet().readings_with_flow("2026-11-01 00:00", "2026-11-02 18:00", minutes(15));
    for r in &mut readings {
        if r.ts == at("2026-11-02 13:45") {
            r.flow_lpm = None;
        }
    }
    let run = live(&readings);
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // From 14:00: five readings and an hour at 15:00.
    assert_between(fired[0], "2026-11-02 15:00", "2026-11-02 15:00");
}

#[test]
fn a_data_gap_starts_the_run_again() {
    let readings: Vec<Reading> = toilet()
        .readings_with_flow("2026-11-01 00:00", "2026-11-02 18:00", minutes(15))
        .into_iter()
        .filter(|r| !(at("2026-11-02 13:45")..at("2026-11-02 16:00")).contains(&r.ts))
        .collect();
    let run = live(&readings);
    let fired = run.fired("running_toilet");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // 13:30 to 16:00 is a gap: the run starts again at 16:00.
    assert_between(fired[0], "2026-11-02 17:00", "2026-11-02 17:00");
}

#[test]
fn duplicated_and_late_readings_change_no_decision() {
    let readings = toilet().readings_with_flow("2026-11-01 00:00", "2026-11-02 18:00", minutes(15));
    let straight = live(&readings);
    let mut messy = Run::new();
    for (i, r) in readings.iter().enumerate() {
        messy.tick_until(r.ts);
        messy.observe(r, r.ts);
        // The same reading again, then an older one arriving late without flow.
        messy.observe(r, r.ts);
        if i >= 2 {
            let late = Reading {
                flow_lpm: Some(0.0),
                ..readings[i - 2].clone()
            };
            messy.observe(&late, r.ts);
        }
    }
    assert_eq!(messy.story(), straight.story());
    assert_eq!(messy.count(Note::Duplicate), readings.len());
    assert_eq!(messy.count(Note::OutOfOrder), readings.len() - 2);
    assert_eq!(messy.fired("running_toilet").len(), 1);
}

#[test]
fn a_burst_a_minute_before_a_reading_fires_at_that_reading_and_resolves_when_it_stops() {
    let home = usual(2).flow("2026-11-02 10:14", "2026-11-02 10:50", 40.0);
    let with_flow = home.readings_with_flow("2026-11-01 00:00", "2026-11-02 12:00", minutes(15));
    let run = live(&with_flow);
    assert_eq!(
        run.fired("burst"),
        [at("2026-11-02 10:15")],
        "{:?}",
        run.story()
    );
    assert_eq!(
        run.resolved("burst"),
        [at("2026-11-02 11:00")],
        "{:?}",
        run.story()
    );
    assert!(
        run.story().contains(
            &"burst fired 11-02 10:15: The meter reports 40 L/min flowing at 10:15 (40 L since 10:00); the limit is 30 L/min, like a burst pipe."
                .to_owned()
        ),
        "{:?}",
        run.story()
    );
    // Without the flow, 40 L in a quarter hour is a bath: the whole next
    // interval is needed.
    let run = live(&home.readings("2026-11-01 00:00", "2026-11-02 12:00", minutes(15)));
    assert_eq!(
        run.fired("burst"),
        [at("2026-11-02 10:30")],
        "{:?}",
        run.story()
    );
}

#[test]
fn one_odd_flow_sample_is_not_a_burst() {
    let mut readings =
        usual(2).readings_with_flow("2026-11-01 00:00", "2026-11-02 23:45", minutes(15));
    // 07:00's 20 L shows at the 07:00 reading; the meter reports 45 L/min
    // there and 120 L/min at 12:00 (10 L): neither has the litres behind it.
    for r in &mut readings {
        if r.ts == at("2026-11-02 07:00") {
            r.flow_lpm = Some(45.0);
        }
        if r.ts == at("2026-11-02 12:00") {
            r.flow_lpm = Some(120.0);
        }
    }
    let run = live(&readings);
    assert_eq!(run.story(), Vec::<String>::new());
}

#[test]
fn meters_without_flow_are_judged_exactly_as_before() {
    let home = toilet().flow("2026-11-03 10:14", "2026-11-03 10:50", 40.0);
    let readings = home.readings("2026-11-01 00:00", "2026-11-03 23:45", minutes(15));
    let shipped = live(&readings);
    let mut before = Run::with_rules(register_only());
    before.live(&readings);
    assert!(shipped.events.len() >= 3, "{:?}", shipped.story());
    assert_eq!(shipped.story(), before.story());
    assert_eq!(
        shipped.engine.meter_state(METER),
        before.engine.meter_state(METER)
    );
}

#[test]
fn restoring_meter_state_mid_run_changes_no_decision_on_flow() {
    let home = toilet().flow("2026-11-03 10:14", "2026-11-03 10:50", 40.0);
    let readings = home.readings_with_flow("2026-11-01 00:00", "2026-11-03 23:45", minutes(15));
    let straight = live(&readings);
    assert!(
        straight.fired("running_toilet").len() == 1,
        "{:?}",
        straight.story()
    );
    assert!(straight.fired("burst").len() == 1, "{:?}", straight.story());
    let mut restarted = Run::new();
    restarted.live_restarting(&readings, 5, 2);
    assert_eq!(restarted.story(), straight.story());
    assert_eq!(
        restarted.engine.meter_state(METER),
        straight.engine.meter_state(METER)
    );
}
