//! Turning detector verdicts into `fired`/`resolved` events, with the texts.

use std::borrow::Cow;

use super::{ActiveAlert, MeterState, Plan, Scope, Who};
use crate::config::{Detector, Rule, RuleSet};
use crate::event::{AlertEvent, Kind, Transition};
use crate::reading::Timestamp;
use crate::rule::inactivity::{InactivityConfig, Limit};
use crate::rule::usage_drop::UsageDropConfig;
use crate::rule::{Verdict, ms};
use crate::text::Language;

/// Asks the rules in `scope` for their verdicts and turns changes into
/// events. `generation` is the engine's rules generation: cached rule
/// positions of firing alerts are re-checked when it moved on. A reading
/// that showed no use cannot start a flow or spike alert (see `cannot_fire`).
pub(super) fn evaluate(
    rules: &RuleSet,
    plan: &Plan,
    generation: u64,
    who: &Who<'_>,
    state: &mut MeterState,
    (now, now_ms): (Timestamp, i64),
    scope: Scope,
) -> Vec<AlertEvent> {
    let event = |alert: &ActiveAlert, event: Transition, summary: String| AlertEvent {
        ts: now,
        household: who.household().to_owned(),
        meter_id: who.meter_id.to_owned(),
        rule: alert.rule.clone(),
        kind: alert.kind,
        event,
        severity: alert.severity,
        summary,
    };
    let mut events = Vec::new();
    let rules_changed = state.memo.generation != generation;
    let grew = rules_changed || matches!(scope, Scope::Reading { used: true });
    if rules_changed || state.memo.alert_rules.len() != state.alerts.len() {
        let position_of = |alert: &ActiveAlert| {
            rules
                .rules
                .iter()
                .position(|r| r.enabled && r.name == alert.rule && r.detector.kind() == alert.kind)
        };
        state.alerts.retain(|alert| {
            let current = position_of(alert).is_some();
            if !current {
                let summary = withdrawn_text(who.language(), &alert.rule);
                events.push(event(alert, Transition::Resolved, summary));
            }
            current
        });
        state.memo.alert_rules = state.alerts.iter().filter_map(position_of).collect();
        state.memo.generation = generation;
    }
    // A tick asks meter_offline alone. With no alert firing, a reading
    // without use or flags can change only the rules of `without_use` (the
    // others `cannot_fire`): the rest are not even looked at.
    let plan = match scope {
        Scope::Tick => &plan.on_tick,
        _ if grew || !state.alerts.is_empty() || !state.fault.is_empty() => &plan.all,
        Scope::Reading { .. } => &plan.without_use,
    };
    for planned in plan {
        let position = planned.position;
        let firing = state.memo.alert_rules.iter().position(|&p| p == position);
        if firing.is_none() && cannot_fire(planned.kind, state, scope, grew) {
            continue;
        }
        let Some(rule) = rules.rules.get(position) else {
            continue;
        };
        let at = At {
            position,
            rule,
            slot: planned.slot,
        };
        let verdict = verdict(rules, who, &at, state, now_ms);
        match (verdict, firing) {
            (Verdict::Firing, None) => {
                let alert = ActiveAlert {
                    rule: rule.name.clone(),
                    kind: rule.detector.kind(),
                    severity: rule.severity,
                    since: now,
                };
                let text = summary(rules, who, &at, state, now, verdict);
                events.push(event(&alert, Transition::Fired, text));
                // The run it fired on is learned only up to this limit.
                if let Detector::ContinuousFlow(config) = &rule.detector
                    && let Some((_, flow)) = state.flows.get_mut(at.slot)
                {
                    flow.fired(config, state.baseline.learning(&rules.baseline));
                }
                state.alerts.push(alert);
                state.memo.alert_rules.push(position);
            }
            (Verdict::Clear, Some(i)) => {
                let alert = state.alerts.remove(i);
                state.memo.alert_rules.remove(i);
                if let (Detector::ContinuousFlow(_), Some((_, flow))) =
                    (&rule.detector, state.flows.get_mut(at.slot))
                {
                    flow.resolved();
                }
                events.push(event(
                    &alert,
                    Transition::Resolved,
                    summary(rules, who, &at, state, now, verdict),
                ));
            }
            _ => {}
        }
    }
    events
}

