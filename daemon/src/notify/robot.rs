//! Group robots: WeCom (企业微信) and DingTalk (钉钉) custom robots post the
//! notification into a group chat as `{"msgtype":"text","text":{"content":…}}`.
//!
//! - WeCom: `POST {url}?key=KEY`.
//! - DingTalk: `POST {url}?access_token=TOKEN`, plus
//!   `&timestamp=<ms>&sign=<urlencode(base64(HMAC-SHA256(secret, "<ms>\n<secret>")))>`
//!   when the robot has the "加签" (sign) security setting.
//!
//! Both answer HTTP 200 with `{"errcode":…,"errmsg":…}`; 0 means delivered.
//! Both allow about 20 messages a minute per robot; their rate-limit codes
//! are retried.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::{Message, Outcome};

/// Which chat platform the robot lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// WeCom (企业微信) group robot.
    Wecom,
    /// DingTalk (钉钉) custom robot.
    Dingtalk,
}

impl Platform {
    fn default_url(self) -> &'static str {
        match self {
            Platform::Wecom => "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
            Platform::Dingtalk => "https://oapi.dingtalk.com/robot/send",
        }
    }

    fn key_param(self) -> &'static str {
        match self {
            Platform::Wecom => "key",
            Platform::Dingtalk => "access_token",
        }
    }

    /// errcodes meaning "busy or too fast, try later".
    fn retry_codes(self) -> &'static [i64] {
        match self {
            // -1 system busy; 45009 api freq out of limit.
            Platform::Wecom => &[-1, 45009],
            // -1 system busy; 130101 and 410100 send too fast.
            Platform::Dingtalk => &[-1, 130101, 410100],
        }
    }
}

/// One `[[robot]]` channel: a group chat robot.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobotConfig {
    /// Name of this channel, shown in logs, metrics and the audit trail.
    pub name: String,
    /// `wecom` or `dingtalk`.
    pub platform: Platform,
    /// Webhook URL without the key. Default:
    /// `https://qyapi.weixin.qq.com/cgi-bin/webhook/send` (wecom),
    /// `https://oapi.dingtalk.com/robot/send` (dingtalk).
    #[serde(default)]
    pub url: Option<String>,
    /// Environment variable holding the robot's key (WeCom: the `key=` of the
    /// webhook URL; DingTalk: the `access_token=`).
    #[serde(default)]
    pub key_env: Option<String>,
    /// File holding the robot's key (instead of `key_env`).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// DingTalk only: environment variable holding the signing secret
    /// (`SEC…`), when the robot uses the "加签" security setting.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// DingTalk only: file holding the signing secret.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Limit for one whole request.
    #[serde(default = "default_timeout", with = "super::email::duration")]
    pub timeout: Duration,
    /// Most messages sent over this channel in any one minute (the
    /// provider's or the recipients' limit); more wait in the outbox, in
    /// order, and are never dropped. Unset: no limit.
    #[serde(default)]
    pub max_per_minute: Option<u32>,
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

impl RobotConfig {
    /// Problems with this channel: (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(("name", "is empty: name the channel".into()));
        }
        if self.key_env.is_none() == self.key_file.is_none() {
            out.push((
                "key_env",
                "set exactly one of key_env or key_file: the robot's key is a secret".into(),
            ));
        }
        if self.secret_env.is_some() && self.secret_file.is_some() {
            out.push((
                "secret_env",
                "set secret_env or secret_file, not both".into(),
            ));
        }
        if self.platform == Platform::Wecom
            && (self.secret_env.is_some() || self.secret_file.is_some())
        {
            out.push((
                "secret_env",
                "WeCom robots are not signed: remove secret_env/secret_file".into(),
            ));
        }
        if let Some(url) = &self.url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                out.push(("url", format!("`{url}` is not an http:// or https:// URL")));
            } else if url.contains(&format!("{}=", self.platform.key_param())) {
                out.push((
                    "url",
                    "contains the key: put the key in key_env or key_file, not in the URL".into(),
                ));
            }
        }
        if self.timeout.is_zero() {
            out.push(("timeout", "must be longer than 0s".into()));
        }
        out
    }

    /// The key and the optional signing secret, from their env/file fields.
    pub fn read_secrets(&self) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
        let key = crate::config::read_secret(self.key_env.as_deref(), self.key_file.as_deref())?
            .ok_or_else(|| format!("robot `{}` has no key: set key_env or key_file", self.name))?;
        let secret =
            crate::config::read_secret(self.secret_env.as_deref(), self.secret_file.as_deref())?;
        Ok((key, secret))
    }
}

/// DingTalk's signature for a request at `timestamp_ms`:
/// base64(HMAC-SHA256(secret, "<timestamp_ms>\n<secret>")), before URL-encoding.
pub fn dingtalk_sign(secret: &[u8], timestamp_ms: i64) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(timestamp_ms.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(secret);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A configured group robot, ready to send.
#[derive(Clone)]
pub struct Robot {
    pub name: String,
    platform: Platform,
    url: String,
    key: String,
    secret: Option<Vec<u8>>,
    timeout: Duration,
    client: reqwest::Client,
}

impl std::fmt::Debug for Robot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Robot")
            .field("name", &self.name)
            .field("platform", &self.platform)
            .field("url", &self.url)
            .field("key", &"***")
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .finish()
    }
}

