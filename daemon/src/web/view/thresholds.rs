//! A household's thresholds in words: one line per rule, the learned
//! inactivity limits grouped by the hours of the day they apply from.

use waterwatch_rules::rule::inactivity::{Bound, Limit};
use waterwatch_rules::{Detector, Language, MeterState, RuleSet};

use super::{DAY_MS, HOUR_MS};
use crate::web::{describe, i18n};

/// The household's thresholds in words, one line per rule (learned
/// inactivity limits grouped by the hours they apply from).
pub fn thresholds(
    rules: &RuleSet,
    household: &str,
    state: Option<&MeterState>,
    offset_s: i64,
    now_ms: i64,
    lang: Language,
) -> Vec<String> {
    let mut lines = Vec::new();
    for rule in rules.rules.iter().filter(|r| r.enabled) {
        match &rule.detector {
            Detector::Inactivity(config) => {
                let config = rules.inactivity_for(household, config);
                lines.extend(inactivity_lines(
                    &config, rules, state, offset_s, now_ms, lang,
                ));
            }
            // A learned flow rule past its learning: this household's limit.
            Detector::ContinuousFlow(config)
                if let Some(state) = state
                    && !state.baseline().learning(&rules.baseline)
                    && let Some(line) = state.flow(&rule.name).and_then(|flow| {
                        let limit = flow.limit(config, false);
                        describe::learned_run_in_words(rule, &limit, lang)
                    }) =>
            {
                lines.push(line);
            }
            _ => lines.extend(describe::rule_in_words(rule, lang)),
        }
    }
    lines
}

/// The learned inactivity limit for stretches starting at each hour of the
/// household's day, as runs of hours said the same way, each with why.
fn inactivity_lines(
    config: &waterwatch_rules::rule::inactivity::InactivityConfig,
    rules: &RuleSet,
    state: Option<&MeterState>,
    offset_s: i64,
    now_ms: i64,
    lang: Language,
) -> Vec<String> {
    let Some(state) = state else {
        let after = Limit::for_rule(config);
        return vec![sentence(lang, &Said::after(after.ms()), 0, 24)];
    };
    let local_midnight = {
        let local = now_ms + offset_s * 1000;
        local - local.rem_euclid(DAY_MS) - offset_s * 1000
    };
    let hours: Vec<Said> = (0..24)
        .map(|h| {
            let limit = Limit::for_household(
                config,
                state.baseline(),
                &rules.baseline,
                local_midnight + h * HOUR_MS,
                offset_s as i32,
            );
            Said::of(&limit, h, lang)
        })
        .collect();
    group_hours(&hours)
        .into_iter()
        .map(|(from, to)| sentence(lang, &hours[from], from, to))
        .collect()
}

/// What the page says about stretches starting in one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Said {
    /// Alerts after this long without water (rounded for a reader), and
    /// why, when it is not simply the household's usual longest.
    After { limit_ms: i64, why: Option<String> },
    /// Alerts if there is still no water by this minute of the day: the
    /// morning check of a night stretch, or the end of a day out.
    By { minute: i64, day_out: bool },
}

impl Said {
    fn after(limit_ms: i64) -> Said {
        Said::After {
            limit_ms: readable(limit_ms),
            why: None,
        }
    }

    /// The limit for a stretch starting at `hour`, as the page says it.
    fn of(limit: &Limit, hour: i64, lang: Language) -> Said {
        let l = match limit {
            Limit::Learned(l) => l,
            Limit::Learning { days, needed, .. } => {
                return Said::After {
                    limit_ms: readable(limit.ms()),
                    why: Some(match lang {
                        Language::En => {
                            format!("still learning its rhythm: {days} of {needed} days")
                        }
                        Language::ZhCn => format!("仍在学习该户作息：已{days}天，共需{needed}天"),
                    }),
                };
            }
            Limit::Fixed(_) => return Said::after(limit.ms()),
        };
        let by = |day_out| Said::By {
            minute: (hour * 60 + l.limit_ms / 60_000).rem_euclid(24 * 60),
            day_out,
        };
        let because = |why: String| Said::After {
            limit_ms: readable(l.limit_ms),
            why: Some(why),
        };
        let max = waterwatch_rules::text::duration_in(lang, l.max);
        match (l.bound, lang) {
            (Bound::Morning, _) => by(false),
            // A day out capped at `max` is a limit like any other.
            (Bound::DayOut, _) if l.limit_ms < describe::ms(l.max) => by(true),
            (Bound::DayOut, Language::En) => because("a whole day out is normal then".into()),
            (Bound::DayOut, Language::ZhCn) => because("此时段整天外出属正常".into()),
            (Bound::Routine, Language::En) => because(format!(
                "it often goes longer than {max} without water, {}",
                l.how_often(lang).unwrap_or_default()
            )),
            (Bound::Routine, Language::ZhCn) => because(format!(
                "该住户常超过{max}不用水，{}",
                l.how_often(lang).unwrap_or_default()
            )),
            (Bound::NoHistory, Language::En) => {
                because("too little history from then, so the maximum".into())
            }
            (Bound::NoHistory, Language::ZhCn) => because("此时段历史数据不足，采用上限".into()),
            (Bound::Ceiling, Language::En) => {
                because("the maximum; on a usual day it may go longer from then".into())
            }
            (Bound::Ceiling, Language::ZhCn) => {
                because("上限；该户此时段平时可能更久不用水".into())
            }
            (Bound::Usual | Bound::Floor, _) => Said::after(l.limit_ms),
        }
    }
}

