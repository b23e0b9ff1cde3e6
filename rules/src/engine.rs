//! The rules engine: readings and `now` in, alert events out.
//!
//! Per meter it keeps a [`MeterState`] (register track, detector facts, firing
//! alerts), feeds each reading through the normaliser into the detectors, asks
//! every enabled rule for its [`Verdict`] and emits `fired`/`resolved` only when
//! that changes what is firing: each (meter, rule) alert fires once and
//! resolves once. Time is an argument; every event's `ts` is the `now` given.

use std::collections::{BTreeMap, HashMap};

use chrono::{FixedOffset, Offset, Utc};
use serde::{Deserialize, Serialize};

use crate::config::{Detector, Rule, RuleSet};
use crate::event::{AlertEvent, Kind, Severity, Transition};
use crate::normalise::{Fate, MAX_AHEAD_MS, MeterTrack, Note};
use crate::reading::{Reading, Timestamp};
use crate::rule::continuous_flow::ContinuousFlow;
use crate::rule::inactivity::{Inactivity, Limit};
use crate::rule::meter_fault::MeterFault;
use crate::rule::meter_offline::MeterOffline;
use crate::rule::spike::Spike;
use crate::rule::{Verdict, ms};

/// What one reading did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub events: Vec<AlertEvent>,
    /// What the normaliser noticed, for metrics.
    pub notes: Vec<Note>,
}

/// A firing alert of one rule on one meter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveAlert {
    pub rule: String,
    pub kind: Kind,
    pub severity: Severity,
    /// The `now` it fired at.
    pub since: Timestamp,
    /// The text it fired with.
    pub summary: String,
}

/// Everything the engine knows about one meter: store it (as JSON) after each
/// transaction and hand it back with [`Engine::restore_meter`]; decisions then
/// continue exactly as if the engine had never stopped. Opaque on purpose.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeterState {
    #[serde(default)]
    track: MeterTrack,
    /// UTC offset of the newest reading, seconds: texts speak its local time.
    #[serde(default)]
    offset_s: i32,
    #[serde(default)]
    inactivity: Inactivity,
    #[serde(default)]
    offline: MeterOffline,
    #[serde(default)]
    fault: MeterFault,
    /// Per continuous_flow rule, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    flows: Vec<(String, ContinuousFlow)>,
    /// Per spike rule, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    spikes: Vec<(String, Spike)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    alerts: Vec<ActiveAlert>,
}

impl MeterState {
    /// The alerts firing on this meter.
    pub fn active_alerts(&self) -> &[ActiveAlert] {
        &self.alerts
    }

    /// The quiet stretch the readings prove so far, in milliseconds.
    pub fn quiet_ms(&self) -> Option<i64> {
        self.inactivity.quiet_ms()
    }

    fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.offset_s).unwrap_or_else(|| Utc.fix())
    }
}

/// The state slot of the rule called `name`, created when first needed.
fn slot<'a, T: Default>(slots: &'a mut Vec<(String, T)>, name: &str) -> &'a mut T {
    let i = match slots.iter().position(|(n, _)| n == name) {
        Some(i) => i,
        None => {
            slots.push((name.to_owned(), T::default()));
            slots.len() - 1
        }
    };
    &mut slots[i].1
}

fn find<'a, T>(slots: &'a [(String, T)], name: &str) -> Option<&'a T> {
    slots.iter().find(|(n, _)| n == name).map(|(_, s)| s)
}

/// Which rules an evaluation asks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// After a reading: every rule.
    Reading,
    /// On a tick: only the rules time alone can change.
    Tick,
}

/// The rules engine.
pub struct Engine {
    rules: RuleSet,
    meters: BTreeMap<String, MeterState>,
    households: HashMap<String, String>,
}

