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
//!
//! A `learned` rule also learns how long this household's runs of use last
//! (every run that ended on its own; a run broken by a data gap or an
//! unknown span is not learned) and, once the household is past its learning
//! period, fires when a run outlasts its usual longest run (`quantile`, so a
//! rare long run such as a tap left open once does not move it, times
//! `margin`, within `[min, max]`); until then `after` applies. A household
//! whose runs are often longer than `max` is held to `max`: the fixed rule.
//! A run the rule's alert fired on is learned only as long as the limit it
//! broke: a running toilet repaired after a day must not make the next one
//! wait a day, while a new habit of longer runs still raises the limit
//! (by `margin` each time it fires). A person who reports it was a leak
//! (`Engine::confirm_leak`, a case closed as `leak`) takes even that back:
//! the run is not learned if it still flows, or is subtracted again if it
//! ended less than three days with use ago.
//!
//! A rule with `flow_running` also fires when the meter's *reported* flow
//! has been above zero at every reading for that long (see `flowing.rs`):
//! people's use comes and goes, a running toilet does not. Meters that
//! report no flow are judged by the register alone, as before.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::histogram::{Histogram, Kept, Scale};
use super::{EPSILON_L, MINUTE_MS, Verdict, duration_ms};
use crate::normalise::DATA_GAP_MS;

mod flowing;
mod steady;
mod summary;

use flowing::Flowing;
pub use flowing::MIN_READINGS as FLOW_RUNNING_MIN_READINGS;
use steady::Steady;

/// The typed `[[rule]]` parameters of a `continuous_flow` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ContinuousFlowConfig {
    /// How long use must have been continuous before the alert fires.
    pub after: Duration,
    /// A stretch this long without use ends the run (and resolves the alert).
    pub window: Duration,
    /// The average rate over the last `after` of the run must be at least this.
    pub min_rate_lpm: f64,
    /// Limit the run by the household's own usual runs once they are known.
    pub learned: Option<LearnedRun>,
    /// Also fire when the flow has been steady (see `steady.rs`) this long,
    /// whatever the limit: a leak, not a person.
    pub steady: Option<Duration>,
    /// Also fire when the meter has reported water flowing at every reading
    /// (at least [`FLOW_RUNNING_MIN_READINGS`] of them) this long, whatever
    /// the limit (see `flowing.rs`).
    pub flow_running: Option<Duration>,
}

/// How a learned continuous_flow rule turns the household's runs into a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedRun {
    /// Which share of days' runs counts as usual (e.g. 0.9).
    pub quantile: f64,
    /// The usual longest run is multiplied by this.
    pub margin: f64,
    /// The limit is never shorter than this.
    pub min: Duration,
    /// The limit is never longer than this ...
    pub max: Duration,
    /// ... except in a household whose usual runs (times `margin`) are
    /// longer than `max` (an hourly meter sees a family's busy evening as
    /// one run): its own, up to this. `None`: `max` is a hard cap.
    pub routine_max: Option<Duration>,
}

/// Run lengths, 15 min to 16 h, four buckets per doubling.
const RUNS: Scale = Scale {
    lowest: 15.0 * MINUTE_MS,
    per_doubling: 4.0,
    buckets: 24,
};

impl ContinuousFlowConfig {
    /// The longest the rule can wait: rate buckets cover this much.
    fn span_ms(&self) -> i64 {
        let max = self.learned.as_ref().map_or(self.after, |l| l.max);
        duration_ms(self.after.max(max))
    }
}

/// The limit a run is held to, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunLimit {
    pub ms: i64,
    /// The household's usual longest run, when learned.
    pub usual_ms: Option<i64>,
}

/// Litres per time bucket, for the average rate over the last `after`.
///
// Design: buckets are `after / 8` long whatever the window, so the state
// stays at most ~10 pairs for any configuration (a stored state must fit in
// 4 KiB with every rule and alert).
const BUCKETS_PER_AFTER: i64 = 8;

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
    /// Lengths of this household's past runs (learned rules only), ms.
    #[serde(default, skip_serializing_if = "is_empty")]
    runs: Histogram,
    /// The steady-flow check (rules with `steady` only).
    #[serde(default, skip_serializing_if = "is_steady_empty")]
    steady: Steady,
    /// The running-flow check (rules with `flow_running` only).
    #[serde(default, skip_serializing_if = "is_flowing_empty")]
    flowing: Flowing,
    /// The register's step as seen so far (rules with `flow_running`
    /// only): the fewest litres an interval with use showed, 1-10 L.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    register_step_l: Option<f64>,
    /// While this rule's alert fires: the limit (ms) the run broke when
    /// it fired. A run ending meanwhile is learned only as long as that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    broke: Option<i64>,
    /// The last run learned while this rule's alert fired on it, kept
    /// aside in case a person reports a leak.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alerted: Option<Kept>,
    /// A person reported a leak while the alert fired: runs ending before
    /// it resolves are not learned.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    leak: bool,
}

