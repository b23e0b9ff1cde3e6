//! Scenario helpers for timeline tests: a household's water use as a function
//! of time, a meter sampling its register, and a driver feeding the engine
//! the way the daemon would (readings as they arrive, a tick every 15 minutes).

#![allow(dead_code)]

use chrono::{DateTime, Duration, NaiveDateTime};
use waterwatch_rules::rule::continuous_flow::LearnedRun;
use waterwatch_rules::rule::inactivity::LearnedConfig;
use waterwatch_rules::{
    AlertEvent, Engine, Language, MeterState, Note, Reading, RuleSet, Timestamp, Transition,
};

pub const METER: &str = "m-0001";

/// `"2026-11-24 10:00"` in the household's time zone (+08:00).
pub fn at(local: &str) -> Timestamp {
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S"))
        .unwrap_or_else(|e| panic!("bad time {local:?}: {e}"));
    DateTime::parse_from_rfc3339(&format!("{}+08:00", naive.format("%Y-%m-%dT%H:%M:%S"))).unwrap()
}

pub fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

/// `n` dates from 2026-11-01: `2026-11-01`, `2026-11-02`, …
pub fn dates(n: i64) -> Vec<String> {
    let first = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    (0..n)
        .map(|d| (first + Duration::days(d)).format("%Y-%m-%d").to_string())
        .collect()
}

/// `n` usual days from 2026-11-01 (87 L a day, short uses; see
/// [`Household::normal_day`]).
pub fn usual(n: i64) -> Household {
    dates(n)
        .iter()
        .fold(Household::new(1000.0), |h, d| h.normal_day(d))
}

/// A usual day's rhythm using about a third as much: 30 L.
pub fn low_day(h: Household, date: &str) -> Household {
    [
        ("07:00", 7.0),
        ("07:30", 2.0),
        ("09:50", 1.0),
        ("12:00", 3.0),
        ("15:00", 1.0),
        ("18:30", 10.0),
        ("21:00", 6.0),
    ]
    .iter()
    .fold(h, |h, (t, l)| h.uses(&format!("{date} {t}"), *l))
}

/// The shipped rules with every learned inactivity rule changed by `change`.
pub fn shipped_with(change: impl Fn(&mut LearnedConfig)) -> RuleSet {
    let mut rules = RuleSet::default_rules();
    rules.for_each_learned_inactivity(change);
    rules
}

/// The shipped rules with every learned continuous_flow rule changed by
/// `change`.
pub fn shipped_flow_with(change: impl Fn(&mut LearnedRun)) -> RuleSet {
    let mut rules = RuleSet::default_rules();
    rules.for_each_learned_run(change);
    rules
}

/// A usual day's uses: (local time, litres), 87 L.
pub const NORMAL_DAY: [(&str, f64); 7] = [
    ("07:00", 20.0),
    ("07:30", 5.0),
    ("09:50", 3.0),
    ("12:00", 10.0),
    ("15:00", 4.0),
    ("18:30", 30.0),
    ("21:00", 15.0),
];

/// What a household draws from its meter: single uses and steady flows.
#[derive(Clone, Default)]
pub struct Household {
    start_l: f64,
    uses: Vec<(Timestamp, f64)>,
    flows: Vec<(Timestamp, Timestamp, f64)>,
}

impl Household {
    pub fn new(start_l: f64) -> Household {
        Household {
            start_l,
            ..Household::default()
        }
    }

    /// `litres` drawn at one moment.
    pub fn uses(mut self, when: &str, litres: f64) -> Household {
        self.uses.push((at(when), litres));
        self
    }

    /// 3 L at each of `times` (`"07:00"`, …) on `date`.
    pub fn uses_at(self, date: &str, times: &[&str]) -> Household {
        times
            .iter()
            .fold(self, |h, t| h.uses(&format!("{date} {t}"), 3.0))
    }

