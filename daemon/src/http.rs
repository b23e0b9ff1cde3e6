//! The HTTP server: health, readiness, Prometheus metrics, the dashboard
//! (`web`), the JSON API and the pages behind signed links. Every page and API
//! route asks who is calling ([`Identity`]) and what they may see; beyond
//! loopback that always means a login.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::Path;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::case::Reason;
use crate::clock::Clock;
use crate::links::{Claim, LinkAction, Signer};
use crate::process::{Action, ActionOutcome, Command};
use crate::suppress::Suppression;

use crate::metrics::Metrics;
use crate::store::{self, Store};
use crate::web::Web;
use crate::web::auth::Identity;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub mqtt_connected: Arc<AtomicBool>,
    /// Actions on cases go to the processor, the single writer.
    pub commands: mpsc::Sender<Command>,
    /// Consent withdrawn or given again, also through the processor.
    pub consents: mpsc::Sender<crate::process::ConsentCommand>,
    /// Checks signed links (none when `[links]` is not configured).
    pub links: Option<Signer>,
    pub clock: Arc<dyn Clock>,
    /// The dashboard: access, rules status, live updates.
    pub web: Arc<Web>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/v1/cases", get(cases))
        .route("/api/v1/cases/{id}/ack", post(acknowledge))
        .route("/api/v1/cases/{id}/close", post(close))
        .route("/api/v1/cases/{id}/resident-ok", post(resident_ok))
        .route("/l/{token}", get(link_page).post(link_use))
        .route(
            "/api/v1/households/{id}/away",
            post(away_start).delete(away_end),
        )
        .route("/api/v1/silences", get(silences).post(silence_start))
        .merge(crate::web::pages::routes())
        .merge(crate::web::api::routes())
        .layer(axum::middleware::from_fn(crate::web::auth::same_origin))
        .with_state(state)
}

