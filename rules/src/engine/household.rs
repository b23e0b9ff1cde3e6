//! Households with more than one meter (a hot-water meter beside the cold
//! one): water used on any of them counts for all.

use super::{Engine, Scope};
use crate::event::AlertEvent;
use crate::reading::Timestamp;

impl Engine {
    /// Names the household a meter belongs to (by default, the meter
    /// itself). Water used on any of a household's meters counts for all
    /// of them: a hot-water meter quiet all day beside a cold one in use
    /// raises no inactivity alert.
    pub fn set_household(&mut self, meter_id: impl Into<String>, household: impl Into<String>) {
        let (meter_id, household) = (meter_id.into(), household.into());
        if let Some(&i) = self.index.get(&meter_id) {
            // Its `[[household]]` limits may differ.
            self.states[i].memo.clear();
        }
        if let Some(old) = self.households.get(&meter_id)
            && let Some(meters) = self.household_meters.get_mut(old)
        {
            meters.retain(|m| *m != meter_id);
            if meters.is_empty() {
                self.household_meters.remove(old.as_str());
            }
        }
        let meters = self.household_meters.entry(household.clone()).or_default();
        if !meters.contains(&meter_id) {
            meters.push(meter_id.clone());
        }
        let old = self.households.insert(meter_id, household.clone());
        for h in old.iter().chain([&household]) {
            self.mark_sharing(h);
        }
    }

    /// Whether `meter_id`'s household has other meters.
    pub(super) fn shares_household(&self, meter_id: &str) -> bool {
        self.households
            .get(meter_id)
            .and_then(|h| self.household_meters.get(h))
            .is_some_and(|meters| meters.len() > 1)
    }

    /// Tells each known meter of `household` whether it shares it.
    pub(super) fn mark_sharing(&mut self, household: &str) {
        let Some(meters) = self.household_meters.get(household) else {
            return;
        };
        let shared = meters.len() > 1;
        for meter in meters {
            if let Some(&i) = self.index.get(meter.as_str()) {
                self.states[i].memo.shares_household = shared;
            }
        }
    }

    /// Water was used on `meter_id` up to `at_ms`: the quiet of its
    /// household's other meters is watched again from then (an inactivity
    /// alert on one of them resolves now). Returns the events.
    #[inline(never)]
    pub(super) fn used_elsewhere(
        &mut self,
        meter_id: &str,
        at_ms: i64,
        now: Timestamp,
        now_ms: i64,
    ) -> Vec<AlertEvent> {
        let others: Vec<usize> = self
            .households
            .get(meter_id)
            .and_then(|h| self.household_meters.get(h))
            .into_iter()
            .flatten()
            .filter(|m| *m != meter_id)
            .filter_map(|m| self.index.get(m.as_str()).copied())
            .collect();
        let mut events = Vec::new();
        for j in others {
            let state = &mut self.states[j];
            if state.inactivity.used_elsewhere(at_ms) && state.inactivity_firing() {
                events.extend(self.evaluate_meter(
                    j,
                    (now, now_ms),
                    Scope::Reading { used: false },
                ));
            }
        }
        events
    }
}
