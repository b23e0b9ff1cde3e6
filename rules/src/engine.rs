//! The rules engine: readings and `now` in, alert events out.
//!
//! Per meter it keeps a [`MeterState`] (register track, detector facts, firing
//! alerts), feeds each reading through the normaliser into the detectors, asks
//! every enabled rule for its [`Verdict`](crate::Verdict) and emits
//! `fired`/`resolved` only when that changes what is firing: each (meter,
//! rule) alert fires once and resolves once. Time is an argument; every
//! event's `ts` is the `now` given.
//!
//! `state.rs` holds [`MeterState`]; `evaluate.rs` turns verdicts into events.
//!
// Design: the hot path (one reading) finds its meter by a cheap hash of the
// id, its per-rule state by position (slots are lined up with the rules
// whenever either changes) and its firing alerts' rules by cached position,
// so no string is compared per reading.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::baseline::Baseline;
use crate::config::{Detector, RuleSet};
use crate::event::{AlertEvent, Kind, Severity};
use crate::normalise::{Fate, MAX_AHEAD_MS, Note};
use crate::reading::{Reading, Timestamp};
use crate::rule::{EPSILON_L, ms};
use crate::text::Language;

mod evaluate;
mod household;
mod id_hash;
mod meters;
mod plan;
mod replace;
mod state;

pub use state::MeterState;

use evaluate::evaluate;
use id_hash::IdMap;
use plan::{Plan, positions};

/// What one reading did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    pub events: Vec<AlertEvent>,
    /// What the normaliser noticed, for metrics.
    pub notes: Vec<Note>,
    /// The reading showed a person's use: more water than a steady drip
    /// (the daily reassurance must not take a drip for someone up).
    pub person_used: bool,
}

/// A firing alert of one rule on one meter.
///
// Design: the text it fired with is not kept: it went out with the `fired`
// event (the daemon's case keeps it), the `resolved` text is worked out
// from the detectors' facts, and a stored state has no room for texts
// (150–250 B each). States written with a `summary` still load.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveAlert {
    pub rule: String,
    pub kind: Kind,
    pub severity: Severity,
    /// The `now` it fired at.
    pub since: Timestamp,
}

/// Which rules an evaluation asks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// After a reading: every rule. `used`: the reading showed use, an
    /// unknown span or closed a day.
    Reading { used: bool },
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
    /// The enabled rules, for the hot path.
    plan: Plan,
    /// Positions of the enabled continuous_flow and spike rules, in slot order.
    flow_rules: Vec<usize>,
    spike_rules: Vec<usize>,
    /// Bumped whenever the rules change.
    generation: u64,
    /// Per meter, in order of first sight.
    states: Vec<MeterState>,
    ids: Vec<String>,
    index: IdMap<usize>,
    /// Positions in `states`, by meter id.
    order: Vec<usize>,
    households: IdMap<String>,
    /// The meters of each named household, by household.
    household_meters: IdMap<Vec<String>>,
    /// Alert-text language by household (default English).
    languages: HashMap<String, Language>,
}

