//! Whole scenarios as timelines: a household's water use, the readings its
//! meter sends, when they arrive, and which alerts must (and must not) follow.

mod support;

use support::{Household, METER, Run, assert_between, at, minutes, reading};
use waterwatch_rules::Note;

const DAY1: &str = "2026-11-24";
const DAY2: &str = "2026-11-25";
const DAY3: &str = "2026-11-26";

fn days(h: Household, dates: &[&str]) -> Household {
    dates.iter().fold(h, |h, d| h.normal_day(d))
}

#[test]
fn normal_days_raise_no_alert() {
    let home = days(Household::new(5000.0), &[DAY1, DAY2, DAY3]);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-24 00:00", "2026-11-26 23:45", minutes(15)));
    assert_eq!(run.story(), Vec::<String>::new());
    assert!(run.notes.is_empty(), "{:?}", run.notes);
}

#[test]
fn a_collapse_at_ten_fires_inactivity_twelve_hours_later_within_one_reading() {
    let home = Household::new(5000.0)
        .normal_day(DAY1)
        .day_until(DAY2, "09:50");
    let mut run = Run::new();
    run.live(&home.readings("2026-11-24 00:00", "2026-11-26 06:00", minutes(15)));
    assert_eq!(
        run.story(),
        [
            "inactivity fired 11-25 22:00: No water used since 10:00 (12 h); still learning this household's rhythm (1 of 14 days), so the fixed limit of 12 h applies."
        ]
    );
    assert_between(
        run.fired("inactivity")[0],
        "2026-11-25 21:45",
        "2026-11-25 22:15",
    );
}

#[test]
fn use_after_a_collapse_alert_resolves_it_once() {
    let home = Household::new(5000.0)
        .day_until(DAY1, "09:50")
        .uses("2026-11-25 01:10", 4.0);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-24 00:00", "2026-11-25 06:00", minutes(15)));
    assert_eq!(
        run.story(),
        [
            "inactivity fired 11-24 22:00: No water used since 10:00 (12 h); still learning this household's rhythm (0 of 14 days), so the fixed limit of 12 h applies.",
            "inactivity resolved 11-25 01:15: Water used again between 01:00 and 01:15.",
        ]
    );
}

#[test]
fn a_batch_of_hourly_readings_showing_fourteen_hours_without_use_fires_during_the_batch() {
    let home = Household::new(800.0)
        .uses("2026-11-24 06:30", 20.0)
        .uses("2026-11-24 08:00", 5.0);
    let batch = home.readings("2026-11-24 00:00", "2026-11-24 22:00", minutes(60));
    let mut run = Run::new();
    run.batch(&batch, at("2026-11-24 23:05"));
    assert_eq!(
        run.story(),
        [
            "inactivity fired 11-24 23:05: No water used since 08:00 (12 h); still learning this household's rhythm (0 of 14 days), so the fixed limit of 12 h applies."
        ]
    );
    assert!(!run.engine.active_alerts(METER).is_empty());
}

#[test]
fn a_daily_upload_sent_as_separate_messages_is_one_upload_not_a_meter_that_reports_every_few_ms() {
    // An NB-IoT gateway sends each day's 24 hourly readings at 02:00 as 24
    // messages, heard 3 ms apart. Taken as 24 arrivals, the meter seemed
    // to report every few milliseconds and was "offline" at 05:15 daily.
    let all = support::dates(15);
    let home = support::usual(15);
    let mut run = Run::new();
    for day in all.windows(2) {
        let upload = at(&format!("{} 02:00", day[1]));
        let readings = home.readings(
            &format!("{} 02:00", day[0]),
            &format!("{} 01:00", day[1]),
            minutes(60),
        );
        run.tick_until(upload);
        for (i, r) in (0..).zip(&readings) {
            run.observe(r, upload + chrono::Duration::milliseconds(3 * i));
        }
    }
    run.tick_until(at("2026-11-15 23:00"));
    // Not after the first upload either: it carried 23 h of readings.
    assert!(run.fired("meter_offline").is_empty(), "{:?}", run.story());
    // Until the meter stops: a day and 3 h after its last upload.
    run.tick_until(at("2026-11-17 02:00"));
    assert_eq!(
        run.story(),
        [
            "meter_offline fired 11-16 05:15: No data from the meter since 02:00 yesterday (1 d 3 h); it usually reports every 1 d, and the limit is 3 h beyond that. The resident is unmonitored."
        ]
    );
}

