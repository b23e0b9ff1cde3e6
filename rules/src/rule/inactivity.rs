//! `kind = "inactivity"`: no water used for longer than the limit.
//!
//! Only readings prove quiet: the quiet stretch runs from the end of the last
//! interval with use to the newest reading, so a meter that goes silent never
//! looks inactive (that is `meter_offline`'s job). Use somewhere inside a long
//! interval counts as use at its end; a span the register cannot account for
//! (a confirmed jump or reset) counts as possible use. Either way the detector
//! never claims more quiet than the data proves.
//!
//! The limit ([`Limit`]) is the rule's fixed `after`, or, for a `learned`
//! rule, the household's own: its usual longest quiet stretch starting at that
//! time of day, or the morning overdue after a night, from its
//! [`Baseline`] (see `docs/detection.md`), with `after` as the fallback while
//! the household is still being learned.

use std::time::Duration;

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use super::{EPSILON_L, Verdict, duration_ms};
use crate::baseline::{Baseline, Days, Learning, hour_of, minute_of_day};
use crate::text::{self, Language};

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// The typed `[[rule]]` parameters of an `inactivity` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct InactivityConfig {
    /// Fire when the observed stretch without use reaches this long; with
    /// `learned`, the fallback while the household is still being learned.
    pub after: Duration,
    /// Use the household's learned rhythm once it is known.
    pub learned: Option<LearnedConfig>,
}

/// How a learned inactivity rule turns the baseline into a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedConfig {
    /// Which share of days' quiet stretches counts as usual (e.g. 0.99).
    pub quantile: f64,
    /// The usual longest stretch is multiplied by this (e.g. 1.25).
    pub margin: f64,
    /// The limit is never shorter than this.
    pub min: Duration,
    /// The limit is never longer than this (by default `after`, so a learned
    /// rule is never later than the fixed one).
    pub max: Duration,
    /// For a quiet stretch that began in the night, fire this long after the
    /// household's usual rising time; `None` turns the morning check off.
    pub morning_margin: Option<Duration>,
    /// A morning this much later than the household's median rising is
    /// still normal, even before the household has shown one: the morning
    /// check waits at least this long past the median rising. `None`: only
    /// the household's own mornings count.
    pub late_morning: Option<Duration>,
    /// A quiet stretch that began in the household's morning may be a whole
    /// day out: its limit runs at least until this local time (minutes after
    /// midnight), never past `max`. `None`: off.
    pub day_out_until: Option<u16>,
}

/// The day-out floor applies to stretches that began from this long before
/// the household's median rising ...
const DAY_OUT_FROM_RISING_MIN: i64 = 30;
/// ... to this long after it (people leave for the day in their morning).
const DAY_OUT_WITHIN_MIN: i64 = 5 * 60;
/// ... in a household that goes out: one with a daytime quiet stretch of
/// this long in its history. Someone who never leaves the house for hours
/// is not given a day out.
const GOES_OUT_MS: i64 = 3 * 60 * MINUTE_MS;

/// What decided a learned limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The usual longest stretch times the margin.
    Usual,
    /// Raised to the rule's `min`.
    Floor,
    /// Capped at the rule's `max`.
    Ceiling,
    /// No history around that time of day: the rule's `max`.
    NoHistory,
    /// The morning is overdue.
    Morning,
    /// Raised to run until `day_out_until`: the stretch began in the
    /// household's morning, when a whole day out is normal.
    DayOut,
}

/// A limit learned from the household's own rhythm, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Learned {
    pub limit_ms: i64,
    /// The local hour the quiet stretch began in.
    pub from_hour: u8,
    /// The household's usual longest stretch from that hour.
    pub usual_ms: Option<i64>,
    /// Which days `usual_ms` was learned from.
    pub usual_days: Days,
    /// The usual rising time (minutes after local midnight), for a night stretch.
    pub rising_min: Option<i64>,
    /// Which days `rising_min` was learned from.
    pub rising_days: Days,
    /// The median rising and the `late_morning` allowance, when that
    /// allowance set the morning deadline (the household has not shown so
    /// late a morning yet).
    pub late_from: Option<(i64, Duration)>,
    /// The rule's `day_out_until`, minutes after local midnight.
    pub day_out_until: Option<u16>,
    pub bound: Bound,
    pub min: Duration,
    pub max: Duration,
}

