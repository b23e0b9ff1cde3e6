//! The rules file ([`RuleSet`]): `[normalise]` and the `[[rule]]` tables,
//! parsed and validated, every problem reported as `FILE:LINE: key: message`.
//!
//! [`RuleEntry`] is a `[[rule]]` table as written (its field docs are the
//! manual); validation turns it into a typed [`Rule`] whose [`Detector`] holds
//! only the parameters its kind uses.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

use crate::baseline::{BaselineConfig, Learning};
use crate::event::{Kind, Severity};
use crate::normalise::NormaliseConfig;
use crate::rule::continuous_flow::ContinuousFlowConfig;
use crate::rule::inactivity::{InactivityConfig, LearnedConfig};
use crate::rule::meter_fault::MeterFaultConfig;
use crate::rule::meter_offline::MeterOfflineConfig;
use crate::rule::spike::SpikeConfig;
use crate::tomlcheck::{Doc, Problem};

mod household;

pub use household::{HouseholdEntry, HouseholdLimits};

/// The shipped rules file, `rules/default.toml`.
pub const DEFAULT_RULES_TOML: &str = include_str!("../default.toml");

/// A validated rules file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    pub normalise: NormaliseConfig,
    /// How households' baselines are learned (`[baseline]`).
    pub baseline: Learning,
    /// In file order; events of one evaluation come out in this order.
    pub rules: Vec<Rule>,
    /// Per-household inactivity limits (`[[household]]`), by household id.
    pub households: HashMap<String, HouseholdLimits>,
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
    /// `inactivity` only: once the household's rhythm is learned (see
    /// `[baseline]`), fire when the quiet stretch is longer than this
    /// household usually goes without water starting at that time of day;
    /// until then `after` applies. Default `false` (always `after`).
    #[serde(default)]
    pub learned: Option<bool>,
    /// Learned `inactivity` only: the share of days whose quiet stretches
    /// count as usual, in (0.5, 1). Default 0.999.
    #[serde(default)]
    pub quantile: Option<f64>,
    /// Learned `inactivity` only: the usual longest stretch is multiplied by
    /// this, at least 1. Default 1.0 (the quantile is extrapolated already).
    #[serde(default)]
    pub margin: Option<f64>,
    /// Learned `inactivity` only: the limit is never shorter. Default "3h".
    #[serde(default)]
    pub min: Option<String>,
    /// Learned `inactivity` only: the limit is never longer. Default `after`,
    /// so the learned rule is never later than the fixed one.
    #[serde(default)]
    pub max: Option<String>,
    /// Learned `inactivity` only: for a quiet stretch that began at night
    /// (19:00–06:00), fire this long after the household's usual rising time
    /// (its `quantile`) if no water has been used yet. Default "1h"; "off"
    /// turns the morning check off.
    #[serde(default)]
    pub morning_margin: Option<String>,
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
const FIELDS: [&str; 11] = [
    "after",
    "window",
    "min_rate_lpm",
    "rate_lpm",
    "flags",
    "learned",
    "quantile",
    "margin",
    "min",
    "max",
    "morning_margin",
];

/// The fields only a learned inactivity rule uses.
const LEARNED_FIELDS: [&str; 5] = ["quantile", "margin", "min", "max", "morning_margin"];

