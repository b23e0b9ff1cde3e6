//! `kind = "meter_offline"`: no data from the meter past its usual reporting
//! interval plus `after`. Evaluated on the engine's `tick(now)`, resolved by the
//! next arrival. This, never `inactivity`, is what a silent meter raises.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::FixedOffset;
use serde::{Deserialize, Serialize};

use super::{Verdict, duration_ms};
use crate::text;

/// The typed `[[rule]]` parameters of a `meter_offline` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterOfflineConfig {
    /// How long past its usual reporting interval a meter may stay silent.
    pub after: Duration,
}

/// How many recent gaps the expected reporting interval is the median of.
const GAPS_KEPT: usize = 8;

/// Arrivals closer than this are one upload: a gateway that sends a day of
/// stored readings as separate messages is heard over a few milliseconds,
/// not every few milliseconds. (The fastest meters report every 8 s.)
const ONE_UPLOAD_MS: i64 = 5_000;

/// Per-meter arrival facts (shared by all meter_offline rules).
/// Times are the `now` of each arrival, milliseconds since the Unix epoch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeterOffline {
    /// When the meter's last reading was observed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last: Option<i64>,
    /// The latest gaps between arrivals, oldest first.
    ///
    // Design: readings arriving at the same instant (a batch) are one arrival,
    // so a meter uploading a day of hourly readings at once is expected daily.
    #[serde(default, skip_serializing_if = "VecDeque::is_empty")]
    gaps: VecDeque<i64>,
    /// Until a gap is known: how far back the readings of the meter's first
    /// upload reach, at most a day. A meter that uploads a day of stored
    /// hourly readings at once is expected again about a day later, not
    /// "offline" three hours after it was installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_upload_ms: Option<i64>,
    /// Whether a reading that did not move the register was ever seen: a
    /// meter that reports on a clock sends them whenever no water runs.
    #[serde(default, skip_serializing_if = "is_false")]
    still_seen: bool,
    /// Until then, how many readings moved it (at most [`ON_CHANGE_READINGS`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    moved: u32,
    /// Never heard from, but expected since `last`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    awaited: Option<Awaited>,
}

/// Why a meter never heard from is expected all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Awaited {
    /// It is listed for a household (a meter id mistyped in the
    /// configuration, or one never connected, is silent from the start).
    Listed,
    /// It replaced another meter.
    Replacement,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Readings in a row, every one moving the register, after which a meter
/// that falls silent is said to report perhaps only on change.
pub const ON_CHANGE_READINGS: u32 = 24;

/// The most a first upload's readings say about the next upload: a day
/// (meters that store readings upload every 6-24 h).
const FIRST_UPLOAD_MAX_MS: i64 = 24 * 3_600_000;

impl MeterOffline {
    /// A reading stamped `reading_ms` was observed at `now_ms`.
    #[inline]
    pub fn arrival(&mut self, now_ms: i64, reading_ms: i64) {
        if let Some(last) = self.last
            && now_ms - last >= ONE_UPLOAD_MS
        {
            if self.awaited.is_some() {
                return self.heard_first(now_ms, reading_ms);
            }
            self.gaps.push_back(now_ms - last);
            while self.gaps.len() > GAPS_KEPT {
                self.gaps.pop_front();
            }
            self.first_upload_ms = None;
        }
        self.last = Some(self.last.map_or(now_ms, |l| l.max(now_ms)));
        if self.gaps.is_empty() {
            self.first_upload(now_ms - reading_ms);
        }
    }

    /// This meter, never heard from, is expected from `since_ms` on (as
    /// often as `like`, the meter it replaced, reported; else within
    /// `after`): one that never comes online is reported as offline like
    /// any silent meter. Nothing changes for a meter heard from.
    pub fn await_first(&mut self, since_ms: i64, why: Awaited, like: Option<&MeterOffline>) {
        if self.last.is_some() {
            return;
        }
        self.last = Some(since_ms);
        self.first_upload_ms = like.map(MeterOffline::expected_gap_ms).filter(|&ms| ms > 0);
        self.awaited = Some(why);
    }

