//! `rules/tests/default.rules-test.toml` against `rules/default.toml`, without
//! the daemon: the same timelines `waterwatch test-rules` builds (see
//! `daemon/src/ruletest.rs`: history days laid end to end, a reading every
//! `interval` showing the litres of the phases before it, a tick every
//! `interval`), so a change to the shipped rules that breaks a shipped rule
//! test fails here too. Every expected event must happen in its window and
//! no other alert may fire.

use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use waterwatch_rules::{AlertEvent, Engine, Reading, RuleSet, Transition};

const FILE: &str = include_str!("default.rules-test.toml");

#[derive(Deserialize)]
struct File {
    #[allow(dead_code)]
    rules: String,
    test: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    #[serde(default = "meter")]
    meter: String,
    start: String,
    interval: String,
    #[serde(default = "total")]
    total: f64,
    #[serde(default)]
    history_days: u32,
    #[serde(default)]
    history: Vec<Phase>,
    phases: Vec<Phase>,
    #[serde(default)]
    expect: Vec<Expect>,
}

fn meter() -> String {
    "m1".into()
}

fn total() -> f64 {
    10_000.0
}

#[derive(Deserialize)]
struct Phase {
    #[serde(rename = "for")]
    length: String,
    #[serde(default)]
    litres: f64,
    #[serde(default)]
    silent: bool,
    #[serde(default)]
    flags: Vec<String>,
}

#[derive(Deserialize)]
struct Expect {
    rule: String,
    event: Transition,
    after: Option<String>,
    before: Option<String>,
}

fn span(text: &str) -> chrono::Duration {
    let d: Duration = humantime::parse_duration(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    chrono::Duration::from_std(d).unwrap()
}

fn at(start: DateTime<FixedOffset>, text: &str) -> DateTime<FixedOffset> {
    match text.strip_prefix('+') {
        Some(offset) => start + span(offset),
        None => DateTime::parse_from_rfc3339(text).unwrap(),
    }
}

fn readings(case: &Case, start: DateTime<FixedOffset>) -> (Vec<Reading>, DateTime<FixedOffset>) {
    let step = span(&case.interval);
    let mut out = Vec::new();
    let mut total = case.total;
    let emit = |t, total, phase: &Phase, out: &mut Vec<Reading>| {
        if !phase.silent {
            out.push(Reading {
                meter_id: case.meter.clone(),
                ts: t,
                total_l: total,
                flow_lpm: None,
                battery_pct: None,
                rssi_dbm: None,
                status: phase.flags.iter().map(|f| f.to_ascii_uppercase()).collect(),
            });
        }
    };
    let history_start = start - chrono::Duration::days(i64::from(case.history_days));
    for day in 0..i64::from(case.history_days) {
        let day_start = history_start + chrono::Duration::days(day);
        let mut t = day_start;
        for phase in &case.history {
            let end = t + span(&phase.length);
            while t < end && t < day_start + chrono::Duration::days(1) {
                emit(t, total, phase, &mut out);
                total += phase.litres;
                t += step;
            }
        }
    }
    let mut t = start;
    for phase in &case.phases {
        let end = t + span(&phase.length);
        while t < end {
            emit(t, total, phase, &mut out);
            total += phase.litres;
            t += step;
        }
    }
    (out, t)
}

fn run(rules: &RuleSet, case: &Case) -> Result<(), String> {
    let start = DateTime::parse_from_rfc3339(&case.start).map_err(|e| e.to_string())?;
    let (readings, end) = readings(case, start);
    let step = span(&case.interval);
    let mut engine = Engine::new(rules.clone());
    let mut events: Vec<AlertEvent> = Vec::new();
    let mut next = readings.iter().peekable();
    let mut t = readings.first().map_or(start, |r| r.ts);
    while t <= end {
        while let Some(r) = next.next_if(|r| r.ts <= t) {
            events.extend(engine.observe(r, r.ts).events);
        }
        events.extend(engine.tick(t));
        t += step;
    }
    let mut unmatched: Vec<&AlertEvent> = events.iter().collect();
    let mut failures = Vec::new();
    for e in &case.expect {
        let after = e.after.as_deref().map(|b| at(start, b));
        let before = e.before.as_deref().map(|b| at(start, b));
        match unmatched.iter().position(|x| {
            x.rule == e.rule
                && x.event == e.event
                && after.is_none_or(|a| x.ts >= a)
                && before.is_none_or(|b| x.ts <= b)
        }) {
            Some(i) => {
                unmatched.remove(i);
            }
            None => failures.push(format!("expected {} {:?}", e.rule, e.event)),
        }
    }
    for x in unmatched.iter().filter(|x| x.event == Transition::Fired) {
        failures.push(format!("unexpected {} at {}: {}", x.rule, x.ts, x.summary));
    }
    if failures.is_empty() {
        return Ok(());
    }
    let seen: Vec<String> = events
        .iter()
        .map(|e| format!("{} {:?} at {}", e.rule, e.event, e.ts))
        .collect();
    Err(format!("{}; events: {seen:?}", failures.join("; ")))
}

#[test]
fn every_shipped_rule_test_passes_against_the_shipped_rules() {
    let file: File = toml::from_str(FILE).expect("the rule test file parses");
    let rules = RuleSet::default_rules();
    let failures: Vec<String> = file
        .test
        .iter()
        .filter_map(|case| {
            run(&rules, case)
                .err()
                .map(|e| format!("{}: {e}", case.name))
        })
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(file.test.len() >= 8, "{} tests", file.test.len());
}
