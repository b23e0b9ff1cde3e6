//! The rules file's semantic checks: each section and `[[rule]]` table
//! turned into typed values, every problem collected with its place.

use std::time::Duration;

use super::entry::{KINDS, fields, learned_only, usage_of};
use super::{Detector, Rule, RuleEntry};
use crate::baseline::{BaselineConfig, Learning, MAX_HALF_LIFE_DAYS};
use crate::event::Kind;
use crate::normalise::NormaliseConfig;
use crate::rule::continuous_flow::ContinuousFlowConfig;
use crate::rule::inactivity::InactivityConfig;
use crate::rule::meter_fault::MeterFaultConfig;
use crate::rule::meter_offline::MeterOfflineConfig;
use crate::rule::spike::SpikeConfig;
use crate::tomlcheck::{Doc, Problem};

/// Semantic checks, collecting problems.
pub(super) struct Check<'a> {
    pub(super) doc: &'a Doc,
    pub(super) problems: Vec<Problem>,
    /// The routes a rule may name; `None`: not checked.
    pub(super) routes: Option<&'a [&'a str]>,
}

impl Check<'_> {
    pub(super) fn at(&mut self, path: String, message: String) {
        self.problems.push(self.doc.problem(&path, message));
    }

    pub(super) fn normalise(&mut self, normalise: &NormaliseConfig) {
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

    pub(super) fn baseline(&mut self, config: &BaselineConfig) -> Option<Learning> {
        let before = self.problems.len();
        let half_life = config.half_life_days;
        if !(half_life.is_finite() && half_life > 0.0) {
            self.at(
                "baseline.half_life_days".into(),
                format!("must be greater than zero (got {half_life}); the usual value is 28"),
            );
        } else if half_life > MAX_HALF_LIFE_DAYS {
            self.at(
                "baseline.half_life_days".into(),
                format!(
                    "must be at most {MAX_HALF_LIFE_DAYS} days (got {half_life}): a longer memory \
                     would overflow the learned counts; the usual value is 28"
                ),
            );
        }
        let gap = self.duration(
            "baseline.longest_normal_gap".into(),
            Some(&config.longest_normal_gap),
        );
        let weekend_min_days = config
            .weekend_min_days
            .unwrap_or(crate::baseline::DEFAULT_WEEKEND_MIN_DAYS);
        if config.weekend_min_days.is_some() && !config.weekend {
            self.at(
                "baseline.weekend_min_days".into(),
                "only used with weekend = true; remove it or set weekend = true".into(),
            );
        } else if weekend_min_days == 0 {
            self.at(
                "baseline.weekend_min_days".into(),
                format!(
                    "must be at least 1 (got 0); the usual value is {}",
                    crate::baseline::DEFAULT_WEEKEND_MIN_DAYS
                ),
            );
        }
        if self.problems.len() > before {
            return None;
        }
        Some(
            Learning::new(
                config.learning_days,
                half_life,
                crate::rule::duration_ms(gap?),
            )
            .with_weekend(config.weekend.then_some(weekend_min_days)),
        )
    }

    pub(super) fn rule(&mut self, i: usize, entry: RuleEntry) -> Option<Rule> {
        let before = self.problems.len();
        let path = |key: &str| format!("rule[{i}].{key}");
        if entry.name.trim().is_empty() {
            self.at(
                path("name"),
                "empty; give the rule a unique name, e.g. name = \"inactivity\"".into(),
            );
        }
        match (entry.route.as_deref(), self.routes) {
            (Some(route), _) if route.trim().is_empty() => self.at(
                path("route"),
                "empty; name a route or leave `route` out".into(),
            ),
            (Some(route), Some(routes)) if !routes.contains(&route) => {
                let known = if routes.is_empty() {
                    "it has none, so every case takes the default route (grid worker and family at once)".to_owned()
                } else {
                    format!("its routes: {}", routes.join(", "))
                };
                self.at(
                    path("route"),
                    format!(
                        "no [[route]] named \"{route}\" in the daemon's config ({known}); add that route or name one of these"
                    ),
                );
            }
            _ => {}
        }
        let kind = self.kind(path("kind"), &entry.kind);
        let after = self.duration(path("after"), entry.after.as_deref());
        let window = self.duration(path("window"), entry.window.as_deref());
        let steady = self.duration(path("steady"), entry.steady.as_deref());
        let flow_running = self.duration(path("flow_running"), entry.flow_running.as_deref());
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
        let learned = entry.learned == Some(true);
        let present = fields(&entry);
        let learned_fields = learned_only(kind);
        for &(field, present) in &present {
            if present && !learned && learned_fields.contains(&field) {
                self.at(
                    path(field),
                    "only used by a learned rule; add learned = true or remove it".into(),
                );
            }
        }
        let detector_of = |check: &mut Self| -> Option<Detector> {
            Some(match kind {
                Kind::Inactivity => Detector::Inactivity(InactivityConfig {
                    after: after?,
                    learned: if learned {
                        Some(check.learned(i, &entry, after)?)
                    } else {
                        None
                    },
                }),
                Kind::ContinuousFlow => Detector::ContinuousFlow(ContinuousFlowConfig {
                    after: after?,
                    window: window?,
                    min_rate_lpm: min_rate_lpm.unwrap_or(0.0),
                    steady,
                    flow_running,
                    learned: if learned {
                        Some(check.learned_run(i, &entry, after)?)
                    } else {
                        None
                    },
                }),
                Kind::Spike => Detector::Spike(SpikeConfig {
                    rate_lpm: rate_lpm?,
                    window: window?,
                    reported_flow: entry.reported_flow == Some(true),
                    learned: if learned {
                        Some(check.learned_rate(i, &entry, rate_lpm)?)
                    } else {
                        None
                    },
                }),
                Kind::UsageDrop => Detector::UsageDrop(check.usage_drop(i, &entry)?),
                Kind::MeterOffline => Detector::MeterOffline(MeterOfflineConfig { after: after? }),
                Kind::MeterFault => Detector::MeterFault(MeterFaultConfig {
                    flags: flags.clone()?,
                }),
            })
        };
        let detector = detector_of(self);
        for &(field, present) in &present {
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
        if let (Kind::ContinuousFlow, Some(after), Some(running)) = (kind, after, flow_running)
            && running > after
        {
            self.at(
                path("flow_running"),
                format!(
                    "flow_running ({}) is longer than after ({}), so it could never fire first; make it shorter, e.g. flow_running = \"1h\"",
                    crate::text::duration(running),
                    crate::text::duration(after)
                ),
            );
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
        let detector = detector?;
        Some(Rule {
            name: entry.name,
            severity: entry.severity,
            enabled: entry.enabled,
            route: entry.route,
            detector,
        })
    }

    pub(super) fn kind(&mut self, path: String, text: &str) -> Option<Kind> {
        if let Some(kind) = KINDS.into_iter().find(|k| k.as_str() == text) {
            return Some(kind);
        }
        let allowed = KINDS.map(Kind::as_str).join(", ");
        self.at(
            path,
            format!("unknown kind \"{text}\"; use one of: {allowed}"),
        );
        None
    }

    pub(super) fn duration(&mut self, path: String, text: Option<&str>) -> Option<Duration> {
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

    pub(super) fn flags(&mut self, path: String, flags: &[String]) -> Option<Vec<String>> {
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
