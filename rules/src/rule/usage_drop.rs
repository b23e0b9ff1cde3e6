//! `kind = "usage_drop"`: daily use sliding far below the household's own
//! level over days (a wellbeing check-in: eating, washing, cleaning less).
//!
//! [`DailyUse`] adds up each local day's use. A day counts only when readings
//! cover at least [`COVERED_MS`] of it in intervals no longer than
//! [`DATA_GAP_MS`]: a silent meter, a long gap or a register reset makes the
//! day *unknown*, never low (no data is never no use). A day with data but
//! (almost) no use, under [`ABSENT_BELOW_L`], is an absence (inactivity's
//! business) and counts neither as low nor as normal.
//!
//! The rule compares the last `recent_days` counted days with the
//! household's level, the `quantile` of the counted days in the
//! `history_days` before them (at least `min_history_days` of them, else the
//! rule stays silent: it has no fixed fallback). It fires when every one of
//! the recent days is below `fraction` of the level and their mean at least
//! `min_drop_l` under it, and resolves as soon as a recent day is back above
//! that line. Verdicts change only when a day closes.
//!
// Design: the level trails the household, so a decline that lasts many
// weeks is eventually learned as the new normal and the alert resolves;
// `history_days` (default 28) sets how long that takes.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::{EPSILON_L, Verdict};
use crate::normalise::DATA_GAP_MS;
use crate::text::Language;

const DAY_MS: i64 = 24 * 3_600_000;
/// A day is known when intervals of at most [`DATA_GAP_MS`] cover this much of it.
pub const COVERED_MS: i64 = 20 * 3_600_000;
/// Closed days kept (`recent_days + history_days` may not exceed it).
pub const MAX_DAYS: usize = 42;
/// A closed day whose use is not known.
const UNKNOWN: i32 = -1;
/// A day with less use than this is an absence (nobody lives a day on a
/// few flushes' worth; a dripping tap in an empty home reads like this).
pub const ABSENT_BELOW_L: i32 = 10;

/// The typed `[[rule]]` parameters of a `usage_drop` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageDropConfig {
    /// The recent days whose median is compared (default 4).
    pub recent_days: u32,
    /// The days before them that set the household's level (default 28).
    pub history_days: u32,
    /// Counted days needed in the history before the rule can fire (default 14).
    pub min_history_days: u32,
    /// The level is this quantile of the history's daily use (default 0.5).
    pub quantile: f64,
    /// Fire below this share of the level (default 0.5).
    pub fraction: f64,
    /// ... and only when at least this many litres a day below it (default 30).
    pub min_drop_l: f64,
}

/// What the last days say, in litres per day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    /// The mean of the recent days.
    pub recent_l: f64,
    /// The highest of them.
    pub recent_max_l: f64,
    pub recent_days: u32,
    pub level_l: f64,
}

impl Assessment {
    pub fn verdict(&self, config: &UsageDropConfig) -> Verdict {
        let line = config.fraction * self.level_l;
        if self.recent_max_l < line && self.level_l - self.recent_l >= config.min_drop_l {
            Verdict::Firing
        } else {
            Verdict::Clear
        }
    }

    /// The alert text for `verdict` in `lang`.
    pub fn summary(&self, verdict: Verdict, lang: Language) -> String {
        let (recent, back, level, n) = (
            self.recent_l.round(),
            self.recent_max_l.round(),
            self.level_l.round(),
            self.recent_days,
        );
        match (verdict, lang) {
            (Verdict::Firing, Language::En) => format!(
                "Daily use has been {recent} L/day for {n} days; this household usually uses {level} L/day."
            ),
            (Verdict::Firing, Language::ZhCn) => {
                format!("近{n}天日用水量为{recent}升/天；该户通常每天用水{level}升。")
            }
            (_, Language::En) => format!(
                "Daily use is back up to {back} L on a recent day; this household usually uses {level} L/day."
            ),
            (_, Language::ZhCn) => {
                format!("近日日用水量已回升到{back}升；该户通常每天用水{level}升。")
            }
        }
    }
}

/// Per-meter daily totals. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DailyUse {
    /// Closed local days, oldest first: whole litres, or -1 when not known.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    days: VecDeque<i32>,
    /// Local day number being added up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    day: Option<i64>,
    #[serde(default)]
    litres: f64,
    #[serde(default)]
    covered_ms: i64,
    /// Days closed so far: verdicts can only change when this does.
    #[serde(default)]
    closed: u32,
}

