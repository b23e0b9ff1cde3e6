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
use sha2::Sha256;

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkAction {
    Acknowledge,
    ResidentOk,
}

/// The signed content of a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// The case.
    pub case_id: i64,
    pub action: LinkAction,
    /// Who the link was sent to (recorded as who acknowledged).
    pub who: String,
    /// Expiry, Unix seconds (up to 2106: the token carries 32 bits).
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

    fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"waterwatch-link:");
        mac.update(payload);
        mac
    }

    /// The token for a claim: base64url of the packed claim followed by the
    /// first 12 bytes of its HMAC-SHA256 (see [`pack`]).
    pub fn token(&self, claim: &Claim) -> String {
        let mut bytes = pack(claim);
        let mac = self.mac(&bytes).finalize().into_bytes();
        bytes.extend_from_slice(&mac[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The full link for a claim.
    pub fn link(&self, claim: &Claim) -> String {
        format!("{}/l/{}", self.base_url, self.token(claim))
    }

    /// Check a token: signed by us and not expired at `now`.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claim, LinkError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| LinkError::Invalid)?;
        if bytes.len() < MAC_BYTES + 1 {
            return Err(LinkError::Invalid);
        }
        let (payload, given) = bytes.split_at(bytes.len() - MAC_BYTES);
        self.mac(payload)
            .verify_truncated_left(given)
            .map_err(|_| LinkError::Invalid)?;
        let claim = unpack(payload).ok_or(LinkError::Invalid)?;
        if now.timestamp() > claim.expires {
            return Err(LinkError::Expired);
        }
        Ok(claim)
    }
}

/// Bytes of the HMAC kept in a token: 96 bits. A guess has to be checked
/// online against this server, one request at a time, within the link's
/// lifetime; 2^96 is out of reach.
const MAC_BYTES: usize = 12;

/// The first byte of a packed claim: format version (high nibble) and action.
const VERSION: u8 = 0x10;

// Design: links go out by SMS, where every character counts (one segment is
// 160 GSM-7 or 70 UCS-2 characters). A JSON claim made a ~150-character
// token; this packing makes ~30 for a typical claim: version+action (1 byte),
// case id (LEB128, 1–3 bytes for realistic ids), expiry (u32 Unix seconds,
// big-endian; good until 2106), then the person's name as UTF-8 to the end.
fn pack(claim: &Claim) -> Vec<u8> {
    let action = match claim.action {
        LinkAction::Acknowledge => 1,
        LinkAction::ResidentOk => 2,
    };
    let mut out = vec![VERSION | action];
    let mut id = claim.case_id.max(0) as u64;
    loop {
        let byte = (id & 0x7f) as u8;
        id >>= 7;
        if id == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    let expires = u32::try_from(claim.expires.max(0)).unwrap_or(u32::MAX);
    out.extend_from_slice(&expires.to_be_bytes());
    out.extend_from_slice(claim.who.as_bytes());
    out
}

fn unpack(bytes: &[u8]) -> Option<Claim> {
    let (&first, mut rest) = bytes.split_first()?;
    if first & 0xf0 != VERSION {
        return None;
    }
    let action = match first & 0x0f {
        1 => LinkAction::Acknowledge,
        2 => LinkAction::ResidentOk,
        _ => return None,
    };
    let mut case_id: u64 = 0;
    let mut shift = 0;
    loop {
        let (&byte, tail) = rest.split_first()?;
        rest = tail;
        if shift > 56 {
            return None;
        }
        case_id |= u64::from(byte & 0x7f) << shift;
        shift += 7;
        if byte & 0x80 == 0 {
            break;
        }
    }
    let (expires, who) = rest.split_first_chunk::<4>()?;
    Some(Claim {
        case_id: i64::try_from(case_id).ok()?,
        action,
        who: String::from_utf8(who.to_vec()).ok()?,
        expires: i64::from(u32::from_be_bytes(*expires)),
    })
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
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        // The case id is the second byte: 12 → 13, the signature kept.
        bytes[1] = 13;
        let forged = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(signer.verify(&forged, now), Err(LinkError::Invalid));
        let foreign = Signer::new(b"other".to_vec(), "https://x").token(&claim());
        assert_eq!(signer.verify(&foreign, now), Err(LinkError::Invalid));
        assert_eq!(signer.verify("garbage", now), Err(LinkError::Invalid));
        assert_eq!(signer.verify("", now), Err(LinkError::Invalid));
        assert_eq!(
            signer.verify(&token[..token.len() - 2], now),
            Err(LinkError::Invalid)
        );
        let longer = format!("{token}AA");
        assert_eq!(signer.verify(&longer, now), Err(LinkError::Invalid));
    }

    #[test]
    fn every_field_survives_packing() {
        let signer = Signer::new(b"secret".to_vec(), "https://x");
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        for (case_id, action, who) in [
            (0, LinkAction::ResidentOk, ""),
            (127, LinkAction::Acknowledge, "李伟"),
            (128, LinkAction::Acknowledge, "Zhang Jun"),
            (9_876_543_210, LinkAction::ResidentOk, "resident"),
        ] {
            let claim = Claim {
                case_id,
                action,
                who: who.into(),
                expires: 1_800_000_000,
            };
            assert_eq!(signer.verify(&signer.token(&claim), now), Ok(claim));
        }
    }

    #[test]
    fn a_link_is_short_enough_to_share_one_sms_with_its_message() {
        let signer = Signer::new(b"secret".to_vec(), "https://ww.example.org");
        let mut claim = claim();
        claim.case_id = 48_213;
        let token = signer.token(&claim);
        assert!(token.len() <= 36, "{} characters: {token}", token.len());
        let link = signer.link(&claim);
        let templates = crate::notify::template::Templates::default();
        let values = crate::notify::template::Values {
            household: "h0317".into(),
            name: "Zhang Mei".into(),
            summary:
                "No water used for 5h10m; this household's longest usual gap after 10:00 is 3h20m."
                    .into(),
            since: "09:40".into(),
            link: link.clone(),
            by: String::new(),
        };
        let (_, text) = templates.render(
            crate::notify::template::Reason::CaseOpened,
            waterwatch_rules::text::Language::En,
            &values,
        );
        assert!(text.contains(&link), "{text}");
        assert_eq!(crate::notify::template::sms_segments(&text), 1, "{text}");
    }
}
