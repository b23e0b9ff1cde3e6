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
//!   alert outside a multi-day absence is a false alarm), when the file is
//!   there;
//!
//! then measures replay speed on one core and the stored state per household.
//! Environment: `WW_BENCH_HOUSEHOLDS` (default 300), `WW_BENCH_DAYS` (60),
//! `WW_BENCH_SEED` (7), `WW_BENCH_DAIAD` (the CSV's path). Results are
//! printed as Markdown tables for docs/detection.md.

mod check_in;
mod daiad;
mod score;
mod sim;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use chrono::DateTime;
use waterwatch_rules::rule::inactivity::InactivityConfig;
use waterwatch_rules::{AlertEvent, Detector, Engine, Kind, Reading, RuleSet, Transition};

/// A detector under test: a name and the rules it runs.
pub struct Contender {
    pub name: String,
    pub rules: RuleSet,
    /// Replayed with every reading's `flow_lpm` removed: meters that report
    /// only their register.
    pub no_flow: bool,
}

/// The shipped rules (learned inactivity, continuous_flow and spike; the
/// reported-flow checks `flow_running` and `reported_flow`), the same on
/// meters that report no flow (the shipped rules before they read the
/// flow), and the same rules with every limit fixed and no reported flow:
/// inactivity after 8, 12 and 24 hours, continuous use for 2 h
/// (`tap_running`) and the other flow and volume rules at their fixed
/// fallbacks. usage_drop has no fixed form and is the same in all.
pub fn contenders() -> Vec<Contender> {
    let learned = RuleSet::default_rules();
    let fixed = |hours: u64| {
        let mut rules = learned.clone();
        for rule in &mut rules.rules {
            match &mut rule.detector {
                Detector::Inactivity(config) => {
                    *config = InactivityConfig {
                        after: Duration::from_secs(hours * 3600),
                        learned: None,
                    };
                }
                Detector::ContinuousFlow(config) => {
                    config.learned = None;
                    config.steady = None;
                    config.flow_running = None;
                }
                Detector::Spike(config) => {
                    config.learned = None;
                    config.reported_flow = false;
                }
                _ => {}
            }
        }
        Contender {
            name: format!("fixed {hours} h"),
            rules,
            no_flow: false,
        }
    };
    let mut all = vec![
        Contender {
            name: "learned".into(),
            rules: learned.clone(),
            no_flow: false,
        },
        Contender {
            name: "learned, meters without flow".into(),
            rules: learned.clone(),
            no_flow: true,
        },
        own_history_only(Contender {
            name: "learned".into(),
            rules: learned.clone(),
            no_flow: false,
        }),
        routine(&learned, None, Duration::ZERO),
        fixed(8),
        fixed(12),
        fixed(24),
        any_use_for_two_hours(fixed(12)),
        steady_toilet(Contender {
            name: "learned, meters without flow".into(),
            rules: learned.clone(),
            no_flow: true,
        }),
        weekend(Contender {
            name: "learned".into(),
            rules: learned.clone(),
            no_flow: false,
        }),
    ];
    // `WW_BENCH_FLOW_RUNNING="45m,2h"`: `running_toilet` with other
    // `flow_running` durations (meters with flow).
    for running in std::env::var("WW_BENCH_FLOW_RUNNING")
        .unwrap_or_default()
        .split(',')
        .filter_map(|d| humantime::parse_duration(d.trim()).ok())
    {
        let mut rules = learned.clone();
        for rule in &mut rules.rules {
            if let Detector::ContinuousFlow(config) = &mut rule.detector
                && rule.name == "running_toilet"
            {
                config.flow_running = Some(running);
            }
        }
        all.push(Contender {
            name: format!(
                "learned, flow_running {}",
                humantime::format_duration(running)
            ),
            rules,
            no_flow: false,
        });
    }
    // `WW_BENCH_CHECK_IN="0.99:8,0.95:6:2"`: check-in stages to try
    // (quantile:max in hours[:min in hours]).
    for variant in std::env::var("WW_BENCH_CHECK_IN")
        .unwrap_or_default()
        .split(',')
    {
        let parts: Vec<f64> = variant.split(':').filter_map(|p| p.parse().ok()).collect();
        if let [quantile, max_h, ref rest @ ..] = parts[..] {
            all.push(check_in(&learned, quantile, max_h, rest.first().copied()));
        }
    }
    // `WW_BENCH_ROUTINE="20h:14d,16h:7d"`: the learned rule with
    // `routine_max` and `routine_every`.
    for variant in std::env::var("WW_BENCH_ROUTINE")
        .unwrap_or_default()
        .split(',')
    {
        let Some((max, every)) = variant.split_once(':') else {
            continue;
        };
        let (Ok(max), Ok(every)) = (
            humantime::parse_duration(max.trim()),
            humantime::parse_duration(every.trim()),
        ) else {
            continue;
        };
        all.push(routine(&learned, Some(max), every));
    }
    // `WW_BENCH_SWEEP="0.99:1.0,0.999:1.1:30:11"`: learned variants
    // (quantile:margin[:morning margin in minutes[:max in hours]]).
    for variant in std::env::var("WW_BENCH_SWEEP")
        .unwrap_or_default()
        .split(',')
    {
        let parts: Vec<f64> = variant.split(':').filter_map(|p| p.parse().ok()).collect();
        if parts.len() < 2 {
            continue;
        }
        all.push(Contender {
            name: format!("learned {}", variant.replace(':', "/")),
            rules: tuned(
                &learned,
                parts[0],
                parts[1],
                parts.get(2).copied(),
                parts.get(3).copied(),
            ),
            no_flow: false,
        });
    }
    all
}

