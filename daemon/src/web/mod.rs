//! The status dashboard: who is fine, who is being checked on, which meters
//! are silent. Server-rendered pages (askama templates from `dashboards/`,
//! embedded at build time), live updates over server-sent events, and the
//! access rules every page and API route goes through.

pub mod api;
pub mod auth;
pub mod chart;
pub mod describe;
pub mod i18n;
pub mod live;
pub mod pages;
pub mod view;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tokio::sync::watch;
use waterwatch_rules::{Language, RuleSet};

use crate::config::HttpConfig;
use crate::notify::contacts::ContactConfig;
use crate::store::access::{self, AuditEntry};
use auth::{Identity, LoginLimiter};

/// What the pages need beyond the store.
pub struct Web {
    pub login_required: bool,
    pub secure_cookies: bool,
    pub session_idle: Duration,
    pub session_max: Duration,
    /// Page language for the local user without a login.
    pub language: Language,
    /// The CSRF token of the local user without a login (new at each start).
    pub local_csrf: String,
    pub limiter: LoginLimiter,
    pub contacts: Vec<ContactConfig>,
    /// The rules running now.
    pub rules: watch::Receiver<RuleSet>,
    pub rules_status: std::sync::Arc<RulesStatus>,
    /// Changes whenever a case, an alert or a suppression does.
    pub live: watch::Receiver<String>,
}

impl Web {
    pub fn new(
        http: &HttpConfig,
        contacts: Vec<ContactConfig>,
        rules: watch::Receiver<RuleSet>,
        rules_status: std::sync::Arc<RulesStatus>,
        live: watch::Receiver<String>,
    ) -> Web {
        Web {
            login_required: http.login_required(),
            secure_cookies: http.cookies_secure(),
            session_idle: http.session_idle,
            session_max: http.session_max,
            language: http.language,
            local_csrf: auth::random_token(),
            limiter: LoginLimiter::new(),
            contacts,
            rules,
            rules_status,
            live,
        }
    }
}

/// Where the running rules came from and how the last reload went.
#[derive(Debug, Default)]
pub struct RulesStatus {
    inner: Mutex<RulesReport>,
}

#[derive(Debug, Clone, Default)]
pub struct RulesReport {
    /// The rules file; `None` for the built-in defaults.
    pub path: Option<PathBuf>,
    /// When the running rules were loaded.
    pub loaded_ms: i64,
    /// Problems of the last attempt, if it was refused.
    pub refused: Vec<String>,
    pub refused_ms: Option<i64>,
}

impl RulesStatus {
    pub fn new(path: Option<PathBuf>, loaded_ms: i64) -> RulesStatus {
        RulesStatus {
            inner: Mutex::new(RulesReport {
                path,
                loaded_ms,
                ..RulesReport::default()
            }),
        }
    }

    pub fn loaded(&self, at_ms: i64) {
        let mut report = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        report.loaded_ms = at_ms;
        report.refused.clear();
        report.refused_ms = None;
    }

    pub fn refused(&self, at_ms: i64, problems: Vec<String>) {
        let mut report = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        report.refused = problems;
        report.refused_ms = Some(at_ms);
    }

    pub fn report(&self) -> RulesReport {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// Why a household (or a case's household) is beyond the caller's reach.
pub enum OutOfReach {
    /// No such household or case (what was looked for).
    NotFound(&'static str),
    Forbidden,
    Unavailable(crate::store::StoreError),
}

/// The household if it exists and the caller may see it.
pub async fn household_in_reach(
    state: &crate::http::AppState,
    who: &Identity,
    id: &str,
) -> Result<crate::store::dashboard::Household, OutOfReach> {
    match crate::store::dashboard::household(state.store.pool(), id).await {
        Ok(Some(h)) if who.sees(&h) => Ok(h),
        Ok(Some(_)) => Err(OutOfReach::Forbidden),
        Ok(None) => Err(OutOfReach::NotFound("household")),
        Err(e) => Err(OutOfReach::Unavailable(e)),
    }
}

/// The household of case `id` if the case exists and the caller may see it.
pub async fn case_in_reach(
    state: &crate::http::AppState,
    who: &Identity,
    id: i64,
) -> Result<crate::store::dashboard::Household, OutOfReach> {
    match crate::store::dashboard::case_household(state.store.pool(), id).await {
        Ok(Some(household)) => household_in_reach(state, who, &household).await,
        Ok(None) => Err(OutOfReach::NotFound("case")),
        Err(e) => Err(OutOfReach::Unavailable(e)),
    }
}

/// Record a view of personal data or an action in the audit log. A log that
/// cannot be written is itself logged; the request goes on.
pub async fn audit(
    state: &crate::http::AppState,
    who: &Identity,
    action: &str,
    target: &str,
    detail: &str,
) {
    let entry = AuditEntry {
        ts_ms: state.clock.now().timestamp_millis(),
        actor: who.name.clone(),
        action: action.into(),
        target: target.into(),
        detail: detail.into(),
        source: who.source.clone(),
    };
    if let Err(e) = access::audit(state.store.pool(), &entry).await {
        tracing::error!(error = %e, actor = %who.name, action, target, "the audit log could not be written");
    }
}

/// A rendered page with the headers every page carries.
pub fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    match body {
        Ok(body) => (
            status,
            [
                (header::CACHE_CONTROL, "no-store"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self' data:; style-src 'self'; \
                     script-src 'self'; frame-ancestors 'none'; form-action 'self'; \
                     base-uri 'none'",
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                // Design: not `no-referrer`: under it browsers send
                // `Origin: null` with form posts, which `same_origin` must
                // refuse. `same-origin` still tells other sites nothing.
                (header::REFERRER_POLICY, "same-origin"),
            ],
            Html(body),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be rendered",
            )
                .into_response()
        }
    }
}

/// The stylesheet and script, embedded at build time.
pub const STYLE: &str = include_str!("../../../dashboards/static/style.css");
pub const SCRIPT: &str = include_str!("../../../dashboards/static/live.js");

pub async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

pub async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
