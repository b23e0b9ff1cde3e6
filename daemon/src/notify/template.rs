//! What people read: the subject and text of each kind of notification, per
//! language (`zh-CN`, `en`), with defaults that fit one SMS and overrides
//! from the config.
//!
//! Placeholders: `{household}`, `{name}`, `{summary}`, `{since}`, `{link}`,
//! `{by}`. A `{` not followed by a placeholder name and `}` is kept as is, so
//! JSON-looking text survives.
//!
//! Texts go out by SMS, so `render` keeps a text within one SMS (70 UCS-2
//! characters, or 160 GSM-7 ones) by shortening `{summary}` — and only it —
//! with an ellipsis. The rule summaries run to 40–80 characters on their own;
//! the full evidence is behind `{link}`.

use std::collections::BTreeMap;

use serde::Deserialize;
use waterwatch_rules::text::Language;

/// Why a notification goes out; each has its own template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// A new case: the first alert for a household.
    CaseOpened,
    /// An alert joined an open case and raised its severity.
    SeverityRaised,
    /// Still unacknowledged: a repeat to the same people.
    Reminder,
    /// Unacknowledged for too long: the next people on the route are told.
    Escalated,
    /// Every alert of the case has resolved.
    AllClear,
    /// Someone said "I'm going".
    Acknowledged,
    /// To the resident: "Are you OK? Tap to confirm".
    ResidentCheck,
    /// Acknowledged, but not closed within the visit deadline.
    VisitOverdue,
    /// Closed by a person, with a reason (in `{summary}`).
    Closed,
    /// The daily "day has started: first water at {since}" to contacts who asked.
    Reassurance,
    /// A quiet stretch over before its readings arrived: nobody was paged.
    SeenLate,
}

impl Reason {
    pub const ALL: [Reason; 11] = [
        Reason::CaseOpened,
        Reason::SeverityRaised,
        Reason::Reminder,
        Reason::Escalated,
        Reason::AllClear,
        Reason::Acknowledged,
        Reason::ResidentCheck,
        Reason::VisitOverdue,
        Reason::Closed,
        Reason::Reassurance,
        Reason::SeenLate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::CaseOpened => "case_opened",
            Reason::SeverityRaised => "severity_raised",
            Reason::Reminder => "reminder",
            Reason::Escalated => "escalated",
            Reason::AllClear => "all_clear",
            Reason::Acknowledged => "acknowledged",
            Reason::ResidentCheck => "resident_check",
            Reason::VisitOverdue => "visit_overdue",
            Reason::Closed => "closed",
            Reason::Reassurance => "reassurance",
            Reason::SeenLate => "seen_late",
        }
    }

    pub fn parse(name: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

/// The placeholder names a template may use.
pub const PLACEHOLDERS: [&str; 6] = ["household", "name", "summary", "since", "link", "by"];

/// What fills the placeholders. Empty fields render as empty text; pass the
/// household id as `name` when the resident's name is not to be sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    /// The household id, e.g. `h0317`.
    pub household: String,
    /// The resident's name as the recipient knows them.
    pub name: String,
    /// The alert summary from the rules (shortened to fit one SMS).
    pub summary: String,
    /// Local time the case (or the quiet stretch) began, e.g. `09:40`.
    pub since: String,
    /// A short link to the case or the acknowledgement page.
    pub link: String,
    /// Who acknowledged.
    pub by: String,
}

impl Values {
    fn get(&self, name: &str) -> Option<&str> {
        Some(match name {
            "household" => &self.household,
            "name" => &self.name,
            "summary" => &self.summary,
            "since" => &self.since,
            "link" => &self.link,
            "by" => &self.by,
            _ => return None,
        })
    }
}

/// One `[templates."<language>".<reason>]` table: either part may be left
/// out to keep the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateOverride {
    /// Email subject and robot title.
    #[serde(default)]
    pub subject: Option<String>,
    /// The text (SMS body, email body, robot message).
    #[serde(default)]
    pub text: Option<String>,
}

/// `[templates]`: overrides by language tag (`zh-CN`, `en`) and reason
/// (`case_opened`, `severity_raised`, `reminder`, `escalated`, `all_clear`,
/// `acknowledged`, `resident_check`, `visit_overdue`, `closed`, `reassurance`,
/// `seen_late`). Example:
/// `[templates."zh-CN".case_opened]` `text = "{name}家需要查看：{link}"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct TemplatesConfig(pub BTreeMap<String, BTreeMap<String, TemplateOverride>>);

