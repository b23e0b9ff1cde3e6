//! Contacts: who a household's notifications reach, over which channels,
//! in which language, and when (quiet hours hold non-critical messages until
//! morning; critical ones go at once).
//!
//! ```toml
//! [[contact]]
//! name = "Li Wei"
//! role = "grid_worker"
//! grids = ["grid-7"]
//! language = "zh-CN"
//! quiet_hours = "22:00-07:00"
//! utc_offset = "+08:00"             # or timezone = "Asia/Shanghai"
//! reach = [{ channel = "sms", to = "+8613800001234" }, { channel = "email", to = "li.wei@example.org" }]
//! ```

use chrono::{DateTime, NaiveTime, Utc};
use serde::Deserialize;
use waterwatch_rules::Severity;
use waterwatch_rules::text::Language;

use crate::case::Role;
use crate::zone::Zone;

/// One way to reach a contact.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reach {
    /// The name of a configured channel (`[[webhook]]`, `[[email]]`, `[[sms]]`, …).
    pub channel: String,
    /// The address on that channel: email address or phone number in E.164
    /// (`+8613800001234`); none for webhooks and group robots.
    #[serde(default)]
    pub to: Option<String>,
}

/// One `[[contact]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactConfig {
    /// The person's name, as the audit trail and "X is going" show it.
    pub name: String,
    /// `grid_worker`, `supervisor`, `family` or `resident`.
    pub role: Role,
    /// Grids a grid worker or supervisor covers.
    #[serde(default)]
    pub grids: Vec<String>,
    /// Households a family member or resident belongs to.
    #[serde(default)]
    pub households: Vec<String>,
    /// `en` or `zh-CN`.
    #[serde(default)]
    pub language: Language,
    /// Local hours when only critical notifications go out, e.g. `22:00-07:00`;
    /// others wait until the end of the quiet hours.
    #[serde(default)]
    pub quiet_hours: Option<String>,
    /// The contact's local time, for quiet hours, reassurance and times in
    /// messages: a fixed UTC offset (`+08:00`) ...
    #[serde(default)]
    pub utc_offset: Option<String>,
    /// ... or a time zone that follows daylight saving (`Europe/Berlin`).
    /// Neither: UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// How to reach the person, each tried independently.
    pub reach: Vec<Reach>,
    /// A daily "day has started: first water at 07:12" message for each of
    /// this contact's households: `true` (the first use from 05:00 local
    /// time) or a local time like `"06:30"` (the first use from then). None
    /// while a case is open or the household is away, and none for readings
    /// that arrive more than 2 hours late (too late to reassure anyone).
    #[serde(default)]
    pub reassurance: Option<Reassurance>,
    /// What this contact calls the resident in messages (e.g. "Mum");
    /// default: the household's name.
    #[serde(default)]
    pub calls_resident: Option<String>,
}

/// `reassurance = true` or `reassurance = "06:30"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Reassurance {
    On(bool),
    From(String),
}

/// When the morning starts for `reassurance = true`.
const DEFAULT_MORNING: NaiveTime = match NaiveTime::from_hms_opt(5, 0, 0) {
    Some(t) => t,
    None => unreachable!(),
};