    /// A usual day: water at 07:00, 07:30, 09:50, 12:00, 15:00, 18:30, 21:00
    /// (so the night gap is 10 h, under the 12 h limit).
    pub fn normal_day(self, date: &str) -> Household {
        NORMAL_DAY.into_iter().fold(self, |h, (time, litres)| {
            h.uses(&format!("{date} {time}"), litres)
        })
    }

    /// A usual day that stops at `until` (a collapse).
    pub fn day_until(self, date: &str, until: &str) -> Household {
        let end = at(&format!("{date} {until}"));
        let mut day = Household::new(0.0).normal_day(date);
        day.uses.retain(|(t, _)| *t <= end);
        Household {
            uses: [self.uses, day.uses].concat(),
            ..self
        }
    }

    /// A steady flow of `lpm` litres per minute from `from` to `to`.
    pub fn flow(mut self, from: &str, to: &str, lpm: f64) -> Household {
        self.flows.push((at(from), at(to), lpm));
        self
    }

    /// `minutes` of use at `lpm` from `when` (a shower, a tap, a flush):
    /// a flow that a reading taken meanwhile sees.
    pub fn runs(mut self, when: &str, minutes: i64, lpm: f64) -> Household {
        let from = at(when);
        self.flows
            .push((from, from + Duration::minutes(minutes), lpm));
        self
    }

    /// The flow at `t`, L/min, as a meter reporting its flow would: the
    /// flows running then (single uses are instants, no flow).
    pub fn flow_at(&self, t: Timestamp) -> f64 {
        self.flows
            .iter()
            .filter(|&&(from, to, _)| from <= t && t < to)
            .map(|&(_, _, lpm)| lpm)
            .sum()
    }

    /// [`Household::readings`] from a meter that also reports the flow of the moment.
    pub fn readings_with_flow(&self, from: &str, until: &str, every: Duration) -> Vec<Reading> {
        self.readings(from, until, every)
            .into_iter()
            .map(|r| Reading {
                flow_lpm: Some(self.flow_at(r.ts)),
                ..r
            })
            .collect()
    }

    /// The register at `t`, whole litres (the meter's resolution).
    pub fn register(&self, t: Timestamp) -> f64 {
        let used: f64 = self
            .uses
            .iter()
            .filter(|(u, _)| *u <= t)
            .map(|(_, l)| l)
            .sum();
        let flowed: f64 = self
            .flows
            .iter()
            .map(|&(from, to, lpm)| {
                let end = t.min(to);
                if end <= from {
                    0.0
                } else {
                    lpm * (end - from).num_milliseconds() as f64 / 60_000.0
                }
            })
            .sum();
        (self.start_l + used + flowed).floor()
    }

    /// Readings every `every` from `from` up to and including `until`.
    pub fn readings(&self, from: &str, until: &str, every: Duration) -> Vec<Reading> {
        let (mut t, until) = (at(from), at(until));
        let mut readings = Vec::new();
        while t <= until {
            readings.push(reading(t, self.register(t)));
            t += every;
        }
        readings
    }
}

pub fn reading(ts: Timestamp, total_l: f64) -> Reading {
    Reading {
        meter_id: METER.to_owned(),
        ts,
        total_l,
        flow_lpm: None,
        battery_pct: None,
        rssi_dbm: None,
        status: vec![],
    }
}

/// The engine with the shipped rules, and everything it said.
pub struct Run {
    pub engine: Engine,
    pub events: Vec<AlertEvent>,
    pub notes: Vec<Note>,
    /// The next tick is due at this time.
    next_tick: Option<Timestamp>,
    pub tick_every: Duration,
}

impl Run {
    pub fn new() -> Run {
        Run::with_rules(RuleSet::default_rules())
    }

    pub fn with_rules(rules: RuleSet) -> Run {
        Run {
            engine: Engine::new(rules),
            events: Vec::new(),
            notes: Vec::new(),
            next_tick: None,
            tick_every: minutes(15),
        }
    }

