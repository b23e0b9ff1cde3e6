//! One household: its person's habits, the water uses planned so far, and
//! what scenarios did to it (a collapse, a tap left running, a burst pipe).
//!
//! Days are planned lazily, one at a time and in order, from the household's
//! own random stream, so the uses do not depend on how far or in what steps
//! the simulation is advanced.

use std::collections::VecDeque;

use rand::SeedableRng;
use rand::rngs::SmallRng;

use crate::behaviour::{Habits, WaterEvent, plan_day};
use crate::clock::DAY;

pub(crate) struct Household {
    habits: Habits,
    rng: SmallRng,
    /// Local midnight of the next day to plan.
    next_day: i64,
    /// Planned uses not yet handed on, by start.
    pending: VecDeque<WaterEvent>,
    /// Reused buffer for planning a day.
    scratch: Vec<WaterEvent>,
    /// The person stops all use from here on.
    collapsed_at: Option<i64>,
}

impl Household {
    /// A household whose first planned day starts at local midnight `first_day`.
    pub(crate) fn new(seed: u64, first_day: i64) -> Household {
        let mut rng = SmallRng::seed_from_u64(seed);
        let habits = Habits::draw(&mut rng);
        Household {
            habits,
            rng,
            next_day: first_day,
            pending: VecDeque::new(),
            scratch: Vec::new(),
            collapsed_at: None,
        }
    }

    /// The person collapses at `at`: their own water use stops there, even
    /// mid-use; flows that are not theirs (a burst pipe) go on.
    pub(crate) fn collapse(&mut self, at: i64) {
        self.collapsed_at = Some(self.collapsed_at.map_or(at, |c| c.min(at)));
    }

    /// Adds a flow that is not part of the daily routine (a scenario).
    pub(crate) fn add_flow(&mut self, ev: WaterEvent) {
        let i = self.pending.partition_point(|p| p.start <= ev.start);
        self.pending.insert(i, ev);
    }

    /// Hands every use starting at or before `t` to `sink`, in start order,
    /// planning days as needed.
    pub(crate) fn uses_until(&mut self, t: i64, mut sink: impl FnMut(WaterEvent)) {
        // A day's uses all start after its midnight, so once the day holding
        // `t` is planned every use starting by `t` is known.
        while self.next_day <= t {
            self.plan_next_day();
        }
        while let Some(ev) = self.pending.front().copied() {
            if ev.start > t {
                break;
            }
            self.pending.pop_front();
            if let Some(ev) = self.after_collapse(ev) {
                sink(ev);
            }
        }
    }

    fn plan_next_day(&mut self) {
        self.scratch.clear();
        plan_day(
            &self.habits,
            &mut self.rng,
            self.next_day,
            &mut self.scratch,
        );
        self.next_day += DAY;
        self.pending.extend(self.scratch.drain(..));
        self.pending.make_contiguous().sort_by_key(|e| e.start);
    }

    /// What is left of a use once a collapse is taken into account.
    fn after_collapse(&self, mut ev: WaterEvent) -> Option<WaterEvent> {
        match self.collapsed_at {
            Some(at) if ev.kind.is_personal() => {
                if ev.start >= at {
                    return None;
                }
                ev.end = ev.end.min(at);
                Some(ev)
            }
            _ => Some(ev),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::Use;

    fn uses(h: &mut Household, until: i64) -> Vec<WaterEvent> {
        let mut out = Vec::new();
        h.uses_until(until, |e| out.push(e));
        out
    }

    #[test]
    fn uses_come_out_in_start_order_whatever_the_step() {
        let mut a = Household::new(3, 0);
        let mut b = Household::new(3, 0);
        let all = uses(&mut a, 5 * DAY);
        let mut stepped = Vec::new();
        for t in (0..=5 * DAY).step_by(900) {
            stepped.extend(uses(&mut b, t));
        }
        assert_eq!(all, stepped);
        assert!(all.windows(2).all(|w| w[0].start <= w[1].start));
    }

    #[test]
    fn a_collapse_cuts_personal_uses_but_not_a_burst_pipe() {
        let mut h = Household::new(3, 0);
        h.collapse(DAY + 9 * 3600);
        h.add_flow(WaterEvent::open_ended(DAY + 10 * 3600, 40.0, Use::Burst));
        let all = uses(&mut h, 3 * DAY);
        assert!(
            all.iter()
                .filter(|e| e.kind.is_personal())
                .all(|e| e.end <= DAY + 9 * 3600)
        );
        assert!(all.iter().any(|e| e.kind == Use::Burst));
    }
}
