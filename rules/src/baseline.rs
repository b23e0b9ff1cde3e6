//! A household's own rhythm, learned online from its usage intervals: how long
//! it goes without water depending on when the quiet starts, and when its
//! mornings begin. [`Baseline`] is pure, serde-serialisable and small (well
//! under a kilobyte of JSON for a typical household); the learned inactivity
//! limit asks it [`Baseline::usual_longest_gap`] and [`Baseline::usual_rising`].
//!
//! What it keeps:
//!
//! - **quiet stretches by starting hour**: for each local hour (24 bins) a
//!   log-spaced histogram (five buckets per doubling, 30 min to 20 h+) of the
//!   lengths of stretches without use that *started* in that hour. A stretch
//!   is learned when use resumes, measured from the end of the last interval
//!   with use to the start of the interval that shows use again, which is
//!   exactly the quiet the inactivity rule would have seen.
//! - **rising time**: per day, the end of the last night-time quiet stretch (one
//!   that began between 19:00 and 06:00, lasted an hour or more and ended
//!   between 03:00 and 13:00), in 15-minute buckets, and nights still quiet
//!   at 13:00 (no morning: a night away) in one more.
//! - **days with use**, both counted (for the learning period) and as a
//!   decayed weight (the denominator of "how often per day").
//! - **the weekend's share** of each of these (`week.rs`): a stretch belongs
//!   to the local day it began on, a night stretch (from 19:00) to the next
//!   day, whose morning it ends in. The weekday model is the whole minus the
//!   weekend; [`Days`] says which one a limit used.
//!
//! Robustness: a quiet stretch longer than `longest_normal_gap` (default 20 h)
//! is never learned, so a week away does not teach that a week without water
//! is normal; a span the register cannot account for (reset, jump) is not
//! learned either. Forgetting is exponential per day with use (half-life
//! `half_life_days`), so habits that change are followed within weeks, and days
//! away do not erode what was learned.
//!
// Design: counts are fixed-point integers (`UNIT` per stretch) rather than
// floats: JSON stays short (a stored state must fit in 4 KiB) and a restored
// state is bit-identical. The count vectors are stored as compact text (see
// `counts`).

use serde::{Deserialize, Serialize};

use crate::rule::EPSILON_L;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;

/// Time-of-day bins for quiet stretches: local hours.
pub const BINS: usize = 24;
/// Log-spaced gap buckets per bin.
pub const BUCKETS: usize = 27;
/// Buckets per doubling of the gap length.
const PER_DOUBLING: f64 = 5.0;
/// The shortest stretch learned; shorter ones never matter to a limit.
const SHORTEST_MS: i64 = 30 * MINUTE_MS;
/// One stretch (or one day) in fixed point.
const UNIT: u32 = 100;
/// One stretch in a histogram's bucket.
// Design: a bucket's count stays below `u16::MAX` (see `check.rs` on
// `half_life_days`), which halves the histograms of 100,000 meters in
// memory (130 MB).
const ONE: u16 = UNIT as u16;

/// Rising-time buckets: 15 minutes each from 03:00 to 13:00 local, and one
/// more for a night that had no morning by 13:00 (a night away, or in bed
/// past noon).
pub const RISE_BUCKETS: usize = RISE_TIMES + 1;
const RISE_TIMES: usize = 40;
const RISE_FROM_MIN: i64 = 3 * 60;
const RISE_BUCKET_MIN: i64 = 15;
/// 13:00: a night stretch still quiet then had no morning.
const RISE_UNTIL_MIN: i64 = RISE_FROM_MIN + RISE_BUCKET_MIN * RISE_TIMES as i64;
/// A night stretch starts in [19:00, 06:00) local and lasts at least this long.
const NIGHT_FROM_H: i64 = 19;
const NIGHT_UNTIL_H: i64 = 6;
const NIGHT_GAP_MS: i64 = HOUR_MS;
/// Intervals longer than this are gaps, not the meter's reading interval.
const STEP_UNTIL_MS: i64 = 2 * HOUR_MS;

