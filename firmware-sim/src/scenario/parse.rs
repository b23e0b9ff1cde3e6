//! Reading scenarios from command-line strings; the grammar is in the
//! parent module's documentation.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset};

use super::{
    DEFAULT_ABSENCE_DAYS, DEFAULT_BATTERY_DAYS, DEFAULT_BURST_LPM, DEFAULT_DECLINE_TO,
    DEFAULT_DECLINE_WEEKS, DEFAULT_FAULT_FLAG, DEFAULT_SKEW_MINUTES, DEFAULT_TAP_LPM,
    DEFAULT_TOILET_LPM, Scenario, ScenarioKind, days_duration,
};

/// Relative scenario times beyond this are refused as typos.
const MAX_OFFSET: Duration = Duration::from_secs(100 * 365 * 86_400);

/// When a scenario starts, as written.
#[derive(Clone, Debug, PartialEq)]
pub enum When {
    At(DateTime<FixedOffset>),
    /// This long after the simulation start.
    AfterStart(Duration),
}

/// A parsed scenario whose start may still be relative to the simulation
/// start (the form the command line accepts before it knows the start).
#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioSpec {
    text: String,
    kind: ScenarioKind,
    household: usize,
    when: When,
    lpm: Option<f64>,
    flag: Option<String>,
    days: Option<f64>,
    weeks: Option<f64>,
    to: Option<f64>,
    minutes: Option<f64>,
}

impl ScenarioSpec {
    /// The scenario as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn kind(&self) -> ScenarioKind {
        self.kind
    }

    /// The household's number, from 1.
    pub fn household(&self) -> usize {
        self.household
    }

    pub fn when(&self) -> &When {
        &self.when
    }

    /// The scenario for a simulation starting at `start`; an absolute time is
    /// shown in the start's offset.
    pub fn resolve(&self, start: DateTime<FixedOffset>) -> Result<Scenario, ScenarioError> {
        let at = match &self.when {
            When::At(at) => at.with_timezone(start.offset()),
            When::AfterStart(d) => chrono::Duration::from_std(*d)
                .ok()
                .and_then(|d| start.checked_add_signed(d))
                .ok_or_else(|| {
                    self.error(format!(
                        "{} after {start} is out of range",
                        humantime::format_duration(*d)
                    ))
                })?,
        };
        let household = self.household;
        Ok(match self.kind {
            ScenarioKind::Collapse => Scenario::Collapse { household, at },
            ScenarioKind::TapLeftOpen => Scenario::TapLeftOpen {
                household,
                at,
                lpm: self.lpm.unwrap_or(DEFAULT_TAP_LPM),
            },
            ScenarioKind::Burst => Scenario::Burst {
                household,
                at,
                lpm: self.lpm.unwrap_or(DEFAULT_BURST_LPM),
            },
            ScenarioKind::MeterSilent => Scenario::MeterSilent { household, at },
            ScenarioKind::MeterFault => Scenario::MeterFault {
                household,
                at,
                flag: self
                    .flag
                    .clone()
                    .unwrap_or_else(|| DEFAULT_FAULT_FLAG.to_string()),
            },
            ScenarioKind::Absence => Scenario::Absence {
                household,
                at,
                until: at + days_duration(self.days.unwrap_or(DEFAULT_ABSENCE_DAYS)),
            },
            ScenarioKind::RunningToilet => Scenario::RunningToilet {
                household,
                at,
                lpm: self.lpm.unwrap_or(DEFAULT_TOILET_LPM),
            },
            ScenarioKind::Decline => Scenario::Decline {
                household,
                at,
                weeks: self.weeks.unwrap_or(DEFAULT_DECLINE_WEEKS),
                to: self.to.unwrap_or(DEFAULT_DECLINE_TO),
            },
            ScenarioKind::CounterReset => Scenario::CounterReset { household, at },
            ScenarioKind::ClockSkew => Scenario::ClockSkew {
                household,
                at,
                minutes: self.minutes.unwrap_or(DEFAULT_SKEW_MINUTES),
            },
            ScenarioKind::BatteryDecline => Scenario::BatteryDecline {
                household,
                at,
                days: self.days.unwrap_or(DEFAULT_BATTERY_DAYS),
            },
        })
    }

    fn error(&self, reason: String) -> ScenarioError {
        ScenarioError {
            text: self.text.clone(),
            reason,
        }
    }
}

