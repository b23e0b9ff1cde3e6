//! The contenders: the shipped rules, the same rules with every limit fixed
//! (the programmes' rules), and the variants the benchmark can try
//! (`WW_BENCH_SWEEP`, `WW_BENCH_ROUTINE`, `WW_BENCH_CHECK_IN`,
//! `WW_BENCH_FLOW_RUNNING`).

use std::time::Duration;

use waterwatch_rules::rule::inactivity::InactivityConfig;
use waterwatch_rules::{Detector, RuleSet};

/// A detector under test: a name and the rules it runs.
pub struct Contender {
    pub name: String,
    pub rules: RuleSet,
    /// Replayed with every reading's `flow_lpm` removed: meters that report
    /// only their register.
    pub no_flow: bool,
}

/// The shipped rules (learned inactivity, continuous_flow and spike; the
/// reported-flow checks `flow_running` and `reported_flow`), the same on
/// meters that report no flow (the shipped rules before they read the
/// flow), and the same rules with every limit fixed and no reported flow:
/// inactivity after 8, 12 and 24 hours, continuous use for 2 h
/// (`tap_running`) and the other flow and volume rules at their fixed
/// fallbacks. usage_drop has no fixed form and is the same in all.
pub fn contenders() -> Vec<Contender> {
    let learned = RuleSet::default_rules();
    let fixed = |hours: u64| {
        let mut rules = learned.clone();
        for rule in &mut rules.rules {
            match &mut rule.detector {
                Detector::Inactivity(config) => {
                    *config = InactivityConfig {
                        after: Duration::from_secs(hours * 3600),
                        learned: None,
                    };
                }
                Detector::ContinuousFlow(config) => {
                    config.learned = None;
                    config.steady = None;
                    config.flow_running = None;
                }
                Detector::Spike(config) => {
                    config.learned = None;
                    config.reported_flow = false;
                }
                _ => {}
            }
        }
        Contender {
            name: format!("fixed {hours} h"),
            rules,
            no_flow: false,
        }
    };
    let mut all = vec![
        Contender {
            name: "learned".into(),
            rules: learned.clone(),
            no_flow: false,
        },
        Contender {
            name: "learned, meters without flow".into(),
            rules: learned.clone(),
            no_flow: true,
        },
        own_history_only(Contender {
            name: "learned".into(),
            rules: learned.clone(),
            no_flow: false,
        }),
        routine(&learned, None, Duration::ZERO),
        flow_hard_cap(&learned),
        fixed(8),
        fixed(12),
        fixed(24),
        any_use_for_two_hours(fixed(12)),
        steady_toilet(Contender {
            name: "learned, meters without flow".into(),
            rules: learned.clone(),
            no_flow: true,
        }),
        weekend(Contender {
            name: "learned".into(),
            rules: learned.clone(),
            no_flow: false,
        }),
    ];
    // `WW_BENCH_FLOW_RUNNING="45m,2h"`: `running_toilet` with other
    // `flow_running` durations (meters with flow).
    for running in std::env::var("WW_BENCH_FLOW_RUNNING")
        .unwrap_or_default()
        .split(',')
        .filter_map(|d| humantime::parse_duration(d.trim()).ok())
    {
        let mut rules = learned.clone();
        for rule in &mut rules.rules {
            if let Detector::ContinuousFlow(config) = &mut rule.detector
                && rule.name == "running_toilet"
            {
                config.flow_running = Some(running);
            }
        }
        all.push(Contender {
            name: format!(
                "learned, flow_running {}",
                humantime::format_duration(running)
            ),
            rules,
            no_flow: false,
        });
    }
    // `WW_BENCH_CHECK_IN="0.99:8,0.95:6:2"`: check-in stages to try
    // (quantile:max in hours[:min in hours]).
    for variant in std::env::var("WW_BENCH_CHECK_IN")
        .unwrap_or_default()
        .split(',')
    {
        let parts: Vec<f64> = variant.split(':').filter_map(|p| p.parse().ok()).collect();
        if let [quantile, max_h, ref rest @ ..] = parts[..] {
            all.push(check_in(&learned, quantile, max_h, rest.first().copied()));
        }
    }
    // `WW_BENCH_ROUTINE="20h:14d,16h:7d"`: the learned rule with
    // `routine_max` and `routine_every`.
    for variant in std::env::var("WW_BENCH_ROUTINE")
        .unwrap_or_default()
        .split(',')
    {
        let Some((max, every)) = variant.split_once(':') else {
            continue;
        };
        let (Ok(max), Ok(every)) = (
            humantime::parse_duration(max.trim()),
            humantime::parse_duration(every.trim()),
        ) else {
            continue;
        };
        all.push(routine(&learned, Some(max), every));
    }
    // `WW_BENCH_SWEEP="0.99:1.0,0.999:1.1:30:11"`: learned variants
    // (quantile:margin[:morning margin in minutes[:max in hours]]).
    for variant in std::env::var("WW_BENCH_SWEEP")
        .unwrap_or_default()
        .split(',')
    {
        let parts: Vec<f64> = variant.split(':').filter_map(|p| p.parse().ok()).collect();
        if parts.len() < 2 {
            continue;
        }
        all.push(Contender {
            name: format!("learned {}", variant.replace(':', "/")),
            rules: tuned(
                &learned,
                parts[0],
                parts[1],
                parts.get(2).copied(),
                parts.get(3).copied(),
            ),
            no_flow: false,
        });
    }
    all
}

