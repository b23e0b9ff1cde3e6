//! Turning one meter's register readings into usage intervals.
//!
//! [`MeterTrack`] follows the cumulative register and, for each reading in
//! order, says how much water was used since the previous one ([`Usage`]) and
//! what it noticed on the way ([`Note`]s, which the daemon counts in metrics).
//! Real registers glitch: small falls (jitter, reverse flow), meters replaced
//! (counter resets), a stream interleaving two registers far apart, absurd
//! jumps. A reading far off the track is *held* until the next reading
//! confirms it (then the track rebases on it; the span between is
//! [`Step::unknown`]) or refutes it (then it was an outlier and is dropped), so
//! one bad value never becomes use, a spike or a storm of resets.

use serde::{Deserialize, Serialize};

use crate::reading::{Reading, Timestamp};

/// An interval longer than this is a data gap: its use is spread over it
/// (counted as [`Note::GapSpread`]) and it breaks continuous-flow runs.
pub const DATA_GAP_MS: i64 = 2 * 3_600_000;

/// Register resolution: a rise this small is never implausible.
const RESOLUTION_L: f64 = 1.0;

/// Below this, a fall is float noise, not a negative delta.
const NOISE_L: f64 = 1e-6;

/// The `[normalise]` section of a rules file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormaliseConfig {
    /// A register rising faster than this many litres per minute is a glitch,
    /// never use. A household tap gives 6–15 L/min, a burst pipe 30–100. Default 200.
    #[serde(default = "default_max_rate_lpm")]
    pub max_rate_lpm: f64,
    /// A fall of the register larger than this many litres is a counter reset
    /// (meter replaced) once the next reading confirms it; smaller falls are
    /// jitter or reverse flow and count as no use. Default 50.
    #[serde(default = "default_reset_drop_l")]
    pub reset_drop_l: f64,
}

fn default_max_rate_lpm() -> f64 {
    200.0
}

fn default_reset_drop_l() -> f64 {
    50.0
}

impl Default for NormaliseConfig {
    fn default() -> Self {
        NormaliseConfig {
            max_rate_lpm: default_max_rate_lpm(),
            reset_drop_l: default_reset_drop_l(),
        }
    }
}

/// Water used over an interval between two counted readings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub start: Timestamp,
    pub end: Timestamp,
    /// Never negative.
    pub litres: f64,
    /// `start` and `end` in milliseconds since the Unix epoch (the hot path's unit).
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A stretch of time whose use cannot be known: the register jumped or was
/// reset in it. Inactivity treats it as possible use; other rules as no data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Span {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Something the normaliser noticed; the daemon counts these by [`Note::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Note {
    /// Same timestamp as the newest reading: ignored.
    Duplicate,
    /// Older than the newest reading: ignored for detection.
    OutOfOrder,
    /// The register fell a little (jitter, reverse flow): no use; the
    /// high-water mark is kept so the rise back is not counted twice.
    NegativeDelta,
    /// A large fall, confirmed by the next reading: the meter was replaced or
    /// reset; the track rebased on the new level.
    CounterReset,
    /// A rise faster than `max_rate_lpm`, confirmed by the next reading: not
    /// use; the track rebased on the new level.
    ImplausibleJump,
    /// A single reading far off the track (an implausible rise or a large
    /// fall) that the next reading did not confirm: dropped.
    Outlier,
    /// Use in an interval longer than [`DATA_GAP_MS`], spread over it.
    GapSpread,
    /// The register is not a finite number: ignored.
    Invalid,
    /// Stamped more than [`MAX_AHEAD_MS`] after the `now` it arrived at (a
    /// wrong meter clock): ignored, so one bad timestamp cannot make every
    /// later reading of the meter look out of order.
    Future,
}

/// How far ahead of `now` a reading's timestamp may be (meter clock drift).
pub const MAX_AHEAD_MS: i64 = 3_600_000;

impl Note {
    /// The metric label: `duplicate`, `out_of_order`, `negative_delta`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Note::Duplicate => "duplicate",
            Note::OutOfOrder => "out_of_order",
            Note::NegativeDelta => "negative_delta",
            Note::CounterReset => "counter_reset",
            Note::ImplausibleJump => "implausible_jump",
            Note::Outlier => "outlier",
            Note::GapSpread => "gap_spread",
            Note::Invalid => "invalid",
            Note::Future => "future",
        }
    }
}

/// What became of a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Duplicate, out of order, invalid or from the future: nothing changed.
    Ignored,
    /// The meter's first reading: the track starts here.
    First,
    /// Far off the track: held until the next reading confirms or refutes it.
    Held,
    /// Counted: [`Step::usage`] says what was used since the previous reading.
    Counted,
}

/// The outcome of one reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub fate: Fate,
    /// A span whose use cannot be known (before `usage`, when the track rebased).
    pub unknown: Option<Span>,
    pub usage: Option<Usage>,
    pub notes: Vec<Note>,
}

impl Step {
    fn new(fate: Fate) -> Step {
        Step {
            fate,
            unknown: None,
            usage: None,
            notes: Vec::new(),
        }
    }

    fn noted(fate: Fate, note: Note) -> Step {
        Step {
            notes: vec![note],
            ..Step::new(fate)
        }
    }
}

/// A point on the register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Point {
    ts: Timestamp,
    total_l: f64,
}