#[test]
fn a_meter_silent_for_two_days_is_offline_and_never_inactive() {
    let home = Household::new(5000.0)
        .normal_day(DAY1)
        .uses("2026-11-25 08:00", 30.0);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-24 00:00", "2026-11-24 12:00", minutes(15)));
    run.tick_until(at("2026-11-26 11:59"));
    assert_eq!(run.fired("meter_offline"), [at("2026-11-24 15:30")]);
    assert!(run.fired("inactivity").is_empty(), "{:?}", run.story());

    // Data returns; the register shows the use during the silence.
    run.live(&home.readings("2026-11-26 12:00", "2026-11-26 20:00", minutes(15)));
    assert_eq!(run.resolved("meter_offline"), [at("2026-11-26 12:00")]);
    assert!(run.fired("inactivity").is_empty(), "{:?}", run.story());
    assert_eq!(run.events.len(), 2, "{:?}", run.story());
}

#[test]
fn a_source_that_publishes_only_changes_is_told_apart_from_a_silent_meter_only_in_words() {
    // Home Assistant's statestream publishes a sensor when its value
    // changes: readings (every 5 minutes) only when the register moved.
    let five = [DAY1, DAY2, DAY3, "2026-11-27", "2026-11-28"];
    let home = days(Household::new(5000.0), &five);
    let mut last = None;
    let changes: Vec<_> = home
        .readings("2026-11-24 00:00", "2026-11-28 23:55", minutes(5))
        .into_iter()
        .filter(|r| last.replace(r.total_l) != Some(r.total_l))
        .collect();
    let mut run = Run::new();
    run.live(&changes);
    run.tick_until(at("2026-11-28 23:55"));
    // Silence is never no use: no inactivity, but the silence of every
    // night is meter_offline, with a word on why.
    assert!(run.fired("inactivity").is_empty(), "{:?}", run.story());
    let nights = run.fired("meter_offline");
    assert!(nights.len() >= 4, "{:?}", run.story());
    let texts: Vec<_> = run
        .story()
        .into_iter()
        .filter(|s| s.starts_with("meter_offline fired"))
        .collect();
    assert!(
        texts.last().is_some_and(|s| s.contains(
            "Every reading it sent moved the register: it may publish only when the value changes"
        )),
        "{texts:?}"
    );

    // A meter on a clock says nothing of the kind when it stops.
    let mut clocked = Run::new();
    clocked.live(&home.readings("2026-11-24 00:00", "2026-11-25 12:00", minutes(5)));
    clocked.tick_until(at("2026-11-25 20:00"));
    let story = clocked.story();
    assert!(
        story
            .iter()
            .any(|s| s.starts_with("meter_offline fired") && !s.contains("moved the register")),
        "{story:?}"
    );
}

#[test]
fn a_meter_back_after_two_days_with_the_same_register_proves_the_quiet() {
    let home = Household::new(5000.0).day_until(DAY1, "09:50");
    let mut run = Run::new();
    run.live(&home.readings("2026-11-24 00:00", "2026-11-24 12:00", minutes(15)));
    run.tick_until(at("2026-11-26 11:59"));
    assert!(run.fired("inactivity").is_empty(), "{:?}", run.story());
    run.live(&home.readings("2026-11-26 12:00", "2026-11-26 13:00", minutes(15)));
    assert_eq!(
        run.story()[1..],
        [
            "inactivity fired 11-26 12:00: No water used since 10:00 on 24 Nov (2 d 2 h); still learning this household's rhythm (1 of 14 days), so the fixed limit of 12 h applies.",
            "meter_offline resolved 11-26 12:00: The meter is reporting again (silent for 2 d).",
        ]
    );
}