impl FromStr for ScenarioSpec {
    type Err = ScenarioError;

    fn from_str(text: &str) -> Result<ScenarioSpec, ScenarioError> {
        let err = |reason: String| ScenarioError {
            text: text.to_string(),
            reason,
        };
        let shape =
            || err("expected KIND:HOUSEHOLD@WHEN[,KEY=VALUE]…, e.g. collapse:3@+2h".to_string());

        let (head, when_and_params) = text.trim().split_once('@').ok_or_else(shape)?;
        let (kind, household) = head.split_once(':').ok_or_else(shape)?;
        let kind = ScenarioKind::from_cli_name(kind.trim()).ok_or_else(|| {
            let names: Vec<_> = ScenarioKind::ALL.iter().map(|k| k.cli_name()).collect();
            err(format!(
                "unknown kind {:?}; expected one of {}",
                kind.trim(),
                names.join(", ")
            ))
        })?;
        let number = household.trim();
        let number = number.strip_prefix('h').unwrap_or(number);
        let household = match number.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(err(format!(
                    "household {household:?} is not a number from 1 (e.g. 3 or h0003)"
                )));
            }
        };

        let mut parts = when_and_params.split(',');
        let when = parts.next().unwrap_or_default().trim();
        let when = if let Some(offset) = when.strip_prefix('+') {
            let d = humantime::parse_duration(offset.trim()).map_err(|e| {
                err(format!(
                    "relative time {when:?}: {e} (write e.g. +2h, +1day 3h, +90min)"
                ))
            })?;
            if d > MAX_OFFSET {
                return Err(err(format!(
                    "relative time {when:?} is more than 100 years"
                )));
            }
            When::AfterStart(d)
        } else {
            When::At(DateTime::parse_from_rfc3339(when).map_err(|e| {
                err(format!("time {when:?}: {e} (write RFC 3339 like 2026-01-10T09:30:00+08:00, or +2h after the start)"))
            })?)
        };

        let mut spec = ScenarioSpec {
            text: text.to_string(),
            kind,
            household,
            when,
            lpm: None,
            flag: None,
            days: None,
            weeks: None,
            to: None,
            minutes: None,
        };
        for param in parts {
            let (key, value) = param
                .split_once('=')
                .ok_or_else(|| err(format!("parameter {param:?} is not KEY=VALUE")))?;
            let (key, value) = (key.trim(), value.trim());
            let number = |min: f64, max: f64, what: &str| {
                value
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= min && *v <= max)
                    .ok_or_else(|| err(format!("{key}={value} is not {what}")))
            };
            match (key, kind) {
                ("lpm", ScenarioKind::TapLeftOpen | ScenarioKind::Burst) => {
                    let lpm = number(
                        f64::MIN_POSITIVE,
                        1000.0,
                        "a flow in L/min above 0 and up to 1000",
                    )?;
                    spec.lpm = Some(lpm);
                }
                ("lpm", ScenarioKind::RunningToilet) => {
                    spec.lpm = Some(number(0.01, 20.0, "a trickle in L/min from 0.01 to 20")?);
                }
                ("flag", ScenarioKind::MeterFault) => {
                    let valid = !value.is_empty()
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
                    if !valid {
                        return Err(err(format!(
                            "flag={value} is not an upper-case status flag such as LEAK or BURST"
                        )));
                    }
                    spec.flag = Some(value.to_string());
                }
                ("days", ScenarioKind::Absence) => {
                    spec.days = Some(number(0.01, 365.0, "a number of days from 0.01 to 365")?);
                }
                ("days", ScenarioKind::BatteryDecline) => {
                    spec.days = Some(number(0.01, 3650.0, "a number of days from 0.01 to 3650")?);
                }
                ("weeks", ScenarioKind::Decline) => {
                    spec.weeks = Some(number(0.1, 520.0, "a number of weeks from 0.1 to 520")?);
                }
                ("to", ScenarioKind::Decline) => {
                    spec.to = Some(number(
                        0.0,
                        1.0,
                        "a share of normal use from 0 to 1 (e.g. 0.4)",
                    )?);
                }
                ("minutes", ScenarioKind::ClockSkew) => {
                    spec.minutes = Some(number(
                        -1440.0,
                        1440.0,
                        "a clock error in minutes from -1440 to 1440",
                    )?);
                }
                _ => {
                    let allowed = match kind {
                        ScenarioKind::TapLeftOpen
                        | ScenarioKind::Burst
                        | ScenarioKind::RunningToilet => "lpm",
                        ScenarioKind::MeterFault => "flag",
                        ScenarioKind::Absence | ScenarioKind::BatteryDecline => "days",
                        ScenarioKind::Decline => "weeks and to",
                        ScenarioKind::ClockSkew => "minutes",
                        _ => "no keys",
                    };
                    return Err(err(format!(
                        "{} takes {allowed}, not {key:?}",
                        kind.cli_name()
                    )));
                }
            }
        }
        Ok(spec)
    }
}

