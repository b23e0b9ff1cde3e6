//! Water flowing at every reading: the flow the meter itself reports
//! (`flow_lpm`) above zero at reading after reading, for an hour or more.
//!
//! A person's use comes and goes: a reading catches water flowing only when
//! it happens to fall in a flush, a shower, a rinse. Several readings in a
//! row all catching water flowing is a running toilet or a tap left on
//! (Kamstrup's meters flag a leak when no hour in 24 is free of flow).
//!
//! Each reading extends the run when it reports a flow above zero and the
//! register confirms it: each block of the run (an interval, or intervals
//! added up until they span [`BLOCK_MS`] and the lowest flow reported in
//! them would have moved the register by a step: readings every few seconds
//! move a 1-litre register only every few minutes, and a 10-litre pulse
//! meter moves every 20 minutes for a running toilet) used at least
//! [`CONFIRM_SHARE`] of what that flow would have run (less one register
//! step), and some water at all. So one odd sample, or a meter
//! reporting flow the register does not show, builds no run. A
//! reading without a flow value, with no flow, or after a data gap (an
//! interval longer than [`DATA_GAP_MS`]) ends the run; the next reading with
//! flow starts a new one.

use serde::{Deserialize, Serialize};

use crate::normalise::DATA_GAP_MS;
use crate::rule::{EPSILON_L, MINUTE_MS, believed};

/// Readings in a row, at least, before a flow counts as running: with
/// 15-minute readings the hour of `flow_running = "1h"` is five readings;
/// hourly meters need four readings (three hours) whatever the duration.
pub const MIN_READINGS: u32 = 4;
/// The register must show at least this share of the flow reported at both
/// ends of an interval.
const CONFIRM_SHARE: f64 = 0.5;
/// Intervals shorter than this are added up before the register is asked.
const BLOCK_MS: i64 = 5 * 60_000;

/// Per-(meter, rule) state of the running-flow check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Flowing {
    /// The run of readings that all reported flow: `(first reading ms,
    /// latest reading ms, readings, latest flow L/min, start ms of the block
    /// not yet confirmed, its litres, the lowest flow reported in it)`.
    run: Option<(i64, i64, u32, f64, i64, f64, f64)>,
}

/// Whether `litres` used over `start..end` ms are consistent with water
/// flowing at `lpm` or more through the whole interval (half of it, less
/// one register step of `step_l`, and something at all).
fn confirms(start: i64, end: i64, litres: f64, lpm: f64, step_l: f64) -> bool {
    let minutes = (end - start).max(0) as f64 / MINUTE_MS;
    litres > EPSILON_L && litres >= CONFIRM_SHARE * lpm * minutes - step_l
}

/// Whether a block over `start..end` ms is long enough to judge: it spans
/// [`BLOCK_MS`] and water flowing at `lpm` would have moved a register of
/// `step_l` litres (a data gap's length at most).
fn judged(start: i64, end: i64, lpm: f64, step_l: f64) -> bool {
    let span = end - start;
    let minutes = span.max(0) as f64 / MINUTE_MS;
    span >= BLOCK_MS && (lpm * minutes >= step_l || span >= DATA_GAP_MS)
}

impl Flowing {
    /// Forgets the run (a data gap or an unknown span).
    pub fn reset(&mut self) {
        self.run = None;
    }

    /// A reading at `end` reporting `flow_lpm`, after an interval from
    /// `start` that used `litres`, on a register that moves in steps of
    /// `step_l` litres.
    pub fn reading(
        &mut self,
        start: i64,
        end: i64,
        litres: f64,
        flow_lpm: Option<f64>,
        step_l: f64,
    ) {
        let Some(flow) = believed(flow_lpm) else {
            self.run = None;
            return;
        };
        let fresh = (end, end, 1, flow, end, 0.0, flow);
        self.run = Some(match self.run {
            Some((first, until, n, _, from, block_l, low))
                if until == start && end - start <= DATA_GAP_MS =>
            {
                let (block_l, low) = (block_l + litres, low.min(flow));
                if !judged(from, end, low, step_l) {
                    (first, end, n + 1, flow, from, block_l, low)
                } else if confirms(from, end, block_l, low, step_l) {
                    (first, end, n + 1, flow, end, 0.0, flow)
                } else {
                    fresh
                }
            }
            _ => fresh,
        });
    }

