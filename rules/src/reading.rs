//! One meter reading as the rules see it: the cumulative register at a moment.
//! Parsing wire formats is the daemon's job; this is the shape after parsing.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// A moment with the offset it was reported in (kept so alert texts and
/// replay output speak the household's local time).
pub type Timestamp = DateTime<FixedOffset>;

/// A validated reading of one meter's cumulative register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub meter_id: String,
    pub ts: Timestamp,
    /// Cumulative register in litres.
    pub total_l: f64,
    /// Instantaneous flow, when the meter reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_lpm: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub battery_pct: Option<f64>,
    /// Radio signal strength at the receiver (RSSI, dBm), when reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rssi_dbm: Option<f64>,
    /// Flags the meter itself reports, upper-case (`LEAK`, `BURST`, `TAMPER`, `LOW_BATTERY`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<String>,
}