/// The last counted reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Base {
    ts: Timestamp,
    /// Its register value.
    total_l: f64,
    /// The highest value counted since the last rebase: use is counted above it.
    high_l: f64,
    /// `ts` in milliseconds, as worked out when the base was set; derived,
    /// so neither stored nor compared (a restored base works it out again).
    #[serde(skip)]
    ts_ms: Option<i64>,
}

impl Base {
    fn at(ts: Timestamp, ts_ms: i64, total_l: f64, high_l: f64) -> Base {
        Base {
            ts,
            total_l,
            high_l,
            ts_ms: Some(ts_ms),
        }
    }

    fn ms(&self) -> i64 {
        self.ts_ms.unwrap_or_else(|| self.ts.timestamp_millis())
    }
}

impl PartialEq for Base {
    fn eq(&self, other: &Self) -> bool {
        (self.ts, self.total_l, self.high_l) == (other.ts, other.total_l, other.high_l)
    }
}

/// One meter's register track: small, serde-serialisable, pure.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeterTrack {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base: Option<Base>,
    /// A reading off the track, waiting for the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    held: Option<Point>,
}

impl MeterTrack {
    /// The timestamp of the newest reading taken (counted or held).
    pub fn newest(&self) -> Option<Timestamp> {
        match (&self.held, &self.base) {
            (Some(held), _) => Some(held.ts),
            (None, Some(base)) => Some(base.ts),
            (None, None) => None,
        }
    }

    /// Takes the next reading of this meter.
    pub fn step(&mut self, reading: &Reading, config: &NormaliseConfig) -> Step {
        self.step_at(reading, reading.ts.timestamp_millis(), config)
    }

    /// [`MeterTrack::step`] with the reading's timestamp already in
    /// milliseconds (`reading_ms`), as the engine has it.
    #[inline]
    pub fn step_at(
        &mut self,
        reading: &Reading,
        reading_ms: i64,
        config: &NormaliseConfig,
    ) -> Step {
        if !reading.total_l.is_finite() {
            return Step::noted(Fate::Ignored, Note::Invalid);
        }
        let point = Point {
            ts: reading.ts,
            total_l: reading.total_l,
        };
        // Design: chrono's date arithmetic is the costliest part of a step;
        // each timestamp is turned into milliseconds once, and the base
        // keeps its own.
        let point_ms = reading_ms;
        let Some(base) = self.base.clone() else {
            self.base = Some(Base::at(point.ts, point_ms, point.total_l, point.total_l));
            return Step::new(Fate::First);
        };
        if let Some(newest) = self.newest() {
            if point.ts == newest {
                return Step::noted(Fate::Ignored, Note::Duplicate);
            }
            if point.ts < newest {
                return Step::noted(Fate::Ignored, Note::OutOfOrder);
            }
        }
        let base_ms = base.ms();
        let Some(held) = self.held.take() else {
            if fits(base_ms, base.high_l, point_ms, point.total_l, config) {
                return self.count(point, point_ms, base_ms, Vec::new());
            }
            self.held = Some(point);
            return Step::new(Fate::Held);
        };
        if fits(base_ms, base.high_l, point_ms, point.total_l, config) {
            return self.count(point, point_ms, base_ms, vec![Note::Outlier]);
        }
        let held_ms = held.ts.timestamp_millis();
        if fits(held_ms, held.total_l, point_ms, point.total_l, config) {
            let note = if held.total_l > base.high_l {
                Note::ImplausibleJump
            } else {
                Note::CounterReset
            };
            let unknown = Span {
                start: base.ts,
                end: held.ts,
            };
            self.base = Some(Base::at(held.ts, held_ms, held.total_l, held.total_l));
            let mut step = self.count(point, point_ms, held_ms, vec![note]);
            step.unknown = Some(unknown);
            return step;
        }
        self.held = Some(point);
        Step::noted(Fate::Held, Note::Outlier)
    }

    /// Counts `point` (at `point_ms`) against the base (which it fits, at
    /// `base_ms`) and moves the base to it.
    #[inline(always)]
    fn count(&mut self, point: Point, point_ms: i64, base_ms: i64, mut notes: Vec<Note>) -> Step {
        let Some(base) = self.base.as_mut() else {
            return Step::new(Fate::Ignored);
        };
        if point.total_l < base.total_l - NOISE_L {
            notes.push(Note::NegativeDelta);
        }
        let litres = (point.total_l - base.high_l).max(0.0);
        if litres > NOISE_L && point_ms - base_ms > DATA_GAP_MS {
            notes.push(Note::GapSpread);
        }
        let usage = Usage {
            start: base.ts,
            end: point.ts,
            litres,
            start_ms: base_ms,
            end_ms: point_ms,
        };
        *base = Base::at(
            point.ts,
            point_ms,
            point.total_l,
            base.high_l.max(point.total_l),
        );
        Step {
            fate: Fate::Counted,
            unknown: None,
            usage: Some(usage),
            notes,
        }
    }
}

/// Whether `to` can follow a register at `from_l` (at `from_ts`): no fall of
/// more than `reset_drop_l`, no rise faster than `max_rate_lpm`.
fn fits(from_ms: i64, from_l: f64, to_ms: i64, to_l: f64, config: &NormaliseConfig) -> bool {
    let minutes = (to_ms - from_ms).max(0) as f64 / 60_000.0;
    let rise = to_l - from_l;
    rise >= -config.reset_drop_l && rise <= config.max_rate_lpm * minutes + RESOLUTION_L
}

#[cfg(test)]
mod tests;
