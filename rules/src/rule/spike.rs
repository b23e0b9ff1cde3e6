//! `kind = "spike"`: a flow rate no household use reaches (a burst pipe).
//!
//! The rate is measured over the trailing `window` ending at the newest
//! reading, each interval's use spread evenly over it; an interval longer than
//! the window is measured on its own. So a large delta after a data gap is
//! spread over the gap (a low rate) and is not a spike. Resolves as soon as the
//! rate falls below the limit.
//!
//! A `learned` rule also learns the household's busiest `window` of each
//! day (the highest trailing rate measured that day, learned when the day
//! closes, so an incident never raises the limit it is judged by on the day)
//! and, once the household is past its learning period, fires at the rate
//! its busiest window stays under on all but `1 - quantile` of days (a rare
//! day with a burst or visitors does not move it) times `margin`, within
//! `[min_rate_lpm, max_rate_lpm]`; until then `rate_lpm` applies. A physical
//! burst-pipe rule stays a plain (fixed) spike rule beside it.
//!
//! A rule with `reported_flow` also fires at a reading whose reported flow
//! (`flow_lpm`) is at or above `rate_lpm`, when the interval before it (for
//! a meter reading more often, the last half minute) used at least half a
//! minute of that flow (less the register's litre): a burst
//! that began a minute before a reading shows a few dozen litres, which by
//! volume alone is a bath, but the meter sees the pipe running at 40 L/min.
//! One odd sample with no water behind it, or a meter reporting in the wrong
//! unit (its flow far above what the register shows, or above any pipe),
//! does not fire. It resolves, like the volume check, at the first reading
//! whose flow and trailing rate are both below the limit.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use super::histogram::{Histogram, Scale};
use super::{EPSILON_L, MINUTE_MS, Verdict, believed, duration_ms};
use crate::text::{self, Language};

/// The typed `[[rule]]` parameters of a `spike` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeConfig {
    /// Fire when the rate over the trailing window reaches this (L/min).
    pub rate_lpm: f64,
    /// The trailing window the rate is averaged over.
    pub window: Duration,
    /// Limit the rate by the household's own busiest windows once known.
    pub learned: Option<LearnedRate>,
    /// Also fire at a reading whose reported flow reaches `rate_lpm`.
    pub reported_flow: bool,
}

/// How a learned spike rule turns the household's busiest windows into a limit.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnedRate {
    /// Which share of days' busiest windows counts as usual (e.g. 0.95).
    pub quantile: f64,
    /// The usual busiest rate is multiplied by this.
    pub margin: f64,
    /// The limit is never lower than this (L/min).
    pub min_rate_lpm: f64,
    /// The limit is never higher than this (L/min).
    pub max_rate_lpm: f64,
}

/// Busiest-window rates, 0.05 to 51 L/min, three buckets per doubling.
const RATES: Scale = Scale {
    lowest: 0.05,
    per_doubling: 3.0,
    buckets: 30,
};

/// The rate limit a window is held to, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub lpm: f64,
    /// The household's usual busiest rate, when learned.
    pub usual_lpm: Option<f64>,
}

/// At most this many intervals are kept; older ones are merged.
///
// Design: with 10-second readings a 10-minute window would hold 60 intervals;
// merging the oldest keeps the state small at the cost of a slightly smoothed
// edge of the window.
const MAX_PIECES: usize = 16;

/// A reported flow is believed when the register shows this much of it
/// (less a litre) behind the reading: half a minute.
const CONFIRM_MS: i64 = 30_000;

/// One usage interval with use: `(start, end, litres)`, milliseconds since the epoch.
type Piece = (i64, i64, f64);

/// Per-(meter, rule) state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spike {
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    pieces: VecDeque<Piece>,
    /// The latest measurement: `(rate in L/min, measured over ms, up to ms)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    latest: Option<(f64, i64, i64)>,
    /// Learned rules: today's highest trailing rate so far.
    #[serde(default, skip_serializing_if = "is_zero")]
    day_peak: f64,
    /// Learned rules: the household's busiest rate per day.
    #[serde(default, skip_serializing_if = "is_empty")]
    rates: Histogram,
    /// `reported_flow` rules: the newest reading reported a flow at or above
    /// `rate_lpm`, confirmed by its interval: `(flow L/min, litres since the
    /// reading before, that reading's ms)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    surge: Option<(f64, f64, i64)>,
}

