//! Signed, expiring, single-case links for SMS and email: "I'm going"
//! (acknowledge) for contacts, "I'm OK" for the resident. No login is needed:
//! the link itself is the credential, so it names one case, one action and
//! one person, expires, and is signed with HMAC-SHA256. Opening a link shows
//! a confirmation page (link previewers fetch URLs; only the button acts);
//! using it again changes nothing and says who acted first.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkAction {
    #[serde(rename = "ack")]
    Acknowledge,
    #[serde(rename = "ok")]
    ResidentOk,
}

/// The signed content of a link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The case.
    #[serde(rename = "c")]
    pub case_id: i64,
    #[serde(rename = "a")]
    pub action: LinkAction,
    /// Who the link was sent to (recorded as who acknowledged).
    #[serde(rename = "w")]
    pub who: String,
    /// Expiry, Unix seconds.
    #[serde(rename = "e")]
    pub expires: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("this link is damaged or was not issued by this service")]
    Invalid,
    #[error("this link has expired; open the case from the latest message instead")]
    Expired,
}

/// Signs and checks links with one secret.
#[derive(Clone)]
pub struct Signer {
    secret: Vec<u8>,
    /// Where links point: `{base_url}/l/{token}`.
    pub base_url: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("base_url", &self.base_url)
            .field("secret", &"***")
            .finish()
    }
}

impl Signer {
    pub fn new(secret: Vec<u8>, base_url: &str) -> Self {
        Self {
            secret,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    fn mac(&self, payload: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"waterwatch-link:");
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }

    /// The token for a claim: base64url(JSON) "." base64url(HMAC).
    pub fn token(&self, claim: &Claim) -> String {
        let payload = serde_json::to_vec(claim).unwrap_or_default();
        let mac = self.mac(&payload);
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&mac[..20])
        )
    }

    /// The full link for a claim.
    pub fn link(&self, claim: &Claim) -> String {
        format!("{}/l/{}", self.base_url, self.token(claim))
    }

    /// Check a token: signed by us and not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claim, LinkError> {
        let (payload, mac) = token.split_once('.').ok_or(LinkError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| LinkError::Invalid)?;
        let given = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| LinkError::Invalid)?;
        let mut check =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).map_err(|_| LinkError::Invalid)?;
        check.update(b"waterwatch-link:");
        check.update(&payload);
        check
            .verify_truncated_left(&given)
            .map_err(|_| LinkError::Invalid)?;
        if given.len() < 16 {
            return Err(LinkError::Invalid);
        }
        let claim: Claim = serde_json::from_slice(&payload).map_err(|_| LinkError::Invalid)?;
        if now.timestamp() > claim.expires {
            return Err(LinkError::Expired);
        }
        Ok(claim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Claim {
        Claim {
            case_id: 12,
            action: LinkAction::Acknowledge,
            who: "Li Wei".into(),
            expires: 1_800_000_000,
        }
    }

    #[test]
    fn a_link_verifies_until_it_expires() {
        let signer = Signer::new(b"secret".to_vec(), "https://ww.example.org/");
        let link = signer.link(&claim());
        assert!(link.starts_with("https://ww.example.org/l/"), "{link}");
        let token = link.rsplit('/').next().unwrap();
        let before = DateTime::from_timestamp(1_799_999_000, 0).unwrap();
        let after = DateTime::from_timestamp(1_800_000_001, 0).unwrap();
        assert_eq!(signer.verify(token, before), Ok(claim()));
        assert_eq!(signer.verify(token, after), Err(LinkError::Expired));
    }

    #[test]
    fn a_tampered_or_foreign_link_is_refused() {
        let signer = Signer::new(b"secret".to_vec(), "https://x");
        let token = signer.token(&claim());
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let mut other = claim();
        other.case_id = 13;
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&other).unwrap()),
            token.split_once('.').unwrap().1
        );
        assert_eq!(signer.verify(&forged, now), Err(LinkError::Invalid));
        let foreign = Signer::new(b"other".to_vec(), "https://x").token(&claim());
        assert_eq!(signer.verify(&foreign, now), Err(LinkError::Invalid));
        assert_eq!(signer.verify("garbage", now), Err(LinkError::Invalid));
        assert_eq!(
            signer.verify(&format!("{}.", token.split_once('.').unwrap().0), now),
            Err(LinkError::Invalid)
        );
    }
}
