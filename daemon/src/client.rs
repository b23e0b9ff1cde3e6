//! The operator's commands on a running daemon: list cases, acknowledge,
//! resolve, away mode and silences. They go through the daemon's HTTP API —
//! the processor is the single writer of cases, so the CLI never writes the
//! database itself.
//!
//! The address is the configured `[http] listen` (from `--config`), or
//! `--url`. When `WATERWATCH_API_TOKEN` is set it is sent as
//! `Authorization: Bearer <token>`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The environment variable holding an API token for the CLI.
pub const TOKEN_ENV: &str = "WATERWATCH_API_TOKEN";

/// Closure reasons a person may give (`all_clear` is the system's own).
pub const CLOSE_REASONS: [&str; 8] = [
    "fine",
    "away",
    "hospital",
    "late_riser",
    "leak",
    "emergency",
    "false_alarm",
    "other",
];

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "cannot reach the waterwatch daemon at {url}: {detail}\n\
         Is it running (`waterwatch run --config FILE`)? Pass the same --config, or --url."
    )]
    Unreachable { url: String, detail: String },
    #[error(
        "the daemon refused the request (HTTP {status}): {message}\nSet {TOKEN_ENV} to a valid API token."
    )]
    Refused { status: u16, message: String },
    #[error("{0}")]
    Rejected(String),
    #[error("the daemon answered HTTP {status}: {message}")]
    Failed { status: u16, message: String },
    #[error("{0}")]
    Usage(String),
}

/// A client of one daemon's API.
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// `base` is like `http://127.0.0.1:8080`.
    pub fn new(base: &str, token: Option<String>) -> Result<Self, ClientError> {
        crate::notify::install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| ClientError::Usage(format!("cannot build an HTTP client: {e}")))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token: token.filter(|t| !t.trim().is_empty()),
            http,
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method, &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| ClientError::Unreachable {
            url: self.base.clone(),
            detail: error_chain(&e),
        })?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let message = value["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| text.trim().chars().take(200).collect());
        match status {
            200..=299 => Ok((status, value)),
            401 | 403 => Err(ClientError::Refused { status, message }),
            400 | 404 | 409 | 422 => Err(ClientError::Rejected(message)),
            _ => Err(ClientError::Failed { status, message }),
        }
    }

    /// Every household the caller may see, with its state.
    pub async fn households(&self) -> Result<Vec<Value>, ClientError> {
        let (_, value) = self
            .call(reqwest::Method::GET, "/api/v1/households", None)
            .await?;
        Ok(value["households"].as_array().cloned().unwrap_or_default())
    }

    /// Record consent withdrawn (`monitoring: false`, purging the household)
    /// or given again.
    pub async fn set_monitoring(
        &self,
        household: &str,
        monitoring: bool,
        confirm: Option<&str>,
    ) -> Result<Value, ClientError> {
        let path = format!(
            "/api/v1/households/{}/monitoring",
            urlencoding::encode(household)
        );
        let body = json!({ "monitoring": monitoring, "confirm": confirm });
        let (_, value) = self.call(reqwest::Method::PUT, &path, Some(body)).await?;
        Ok(value)
    }

    /// Cases, newest first.
    pub async fn cases(&self, open_only: bool, limit: i64) -> Result<Vec<Value>, ClientError> {
        let path = format!("/api/v1/cases?limit={limit}&open={open_only}");
        let (_, value) = self.call(reqwest::Method::GET, &path, None).await?;
        Ok(value["cases"].as_array().cloned().unwrap_or_default())
    }

    pub async fn acknowledge(
        &self,
        case: i64,
        by: &str,
        note: Option<&str>,
    ) -> Result<Value, ClientError> {
        let mut body = json!({ "by": by });
        if let Some(note) = note {
            body["note"] = json!(note);
        }
        self.case_action(case, "ack", body).await
    }

    pub async fn resolve(
        &self,
        case: i64,
        by: &str,
        reason: &str,
        note: Option<&str>,
    ) -> Result<Value, ClientError> {
        if !CLOSE_REASONS.contains(&reason) {
            return Err(ClientError::Usage(format!(
                "`{reason}` is not a closure reason; choose one of {}",
                CLOSE_REASONS.join(", ")
            )));
        }
        let body = json!({ "by": by, "reason": reason, "note": note });
        self.case_action(case, "close", body).await
    }

    async fn case_action(
        &self,
        case: i64,
        action: &str,
        body: Value,
    ) -> Result<Value, ClientError> {
        let path = format!("/api/v1/cases/{case}/{action}");
        match self.call(reqwest::Method::POST, &path, Some(body)).await {
            Ok((_, value)) => Ok(value["case"].clone()),
            Err(ClientError::Rejected(message)) if message == "no such case" => {
                Err(ClientError::Rejected(format!("case {case}: no such case")))
            }
            Err(ClientError::Rejected(message)) => {
                Err(ClientError::Rejected(format!("case {case}: {message}")))
            }
            Err(e) => Err(e),
        }
    }

    pub async fn away(
        &self,
        household: &str,
        until: DateTime<Utc>,
        reason: &str,
        by: &str,
    ) -> Result<Value, ClientError> {
        let path = format!("/api/v1/households/{}/away", urlencoding::encode(household));
        let body = json!({ "until": until.to_rfc3339(), "reason": reason, "by": by });
        self.call(reqwest::Method::POST, &path, Some(body))
            .await
            .map(|(_, v)| v)
    }

    pub async fn end_away(&self, household: &str) -> Result<Value, ClientError> {
        let path = format!("/api/v1/households/{}/away", urlencoding::encode(household));
        match self.call(reqwest::Method::DELETE, &path, None).await {
            Ok((_, value)) => Ok(value),
            Err(ClientError::Rejected(message)) => {
                Err(ClientError::Rejected(format!("{household}: {message}")))
            }
            Err(e) => Err(e),
        }
    }

    pub async fn silence(&self, silence: &Silence<'_>) -> Result<Value, ClientError> {
        let body = json!({
            "household": silence.household,
            "grid": silence.grid,
            "kind": silence.kind,
            "until": silence.until.to_rfc3339(),
            "reason": silence.reason,
            "by": silence.by,
        });
        self.call(reqwest::Method::POST, "/api/v1/silences", Some(body))
            .await
            .map(|(_, v)| v)
    }

    pub async fn silences(&self) -> Result<Vec<Value>, ClientError> {
        let (_, value) = self
            .call(reqwest::Method::GET, "/api/v1/silences", None)
            .await?;
        Ok(value["suppressions"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }
}

/// A new silence.
#[derive(Debug, Clone)]
pub struct Silence<'a> {
    pub household: Option<&'a str>,
    pub grid: Option<&'a str>,
    pub kind: Option<&'a str>,
    pub until: DateTime<Utc>,
    pub reason: &'a str,
    pub by: &'a str,
}

