//! The daily reassurance, for contacts who ask for it: "Mum's day has
//! started: first water at 07:12." Pure: which contacts are due one for a
//! use of water seen at a given time, and the messages that go to them.
//!
//! Once per household, contact and local day: the idempotency key carries
//! the day, so a restart (or the same readings delivered twice) never sends
//! a second one. The processor decides the rest — that water was really
//! used, and that no case is open and the household is not away.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::json;
use waterwatch_rules::Severity;

use super::Message;
use super::contacts::{self, ContactConfig};
use super::template::{self, Templates};
use crate::case::Role;

/// A contact due a reassurance for one day.
#[derive(Debug, Clone)]
pub struct Due<'c> {
    pub contact: &'c ContactConfig,
    /// The contact's local day.
    pub day: NaiveDate,
    /// The first water, the contact's local time.
    pub at: NaiveTime,
}

/// One message to queue.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub key: String,
    pub channel: String,
    pub message: Message,
    pub not_before: DateTime<Utc>,
}

/// The contacts of `household` who want a reassurance and whose morning
/// has begun at `used` (a use of water, UTC).
pub fn due<'c>(
    contacts: &'c [ContactConfig],
    household: &str,
    grid: Option<&str>,
    used: DateTime<Utc>,
) -> Vec<Due<'c>> {
    const EVERYONE: [Role; 4] = [
        Role::GridWorker,
        Role::Family,
        Role::Supervisor,
        Role::Resident,
    ];
    contacts::for_household(contacts, household, grid, &EVERYONE)
        .into_iter()
        .filter_map(|contact| {
            let from = contact.reassurance_from()?;
            let local = contact.zone().local(used);
            (local.time() >= from).then(|| Due {
                contact,
                day: local.date_naive(),
                at: local.time(),
            })
        })
        .collect()
}

/// The messages of one reassurance: one per way of reaching the contact.
/// `name` is the household's name, if it has one.
pub fn messages(
    due: &Due<'_>,
    household: &str,
    name: Option<&str>,
    templates: &Templates,
    now: DateTime<Utc>,
) -> Vec<Outgoing> {
    let contact = due.contact;
    let values = template::Values {
        household: household.to_owned(),
        name: contact
            .calls_resident
            .as_deref()
            .or(name)
            .unwrap_or(household)
            .to_owned(),
        since: due.at.format("%H:%M").to_string(),
        ..Default::default()
    };
    let (subject, text) =
        templates.render(template::Reason::Reassurance, contact.language, &values);
    let body = json!({
        "type": "reassurance",
        "household": household,
        "day": due.day.to_string(),
        "first_water": values.since,
    });
    // Reassurance is never urgent: it waits out quiet hours.
    let not_before = contact.not_before(Severity::Info, now);
    contact
        .reach
        .iter()
        .map(|reach| Outgoing {
            key: format!(
                "reassurance-{household}-{}-{}-{}-{}",
                due.day,
                contact.name,
                reach.channel,
                reach.to.as_deref().unwrap_or("")
            ),
            channel: reach.channel.clone(),
            message: Message {
                to: reach.to.clone(),
                subject: subject.clone(),
                text: text.clone(),
                body: body.clone(),
            },
            not_before,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn contacts() -> Vec<ContactConfig> {
        toml::from_str::<std::collections::BTreeMap<String, Vec<ContactConfig>>>(
            r#"
            [[contact]]
            name = "Jun"
            role = "family"
            households = ["h1"]
            utc_offset = "+08:00"
            reassurance = "06:30"
            calls_resident = "Mum"
            reach = [{ channel = "sms", to = "+8613800001234" }, { channel = "mail", to = "jun@example.org" }]

            [[contact]]
            name = "Li"
            role = "grid_worker"
            grids = ["g1"]
            language = "zh-CN"
            utc_offset = "+08:00"
            reassurance = true
            reach = [{ channel = "sms", to = "+8613800005678" }]

            [[contact]]
            name = "Quiet"
            role = "family"
            households = ["h1"]
            reach = [{ channel = "sms", to = "+8613800009999" }]
            "#,
        )
        .unwrap()
        .remove("contact")
        .unwrap()
    }

    #[test]
    fn only_those_who_asked_and_whose_morning_has_begun_are_due() {
        let contacts = contacts();
        // 06:10 in +08:00: Li's morning (05:00) has begun, Jun's (06:30) not.
        let early = Utc.with_ymd_and_hms(2026, 11, 24, 22, 10, 0).unwrap();
        let names: Vec<_> = due(&contacts, "h1", Some("g1"), early)
            .iter()
            .map(|d| d.contact.name.as_str())
            .collect();
        assert_eq!(names, ["Li"]);
        let later = Utc.with_ymd_and_hms(2026, 11, 24, 23, 12, 0).unwrap();
        let due = due(&contacts, "h1", Some("g1"), later);
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].day, NaiveDate::from_ymd_opt(2026, 11, 25).unwrap());
    }

    #[test]
    fn the_message_names_the_resident_as_the_contact_calls_them_and_fits_one_sms() {
        let contacts = contacts();
        let used = Utc.with_ymd_and_hms(2026, 11, 24, 23, 12, 0).unwrap();
        let due = due(&contacts, "h1", Some("g1"), used);
        let templates = Templates::default();
        let jun = messages(&due[0], "h1", Some("Zhang Mei"), &templates, used);
        assert_eq!(jun.len(), 2);
        assert_eq!(
            jun[0].message.text,
            "Mum's day has started: first water at 07:12."
        );
        assert_eq!(
            jun[0].key,
            "reassurance-h1-2026-11-25-Jun-sms-+8613800001234"
        );
        assert_ne!(jun[0].key, jun[1].key);
        let li = messages(&due[1], "h1", Some("张梅"), &templates, used);
        assert_eq!(li[0].message.text, "张梅今天已开始用水：首次用水在07:12。");
        assert_eq!(template::sms_segments(&li[0].message.text), 1);
    }
}