impl ContactConfig {
    /// Problems with this contact: (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match self.role {
            Role::GridWorker | Role::Supervisor if self.grids.is_empty() => {
                out.push((
                    "grids",
                    format!("a {} needs the grids they cover", self.role.as_str()),
                ));
            }
            Role::Family | Role::Resident if self.households.is_empty() => {
                out.push((
                    "households",
                    format!("a {} needs their household(s)", self.role.as_str()),
                ));
            }
            _ => {}
        }
        if self.reach.is_empty() {
            out.push((
                "reach",
                "list at least one channel to reach this person".into(),
            ));
        }
        if let Some(hours) = &self.quiet_hours
            && parse_quiet_hours(hours).is_none()
        {
            out.push(("quiet_hours", format!("`{hours}` is not like 22:00-07:00")));
        }
        if let Some(Reassurance::From(text)) = &self.reassurance
            && NaiveTime::parse_from_str(text.trim(), "%H:%M").is_err()
        {
            out.push((
                "reassurance",
                format!("`{text}` is not true, false or a local time like \"06:30\""),
            ));
        }
        if let Err(problem) =
            Zone::from_fields(self.utc_offset.as_deref(), self.timezone.as_deref())
        {
            out.push(problem);
        }
        out
    }

    /// The contact's local time (for quiet hours and times in texts; UTC
    /// unless set, or when set wrongly: the config check refuses that).
    pub fn zone(&self) -> Zone {
        Zone::from_fields(self.utc_offset.as_deref(), self.timezone.as_deref())
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// From what local time the first water use of a day earns this contact
    /// a reassurance message; `None` when they have not asked for one.
    pub fn reassurance_from(&self) -> Option<NaiveTime> {
        match &self.reassurance {
            None | Some(Reassurance::On(false)) => None,
            Some(Reassurance::On(true)) => Some(DEFAULT_MORNING),
            Some(Reassurance::From(text)) => NaiveTime::parse_from_str(text.trim(), "%H:%M").ok(),
        }
    }

    pub fn covers(&self, household: &str, grid: Option<&str>) -> bool {
        match self.role {
            Role::GridWorker | Role::Supervisor => {
                grid.is_some_and(|g| self.grids.iter().any(|c| c == g))
            }
            Role::Family | Role::Resident => self.households.iter().any(|h| h == household),
        }
    }

    /// When a message of this severity may go out to this contact: now, or
    /// at the end of their quiet hours.
    pub fn not_before(&self, severity: Severity, now: DateTime<Utc>) -> DateTime<Utc> {
        if severity == Severity::Critical {
            return now;
        }
        let Some((from, until)) = self.quiet_hours.as_deref().and_then(parse_quiet_hours) else {
            return now;
        };
        let zone = self.zone();
        let local = zone.local(now);
        let time = local.time();
        let quiet = if from <= until {
            time >= from && time < until
        } else {
            time >= from || time < until
        };
        if !quiet {
            return now;
        }
        let mut end = local.date_naive().and_time(until);
        if end <= local.naive_local() {
            end += chrono::Duration::days(1);
        }
        zone.instant(end)
    }
}

fn parse_quiet_hours(text: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (from, until) = text.split_once('-')?;
    let from = NaiveTime::parse_from_str(from.trim(), "%H:%M").ok()?;
    let until = NaiveTime::parse_from_str(until.trim(), "%H:%M").ok()?;
    (from != until).then_some((from, until))
}

