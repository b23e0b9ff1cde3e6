//! Learned inactivity as timelines: weeks of a household's own rhythm, then
//! what happens when the water stops (and when it must not alert).

mod support;

use chrono::Duration;
use support::{Household, METER, Run, assert_between, at, dates, minutes, shipped_with};
use waterwatch_rules::{Engine, Language, MeterState, RuleSet};

const HOURLY: &[&str] = &[
    "07:00", "08:00", "09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00",
    "17:00", "18:00", "19:00", "20:00", "21:00", "22:00",
];
/// The same day, but out from 13:00 to 16:00 (no water 12:00 → 16:00).
const OUT_EVERY_AFTERNOON: &[&str] = &[
    "07:00", "08:00", "09:00", "10:00", "11:00", "12:00", "16:00", "17:00", "18:00", "19:00",
    "20:00", "21:00", "22:00",
];

/// `days` days of `routine`, then the routine up to and including `until` on the next day.
fn weeks_then_collapse(routine: &[&str], days: i64, until: &str) -> (Household, String) {
    let all = dates(days + 1);
    let mut h = Household::new(1000.0);
    for d in &all[..days as usize] {
        h = h.uses_at(d, routine);
    }
    let last = &all[days as usize];
    let before: Vec<&str> = routine.iter().copied().filter(|t| *t <= until).collect();
    (h.uses_at(last, &before), last.clone())
}

fn run_until(h: &Household, until: &str) -> Run {
    let mut run = Run::new();
    run.live(&h.readings("2026-11-01 00:00", until, minutes(15)));
    run
}

#[test]
fn a_household_out_every_afternoon_does_not_alert_at_three_and_a_half_hours_but_a_homebody_alerts_within_four()
 {
    let (goer, date) = weeks_then_collapse(OUT_EVERY_AFTERNOON, 21, "12:00");
    let (homebody, _) = weeks_then_collapse(HOURLY, 21, "12:00");

    let goer_run = run_until(&goer, &format!("{date} 18:00"));
    let fired = goer_run.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", goer_run.story());
    assert!(
        fired[0] > at(&format!("{date} 15:30")),
        "{:?}",
        goer_run.story()
    );
    assert!(
        fired[0] < at(&format!("{date} 18:00")),
        "{:?}",
        goer_run.story()
    );

    let home_run = run_until(&homebody, &format!("{date} 18:00"));
    let fired = home_run.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", home_run.story());
    assert_between(fired[0], &format!("{date} 14:45"), &format!("{date} 16:00"));
    assert!(
        home_run.story()[0].contains("this household goes at most"),
        "{:?}",
        home_run.story()
    );
}

#[test]
fn during_the_learning_period_the_fixed_rule_applies_and_the_state_says_so() {
    let (home, date) = weeks_then_collapse(HOURLY, 5, "10:00");
    let run = run_until(&home, &format!("{date} 23:45"));
    assert_eq!(
        run.story(),
        [format!(
            "inactivity fired {} 22:00: No water used since 10:00 (12 h); still learning this household's rhythm (5 of 14 days), so the fixed limit of 12 h applies.",
            &date[5..]
        )]
    );
    assert!(run.engine.learning(METER));
    let status = run.engine.baseline_status(METER).unwrap();
    assert_eq!((status.days_seen, status.learning_days), (5, 14));

    let (home, date) = weeks_then_collapse(HOURLY, 15, "10:00");
    let run = run_until(&home, &format!("{date} 23:45"));
    assert!(!run.engine.learning(METER));
    assert_between(
        run.fired("inactivity")[0],
        &format!("{date} 12:45"),
        &format!("{date} 14:00"),
    );
}

#[test]
fn a_week_away_is_not_learned_as_normal() {
    let all = dates(40);
    let mut h = Household::new(1000.0);
    for (i, d) in all.iter().enumerate() {
        let away = (20..27).contains(&i);
        if !away && i < 39 {
            h = h.uses_at(d, HOURLY);
        }
    }
    h = h.uses_at(&all[39], &["07:00", "08:00", "09:00", "10:00"]);
    let run = run_until(&h, &format!("{} 23:45", all[39]));
    let fired = run.fired("inactivity");
    // Once on the first morning away (the night has run past its usual
    // longest, before the morning check's 10:00: up at 07:00, two hours
    // late allowed, an hour's margin; away mode is the daemon's business),
    // then for the collapse as soon as a homebody's limit allows: not a
    // week later, and not at the 12 h ceiling.
    assert_eq!(fired.len(), 2, "{:?}", run.story());
    assert_between(
        fired[0],
        &format!("{} 09:15", all[20]),
        &format!("{} 10:15", all[20]),
    );
    assert_between(
        fired[1],
        &format!("{} 12:45", all[39]),
        &format!("{} 14:00", all[39]),
    );
}