/// One household's learned rhythm. Times are milliseconds since the Unix
/// epoch; local time is given by the UTC offset passed with each interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Days with use seen (not decayed): the learning period counts these.
    #[serde(default)]
    days: u32,
    /// Decayed weight of days with use, `UNIT` per day.
    #[serde(default)]
    day_weight: u32,
    /// `gaps[bin * BUCKETS + bucket]`, decayed, `UNIT` per stretch.
    #[serde(default = "empty_gaps", with = "counts")]
    gaps: Vec<u16>,
    /// Decayed weight of days with a rising time.
    #[serde(default)]
    rise_weight: u32,
    #[serde(default = "empty_rises", with = "counts")]
    rises: Vec<u16>,
    /// The weekend's share of `days`, `day_weight`, `gaps`, `rise_weight`
    /// and `rises`, decayed alike (see `week.rs`).
    #[serde(default, skip_serializing_if = "Weekend::is_empty")]
    weekend: Weekend,
    /// End of the last interval with use, while the stretch after it is learnable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    quiet_from: Option<i64>,
    /// Local day number of the newest interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day: Option<i64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    used_today: bool,
    /// Today's rising time so far, minutes after local midnight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rise_today: Option<i64>,
    /// The meter's reading interval, smoothed (intervals of up to 2 h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    step_ms: Option<i64>,
    /// The last stretch learned while an inactivity alert fired on it, for
    /// a few days (see `alerted.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alerted: Option<Alerted>,
}

fn empty_gaps() -> Vec<u16> {
    vec![0; BINS * BUCKETS]
}

fn empty_rises() -> Vec<u16> {
    vec![0; RISE_BUCKETS]
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline {
            days: 0,
            day_weight: 0,
            gaps: empty_gaps(),
            rise_weight: 0,
            rises: empty_rises(),
            weekend: Weekend::default(),
            quiet_from: None,
            day: None,
            used_today: false,
            rise_today: None,
            step_ms: None,
            alerted: None,
        }
    }
}

/// A count after one day's decay by `keep`, rounded to the nearest unit
/// (the same rounding for every count, so a part never exceeds its whole).
pub(crate) fn decayed(count: u32, keep: f64) -> u32 {
    (f64::from(count) * keep + 0.5) as u32
}

/// Local milliseconds.
fn local(ms: i64, offset_s: i32) -> i64 {
    ms + i64::from(offset_s) * 1000
}

/// Local hour (0..24) of `ms`.
pub fn hour_of(ms: i64, offset_s: i32) -> usize {
    (local(ms, offset_s).rem_euclid(DAY_MS) / HOUR_MS) as usize
}

/// Local minutes after midnight of `ms`.
pub fn minute_of_day(ms: i64, offset_s: i32) -> i64 {
    local(ms, offset_s).rem_euclid(DAY_MS) / MINUTE_MS
}

fn bucket_of(gap_ms: i64) -> usize {
    let ratio = gap_ms as f64 / SHORTEST_MS as f64;
    let k = (ratio.log2() * PER_DOUBLING).floor();
    (k.max(0.0) as usize).min(BUCKETS - 1)
}

/// The upper edge of gap bucket `k` (the last bucket is open; its "edge" is
/// one step further, which callers clamp anyway).
fn bucket_upper_ms(k: usize) -> i64 {
    (SHORTEST_MS as f64 * 2f64.powf((k as f64 + 1.0) / PER_DOUBLING)).round() as i64
}

fn is_night_start(ms: i64, offset_s: i32) -> bool {
    let h = hour_of(ms, offset_s) as i64;
    !(NIGHT_UNTIL_H..NIGHT_FROM_H).contains(&h)
}

impl Baseline {
    /// Days with use seen so far.
    pub fn days(&self) -> u32 {
        self.days
    }

    /// The meter's interval between readings, smoothed (intervals of up
    /// to 2 h; `None` before two readings).
    pub fn step_ms(&self) -> Option<i64> {
        self.step_ms
    }

    /// Whether fewer than `learning.learning_days` days with use have been seen.
    pub fn learning(&self, learning: &Learning) -> bool {
        self.days < learning.learning_days
    }

    /// A usage interval from the normaliser, in the household's `offset_s`.
    /// Returns what it taught, when it ended a stretch without use.
    #[inline]
    pub fn usage(
        &mut self,
        start_ms: i64,
        end_ms: i64,
        litres: f64,
        offset_s: i32,
        learning: &Learning,
    ) -> Option<Learned> {
        self.roll_day(end_ms, offset_s, learning);
        let step = end_ms - start_ms;
        if step > 0 && step <= STEP_UNTIL_MS {
            self.step_ms = Some(self.step_ms.map_or(step, |s| (7 * s + step) / 8));
        }
        if litres <= EPSILON_L {
            return None;
        }
        self.used_today = true;
        let learned = self
            .quiet_from
            .map(|from| self.learn_stretch(from, start_ms, offset_s, learning));
        self.quiet_from = Some(end_ms);
        learned
    }

