//! The dashboard's pages: overview, cases, one case, one household, meters
//! and rules; login and logout; the forms behind their buttons.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router, routing::get, routing::post};
use serde::Deserialize;
use waterwatch_rules::Language;

use super::auth::{Identity, Role, Via};
use super::i18n::{self, Texts};
use super::view::{self, State as HState, Status, local_time};
use super::{OutOfReach, audit, case_in_reach, household_in_reach, html};
use crate::case::Reason;
use crate::http::{ActionError, AppState, MAX_TEXT_CHARS, send_action};
use crate::process::{Action, ActionOutcome};
use crate::store::access::{self, Consent};
use crate::store::dashboard::{self, CaseRow, Household};
use crate::store::{self, StoreError};
use crate::suppress::Suppression;

mod cases;
mod household;
mod ops;
mod session;

use cases::{CaseLine, case_line, offsets};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route("/cases", get(cases::cases_page))
        .route("/cases/{id}", get(cases::case_page))
        .route("/cases/{id}/ack", post(cases::case_ack))
        .route("/cases/{id}/close", post(cases::case_close))
        .route("/cases/{id}/note", post(cases::case_note))
        .route("/households/{id}", get(household::household_page))
        .route("/households/{id}/away", post(household::household_away))
        .route("/households/{id}/back", post(household::household_back))
        .route(
            "/households/{id}/consent",
            post(household::household_consent),
        )
        .route("/meters", get(ops::meters_page))
        .route("/rules", get(ops::rules_page))
        .route("/events", get(crate::web::live::events))
        .route("/assets/style.css", get(crate::web::style))
        .route("/assets/live.js", get(crate::web::script))
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

/// The page saying why something is out of the caller's reach.
fn out_of_reach(who: &Identity, why: OutOfReach) -> Box<Response> {
    let t = i18n::texts(who.language);
    Box::new(match why {
        OutOfReach::Forbidden => message(who, StatusCode::FORBIDDEN, t.forbidden),
        OutOfReach::NotFound(_) => message(who, StatusCode::NOT_FOUND, t.not_found),
        OutOfReach::Unavailable(e) => unavailable(who, "cannot read a household or case", &e),
    })
}

/// The household if the caller may see it; else the page saying why not.
async fn visible_household(
    state: &AppState,
    who: &Identity,
    id: &str,
) -> Result<Household, Box<Response>> {
    household_in_reach(state, who, id)
        .await
        .map_err(|why| out_of_reach(who, why))
}

/// The household of a case if the caller may see it.
async fn visible_case(
    state: &AppState,
    who: &Identity,
    id: i64,
) -> Result<Household, Box<Response>> {
    case_in_reach(state, who, id)
        .await
        .map_err(|why| out_of_reach(who, why))
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

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
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
    pager: Pager,
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
    /// 1-based page of the list (the counts always cover every household).
    #[serde(default)]
    page: Option<usize>,
}

/// Lines per page of a long list: keeps a page well under 100 KB on a
/// phone; the most urgent come first, so page 1 is the one that matters.
const PER_PAGE: usize = 200;

/// Links to the neighbouring pages of a long list.
pub struct Pager {
    pub previous: Option<String>,
    pub next: Option<String>,
    pub position: String,
}

/// Page `page` (1-based) of `items`, and the links to its neighbours, which
/// are `base` with `page=N` added.
fn paged<T>(items: Vec<T>, page: Option<usize>, base: &str) -> (Vec<T>, Pager) {
    let pages = items.len().div_ceil(PER_PAGE).max(1);
    let page = page.unwrap_or(1).clamp(1, pages);
    let link = |n: usize| format!("{base}page={n}");
    let pager = Pager {
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        position: format!("{page} / {pages}"),
    };
    let items = items
        .into_iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .collect();
    (items, pager)
}

/// Every household the caller may see, with its state.
pub async fn visible_statuses(state: &AppState, who: &Identity) -> Result<Vec<Status>, StoreError> {
    statuses_for(state, who, None).await
}

