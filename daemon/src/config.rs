//! The daemon's configuration: one TOML file, layered with environment
//! variables (`WATERWATCH_STORE__URL=postgres://…` overrides `store.url`).
//! Every field's `///` doc is the manual; `waterwatch generate-config`
//! prints a commented example that runs as is. Reading and layering the
//! file is in `config/load.rs`, the checks beyond serde in `config/validate.rs`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use waterwatch_rules::tomlcheck::{Doc, Problem};

use crate::ingest::adapter::AdapterConfig;

mod load;
mod validate;

pub use load::{Source, parse_mqtt_url, read_secret};

/// The example printed by `waterwatch generate-config`.
pub const EXAMPLE: &str = include_str!("../waterwatch.example.toml");

/// Environment variables with this prefix override file settings;
/// `__` separates nesting levels (`WATERWATCH_HTTP__LISTEN=127.0.0.1:9090`).
pub const ENV_PREFIX: &str = "WATERWATCH";

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The MQTT broker the meters publish to.
    #[serde(default)]
    pub mqtt: MqttConfig,
    /// The MQTT broker the daemon can run in-process, for demos and small installs.
    #[serde(default)]
    pub broker: BrokerConfig,
    /// Where readings, cases and the outbox are kept.
    #[serde(default)]
    pub store: StoreConfig,
    /// The HTTP server: health, readiness, metrics (and later the dashboard).
    #[serde(default)]
    pub http: HttpConfig,
    /// What the daemon accepts from meters.
    #[serde(default)]
    pub ingest: IngestConfig,
    /// The rule files.
    #[serde(default)]
    pub rules: RulesConfig,
    /// The households watched over, and their meters. Meters not listed are
    /// registered on first contact as their own household (or rejected, per
    /// `ingest.unknown_meters`).
    #[serde(default, rename = "household")]
    pub households: Vec<HouseholdConfig>,
    /// Extra topics carrying other formats (wmbusmeters, AI-on-the-edge, bare numbers).
    #[serde(default, rename = "adapter")]
    pub adapters: Vec<AdapterConfig>,
    /// Escalation routes: who is told about a case, in which order. The first
    /// route that takes a case's kind and severity is used; without one, the
    /// grid worker and family are told at once and reminded every 30 minutes.
    #[serde(default, rename = "route")]
    pub routes: Vec<crate::case::Route>,
    /// People told about cases: grid workers, supervisors, family, residents.
    #[serde(default, rename = "contact")]
    pub contacts: Vec<crate::notify::contacts::ContactConfig>,
    /// Webhook endpoints that receive every case notification.
    #[serde(default, rename = "webhook")]
    pub webhooks: Vec<WebhookConfig>,
    /// Email channels (SMTP).
    #[serde(default, rename = "email")]
    pub emails: Vec<crate::notify::email::EmailConfig>,
    /// SMS channels over HTTP providers (generic, Twilio, Aliyun).
    #[serde(default)]
    pub sms: Vec<crate::notify::sms::SmsConfig>,
    /// WeCom and DingTalk group robots.
    #[serde(default, rename = "robot")]
    pub robots: Vec<crate::notify::robot::RobotConfig>,
    /// Overrides of the message texts, by language and reason.
    #[serde(default)]
    pub templates: crate::notify::template::TemplatesConfig,
    /// Signed acknowledgement links in SMS and email.
    #[serde(default)]
    pub links: Option<LinksConfig>,
    /// Delivery of notifications from the durable outbox.
    #[serde(default)]
    pub outbox: OutboxConfig,
    /// Who hears of operational problems (notifications that could not be delivered).
    #[serde(default)]
    pub ops: OpsConfig,
}

