//! A rule's configured limits in words, for a household's page ("Water
//! running: alerts after 2 h of use without a break…"). The inactivity
//! rule's learned limits by hour are worked out in `view`; this covers the
//! others from their config.

use waterwatch_rules::rule::continuous_flow::RunLimit;
use waterwatch_rules::text::duration_ms_in;
use waterwatch_rules::{Detector, Language, Rule};

use super::i18n;

/// A configured duration in milliseconds, saturating (a limit is never
/// anywhere near `i64::MAX` ms, but a typo in a rules file must not wrap).
pub(crate) fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A learned continuous_flow rule's limit for one household, with the
/// household's usual longest run (`limit.usual_ms`) that set it.
pub fn learned_run_in_words(rule: &Rule, limit: &RunLimit, lang: Language) -> Option<String> {
    let usual = limit.usual_ms?;
    let kind = i18n::kind(lang, rule.detector.kind().as_str());
    let (d, usual) = (duration_ms_in(lang, limit.ms), duration_ms_in(lang, usual));
    Some(match lang {
        Language::En => format!(
            "{kind} ({}): alerts after {d} of water running without a break (this household's runs usually last at most {usual}).",
            rule.name
        ),
        Language::ZhCn => format!(
            "{kind}（{}）：连续用水{d}不停即报警（该户连续用水通常不超过{usual}）。",
            rule.name
        ),
    })
}

/// One sentence for `rule` in `lang`; `None` for inactivity (see `view`).
pub fn rule_in_words(rule: &Rule, lang: Language) -> Option<String> {
    let d = |x: std::time::Duration| duration_ms_in(lang, ms(x));
    let kind = i18n::kind(lang, rule.detector.kind().as_str());
    let text = match (&rule.detector, lang) {
        (Detector::Inactivity(_), _) => return None,
        (Detector::ContinuousFlow(c), Language::En) => match &c.learned {
            Some(l) => format!(
                "alerts when water runs without a break for longer than this household's usual \
                 longest runs × {} (at least {}, at most {}{}; {} while it is being learned)",
                l.margin,
                d(l.min),
                d(l.max),
                l.routine_max.map_or(String::new(), |r| format!(
                    ", or {} if its runs are often longer",
                    d(r)
                )),
                d(c.after)
            ),
            None => format!(
                "alerts after {} of water running without a break",
                d(c.after)
            ),
        },
        (Detector::ContinuousFlow(c), Language::ZhCn) => match &c.learned {
            Some(l) => format!(
                "连续用水超过该住户平时最长用水时长的{}倍即报警（最短{}，最长{}{}；学习期间为{}）",
                l.margin,
                d(l.min),
                d(l.max),
                l.routine_max.map_or(String::new(), |r| format!(
                    "，平时用水常更久的住户最长{}",
                    d(r)
                )),
                d(c.after)
            ),
            None => format!("连续用水{}不停即报警", d(c.after)),
        },
        (Detector::Spike(s), Language::En) => match &s.learned {
            Some(l) => format!(
                "alerts when water flows faster over {} than this household's busiest × {} \
                 ({:.0}–{:.0} L/min; {:.0} L/min while it is being learned)",
                d(s.window),
                l.margin,
                l.min_rate_lpm,
                l.max_rate_lpm,
                s.rate_lpm
            ),
            None => format!(
                "alerts when water flows faster than {:.0} L/min over {}",
                s.rate_lpm,
                d(s.window)
            ),
        },
        (Detector::Spike(s), Language::ZhCn) => match &s.learned {
            Some(l) => format!(
                "{}内流量超过该住户平时最大值的{}倍即报警（{:.0}–{:.0}升/分钟；学习期间为{:.0}升/分钟）",
                d(s.window),
                l.margin,
                l.min_rate_lpm,
                l.max_rate_lpm,
                s.rate_lpm
            ),
            None => format!("{}内流量超过{:.0}升/分钟即报警", d(s.window), s.rate_lpm),
        },
        (Detector::UsageDrop(u), Language::En) => format!(
            "alerts when each of the last {} days is below {:.0} % of this household's usual daily use",
            u.recent_days,
            u.fraction * 100.0
        ),
        (Detector::UsageDrop(u), Language::ZhCn) => format!(
            "最近{}天每天用水都低于该住户平时日用水量的{:.0}%即报警",
            u.recent_days,
            u.fraction * 100.0
        ),
        (Detector::MeterOffline(o), Language::En) => format!(
            "alerts when the meter is silent {} longer than it usually reports",
            d(o.after)
        ),
        (Detector::MeterOffline(o), Language::ZhCn) => {
            format!("水表超过平时上报间隔{}仍无数据即报警", d(o.after))
        }
        (Detector::MeterFault(_), Language::En) => "alerts when the meter reports a fault".into(),
        (Detector::MeterFault(_), Language::ZhCn) => "水表报告故障即报警".into(),
    };
    Some(match lang {
        Language::En => format!("{kind} ({}): {text}.", rule.name),
        Language::ZhCn => format!("{kind}（{}）：{text}。", rule.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use waterwatch_rules::RuleSet;

    #[test]
    fn every_shipped_rule_but_inactivity_reads_as_a_sentence_in_both_languages() {
        let rules = RuleSet::default_rules();
        for rule in rules.rules.iter() {
            for lang in [Language::En, Language::ZhCn] {
                match rule_in_words(rule, lang) {
                    None => assert_eq!(rule.detector.kind().as_str(), "inactivity"),
                    Some(text) => {
                        assert!(text.contains(&rule.name), "{text}");
                        assert!(!text.contains("{}"), "{text}");
                    }
                }
            }
        }
        let tap = rules.rule("tap_running").expect("tap_running ships");
        let text = rule_in_words(tap, Language::En).unwrap();
        assert!(
            text.starts_with("Water running (tap_running): alerts when"),
            "{text}"
        );
    }
}
