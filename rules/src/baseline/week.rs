//! The weekend's share of a [`Baseline`], and the weekday and weekend models
//! drawn from it.
//!
//! With `[baseline] weekend = true`, every stretch, rising time and day with
//! use is learned into the whole (as always) and, when it falls on a
//! weekend, into [`Weekend`] too; the
//! weekday model is the whole minus the weekend. A stretch belongs to the
//! local day it began on, except a night stretch (one that began at 19:00
//! or later), which belongs to the next day, whose morning it ends in: the
//! Friday-night stretch that ends in a late Saturday morning is a weekend
//! one. A rising time and a day with use belong to their own local day.
//!
// Design: both parts decay with the same rounding, which is monotone, so a
// weekend count never exceeds its whole and the whole stays exactly what it
// was before the split (a household judged by all days decides exactly as
// before). The weekday part then differs from a separately decayed count
// by rounding only (at most one hundredth of a stretch per day, forgotten
// at the same rate). Stored apart, weekdays would cost the state another
// full set of histograms.

use serde::{Deserialize, Serialize};

use super::counts::Count;
use super::{
    BINS, BUCKETS, Baseline, DAY_MS, HOUR_MS, Learning, NIGHT_FROM_H, RISE_BUCKETS, UNIT, counts,
    local,
};

/// How far apart (minutes) the median weekday and weekend rising times must
/// be before the two are judged apart: more than an hour, so that hourly
/// readings (whose rising times fall on whole hours) do not split a
/// household on one hour of chance.
const DIFFERENT_MORNINGS_MIN: i64 = 75;

/// Which days a learned limit was drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Days {
    /// Every day of the week (before each part has enough days of its
    /// own, or with `[baseline] weekend = false`).
    All,
    /// Monday to Friday.
    Weekdays,
    /// Saturday and Sunday.
    Weekends,
}

/// The weekend days' share of a baseline's counts, in the same units.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Weekend {
    /// Weekend days with use seen since the split was learned (not decayed).
    #[serde(default)]
    days: u32,
    /// Weekdays with use seen since the split was learned (not decayed): a
    /// state from before the split has weekend stretches in its whole, so
    /// its weekday model waits for weekdays of its own too.
    #[serde(default)]
    weekdays: u32,
    #[serde(default)]
    day_weight: u32,
    /// Empty until a weekend stretch is learned (every count zero): with
    /// the split off, as shipped, a meter carries no second set of
    /// histograms (2.7 KiB each, of 100,000 meters 270 MB).
    #[serde(default, with = "counts")]
    gaps: Vec<u16>,
    #[serde(default)]
    rise_weight: u32,
    #[serde(default, with = "counts")]
    rises: Vec<u16>,
}

impl Weekend {
    /// Nothing learned yet (a state from before the split, or a new meter):
    /// not stored.
    pub(super) fn is_empty(&self) -> bool {
        self.days == 0
            && self.weekdays == 0
            && self.day_weight == 0
            && self.rise_weight == 0
            && self.gaps.iter().chain(&self.rises).all(|&c| c == 0)
    }

    /// Counts' room allocated (for tests of the state's size).
    #[cfg(test)]
    pub(super) fn allocated(&self) -> usize {
        self.gaps.capacity() + self.rises.capacity()
    }

    /// The gap counts to add to (allocated on first use).
    pub(super) fn gaps_mut(&mut self) -> &mut [u16] {
        self.allocate();
        &mut self.gaps
    }

    fn allocate(&mut self) {
        if self.gaps.is_empty() || self.rises.is_empty() {
            self.gaps.resize(BINS * BUCKETS, 0);
            self.rises.resize(RISE_BUCKETS, 0);
        }
    }

    pub(super) fn decay(&mut self, keep: f64) {
        counts::decay_all(&mut self.gaps, keep);
        counts::decay_all(&mut self.rises, keep);
        self.day_weight = super::decayed(self.day_weight, keep);
        self.rise_weight = super::decayed(self.rise_weight, keep);
    }

    /// A day with use closed; `weekend`: a Saturday or Sunday.
    pub(super) fn add_day(&mut self, weekend: bool) {
        if weekend {
            self.days = self.days.saturating_add(1);
            self.day_weight = self.day_weight.saturating_add(UNIT);
        } else {
            self.weekdays = self.weekdays.saturating_add(1);
        }
    }

    pub(super) fn add_rise(&mut self, bucket: usize) {
        self.allocate();
        if let Some(c) = self.rises.get_mut(bucket) {
            *c = c.saturating_add(super::ONE);
            self.rise_weight = self.rise_weight.saturating_add(UNIT);
        }
    }

    /// Takes back `amount` of a rising time counted in `bucket`.
    pub(super) fn remove_rise(&mut self, bucket: usize, amount: u32) {
        if let Some(c) = self.rises.get_mut(bucket) {
            *c = c.saturating_sub(u16::saturating(amount.into()));
            self.rise_weight = self.rise_weight.saturating_sub(amount);
        }
    }