/// The contacts of a household with one of `roles`.
pub fn for_household<'c>(
    contacts: &'c [ContactConfig],
    household: &str,
    grid: Option<&str>,
    roles: &[Role],
) -> Vec<&'c ContactConfig> {
    contacts
        .iter()
        .filter(|c| roles.contains(&c.role) && c.covers(household, grid))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn contact(role: Role) -> ContactConfig {
        ContactConfig {
            name: "Li Wei".into(),
            role,
            grids: vec!["grid-7".into()],
            households: vec!["h1".into()],
            language: Language::ZhCn,
            quiet_hours: Some("22:00-07:00".into()),
            utc_offset: Some("+08:00".into()),
            timezone: None,
            reach: vec![Reach {
                channel: "sms".into(),
                to: Some("+8613800001234".into()),
            }],
            reassurance: None,
            calls_resident: None,
        }
    }

    #[test]
    fn grid_workers_cover_their_grid_and_family_their_household() {
        let contacts = vec![contact(Role::GridWorker), contact(Role::Family)];
        let both = [Role::GridWorker, Role::Family];
        assert_eq!(
            for_household(&contacts, "h1", Some("grid-7"), &both).len(),
            2
        );
        assert_eq!(
            for_household(&contacts, "h2", Some("grid-7"), &both).len(),
            1
        );
        assert_eq!(
            for_household(&contacts, "h2", Some("grid-9"), &both).len(),
            0
        );
        assert_eq!(
            for_household(&contacts, "h1", None, &[Role::Supervisor]).len(),
            0
        );
    }

    #[test]
    fn quiet_hours_hold_all_but_critical_messages_until_morning() {
        let c = contact(Role::GridWorker);
        // 23:30 local (+08:00) = 15:30 UTC.
        let night = Utc.with_ymd_and_hms(2026, 11, 24, 15, 30, 0).unwrap();
        let morning = Utc.with_ymd_and_hms(2026, 11, 24, 23, 0, 0).unwrap(); // 07:00 local
        assert_eq!(c.not_before(Severity::Warning, night), morning);
        assert_eq!(c.not_before(Severity::Critical, night), night);
        // 06:00 local: still quiet, until 07:00 the same morning.
        let early = Utc.with_ymd_and_hms(2026, 11, 24, 22, 0, 0).unwrap();
        assert_eq!(c.not_before(Severity::Info, early), morning);
        // Midday: at once.
        let noon = Utc.with_ymd_and_hms(2026, 11, 24, 4, 0, 0).unwrap();
        assert_eq!(c.not_before(Severity::Warning, noon), noon);
    }

    #[test]
    fn quiet_hours_in_a_named_zone_end_at_seven_local_in_summer_winter_and_on_the_night_clocks_go_back()
     {
        let mut c = contact(Role::GridWorker);
        c.utc_offset = None;
        c.timezone = Some("Europe/Berlin".into());
        assert!(c.problems().is_empty(), "{:?}", c.problems());
        let held = |y, mo, d, h, mi| {
            let night = Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
            c.not_before(Severity::Warning, night).to_rfc3339()
        };
        // 23:30 CEST -> 07:00 CEST; 23:30 CET -> 07:00 CET.
        assert_eq!(held(2026, 7, 1, 21, 30), "2026-07-02T05:00:00+00:00");
        assert_eq!(held(2026, 12, 1, 22, 30), "2026-12-02T06:00:00+00:00");
        // 23:30 CEST on 24 October; the clocks go back at 03:00, so the
        // morning's 07:00 is CET.
        assert_eq!(held(2026, 10, 24, 21, 30), "2026-10-25T06:00:00+00:00");
        c.utc_offset = Some("+01:00".into());
        let fields: Vec<_> = c.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["timezone"]);
    }

    #[test]
    fn a_contact_without_reach_or_coverage_is_a_problem() {
        let mut c = contact(Role::Supervisor);
        c.grids.clear();
        c.reach.clear();
        c.quiet_hours = Some("late".into());
        c.reassurance = Some(Reassurance::From("dawn".into()));
        let fields: Vec<_> = c.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, vec!["grids", "reach", "quiet_hours", "reassurance"]);
    }
}

#[cfg(test)]
mod reassurance_tests {
    use super::*;

    fn parse(line: &str) -> ContactConfig {
        toml::from_str(&format!(
            "name = \"Jun\"\nrole = \"family\"\nhouseholds = [\"h1\"]\nreach = [{{ channel = \"sms\" }}]\n{line}\n"
        ))
        .unwrap()
    }

    #[test]
    fn reassurance_is_off_on_or_from_a_local_time() {
        assert_eq!(parse("").reassurance_from(), None);
        assert_eq!(parse("reassurance = false").reassurance_from(), None);
        assert_eq!(
            parse("reassurance = true").reassurance_from(),
            NaiveTime::from_hms_opt(5, 0, 0)
        );
        assert_eq!(
            parse("reassurance = \"06:30\"").reassurance_from(),
            NaiveTime::from_hms_opt(6, 30, 0)
        );
    }
}
