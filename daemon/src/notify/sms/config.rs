//! `[[sms]]`: one channel's settings and the problems `check-config` reports
//! for them, per provider.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::notify::template::unknown_placeholders;

/// Which API the channel speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Any HTTP API: `method`, `url`, `headers` and `body` are templates.
    Generic,
    /// Twilio's Messages API.
    Twilio,
    /// Alibaba Cloud SMS (Dysmsapi `SendSms`).
    Aliyun,
}

/// How a `generic` body template is encoded, which decides how placeholder
/// values are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    /// `application/json`: values are JSON-escaped (write `"{text}"` in quotes).
    #[default]
    Json,
    /// `application/x-www-form-urlencoded`: values are percent-encoded.
    Form,
}

/// Placeholders of the `generic` templates.
pub const GENERIC_PLACEHOLDERS: [&str; 4] = ["to", "text", "key", "secret"];

/// One `[[sms]]` channel. Fields marked *generic*, *twilio* or *aliyun*
/// belong to that provider only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    /// Name of this channel, shown in logs, metrics and the audit trail.
    pub name: String,
    /// `generic`, `twilio` or `aliyun`.
    pub provider: Provider,
    /// Limit for one whole request.
    #[serde(default = "default_timeout", with = "crate::notify::email::duration")]
    pub timeout: Duration,
    /// Most messages sent over this channel in any one minute (the
    /// provider's or the recipients' limit); more wait in the outbox, in
    /// order, and are never dropped. Unset: no limit.
    #[serde(default)]
    pub max_per_minute: Option<u32>,
    /// Environment variable holding the secret: *generic* the value of
    /// `{secret}`; *twilio* the Auth Token; *aliyun* the AccessKey Secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// File holding the secret (instead of `secret_env`).
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// *generic*: HTTP method, `POST` (default), `PUT` or `GET`.
    #[serde(default)]
    pub method: Option<String>,
    /// *generic*: the URL; placeholders `{to}`, `{text}`, `{key}`, `{secret}`
    /// are percent-encoded into it.
    #[serde(default)]
    pub url: Option<String>,
    /// *generic*: request headers; values may use the placeholders (e.g.
    /// `Authorization = "Bearer {secret}"`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// *generic*: the body template, e.g. `{"to":"{to}","msg":"{text}"}`.
    /// `{to}` is the number, `{text}` the message, `{key}` the idempotency key.
    #[serde(default)]
    pub body: Option<String>,
    /// *generic*: `json` (default) or `form`; sets the Content-Type and how
    /// values are escaped in `body`.
    #[serde(default)]
    pub body_format: BodyFormat,
    /// *twilio*: the Account SID (`AC…`).
    #[serde(default)]
    pub account_sid: Option<String>,
    /// *twilio*: the sending number in E.164 (or set `messaging_service_sid`).
    #[serde(default)]
    pub from: Option<String>,
    /// *twilio*: a Messaging Service SID (`MG…`) instead of `from`.
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
    /// *twilio*: API base URL; default `https://api.twilio.com`.
    #[serde(default)]
    pub base_url: Option<String>,
    /// *aliyun*: the AccessKey ID (the matching secret goes in `secret_env`/`secret_file`).
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// *aliyun*: the approved signature name (签名名称).
    #[serde(default)]
    pub sign_name: Option<String>,
    /// *aliyun*: the approved template code, e.g. `SMS_123456789`.
    #[serde(default)]
    pub template_code: Option<String>,
    /// *aliyun*: the template variable that receives the text (default `text`,
    /// i.e. the template reads `${text}`).
    #[serde(default)]
    pub template_param: Option<String>,
    /// *aliyun*: region (default `cn-hangzhou`).
    #[serde(default)]
    pub region_id: Option<String>,
    /// *aliyun*: API endpoint; default `https://dysmsapi.aliyuncs.com/`.
    #[serde(default)]
    pub endpoint: Option<String>,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

const GENERIC_ONLY: [&str; 5] = ["method", "url", "headers", "body", "body_format"];
const TWILIO_ONLY: [&str; 4] = ["account_sid", "from", "messaging_service_sid", "base_url"];
const ALIYUN_ONLY: [&str; 6] = [
    "access_key_id",
    "sign_name",
    "template_code",
    "template_param",
    "region_id",
    "endpoint",
];

impl SmsConfig {
    fn is_set(&self, field: &str) -> bool {
        match field {
            "method" => self.method.is_some(),
            "url" => self.url.is_some(),
            "headers" => !self.headers.is_empty(),
            "body" => self.body.is_some(),
            "body_format" => self.body_format != BodyFormat::default(),
            "account_sid" => self.account_sid.is_some(),
            "from" => self.from.is_some(),
            "messaging_service_sid" => self.messaging_service_sid.is_some(),
            "base_url" => self.base_url.is_some(),
            "access_key_id" => self.access_key_id.is_some(),
            "sign_name" => self.sign_name.is_some(),
            "template_code" => self.template_code.is_some(),
            "template_param" => self.template_param.is_some(),
            "region_id" => self.region_id.is_some(),
            "endpoint" => self.endpoint.is_some(),
            _ => false,
        }
    }