/// `--until`: an RFC 3339 time, or a duration from now (`3d`, `2h 30m`).
pub fn parse_until(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ClientError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.to_utc());
    }
    match humantime::parse_duration(text) {
        Ok(d) => Ok(now + chrono::Duration::from_std(d).unwrap_or_default()),
        Err(_) => Err(ClientError::Usage(format!(
            "--until: `{text}` is neither a time like 2026-12-01T18:00:00+08:00 nor a duration like 3d"
        ))),
    }
}

/// Who the CLI acts as when `--by` is not given: the login name.
pub fn default_actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "cli".into())
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// One line per case for a terminal.
pub fn case_line(case: &Value) -> String {
    let opened = case["opened_ms"]
        .as_i64()
        .and_then(DateTime::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    let status = match (
        case["resolution"].as_str(),
        case["acknowledged_by"].as_str(),
    ) {
        (Some(reason), _) => format!("closed ({reason})"),
        (None, Some(by)) => format!("acknowledged by {by}"),
        (None, None) => "open, unacknowledged".into(),
    };
    format!(
        "#{:<6} {:<12} {:<9} opened {}  {}",
        case["id"].as_i64().unwrap_or_default(),
        case["household"].as_str().unwrap_or_default(),
        case["severity"].as_str().unwrap_or_default(),
        opened,
        status
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn until_takes_a_time_or_a_duration_from_now() {
        let now = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            parse_until("2026-11-26T08:00:00+08:00", now).unwrap(),
            DateTime::parse_from_rfc3339("2026-11-26T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_until("3d", now).unwrap(),
            now + chrono::Duration::days(3)
        );
        let e = parse_until("next tuesday", now).unwrap_err().to_string();
        assert!(e.contains("neither a time"), "{e}");
    }

    #[test]
    fn a_case_line_says_where_the_case_stands() {
        let open = json!({"id": 7, "household": "h1", "severity": "critical", "opened_ms": 0});
        assert!(case_line(&open).contains("open, unacknowledged"));
        let acked = json!({"id": 7, "household": "h1", "acknowledged_by": "Li"});
        assert!(case_line(&acked).contains("acknowledged by Li"));
        let closed = json!({"id": 7, "resolution": "fine", "acknowledged_by": "Li"});
        assert!(case_line(&closed).contains("closed (fine)"));
    }
}
