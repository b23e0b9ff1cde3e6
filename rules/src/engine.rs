//! The rules engine: readings and `now` in, alert events out.
//!
//! Per meter it keeps a [`MeterState`] (register track, detector facts, firing
//! alerts), feeds each reading through the normaliser into the detectors, asks
//! every enabled rule for its [`Verdict`] and emits `fired`/`resolved` only when
//! that changes what is firing: each (meter, rule) alert fires once and
//! resolves once. Time is an argument; every event's `ts` is the `now` given.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use chrono::{FixedOffset, Offset, Utc};
use serde::{Deserialize, Serialize};

use crate::baseline::Baseline;
use crate::config::{Detector, Rule, RuleSet};
use crate::event::{AlertEvent, Kind, Severity, Transition};
use crate::normalise::{Fate, MAX_AHEAD_MS, MeterTrack, Note};
use crate::reading::{Reading, Timestamp};
use crate::rule::continuous_flow::ContinuousFlow;
use crate::rule::inactivity::{Inactivity, InactivityConfig, Limit};
use crate::rule::meter_fault::MeterFault;
use crate::rule::meter_offline::MeterOffline;
use crate::rule::spike::Spike;
use crate::rule::usage_drop::{DailyUse, UsageDropConfig};
use crate::rule::{Verdict, ms};
use crate::text::Language;

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
    /// The household's learned rhythm.
    #[serde(default)]
    baseline: Baseline,
    #[serde(default)]
    offline: MeterOffline,
    #[serde(default)]
    fault: MeterFault,
    /// Daily totals, for usage_drop rules.
    #[serde(default)]
    daily: DailyUse,
    /// Per continuous_flow rule, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    flows: Vec<(String, ContinuousFlow)>,
    /// Per spike rule, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    spikes: Vec<(String, Spike)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    alerts: Vec<ActiveAlert>,
    /// Learned inactivity limits and usage_drop verdicts already worked
    /// out; derived, so neither stored nor compared.
    #[serde(skip)]
    memo: Memo,
}

/// Results that change rarely, worked out once. `limits`: `(rule position,
/// quiet since, baseline days, limit ms)` per learned inactivity rule; the
/// limit depends only on these (the baseline changes only on use, which
/// moves `since`, or at a day's close, which bumps `days`). `drops`: `(rule
/// position, days closed, verdict)` per usage_drop rule. Replacing the rules
/// or a meter's household clears both.
#[derive(Debug, Clone, Default)]
struct Memo {
    limits: Vec<(usize, i64, u32, i64)>,
    drops: Vec<(usize, u32, Verdict)>,
}

impl Memo {
    fn clear(&mut self) {
        self.limits.clear();
        self.drops.clear();
    }
}

impl PartialEq for Memo {
    fn eq(&self, _: &Self) -> bool {
        true
    }
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

    /// What has been learned about this meter's household.
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
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

/// Where a meter's baseline stands, for the dashboard and the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineStatus {
    /// Learned rules still use their fixed fallback.
    pub learning: bool,
    /// Days with water use seen.
    pub days_seen: u32,
    /// Days with use needed before learned rules apply (`[baseline] learning_days`).
    pub learning_days: u32,
}

/// The rules engine.
pub struct Engine {
    rules: RuleSet,
    meters: BTreeMap<String, MeterState>,
    households: HashMap<String, String>,
    /// Alert-text language by household (default English).
    languages: HashMap<String, Language>,
}

impl Engine {
    pub fn new(rules: RuleSet) -> Engine {
        Engine {
            rules,
            meters: BTreeMap::new(),
            households: HashMap::new(),
            languages: HashMap::new(),
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
            state.memo.clear();
        }
        self.rules = rules;
    }

    /// Names the household a meter belongs to (by default, the meter itself).
    pub fn set_household(&mut self, meter_id: impl Into<String>, household: impl Into<String>) {
        let meter_id = meter_id.into();
        if let Some(state) = self.meters.get_mut(&meter_id) {
            // Its `[[household]]` limits may differ.
            state.memo.clear();
        }
        self.households.insert(meter_id, household.into());
    }

