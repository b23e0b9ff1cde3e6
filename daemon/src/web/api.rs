//! The `/api/v1` JSON beyond cases: households with their state, usage and
//! consent (`api/households.rs`), meters, one case with its trail, rules with
//! their weekly record, the audit log, the caller, and the OpenAPI document
//! describing it all.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Datelike;
use serde::Deserialize;

use super::auth::{Identity, Role};
use super::{OutOfReach, audit, case_in_reach, household_in_reach, view};
use crate::http::{
    AppState, JsonBody, MAX_TEXT_CHARS, Refusal, api_error, database_unavailable, json_body,
};
use crate::store::access;
use crate::store::dashboard::{self, Household};
use crate::store::{self, StoreError};

mod households;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/meters", get(meters))
        .route("/api/v1/cases/{id}", get(case))
        .route("/api/v1/cases/{id}/notes", post(add_note))
        .route("/api/v1/rules", get(rules))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/openapi.json", get(openapi))
        .merge(households::routes())
}

fn forbidden() -> Response {
    api_error(StatusCode::FORBIDDEN, "not permitted for this user")
}

/// The JSON answer saying why something is out of the caller's reach.
fn out_of_reach(why: OutOfReach) -> Box<Response> {
    Box::new(match why {
        OutOfReach::Forbidden => forbidden(),
        OutOfReach::NotFound(what) => api_error(StatusCode::NOT_FOUND, &format!("no such {what}")),
        OutOfReach::Unavailable(e) => database_unavailable("cannot read a household or case", &e),
    })
}

/// The household if the caller may see it; else 404 or 403.
pub async fn visible(
    state: &AppState,
    who: &Identity,
    id: &str,
) -> Result<Household, Box<Response>> {
    household_in_reach(state, who, id)
        .await
        .map_err(out_of_reach)
}

/// The case's household if the caller may see it; else 404 or 403.
pub async fn visible_case(
    state: &AppState,
    who: &Identity,
    id: i64,
) -> Result<Household, Box<Response>> {
    case_in_reach(state, who, id).await.map_err(out_of_reach)
}

/// The checks a change to a household makes (away mode, consent): the CSRF
/// header for sessions, the household within reach, and not by family.
pub async fn may_change_household(
    state: &AppState,
    who: &Identity,
    headers: &HeaderMap,
    id: &str,
) -> Result<(), Box<Response>> {
    who.check_api_csrf(headers)?;
    visible(state, who, id).await?;
    if who.role == Role::Family {
        return Err(Box::new(forbidden()));
    }
    Ok(())
}

async fn me(who: Identity) -> Response {
    Json(serde_json::json!({
        "name": who.name,
        "role": who.role,
        "scope": who.scope,
        "language": who.language,
        "csrf_token": who.csrf,
    }))
    .into_response()
}

async fn meters(State(state): State<AppState>, who: Identity) -> Response {
    if !who.is_ops() {
        return forbidden();
    }
    let pool = state.store.pool();
    let result = async {
        Ok::<_, StoreError>((
            dashboard::meters_with_state(pool, None).await?,
            dashboard::rejected_by_reason(pool).await?,
        ))
    }
    .await;
    let rules = state.web.rules.borrow().clone();
    match result {
        Ok((meters, rejected)) => {
            let list: Vec<_> = meters
                .iter()
                .map(|m| {
                    let st = view::meter_state(m);
                    serde_json::json!({
                        "meter": m,
                        "baseline": st.as_ref().map(|s| serde_json::json!({
                            "days_seen": s.baseline().days(),
                            "learning": s.baseline().learning(&rules.baseline),
                        })),
                        "active_alerts": st.as_ref().map(|s| s.active_alerts().iter().map(|a| a.kind).collect::<Vec<_>>()).unwrap_or_default(),
                    })
                })
                .collect();
            let rejected: BTreeMap<_, _> = rejected.into_iter().collect();
            Json(serde_json::json!({ "meters": list, "rejected_by_reason": rejected }))
                .into_response()
        }
        Err(e) => database_unavailable("cannot list meters", &e),
    }
}

