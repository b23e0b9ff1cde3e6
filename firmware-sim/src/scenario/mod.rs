//! Scenarios: what goes wrong in a household or at its meter, and when; their
//! parsing from command-line strings; and the ground truth a detector is
//! scored against.
//!
//! A scenario is written `KIND:HOUSEHOLD@WHEN[,KEY=VALUE]…`:
//!
//! | kind       | what happens from `WHEN` on                        | keys (default)  |
//! |------------|----------------------------------------------------|-----------------|
//! | `collapse` | the person stops all water use                     |                 |
//! | `tap`      | a tap is left running (on top of normal use)       | `lpm` (6)       |
//! | `burst`    | a pipe bursts (on top of normal use)               | `lpm` (40)      |
//! | `silent`   | the meter stops reporting                          |                 |
//! | `fault`    | the meter raises a status flag in every reading    | `flag` (`LEAK`) |
//!
//! `HOUSEHOLD` is the household's number, from 1 (`3` or `h0003`); `WHEN` is
//! an RFC 3339 timestamp or `+DURATION` after the simulation start
//! (`+2h`, `+1day 3h`, `+90min`). Examples: `collapse:3@2026-01-10T09:30:00+08:00`,
//! `tap:7@+2d,lpm=8`, `fault:2@+36h,flag=BURST`.

use std::fmt;

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde::{Deserialize, Serialize};

mod parse;

pub use parse::{ScenarioError, ScenarioSpec, When};

/// Flow of a tap left open unless the scenario says otherwise, L/min.
pub const DEFAULT_TAP_LPM: f64 = 6.0;
/// Flow of a burst pipe unless the scenario says otherwise, L/min.
pub const DEFAULT_BURST_LPM: f64 = 40.0;
/// Status flag of a meter fault unless the scenario says otherwise.
pub const DEFAULT_FAULT_FLAG: &str = "LEAK";

/// Something that happens to one household or its meter from `at` on.
/// Households are numbered from 1 (household 3 is meter `h0003`).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Scenario {
    /// The person collapses: all their water use stops.
    Collapse {
        household: usize,
        at: DateTime<FixedOffset>,
    },
    /// A tap is left running at `lpm` for the rest of the simulation.
    TapLeftOpen {
        household: usize,
        at: DateTime<FixedOffset>,
        lpm: f64,
    },
    /// A pipe bursts, running at `lpm` for the rest of the simulation.
    Burst {
        household: usize,
        at: DateTime<FixedOffset>,
        lpm: f64,
    },
    /// The meter stops reporting (water use goes on unseen).
    MeterSilent {
        household: usize,
        at: DateTime<FixedOffset>,
    },
    /// The meter raises `flag` (e.g. `LEAK`) in every reading.
    MeterFault {
        household: usize,
        at: DateTime<FixedOffset>,
        flag: String,
    },
}

/// The kind of a [`Scenario`], as named in ground truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScenarioKind {
    Collapse,
    TapLeftOpen,
    Burst,
    MeterSilent,
    MeterFault,
}

impl ScenarioKind {
    /// Every kind, in documentation order.
    pub const ALL: [ScenarioKind; 5] = [
        ScenarioKind::Collapse,
        ScenarioKind::TapLeftOpen,
        ScenarioKind::Burst,
        ScenarioKind::MeterSilent,
        ScenarioKind::MeterFault,
    ];

    /// The name used on the command line.
    pub fn cli_name(self) -> &'static str {
        match self {
            ScenarioKind::Collapse => "collapse",
            ScenarioKind::TapLeftOpen => "tap",
            ScenarioKind::Burst => "burst",
            ScenarioKind::MeterSilent => "silent",
            ScenarioKind::MeterFault => "fault",
        }
    }

    /// The alert kinds (see the design's replay events) a detector should
    /// raise for this scenario.
    pub fn expected_alerts(self) -> &'static [&'static str] {
        match self {
            ScenarioKind::Collapse => &["inactivity"],
            ScenarioKind::TapLeftOpen => &["continuous_flow"],
            ScenarioKind::Burst => &["spike", "continuous_flow"],
            ScenarioKind::MeterSilent => &["meter_offline"],
            ScenarioKind::MeterFault => &["meter_fault"],
        }
    }

    fn from_cli_name(name: &str) -> Option<ScenarioKind> {
        ScenarioKind::ALL.into_iter().find(|k| k.cli_name() == name)
    }
}

/// Ground truth for one scenario: what happened, to whom, from when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TruthEvent {
    /// Household id, e.g. `h0003`.
    pub household: String,
    /// The household's meter (the same id in v0).
    pub meter_id: String,
    pub kind: ScenarioKind,
    /// When it starts.
    pub start: DateTime<FixedOffset>,
    /// Flow of a running tap or burst pipe, L/min.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lpm: Option<f64>,
    /// Status flag of a meter fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
    /// Alert kinds a detector should raise.
    pub expected_alerts: Vec<String>,
}

