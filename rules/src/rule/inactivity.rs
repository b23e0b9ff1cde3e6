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
//! [`Baseline`](crate::baseline::Baseline) (see `docs/detection.md`), with `after` as the fallback while
//! the household is still being learned.

use std::time::Duration;

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

pub mod background;

use super::{EPSILON_L, Verdict};
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
    /// A household that often goes longer than `max` without water (at
    /// least once every `routine_every`) is held to its own usual longest
    /// stretch from each time of day, up to this, instead of `max`. `None`:
    /// off (`max` is a hard cap).
    pub routine_max: Option<Duration>,
    /// How often stretches longer than `max` must come for `routine_max` to
    /// apply.
    pub routine_every: Duration,
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
    /// A person confirmed the resident fine at this time, after quiet began:
    /// the stretch since then must be too long as well before the alert
    /// fires. Cleared by the next use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fine: Option<i64>,
    /// Water was used on another meter of the household at this time
    /// (a hot-water meter beside the cold one), after quiet began here: as
    /// after `fine`, the stretch since then must be too long as well.
    /// Cleared by the next use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    elsewhere: Option<i64>,
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
            self.forget_fine();
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
        self.forget_fine();
        self.see(end_ms);
    }

    /// A person confirmed the resident fine at `at_ms` (the resident
    /// answered "I'm OK", or someone who checked closed the case): from then
    /// on a stretch alert fires only when the quiet since `at_ms` is too long
    /// as well, so it resolves now and can fire again if the quiet goes on.
    /// Returns whether anything changed (a confirmation before the quiet
    /// began, or before an earlier one, says nothing new).
    pub fn confirm_fine(&mut self, at_ms: i64) -> bool {
        let newer = self.since.is_some_and(|since| at_ms > since)
            && self.fine.is_none_or(|fine| at_ms > fine);
        if newer {
            self.fine = Some(at_ms);
        }
        newer
    }

    /// Water was used on another meter of the household, up to `at_ms`:
    /// like [`Inactivity::confirm_fine`], a stretch alert fires only when
    /// the quiet since then is too long as well. Returns whether anything
    /// changed.
    pub fn used_elsewhere(&mut self, at_ms: i64) -> bool {
        let newer = self.since.is_some_and(|since| at_ms > since)
            && self.elsewhere.is_none_or(|e| at_ms > e);
        if newer {
            self.elsewhere = Some(at_ms);
        }
        newer
    }

    /// The latest sign of life within this stretch that did not show on
    /// this meter: a confirmation or use on another of the household's
    /// meters.
    pub fn alive_ms(&self) -> Option<i64> {
        self.fine.max(self.elsewhere)
    }

    /// Use after the confirmation makes it old news.
    fn forget_fine(&mut self) {
        let old = |at: Option<i64>| at.zip(self.since).is_some_and(|(at, since)| since >= at);
        if old(self.fine) {
            self.fine = None;
        }
        if old(self.elsewhere) {
            self.elsewhere = None;
        }
    }
    fn see(&mut self, at_ms: i64) {
        self.latest = Some(self.latest.map_or(at_ms, |l| l.max(at_ms)));
    }

    /// The quiet stretch the readings prove, in milliseconds.
    pub fn quiet_ms(&self) -> Option<i64> {
        Some(self.latest? - self.since?)
    }

    /// The quiet the readings prove since `from_ms` (negative before it).
    pub fn quiet_since_ms(&self, from_ms: i64) -> Option<i64> {
        Some(self.latest? - from_ms)
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
    #[inline]
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
        if let Some(elsewhere) = self
            .elsewhere
            .filter(|&e| e > since && self.fine.is_none_or(|fine| e >= fine))
        {
            let still = text::duration_ms_in(lang, (latest - elsewhere).max(0));
            return match (lang, verdict) {
                (Language::En, Verdict::Firing) => format!(
                    "No water used since {} ({quiet}) on this meter, nor on the household's other meters since {} ({still}){}",
                    at(since),
                    at(elsewhere),
                    evidence()
                ),
                (Language::ZhCn, Verdict::Firing) => format!(
                    "本水表自{}起未用水（{quiet}），该户其他水表自{}起也未用水（{still}）{}",
                    at(since),
                    at(elsewhere),
                    evidence()
                ),
                (Language::En, _) => format!(
                    "Water used on another of the household's meters at {}; the quiet is watched again from then.",
                    at(elsewhere)
                ),
                (Language::ZhCn, _) => {
                    format!("该户另一水表于{}有用水；从此时起重新观察。", at(elsewhere))
                }
            };
        }
        if let Some(fine) = self.fine.filter(|&fine| fine > since) {
            let still = text::duration_ms_in(lang, (latest - fine).max(0));
            return match (lang, verdict) {
                (Language::En, Verdict::Firing) => format!(
                    "No water used since {} ({quiet}), nor since the resident was confirmed fine at {} ({still}){}",
                    at(since),
                    at(fine),
                    evidence()
                ),
                (Language::ZhCn, Verdict::Firing) => format!(
                    "自{}起未用水（{quiet}），自{}确认住户安好后也未用水（{still}）{}",
                    at(since),
                    at(fine),
                    evidence()
                ),
                (Language::En, _) => format!(
                    "The resident was confirmed fine at {}; the quiet is watched again from then.",
                    at(fine)
                ),
                (Language::ZhCn, _) => {
                    format!("已于{}确认住户安好；从此时起重新观察。", at(fine))
                }
            };
        }
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
            // A meter reading every few seconds shows both ends in one minute.
            (Language::En, _, Some(QuietSince::Use { from })) if at(from) == at(since) => {
                format!("Water used again at {}.", at(since))
            }
            (Language::ZhCn, _, Some(QuietSince::Use { from })) if at(from) == at(since) => {
                format!("{}重新用水。", at(since))
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

mod limit;
#[cfg(test)]
mod tests;

pub use limit::{Bound, Learned, Limit};