/// `first_days` of `first`, `then_days` of `then`, then a day that stops
/// after the 12:00 use, run to that day's end.
fn changed_routine(first: &[&str], first_days: usize, then: &[&str], then_days: usize) -> Run {
    let all = dates((first_days + then_days + 1) as i64);
    let mut h = Household::new(1000.0);
    for (i, d) in all.iter().enumerate() {
        h = match i {
            i if i < first_days => h.uses_at(d, first),
            i if i < first_days + then_days => h.uses_at(d, then),
            _ => h.uses_at(d, &["07:00", "08:00", "09:00", "10:00", "11:00", "12:00"]),
        };
    }
    let last = &all[first_days + then_days];
    run_until(&h, &format!("{last} 23:45"))
}

#[test]
fn a_habit_of_outings_that_stops_fades_without_the_limit_leaping_past_it() {
    // Out every afternoon for six weeks (12:00 → 16:00), then at home all
    // day. The outings fade slowly (half-life four weeks); when fewer than
    // five are left, an exponential tail fitted to them *and* the hourly
    // stretches once put the limit at 10-15 h (fired at 22:30 after 12
    // weeks at home), far beyond any stretch this household ever had.
    for weeks in [2, 12, 16] {
        let run = changed_routine(OUT_EVERY_AFTERNOON, 42, HOURLY, weeks * 7);
        let last = *run
            .fired("inactivity")
            .last()
            .expect("the collapse is found");
        let date = last.format("%Y-%m-%d").to_string();
        assert_between(last, &format!("{date} 16:15"), &format!("{date} 17:15"));
    }
    // And the other way: three afternoons out after six weeks at home.
    // The first draws an alert (it is new); after three, a stretch from
    // noon is held to about the outings' length, not to 10 h.
    let run = changed_routine(HOURLY, 42, OUT_EVERY_AFTERNOON, 3);
    let fired = run.fired("inactivity");
    assert_eq!(fired.len(), 2, "{:?}", run.story());
    let date = fired[1].format("%Y-%m-%d").to_string();
    assert_between(fired[1], &format!("{date} 16:15"), &format!("{date} 17:15"));
}

#[test]
fn the_fixed_twelve_hours_remain_an_upper_bound() {
    // Someone who is out all day, every day: water at 07:00, then from 18:30.
    let routine = &["06:30", "07:00", "18:30", "20:30", "21:30"];
    let (home, date) = weeks_then_collapse(routine, 21, "07:00");
    let run = run_until(&home, &format!("{date} 23:45"));
    let fired = run.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], &format!("{date} 19:00"), &format!("{date} 19:00"));
    assert!(
        run.story()[0].contains("capped at 12 h"),
        "{:?}",
        run.story()
    );
}

#[test]
fn a_night_collapse_alerts_soon_after_the_usual_rising_time() {
    let routine = &[
        "02:00", "07:00", "07:20", "08:00", "10:00", "12:00", "14:00", "16:00", "18:00", "20:00",
        "22:00",
    ];
    let (home, date) = weeks_then_collapse(routine, 21, "02:00");
    // Up at 07:00 every day so far, after a visit to the bathroom at 02:00.
    // A morning two hours late would still be normal, so the stretch from
    // 02:00 (which has always ended by 07:00) is not overdue before 09:00.
    let run = run_until(&home, &format!("{date} 12:00"));
    let fired = run.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_eq!(
        run.story()[0],
        format!(
            "inactivity fired {} 09:00: No water used since 02:00 (7 h). This household's mornings usually start around 07:00, and one up to 2 h later is still normal; still no water at 09:00.",
            &date[5..]
        )
    );
    // Judged by its own mornings alone, an hour after the latest it has had.
    let mut own = Run::with_rules(shipped_with(|l| l.late_morning = None));
    own.live(&home.readings("2026-11-01 00:00", &format!("{date} 12:00"), minutes(15)));
    let fired = own.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", own.story());
    assert_eq!(
        own.story()[0],
        format!(
            "inactivity fired {} 08:00: No water used since 02:00 (6 h). This household's mornings usually start by 07:00; still no water at 08:00.",
            &date[5..]
        )
    );
}

