//! The rules file ([`RuleSet`]): `[normalise]` and the `[[rule]]` tables,
//! parsed and validated, every problem reported as `FILE:LINE: key: message`.
//!
//! [`RuleEntry`] is a `[[rule]]` table as written (its field docs are the
//! manual); validation turns it into a typed [`Rule`] whose [`Detector`] holds
//! only the parameters its kind uses.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

use crate::event::{Kind, Severity};
use crate::normalise::NormaliseConfig;
use crate::rule::continuous_flow::ContinuousFlowConfig;
use crate::rule::inactivity::InactivityConfig;
use crate::rule::meter_fault::MeterFaultConfig;
use crate::rule::meter_offline::MeterOfflineConfig;
use crate::rule::spike::SpikeConfig;
use crate::tomlcheck::{Doc, Problem};

/// The shipped rules file, `rules/default.toml`.
pub const DEFAULT_RULES_TOML: &str = include_str!("../default.toml");

/// A validated rules file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub normalise: NormaliseConfig,
    /// In file order; events of one evaluation come out in this order.
    pub rules: Vec<Rule>,
}

/// One validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub severity: Severity,
    pub enabled: bool,
    pub route: Option<String>,
    pub detector: Detector,
}

/// What a rule detects, with the parameters of that kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Detector {
    Inactivity(InactivityConfig),
    ContinuousFlow(ContinuousFlowConfig),
    Spike(SpikeConfig),
    MeterOffline(MeterOfflineConfig),
    MeterFault(MeterFaultConfig),
}

impl Detector {
    pub fn kind(&self) -> Kind {
        match self {
            Detector::Inactivity(_) => Kind::Inactivity,
            Detector::ContinuousFlow(_) => Kind::ContinuousFlow,
            Detector::Spike(_) => Kind::Spike,
            Detector::MeterOffline(_) => Kind::MeterOffline,
            Detector::MeterFault(_) => Kind::MeterFault,
        }
    }
}

/// One `[[rule]]` table as written. Which of the optional fields a rule needs
/// depends on its `kind`; a field its kind does not use is an error.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEntry {
    /// Unique name; alert events carry it as `rule`.
    pub name: String,
    /// What the rule detects: `inactivity` (no water used for `after`),
    /// `continuous_flow` (use in every `window` for `after`, at `min_rate_lpm`
    /// or more), `spike` (`rate_lpm` or more over `window`), `meter_offline`
    /// (no data for `after` past the meter's usual reporting interval) or
    /// `meter_fault` (the meter reports one of `flags`).
    pub kind: String,
    /// `info`, `warning` or `critical`.
    pub severity: Severity,
    /// A disabled rule never fires. Default `true`.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// The escalation route for this rule's alerts (routing comes in a later version).
    #[serde(default)]
    pub route: Option<String>,
    /// A duration such as `"12h"` or `"90m"`: how long before the alert fires.
    /// Used by `inactivity`, `continuous_flow`, `meter_offline`.
    #[serde(default)]
    pub after: Option<String>,
    /// A duration such as `"15m"`: for `continuous_flow`, a stretch this long
    /// without use ends the run; for `spike`, the rate is averaged over it.
    /// At most `after`.
    #[serde(default)]
    pub window: Option<String>,
    /// `continuous_flow` only: the average rate (L/min) over the run's last
    /// `after` must be at least this. Default 0 (any use).
    #[serde(default)]
    pub min_rate_lpm: Option<f64>,
    /// `spike` only: the flow rate (L/min) that fires the alert.
    #[serde(default)]
    pub rate_lpm: Option<f64>,
    /// `meter_fault` only: the meter status flags (any case) that fire the
    /// alert, e.g. `["LEAK", "BURST", "TAMPER", "LOW_BATTERY"]`.
    #[serde(default)]
    pub flags: Option<Vec<String>>,
}

fn enabled_by_default() -> bool {
    true
}

/// The kinds this version can run, in the order messages list them.
const KINDS: [Kind; 5] = [
    Kind::Inactivity,
    Kind::ContinuousFlow,
    Kind::Spike,
    Kind::MeterOffline,
    Kind::MeterFault,
];

