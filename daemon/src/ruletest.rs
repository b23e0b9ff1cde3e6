//! `waterwatch test-rules FILE…`: rule tests as files, the way
//! `promtool test rules` works. Each test is a timeline of readings (phases
//! of use, silence, meter flags; optionally days of history before it) run
//! through the real engine, and the alert events it must (and must not) raise.
//!
//! ```toml
//! rules = "../default.toml"          # relative to this file
//!
//! [[test]]
//! name = "a collapse at 10:00 fires 12 h after the last use"
//! start = "2026-01-05T06:00:00+08:00"
//! interval = "15m"
//! phases = [{ for = "4h", litres = 6.0 }, { for = "13h", litres = 0.0 }]
//! # a phase may also give the flow the meter reports with each reading:
//! # { for = "2h", litres = 7.5, flow_lpm = 0.5 }
//!
//!   [[test.expect]]
//!   rule = "inactivity"
//!   event = "fired"
//!   after = "+15h45m"
//!   before = "+16h15m"
//! ```
//! `history_days = 21` with `history = [phases…]` runs that history
//! before `start`: phases that take one day repeat every day; phases that
//! take several whole days (a week with a night away) repeat as a cycle.
//! Any `fired` event the test does not expect fails it (in the history
//! too): a test says both what must alert and that nothing else does. `confirmed_fine = ["+16h30m"]`
//! says a person confirmed the resident fine then (the resident answered
//! "I'm OK", or a grid worker closed the case as fine), as the daemon tells
//! the engine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;
use waterwatch_rules::tomlcheck::{Doc, Problem};
use waterwatch_rules::{AlertEvent, Engine, Reading, RuleSet, Transition};

/// One phase of a timeline.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// How long the phase lasts (`"4h"`).
    #[serde(rename = "for", deserialize_with = "duration")]
    pub length: Duration,
    /// Litres used between consecutive readings (0: no use).
    #[serde(default)]
    pub litres: f64,
    /// The meter sends nothing during this phase.
    #[serde(default)]
    pub silent: bool,
    /// Flags the meter reports during this phase (`["LEAK"]`).
    #[serde(default)]
    pub flags: Vec<String>,
    /// The flow (L/min) the meter reports with each reading of this phase;
    /// left out, its readings carry no flow (a meter that reports none).
    #[serde(default)]
    pub flow_lpm: Option<f64>,
}

/// One expected alert event.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The rule's name in the rules file.
    pub rule: String,
    /// `fired` or `resolved`.
    pub event: Transition,
    /// Not before this time: `+DURATION` after `start`, or RFC 3339.
    pub after: Option<String>,
    /// Not after this time: `+DURATION` after `start`, or RFC 3339.
    pub before: Option<String>,
}

/// One `[[test]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the test shows, as a sentence.
    pub name: String,
    /// The meter's id (default `m1`).
    #[serde(default = "default_meter")]
    pub meter: String,
    /// When the timeline starts (RFC 3339 with offset).
    pub start: String,
    /// Time between readings.
    #[serde(deserialize_with = "duration")]
    pub interval: Duration,
    /// Register at the start of the history (or of the timeline).
    #[serde(default = "default_total")]
    pub total: f64,
    /// Days of history before `start`, each following `history`.
    #[serde(default)]
    pub history_days: u32,
    /// The phases of one day (or of a cycle of several whole days, e.g. a
    /// week with a night away), repeated to fill the `history_days` before
    /// `start`.
    #[serde(default)]
    pub history: Vec<Phase>,
    /// The timeline from `start`.
    pub phases: Vec<Phase>,
    /// When a person confirmed the resident fine: `+DURATION` after
    /// `start`, or RFC 3339.
    #[serde(default)]
    pub confirmed_fine: Vec<String>,
    /// Events that must happen.
    #[serde(default)]
    pub expect: Vec<Expect>,
}

fn default_meter() -> String {
    "m1".into()
}

fn default_total() -> f64 {
    10_000.0
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text).map_err(|e| {
        serde::de::Error::custom(format!("`{text}` is not a duration like \"15m\": {e}"))
    })
}

/// A test file: the rules under test and the cases.
#[derive(Debug)]
pub struct TestFile {
    pub path: PathBuf,
    pub rules: RuleSet,
    pub tests: Vec<TestCase>,
}