impl Engine {
    pub fn new(rules: RuleSet) -> Engine {
        let plan = Plan::new(&rules);
        Engine {
            flow_rules: positions(&plan.all, Kind::ContinuousFlow),
            spike_rules: positions(&plan.all, Kind::Spike),
            plan,
            rules,
            generation: 1,
            states: Vec::new(),
            ids: Vec::new(),
            index: HashMap::default(),
            order: Vec::new(),
            households: IdMap::default(),
            household_meters: IdMap::default(),
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
        for state in &mut self.states {
            state.align(&rules);
        }
        self.plan = Plan::new(&rules);
        self.flow_rules = positions(&self.plan.all, Kind::ContinuousFlow);
        self.spike_rules = positions(&self.plan.all, Kind::Spike);
        self.rules = rules;
        self.generation += 1;
    }

    /// The position of a meter's state, created (lined up with the rules) if new.
    #[inline]
    fn position(&mut self, meter_id: &str) -> usize {
        match self.index.get(meter_id) {
            Some(&i) => i,
            None => self.create(meter_id),
        }
    }

    /// A new meter's state, lined up with the rules; its position.
    fn create(&mut self, meter_id: &str) -> usize {
        let mut state = MeterState::default();
        state.align(&self.rules);
        self.insert(meter_id.to_owned(), state)
    }

    /// Everything the engine knows about a meter, borrowed (to serialise
    /// it without the copy [`Engine::meter_state`] makes).
    pub fn state(&self, meter_id: &str) -> Option<&MeterState> {
        self.index.get(meter_id).map(|&i| &self.states[i])
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
        let state = self.state(meter_id)?;
        Some(BaselineStatus {
            learning: state.baseline.learning(&self.rules.baseline),
            days_seen: state.baseline.days(),
            learning_days: self.rules.baseline.learning_days,
        })
    }

    /// Replaces what was learned about a meter's household, creating the
    /// meter if needed (the benchmark's oracle; a meter swapped for another
    /// hands over with [`Engine::replace_meter`]).
    pub fn set_baseline(&mut self, meter_id: impl Into<String>, mut baseline: Baseline) {
        baseline.normalise_shape();
        let i = self.position(&meter_id.into());
        self.states[i].baseline = baseline;
        self.states[i].memo.clear();
    }

    /// Takes one reading observed at `now`. A reading not newer than the
    /// meter's newest, or stamped more than an hour after `now`, changes
    /// nothing; its notes say why.
    pub fn observe(&mut self, reading: &Reading, now: Timestamp) -> Outcome {
        let ts_ms = ms(&reading.ts);
        let now_ms = if now == reading.ts { ts_ms } else { ms(&now) };
        if ts_ms - now_ms > MAX_AHEAD_MS {
            return Outcome {
                events: Vec::new(),
                notes: vec![Note::Future],
                person_used: false,
            };
        }
        let i = self.position(&reading.meter_id);
        let rules = &self.rules;
        let state = &mut self.states[i];
        let step = state.track.step_at(reading, ts_ms, &rules.normalise);
        if step.fate == Fate::Ignored {
            return Outcome {
                events: Vec::new(),
                notes: step.notes,
                person_used: false,
            };
        }
        state.offline.arrival(now_ms, ts_ms);
        state.offset_s = reading.ts.offset().local_minus_utc();
        state.fault.reading(&reading.status);
        let mut used = step.fate == Fate::First || step.unknown.is_some();
        if step.fate == Fate::First {
            state.inactivity.first_reading(ts_ms);
        }
        if let Some(span) = &step.unknown {
            let (start, end) = (ms(&span.start), ms(&span.end));
            state.inactivity.unknown(start, end);
            state.background.unknown();
            state.baseline.unknown();
            state.daily.usage(start, end, 0.0, state.offset_s, false);
            for (_, flow) in &mut state.flows {
                flow.unknown(start, end);
            }
        }
        // A person's use, less a steady drip's (all of it in most homes).
        let mut person = 0.0;
        if let Some(usage) = &step.usage {
            let (start, end, litres) = (usage.start_ms, usage.end_ms, usage.litres);
            person = state.background.person_litres(start, end, litres);
            state.inactivity.usage(start, end, person);
            let days = state.baseline.days();
            let learned = state
                .baseline
                .usage(start, end, person, state.offset_s, &rules.baseline);
            // A stretch an inactivity alert fired on is kept aside, in case
            // someone reports the resident was in need (`confirm_incident`).
            if let Some(learned) = learned
                && state.inactivity_firing()
            {
                state.baseline.remember_alerted(learned, &rules.baseline);
            }
            state.daily.usage(start, end, person, state.offset_s, true);
            state.offline.register(litres > EPSILON_L);
            used |= litres > EPSILON_L || state.baseline.days() != days;
            if state.baseline.days() != days {
                let keep = rules.baseline.keep_per_day;
                state.flows.iter_mut().for_each(|(_, f)| f.close_day(keep));
                // An incident still firing over midnight is not learned as
                // the household's busiest hour: it would end its own alert.
                let alerts = &state.alerts;
                for (name, spike) in &mut state.spikes {
                    let firing = alerts.iter().any(|a| a.rule == *name);
                    spike.close_day(keep, firing);
                }
            }
            // The slots are lined up with the enabled rules (`align`).
            for (&position, (_, flow)) in self.flow_rules.iter().zip(&mut state.flows) {
                if let Some(Detector::ContinuousFlow(config)) =
                    rules.rules.get(position).map(|r| &r.detector)
                {
                    flow.usage(start, end, litres, config);
                    flow.reported_flow(start, end, litres, reading.flow_lpm, config);
                }
            }
            for (&position, (_, spike)) in self.spike_rules.iter().zip(&mut state.spikes) {
                if let Some(Detector::Spike(config)) =
                    rules.rules.get(position).map(|r| &r.detector)
                {
                    spike.usage(start, end, litres, config);
                    spike.reported_flow(start, end, litres, reading.flow_lpm, config);
                }
            }
        }
        let who = Who {
            meter_id: &reading.meter_id,
            households: &self.households,
            languages: &self.languages,
        };
        let mut events = evaluate(
            rules,
            &self.plan,
            self.generation,
            &who,
            state,
            (now, now_ms),
            Scope::Reading { used },
        );
        if state.memo.shares_household
            && let Some(usage) = step.usage.as_ref().filter(|_| person > EPSILON_L)
        {
            events.extend(self.used_elsewhere(&reading.meter_id, usage.end_ms, now, now_ms));
        }
        Outcome {
            events,
            notes: step.notes,
            person_used: person > EPSILON_L,
        }
    }

    /// A person confirmed the meter's resident fine at `at` (the resident
    /// answered "I'm OK", or someone who checked closed the case): an
    /// inactivity alert resolves, and fires again only when the quiet since
    /// `at` is too long as well, as for a stretch begun then. Without this a
    /// case closed while the quiet goes on would leave the alert silent until
    /// water runs again. The baseline learns nothing from it. Returns the
    /// events (resolutions); none for an unknown meter or an older `at`.
    pub fn confirm_fine(&mut self, meter_id: &str, at: Timestamp) -> Vec<AlertEvent> {
        let Some(&i) = self.index.get(meter_id) else {
            return Vec::new();
        };
        let at_ms = ms(&at);
        if !self.states[i].inactivity.confirm_fine(at_ms) {
            return Vec::new();
        }
        self.evaluate_meter(i, (at, at_ms), Scope::Reading { used: false })
    }

    /// A person found the meter's resident in need (a case closed as an
    /// emergency or a hospital stay): the quiet stretch an inactivity alert
    /// fired on was no usual day, so it must not make the next one look
    /// usual. While the quiet goes on, it will not be learned when water
    /// runs again; if water already ran (up to three days with use ago),
    /// what it taught — the stretch, and the morning it ended in — is taken
    /// back. Returns whether anything changed (nothing for an unknown meter
    /// or a stretch no alert fired on).
    pub fn confirm_incident(&mut self, meter_id: &str) -> bool {
        let Some(&i) = self.index.get(meter_id) else {
            return false;
        };
        let state = &mut self.states[i];
        let changed = if state.inactivity_firing() {
            state.baseline.unknown();
            true
        } else {
            state.baseline.forget_alerted(&self.rules.baseline)
        };
        if changed {
            // Learned limits were worked out from what is taken back.
            state.memo.clear();
        }
        changed
    }

    /// A person found that what a continuous_flow alert fired on was a leak
    /// (a case closed as `leak`): a running toilet or a tap left open is
    /// not the household's use, so the run must not lengthen its limit.
    /// For each continuous_flow rule: while its alert fires, the run will
    /// not be learned when it ends; a run learned while it fired (up to
    /// three days with use ago) is taken back. Returns whether anything
    /// changed (nothing for an unknown meter or one no flow alert fired on).
    pub fn confirm_leak(&mut self, meter_id: &str) -> bool {
        let Some(&i) = self.index.get(meter_id) else {
            return false;
        };
        let mut changed = false;
        for (_, flow) in &mut self.states[i].flows {
            changed |= flow.confirm_leak();
        }
        changed
    }

    /// Evaluates the rules time alone can change (meter_offline) for every
    /// meter, plus the withdrawal of alerts whose rule is gone.
    pub fn tick(&mut self, now: Timestamp) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        let now_ms = ms(&now);
        for k in 0..self.order.len() {
            let i = self.order[k];
            events.extend(self.evaluate_meter(i, (now, now_ms), Scope::Tick));
        }
        events
    }

