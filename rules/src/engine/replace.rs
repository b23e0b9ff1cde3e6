//! Meters coming and going. A meter replaced by another in the same home
//! (a dead battery, a swap): the old one is no longer watched, and the new
//! one starts from what the old one learned of the household instead of
//! from nothing. A meter listed for a household but never heard from: it
//! is expected all the same, so its silence is reported.

use super::{Engine, MeterState};
use crate::event::{AlertEvent, Transition};
use crate::reading::Timestamp;
use crate::rule::meter_offline::Awaited;
use crate::rule::ms;
use crate::text::Language;

impl Engine {
    /// `old` was replaced by `new` in the same home, at `now`. `old`
    /// leaves the engine: it is watched no more, and water on it no longer
    /// counts for its household. Its alerts about the meter itself
    /// (meter_offline, meter_fault) resolve: the events, saying so. Its
    /// alerts about the household's water use (inactivity, flow, spike,
    /// usage_drop) are not resolved: a swap shows nobody is fine, so the
    /// caller's case keeps them until a person closes it.
    ///
    /// Unless `new` has already seen as many days with use, it takes over
    /// what `old` learned of the household (see [`MeterState::inherit`]),
    /// so its learned rules need no second learning period; what it has
    /// seen of its own register, its current quiet stretch and its alerts
    /// stay its own. Never heard from, it is expected from `now` as often
    /// as `old` reported. `new` is created if the engine has not seen it,
    /// in `old`'s household unless it has one. Nothing happens for an
    /// unknown `old`, or when `old` is `new`.
    pub fn replace_meter(&mut self, old: &str, new: &str, now: Timestamp) -> Vec<AlertEvent> {
        let Some(&i) = self.index.get(old).filter(|_| old != new) else {
            return Vec::new();
        };
        let household = self.households.get(old).cloned();
        if !self.households.contains_key(new)
            && let Some(household) = &household
        {
            self.set_household(new, household);
        }
        let household = household.unwrap_or_else(|| old.to_owned());
        let language = self.household_language(&household);
        let state = self.remove(i);
        let j = self.position(new);
        let successor = &mut self.states[j];
        if successor.baseline.days() < state.baseline.days() {
            successor.inherit(&state);
        }
        // Expected as often as the old one reported, from now.
        successor
            .offline
            .await_first(ms(&now), Awaited::Replacement, Some(&state.offline));
        let summary = replaced_text(language, old, new);
        state
            .alerts
            .iter()
            .filter(|alert| alert.kind.is_about_meter())
            .map(|alert| AlertEvent {
                ts: now,
                household: household.clone(),
                meter_id: old.to_owned(),
                rule: alert.rule.clone(),
                kind: alert.kind,
                event: Transition::Resolved,
                severity: alert.severity,
                summary: summary.clone(),
            })
            .collect()
    }

    /// `meter_id` is listed for a household but has never been heard from:
    /// it is expected from `since` on, and draws meter_offline when it
    /// stays silent past the rule's `after` (a meter id mistyped in the
    /// configuration would otherwise leave the household unwatched without
    /// a word). Nothing changes for a meter heard from.
    pub fn expect_meter(&mut self, meter_id: &str, since: Timestamp) {
        let i = self.position(meter_id);
        let state = &mut self.states[i];
        if state.never_heard() {
            // Its texts speak the time of `since` until it is heard from.
            state.offset_s = since.offset().local_minus_utc();
        }
        state.offline.await_first(ms(&since), Awaited::Listed, None);
    }

    /// Takes the meter at position `i` out of the engine and its household.
    fn remove(&mut self, i: usize) -> MeterState {
        let id = self.ids.swap_remove(i);
        let state = self.states.swap_remove(i);
        self.index.remove(&id);
        let moved = self.ids.len();
        self.order.retain(|&k| k != i);
        if i < moved {
            // The last meter took position `i`.
            self.index.insert(self.ids[i].clone(), i);
            for k in &mut self.order {
                if *k == moved {
                    *k = i;
                }
            }
        }
        if let Some(household) = self.households.remove(&id) {
            if let Some(meters) = self.household_meters.get_mut(&household) {
                meters.retain(|m| *m != id);
                if meters.is_empty() {
                    self.household_meters.remove(&household);
                }
            }
            self.mark_sharing(&household);
        }
        state
    }
}