fn is_empty(h: &Histogram) -> bool {
    h.is_empty()
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl Spike {
    /// A usage interval from the normaliser.
    #[inline]
    pub fn usage(&mut self, start: i64, end: i64, litres: f64, config: &SpikeConfig) {
        let window = duration_ms(config.window).max(1);
        if litres > EPSILON_L {
            self.pieces.push_back((start, end, litres));
        }
        // The pieces cover the window, and half a minute for `reported_flow`.
        let kept = window.max(CONFIRM_MS);
        while self
            .pieces
            .front()
            .is_some_and(|&(_, e, _)| e <= end - kept)
        {
            self.pieces.pop_front();
        }
        while self.pieces.len() > MAX_PIECES {
            if let (Some((s, _, a)), Some((_, e, b))) =
                (self.pieces.pop_front(), self.pieces.pop_front())
            {
                self.pieces.push_front((s, e, a + b));
            }
        }
        let span = end - start;
        let latest = if span >= window {
            (litres / (span as f64 / MINUTE_MS), span, end)
        } else {
            (
                self.litres_between(end - window, end) / (window as f64 / MINUTE_MS),
                window,
                end,
            )
        };
        self.latest = Some(latest);
        if let Some(l) = &config.learned {
            self.day_peak = self.day_peak.max(latest.0);
            self.rates.refresh(&RATES, l.quantile);
        }
    }

    /// The flow the meter reported with the reading that ended the interval
    /// just given to [`Spike::usage`] (`reported_flow` rules only).
    pub fn reported_flow(
        &mut self,
        start: i64,
        end: i64,
        litres: f64,
        flow_lpm: Option<f64>,
        config: &SpikeConfig,
    ) {
        if !config.reported_flow {
            return;
        }
        // Design: half a minute of the reported flow, less the register's
        // litre: a burst that began a minute before the reading passes; a
        // sample with little water behind it, or a flow 60 times too high
        // (L/h sent as L/min) over a quarter hour of steady use, does not.
        // A meter reading more often than that is judged on the litres of
        // its last half minute, so it fires within half a minute.
        let (behind, from) = if end - start >= CONFIRM_MS {
            (litres, start)
        } else {
            let from = end - CONFIRM_MS;
            (self.litres_between(from, end), from)
        };
        self.surge = believed(flow_lpm)
            .filter(|&flow| flow >= config.rate_lpm && behind >= 0.5 * flow - 1.0)
            .filter(|_| end > start)
            .map(|flow| (flow, behind, from));
    }

    /// What a replacement meter in the same home takes over from `from`:
    /// the household's busiest rates per day (learned rules).
    pub fn inherit(&mut self, from: &Spike) {
        self.rates = from.rates.clone();
    }

    /// Closes a day with use: the learned rates fade by `keep` and the
    /// day's busiest window is learned, unless the rule is still `firing`
    /// (a tap left open over midnight is not the household's busiest hour).
    pub fn close_day(&mut self, keep: f64, firing: bool) {
        if self.day_peak > EPSILON_L || !is_empty(&self.rates) {
            self.rates.close_day(keep);
            if !firing {
                self.rates.add(&RATES, self.day_peak);
            }
            self.day_peak = 0.0;
        }
    }

    /// The limit for this household: `rate_lpm` while `learning` or for a
    /// fixed rule, else its usual busiest rate times the margin, within bounds.
    pub fn limit(&self, config: &SpikeConfig, learning: bool) -> RateLimit {
        let Some(l) = config.learned.as_ref().filter(|_| !learning) else {
            return RateLimit {
                lpm: config.rate_lpm,
                usual_lpm: None,
            };
        };
        match self.rates.usual_max(&RATES, l.quantile) {
            Some(usual) => RateLimit {
                lpm: (usual * l.margin).clamp(l.min_rate_lpm, l.max_rate_lpm),
                usual_lpm: Some(usual),
            },
            None => RateLimit {
                lpm: l.max_rate_lpm,
                usual_lpm: None,
            },
        }
    }

    /// The latest measured rate, L/min.
    pub fn rate_lpm(&self) -> Option<f64> {
        self.latest.map(|(rate, _, _)| rate)
    }

    pub fn verdict(&self, config: &SpikeConfig, learning: bool) -> Verdict {
        if self.surge.is_some() {
            return Verdict::Firing;
        }
        let Some(rate) = self.rate_lpm() else {
            return Verdict::Unchanged;
        };
        // Design: most rates are below any limit; the learned one is worked
        // out only for those that are not.
        let floor = config
            .learned
            .as_ref()
            .map_or(config.rate_lpm, |l| l.min_rate_lpm.min(config.rate_lpm));
        if rate >= floor && rate >= self.limit(config, learning).lpm {
            Verdict::Firing
        } else {
            Verdict::Clear
        }
    }

    /// The alert text for `verdict` in `lang`, times in `offset`.
    pub fn summary(
        &self,
        config: &SpikeConfig,
        learning: bool,
        verdict: Verdict,
        offset: FixedOffset,
        lang: Language,
    ) -> String {
        let Some((rate, over, until)) = self.latest else {
            return "No readings yet.".to_owned();
        };
        let zh = lang == Language::ZhCn;
        if let (Verdict::Firing, Some((flow, litres, from))) = (verdict, self.surge) {
            // A meter reading every few seconds was judged on its last half
            // minute: "since" the same clock minute would say nothing.
            let within = (until - from < 60_000).then(|| text::duration_ms_in(lang, until - from));
            let (flow, at, from, limit) = (
                text::rate_in(lang, flow),
                text::clock_in(lang, until, until, offset),
                text::clock_in(lang, from, until, offset),
                text::rate_in(lang, config.rate_lpm),
            );
            let litres = litres.round();
            let behind = match (&within, zh) {
                (Some(within), false) => format!("{litres} L in the last {within}"),
                (Some(within), true) => format!("最近{within}用水{litres}升"),
                (None, false) => format!("{litres} L since {from}"),
                (None, true) => format!("自{from}起已用水{litres}升"),
            };
            return if zh {
                format!("水表报告{at}水流为{flow}（{behind}）；报警阈值为{limit}，像是水管爆裂。")
            } else {
                format!(
                    "The meter reports {flow} flowing at {at} ({behind}); the limit is {limit}, like a burst pipe."
                )
            };
        }
        let (rate, over, at) = (
            text::rate_in(lang, rate),
            text::duration_ms_in(lang, over),
            text::clock_in(lang, until, until, offset),
        );
        let limit = self.limit(config, learning);
        let (usual, limit_text) = (
            limit.usual_lpm.map(|u| text::rate_in(lang, u)),
            text::rate_in(lang, limit.lpm),
        );
        let window = text::duration_in(lang, config.window);
        let why = match (usual, &config.learned, zh) {
            (Some(usual), _, false) => format!(
                "; this household's busiest {window} is usually at most {usual}, so the limit is {limit_text}"
            ),
            (Some(usual), _, true) => {
                format!("；该户最忙的{window}通常不超过{usual}，报警阈值为{limit_text}")
            }
            (None, Some(_), false) if learning => format!(
                "; still learning this household's use, so the fixed limit of {limit_text} applies"
            ),
            (None, Some(_), true) if learning => {
                format!("；仍在学习该户的用水量，采用固定阈值{limit_text}")
            }
            (_, _, false) => format!("; the limit is {limit_text}"),
            (_, _, true) => format!("；报警阈值为{limit_text}"),
        };
        match (verdict, zh) {
            (Verdict::Firing, false) => {
                format!("Water flowing at {rate} over the {over} up to {at}{why}.")
            }
            (Verdict::Firing, true) => format!("截至{at}的{over}内水流为{rate}{why}。"),
            (_, false) => format!("Flow down to {rate} over the {over} up to {at}."),
            (_, true) => format!("截至{at}的{over}内水流已降至{rate}。"),
        }
    }

    fn litres_between(&self, from: i64, until: i64) -> f64 {
        self.pieces
            .iter()
            .map(|&(s, e, litres)| {
                if e <= s {
                    return if (from..=until).contains(&e) {
                        litres
                    } else {
                        0.0
                    };
                }
                let overlap = (e.min(until) - s.max(from)).max(0);
                litres * overlap as f64 / (e - s) as f64
            })
            .sum()
    }
}

#[cfg(test)]
mod tests;