/// Whether a rule that is not firing surely stays quiet, known without
/// asking it: a meter that just reported is not offline, a reading without
/// status flags raises no fault, and unless the reading showed use (or a
/// day closed, or the rules changed: `grew`) a run of use is no longer and
/// a trailing rate no higher than at the last reading, under the same limits.
fn cannot_fire(kind: Kind, state: &MeterState, scope: Scope, grew: bool) -> bool {
    match kind {
        Kind::MeterOffline => matches!(scope, Scope::Reading { .. }),
        Kind::MeterFault => state.fault.is_empty(),
        Kind::ContinuousFlow | Kind::Spike => !grew,
        Kind::Inactivity | Kind::UsageDrop => false,
    }
}

/// A rule being evaluated: its position in the rules file and, for rules
/// with per-rule state, its slot.
struct At<'a> {
    position: usize,
    rule: &'a Rule,
    slot: usize,
}

/// The inactivity parameters for this meter's household.
fn inactivity_config<'a>(
    rules: &RuleSet,
    who: &Who<'_>,
    config: &'a InactivityConfig,
) -> Cow<'a, InactivityConfig> {
    if rules.households.is_empty() {
        return Cow::Borrowed(config);
    }
    Cow::Owned(rules.inactivity_for(who.household(), config))
}

/// The usage_drop parameters for this meter's household.
fn usage_drop_config<'a>(
    rules: &RuleSet,
    who: &Who<'_>,
    config: &'a UsageDropConfig,
) -> Cow<'a, UsageDropConfig> {
    if rules.households.is_empty() {
        return Cow::Borrowed(config);
    }
    Cow::Owned(rules.usage_drop_for(who.household(), config))
}

/// The inactivity limit for the meter's current quiet stretch.
fn inactivity_limit(rules: &RuleSet, config: &InactivityConfig, state: &MeterState) -> Limit {
    match state.inactivity.since_ms() {
        Some(since) => Limit::for_household(
            config,
            &state.baseline,
            &rules.baseline,
            since,
            state.offset_s,
        ),
        None => Limit::for_rule(config),
    }
}

