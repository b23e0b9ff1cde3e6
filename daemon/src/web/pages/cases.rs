//! The cases pages: open and recent cases, one case with its trail, and the
//! forms that acknowledge, close and annotate it.

use super::*;
use crate::case::lifecycle::OUTCOME_WINDOW;

/// Closed cases listed (newest first); older ones are on each household's page.
const CLOSED_SHOWN: usize = 100;

pub(super) struct CaseLine {
    pub(super) id: i64,
    pub(super) household: String,
    pub(super) household_id: String,
    pub(super) state: &'static str,
    pub(super) state_label: &'static str,
    pub(super) kinds: String,
    pub(super) severity: String,
    pub(super) opened: String,
    pub(super) elapsed: String,
    pub(super) who: String,
    pub(super) open: bool,
    /// Closed by water use within a day: a person's reason is still taken.
    pub(super) takes_outcome: bool,
    pub(super) acknowledged: bool,
}

pub(super) fn case_line(
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
        takes_outcome: c.resolution.as_deref() == Some(Reason::AllClear.as_str())
            && c.resolved_ms
                .is_some_and(|at| now_ms - at <= OUTCOME_WINDOW.num_milliseconds()),
        acknowledged: c.acknowledged_ms.is_some(),
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
pub(super) struct CasesPage {
    chrome: Chrome,
    open: Vec<CaseLine>,
    closed: Vec<CaseLine>,
}

/// The UTC offset of each household's newest reading (every household's,
/// or only `household`'s).
pub(super) async fn offsets(
    state: &AppState,
    household: Option<&str>,
) -> Result<BTreeMap<String, i64>, StoreError> {
    Ok(dashboard::meters(state.store.pool(), household)
        .await?
        .into_iter()
        .filter_map(|m| Some((m.household, m.utc_offset_s?)))
        .collect())
}

pub(super) async fn cases_page(State(state): State<AppState>, who: Identity) -> Response {
    let pool = state.store.pool();
    let now = state.clock.now().timestamp_millis();
    let loaded = async {
        let households = dashboard::households(pool).await?;
        let cases = dashboard::cases(pool, now - 7 * 86_400_000, None).await?;
        Ok::<_, StoreError>((households, cases, offsets(&state, None).await?))
    }
    .await;
    let (households, cases, offsets) = match loaded {
        Ok(x) => x,
        Err(e) => return unavailable(&who, "cannot list cases", &e),
    };
    let mut open = Vec::new();
    let mut closed = Vec::new();
    let households: std::collections::HashMap<&str, &Household> =
        households.iter().map(|h| (h.id.as_str(), h)).collect();
    for c in &cases {
        let Some(h) = households.get(c.household.as_str()).copied() else {
            continue;
        };
        if !who.sees(h) {
            continue;
        }
        let offset = offsets.get(&h.id).copied().unwrap_or(0);
        let line = case_line(c, Some(h), offset, now, who.language);
        if line.open {
            open.push(line);
        } else if closed.len() < CLOSED_SHOWN {
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
pub(super) struct CasePage {
    pub(super) chrome: Chrome,
    pub(super) case: CaseLine,
    pub(super) alerts: Vec<(String, String)>,
    pub(super) events: Vec<(String, String, String)>,
    pub(super) reasons: Vec<(&'static str, &'static str)>,
}

pub(super) async fn case_page(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<i64>,
) -> Response {
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
        let offset = offsets(&state, Some(&household.id))
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
pub(super) fn after_action(
    who: &Identity,
    id: i64,
    result: Result<ActionOutcome, ActionError>,
) -> Response {
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

pub(super) async fn case_ack(
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
pub(super) struct CloseForm {
    csrf: String,
    reason: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn case_close(
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
    if note
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_TEXT_CHARS)
    {
        return message(
            &who,
            StatusCode::BAD_REQUEST,
            &format!("A note needs at most {MAX_TEXT_CHARS} characters."),
        );
    }
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
pub(super) struct NoteForm {
    csrf: String,
    text: String,
}

pub(super) async fn case_note(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<i64>,
    Form(form): Form<NoteForm>,
) -> Response {
    if let Err(page) = case_form(&state, &who, id, &form.csrf).await {
        return *page;
    }
    let text = form.text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT_CHARS {
        return message(
            &who,
            StatusCode::BAD_REQUEST,
            &format!("A note needs 1 to {MAX_TEXT_CHARS} characters."),
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