#[test]
fn a_tap_left_open_fires_tap_running_within_two_hours_fifteen() {
    let home =
        Household::new(5000.0)
            .normal_day(DAY1)
            .flow("2026-11-24 10:35", "2026-11-24 15:02", 6.0);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-24 00:00", "2026-11-24 23:45", minutes(15)));
    let fired = run.fired("tap_running");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    // Opened at 10:35: the data cannot place it closer than one 15-min window.
    assert_between(fired[0], "2026-11-24 12:20", "2026-11-24 12:50");
    assert_eq!(run.resolved("tap_running"), [at("2026-11-24 15:30")]);
    assert!(run.fired("burst").is_empty() && run.fired("inactivity").is_empty());
    assert_eq!(run.events.len(), 2, "{:?}", run.story());
}

#[test]
fn a_trickle_seen_by_ten_second_readings_is_a_leak_and_a_running_toilet_after_a_day_while_learning_and_never_a_tap()
 {
    let home = days(Household::new(5000.0), &[DAY1, DAY2]).flow(
        "2026-11-24 03:00",
        "2026-11-26 00:00",
        0.2,
    );
    let mut run = Run::new();
    run.tick_every = minutes(5);
    run.live(&home.readings(
        "2026-11-24 00:00",
        "2026-11-25 05:00",
        chrono::Duration::seconds(10),
    ));
    let fired = run.fired("leak_trickle");
    assert_eq!(fired.len(), 1, "{:?}", run.story());
    assert_between(fired[0], "2026-11-25 03:00", "2026-11-25 04:00");
    // Still learning: the running-toilet rule falls back to its fixed day too.
    let toilet = run.fired("running_toilet");
    assert_eq!(toilet.len(), 1, "{:?}", run.story());
    assert_between(toilet[0], "2026-11-25 03:00", "2026-11-25 04:00");
    assert_eq!(run.events.len(), 2, "{:?}", run.story());
    let state = run
        .engine
        .meter_state(METER)
        .map(|s| serde_json::to_string(&s).unwrap());
    let size = state.map_or(0, |s| s.len());
    assert!(size < 4096, "state is {size} bytes");
}

#[test]
fn a_burst_fires_on_the_first_interval_and_resolves_when_it_stops() {
    let home =
        Household::new(5000.0)
            .normal_day(DAY1)
            .flow("2026-11-24 10:00", "2026-11-24 10:45", 50.0);
    let mut run = Run::new();
    run.live(&home.readings("2026-11-24 00:00", "2026-11-24 12:00", minutes(15)));
    assert_eq!(
        run.story(),
        [
            "burst fired 11-24 10:15: Water flowing at 50 L/min over the 15 min up to 10:15; the limit is 30 L/min.",
            "unusual_volume fired 11-24 10:15: Water flowing at 12.6 L/min over the 1 h up to 10:15; still learning this household's use, so the fixed limit of 10 L/min applies.",
            "burst resolved 11-24 11:00: Flow down to 0 L/min over the 15 min up to 11:00.",
            "unusual_volume resolved 11-24 11:45: Flow down to 0 L/min over the 1 h up to 11:45.",
        ]
    );
}

#[test]
fn a_counter_reset_is_neither_use_nor_a_burst() {
    let before = Household::new(5000.0).normal_day(DAY1);
    let after = Household::new(0.0).normal_day(DAY1);
    let mut readings = before.readings("2026-11-24 00:00", "2026-11-24 11:45", minutes(15));
    readings.extend(after.readings("2026-11-24 12:00", "2026-11-24 23:45", minutes(15)));
    let mut run = Run::new();
    run.live(&readings);
    assert_eq!(run.story(), Vec::<String>::new());
    assert_eq!(
        (run.count(Note::CounterReset), run.notes.len()),
        (1, 1),
        "{:?}",
        run.notes
    );
}

