//! SMS over a provider's HTTP API: a templated request for any provider
//! (`generic`), or the presets `twilio` (Messages API) and `aliyun`
//! (Dysmsapi `SendSms`, RPC signature v1 with HMAC-SHA1).
//!
//! Phone numbers are personal data: they appear in logs and outcomes only
//! masked (`+86******1234`).
//!
//! # Layout
//! - `config.rs`: `[[sms]]` settings and their validation.
//! - `generic.rs`: a templated request for any provider.
//! - `twilio.rs`: Twilio's Messages API.
//! - `aliyun.rs`: Alibaba Cloud `SendSms` and its request signing.

mod aliyun;
mod config;
mod generic;
mod twilio;

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Message, Outcome, mask};

pub use aliyun::{AliyunSend, aliyun_params, aliyun_signature, aliyun_string_to_sign};
use config::valid_phone;
pub use config::{BodyFormat, GENERIC_PLACEHOLDERS, Provider, SmsConfig};

/// Percent-encoding as Aliyun's RPC signature wants it (RFC 3986: only
/// `A-Z a-z 0-9 - _ . ~` unescaped, so space is `%20`, `*` is `%2A`).
pub fn percent_encode(text: &str) -> String {
    urlencoding::encode(text).into_owned()
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
            Api::Twilio { .. } => Ok(self.twilio_request(to, text)),
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
            Api::Twilio { .. } => twilio::twilio_outcome(status, &body),
            Api::Aliyun { .. } => aliyun::aliyun_outcome(status, &body),
        }
    }
}

fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
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
}
