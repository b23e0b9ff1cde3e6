//! Email over SMTP (lettre): one plain-text UTF-8 message per notification.
//!
//! Headers: `From`, `To` (the message's recipient), `Subject`, `Date`,
//! `Message-ID: <hash-of-key@from-domain>` (the same for every retry, so
//! mail systems can drop duplicates) and `X-Waterwatch-Idempotency-Key`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::{self, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Message, Outcome};

pub const IDEMPOTENCY_HEADER: &str = "X-Waterwatch-Idempotency-Key";

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    Starttls,
    /// TLS from the first byte, "SMTPS" (port 465).
    Tls,
    /// No encryption at all: only for a relay on this machine (loopback host).
    None,
}

impl Security {
    fn default_port(self) -> u16 {
        match self {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }
}

fn default_security() -> Security {
    Security::Starttls
}

/// One `[[email]]` channel: an SMTP server to submit mail to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Name of this channel, shown in logs, metrics and the audit trail.
    pub name: String,
    /// SMTP server host name (checked against its TLS certificate).
    pub host: String,
    /// SMTP port. Default: 587 for `starttls`, 465 for `tls`, 25 for `none`.
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (implicit TLS, "SMTPS") or `none`
    /// (unencrypted; allowed only for a loopback host such as a local relay).
    #[serde(default = "default_security")]
    pub security: Security,
    /// User name for SMTP AUTH; unset: no authentication.
    #[serde(default)]
    pub username: Option<String>,
    /// Environment variable holding the SMTP password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the SMTP password (e.g. a mounted secret).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Sender, e.g. `waterwatch <alerts@example.org>`.
    pub from: String,
    /// Limit for one whole send (connect, greet, authenticate, transfer).
    #[serde(default = "default_timeout", with = "duration")]
    pub timeout: Duration,
    /// Most messages sent over this channel in any one minute (the
    /// provider's or the recipients' limit); more wait in the outbox, in
    /// order, and are never dropped. Unset: no limit.
    #[serde(default)]
    pub max_per_minute: Option<u32>,
}

fn default_timeout() -> Duration {
    Duration::from_secs(15)
}

impl EmailConfig {
    /// Problems with this channel: (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(("name", "is empty: name the channel".into()));
        }
        if self.host.trim().is_empty() {
            out.push(("host", "is empty: set the SMTP server's host name".into()));
        } else if self.security == Security::None && !is_loopback(&self.host) {
            out.push((
                "security",
                format!(
                    "`none` would send the password and the messages unencrypted to `{}`; \
                     it is allowed only for a loopback host (127.0.0.1, ::1, localhost): \
                     use `starttls` or `tls`",
                    self.host
                ),
            ));
        }
        if self.port == Some(0) {
            out.push(("port", "0 is not a port".into()));
        }
        if self.password_env.is_some() && self.password_file.is_some() {
            out.push((
                "password_env",
                "set password_env or password_file, not both".into(),
            ));
        }
        let has_password = self.password_env.is_some() || self.password_file.is_some();
        if self.username.is_some() && !has_password {
            out.push((
                "username",
                "a user name needs a password: set password_env or password_file".into(),
            ));
        }
        if self.username.is_none() && has_password {
            out.push((
                "username",
                "a password needs a user name: set username".into(),
            ));
        }
        if let Err(e) = self.from.parse::<Mailbox>() {
            out.push((
                "from",
                format!(
                    "`{}` is not an address like `waterwatch <alerts@example.org>`: {e}",
                    self.from
                ),
            ));
        }
        if self.timeout.is_zero() {
            out.push(("timeout", "must be longer than 0s".into()));
        }
        out
    }

    /// The password, read from `password_env` or `password_file`.
    pub fn read_password(&self) -> Result<Option<Vec<u8>>, String> {
        crate::config::read_secret(self.password_env.as_deref(), self.password_file.as_deref())
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A configured SMTP channel, ready to send. Connections are pooled.
#[derive(Clone)]
pub struct Email {
    pub name: String,
    host: String,
    port: u16,
    security: Security,
    from: Mailbox,
    timeout: Duration,
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from.to_string())
            .field("password", &"***")
            .finish()
    }
}