#[test]
fn small_negative_deltas_are_not_use_and_do_not_mask_a_collapse() {
    let home = Household::new(5000.0).day_until(DAY1, "09:50");
    let mut readings = home.readings("2026-11-24 00:00", "2026-11-25 02:00", minutes(60));
    for (i, r) in readings.iter_mut().enumerate().skip(12) {
        if i % 2 == 1 {
            r.total_l -= 2.0;
        }
    }
    let mut run = Run::new();
    run.live(&readings);
    assert_eq!(
        run.fired("inactivity"),
        [at("2026-11-24 22:00")],
        "{:?}",
        run.story()
    );
    assert_eq!(run.count(Note::NegativeDelta), 7);
}

#[test]
fn duplicated_readings_change_nothing_but_notes() {
    let home = Household::new(5000.0)
        .normal_day(DAY1)
        .day_until(DAY2, "09:50");
    let readings = home.readings("2026-11-24 00:00", "2026-11-26 00:00", minutes(15));
    let mut once = Run::new();
    once.live(&readings);
    let mut twice = Run::new();
    for r in &readings {
        twice.tick_until(r.ts);
        twice.observe(r, r.ts);
        twice.observe(r, r.ts + minutes(1));
    }
    assert_eq!(twice.events, once.events);
    assert_eq!(twice.count(Note::Duplicate), readings.len());
    assert_eq!(
        twice.engine.meter_state(METER),
        once.engine.meter_state(METER)
    );
}

#[test]
fn late_readings_are_ignored_for_detection() {
    let home = Household::new(5000.0).normal_day(DAY1);
    let mut readings = home.readings("2026-11-24 00:00", "2026-11-24 23:45", minutes(15));
    for i in (10..80).step_by(10) {
        readings.swap(i, i + 1);
    }
    let mut run = Run::new();
    for r in &readings {
        run.observe(r, r.ts.max(at("2026-11-24 00:00")));
    }
    assert_eq!(run.story(), Vec::<String>::new());
    assert_eq!(run.count(Note::OutOfOrder), 7);
}

#[test]
fn a_stream_interleaving_two_registers_raises_nothing() {
    // DAIAD: each hour a reading of the real register, and 3 minutes later one
    // of another register 248,243 L above it.
    let home = days(Household::new(1000.0), &[DAY1, DAY2, DAY3]);
    let mut readings = Vec::new();
    for real in home.readings("2026-11-24 00:00", "2026-11-26 23:00", minutes(60)) {
        let ghost = reading(real.ts + minutes(3), real.total_l + 248_243.0);
        readings.extend([real, ghost]);
    }
    let mut run = Run::new();
    run.live(&readings);
    assert_eq!(run.story(), Vec::<String>::new());
    assert_eq!(
        run.count(Note::CounterReset) + run.count(Note::ImplausibleJump),
        0
    );
    assert_eq!(run.count(Note::Outlier), 71);
}

#[test]
fn an_absurd_jump_after_a_gap_is_not_a_burst() {
    let home = days(Household::new(5000.0), &[DAY1, DAY2]);
    let mut readings = home.readings("2026-11-24 00:00", "2026-11-24 12:00", minutes(15));
    for mut r in home.readings("2026-11-24 22:00", "2026-11-25 23:45", minutes(15)) {
        r.total_l += 1_000_000.0;
        readings.push(r);
    }
    let mut run = Run::new();
    for r in &readings {
        run.observe(r, r.ts);
    }
    assert_eq!(run.story(), Vec::<String>::new());
    assert_eq!(run.count(Note::ImplausibleJump), 1, "{:?}", run.notes);
}