/// One household's state (`None` if the caller may not see it).
pub async fn status_of(
    state: &AppState,
    who: &Identity,
    household: &str,
) -> Result<Option<Status>, StoreError> {
    Ok(statuses_for(state, who, Some(household)).await?.pop())
}

/// The states of the households the caller may see, or of `only` that one.
async fn statuses_for(
    state: &AppState,
    who: &Identity,
    only: Option<&str>,
) -> Result<Vec<Status>, StoreError> {
    let pool = state.store.pool();
    let now = state.clock.now();
    let meters = dashboard::meters(pool, only).await?;
    let cases = dashboard::cases(pool, i64::MAX, only).await?;
    let households: Vec<Household> = dashboard::households(pool)
        .await?
        .into_iter()
        .filter(|h| who.sees(h))
        .filter(|h| match only {
            Some(id) => h.id == id,
            None => view::on_overview(h, &meters, &cases),
        })
        .collect();
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
    let rows: Vec<OverviewRow> = shown
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
    let (rows, pager) = paged(
        rows,
        q.page,
        &format!("/?grid={}&", urlencoding::encode(&grid)),
    );
    let page = OverviewPage {
        chrome,
        counts,
        pager,
        grids,
        grid,
        rows,
    };
    html(StatusCode::OK, page.render())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_are_paged_with_links_to_the_neighbours() {
        let (items, pager) = paged((0..450).collect::<Vec<_>>(), Some(2), "/meters?");
        assert_eq!(items.first(), Some(&200));
        assert_eq!(items.len(), 200);
        assert_eq!(pager.previous.as_deref(), Some("/meters?page=1"));
        assert_eq!(pager.next.as_deref(), Some("/meters?page=3"));
        assert_eq!(pager.position, "2 / 3");
        let (items, pager) = paged((0..450).collect::<Vec<_>>(), Some(99), "/?");
        assert_eq!(items.len(), 50, "a page past the end shows the last");
        assert!(pager.next.is_none());
        let (items, pager) = paged(Vec::<u8>::new(), None, "/?");
        assert!(items.is_empty() && pager.previous.is_none() && pager.next.is_none());
    }

    /// A case page: the close form for an open case, "record what you
    /// found" for a day after water use closed it, nothing after that or
    /// once a person gave the reason.
    #[test]
    fn a_case_water_closed_offers_its_outcome_for_a_day() {
        let hour = 3_600_000;
        let now = 1_790_000_000_000;
        let page = |resolved: Option<(i64, &str)>| {
            let row = CaseRow {
                id: 7,
                household: "h1".into(),
                severity: "critical".into(),
                opened_ms: now - 30 * hour,
                acknowledged_ms: None,
                acknowledged_by: None,
                resolved_ms: resolved.map(|r| r.0),
                resolution: resolved.map(|r| r.1.to_owned()),
                closed_by: None,
                note: None,
                kinds: vec!["inactivity".into()],
            };
            let t = i18n::texts(Language::En);
            cases::CasePage {
                chrome: Chrome {
                    t,
                    title: "Case #7".into(),
                    section: "cases",
                    user: "li".into(),
                    csrf: "x".into(),
                    ops: false,
                    live: false,
                    can_log_out: true,
                },
                case: cases::case_line(&row, None, 0, now, Language::En),
                alerts: Vec::new(),
                events: Vec::new(),
                reasons: vec![("emergency", "Emergency")],
            }
            .render()
            .expect("renders")
        };
        let open = page(None);
        assert!(
            open.contains("Close the case") && open.contains("/ack"),
            "{open}"
        );
        let water = page(Some((now - 2 * hour, "all_clear")));
        assert!(water.contains("record what you found"), "{water}");
        assert!(!water.contains("/ack"), "{water}");
        let old = page(Some((now - 25 * hour, "all_clear")));
        assert!(!old.contains("/close"), "{old}");
        let by_hand = page(Some((now - 2 * hour, "late_riser")));
        assert!(!by_hand.contains("/close"), "{by_hand}");
    }
}
