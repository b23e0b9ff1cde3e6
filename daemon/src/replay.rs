//! `waterwatch replay`: the live rules engine run over recorded readings.
//!
//! Input: native JSON lines sorted by `ts`. Time advances with the readings,
//! across all meters; time-only rules are evaluated whenever it has moved a
//! minute. Output: one JSON line per alert event (the replay contract).

use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Write};
use std::time::Instant;

use chrono::DateTime;

use waterwatch_rules::{AlertEvent, Engine, Reading, RuleSet, Timestamp};

use crate::ingest::native::{self, TimeWindow};

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("cannot read the input: {0}")]
    Read(#[source] std::io::Error),
    #[error("cannot write the output: {0}")]
    Write(#[source] std::io::Error),
}

#[derive(Debug, Default)]
pub struct Summary {
    pub lines: u64,
    pub readings: u64,
    pub meters: usize,
    /// (line number, reason) of the first rejected lines, and how many in all.
    pub first_rejections: Vec<(u64, String)>,
    pub rejected: u64,
    /// (kind, event) → count.
    pub events: BTreeMap<(String, String), u64>,
    pub seconds: f64,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rate = self.readings as f64 / self.seconds.max(1e-9);
        writeln!(
            f,
            "replayed {} readings of {} meters in {:.2} s ({:.0} readings/s); {} lines rejected",
            self.readings, self.meters, self.seconds, rate, self.rejected
        )?;
        for (line, why) in &self.first_rejections {
            writeln!(f, "  line {line}: {why}")?;
        }
        let total: u64 = self.events.values().sum();
        write!(f, "{total} alert events")?;
        for ((kind, event), n) in &self.events {
            write!(f, "; {kind} {event}: {n}")?;
        }
        writeln!(f)
    }
}

/// Evaluate time-only rules at most this often (event time).
const TICK_EVERY_MS: i64 = 60_000;

/// The engine driven in event time: the clock is the newest reading's time,
/// across all meters, and time-only rules run whenever it has moved a minute.
pub struct EventTime {
    engine: Engine,
    clock: Option<Timestamp>,
    last_tick_ms: Option<i64>,
}

impl EventTime {
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            clock: None,
            last_tick_ms: None,
        }
    }

    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Feed one reading; returns the events it (and the time it brings) raised.
    pub fn feed(&mut self, reading: &Reading) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        if self.clock.is_none_or(|c| reading.ts > c) {
            self.clock = Some(reading.ts);
            let ms = reading.ts.timestamp_millis();
            if self
                .last_tick_ms
                .is_none_or(|last| ms - last >= TICK_EVERY_MS)
            {
                self.last_tick_ms = Some(ms);
                events.extend(self.engine.tick(reading.ts));
            }
        }
        let now = self.clock.unwrap_or(reading.ts);
        events.extend(self.engine.observe(reading, now).events);
        events
    }

    /// Let time run on to `until` (time-only rules).
    pub fn finish(&mut self, until: Timestamp) -> Vec<AlertEvent> {
        if self.clock.is_none_or(|c| until > c) {
            self.clock = Some(until);
            return self.engine.tick(until);
        }
        Vec::new()
    }
}

pub fn replay(
    rules: RuleSet,
    input: impl BufRead,
    until: Option<Timestamp>,
    out: &mut impl Write,
) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let mut driver = EventTime::new(Engine::new(rules));
    let mut summary = Summary::default();
    let mut meters = HashSet::new();
    let window = TimeWindow::unbounded();

    let mut emit = |events: Vec<AlertEvent>, summary: &mut Summary| -> Result<(), ReplayError> {
        for event in events {
            *summary
                .events
                .entry((
                    event.kind.as_str().to_owned(),
                    event.event.as_str().to_owned(),
                ))
                .or_default() += 1;
            serde_json::to_writer(&mut *out, &event).map_err(|e| ReplayError::Write(e.into()))?;
            out.write_all(b"\n").map_err(ReplayError::Write)?;
        }
        Ok(())
    };

    for line in input.lines() {
        let line = line.map_err(ReplayError::Read)?;
        summary.lines += 1;
        if line.trim().is_empty() {
            continue;
        }
        let parsed = match native::parse(None, line.as_bytes(), DateTime::UNIX_EPOCH, window) {
            Ok(parsed) => parsed,
            Err(why) => {
                reject(&mut summary, why.to_string());
                continue;
            }
        };
        for (_, why) in parsed.rejected {
            reject(&mut summary, why.to_string());
        }
        for reading in parsed.readings {
            if until.is_some_and(|u| reading.ts > u) {
                continue;
            }
            if !meters.contains(&reading.meter_id) {
                meters.insert(reading.meter_id.clone());
            }
            summary.readings += 1;
            emit(driver.feed(&reading), &mut summary)?;
        }
    }
    if let Some(until) = until {
        emit(driver.finish(until), &mut summary)?;
    }
    out.flush().map_err(ReplayError::Write)?;
    summary.meters = meters.len();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

fn reject(summary: &mut Summary, why: String) {
    summary.rejected += 1;
    if summary.first_rejections.len() < 10 {
        summary.first_rejections.push((summary.lines, why));
    }
}