#[test]
fn restoring_meter_state_mid_stream_changes_no_decision() {
    let home = Household::new(5000.0)
        .normal_day(DAY1)
        .day_until(DAY2, "09:50")
        .flow("2026-11-24 10:00", "2026-11-24 13:00", 40.0);
    let mut readings = home.readings("2026-11-24 00:00", "2026-11-24 14:00", minutes(15));
    readings.extend(home.readings("2026-11-24 19:00", "2026-11-26 06:00", minutes(15)));
    let mut straight = Run::new();
    straight.live(&readings);
    assert!(straight.events.len() >= 6, "{:?}", straight.story());

    let mut restarted = Run::new();
    restarted.live_restarting(&readings, 7, 3);
    assert_eq!(restarted.story(), straight.story());
    assert_eq!(
        restarted.engine.meter_state(METER),
        straight.engine.meter_state(METER)
    );
}

#[test]
fn a_dripping_tap_does_not_hide_a_collapse() {
    // From day 20 a tap drips 1.2 L an hour (a litre on the register every
    // 50 minutes), which no flow rule reports before a day; on day 30 the
    // resident collapses after the 09:50 use.
    let dates = support::dates(30);
    let collapse = |drip_lpm: f64| {
        let home = support::usual(29).day_until(&dates[29], "10:00").flow(
            "2026-11-20 00:00",
            "2026-12-05 00:00",
            drip_lpm,
        );
        let mut run = Run::new();
        run.live(&home.readings("2026-11-01 00:00", "2026-12-01 08:00", minutes(15)));
        run
    };
    let dry = collapse(0.0);
    let dripping = collapse(0.02);
    assert_eq!(
        dry.fired("inactivity"),
        [at("2026-11-30 21:00")],
        "{:?}",
        dry.story()
    );
    // Every litre of the drip used to end the quiet: no alert at all.
    assert_eq!(
        dripping.fired("inactivity"),
        [at("2026-11-30 21:00")],
        "{:?}",
        dripping.story()
    );
    assert!(
        dripping.story().iter().any(|s| s.starts_with("inactivity fired")
            && s.ends_with("A steady drip of about 1.2 L an hour is not counted as use (the meter moves with it).")),
        "{:?}",
        dripping.story()
    );
    // The drip's own alert comes a day after it began, as before.
    assert_eq!(
        dripping.fired("leak_trickle").len(),
        1,
        "{:?}",
        dripping.story()
    );
}

#[test]
fn a_drip_is_not_someone_up_in_the_morning() {
    // The daemon's daily reassurance ("Mum's day has started") waits for a
    // person's first water, not the drip's first litre after 05:00.
    let home = support::usual(29).flow("2026-11-20 00:00", "2026-12-05 00:00", 0.02);
    let mut engine = waterwatch_rules::Engine::new(waterwatch_rules::RuleSet::default_rules());
    let mut used = Vec::new();
    for r in home.readings("2026-11-01 00:00", "2026-11-29 08:00", minutes(15)) {
        let outcome = engine.observe(&r, r.ts);
        let moved = used.last().is_some_and(|(_, total, _)| r.total_l > *total);
        used.push((r.ts, r.total_l, (moved, outcome.person_used)));
    }
    let morning: Vec<_> = used
        .iter()
        .filter(|(t, _, _)| *t > at("2026-11-29 05:00") && *t <= at("2026-11-29 08:00"))
        .collect();
    // The register moved before 07:00 (the drip), but the first person's
    // use is the 07:00 one.
    assert!(
        morning
            .iter()
            .any(|(t, _, (moved, _))| *moved && *t < at("2026-11-29 07:00"))
    );
    let first = morning
        .iter()
        .find(|(_, _, (_, person))| *person)
        .map(|(t, _, _)| *t);
    assert_eq!(first, Some(at("2026-11-29 07:00")), "{morning:?}");
}