/// `[ops]`: operations staff. When a notification fails for good (a
/// provider refuses it, the address is invalid, the retries run out), the
/// case escalates to its next step and ops are told here; the failure is
/// also in the case's audit trail, the log and `waterwatch_ops_alerts_total`.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct OpsConfig {
    /// How to reach operations staff: channel names as in `[[contact]]`
    /// (e.g. `[{ channel = "ops-hook" }, { channel = "mail", to = "ops@example.org" }]`).
    pub reach: Vec<crate::notify::contacts::Reach>,
    /// `en` or `zh-CN`.
    pub language: waterwatch_rules::text::Language,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Broker address, `mqtt://host:port`. Ignored while `broker.enabled` is
    /// true: the daemon then connects to its own broker.
    pub url: String,
    /// Client id. Keep it fixed: the broker keeps this client's session (and
    /// the readings published while the daemon is down) under this id.
    pub client_id: String,
    /// Topic prefix; readings arrive on `{topic_prefix}/meters/{meter_id}/reading`.
    pub topic_prefix: String,
    /// Broker user name, if the broker requires one.
    pub username: Option<String>,
    /// Name of the environment variable holding the broker password.
    pub password_env: Option<String>,
    /// File holding the broker password (e.g. a mounted secret).
    pub password_file: Option<PathBuf>,
    /// MQTT keep-alive.
    #[serde(with = "humantime_serde_compat")]
    pub keep_alive: Duration,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: "mqtt://127.0.0.1:1883".into(),
            client_id: "waterwatch".into(),
            topic_prefix: "waterwatch".into(),
            username: None,
            password_env: None,
            password_file: None,
            keep_alive: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerConfig {
    /// Run an MQTT broker inside the daemon. It keeps sessions in memory
    /// only: real deployments point `mqtt.url` at Mosquitto or EMQX instead.
    pub enabled: bool,
    /// Address the embedded broker listens on. Keep it on loopback unless
    /// meters on the network must reach it.
    pub listen: SocketAddr,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 1883)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://PATH` (created when missing) or `postgres://user@host/db`.
    /// Put passwords in the environment: `WATERWATCH_STORE__URL`.
    pub url: String,
    /// Rejected messages kept for inspection (the oldest are dropped).
    pub dead_letters_kept: i64,
    /// Readings older than this are deleted (residents' data is kept no
    /// longer than it serves them; baselines forget within weeks anyway).
    #[serde(with = "humantime_serde_compat")]
    pub keep_readings: Duration,
    /// Closed cases, their trails and the audit log older than this are deleted.
    #[serde(with = "humantime_serde_compat")]
    pub keep_cases: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://waterwatch.db".into(),
            dead_letters_kept: 10_000,
            keep_readings: Duration::from_secs(400 * 86_400),
            keep_cases: Duration::from_secs(3 * 365 * 86_400),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address of the HTTP server. Beyond loopback, every page and API call
    /// needs a login: residents' data is private by default.
    pub listen: SocketAddr,
    /// `auto`: login is required when `listen` is beyond loopback or a request
    /// came through a reverse proxy; a local browser on this machine needs
    /// none. `always`: every request needs a login.
    pub login: LoginMode,
    /// Mark the session cookie `Secure` (HTTPS only). Default: on when
    /// `listen` is beyond loopback (put a TLS-terminating proxy in front).
    pub secure_cookies: Option<bool>,
    /// A session ends after this long without a request.
    #[serde(with = "humantime_serde_compat")]
    pub session_idle: Duration,
    /// A session ends this long after login, used or not.
    #[serde(with = "humantime_serde_compat")]
    pub session_max: Duration,
    /// Language of the pages for the local user without a login (`en`, `zh-CN`).
    pub language: waterwatch_rules::Language,
}

/// When the dashboard and API ask for a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LoginMode {
    #[default]
    Auto,
    Always,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            login: LoginMode::Auto,
            secure_cookies: None,
            session_idle: Duration::from_secs(12 * 3600),
            session_max: Duration::from_secs(7 * 24 * 3600),
            language: waterwatch_rules::Language::En,
        }
    }
}