impl Email {
    /// Build from a config whose `problems()` are empty, with the password
    /// read by [`EmailConfig::read_password`]. Call it inside the Tokio
    /// runtime: the connection pool starts a task.
    pub fn new(config: &EmailConfig, password: Option<Vec<u8>>) -> Result<Self, String> {
        let name = &config.name;
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(format!(
                "email `{name}`: build the channel inside the Tokio runtime (its connection pool runs a task)"
            ));
        }
        let problems = config.problems();
        if !problems.is_empty() {
            let lines: Vec<_> = problems.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            return Err(format!("email `{name}`: {}", lines.join("; ")));
        }
        let from = config
            .from
            .parse::<Mailbox>()
            .map_err(|e| format!("email `{name}`: from: {e}"))?;
        super::install_tls_provider();
        let port = config.port.unwrap_or(config.security.default_port());
        let tls = match config.security {
            Security::None => Tls::None,
            Security::Starttls | Security::Tls => {
                let parameters = TlsParameters::new(config.host.clone()).map_err(|e| {
                    format!(
                        "email `{name}`: cannot set up TLS for `{}`: {e}",
                        config.host
                    )
                })?;
                if config.security == Security::Tls {
                    Tls::Wrapper(parameters)
                } else {
                    Tls::Required(parameters)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(port)
            .tls(tls)
            .timeout(Some(config.timeout))
            .pool_config(
                PoolConfig::new()
                    .max_size(4)
                    .idle_timeout(Duration::from_secs(60)),
            );
        match (&config.username, password) {
            (Some(user), Some(password)) => {
                let password = String::from_utf8(password)
                    .map_err(|_| format!("email `{name}`: the SMTP password is not UTF-8 text"))?;
                builder = builder.credentials(Credentials::new(user.clone(), password));
            }
            (Some(_), None) => {
                return Err(format!(
                    "email `{name}` has a username but no password: set password_env or password_file"
                ));
            }
            _ => {}
        }
        Ok(Self {
            name: name.clone(),
            host: config.host.clone(),
            port,
            security: config.security,
            from,
            timeout: config.timeout,
            transport: builder.build(),
        })
    }

    /// Send `message.text` to `message.to` with `message.subject`.
    pub async fn send(
        &self,
        idempotency_key: &str,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Outcome {
        let email = match self.compose(idempotency_key, message, now) {
            Ok(email) => email,
            Err(why) => return Outcome::Permanent(why),
        };
        match tokio::time::timeout(self.timeout, self.deliver(email)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Retry(format!(
                "SMTP server {}:{} did not finish within {:?}",
                self.host, self.port, self.timeout
            )),
        }
    }

    fn compose(
        &self,
        key: &str,
        message: &Message,
        now: DateTime<Utc>,
    ) -> Result<lettre::Message, String> {
        let to = message.to.as_deref().ok_or_else(|| {
            "no recipient: an email notification needs `to` (an email address)".to_owned()
        })?;
        let to: Mailbox = to
            .parse()
            .map_err(|e| format!("the recipient is not an email address: {e}"))?;
        let key: String = key.chars().filter(|c| !c.is_control()).collect();
        let digest = hex::encode(Sha256::digest(key.as_bytes()));
        let message_id = format!("<{}@{}>", &digest[..32], self.from.email.domain());
        lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .date(now.into())
            .message_id(Some(message_id))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str(IDEMPOTENCY_HEADER),
                key,
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(message.text.clone())
            .map_err(|e| format!("cannot build the email: {e}"))
    }

    async fn deliver(&self, email: lettre::Message) -> Outcome {
        let result = match self.transport.send(email.clone()).await {
            // Design: a pooled connection the server has closed shows up as a
            // broken connection on first use; one immediate retry opens a
            // fresh one. Refusals (4xx/5xx replies) are never repeated here.
            Err(e) if is_broken_connection(&e) => {
                tracing::debug!(channel = %self.name, error = %e, "SMTP connection broken; retrying once");
                self.transport.send(email).await
            }
            other => other,
        };
        match result {
            Ok(_) => Outcome::Delivered,
            Err(e) => classify(&self.host, self.port, &e),
        }
    }
}

fn is_broken_connection(e: &smtp::Error) -> bool {
    !(e.is_permanent() || e.is_transient() || e.is_client() || e.is_tls() || e.is_timeout())
}

fn classify(host: &str, port: u16, e: &smtp::Error) -> Outcome {
    if e.is_permanent() {
        let hint = match e.status().map(|c| c.to_string()) {
            Some(code) if code == "535" || code == "534" => {
                " (authentication failed: check username and password)"
            }
            _ => "",
        };
        Outcome::Permanent(format!("SMTP server {host}:{port} refused: {e}{hint}"))
    } else if e.is_client() {
        Outcome::Permanent(format!("SMTP client error for {host}:{port}: {e}"))
    } else {
        // 4xx replies, network trouble, timeouts, TLS handshakes (a renewed
        // certificate fixes those without us).
        Outcome::Retry(format!("SMTP server {host}:{port}: {e}"))
    }
}

/// Durations written the human way: `"90s"`, `"15m"`. (The config module's
/// own helper is private to it; the channel configs share this one.)
pub(super) mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, de::Error};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text).map_err(|e| {
            D::Error::custom(format!(
                "`{text}` is not a duration like \"10s\" or \"1m\": {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> EmailConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn unencrypted_smtp_is_refused_for_a_remote_host_only() {
        let base = "name = \"mail\"\nfrom = \"ww <a@example.org>\"\nsecurity = \"none\"\n";
        let remote = config(&format!("{base}host = \"smtp.example.org\"\n"));
        let problems = remote.problems();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, "security");
        assert!(problems[0].1.contains("use `starttls` or `tls`"));
        for host in ["127.0.0.1", "localhost", "::1", "[::1]"] {
            let local = config(&format!("{base}host = \"{host}\"\n"));
            assert!(
                local.problems().is_empty(),
                "{host}: {:?}",
                local.problems()
            );
        }
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let bad = config(
            "name = \"\"\nhost = \"smtp.example.org\"\nport = 0\nfrom = \"not an address\"\n\
             username = \"u\"\ntimeout = \"0s\"\n",
        );
        let fields: Vec<_> = bad.problems().iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["name", "port", "username", "from", "timeout"]);
        let unknown = toml::from_str::<EmailConfig>(
            "name = \"m\"\nhost = \"h\"\nfrom = \"a@b.c\"\npassword = \"inline\"\n",
        );
        assert!(unknown.is_err(), "inline passwords must be refused");
    }

    #[tokio::test]
    async fn debug_output_never_shows_the_password() {
        let c = config(
            "name = \"mail\"\nhost = \"smtp.example.org\"\nfrom = \"a@example.org\"\n\
             username = \"u\"\npassword_env = \"X\"\n",
        );
        let email = Email::new(&c, Some(b"hunter2-secret".to_vec())).unwrap();
        let shown = format!("{email:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("***") && shown.contains("smtp.example.org"));
    }
}
