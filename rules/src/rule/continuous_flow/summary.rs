//! The continuous_flow alert's text: what ran, for how long, and why that
//! is too long for this household, in its language.

use chrono::FixedOffset;

use super::{ContinuousFlow, ContinuousFlowConfig};
use crate::rule::{Verdict, duration_ms};
use crate::text::{self, Language};

impl ContinuousFlow {
    /// The alert text for `verdict`, times in `offset`; `step_ms` is the
    /// meter's reading interval: a meter reading less often than `window`
    /// shows only that some water was used between readings, and the text
    /// says so.
    pub fn summary(
        &self,
        config: &ContinuousFlowConfig,
        learning: bool,
        verdict: Verdict,
        step_ms: Option<i64>,
        offset: FixedOffset,
        lang: Language,
    ) -> String {
        let (Some(quiet_from), Some(latest)) = (self.quiet_from, self.latest) else {
            return "No readings yet.".to_owned();
        };
        let zh = lang == Language::ZhCn;
        let at = |ms| text::clock_in(lang, ms, latest, offset);
        let span = |ms| text::duration_ms_in(lang, ms);
        let limit = self.limit(config, learning);
        let (usual, limit_text) = (limit.usual_ms.map(span), span(limit.ms));
        let why = match (usual, &config.learned, zh) {
            (Some(usual), _, false) => format!(
                "; this household's runs usually last at most {usual}, so the limit is {limit_text}"
            ),
            (Some(usual), _, true) => {
                format!("；该户连续用水通常不超过{usual}，报警阈值为{limit_text}")
            }
            (None, Some(_), false) if learning => format!(
                "; still learning this household's runs, so the fixed limit of {limit_text} applies"
            ),
            (None, Some(_), true) if learning => {
                format!("；仍在学习该户的用水习惯，采用固定阈值{limit_text}")
            }
            (_, _, false) => format!("; the limit is {limit_text}"),
            (_, _, true) => format!("；报警阈值为{limit_text}"),
        };
        let rate = match self.run_rate(limit.ms) {
            Some(rate) if config.min_rate_lpm > 0.0 && zh => {
                format!("，平均{}", text::rate_in(lang, rate))
            }
            Some(rate) if config.min_rate_lpm > 0.0 => {
                format!(", {} on average", text::rate(rate))
            }
            _ => String::new(),
        };
        let window = text::duration_in(lang, config.window);
        if let (Verdict::Firing, Some((since, readings, now))) =
            (verdict, self.flowing_since(config))
        {
            let (since, long, now) = (at(since), span(latest - since), text::rate_in(lang, now));
            return if zh {
                format!(
                    "自{since}起每次读数水表都报告有水流（{long}，连续{readings}次，当前{now}）；人用水时断时续，可能是马桶漏水、水龙头未关或漏水。"
                )
            } else {
                format!(
                    "Water flowing at every reading since {since} ({long}, {readings} readings, {now} now); a person's use comes and goes, so water is running somewhere: a toilet, a tap left on or a leak."
                )
            };
        }
        if let (Verdict::Firing, Some((since, rate))) = (verdict, self.steady_since(config)) {
            let (since, long, rate) = (
                at(since),
                span(quiet_from - since),
                text::rate_in(lang, rate),
            );
            return if zh {
                format!("自{since}起持续稳定用水，约{rate}（{long}），像是马桶漏水或水龙头未关紧。")
            } else {
                format!(
                    "Water has flowed steadily at about {rate} since {since} ({long}), like a running toilet or a dripping tap."
                )
            };
        }
        // Readings further apart than the window (by more than a tenth):
        // each shows only that water was used since the one before.
        let window_ms = duration_ms(config.window);
        let readings = step_ms
            .filter(|&step| step > window_ms + window_ms / 10)
            .map(|step| span(text::interval_ms(step)));
        match (verdict, self.run_from, zh) {
            (Verdict::Firing, Some(run_from), _) => {
                let (since, long) = (at(run_from), span(quiet_from - run_from));
                match (readings, zh) {
                    (None, false) => {
                        format!("Water used in every {window} since {since} ({long}{rate}){why}.")
                    }
                    (Some(every), false) => format!(
                        "Water used in every reading since {since} (one every {every}; {long}{rate}){why}."
                    ),
                    (None, true) => format!("自{since}起每{window}都在用水（{long}{rate}）{why}。"),
                    (Some(every), true) => format!(
                        "自{since}起每次读数都有用水（约每{every}一次读数；{long}{rate}）{why}。"
                    ),
                }
            }
            (_, _, false) => format!(
                "No water used since {} ({}); the flow has stopped.",
                at(quiet_from),
                span(latest - quiet_from)
            ),
            (_, _, true) => format!(
                "自{}起未用水（{}），水流已停止。",
                at(quiet_from),
                span(latest - quiet_from)
            ),
        }
    }
}
