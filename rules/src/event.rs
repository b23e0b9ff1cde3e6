//! What the engine says: an alert fired or resolved, in the replay contract's shape.

use serde::{Deserialize, Serialize};

use crate::reading::Timestamp;

/// The kinds of alert DESIGN.md names; the wire spelling is snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Inactivity,
    ContinuousFlow,
    Spike,
    UsageDrop,
    MeterOffline,
    MeterFault,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Inactivity => "inactivity",
            Kind::ContinuousFlow => "continuous_flow",
            Kind::Spike => "spike",
            Kind::UsageDrop => "usage_drop",
            Kind::MeterOffline => "meter_offline",
            Kind::MeterFault => "meter_fault",
        }
    }

    /// Whether the alert is about the meter itself (offline, a fault it
    /// reports) rather than the household's water use.
    pub fn is_about_meter(self) -> bool {
        matches!(self, Kind::MeterOffline | Kind::MeterFault)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Fired,
    Resolved,
}

impl Transition {
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Fired => "fired",
            Transition::Resolved => "resolved",
        }
    }
}

/// One alert event. Field order is the replay output contract:
/// `{"ts","household","meter_id","rule","kind","event","severity","summary"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    #[serde(with = "ts_secs")]
    pub ts: Timestamp,
    pub household: String,
    pub meter_id: String,
    pub rule: String,
    pub kind: Kind,
    pub event: Transition,
    pub severity: Severity,
    pub summary: String,
}

/// RFC 3339 with whole seconds and a numeric offset (`2026-01-20T09:15:00+08:00`).
pub mod ts_secs {
    use chrono::{DateTime, SecondsFormat};
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    use crate::reading::Timestamp;

    pub fn format(ts: &Timestamp) -> String {
        ts.to_rfc3339_opts(SecondsFormat::Secs, false)
    }

    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(ts))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&text).map_err(D::Error::custom)
    }
}
