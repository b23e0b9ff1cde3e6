//! `kind = "inactivity"`: no water used for longer than the limit.
//!
//! Only readings prove quiet: the quiet stretch runs from the end of the last
//! interval with use to the newest reading, so a meter that goes silent never
//! looks inactive (that is `meter_offline`'s job). Use somewhere inside a long
//! interval counts as use at its end; a span the register cannot account for
//! (a confirmed jump or reset) counts as possible use. Either way the detector
//! never claims more quiet than the data proves.

use std::time::Duration;

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use super::{EPSILON_L, Verdict, duration_ms};
use crate::text;

/// The typed `[[rule]]` parameters of an `inactivity` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct InactivityConfig {
    /// Fire when the observed stretch without use reaches this long.
    pub after: Duration,
}

/// How long a quiet stretch may last before the alert fires, and why.
///
// Design: this is the seam for learned per-household baselines. Version 0 only
// has the rule's fixed `after`; a later `Learned { .. }` variant will carry the
// household's usual longest gap starting at that time of day, and its own text.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// The rule's fixed `after`.
    Fixed(Duration),
}

impl Limit {
    /// The limit version 0 applies: the rule's fixed `after`.
    pub fn for_rule(config: &InactivityConfig) -> Limit {
        Limit::Fixed(config.after)
    }

    pub fn ms(&self) -> i64 {
        match self {
            Limit::Fixed(after) => duration_ms(*after),
        }
    }

    /// `the fixed limit is 12 h`
    pub fn explain(&self) -> String {
        match self {
            Limit::Fixed(after) => format!("the fixed limit is {}", text::duration(*after)),
        }
    }
}

/// What began the current quiet stretch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum QuietSince {
    /// No use seen yet: quiet is measured from the first reading.
    FirstReading,
    /// An interval with use, which began at `from`.
    Use { from: i64 },
    /// A span the register cannot account for (rebased), which began at `from`.
    Unknown { from: i64 },
}

/// Per-meter inactivity facts (shared by all inactivity rules; no parameters).
/// Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inactivity {
    /// Quiet is measured from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<i64>,
    /// The newest reading that shows the register: quiet is measured up to here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latest: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cause: Option<QuietSince>,
}

impl Inactivity {
    /// The meter's first reading: before any use, quiet is measured from it.
    pub fn first_reading(&mut self, at_ms: i64) {
        if self.since.is_none() {
            self.since = Some(at_ms);
            self.cause = Some(QuietSince::FirstReading);
        }
        self.see(at_ms);
    }

    /// A usage interval from the normaliser.
    pub fn usage(&mut self, start_ms: i64, end_ms: i64, litres: f64) {
        if litres > EPSILON_L {
            self.since = Some(end_ms);
            self.cause = Some(QuietSince::Use { from: start_ms });
        } else if self.since.is_none() {
            self.since = Some(start_ms);
            self.cause = Some(QuietSince::FirstReading);
        }
        self.see(end_ms);
    }

    /// A span whose use cannot be known: treated as possible use.
    pub fn unknown(&mut self, start_ms: i64, end_ms: i64) {
        self.since = Some(end_ms);
        self.cause = Some(QuietSince::Unknown { from: start_ms });
        self.see(end_ms);
    }

    fn see(&mut self, at_ms: i64) {
        self.latest = Some(self.latest.map_or(at_ms, |l| l.max(at_ms)));
    }

    /// The quiet stretch the readings prove, in milliseconds.
    pub fn quiet_ms(&self) -> Option<i64> {
        Some(self.latest? - self.since?)
    }

    pub fn verdict(&self, limit: &Limit) -> Verdict {
        match self.quiet_ms() {
            None => Verdict::Unchanged,
            Some(quiet) if quiet >= limit.ms() => Verdict::Firing,
            Some(_) => Verdict::Clear,
        }
    }

