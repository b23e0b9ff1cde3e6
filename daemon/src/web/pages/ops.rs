//! For ops: the meters page and the rules page.

use super::*;

#[derive(Template)]
#[template(path = "meters.html")]
pub(super) struct MetersPage {
    chrome: Chrome,
    meters: Vec<MeterLine>,
    pager: Pager,
    rejected: Vec<(String, i64)>,
}

pub(super) struct MeterLine {
    id: String,
    household: String,
    state: &'static str,
    state_label: &'static str,
    last_seen: String,
    battery: String,
    signal: String,
    days: String,
}

#[derive(Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    page: Option<usize>,
}

pub(super) async fn meters_page(
    State(state): State<AppState>,
    who: Identity,
    Query(q): Query<PageQuery>,
) -> Response {
    if !who.is_ops() {
        return forbidden(&who);
    }
    let pool = state.store.pool();
    let now = state.clock.now().timestamp_millis();
    let loaded = async {
        Ok::<_, StoreError>((
            dashboard::meters(pool, None).await?,
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
            let st = view::summary(m);
            let silent = m.last_seen_ms.is_none() || st.is_some_and(|s| s.offline);
            let learning = st.is_none_or(|s| s.learning(&rules.baseline));
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
                signal: m
                    .rssi_dbm
                    .map(|r| format!("{r:.0} dBm"))
                    .unwrap_or_else(|| "–".into()),
                battery: m
                    .battery_pct
                    .map(|b| format!("{b:.0} %"))
                    .unwrap_or_else(|| "–".into()),
                days: st
                    .map(|s| s.baseline_days.to_string())
                    .unwrap_or_else(|| "0".into()),
            }
        })
        .collect();
    // Silent meters first.
    lines.sort_by_key(|l| (l.state != "silent", l.id.clone()));
    let (lines, pager) = paged(lines, q.page, "/meters?");
    html(
        StatusCode::OK,
        MetersPage {
            chrome: Chrome::new(&who, t.meters, "meters"),
            meters: lines,
            pager,
            rejected,
        }
        .render(),
    )
}

#[derive(Template)]
#[template(path = "rules.html")]
pub(super) struct RulesPage {
    chrome: Chrome,
    path: String,
    loaded: String,
    refused: Vec<String>,
    refused_at: String,
    rules: Vec<(String, String, String, String, String)>,
    weeks: Vec<crate::web::api::RuleWeek>,
    text: String,
}

pub(super) async fn rules_page(State(state): State<AppState>, who: Identity) -> Response {
    if !who.is_ops() {
        return forbidden(&who);
    }
    let lang = who.language;
    let t = i18n::texts(lang);
    let report = state.web.rules_status.report();
    let rules = state.web.rules.borrow().clone();
    let now = state.clock.now().timestamp_millis();
    let weeks = match crate::web::api::rule_weeks(&state, now, 8).await {
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
