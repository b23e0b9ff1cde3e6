//! `/api/v1/households…`: every household with its state, one household
//! with its thresholds, cases and consent, its hourly use, and the changes
//! to it (family's view of use, consent withdrawn or given again).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::Deserialize;

use super::{may_change_household, visible};
use crate::http::{AppState, JsonBody, Refusal, api_error, database_unavailable, json_body};
use crate::store::StoreError;
use crate::store::access::{self, Consent};
use crate::store::{dashboard, replaced};
use crate::web::auth::{Identity, Role};
use crate::web::pages::{status_of, visible_statuses};
use crate::web::{audit, view};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/households", get(households))
        .route("/api/v1/households/{id}", get(household))
        .route("/api/v1/households/{id}/usage", get(usage))
        .route(
            "/api/v1/households/{id}/consent",
            get(consent).put(set_consent),
        )
        .route("/api/v1/households/{id}/monitoring", put(set_monitoring))
}

async fn households(State(state): State<AppState>, who: Identity) -> Response {
    match visible_statuses(&state, &who).await {
        Ok(list) => Json(serde_json::json!({ "households": list })).into_response(),
        Err(e) => database_unavailable("cannot list households", &e),
    }
}

async fn household(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Response {
    let h = match visible(&state, &who, &id).await {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let result = async {
        let pool = state.store.pool();
        let status = status_of(&state, &who, &h.id).await?;
        let meters = dashboard::meters_with_state(pool, Some(&h.id)).await?;
        let rules = state.web.rules.borrow().clone();
        let first = meters.iter().find_map(view::meter_state);
        let offset = status.as_ref().map(|s| s.utc_offset_s).unwrap_or(0);
        let thresholds = view::thresholds(
            &rules,
            &h.id,
            first.as_ref(),
            offset,
            state.clock.now().timestamp_millis(),
            who.language,
        );
        let cases = dashboard::cases(pool, 0, Some(&h.id)).await?;
        let consent = access::consent(pool, &h.id).await?;
        Ok::<_, StoreError>(serde_json::json!({
            "household": h,
            "status": status,
            "thresholds": thresholds,
            "meters": meters,
            "cases": cases,
            "consent": consent,
        }))
    }
    .await;
    match result {
        Ok(body) => {
            audit(&state, &who, "view", &format!("household/{id}"), "api").await;
            Json(body).into_response()
        }
        Err(e) => database_unavailable("cannot read a household", &e),
    }
}

async fn usage(State(state): State<AppState>, who: Identity, Path(id): Path<String>) -> Response {
    let h = match visible(&state, &who, &id).await {
        Ok(h) => h,
        Err(r) => return *r,
    };
    let pool = state.store.pool();
    let now = state.clock.now().timestamp_millis();
    let result = async {
        if who.role == Role::Family {
            let consent = access::consent(pool, &h.id).await?;
            if !consent.is_some_and(|c| c.family_sees_usage) {
                return Ok(None);
            }
        }
        let meters = dashboard::meters(pool, Some(&h.id)).await?;
        let replaced = replaced::of_household(pool, &h.id).await?;
        let samples = dashboard::history(pool, &meters, &replaced, now - 35 * 86_400_000).await?;
        Ok::<_, StoreError>(Some(view::usage_series(&samples, now, 7, 28)))
    }
    .await;
    match result {
        Ok(Some(series)) => {
            audit(
                &state,
                &who,
                "view",
                &format!("household/{id}/usage"),
                "api",
            )
            .await;
            Json(serde_json::json!({
                "household": h.id,
                "start_ms": series.start_ms,
                "utc_offset_s": series.utc_offset_s,
                "hourly_litres": series.hours,
                "usual_band": series.band.iter().map(|b| b.map(|(low, high)| [low, high])).collect::<Vec<_>>(),
            }))
            .into_response()
        }
        Ok(None) => api_error(
            StatusCode::FORBIDDEN,
            "the resident has not consented to family seeing water use",
        ),
        Err(e) => database_unavailable("cannot read usage", &e),
    }
}

async fn consent(State(state): State<AppState>, who: Identity, Path(id): Path<String>) -> Response {
    if let Err(r) = visible(&state, &who, &id).await {
        return *r;
    }
    match access::consent(state.store.pool(), &id).await {
        Ok(c) => Json(serde_json::json!({ "household": id, "consent": c })).into_response(),
        Err(e) => database_unavailable("cannot read consent", &e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentBody {
    family_sees_usage: bool,
    #[serde(default)]
    note: String,
}

async fn set_consent(
    State(state): State<AppState>,
    who: Identity,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<ConsentBody>,
) -> Result<Response, Refusal> {
    may_change_household(&state, &who, &headers, &id).await?;
    let body = json_body(body)?;
    let consent = Consent {
        family_sees_usage: body.family_sees_usage,
        recorded_by: who.name.clone(),
        recorded_ms: state.clock.now().timestamp_millis(),
        note: body.note,
    };
    Ok(
        match access::set_consent(state.store.pool(), &id, &consent).await {
            Ok(()) => {
                audit(
                    &state,
                    &who,
                    "consent",
                    &format!("household/{id}"),
                    &format!("family_sees_usage={}", consent.family_sees_usage),
                )
                .await;
                Json(serde_json::json!({ "household": id, "consent": consent })).into_response()
            }
            Err(e) => database_unavailable("cannot store consent", &e),
        },
    )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MonitoringBody {
    /// `false`: the resident withdrew consent — purge everything about the
    /// household and stop hearing its meters; `true`: consent given again.
    monitoring: bool,
    /// The household's id again, to withdraw (a purge cannot be undone).
    #[serde(default)]
    confirm: Option<String>,
}

async fn set_monitoring(
    State(state): State<AppState>,
    who: Identity,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: JsonBody<MonitoringBody>,
) -> Result<Response, Refusal> {
    may_change_household(&state, &who, &headers, &id).await?;
    let body = json_body(body)?;
    if !body.monitoring && body.confirm.as_deref() != Some(id.as_str()) {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            "withdrawing consent deletes all of the household's data for good: \
             send \"confirm\" with the household's id",
        )
        .into());
    }
    let (reply, answer) = tokio::sync::oneshot::channel();
    let command = crate::process::ConsentCommand {
        household: id.clone(),
        monitoring: body.monitoring,
        reply,
    };
    if state.consents.send(command).await.is_err() {
        return Err(api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the daemon is shutting down",
        )
        .into());
    }
    Ok(match answer.await {
        Ok(Ok(Some(purged))) => {
            let action = if body.monitoring {
                "consent_given"
            } else {
                "consent_withdrawn"
            };
            audit(&state, &who, action, &format!("household/{id}"), "").await;
            Json(serde_json::json!({
                "household": id,
                "monitoring": body.monitoring,
                "purged": purged,
            }))
            .into_response()
        }
        Ok(Ok(None)) => api_error(StatusCode::NOT_FOUND, "no such household"),
        Ok(Err(e)) => {
            tracing::error!(error = %e, household = %id, "consent could not be recorded");
            api_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is not answering; try again",
            )
        }
        Err(_) => api_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the daemon is shutting down",
        ),
    })
}