/// How long a quiet stretch may last before the alert fires, and why.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// The rule's fixed `after`.
    Fixed(Duration),
    /// A learned rule whose household is still being learned: its `after`.
    Learning {
        after: Duration,
        days: u32,
        needed: u32,
    },
    /// From the household's baseline.
    Learned(Learned),
}

impl Limit {
    /// The rule's fixed `after`, whatever the household has shown.
    pub fn for_rule(config: &InactivityConfig) -> Limit {
        Limit::Fixed(config.after)
    }

    /// The limit for a quiet stretch that began at `since_ms`: the fixed one,
    /// the fallback while learning, or the household's own.
    pub fn for_household(
        config: &InactivityConfig,
        baseline: &Baseline,
        learning: &Learning,
        since_ms: i64,
        offset_s: i32,
    ) -> Limit {
        let Some(l) = &config.learned else {
            return Limit::Fixed(config.after);
        };
        if baseline.learning(learning) {
            return Limit::Learning {
                after: config.after,
                days: baseline.days(),
                needed: learning.learning_days,
            };
        }
        let (min, max) = (
            duration_ms(l.min),
            duration_ms(l.max).max(duration_ms(l.min)),
        );
        // The stretch's part of the week, once it has days of its own; all
        // days where that part has nothing around this hour (or no mornings).
        let days = baseline.days_for(since_ms, offset_s, learning);
        let (usual_ms, usual_days) =
            match baseline.usual_longest_gap_in(days, since_ms, offset_s, l.quantile) {
                Some(usual) => (Some(usual), days),
                None if days != Days::All => (
                    baseline.usual_longest_gap(since_ms, offset_s, l.quantile),
                    Days::All,
                ),
                None => (None, Days::All),
            };
        let (mut limit_ms, mut bound) = match usual_ms {
            Some(usual) => {
                let x = (usual as f64 * l.margin) as i64;
                if x < min {
                    (min, Bound::Floor)
                } else if x > max {
                    (max, Bound::Ceiling)
                } else {
                    (x, Bound::Usual)
                }
            }
            None => (max, Bound::NoHistory),
        };
        let night = Baseline::is_night(since_ms, offset_s);
        let median_rising = || {
            baseline
                .usual_rising_in(days, 0.5)
                .or_else(|| baseline.usual_rising(0.5))
        };
        // A stretch that began in the household's morning may be a day out.
        if let Some(until) = l.day_out_until
            && !night
            && let Some(rising) = median_rising()
            && baseline.goes_out(GOES_OUT_MS)
        {
            let minute = minute_of_day(since_ms, offset_s);
            let until = i64::from(until);
            if (rising - DAY_OUT_FROM_RISING_MIN..rising + DAY_OUT_WITHIN_MIN).contains(&minute)
                && minute < until
            {
                let day_out = ((until - minute) * MINUTE_MS).min(max);
                if day_out > limit_ms {
                    limit_ms = day_out;
                    bound = Bound::DayOut;
                }
            }
        }
        let mut rising_min = None;
        let mut rising_days = Days::All;
        let mut late_from = None;
        if let Some(margin) = l.morning_margin
            && night
            && let Some((latest, from_days)) = baseline
                .usual_rising_in(days, l.quantile)
                .map(|r| (r, days))
                .or_else(|| baseline.usual_rising(l.quantile).map(|r| (r, Days::All)))
        {
            // A late morning the household has not shown yet is still normal.
            let rising = match (l.late_morning, median_rising()) {
                (Some(late), Some(median)) if median + duration_ms(late) / MINUTE_MS > latest => {
                    late_from = Some((median, late));
                    median + duration_ms(late) / MINUTE_MS
                }
                _ => latest,
            };
            rising_min = Some(rising);
            rising_days = from_days;
            let due = rising * MINUTE_MS + duration_ms(margin);
            let local = since_ms + i64::from(offset_s) * 1000;
            let midnight = local - local.rem_euclid(DAY_MS);
            let mut deadline = midnight + due;
            while deadline <= local {
                deadline += DAY_MS;
            }
            let morning = (deadline - local).max(min);
            if morning < limit_ms {
                limit_ms = morning;
                bound = Bound::Morning;
            } else {
                late_from = None;
            }
        }
        Limit::Learned(Learned {
            limit_ms,
            from_hour: hour_of(since_ms, offset_s) as u8,
            usual_ms,
            usual_days,
            rising_min,
            rising_days,
            late_from,
            day_out_until: l.day_out_until,
            bound,
            min: l.min,
            max: l.max,
        })
    }