impl Engine {
    pub fn new(rules: RuleSet) -> Engine {
        Engine {
            rules,
            meters: BTreeMap::new(),
            households: HashMap::new(),
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Swaps the rules, keeping every meter's track and detector facts.
    ///
    /// Per-rule state survives for rules whose name and kind are unchanged.
    /// Alerts of rules that were removed, disabled or changed kind resolve at
    /// the meter's next evaluation (its next reading or the next `tick`).
    pub fn replace_rules(&mut self, rules: RuleSet) {
        let keeps = |kind: Kind, name: &str| {
            rules
                .rules
                .iter()
                .any(|r| r.enabled && r.name == name && r.detector.kind() == kind)
        };
        for state in self.meters.values_mut() {
            state
                .flows
                .retain(|(name, _)| keeps(Kind::ContinuousFlow, name));
            state.spikes.retain(|(name, _)| keeps(Kind::Spike, name));
        }
        self.rules = rules;
    }

    /// Names the household a meter belongs to (by default, the meter itself).
    pub fn set_household(&mut self, meter_id: impl Into<String>, household: impl Into<String>) {
        self.households.insert(meter_id.into(), household.into());
    }

    /// Takes one reading observed at `now`. A reading not newer than the
    /// meter's newest, or stamped more than an hour after `now`, changes
    /// nothing; its notes say why.
    pub fn observe(&mut self, reading: &Reading, now: Timestamp) -> Outcome {
        if ms(&reading.ts) - ms(&now) > MAX_AHEAD_MS {
            return Outcome {
                events: Vec::new(),
                notes: vec![Note::Future],
            };
        }
        if !self.meters.contains_key(&reading.meter_id) {
            self.meters
                .insert(reading.meter_id.clone(), MeterState::default());
        }
        let Some(state) = self.meters.get_mut(&reading.meter_id) else {
            return Outcome::default();
        };
        let step = state.track.step(reading, &self.rules.normalise);
        if step.fate == Fate::Ignored {
            return Outcome {
                events: Vec::new(),
                notes: step.notes,
            };
        }
        state.offline.arrival(ms(&now));
        state.offset_s = reading.ts.offset().local_minus_utc();
        state.fault.reading(&reading.status);
        if step.fate == Fate::First {
            state.inactivity.first_reading(ms(&reading.ts));
        }
        let enabled = || self.rules.rules.iter().filter(|r| r.enabled);
        if let Some(span) = &step.unknown {
            let (start, end) = (ms(&span.start), ms(&span.end));
            state.inactivity.unknown(start, end);
            for rule in enabled() {
                if let Detector::ContinuousFlow(_) = rule.detector {
                    slot(&mut state.flows, &rule.name).unknown(start, end);
                }
            }
        }
        if let Some(usage) = &step.usage {
            let (start, end, litres) = (ms(&usage.start), ms(&usage.end), usage.litres);
            state.inactivity.usage(start, end, litres);
            for rule in enabled() {
                match &rule.detector {
                    Detector::ContinuousFlow(config) => {
                        slot(&mut state.flows, &rule.name).usage(start, end, litres, config);
                    }
                    Detector::Spike(config) => {
                        slot(&mut state.spikes, &rule.name).usage(start, end, litres, config);
                    }
                    _ => {}
                }
            }
        }
        let household = household_of(&self.households, &reading.meter_id);
        let events = evaluate(
            &self.rules,
            &reading.meter_id,
            household,
            state,
            now,
            Scope::Reading,
        );
        Outcome {
            events,
            notes: step.notes,
        }
    }

    /// Evaluates the rules time alone can change (meter_offline) for every
    /// meter, plus the withdrawal of alerts whose rule is gone.
    pub fn tick(&mut self, now: Timestamp) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for (meter_id, state) in &mut self.meters {
            let household = household_of(&self.households, meter_id);
            events.extend(evaluate(
                &self.rules,
                meter_id,
                household,
                state,
                now,
                Scope::Tick,
            ));
        }
        events
    }

    /// A copy of everything the engine knows about a meter, to store.
    pub fn meter_state(&self, meter_id: &str) -> Option<MeterState> {
        self.meters.get(meter_id).cloned()
    }

    /// Puts back a stored [`MeterState`].
    pub fn restore_meter(&mut self, meter_id: impl Into<String>, state: MeterState) {
        self.meters.insert(meter_id.into(), state);
    }

    /// The meters seen or restored, in id order.
    pub fn meters(&self) -> impl Iterator<Item = &str> {
        self.meters.keys().map(String::as_str)
    }

    /// The alerts firing on a meter.
    pub fn active_alerts(&self, meter_id: &str) -> &[ActiveAlert] {
        self.meters.get(meter_id).map_or(&[], |s| &s.alerts)
    }
}

fn household_of<'a>(households: &'a HashMap<String, String>, meter_id: &'a str) -> &'a str {
    households.get(meter_id).map_or(meter_id, String::as_str)
}

/// Asks the rules in `scope` for their verdicts and turns changes into events.
fn evaluate(
    rules: &RuleSet,
    meter_id: &str,
    household: &str,
    state: &mut MeterState,
    now: Timestamp,
    scope: Scope,
) -> Vec<AlertEvent> {
    let event = |alert: &ActiveAlert, event: Transition, summary: String| AlertEvent {
        ts: now,
        household: household.to_owned(),
        meter_id: meter_id.to_owned(),
        rule: alert.rule.clone(),
        kind: alert.kind,
        event,
        severity: alert.severity,
        summary,
    };
    let mut events = Vec::new();
    state.alerts.retain(|alert| {
        let current = rules
            .rules
            .iter()
            .any(|r| r.enabled && r.name == alert.rule && r.detector.kind() == alert.kind);
        if !current {
            let summary = format!(
                "Withdrawn: the rule \"{}\" was removed, disabled or changed in the rules file.",
                alert.rule
            );
            events.push(event(alert, Transition::Resolved, summary));
        }
        current
    });
    for rule in rules.rules.iter().filter(|r| r.enabled) {
        if scope == Scope::Tick && !matches!(rule.detector, Detector::MeterOffline(_)) {
            continue;
        }
        let verdict = verdict(rule, state, now);
        let firing = state.alerts.iter().position(|a| a.rule == rule.name);
        match (verdict, firing) {
            (Verdict::Firing, None) => {
                let alert = ActiveAlert {
                    rule: rule.name.clone(),
                    kind: rule.detector.kind(),
                    severity: rule.severity,
                    since: now,
                    summary: summary(rule, state, now, verdict),
                };
                events.push(event(&alert, Transition::Fired, alert.summary.clone()));
                state.alerts.push(alert);
            }
            (Verdict::Clear, Some(i)) => {
                let alert = state.alerts.remove(i);
                events.push(event(
                    &alert,
                    Transition::Resolved,
                    summary(rule, state, now, verdict),
                ));
            }
            _ => {}
        }
    }
    events
}

fn verdict(rule: &Rule, state: &MeterState, now: Timestamp) -> Verdict {
    match &rule.detector {
        Detector::Inactivity(config) => state.inactivity.verdict(&Limit::for_rule(config)),
        Detector::ContinuousFlow(config) => {
            find(&state.flows, &rule.name).map_or(Verdict::Unchanged, |s| s.verdict(config))
        }
        Detector::Spike(config) => {
            find(&state.spikes, &rule.name).map_or(Verdict::Unchanged, |s| s.verdict(config))
        }
        Detector::MeterOffline(config) => state.offline.verdict(ms(&now), config),
        Detector::MeterFault(config) => state.fault.verdict(config),
    }
}

fn summary(rule: &Rule, state: &MeterState, now: Timestamp, verdict: Verdict) -> String {
    let offset = state.offset();
    let none = || "No data yet.".to_owned();
    match &rule.detector {
        Detector::Inactivity(config) => {
            state
                .inactivity
                .summary(&Limit::for_rule(config), verdict, offset)
        }
        Detector::ContinuousFlow(config) => {
            find(&state.flows, &rule.name).map_or_else(none, |s| s.summary(config, verdict, offset))
        }
        Detector::Spike(config) => find(&state.spikes, &rule.name)
            .map_or_else(none, |s| s.summary(config, verdict, offset)),
        Detector::MeterOffline(config) => state.offline.summary(ms(&now), config, verdict, offset),
        Detector::MeterFault(config) => state.fault.summary(config, verdict),
    }
}

#[cfg(test)]
mod tests;