fn is_steady_empty(s: &Steady) -> bool {
    *s == Steady::default()
}

fn is_flowing_empty(f: &Flowing) -> bool {
    *f == Flowing::default()
}

fn is_empty(h: &Histogram) -> bool {
    h.is_empty()
}

impl ContinuousFlow {
    /// A usage interval from the normaliser.
    #[inline]
    pub fn usage(&mut self, start: i64, end: i64, litres: f64, config: &ContinuousFlowConfig) {
        self.follow(start, end, litres, config);
        if let Some(l) = &config.learned {
            self.runs.refresh(&RUNS, l.quantile);
        }
    }

    #[inline]
    fn follow(&mut self, start: i64, end: i64, litres: f64, config: &ContinuousFlowConfig) {
        // Worked out only where asked: most quiet readings have no run to end.
        let window = || duration_ms(config.window);
        self.latest = Some(self.latest.map_or(end, |l| l.max(end)));
        if end - start > DATA_GAP_MS {
            self.break_run(None);
            self.steady.reset();
            if litres > EPSILON_L {
                self.quiet_from = Some(end);
            } else if self.quiet_from.is_none() {
                self.quiet_from = Some(start);
            }
            return;
        }
        let quiet_from = *self.quiet_from.get_or_insert(start);
        if config.steady.is_some() {
            self.steady.interval(start, end, litres, window());
        }
        if litres > EPSILON_L {
            if self.run_from.is_none() || start - quiet_from >= window() {
                self.break_run(Some(config));
                self.run_from = Some(start);
            }
            // Design: with no minimum rate, the rate is never asked for, so
            // nothing is kept for it (state stays small, the path short).
            if config.min_rate_lpm > 0.0 {
                self.spread(start, end, litres, config);
            }
            self.quiet_from = Some(end);
        } else if self.in_run() && end - quiet_from >= window() {
            self.break_run(Some(config));
        }
    }

    /// The flow the meter reported with the reading that ended the
    /// interval just given to [`ContinuousFlow::usage`] (rules with
    /// `flow_running` only).
    pub fn reported_flow(
        &mut self,
        start: i64,
        end: i64,
        litres: f64,
        flow_lpm: Option<f64>,
        config: &ContinuousFlowConfig,
    ) {
        if config.flow_running.is_some() {
            // Meters without a flow value keep the state they always had.
            if litres > EPSILON_L && flow_lpm.is_some() {
                let step = litres.clamp(1.0, 10.0);
                self.register_step_l = Some(self.register_step_l.map_or(step, |s| s.min(step)));
            }
            let step_l = self.register_step_l.unwrap_or(1.0);
            self.flowing.reading(start, end, litres, flow_lpm, step_l);
        }
    }

    /// A span whose use cannot be known: the run breaks, as after a data gap with use.
    pub fn unknown(&mut self, _start: i64, end: i64) {
        self.break_run(None);
        self.steady.reset();
        self.flowing.reset();
        self.quiet_from = Some(end);
        self.latest = Some(self.latest.map_or(end, |l| l.max(end)));
    }

    /// Closes a day with use: the learned runs fade by `keep`.
    pub fn close_day(&mut self, keep: f64) {
        if !is_empty(&self.runs) {
            self.runs.close_day(keep);
        }
        self.alerted = self.alerted.and_then(|k| k.close_day(keep));
    }

    /// What a replacement meter in the same home takes over from `from`:
    /// the household's past runs (learned rules). A run kept aside for
    /// `confirm_leak` stays with the old meter.
    pub fn inherit(&mut self, from: &ContinuousFlow) {
        self.runs = from.runs.clone();
        self.alerted = None;
    }

    /// This rule's alert fired now: the run broke the limit it has now.
    pub fn fired(&mut self, config: &ContinuousFlowConfig, learning: bool) {
        self.broke = Some(self.limit(config, learning).ms);
    }

    /// This rule's alert resolved.
    pub fn resolved(&mut self) {
        self.broke = None;
        self.leak = false;
    }

    /// A person reported that the run this rule's alert fired on was a
    /// leak, not the household's use: while the alert fires it will not be
    /// learned; once ended, what it taught is taken back. Returns whether
    /// anything changed.
    pub fn confirm_leak(&mut self) -> bool {
        if self.broke.is_some() {
            self.leak = true;
            return true;
        }
        let Some(kept) = self.alerted.take() else {
            return false;
        };
        self.runs.take_back(kept);
        true
    }