/// The kind-specific fields of a `[[rule]]`.
const FIELDS: [&str; 5] = ["after", "window", "min_rate_lpm", "rate_lpm", "flags"];

/// Whether `kind` uses `field`: `None` if not, `Some(None)` if optional,
/// `Some(Some(example))` if required.
fn usage_of(kind: Kind, field: &str) -> Option<Option<&'static str>> {
    match (kind, field) {
        (Kind::Inactivity, "after") => Some(Some("after = \"12h\"")),
        (Kind::ContinuousFlow, "after") => Some(Some("after = \"2h\"")),
        (Kind::ContinuousFlow, "window") => Some(Some("window = \"15m\"")),
        (Kind::ContinuousFlow, "min_rate_lpm") => Some(None),
        (Kind::Spike, "rate_lpm") => Some(Some("rate_lpm = 30.0")),
        (Kind::Spike, "window") => Some(Some("window = \"10m\"")),
        (Kind::MeterOffline, "after") => Some(Some("after = \"3h\"")),
        (Kind::MeterFault, "flags") => Some(Some("flags = [\"LEAK\", \"BURST\"]")),
        _ => None,
    }
}

impl RuleSet {
    /// Parses and validates a rules file, reporting every problem found.
    pub fn parse(file_label: &str, text: &str) -> Result<RuleSet, Vec<Problem>> {
        let doc = Doc::parse(file_label, text).map_err(|p| vec![p])?;
        let mut check = Check {
            doc: &doc,
            problems: doc.unknown_sections(&["normalise", "rule"]),
        };
        let normalise = match doc.get::<NormaliseConfig>("normalise") {
            Ok(found) => {
                let normalise = found.unwrap_or_default();
                check.normalise(&normalise);
                normalise
            }
            Err(problem) => {
                check.problems.push(problem);
                NormaliseConfig::default()
            }
        };
        let entries = doc.each::<RuleEntry>("rule").unwrap_or_else(|problem| {
            check.problems.push(problem);
            Vec::new()
        });
        let mut rules = Vec::new();
        let mut first_use: HashMap<String, usize> = HashMap::new();
        for (i, entry) in entries.into_iter().enumerate() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(problem) => {
                    check.problems.push(problem);
                    continue;
                }
            };
            if let Some(&first) = first_use.get(&entry.name) {
                let line = doc
                    .line_of(&format!("rule[{first}].name"))
                    .map_or(String::new(), |l| format!(" (line {l})"));
                check.at(
                    format!("rule[{i}].name"),
                    format!(
                        "duplicate rule name \"{}\", already used by rule[{first}]{line}; give every rule a unique name",
                        entry.name
                    ),
                );
            } else {
                first_use.insert(entry.name.clone(), i);
            }
            if let Some(rule) = check.rule(i, entry) {
                rules.push(rule);
            }
        }
        let mut problems = check.problems;
        if problems.is_empty() {
            return Ok(RuleSet { normalise, rules });
        }
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }

    /// The shipped `rules/default.toml`.
    pub fn default_rules() -> RuleSet {
        match RuleSet::parse("rules/default.toml", DEFAULT_RULES_TOML) {
            Ok(rules) => rules,
            // A test parses the shipped file, so this is a build defect, not input.
            Err(problems) => panic!("the shipped rules/default.toml is invalid: {problems:?}"),
        }
    }

    /// The rule called `name`.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }
}

/// Semantic checks, collecting problems.
struct Check<'a> {
    doc: &'a Doc,
    problems: Vec<Problem>,
}