impl DailyUse {
    /// An interval from the normaliser; `known` is false for a span the
    /// register cannot account for (it moves the days on, covering nothing).
    #[inline]
    pub fn usage(&mut self, start: i64, end: i64, litres: f64, offset_s: i32, known: bool) {
        let shift = i64::from(offset_s) * 1000;
        let (from, to) = (start + shift, end + shift);
        let counts = known && to - from <= DATA_GAP_MS;
        // Design: most intervals lie within one day; split only those that don't.
        let day = to.div_euclid(DAY_MS);
        if to <= from || from >= day * DAY_MS {
            self.roll(day);
            self.add(litres, if counts { (to - from).max(0) } else { 0 });
            return;
        }
        let mut t = from;
        while t < to {
            let d = t.div_euclid(DAY_MS);
            let until = ((d + 1) * DAY_MS).min(to);
            self.roll(d);
            let share = litres * (until - t) as f64 / (to - from) as f64;
            self.add(share, if counts { until - t } else { 0 });
            t = until;
        }
    }

    /// What a replacement meter in the same home takes over from `from`:
    /// the household's closed days, and the day in progress with this
    /// meter's share of it added (the day of the swap is one day of the
    /// household's use, half on each meter).
    pub fn inherit(&mut self, from: &DailyUse) {
        let mine = std::mem::replace(self, from.clone());
        if let Some(day) = mine.day {
            self.roll(day);
            if self.day == Some(day) {
                self.litres += mine.litres;
                self.covered_ms += mine.covered_ms;
            }
        }
    }

    fn add(&mut self, litres: f64, covered_ms: i64) {
        if litres > EPSILON_L {
            self.litres += litres;
        }
        self.covered_ms += covered_ms;
    }

    /// Moves on to local day `day`, closing the days before it.
    #[inline]
    fn roll(&mut self, day: i64) {
        match self.day {
            None => self.day = Some(day),
            Some(current) if day > current => self.close_days(current, day),
            Some(_) => {}
        }
    }

    /// Closes day `current` and any skipped before `day`, which begins.
    fn close_days(&mut self, current: i64, day: i64) {
        let total = if self.covered_ms >= COVERED_MS {
            i32::try_from(self.litres.round() as i64).unwrap_or(i32::MAX)
        } else {
            UNKNOWN
        };
        self.push(total);
        let skipped = (day - current - 1).min(MAX_DAYS as i64);
        for _ in 0..skipped {
            self.push(UNKNOWN);
        }
        self.day = Some(day);
        self.litres = 0.0;
        self.covered_ms = 0;
    }

    fn push(&mut self, total: i32) {
        self.days.push_back(total);
        while self.days.len() > MAX_DAYS {
            self.days.pop_front();
        }
        self.closed = self.closed.wrapping_add(1);
    }

    /// Days closed so far (changes when a verdict may).
    pub fn closed(&self) -> u32 {
        self.closed
    }

    /// The closed days, oldest first (`None` when not known).
    pub fn days(&self) -> impl DoubleEndedIterator<Item = Option<u32>> + '_ {
        self.days.iter().map(|&d| u32::try_from(d).ok())
    }

    /// Recent daily use against the household's level; `None` while there
    /// are too few counted days (recent or in the history).
    pub fn assess(&self, config: &UsageDropConfig) -> Option<Assessment> {
        // Design: validation keeps `recent_days` under MAX_DAYS / 2; the
        // clamp keeps a hand-built config from indexing past the arrays.
        let recent_n = (config.recent_days as usize).clamp(1, MAX_DAYS / 2);
        let mut recent = [0f64; MAX_DAYS];
        let mut history = [0f64; MAX_DAYS];
        let (mut r, mut h) = (0, 0);
        // The recent days must be recent: among the last 2 × recent_days closed days.
        let recent_span = 2 * recent_n;
        for (age, &total) in self.days.iter().rev().enumerate() {
            if total < ABSENT_BELOW_L {
                continue;
            }
            if r < recent_n {
                if age >= recent_span {
                    return None;
                }
                recent[r] = f64::from(total);
                r += 1;
            } else if age < recent_span + config.history_days as usize && h < MAX_DAYS {
                history[h] = f64::from(total);
                h += 1;
            }
        }
        if r < recent_n || h < config.min_history_days as usize || h == 0 {
            return None;
        }
        let recent = &recent[..r];
        Some(Assessment {
            recent_l: recent.iter().sum::<f64>() / r as f64,
            recent_max_l: recent.iter().copied().fold(0.0, f64::max),
            recent_days: recent_n as u32,
            level_l: quantile(&mut history[..h], config.quantile),
        })
    }
}

/// The `q` quantile of `values` (linear between order statistics).
fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    values[lo] + (values[hi] - values[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests;