impl MeterState {
    /// Takes over what `from`, the meter this one replaces in the same
    /// home, learned of the household: its rhythm (the baseline), its daily
    /// totals (usage_drop), its runs and busiest rates (learned
    /// continuous_flow and spike rules, matched by rule name). Not its
    /// register, quiet stretch, drip, offline or fault facts, nor its
    /// alerts: those belong to the meter.
    pub(crate) fn inherit(&mut self, from: &MeterState) {
        self.baseline.inherit(&from.baseline);
        self.daily.inherit(&from.daily);
        for (name, flow) in &mut self.flows {
            if let Some((_, old)) = from.flows.iter().find(|(n, _)| n == name) {
                flow.inherit(old);
            }
        }
        for (name, spike) in &mut self.spikes {
            if let Some((_, old)) = from.spikes.iter().find(|(n, _)| n == name) {
                spike.inherit(old);
            }
        }
        if self.never_heard() {
            // Not heard from yet: its texts speak the household's time.
            self.offset_s = from.offset_s;
        }
        self.memo.clear();
    }
}

fn replaced_text(language: Language, old: &str, new: &str) -> String {
    match language {
        Language::En => {
            format!("Meter {old} was replaced by {new}, which watches this home from now on.")
        }
        Language::ZhCn => format!("水表{old}已更换为{new}，此后由新水表看护这户人家。"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;
    use crate::reading::Reading;

    fn reading(meter: &str, minutes: i64, total_l: f64) -> Reading {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-24T00:00:00+08:00").unwrap();
        Reading {
            meter_id: meter.into(),
            ts: start + chrono::Duration::minutes(minutes),
            total_l,
            flow_lpm: None,
            battery_pct: None,
            rssi_dbm: None,
            status: vec![],
        }
    }

    #[test]
    fn the_other_meters_are_found_as_before_after_one_leaves() {
        let mut engine = Engine::new(RuleSet::default_rules());
        for (i, meter) in ["c", "a", "d", "b"].into_iter().enumerate() {
            engine.observe(
                &reading(meter, 0, 100.0 * i as f64),
                reading(meter, 0, 0.0).ts,
            );
        }
        let totals = |e: &Engine| {
            e.meters()
                .map(|m| (m.to_owned(), e.state(m).map(|s| s.track.clone())))
                .collect::<Vec<_>>()
        };
        let before = totals(&engine);
        let now = reading("a", 5, 0.0).ts;
        // "a" sits in the middle of the positions: "b", the last, moves there.
        engine.replace_meter("a", "e", now);
        let after = totals(&engine);
        let kept: Vec<_> = before.into_iter().filter(|(m, _)| m != "a").collect();
        assert_eq!(after[..3], kept[..]);
        assert_eq!(after[3].0, "e");
        // Readings still reach the right meters.
        engine.observe(&reading("b", 15, 320.0), reading("b", 15, 0.0).ts);
        assert!(engine.state("b").is_some() && engine.state("a").is_none());
        assert_eq!(engine.meters().collect::<Vec<_>>(), ["b", "c", "d", "e"]);
        assert!(
            engine.replace_meter("a", "e", now).is_empty(),
            "gone already"
        );
    }

    #[test]
    fn the_text_names_both_meters() {
        let en = replaced_text(Language::En, "m-1", "m-2");
        assert!(en.contains("m-1") && en.contains("m-2"), "{en}");
        let zh = replaced_text(Language::ZhCn, "m-1", "m-2");
        assert!(zh.contains("m-1") && zh.contains("m-2"), "{zh}");
    }
}