#[test]
fn a_silent_meter_never_fires_inactivity_even_with_a_learned_baseline() {
    let (home, date) = weeks_then_collapse(HOURLY, 21, "10:00");
    let mut run = Run::new();
    let readings = home.readings("2026-11-01 00:00", &format!("{date} 10:00"), minutes(15));
    run.live(&readings);
    // No readings for two days; only ticks.
    run.tick_until(at(&format!("{date} 10:00")) + Duration::days(2));
    assert!(run.fired("inactivity").is_empty(), "{:?}", run.story());
    assert_eq!(run.fired("meter_offline").len(), 1, "{:?}", run.story());
}

#[test]
fn restoring_state_from_json_with_a_learned_baseline_changes_no_decision() {
    let (home, date) = weeks_then_collapse(OUT_EVERY_AFTERNOON, 21, "12:00");
    let readings = home.readings("2026-11-01 00:00", &format!("{date} 23:00"), minutes(15));
    let mut straight = Run::new();
    straight.live(&readings);

    let mut restarted = Run::new();
    for (i, r) in readings.iter().enumerate() {
        if i % 500 == 0 {
            let json = serde_json::to_string(&restarted.engine.meter_state(METER)).unwrap();
            let state: Option<MeterState> = serde_json::from_str(&json).unwrap();
            restarted.engine = Engine::new(RuleSet::default_rules());
            if let Some(state) = state {
                assert_eq!(Some(&state), restarted_state(&json).as_ref());
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
    assert!(!straight.story().is_empty());
}

fn restarted_state(json: &str) -> Option<MeterState> {
    serde_json::from_str(json).unwrap()
}

#[test]
fn the_stored_state_stays_under_two_kibibytes_after_four_months_of_varied_days() {
    let mut h = Household::new(1000.0);
    let mut seed: u64 = 42;
    let mut next = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as i64
    };
    for d in dates(120) {
        let mut minute = 6 * 60 + next() % 120;
        while minute < 23 * 60 {
            h = h.uses(&format!("{d} {:02}:{:02}", minute / 60, minute % 60), 2.0);
            minute += 5 + next() % 300;
        }
        let night = next() % 300;
        h = h.uses(&format!("{d} {:02}:{:02}", night / 60, night % 60), 6.0);
    }
    let readings = h.readings("2026-11-01 00:00", "2027-02-28 23:45", minutes(15));
    let mut with_weekend = RuleSet::default_rules();
    with_weekend.baseline.weekend_min_days = Some(8);
    // (the whole state; 4 KiB is the budget; the weekend split adds its own histograms)
    for (rules, budget) in [(RuleSet::default_rules(), 2048), (with_weekend, 2560)] {
        let mut run = Run::with_rules(rules);
        run.live(&readings);
        let state = run.engine.meter_state(METER).unwrap();
        let size = serde_json::to_vec(&state).unwrap().len();
        assert!(size <= budget, "{size} bytes");
        assert!(state.baseline().days() >= 100);
    }
}

#[test]
fn a_household_can_be_told_in_chinese() {
    let (home, date) = weeks_then_collapse(HOURLY, 21, "12:00");
    let mut run = Run::new();
    run.engine.set_household_language(METER, Language::ZhCn);
    run.live(&home.readings("2026-11-01 00:00", &format!("{date} 18:00"), minutes(15)));
    let story = run.story();
    assert_eq!(story.len(), 1, "{story:?}");
    assert!(
        story[0].contains("自12:00起未用水（3小时）。该住户平时在12:00前后最长约"),
        "{story:?}"
    );
}

#[test]
fn a_household_with_a_heart_condition_gets_its_own_tighter_limits() {
    let text = format!(
        "{}\n[[household]]\nid = \"{METER}\"\nnote = \"heart condition\"\ninactivity_after = \"10h\"\ninactivity_min = \"2h\"\n",
        waterwatch_rules::config::DEFAULT_RULES_TOML
    );
    let rules = RuleSet::parse("rules.toml", &text).unwrap();

    // While learning: 10 h instead of 12 h (nights of 9 h still pass).
    let (home, date) = weeks_then_collapse(HOURLY, 3, "10:00");
    let mut run = Run::with_rules(rules.clone());
    run.live(&home.readings("2026-11-01 00:00", &format!("{date} 23:45"), minutes(15)));
    assert_eq!(run.fired("inactivity"), [at(&format!("{date} 20:00"))]);

    // Learned: a homebody's limit may go below the usual 3 h minimum.
    let (home, date) = weeks_then_collapse(HOURLY, 21, "12:00");
    let mut run = Run::with_rules(rules);
    run.live(&home.readings("2026-11-01 00:00", &format!("{date} 23:45"), minutes(15)));
    let fired = run.fired("inactivity");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], &format!("{date} 14:00"), &format!("{date} 14:30"));
}
