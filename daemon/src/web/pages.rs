//! The dashboard's pages: overview, cases, one case, one household, meters
//! and rules; login and logout; the forms behind their buttons.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router, routing::get, routing::post};
use serde::Deserialize;
use waterwatch_rules::Language;

use super::auth::{self, Identity, Login, Role, Via};
use super::i18n::{self, Texts};
use super::view::{self, State as HState, Status, local_time};
use super::{audit, html};
use crate::case::Reason;
use crate::http::{ActionError, AppState, send_action};
use crate::process::{Action, ActionOutcome};
use crate::store::access::{self, Consent};
use crate::store::dashboard::{self, CaseRow, Household};
use crate::store::{self, StoreError};
use crate::suppress::Suppression;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/cases", get(cases_page))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/ack", post(case_ack))
        .route("/cases/{id}/close", post(case_close))
        .route("/cases/{id}/note", post(case_note))
        .route("/households/{id}", get(household_page))
        .route("/households/{id}/away", post(household_away))
        .route("/households/{id}/back", post(household_back))
        .route("/households/{id}/consent", post(household_consent))
        .route("/meters", get(meters_page))
        .route("/rules", get(rules_page))
        .route("/events", get(super::live::events))
        .route("/assets/style.css", get(super::style))
        .route("/assets/live.js", get(super::script))
}

/// What every page's frame shows.
pub struct Chrome {
    pub t: &'static Texts,
    pub title: String,
    pub section: &'static str,
    pub user: String,
    pub csrf: String,
    pub ops: bool,
    pub live: bool,
    pub can_log_out: bool,
}

