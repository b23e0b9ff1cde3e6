//! Two stages of inactivity, as the README's check-in example configures
//! them: the shipped rule (`inactivity`, which sends the grid worker) and an
//! earlier check-in (`inactivity_check`, routed to ask the resident "Are you
//! OK?" and, without an answer in 30 minutes, tell the family).
//!
//! A resident who is fine (at home, or out and about with their phone)
//! answers a check-in with probability `p`, 10 minutes after it; the engine
//! is told (`confirm_fine`), as the daemon tells it, so the quiet is watched
//! again from then, which also defers the urgent rule. A collapsed resident
//! never answers. Scored three ways: when the resident is asked, when the
//! family is told (an unanswered check-in, 30 minutes on), and when the grid
//! worker is sent (the shipped rule).

use waterwatch_rules::RuleSet;

use crate::score::MINUTE_MS;
use crate::{Fired, tuned};

/// The check-in rule's name.
pub const CHECK_IN: &str = "inactivity_check";
/// A resident who answers does so this long after the question.
const ANSWERS_AFTER_MS: i64 = 10 * MINUTE_MS;
/// An unanswered check-in tells the family this long after the question.
const FAMILY_AFTER_MS: i64 = 30 * MINUTE_MS;

/// `WW_BENCH_ANSWER="0.8,0.5,0"`: how often a resident who is fine answers
/// a check-in, one two-stage run each.
pub fn answer_shares() -> Vec<f64> {
    std::env::var("WW_BENCH_ANSWER")
        .unwrap_or_else(|_| "0.8,0.5,0".into())
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}

/// The shipped rules and the check-in: the learned inactivity rule at
/// quantile 0.99 and margin 1, with the late-morning allowance (nobody is
/// asked before a late morning is over) but no day out (someone out for the
/// day can answer), and no `routine_max` (a household often away is asked
/// within 12 h too).
pub fn rules() -> RuleSet {
    let shipped = RuleSet::default_rules();
    let mut check = tuned(&shipped, 0.99, 1.0, None, None);
    check.rules.retain(|r| r.name == "inactivity");
    check.for_each_learned_inactivity(|l| {
        l.day_out_until = None;
        // As the README's check-in rule: `max` is a hard cap.
        l.routine_max = None;
    });
    let mut rules = shipped;
    for mut rule in check.rules {
        rule.name = CHECK_IN.into();
        rules.rules.push(rule);
    }
    rules
}

/// When the resident answers the check-in `f`, if they do: never when
/// `collapsed`; otherwise with probability `p` (`draw` is uniform in [0, 1),
/// the same for the same question in every run).
pub fn answer(f: &Fired, collapsed: bool, p: f64, draw: f64) -> Option<i64> {
    (f.rule == CHECK_IN && !collapsed && draw < p).then_some(f.at_ms + ANSWERS_AFTER_MS)
}

/// The firings split three ways: the check-ins (the resident asked), those
/// not `answered` 30 minutes on (the family told), and the rest (the grid
/// worker sent, and every other rule).
pub fn stages(
    fired: Vec<Fired>,
    answered: impl Fn(&Fired) -> bool,
) -> (Vec<Fired>, Vec<Fired>, Vec<Fired>) {
    let (asked, sent): (Vec<Fired>, Vec<Fired>) =
        fired.into_iter().partition(|f| f.rule == CHECK_IN);
    let family = asked
        .iter()
        .filter(|f| !answered(f))
        .map(|f| Fired {
            at_ms: f.at_ms + FAMILY_AFTER_MS,
            meter_id: f.meter_id.clone(),
            rule: f.rule.clone(),
            kind: f.kind,
            summary: f.summary.clone(),
            quiet_since_ms: f.quiet_since_ms,
        })
        .collect();
    (asked, family, sent)
}

/// The row names of the three stages.
pub fn names(p: f64) -> [String; 3] {
    let pct = (p * 100.0).round();
    [
        "resident asked",
        "family told (no answer in 30 min)",
        "grid worker sent",
    ]
    .map(|stage| format!("two stages, {pct} % answer: {stage}"))
}