    /// The first reading of a meter that was awaited: the wait was no gap
    /// between its readings (a replacement's expected interval, its old
    /// meter's, stays until a gap is seen).
    #[cold]
    fn heard_first(&mut self, now_ms: i64, reading_ms: i64) {
        self.awaited = None;
        self.last = Some(now_ms);
        if self.gaps.is_empty() {
            self.first_upload(now_ms - reading_ms);
        }
    }

    /// A reading after the first: whether it moved the register. A source
    /// that publishes only when the value changes (Home Assistant's
    /// statestream) never sends one that does not, and its silence is
    /// then no use as often as no data: the alert says so.
    #[inline]
    pub fn register(&mut self, moved: bool) {
        if !self.still_seen {
            self.note_register(moved);
        }
    }

    #[cold]
    fn note_register(&mut self, moved: bool) {
        if moved {
            self.moved = (self.moved + 1).min(ON_CHANGE_READINGS);
        } else {
            self.still_seen = true;
            self.moved = 0;
        }
    }

    /// Whether every reading so far (and enough of them) moved the register.
    fn reports_on_change(&self) -> bool {
        !self.still_seen && self.moved >= ON_CHANGE_READINGS
    }

    /// Before any gap: the first upload reaches `reach_ms` back.
    #[cold]
    fn first_upload(&mut self, reach_ms: i64) {
        let reach = reach_ms.clamp(0, FIRST_UPLOAD_MAX_MS);
        self.first_upload_ms =
            Some(self.first_upload_ms.unwrap_or(0).max(reach)).filter(|&ms| ms > 0);
    }

    /// The meter's usual reporting interval: the median of its recent gaps;
    /// before any, how far back its first upload reached (0 for a meter
    /// heard live).
    pub fn expected_gap_ms(&self) -> i64 {
        if self.gaps.is_empty() {
            return self.first_upload_ms.unwrap_or(0);
        }
        let mut gaps = self.gaps.iter().copied().collect::<Vec<_>>();
        gaps.sort_unstable();
        gaps.get(gaps.len() / 2).copied().unwrap_or(0)
    }

    /// The usual interval as the alert says it ([`text::interval_ms`]).
    fn usual_every_ms(&self) -> i64 {
        text::interval_ms(self.expected_gap_ms())
    }

    pub fn verdict(&self, now_ms: i64, config: &MeterOfflineConfig) -> Verdict {
        let after = duration_ms(config.after);
        match self.last {
            None => Verdict::Unchanged,
            // The usual interval is never negative: the common case needs no median.
            Some(last) if now_ms - last <= after => Verdict::Clear,
            Some(last) if now_ms - last > self.expected_gap_ms() + after => Verdict::Firing,
            Some(_) => Verdict::Clear,
        }
    }

    /// The alert text for `verdict` in `lang`, times in `offset`.
    pub fn summary(
        &self,
        now_ms: i64,
        config: &MeterOfflineConfig,
        verdict: Verdict,
        offset: FixedOffset,
        lang: text::Language,
    ) -> String {
        self.summary_for(now_ms, config, verdict, offset, lang, false)
    }

