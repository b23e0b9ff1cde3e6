//! The rules file ([`RuleSet`]): `[normalise]` and the `[[rule]]` tables,
//! parsed and validated, every problem reported as `FILE:LINE: key: message`.
//!
//! [`RuleEntry`] is a `[[rule]]` table as written (its field docs are the
//! manual); validation turns it into a typed [`Rule`] whose [`Detector`] holds
//! only the parameters its kind uses.

use std::collections::HashMap;

use crate::baseline::{BaselineConfig, Learning};
use crate::event::{Kind, Severity};
use crate::normalise::NormaliseConfig;
use crate::rule::continuous_flow::ContinuousFlowConfig;
use crate::rule::inactivity::InactivityConfig;
use crate::rule::meter_fault::MeterFaultConfig;
use crate::rule::meter_offline::MeterOfflineConfig;
use crate::rule::spike::SpikeConfig;
use crate::rule::usage_drop::UsageDropConfig;
use crate::tomlcheck::{Doc, Problem};

mod check;
mod entry;
mod household;
mod learned;

pub use entry::RuleEntry;
pub use household::{HouseholdEntry, HouseholdLimits};

use check::Check;

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
    /// Per-household limits (`[[household]]`), by household id.
    pub households: HashMap<String, HouseholdLimits>,
}

/// One validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub severity: Severity,
    pub enabled: bool,
    /// The `[[route]]` its cases follow (see `RuleEntry::route`).
    pub route: Option<String>,
    pub detector: Detector,
}

/// What a rule detects, with the parameters of that kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Detector {
    Inactivity(InactivityConfig),
    ContinuousFlow(ContinuousFlowConfig),
    Spike(SpikeConfig),
    UsageDrop(UsageDropConfig),
    MeterOffline(MeterOfflineConfig),
    MeterFault(MeterFaultConfig),
}

impl Detector {
    pub fn kind(&self) -> Kind {
        match self {
            Detector::Inactivity(_) => Kind::Inactivity,
            Detector::ContinuousFlow(_) => Kind::ContinuousFlow,
            Detector::Spike(_) => Kind::Spike,
            Detector::UsageDrop(_) => Kind::UsageDrop,
            Detector::MeterOffline(_) => Kind::MeterOffline,
            Detector::MeterFault(_) => Kind::MeterFault,
        }
    }
}

impl RuleSet {
    /// Changes every learned inactivity rule's learned parameters (tests,
    /// benchmark variants).
    pub fn for_each_learned_inactivity(
        &mut self,
        mut change: impl FnMut(&mut crate::rule::inactivity::LearnedConfig),
    ) {
        for rule in &mut self.rules {
            if let Detector::Inactivity(InactivityConfig {
                learned: Some(l), ..
            }) = &mut rule.detector
            {
                change(l);
            }
        }
    }

    /// Changes every learned continuous_flow rule's learned parameters.
    pub fn for_each_learned_run(
        &mut self,
        mut change: impl FnMut(&mut crate::rule::continuous_flow::LearnedRun),
    ) {
        for rule in &mut self.rules {
            if let Detector::ContinuousFlow(ContinuousFlowConfig {
                learned: Some(l), ..
            }) = &mut rule.detector
            {
                change(l);
            }
        }
    }

    /// Parses and validates a rules file, reporting every problem found. A
    /// rule's `route` is not checked: use [`RuleSet::parse_routed`] where the
    /// routes are known.
    pub fn parse(file_label: &str, text: &str) -> Result<RuleSet, Vec<Problem>> {
        RuleSet::checked(file_label, text, None)
    }

    /// [`RuleSet::parse`], and every rule's `route` must be one of `routes`
    /// (the names of the daemon's `[[route]]`s).
    pub fn parse_routed(
        file_label: &str,
        text: &str,
        routes: &[&str],
    ) -> Result<RuleSet, Vec<Problem>> {
        RuleSet::checked(file_label, text, Some(routes))
    }

    fn checked(
        file_label: &str,
        text: &str,
        routes: Option<&[&str]>,
    ) -> Result<RuleSet, Vec<Problem>> {
        let doc = Doc::parse(file_label, text).map_err(|p| vec![p])?;
        let mut check = Check {
            doc: &doc,
            problems: doc.unknown_sections(&["normalise", "baseline", "rule", "household"]),
            routes,
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

    /// The usage_drop parameters for `household`: `config` with that
    /// household's `[[household]]` override, if any.
    pub fn usage_drop_for(&self, household: &str, config: &UsageDropConfig) -> UsageDropConfig {
        match self.households.get(household) {
            Some(limits) => limits.apply_usage_drop(config),
            None => config.clone(),
        }
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

#[cfg(test)]
mod tests;
