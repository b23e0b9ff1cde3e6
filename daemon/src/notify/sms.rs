//! SMS over a provider's HTTP API: a templated request for any provider
//! (`generic`), or the presets `twilio` (Messages API) and `aliyun`
//! (Dysmsapi `SendSms`, RPC signature v1 with HMAC-SHA1).
//!
//! Phone numbers are personal data: they appear in logs and outcomes only
//! masked (`+86******1234`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;

use super::template::{substitute, unknown_placeholders};
use super::{Message, Outcome, mask};

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
    #[serde(default = "default_timeout", with = "super::email::duration")]
    pub timeout: Duration,
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

fn valid_phone(number: &str) -> bool {
    let digits = number.strip_prefix('+').unwrap_or(number);
    (5..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Percent-encoding as Aliyun's RPC signature wants it (RFC 3986: only
/// `A-Z a-z 0-9 - _ . ~` unescaped, so space is `%20`, `*` is `%2A`).
pub fn percent_encode(text: &str) -> String {
    urlencoding::encode(text).into_owned()
}

/// Aliyun's string to sign: `METHOD&%2F&` + the encoded canonical query
/// string of the sorted parameters (without `Signature`).
pub fn aliyun_string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    let canonical: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    format!(
        "{method}&{}&{}",
        percent_encode("/"),
        percent_encode(&canonical.join("&"))
    )
}

/// Aliyun RPC signature v1: base64(HMAC-SHA1(secret + "&", string to sign)).
pub fn aliyun_signature(method: &str, params: &BTreeMap<String, String>, secret: &[u8]) -> String {
    let mut key = secret.to_vec();
    key.push(b'&');
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(&key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(aliyun_string_to_sign(method, params).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[derive(Clone)]
enum Api {
    Generic {
        method: reqwest::Method,
        url: String,
        headers: BTreeMap<String, String>,
        body: String,
        format: BodyFormat,
    },
    Twilio {
        url: String,
        account_sid: String,
        sender: (&'static str, String),
    },
    Aliyun {
        endpoint: String,
        access_key_id: String,
        region_id: String,
        sign_name: String,
        template_code: String,
        template_param: String,
    },
}

/// A configured SMS channel, ready to send.
#[derive(Clone)]
pub struct Sms {
    pub name: String,
    api: Api,
    secret: Vec<u8>,
    timeout: Duration,
    client: reqwest::Client,
}

impl std::fmt::Debug for Sms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (provider, target) = match &self.api {
            Api::Generic { url, .. } => ("generic", url.split('?').next().unwrap_or("")),
            Api::Twilio { url, .. } => ("twilio", url.as_str()),
            Api::Aliyun { endpoint, .. } => ("aliyun", endpoint.as_str()),
        };
        f.debug_struct("Sms")
            .field("name", &self.name)
            .field("provider", &provider)
            .field("url", &target)
            .field("secret", &"***")
            .finish()
    }
}

impl Sms {
    /// Build from a config whose `problems()` are empty, with the secret read
    /// by [`SmsConfig::read_secret`].
    pub fn new(config: &SmsConfig, secret: Option<Vec<u8>>) -> Result<Self, String> {
        let name = &config.name;
        let problems = config.problems();
        if !problems.is_empty() {
            let lines: Vec<_> = problems.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            return Err(format!("sms `{name}`: {}", lines.join("; ")));
        }
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let api = match config.provider {
            Provider::Generic => Api::Generic {
                method: config
                    .method
                    .as_deref()
                    .unwrap_or("POST")
                    .to_ascii_uppercase()
                    .parse()
                    .map_err(|e| format!("sms `{name}`: method: {e}"))?,
                url: text(&config.url),
                headers: config.headers.clone(),
                body: text(&config.body),
                format: config.body_format,
            },
            Provider::Twilio => {
                let sid = text(&config.account_sid);
                let base = config
                    .base_url
                    .as_deref()
                    .unwrap_or("https://api.twilio.com");
                Api::Twilio {
                    url: format!(
                        "{}/2010-04-01/Accounts/{}/Messages.json",
                        base.trim_end_matches('/'),
                        percent_encode(&sid)
                    ),
                    account_sid: sid,
                    sender: match (&config.from, &config.messaging_service_sid) {
                        (Some(from), _) => ("From", from.clone()),
                        (None, sid) => ("MessagingServiceSid", text(sid)),
                    },
                }
            }
            Provider::Aliyun => Api::Aliyun {
                endpoint: config
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| "https://dysmsapi.aliyuncs.com/".into()),
                access_key_id: text(&config.access_key_id),
                region_id: config
                    .region_id
                    .clone()
                    .unwrap_or_else(|| "cn-hangzhou".into()),
                sign_name: text(&config.sign_name),
                template_code: text(&config.template_code),
                template_param: config
                    .template_param
                    .clone()
                    .unwrap_or_else(|| "text".into()),
            },
        };
        let needs_secret = !matches!(config.provider, Provider::Generic);
        let secret = match secret {
            Some(secret) => secret,
            None if needs_secret => {
                return Err(format!(
                    "sms `{name}` has no secret: set secret_env or secret_file"
                ));
            }
            None => Vec::new(),
        };
        super::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client for sms `{name}`: {e}"))?;
        Ok(Self {
            name: name.clone(),
            api,
            secret,
            timeout: config.timeout,
            client,
        })
    }

    /// Send `message.text` to the phone number `message.to` (E.164).
    pub async fn send(
        &self,
        idempotency_key: &str,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Outcome {
        let Some(to) = message.to.as_deref() else {
            return Outcome::Permanent(
                "no recipient: an SMS needs `to` (a phone number like +8613800000000)".into(),
            );
        };
        if !valid_phone(to) {
            return Outcome::Permanent(format!(
                "`{}` is not a phone number in E.164 (+ country code, up to 15 digits)",
                mask(to)
            ));
        }
        let attempt = self.attempt(idempotency_key, to, &message.text, now);
        let outcome = match tokio::time::timeout(self.timeout, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Retry(format!("no answer within {:?}", self.timeout)),
        };
        let outcome = scrub(outcome, to);
        tracing::debug!(channel = %self.name, to = %mask(to), ?outcome, "sms attempt");
        outcome
    }

    async fn attempt(&self, key: &str, to: &str, text: &str, now: DateTime<Utc>) -> Outcome {
        let request = match &self.api {
            Api::Generic { .. } => self.generic_request(key, to, text),
            Api::Twilio {
                url,
                account_sid,
                sender,
            } => {
                let token = String::from_utf8_lossy(&self.secret);
                let form = [("To", to), (sender.0, sender.1.as_str()), ("Body", text)];
                Ok(self
                    .client
                    .post(url)
                    .basic_auth(account_sid, Some(token))
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form_encode(&form)))
            }
            Api::Aliyun { .. } => Ok(self.aliyun_request(key, to, text, now)),
        };
        let request = match request {
            Ok(request) => request,
            Err(why) => return Outcome::Permanent(why),
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Outcome::Retry(format!("{}", e.without_url())),
        };
        let status = response.status();
        let body = match response.text().await {
            Ok(body) => body,
            Err(e) => return Outcome::Retry(format!("HTTP {status}, body unreadable: {e}")),
        };
        match &self.api {
            Api::Generic { .. } => by_status(status, &body),
            Api::Twilio { .. } => twilio_outcome(status, &body),
            Api::Aliyun { .. } => aliyun_outcome(status, &body),
        }
    }

    fn generic_request(
        &self,
        key: &str,
        to: &str,
        text: &str,
    ) -> Result<reqwest::RequestBuilder, String> {
        let Api::Generic {
            method,
            url,
            headers,
            body,
            format,
        } = &self.api
        else {
            return Err("not a generic channel".into());
        };
        let secret = String::from_utf8_lossy(&self.secret);
        let value = |name: &str| -> Option<String> {
            Some(match name {
                "to" => to.to_owned(),
                "text" => text.to_owned(),
                "key" => key.to_owned(),
                "secret" => secret.clone().into_owned(),
                _ => return None,
            })
        };
        let url = substitute(url, |n| value(n).map(|v| percent_encode(&v)));
        let (content_type, body) = match format {
            BodyFormat::Json => (
                "application/json",
                substitute(body, |n| value(n).map(|v| json_escape(&v))),
            ),
            BodyFormat::Form => (
                "application/x-www-form-urlencoded",
                substitute(body, |n| value(n).map(|v| percent_encode(&v))),
            ),
        };
        let mut request = self
            .client
            .request(method.clone(), url)
            .header(reqwest::header::CONTENT_TYPE, content_type);
        for (header, template) in headers {
            let filled = substitute(template, value);
            if filled.contains(['\r', '\n']) {
                return Err(format!("header `{header}` would contain a line break"));
            }
            request = request.header(header.as_str(), filled);
        }
        if *method != reqwest::Method::GET {
            request = request.body(body);
        }
        Ok(request)
    }

    fn aliyun_request(
        &self,
        key: &str,
        to: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> reqwest::RequestBuilder {
        let Api::Aliyun {
            endpoint,
            access_key_id,
            region_id,
            sign_name,
            template_code,
            template_param,
        } = &self.api
        else {
            unreachable!("called for aliyun channels only")
        };
        let nonce = format!("{:032x}", rand::random::<u128>());
        let params = aliyun_params(AliyunSend {
            access_key_id,
            region_id,
            nonce: &nonce,
            now,
            phone: to,
            sign_name,
            template_code,
            template_param: &serde_json::json!({ template_param.as_str(): text }).to_string(),
            out_id: key,
        });
        let signature = aliyun_signature("POST", &params, &self.secret);
        let mut form: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        form.push(("Signature", &signature));
        self.client
            .post(endpoint)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form_encode(&form))
    }
}

/// What one Aliyun `SendSms` call carries.
#[derive(Debug, Clone, Copy)]
pub struct AliyunSend<'a> {
    pub access_key_id: &'a str,
    pub region_id: &'a str,
    pub nonce: &'a str,
    pub now: DateTime<Utc>,
    pub phone: &'a str,
    pub sign_name: &'a str,
    pub template_code: &'a str,
    /// The JSON object of template variables.
    pub template_param: &'a str,
    /// Our idempotency key, echoed by Aliyun in delivery reports.
    pub out_id: &'a str,
}

/// The parameters of an Aliyun `SendSms` call, before signing.
pub fn aliyun_params(send: AliyunSend<'_>) -> BTreeMap<String, String> {
    // Aliyun takes mainland numbers as `86…`/`+86…` and others as country
    // code + number without `+`: drop the `+` for both.
    let phone = send.phone.trim_start_matches('+');
    [
        ("AccessKeyId", send.access_key_id),
        ("Action", "SendSms"),
        ("Format", "JSON"),
        ("RegionId", send.region_id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", send.nonce),
        ("SignatureVersion", "1.0"),
        (
            "Timestamp",
            &send.now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ),
        ("Version", "2017-05-25"),
        ("PhoneNumbers", phone),
        ("SignName", send.sign_name),
        ("TemplateCode", send.template_code),
        ("TemplateParam", send.template_param),
        ("OutId", send.out_id),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn json_escape(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn snippet(body: &str) -> String {
    let line: String = body.chars().take(200).collect();
    line.replace(['\r', '\n'], " ")
}

fn by_status(status: reqwest::StatusCode, body: &str) -> Outcome {
    if status.is_success() {
        return Outcome::Delivered;
    }
    let why = format!("HTTP {status}: {}", snippet(body));
    if status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
        || status == reqwest::StatusCode::REQUEST_TIMEOUT
    {
        Outcome::Retry(why)
    } else {
        Outcome::Permanent(why)
    }
}

/// Twilio error codes that mean "slow down", whatever the HTTP status.
const TWILIO_RETRY_CODES: [i64; 3] = [20429, 14107, 30001];

fn twilio_outcome(status: reqwest::StatusCode, body: &str) -> Outcome {
    if status.is_success() {
        return Outcome::Delivered;
    }
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let Some(code) = error.get("code").and_then(serde_json::Value::as_i64) else {
        return by_status(status, body);
    };
    let message = error.get("message").and_then(|m| m.as_str()).unwrap_or("");
    let why = format!("Twilio error {code} (HTTP {status}): {message}");
    if TWILIO_RETRY_CODES.contains(&code)
        || status.is_server_error()
        || status == reqwest::StatusCode::TOO_MANY_REQUESTS
    {
        Outcome::Retry(why)
    } else if status == reqwest::StatusCode::UNAUTHORIZED {
        Outcome::Permanent(format!("{why}; check account_sid and the Auth Token"))
    } else {
        Outcome::Permanent(why)
    }
}

fn aliyun_outcome(status: reqwest::StatusCode, body: &str) -> Outcome {
    let answer: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let Some(code) = answer.get("Code").and_then(|c| c.as_str()) else {
        return match by_status(status, body) {
            Outcome::Delivered => Outcome::Retry(format!(
                "HTTP {status} without a result Code: {}",
                snippet(body)
            )),
            other => other,
        };
    };
    if code == "OK" {
        return Outcome::Delivered;
    }
    let message = answer.get("Message").and_then(|m| m.as_str()).unwrap_or("");
    let why = format!("Aliyun {code}: {message}");
    let throttled = code.starts_with("Throttling")
        || matches!(
            code,
            "isv.BUSINESS_LIMIT_CONTROL"
                | "isv.DAY_LIMIT_CONTROL"
                | "isp.SYSTEM_ERROR"
                | "ServiceUnavailable"
                | "InternalError"
                | "SignatureNonceUsed"
        );
    if throttled || status.is_server_error() {
        Outcome::Retry(why)
    } else {
        Outcome::Permanent(why)
    }
}

/// Providers echo numbers in their errors; keep them out of outcomes (which
/// are stored and logged).
fn scrub(outcome: Outcome, to: &str) -> Outcome {
    let masked = mask(to);
    let bare = to.trim_start_matches('+');
    let clean = |why: String| why.replace(to, &masked).replace(bare, &masked);
    match outcome {
        Outcome::Delivered => Outcome::Delivered,
        Outcome::Retry(why) => Outcome::Retry(clean(why)),
        Outcome::Permanent(why) => Outcome::Permanent(clean(why)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_aliyun_signature_matches_the_published_worked_example() {
        // Alibaba Cloud's RPC signature documentation signs DescribeRegions
        // with AccessKeyId `testid` and secret `testsecret`; the result was
        // checked independently with
        // `printf '%s' "$STRING_TO_SIGN" | openssl dgst -sha1 -hmac 'testsecret&' -binary | base64`.
        let params: BTreeMap<String, String> = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            aliyun_string_to_sign("GET", &params),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
             %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
             %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            aliyun_signature("GET", &params, b"testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn percent_encoding_follows_rfc_3986() {
        assert_eq!(percent_encode("a b*c~d+e/f"), "a%20b%2Ac~d%2Be%2Ff");
        assert_eq!(percent_encode("水"), "%E6%B0%B4");
    }

    #[test]
    fn phone_numbers_are_masked_in_logs_and_outcomes() {
        assert_eq!(mask("+8613812341234"), "+86******1234");
        assert_eq!(mask("123"), "******");
        let scrubbed = scrub(
            Outcome::Permanent("The 'To' number 8613812341234 is not valid".into()),
            "+8613812341234",
        );
        assert_eq!(
            scrubbed,
            Outcome::Permanent("The 'To' number +86******1234 is not valid".into())
        );
    }

    #[test]
    fn provider_errors_split_into_retry_and_permanent() {
        use reqwest::StatusCode as S;
        let ok = r#"{"Code":"OK","Message":"OK"}"#;
        assert_eq!(aliyun_outcome(S::OK, ok), Outcome::Delivered);
        for code in [
            "isv.BUSINESS_LIMIT_CONTROL",
            "Throttling.User",
            "isp.SYSTEM_ERROR",
        ] {
            let body = format!(r#"{{"Code":"{code}","Message":"m"}}"#);
            assert!(
                matches!(aliyun_outcome(S::OK, &body), Outcome::Retry(_)),
                "{code}"
            );
        }
        for code in [
            "isv.MOBILE_NUMBER_ILLEGAL",
            "InvalidAccessKeyId.NotFound",
            "SignatureDoesNotMatch",
        ] {
            let body = format!(r#"{{"Code":"{code}","Message":"m"}}"#);
            assert!(
                matches!(aliyun_outcome(S::BAD_REQUEST, &body), Outcome::Permanent(_)),
                "{code}"
            );
        }
        assert!(matches!(
            aliyun_outcome(S::BAD_GATEWAY, "<html>"),
            Outcome::Retry(_)
        ));
        let invalid = r#"{"code":21211,"message":"Invalid 'To' Phone Number","status":400}"#;
        assert!(matches!(
            twilio_outcome(S::BAD_REQUEST, invalid),
            Outcome::Permanent(_)
        ));
        let busy = r#"{"code":20429,"message":"Too Many Requests","status":429}"#;
        assert!(matches!(
            twilio_outcome(S::TOO_MANY_REQUESTS, busy),
            Outcome::Retry(_)
        ));
        let auth = r#"{"code":20003,"message":"Authenticate","status":401}"#;
        assert!(
            matches!(twilio_outcome(S::UNAUTHORIZED, auth), Outcome::Permanent(w) if w.contains("Auth Token"))
        );
        assert!(matches!(
            twilio_outcome(S::SERVICE_UNAVAILABLE, ""),
            Outcome::Retry(_)
        ));
    }

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
