//! `kind = "continuous_flow"`: water used in every `window` for at least
//! `after` (a tap left open, a running toilet, a leak).
//!
//! Continuity is judged per window, not per reading: with 10-second readings a
//! 0.2 L/min trickle moves a 1-litre register only every ~5 minutes. A run of
//! use continues as long as no stretch of `window` or more passes without use;
//! an interval's use is spread evenly over it, so an hourly interval with use
//! covers its whole hour. An interval longer than [`DATA_GAP_MS`] (a data gap)
//! or a span the register cannot account for breaks the run: unknown is not
//! continuous. The alert resolves once a whole window passes without use.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use super::{EPSILON_L, MINUTE_MS, Verdict, duration_ms};
use crate::normalise::DATA_GAP_MS;
use crate::text;

/// The typed `[[rule]]` parameters of a `continuous_flow` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuousFlowConfig {
    /// How long use must have been continuous before the alert fires.
    pub after: Duration,
    /// A stretch this long without use ends the run (and resolves the alert).
    pub window: Duration,
    /// The average rate over the last `after` of the run must be at least this.
    pub min_rate_lpm: f64,
}

/// Litres per time bucket, for the average rate over the last `after`.
///
// Design: buckets are `after / 16` long whatever the window, so the state
// stays at most ~18 numbers for any configuration.
const BUCKETS_PER_AFTER: i64 = 16;

/// Per-(meter, rule) state. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContinuousFlow {
    /// Start of the current run of use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run_from: Option<i64>,
    /// End of the last use (or of a gap that had use): quiet is measured from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quiet_from: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latest: Option<i64>,
    #[serde(default)]
    bucket_ms: i64,
    /// `(bucket index, litres)`, oldest first, covering the last `after`.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    buckets: VecDeque<(i64, f64)>,
}

impl ContinuousFlow {
    /// A usage interval from the normaliser.
    pub fn usage(&mut self, start: i64, end: i64, litres: f64, config: &ContinuousFlowConfig) {
        let window = duration_ms(config.window);
        self.latest = Some(self.latest.map_or(end, |l| l.max(end)));
        if end - start > DATA_GAP_MS {
            self.break_run();
            if litres > EPSILON_L {
                self.quiet_from = Some(end);
            } else if self.quiet_from.is_none() {
                self.quiet_from = Some(start);
            }
            return;
        }
        let quiet_from = *self.quiet_from.get_or_insert(start);
        if litres > EPSILON_L {
            if self.run_from.is_none() || start - quiet_from >= window {
                self.break_run();
                self.run_from = Some(start);
            }
            self.spread(start, end, litres, config);
            self.quiet_from = Some(end);
        } else if end - quiet_from >= window {
            self.break_run();
        }
    }

    /// A span whose use cannot be known: the run breaks, as after a data gap with use.
    pub fn unknown(&mut self, _start: i64, end: i64) {
        self.break_run();
        self.quiet_from = Some(end);
        self.latest = Some(self.latest.map_or(end, |l| l.max(end)));
    }

    pub fn verdict(&self, config: &ContinuousFlowConfig) -> Verdict {
        let Some(quiet_from) = self.quiet_from else {
            return Verdict::Unchanged;
        };
        if self.latest.unwrap_or(quiet_from) - quiet_from >= duration_ms(config.window) {
            return Verdict::Clear;
        }
        match self.run_rate(config) {
            Some(rate) if rate >= config.min_rate_lpm => Verdict::Firing,
            _ => Verdict::Unchanged,
        }
    }

    /// The alert text for `verdict`, times in `offset`.
    pub fn summary(
        &self,
        config: &ContinuousFlowConfig,
        verdict: Verdict,
        offset: FixedOffset,
    ) -> String {
        let (Some(quiet_from), Some(latest)) = (self.quiet_from, self.latest) else {
            return "No readings yet.".to_owned();
        };
        let at = |ms| text::clock(ms, latest, offset);
        match (verdict, self.run_from, self.run_rate(config)) {
            (Verdict::Firing, Some(run_from), Some(rate)) => format!(
                "Water used in every {} since {} ({}, {} on average); the limit is {}.",
                text::duration(config.window),
                at(run_from),
                text::duration_ms(quiet_from - run_from),
                text::rate(rate),
                text::duration(config.after)
            ),
            _ => format!(
                "No water used since {} ({}); the flow has stopped.",
                at(quiet_from),
                text::duration_ms(latest - quiet_from)
            ),
        }
    }

    /// The average rate over the last `after` of a run at least `after` long.
    fn run_rate(&self, config: &ContinuousFlowConfig) -> Option<f64> {
        let (run_from, until) = (self.run_from?, self.quiet_from?);
        let after = duration_ms(config.after);
        if until - run_from < after || after <= 0 {
            return None;
        }
        let from = run_from.max(until - after);
        Some(self.litres_between(from, until) / ((until - from) as f64 / MINUTE_MS))
    }

    fn break_run(&mut self) {
        self.run_from = None;
        self.buckets.clear();
    }

    fn spread(&mut self, start: i64, end: i64, litres: f64, config: &ContinuousFlowConfig) {
        let after = duration_ms(config.after);
        let size = (after / BUCKETS_PER_AFTER).max(1_000);
        if self.bucket_ms != size {
            self.buckets.clear();
            self.bucket_ms = size;
        }
        if end <= start {
            self.add(end.div_euclid(size), litres);
        } else {
            // Only the last `after` (plus a bucket) can ever be asked about.
            let mut t = start.max(end - after - size);
            while t < end {
                let index = t.div_euclid(size);
                let segment_end = ((index + 1) * size).min(end);
                self.add(
                    index,
                    litres * (segment_end - t) as f64 / (end - start) as f64,
                );
                t = segment_end;
            }
        }
        let oldest = (end - after).div_euclid(size) - 1;
        while self.buckets.front().is_some_and(|&(i, _)| i < oldest) {
            self.buckets.pop_front();
        }
    }