    /// The alert text for `verdict`, times in `offset`.
    pub fn summary(&self, limit: &Limit, verdict: Verdict, offset: FixedOffset) -> String {
        let (Some(since), Some(latest)) = (self.since, self.latest) else {
            return "No readings yet.".to_owned();
        };
        let at = |ms| text::clock(ms, latest, offset);
        let quiet = text::duration_ms(latest - since);
        match (verdict, self.cause) {
            (Verdict::Firing, Some(QuietSince::FirstReading)) => format!(
                "No water used since the first reading at {} ({quiet}); {}.",
                at(since),
                limit.explain()
            ),
            (Verdict::Firing, _) => format!(
                "No water used since {} ({quiet}); {}.",
                at(since),
                limit.explain()
            ),
            (_, Some(QuietSince::Use { from })) => {
                format!("Water used again between {} and {}.", at(from), at(since))
            }
            (_, Some(QuietSince::Unknown { from })) => format!(
                "The register jumped or was reset between {} and {}, so water may have been used; watching again from {}.",
                at(from),
                at(since),
                at(since)
            ),
            _ => format!("Quiet for {quiet}, within the limit ({}).", limit.explain()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const H: i64 = 60 * MIN;

    enum Feed {
        First(i64),
        Use(i64, i64, f64),
        Unknown(i64, i64),
    }
    use Feed::*;

    fn run(feed: &[Feed]) -> (Inactivity, Verdict) {
        let limit = Limit::Fixed(Duration::from_secs(12 * 3600));
        let mut state = Inactivity::default();
        for step in feed {
            match *step {
                First(at) => state.first_reading(at),
                Use(s, e, l) => state.usage(s, e, l),
                Unknown(s, e) => state.unknown(s, e),
            }
        }
        let verdict = state.verdict(&limit);
        (state, verdict)
    }

    #[test]
    fn quiet_is_measured_between_readings_only() {
        let cases: &[(&str, &[Feed], Verdict)] = &[
            ("no readings", &[], Verdict::Unchanged),
            ("one reading", &[First(0)], Verdict::Clear),
            (
                "first reading then 12 h of zero intervals",
                &[First(0), Use(0, 6 * H, 0.0), Use(6 * H, 12 * H, 0.0)],
                Verdict::Firing,
            ),
            (
                "use at 10:00 then readings to 21:59",
                &[
                    First(0),
                    Use(9 * H, 10 * H, 3.0),
                    Use(10 * H, 22 * H - MIN, 0.0),
                ],
                Verdict::Clear,
            ),
            (
                "use at 10:00 then readings to 22:00",
                &[First(0), Use(9 * H, 10 * H, 3.0), Use(10 * H, 22 * H, 0.0)],
                Verdict::Firing,
            ),
            (
                "a 14 h gap with use counts as use at its end",
                &[First(0), Use(0, 14 * H, 2.0)],
                Verdict::Clear,
            ),
            (
                "a 14 h gap without use proves 14 h of quiet",
                &[First(0), Use(0, 14 * H, 0.0)],
                Verdict::Firing,
            ),
            (
                "an unknown span counts as possible use",
                &[
                    First(0),
                    Use(0, 11 * H, 0.0),
                    Unknown(11 * H, 12 * H),
                    Use(12 * H, 13 * H, 0.0),
                ],
                Verdict::Clear,
            ),
            (
                "use resolves a firing stretch",
                &[
                    First(0),
                    Use(0, 13 * H, 0.0),
                    Use(13 * H, 13 * H + 15 * MIN, 1.0),
                ],
                Verdict::Clear,
            ),
        ];
        for (name, feed, want) in cases {
            assert_eq!(run(feed).1, *want, "{name}");
        }
    }

    #[test]
    fn summaries_say_since_when_and_the_limit() {
        let offset = FixedOffset::east_opt(8 * 3600).unwrap();
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-24T09:40:00+08:00")
            .unwrap()
            .timestamp_millis();
        let limit = Limit::Fixed(Duration::from_secs(12 * 3600));
        let (state, v) = run(&[
            First(t0 - H),
            Use(t0 - 15 * MIN, t0, 4.0),
            Use(t0, t0 + 12 * H + 5 * MIN, 0.0),
        ]);
        assert_eq!(
            state.summary(&limit, v, offset),
            "No water used since 09:40 (12 h 5 min); the fixed limit is 12 h."
        );
        let (state, v) = run(&[First(t0), Use(t0, t0 + 13 * H, 0.0)]);
        assert_eq!(
            state.summary(&limit, v, offset),
            "No water used since the first reading at 09:40 (13 h); the fixed limit is 12 h."
        );
        let (state, v) = run(&[
            First(t0),
            Use(t0, t0 + 13 * H, 0.0),
            Use(t0 + 13 * H, t0 + 14 * H, 5.0),
        ]);
        assert_eq!(
            state.summary(&limit, v, offset),
            "Water used again between 22:40 and 23:40."
        );
    }
}
