//! `kind = "spike"`: a flow rate no household use reaches (a burst pipe).
//!
//! The rate is measured over the trailing `window` ending at the newest
//! reading, each interval's use spread evenly over it; an interval longer than
//! the window is measured on its own. So a large delta after a data gap is
//! spread over the gap (a low rate) and is not a spike. Resolves as soon as the
//! rate falls below the limit.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use super::{EPSILON_L, MINUTE_MS, Verdict, duration_ms};
use crate::text;

/// The typed `[[rule]]` parameters of a `spike` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeConfig {
    /// Fire when the rate over the trailing window reaches this (L/min).
    pub rate_lpm: f64,
    /// The trailing window the rate is averaged over.
    pub window: Duration,
}

/// At most this many intervals are kept; older ones are merged.
///
// Design: with 10-second readings a 10-minute window would hold 60 intervals;
// merging the oldest keeps the state small at the cost of a slightly smoothed
// edge of the window.
const MAX_PIECES: usize = 16;

/// One usage interval with use: `(start, end, litres)`, milliseconds since the epoch.
type Piece = (i64, i64, f64);

/// Per-(meter, rule) state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spike {
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pieces: VecDeque<Piece>,
    /// The latest measurement: `(rate in L/min, measured over ms, up to ms)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latest: Option<(f64, i64, i64)>,
}

impl Spike {
    /// A usage interval from the normaliser.
    pub fn usage(&mut self, start: i64, end: i64, litres: f64, config: &SpikeConfig) {
        let window = duration_ms(config.window).max(1);
        if litres > EPSILON_L {
            self.pieces.push_back((start, end, litres));
        }
        while self
            .pieces
            .front()
            .is_some_and(|&(_, e, _)| e <= end - window)
        {
            self.pieces.pop_front();
        }
        while self.pieces.len() > MAX_PIECES {
            if let (Some((s, _, a)), Some((_, e, b))) =
                (self.pieces.pop_front(), self.pieces.pop_front())
            {
                self.pieces.push_front((s, e, a + b));
            }
        }
        let span = end - start;
        self.latest = Some(if span >= window {
            (litres / (span as f64 / MINUTE_MS), span, end)
        } else {
            (
                self.litres_between(end - window, end) / (window as f64 / MINUTE_MS),
                window,
                end,
            )
        });
    }

    /// The latest measured rate, L/min.
    pub fn rate_lpm(&self) -> Option<f64> {
        self.latest.map(|(rate, _, _)| rate)
    }

    pub fn verdict(&self, config: &SpikeConfig) -> Verdict {
        match self.rate_lpm() {
            None => Verdict::Unchanged,
            Some(rate) if rate >= config.rate_lpm => Verdict::Firing,
            Some(_) => Verdict::Clear,
        }
    }

    /// The alert text for `verdict`, times in `offset`.
    pub fn summary(&self, config: &SpikeConfig, verdict: Verdict, offset: FixedOffset) -> String {
        let Some((rate, over, until)) = self.latest else {
            return "No readings yet.".to_owned();
        };
        let (rate, over, at) = (
            text::rate(rate),
            text::duration_ms(over),
            text::clock(until, until, offset),
        );
        match verdict {
            Verdict::Firing => format!(
                "Water flowing at {rate} over the {over} up to {at}; the limit is {}.",
                text::rate(config.rate_lpm)
            ),
            _ => format!("Flow down to {rate} over the {over} up to {at}."),
        }
    }

    fn litres_between(&self, from: i64, until: i64) -> f64 {
        self.pieces
            .iter()
            .map(|&(s, e, litres)| {
                if e <= s {
                    return if (from..=until).contains(&e) {
                        litres
                    } else {
                        0.0
                    };
                }
                let overlap = (e.min(until) - s.max(from)).max(0);
                litres * overlap as f64 / (e - s) as f64
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000;
    const MIN: i64 = 60 * S;
    const H: i64 = 60 * MIN;

    fn burst() -> SpikeConfig {
        SpikeConfig {
            rate_lpm: 30.0,
            window: Duration::from_secs(600),
        }
    }

    #[test]
    fn rate_is_measured_over_the_window_or_one_long_interval() {
        // name, intervals (start, end, litres), verdict after the last
        let cases: &[(&str, &[Piece], Verdict)] = &[
            ("nothing yet", &[], Verdict::Unchanged),
            (
                "15-min interval at 40 L/min",
                &[(0, 15 * MIN, 600.0)],
                Verdict::Firing,
            ),
            (
                "15-min interval at 20 L/min",
                &[(0, 15 * MIN, 300.0)],
                Verdict::Clear,
            ),
            ("5 h gap with 2000 L", &[(0, 5 * H, 2000.0)], Verdict::Clear),
            (
                "two 5-min intervals averaging 35 L/min",
                &[(0, 5 * MIN, 150.0), (5 * MIN, 10 * MIN, 200.0)],
                Verdict::Firing,
            ),
            (
                "a short fill of a bucket at 12 L/min",
                &[
                    (0, 5 * MIN, 0.0),
                    (5 * MIN, 6 * MIN, 12.0),
                    (6 * MIN, 10 * MIN, 0.0),
                ],
                Verdict::Clear,
            ),
            (
                "burst over: the next interval is quiet",
                &[(0, 15 * MIN, 600.0), (15 * MIN, 30 * MIN, 0.0)],
                Verdict::Clear,
            ),
        ];
        for (name, intervals, want) in cases {
            let mut state = Spike::default();
            for &(s, e, l) in *intervals {
                state.usage(s, e, l, &burst());
            }
            assert_eq!(state.verdict(&burst()), *want, "{name}");
        }
    }

    #[test]
    fn ten_second_readings_reach_the_rate_once_the_window_fills() {
        let config = burst();
        let mut state = Spike::default();
        let mut fired_at = None;
        for i in 0..120 {
            state.usage(i * 10 * S, (i + 1) * 10 * S, 40.0 / 6.0, &config);
            if fired_at.is_none() && state.verdict(&config) == Verdict::Firing {
                fired_at = Some((i + 1) * 10 * S);
            }
        }
        assert!(state.pieces.len() <= MAX_PIECES);
        let fired_at = fired_at.unwrap_or(i64::MAX);
        assert!((7 * MIN..=8 * MIN).contains(&fired_at), "{fired_at}");
    }
}
