//! A small learned distribution for the household-relative detectors: how
//! long runs of continuous use last (`continuous_flow`) and how fast the
//! busiest stretch of each window is (`spike`). Log-spaced buckets, counts in
//! fixed point, forgotten per day like the [`Baseline`](crate::Baseline).
//!
// Design: the same fixed-point counts, stored as compact text, as the baseline,
// so a restored state is bit-identical and a learned rule adds well under
// 200 bytes of JSON.

use serde::{Deserialize, Serialize};

/// One observation (or one day) in fixed point.
const UNIT: u32 = 100;

/// The bucket geometry: the lower edge of bucket 0, buckets per doubling and
/// how many buckets (the last is open).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub lowest: f64,
    pub per_doubling: f64,
    pub buckets: usize,
}

impl Scale {
    fn bucket_of(&self, value: f64) -> usize {
        let k = ((value / self.lowest).log2() * self.per_doubling).floor();
        (k.max(0.0) as usize).min(self.buckets - 1)
    }

    /// The upper edge of bucket `k`.
    fn upper(&self, k: usize) -> f64 {
        self.lowest * 2f64.powf((k as f64 + 1.0) / self.per_doubling)
    }
}

/// Decayed counts of observations, and the decayed number of days they came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Histogram {
    #[serde(default, with = "crate::baseline::counts")]
    counts: Vec<u32>,
    /// Days with use closed while learning, `UNIT` per day, decayed.
    #[serde(default)]
    days: u32,
    /// The [`Histogram::usual_max`] answer `(quantile, answer)` worked out
    /// by [`Histogram::refresh`], until the counts change; derived, so
    /// neither stored nor compared.
    #[serde(skip)]
    usual: Option<(f64, Option<f64>)>,
}

/// One learned observation kept aside, so it can be taken back (a run a
/// person reported was a leak): its bucket and what it weighs now.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Kept {
    bucket: u16,
    weight: u32,
    /// Days closed since it was learned.
    days: u8,
}

/// How many days with use a kept observation can still be taken back.
const KEEP_DAYS: u8 = 3;

impl Kept {
    /// Fades with a closed day as the counts do; `None` once too old.
    pub fn close_day(self, keep: f64) -> Option<Kept> {
        let days = self.days + 1;
        (days < KEEP_DAYS).then(|| Kept {
            weight: crate::baseline::decayed(self.weight, keep),
            days,
            ..self
        })
    }
}

/// Trailing empty buckets are not stored, so they do not count as a difference.
impl PartialEq for Histogram {
    fn eq(&self, other: &Self) -> bool {
        let trim = |c: &[u32]| c.len() - c.iter().rev().take_while(|&&n| n == 0).count();
        self.days == other.days
            && self.counts[..trim(&self.counts)] == other.counts[..trim(&other.counts)]
    }
}

impl Histogram {
    /// Whether nothing was ever learned (the state then stores nothing).
    pub fn is_empty(&self) -> bool {
        self.days == 0 && self.counts.iter().all(|&c| c == 0)
    }

    /// Learns one observation (values below the scale's lowest edge are ignored).
    pub fn add(&mut self, scale: &Scale, value: f64) {
        if value.is_nan() || value < scale.lowest {
            return;
        }
        if self.counts.len() != scale.buckets {
            self.counts.resize(scale.buckets, 0);
        }
        let k = scale.bucket_of(value);
        if let Some(c) = self.counts.get_mut(k) {
            *c = c.saturating_add(UNIT);
        }
        self.usual = None;
    }

    /// Learns one observation as [`Histogram::add`] does, and returns
    /// what [`Histogram::take_back`] needs to undo it.
    pub fn add_kept(&mut self, scale: &Scale, value: f64) -> Option<Kept> {
        if value.is_nan() || value < scale.lowest {
            return None;
        }
        self.add(scale, value);
        Some(Kept {
            bucket: scale.bucket_of(value) as u16,
            weight: UNIT,
            days: 0,
        })
    }

    /// Takes a kept observation back out of the counts, as faded since.
    pub fn take_back(&mut self, kept: Kept) {
        if let Some(c) = self.counts.get_mut(usize::from(kept.bucket)) {
            *c = c.saturating_sub(kept.weight);
        }
        self.usual = None;
    }

