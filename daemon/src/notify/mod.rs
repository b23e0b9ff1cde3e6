//! Notification channels. Each turns an outbox entry into a delivery attempt
//! and says whether a failure is worth retrying.
//!
//! # Layout
//! - `channel.rs`: every configured channel behind one type.
//! - `contacts.rs`: who a household's notifications reach, how, and when (quiet hours).
//! - `payload.rs`: the JSON body and the one-line text of a case notification.
//! - `webhook.rs`: JSON POST signed with HMAC-SHA256.
//! - `email.rs`: email over SMTP (lettre), pooled, with a whole-send timeout.
//! - `sms/`: SMS over HTTP: a generic templated request, Twilio, Aliyun (one file each).
//! - `robot.rs`: WeCom and DingTalk group robots.
//! - `reassurance.rs`: the daily "day has started" message, for contacts who ask.
//! - `ops.rs`: what ops staff are told when a notification fails for good.
//! - `template.rs`: the subject and text of each notification, per language.

pub mod channel;
pub mod contacts;
pub mod email;
pub mod ops;
pub mod payload;
pub mod reassurance;
pub mod robot;
pub mod sms;
pub mod template;
pub mod webhook;

use std::time::Duration;

/// Install ring as the process's TLS crypto provider (reqwest's rustls needs
/// one; aws-lc is deliberately not linked). Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What one notification says, for any channel: channels that take JSON
/// (webhooks) send `body`; people-facing channels (email, SMS, group robots)
/// send `subject` and `text`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    /// The recipient's address (email address, phone number in E.164);
    /// `None` for webhooks and group robots, which have a fixed destination.
    #[serde(default)]
    pub to: Option<String>,
    /// A short subject line (email subject, robot title).
    pub subject: String,
    /// Plain text a person can act on; short enough for one SMS.
    pub text: String,
    /// The full notification as JSON (the webhook body).
    pub body: serde_json::Value,
}

/// An address fit for logs and audit trails: `+86******1234`, `l***@example.org`.
pub fn mask(address: &str) -> String {
    if let Some((user, domain)) = address.split_once('@') {
        let first: String = user.chars().take(1).collect();
        return format!("{first}***@{domain}");
    }
    // Phone numbers: the country code and the last four digits, a fixed run
    // of stars (so the length is not told either).
    let chars: Vec<char> = address.chars().collect();
    if chars.len() < 8 {
        return "******".into();
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}******{tail}")
}

/// The result of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Worth trying again later (network trouble, 5xx, 429, 408).
    Retry(String),
    /// Will never succeed as sent (4xx, bad configuration).
    Permanent(String),
}

/// Exponential backoff with up to ±20 % jitter: 5 s, 10 s, 20 s, … capped at 30 min.
pub fn backoff(attempts: i64, jitter: f64) -> Duration {
    let base = 5.0 * 2f64.powi(attempts.clamp(0, 20) as i32);
    let capped = base.min(30.0 * 60.0);
    let jittered = capped * (1.0 + 0.2 * jitter.clamp(-1.0, 1.0));
    Duration::from_secs_f64(jittered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_for_logs() {
        assert_eq!(mask("+8613800001234"), "+86******1234");
        assert_eq!(mask("li.wei@example.org"), "l***@example.org");
        assert_eq!(mask("123"), "******");
    }

    #[test]
    fn backoff_doubles_and_is_capped_at_half_an_hour() {
        assert_eq!(backoff(0, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(1, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(3, 0.0), Duration::from_secs(40));
        assert_eq!(backoff(30, 0.0), Duration::from_secs(1800));
        assert_eq!(backoff(0, 1.0), Duration::from_secs(6));
        assert_eq!(backoff(0, -1.0), Duration::from_secs(4));
    }
}
