//! The limit of an inactivity rule for one quiet stretch: the rule's fixed
//! `after`, the fallback while the household is learned, or the
//! household's own (its usual longest stretch from that time of day, the
//! morning check, and the allowances for a late morning and a day out it
//! has not shown yet), with the evidence that goes into the alert.

use std::time::Duration;

use chrono::FixedOffset;

use super::{DAY_MS, InactivityConfig, MINUTE_MS};
use crate::baseline::{Baseline, Days, Learning, hour_of, minute_of_day};
use crate::rule::duration_ms;
use crate::text::{self, Language};

/// The day-out floor applies to stretches that began from this long before
/// the household's median rising ...
const DAY_OUT_FROM_RISING_MIN: i64 = 30;
/// ... to this long after it (people leave for the day in their morning).
const DAY_OUT_WITHIN_MIN: i64 = 5 * 60;
/// ... in a household that goes out: one with a daytime quiet stretch of
/// this long in its history. Someone who never leaves the house for hours
/// is not given a day out.
const GOES_OUT_MS: i64 = 3 * 60 * MINUTE_MS;
/// A night stretch that began before this local hour (after midnight) is
/// not overdue before the household's late-morning allowance is over.
const AFTER_MIDNIGHT_UNTIL_H: usize = 6;

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
    /// Past `max`, up to `routine_max`: this household often goes longer
    /// than `max` without water, and from this time of day too.
    Routine,
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
    /// With [`Bound::Routine`]: how often (per day) the household's quiet
    /// stretches last longer than `max`.
    pub routine_rate: Option<f64>,
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

/// How long a stretch begun at `since_ms` may be a day out: until `until`
/// (minutes after local midnight) if it began in the household's morning
/// (from half an hour before its median `rising` to five hours after) and the
/// household goes out; `None` otherwise.
fn day_out_ms(
    until: u16,
    baseline: &Baseline,
    rising: i64,
    since_ms: i64,
    offset_s: i32,
) -> Option<i64> {
    let minute = minute_of_day(since_ms, offset_s);
    let until = i64::from(until);
    let morning = rising - DAY_OUT_FROM_RISING_MIN..rising + DAY_OUT_WITHIN_MIN;
    (morning.contains(&minute) && minute < until && baseline.goes_out(GOES_OUT_MS))
        .then(|| (until - minute) * MINUTE_MS)
}

/// Days between stretches at `rate` per day, rounded (at least one).
fn every_days(rate: Option<f64>) -> u32 {
    rate.filter(|r| *r > 0.0)
        .map_or(1, |r| (1.0 / r).round().clamp(1.0, 1000.0) as u32)
}

/// `about once every 5 days`
fn how_often_en(rate: Option<f64>) -> String {
    match every_days(rate) {
        1 => "about once a day".to_owned(),
        n => format!("about once every {n} days"),
    }
}

/// `约每5天一次`
fn how_often_zh(rate: Option<f64>) -> String {
    match every_days(rate) {
        1 => "约每天一次".to_owned(),
        n => format!("约每{n}天一次"),
    }
}

/// From `local_ms` (local milliseconds) to the next time it is `minute`
/// after local midnight.
fn until_next(local_ms: i64, minute: i64) -> i64 {
    let midnight = local_ms - local_ms.rem_euclid(DAY_MS);
    let mut at = midnight + minute * MINUTE_MS;
    while at <= local_ms {
        at += DAY_MS;
    }
    at - local_ms
}

