//! Randomised timelines full of the glitches real meters send — counter
//! resets, registers running backwards, duplicates, readings late and out
//! of order, gaps of days, absurd jumps, status flags, offsets that change
//! — fed to the shipped rules with ticks in between, and the daemon's other
//! calls (people's answers, a rules reload, a meter swapped, a meter listed
//! but never heard from). Whatever arrives, the
//! engine must not panic, every alert must fire and resolve in turn (never
//! twice in a row), what it says is firing must match its events, a state
//! restored from JSON must decide exactly as the engine that never stopped,
//! and no state may outgrow 4 KiB.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, FixedOffset};
mod support;

use support::Rng;
use waterwatch_rules::{AlertEvent, Engine, MeterState, Reading, RuleSet, Timestamp, Transition};

const METERS: [&str; 3] = ["g-1", "g-2", "g-3"];

/// Every meter the engine may know: g-4 replaces g-3, g-5 is listed but
/// never heard from.
const ALL: [&str; 5] = ["g-1", "g-2", "g-3", "g-4", "g-5"];

/// One meter's readings over `days`, and when each arrives, in arrival
/// order: a household's use with every glitch thrown in now and then.
fn timeline(rng: &mut Rng, meter: &str, days: i64) -> Vec<(Reading, Timestamp)> {
    let start = DateTime::parse_from_rfc3339("2026-03-01T00:00:00+08:00").unwrap();
    let step_min = [1, 5, 15, 15, 60][rng.below(5) as usize];
    let (mut t, end) = (start, start + Duration::days(days));
    let mut total = rng.below(100_000) as f64;
    let mut out: Vec<(Reading, Timestamp)> = Vec::new();
    let mut offset = *start.offset();
    while t < end {
        t += Duration::minutes(step_min);
        let hour = (t.timestamp() / 3600 + 8) % 24;
        // Use: mostly daytime sips, sometimes a long run or a burst.
        if (6..23).contains(&hour) && rng.chance(0.3) {
            total += rng.below(20) as f64 * step_min as f64 / 15.0;
        }
        if rng.chance(0.002) {
            total += 40.0 * step_min as f64; // a tap left open or a burst
        }
        // Glitches.
        if rng.chance(0.001) {
            t += Duration::hours(rng.below(72) as i64); // silent for hours or days
        }
        if rng.chance(0.0015) {
            total = rng.below(20) as f64; // counter reset (meter swapped)
        }
        if rng.chance(0.003) {
            total -= rng.below(5) as f64 + 1.0; // runs backwards a little
        }
        if rng.chance(0.0005) {
            total += 1e7; // an absurd jump
        }
        if rng.chance(0.0005) {
            total -= 1e7; // and back
        }
        if rng.chance(0.0005) {
            let hours = [0, 1, 8, -5][rng.below(4) as usize];
            offset = FixedOffset::east_opt(hours * 3600).unwrap(); // offset changes
        }
        let ts = t.with_timezone(&offset);
        let status = match rng.below(500) {
            0 => vec!["LEAK".to_owned()],
            1 => vec!["LOW_BATTERY".to_owned(), "BURST".to_owned()],
            2 => vec!["NONSENSE".to_owned()],
            _ => vec![],
        };
        let reading = Reading {
            meter_id: meter.to_owned(),
            ts,
            total_l: total.max(-5.0),
            flow_lpm: rng.chance(0.5).then(|| rng.below(30) as f64 / 2.0),
            battery_pct: rng.chance(0.1).then(|| rng.below(101) as f64),
            rssi_dbm: None,
            status,
        };
        // Arrival: mostly at once; some late (a batch), some twice.
        let lag = if rng.chance(0.02) {
            Duration::minutes(rng.below(24 * 60) as i64)
        } else {
            Duration::seconds(rng.below(30) as i64)
        };
        if rng.chance(0.01) {
            out.push((reading.clone(), ts + lag + Duration::seconds(5)));
        }
        out.push((reading, ts + lag));
    }
    // In arrival order (stable: equal arrivals keep reading order).
    out.sort_by_key(|(_, arrives)| *arrives);
    out
}

/// Every meter's timeline merged in arrival order.
fn arrivals(seed: u64, days: i64) -> Vec<(Reading, Timestamp)> {
    let mut rng = Rng(seed);
    let mut all: Vec<(Reading, Timestamp)> = METERS
        .iter()
        .flat_map(|m| timeline(&mut rng, m, days))
        .collect();
    all.sort_by_key(|(_, arrives)| *arrives);
    all
}

/// The shipped rules, or (`variant`) the same without the fixed burst
/// rule and with a tighter inactivity limit: a rules file edited and
/// reloaded.
fn rules(variant: bool) -> RuleSet {
    if !variant {
        return RuleSet::default_rules();
    }
    let text = waterwatch_rules::config::DEFAULT_RULES_TOML
        .replacen("name = \"burst\"", "name = \"burst\"\nenabled = false", 1)
        .replacen("after = \"12h\"", "after = \"10h\"", 1);
    RuleSet::parse("variant.toml", &text).expect("the variant parses")
}

/// A new engine under `rules` with the households the daemon would set.
fn engine(rules: RuleSet) -> Engine {
    let mut engine = Engine::new(rules);
    for meter in ["g-2", "g-3", "g-4"] {
        engine.set_household(meter, "shared");
    }
    engine
}

