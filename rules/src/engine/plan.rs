//! The enabled rules as the hot path asks them: each rule's position in the
//! rules file, its kind and its per-meter slot, and the subsets a quiet
//! reading and a tick ask.

use crate::config::RuleSet;
use crate::event::Kind;

/// An enabled rule as the hot path needs it: where it is in the rules
/// file, its kind, and (continuous_flow, spike) its per-meter slot.
#[derive(Debug, Clone, Copy)]
pub(super) struct Planned {
    pub(super) position: usize,
    pub(super) kind: Kind,
    pub(super) slot: usize,
}

/// The enabled rules, as the hot path asks them.
pub(super) struct Plan {
    /// Every enabled rule, in order, with its slot.
    pub(super) all: Vec<Planned>,
    /// Those that can start firing on a reading without use or status
    /// flags (inactivity, usage_drop), in the same order: with no alert
    /// firing, the others cannot change on it (see `evaluate::cannot_fire`).
    pub(super) without_use: Vec<Planned>,
    /// Those a tick asks: only time can change meter_offline's verdict.
    pub(super) on_tick: Vec<Planned>,
}

impl Plan {
    pub(super) fn new(rules: &RuleSet) -> Plan {
        let all = plan(rules);
        let only = |kinds: &[Kind]| {
            all.iter()
                .filter(|p| kinds.contains(&p.kind))
                .copied()
                .collect()
        };
        Plan {
            without_use: only(&[Kind::Inactivity, Kind::UsageDrop]),
            on_tick: only(&[Kind::MeterOffline]),
            all,
        }
    }
}

/// The enabled rules of `rules`, in order, with their slots.
fn plan(rules: &RuleSet) -> Vec<Planned> {
    let (mut flows, mut spikes) = (0, 0);
    let mut plan = Vec::new();
    for (position, rule) in rules.rules.iter().enumerate() {
        if !rule.enabled {
            continue;
        }
        let kind = rule.detector.kind();
        let counter = match kind {
            Kind::ContinuousFlow => &mut flows,
            Kind::Spike => &mut spikes,
            _ => &mut 0,
        };
        plan.push(Planned {
            position,
            kind,
            slot: *counter,
        });
        *counter += 1;
    }
    plan
}

/// The positions of the planned rules of `kind`, in slot order.
pub(super) fn positions(plan: &[Planned], kind: Kind) -> Vec<usize> {
    plan.iter()
        .filter(|p| p.kind == kind)
        .map(|p| p.position)
        .collect()
}
