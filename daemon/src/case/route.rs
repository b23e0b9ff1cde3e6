//! Routes: who is told about a case, in which order, and how hard to insist.
//!
//! ```toml
//! [[route]]
//! name = "urgent"
//! kinds = ["inactivity", "spike", "continuous_flow"]   # empty: every kind
//! min_severity = "critical"
//! ask_resident = "10m"          # optional: first ask the resident; stand down if they answer
//! steps = [
//!   { after = "0m",  notify = ["grid_worker"] },
//!   { after = "15m", notify = ["family", "supervisor"] },
//! ]
//! remind_every = "30m"          # until someone acknowledges
//! visit_within = "2h"           # after acknowledgement; escalates when missed
//! ```

use std::time::Duration;

use serde::{Deserialize, Serialize};
use waterwatch_rules::{Kind, Severity};

/// What a contact is to a household.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The community grid worker (网格员) responsible for the household's grid.
    GridWorker,
    /// A family member.
    Family,
    /// The grid worker's supervisor.
    Supervisor,
    /// The resident themself (asked "Are you OK?").
    Resident,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::GridWorker => "grid_worker",
            Role::Family => "family",
            Role::Supervisor => "supervisor",
            Role::Resident => "resident",
        }
    }
}

/// One escalation step.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// How long after the case opens (or after the resident's chance to
    /// answer) this step goes out, if nobody has acknowledged.
    #[serde(deserialize_with = "duration")]
    pub after: Duration,
    /// Who is told at this step.
    pub notify: Vec<Role>,
}

/// One `[[route]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Name, shown in the audit trail.
    pub name: String,
    /// Alert kinds this route takes; empty takes every kind.
    #[serde(default)]
    pub kinds: Vec<Kind>,
    /// The lowest case severity this route takes.
    #[serde(default = "lowest")]
    pub min_severity: Severity,
    /// Ask the resident first and wait this long before the first step.
    #[serde(default, deserialize_with = "optional_duration")]
    pub ask_resident: Option<Duration>,
    /// Escalation steps, in order of `after`.
    pub steps: Vec<Step>,
    /// Remind everyone told so far this often until someone acknowledges.
    #[serde(default, deserialize_with = "optional_duration")]
    pub remind_every: Option<Duration>,
    /// After an acknowledgement, escalate if the case is not closed this soon.
    #[serde(default, deserialize_with = "optional_duration")]
    pub visit_within: Option<Duration>,
    /// Tell the first step's people (never the resident) of a quiet stretch
    /// seen only once it was over (a daily upload): a notice that waits for
    /// the end of their quiet hours. `false`: only kept on the dashboard.
    #[serde(default = "yes")]
    pub seen_late: bool,
}

fn yes() -> bool {
    true
}

fn lowest() -> Severity {
    Severity::Info
}

impl Route {
    /// The route used when no configured route matches: grid worker and
    /// family at once, reminders every 30 minutes until acknowledged.
    pub fn fallback() -> Route {
        Route {
            name: "default".into(),
            kinds: Vec::new(),
            min_severity: Severity::Info,
            ask_resident: None,
            steps: vec![Step {
                after: Duration::ZERO,
                notify: vec![Role::GridWorker, Role::Family],
            }],
            remind_every: Some(Duration::from_secs(30 * 60)),
            visit_within: None,
            seen_late: true,
        }
    }

    pub fn takes(&self, kind: Kind, severity: Severity) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&kind)) && severity >= self.min_severity
    }

    /// Problems with this route: (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.steps.is_empty() {
            out.push(("steps", "list at least one step".into()));
        }
        if self.steps.windows(2).any(|w| w[1].after < w[0].after) {
            out.push(("steps", "steps must be in order of `after`".into()));
        }
        if self.steps.iter().any(|s| s.notify.is_empty()) {
            out.push(("steps", "every step must notify at least one role".into()));
        }
        if self
            .remind_every
            .is_some_and(|d| d < Duration::from_secs(60))
        {
            out.push(("remind_every", "remind at most once a minute".into()));
        }
        out
    }
}

/// The route the alert's rule names; else the first route that takes this
/// kind and severity; else the fallback.
pub fn choose(routes: &[Route], named: Option<&str>, kind: Kind, severity: Severity) -> Route {
    named
        .and_then(|name| routes.iter().find(|r| r.name == name))
        .or_else(|| routes.iter().find(|r| r.takes(kind, severity)))
        .cloned()
        .unwrap_or_else(Route::fallback)
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text).map_err(|e| {
        serde::de::Error::custom(format!("`{text}` is not a duration like \"15m\": {e}"))
    })
}

fn optional_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    duration(d).map(Some)
}

/// Roles as a trail line says them: `grid_worker, family`.
pub fn roles_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_matching_route_wins_and_the_fallback_takes_the_rest() {
        let text = r#"
            [[route]]
            name = "urgent"
            kinds = ["inactivity"]
            min_severity = "critical"
            steps = [{ after = "0m", notify = ["grid_worker"] }]

            [[route]]
            name = "leaks"
            kinds = ["continuous_flow", "spike"]
            steps = [{ after = "0m", notify = ["family"] }]
        "#;
        #[derive(Deserialize)]
        struct File {
            route: Vec<Route>,
        }
        let routes = toml::from_str::<File>(text).unwrap().route;
        assert_eq!(
            choose(&routes, None, Kind::Inactivity, Severity::Critical).name,
            "urgent"
        );
        assert_eq!(
            choose(&routes, None, Kind::Inactivity, Severity::Warning).name,
            "default"
        );
        assert_eq!(
            choose(&routes, None, Kind::Spike, Severity::Critical).name,
            "leaks"
        );
        assert_eq!(
            choose(&routes, None, Kind::MeterOffline, Severity::Warning).name,
            "default"
        );
    }

    #[test]
    fn steps_out_of_order_are_a_problem() {
        let mut route = Route::fallback();
        route.steps.push(Step {
            after: Duration::ZERO,
            notify: vec![Role::Family],
        });
        route.steps[0].after = Duration::from_secs(600);
        assert_eq!(route.problems()[0].0, "steps");
    }
}