async fn case(State(state): State<AppState>, who: Identity, Path(id): Path<i64>) -> Response {
    if let Err(r) = visible_case(&state, &who, id).await {
        return *r;
    }
    let pool = state.store.pool();
    let result = async {
        let mut conn = pool.acquire().await?;
        let case = store::cases::by_id(&mut conn, id).await?;
        let events = dashboard::case_events(pool, id).await?;
        Ok::<_, StoreError>((case, events))
    }
    .await;
    match result {
        Ok((Some(case), events)) => {
            audit(&state, &who, "view", &format!("case/{id}"), "api").await;
            Json(serde_json::json!({ "case": case, "events": events })).into_response()
        }
        Ok((None, _)) => api_error(StatusCode::NOT_FOUND, "no such case"),
        Err(e) => database_unavailable("cannot read a case", &e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoteBody {
    text: String,
}

async fn add_note(
    State(state): State<AppState>,
    who: Identity,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: JsonBody<NoteBody>,
) -> Result<Response, Refusal> {
    who.check_api_csrf(&headers)?;
    visible_case(&state, &who, id).await?;
    let text = json_body(body)?.text.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return Err(api_error(
            StatusCode::BAD_REQUEST,
            &format!("text: 1 to {MAX_TEXT_CHARS} characters"),
        )
        .into());
    }
    let result =
        store::cases::add_note(state.store.pool(), id, state.clock.now(), &who.name, &text).await;
    Ok(match result {
        Ok(()) => {
            audit(&state, &who, "note", &format!("case/{id}"), "api").await;
            (
                StatusCode::CREATED,
                Json(serde_json::json!({ "case": id, "note": text })),
            )
                .into_response()
        }
        Err(e) => database_unavailable("cannot store a note", &e),
    })
}

/// Alerts of one rule in one ISO week, and how their cases were closed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleWeek {
    pub rule: String,
    /// `2026-W47`.
    pub week: String,
    pub fired: usize,
    pub false_alarms: usize,
    /// `fine 3, false_alarm 1, open 1`.
    pub reasons: String,
}

/// The last `weeks` weeks of alerts per rule, newest week first.
pub async fn rule_weeks(
    state: &AppState,
    now_ms: i64,
    weeks: i64,
) -> Result<Vec<RuleWeek>, StoreError> {
    let since = now_ms - weeks * 7 * 86_400_000;
    let outcomes = dashboard::alert_outcomes(state.store.pool(), since).await?;
    Ok(summarise_weeks(&outcomes))
}

fn summarise_weeks(outcomes: &[dashboard::AlertOutcome]) -> Vec<RuleWeek> {
    let mut groups: BTreeMap<(String, String), BTreeMap<String, usize>> = BTreeMap::new();
    for o in outcomes {
        let date = chrono::DateTime::from_timestamp_millis(o.fired_ms).unwrap_or_default();
        let iso = date.iso_week();
        let week = format!("{}-W{:02}", iso.year(), iso.week());
        let reason = o.resolution.clone().unwrap_or_else(|| "open".into());
        *groups
            .entry((week, o.rule.clone()))
            .or_default()
            .entry(reason)
            .or_default() += 1;
    }
    let mut out: Vec<RuleWeek> = groups
        .into_iter()
        .map(|((week, rule), reasons)| RuleWeek {
            fired: reasons.values().sum(),
            false_alarms: reasons.get("false_alarm").copied().unwrap_or(0),
            reasons: reasons
                .iter()
                .map(|(r, n)| format!("{r} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            rule,
            week,
        })
        .collect();
    out.sort_by(|a, b| b.week.cmp(&a.week).then(a.rule.cmp(&b.rule)));
    out
}

async fn rules(State(state): State<AppState>, who: Identity) -> Response {
    if !who.is_ops() {
        return forbidden();
    }
    let report = state.web.rules_status.report();
    let rules = state.web.rules.borrow().clone();
    let now = state.clock.now().timestamp_millis();
    match rule_weeks(&state, now, 8).await {
        Ok(weeks) => Json(serde_json::json!({
            "path": report.path,
            "loaded_ms": report.loaded_ms,
            "refused": report.refused,
            "refused_ms": report.refused_ms,
            "rules": rules.rules.iter().map(|r| serde_json::json!({
                "name": r.name,
                "kind": r.detector.kind(),
                "severity": r.severity,
                "enabled": r.enabled,
                "route": r.route,
            })).collect::<Vec<_>>(),
            "weeks": weeks,
        }))
        .into_response(),
        Err(e) => database_unavailable("cannot count alerts per rule", &e),
    }
}

async fn audit_log(State(state): State<AppState>, who: Identity) -> Response {
    if who.role != Role::Admin {
        return forbidden();
    }
    match access::audit_log(state.store.pool(), 500).await {
        Ok(entries) => Json(serde_json::json!({ "entries": entries })).into_response(),
        Err(e) => database_unavailable("cannot read the audit log", &e),
    }
}

/// The OpenAPI document, written by hand beside the routes it describes.
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_count_alerts_and_false_alarms_per_rule() {
        let at = |day: i64| 1_764_000_000_000 + day * 86_400_000;
        let o = |rule: &str, day, resolution: Option<&str>| dashboard::AlertOutcome {
            rule: rule.into(),
            fired_ms: at(day),
            resolution: resolution.map(Into::into),
        };
        let weeks = summarise_weeks(&[
            o("inactivity", 0, Some("fine")),
            o("inactivity", 0, Some("false_alarm")),
            o("inactivity", 0, None),
            o("burst", 0, Some("leak")),
            o("inactivity", 8, Some("false_alarm")),
        ]);
        assert_eq!(weeks.len(), 3);
        assert!(weeks[0].week > weeks[1].week);
        let first = weeks
            .iter()
            .find(|w| w.rule == "inactivity" && w.fired == 3)
            .unwrap();
        assert_eq!(first.false_alarms, 1);
        assert_eq!(first.reasons, "false_alarm 1, fine 1, open 1");
    }

    #[test]
    fn the_openapi_document_is_json_and_names_every_api_route() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        for route in [
            "/api/v1/me",
            "/api/v1/households",
            "/api/v1/households/{id}",
            "/api/v1/households/{id}/usage",
            "/api/v1/households/{id}/consent",
            "/api/v1/households/{id}/monitoring",
            "/api/v1/households/{id}/away",
            "/api/v1/meters",
            "/api/v1/cases",
            "/api/v1/cases/{id}",
            "/api/v1/cases/{id}/ack",
            "/api/v1/cases/{id}/close",
            "/api/v1/cases/{id}/resident-ok",
            "/api/v1/cases/{id}/notes",
            "/api/v1/silences",
            "/api/v1/rules",
            "/api/v1/audit",
        ] {
            assert!(
                paths.contains_key(route),
                "{route} is not in the OpenAPI document"
            );
        }
    }
}