    /// Pads counts restored from an older or hand-written state to size;
    /// counts that are all zero are not kept at all.
    pub(super) fn normalise_shape(&mut self) {
        if self.gaps.iter().chain(&self.rises).all(|&c| c == 0) {
            self.gaps = Vec::new();
            self.rises = Vec::new();
        } else {
            counts::pad(&mut self.gaps, BINS * BUCKETS);
            counts::pad(&mut self.rises, RISE_BUCKETS);
        }
    }
}

/// The local day (days since the epoch) a quiet stretch that began at
/// `from_ms` belongs to: its own, or the next for a night stretch.
pub(super) fn stretch_day(from_ms: i64, offset_s: i32) -> i64 {
    (local(from_ms, offset_s) + (24 - NIGHT_FROM_H) * HOUR_MS).div_euclid(DAY_MS)
}

/// Whether local day `day` (days since 1970-01-01, a Thursday) is a Saturday or Sunday.
pub(super) fn is_weekend_day(day: i64) -> bool {
    matches!((day + 3).rem_euclid(7), 5 | 6)
}

impl Baseline {
    /// Which days a quiet stretch that began at `from_ms` is judged by: its
    /// part of the week once that part has `weekend_min_days` days with use
    /// of its own and the household's weekend mornings differ from its
    /// weekday ones, else all days.
    pub fn days_for(&self, from_ms: i64, offset_s: i32, learning: &Learning) -> Days {
        let Some(min_days) = learning.weekend_min_days else {
            return Days::All;
        };
        let (part, own) = if is_weekend_day(stretch_day(from_ms, offset_s)) {
            (Days::Weekends, self.weekend.days)
        } else {
            (Days::Weekdays, self.weekend.weekdays)
        };
        if own >= min_days && self.different_mornings() {
            part
        } else {
            Days::All
        }
    }

    /// Whether this household's weekend mornings start at least
    /// `DIFFERENT_MORNINGS_MIN` later (or earlier) than its weekday ones,
    /// by their medians: a household with a weekly rhythm.
    // Design: without this, a household whose weekends are like its
    // weekdays is judged by two thinner histograms instead of one, which
    // in the benchmark cost more false alarms (the latest rising of 5 days
    // in 7 is earlier by chance) and slower day alerts (a thinner tail is
    // extrapolated further) — see docs/detection.md.
    fn different_mornings(&self) -> bool {
        match (
            self.usual_rising_in(Days::Weekdays, 0.5),
            self.usual_rising_in(Days::Weekends, 0.5),
        ) {
            (Some(weekday), Some(weekend)) => (weekend - weekday).abs() >= DIFFERENT_MORNINGS_MIN,
            _ => false,
        }
    }

    /// Decayed weights of the days and of the rising times of `days`.
    pub(super) fn weights(&self, days: Days) -> (u32, u32) {
        let w = &self.weekend;
        match days {
            Days::All => (self.day_weight, self.rise_weight),
            Days::Weekends => (w.day_weight, w.rise_weight),
            Days::Weekdays => (
                self.day_weight.saturating_sub(w.day_weight),
                self.rise_weight.saturating_sub(w.rise_weight),
            ),
        }
    }

    /// Adds the gap counts of hour `bin` on `days` to `tail`.
    pub(super) fn add_gap_row(&self, days: Days, bin: usize, tail: &mut [u32; BUCKETS]) {
        let range = bin * BUCKETS..(bin + 1) * BUCKETS;
        let whole = self.gaps.get(range.clone()).unwrap_or(&[]);
        let weekend = self.weekend.gaps.get(range).unwrap_or(&[]);
        match days {
            Days::All => tail
                .iter_mut()
                .zip(whole)
                .for_each(|(t, &c)| *t += u32::from(c)),
            Days::Weekends => tail
                .iter_mut()
                .zip(weekend)
                .for_each(|(t, &c)| *t += u32::from(c)),
            Days::Weekdays => tail
                .iter_mut()
                .zip(whole.iter().zip(weekend))
                .for_each(|(t, (c, e))| *t += u32::from(c.saturating_sub(*e))),
        }
    }

    /// The count of gap bucket `i` (`bin * BUCKETS + bucket`) on `days`.
    pub(super) fn gap_count(&self, days: Days, i: usize) -> u32 {
        days.part(at(&self.gaps, i), at(&self.weekend.gaps, i))
    }

    /// The count of rising-time bucket `k` on `days`.
    pub(super) fn rise_count(&self, days: Days, k: usize) -> u32 {
        days.part(at(&self.rises, k), at(&self.weekend.rises, k))
    }
}

/// `counts[i]`, or 0 past the end (a state padded later).
fn at(counts: &[u16], i: usize) -> u32 {
    counts.get(i).copied().map_or(0, u32::from)
}

impl Days {
    /// These days' part of a count whose `whole` includes `weekend`.
    fn part(self, whole: u32, weekend: u32) -> u32 {
        match self {
            Days::All => whole,
            Days::Weekends => weekend,
            Days::Weekdays => whole.saturating_sub(weekend),
        }
    }
}
