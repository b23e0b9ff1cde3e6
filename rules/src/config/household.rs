//! `[[household]]` tables: one household's own inactivity limits (e.g. for a
//! heart condition) and usage_drop sensitivity, validated like the rest of
//! the rules file.

use std::collections::HashMap;
use std::time::Duration;

use serde::Deserialize;

use super::Check;
use crate::rule::inactivity::InactivityConfig;
use crate::rule::usage_drop::UsageDropConfig;

/// A `[[household]]` table: tighter (or looser) inactivity limits for one
/// household, e.g. for a heart condition. They replace `after`, `min`,
/// `max`, `late_morning` and `day_out_until` of every inactivity rule for
/// that household.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdEntry {
    /// The household id (the meter id for a meter that is its own household).
    pub id: String,
    /// Why, for the people reading the file, e.g. "heart condition".
    #[serde(default)]
    pub note: Option<String>,
    /// Replaces the inactivity rules' `after` (the fixed limit and the
    /// fallback while learning), e.g. "6h".
    #[serde(default)]
    pub inactivity_after: Option<String>,
    /// Replaces learned inactivity rules' `min`.
    #[serde(default)]
    pub inactivity_min: Option<String>,
    /// Replaces learned inactivity rules' `max`.
    #[serde(default)]
    pub inactivity_max: Option<String>,
    /// Replaces learned inactivity rules' `late_morning` ("off", or e.g.
    /// "1h" for someone whose mornings never vary).
    #[serde(default)]
    pub inactivity_late_morning: Option<String>,
    /// Replaces learned inactivity rules' `day_out_until` ("off" for a
    /// resident at risk who goes out but never for the whole day, or e.g.
    /// "18:00").
    #[serde(default)]
    pub inactivity_day_out_until: Option<String>,
    /// Replaces usage_drop rules' `fraction` (e.g. 0.7 to hear sooner of a
    /// frail resident eating and washing less).
    #[serde(default)]
    pub usage_drop_fraction: Option<f64>,
}

/// One household's validated overrides.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HouseholdLimits {
    pub after: Option<Duration>,
    pub min: Option<Duration>,
    pub max: Option<Duration>,
    /// `Some(None)`: the allowance is off for this household.
    pub late_morning: Option<Option<Duration>>,
    /// `Some(None)`: the allowance is off for this household.
    pub day_out_until: Option<Option<u16>>,
    pub usage_drop_fraction: Option<f64>,
}

impl HouseholdLimits {
    /// `config` with these overrides applied.
    pub fn apply(&self, config: &InactivityConfig) -> InactivityConfig {
        let mut out = config.clone();
        if let Some(after) = self.after {
            out.after = after;
        }
        if let Some(l) = &mut out.learned {
            l.min = self.min.unwrap_or(l.min);
            if let Some(max) = self.max.or(self.after) {
                // The household's own cap is a hard one.
                l.max = max;
                l.routine_max = None;
            }
            l.min = l.min.min(l.max);
            l.late_morning = self.late_morning.unwrap_or(l.late_morning);
            l.day_out_until = self.day_out_until.unwrap_or(l.day_out_until);
        }
        out
    }

    /// `config` with this household's usage_drop override applied.
    pub fn apply_usage_drop(&self, config: &UsageDropConfig) -> UsageDropConfig {
        let mut out = config.clone();
        if let Some(fraction) = self.usage_drop_fraction {
            out.fraction = fraction;
        }
        out
    }
}

impl Check<'_> {
    pub(super) fn households(&mut self) -> HashMap<String, HouseholdLimits> {
        let mut out: HashMap<String, HouseholdLimits> = HashMap::new();
        let entries = self
            .doc
            .each::<HouseholdEntry>("household")
            .unwrap_or_else(|p| {
                self.problems.push(p);
                Vec::new()
            });
        for (i, entry) in entries.into_iter().enumerate() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(problem) => {
                    self.problems.push(problem);
                    continue;
                }
            };
            let path = |key: &str| format!("household[{i}].{key}");
            let id = entry.id.trim().to_owned();
            if id.is_empty() {
                self.at(
                    path("id"),
                    "empty; write the household id, e.g. id = \"h0042\"".into(),
                );
                continue;
            }
            if out.contains_key(&id) {
                self.at(
                    path("id"),
                    format!("household \"{id}\" is listed twice; merge its limits into one [[household]]"),
                );
                continue;
            }
            let limits = HouseholdLimits {
                after: self.duration(path("inactivity_after"), entry.inactivity_after.as_deref()),
                min: self.duration(path("inactivity_min"), entry.inactivity_min.as_deref()),
                max: self.duration(path("inactivity_max"), entry.inactivity_max.as_deref()),
                late_morning: self.late_morning(
                    path("inactivity_late_morning"),
                    entry.inactivity_late_morning.as_deref(),
                ),
                day_out_until: self.day_out_until(
                    path("inactivity_day_out_until"),
                    entry.inactivity_day_out_until.as_deref(),
                ),
                usage_drop_fraction: entry.usage_drop_fraction.filter(|&f| {
                    let ok = f > 0.0 && f < 1.0;
                    if !ok {
                        self.at(
                            path("usage_drop_fraction"),
                            format!("must be between 0 and 1, exclusive (got {f}); e.g. 0.7"),
                        );
                    }
                    ok
                }),
            };
            let given = [
                &entry.inactivity_after,
                &entry.inactivity_min,
                &entry.inactivity_max,
                &entry.inactivity_late_morning,
                &entry.inactivity_day_out_until,
            ];
            if given.iter().all(|g| g.is_none()) && entry.usage_drop_fraction.is_none() {
                self.at(
                    path("id"),
                    "no limits given; add inactivity_after, inactivity_min, inactivity_max, inactivity_late_morning, inactivity_day_out_until or usage_drop_fraction"
                        .into(),
                );
            }
            if let (Some(min), Some(max)) = (limits.min, limits.max.or(limits.after))
                && min > max
            {
                self.at(
                    path("inactivity_min"),
                    format!(
                        "the minimum ({}) is longer than the maximum ({}); make it shorter",
                        crate::text::duration(min),
                        crate::text::duration(max)
                    ),
                );
            }
            out.insert(id, limits);
        }
        out
    }
}