    /// The limit for this household: `after` while `learning` or for a
    /// fixed rule, else its usual longest run times the margin, within bounds.
    pub fn limit(&self, config: &ContinuousFlowConfig, learning: bool) -> RunLimit {
        let fixed = RunLimit {
            ms: duration_ms(config.after),
            usual_ms: None,
        };
        let Some(l) = config.learned.as_ref().filter(|_| !learning) else {
            return fixed;
        };
        let (min, max) = (duration_ms(l.min), duration_ms(l.max));
        match self.runs.usual_max(&RUNS, l.quantile) {
            Some(usual) => {
                let x = (usual * l.margin) as i64;
                // Runs longer than `max` are this household's routine (on
                // more than `1 - quantile` of its days): its own, capped.
                let cap = l
                    .routine_max
                    .map(duration_ms)
                    .filter(|_| x > max)
                    .map_or(max, |r| r.max(max));
                RunLimit {
                    ms: x.clamp(min, cap),
                    usual_ms: Some(usual as i64),
                }
            }
            None => RunLimit {
                ms: max,
                usual_ms: None,
            },
        }
    }

    #[inline]
    pub fn verdict(&self, config: &ContinuousFlowConfig, learning: bool) -> Verdict {
        let Some(quiet_from) = self.quiet_from else {
            return Verdict::Unchanged;
        };
        // The meter still reports water flowing at every reading, and its
        // register agrees: a 10-litre pulse register may stand still for a
        // whole window of a running toilet without the toilet stopping.
        if self.flowing_since(config).is_some() {
            return Verdict::Firing;
        }
        if self.latest.unwrap_or(quiet_from) - quiet_from >= duration_ms(config.window) {
            return Verdict::Clear;
        }
        let Some(run_from) = self.run_from else {
            return Verdict::Unchanged;
        };
        if self.steady_since(config).is_some() {
            return Verdict::Firing;
        }
        // Design: most runs are shorter than any limit; the learned one is
        // worked out only for those that are not.
        let shortest = config
            .learned
            .as_ref()
            .map_or(config.after, |l| l.min.min(config.after));
        if quiet_from - run_from < duration_ms(shortest) {
            return Verdict::Unchanged;
        }
        let limit = self.limit(config, learning).ms;
        if quiet_from - run_from < limit {
            return Verdict::Unchanged;
        }
        if config.min_rate_lpm <= 0.0 {
            return Verdict::Firing;
        }
        match self.run_rate(limit) {
            Some(rate) if rate >= config.min_rate_lpm => Verdict::Firing,
            _ => Verdict::Unchanged,
        }
    }

    /// `(since ms, rate L/min)` of a steady flow long enough to fire.
    fn steady_since(&self, config: &ContinuousFlowConfig) -> Option<(i64, f64)> {
        self.steady.holds(duration_ms(config.steady?))
    }

    /// `(since ms, readings, flow now L/min)` of a reported flow running long enough to fire.
    fn flowing_since(&self, config: &ContinuousFlowConfig) -> Option<(i64, u32, f64)> {
        self.flowing.holds(duration_ms(config.flow_running?))
    }

    /// The average rate over the last `after` of a run at least `after` long.
    fn run_rate(&self, after: i64) -> Option<f64> {
        let (run_from, until) = (self.run_from?, self.quiet_from?);
        if until - run_from < after || after <= 0 {
            return None;
        }
        let from = run_from.max(until - after);
        Some(self.litres_between(from, until) / ((until - from) as f64 / MINUTE_MS))
    }

    /// Whether there is a run (or rate buckets) to break.
    fn in_run(&self) -> bool {
        self.run_from.is_some() || !self.buckets.is_empty()
    }

    /// Ends the current run; with the rule's `config`, a run that ended on
    /// its own is learned (a learned rule's), up to the limit its alert broke.
    #[inline]
    fn break_run(&mut self, ended: Option<&ContinuousFlowConfig>) {
        // Most quiet readings find no run to break.
        if self.in_run() {
            self.end_run(ended);
        }
    }

    #[inline(never)]
    fn end_run(&mut self, ended: Option<&ContinuousFlowConfig>) {
        if let (Some(config), Some(from), Some(until)) = (ended, self.run_from, self.quiet_from)
            && config.learned.is_some()
            && !self.leak
        {
            let length = until - from;
            match self.broke {
                None => self.runs.add(&RUNS, length as f64),
                Some(limit) => self.alerted = self.runs.add_kept(&RUNS, length.min(limit) as f64),
            }
        }
        self.run_from = None;
        self.buckets.clear();
    }

    #[inline(never)]
    fn spread(&mut self, start: i64, end: i64, litres: f64, config: &ContinuousFlowConfig) {
        let after = config.span_ms();
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

    /// Adds `litres` to bucket `index`. Buckets are in order of index, so a
    /// reading's bucket is usually the last one or a new one after it.
    fn add(&mut self, index: i64, litres: f64) {
        match self.buckets.back_mut() {
            Some((i, l)) if *i == index => *l += litres,
            Some((i, _)) if *i < index => self.buckets.push_back((index, litres)),
            None => self.buckets.push_back((index, litres)),
            Some(_) => self.add_before(index, litres),
        }
    }

    fn add_before(&mut self, index: i64, litres: f64) {
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
mod tests;
