//! Logging in and out: the login page, the form behind it (audited, with
//! the lock-out after repeated failures), and logout.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::{CsrfForm, bad_csrf};
use crate::http::AppState;
use crate::web::auth::{self, Identity, Login, Role, Via};
use crate::web::i18n::{self, Texts};
use crate::web::{audit, html};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: &'static Texts,
    error: Option<String>,
    next: String,
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Only paths on this site: never send a logged-in browser elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub(super) async fn login_page(
    State(state): State<AppState>,
    Query(q): Query<NextQuery>,
) -> Response {
    let page = LoginPage {
        t: i18n::texts(state.web.language),
        error: None,
        next: safe_next(q.next.as_deref()),
    };
    html(StatusCode::OK, page.render())
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

pub(super) async fn login(
    State(state): State<AppState>,
    auth::Source(source): auth::Source,
    Form(form): Form<LoginForm>,
) -> Response {
    let t = i18n::texts(state.web.language);
    let next = safe_next(form.next.as_deref());
    let refused = |text: &str, status| {
        html(
            status,
            LoginPage {
                t,
                error: Some(text.to_owned()),
                next: next.clone(),
            }
            .render(),
        )
    };
    let name = form.name.trim();
    let outcome = auth::log_in(&state, name, &form.password, &source).await;
    let actor = Identity {
        name: name.to_owned(),
        role: Role::Family,
        scope: Vec::new(),
        language: state.web.language,
        csrf: String::new(),
        via: Via::Session,
        source: source.clone(),
    };
    match outcome {
        Ok(Login::Session(token)) => {
            audit(&state, &actor, "login", name, "").await;
            (
                StatusCode::SEE_OTHER,
                [
                    (
                        header::SET_COOKIE,
                        auth::session_cookie(&state, Some(&token)),
                    ),
                    (header::LOCATION, next.clone()),
                ],
            )
                .into_response()
        }
        Ok(Login::Refused) => {
            audit(&state, &actor, "login_failed", name, "").await;
            refused(t.login_failed, StatusCode::UNAUTHORIZED)
        }
        Ok(Login::Blocked(_)) => {
            audit(&state, &actor, "login_blocked", name, "").await;
            refused(t.login_blocked, StatusCode::TOO_MANY_REQUESTS)
        }
        Err(e) => {
            tracing::error!(error = %e, "a login could not be checked");
            refused(
                "The database is not answering; try again.",
                StatusCode::SERVICE_UNAVAILABLE,
            )
        }
    }
}

pub(super) async fn logout(
    State(state): State<AppState>,
    who: Identity,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if !who.csrf_ok(&form.csrf) {
        return bad_csrf(&who);
    }
    auth::log_out(&state, &headers).await;
    audit(&state, &who, "logout", &who.name, "").await;
    (
        StatusCode::SEE_OTHER,
        [
            (header::SET_COOKIE, auth::session_cookie(&state, None)),
            (header::LOCATION, "/login".to_owned()),
        ],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_only_goes_to_paths_on_this_site() {
        assert_eq!(safe_next(Some("/cases/3")), "/cases/3");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