impl Robot {
    /// Build from a config whose `problems()` are empty, with the key and
    /// secret read by [`RobotConfig::read_secrets`].
    pub fn new(
        config: &RobotConfig,
        key: Vec<u8>,
        secret: Option<Vec<u8>>,
    ) -> Result<Self, String> {
        let name = &config.name;
        let problems = config.problems();
        if !problems.is_empty() {
            let lines: Vec<_> = problems.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            return Err(format!("robot `{name}`: {}", lines.join("; ")));
        }
        let key = String::from_utf8(key)
            .map_err(|_| format!("robot `{name}`: the key is not UTF-8 text"))?;
        if key.trim().is_empty() {
            return Err(format!("robot `{name}`: the key is empty"));
        }
        super::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client for robot `{name}`: {e}"))?;
        Ok(Self {
            name: name.clone(),
            platform: config.platform,
            url: config
                .url
                .clone()
                .unwrap_or_else(|| config.platform.default_url().to_owned()),
            key: key.trim().to_owned(),
            secret: secret.filter(|s| !s.is_empty()),
            timeout: config.timeout,
            client,
        })
    }

    /// The request URL at `now` (with the DingTalk signature when signed).
    fn request_url(&self, now: DateTime<Utc>) -> String {
        let separator = if self.url.contains('?') { '&' } else { '?' };
        let mut url = format!(
            "{}{separator}{}={}",
            self.url,
            self.platform.key_param(),
            urlencoding::encode(&self.key)
        );
        if let (Platform::Dingtalk, Some(secret)) = (self.platform, &self.secret) {
            let ms = now.timestamp_millis();
            let sign = dingtalk_sign(secret, ms);
            url.push_str(&format!(
                "&timestamp={ms}&sign={}",
                urlencoding::encode(&sign)
            ));
        }
        url
    }

    /// Post `subject` and `text` into the group. DingTalk checks the
    /// signature's timestamp against its clock (within an hour), so `now`
    /// must be the real time.
    pub async fn send(
        &self,
        idempotency_key: &str,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Outcome {
        let content = if message.subject.trim().is_empty() {
            message.text.clone()
        } else {
            format!("{}\n{}", message.subject, message.text)
        };
        let body = serde_json::json!({"msgtype": "text", "text": {"content": content}});
        let request = self
            .client
            .post(self.request_url(now))
            .header(super::webhook::IDEMPOTENCY_HEADER, idempotency_key)
            .json(&body)
            .send();
        let attempt = async {
            let response = match request.await {
                // without_url: the URL carries the key.
                Ok(response) => response,
                Err(e) => return Outcome::Retry(format!("{}", e.without_url())),
            };
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            self.outcome(status, &text)
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Retry(format!("no answer within {:?}", self.timeout)),
        }
    }

    fn outcome(&self, status: reqwest::StatusCode, body: &str) -> Outcome {
        let snippet: String = body.chars().take(200).collect();
        if !status.is_success() {
            let why = format!("HTTP {status}: {snippet}");
            let busy = status.is_server_error()
                || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || status == reqwest::StatusCode::REQUEST_TIMEOUT;
            return if busy {
                Outcome::Retry(why)
            } else {
                Outcome::Permanent(why)
            };
        }
        let answer: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let Some(code) = answer.get("errcode").and_then(serde_json::Value::as_i64) else {
            return Outcome::Permanent(format!(
                "HTTP {status} without an errcode (is `url` the robot webhook?): {snippet}"
            ));
        };
        if code == 0 {
            return Outcome::Delivered;
        }
        let message = answer.get("errmsg").and_then(|m| m.as_str()).unwrap_or("");
        let why = format!("errcode {code}: {message}");
        if self.platform.retry_codes().contains(&code) {
            Outcome::Retry(why)
        } else {
            Outcome::Permanent(why)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dingtalk_signature_matches_an_independent_computation() {
        // printf '1700000000000\nSECtest' | openssl dgst -sha256 -hmac SECtest -binary | base64
        assert_eq!(
            dingtalk_sign(b"SECtest", 1_700_000_000_000),
            "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g="
        );
    }

    #[test]
    fn keys_stay_out_of_urls_in_config_and_out_of_debug_output() {
        let config: RobotConfig = toml::from_str(
            "name = \"w\"\nplatform = \"wecom\"\nurl = \"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc\"\n",
        )
        .unwrap();
        let fields: Vec<_> = config.problems().iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["key_env", "url"]);
        let config: RobotConfig =
            toml::from_str("name = \"d\"\nplatform = \"dingtalk\"\nkey_env = \"K\"\n").unwrap();
        let robot = Robot::new(&config, b"tok-123".to_vec(), Some(b"SECabc".to_vec())).unwrap();
        let shown = format!("{robot:?}");
        assert!(
            !shown.contains("tok-123") && !shown.contains("SECabc"),
            "{shown}"
        );
    }
}
