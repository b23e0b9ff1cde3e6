//! The detection benchmark: `cargo bench -p waterwatch-rules --bench detection`.
//!
//! Scores the learned inactivity detector against fixed rules (and, on
//! simulated households, against a hindsight oracle that knows each
//! household's true rhythm) on:
//!
//! - simulated households (meter-sim), two months at 15-minute and hourly
//!   readings, with collapses by day and by night, taps left open, burst
//!   pipes and silent meters;
//! - the real DAIAD households (nobody had an emergency: every inactivity
//!   alert outside a multi-day absence is a false alarm): the 13 single and
//!   elderly households, and the whole trial's 92, when the files are there;
//!
//! then measures replay speed on one core and the stored state per household.
//! Environment: `WW_BENCH_HOUSEHOLDS` (default 300), `WW_BENCH_DAYS` (60),
//! `WW_BENCH_SEED` (7), `WW_BENCH_DAIAD` (the 13 households' CSV),
//! `WW_BENCH_DAIAD_ALL` (the trial's zip or CSV), `WW_BENCH_ONLY` (`speed`,
//! `daiad`); docs/detection.md lists the rest. Results are printed as
//! Markdown tables for docs/detection.md.

mod check_in;
mod contenders;
mod daiad;
mod score;
mod sim;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use chrono::DateTime;
use waterwatch_rules::{AlertEvent, Engine, Kind, Reading, RuleSet, Transition};

pub use contenders::{Contender, contenders, tuned, without_allowances};

/// An alert that fired: meter, when (ms), what kind.
#[derive(Debug, Clone)]
pub struct Fired {
    pub meter_id: String,
    pub rule: String,
    pub at_ms: i64,
    pub kind: Kind,
    pub summary: String,
    /// For inactivity: when the quiet stretch began.
    pub quiet_since_ms: Option<i64>,
}

/// Feeds `readings` (sorted by time) in event time, each observed at its own
/// timestamp, calling `tick` every `tick_every` of simulated time in between;
/// with `no_flow`, each reading without its `flow_lpm`.
pub fn replay(
    engine: &mut Engine,
    readings: &[Reading],
    tick_every: Duration,
    no_flow: bool,
) -> Vec<Fired> {
    replay_answering(engine, readings, tick_every, no_flow, |_| None)
}

/// [`replay`], where a person may answer an alert: `answer` says when (if
/// at all) someone confirms the resident fine after it fired, which the
/// engine is told once the replay reaches that time.
pub fn replay_answering(
    engine: &mut Engine,
    readings: &[Reading],
    tick_every: Duration,
    no_flow: bool,
    answer: impl Fn(&Fired) -> Option<i64>,
) -> Vec<Fired> {
    let step = i64::try_from(tick_every.as_millis())
        .unwrap_or(60_000)
        .max(1);
    let mut fired = Vec::new();
    let keep = |engine: &Engine, fired: &mut Vec<Fired>, events: Vec<AlertEvent>| {
        for e in events {
            if e.event == Transition::Fired {
                let at_ms = e.ts.timestamp_millis();
                let quiet_since_ms = (e.kind == Kind::Inactivity)
                    .then(|| engine.meter_state(&e.meter_id)?.quiet_ms())
                    .flatten()
                    .map(|q| at_ms - q);
                fired.push(Fired {
                    meter_id: e.meter_id,
                    rule: e.rule,
                    at_ms,
                    kind: e.kind,
                    summary: e.summary,
                    quiet_since_ms,
                });
            }
        }
    };
    let mut next_tick: Option<i64> = None;
    // (when, meter) of answers still to come, soonest first.
    let mut answers: BinaryHeap<Reverse<(i64, String)>> = BinaryHeap::new();
    let mut asked = 0;
    for r in readings {
        let now = r.ts.timestamp_millis();
        for f in &fired[asked..] {
            if let Some(at) = answer(f) {
                answers.push(Reverse((at, f.meter_id.clone())));
            }
        }
        asked = fired.len();
        while answers.peek().is_some_and(|Reverse((at, _))| *at <= now) {
            let Some(Reverse((at, meter))) = answers.pop() else {
                break;
            };
            if let Some(ts) = DateTime::from_timestamp_millis(at) {
                let events = engine.confirm_fine(&meter, ts.with_timezone(r.ts.offset()));
                keep(engine, &mut fired, events);
            }
        }
        let mut t = next_tick.unwrap_or(now);
        while t <= now {
            if let Some(ts) = DateTime::from_timestamp_millis(t) {
                let events = engine.tick(ts.with_timezone(r.ts.offset()));
                keep(engine, &mut fired, events);
            }
            t += step;
        }
        next_tick = Some(t);
        let events = if no_flow && r.flow_lpm.is_some() {
            let stripped = Reading {
                flow_lpm: None,
                ..r.clone()
            };
            engine.observe(&stripped, r.ts).events
        } else {
            engine.observe(r, r.ts).events
        };
        keep(engine, &mut fired, events);
    }
    fired
}

