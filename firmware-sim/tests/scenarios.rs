//! Each scenario changes the readings the way its ground truth says, and
//! nothing else.

mod common;

use common::{daily_volumes, of_meter, readings, start, ts};
use meter_sim::{Fleet, Scenario, ScenarioKind};

const AT: &str = "2026-01-07T09:30:00+08:00";

fn at() -> chrono::DateTime<chrono::FixedOffset> {
    ts(AT)
}

#[test]
fn after_a_collapse_the_register_stays_constant() {
    let r = readings(3, 1, 5, &[&format!("collapse:2@{AT}")]);
    let after: Vec<_> = of_meter(&r, "h0002")
        .into_iter()
        .filter(|x| x.ts >= at())
        .collect();
    assert!(after.len() > 200);
    assert!(
        after.iter().all(|x| x.total_l == after[0].total_l),
        "the register moved after the collapse"
    );
    assert!(after.iter().all(|x| x.flow_lpm == Some(0.0)));
    let before = of_meter(&r, "h0002")
        .into_iter()
        .filter(|x| x.ts < at())
        .collect::<Vec<_>>();
    assert!(
        before.first().unwrap().total_l < before.last().unwrap().total_l,
        "no use at all before the collapse"
    );
}

#[test]
fn a_tap_left_open_raises_the_register_by_at_least_its_flow_every_interval() {
    for (scenario, lpm) in [
        (format!("tap:1@{AT}"), 6.0),
        (format!("tap:1@{AT},lpm=2.5"), 2.5),
    ] {
        let r = readings(2, 1, 4, &[&scenario]);
        let mine: Vec<_> = of_meter(&r, "h0001")
            .into_iter()
            .filter(|x| x.ts >= at())
            .collect();
        for w in mine.windows(2) {
            let rise = w[1].total_l - w[0].total_l;
            assert!(
                rise >= lpm * 15.0 - 1.0,
                "{scenario}: only {rise} L by {}",
                w[1].ts
            );
            assert!(w[1].flow_lpm.unwrap() >= lpm);
        }
    }
}

#[test]
fn a_burst_pipe_raises_the_register_by_at_least_forty_litres_a_minute() {
    let r = readings(2, 1, 4, &[&format!("burst:2@{AT}")]);
    let mine: Vec<_> = of_meter(&r, "h0002")
        .into_iter()
        .filter(|x| x.ts >= at())
        .collect();
    for w in mine.windows(2) {
        assert!(w[1].total_l - w[0].total_l >= 40.0 * 15.0 - 1.0);
    }
}

#[test]
fn a_silent_meter_sends_no_readings_from_the_moment_it_goes_silent() {
    let r = readings(3, 1, 4, &[&format!("silent:3@{AT}")]);
    let mine = of_meter(&r, "h0003");
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|x| x.ts < at()));
    assert_eq!(
        mine.last().unwrap().ts,
        at() - chrono::Duration::minutes(15)
    );
    assert_eq!(
        of_meter(&r, "h0002").last().unwrap().ts,
        start() + chrono::Duration::days(4)
    );
}

#[test]
fn a_faulty_meter_flags_leak_from_the_fault_on_and_another_flag_when_asked() {
    let r = readings(
        2,
        1,
        3,
        &[
            &format!("fault:1@{AT}"),
            &format!("fault:2@{AT},flag=TAMPER"),
        ],
    );
    for (id, flag) in [("h0001", "LEAK"), ("h0002", "TAMPER")] {
        for x in of_meter(&r, id) {
            let want: Vec<String> = if x.ts >= at() {
                vec![flag.to_string()]
            } else {
                vec![]
            };
            assert_eq!(x.status, want, "{id} at {}", x.ts);
        }
    }
}

#[test]
fn a_scenario_changes_nothing_before_it_nor_in_other_households() {
    let plain = readings(3, 9, 4, &[]);
    for scenario in ["collapse", "tap", "burst", "silent", "fault"] {
        let changed = readings(3, 9, 4, &[&format!("{scenario}:2@{AT}")]);
        for id in ["h0001", "h0003"] {
            assert_eq!(
                of_meter(&plain, id),
                of_meter(&changed, id),
                "{scenario} touched {id}"
            );
        }
        let before = |r: &[meter_sim::SimReading]| -> Vec<meter_sim::SimReading> {
            of_meter(r, "h0002")
                .into_iter()
                .filter(|x| x.ts < at())
                .cloned()
                .collect()
        };
        assert_eq!(
            before(&plain),
            before(&changed),
            "{scenario} changed readings before it"
        );
        assert_ne!(
            of_meter(&plain, "h0002"),
            of_meter(&changed, "h0002"),
            "{scenario} changed nothing"
        );
    }
}

#[test]
fn a_relative_scenario_starts_that_long_after_the_simulation_start() {
    let r = readings(1, 1, 2, &["collapse:1@+1day 6h"]);
    let quiet_from = ts("2026-01-06T06:00:00+08:00");
    let after: Vec<_> = r.iter().filter(|x| x.ts >= quiet_from).collect();
    assert!(after.iter().all(|x| x.total_l == after[0].total_l));
    assert!(after.len() > 50);
    assert!(
        daily_volumes(&r)["h0001"][0] > 50.0,
        "the first day had hardly any use"
    );
}

