//! Who is asking: users with roles, session cookies with a CSRF token each,
//! API tokens for scripts and the CLI (their hashes, and the login rate
//! limit, in `auth/secrets.rs`). A grid worker sees only their grids,
//! family only their household.
//!
//! Without a login (only where `[http] login = "auto"` allows it: bound to
//! loopback, asked for by a browser on this machine and not through a proxy)
//! the caller is the local operator, with the admin role.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use waterwatch_rules::Language;

use crate::http::AppState;
use crate::store::access::{self, UserRow};
use crate::store::dashboard::Household;

mod secrets;

use secrets::{DUMMY_HASH, constant_time_eq};
pub use secrets::{
    LoginLimiter, hash_password, password_problem, random_token, token_hash, verify_password,
};

/// The session cookie's name.
pub const COOKIE: &str = "ww_session";
/// The header carrying the CSRF token on JSON requests made with a session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// What a user may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including users.
    Admin,
    /// Every household, meters and rules.
    Ops,
    /// The households of their grids.
    GridWorker,
    /// Their own household: status and reassurance.
    Family,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "admin" => Some(Role::Admin),
            "ops" => Some(Role::Ops),
            "grid_worker" => Some(Role::GridWorker),
            "family" => Some(Role::Family),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Ops => "ops",
            Role::GridWorker => "grid_worker",
            Role::Family => "family",
        }
    }
}

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session,
    Token,
    /// The local operator on a loopback-only daemon.
    Local,
}

/// The caller of a request.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub role: Role,
    /// Grids (grid worker) or households (family).
    pub scope: Vec<String>,
    pub language: Language,
    /// The token forms must carry back.
    pub csrf: String,
    pub via: Via,
    /// The client's address, for the audit log.
    pub source: String,
}

impl Identity {
    /// Whether this caller may see (and act on) `household`.
    pub fn sees(&self, household: &Household) -> bool {
        match self.role {
            Role::Admin | Role::Ops => true,
            Role::GridWorker => household
                .grid
                .as_ref()
                .is_some_and(|g| self.scope.contains(g)),
            Role::Family => self.scope.contains(&household.id),
        }
    }

    /// Meters, rules, silences across grids: ops and admins.
    pub fn is_ops(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Ops)
    }

    /// Whether `token` is this caller's CSRF token.
    pub fn csrf_ok(&self, token: &str) -> bool {
        constant_time_eq(token.as_bytes(), self.csrf.as_bytes())
    }

    /// For JSON writes: a session must send its CSRF token in a header;
    /// API tokens and the local operator need none (a browser cannot send a
    /// JSON body across sites without the CORS consent this server never gives).
    pub fn check_api_csrf(&self, headers: &HeaderMap) -> Result<(), Box<Response>> {
        if self.via != Via::Session {
            return Ok(());
        }
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if self.csrf_ok(sent) {
            Ok(())
        } else {
            Err(Box::new(api_refusal(
                StatusCode::FORBIDDEN,
                "missing or wrong X-CSRF-Token header",
            )))
        }
    }
}

fn api_refusal(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// The client's address as the audit log and the rate limiter see it.
pub fn source_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The client's address, as an extractor.
pub struct Source(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Source {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Source(source_of(parts)))
    }
}

/// Whether the request may go without a login: login is not required by
/// config, it did not come through a proxy, and it names this machine (a
/// page on another site resolving its name to 127.0.0.1 must not read it).
fn local_without_login(state: &AppState, parts: &Parts) -> bool {
    if state.web.login_required {
        return false;
    }
    let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| parts.headers.contains_key(*h));
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let loopback_name = matches!(name, "localhost" | "127.0.0.1" | "::1");
    !proxied && loopback_name
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn identity_of(user: UserRow, csrf: String, via: Via, source: String) -> Option<Identity> {
    Some(Identity {
        role: Role::parse(&user.role)?,
        language: Language::parse(&user.language).unwrap_or_default(),
        name: user.name,
        scope: user.scope,
        csrf,
        via,
        source,
    })
}

/// Why a request has no identity.
pub enum Refusal {
    /// No credentials at all: pages send the browser to the login page.
    NoLogin,
    /// Credentials that do not (or no longer) hold.
    Invalid,
    /// The store did not answer.
    Unavailable,
}