impl TemplatesConfig {
    /// Problems with the overrides: (key path under `templates`, message).
    // Design: the key path is dynamic (language and reason are map keys), so
    // this returns owned paths rather than the `&'static str` field names of
    // the fixed-shape configs.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (tag, reasons) in &self.0 {
            if Language::parse(tag).is_none() {
                out.push((
                    tag.clone(),
                    format!("unknown language `{tag}`: use `zh-CN` or `en`"),
                ));
            }
            for (reason, texts) in reasons {
                if Reason::parse(reason).is_none() {
                    let known: Vec<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
                    out.push((
                        format!("{tag}.{reason}"),
                        format!("unknown reason `{reason}`; known: {}", known.join(", ")),
                    ));
                }
                for (part, text) in [("subject", &texts.subject), ("text", &texts.text)] {
                    let Some(text) = text else { continue };
                    let path = format!("{tag}.{reason}.{part}");
                    if text.trim().is_empty() {
                        out.push((
                            path.clone(),
                            "is empty: remove it to keep the default".into(),
                        ));
                    }
                    for name in unknown_placeholders(text, &PLACEHOLDERS) {
                        out.push((
                            path.clone(),
                            format!(
                                "unknown placeholder `{{{name}}}`; known: {}",
                                PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(", ")
                            ),
                        ));
                    }
                }
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pair {
    subject: String,
    text: String,
}

/// The templates in force: the defaults with the config's overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Templates {
    by_key: BTreeMap<(Reason, &'static str), Pair>,
}

impl Default for Templates {
    fn default() -> Self {
        let mut by_key = BTreeMap::new();
        for reason in Reason::ALL {
            for language in [Language::En, Language::ZhCn] {
                let (subject, text) = default_pair(reason, language);
                by_key.insert(
                    (reason, language.as_str()),
                    Pair {
                        subject: subject.to_owned(),
                        text: text.to_owned(),
                    },
                );
            }
        }
        Self { by_key }
    }
}

impl Templates {
    /// The defaults with `config`'s overrides; fails listing every problem.
    pub fn from_config(config: &TemplatesConfig) -> Result<Self, String> {
        let problems = config.problems();
        if !problems.is_empty() {
            let lines: Vec<_> = problems
                .iter()
                .map(|(path, why)| format!("templates.{path}: {why}"))
                .collect();
            return Err(lines.join("; "));
        }
        let mut templates = Self::default();
        for (tag, reasons) in &config.0 {
            let Some(language) = Language::parse(tag) else {
                continue;
            };
            for (name, texts) in reasons {
                let Some(reason) = Reason::parse(name) else {
                    continue;
                };
                if let Some(pair) = templates.by_key.get_mut(&(reason, language.as_str())) {
                    if let Some(subject) = &texts.subject {
                        pair.subject = subject.clone();
                    }
                    if let Some(text) = &texts.text {
                        pair.text = text.clone();
                    }
                }
            }
        }
        Ok(templates)
    }

    /// The subject and text for `reason` in `language`. The text is kept
    /// within one SMS by shortening `{summary}` when it would not fit.
    pub fn render(&self, reason: Reason, language: Language, values: &Values) -> (String, String) {
        let Some(pair) = self.by_key.get(&(reason, language.as_str())) else {
            return (String::new(), String::new());
        };
        let subject = substitute(&pair.subject, |name| values.get(name).map(str::to_owned));
        (subject, fit_one_sms(&pair.text, values))
    }
}

fn default_pair(reason: Reason, language: Language) -> (&'static str, &'static str) {
    match (language, reason) {
        (Language::ZhCn, Reason::CaseOpened) => (
            "需要查看：{name}（{household}）",
            "{name}（{household}）{summary}请尽快上门查看：{link}",
        ),
        (Language::ZhCn, Reason::SeverityRaised) => (
            "情况升级：{name}（{household}）",
            "情况升级：{name}（{household}）{summary}请尽快查看：{link}",
        ),
        (Language::ZhCn, Reason::Reminder) => (
            "仍无人确认：{name}（{household}）",
            "提醒：{name}（{household}）的警报自{since}起仍无人确认，请尽快查看：{link}",
        ),
        (Language::ZhCn, Reason::Escalated) => (
            "已升级给您：{name}（{household}）",
            "{name}（{household}）的警报自{since}起无人确认，现通知您，请尽快查看：{link}",
        ),
        (Language::ZhCn, Reason::AllClear) => (
            "已解除：{name}（{household}）",
            "已解除：{name}（{household}）{summary}",
        ),
        (Language::ZhCn, Reason::Acknowledged) => (
            "{by}已确认：{name}（{household}）",
            "{by}已确认{name}（{household}）的警报，正在处理。详情：{link}",
        ),
        (Language::ZhCn, Reason::ResidentCheck) => (
            "您好，请确认您一切平安",
            "{name}您好，您家自{since}起未用水。如一切安好，请点击确认：{link}",
        ),
        (Language::ZhCn, Reason::VisitOverdue) => (
            "上门超时：{name}（{household}）",
            "{by}已确认{name}（{household}）的警报，但尚未结案，请跟进：{link}",
        ),
        (Language::ZhCn, Reason::Closed) => (
            "已结案：{name}（{household}）",
            "{name}（{household}）的警报已由{by}结案：{summary}详情：{link}",
        ),
        (Language::ZhCn, Reason::Reassurance) => (
            "{name}今天一切如常",
            "{name}今天已开始用水：首次用水在{since}。",
        ),
        (Language::ZhCn, Reason::SeenLate) => (
            "事后发现：{name}（{household}）",
            "事后发现：{name}（{household}）{summary}（之后已重新用水）详情：{link}",
        ),
        (Language::En, Reason::SeenLate) => (
            "Seen late: {name} ({household})",
            "Seen late: {name} ({household}): {summary} Water has run since. Details: {link}",
        ),
        (Language::En, Reason::Reassurance) => (
            "{name}'s day has started",
            "{name}'s day has started: first water at {since}.",
        ),
        (Language::En, Reason::VisitOverdue) => (
            "Visit overdue: {name} ({household})",
            "{by} acknowledged the alert for {name} ({household}) but the case is still open. Please follow up: {link}",
        ),
        (Language::En, Reason::Closed) => (
            "Closed: {name} ({household})",
            "The case for {name} ({household}) was closed by {by}: {summary} {link}",
        ),
        (Language::En, Reason::CaseOpened) => (
            "Check needed: {name} ({household})",
            "{name} ({household}): {summary} Please check on them: {link}",
        ),
        (Language::En, Reason::SeverityRaised) => (
            "Worse: {name} ({household})",
            "Worse: {name} ({household}): {summary} Please check: {link}",
        ),
        (Language::En, Reason::Reminder) => (
            "Still unacknowledged: {name} ({household})",
            "Reminder: nobody has acknowledged the alert for {name} ({household}) since {since}. Please check: {link}",
        ),
        (Language::En, Reason::Escalated) => (
            "Escalated to you: {name} ({household})",
            "Escalated to you: nobody has acknowledged the alert for {name} ({household}) since {since}. Please check: {link}",
        ),
        (Language::En, Reason::AllClear) => (
            "All clear: {name} ({household})",
            "All clear: {name} ({household}): {summary}",
        ),
        (Language::En, Reason::Acknowledged) => (
            "{by} is on it: {name} ({household})",
            "{by} acknowledged the alert for {name} ({household}) and is on it. {link}",
        ),
        (Language::En, Reason::ResidentCheck) => (
            "Are you OK?",
            "Hello {name}, we noticed no water use at home since {since}. If you are OK, please tap to confirm: {link}",
        ),
    }
}

/// Replace every `{name}` that `value` knows; anything else (including
/// braces of JSON) is kept as written.
pub fn substitute(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match placeholder_at(after).and_then(|name| value(name).map(|v| (name, v))) {
            Some((name, v)) => {
                out.push_str(&v);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `{name}` placeholders in `template` that are not in `known`.
pub fn unknown_placeholders<'t>(template: &'t str, known: &[&str]) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        if let Some(name) = placeholder_at(rest)
            && !known.contains(&name)
        {
            out.push(name);
        }
    }
    out
}

/// `name` if `text` starts with `name}` and name looks like a placeholder
/// (lower-case letters, digits, `_`).
fn placeholder_at(text: &str) -> Option<&str> {
    let close = text.find('}')?;
    let name = &text[..close];
    let ok = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    ok.then_some(name)
}

mod sms;
#[cfg(test)]
mod tests;

use sms::fit_one_sms;
pub use sms::{is_gsm7, sms_segments, sms_units};