    /// [`MeterOffline::summary`] for a meter whose household has other
    /// meters (`others`): they still watch over the resident, so the
    /// resident is not said to be unmonitored.
    pub fn summary_for(
        &self,
        now_ms: i64,
        config: &MeterOfflineConfig,
        verdict: Verdict,
        offset: FixedOffset,
        lang: text::Language,
        others: bool,
    ) -> String {
        let zh = lang == text::Language::ZhCn;
        let duration = |ms| text::duration_ms_in(lang, ms);
        let Some(last) = self.last else {
            return if zh {
                "从未收到该水表的数据。"
            } else {
                "Never heard from this meter."
            }
            .to_owned();
        };
        if verdict != Verdict::Firing {
            let Some(&gap) = self.gaps.back() else {
                // Silent from the start (awaited): this is its first data.
                return if zh {
                    "已收到该水表的首批数据。"
                } else {
                    "First data from this meter."
                }
                .to_owned();
            };
            let silent = duration(gap);
            return if zh {
                format!("水表已恢复上报（中断{silent}）。")
            } else {
                format!("The meter is reporting again (silent for {silent}).")
            };
        }
        let (since, quiet, every, after) = (
            text::clock_in(lang, last, now_ms, offset),
            duration(now_ms - last),
            duration(self.usual_every_ms()),
            duration(super::duration_ms(config.after)),
        );
        if let Some(why) = self.awaited {
            return self.never_came_online(why, &since, &quiet, &every, &after, zh, others);
        }
        // What the limit went by: the meter's usual interval, its first
        // upload (before any gap is known), or `after` alone.
        let limit = match (self.gaps.is_empty(), self.expected_gap_ms() > 0, zh) {
            (false, _, false) => {
                format!("it usually reports every {every}, and the limit is {after} beyond that")
            }
            (false, _, true) => format!("平时每{every}上报一次，超出{after}即报警"),
            (true, true, false) => format!(
                "its first upload carried {every} of readings, and the limit is {after} beyond that"
            ),
            (true, true, true) => format!("首次上报包含{every}的读数，超出{after}即报警"),
            (true, false, false) => format!("the limit is {after}"),
            (true, false, true) => format!("超过{after}即报警"),
        };
        // A source that sends only changes is silent whenever no water
        // runs: ops must make it publish on a clock (README).
        let on_change = match (self.reports_on_change(), zh) {
            (false, _) => "",
            (true, false) => {
                " Every reading it sent moved the register: it may publish only when the value changes, so its silence cannot tell no use from no data; make it publish on a clock."
            }
            (true, true) => {
                "其上报的每个读数都有变化：它可能只在读数变化时上报，静默时无法区分未用水与无数据，请改为定时上报。"
            }
        };
        let ending = ending(others, zh);
        if zh {
            format!("水表自{since}起无数据（{quiet}）；{limit}。{on_change}{ending}")
        } else {
            format!("No data from the meter since {since} ({quiet}); {limit}.{on_change} {ending}")
        }
    }
}

impl MeterOffline {
    /// The alert of a meter expected since `since` that has never reported.
    #[cold]
    #[allow(clippy::too_many_arguments)]
    fn never_came_online(
        &self,
        why: Awaited,
        since: &str,
        quiet: &str,
        every: &str,
        after: &str,
        zh: bool,
        others: bool,
    ) -> String {
        let ending = ending(others, zh);
        if why == Awaited::Listed {
            return if zh {
                format!(
                    "自{since}起从未收到该水表的数据（{quiet}）：请检查配置中的水表编号及其连接。{ending}"
                )
            } else {
                format!(
                    "Never heard from this meter, expected since {since} ({quiet}): check its id in the configuration and its connection. {ending}"
                )
            };
        }
        match (self.expected_gap_ms() > 0, zh) {
            (true, false) => format!(
                "No data from this meter since it replaced the old one at {since} ({quiet}); the old one reported every {every}, and the limit is {after} beyond that. {ending}"
            ),
            (false, false) => format!(
                "No data from this meter since it replaced the old one at {since} ({quiet}); the limit is {after}. {ending}"
            ),
            (true, true) => format!(
                "该水表自{since}替换旧水表以来无数据（{quiet}）；旧水表平时每{every}上报一次，超出{after}即报警。{ending}"
            ),
            (false, true) => {
                format!(
                    "该水表自{since}替换旧水表以来无数据（{quiet}）；超过{after}即报警。{ending}"
                )
            }
        }
    }
}

/// Who still watches the resident while this meter is silent.
fn ending(others: bool, zh: bool) -> &'static str {
    match (others, zh) {
        (false, false) => "The resident is unmonitored.",
        (false, true) => "目前无法监测老人用水。",
        (true, false) => "The household's other meters are still watched.",
        (true, true) => "该户其他水表仍在监测。",
    }
}

#[cfg(test)]
mod tests;
