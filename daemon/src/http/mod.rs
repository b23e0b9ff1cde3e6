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

mod links;
mod suppressions;

use links::{link_page, link_use};
use suppressions::{away_end, away_start, silence_start, silences};

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

pub type JsonBody<T> = Result<Json<Object<T>>, axum::extract::rejection::JsonRejection>;

/// A JSON object read as `T`. serde would read a struct from an array too
/// (`[]` acknowledged a case with every default): a body must be an object,
/// and no text in it longer than [`MAX_TEXT_CHARS`] (a 300 kB name went
/// into the audit trail and the messages).
pub struct Object<T>(pub T);

/// The longest text a request may carry in one field (a note's limit).
pub const MAX_TEXT_CHARS: usize = 2000;

/// The longest name of a person (`by`).
const MAX_NAME_CHARS: usize = 100;

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let map = serde_json::Map::deserialize(d)?;
        let long = |v: &serde_json::Value| {
            v.as_str()
                .is_some_and(|s| s.chars().count() > MAX_TEXT_CHARS)
        };
        if let Some((key, _)) = map.iter().find(|(_, v)| long(v)) {
            return Err(D::Error::custom(format!(
                "{key}: longer than {MAX_TEXT_CHARS} characters"
            )));
        }
        serde_path_to_error::deserialize(serde_json::Value::Object(map))
            .map(Object)
            .map_err(D::Error::custom)
    }
}

/// A request refused, with the response that says why: handlers return
/// `Result<Response, Refusal>` and refuse with `?`.
pub struct Refusal(Box<Response>);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        *self.0
    }
}

impl From<Box<Response>> for Refusal {
    fn from(response: Box<Response>) -> Refusal {
        Refusal(response)
    }
}

impl From<Response> for Refusal {
    fn from(response: Response) -> Refusal {
        Refusal(Box::new(response))
    }
}

/// The request's JSON body, or a 400 that says what is wrong with it.
pub fn json_body<T>(body: JsonBody<T>) -> Result<T, Refusal> {
    body.map(|Json(Object(body))| body)
        .map_err(|e| api_error(StatusCode::BAD_REQUEST, &e.body_text()).into())
}

/// `by` as given, else the caller; never blank.
fn who_is(by: Option<String>, who: &Identity) -> Result<String, Box<Response>> {
    match by {
        Some(by) if by.trim().is_empty() => Err(Box::new(api_error(
            StatusCode::BAD_REQUEST,
            "`by` must name a person",
        ))),
        Some(by) if by.trim().chars().count() > MAX_NAME_CHARS => Err(Box::new(api_error(
            StatusCode::BAD_REQUEST,
            &format!("`by`: a name of at most {MAX_NAME_CHARS} characters"),
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
) -> Result<Response, Refusal> {
    may_act(&state, &who, &headers, id).await?;
    let body = json_body(body)?;
    let by = who_is(body.by, &who)?;
    crate::web::audit(&state, &who, "acknowledge", &format!("case/{id}"), &by).await;
    let action = Action::Acknowledge {
        by,
        note: body.note,
    };
    Ok(act(&state, id, action).await)
}

async fn close(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    body: JsonBody<CloseBody>,
) -> Result<Response, Refusal> {
    may_act(&state, &who, &headers, id).await?;
    let body = json_body(body)?;
    if body.reason == Reason::AllClear {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "all_clear is set by the system when water resumes; choose fine, away, hospital, \
             late_riser, leak, emergency, false_alarm or other",
        )
        .into());
    }
    let by = who_is(body.by, &who)?;
    crate::web::audit(
        &state,
        &who,
        "close",
        &format!("case/{id}"),
        body.reason.as_str(),
    )
    .await;
    let action = Action::Close {
        by,
        reason: body.reason,
        note: body.note,
    };
    Ok(act(&state, id, action).await)
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
