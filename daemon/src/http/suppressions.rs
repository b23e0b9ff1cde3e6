//! Away mode and silences over the API: start, end, list.

use super::*;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AwayBody {
    /// When the household is expected back (RFC 3339).
    until: String,
    reason: String,
    /// Who says so (default: the caller).
    #[serde(default)]
    by: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SilenceBody {
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

pub(super) async fn away_start(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    Path(household): Path<String>,
    body: JsonBody<AwayBody>,
) -> Result<Response, Refusal> {
    crate::web::api::may_change_household(&state, &who, &headers, &household).await?;
    let body = json_body(body)?;
    let created_by = who_is(body.by, &who)?;
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
        ends: parse_until(&body.until)?,
        reason: body.reason,
        created_by,
    };
    Ok(store_suppression(&state, suppression).await)
}

pub(super) async fn silence_start(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    body: JsonBody<SilenceBody>,
) -> Result<Response, Refusal> {
    who.check_api_csrf(&headers)?;
    if !who.is_ops() {
        return Err(api_error(StatusCode::FORBIDDEN, "silences are for ops and admins").into());
    }
    let body = json_body(body)?;
    let created_by = who_is(body.by, &who)?;
    crate::web::audit(&state, &who, "silence", "silences", &body.until).await;
    let suppression = Suppression {
        id: None,
        away: false,
        household: body.household,
        grid: body.grid,
        kind: body.kind,
        starts: state.clock.now(),
        ends: parse_until(&body.until)?,
        reason: body.reason,
        created_by,
    };
    Ok(store_suppression(&state, suppression).await)
}

pub(super) fn parse_until(text: &str) -> Result<chrono::DateTime<chrono::Utc>, Box<Response>> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| {
            Box::new(api_error(
                StatusCode::BAD_REQUEST,
                &format!("until: `{text}` is not an RFC 3339 time with an offset: {e}"),
            ))
        })
}

pub(super) async fn store_suppression(state: &AppState, suppression: Suppression) -> Response {
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

pub(super) async fn away_end(
    State(state): State<AppState>,
    who: Identity,
    headers: axum::http::HeaderMap,
    Path(household): Path<String>,
) -> Response {
    if let Err(r) = crate::web::api::may_change_household(&state, &who, &headers, &household).await
    {
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

pub(super) async fn silences(State(state): State<AppState>, who: Identity) -> Response {
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
