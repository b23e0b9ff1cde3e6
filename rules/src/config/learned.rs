//! The parameters of learned rules (`learned = true` on inactivity,
//! continuous_flow and spike) and of usage_drop, with their defaults, checked.

use std::time::Duration;

use super::{Check, RuleEntry};
use crate::rule::continuous_flow::LearnedRun;
use crate::rule::inactivity::LearnedConfig;
use crate::rule::spike::LearnedRate;
use crate::rule::usage_drop::{MAX_DAYS, UsageDropConfig};

impl Check<'_> {
    /// The learned-limit parameters of a rule (with defaults), checked.
    pub(super) fn learned(
        &mut self,
        i: usize,
        entry: &RuleEntry,
        after: Option<Duration>,
    ) -> Option<LearnedConfig> {
        let path = |key: &str| format!("rule[{i}].{key}");
        let before = self.problems.len();
        let (quantile, margin) = self.quantile_margin(i, entry, 0.999, 1.0);
        let (min, max) = self.min_max(i, entry, "3h", after);
        let morning_margin = match entry.morning_margin.as_deref() {
            Some("off") => Some(None),
            text => self
                .duration(path("morning_margin"), Some(text.unwrap_or("1h")))
                .map(Some),
        };
        let late_morning = self.late_morning(
            path("late_morning"),
            entry.late_morning.as_deref().or(Some("2h")),
        );
        let day_out_until = self.day_out_until(
            path("day_out_until"),
            entry.day_out_until.as_deref().or(Some("21:00")),
        );
        let (routine_max, routine_every) = self.routine(i, entry, max);
        if self.problems.len() > before {
            return None;
        }
        Some(LearnedConfig {
            quantile,
            margin,
            min: min?,
            max: max?,
            morning_margin: morning_margin?,
            late_morning: late_morning?,
            day_out_until: day_out_until?,
            routine_max: routine_max?,
            routine_every: routine_every?,
        })
    }

    /// `routine_max` (longer than `max`, at most a day, or `"off"`) and
    /// `routine_every` (at least a day), with their defaults.
    fn routine(
        &mut self,
        i: usize,
        entry: &RuleEntry,
        max: Option<Duration>,
    ) -> (Option<Option<Duration>>, Option<Duration>) {
        let path = |key: &str| format!("rule[{i}].{key}");
        let day = Duration::from_secs(24 * 3600);
        let every = self.duration(
            path("routine_every"),
            Some(entry.routine_every.as_deref().unwrap_or("30d")),
        );
        if let Some(every) = every
            && every < day
        {
            self.at(
                path("routine_every"),
                format!(
                    "{} is less than a day; say how many days may pass between long stretches, e.g. \"30d\"",
                    crate::text::duration(every)
                ),
            );
        }
        let routine_max = self.routine_max(
            i,
            entry,
            max,
            "20h",
            "a whole day without water warrants a visit whatever the household's routine",
        );
        (routine_max, every)
    }

    /// `routine_max`: longer than `max`, at most a day (else `over_a_day`
    /// says why), or `"off"` (the default, `Some(None)`); `None` when wrong
    /// (said at its path, with `example`).
    fn routine_max(
        &mut self,
        i: usize,
        entry: &RuleEntry,
        max: Option<Duration>,
        example: &str,
        over_a_day: &str,
    ) -> Option<Option<Duration>> {
        let path = |key: &str| format!("rule[{i}].{key}");
        let day = Duration::from_secs(24 * 3600);
        match entry.routine_max.as_deref().unwrap_or("off") {
            "off" => Some(None),
            text => {
                let routine_max = self.duration(path("routine_max"), Some(text));
                match (routine_max, max) {
                    (Some(r), Some(max)) if r <= max => {
                        self.at(
                            path("routine_max"),
                            format!(
                                "{} is not longer than max ({}), so it could never apply; make it longer, e.g. \"{example}\", or \"off\"",
                                crate::text::duration(r),
                                crate::text::duration(max)
                            ),
                        );
                        None
                    }
                    (Some(r), _) if r > day => {
                        self.at(
                            path("routine_max"),
                            format!(
                                "{} is more than a day; {over_a_day}",
                                crate::text::duration(r)
                            ),
                        );
                        None
                    }
                    (r, _) => r.map(Some),
                }
            }
        }
    }

    /// `late_morning`: a duration up to 6 h, or `"off"` (`Some(None)`);
    /// `None` when absent or wrong (said at `path`).
    pub(super) fn late_morning(
        &mut self,
        path: String,
        text: Option<&str>,
    ) -> Option<Option<Duration>> {
        match text? {
            "off" => Some(None),
            text => {
                let late = self.duration(path.clone(), Some(text))?;
                if late > Duration::from_secs(6 * 3600) {
                    self.at(
                        path,
                        format!(
                            "{} is more than 6 h; the morning check would wait into the afternoon (the usual value is \"2h\", \"off\" turns it off)",
                            humantime::format_duration(late)
                        ),
                    );
                    return None;
                }
                Some(Some(late))
            }
        }
    }

    /// `day_out_until`: a local time of day (minutes after midnight), or
    /// `"off"` (`Some(None)`); `None` when absent or wrong (said at `path`).
    pub(super) fn day_out_until(
        &mut self,
        path: String,
        text: Option<&str>,
    ) -> Option<Option<u16>> {
        match text? {
            "off" => Some(None),
            text => self.time_of_day(path, text).map(Some),
        }
    }

    /// A local time of day, `"HH:MM"`, as minutes after midnight.
    fn time_of_day(&mut self, path: String, text: &str) -> Option<u16> {
        let parsed = text.trim().split_once(':').and_then(|(h, m)| {
            let (h, m) = (h.parse::<u16>().ok()?, m.parse::<u16>().ok()?);
            (h < 24 && m < 60 && !text.trim().starts_with('+')).then_some(h * 60 + m)
        });
        if parsed.is_none() {
            self.at(
                path,
                format!(
                    "\"{text}\" is not a time of day; write it as \"HH:MM\" in the household's local time, e.g. \"21:00\", or \"off\""
                ),
            );
        }
        parsed
    }

    /// `quantile` in (0.5, 1) and `margin` ≥ 1, with these defaults.
    fn quantile_margin(
        &mut self,
        i: usize,
        entry: &RuleEntry,
        quantile: f64,
        margin: f64,
    ) -> (f64, f64) {
        let path = |key: &str| format!("rule[{i}].{key}");
        let q = entry.quantile.unwrap_or(quantile);
        if !(q > 0.5 && q < 1.0) {
            self.at(
                path("quantile"),
                format!(
                    "must be between 0.5 and 1, exclusive (got {q}); the usual value is {quantile:?}"
                ),
            );
        }
        let m = entry.margin.unwrap_or(margin);
        if !(m.is_finite() && m >= 1.0) {
            self.at(
                path("margin"),
                format!("must be at least 1 (got {m}); the usual value is {margin:?}"),
            );
        }
        (q, m)
    }

    /// `min` (default `default_min`) and `max` (default `after`), checked
    /// to be in order.
    fn min_max(
        &mut self,
        i: usize,
        entry: &RuleEntry,
        default_min: &str,
        after: Option<Duration>,
    ) -> (Option<Duration>, Option<Duration>) {
        let path = |key: &str| format!("rule[{i}].{key}");
        let min = self.duration(
            path("min"),
            Some(entry.min.as_deref().unwrap_or(default_min)),
        );
        let max = match entry.max.as_deref() {
            Some(text) => self.duration(path("max"), Some(text)),
            None => after,
        };
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            self.at(
                path("min"),
                format!(
                    "the minimum ({}) is longer than the maximum ({}); make min at most max",
                    crate::text::duration(min),
                    crate::text::duration(max)
                ),
            );
        }
        (min, max)
    }

    /// A learned continuous_flow rule's parameters.
    pub(super) fn learned_run(
        &mut self,
        i: usize,
        entry: &RuleEntry,
        after: Option<Duration>,
    ) -> Option<LearnedRun> {
        let before = self.problems.len();
        let (quantile, margin) = self.quantile_margin(i, entry, 0.9, 1.5);
        let (min, max) = self.min_max(i, entry, "30m", after);
        let routine_max = self.routine_max(
            i,
            entry,
            max,
            "4h",
            "water running for a whole day is a leak whatever the household's routine",
        );
        if self.problems.len() > before {
            return None;
        }
        Some(LearnedRun {
            quantile,
            margin,
            min: min?,
            max: max?,
            routine_max: routine_max?,
        })
    }

    /// A learned spike rule's parameters.
    pub(super) fn learned_rate(
        &mut self,
        i: usize,
        entry: &RuleEntry,
        rate_lpm: Option<f64>,
    ) -> Option<LearnedRate> {
        let path = |key: &str| format!("rule[{i}].{key}");
        let before = self.problems.len();
        let (quantile, margin) = self.quantile_margin(i, entry, 0.95, 1.5);
        let min = entry.min_rate_lpm.unwrap_or(1.0);
        let max = entry.max_rate_lpm.or(rate_lpm)?;
        for (key, value) in [("min_rate_lpm", min), ("max_rate_lpm", max)] {
            if !(value.is_finite() && value > 0.0) {
                self.at(
                    path(key),
                    format!("must be greater than zero (got {value}); e.g. 1.0 and 10.0"),
                );
            }
        }
        if min > max {
            self.at(
                path("min_rate_lpm"),
                format!(
                    "the minimum ({min} L/min) is above the maximum ({max} L/min); make it lower"
                ),
            );
        }
        if self.problems.len() > before {
            return None;
        }
        Some(LearnedRate {
            quantile,
            margin,
            min_rate_lpm: min,
            max_rate_lpm: max,
        })
    }

    /// A usage_drop rule's parameters.
    pub(super) fn usage_drop(&mut self, i: usize, entry: &RuleEntry) -> Option<UsageDropConfig> {
        let path = |key: &str| format!("rule[{i}].{key}");
        let before = self.problems.len();
        let recent_days = entry.recent_days.unwrap_or(4);
        let history_days = entry.history_days.unwrap_or(28);
        let min_history_days = entry.min_history_days.unwrap_or(history_days.min(14));
        for (key, value, usual) in [
            ("recent_days", recent_days, 4),
            ("history_days", history_days, 28),
        ] {
            if value == 0 {
                self.at(
                    path(key),
                    format!("must be at least 1 (got 0); the usual value is {usual}"),
                );
            }
        }
        if 2 * u64::from(recent_days) + u64::from(history_days) > MAX_DAYS as u64 {
            self.at(
                path("history_days"),
                format!(
                    "2 × recent_days + history_days is {} and may be at most {MAX_DAYS}; shorten them",
                    2 * u64::from(recent_days) + u64::from(history_days)
                ),
            );
        }
        if min_history_days == 0 || min_history_days > history_days {
            self.at(
                path("min_history_days"),
                format!(
                    "must be between 1 and history_days ({history_days}) (got {min_history_days}); the usual value is 14"
                ),
            );
        }
        let quantile = entry.quantile.unwrap_or(0.5);
        if !(quantile > 0.0 && quantile < 1.0) {
            self.at(
                path("quantile"),
                format!(
                    "must be between 0 and 1, exclusive (got {quantile}); the usual value is 0.5"
                ),
            );
        }
        let fraction = entry.fraction.unwrap_or(0.5);
        if !(fraction > 0.0 && fraction < 1.0) {
            self.at(
                path("fraction"),
                format!(
                    "must be between 0 and 1, exclusive (got {fraction}); the usual value is 0.5"
                ),
            );
        }
        let min_drop_l = entry.min_drop_l.unwrap_or(30.0);
        if !(min_drop_l.is_finite() && min_drop_l >= 0.0) {
            self.at(
                path("min_drop_l"),
                format!("must not be negative (got {min_drop_l}); the usual value is 30"),
            );
        }
        if self.problems.len() > before {
            return None;
        }
        Some(UsageDropConfig {
            recent_days,
            history_days,
            min_history_days,
            quantile,
            fraction,
            min_drop_l,
        })
    }
}