    /// Problems with this channel: (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(("name", "is empty: name the channel".into()));
        }
        if self.timeout.is_zero() {
            out.push(("timeout", "must be longer than 0s".into()));
        }
        if self.secret_env.is_some() && self.secret_file.is_some() {
            out.push((
                "secret_env",
                "set secret_env or secret_file, not both".into(),
            ));
        }
        let has_secret = self.secret_env.is_some() || self.secret_file.is_some();
        let (provider, own): (&str, &[&'static str]) = match self.provider {
            Provider::Generic => ("generic", &GENERIC_ONLY),
            Provider::Twilio => ("twilio", &TWILIO_ONLY),
            Provider::Aliyun => ("aliyun", &ALIYUN_ONLY),
        };
        for field in GENERIC_ONLY.iter().chain(&TWILIO_ONLY).chain(&ALIYUN_ONLY) {
            if !own.contains(field) && self.is_set(field) {
                out.push((
                    *field,
                    format!("is not used by provider `{provider}`: remove it"),
                ));
            }
        }
        let mut require = |field: &'static str, value: &Option<String>, what: &str| {
            if value.as_deref().is_none_or(|v| v.trim().is_empty()) {
                out.push((field, format!("provider `{provider}` needs {what}")));
            }
        };
        match self.provider {
            Provider::Generic => {
                require("url", &self.url, "the URL to call");
                require(
                    "body",
                    &self.body,
                    "a body template, e.g. {\"to\":\"{to}\",\"text\":\"{text}\"}",
                );
            }
            Provider::Twilio => {
                require("account_sid", &self.account_sid, "the Account SID (AC…)");
            }
            Provider::Aliyun => {
                require("access_key_id", &self.access_key_id, "the AccessKey ID");
                require(
                    "sign_name",
                    &self.sign_name,
                    "the approved signature name (签名名称)",
                );
                require(
                    "template_code",
                    &self.template_code,
                    "the template code (SMS_…)",
                );
            }
        }
        match self.provider {
            Provider::Generic => {
                if let Some(method) = &self.method
                    && !matches!(method.to_ascii_uppercase().as_str(), "POST" | "PUT" | "GET")
                {
                    out.push(("method", format!("`{method}` is not POST, PUT or GET")));
                }
                let mut templates: Vec<(&'static str, &str)> = Vec::new();
                templates.extend(self.url.as_deref().map(|u| ("url", u)));
                templates.extend(self.body.as_deref().map(|b| ("body", b)));
                templates.extend(self.headers.values().map(|v| ("headers", v.as_str())));
                for (field, text) in templates {
                    for name in unknown_placeholders(text, &GENERIC_PLACEHOLDERS) {
                        out.push((
                            field,
                            format!("unknown placeholder `{{{name}}}`; known: {{to}}, {{text}}, {{key}}, {{secret}}"),
                        ));
                    }
                }
                if let Some(url) = &self.url
                    && !(url.starts_with("http://") || url.starts_with("https://"))
                {
                    out.push(("url", format!("`{url}` is not an http:// or https:// URL")));
                }
            }
            Provider::Twilio => {
                if self.from.is_none() == self.messaging_service_sid.is_none() {
                    out.push((
                        "from",
                        "set exactly one of from (a number in E.164) or messaging_service_sid"
                            .into(),
                    ));
                }
                if !has_secret {
                    out.push((
                        "secret_env",
                        "twilio needs the Auth Token: set secret_env or secret_file".into(),
                    ));
                }
            }
            Provider::Aliyun => {
                if !has_secret {
                    out.push((
                        "secret_env",
                        "aliyun needs the AccessKey Secret: set secret_env or secret_file".into(),
                    ));
                }
            }
        }
        for (field, url) in [("base_url", &self.base_url), ("endpoint", &self.endpoint)] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                out.push((field, format!("`{url}` is not an http:// or https:// URL")));
            }
        }
        out
    }

    /// The secret, read from `secret_env` or `secret_file`.
    pub fn read_secret(&self) -> Result<Option<Vec<u8>>, String> {
        crate::config::read_secret(self.secret_env.as_deref(), self.secret_file.as_deref())
    }
}

pub(super) fn valid_phone(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    (5..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_reports_its_missing_and_foreign_fields() {
        let twilio: SmsConfig =
            toml::from_str("name = \"t\"\nprovider = \"twilio\"\nsign_name = \"x\"\n").unwrap();
        let fields: Vec<_> = twilio.problems().iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["sign_name", "account_sid", "from", "secret_env"]);
        let generic: SmsConfig = toml::from_str(
            "name = \"g\"\nprovider = \"generic\"\nurl = \"https://sms.example/send?to={to}\"\n\
             body = \"{\\\"m\\\":\\\"{txt}\\\"}\"\n",
        )
        .unwrap();
        let problems = generic.problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].1.contains("`{txt}`"));
        assert!(
            toml::from_str::<SmsConfig>(
                "name = \"a\"\nprovider = \"aliyun\"\nsecret = \"inline\"\n"
            )
            .is_err()
        );
    }
}