    fn add(&mut self, index: i64, litres: f64) {
        match self.buckets.iter_mut().rev().find(|(i, _)| *i == index) {
            Some((_, l)) => *l += litres,
            None => {
                let at = self.buckets.partition_point(|&(i, _)| i < index);
                self.buckets.insert(at, (index, litres));
            }
        }
    }

    fn litres_between(&self, from: i64, until: i64) -> f64 {
        let size = self.bucket_ms.max(1);
        self.buckets
            .iter()
            .map(|&(index, litres)| {
                let (b_start, b_end) = (index * size, (index + 1) * size);
                let overlap = (b_end.min(until) - b_start.max(from)).max(0);
                litres * overlap as f64 / size as f64
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

    fn tap() -> ContinuousFlowConfig {
        ContinuousFlowConfig {
            after: Duration::from_secs(2 * 3600),
            window: Duration::from_secs(15 * 60),
            min_rate_lpm: 2.0,
        }
    }

    fn trickle() -> ContinuousFlowConfig {
        ContinuousFlowConfig {
            after: Duration::from_secs(24 * 3600),
            window: Duration::from_secs(3600),
            min_rate_lpm: 0.0,
        }
    }

    /// Regular readings every `step` from 0 to `until`, with `lpm` flowing
    /// during `[from, to)` on a register of 1-litre resolution.
    fn feed(
        config: &ContinuousFlowConfig,
        step: i64,
        until: i64,
        from: i64,
        to: i64,
        lpm: f64,
    ) -> Vec<Verdict> {
        let mut state = ContinuousFlow::default();
        let register = |t: i64| (lpm * (t.clamp(from, to) - from) as f64 / MINUTE_MS).floor();
        let mut verdicts = Vec::new();
        let mut t = 0;
        while t + step <= until {
            state.usage(t, t + step, register(t + step) - register(t), config);
            verdicts.push(state.verdict(config));
            t += step;
        }
        verdicts
    }

    fn first_firing(verdicts: &[Verdict], step: i64) -> Option<i64> {
        verdicts
            .iter()
            .position(|v| *v == Verdict::Firing)
            .map(|i| (i as i64 + 1) * step)
    }

    #[test]
    fn runs_fire_after_the_limit_and_only_when_fast_enough() {
        let cases = [
            // name, config, step, until, flow from, flow to, lpm, first firing (ms from 0)
            (
                "tap at 6 L/min, 15-min readings",
                tap(),
                15 * MIN,
                6 * H,
                H,
                6 * H,
                6.0,
                Some(3 * H),
            ),
            (
                "tap at 1 L/min is too slow",
                tap(),
                15 * MIN,
                6 * H,
                H,
                6 * H,
                1.0,
                None,
            ),
            (
                "tap closed after 1 h 45",
                tap(),
                15 * MIN,
                6 * H,
                H,
                2 * H + 45 * MIN,
                6.0,
                None,
            ),
            (
                "trickle, 10-second readings",
                trickle(),
                10 * S,
                26 * H,
                0,
                26 * H,
                0.2,
                Some(24 * H + 5 * MIN),
            ),
            (
                "trickle too slow to fill every hour",
                trickle(),
                10 * S,
                26 * H,
                0,
                26 * H,
                0.01,
                None,
            ),
            (
                "hourly readings with use each hour",
                trickle(),
                H,
                26 * H,
                0,
                26 * H,
                0.05,
                Some(24 * H),
            ),
        ];
        for (name, config, step, until, from, to, lpm, want) in cases {
            let verdicts = feed(&config, step, until, from, to, lpm);
            let got = first_firing(&verdicts, step);
            match (got, want) {
                (Some(g), Some(w)) => assert!(
                    (g - w).abs() <= config.window.as_millis() as i64,
                    "{name}: {g} vs {w}"
                ),
                _ => assert_eq!(got, want, "{name}"),
            }
        }
    }

    #[test]
    fn a_data_gap_breaks_the_run_and_a_quiet_window_clears() {
        let config = tap();
        let mut state = ContinuousFlow::default();
        let mut t = 0;
        for _ in 0..7 {
            state.usage(t, t + 15 * MIN, 90.0, &config);
            t += 15 * MIN;
        }
        assert_eq!(
            state.verdict(&config),
            Verdict::Unchanged,
            "1 h 45 min of use"
        );
        state.usage(t, t + 3 * H, 500.0, &config);
        t += 3 * H;
        for _ in 0..8 {
            state.usage(t, t + 15 * MIN, 90.0, &config);
            t += 15 * MIN;
        }
        assert_eq!(
            state.verdict(&config),
            Verdict::Firing,
            "2 h of use after the gap"
        );
        state.usage(t, t + 10 * MIN, 0.0, &config);
        assert_eq!(
            state.verdict(&config),
            Verdict::Firing,
            "10 min without use"
        );
        state.usage(t + 10 * MIN, t + 15 * MIN, 0.0, &config);
        assert_eq!(
            state.verdict(&config),
            Verdict::Clear,
            "a whole window without use"
        );
    }

    #[test]
    fn state_stays_small_for_any_configuration() {
        let config = ContinuousFlowConfig {
            after: Duration::from_secs(7 * 24 * 3600),
            window: Duration::from_secs(60),
            min_rate_lpm: 0.0,
        };
        let mut state = ContinuousFlow::default();
        for i in 0..5_000 {
            state.usage(i * 30 * S, (i + 1) * 30 * S, 1.0, &config);
        }
        assert!(state.buckets.len() <= 18, "{}", state.buckets.len());
    }
}
