//! The detectors: one file per alert kind, each a small serde-serialisable
//! state plus pure functions, and the typed config of its `[[rule]]` table.
//!
//! A detector never decides to *send* anything. It is fed usage intervals (or
//! arrivals, or flags) and, asked for a [`Verdict`], says whether its condition
//! holds; the engine compares that with the alerts it already has and emits
//! `fired`/`resolved` only on a change. Texts are written only on a change too.

use std::time::Duration;

use crate::reading::Timestamp;

pub mod continuous_flow;
pub mod histogram;
pub mod inactivity;
pub mod meter_fault;
pub mod meter_offline;
pub mod spike;
pub mod usage_drop;

/// What a detector concludes from the facts it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The condition holds: the alert should be firing.
    Firing,
    /// The condition is over: a firing alert should resolve.
    Clear,
    /// Nothing proves either (e.g. a flow run still in progress at a low rate).
    Unchanged,
}

/// Less than this many litres is no use (float noise of m³ registers).
pub(crate) const EPSILON_L: f64 = 1e-6;

pub(crate) const MINUTE_MS: f64 = 60_000.0;

/// A reported flow at or below this is no flow (a meter's float noise).
const NO_FLOW_LPM: f64 = 0.01;
/// A reported flow above this is not believed (a meter reporting in the
/// wrong unit, e.g. L/h as L/min): no household pipe carries it (compare
/// `[normalise] max_rate_lpm`, 200 by default).
pub const MAX_BELIEVED_FLOW_LPM: f64 = 200.0;

/// A reported flow (`Reading::flow_lpm`) worth counting: finite, above
/// zero and believable.
pub(crate) fn believed(flow_lpm: Option<f64>) -> Option<f64> {
    flow_lpm.filter(|f| f.is_finite() && *f > NO_FLOW_LPM && *f <= MAX_BELIEVED_FLOW_LPM)
}

pub(crate) fn ms(ts: &Timestamp) -> i64 {
    ts.timestamp_millis()
}

pub(crate) fn duration_ms(d: Duration) -> i64 {
    // Design: on the hot path; avoids `as_millis`' 128-bit arithmetic.
    i64::try_from(d.as_secs())
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .map_or(i64::MAX, |ms| ms + i64::from(d.subsec_millis()))
}