fn verdict(
    rules: &RuleSet,
    who: &Who<'_>,
    at: &At<'_>,
    state: &mut MeterState,
    now_ms: i64,
) -> Verdict {
    let position = at.position;
    match &at.rule.detector {
        Detector::Inactivity(config) => {
            let config = inactivity_config(rules, who, config);
            let config = config.as_ref();
            let key = (
                position,
                state.inactivity.since_ms().unwrap_or(i64::MIN),
                state.baseline.days(),
            );
            let mut computed = None;
            // The memo is looked in only when the limit is asked for.
            let verdict = state.inactivity.verdict_with(Limit::floor_ms(config), || {
                let known = state.memo.limits.iter().find(|m| (m.0, m.1, m.2) == key);
                match known {
                    Some(m) => Limit::Fixed(std::time::Duration::from_millis(
                        u64::try_from(m.3).unwrap_or(0),
                    )),
                    None => {
                        let limit = inactivity_limit(rules, config, state);
                        computed = Some(limit.ms());
                        limit
                    }
                }
            });
            if let Some(ms) = computed {
                state.memo.limits.retain(|m| m.0 != position);
                state.memo.limits.push((key.0, key.1, key.2, ms));
            }
            // Confirmed fine, or water used on another of the household's
            // meters, since the quiet began: the stretch from then must be
            // too long as well (the limit of a stretch begun then).
            match state.inactivity.alive_ms() {
                Some(fine) if verdict == Verdict::Firing => {
                    let limit = Limit::for_household(
                        config,
                        &state.baseline,
                        &rules.baseline,
                        fine,
                        state.offset_s,
                    );
                    let quiet = state.inactivity.quiet_since_ms(fine).unwrap_or(0);
                    if quiet >= limit.ms() {
                        Verdict::Firing
                    } else {
                        Verdict::Clear
                    }
                }
                _ => verdict,
            }
        }
        Detector::ContinuousFlow(config) => {
            let learning = state.baseline.learning(&rules.baseline);
            state
                .flows
                .get(at.slot)
                .map_or(Verdict::Unchanged, |(_, s)| s.verdict(config, learning))
        }
        Detector::Spike(config) => {
            let learning = state.baseline.learning(&rules.baseline);
            state
                .spikes
                .get(at.slot)
                .map_or(Verdict::Unchanged, |(_, s)| s.verdict(config, learning))
        }
        Detector::UsageDrop(config) => {
            let closed = state.daily.closed();
            if let Some(m) = state.memo.drops.iter().find(|m| m.0 == position)
                && m.1 == closed
            {
                return m.2;
            }
            let config = usage_drop_config(rules, who, config);
            let verdict = state
                .daily
                .assess(&config)
                .map_or(Verdict::Unchanged, |a| a.verdict(&config));
            state.memo.drops.retain(|m| m.0 != position);
            state.memo.drops.push((position, closed, verdict));
            verdict
        }
        Detector::MeterOffline(config) => state.offline.verdict(now_ms, config),
        Detector::MeterFault(config) => state.fault.verdict(config),
    }
}

fn summary(
    rules: &RuleSet,
    who: &Who<'_>,
    at: &At<'_>,
    state: &MeterState,
    now: Timestamp,
    verdict: Verdict,
) -> String {
    let offset = state.offset();
    let learning = state.baseline.learning(&rules.baseline);
    let none = || match who.language() {
        Language::En => "No data yet.".to_owned(),
        Language::ZhCn => "尚无数据。".to_owned(),
    };
    match &at.rule.detector {
        Detector::Inactivity(config) => {
            let mut text = state.inactivity.summary_in(
                who.language(),
                &inactivity_limit(rules, &inactivity_config(rules, who, config), state),
                verdict,
                offset,
            );
            if verdict == Verdict::Firing {
                // Whoever reads the meter will see it move: say why.
                text.push_str(&state.background.note(who.language()));
            }
            text
        }
        Detector::ContinuousFlow(config) => state.flows.get(at.slot).map_or_else(none, |(_, s)| {
            let step_ms = state.baseline.step_ms();
            s.summary(config, learning, verdict, step_ms, offset, who.language())
        }),
        Detector::Spike(config) => state.spikes.get(at.slot).map_or_else(none, |(_, s)| {
            s.summary(config, learning, verdict, offset, who.language())
        }),
        Detector::UsageDrop(config) => state
            .daily
            .assess(&usage_drop_config(rules, who, config))
            .map_or_else(
                || match who.language() {
                    Language::En => "Not enough days of data to compare daily use.".to_owned(),
                    Language::ZhCn => "数据天数不足，无法比较每日用水量。".to_owned(),
                },
                |a| a.summary(verdict, who.language()),
            ),
        Detector::MeterOffline(config) => state.offline.summary_for(
            ms(&now),
            config,
            verdict,
            offset,
            who.language(),
            state.memo.shares_household,
        ),
        Detector::MeterFault(config) => state.fault.summary(config, verdict, who.language()),
    }
}

/// The summary of an alert whose rule is gone from the rules file.
fn withdrawn_text(language: Language, rule: &str) -> String {
    match language {
        Language::En => format!(
            "Withdrawn: the rule \"{rule}\" was removed, disabled or changed in the rules file."
        ),
        Language::ZhCn => format!("已撤销：规则文件中的规则“{rule}”已被删除、停用或修改。"),
    }
}