/// Parse a test file; every problem is reported with its line.
pub fn load(path: &Path) -> Result<TestFile, Vec<String>> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("{label}: cannot read the file: {e}")])?;
    let doc = Doc::parse(&label, &text).map_err(|p| vec![p.to_string()])?;
    let mut problems: Vec<Problem> = doc.unknown_sections(&["rules", "test"]);
    let rules_rel: Option<String> = doc.get("rules").map_err(|p| vec![p.to_string()])?;
    let rules = match rules_rel {
        None => Some(RuleSet::default_rules()),
        Some(rel) => {
            let rules_path = path.parent().unwrap_or(Path::new(".")).join(&rel);
            // Test cases do not route: a rule's `route` is the daemon's to check.
            match crate::reload::load(&rules_path, None) {
                Ok(rules) => Some(rules),
                Err(errors) => {
                    problems.push(doc.problem("rules", errors.join("; ")));
                    None
                }
            }
        }
    };
    let mut tests = Vec::new();
    match doc.each::<TestCase>("test") {
        Ok(items) => {
            for (i, item) in items.into_iter().enumerate() {
                match item {
                    Ok(test) => {
                        if let Err(message) = validate(&test) {
                            problems.push(doc.problem(&format!("test[{i}]"), message));
                        }
                        tests.push(test);
                    }
                    Err(problem) => problems.push(problem),
                }
            }
        }
        Err(problem) => problems.push(problem),
    }
    if tests.is_empty() && problems.is_empty() {
        problems.push(doc.problem("test", "the file has no [[test]]"));
    }
    match (rules, problems.is_empty()) {
        (Some(rules), true) => Ok(TestFile {
            path: path.to_owned(),
            rules,
            tests,
        }),
        _ => Err(problems.iter().map(ToString::to_string).collect()),
    }
}

fn validate(test: &TestCase) -> Result<(), String> {
    let start = parse_start(&test.start)?;
    if test.interval.is_zero() {
        return Err("interval must be longer than zero".into());
    }
    if test.history_days > 0 && test.history.is_empty() {
        return Err("history_days is set but history has no phases".into());
    }
    for expect in &test.expect {
        for bound in [&expect.after, &expect.before].into_iter().flatten() {
            at(start, bound)?;
        }
    }
    for confirmed in &test.confirmed_fine {
        at(start, confirmed).map_err(|e| format!("confirmed_fine: {e}"))?;
    }
    Ok(())
}

fn parse_start(text: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(text)
        .map_err(|e| format!("start `{text}` is not RFC 3339 with an offset: {e}"))
}

/// `+DURATION` after `start`, or an RFC 3339 time.
fn at(start: DateTime<FixedOffset>, text: &str) -> Result<DateTime<FixedOffset>, String> {
    match text.strip_prefix('+') {
        Some(offset) => humantime::parse_duration(offset)
            .ok()
            .and_then(|d| chrono::Duration::from_std(d).ok())
            .map(|d| start + d)
            .ok_or_else(|| format!("`{text}` is not +DURATION like +15h30m")),
        None => DateTime::parse_from_rfc3339(text)
            .map_err(|e| format!("`{text}` is neither +DURATION nor RFC 3339: {e}")),
    }
}

/// The readings of a test's history and timeline, in time order, and the
/// time the timeline ends.
fn timeline(
    test: &TestCase,
    start: DateTime<FixedOffset>,
) -> (Vec<Reading>, DateTime<FixedOffset>) {
    let step = chrono::Duration::from_std(test.interval).unwrap_or(chrono::Duration::minutes(15));
    let history_start = start - chrono::Duration::days(i64::from(test.history_days));
    let mut readings = Vec::new();
    let mut total = test.total;
    let mut t;
    let emit =
        |t: DateTime<FixedOffset>, total: f64, phase: &Phase, readings: &mut Vec<Reading>| {
            if !phase.silent {
                readings.push(Reading {
                    meter_id: test.meter.clone(),
                    ts: t,
                    total_l: total,
                    flow_lpm: phase.flow_lpm,
                    battery_pct: None,
                    rssi_dbm: None,
                    status: phase.flags.iter().map(|f| f.to_ascii_uppercase()).collect(),
                });
            }
        };
    // The history's cycle is the whole days its phases take (at least one);
    // cycles are laid end to end, each filled by its phases, up to `start`.
    let length: Duration = test.history.iter().map(|p| p.length).sum();
    let cycle_days = length.as_secs().div_ceil(86_400).max(1);
    let cycle = chrono::Duration::days(cycle_days as i64);
    let mut cycle_start = history_start;
    while !test.history.is_empty() && cycle_start < start {
        let cycle_end = (cycle_start + cycle).min(start);
        t = cycle_start;
        for phase in &test.history {
            let end = t + chrono::Duration::from_std(phase.length).unwrap_or_default();
            while t < end && t < cycle_end {
                emit(t, total, phase, &mut readings);
                total += phase.litres;
                t += step;
            }
        }
        cycle_start += cycle;
    }
    t = start;
    for phase in &test.phases {
        let end = t + chrono::Duration::from_std(phase.length).unwrap_or_default();
        while t < end {
            emit(t, total, phase, &mut readings);
            total += phase.litres;
            t += step;
        }
    }
    (readings, t)
}

