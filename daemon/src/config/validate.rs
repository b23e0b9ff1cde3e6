//! The config's semantic checks, beyond what serde can express: every
//! problem with its key path, so `check-config` can name the line.

use super::*;

impl Config {
    /// Semantic checks serde cannot express: (key path, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !self.broker.enabled && parse_mqtt_url(&self.mqtt.url).is_err() {
            out.push((
                "mqtt.url".into(),
                format!(
                    "`{}` is not a broker address like mqtt://127.0.0.1:1883",
                    self.mqtt.url
                ),
            ));
        }
        if self.mqtt.client_id.trim().is_empty() {
            out.push(("mqtt.client_id".into(), "must not be empty".into()));
        }
        let prefix = &self.mqtt.topic_prefix;
        if prefix.is_empty() || prefix.contains(['#', '+']) || prefix.ends_with('/') {
            out.push((
                "mqtt.topic_prefix".into(),
                "must be a topic without wildcards or a trailing `/`".into(),
            ));
        }
        if self.mqtt.password_env.is_some() && self.mqtt.password_file.is_some() {
            out.push((
                "mqtt.password_env".into(),
                "set password_env or password_file, not both".into(),
            ));
        }
        if crate::store::Backend::from_url(&self.store.url).is_err() {
            out.push((
                "store.url".into(),
                "must start with sqlite:// or postgres://".into(),
            ));
        }
        if self.store.keep_readings < Duration::from_secs(60 * 86_400) {
            out.push((
                "store.keep_readings".into(),
                "must be at least 60d: baselines and backtests need the weeks before".into(),
            ));
        }
        if self.store.dead_letters_kept < 1 {
            out.push((
                "store.dead_letters_kept".into(),
                "must be at least 1".into(),
            ));
        }
        if self.http.session_idle < Duration::from_secs(60) {
            out.push(("http.session_idle".into(), "must be at least 1m".into()));
        }
        if self.http.session_max < self.http.session_idle {
            out.push((
                "http.session_max".into(),
                "must be at least http.session_idle".into(),
            ));
        }
        if self.ingest.max_payload_bytes < 256 {
            out.push((
                "ingest.max_payload_bytes".into(),
                "must be at least 256".into(),
            ));
        }
        if self.ingest.batch_size == 0 {
            out.push(("ingest.batch_size".into(), "must be at least 1".into()));
        }
        let mut ids = std::collections::BTreeSet::new();
        let mut meters = std::collections::BTreeMap::new();
        for (i, household) in self.households.iter().enumerate() {
            let key = |field: &str| format!("household[{i}].{field}");
            if household.id.trim().is_empty() {
                out.push((key("id"), "must not be empty".into()));
            } else if !ids.insert(household.id.as_str()) {
                out.push((key("id"), format!("`{}` is listed twice", household.id)));
            }
            if household.meters.is_empty() {
                out.push((key("meters"), "list at least one meter id".into()));
            }
            for meter in &household.meters {
                if let Some(other) = meters.insert(meter.as_str(), household.id.as_str()) {
                    out.push((
                        key("meters"),
                        format!("meter `{meter}` already belongs to household `{other}`"),
                    ));
                }
            }
        }
        out.extend(replaced_meter_errors(&self.households, &meters));
        let mut channel_names = std::collections::BTreeSet::new();
        let mut index: std::collections::BTreeMap<&str, usize> = Default::default();
        for (section, name, max_per_minute) in self.channel_limits() {
            let i = index.entry(section).or_default();
            if !channel_names.insert(name) {
                out.push((
                    format!("{section}[{i}].name"),
                    format!("`{name}` names another channel already; channel names are unique"),
                ));
            }
            if max_per_minute == Some(0) {
                out.push((
                    format!("{section}[{i}].max_per_minute"),
                    "must be at least 1 (leave it out for no limit)".into(),
                ));
            }
            *i += 1;
        }
        for (i, c) in self.emails.iter().enumerate() {
            for (field, message) in c.problems() {
                out.push((format!("email[{i}].{field}"), message));
            }
        }
        for (i, c) in self.sms.iter().enumerate() {
            for (field, message) in c.problems() {
                out.push((format!("sms[{i}].{field}"), message));
            }
        }
        for (i, c) in self.robots.iter().enumerate() {
            for (field, message) in c.problems() {
                out.push((format!("robot[{i}].{field}"), message));
            }
        }
        for (path, message) in self.templates.problems() {
            out.push((format!("templates.{path}"), message));
        }
        for (i, contact) in self.contacts.iter().enumerate() {
            for (field, message) in contact.problems() {
                out.push((format!("contact[{i}].{field}"), message));
            }
            for (j, reach) in contact.reach.iter().enumerate() {
                if !channel_names.contains(reach.channel.as_str()) {
                    out.push((
                        format!("contact[{i}].reach[{j}].channel"),
                        format!(
                            "no channel is named `{}`; configured: {}",
                            reach.channel,
                            channel_names.iter().copied().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
            }
        }
        for (j, reach) in self.ops.reach.iter().enumerate() {
            if !channel_names.contains(reach.channel.as_str()) {
                out.push((
                    format!("ops.reach[{j}].channel"),
                    format!("no channel is named `{}`", reach.channel),
                ));
            }
        }
        let mut route_names = std::collections::BTreeSet::new();
        for (i, route) in self.routes.iter().enumerate() {
            if !route_names.insert(route.name.as_str()) {
                out.push((
                    format!("route[{i}].name"),
                    format!("`{}` is used twice", route.name),
                ));
            }
            for (field, message) in route.problems() {
                out.push((format!("route[{i}].{field}"), message));
            }
        }
        for (i, adapter) in self.adapters.iter().enumerate() {
            for (field, message) in adapter.problems() {
                out.push((format!("adapter[{i}].{field}"), message));
            }
        }
        for (i, hook) in self.webhooks.iter().enumerate() {
            let key = |field: &str| format!("webhook[{i}].{field}");
            if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
                out.push((key("url"), "must start with http:// or https://".into()));
            }
            if hook.secret_env.is_none() == hook.secret_file.is_none() {
                out.push((
                    key("secret_env"),
                    "set exactly one of secret_env or secret_file: receivers need the \
                     signature to trust a notification"
                        .into(),
                ));
            }
        }
        if let Some(links) = &self.links {
            if !(links.base_url.starts_with("http://") || links.base_url.starts_with("https://")) {
                out.push((
                    "links.base_url".into(),
                    "must start with https:// (or http://)".into(),
                ));
            }
            if links.secret_env.is_none() == links.secret_file.is_none() {
                out.push((
                    "links.secret_env".into(),
                    "set exactly one of secret_env or secret_file: links are signed with it".into(),
                ));
            }
        }
        if self.outbox.max_attempts < 1 {
            out.push(("outbox.max_attempts".into(), "must be at least 1".into()));
        }
        if self.outbox.concurrency == 0 {
            out.push(("outbox.concurrency".into(), "must be at least 1".into()));
        }
        out
    }

    /// Every channel: (section, name, `max_per_minute`).
    pub fn channel_limits(&self) -> Vec<(&'static str, &str, Option<u32>)> {
        self.webhooks
            .iter()
            .map(|w| ("webhook", w.name.as_str(), w.max_per_minute))
            .chain(
                self.emails
                    .iter()
                    .map(|c| ("email", c.name.as_str(), c.max_per_minute)),
            )
            .chain(
                self.sms
                    .iter()
                    .map(|c| ("sms", c.name.as_str(), c.max_per_minute)),
            )
            .chain(
                self.robots
                    .iter()
                    .map(|c| ("robot", c.name.as_str(), c.max_per_minute)),
            )
            .collect()
    }
}

/// `household[i].replaced`: each old meter is in no household's `meters`
/// and replaced only once, and the meter that took its place is one of this
/// household's. `meters`: each listed meter's household.
fn replaced_meter_errors(
    households: &[HouseholdConfig],
    meters: &std::collections::BTreeMap<&str, &str>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut retired = std::collections::BTreeMap::new();
    for (i, household) in households.iter().enumerate() {
        let key = format!("household[{i}].replaced");
        for (old, new) in &household.replaced {
            if let Some(owner) = meters.get(old.as_str()) {
                out.push((
                    key.clone(),
                    format!(
                        "meter `{old}` is still listed in the meters of household `{owner}`; \
                         a replaced meter is watched no more"
                    ),
                ));
            } else if let Some(other) = retired.insert(old.as_str(), household.id.as_str()) {
                out.push((
                    key.clone(),
                    format!("meter `{old}` is listed as replaced in household `{other}` too"),
                ));
            }
            if !household.meters.contains(new) {
                out.push((
                    key.clone(),
                    format!(
                        "`{old}` was replaced by `{new}`, which is not one of this \
                         household's meters; list it in `meters`"
                    ),
                ));
            }
        }
    }
    out
}