    /// `(since ms, readings, flow now L/min)` when water has been flowing at
    /// every reading for at least `at_least_ms` and [`MIN_READINGS`] readings.
    pub fn holds(&self, at_least_ms: i64) -> Option<(i64, u32, f64)> {
        let (first, until, n, flow, ..) = self.run?;
        (n >= MIN_READINGS && until - first >= at_least_ms).then_some((first, n, flow))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const Q: i64 = 15 * MIN;
    const H: i64 = 60 * MIN;

    /// Readings every `step` from 0, each `(litres since the last, flow)`.
    fn feed(readings: &[(f64, Option<f64>)], step: i64) -> Flowing {
        let mut f = Flowing::default();
        for (i, &(litres, flow)) in readings.iter().enumerate() {
            let end = i as i64 * step;
            f.reading(end - step, end, litres, flow, 1.0);
        }
        f
    }

    const TOILET: (f64, Option<f64>) = (7.0, Some(0.5));

    #[test]
    fn a_toilet_flowing_at_five_quarter_hour_readings_runs_for_an_hour() {
        let f = feed(&[TOILET; 5], Q);
        assert_eq!(f.holds(H), Some((0, 5, 0.5)));
        let f = feed(&[TOILET; 4], Q);
        assert_eq!(f.holds(H), None, "four readings span only 45 min");
        assert_eq!(f.holds(45 * MIN), Some((0, 4, 0.5)));
        let f = feed(&[TOILET; 3], Q);
        assert_eq!(f.holds(30 * MIN), None, "three readings are too few");
    }

    #[test]
    fn hourly_meters_need_four_readings_whatever_the_duration() {
        let f = feed(&[(30.0, Some(0.5)); 3], H);
        assert_eq!(f.holds(H), None);
        let f = feed(&[(30.0, Some(0.5)); 4], H);
        assert_eq!(f.holds(H), Some((0, 4, 0.5)));
    }

    #[test]
    fn a_reading_without_flow_or_without_a_flow_value_ends_the_run() {
        for gap in [(0.0, Some(0.0)), (7.0, None), (7.0, Some(f64::NAN))] {
            let mut readings = vec![TOILET; 3];
            readings.push(gap);
            readings.extend([TOILET; 3]);
            let f = feed(&readings, Q);
            assert_eq!(f.holds(30 * MIN), None, "{gap:?}");
            assert_eq!(f.holds(0), None, "only three readings since");
        }
    }

    #[test]
    fn a_flow_the_register_does_not_show_starts_no_run() {
        // A meter stuck reporting 0.5 L/min while the register stands still,
        // or showing far less than the flow claims.
        let f = feed(&[(0.0, Some(0.5)); 8], Q);
        assert_eq!(f.holds(0), None);
        let f = feed(&[(1.0, Some(3.0)); 8], Q);
        assert_eq!(f.holds(0), None, "3 L/min for 15 min is 45 L, not 1 L");
        // The register's litre of resolution is allowed for.
        let f = feed(&[(3.0, Some(0.5)); 5], Q);
        assert!(f.holds(H).is_some(), "7.5 L expected, half less a litre");
    }

    #[test]
    fn ten_second_readings_of_a_one_litre_register_are_judged_in_blocks() {
        // 0.5 L/min moves the register a litre every two minutes: most
        // 10-second intervals show nothing, every 5-minute block 2–3 L.
        let register = |t: i64| (0.5 * t as f64 / MIN as f64).floor();
        let step = 10_000;
        let mut f = Flowing::default();
        let mut t = 0;
        while t < H {
            f.reading(
                t,
                t + step,
                register(t + step) - register(t),
                Some(0.5),
                1.0,
            );
            t += step;
        }
        assert_eq!(f.holds(H - step).map(|(from, _, _)| from), Some(step));
        // A meter reporting 0.5 L/min while its register stands still.
        let mut stuck = Flowing::default();
        let mut t = 0;
        while t < H {
            stuck.reading(t, t + step, 0.0, Some(0.5), 1.0);
            assert!(t - stuck.run.map_or(0, |r| r.0) <= BLOCK_MS, "{t}");
            t += step;
        }
        assert_eq!(stuck.holds(10 * MIN), None);
    }

    #[test]
    fn a_ten_litre_pulse_register_is_judged_once_the_flow_would_have_moved_it() {
        // A running toilet at 0.5 L/min on a meter counting 10 L pulses:
        // 7.5 L a quarter hour, so the register moves in three quarter
        // hours of four. Judged per quarter hour, the run broke at every
        // still one and the alert fired and resolved every two hours.
        let register = |t: i64| (0.5 * t as f64 / MIN as f64 / 10.0).floor() * 10.0;
        let mut f = Flowing::default();
        for i in 0..9 {
            let (start, end) = (i * Q, (i + 1) * Q);
            f.reading(start, end, register(end) - register(start), Some(0.5), 10.0);
        }
        assert_eq!(f.holds(2 * H).map(|(from, n, _)| (from, n)), Some((Q, 9)));
        // Still: a flow the 10 L register never shows builds no run.
        let mut stuck = Flowing::default();
        for i in 0..9 {
            stuck.reading(i * Q, (i + 1) * Q, 0.0, Some(0.5), 10.0);
        }
        assert_eq!(stuck.holds(H), None);
    }

    #[test]
    fn a_data_gap_ends_the_run() {
        let mut f = feed(&[TOILET; 4], Q);
        let last = 3 * Q;
        f.reading(last, last + 3 * H, 90.0, Some(0.5), 1.0);
        assert_eq!(f.holds(0), None);
        assert_eq!(f.run.map(|r| r.0), Some(last + 3 * H), "a new run starts");
    }

    #[test]
    fn flows_no_pipe_can_carry_are_not_believed() {
        assert_eq!(believed(Some(360.0)), None);
        assert_eq!(believed(Some(0.005)), None);
        assert_eq!(believed(Some(-2.0)), None);
        assert_eq!(believed(Some(42.0)), Some(42.0));
    }
}