impl HttpConfig {
    /// Whether a request that did not come through a proxy needs a login.
    pub fn login_required(&self) -> bool {
        self.login == LoginMode::Always || !self.listen.ip().is_loopback()
    }

    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies
            .unwrap_or(!self.listen.ip().is_loopback())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnknownMeters {
    /// A reading from a meter never seen before registers it (as its own household).
    #[default]
    Register,
    /// Readings from unregistered meters are rejected and dead-lettered.
    Reject,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// What to do with readings from meters that are not registered.
    pub unknown_meters: UnknownMeters,
    /// Largest accepted payload; larger messages are rejected.
    pub max_payload_bytes: usize,
    /// How far ahead of the daemon's clock a reading may be (meter clock skew).
    #[serde(with = "humantime_serde_compat")]
    pub max_future: Duration,
    /// How old a reading may be when it arrives (late batches are normal;
    /// month-old data is not).
    #[serde(with = "humantime_serde_compat")]
    pub max_age: Duration,
    /// Messages stored per database transaction at most.
    pub batch_size: usize,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            unknown_meters: UnknownMeters::Register,
            max_payload_bytes: 256 * 1024,
            max_future: Duration::from_secs(10 * 60),
            max_age: Duration::from_secs(31 * 24 * 3600),
            batch_size: 500,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// The rules file, relative to this config file. Unset: the rules shipped
    /// with the daemon (`rules/default.toml`).
    pub file: Option<PathBuf>,
}

/// One household: a person living alone and the meter(s) of their home.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HouseholdConfig {
    /// Stable id (alerts and the API use it), e.g. `h0003`.
    pub id: String,
    /// How grid workers and family know the household (e.g. the resident's name).
    #[serde(default)]
    pub name: Option<String>,
    /// The community grid the household belongs to (its grid worker's area).
    #[serde(default)]
    pub grid: Option<String>,
    /// Meter ids of this home.
    pub meters: Vec<String>,
    /// Meters of this home that were replaced, each by the meter (listed
    /// in `meters`) that took its place: `{ "m-0003" = "m-0107" }`. At the
    /// next start the old meter is no longer watched (its offline and
    /// fault alerts resolve, its readings are refused; an open case about
    /// the household waits for a person to close it) and the new one
    /// takes over what it learned of the household, skipping a second
    /// learning period. A retired meter stays retired when the line goes;
    /// listing it in a household's `meters` again watches it again.
    #[serde(default)]
    pub replaced: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Name of this channel, shown in logs, metrics and the audit trail.
    pub name: String,
    /// Where to POST (http:// or https://).
    pub url: String,
    /// Environment variable holding the HMAC-SHA256 signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// File holding the signing secret.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// Per-request timeout.
    #[serde(default = "default_webhook_timeout", with = "humantime_serde_compat")]
    pub timeout: Duration,
    /// Most messages sent over this channel in any one minute (the
    /// provider's or the recipients' limit); more wait in the outbox, in
    /// order, and are never dropped. Unset: no limit.
    #[serde(default)]
    pub max_per_minute: Option<u32>,
}

fn default_webhook_timeout() -> Duration {
    Duration::from_secs(10)
}

/// `[links]`: acknowledgement links people can tap in an SMS or email.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinksConfig {
    /// The public address of this daemon as phones reach it (through a
    /// reverse proxy), e.g. `https://ww.example.org`; links are `{base_url}/l/…`.
    pub base_url: String,
    /// Environment variable holding the secret links are signed with.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// File holding the secret links are signed with.
    #[serde(default)]
    pub secret_file: Option<PathBuf>,
    /// How long a link works.
    #[serde(default = "default_link_lifetime", with = "humantime_serde_compat")]
    pub valid_for: Duration,
}

fn default_link_lifetime() -> Duration {
    Duration::from_secs(24 * 3600)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboxConfig {
    /// Attempts before a notification is given up as failed.
    pub max_attempts: i64,
    /// Deliveries in flight at once (one slow endpoint never blocks the rest).
    pub concurrency: usize,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            concurrency: 16,
        }
    }
}

/// Durations written the human way: `"90s"`, `"15m"`, `"2h 30m"`.
mod humantime_serde_compat {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            D::Error::custom(format!(
                "`{text}` is not a duration like \"90s\" or \"2h\": {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests;