/// A limit rounded as a reader needs it: 10 minutes under 2 h, else 30.
fn readable(ms: i64) -> i64 {
    let step = if ms < 2 * HOUR_MS { 600_000 } else { 1_800_000 };
    (ms + step / 2) / step * step
}

/// Consecutive hours of the day said the same way, as `(from, to)` hours.
fn group_hours(hours: &[Said]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut from = 0;
    while from < hours.len() {
        let to = from
            + 1
            + hours[from + 1..]
                .iter()
                .take_while(|s| **s == hours[from])
                .count();
        runs.push((from, to));
        from = to;
    }
    runs
}

fn sentence(lang: Language, said: &Said, from_h: usize, to_h: usize) -> String {
    let whole_day = from_h == 0 && to_h == 24;
    match (said, lang) {
        (Said::After { limit_ms, why }, Language::En) => {
            let d = i18n::duration(lang, *limit_ms);
            let why = why.as_ref().map(|w| format!(" ({w})")).unwrap_or_default();
            if whole_day {
                format!("Alerts after {d} without water, at any time of day{why}.")
            } else {
                format!(
                    "{from_h:02}:00–{to_h:02}:00: alerts after {d} without water from then{why}."
                )
            }
        }
        (Said::After { limit_ms, why }, Language::ZhCn) => {
            let d = i18n::duration(lang, *limit_ms);
            let why = why.as_ref().map(|w| format!("（{w}）")).unwrap_or_default();
            if whole_day {
                format!("任何时段连续{d}不用水即报警{why}。")
            } else {
                format!("{from_h:02}:00–{to_h:02}:00开始：连续{d}不用水即报警{why}。")
            }
        }
        (Said::By { minute, day_out }, _) => {
            let at = format!("{:02}:{:02}", minute / 60, minute % 60);
            match (lang, day_out) {
                (Language::En, false) => format!(
                    "{from_h:02}:00–{to_h:02}:00 (night): alerts if there is still no water by {at}."
                ),
                (Language::En, true) => format!(
                    "{from_h:02}:00–{to_h:02}:00 (its morning): alerts if there is still no water by {at}; a whole day out is normal."
                ),
                (Language::ZhCn, false) => {
                    format!("{from_h:02}:00–{to_h:02}:00（夜间）：到{at}仍未用水即报警。")
                }
                (Language::ZhCn, true) => format!(
                    "{from_h:02}:00–{to_h:02}:00（上午）：到{at}仍未用水即报警，整天外出属正常。"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration};
    use waterwatch_rules::{Engine, Reading};

    use super::*;

    #[test]
    fn hours_said_the_same_way_are_one_line() {
        let hour = HOUR_MS;
        let night = Said::By {
            minute: 8 * 60,
            day_out: false,
        };
        let mut hours = vec![night; 6];
        hours.extend(std::iter::repeat_n(Said::after(3 * hour), 16));
        hours.extend(std::iter::repeat_n(Said::after(10 * hour), 2));
        assert_eq!(group_hours(&hours), [(0, 6), (6, 22), (22, 24)]);
        assert_eq!(readable(3 * hour + 14 * 60_000), 3 * hour);
        assert_eq!(readable(3 * hour + 16 * 60_000), 3 * hour + 30 * 60_000);
        assert_eq!(readable(47 * 60_000), 50 * 60_000);
        assert_eq!(
            sentence(
                Language::En,
                &Said::By {
                    minute: 8 * 60 + 20,
                    day_out: false
                },
                0,
                6
            ),
            "00:00–06:00 (night): alerts if there is still no water by 08:20."
        );
        assert_eq!(
            sentence(Language::En, &Said::after(12 * hour), 0, 24),
            "Alerts after 12 h without water, at any time of day."
        );
    }

    const START_MS: i64 = 1_793_491_200_000; // 2026-11-01 00:00 UTC

    /// `days` of a household on the shipped rules (UTC): up at 07:00,
    /// water every half hour until 22:00; out from 09:00 to 15:00 every
    /// third day; and, when `away_weekly`, one night a week away (no
    /// water from 20:00 until 13:00). Readings every 15 minutes.
    fn household(days: i64, away_weekly: bool) -> MeterState {
        let mut engine = Engine::new(RuleSet::default_rules());
        let mut total = 0.0;
        for q in 0..days * 96 {
            let ts = START_MS + q * 15 * 60_000;
            let (day, minute) = (q / 96, q % 96 * 15);
            let up = (7 * 60..22 * 60).contains(&minute);
            let out = day % 3 == 1 && (9 * 60..15 * 60).contains(&minute);
            let away = away_weekly
                && ((day % 7 == 5 && minute >= 20 * 60) || (day % 7 == 6 && minute < 13 * 60));
            if up && !out && !away && minute % 30 == 0 {
                total += 5.0;
            }
            let reading = Reading {
                meter_id: "m1".into(),
                ts: DateTime::from_timestamp_millis(ts).unwrap().fixed_offset(),
                total_l: total,
                flow_lpm: None,
                battery_pct: None,
                rssi_dbm: None,
                status: Vec::new(),
            };
            engine.observe(&reading, reading.ts + Duration::seconds(5));
        }
        engine.meter_state("m1").unwrap()
    }

    fn all_lines(state: &MeterState, lang: Language) -> Vec<String> {
        let now = START_MS + 21 * DAY_MS;
        thresholds(&RuleSet::default_rules(), "h1", Some(state), 0, now, lang)
    }

    /// The inactivity lines.
    fn lines(state: &MeterState, lang: Language) -> Vec<String> {
        all_lines(state, lang)
            .into_iter()
            .filter(|l| {
                l.starts_with(|c: char| c.is_ascii_digit())
                    || l.starts_with("Alerts after")
                    || l.starts_with("任何时段")
            })
            .collect()
    }

    #[test]
    fn a_learned_flow_rule_says_this_households_limit_once_learned() {
        let learned = all_lines(&household(21, false), Language::En).join("\n");
        assert!(
            learned.contains("Water running (tap_running): alerts after 45 min of water running without a break (this household's runs usually last at most "),
            "{learned}"
        );
        let zh = all_lines(&household(21, false), Language::ZhCn).join("\n");
        assert!(
            zh.contains("（tap_running）：连续用水45分钟不停即报警（该户连续用水通常不超过"),
            "{zh}"
        );
        // While learning, the rule in general.
        let learning = all_lines(&household(5, false), Language::En).join("\n");
        assert!(
            learning.contains("Water running (tap_running): alerts when water runs without a break for longer than this household's usual longest runs × 1.5 (at least 45 min, at most 2 h, or 4 h if its runs are often longer; 2 h while it is being learned)."),
            "{learning}"
        );
    }

    #[test]
    fn the_page_says_why_a_limit_is_a_night_a_day_out_or_a_routine() {
        let home = lines(&household(21, false), Language::En);
        let said = home.join("\n");
        assert!(
            said.contains("(night): alerts if there is still no water by"),
            "{said}"
        );
        assert!(
            said.contains("10:00–11:00 (its morning): alerts if there is still no water by 21:00; a whole day out is normal."),
            "{said}"
        );
        assert!(
            said.contains(
                "alerts after 12 h without water from then (a whole day out is normal then)."
            ),
            "{said}"
        );
        // The morning's day-out deadline is not called a night.
        assert!(
            !home
                .iter()
                .any(|l| l.contains("(night)") && l.contains("21:00")),
            "{said}"
        );
        assert!(
            said.contains("19:00–23:00: alerts after 12 h without water from then (the maximum; on a usual day it may go longer from then)."),
            "{said}"
        );
        assert!(!said.contains("often goes longer"), "{said}");

        // While learning, the fixed limit, and why (the fifth day counts
        // once it is over).
        let said = lines(&household(5, false), Language::En).join("\n");
        assert!(said.contains("Alerts after 12 h without water, at any time of day (still learning its rhythm: 4 of 14 days)."), "{said}");

        let away = lines(&household(21, true), Language::En).join("\n");
        assert!(
            away.contains("17:00–21:00: alerts after 20 h without water from then (it often goes longer than 12 h without water, about once every 6 days)."),
            "{away}"
        );
        let zh = lines(&household(21, true), Language::ZhCn).join("\n");
        assert!(zh.contains("该住户常超过12小时不用水，约每6天一次"), "{zh}");
    }
}