/// A scenario string that could not be understood.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("scenario {text:?}: {reason}")]
pub struct ScenarioError {
    /// The scenario as written.
    pub text: String,
    /// What is wrong and how to write it.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-05T00:00:00+08:00").unwrap()
    }

    fn ts(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn each_kind_parses_with_absolute_and_relative_times_and_defaults() {
        let cases = [
            (
                "collapse:3@2026-01-10T09:30:00+08:00",
                Scenario::Collapse {
                    household: 3,
                    at: ts("2026-01-10T09:30:00+08:00"),
                },
            ),
            (
                "collapse:h0003@+2h",
                Scenario::Collapse {
                    household: 3,
                    at: ts("2026-01-05T02:00:00+08:00"),
                },
            ),
            (
                "tap:7@+1day 3h",
                Scenario::TapLeftOpen {
                    household: 7,
                    at: ts("2026-01-06T03:00:00+08:00"),
                    lpm: 6.0,
                },
            ),
            (
                "tap:7@+90min,lpm=8.5",
                Scenario::TapLeftOpen {
                    household: 7,
                    at: ts("2026-01-05T01:30:00+08:00"),
                    lpm: 8.5,
                },
            ),
            (
                "burst:1@+0s",
                Scenario::Burst {
                    household: 1,
                    at: start(),
                    lpm: 40.0,
                },
            ),
            (
                "silent:12@2026-01-05T06:00:00Z",
                Scenario::MeterSilent {
                    household: 12,
                    at: ts("2026-01-05T14:00:00+08:00"),
                },
            ),
            (
                "fault:2@+36h",
                Scenario::MeterFault {
                    household: 2,
                    at: ts("2026-01-06T12:00:00+08:00"),
                    flag: "LEAK".into(),
                },
            ),
            (
                "fault:2@+36h,flag=BURST",
                Scenario::MeterFault {
                    household: 2,
                    at: ts("2026-01-06T12:00:00+08:00"),
                    flag: "BURST".into(),
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(Scenario::parse(text, start()), Ok(want), "{text}");
        }
    }

    #[test]
    fn malformed_scenarios_say_what_is_wrong() {
        let cases = [
            ("collapse", "expected KIND:HOUSEHOLD@WHEN"),
            (
                "colapse:3@+2h",
                "unknown kind \"colapse\"; expected one of collapse, tap, burst, silent, fault, absence, toilet, decline, reset, skew, battery",
            ),
            ("collapse:0@+2h", "household \"0\" is not a number from 1"),
            ("collapse:x@+2h", "household \"x\" is not a number from 1"),
            ("collapse:3@+2 parsecs", "relative time \"+2 parsecs\""),
            ("collapse:3@tomorrow", "time \"tomorrow\""),
            (
                "collapse:3@+2h,lpm=5",
                "collapse takes no keys, not \"lpm\"",
            ),
            ("tap:3@+2h,lpm=-1", "lpm=-1 is not a flow"),
            (
                "decline:3@+2h,to=1.5",
                "to=1.5 is not a share of normal use",
            ),
            ("absence:3@+2h,lpm=1", "absence takes days, not \"lpm\""),
            ("tap:3@+2h,lpm", "parameter \"lpm\" is not KEY=VALUE"),
            (
                "fault:3@+2h,flag=leak!",
                "flag=leak! is not an upper-case status flag",
            ),
            ("burst:3@+200years", "more than 100 years"),
        ];
        for (text, want) in cases {
            let e = Scenario::parse(text, start()).unwrap_err();
            assert!(e.to_string().contains(want), "{text}: got {e}");
            assert!(e.to_string().starts_with(&format!("scenario {text:?}: ")));
        }
    }
}
