//! Webhooks: the case notification as JSON, POSTed with an HMAC-SHA256
//! signature so the receiver can tell it came from us and was not replayed.
//!
//! Headers:
//! - `X-Waterwatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//! - `X-Waterwatch-Idempotency-Key: <key>` — the same for every retry of one notification.

use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Outcome;

pub const SIGNATURE_HEADER: &str = "x-waterwatch-signature";
pub const IDEMPOTENCY_HEADER: &str = "x-waterwatch-idempotency-key";

/// The signature header value for a body sent at `unix_seconds`.
pub fn sign(secret: &[u8], unix_seconds: i64, body: &[u8]) -> String {
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac(secret, unix_seconds, body))
    )
}

fn mac(secret: &[u8], unix_seconds: i64, body: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().to_vec()
}

/// Check a signature header as a receiver would: the MAC must match and the
/// timestamp must be within `tolerance` of `now_unix`.
pub fn verify(secret: &[u8], header: &str, body: &[u8], now_unix: i64, tolerance: i64) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(given)) = (t, v1) else {
        return false;
    };
    if (now_unix - t).abs() > tolerance {
        return false;
    }
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret) else {
        return false;
    };
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&given).is_ok()
}

/// A configured webhook endpoint, ready to send.
#[derive(Clone)]
pub struct Webhook {
    pub name: String,
    pub url: String,
    secret: Vec<u8>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.name)
            .field("url", &self.url)
            .field("secret", &"***")
            .finish()
    }
}

impl Webhook {
    pub fn new(name: &str, url: &str, secret: Vec<u8>, timeout: Duration) -> Result<Self, String> {
        super::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|e| format!("cannot build the HTTP client for webhook `{name}`: {e}"))?;
        Ok(Self {
            name: name.to_owned(),
            url: url.to_owned(),
            secret,
            client,
        })
    }

    pub async fn send(&self, idempotency_key: &str, body: &str, unix_seconds: i64) -> Outcome {
        let signature = sign(&self.secret, unix_seconds, body.as_bytes());
        let response = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(IDEMPOTENCY_HEADER, idempotency_key)
            .body(body.to_owned())
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => Outcome::Delivered,
            Ok(r) => {
                let status = r.status();
                let why = format!("HTTP {status}");
                if status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT
                {
                    Outcome::Retry(why)
                } else {
                    Outcome::Permanent(why)
                }
            }
            Err(e) => Outcome::Retry(format!("{e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_with_the_same_secret_and_body_only() {
        let header = sign(b"s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(verify(b"s3cret", &header, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify(b"other", &header, b"{\"a\":1}", 1_700_000_010, 300));
        assert!(!verify(
            b"s3cret",
            &header,
            b"{\"a\":2}",
            1_700_000_010,
            300
        ));
        assert!(!verify(
            b"s3cret",
            &header,
            b"{\"a\":1}",
            1_700_001_000,
            300
        ));
        assert!(!verify(
            b"s3cret",
            "garbage",
            b"{\"a\":1}",
            1_700_000_010,
            300
        ));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Reference value computed independently:
        // printf '1700000000.{}' | openssl dgst -sha256 -hmac key
        let header = sign(b"key", 1_700_000_000, b"{}");
        assert_eq!(
            header,
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }
}