impl Check<'_> {
    fn at(&mut self, path: String, message: String) {
        self.problems.push(self.doc.problem(&path, message));
    }

    fn normalise(&mut self, normalise: &NormaliseConfig) {
        let fields = [
            ("max_rate_lpm", normalise.max_rate_lpm, 200),
            ("reset_drop_l", normalise.reset_drop_l, 50),
        ];
        for (key, value, usual) in fields {
            if !(value.is_finite() && value > 0.0) {
                self.at(
                    format!("normalise.{key}"),
                    format!("must be greater than zero (got {value}); the usual value is {usual}"),
                );
            }
        }
    }

    fn rule(&mut self, i: usize, entry: RuleEntry) -> Option<Rule> {
        let before = self.problems.len();
        let path = |key: &str| format!("rule[{i}].{key}");
        if entry.name.trim().is_empty() {
            self.at(
                path("name"),
                "empty; give the rule a unique name, e.g. name = \"inactivity\"".into(),
            );
        }
        if entry.route.as_deref().is_some_and(|r| r.trim().is_empty()) {
            self.at(
                path("route"),
                "empty; name a route or leave `route` out".into(),
            );
        }
        let kind = self.kind(path("kind"), &entry.kind);
        let after = self.duration(path("after"), entry.after.as_deref());
        let window = self.duration(path("window"), entry.window.as_deref());
        let min_rate_lpm = entry.min_rate_lpm.filter(|&rate| {
            let ok = rate.is_finite() && rate >= 0.0;
            if !ok {
                self.at(
                    path("min_rate_lpm"),
                    format!("must not be negative (got {rate}); use 0 to count any use"),
                );
            }
            ok
        });
        let rate_lpm = entry.rate_lpm.filter(|&rate| {
            let ok = rate.is_finite() && rate > 0.0;
            if !ok {
                self.at(
                    path("rate_lpm"),
                    format!("must be greater than zero (got {rate}); a burst pipe runs at 30 L/min or more"),
                );
            }
            ok
        });
        let flags = entry
            .flags
            .as_ref()
            .and_then(|flags| self.flags(path("flags"), flags));
        let kind = kind?;
        let present = [
            entry.after.is_some(),
            entry.window.is_some(),
            entry.min_rate_lpm.is_some(),
            entry.rate_lpm.is_some(),
            entry.flags.is_some(),
        ];
        for (field, present) in FIELDS.into_iter().zip(present) {
            match (usage_of(kind, field), present) {
                (None, true) => self.at(
                    path(field),
                    format!("not used by kind \"{}\"; remove it", kind.as_str()),
                ),
                (Some(Some(example)), false) => self.at(
                    path(field),
                    format!(
                        "missing; kind \"{}\" needs it, e.g. {example}",
                        kind.as_str()
                    ),
                ),
                _ => {}
            }
        }
        if let (Kind::ContinuousFlow, Some(after), Some(window)) = (kind, after, window)
            && window > after
        {
            self.at(
                path("window"),
                format!(
                    "the window ({}) is longer than after ({}); make window at most as long as after",
                    crate::text::duration(window),
                    crate::text::duration(after)
                ),
            );
        }
        if self.problems.len() > before {
            return None;
        }
        let detector = match kind {
            Kind::Inactivity => Detector::Inactivity(InactivityConfig { after: after? }),
            Kind::ContinuousFlow => Detector::ContinuousFlow(ContinuousFlowConfig {
                after: after?,
                window: window?,
                min_rate_lpm: min_rate_lpm.unwrap_or(0.0),
            }),
            Kind::Spike => Detector::Spike(SpikeConfig {
                rate_lpm: rate_lpm?,
                window: window?,
            }),
            Kind::MeterOffline => Detector::MeterOffline(MeterOfflineConfig { after: after? }),
            Kind::MeterFault => Detector::MeterFault(MeterFaultConfig { flags: flags? }),
            Kind::UsageDrop => return None,
        };
        Some(Rule {
            name: entry.name,
            severity: entry.severity,
            enabled: entry.enabled,
            route: entry.route,
            detector,
        })
    }

    fn kind(&mut self, path: String, text: &str) -> Option<Kind> {
        if let Some(kind) = KINDS.into_iter().find(|k| k.as_str() == text) {
            return Some(kind);
        }
        let allowed = KINDS.map(Kind::as_str).join(", ");
        let message = if text == Kind::UsageDrop.as_str() {
            format!("kind \"{text}\" is not available in this version; use one of: {allowed}")
        } else {
            format!("unknown kind \"{text}\"; use one of: {allowed}")
        };
        self.at(path, message);
        None
    }

    fn duration(&mut self, path: String, text: Option<&str>) -> Option<Duration> {
        let text = text?;
        let positive = || {
            format!("must be a positive duration (got \"{text}\"); write e.g. \"12h\" or \"90m\"")
        };
        let message = if text.trim_start().starts_with('-') {
            positive()
        } else {
            match humantime::parse_duration(text.trim()) {
                Ok(d) if !d.is_zero() => return Some(d),
                Ok(_) => positive(),
                Err(err) => {
                    format!("\"{text}\" is not a duration ({err}); write e.g. \"12h\" or \"90m\"")
                }
            }
        };
        self.at(path, message);
        None
    }

    fn flags(&mut self, path: String, flags: &[String]) -> Option<Vec<String>> {
        if flags.is_empty() {
            self.at(
                path,
                "empty; list at least one flag, e.g. flags = [\"LEAK\"]".into(),
            );
            return None;
        }
        if let Some(i) = flags.iter().position(|f| f.trim().is_empty()) {
            self.at(
                format!("{path}[{i}]"),
                "empty flag; write the flag the meter reports, e.g. \"LEAK\"".into(),
            );
            return None;
        }
        Some(
            flags
                .iter()
                .map(|f| f.trim().to_ascii_uppercase())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_rules_parse_into_the_documented_rules() {
        let rules = RuleSet::default_rules();
        assert_eq!(rules.normalise, NormaliseConfig::default());
        let summary = rules
            .rules
            .iter()
            .map(|r| (r.name.as_str(), r.detector.kind(), r.severity, r.enabled))
            .collect::<Vec<_>>();
        assert_eq!(
            summary,
            [
                ("inactivity", Kind::Inactivity, Severity::Critical, true),
                (
                    "tap_running",
                    Kind::ContinuousFlow,
                    Severity::Critical,
                    true
                ),
                (
                    "leak_trickle",
                    Kind::ContinuousFlow,
                    Severity::Warning,
                    true
                ),
                ("burst", Kind::Spike, Severity::Critical, true),
                ("meter_offline", Kind::MeterOffline, Severity::Warning, true),
                ("meter_fault", Kind::MeterFault, Severity::Warning, true),
            ]
        );
        let hours = |h: u64| Duration::from_secs(h * 3600);
        assert_eq!(
            rules.rule("tap_running").map(|r| &r.detector),
            Some(&Detector::ContinuousFlow(ContinuousFlowConfig {
                after: hours(2),
                window: Duration::from_secs(15 * 60),
                min_rate_lpm: 2.0,
            }))
        );
        assert_eq!(
            rules.rule("inactivity").map(|r| &r.detector),
            Some(&Detector::Inactivity(InactivityConfig { after: hours(12) }))
        );
    }

    #[test]
    fn an_empty_file_is_valid_and_uses_default_normalisation() {
        let rules = RuleSet::parse("empty.toml", "# nothing yet\n");
        assert_eq!(
            rules,
            Ok(RuleSet {
                normalise: NormaliseConfig::default(),
                rules: vec![]
            })
        );
    }

    #[test]
    fn optional_fields_take_their_defaults_and_flags_are_upper_cased() {
        let text = "[[rule]]\nname = \"f\"\nkind = \"meter_fault\"\nseverity = \"info\"\nflags = [\" leak \"]\nroute = \"grid\"\n\
                    [[rule]]\nname = \"c\"\nkind = \"continuous_flow\"\nseverity = \"info\"\nafter = \"1h\"\nwindow = \"1h\"\nenabled = false\n";
        let rules = match RuleSet::parse("x.toml", text) {
            Ok(rules) => rules.rules,
            Err(problems) => panic!("{problems:?}"),
        };
        assert_eq!(
            rules[0].detector,
            Detector::MeterFault(MeterFaultConfig {
                flags: vec!["LEAK".into()]
            })
        );
        assert_eq!(rules[0].route.as_deref(), Some("grid"));
        assert!(rules[0].enabled);
        assert!(!rules[1].enabled);
        assert!(matches!(&rules[1].detector, Detector::ContinuousFlow(c) if c.min_rate_lpm == 0.0));
    }
}