/// Find who is asking, from an API token, a session cookie, or the local
/// rule.
pub async fn identify(state: &AppState, parts: &Parts) -> Result<Identity, Refusal> {
    let source = source_of(parts);
    let pool = state.store.pool();
    let now_ms = state.clock.now().timestamp_millis();
    if let Some(auth) = parts.headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Refusal::Invalid)?;
        let user = access::token_user(pool, &token_hash(token.trim()))
            .await
            .map_err(|_| Refusal::Unavailable)?
            .ok_or(Refusal::Invalid)?;
        return identity_of(user, String::new(), Via::Token, source).ok_or(Refusal::Invalid);
    }
    if let Some(cookie) = cookie_value(&parts.headers, COOKIE) {
        let hash = token_hash(cookie);
        let found = access::session(pool, &hash, now_ms)
            .await
            .map_err(|_| Refusal::Unavailable)?;
        let idle_ms = state.web.session_idle.as_millis() as i64;
        match found {
            Some((user, csrf, last_seen)) if now_ms - last_seen < idle_ms => {
                if now_ms - last_seen > 60_000 {
                    let _ = access::touch_session(pool, &hash, now_ms).await;
                }
                return identity_of(user, csrf, Via::Session, source).ok_or(Refusal::Invalid);
            }
            _ if local_without_login(state, parts) => {}
            _ => return Err(Refusal::Invalid),
        }
    }
    if local_without_login(state, parts) {
        return Ok(Identity {
            name: "local".into(),
            role: Role::Admin,
            scope: Vec::new(),
            language: state.web.language,
            csrf: state.web.local_csrf.clone(),
            via: Via::Local,
            source,
        });
    }
    Err(Refusal::NoLogin)
}

impl FromRequestParts<AppState> for Identity {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let api = parts.uri.path().starts_with("/api/");
        match identify(state, parts).await {
            Ok(identity) => Ok(identity),
            Err(Refusal::Unavailable) => Err(api_refusal(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is not answering; try again",
            )),
            Err(_) if api => Err(api_refusal(
                StatusCode::UNAUTHORIZED,
                "log in, or send Authorization: Bearer <API token>",
            )),
            Err(_) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                Err(
                    Redirect::to(&format!("/login?next={}", urlencoding::encode(next)))
                        .into_response(),
                )
            }
        }
    }
}

/// The outcome of a login attempt.
pub enum Login {
    /// The cookie value of the new session.
    Session(String),
    Refused,
    /// Too many failures: try again after this long.
    Blocked(Duration),
}

/// Check a name and password, and open a session.
pub async fn log_in(
    state: &AppState,
    name: &str,
    password: &str,
    source: &str,
) -> Result<Login, crate::store::StoreError> {
    if let Some(wait) = state.web.limiter.blocked_for(name, source) {
        return Ok(Login::Blocked(wait));
    }
    let pool = state.store.pool();
    let found = access::user_by_name(pool, name).await?;
    let (user, hash) = match found {
        Some((user, hash)) if !user.disabled => (Some(user), hash),
        _ => (None, DUMMY_HASH.clone()),
    };
    let password = password.to_owned();
    let matches = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|_| matches) else {
        state.web.limiter.failed(name, source);
        return Ok(Login::Refused);
    };
    state.web.limiter.succeeded(name);
    let token = random_token();
    let now_ms = state.clock.now().timestamp_millis();
    let expires = now_ms + state.web.session_max.as_millis() as i64;
    access::add_session(
        pool,
        &token_hash(&token),
        user.id,
        &random_token(),
        now_ms,
        expires,
    )
    .await?;
    Ok(Login::Session(token))
}

/// The `Set-Cookie` value for a new session (or, with `None`, one that
/// removes it).
pub fn session_cookie(state: &AppState, token: Option<&str>) -> String {
    let secure = if state.web.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    match token {
        Some(token) => format!(
            "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            state.web.session_max.as_secs()
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

/// End the caller's session (if the request carries one).
pub async fn log_out(state: &AppState, headers: &HeaderMap) {
    if let Some(cookie) = cookie_value(headers, COOKIE) {
        let now_ms = state.clock.now().timestamp_millis();
        let idle_since = now_ms - state.web.session_idle.as_millis() as i64;
        let _ =
            access::end_session(state.store.pool(), &token_hash(cookie), now_ms, idle_since).await;
    }
}

/// Refuse unsafe requests sent by a page on another site (a second line of
/// defence after SameSite cookies and CSRF tokens).
pub async fn same_origin(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    if !safe && let Some(origin) = request.headers().get(header::ORIGIN) {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin = origin.to_str().unwrap_or("");
        let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or("");
        if origin_host != host {
            return api_refusal(StatusCode::FORBIDDEN, "cross-site request refused");
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_limits_what_a_grid_worker_and_family_see() {
        let identity = |role, scope: &[&str]| Identity {
            name: "x".into(),
            role,
            scope: scope.iter().map(|s| s.to_string()).collect(),
            language: Language::En,
            csrf: "t".into(),
            via: Via::Session,
            source: String::new(),
        };
        let home = Household {
            id: "h1".into(),
            name: None,
            grid: Some("g1".into()),
            withdrawn: false,
        };
        assert!(identity(Role::GridWorker, &["g1"]).sees(&home));
        assert!(!identity(Role::GridWorker, &["g2"]).sees(&home));
        assert!(identity(Role::Family, &["h1"]).sees(&home));
        assert!(!identity(Role::Family, &["h2"]).sees(&home));
        assert!(identity(Role::Ops, &[]).sees(&home));
        assert!(identity(Role::Family, &[]).csrf_ok("t"));
        assert!(!identity(Role::Family, &[]).csrf_ok("u"));
    }
}