    /// Sets the language of a household's alert texts (`household` is the
    /// name given to [`Engine::set_household`], or the meter id for a meter
    /// that is its own household). Default English.
    pub fn set_household_language(&mut self, household: impl Into<String>, language: Language) {
        self.languages.insert(household.into(), language);
    }

    /// The language of a household's alert texts.
    pub fn household_language(&self, household: &str) -> Language {
        self.languages.get(household).copied().unwrap_or_default()
    }

    /// Whether learned rules on this meter still use their fixed fallback
    /// (`true` for a meter never seen: nothing is learned yet).
    pub fn learning(&self, meter_id: &str) -> bool {
        self.baseline_status(meter_id).is_none_or(|s| s.learning)
    }

    /// Where the meter's baseline stands; `None` for a meter never seen.
    pub fn baseline_status(&self, meter_id: &str) -> Option<BaselineStatus> {
        let state = self.meters.get(meter_id)?;
        Some(BaselineStatus {
            learning: state.baseline.learning(&self.rules.baseline),
            days_seen: state.baseline.days(),
            learning_days: self.rules.baseline.learning_days,
        })
    }

    /// Replaces what was learned about a meter's household (e.g. carried
    /// over to a replacement meter), creating the meter if needed.
    pub fn set_baseline(&mut self, meter_id: impl Into<String>, mut baseline: Baseline) {
        baseline.normalise_shape();
        self.meters.entry(meter_id.into()).or_default().baseline = baseline;
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
        let state = match self.meters.get_mut(&reading.meter_id) {
            Some(state) => state,
            None => self.meters.entry(reading.meter_id.clone()).or_default(),
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
            state.baseline.unknown();
            state.daily.usage(start, end, 0.0, state.offset_s, false);
            for rule in enabled() {
                if let Detector::ContinuousFlow(_) = rule.detector {
                    slot(&mut state.flows, &rule.name).unknown(start, end);
                }
            }
        }
        if let Some(usage) = &step.usage {
            let (start, end, litres) = (ms(&usage.start), ms(&usage.end), usage.litres);
            state.inactivity.usage(start, end, litres);
            let days = state.baseline.days();
            state
                .baseline
                .usage(start, end, litres, state.offset_s, &self.rules.baseline);
            state.daily.usage(start, end, litres, state.offset_s, true);
            if state.baseline.days() != days {
                let keep = self.rules.baseline.keep_per_day;
                state.flows.iter_mut().for_each(|(_, f)| f.close_day(keep));
                state.spikes.iter_mut().for_each(|(_, s)| s.close_day(keep));
            }
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
        let who = Who {
            meter_id: &reading.meter_id,
            households: &self.households,
            languages: &self.languages,
        };
        let events = evaluate(&self.rules, &who, state, now, Scope::Reading);
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
            let who = Who {
                meter_id,
                households: &self.households,
                languages: &self.languages,
            };
            events.extend(evaluate(&self.rules, &who, state, now, Scope::Tick));
        }
        events
    }

    /// A copy of everything the engine knows about a meter, to store.
    pub fn meter_state(&self, meter_id: &str) -> Option<MeterState> {
        self.meters.get(meter_id).cloned()
    }

    /// Puts back a stored [`MeterState`].
    pub fn restore_meter(&mut self, meter_id: impl Into<String>, mut state: MeterState) {
        state.baseline.normalise_shape();
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

/// The meter being evaluated; its household and language are looked up only
/// when an event needs them (the hot path rarely does).
struct Who<'a> {
    meter_id: &'a str,
    households: &'a HashMap<String, String>,
    languages: &'a HashMap<String, Language>,
}

impl Who<'_> {
    fn household(&self) -> &str {
        self.households
            .get(self.meter_id)
            .map_or(self.meter_id, String::as_str)
    }

    fn language(&self) -> Language {
        if self.languages.is_empty() {
            return Language::default();
        }
        self.languages
            .get(self.household())
            .copied()
            .unwrap_or_default()
    }
}