    /// Ticks (every `tick_every`) up to `now`.
    pub fn tick_until(&mut self, now: Timestamp) {
        let mut next = self.next_tick.unwrap_or(now);
        while next <= now {
            self.events.extend(self.engine.tick(next));
            next += self.tick_every;
        }
        self.next_tick = Some(next);
    }

    /// `h`'s 15-minute readings from 2026-11-01 to `until`, live, under
    /// `rules`, for a household that reads its alerts in `lang`.
    pub fn household(lang: Language, h: &Household, rules: RuleSet, until: &str) -> Run {
        let mut run = Run::with_rules(rules);
        run.engine.set_household_language(METER, lang);
        run.live(&h.readings("2026-11-01 00:00", until, minutes(15)));
        run
    }

    /// Each reading arrives at its own timestamp, with ticks in between.
    pub fn live(&mut self, readings: &[Reading]) -> &mut Run {
        for r in readings {
            self.tick_until(r.ts);
            self.observe(r, r.ts);
        }
        self
    }

    /// As [`Run::live`], but before every `every`-th reading (from the
    /// `first`) the engine is rebuilt with the shipped rules from its state
    /// saved as JSON, as the daemon does across a restart.
    pub fn live_restarting(
        &mut self,
        readings: &[Reading],
        every: usize,
        first: usize,
    ) -> &mut Run {
        for (i, r) in readings.iter().enumerate() {
            if i % every == first {
                let saved = self
                    .engine
                    .meter_state(METER)
                    .map(|s| serde_json::to_string(&s).unwrap());
                self.engine = Engine::new(RuleSet::default_rules());
                if let Some(json) = saved {
                    let state: MeterState = serde_json::from_str(&json).unwrap();
                    self.engine.restore_meter(METER, state);
                }
            }
            self.tick_until(r.ts);
            self.observe(r, r.ts);
        }
        self
    }

    /// All readings arrive together at `now` (a batch upload).
    pub fn batch(&mut self, readings: &[Reading], now: Timestamp) -> &mut Run {
        for r in readings {
            self.observe(r, now);
        }
        self
    }

    pub fn observe(&mut self, reading: &Reading, now: Timestamp) {
        let outcome = self.engine.observe(reading, now);
        self.events.extend(outcome.events);
        self.notes.extend(outcome.notes);
    }

    /// A person confirmed `meter`'s resident fine at `at` (as the daemon
    /// tells the engine); the events it caused are kept. Returns how many.
    pub fn confirm_fine(&mut self, meter: &str, at: Timestamp) -> usize {
        let events = self.engine.confirm_fine(meter, at);
        let n = events.len();
        self.events.extend(events);
        n
    }

    /// When `rule` fired (event `ts`s).
    pub fn fired(&self, rule: &str) -> Vec<Timestamp> {
        self.times(rule, Transition::Fired)
    }

    pub fn resolved(&self, rule: &str) -> Vec<Timestamp> {
        self.times(rule, Transition::Resolved)
    }

    fn times(&self, rule: &str, transition: Transition) -> Vec<Timestamp> {
        self.events
            .iter()
            .filter(|e| e.rule == rule && e.event == transition)
            .map(|e| e.ts)
            .collect()
    }

    /// `rule fired 2026-11-24T22:00:00+08:00`, one line per event.
    pub fn story(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}: {}",
                    e.rule,
                    e.event.as_str(),
                    e.ts.format("%m-%d %H:%M"),
                    e.summary
                )
            })
            .collect()
    }

    pub fn count(&self, note: Note) -> usize {
        self.notes.iter().filter(|n| **n == note).count()
    }
}

/// Asserts `t` lies in `[from, to]`.
pub fn assert_between(t: Timestamp, from: &str, to: &str) {
    assert!(
        at(from) <= t && t <= at(to),
        "{t} is not between {from} and {to}"
    );
}

/// splitmix64: a small, good, reproducible generator (no dependency).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}