/// What the daemon asks of the engine besides readings, at reading `i`
/// (the same in every run of a seed): people's answers on cases, the
/// rules file reloaded, g-3 swapped for g-4, a listed meter never heard.
fn act(engine: &mut Engine, i: usize, at: Timestamp, variant: &mut bool) -> Vec<AlertEvent> {
    let mut rng = Rng(i as u64 ^ 0x5eed);
    let meter = METERS[rng.below(3) as usize];
    match rng.below(1000) {
        _ if i == SWAP_AT => engine.replace_meter("g-3", "g-4", at),
        _ if i == 10 => {
            engine.expect_meter("g-5", at);
            Vec::new()
        }
        0..=2 => engine.confirm_fine(meter, at),
        3 => {
            engine.confirm_incident(meter);
            Vec::new()
        }
        4 => {
            engine.confirm_leak(meter);
            Vec::new()
        }
        5 => {
            *variant = !*variant;
            engine.replace_rules(rules(*variant));
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// When g-3 is swapped for g-4 (a reading's index).
const SWAP_AT: usize = 1500;

/// Feeds `arrivals` with a tick every 15 minutes and the daemon's other
/// calls (`act`); when `restart_every` is set, the engine is rebuilt from
/// its states saved as JSON every so many readings. Returns every event,
/// and the largest state seen (bytes).
fn run(
    arrivals: &[(Reading, Timestamp)],
    restart_every: Option<usize>,
) -> (Vec<AlertEvent>, usize) {
    let mut variant = false;
    let mut engine = engine(rules(variant));
    let mut events = Vec::new();
    let mut next_tick: Option<Timestamp> = None;
    let mut largest = 0;
    for (i, (reading, arrives)) in arrivals.iter().enumerate() {
        let mut tick = next_tick.unwrap_or(*arrives);
        while tick <= *arrives {
            events.extend(engine.tick(tick));
            tick += Duration::minutes(15);
        }
        next_tick = Some(tick);
        events.extend(act(&mut engine, i, *arrives, &mut variant));
        // After the swap, g-3's readings come from g-4 (the daemon
        // refuses the old meter's).
        let renamed;
        let reading = if reading.meter_id == "g-3" && i >= SWAP_AT {
            renamed = Reading {
                meter_id: "g-4".to_owned(),
                ..reading.clone()
            };
            &renamed
        } else {
            reading
        };
        events.extend(engine.observe(reading, *arrives).events);
        if let Some(every) = restart_every
            && i % every == every - 1
        {
            let saved: Vec<(String, String)> = engine
                .meters()
                .map(|m| {
                    let state = engine.state(m).unwrap();
                    (m.to_owned(), serde_json::to_string(state).unwrap())
                })
                .collect();
            engine = self::engine(rules(variant));
            for (meter, json) in saved {
                largest = largest.max(json.len());
                let state: MeterState = serde_json::from_str(&json).unwrap();
                engine.restore_meter(meter, state);
            }
        }
    }
    for m in ALL {
        if let Some(state) = engine.state(m) {
            largest = largest.max(serde_json::to_string(state).unwrap().len());
        }
    }
    // What the engine says is firing matches its events.
    let mut firing: BTreeSet<(String, String, bool)> = BTreeSet::new();
    for e in &events {
        let key = (e.meter_id.clone(), e.rule.clone(), e.kind.is_about_meter());
        match e.event {
            Transition::Fired => firing.insert(key),
            Transition::Resolved => firing.remove(&key),
        };
    }
    let active: BTreeSet<(String, String)> = ALL
        .iter()
        .flat_map(|m| {
            engine
                .active_alerts(m)
                .iter()
                .map(|a| (m.to_string(), a.rule.clone()))
        })
        .collect();
    // g-3's alerts about the household went with it (its case keeps
    // them: the daemon's to close); only those are not in the engine.
    let firing: BTreeSet<(String, String)> = firing
        .into_iter()
        .filter(|(m, _, about_meter)| m != "g-3" || *about_meter)
        .map(|(m, rule, _)| (m, rule))
        .collect();
    assert_eq!(firing, active, "events and active alerts disagree");
    (events, largest)
}

/// Each (meter, rule) alert fires, resolves, fires again — never twice
/// the same way in a row, never resolving first; every text says something.
fn assert_alternate(events: &[AlertEvent], seed: u64) {
    let mut last: BTreeMap<(String, String), Transition> = BTreeMap::new();
    for e in events {
        let key = (e.meter_id.clone(), e.rule.clone());
        let before = last.insert(key.clone(), e.event);
        let expected = match before {
            None | Some(Transition::Resolved) => Transition::Fired,
            Some(Transition::Fired) => Transition::Resolved,
        };
        assert_eq!(
            e.event, expected,
            "seed {seed}: {key:?} at {}: {}",
            e.ts, e.summary
        );
        assert!(!e.summary.trim().is_empty(), "seed {seed}: an empty text");
    }
}

#[test]
fn glitches_never_break_the_engine_and_a_restart_changes_no_decision() {
    for seed in 0..12 {
        let arrivals = arrivals(seed, 20);
        let (events, largest) = run(&arrivals, None);
        assert_alternate(&events, seed);
        let (restarted, largest_restarted) = run(&arrivals, Some(97));
        assert_eq!(
            events.len(),
            restarted.len(),
            "seed {seed}: a restart changed how many events"
        );
        for (a, b) in events.iter().zip(&restarted) {
            assert_eq!(a, b, "seed {seed}: a restart changed a decision");
        }
        assert!(
            largest.max(largest_restarted) <= 4096,
            "seed {seed}: a state of {} bytes",
            largest.max(largest_restarted)
        );
    }
}