/// Asks the rules in `scope` for their verdicts and turns changes into events.
fn evaluate(
    rules: &RuleSet,
    who: &Who<'_>,
    state: &mut MeterState,
    now: Timestamp,
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
    for (position, rule) in rules.rules.iter().enumerate().filter(|(_, r)| r.enabled) {
        if scope == Scope::Tick && !matches!(rule.detector, Detector::MeterOffline(_)) {
            continue;
        }
        let verdict = verdict(rules, who, position, rule, state, now);
        let firing = state.alerts.iter().position(|a| a.rule == rule.name);
        match (verdict, firing) {
            (Verdict::Firing, None) => {
                let alert = ActiveAlert {
                    rule: rule.name.clone(),
                    kind: rule.detector.kind(),
                    severity: rule.severity,
                    since: now,
                    summary: summary(rules, who, rule, state, now, verdict),
                };
                events.push(event(&alert, Transition::Fired, alert.summary.clone()));
                state.alerts.push(alert);
            }
            (Verdict::Clear, Some(i)) => {
                let alert = state.alerts.remove(i);
                events.push(event(
                    &alert,
                    Transition::Resolved,
                    summary(rules, who, rule, state, now, verdict),
                ));
            }
            _ => {}
        }
    }
    events
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
    position: usize,
    rule: &Rule,
    state: &mut MeterState,
    now: Timestamp,
) -> Verdict {
    match &rule.detector {
        Detector::Inactivity(config) => {
            let config = inactivity_config(rules, who, config);
            let config = config.as_ref();
            let key = (
                position,
                state.inactivity.since_ms().unwrap_or(i64::MIN),
                state.baseline.days(),
            );
            let known = state
                .memo
                .limits
                .iter()
                .find(|m| (m.0, m.1, m.2) == key)
                .map(|m| m.3);
            let mut computed = None;
            let verdict = state
                .inactivity
                .verdict_with(Limit::floor_ms(config), || match known {
                    Some(ms) => Limit::Fixed(std::time::Duration::from_millis(
                        u64::try_from(ms).unwrap_or(0),
                    )),
                    None => {
                        let limit = inactivity_limit(rules, config, state);
                        computed = Some(limit.ms());
                        limit
                    }
                });
            if let Some(ms) = computed {
                state.memo.limits.retain(|m| m.0 != position);
                state.memo.limits.push((key.0, key.1, key.2, ms));
            }
            verdict
        }
        Detector::ContinuousFlow(config) => {
            let learning = state.baseline.learning(&rules.baseline);
            find(&state.flows, &rule.name)
                .map_or(Verdict::Unchanged, |s| s.verdict(config, learning))
        }
        Detector::Spike(config) => {
            let learning = state.baseline.learning(&rules.baseline);
            find(&state.spikes, &rule.name)
                .map_or(Verdict::Unchanged, |s| s.verdict(config, learning))
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
        Detector::MeterOffline(config) => state.offline.verdict(ms(&now), config),
        Detector::MeterFault(config) => state.fault.verdict(config),
    }
}

fn summary(
    rules: &RuleSet,
    who: &Who<'_>,
    rule: &Rule,
    state: &MeterState,
    now: Timestamp,
    verdict: Verdict,
) -> String {
    let offset = state.offset();
    let learning = state.baseline.learning(&rules.baseline);
    let none = || "No data yet.".to_owned();
    match &rule.detector {
        Detector::Inactivity(config) => state.inactivity.summary_in(
            who.language(),
            &inactivity_limit(rules, &inactivity_config(rules, who, config), state),
            verdict,
            offset,
        ),
        Detector::ContinuousFlow(config) => find(&state.flows, &rule.name)
            .map_or_else(none, |s| s.summary(config, learning, verdict, offset)),
        Detector::Spike(config) => find(&state.spikes, &rule.name)
            .map_or_else(none, |s| s.summary(config, learning, verdict, offset)),
        Detector::UsageDrop(config) => state
            .daily
            .assess(&usage_drop_config(rules, who, config))
            .map_or_else(
                || "Not enough days of data to compare daily use.".to_owned(),
                |a| a.summary(verdict, who.language()),
            ),
        Detector::MeterOffline(config) => state.offline.summary(ms(&now), config, verdict, offset),
        Detector::MeterFault(config) => state.fault.summary(config, verdict),
    }
}

#[cfg(test)]
mod tests;
