//! Scenarios: what goes wrong in a household or at its meter, and when; their
//! parsing from command-line strings; and the ground truth a detector is
//! scored against.
//!
//! A scenario is written `KIND:HOUSEHOLD@WHEN[,KEY=VALUE]…`:
//!
//! | kind       | what happens from `WHEN` on                                   | keys (default)        |
//! |------------|---------------------------------------------------------------|-----------------------|
//! | `collapse` | the person stops all water use (by day or by night)           |                       |
//! | `absence`  | nobody home, unannounced, for `days`; the meter keeps reporting; the person returns | `days` (3) |
//! | `decline`  | over `weeks`, daily use falls to `to` of normal and the waking day shortens by 3 h | `weeks` (6), `to` (0.4) |
//! | `tap`      | a tap is left running (on top of normal use)                  | `lpm` (6)             |
//! | `burst`    | a pipe bursts (on top of normal use)                          | `lpm` (40)            |
//! | `toilet`   | a toilet valve never closes: a slow trickle                   | `lpm` (0.5)           |
//! | `silent`   | the meter stops reporting                                     |                       |
//! | `fault`    | the meter raises a status flag in every reading               | `flag` (`LEAK`)       |
//! | `reset`    | the meter is replaced: its register restarts near 0           |                       |
//! | `skew`     | the meter's clock runs `minutes` off (negative: behind)       | `minutes` (7)         |
//! | `battery`  | the battery runs down to 5 % over `days`; `LOW_BATTERY` from then on | `days` (120)   |
//!
//! Flows (`tap`, `burst`, `toilet`), `fault` and `skew` last to the end of the
//! simulation.
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
/// Flow of a running toilet unless the scenario says otherwise, L/min.
pub const DEFAULT_TOILET_LPM: f64 = 0.5;
/// Length of an unannounced absence unless the scenario says otherwise, days.
pub const DEFAULT_ABSENCE_DAYS: f64 = 3.0;
/// Length of a slow decline unless the scenario says otherwise, weeks.
pub const DEFAULT_DECLINE_WEEKS: f64 = 6.0;
/// Share of normal use left at the end of a decline unless the scenario says otherwise.
pub const DEFAULT_DECLINE_TO: f64 = 0.4;
/// Clock error of a skewed meter unless the scenario says otherwise, minutes.
pub const DEFAULT_SKEW_MINUTES: f64 = 7.0;
/// Days for a battery to run down unless the scenario says otherwise.
pub const DEFAULT_BATTERY_DAYS: f64 = 120.0;

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
    /// Nobody is home until `until`, unannounced; the meter keeps reporting.
    Absence {
        household: usize,
        at: DateTime<FixedOffset>,
        until: DateTime<FixedOffset>,
    },
    /// A toilet that never stops running, at `lpm` (typically 0.3–1).
    RunningToilet {
        household: usize,
        at: DateTime<FixedOffset>,
        lpm: f64,
    },
    /// Health declines over `weeks`: daily use falls to the share `to` of
    /// normal, and the waking day shortens by up to three hours.
    Decline {
        household: usize,
        at: DateTime<FixedOffset>,
        weeks: f64,
        to: f64,
    },
    /// The meter is replaced: its register restarts near zero.
    CounterReset {
        household: usize,
        at: DateTime<FixedOffset>,
    },
    /// The meter's clock is `minutes` off (positive: ahead).
    ClockSkew {
        household: usize,
        at: DateTime<FixedOffset>,
        minutes: f64,
    },
    /// The battery runs down to 5 % over `days`, then reports `LOW_BATTERY`.
    BatteryDecline {
        household: usize,
        at: DateTime<FixedOffset>,
        days: f64,
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
    Absence,
    RunningToilet,
    Decline,
    CounterReset,
    ClockSkew,
    BatteryDecline,
}

impl ScenarioKind {
    /// Every kind, in documentation order.
    pub const ALL: [ScenarioKind; 11] = [
        ScenarioKind::Collapse,
        ScenarioKind::TapLeftOpen,
        ScenarioKind::Burst,
        ScenarioKind::MeterSilent,
        ScenarioKind::MeterFault,
        ScenarioKind::Absence,
        ScenarioKind::RunningToilet,
        ScenarioKind::Decline,
        ScenarioKind::CounterReset,
        ScenarioKind::ClockSkew,
        ScenarioKind::BatteryDecline,
    ];