impl Learned {
    /// With [`Bound::Routine`]: how often the household goes longer than
    /// `max`, in words (`about once every 10 days`, `约每10天一次`).
    pub fn how_often(&self, lang: Language) -> Option<String> {
        let rate = self.routine_rate?;
        Some(match lang {
            Language::En => how_often_en(Some(rate)),
            Language::ZhCn => how_often_zh(Some(rate)),
        })
    }
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
        // Past `max` only in a household that often goes that long (on the
        // days the usual longest was learned from), and only as far as its
        // own usual longest from this hour.
        let routine = |x: i64| {
            let cap = duration_ms(l.routine_max?);
            let (stretches, days_seen) = baseline.longer_than(usual_days, max);
            let every = l.routine_every.as_secs_f64() / 86_400.0;
            // A short history is judged as if it were `routine_every` long:
            // a single long stretch is never a routine.
            (stretches * every >= days_seen.max(every)).then(|| (x.min(cap), stretches / days_seen))
        };
        let mut routine_rate = None;
        let (mut limit_ms, mut bound) = match usual_ms {
            Some(usual) => {
                let x = (usual as f64 * l.margin) as i64;
                if x < min {
                    (min, Bound::Floor)
                } else if x > max {
                    match routine(x) {
                        Some((limit, rate)) => {
                            routine_rate = Some(rate);
                            (limit, Bound::Routine)
                        }
                        None => (max, Bound::Ceiling),
                    }
                } else {
                    (x, Bound::Usual)
                }
            }
            None => (max, Bound::NoHistory),
        };
        let night = Baseline::is_night(since_ms, offset_s);
        let median_rising = baseline
            .usual_rising_in(days, 0.5)
            .or_else(|| baseline.usual_rising(0.5));
        // The latest normal morning by the `late_morning` allowance: the
        // median rising, the allowance, and the minute they come to.
        let late_rising = l
            .late_morning
            .zip(median_rising)
            .map(|(late, median)| (median, late, median + duration_ms(late) / MINUTE_MS));
        if let Some(until) = l.day_out_until
            && !night
            && let Some(rising) = median_rising
            && let Some(day_out) = day_out_ms(until, baseline, rising, since_ms, offset_s)
            && day_out.min(max) > limit_ms
        {
            limit_ms = day_out.min(max);
            bound = Bound::DayOut;
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
            let rising = match late_rising {
                Some((median, late, allowed)) if allowed > latest => {
                    late_from = Some((median, late));
                    allowed
                }
                _ => latest,
            };
            rising_min = Some(rising);
            rising_days = from_days;
            let local = since_ms + i64::from(offset_s) * 1000;
            let until_next = |minute| until_next(local, minute);
            let morning = until_next(rising + duration_ms(margin) / MINUTE_MS).max(min);
            if morning < limit_ms {
                limit_ms = morning;
                bound = Bound::Morning;
            } else {
                late_from = None;
            }
            // A stretch begun after midnight ends with the morning: it is not
            // overdue while a late morning is still normal (a night-time
            // visit to the bathroom, then a lie-in).
            if hour_of(since_ms, offset_s) < AFTER_MIDNIGHT_UNTIL_H
                && let Some((median, late, allowed)) = late_rising
            {
                let floor = until_next(allowed).min(max);
                if floor > limit_ms {
                    limit_ms = floor;
                    bound = Bound::Morning;
                    late_from = Some((median, late));
                }
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
            routine_rate: routine_rate.filter(|_| bound == Bound::Routine),
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
    #[inline]
    pub fn floor_ms(config: &InactivityConfig) -> i64 {
        match &config.learned {
            None => duration_ms(config.after),
            // The same as the smaller in milliseconds, one conversion fewer.
            Some(l) => duration_ms(l.min.min(config.after)),
        }
    }

    /// `the fixed limit is 12 h`
    pub fn explain(&self) -> String {
        self.explain_in(Language::En)
    }

    /// Why the limit is what it is, as the tail of a sentence after the quiet
    /// stretch: `; the fixed limit is 12 h` or `. On a usual day …`.
    pub(super) fn evidence(&self, lang: Language, latest_ms: i64, offset: FixedOffset) -> String {
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
            (Language::En, Bound::Routine, Some(usual), _) => format!(
                ". This household often goes longer than {} without water ({}); on a usual {day_en} it goes at most {} without water from around {hour}{}.",
                text::duration(l.max),
                how_often_en(l.routine_rate),
                d(usual),
                if l.limit_ms < usual {
                    format!("; the limit is capped at {limit}")
                } else {
                    format!(", so the limit is {limit}")
                }
            ),
            (Language::ZhCn, Bound::Routine, Some(usual), _) => format!(
                "。该住户常超过{}不用水（{}），{day_zh}在{hour}前后最长约{}不用水，{}。",
                d(duration_ms(l.max)),
                how_often_zh(l.routine_rate),
                d(usual),
                if l.limit_ms < usual {
                    format!("报警阈值以{limit}为上限")
                } else {
                    format!("报警阈值为{limit}")
                }
            ),
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