/// The learned rule with `routine_max = max` and `routine_every = every`;
/// with `None`, `max` a hard cap (the rule shipped until 2026-11-26).
fn routine(learned: &RuleSet, max: Option<Duration>, every: Duration) -> Contender {
    let mut rules = learned.clone();
    for rule in &mut rules.rules {
        if let Detector::Inactivity(InactivityConfig {
            learned: Some(l), ..
        }) = &mut rule.detector
        {
            l.routine_max = max;
            l.routine_every = if max.is_some() {
                every
            } else {
                l.routine_every
            };
        }
    }
    let name = match max {
        None => "learned, max a hard cap (shipped until 2026-11-26)".to_owned(),
        Some(max) => format!(
            "learned, routine_max {} every {} d",
            humantime::format_duration(max),
            every.as_secs() / 86_400
        ),
    };
    Contender {
        name,
        rules,
        no_flow: false,
    }
}

/// The fixed 12 h contender with the programmes' plain "continuous use for
/// 2 h" rule: `running_toilet` (any use in every 15 minutes) after 2 h.
fn any_use_for_two_hours(mut contender: Contender) -> Contender {
    for rule in &mut contender.rules.rules {
        if let Detector::ContinuousFlow(config) = &mut rule.detector
            && rule.name == "running_toilet"
        {
            config.after = Duration::from_secs(2 * 3600);
        }
    }
    contender.name = format!("{}, any use 2 h", contender.name);
    contender
}

/// `contender` judging by each household's own history alone: no
/// `late_morning` or `day_out_until` allowance (the learned rule before
/// 2026-11-26).
fn own_history_only(mut contender: Contender) -> Contender {
    without_allowances(&mut contender.rules);
    contender.name = format!("{}, own history only", contender.name);
    contender
}

/// Turns the learned inactivity rules' `late_morning` and `day_out_until`
/// off: each household is judged by its own history alone.
pub fn without_allowances(rules: &mut RuleSet) {
    for rule in &mut rules.rules {
        if let Detector::Inactivity(InactivityConfig {
            learned: Some(l), ..
        }) = &mut rule.detector
        {
            l.late_morning = None;
            l.day_out_until = None;
        }
    }
}

/// A check-in stage: an earlier learned inactivity rule whose alerts only
/// ask the resident "Are you OK?" (a route with `ask_resident`). It keeps
/// the late-morning allowance (nobody is woken by the question) but not the
/// day out (someone out for the day can answer it). Its false alarms are
/// questions to a resident who is fine, not visits.
fn check_in(learned: &RuleSet, quantile: f64, max_h: f64, min_h: Option<f64>) -> Contender {
    let mut rules = tuned(learned, quantile, 1.0, None, Some(max_h));
    for rule in &mut rules.rules {
        if let Detector::Inactivity(InactivityConfig {
            learned: Some(l), ..
        }) = &mut rule.detector
        {
            l.day_out_until = None;
            if let Some(h) = min_h {
                l.min = Duration::from_secs((h * 3600.0) as u64);
            }
        }
    }
    let min = min_h.map(|h| format!(", min {h} h")).unwrap_or_default();
    Contender {
        name: format!("check-in q {quantile}, max {max_h} h{min}"),
        rules,
        no_flow: false,
    }
}

/// `contender` with `[baseline] weekend = true` (`weekend_min_days = 8`).
fn weekend(mut contender: Contender) -> Contender {
    contender.rules.baseline.weekend_min_days = Some(8);
    contender.name = format!("{} + weekend", contender.name);
    contender
}

/// `contender` with the steady-flow check (`steady = "1h"`) on `running_toilet`.
fn steady_toilet(mut contender: Contender) -> Contender {
    for rule in &mut contender.rules.rules {
        if let Detector::ContinuousFlow(config) = &mut rule.detector
            && rule.name == "running_toilet"
        {
            config.steady = Some(Duration::from_secs(3600));
        }
    }
    contender.name = format!("{} + steady 1 h", contender.name);
    contender
}

/// `rules` with the learned inactivity rule's quantile, margin and (when
/// given) morning margin in minutes and maximum in hours changed.
pub fn tuned(
    rules: &RuleSet,
    quantile: f64,
    margin: f64,
    morning_min: Option<f64>,
    max_h: Option<f64>,
) -> RuleSet {
    let mut rules = rules.clone();
    for rule in &mut rules.rules {
        if let Detector::Inactivity(InactivityConfig {
            learned: Some(l), ..
        }) = &mut rule.detector
        {
            l.quantile = quantile;
            l.margin = margin;
            if let Some(m) = morning_min {
                l.morning_margin = Some(Duration::from_secs((m * 60.0) as u64));
            }
            if let Some(h) = max_h {
                l.max = Duration::from_secs((h * 3600.0) as u64);
            }
        }
    }
    rules
}

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
    if std::env::var("WW_BENCH_DUMP_STATE").is_ok() {
        let largest = engine
            .meters()
            .filter_map(|m| engine.meter_state(m))
            .filter_map(|s| serde_json::to_string(&s).ok())
            .max_by_key(String::len);
        eprintln!("largest state: {}", largest.unwrap_or_default());
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