    /// Closes a day with use: everything learned fades by `keep`.
    pub fn close_day(&mut self, keep: f64) {
        let decay = |c: &mut u32| *c = crate::baseline::decayed(*c, keep);
        self.counts.iter_mut().for_each(decay);
        decay(&mut self.days);
        self.days = self.days.saturating_add(UNIT);
        self.usual = None;
    }

    /// The value exceeded on at most `1 - quantile` of days (the upper edge of
    /// its bucket); `None` when nothing was learned yet.
    pub fn usual_max(&self, scale: &Scale, quantile: f64) -> Option<f64> {
        match self.usual {
            Some((q, answer)) if q == quantile => answer,
            _ => self.work_out_usual_max(scale, quantile),
        }
    }

    /// Works out [`Histogram::usual_max`] for `quantile` now, if the counts
    /// changed since, so that asking is cheap until they change again.
    pub fn refresh(&mut self, scale: &Scale, quantile: f64) {
        if !matches!(self.usual, Some((q, _)) if q == quantile) {
            self.usual = Some((quantile, self.work_out_usual_max(scale, quantile)));
        }
    }

    fn work_out_usual_max(&self, scale: &Scale, quantile: f64) -> Option<f64> {
        let allowed = (1.0 - quantile).max(0.0) * f64::from(self.days.max(UNIT));
        let mut above = 0.0;
        for k in (0..self.counts.len()).rev() {
            above += f64::from(self.counts[k]);
            if above > allowed {
                return Some(scale.upper(k));
            }
        }
        None
    }

    /// Observations learned (decayed), for tests and evidence.
    pub fn weight(&self) -> f64 {
        f64::from(self.counts.iter().sum::<u32>()) / f64::from(UNIT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCALE: Scale = Scale {
        lowest: 1.0,
        per_doubling: 4.0,
        buckets: 24,
    };

    #[test]
    fn the_usual_maximum_ignores_rare_values_and_follows_common_ones() {
        let mut h = Histogram::default();
        assert_eq!(h.usual_max(&SCALE, 0.9), None);
        for _ in 0..30 {
            h.add(&SCALE, 10.0);
            h.add(&SCALE, 3.0);
            h.close_day(1.0);
        }
        h.add(&SCALE, 50.0);
        let usual = h.usual_max(&SCALE, 0.9).unwrap_or(0.0);
        assert!((10.0..12.0).contains(&usual), "{usual}");
        // Asked for almost every day, the one outlier counts.
        let strict = h.usual_max(&SCALE, 0.99).unwrap_or(0.0);
        assert!(strict > 45.0, "{strict}");
    }

    #[test]
    fn a_kept_observation_is_taken_back_as_faded_and_only_for_three_days() {
        let keep = 0.5_f64.powf(1.0 / 28.0);
        let mut h = Histogram::default();
        for _ in 0..20 {
            h.add(&SCALE, 3.0);
            h.close_day(keep);
        }
        let before = h.clone();
        let kept = h.add_kept(&SCALE, 50.0).unwrap();
        assert!(h.usual_max(&SCALE, 0.98).unwrap() > 45.0);
        let (mut h2, mut kept2) = (h.clone(), kept);
        for _ in 0..2 {
            h2.close_day(keep);
            kept2 = kept2.close_day(keep).unwrap();
        }
        let mut expected = before.clone();
        expected.close_day(keep);
        expected.close_day(keep);
        h2.take_back(kept2);
        assert_eq!(h2, expected);
        assert!(h2.usual_max(&SCALE, 0.98).unwrap() < 4.0);
        // A third day with use: too late.
        assert_eq!(kept2.close_day(keep), None);
        // Below the scale nothing is learned, so nothing is kept.
        assert_eq!(h.add_kept(&SCALE, 0.5), None);
    }

    #[test]
    fn what_was_learned_fades_with_days() {
        let mut h = Histogram::default();
        h.add(&SCALE, 50.0);
        h.close_day(1.0);
        let before = h.weight();
        for _ in 0..28 {
            h.close_day(0.5_f64.powf(1.0 / 28.0));
        }
        assert!((h.weight() - before / 2.0).abs() < 0.05, "{}", h.weight());
    }

    #[test]
    fn values_below_the_scale_are_not_learned() {
        let mut h = Histogram::default();
        h.add(&SCALE, 0.5);
        h.add(&SCALE, f64::NAN);
        assert_eq!(h.weight(), 0.0);
    }
}