#[test]
fn ground_truth_lists_every_applied_scenario_by_start_with_the_alerts_to_expect() {
    let texts = [
        "silent:3@+2d",
        "collapse:1@+1d",
        "burst:2@+36h,lpm=55",
        "fault:9@+1d",
    ];
    let scenarios = texts
        .iter()
        .map(|s| Scenario::parse(s, start()).unwrap())
        .collect();
    let fleet = Fleet::new(3, 1, start(), common::QUARTER_HOUR, scenarios);
    let truth = fleet.truth();
    let got: Vec<(&str, ScenarioKind, String)> = truth
        .iter()
        .map(|t| (t.household.as_str(), t.kind, t.start.to_rfc3339()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "h0001",
                ScenarioKind::Collapse,
                "2026-01-06T00:00:00+08:00".to_string()
            ),
            (
                "h0002",
                ScenarioKind::Burst,
                "2026-01-06T12:00:00+08:00".to_string()
            ),
            (
                "h0003",
                ScenarioKind::MeterSilent,
                "2026-01-07T00:00:00+08:00".to_string()
            ),
        ],
        "household 9 does not exist and is left out"
    );
    assert_eq!(truth[1].lpm, Some(55.0));
    assert_eq!(truth[0].expected_alerts, ["inactivity"]);
    assert_eq!(truth[2].expected_alerts, ["meter_offline"]);
}

fn hourly(households: usize, days: i64, scenarios: &[&str]) -> (Fleet, Vec<meter_sim::SimReading>) {
    let scenarios = scenarios
        .iter()
        .map(|s| Scenario::parse(s, start()).unwrap())
        .collect();
    let mut fleet = Fleet::new(
        households,
        1,
        start(),
        std::time::Duration::from_secs(3600),
        scenarios,
    );
    let r = fleet.advance(start() + chrono::Duration::days(days));
    (fleet, r)
}

#[test]
fn an_unannounced_absence_shows_no_use_while_the_meter_reports_until_the_person_returns() {
    let (fleet, r) = hourly(2, 8, &[&format!("absence:1@{AT},days=3.5")]);
    let t = &fleet
        .truth()
        .into_iter()
        .find(|t| t.cause.as_deref() == Some("unannounced"))
        .unwrap();
    assert_eq!(t.kind, ScenarioKind::Absence);
    assert_eq!(t.start, at());
    assert_eq!(t.end, Some(at() + chrono::Duration::hours(84)));
    assert!(t.expected_alerts.is_empty());
    let mine = of_meter(&r, "h0001");
    let away: Vec<_> = mine
        .iter()
        .filter(|x| x.ts > at() && x.ts <= t.end.unwrap())
        .collect();
    assert_eq!(away.len(), 84, "the meter kept reporting every hour");
    assert!(away.iter().all(|x| x.total_l == away[0].total_l));
    let back: Vec<_> = mine.iter().filter(|x| x.ts > t.end.unwrap()).collect();
    assert!(
        back.last().unwrap().total_l > back[0].total_l,
        "no use after coming back"
    );
}

#[test]
fn a_running_toilet_trickles_every_hour_to_the_end_and_truth_gives_its_flow() {
    let (fleet, r) = hourly(2, 5, &[&format!("toilet:2@{AT},lpm=0.4")]);
    let t = fleet
        .truth()
        .into_iter()
        .find(|t| t.kind == ScenarioKind::RunningToilet)
        .unwrap();
    assert_eq!((t.start, t.lpm, t.end), (at(), Some(0.4), None));
    assert_eq!(t.expected_alerts, ["continuous_flow"]);
    let mine: Vec<_> = of_meter(&r, "h0002")
        .into_iter()
        .filter(|x| x.ts >= at())
        .collect();
    assert!(mine.len() > 60);
    for w in mine.windows(2) {
        assert!(
            w[1].total_l - w[0].total_l >= 0.4 * 60.0 - 1.0,
            "no trickle by {}",
            w[1].ts
        );
        assert!(w[1].flow_lpm.unwrap() >= 0.4);
    }
}

#[test]
fn a_slow_decline_brings_daily_use_down_to_about_forty_percent_and_truth_says_until_when() {
    let (fleet, r) = hourly(1, 60, &["decline:1@+14d,weeks=4,to=0.4"]);
    let t = &fleet.truth()[..]
        .iter()
        .find(|t| t.kind == ScenarioKind::Decline)
        .unwrap()
        .clone();
    assert_eq!(t.end, Some(start() + chrono::Duration::days(42)));
    assert_eq!(t.to, Some(0.4));
    assert_eq!(t.expected_alerts, ["usage_drop"]);
    let away: Vec<_> = fleet
        .truth()
        .into_iter()
        .filter(|t| t.kind == ScenarioKind::Absence)
        .collect();
    let v = &daily_volumes(&r)["h0001"];
    let normal = |range: std::ops::Range<usize>| -> f64 {
        let days: Vec<f64> = range
            .filter(|d| {
                let from = start() + chrono::Duration::days(*d as i64);
                !away
                    .iter()
                    .any(|a| a.start < from + chrono::Duration::days(1) && a.end.unwrap() > from)
            })
            .map(|d| v[d])
            .collect();
        days.iter().sum::<f64>() / days.len() as f64
    };
    let before = normal(0..14);
    let after = normal(45..60);
    let share = after / before;
    assert!(
        (0.25..=0.55).contains(&share),
        "{after:.0} L/day after vs {before:.0} before"
    );
}