    pub fn ms(&self) -> i64 {
        match self {
            Limit::Fixed(after) | Limit::Learning { after, .. } => duration_ms(*after),
            Limit::Learned(l) => l.limit_ms,
        }
    }

    /// The shortest limit `config` can ever give: below it nothing fires.
    pub fn floor_ms(config: &InactivityConfig) -> i64 {
        match &config.learned {
            None => duration_ms(config.after),
            Some(l) => duration_ms(l.min).min(duration_ms(config.after)),
        }
    }

    /// `the fixed limit is 12 h`
    pub fn explain(&self) -> String {
        self.explain_in(Language::En)
    }

    /// Why the limit is what it is, as the tail of a sentence after the quiet
    /// stretch: `; the fixed limit is 12 h` or `. On a usual day …`.
    fn evidence(&self, lang: Language, latest_ms: i64, offset: FixedOffset) -> String {
        let l = match self {
            Limit::Fixed(_) | Limit::Learning { .. } => {
                return match lang {
                    Language::En => format!("; {}.", self.explain_in(lang)),
                    Language::ZhCn => format!("；{}。", self.explain_in(lang)),
                };
            }
            Limit::Learned(l) => l,
        };
        let d = |ms| text::duration_ms_in(lang, ms);
        let hour = format!("{:02}:00", l.from_hour);
        let limit = d(l.limit_ms);
        let now = text::clock_in(lang, latest_ms, latest_ms, offset);
        let hm = |m: i64| format!("{:02}:{:02}", m / 60 % 24, m % 60);
        let (part_en, part_zh) = match l.rising_days {
            Days::All => ("", ""),
            Days::Weekdays => ("weekday ", "工作日"),
            Days::Weekends => ("weekend ", "周末"),
        };
        let (day_en, day_zh) = match l.usual_days {
            Days::All => ("day", "平时"),
            Days::Weekdays => ("weekday", "工作日平时"),
            Days::Weekends => ("weekend day", "周末平时"),
        };
        match (lang, l.bound, l.usual_ms, l.rising_min) {
            (Language::En, Bound::Morning, _, Some(_))
                if let Some((median, late)) = l.late_from =>
            {
                format!(
                    ". This household's {part_en}mornings usually start around {}, and one up to {} later is still normal; still no water at {now}.",
                    hm(median),
                    text::duration(late)
                )
            }
            (Language::ZhCn, Bound::Morning, _, Some(_))
                if let Some((median, late)) = l.late_from =>
            {
                format!(
                    "。该住户{part_zh}早上通常在{}前后开始用水，晚{}以内仍属正常，到{now}仍未用水。",
                    hm(median),
                    d(duration_ms(late))
                )
            }
            (Language::En, Bound::DayOut, _, _) => match l.day_out_until {
                Some(until) if l.limit_ms < duration_ms(l.max) => format!(
                    ". It began in this household's morning, when a whole day out is normal, so the limit runs until {} ({limit}).",
                    hm(i64::from(until))
                ),
                _ => format!(
                    ". It began in this household's morning, when a whole day out is normal, so the limit is the {limit} maximum."
                ),
            },
            (Language::ZhCn, Bound::DayOut, _, _) => match l.day_out_until {
                Some(until) if l.limit_ms < duration_ms(l.max) => format!(
                    "。此时段始于该住户的上午，整天外出属正常，报警阈值延至{}（{limit}）。",
                    hm(i64::from(until))
                ),
                _ => format!("。此时段始于该住户的上午，整天外出属正常，报警阈值取上限{limit}。"),
            },
            (Language::En, Bound::Morning, _, Some(r)) => format!(
                ". This household's {part_en}mornings usually start by {}; still no water at {now}.",
                hm(r)
            ),
            (Language::ZhCn, Bound::Morning, _, Some(r)) => {
                format!(
                    "。该住户{part_zh}早上通常在{}前开始用水，到{now}仍未用水。",
                    hm(r)
                )
            }
            (Language::En, _, None, _) | (Language::En, Bound::NoHistory, _, _) => format!(
                ". This household rarely goes long without water around {hour}, so the {limit} ceiling applies."
            ),
            (Language::ZhCn, _, None, _) | (Language::ZhCn, Bound::NoHistory, _, _) => {
                format!("。该住户在{hour}前后很少长时间不用水，采用上限{limit}。")
            }
            (Language::En, bound, Some(usual), _) => {
                let why = match bound {
                    Bound::Floor => format!("the limit is the {limit} minimum"),
                    Bound::Ceiling => format!("the limit is capped at {limit}"),
                    _ => format!("the limit is {limit}"),
                };
                format!(
                    ". On a usual {day_en} this household goes at most {} without water from around {hour}; {why}.",
                    d(usual)
                )
            }
            (Language::ZhCn, bound, Some(usual), _) => {
                let why = match bound {
                    Bound::Floor => format!("报警阈值取最低值{limit}"),
                    Bound::Ceiling => format!("报警阈值以{limit}为上限"),
                    _ => format!("报警阈值为{limit}"),
                };
                format!(
                    "。该住户{day_zh}在{hour}前后最长约{}不用水，{why}。",
                    d(usual)
                )
            }
        }
    }