fn env_or<T: std::str::FromStr>(key: &str, default: T) -> T {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing
    // useful either way: run a small smoke version under test.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let households = env_or("WW_BENCH_HOUSEHOLDS", if smoke { 20 } else { 300 });
    let days = env_or("WW_BENCH_DAYS", if smoke { 30 } else { 60 });
    let seed = env_or("WW_BENCH_SEED", 7u64);
    println!(
        "# waterwatch detection benchmark\n\n{households} simulated households, {days} days, seed {seed}{}{}\n",
        if smoke { " (smoke run)" } else { "" },
        match sim::weekend_share() {
            0.0 => String::new(),
            share => format!(
                ", {:.0} % of households up later at weekends",
                share * 100.0
            ),
        }
    );

    if std::env::var("WW_BENCH_ONLY").is_ok_and(|o| o == "speed") {
        speed_and_size(&sim::readings(households, days, seed));
        return;
    }
    let only_daiad = std::env::var("WW_BENCH_ONLY").is_ok_and(|o| o == "daiad");
    let started = Instant::now();
    let readings = if only_daiad {
        Vec::new()
    } else {
        sim::run(households, days, seed)
    };
    eprintln!("simulation scored in {:.1?}", started.elapsed());

    let started = Instant::now();
    let daiad_path = std::env::var("WW_BENCH_DAIAD").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/daiad/daiad_swmA_single_and_elderly_hourly.csv"
        )
        .to_owned()
    });
    daiad::run(
        &daiad_path,
        "DAIAD, Spain, hourly: 11 single adults aged 29–52, 2 couples aged 66 and 71",
    );
    // `WW_BENCH_DAIAD_ALL`: the whole trial (92 households, most of them
    // families), read from its zip in place.
    let all_path = std::env::var("WW_BENCH_DAIAD_ALL").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/daiad/swm_trialA_clean.zip"
        )
        .to_owned()
    });
    daiad::run(
        &all_path,
        "DAIAD trial A, Spain, hourly: all 92 households, most of them families",
    );
    eprintln!("DAIAD scored in {:.1?}", started.elapsed());
    if only_daiad {
        return;
    }

    speed_and_size(&readings);
}

/// Readings per second of `rules` over `readings`, best of three, and the
/// engine after the last run.
fn replay_speed(rules: &RuleSet, readings: &[Reading]) -> (f64, f64, Engine) {
    let mut best = f64::INFINITY;
    let mut engine = Engine::new(rules.clone());
    for _ in 0..3 {
        engine = Engine::new(rules.clone());
        let started = Instant::now();
        let mut events = 0usize;
        for r in readings {
            events += engine.observe(r, r.ts).events.len();
        }
        std::hint::black_box(events);
        best = best.min(started.elapsed().as_secs_f64());
    }
    (readings.len() as f64 / best, best, engine)
}

/// Replay speed of the shipped rules on one core, and stored state sizes.
fn speed_and_size(readings: &[Reading]) {
    let (speed, secs, engine) = replay_speed(&RuleSet::default_rules(), readings);
    let fixed = contenders()
        .into_iter()
        .find(|c| c.name == "fixed 12 h")
        .map(|c| replay_speed(&c.rules, readings).0)
        .unwrap_or(0.0);
    let sizes: Vec<usize> = engine
        .meters()
        .filter_map(|m| engine.meter_state(m))
        .map(|s| serde_json::to_vec(&s).map_or(0, |v| v.len()))
        .collect();
    let max = sizes.iter().copied().max().unwrap_or(0);
    if let Ok(which) = std::env::var("WW_BENCH_DUMP_STATE") {
        // `median`: a typical household's, one with no alert firing
        // (scripts/bench-startup.sh); `largest`: any.
        let median = which == "median";
        let mut states: Vec<String> = engine
            .meters()
            .filter_map(|m| engine.meter_state(m))
            .filter(|s| !median || s.active_alerts().is_empty())
            .filter_map(|s| serde_json::to_string(&s).ok())
            .collect();
        states.sort_by_key(String::len);
        let (label, state) = if median {
            ("median state", states.get(states.len() / 2))
        } else {
            ("largest state", states.last())
        };
        eprintln!("{label}: {}", state.cloned().unwrap_or_default());
    }
    let mean = sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64;
    println!("## Replay speed and state size\n");
    println!("| measure | value | target |\n|---|---|---|");
    println!(
        "| replay, shipped rules (learned), one core, observe only | {:.2} M readings/s ({} readings in {secs:.3} s) | ≥ 5 M/s |",
        speed / 1e6,
        readings.len(),
    );
    println!(
        "| replay, same rules with a fixed 12 h inactivity limit | {:.2} M readings/s | — |",
        fixed / 1e6
    );
    println!(
        "| stored MeterState (JSON) after the run, max / mean | {max} B / {mean:.0} B | ≤ 4096 B |\n"
    );
}
