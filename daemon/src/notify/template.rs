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
}

impl Reason {
    pub const ALL: [Reason; 10] = [
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
/// `acknowledged`, `resident_check`, `visit_overdue`, `closed`, `reassurance`). Example:
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

fn fit_one_sms(template: &str, values: &Values) -> String {
    let full = substitute(template, |name| values.get(name).map(str::to_owned));
    if sms_segments(&full) <= 1 || values.summary.is_empty() {
        return full;
    }
    let without = substitute(template, |name| match name {
        "summary" => Some(String::new()),
        other => values.get(other).map(str::to_owned),
    });
    let gsm = is_gsm7(&full);
    let (limit, ellipsis): (usize, &str) = if gsm { (160, "...") } else { (70, "…") };
    let used = sms_units(&without) + sms_units(ellipsis);
    let Some(mut budget) = limit.checked_sub(used) else {
        return without;
    };
    let mut summary = String::new();
    for c in values.summary.chars() {
        let units = if gsm { gsm7_units(c) } else { c.len_utf16() };
        if units > budget {
            break;
        }
        budget -= units;
        summary.push(c);
    }
    let summary = format!("{}{ellipsis}", summary.trim_end());
    substitute(template, |name| match name {
        "summary" => Some(summary.clone()),
        other => values.get(other).map(str::to_owned),
    })
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{c}";

fn gsm7_units(c: char) -> usize {
    if GSM7_EXTENSION.contains(c) { 2 } else { 1 }
}

/// Whether every character is in the GSM 03.38 alphabet (basic or extension).
pub fn is_gsm7(text: &str) -> bool {
    text.chars()
        .all(|c| GSM7_BASIC.contains(c) || GSM7_EXTENSION.contains(c))
}

/// Length as SMS counts it: GSM-7 septets (extension characters count 2) or
/// UTF-16 units when anything is outside GSM-7.
pub fn sms_units(text: &str) -> usize {
    if is_gsm7(text) {
        text.chars().map(gsm7_units).sum()
    } else {
        text.encode_utf16().count()
    }
}

/// How many SMS `text` takes: one up to 160 GSM-7 / 70 UCS-2 characters,
/// then 153 / 67 per part of a concatenated message.
pub fn sms_segments(text: &str) -> usize {
    let units = sms_units(text);
    let (single, part) = if is_gsm7(text) { (160, 153) } else { (70, 67) };
    if units <= single {
        1
    } else {
        units.div_ceil(part)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn realistic(language: Language) -> Values {
        match language {
            Language::ZhCn => Values {
                household: "h0317".into(),
                name: "王秀英".into(),
                summary: "自09:40起未用水（5小时10分钟）。该住户平时在10:00前后最长约3小时20分钟不用水，已超出。".into(),
                since: "昨天21:30".into(),
                link: "https://ww.example.cn/c/7Kx2Qp".into(),
                by: "李敏".into(),
            },
            Language::En => Values {
                household: "h0317".into(),
                name: "Margaret Wilson".into(),
                summary: "No water used for 5 h 10 min since 09:40; this household's longest usual gap after 10:00 is 3 h 20 min, so this is unusual.".into(),
                since: "21:30 yesterday".into(),
                link: "https://ww.example.org/c/7Kx2Qp".into(),
                by: "Sam Patel".into(),
            },
        }
    }

    #[test]
    fn every_default_rendered_with_realistic_values_fits_one_sms() {
        let templates = Templates::default();
        for language in [Language::ZhCn, Language::En] {
            let values = realistic(language);
            for reason in Reason::ALL {
                let (subject, text) = templates.render(reason, language, &values);
                assert!(!subject.is_empty() && !subject.contains('{'), "{subject}");
                assert!(!text.contains('{'), "{text}");
                assert_eq!(
                    sms_segments(&text),
                    1,
                    "{} {} is {} units: {text}",
                    language.as_str(),
                    reason.as_str(),
                    sms_units(&text)
                );
                for must in [&values.link, &values.name, &values.household] {
                    if reason == Reason::Reassurance {
                        // Nothing to act on: the name and the time only.
                        assert!(
                            text.contains(values.name.as_str())
                                && text.contains(values.since.as_str()),
                            "{text}"
                        );
                        continue;
                    }
                    if reason != Reason::ResidentCheck || must != &values.household {
                        let present = text.contains(must.as_str());
                        let optional = reason == Reason::AllClear && must == &values.link;
                        assert!(present || optional, "{must} missing from {text}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_long_summary_is_cut_with_an_ellipsis_and_a_short_one_is_kept_whole() {
        let templates = Templates::default();
        let mut values = realistic(Language::ZhCn);
        let (_, text) = templates.render(Reason::CaseOpened, Language::ZhCn, &values);
        assert!(
            text.starts_with("王秀英（h0317）自09:40起未用水（5小时"),
            "{text}"
        );
        assert!(text.contains('…'), "{text}");
        assert!(text.ends_with("请尽快上门查看：https://ww.example.cn/c/7Kx2Qp"));
        assert!(sms_units(&text) <= 70 && sms_units(&text) >= 65, "{text}");

        values.summary = "今天08:00起持续用水6小时。".into();
        let (_, text) = templates.render(Reason::CaseOpened, Language::ZhCn, &values);
        assert_eq!(
            text,
            "王秀英（h0317）今天08:00起持续用水6小时。请尽快上门查看：https://ww.example.cn/c/7Kx2Qp"
        );

        let values = realistic(Language::En);
        let (_, text) = templates.render(Reason::CaseOpened, Language::En, &values);
        assert!(
            is_gsm7(&text) && text.contains("...") && text.len() <= 160,
            "{text}"
        );
    }

    #[test]
    fn sms_length_counts_gsm7_septets_and_ucs2_units() {
        assert_eq!(sms_units("abc"), 3);
        assert_eq!(sms_units("a€"), 3);
        assert_eq!(sms_units("用水"), 2);
        assert_eq!(sms_segments(&"a".repeat(160)), 1);
        assert_eq!(sms_segments(&"a".repeat(161)), 2);
        assert_eq!(sms_segments(&"水".repeat(70)), 1);
        assert_eq!(sms_segments(&"水".repeat(71)), 2);
        assert_eq!(sms_segments(&"水".repeat(135)), 3);
    }

    #[test]
    fn overrides_replace_defaults_and_unknown_placeholders_are_reported() {
        let config: TemplatesConfig = toml::from_str(
            "[\"zh-CN\".case_opened]\ntext = \"{name}家需要查看：{link}\"\n\
             [en.reminder]\nsubject = \"Hi {nmae}\"\n\
             [fr.all_clear]\ntext = \"ok\"\n\
             [en.opened]\ntext = \"x\"\n",
        )
        .unwrap();
        let problems = config.problems();
        let paths: Vec<_> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["en.opened", "en.reminder.subject", "fr"]);
        assert!(problems[1].1.contains("`{nmae}`"), "{}", problems[1].1);
        assert!(Templates::from_config(&config).is_err());

        let config: TemplatesConfig =
            toml::from_str("[\"zh-CN\".case_opened]\ntext = \"{name}家需要查看：{link}\"\n")
                .unwrap();
        let templates = Templates::from_config(&config).unwrap();
        let values = realistic(Language::ZhCn);
        let (subject, text) = templates.render(Reason::CaseOpened, Language::ZhCn, &values);
        assert_eq!(text, "王秀英家需要查看：https://ww.example.cn/c/7Kx2Qp");
        assert_eq!(subject, "需要查看：王秀英（h0317）");
    }

    #[test]
    fn substitution_leaves_json_braces_and_unknown_names_alone() {
        let out = substitute("{\"to\":\"{to}\",\"x\":{other}}", |n| {
            (n == "to").then(|| "+86".to_owned())
        });
        assert_eq!(out, "{\"to\":\"+86\",\"x\":{other}}");
        assert_eq!(unknown_placeholders("{\"a\":1} {to} {tx}", &["to"]), ["tx"]);
    }
}