    /// The name used on the command line.
    pub fn cli_name(self) -> &'static str {
        match self {
            ScenarioKind::Collapse => "collapse",
            ScenarioKind::TapLeftOpen => "tap",
            ScenarioKind::Burst => "burst",
            ScenarioKind::MeterSilent => "silent",
            ScenarioKind::MeterFault => "fault",
            ScenarioKind::Absence => "absence",
            ScenarioKind::RunningToilet => "toilet",
            ScenarioKind::Decline => "decline",
            ScenarioKind::CounterReset => "reset",
            ScenarioKind::ClockSkew => "skew",
            ScenarioKind::BatteryDecline => "battery",
        }
    }

    /// The alert kinds (see the design's replay events) a detector should
    /// raise for this scenario. None for an absence (an inactivity alert
    /// during one is understandable, and a scorer leaves it out of both hits
    /// and false alarms), a counter reset or a clock skew (ingest must absorb
    /// them without alerting).
    pub fn expected_alerts(self) -> &'static [&'static str] {
        match self {
            ScenarioKind::Collapse => &["inactivity"],
            ScenarioKind::TapLeftOpen | ScenarioKind::RunningToilet => &["continuous_flow"],
            ScenarioKind::Burst => &["spike", "continuous_flow"],
            ScenarioKind::MeterSilent => &["meter_offline"],
            ScenarioKind::MeterFault | ScenarioKind::BatteryDecline => &["meter_fault"],
            ScenarioKind::Decline => &["usage_drop"],
            ScenarioKind::Absence | ScenarioKind::CounterReset | ScenarioKind::ClockSkew => &[],
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
    /// When it ends, for what ends: an absence (the person is back), a
    /// decline (use has reached its floor), a battery running down (the
    /// `LOW_BATTERY` flag appears). Absent for what lasts to the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<FixedOffset>>,
    /// Why an absence happened: `trip` or `day_out` (the person's own life,
    /// not a scenario) or `unannounced` (a scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// Share of normal daily use left at the end of a decline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<f64>,
    /// A skewed clock's error, minutes (positive: ahead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<f64>,
    /// Flow of a running tap, burst pipe or running toilet, L/min.
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
            Scenario::Absence { .. } => ScenarioKind::Absence,
            Scenario::RunningToilet { .. } => ScenarioKind::RunningToilet,
            Scenario::Decline { .. } => ScenarioKind::Decline,
            Scenario::CounterReset { .. } => ScenarioKind::CounterReset,
            Scenario::ClockSkew { .. } => ScenarioKind::ClockSkew,
            Scenario::BatteryDecline { .. } => ScenarioKind::BatteryDecline,
        }
    }

    /// The household's number, from 1.
    pub fn household(&self) -> usize {
        match self {
            Scenario::Collapse { household, .. }
            | Scenario::TapLeftOpen { household, .. }
            | Scenario::Burst { household, .. }
            | Scenario::MeterSilent { household, .. }
            | Scenario::MeterFault { household, .. }
            | Scenario::Absence { household, .. }
            | Scenario::RunningToilet { household, .. }
            | Scenario::Decline { household, .. }
            | Scenario::CounterReset { household, .. }
            | Scenario::ClockSkew { household, .. }
            | Scenario::BatteryDecline { household, .. } => *household,
        }
    }

    /// When it starts.
    pub fn at(&self) -> DateTime<FixedOffset> {
        match self {
            Scenario::Collapse { at, .. }
            | Scenario::TapLeftOpen { at, .. }
            | Scenario::Burst { at, .. }
            | Scenario::MeterSilent { at, .. }
            | Scenario::MeterFault { at, .. }
            | Scenario::Absence { at, .. }
            | Scenario::RunningToilet { at, .. }
            | Scenario::Decline { at, .. }
            | Scenario::CounterReset { at, .. }
            | Scenario::ClockSkew { at, .. }
            | Scenario::BatteryDecline { at, .. } => *at,
        }
    }

    /// This scenario's ground truth.
    pub fn truth(&self) -> TruthEvent {
        let id = household_id(self.household());
        let kind = self.kind();
        let mut t = TruthEvent {
            household: id.clone(),
            meter_id: id,
            kind,
            start: self.at(),
            end: None,
            cause: None,
            to: None,
            minutes: None,
            lpm: None,
            flag: None,
            expected_alerts: kind
                .expected_alerts()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        match self {
            Scenario::TapLeftOpen { lpm, .. }
            | Scenario::Burst { lpm, .. }
            | Scenario::RunningToilet { lpm, .. } => t.lpm = Some(*lpm),
            Scenario::MeterFault { flag, .. } => t.flag = Some(flag.clone()),
            Scenario::Absence { until, .. } => {
                t.end = Some(*until);
                t.cause = Some("unannounced".into());
            }
            Scenario::Decline { at, weeks, to, .. } => {
                t.end = Some(*at + days_duration(weeks * 7.0));
                t.to = Some(*to);
            }
            Scenario::ClockSkew { minutes, .. } => t.minutes = Some(*minutes),
            Scenario::BatteryDecline { at, days, .. } => {
                t.end = Some(*at + days_duration(*days));
                t.flag = Some("LOW_BATTERY".into());
            }
            _ => {}
        }
        t
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
            Scenario::RunningToilet { lpm, .. } => write!(f, ",lpm={lpm}"),
            Scenario::MeterFault { flag, .. } => write!(f, ",flag={flag}"),
            Scenario::Absence { at, until, .. } => {
                let days = (*until - *at).num_seconds() as f64 / 86_400.0;
                write!(f, ",days={days}")
            }
            Scenario::Decline { weeks, to, .. } => write!(f, ",weeks={weeks},to={to}"),
            Scenario::ClockSkew { minutes, .. } => write!(f, ",minutes={minutes}"),
            Scenario::BatteryDecline { days, .. } => write!(f, ",days={days}"),
            _ => Ok(()),
        }
    }
}

/// `days` (fractional) as a chrono duration, to the second.
pub(crate) fn days_duration(days: f64) -> chrono::Duration {
    chrono::Duration::seconds((days * 86_400.0).round() as i64)
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
            "absence:2@+1d,days=4.5",
            "toilet:2@+1d,lpm=0.7",
            "decline:2@+1d,weeks=8,to=0.5",
            "reset:2@+1d",
            "skew:2@+1d,minutes=-12",
            "battery:2@+1d,days=90",
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