    /// Learns the stretch without use from `from` to `until`.
    #[inline]
    fn learn_stretch(
        &mut self,
        from: i64,
        until: i64,
        offset_s: i32,
        learning: &Learning,
    ) -> Learned {
        let mut learned = Learned {
            from,
            until,
            gap: None,
            weekend_gap: false,
            rise: None,
        };
        let gap = until - from;
        if (SHORTEST_MS..=learning.longest_normal_gap_ms).contains(&gap) {
            let i = hour_of(from, offset_s) * BUCKETS + bucket_of(gap);
            if let Some(c) = self.gaps.get_mut(i) {
                *c = c.saturating_add(ONE);
                learned.gap = Some(i);
            }
            if learning.weekend_min_days.is_some()
                && is_weekend_day(stretch_day(from, offset_s))
                && let Some(c) = self.weekend.gaps_mut().get_mut(i)
            {
                *c = c.saturating_add(ONE);
                learned.weekend_gap = true;
            }
        }
        if gap >= NIGHT_GAP_MS
            && gap <= learning.longest_normal_gap_ms
            && is_night_start(from, offset_s)
        {
            let minute = minute_of_day(until, offset_s);
            if (RISE_FROM_MIN..RISE_UNTIL_MIN).contains(&minute) {
                learned.rise = Some(minute);
            } else if minute >= RISE_UNTIL_MIN && gap > (minute - RISE_UNTIL_MIN) * MINUTE_MS {
                // Quiet through 13:00 today: no morning.
                learned.rise = Some(RISE_UNTIL_MIN);
            }
            if learned.rise.is_some() {
                self.rise_today = learned.rise;
            }
        }
        learned
    }

    /// A span whose use cannot be known: the stretch around it is not learned.
    pub fn unknown(&mut self) {
        self.quiet_from = None;
    }

    /// Closes the previous day when `at_ms` falls on a later local day.
    #[inline]
    fn roll_day(&mut self, at_ms: i64, offset_s: i32, learning: &Learning) {
        let local = local(at_ms, offset_s);
        // Most readings fall on the day already begun: no division then.
        if let Some(d) = self.day
            && local < d.saturating_add(1).saturating_mul(DAY_MS)
        {
            return;
        }
        let day = local.div_euclid(DAY_MS);
        if self.day.is_none_or(|d| d < day) {
            self.begin_day(day, learning);
        }
    }

    /// Begins local day `day`, closing the one before if it had use.
    fn begin_day(&mut self, day: i64, learning: &Learning) {
        if self.day.is_some() && self.used_today {
            self.close_day(learning);
        }
        self.day = Some(day);
        self.used_today = false;
        self.rise_today = None;
    }

    fn close_day(&mut self, learning: &Learning) {
        let keep = learning.keep_per_day;
        counts::decay_all(&mut self.gaps, keep);
        counts::decay_all(&mut self.rises, keep);
        self.day_weight = decayed(self.day_weight, keep);
        self.rise_weight = decayed(self.rise_weight, keep);
        // The same rounding keeps every weekend count at most its whole.
        let split = learning.weekend_min_days.is_some();
        if split {
            self.weekend.decay(keep);
        }
        self.days = self.days.saturating_add(1);
        self.day_weight = self.day_weight.saturating_add(UNIT);
        self.expire_alerted();
        let weekend = split && self.day.is_some_and(is_weekend_day);
        if split {
            self.weekend.add_day(weekend);
        }
        if let Some(minute) = self.rise_today {
            let i = ((minute - RISE_FROM_MIN) / RISE_BUCKET_MIN) as usize;
            if let Some(c) = self.rises.get_mut(i) {
                *c = c.saturating_add(ONE);
                self.rise_weight = self.rise_weight.saturating_add(UNIT);
                if weekend {
                    self.weekend.add_rise(i);
                }
            }
        }
    }

    /// The longest quiet stretch this household usually has when it starts at
    /// `from_ms`: the length exceeded on at most `1 - quantile` of days by
    /// stretches starting in that hour or the next or previous one (two
    /// hours either side when those are thin). Where the history is too short
    /// to show so rare a stretch, the tail is extrapolated from the longest
    /// few stretches seen (an exponential tail, whose scale is their mean
    /// excess). `None` when the household has too little history around
    /// that time.
    pub fn usual_longest_gap(&self, from_ms: i64, offset_s: i32, quantile: f64) -> Option<i64> {
        self.usual_longest_gap_in(Days::All, from_ms, offset_s, quantile)
    }

    /// [`Baseline::usual_longest_gap`] from the stretches and days of `days` only.
    pub fn usual_longest_gap_in(
        &self,
        days: Days,
        from_ms: i64,
        offset_s: i32,
        quantile: f64,
    ) -> Option<i64> {
        let bin = hour_of(from_ms, offset_s);
        let (day_weight, _) = self.weights(days);
        let days_seen = f64::from(day_weight) / f64::from(UNIT);
        let rare = (1.0 - quantile).max(1e-9);
        for reach in [1, 2] {
            let mut tail = [0u32; BUCKETS];
            for d in 0..=2 * reach {
                let b = (bin + BINS + d - reach) % BINS;
                self.add_gap_row(days, b, &mut tail);
            }
            let total = f64::from(tail.iter().sum::<u32>()) / f64::from(UNIT);
            if total < 1.0 {
                continue;
            }
            return Some(tail_quantile(
                &tail,
                total,
                days_seen,
                rare,
                self.step_ms.unwrap_or(0),
            ));
        }
        None
    }