/// The id of household (and meter) number `n`: `h0001`, `h0002`, …
pub fn household_id(n: usize) -> String {
    format!("h{n:04}")
}

impl Scenario {
    /// Parses `KIND:HOUSEHOLD@WHEN[,KEY=VALUE]…`, resolving a relative
    /// `WHEN` against the simulation `start`.
    pub fn parse(text: &str, start: DateTime<FixedOffset>) -> Result<Scenario, ScenarioError> {
        text.parse::<ScenarioSpec>()?.resolve(start)
    }

    pub fn kind(&self) -> ScenarioKind {
        match self {
            Scenario::Collapse { .. } => ScenarioKind::Collapse,
            Scenario::TapLeftOpen { .. } => ScenarioKind::TapLeftOpen,
            Scenario::Burst { .. } => ScenarioKind::Burst,
            Scenario::MeterSilent { .. } => ScenarioKind::MeterSilent,
            Scenario::MeterFault { .. } => ScenarioKind::MeterFault,
        }
    }

    /// The household's number, from 1.
    pub fn household(&self) -> usize {
        match self {
            Scenario::Collapse { household, .. }
            | Scenario::TapLeftOpen { household, .. }
            | Scenario::Burst { household, .. }
            | Scenario::MeterSilent { household, .. }
            | Scenario::MeterFault { household, .. } => *household,
        }
    }

    /// When it starts.
    pub fn at(&self) -> DateTime<FixedOffset> {
        match self {
            Scenario::Collapse { at, .. }
            | Scenario::TapLeftOpen { at, .. }
            | Scenario::Burst { at, .. }
            | Scenario::MeterSilent { at, .. }
            | Scenario::MeterFault { at, .. } => *at,
        }
    }

    /// This scenario's ground truth.
    pub fn truth(&self) -> TruthEvent {
        let id = household_id(self.household());
        let kind = self.kind();
        let (lpm, flag) = match self {
            Scenario::TapLeftOpen { lpm, .. } | Scenario::Burst { lpm, .. } => (Some(*lpm), None),
            Scenario::MeterFault { flag, .. } => (None, Some(flag.clone())),
            _ => (None, None),
        };
        TruthEvent {
            household: id.clone(),
            meter_id: id,
            kind,
            start: self.at(),
            lpm,
            flag,
            expected_alerts: kind
                .expected_alerts()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// Written back in the form [`Scenario::parse`] reads, with an absolute time.
impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at().to_rfc3339_opts(SecondsFormat::AutoSi, false);
        write!(f, "{}:{}@{at}", self.kind().cli_name(), self.household())?;
        match self {
            Scenario::TapLeftOpen { lpm, .. } | Scenario::Burst { lpm, .. } => {
                write!(f, ",lpm={lpm}")
            }
            Scenario::MeterFault { flag, .. } => write!(f, ",flag={flag}"),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-05T00:00:00+08:00").unwrap()
    }

    #[test]
    fn an_absolute_time_is_shown_in_the_simulation_offset() {
        let s = Scenario::parse("silent:1@2026-01-05T06:00:00Z", start()).unwrap();
        assert_eq!(s.at().to_rfc3339(), "2026-01-05T14:00:00+08:00");
    }

    #[test]
    fn a_scenario_written_back_parses_to_itself() {
        for text in [
            "collapse:3@+2h",
            "tap:7@+1d,lpm=8.5",
            "burst:1@+3h",
            "silent:4@+5h",
            "fault:2@+1h,flag=TAMPER",
        ] {
            let s = Scenario::parse(text, start()).unwrap();
            assert_eq!(Scenario::parse(&s.to_string(), start()), Ok(s), "{text}");
        }
    }

    #[test]
    fn ground_truth_names_the_household_and_the_alerts_to_expect() {
        let t = Scenario::parse("burst:3@+2h,lpm=55", start())
            .unwrap()
            .truth();
        assert_eq!(t.household, "h0003");
        assert_eq!(t.meter_id, "h0003");
        assert_eq!(t.kind, ScenarioKind::Burst);
        assert_eq!(t.lpm, Some(55.0));
        assert_eq!(t.expected_alerts, ["spike", "continuous_flow"]);
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["kind"], "burst");
        assert_eq!(json["start"], "2026-01-05T02:00:00+08:00");
        assert!(json.get("flag").is_none());
        assert_eq!(serde_json::from_value::<TruthEvent>(json).unwrap(), t);
    }
}
