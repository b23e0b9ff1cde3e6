//! A household's thresholds in words: one line per rule, the learned
//! inactivity limits grouped by the hours of the day they apply from.

use waterwatch_rules::rule::inactivity::Limit;
use waterwatch_rules::{Detector, Language, MeterState, RuleSet};

use super::{DAY_MS, HOUR_MS};
use crate::web::i18n;

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
            _ => lines.extend(crate::web::describe::rule_in_words(rule, lang)),
        }
    }
    lines
}

/// The learned inactivity limit for stretches starting at each hour of the
/// household's day, as runs of hours with the same limit.
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
        return vec![sentence(lang, after.ms(), 0, 24)];
    };
    let local_midnight = {
        let local = now_ms + offset_s * 1000;
        local - local.rem_euclid(DAY_MS) - offset_s * 1000
    };
    let limits: Vec<i64> = (0..24)
        .map(|h| {
            let limit = Limit::for_household(
                config,
                state.baseline(),
                &rules.baseline,
                local_midnight + h * HOUR_MS,
                offset_s as i32,
            );
            readable(limit.ms())
        })
        .collect();
    group_hours(&limits)
        .into_iter()
        .map(|run| match run {
            Run::Limit { from, to, limit_ms } => sentence(lang, limit_ms, from, to),
            Run::Deadline { from, to, minute } => deadline_sentence(lang, minute, from, to),
        })
        .collect()
}

/// A limit rounded as a reader needs it: 10 minutes under 2 h, else 30.
fn readable(ms: i64) -> i64 {
    let step = if ms < 2 * HOUR_MS { 600_000 } else { 1_800_000 };
    (ms + step / 2) / step * step
}

/// Consecutive hours of the day that share one limit, or one deadline (the
/// morning check: a stretch starting an hour later may last an hour less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Run {
    Limit {
        from: usize,
        to: usize,
        limit_ms: i64,
    },
    Deadline {
        from: usize,
        to: usize,
        minute: i64,
    },
}

fn group_hours(limits: &[i64]) -> Vec<Run> {
    let deadline = |h: usize| (h as i64 * 60 + limits[h] / 60_000).rem_euclid(24 * 60);
    let mut runs = Vec::new();
    let mut from = 0;
    while from < limits.len() {
        let same_limit = (from + 1..limits.len())
            .take_while(|&h| limits[h] == limits[from])
            .count();
        let same_deadline = (from + 1..limits.len())
            .take_while(|&h| deadline(h) == deadline(from))
            .count();
        if same_deadline > same_limit {
            let to = from + 1 + same_deadline;
            runs.push(Run::Deadline {
                from,
                to,
                minute: deadline(from),
            });
            from = to;
        } else {
            let to = from + 1 + same_limit;
            runs.push(Run::Limit {
                from,
                to,
                limit_ms: limits[from],
            });
            from = to;
        }
    }
    runs
}

fn sentence(lang: Language, limit_ms: i64, from_h: usize, to_h: usize) -> String {
    let d = i18n::duration(lang, limit_ms);
    match (lang, from_h == 0 && to_h == 24) {
        (Language::En, true) => format!("Alerts after {d} without water, at any time of day."),
        (Language::En, false) => {
            format!("{from_h:02}:00–{to_h:02}:00: alerts after {d} without water from then.")
        }
        (Language::ZhCn, true) => format!("任何时段连续{d}不用水即报警。"),
        (Language::ZhCn, false) => {
            format!("{from_h:02}:00–{to_h:02}:00开始：连续{d}不用水即报警。")
        }
    }
}

fn deadline_sentence(lang: Language, minute: i64, from_h: usize, to_h: usize) -> String {
    let at = format!("{:02}:{:02}", minute / 60, minute % 60);
    match lang {
        Language::En => format!(
            "{from_h:02}:00–{to_h:02}:00 (night): alerts if there is still no water by {at}."
        ),
        Language::ZhCn => format!("{from_h:02}:00–{to_h:02}:00（夜间）：到{at}仍未用水即报警。"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_grouped_by_limit_or_by_morning_deadline() {
        let hour = HOUR_MS;
        // 00-06: the morning check (no water by 08:00); 06-22: 3 h; 22-24: 10 h.
        let mut limits: Vec<i64> = (0..6).map(|h| (8 - h) * hour).collect();
        limits.extend(std::iter::repeat_n(3 * hour, 16));
        limits.extend([10 * hour, 10 * hour]);
        let runs = group_hours(&limits);
        assert_eq!(
            runs,
            [
                Run::Deadline {
                    from: 0,
                    to: 6,
                    minute: 8 * 60
                },
                Run::Limit {
                    from: 6,
                    to: 22,
                    limit_ms: 3 * hour
                },
                Run::Limit {
                    from: 22,
                    to: 24,
                    limit_ms: 10 * hour
                },
            ]
        );
        assert_eq!(readable(3 * hour + 14 * 60_000), 3 * hour);
        assert_eq!(readable(3 * hour + 16 * 60_000), 3 * hour + 30 * 60_000);
        assert_eq!(readable(47 * 60_000), 50 * 60_000);
        assert_eq!(
            deadline_sentence(Language::En, 8 * 60 + 20, 0, 6),
            "00:00–06:00 (night): alerts if there is still no water by 08:20."
        );
    }
}