    /// Evaluates the meter at position `i` at `now` for `scope`.
    fn evaluate_meter(&mut self, i: usize, now: (Timestamp, i64), scope: Scope) -> Vec<AlertEvent> {
        let who = Who {
            meter_id: &self.ids[i],
            households: &self.households,
            languages: &self.languages,
        };
        evaluate(
            &self.rules,
            &self.plan,
            self.generation,
            &who,
            &mut self.states[i],
            now,
            scope,
        )
    }

    /// A copy of everything the engine knows about a meter, to store.
    pub fn meter_state(&self, meter_id: &str) -> Option<MeterState> {
        self.state(meter_id).cloned()
    }

    /// Puts back a stored [`MeterState`].
    pub fn restore_meter(&mut self, meter_id: impl Into<String>, mut state: MeterState) {
        state.baseline.normalise_shape();
        state.align(&self.rules);
        self.insert(meter_id.into(), state);
    }

    /// The alerts firing on a meter.
    pub fn active_alerts(&self, meter_id: &str) -> &[ActiveAlert] {
        self.state(meter_id).map_or(&[], |s| &s.alerts)
    }
}

/// The meter being evaluated; its household and language are looked up only
/// when an event needs them (the hot path rarely does).
struct Who<'a> {
    meter_id: &'a str,
    households: &'a IdMap<String>,
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

#[cfg(test)]
mod tests;