    /// This household's quiet stretches (from any time of day, on `days`)
    /// longer than `longer_than_ms`, and the days they came in: both
    /// decayed, so `(2.5, 40.0)` is about once every 16 days of late.
    pub fn longer_than(&self, days: Days, longer_than_ms: i64) -> (f64, f64) {
        let (day_weight, _) = self.weights(days);
        // Buckets wholly above the length: the one holding it is not counted.
        let from = bucket_of(longer_than_ms) + 1;
        let longer: u32 = (0..BINS)
            .flat_map(|bin| (from..BUCKETS).map(move |k| bin * BUCKETS + k))
            .map(|i| self.gap_count(days, i))
            .sum();
        (
            f64::from(longer) / f64::from(UNIT),
            f64::from(day_weight) / f64::from(UNIT),
        )
    }

    /// The time of day (minutes after local midnight) by which this household
    /// has begun its morning on all but `1 - quantile` of days; `None` before
    /// a week of mornings is known, or when more nights than that had no
    /// morning by 13:00 (nights away): such a household has no usual time.
    pub fn usual_rising(&self, quantile: f64) -> Option<i64> {
        self.usual_rising_in(Days::All, quantile)
    }

    /// [`Baseline::usual_rising`] from the mornings of `days` only (`None`
    /// before five of them are known).
    pub fn usual_rising_in(&self, days: Days, quantile: f64) -> Option<i64> {
        let (_, rise_weight) = self.weights(days);
        if rise_weight < 5 * UNIT {
            return None;
        }
        let allowed = (1.0 - quantile) * f64::from(rise_weight);
        let mut above = 0.0;
        for k in (0..RISE_BUCKETS).rev() {
            above += f64::from(self.rise_count(days, k));
            if above > allowed {
                // Mornings that do not come that often have no usual time.
                return (k < RISE_TIMES).then(|| RISE_FROM_MIN + (k as i64 + 1) * RISE_BUCKET_MIN);
            }
        }
        None
    }

    /// Whether this household goes out: its history holds at least one
    /// (decayed) quiet stretch of `at_least_ms` or more that began in the
    /// day (06:00–19:00). A person who never leaves the house for hours does
    /// not take whole days out either.
    pub fn goes_out(&self, at_least_ms: i64) -> bool {
        let from = bucket_of(at_least_ms);
        let day_bins = NIGHT_UNTIL_H as usize..NIGHT_FROM_H as usize;
        let long: u32 = day_bins
            .flat_map(|bin| &self.gaps[bin * BUCKETS + from..(bin + 1) * BUCKETS])
            .map(|&c| u32::from(c))
            .sum();
        long >= UNIT
    }

    /// Whether a stretch starting at `from_ms` is a night one, which the
    /// morning check applies to.
    pub fn is_night(from_ms: i64, offset_s: i32) -> bool {
        is_night_start(from_ms, offset_s)
    }
}

impl Baseline {
    /// What a replacement meter in the same home takes over from `from`,
    /// the meter it replaces: the household's learned rhythm (quiet
    /// stretches, rising times, days with use, weekends). The stretch and
    /// day in progress and the reading interval stay this meter's own, and
    /// a stretch kept aside for `confirm_incident` stays with the old one.
    pub(crate) fn inherit(&mut self, from: &Baseline) {
        self.days = from.days;
        self.day_weight = from.day_weight;
        self.gaps.clone_from(&from.gaps);
        self.rise_weight = from.rise_weight;
        self.rises.clone_from(&from.rises);
        self.weekend = from.weekend.clone();
        self.alerted = None;
    }

    /// Pads vectors restored from an older or hand-written state to size, so
    /// indexing never fails on outside input.
    pub(crate) fn normalise_shape(&mut self) {
        counts::pad(&mut self.gaps, BINS * BUCKETS);
        counts::pad(&mut self.rises, RISE_BUCKETS);
        self.weekend.normalise_shape();
    }
}

mod alerted;
mod config;
pub(crate) mod counts;
mod tail;
mod week;

pub use config::{BaselineConfig, DEFAULT_WEEKEND_MIN_DAYS, Learning, MAX_HALF_LIFE_DAYS};

use alerted::Alerted;
pub use alerted::Learned;
use tail::tail_quantile;
pub use week::Days;
use week::{Weekend, is_weekend_day, stretch_day};
#[cfg(test)]
mod tests;