/// Serve until `shutdown` is cancelled.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: CancellationToken) {
    let app = router(state);
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "the HTTP server stopped");
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<AppState>) -> Response {
    let database = state.store.ping().await.is_ok();
    let broker = state.mqtt_connected.load(Ordering::Relaxed);
    let body = serde_json::json!({ "database": database, "mqtt": broker });
    let status = if database && broker {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    let week_ago = state.clock.now().timestamp_millis() - 7 * 86_400_000;
    match store::dashboard::case_counts(state.store.pool(), week_ago).await {
        Ok(counts) => state.metrics.set_cases(&counts),
        Err(e) => tracing::debug!(error = %e, "cases by state not counted for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<i64>,
    /// Only cases not yet closed.
    #[serde(default)]
    open: Option<bool>,
}

async fn cases(
    State(state): State<AppState>,
    who: Identity,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let (limit, open_only) = match query {
        Ok(Query(q)) => (q.limit.unwrap_or(100), q.open.unwrap_or(false)),
        Err(e) => return api_error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    if !(1..=1000).contains(&limit) {
        return api_error(StatusCode::BAD_REQUEST, "limit must be between 1 and 1000");
    }
    let listed = async {
        let households = store::dashboard::households(state.store.pool()).await?;
        let list = store::cases::list_where(state.store.pool(), limit, open_only).await?;
        Ok::<_, store::StoreError>((households, list))
    }
    .await;
    match listed {
        Ok((households, list)) => {
            let visible: Vec<_> = list
                .into_iter()
                .filter(|c| {
                    households
                        .iter()
                        .any(|h| h.id == c.household && who.sees(h))
                })
                .collect();
            Json(serde_json::json!({ "cases": visible })).into_response()
        }
        Err(e) => database_unavailable("cannot list cases", &e),
    }
}

/// The store failed: log what was being done, tell the caller to retry.
pub fn database_unavailable(doing: &str, error: &crate::store::StoreError) -> Response {
    tracing::error!(error = %error, "{doing}");
    api_error(
        StatusCode::SERVICE_UNAVAILABLE,
        "the database is not answering; try again",
    )
}

pub fn api_error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AckBody {
    /// Who is going (default: the caller).
    #[serde(default)]
    by: Option<String>,
    /// A note for the audit trail.
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    #[serde(default)]
    by: Option<String>,
    reason: Reason,
    #[serde(default)]
    note: Option<String>,
}

pub type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// `by` as given, else the caller; never blank.
fn who_is(by: Option<String>, who: &Identity) -> Result<String, Box<Response>> {
    match by {
        Some(by) if by.trim().is_empty() => Err(Box::new(api_error(
            StatusCode::BAD_REQUEST,
            "`by` must name a person",
        ))),
        Some(by) => Ok(by.trim().to_owned()),
        None => Ok(who.name.clone()),
    }
}

/// The checks every case write makes: CSRF for sessions, and the case's
/// household within the caller's reach.
async fn may_act(
    state: &AppState,
    who: &Identity,
    headers: &axum::http::HeaderMap,
    id: i64,
) -> Result<(), Box<Response>> {
    who.check_api_csrf(headers)?;
    crate::web::api::visible_case(state, who, id)
        .await
        .map(|_| ())
}

async fn acknowledge(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    body: JsonBody<AckBody>,
) -> Response {
    if let Err(r) = may_act(&state, &who, &headers, id).await {
        return *r;
    }
    let body = match body {
        Ok(Json(body)) => body,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let by = match who_is(body.by, &who) {
        Ok(by) => by,
        Err(r) => return *r,
    };
    crate::web::audit(&state, &who, "acknowledge", &format!("case/{id}"), &by).await;
    act(
        &state,
        id,
        Action::Acknowledge {
            by,
            note: body.note,
        },
    )
    .await
}

async fn close(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    body: JsonBody<CloseBody>,
) -> Response {
    if let Err(r) = may_act(&state, &who, &headers, id).await {
        return *r;
    }
    let body = match body {
        Ok(Json(body)) => body,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    if body.reason == Reason::AllClear {
        return api_error(
            StatusCode::BAD_REQUEST,
            "all_clear is set by the system when water resumes; choose fine, away, hospital, \
             late_riser, leak, emergency, false_alarm or other",
        );
    }
    let by = match who_is(body.by, &who) {
        Ok(by) => by,
        Err(r) => return *r,
    };
    crate::web::audit(
        &state,
        &who,
        "close",
        &format!("case/{id}"),
        body.reason.as_str(),
    )
    .await;
    act(
        &state,
        id,
        Action::Close {
            by,
            reason: body.reason,
            note: body.note,
        },
    )
    .await
}

async fn resident_ok(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    if let Err(r) = may_act(&state, &who, &headers, id).await {
        return *r;
    }
    crate::web::audit(&state, &who, "resident_ok", &format!("case/{id}"), "").await;
    act(&state, id, Action::ResidentOk).await
}

/// Why an action could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("the daemon is shutting down; try again")]
    ShuttingDown,
    #[error("the database is not answering; try again")]
    Store(String),
}

/// Hand an action to the processor (the single writer) and wait for it.
pub async fn send_action(
    state: &AppState,
    case_id: i64,
    action: Action,
) -> Result<ActionOutcome, ActionError> {
    let (reply, answer) = oneshot::channel();
    state
        .commands
        .send(Command {
            case_id,
            action,
            reply,
        })
        .await
        .map_err(|_| ActionError::ShuttingDown)?;
    match answer.await {
        Ok(Ok(outcome)) => Ok(outcome),
        Ok(Err(e)) => {
            tracing::error!(error = %e, case = case_id, "a case action could not be stored");
            Err(ActionError::Store(e))
        }
        Err(_) => Err(ActionError::ShuttingDown),
    }
}

async fn act(state: &AppState, case_id: i64, action: Action) -> Response {
    match send_action(state, case_id, action).await {
        Ok(ActionOutcome::Done(case) | ActionOutcome::Unchanged(case)) => {
            Json(serde_json::json!({ "case": case })).into_response()
        }
        Ok(ActionOutcome::AlreadyClosed(case)) => (
            StatusCode::CONFLICT,
            Json(serde_json::json!({ "error": "the case is already closed", "case": case })),
        )
            .into_response(),
        Ok(ActionOutcome::NoSuchCase) => api_error(StatusCode::NOT_FOUND, "no such case"),
        Err(e) => api_error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

/// Check a link's token, or the page that says why it cannot be used.
fn claim(state: &AppState, token: &str) -> Result<Claim, Box<Response>> {
    let Some(signer) = &state.links else {
        return Err(Box::new(page(
            StatusCode::NOT_FOUND,
            "Not available",
            "Links are not enabled here.",
        )));
    };
    signer.verify(token, state.clock.now()).map_err(|e| {
        let status = match e {
            crate::links::LinkError::Expired => StatusCode::GONE,
            crate::links::LinkError::Invalid => StatusCode::FORBIDDEN,
        };
        Box::new(page(status, "This link cannot be used", &e.to_string()))
    })
}

/// Opening a link only shows what it will do: link previewers fetch URLs.
async fn link_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let claim = match claim(&state, &token) {
        Ok(claim) => claim,
        Err(page) => return *page,
    };
    let (title, button) = match claim.action {
        LinkAction::Acknowledge => (
            format!("Case {}: are you going to check?", claim.case_id),
            format!("I'm going ({})", claim.who),
        ),
        LinkAction::ResidentOk => ("Are you OK?".to_string(), "Yes, I'm OK".to_string()),
    };
    let body = format!(
        "<form method=\"post\"><button type=\"submit\">{}</button></form>",
        escape(&button)
    );
    Html(layout(&title, &body)).into_response()
}

async fn link_use(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let claim = match claim(&state, &token) {
        Ok(claim) => claim,
        Err(page) => return *page,
    };
    let action = match claim.action {
        LinkAction::Acknowledge => Action::Acknowledge {
            by: claim.who.clone(),
            note: None,
        },
        LinkAction::ResidentOk => Action::ResidentOk,
    };
    let (reply, answer) = oneshot::channel();
    if state
        .commands
        .send(Command {
            case_id: claim.case_id,
            action,
            reply,
        })
        .await
        .is_err()
    {
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "The service is restarting.",
        );
    }
    match answer.await {
        Ok(Ok(ActionOutcome::Done(case))) => {
            let by = case
                .acknowledged
                .as_ref()
                .map(|a| a.by.as_str())
                .unwrap_or_default();
            let text = match claim.action {
                LinkAction::Acknowledge if by == claim.who => {
                    format!(
                        "Thank you, {}. Everyone told knows you are going.",
                        claim.who
                    )
                }
                LinkAction::Acknowledge => {
                    format!("{by} had already said they are going; nothing changed.")
                }
                LinkAction::ResidentOk => "Thank you. Nobody else will be called.".to_string(),
            };
            page(StatusCode::OK, &format!("Case {}", claim.case_id), &text)
        }
        Ok(Ok(ActionOutcome::Unchanged(case))) => {
            let text = match &case.acknowledged {
                Some(ack) => format!(
                    "{} already said they are going at {} UTC; nothing changed.",
                    ack.by,
                    ack.at.format("%H:%M")
                ),
                None => "Nothing changed.".to_string(),
            };
            page(StatusCode::OK, &format!("Case {}", claim.case_id), &text)
        }
        Ok(Ok(ActionOutcome::AlreadyClosed(_))) => page(
            StatusCode::OK,
            &format!("Case {}", claim.case_id),
            "This case is already closed; nothing changed.",
        ),
        Ok(Ok(ActionOutcome::NoSuchCase)) => {
            page(StatusCode::NOT_FOUND, "Not found", "No such case.")
        }
        _ => page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "The service could not record it.",
        ),
    }
}

fn page(status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        Html(layout(title, &format!("<p>{}</p>", escape(text)))),
    )
        .into_response()
}

fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:30em;margin:2em auto;padding:0 1em\">\
         <h1 style=\"font-size:1.3em\">{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AwayBody {
    /// When the household is expected back (RFC 3339).
    until: String,
    reason: String,
    /// Who says so (default: the caller).
    #[serde(default)]
    by: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceBody {
    #[serde(default)]
    household: Option<String>,
    #[serde(default)]
    grid: Option<String>,
    #[serde(default)]
    kind: Option<waterwatch_rules::Kind>,
    until: String,
    reason: String,
    #[serde(default)]
    by: Option<String>,
}

/// Away mode is for those who look after the household, not its family.
async fn may_set_away(
    state: &AppState,
    who: &Identity,
    headers: &axum::http::HeaderMap,
    household: &str,
) -> Result<(), Box<Response>> {
    who.check_api_csrf(headers)?;
    crate::web::api::visible(state, who, household).await?;
    if who.role == crate::web::auth::Role::Family {
        return Err(Box::new(api_error(
            StatusCode::FORBIDDEN,
            "not permitted for this user",
        )));
    }
    Ok(())
}

async fn away_start(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    Path(household): Path<String>,
    body: JsonBody<AwayBody>,
) -> Response {
    if let Err(r) = may_set_away(&state, &who, &headers, &household).await {
        return *r;
    }
    let body = match body {
        Ok(Json(body)) => body,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let created_by = match who_is(body.by, &who) {
        Ok(by) => by,
        Err(r) => return *r,
    };
    crate::web::audit(
        &state,
        &who,
        "away",
        &format!("household/{household}"),
        &body.until,
    )
    .await;
    let suppression = Suppression {
        id: None,
        away: true,
        household: Some(household),
        grid: None,
        kind: None,
        starts: state.clock.now(),
        ends: match parse_until(&body.until) {
            Ok(t) => t,
            Err(response) => return *response,
        },
        reason: body.reason,
        created_by,
    };
    store_suppression(&state, suppression).await
}

async fn silence_start(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    body: JsonBody<SilenceBody>,
) -> Response {
    if let Err(r) = who.check_api_csrf(&headers) {
        return *r;
    }
    if !who.is_ops() {
        return api_error(StatusCode::FORBIDDEN, "silences are for ops and admins");
    }
    let body = match body {
        Ok(Json(body)) => body,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, &e.body_text()),
    };
    let created_by = match who_is(body.by, &who) {
        Ok(by) => by,
        Err(r) => return *r,
    };
    crate::web::audit(&state, &who, "silence", "silences", &body.until).await;
    let suppression = Suppression {
        id: None,
        away: false,
        household: body.household,
        grid: body.grid,
        kind: body.kind,
        starts: state.clock.now(),
        ends: match parse_until(&body.until) {
            Ok(t) => t,
            Err(response) => return *response,
        },
        reason: body.reason,
        created_by,
    };
    store_suppression(&state, suppression).await
}

fn parse_until(text: &str) -> Result<chrono::DateTime<chrono::Utc>, Box<Response>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| {
            Box::new(api_error(
                StatusCode::BAD_REQUEST,
                &format!("until: `{text}` is not an RFC 3339 time with an offset: {e}"),
            ))
        })
}

async fn store_suppression(state: &AppState, suppression: Suppression) -> Response {
    let now = state.clock.now();
    let problems = suppression.problems(now);
    if !problems.is_empty() {
        let text: Vec<_> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        return api_error(StatusCode::BAD_REQUEST, &text.join("; "));
    }
    let result = async {
        let mut conn = state.store.pool().acquire().await?;
        store::suppressions::insert(&mut conn, &suppression, now).await
    }
    .await;
    match result {
        Ok(id) => {
            tracing::info!(suppression = id, away = suppression.away, until = %suppression.ends, "suppression set: {}", suppression.reason);
            (
                StatusCode::CREATED,
                Json(serde_json::json!({ "id": id, "suppression": suppression })),
            )
                .into_response()
        }
        Err(e) => database_unavailable("cannot store a suppression", &e),
    }
}

async fn away_end(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    Path(household): Path<String>,
) -> Response {
    if let Err(r) = may_set_away(&state, &who, &headers, &household).await {
        return *r;
    }
    crate::web::audit(
        &state,
        &who,
        "back_home",
        &format!("household/{household}"),
        "",
    )
    .await;
    let now = state.clock.now();
    let result = async {
        let mut conn = state.store.pool().acquire().await?;
        store::suppressions::end_away(&mut conn, &household, now).await
    }
    .await;
    match result {
        Ok(0) => api_error(StatusCode::NOT_FOUND, "the household is not away"),
        Ok(_) => Json(serde_json::json!({ "household": household, "away": false })).into_response(),
        Err(e) => database_unavailable("cannot end away mode", &e),
    }
}

async fn silences(State(state): State<AppState>, who: Identity) -> Response {
    let now = state.clock.now();
    let result = async {
        let mut conn = state.store.pool().acquire().await?;
        store::suppressions::current(&mut conn, now).await
    }
    .await;
    match result {
        Ok(list) => {
            let households = match store::dashboard::households(state.store.pool()).await {
                Ok(h) => h,
                Err(e) => return database_unavailable("cannot list households", &e),
            };
            // Away modes of households beyond the caller's reach stay hidden.
            let visible: Vec<_> = list
                .into_iter()
                .filter(|s| match &s.household {
                    Some(id) => households.iter().any(|h| &h.id == id && who.sees(h)),
                    None => true,
                })
                .collect();
            Json(serde_json::json!({ "suppressions": visible })).into_response()
        }
        Err(e) => database_unavailable("cannot list suppressions", &e),
    }
}