    /// `the fixed limit is 12 h`, in `lang`.
    pub fn explain_in(&self, lang: Language) -> String {
        let d = |ms| text::duration_ms_in(lang, ms);
        match (lang, self) {
            (Language::En, Limit::Fixed(after)) => {
                format!("the fixed limit is {}", text::duration(*after))
            }
            (Language::ZhCn, Limit::Fixed(after)) => {
                format!("固定阈值为{}", d(duration_ms(*after)))
            }
            (
                Language::En,
                Limit::Learning {
                    after,
                    days,
                    needed,
                },
            ) => format!(
                "still learning this household's rhythm ({days} of {needed} days), so the fixed limit of {} applies",
                text::duration(*after)
            ),
            (
                Language::ZhCn,
                Limit::Learning {
                    after,
                    days,
                    needed,
                },
            ) => format!(
                "仍在学习该住户的用水规律（{days}/{needed}天），采用固定阈值{}",
                d(duration_ms(*after))
            ),
            (Language::En, Limit::Learned(l)) => {
                format!("the learned limit is {}", d(l.limit_ms))
            }
            (Language::ZhCn, Limit::Learned(l)) => format!("学习所得阈值为{}", d(l.limit_ms)),
        }
    }
}

/// What began the current quiet stretch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "by")]
pub enum QuietSince {
    /// No use seen yet: quiet is measured from the first reading.
    FirstReading,
    /// An interval with use, which began at `from`.
    Use { from: i64 },
    /// A span the register cannot account for (rebased), which began at `from`.
    Unknown { from: i64 },
}

/// Per-meter inactivity facts (shared by all inactivity rules; no parameters).
/// Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Inactivity {
    /// Quiet is measured from here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since: Option<i64>,
    /// The newest reading that shows the register: quiet is measured up to here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latest: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cause: Option<QuietSince>,
}

impl Inactivity {
    /// The meter's first reading: before any use, quiet is measured from it.
    pub fn first_reading(&mut self, at_ms: i64) {
        if self.since.is_none() {
            self.since = Some(at_ms);
            self.cause = Some(QuietSince::FirstReading);
        }
        self.see(at_ms);
    }

    /// A usage interval from the normaliser.
    pub fn usage(&mut self, start_ms: i64, end_ms: i64, litres: f64) {
        if litres > EPSILON_L {
            self.since = Some(end_ms);
            self.cause = Some(QuietSince::Use { from: start_ms });
        } else if self.since.is_none() {
            self.since = Some(start_ms);
            self.cause = Some(QuietSince::FirstReading);
        }
        self.see(end_ms);
    }

