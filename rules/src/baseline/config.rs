//! The `[baseline]` section of a rules file and its validated form: how
//! every household's baseline is learned (the inactivity rules say how it
//! is used).

use serde::{Deserialize, Serialize};

use super::HOUR_MS;

/// The longest `half_life_days` allowed. A histogram bucket gains at most
/// two stretches a day (each at least 30 minutes, both begun in its hour),
/// so it holds at most `2 · UNIT / (1 − keep)`: about 52,000 at 180 days,
/// within the `u16` a bucket counts in (which would fill at about 226).
pub const MAX_HALF_LIFE_DAYS: f64 = 180.0;

/// The `[baseline]` section of a rules file: how every household's baseline
/// is learned (the inactivity rules say how it is used).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineConfig {
    /// Days with water use a household needs before learned rules replace
    /// their fixed fallback. Default 14.
    #[serde(default = "default_learning_days")]
    pub learning_days: u32,
    /// What the baseline learned `half_life_days` days (with use) ago counts
    /// half as much as today. Default 28, at most [`MAX_HALF_LIFE_DAYS`].
    #[serde(default = "default_half_life_days")]
    pub half_life_days: f64,
    /// A quiet stretch longer than this is an absence (a trip, a hospital
    /// stay), never learned as normal. Default "20h".
    #[serde(default = "default_longest_normal_gap")]
    pub longest_normal_gap: String,
    /// Learn weekends (Saturday, Sunday, local time) apart, and judge
    /// weekend days by the household's weekends and weekdays by its
    /// weekdays, once each has `weekend_min_days` days of its own and the
    /// household's weekend mornings start over an hour later (or earlier)
    /// than its weekday ones (until then, by all days). Default false: on
    /// the benchmark it did not help (docs/detection.md).
    #[serde(default = "default_weekend")]
    pub weekend: bool,
    /// Days with use of its own (weekend days, or weekdays) a household
    /// needs before that part of the week is judged by itself. Default 8.
    #[serde(default)]
    pub weekend_min_days: Option<u32>,
}

fn default_weekend() -> bool {
    false
}

/// The shipped `[baseline] weekend_min_days`.
pub const DEFAULT_WEEKEND_MIN_DAYS: u32 = 8;

fn default_learning_days() -> u32 {
    14
}

fn default_half_life_days() -> f64 {
    28.0
}

fn default_longest_normal_gap() -> String {
    "20h".to_owned()
}

impl Default for BaselineConfig {
    fn default() -> Self {
        BaselineConfig {
            learning_days: default_learning_days(),
            half_life_days: default_half_life_days(),
            longest_normal_gap: default_longest_normal_gap(),
            weekend: default_weekend(),
            weekend_min_days: None,
        }
    }
}

/// [`BaselineConfig`] validated, ready for the hot path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Learning {
    pub learning_days: u32,
    /// Daily decay factor.
    pub keep_per_day: f64,
    pub longest_normal_gap_ms: i64,
    /// Days of its own the weekend (or weekday) model needs before it is
    /// used; `None`: every day is judged by all days.
    pub weekend_min_days: Option<u32>,
}

impl Default for Learning {
    fn default() -> Self {
        Learning::new(14, 28.0, 20 * HOUR_MS)
    }
}

impl Learning {
    pub fn new(learning_days: u32, half_life_days: f64, longest_normal_gap_ms: i64) -> Learning {
        Learning {
            learning_days,
            keep_per_day: 0.5_f64.powf(1.0 / half_life_days.max(0.01)),
            longest_normal_gap_ms,
            weekend_min_days: None,
        }
    }

    /// `self` with the weekend model after `min_days` (`None`: never).
    pub fn with_weekend(self, min_days: Option<u32>) -> Learning {
        Learning {
            weekend_min_days: min_days,
            ..self
        }
    }
}