impl Chrome {
    fn new(who: &Identity, title: impl Into<String>, section: &'static str) -> Chrome {
        Chrome {
            t: i18n::texts(who.language),
            title: title.into(),
            section,
            user: who.name.clone(),
            csrf: who.csrf.clone(),
            ops: who.is_ops(),
            live: false,
            can_log_out: who.via == Via::Session,
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    chrome: Chrome,
    message: String,
}

/// A page that only says something (not found, not allowed, try again).
fn message(who: &Identity, status: StatusCode, text: &str) -> Response {
    let t = i18n::texts(who.language);
    let title = match status {
        StatusCode::NOT_FOUND => t.not_found,
        StatusCode::FORBIDDEN => t.forbidden,
        _ => "waterwatch",
    };
    let page = MessagePage {
        chrome: Chrome::new(who, title, ""),
        message: text.to_owned(),
    };
    html(status, page.render())
}

fn unavailable(who: &Identity, doing: &str, e: &StoreError) -> Response {
    tracing::error!(error = %e, "{doing}");
    message(
        who,
        StatusCode::SERVICE_UNAVAILABLE,
        "The database is not answering; try again.",
    )
}

/// The household if the caller may see it; else the page saying why not.
async fn visible_household(
    state: &AppState,
    who: &Identity,
    id: &str,
) -> Result<Household, Box<Response>> {
    match dashboard::household(state.store.pool(), id).await {
        Ok(Some(h)) if who.sees(&h) => Ok(h),
        Ok(Some(_)) => Err(Box::new(message(
            who,
            StatusCode::FORBIDDEN,
            i18n::texts(who.language).forbidden,
        ))),
        Ok(None) => Err(Box::new(message(
            who,
            StatusCode::NOT_FOUND,
            i18n::texts(who.language).not_found,
        ))),
        Err(e) => Err(Box::new(unavailable(who, "cannot read a household", &e))),
    }
}

/// The household of a case if the caller may see it.
async fn visible_case(
    state: &AppState,
    who: &Identity,
    id: i64,
) -> Result<Household, Box<Response>> {
    match dashboard::case_household(state.store.pool(), id).await {
        Ok(Some(household)) => visible_household(state, who, &household).await,
        Ok(None) => Err(Box::new(message(
            who,
            StatusCode::NOT_FOUND,
            i18n::texts(who.language).not_found,
        ))),
        Err(e) => Err(Box::new(unavailable(who, "cannot read a case", &e))),
    }
}

/// A form on a case: its CSRF token checked and the case within reach.
async fn case_form(
    state: &AppState,
    who: &Identity,
    id: i64,
    csrf: &str,
) -> Result<Household, Box<Response>> {
    if !who.csrf_ok(csrf) {
        return Err(Box::new(bad_csrf(who)));
    }
    visible_case(state, who, id).await
}

/// A form that changes a household (away mode, consent): its CSRF token
/// checked, the household within reach, and not by family.
async fn household_form(
    state: &AppState,
    who: &Identity,
    id: &str,
    csrf: &str,
) -> Result<Household, Box<Response>> {
    if !who.csrf_ok(csrf) {
        return Err(Box::new(bad_csrf(who)));
    }
    let household = visible_household(state, who, id).await?;
    if who.role == Role::Family {
        return Err(Box::new(forbidden(who)));
    }
    Ok(household)
}

fn forbidden(who: &Identity) -> Response {
    message(
        who,
        StatusCode::FORBIDDEN,
        i18n::texts(who.language).forbidden,
    )
}

fn bad_csrf(who: &Identity) -> Response {
    message(
        who,
        StatusCode::FORBIDDEN,
        "This form has expired. Go back, reload the page and try again.",
    )
}

fn display_name(h: &Household) -> String {
    match &h.name {
        Some(name) => format!("{name} ({})", h.id),
        None => h.id.clone(),
    }
}

// ---------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: &'static Texts,
    error: Option<String>,
    next: String,
}

#[derive(Deserialize)]
struct NextQuery {
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

async fn login_page(State(state): State<AppState>, Query(q): Query<NextQuery>) -> Response {
    let page = LoginPage {
        t: i18n::texts(state.web.language),
        error: None,
        next: safe_next(q.next.as_deref()),
    };
    html(StatusCode::OK, page.render())
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
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

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(
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

// ---------------------------------------------------------------- overview

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    counts: Vec<(&'static str, &'static str, usize)>,
    grids: Vec<String>,
    grid: String,
    rows: Vec<OverviewRow>,
}

struct OverviewRow {
    id: String,
    name: String,
    grid: Option<String>,
    state: &'static str,
    label: &'static str,
    detail: String,
    case_id: Option<i64>,
}

#[derive(Deserialize)]
struct GridQuery {
    #[serde(default)]
    grid: Option<String>,
}

/// Every household the caller may see, with its state.
pub async fn visible_statuses(state: &AppState, who: &Identity) -> Result<Vec<Status>, StoreError> {
    let pool = state.store.pool();
    let now = state.clock.now();
    let households: Vec<Household> = dashboard::households(pool)
        .await?
        .into_iter()
        .filter(|h| who.sees(h))
        .collect();
    let meters = dashboard::meters(pool).await?;
    let cases = dashboard::cases(pool, i64::MAX, None).await?;
    let suppressions = {
        let mut conn = pool.acquire().await?;
        store::suppressions::current(&mut conn, now).await?
    };
    let rules = state.web.rules.borrow().clone();
    Ok(view::statuses(&view::Facts {
        households: &households,
        meters: &meters,
        cases: &cases,
        suppressions: &suppressions,
        rules: &rules,
        now_ms: now.timestamp_millis(),
        lang: who.language,
    }))
}

async fn overview(
    State(state): State<AppState>,
    who: Identity,
    Query(q): Query<GridQuery>,
) -> Response {
    let statuses = match visible_statuses(&state, &who).await {
        Ok(s) => s,
        Err(e) => return unavailable(&who, "cannot build the overview", &e),
    };
    let t = i18n::texts(who.language);
    let grid = q.grid.unwrap_or_default();
    let grids: Vec<String> = statuses
        .iter()
        .filter_map(|s| s.household.grid.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let shown: Vec<&Status> = statuses
        .iter()
        .filter(|s| grid.is_empty() || s.household.grid.as_deref() == Some(grid.as_str()))
        .collect();
    let counts = HState::ALL
        .iter()
        .map(|st| {
            (
                st.as_str(),
                st.label(t),
                shown.iter().filter(|s| s.state == *st).count(),
            )
        })
        .collect();
    let rows = shown
        .iter()
        .map(|s| OverviewRow {
            id: s.household.id.clone(),
            name: display_name(&s.household),
            grid: s.household.grid.clone(),
            state: s.state.as_str(),
            label: s.state.label(t),
            detail: s.detail.clone(),
            case_id: s.case_id,
        })
        .collect();
    let mut chrome = Chrome::new(&who, t.overview, "overview");
    chrome.live = true;
    let page = OverviewPage {
        chrome,
        counts,
        grids,
        grid,
        rows,
    };
    html(StatusCode::OK, page.render())
}

// ---------------------------------------------------------------- cases

pub struct CaseLine {
    id: i64,
    household: String,
    household_id: String,
    state: &'static str,
    state_label: &'static str,
    kinds: String,
    severity: String,
    opened: String,
    elapsed: String,
    who: String,
    open: bool,
    acknowledged: bool,
}

fn case_line(
    c: &CaseRow,
    h: Option<&Household>,
    offset_s: i64,
    now_ms: i64,
    lang: Language,
) -> CaseLine {
    let t = i18n::texts(lang);
    let (state, state_label) = match (c.resolved_ms, c.acknowledged_ms) {
        (Some(_), _) => ("closed", t.closed),
        (None, Some(_)) => ("acknowledged", t.acknowledged),
        (None, None) => ("case_open", t.case_open),
    };
    let end = c.resolved_ms.unwrap_or(now_ms);
    let who = match (&c.acknowledged_by, &c.resolution) {
        (_, Some(reason)) => format!(
            "{}: {}{}",
            t.closed,
            i18n::reason(lang, reason),
            c.closed_by
                .as_ref()
                .map(|b| format!(" ({b})"))
                .unwrap_or_default()
        ),
        (Some(by), None) => format!("{}: {by}", t.im_going),
        _ => String::new(),
    };
    CaseLine {
        id: c.id,
        household: h.map(display_name).unwrap_or_else(|| c.household.clone()),
        household_id: c.household.clone(),
        state,
        state_label,
        kinds: c
            .kinds
            .iter()
            .map(|k| i18n::kind(lang, k))
            .collect::<Vec<_>>()
            .join(", "),
        severity: c.severity.clone(),
        opened: local_time(c.opened_ms, offset_s, "%m-%d %H:%M"),
        elapsed: i18n::duration(lang, end - c.opened_ms),
        who,
        open: c.resolved_ms.is_none(),
        acknowledged: c.acknowledged_ms.is_some(),
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    chrome: Chrome,
    open: Vec<CaseLine>,
    closed: Vec<CaseLine>,
}

/// The UTC offset of each household's newest reading.
async fn offsets(state: &AppState) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(dashboard::meters(state.store.pool())
        .await?
        .into_iter()
        .filter_map(|m| Some((m.household, m.utc_offset_s?)))
        .collect())
}

async fn cases_page(State(state): State<AppState>, who: Identity) -> Response {
    let pool = state.store.pool();
    let now = state.clock.now().timestamp_millis();
    let loaded = async {
        let households = dashboard::households(pool).await?;
        let cases = dashboard::cases(pool, now - 7 * 86_400_000, None).await?;
        Ok::<_, StoreError>((households, cases, offsets(&state).await?))
    }
    .await;
    let (households, cases, offsets) = match loaded {
        Ok(x) => x,
        Err(e) => return unavailable(&who, "cannot list cases", &e),
    };
    let mut open = Vec::new();
    let mut closed = Vec::new();
    for c in &cases {
        let Some(h) = households.iter().find(|h| h.id == c.household) else {
            continue;
        };
        if !who.sees(h) {
            continue;
        }
        let offset = offsets.get(&h.id).copied().unwrap_or(0);
        let line = case_line(c, Some(h), offset, now, who.language);
        if line.open {
            open.push(line);
        } else {
            closed.push(line);
        }
    }
    let mut chrome = Chrome::new(&who, i18n::texts(who.language).cases, "cases");
    chrome.live = true;
    html(
        StatusCode::OK,
        CasesPage {
            chrome,
            open,
            closed,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    case: CaseLine,
    alerts: Vec<(String, String)>,
    events: Vec<(String, String, String)>,
    reasons: Vec<(&'static str, &'static str)>,
}

async fn case_page(State(state): State<AppState>, who: Identity, Path(id): Path<i64>) -> Response {
    let household = match visible_case(&state, &who, id).await {
        Ok(h) => h,
        Err(page) => return *page,
    };
    let pool = state.store.pool();
    let now = state.clock.now().timestamp_millis();
    let loaded = async {
        let mut conn = pool.acquire().await?;
        let case = store::cases::by_id(&mut conn, id).await?;
        let row = dashboard::cases(pool, 0, Some(&household.id))
            .await?
            .into_iter()
            .find(|c| c.id == id);
        let events = dashboard::case_events(pool, id).await?;
        let offset = offsets(&state)
            .await?
            .get(&household.id)
            .copied()
            .unwrap_or(0);
        Ok::<_, StoreError>((case, row, events, offset))
    }
    .await;
    let (Some(case), Some(row), events, offset) = (match loaded {
        Ok(x) => x,
        Err(e) => return unavailable(&who, "cannot read a case", &e),
    }) else {
        return message(
            &who,
            StatusCode::NOT_FOUND,
            i18n::texts(who.language).not_found,
        );
    };
    audit(&state, &who, "view", &format!("case/{id}"), "").await;
    let lang = who.language;
    let t = i18n::texts(lang);
    let page = CasePage {
        chrome: Chrome::new(&who, format!("{} #{id}", t.case), "cases"),
        case: case_line(&row, Some(&household), offset, now, lang),
        alerts: case
            .alerts
            .iter()
            .map(|a| {
                (
                    i18n::kind(lang, a.kind.as_str()).to_owned(),
                    a.summary.clone(),
                )
            })
            .collect(),
        events: events
            .iter()
            .map(|e| {
                (
                    local_time(e.ts_ms, offset, "%m-%d %H:%M"),
                    e.kind.replace('_', " "),
                    e.detail.clone(),
                )
            })
            .collect(),
        reasons: crate::client::CLOSE_REASONS
            .iter()
            .map(|r| (*r, i18n::reason(lang, r)))
            .collect(),
    };
    html(StatusCode::OK, page.render())
}

/// After a form: back to the case page, or a page saying what went wrong.
fn after_action(who: &Identity, id: i64, result: Result<ActionOutcome, ActionError>) -> Response {
    match result {
        Ok(ActionOutcome::NoSuchCase) => message(
            who,
            StatusCode::NOT_FOUND,
            i18n::texts(who.language).not_found,
        ),
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) => message(who, StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

async fn case_ack(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(page) = case_form(&state, &who, id, &form.csrf).await {
        return *page;
    }
    let result = send_action(
        &state,
        id,
        Action::Acknowledge {
            by: who.name.clone(),
            note: None,
        },
    )
    .await;
    audit(&state, &who, "acknowledge", &format!("case/{id}"), "").await;
    after_action(&who, id, result)
}

#[derive(Deserialize)]
struct CloseForm {
    csrf: String,
    reason: String,
    #[serde(default)]
    note: String,
}

async fn case_close(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<i64>,
    Form(form): Form<CloseForm>,
) -> Response {
    if let Err(page) = case_form(&state, &who, id, &form.csrf).await {
        return *page;
    }
    let reason: Reason =
        match serde_json::from_value(serde_json::Value::String(form.reason.clone())) {
            Ok(r) if r != Reason::AllClear => r,
            _ => {
                return message(
                    &who,
                    StatusCode::BAD_REQUEST,
                    "Choose a reason from the list.",
                );
            }
        };
    let note = Some(form.note.trim().to_owned()).filter(|n| !n.is_empty());
    let result = send_action(
        &state,
        id,
        Action::Close {
            by: who.name.clone(),
            reason,
            note,
        },
    )
    .await;
    audit(&state, &who, "close", &format!("case/{id}"), &form.reason).await;
    after_action(&who, id, result)
}

#[derive(Deserialize)]
struct NoteForm {
    csrf: String,
    text: String,
}

async fn case_note(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> Response {
    if let Err(page) = case_form(&state, &who, id, &form.csrf).await {
        return *page;
    }
    let text = form.text.trim();
    if text.is_empty() || text.chars().count() > 2000 {
        return message(
            &who,
            StatusCode::BAD_REQUEST,
            "A note needs 1 to 2000 characters.",
        );
    }
    let written =
        store::cases::add_note(state.store.pool(), id, state.clock.now(), &who.name, text).await;
    if let Err(e) = written {
        return unavailable(&who, "cannot store a note", &e);
    }
    audit(&state, &who, "note", &format!("case/{id}"), "").await;
    Redirect::to(&format!("/cases/{id}")).into_response()
}

// ---------------------------------------------------------------- household

#[derive(Template)]
#[template(path = "household.html")]
struct HouseholdPage {
    chrome: Chrome,
    status: Status,
    first_water: Option<String>,
    chart: Option<String>,
    chart_note: String,
    thresholds: Vec<String>,
    cases: Vec<CaseLine>,
    meters: Vec<(String, String, String, String)>,
    contacts: Vec<String>,
    away: Option<String>,
    can_act: bool,
    consent: Option<(String, String, String, String)>,
    can_record_consent: bool,
}

async fn household_page(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
) -> Response {
    let household = match visible_household(&state, &who, &id).await {
        Ok(h) => h,
        Err(page) => return *page,
    };
    match household_view(&state, &who, &household).await {
        Ok(page) => {
            audit(&state, &who, "view", &format!("household/{id}"), "").await;
            html(StatusCode::OK, page.render())
        }
        Err(e) => unavailable(&who, "cannot build a household page", &e),
    }
}

async fn household_view(
    state: &AppState,
    who: &Identity,
    household: &Household,
) -> Result<HouseholdPage, StoreError> {
    let pool = state.store.pool();
    let now = state.clock.now().timestamp_millis();
    let lang = who.language;
    let t = i18n::texts(lang);
    let status = visible_statuses(state, who)
        .await?
        .into_iter()
        .find(|s| s.household.id == household.id);
    let Some(status) = status else {
        return Err(StoreError::Sql(sqlx::Error::RowNotFound));
    };
    let offset = status.utc_offset_s;
    let meters: Vec<_> = dashboard::meters(pool)
        .await?
        .into_iter()
        .filter(|m| m.household == household.id)
        .collect();
    let consent = access::consent(pool, &household.id).await?;
    let sees_usage =
        who.role != Role::Family || consent.as_ref().is_some_and(|c| c.family_sees_usage);
    let mut samples = Vec::new();
    for m in &meters {
        samples.push(dashboard::samples(pool, &m.id, now - 35 * 86_400_000).await?);
    }
    let series = view::usage_series(&samples, now, 7, 28);
    let has_data = series.hours.iter().any(Option::is_some);
    let (chart, chart_note) = match (sees_usage, has_data) {
        (false, _) => (None, t.usage_hidden.to_owned()),
        (true, false) => (None, t.chart_no_data.to_owned()),
        (true, true) => (Some(super::chart::usage_svg(&series, lang)), String::new()),
    };
    let rules = state.web.rules.borrow().clone();
    let first_state = meters.iter().find_map(view::meter_state);
    let thresholds = view::thresholds(
        &rules,
        &household.id,
        first_state.as_ref(),
        offset,
        now,
        lang,
    );
    let cases = dashboard::cases(pool, 0, Some(&household.id))
        .await?
        .iter()
        .take(20)
        .map(|c| case_line(c, Some(household), offset, now, lang))
        .collect();
    let meter_lines = meters
        .iter()
        .map(|m| {
            let days = view::meter_state(m)
                .map(|s| s.baseline().days().to_string())
                .unwrap_or_else(|| "0".into());
            (
                m.id.clone(),
                m.last_seen_ms
                    .map(|at| i18n::ago(lang, now - at))
                    .unwrap_or_else(|| t.never.into()),
                m.battery_pct
                    .map(|b| format!("{b:.0} %"))
                    .unwrap_or_else(|| "–".into()),
                days,
            )
        })
        .collect();
    let contacts = crate::notify::contacts::for_household(
        &state.web.contacts,
        &household.id,
        household.grid.as_deref(),
        &[
            crate::case::Role::Resident,
            crate::case::Role::Family,
            crate::case::Role::GridWorker,
            crate::case::Role::Supervisor,
        ],
    )
    .iter()
    .map(|c| {
        let channels: Vec<String> = c
            .reach
            .iter()
            .map(|r| match &r.to {
                Some(to) => format!("{} {}", r.channel, crate::notify::mask(to)),
                None => r.channel.clone(),
            })
            .collect();
        format!(
            "{} · {} · {} · {}",
            c.name,
            c.role.as_str(),
            c.language.as_str(),
            channels.join(", ")
        )
    })
    .collect();
    let away = (status.state == HState::Away).then(|| status.detail.clone());
    let first_water = first_water_today(&samples, now, offset, lang);
    Ok(HouseholdPage {
        chrome: Chrome::new(who, display_name(household), "overview"),
        first_water,
        chart,
        chart_note,
        thresholds,
        cases,
        meters: meter_lines,
        contacts,
        away,
        can_act: who.role != Role::Family,
        consent: consent.map(|c| {
            (
                if c.family_sees_usage { t.yes } else { t.no }.to_owned(),
                c.recorded_by,
                local_time(c.recorded_ms, offset, "%Y-%m-%d"),
                c.note,
            )
        }),
        can_record_consent: who.role != Role::Family,
        status,
    })
}

/// When water was first used today (local time), if it has been.
fn first_water_today(
    meters: &[Vec<dashboard::Sample>],
    now_ms: i64,
    offset_s: i64,
    lang: Language,
) -> Option<String> {
    let local = now_ms + offset_s * 1000;
    let midnight = local - local.rem_euclid(86_400_000) - offset_s * 1000;
    let first = meters
        .iter()
        .filter_map(|samples| {
            samples
                .windows(2)
                .find(|w| w[1].ts_ms >= midnight && w[1].total_l > w[0].total_l)
                .map(|w| w[1].ts_ms)
        })
        .min()?;
    let _ = lang;
    Some(local_time(first, offset_s, "%H:%M"))
}

#[derive(Deserialize)]
struct AwayForm {
    csrf: String,
    /// The day the household is expected back (`YYYY-MM-DD`), local time.
    until: String,
    reason: String,
}

async fn household_away(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
    Form(form): Form<AwayForm>,
) -> Response {
    let household = match household_form(&state, &who, &id, &form.csrf).await {
        Ok(h) => h,
        Err(page) => return *page,
    };
    let offset = offsets(&state)
        .await
        .ok()
        .and_then(|o| o.get(&id).copied())
        .unwrap_or(0);
    let Ok(day) = chrono::NaiveDate::parse_from_str(form.until.trim(), "%Y-%m-%d") else {
        return message(
            &who,
            StatusCode::BAD_REQUEST,
            "Give the day they are back as YYYY-MM-DD.",
        );
    };
    // Away until the end of that day, household time.
    let ends_ms = day
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_millis() + 86_400_000 - offset * 1000)
        .unwrap_or(0);
    let now = state.clock.now();
    let suppression = Suppression {
        id: None,
        away: true,
        household: Some(household.id.clone()),
        grid: None,
        kind: None,
        starts: now,
        ends: chrono::DateTime::from_timestamp_millis(ends_ms).unwrap_or_default(),
        reason: form.reason.trim().to_owned(),
        created_by: who.name.clone(),
    };
    let problems = suppression.problems(now);
    if !problems.is_empty() {
        let text: Vec<_> = problems.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        return message(&who, StatusCode::BAD_REQUEST, &text.join("; "));
    }
    let stored = async {
        let mut conn = state.store.pool().acquire().await?;
        store::suppressions::insert(&mut conn, &suppression, now).await
    }
    .await;
    if let Err(e) = stored {
        return unavailable(&who, "cannot store away mode", &e);
    }
    audit(
        &state,
        &who,
        "away",
        &format!("household/{id}"),
        &form.until,
    )
    .await;
    Redirect::to(&format!("/households/{id}")).into_response()
}

async fn household_back(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(page) = household_form(&state, &who, &id, &form.csrf).await {
        return *page;
    }
    let now = state.clock.now();
    let ended = async {
        let mut conn = state.store.pool().acquire().await?;
        store::suppressions::end_away(&mut conn, &id, now).await
    }
    .await;
    if let Err(e) = ended {
        return unavailable(&who, "cannot end away mode", &e);
    }
    audit(&state, &who, "back_home", &format!("household/{id}"), "").await;
    Redirect::to(&format!("/households/{id}")).into_response()
}

#[derive(Deserialize)]
struct ConsentForm {
    csrf: String,
    family_sees_usage: String,
    #[serde(default)]
    note: String,
}

async fn household_consent(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
    Form(form): Form<ConsentForm>,
) -> Response {
    if let Err(page) = household_form(&state, &who, &id, &form.csrf).await {
        return *page;
    }
    let sees = match form.family_sees_usage.as_str() {
        "yes" => true,
        "no" => false,
        _ => return message(&who, StatusCode::BAD_REQUEST, "Answer yes or no."),
    };
    let consent = Consent {
        family_sees_usage: sees,
        recorded_by: who.name.clone(),
        recorded_ms: state.clock.now().timestamp_millis(),
        note: form.note.trim().to_owned(),
    };
    if let Err(e) = access::set_consent(state.store.pool(), &id, &consent).await {
        return unavailable(&who, "cannot store consent", &e);
    }
    audit(
        &state,
        &who,
        "consent",
        &format!("household/{id}"),
        &format!("family_sees_usage={sees}"),
    )
    .await;
    Redirect::to(&format!("/households/{id}")).into_response()
}

// ---------------------------------------------------------------- meters & rules

#[derive(Template)]
#[template(path = "meters.html")]
struct MetersPage {
    chrome: Chrome,
    meters: Vec<MeterLine>,
    rejected: Vec<(String, i64)>,
}

struct MeterLine {
    id: String,
    household: String,
    state: &'static str,
    state_label: &'static str,
    last_seen: String,
    battery: String,
    days: String,
}

async fn meters_page(State(state): State<AppState>, who: Identity) -> Response {
    if !who.is_ops() {
        return forbidden(&who);
    }
    let pool = state.store.pool();
    let now = state.clock.now().timestamp_millis();
    let loaded = async {
        Ok::<_, StoreError>((
            dashboard::meters(pool).await?,
            dashboard::rejected_by_reason(pool).await?,
        ))
    }
    .await;
    let (meters, rejected) = match loaded {
        Ok(x) => x,
        Err(e) => return unavailable(&who, "cannot list meters", &e),
    };
    let lang = who.language;
    let t = i18n::texts(lang);
    let rules = state.web.rules.borrow().clone();
    let mut lines: Vec<MeterLine> = meters
        .iter()
        .map(|m| {
            let st = view::meter_state(m);
            let silent = m.last_seen_ms.is_none()
                || st.as_ref().is_some_and(|s| {
                    s.active_alerts()
                        .iter()
                        .any(|a| a.kind == waterwatch_rules::Kind::MeterOffline)
                });
            let learning = st
                .as_ref()
                .is_none_or(|s| s.baseline().learning(&rules.baseline));
            let state = if silent {
                HState::Silent
            } else if learning {
                HState::Learning
            } else {
                HState::Fine
            };
            MeterLine {
                id: m.id.clone(),
                household: m.household.clone(),
                state: state.as_str(),
                state_label: state.label(t),
                last_seen: m
                    .last_seen_ms
                    .map(|at| i18n::ago(lang, now - at))
                    .unwrap_or_else(|| t.never.into()),
                battery: m
                    .battery_pct
                    .map(|b| format!("{b:.0} %"))
                    .unwrap_or_else(|| "–".into()),
                days: st
                    .map(|s| s.baseline().days().to_string())
                    .unwrap_or_else(|| "0".into()),
            }
        })
        .collect();
    // Silent meters first.
    lines.sort_by_key(|l| (l.state != "silent", l.id.clone()));
    html(
        StatusCode::OK,
        MetersPage {
            chrome: Chrome::new(&who, t.meters, "meters"),
            meters: lines,
            rejected,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    chrome: Chrome,
    path: String,
    loaded: String,
    refused: Vec<String>,
    refused_at: String,
    rules: Vec<(String, String, String, String, String)>,
    weeks: Vec<super::api::RuleWeek>,
    text: String,
}

async fn rules_page(State(state): State<AppState>, who: Identity) -> Response {
    if !who.is_ops() {
        return forbidden(&who);
    }
    let lang = who.language;
    let t = i18n::texts(lang);
    let report = state.web.rules_status.report();
    let rules = state.web.rules.borrow().clone();
    let now = state.clock.now().timestamp_millis();
    let weeks = match super::api::rule_weeks(&state, now, 8).await {
        Ok(w) => w,
        Err(e) => return unavailable(&who, "cannot count alerts per rule", &e),
    };
    let text = match &report.path {
        Some(path) => std::fs::read_to_string(path)
            .unwrap_or_else(|e| format!("cannot read {}: {e}", path.display())),
        None => waterwatch_rules::config::DEFAULT_RULES_TOML.to_owned(),
    };
    let when = |ms: i64| local_time(ms, 0, "%Y-%m-%d %H:%M UTC");
    let page = RulesPage {
        chrome: Chrome::new(&who, t.rules, "rules"),
        path: report
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| t.built_in_rules.into()),
        loaded: when(report.loaded_ms),
        refused_at: report.refused_ms.map(when).unwrap_or_default(),
        refused: report.refused,
        rules: rules
            .rules
            .iter()
            .map(|r| {
                (
                    r.name.clone(),
                    r.detector.kind().as_str().to_owned(),
                    r.severity.as_str().to_owned(),
                    r.route.clone().unwrap_or_else(|| "default".into()),
                    if r.enabled { t.yes } else { t.no }.to_owned(),
                )
            })
            .collect(),
        weeks,
        text,
    };
    html(StatusCode::OK, page.render())
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
