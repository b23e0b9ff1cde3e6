//! The engine's list of meters: their states in order of first sight, found
//! by id through the index and listed in id order.

use super::{Engine, MeterState};

impl Engine {
    /// Puts `state` in as `meter_id`'s (replacing any it had); its position.
    pub(super) fn insert(&mut self, meter_id: String, mut state: MeterState) -> usize {
        state.memo.shares_household = self.shares_household(&meter_id);
        if let Some(&i) = self.index.get(&meter_id) {
            self.states[i] = state;
            return i;
        }
        let i = self.states.len();
        // Meters restored in id order each come last: no search needed.
        let last = self.order.last().map(|&j| self.ids[j].as_str());
        if last.is_none_or(|last| last < meter_id.as_str()) {
            self.order.push(i);
        } else {
            let at = self
                .order
                .partition_point(|&j| self.ids[j].as_str() < meter_id.as_str());
            self.order.insert(at, i);
        }
        self.index.insert(meter_id.clone(), i);
        self.ids.push(meter_id);
        self.states.push(state);
        i
    }

    /// Makes room for `meters` more meters (before restoring that many).
    pub fn reserve(&mut self, meters: usize) {
        self.states.reserve_exact(meters);
        self.ids.reserve_exact(meters);
        self.order.reserve_exact(meters);
        self.index.reserve(meters);
        self.households.reserve(meters);
    }

    /// Gives back the room the meter lists grew into while many meters
    /// were restored (up to twice their size); for after a start.
    pub fn shrink_to_fit(&mut self) {
        self.states.shrink_to_fit();
        self.ids.shrink_to_fit();
        self.order.shrink_to_fit();
        self.index.shrink_to_fit();
    }

    /// The meters seen or restored, in id order.
    pub fn meters(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(|&i| self.ids[i].as_str())
    }
}