#[test]
fn a_collapse_by_night_and_one_by_day_stop_use_from_their_times_and_truth_says_when() {
    let night = "2026-01-07T02:30:00+08:00";
    let day = "2026-01-07T10:00:00+08:00";
    let r = readings(
        2,
        4,
        4,
        &[&format!("collapse:1@{night}"), &format!("collapse:2@{day}")],
    );
    let scenarios = [night, day]
        .iter()
        .enumerate()
        .map(|(i, at)| Scenario::parse(&format!("collapse:{}@{at}", i + 1), start()).unwrap())
        .collect();
    let truth = Fleet::new(2, 4, start(), common::QUARTER_HOUR, scenarios).truth();
    let collapses: Vec<_> = truth
        .iter()
        .filter(|t| t.kind == ScenarioKind::Collapse)
        .collect();
    assert_eq!(collapses.len(), 2);
    for (id, when) in [("h0001", night), ("h0002", day)] {
        let t = collapses.iter().find(|t| t.household == id).unwrap();
        assert_eq!(t.start, ts(when));
        assert_eq!(t.expected_alerts, ["inactivity"]);
        let after: Vec<_> = of_meter(&r, id)
            .into_iter()
            .filter(|x| x.ts >= ts(when))
            .collect();
        assert!(
            after.iter().all(|x| x.total_l == after[0].total_l),
            "{id} used water after collapsing"
        );
    }
    // By night, the collapse comes before the morning routine: that day has
    // (almost) no use at all, unlike the day of a daytime collapse.
    let v = daily_volumes(&r);
    assert!(
        v["h0001"][2] < 15.0,
        "{} L on the night-collapse day",
        v["h0001"][2]
    );
    assert!(
        v["h0002"][2] > 15.0,
        "{} L on the day-collapse day",
        v["h0002"][2]
    );
}

#[test]
fn a_replaced_meter_restarts_near_zero_a_skewed_one_stamps_off_and_a_flat_battery_flags() {
    let r = readings(
        3,
        1,
        4,
        &[
            &format!("reset:1@{AT}"),
            &format!("skew:2@{AT},minutes=-7"),
            "battery:3@+1d,days=2",
        ],
    );
    let one = of_meter(&r, "h0001");
    let after: Vec<_> = one.iter().filter(|x| x.ts >= at()).collect();
    assert!(one[0].total_l >= 10_000.0);
    assert!(
        after[0].total_l < 100.0,
        "register {} after the reset",
        after[0].total_l
    );
    assert!(after.windows(2).all(|w| w[1].total_l >= w[0].total_l));
    let two = of_meter(&r, "h0002");
    let skewed = two.iter().filter(|x| x.ts.timestamp() % 900 != 0).count();
    assert!(skewed > 100);
    assert!(
        two.iter()
            .filter(|x| x.ts.timestamp() % 900 != 0)
            .all(|x| x.ts.timestamp() % 900 == 900 - 420)
    );
    let three = of_meter(&r, "h0003");
    let flat_from = start() + chrono::Duration::days(3);
    for x in &three {
        assert_eq!(
            x.status.contains(&"LOW_BATTERY".to_string()),
            x.ts >= flat_from,
            "at {}",
            x.ts
        );
    }
    assert!(three.last().unwrap().battery_pct.unwrap() <= 5.0);
    assert!(three[0].battery_pct.unwrap() >= 60.0);
}

#[test]
fn new_scenarios_change_nothing_before_them_nor_in_other_households() {
    let plain = readings(3, 9, 6, &[]);
    for scenario in ["absence", "toilet", "decline", "reset", "skew", "battery"] {
        let changed = readings(3, 9, 6, &[&format!("{scenario}:2@{AT}")]);
        for id in ["h0001", "h0003"] {
            assert_eq!(
                of_meter(&plain, id),
                of_meter(&changed, id),
                "{scenario} touched {id}"
            );
        }
        let before = |r: &[meter_sim::SimReading]| -> Vec<meter_sim::SimReading> {
            of_meter(r, "h0002")
                .into_iter()
                .filter(|x| x.ts < at())
                .cloned()
                .collect()
        };
        assert_eq!(
            before(&plain),
            before(&changed),
            "{scenario} changed readings before it"
        );
        assert_ne!(
            of_meter(&plain, "h0002"),
            of_meter(&changed, "h0002"),
            "{scenario} changed nothing"
        );
    }
}
