//! [`MeterState`]: everything the engine knows about one meter, stored by
//! the daemon and restored with identical decisions afterwards.

use chrono::{FixedOffset, Offset, Utc};
use serde::{Deserialize, Serialize};

use super::ActiveAlert;
use crate::baseline::Baseline;
use crate::config::{Detector, RuleSet};
use crate::event::Kind;
use crate::normalise::MeterTrack;
use crate::rule::Verdict;
use crate::rule::continuous_flow::ContinuousFlow;
use crate::rule::inactivity::Inactivity;
use crate::rule::inactivity::background::Background;
use crate::rule::meter_fault::MeterFault;
use crate::rule::meter_offline::MeterOffline;
use crate::rule::spike::Spike;
use crate::rule::usage_drop::DailyUse;

/// Everything the engine knows about one meter: store it (as JSON) after each
/// transaction and hand it back with [`Engine::restore_meter`](crate::Engine::restore_meter); decisions then
/// continue exactly as if the engine had never stopped. Opaque on purpose.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MeterState {
    #[serde(default)]
    pub(super) track: MeterTrack,
    /// UTC offset of the newest reading, seconds: texts speak its local time.
    #[serde(default)]
    pub(super) offset_s: i32,
    #[serde(default)]
    pub(super) inactivity: Inactivity,
    /// A steady drip's share of the use, kept from inactivity and the
    /// baseline (`background.rs`).
    #[serde(default, skip_serializing_if = "is_quiet")]
    pub(super) background: Background,
    /// The household's learned rhythm.
    #[serde(default)]
    pub(super) baseline: Baseline,
    #[serde(default)]
    pub(super) offline: MeterOffline,
    #[serde(default)]
    pub(super) fault: MeterFault,
    /// Daily totals, for usage_drop rules.
    #[serde(default)]
    pub(super) daily: DailyUse,
    /// Per continuous_flow rule, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) flows: Vec<(String, ContinuousFlow)>,
    /// Per spike rule, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) spikes: Vec<(String, Spike)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) alerts: Vec<ActiveAlert>,
    /// Learned inactivity limits and usage_drop verdicts already worked
    /// out; derived, so neither stored nor compared.
    #[serde(skip)]
    pub(super) memo: Memo,
}

/// Results that change rarely, worked out once. `limits`: `(rule position,
/// quiet since, baseline days, limit ms)` per learned inactivity rule; the
/// limit depends only on these (the baseline changes only on use, which
/// moves `since`, or at a day's close, which bumps `days`). `drops`: `(rule
/// position, days closed, verdict)` per usage_drop rule. Replacing the rules
/// or a meter's household clears both. `alert_rules`: the position of the
/// rule of each firing alert, valid while `generation` is the engine's.
#[derive(Debug, Clone, Default)]
pub(super) struct Memo {
    pub(super) limits: Vec<(usize, i64, u32, i64)>,
    pub(super) drops: Vec<(usize, u32, Verdict)>,
    pub(super) generation: u64,
    pub(super) alert_rules: Vec<usize>,
    /// The meter's household has other meters (kept by `clear`: it is the
    /// engine's to set, see `household.rs`).
    pub(super) shares_household: bool,
}

impl Memo {
    pub(super) fn clear(&mut self) {
        *self = Memo {
            shares_household: self.shares_household,
            ..Memo::default()
        };
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

    /// Whether an inactivity alert is firing on this meter.
    pub fn inactivity_firing(&self) -> bool {
        self.alerts.iter().any(|a| a.kind == Kind::Inactivity)
    }

    /// The quiet stretch the readings prove so far, in milliseconds.
    pub fn quiet_ms(&self) -> Option<i64> {
        self.inactivity.quiet_ms()
    }

    /// A steady drip set aside from the meter's use, litres an hour (0:
    /// none): a register moving by no more than this is nobody's water.
    pub fn drip_lph(&self) -> f64 {
        self.background.rate_lph()
    }

    /// What has been learned about this meter's household.
    pub fn baseline(&self) -> &Baseline {
        &self.baseline
    }

    /// The state of the continuous_flow rule named `rule`, once it has seen
    /// a reading.
    pub fn flow(&self, rule: &str) -> Option<&ContinuousFlow> {
        self.flows
            .iter()
            .find(|(name, _)| name == rule)
            .map(|(_, f)| f)
    }

    /// No reading has reached the meter's register track yet.
    pub(super) fn never_heard(&self) -> bool {
        self.track == MeterTrack::default()
    }

    pub(super) fn offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.offset_s).unwrap_or_else(|| Utc.fix())
    }
}

impl MeterState {
    /// Lines the per-rule slots up with the enabled rules of `rules`, in
    /// order (the hot path then finds them by position): state of a rule
    /// whose name and kind are unchanged is kept, a new rule starts afresh,
    /// a removed one's state is dropped. Derived facts are forgotten.
    pub(super) fn align(&mut self, rules: &RuleSet) {
        // Exactly as many slots as rules: a meter's three flow slots in a
        // vector grown to four cost 100,000 meters 34 MB.
        let enabled = || rules.rules.iter().filter(|r| r.enabled);
        let count = |kind: Kind| enabled().filter(|r| r.detector.kind() == kind).count();
        let mut flows = Vec::with_capacity(count(Kind::ContinuousFlow));
        let mut spikes = Vec::with_capacity(count(Kind::Spike));
        for rule in enabled() {
            match rule.detector {
                Detector::ContinuousFlow(_) => flows.push(take(&mut self.flows, &rule.name)),
                Detector::Spike(_) => spikes.push(take(&mut self.spikes, &rule.name)),
                _ => {}
            }
        }
        self.flows = flows;
        self.spikes = spikes;
        self.memo.clear();
    }
}

/// The slot of the rule called `name`, taken out of `slots`, or a fresh one.
fn take<T: Default>(slots: &mut Vec<(String, T)>, name: &str) -> (String, T) {
    match slots.iter().position(|(n, _)| n == name) {
        Some(i) => slots.swap_remove(i),
        None => (name.to_owned(), T::default()),
    }
}

fn is_quiet(b: &Background) -> bool {
    *b == Background::default()
}
