//! A steady flow: the same rate, reading after reading, for an hour or more
//! (a running toilet or a dripping tap leaks the same litres every quarter
//! hour; people do not use water like that).
//!
//! Use is added up in blocks at least `window` long (one reading interval
//! when readings are further apart); a block is *like* the one before when
//! their rates differ by at most [`TOLERANCE`] of the larger, plus the
//! register's resolution ([`SLACK_L`] per block). A block without use ends
//! the stretch.

use serde::{Deserialize, Serialize};

use crate::rule::{EPSILON_L, MINUTE_MS};

/// Blocks in a row, at least, before a flow counts as steady.
pub const MIN_BLOCKS: u32 = 5;
/// How far a block's rate may differ from the one before, as a share.
const TOLERANCE: f64 = 0.15;
/// ... plus this many litres per block (a 1-litre register reads 7 and 8).
const SLACK_L: f64 = 1.0;
/// A flow slower than this is not judged steady (a running toilet runs at
/// 0.3–1 L/min; slower trickles are `leak_trickle`'s).
const SLOWEST_LPM: f64 = 0.25;

/// Per-(meter, rule) state of the steady-flow check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Steady {
    /// The block being filled: `(start ms, litres)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    block: Option<(i64, f64)>,
    /// The stretch of like blocks: `(last block's rate L/min, first block's
    /// start ms, blocks, last block's end ms)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stretch: Option<(f64, i64, u32, i64)>,
}

impl Steady {
    /// Forgets everything (a data gap or an unknown span).
    pub fn reset(&mut self) {
        *self = Steady::default();
    }

    /// An interval of use (or none) from `start` to `end`, ms.
    pub fn interval(&mut self, start: i64, end: i64, litres: f64, window_ms: i64) {
        let (from, sum) = self.block.get_or_insert((start, 0.0));
        *sum += litres;
        if end - *from < window_ms {
            return;
        }
        let (from, sum) = (*from, *sum);
        self.block = None;
        if sum <= EPSILON_L || end <= from || sum / ((end - from) as f64 / MINUTE_MS) < SLOWEST_LPM
        {
            self.stretch = None;
            return;
        }
        let minutes = (end - from) as f64 / MINUTE_MS;
        let rate = sum / minutes;
        self.stretch = Some(match self.stretch {
            Some((last, first, n, until))
                if until == from
                    && (rate - last).abs() <= TOLERANCE * rate.max(last) + SLACK_L / minutes =>
            {
                (rate, first, n + 1, end)
            }
            _ => (rate, from, 1, end),
        });
    }

    /// `(since ms, rate L/min)` when the flow has been steady for at least
    /// `at_least_ms` and [`MIN_BLOCKS`] blocks.
    pub fn holds(&self, at_least_ms: i64) -> Option<(i64, f64)> {
        let (rate, first, n, until) = self.stretch?;
        (n >= MIN_BLOCKS && until - first >= at_least_ms).then_some((first, rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const Q: i64 = 15 * MIN;

    fn feed(litres: &[f64], step: i64) -> Steady {
        let mut s = Steady::default();
        for (i, &l) in litres.iter().enumerate() {
            let t = i as i64 * step;
            s.interval(t, t + step, l, Q);
        }
        s
    }

    #[test]
    fn a_trickle_read_by_a_one_litre_register_is_steady_after_five_readings() {
        let s = feed(&[7.0, 8.0, 7.0, 8.0, 7.0], Q);
        assert_eq!(s.holds(60 * MIN).map(|(from, _)| from), Some(0));
        let s = feed(&[7.0, 8.0, 7.0, 8.0], Q);
        assert_eq!(s.holds(45 * MIN), None, "four blocks are not enough");
        let s = feed(&[2.0, 2.0, 2.0, 2.0, 2.0, 2.0], Q);
        assert_eq!(s.holds(60 * MIN), None, "too slow to judge");
    }

    #[test]
    fn peoples_use_is_not_steady() {
        let cases: &[&[f64]] = &[
            &[20.0, 3.0, 12.0, 5.0, 30.0],
            &[7.0, 8.0, 0.0, 7.0, 8.0, 7.0],
            &[5.0, 5.0, 40.0, 5.0, 5.0, 5.0],
        ];
        for litres in cases {
            assert_eq!(feed(litres, Q).holds(60 * MIN), None, "{litres:?}");
        }
    }

    #[test]
    fn frequent_readings_are_added_up_into_blocks() {
        // 0.5 L/min read every 10 s by a 1-litre register: 1 L every 2 min.
        let litres: Vec<f64> = (0..600)
            .map(|i| if i % 12 == 0 { 1.0 } else { 0.0 })
            .collect();
        let s = feed(&litres, 10_000);
        assert!(s.holds(60 * MIN).is_some());
    }

    #[test]
    fn hourly_readings_need_five_like_hours() {
        let s = feed(&[30.0, 31.0, 30.0, 29.0], 60 * MIN);
        assert_eq!(s.holds(60 * MIN), None);
        let s = feed(&[30.0, 31.0, 30.0, 29.0, 30.0], 60 * MIN);
        assert_eq!(s.holds(60 * MIN).map(|(from, _)| from), Some(0));
    }
}
