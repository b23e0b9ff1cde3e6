//! Taking back what an incident taught.
//!
//! A quiet stretch is learned when water runs again, whatever it was: a day
//! out, a late morning, or a resident who lay on the floor for six hours
//! until someone came and helped. Learned, the fall becomes "usual": the
//! limit from that hour moves past it (and the morning it ended in becomes a
//! normal rising time) for months, so the next fall is found hours later.
//! So a stretch learned while an inactivity alert was firing on it is kept
//! aside for a few days, and when a person reports that the resident was
//! in need (`Engine::confirm_incident`) it is subtracted again.

use serde::{Deserialize, Serialize};

use super::counts::Count;
use super::{Baseline, Learning, RISE_BUCKET_MIN, RISE_FROM_MIN, UNIT};

/// How many days with use an alerted stretch can still be taken back.
const KEEP_DAYS: u32 = 3;

/// What one stretch without use taught the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    /// When it began and ended, ms since the epoch.
    pub from: i64,
    pub until: i64,
    /// The gap count it added to (none for a stretch too short or too long).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<usize>,
    /// It was counted in the weekend's share too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weekend_gap: bool,
    /// The rising time (minutes after midnight) it gave its day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rise: Option<i64>,
}

/// A stretch learned while an inactivity alert fired on it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) struct Alerted {
    #[serde(flatten)]
    learned: Learned,
    /// `days` when it was learned: the days closed since decayed it.
    days: u32,
    /// The day it ended on is a Saturday or Sunday and weekends are split.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    weekend_day: bool,
}

impl Baseline {
    /// Keeps `learned` aside: an inactivity alert was firing on it.
    pub fn remember_alerted(&mut self, learned: Learned, learning: &Learning) {
        self.alerted = Some(Alerted {
            learned,
            days: self.days,
            weekend_day: learning.weekend_min_days.is_some()
                && self.day.is_some_and(super::is_weekend_day),
        });
    }

    /// Whether a stretch learned while alerted can still be taken back.
    pub fn alerted(&self) -> Option<Learned> {
        self.alerted.map(|a| a.learned)
    }

    /// Forgets the kept stretch once `KEEP_DAYS` days with use have closed.
    pub(super) fn expire_alerted(&mut self) {
        if self
            .alerted
            .is_some_and(|a| self.days.saturating_sub(a.days) >= KEEP_DAYS)
        {
            self.alerted = None;
        }
    }

    /// Takes back what the kept alerted stretch taught: its gap count and
    /// the rising time it gave its day, as decayed since. Returns whether
    /// there was one.
    pub fn forget_alerted(&mut self, learning: &Learning) -> bool {
        let Some(alerted) = self.alerted.take() else {
            return false;
        };
        let keep = learning.keep_per_day;
        // What one stretch (`UNIT`) is worth after `days` closed days.
        let decayed = |days: u32| (0..days).fold(UNIT, |c, _| super::decayed(c, keep));
        let closed = self.days.saturating_sub(alerted.days);
        let learned = alerted.learned;
        if let Some(i) = learned.gap {
            let amount = decayed(closed);
            take(self.gaps.get_mut(i), amount);
            if learned.weekend_gap {
                take(self.weekend.gaps_mut().get_mut(i), amount);
            }
        }
        if let Some(minute) = learned.rise {
            if closed == 0 {
                // Its day is still open: the rising time is not counted yet.
                if self.rise_today == Some(minute) {
                    self.rise_today = None;
                }
            } else {
                // Counted when its day closed, decayed since.
                let amount = decayed(closed - 1);
                let k = ((minute - RISE_FROM_MIN) / RISE_BUCKET_MIN) as usize;
                if self.rises.get(k).is_some() {
                    take(self.rises.get_mut(k), amount);
                    self.rise_weight = self.rise_weight.saturating_sub(amount);
                    if alerted.weekend_day {
                        self.weekend.remove_rise(k, amount);
                    }
                }
            }
        }
        true
    }
}

/// Subtracts `amount` from a count, never below zero.
fn take(count: Option<&mut u16>, amount: u32) {
    if let Some(c) = count {
        *c = c.saturating_sub(u16::saturating(amount.into()));
    }
}
