//! The `twilio` preset: Twilio's Messages API (form POST with HTTP basic
//! auth: Account SID and Auth Token), and how its error codes split into
//! retry and give up.

use super::{Api, Sms, by_status, form_encode};
use crate::notify::Outcome;

impl Sms {
    pub(super) fn twilio_request(&self, to: &str, text: &str) -> reqwest::RequestBuilder {
        let Api::Twilio {
            url,
            account_sid,
            sender,
        } = &self.api
        else {
            unreachable!("called for twilio channels only")
        };
        let token = String::from_utf8_lossy(&self.secret);
        let form = [("To", to), (sender.0, sender.1.as_str()), ("Body", text)];
        self.client
            .post(url)
            .basic_auth(account_sid, Some(token))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(form_encode(&form))
    }
}

/// Twilio error codes that mean "slow down", whatever the HTTP status.
const TWILIO_RETRY_CODES: [i64; 3] = [20429, 14107, 30001];

pub(super) fn twilio_outcome(status: reqwest::StatusCode, body: &str) -> Outcome {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_errors_split_into_retry_and_permanent() {
        use reqwest::StatusCode as S;
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
}
