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