/// Whether `kind` uses `field`: `None` if not, `Some(None)` if optional,
/// `Some(Some(example))` if required.
fn usage_of(kind: Kind, field: &str) -> Option<Option<&'static str>> {
    match (kind, field) {
        (Kind::Inactivity, "after") => Some(Some("after = \"12h\"")),
        (Kind::Inactivity, f) if f == "learned" || LEARNED_FIELDS.contains(&f) => Some(None),
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
            problems: doc.unknown_sections(&["normalise", "baseline", "rule", "household"]),
        };
        let baseline = match doc.get::<BaselineConfig>("baseline") {
            Ok(found) => check.baseline(&found.unwrap_or_default()),
            Err(problem) => {
                check.problems.push(problem);
                None
            }
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
        let households = check.households();
        let mut problems = check.problems;
        if let (true, Some(baseline)) = (problems.is_empty(), baseline) {
            return Ok(RuleSet {
                normalise,
                baseline,
                rules,
                households,
            });
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

    /// The inactivity parameters for `household`: `config` with that
    /// household's `[[household]]` overrides, if any.
    pub fn inactivity_for(&self, household: &str, config: &InactivityConfig) -> InactivityConfig {
        match self.households.get(household) {
            Some(limits) => limits.apply(config),
            None => config.clone(),
        }
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

    fn baseline(&mut self, config: &BaselineConfig) -> Option<Learning> {
        let before = self.problems.len();
        let half_life = config.half_life_days;
        if !(half_life.is_finite() && half_life > 0.0) {
            self.at(
                "baseline.half_life_days".into(),
                format!("must be greater than zero (got {half_life}); the usual value is 28"),
            );
        }
        let gap = self.duration(
            "baseline.longest_normal_gap".into(),
            Some(&config.longest_normal_gap),
        );
        if self.problems.len() > before {
            return None;
        }
        Some(Learning::new(
            config.learning_days,
            half_life,
            crate::rule::duration_ms(gap?),
        ))
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
        let learned = if entry.learned == Some(true) && kind == Some(Kind::Inactivity) {
            self.learned(i, &entry, after)
        } else {
            None
        };
        let kind = kind?;
        let present = [
            entry.after.is_some(),
            entry.window.is_some(),
            entry.min_rate_lpm.is_some(),
            entry.rate_lpm.is_some(),
            entry.flags.is_some(),
            entry.learned.is_some(),
            entry.quantile.is_some(),
            entry.margin.is_some(),
            entry.min.is_some(),
            entry.max.is_some(),
            entry.morning_margin.is_some(),
        ];
        if kind == Kind::Inactivity && entry.learned != Some(true) {
            for (field, present) in FIELDS.into_iter().zip(present) {
                if present && LEARNED_FIELDS.contains(&field) {
                    self.at(
                        path(field),
                        "only used by a learned rule; add learned = true or remove it".into(),
                    );
                }
            }
        }
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
            Kind::Inactivity => Detector::Inactivity(InactivityConfig {
                after: after?,
                learned: if entry.learned == Some(true) {
                    Some(learned?)
                } else {
                    None
                },
            }),
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

    /// The learned-limit parameters of a rule (with defaults), checked.
    fn learned(
        &mut self,
        i: usize,
        entry: &RuleEntry,
        after: Option<Duration>,
    ) -> Option<LearnedConfig> {
        let path = |key: &str| format!("rule[{i}].{key}");
        let before = self.problems.len();
        let quantile = entry.quantile.unwrap_or(0.999);
        if !(quantile > 0.5 && quantile < 1.0) {
            self.at(
                path("quantile"),
                format!("must be between 0.5 and 1, exclusive (got {quantile}); the usual value is 0.999"),
            );
        }
        let margin = entry.margin.unwrap_or(1.0);
        if !(margin.is_finite() && margin >= 1.0) {
            self.at(
                path("margin"),
                format!("must be at least 1 (got {margin}); the usual value is 1.0"),
            );
        }
        let min = self.duration(path("min"), Some(entry.min.as_deref().unwrap_or("3h")));
        let max = match entry.max.as_deref() {
            Some(text) => self.duration(path("max"), Some(text)),
            None => after,
        };
        let morning_margin = match entry.morning_margin.as_deref() {
            Some("off") => Some(None),
            text => self
                .duration(path("morning_margin"), Some(text.unwrap_or("1h")))
                .map(Some),
        };
        if let (Some(min), Some(max)) = (min, max)
            && min > max
        {
            self.at(
                path("min"),
                format!(
                    "the minimum ({}) is longer than the maximum ({}); make min at most max",
                    crate::text::duration(min),
                    crate::text::duration(max)
                ),
            );
        }
        if self.problems.len() > before {
            return None;
        }
        Some(LearnedConfig {
            quantile,
            margin,
            min: min?,
            max: max?,
            morning_margin: morning_margin?,
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
mod tests;