    /// A span whose use cannot be known: treated as possible use.
    pub fn unknown(&mut self, start_ms: i64, end_ms: i64) {
        self.since = Some(end_ms);
        self.cause = Some(QuietSince::Unknown { from: start_ms });
        self.see(end_ms);
    }

    fn see(&mut self, at_ms: i64) {
        self.latest = Some(self.latest.map_or(at_ms, |l| l.max(at_ms)));
    }

    /// The quiet stretch the readings prove, in milliseconds.
    pub fn quiet_ms(&self) -> Option<i64> {
        Some(self.latest? - self.since?)
    }

    /// When quiet began (the end of the last use), milliseconds.
    pub fn since_ms(&self) -> Option<i64> {
        self.since
    }

    pub fn verdict(&self, limit: &Limit) -> Verdict {
        self.verdict_with(i64::MIN, || limit.clone())
    }

    /// [`Inactivity::verdict`] computing the limit only when the quiet
    /// stretch reaches `floor_ms`, the shortest limit possible.
    pub fn verdict_with(&self, floor_ms: i64, limit: impl FnOnce() -> Limit) -> Verdict {
        match self.quiet_ms() {
            None => Verdict::Unchanged,
            Some(quiet) if quiet < floor_ms => Verdict::Clear,
            Some(quiet) if quiet >= limit().ms() => Verdict::Firing,
            Some(_) => Verdict::Clear,
        }
    }

    /// The alert text for `verdict`, times in `offset`.
    pub fn summary(&self, limit: &Limit, verdict: Verdict, offset: FixedOffset) -> String {
        self.summary_in(Language::En, limit, verdict, offset)
    }

    /// [`Inactivity::summary`] in `lang`.
    pub fn summary_in(
        &self,
        lang: Language,
        limit: &Limit,
        verdict: Verdict,
        offset: FixedOffset,
    ) -> String {
        let (Some(since), Some(latest)) = (self.since, self.latest) else {
            return match lang {
                Language::En => "No readings yet.".to_owned(),
                Language::ZhCn => "尚无读数。".to_owned(),
            };
        };
        let at = |ms| text::clock_in(lang, ms, latest, offset);
        let quiet = text::duration_ms_in(lang, latest - since);
        let evidence = || limit.evidence(lang, latest, offset);
        match (lang, verdict, self.cause) {
            (Language::En, Verdict::Firing, Some(QuietSince::FirstReading)) => format!(
                "No water used since the first reading at {} ({quiet}){}",
                at(since),
                evidence()
            ),
            (Language::ZhCn, Verdict::Firing, Some(QuietSince::FirstReading)) => {
                format!("自首次读数{}起未用水（{quiet}）{}", at(since), evidence())
            }
            (Language::En, Verdict::Firing, _) => {
                format!("No water used since {} ({quiet}){}", at(since), evidence())
            }
            (Language::ZhCn, Verdict::Firing, _) => {
                format!("自{}起未用水（{quiet}）{}", at(since), evidence())
            }
            (Language::En, _, Some(QuietSince::Use { from })) => {
                format!("Water used again between {} and {}.", at(from), at(since))
            }
            (Language::ZhCn, _, Some(QuietSince::Use { from })) => {
                format!("在{}至{}之间重新用水。", at(from), at(since))
            }
            (Language::En, _, Some(QuietSince::Unknown { from })) => format!(
                "The register jumped or was reset between {} and {}, so water may have been used; watching again from {}.",
                at(from),
                at(since),
                at(since)
            ),
            (Language::ZhCn, _, Some(QuietSince::Unknown { from })) => format!(
                "水表读数在{}至{}之间跳变或被重置，可能有用水；从{}起重新观察。",
                at(from),
                at(since),
                at(since)
            ),
            (Language::En, _, _) => format!(
                "Quiet for {quiet}, within the limit ({}).",
                limit.explain_in(lang)
            ),
            (Language::ZhCn, _, _) => {
                format!(
                    "已{quiet}未用水，未超过阈值（{}）。",
                    limit.explain_in(lang)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests;
