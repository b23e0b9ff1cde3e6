//! A household's page (status, week of use, thresholds in words, cases,
//! meters, contacts, away mode, consent) and the forms that change it.

use super::*;
use waterwatch_rules::rule::inactivity::background::person_share;

#[derive(Template)]
#[template(path = "household.html")]
pub(super) struct HouseholdPage {
    chrome: Chrome,
    status: Status,
    first_water: Option<String>,
    chart: Option<String>,
    chart_note: String,
    thresholds: Vec<String>,
    cases: Vec<CaseLine>,
    /// id, last seen, battery, days learned, steady drip.
    meters: Vec<(String, String, String, String, String)>,
    /// "m-0003 was replaced by m-0107 on 2026-11-25", one per replaced meter.
    replaced: Vec<String>,
    contacts: Vec<String>,
    away: Option<String>,
    can_act: bool,
    consent: Option<(String, String, String, String)>,
    can_record_consent: bool,
}

pub(super) async fn household_page(
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

pub(super) async fn household_view(
    state: &AppState,
    who: &Identity,
    household: &Household,
) -> Result<HouseholdPage, StoreError> {
    let pool = state.store.pool();
    let now = state.clock.now().timestamp_millis();
    let lang = who.language;
    let t = i18n::texts(lang);
    let Some(status) = status_of(state, who, &household.id).await? else {
        return Err(StoreError::Sql(sqlx::Error::RowNotFound));
    };
    let offset = status.utc_offset_s;
    let meters = dashboard::meters_with_state(pool, Some(&household.id)).await?;
    let consent = access::consent(pool, &household.id).await?;
    let sees_usage =
        who.role != Role::Family || consent.as_ref().is_some_and(|c| c.family_sees_usage);
    let replaced = crate::store::replaced::of_household(pool, &household.id).await?;
    let samples = dashboard::history(pool, &meters, &replaced, now - 35 * 86_400_000).await?;
    let series = view::usage_series(&samples, now, 7, 28);
    let has_data = series.hours.iter().any(Option::is_some);
    let (chart, chart_note) = match (sees_usage, has_data) {
        (false, _) => (None, t.usage_hidden.to_owned()),
        (true, false) => (None, t.chart_no_data.to_owned()),
        (true, true) => (
            Some(crate::web::chart::usage_svg(&series, lang)),
            String::new(),
        ),
    };
    let rules = state.web.rules.borrow().clone();
    // Each meter's stored engine state, read once.
    let states: Vec<_> = meters.iter().map(view::meter_state).collect();
    let thresholds = view::thresholds(
        &rules,
        &household.id,
        states.iter().flatten().next(),
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
        .zip(&states)
        .map(|(m, state)| {
            let days = state
                .as_ref()
                .map(|s| s.baseline().days().to_string())
                .unwrap_or_else(|| "0".into());
            let drip = drip_cell(state.as_ref());
            (
                m.id.clone(),
                m.last_seen_ms
                    .map(|at| i18n::ago(lang, now - at))
                    .unwrap_or_else(|| t.never.into()),
                m.battery_pct
                    .map(|b| format!("{b:.0} %"))
                    .unwrap_or_else(|| "–".into()),
                days,
                drip,
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
    let mut drips: Vec<f64> = states
        .iter()
        .map(|s| s.as_ref().map_or(0.0, |s| s.drip_lph()))
        .collect();
    // A replaced meter's drip is not known any more (its state went).
    drips.resize(samples.len(), 0.0);
    let first_water = first_water_today(&samples, &drips, now, offset, lang);
    Ok(HouseholdPage {
        chrome: Chrome::new(who, display_name(household), "overview"),
        first_water,
        chart,
        chart_note,
        thresholds,
        cases,
        meters: meter_lines,
        replaced: replaced
            .iter()
            .map(|r| {
                let on = r.retired_ms.map(|at| local_time(at, offset, "%Y-%m-%d"));
                i18n::replaced_meter(lang, &r.id, &r.by, on.as_deref())
            })
            .collect(),
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

/// A meter's steady drip as the meters table shows it: a leak too small
/// for any alert, worth a plumber's visit.
fn drip_cell(state: Option<&waterwatch_rules::MeterState>) -> String {
    state
        .map(|s| s.drip_lph())
        .filter(|&d| d > 0.0)
        .map_or_else(|| "–".into(), |d| format!("{d:.1} L/h"))
}

/// When water was first used today (local time), if it has been. A meter
/// with a steady drip (`drips`, litres an hour, one per meter) counts only
/// a step beyond the drip: the drip moves the register whether anyone is
/// up or not.
pub(super) fn first_water_today(
    meters: &[Vec<dashboard::Sample>],
    drips: &[f64],
    now_ms: i64,
    offset_s: i64,
    lang: Language,
) -> Option<String> {
    let local = now_ms + offset_s * 1000;
    let midnight = local - local.rem_euclid(86_400_000) - offset_s * 1000;
    let first = meters
        .iter()
        .zip(drips.iter().chain(std::iter::repeat(&0.0)))
        .filter_map(|(samples, &drip_lph)| {
            // The drip set aside as the engine does.
            let mut credit = 0.0_f64;
            samples.windows(2).find_map(|w| {
                let hours = (w[1].ts_ms - w[0].ts_ms) as f64 / 3_600_000.0;
                let step = (w[1].total_l - w[0].total_l).max(0.0);
                let person = person_share(&mut credit, drip_lph, hours, step);
                (w[1].ts_ms >= midnight && person > 0.0).then_some(w[1].ts_ms)
            })
        })
        .min()?;
    let _ = lang;
    Some(local_time(first, offset_s, "%H:%M"))
}

#[derive(Deserialize)]
pub(super) struct AwayForm {
    csrf: String,
    /// The day the household is expected back (`YYYY-MM-DD`), local time.
    until: String,
    reason: String,
}

pub(super) async fn household_away(
    State(state): State<AppState>,
    who: Identity,
    Path(id): Path<String>,
    Form(form): Form<AwayForm>,
) -> Response {
    let household = match household_form(&state, &who, &id, &form.csrf).await {
        Ok(h) => h,
        Err(page) => return *page,
    };
    let offset = offsets(&state, Some(&id))
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

pub(super) async fn household_back(
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
pub(super) struct ConsentForm {
    csrf: String,
    family_sees_usage: String,
    #[serde(default)]
    note: String,
}

pub(super) async fn household_consent(
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
    if form.note.trim().chars().count() > MAX_TEXT_CHARS {
        return message(
            &who,
            StatusCode::BAD_REQUEST,
            &format!("A note needs at most {MAX_TEXT_CHARS} characters."),
        );
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_meter_with_a_drip_shows_it_in_the_meters_table() {
        use chrono::{Duration, TimeZone, Utc};
        let mut engine = waterwatch_rules::Engine::new(waterwatch_rules::RuleSet::default_rules());
        let start = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .unwrap()
            .fixed_offset();
        // Two days of a 1.2 L/h drip on a 1-litre register, nothing else.
        for k in 0..2 * 96 {
            let ts = start + Duration::minutes(15 * k);
            let reading = waterwatch_rules::Reading {
                meter_id: "m1".into(),
                ts,
                total_l: (1000.0 + 0.3 * k as f64).floor(),
                flow_lpm: None,
                battery_pct: None,
                rssi_dbm: None,
                status: vec![],
            };
            engine.observe(&reading, ts);
        }
        let state = engine.meter_state("m1");
        assert_eq!(drip_cell(state.as_ref()), "1.2 L/h");
        assert_eq!(drip_cell(None), "–");
    }

    #[test]
    fn the_first_water_of_the_day_is_a_persons_not_a_drips() {
        const H: i64 = 3_600_000;
        // A day in UTC (offset 0): a drip's litre at 05:30, Mum's 20 L at 07:00.
        let day = 1_795_000_000_000 - 1_795_000_000_000 % (24 * H);
        let at = |h: f64| day + (h * H as f64) as i64;
        let samples: Vec<dashboard::Sample> = [
            (0.0, 100.0),
            (5.25, 100.0),
            (5.5, 101.0),
            (6.75, 101.0),
            (7.0, 121.0),
        ]
        .iter()
        .map(|&(h, total_l)| dashboard::Sample {
            ts_ms: at(h),
            total_l,
            utc_offset_s: 0,
        })
        .collect();
        let first = |drip: f64| {
            first_water_today(
                std::slice::from_ref(&samples),
                &[drip],
                at(8.0),
                0,
                Language::En,
            )
        };
        assert_eq!(first(0.0).as_deref(), Some("05:30"));
        assert_eq!(first(0.6).as_deref(), Some("07:00"));
    }
}