/// Run one test; `Err` says what went wrong.
pub fn run_test(rules: &RuleSet, test: &TestCase) -> Result<Vec<AlertEvent>, String> {
    let start = parse_start(&test.start)?;
    let (readings, end) = timeline(test, start);
    let step = chrono::Duration::from_std(test.interval).unwrap_or(chrono::Duration::minutes(15));
    let mut confirmed = test
        .confirmed_fine
        .iter()
        .map(|c| at(start, c))
        .collect::<Result<Vec<_>, _>>()?;
    confirmed.sort();
    let mut engine = Engine::new(rules.clone());
    let mut events = Vec::new();
    let mut next = readings.iter().peekable();
    let mut fine = confirmed.iter().peekable();
    let mut t = readings.first().map(|r| r.ts).unwrap_or(start);
    while t <= end {
        while let Some(reading) = next.next_if(|r| r.ts <= t) {
            events.extend(engine.observe(reading, reading.ts).events);
        }
        while let Some(&at) = fine.next_if(|&&c| c <= t) {
            events.extend(engine.confirm_fine(&test.meter, at));
        }
        events.extend(engine.tick(t));
        t += step;
    }
    let mut unmatched: Vec<&AlertEvent> = events.iter().collect();
    let mut failures = Vec::new();
    for expect in &test.expect {
        let after = expect.after.as_deref().map(|b| at(start, b)).transpose()?;
        let before = expect.before.as_deref().map(|b| at(start, b)).transpose()?;
        let found = unmatched.iter().position(|e| {
            e.rule == expect.rule
                && e.event == expect.event
                && after.is_none_or(|a| e.ts >= a)
                && before.is_none_or(|b| e.ts <= b)
        });
        match found {
            Some(i) => {
                unmatched.remove(i);
            }
            None => failures.push(format!(
                "expected {} {} between {} and {}",
                expect.rule,
                expect.event.as_str(),
                after
                    .map(|a| a.to_rfc3339())
                    .unwrap_or_else(|| "the start".into()),
                before
                    .map(|b| b.to_rfc3339())
                    .unwrap_or_else(|| "the end".into()),
            )),
        }
    }
    for extra in unmatched.iter().filter(|e| e.event == Transition::Fired) {
        failures.push(format!(
            "unexpected {} fired at {}: {}",
            extra.rule,
            extra.ts.to_rfc3339(),
            extra.summary
        ));
    }
    if failures.is_empty() {
        Ok(events)
    } else {
        let seen: Vec<String> = events
            .iter()
            .map(|e| {
                format!(
                    "{} {} {} at {}",
                    e.rule,
                    e.event.as_str(),
                    e.meter_id,
                    e.ts.to_rfc3339()
                )
            })
            .collect();
        Err(format!(
            "{}\n      events: [{}]",
            failures.join("\n    "),
            seen.join("; ")
        ))
    }
}

/// Run every test of every file; prints per test and returns whether all passed.
pub fn run_files(paths: &[PathBuf], out: &mut impl std::io::Write) -> bool {
    let mut all_ok = true;
    let (mut passed, mut failed) = (0, 0);
    for path in paths {
        match load(path) {
            Err(problems) => {
                all_ok = false;
                failed += 1;
                let _ = writeln!(out, "{}: FAILED", path.display());
                for problem in problems {
                    let _ = writeln!(out, "  {problem}");
                }
            }
            Ok(file) => {
                for test in &file.tests {
                    match run_test(&file.rules, test) {
                        Ok(_) => {
                            passed += 1;
                            let _ = writeln!(out, "{}: ok: {}", file.path.display(), test.name);
                        }
                        Err(why) => {
                            all_ok = false;
                            failed += 1;
                            let _ = writeln!(
                                out,
                                "{}: FAILED: {}\n    {why}",
                                file.path.display(),
                                test.name
                            );
                        }
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "test-rules: {passed} passed, {failed} failed");
    all_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The days (local dates) of the history's readings whose litres were
    /// used (the register shows them at the next reading).
    fn days_with_use(test: &TestCase) -> Vec<String> {
        let start = parse_start(&test.start).unwrap();
        let (readings, _) = timeline(test, start);
        let mut days: Vec<String> = readings
            .windows(2)
            .filter(|w| w[1].total_l > w[0].total_l && w[0].ts < start)
            .map(|w| w[0].ts.format("%m-%d").to_string())
            .collect();
        days.dedup();
        days
    }

    fn case(history: &str, history_days: u32) -> TestCase {
        toml::from_str(&format!(
            "name = \"t\"\nstart = \"2026-02-07T00:00:00+08:00\"\ninterval = \"1h\"\nhistory_days = {history_days}\nhistory = [{history}]\nphases = [{{ for = \"1h\" }}]\n"
        ))
        .unwrap()
    }

    #[test]
    fn a_history_of_one_day_repeats_every_day() {
        let test = case(r#"{ for = "12h" }, { for = "1h", litres = 5.0 }"#, 3);
        assert_eq!(days_with_use(&test), ["02-04", "02-05", "02-06"]);
    }

    #[test]
    fn a_history_of_several_days_repeats_as_a_cycle_cut_at_the_start() {
        // Use on the first of every two days, from four days before start.
        let test = case(
            r#"{ for = "12h" }, { for = "1h", litres = 5.0 }, { for = "35h" }"#,
            5,
        );
        assert_eq!(days_with_use(&test), ["02-02", "02-04", "02-06"]);
    }
}