/// The learned rules with every continuous_flow `max` a hard cap (no
/// `routine_max`: the flow rules as shipped until 2026-11-26).
fn flow_hard_cap(learned: &RuleSet) -> Contender {
    let mut rules = learned.clone();
    rules.for_each_learned_run(|l| l.routine_max = None);
    Contender {
        name: "learned, flow max a hard cap (shipped until 2026-11-26)".into(),
        rules,
        no_flow: false,
    }
}

/// The learned rule with `routine_max = max` and `routine_every = every`;
/// with `None`, `max` a hard cap (the rule shipped until 2026-11-26).
fn routine(learned: &RuleSet, max: Option<Duration>, every: Duration) -> Contender {
    let mut rules = learned.clone();
    rules.for_each_learned_inactivity(|l| {
        l.routine_max = max;
        if max.is_some() {
            l.routine_every = every;
        }
    });
    let name = match max {
        None => "learned, max a hard cap (shipped until 2026-11-26)".to_owned(),
        Some(max) => format!(
            "learned, routine_max {} every {} d",
            humantime::format_duration(max),
            every.as_secs() / 86_400
        ),
    };
    Contender {
        name,
        rules,
        no_flow: false,
    }
}

/// The fixed 12 h contender with the programmes' plain "continuous use for
/// 2 h" rule: `running_toilet` (any use in every 15 minutes) after 2 h.
fn any_use_for_two_hours(mut contender: Contender) -> Contender {
    for rule in &mut contender.rules.rules {
        if let Detector::ContinuousFlow(config) = &mut rule.detector
            && rule.name == "running_toilet"
        {
            config.after = Duration::from_secs(2 * 3600);
        }
    }
    contender.name = format!("{}, any use 2 h", contender.name);
    contender
}

/// `contender` judging by each household's own history alone: no
/// `late_morning` or `day_out_until` allowance (the learned rule before
/// 2026-11-26).
fn own_history_only(mut contender: Contender) -> Contender {
    without_allowances(&mut contender.rules);
    contender.name = format!("{}, own history only", contender.name);
    contender
}

/// Turns the learned inactivity rules' `late_morning` and `day_out_until`
/// off: each household is judged by its own history alone.
pub fn without_allowances(rules: &mut RuleSet) {
    rules.for_each_learned_inactivity(|l| {
        l.late_morning = None;
        l.day_out_until = None;
    });
}

/// A check-in stage: an earlier learned inactivity rule whose alerts only
/// ask the resident "Are you OK?" (a route with `ask_resident`). It keeps
/// the late-morning allowance (nobody is woken by the question) but not the
/// day out (someone out for the day can answer it). Its false alarms are
/// questions to a resident who is fine, not visits.
fn check_in(learned: &RuleSet, quantile: f64, max_h: f64, min_h: Option<f64>) -> Contender {
    let mut rules = tuned(learned, quantile, 1.0, None, Some(max_h));
    for rule in &mut rules.rules {
        if let Detector::Inactivity(InactivityConfig {
            learned: Some(l), ..
        }) = &mut rule.detector
        {
            l.day_out_until = None;
            if let Some(h) = min_h {
                l.min = Duration::from_secs((h * 3600.0) as u64);
            }
        }
    }
    let min = min_h.map(|h| format!(", min {h} h")).unwrap_or_default();
    Contender {
        name: format!("check-in q {quantile}, max {max_h} h{min}"),
        rules,
        no_flow: false,
    }
}

/// `contender` with `[baseline] weekend = true` (`weekend_min_days = 8`).
fn weekend(mut contender: Contender) -> Contender {
    contender.rules.baseline.weekend_min_days = Some(8);
    contender.name = format!("{} + weekend", contender.name);
    contender
}

/// `contender` with the steady-flow check (`steady = "1h"`) on `running_toilet`.
fn steady_toilet(mut contender: Contender) -> Contender {
    for rule in &mut contender.rules.rules {
        if let Detector::ContinuousFlow(config) = &mut rule.detector
            && rule.name == "running_toilet"
        {
            config.steady = Some(Duration::from_secs(3600));
        }
    }
    contender.name = format!("{} + steady 1 h", contender.name);
    contender
}

/// `rules` with the learned inactivity rule's quantile, margin and (when
/// given) morning margin in minutes and maximum in hours changed.
pub fn tuned(
    rules: &RuleSet,
    quantile: f64,
    margin: f64,
    morning_min: Option<f64>,
    max_h: Option<f64>,
) -> RuleSet {
    let mut rules = rules.clone();
    rules.for_each_learned_inactivity(|l| {
        l.quantile = quantile;
        l.margin = margin;
        if let Some(m) = morning_min {
            l.morning_margin = Some(Duration::from_secs((m * 60.0) as u64));
        }
        if let Some(h) = max_h {
            l.max = Duration::from_secs((h * 3600.0) as u64);
        }
    });
    rules
}
