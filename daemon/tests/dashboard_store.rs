//! The dashboard's and the access layer's queries against each store backend
//! (SQLite and PostgreSQL): households, meters, cases with their kinds,
//! trails, samples, statistics, change marks, users, sessions, tokens, the
//! audit log and consent.

mod common;

use waterwatch::store::access::{self, AuditEntry, Consent, NewUser};
use waterwatch::store::dashboard;

const DAY: i64 = 86_400_000;

async fn exec(store: &waterwatch::store::Store, sql: &'static str) {
    sqlx::query(sql).execute(store.pool()).await.expect(sql);
}

#[tokio::test]
async fn every_dashboard_query_answers_on_each_backend() {
    for (backend, store, _dir) in common::stores().await {
        let pool = store.pool();
        exec(&store, "INSERT INTO households (id, name, grid, created_ms) VALUES ('h1', 'Mrs Chen', 'east', 0)").await;
        exec(
            &store,
            "INSERT INTO households (id, created_ms) VALUES ('h2', 0)",
        )
        .await;
        exec(&store, "INSERT INTO meters (id, household_id, created_ms, last_seen_ms, last_reading_ms) VALUES ('m1', 'h1', 0, 3600000, 3600000)").await;
        exec(&store, "INSERT INTO readings (meter_id, ts_ms, utc_offset_s, total_l, battery_pct, received_ms) VALUES ('m1', 0, 28800, 10.0, 90.0, 0)").await;
        exec(&store, "INSERT INTO readings (meter_id, ts_ms, utc_offset_s, total_l, battery_pct, received_ms) VALUES ('m1', 3600000, 28800, 25.0, 85.0, 0)").await;
        exec(
            &store,
            "INSERT INTO cases (household_id, opened_ms, severity) VALUES ('h1', 1000, 'critical')",
        )
        .await;
        exec(&store, "INSERT INTO cases (household_id, opened_ms, severity, resolved_ms, resolution) VALUES ('h2', 500, 'warning', 2000, 'false_alarm')").await;
        exec(&store, "INSERT INTO alerts (case_id, household_id, meter_id, rule, kind, severity, summary, fired_ms) SELECT id, 'h1', 'm1', 'inactivity', 'inactivity', 'critical', 'quiet', 1000 FROM cases WHERE household_id = 'h1'").await;
        exec(&store, "INSERT INTO alerts (case_id, household_id, meter_id, rule, kind, severity, summary, fired_ms) SELECT id, 'h1', 'm1', 'burst', 'spike', 'critical', 'burst', 1100 FROM cases WHERE household_id = 'h1'").await;
        exec(&store, "INSERT INTO alerts (case_id, household_id, meter_id, rule, kind, severity, summary, fired_ms) SELECT id, 'h2', 'h2', 'inactivity', 'inactivity', 'warning', 'quiet', 500 FROM cases WHERE household_id = 'h2'").await;
        exec(&store, "INSERT INTO dead_letters (received_ms, topic, reason, detail, payload) VALUES (0, 't', 'malformed', 'x', ''), (1, 't', 'malformed', 'x', ''), (2, 't', 'too_old', 'x', '')").await;

        let households = dashboard::households(pool).await.unwrap();
        assert_eq!(households.len(), 2, "{backend}");
        assert_eq!(households[0].grid.as_deref(), Some("east"));
        assert!(!households[0].withdrawn);
        assert_eq!(
            dashboard::household(pool, "h1")
                .await
                .unwrap()
                .unwrap()
                .name
                .as_deref(),
            Some("Mrs Chen")
        );
        let meters = dashboard::meters(pool, None).await.unwrap();
        assert_eq!(dashboard::meters(pool, Some("h2")).await.unwrap(), []);
        assert_eq!(
            meters[0].battery_pct,
            Some(85.0),
            "{backend}: the newest reading's battery"
        );
        assert_eq!(meters[0].utc_offset_s, Some(28800));

        let cases = dashboard::cases(pool, 0, None).await.unwrap();
        assert_eq!(cases.len(), 2, "{backend}");
        assert!(cases[0].resolved_ms.is_none(), "open first");
        assert_eq!(cases[0].kinds, ["inactivity", "spike"], "{backend}");
        assert_eq!(
            dashboard::cases(pool, i64::MAX, None).await.unwrap().len(),
            1,
            "open only"
        );
        assert_eq!(
            dashboard::cases(pool, 0, Some("h2")).await.unwrap().len(),
            1
        );
        let id = cases[0].id;
        assert_eq!(
            dashboard::case_household(pool, id)
                .await
                .unwrap()
                .as_deref(),
            Some("h1")
        );
        waterwatch::store::cases::add_note(
            pool,
            id,
            chrono::DateTime::from_timestamp_millis(5).unwrap(),
            "li",
            "on my way",
        )
        .await
        .unwrap();
        let events = dashboard::case_events(pool, id).await.unwrap();
        assert_eq!(events[0].detail, "li: on my way", "{backend}");

        let samples = dashboard::samples(pool, "m1", 0).await.unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(samples[1].total_l, 25.0);
        assert_eq!(
            dashboard::rejected_by_reason(pool).await.unwrap(),
            [("malformed".to_string(), 2), ("too_old".to_string(), 1)],
            "{backend}"
        );
        let outcomes = dashboard::alert_outcomes(pool, 0).await.unwrap();
        assert_eq!(outcomes.len(), 3);
        assert!(
            outcomes
                .iter()
                .any(|o| o.resolution.as_deref() == Some("false_alarm"))
        );
        let counts = dashboard::case_counts(pool, 0).await.unwrap();
        assert_eq!(
            counts,
            [("open", 1), ("acknowledged", 0), ("closed", 1)],
            "{backend}"
        );
        let mark = dashboard::change_mark(pool).await.unwrap();
        exec(
            &store,
            "UPDATE cases SET acknowledged_ms = 9 WHERE resolved_ms IS NULL",
        )
        .await;
        assert_ne!(
            dashboard::change_mark(pool).await.unwrap(),
            mark,
            "{backend}: an acknowledgement changes the mark"
        );

        // Users, sessions, tokens.
        let scope = vec!["east".to_string()];
        let user = NewUser {
            name: "li",
            role: "grid_worker",
            scope: &scope,
            language: "zh-CN",
            password_hash: "$argon2id$x",
        };
        let user_id = access::add_user(pool, &user, 0).await.unwrap();
        assert!(
            access::add_user(pool, &user, 0).await.is_err(),
            "{backend}: names are unique"
        );
        let (row, hash) = access::user_by_name(pool, "li").await.unwrap().unwrap();
        assert_eq!(
            (row.scope.clone(), hash.as_str()),
            (scope.clone(), "$argon2id$x")
        );
        access::add_session(pool, "s1", user_id, "csrf1", 10, 10 * DAY)
            .await
            .unwrap();
        let (found, csrf, last_seen) = access::session(pool, "s1", 20).await.unwrap().unwrap();
        assert_eq!(
            (found.name.as_str(), csrf.as_str(), last_seen),
            ("li", "csrf1", 10)
        );
        assert!(
            access::session(pool, "s1", 11 * DAY)
                .await
                .unwrap()
                .is_none(),
            "{backend}: expired"
        );
        access::touch_session(pool, "s1", 30).await.unwrap();
        access::add_token(pool, "t1", user_id, "cli", 0)
            .await
            .unwrap();
        assert_eq!(
            access::token_user(pool, "t1").await.unwrap().unwrap().name,
            "li"
        );
        assert!(
            access::set_password(pool, "li", "$argon2id$y")
                .await
                .unwrap()
        );
        assert!(access::disable_user(pool, "li").await.unwrap());
        assert!(
            access::session(pool, "s1", 40).await.unwrap().is_none(),
            "{backend}: disabled"
        );
        assert!(access::token_user(pool, "t1").await.unwrap().is_none());
        assert!(access::users(pool).await.unwrap()[0].disabled);
        access::end_session(pool, "none", 50, 0).await.unwrap();

        // The audit log and consent.
        let entry = AuditEntry {
            ts_ms: 1,
            actor: "li".into(),
            action: "view".into(),
            target: "household/h1".into(),
            detail: String::new(),
            source: "127.0.0.1".into(),
        };
        access::audit(pool, &entry).await.unwrap();
        assert_eq!(
            access::audit_log(pool, 10).await.unwrap(),
            [entry],
            "{backend}"
        );
        assert!(access::consent(pool, "h1").await.unwrap().is_none());
        let consent = Consent {
            family_sees_usage: true,
            recorded_by: "olga".into(),
            recorded_ms: 3,
            note: "form".into(),
        };
        access::set_consent(pool, "h1", &consent).await.unwrap();
        let changed = Consent {
            family_sees_usage: false,
            ..consent
        };
        access::set_consent(pool, "h1", &changed).await.unwrap();
        assert_eq!(
            access::consent(pool, "h1").await.unwrap(),
            Some(changed),
            "{backend}"
        );
    }
}

/// A meter's engine state after `days` days of hourly readings with use in
/// the daytime hours, ending at the returned time.
fn learned_state(
    meter: &str,
    days: i64,
) -> (
    waterwatch_rules::Engine,
    chrono::DateTime<chrono::FixedOffset>,
) {
    let mut engine = waterwatch_rules::Engine::new(waterwatch_rules::RuleSet::default_rules());
    let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let start = chrono::DateTime::from_timestamp_millis(40 * DAY)
        .unwrap()
        .with_timezone(&offset);
    let mut total = 1000.0;
    let mut ts = start;
    for hour in 0..days * 24 {
        ts = start + chrono::Duration::hours(hour);
        if (7..21).contains(&(hour % 24)) {
            total += 12.0;
        }
        let reading = waterwatch_rules::Reading {
            meter_id: meter.into(),
            ts,
            total_l: total,
            flow_lpm: None,
            battery_pct: None,
            rssi_dbm: None,
            status: Vec::new(),
        };
        engine.observe(&reading, ts);
    }
    (engine, ts)
}

#[tokio::test]
async fn the_overview_reads_the_stored_summary_and_the_state_where_none_is_stored_yet() {
    use waterwatch::store::dashboard::StateSummary;
    use waterwatch::store::ingest::{self, SavedState};
    use waterwatch::web::view;

    let (mut engine, last) = learned_state("m-new", 4);
    let new_state = engine.meter_state("m-new").unwrap();
    let (mut old_engine, _) = learned_state("m-old", 4);
    // Hours without a reading: the old meter's meter_offline alert fires.
    old_engine.tick(last + chrono::Duration::hours(6));
    let old_state = old_engine.meter_state("m-old").unwrap();
    assert_eq!(
        StateSummary::of(&old_state),
        StateSummary {
            baseline_days: new_state.baseline().days(),
            offline: true
        },
        "the fixture: same days learned, the old meter offline"
    );
    engine.tick(last + chrono::Duration::minutes(30));
    let new_state = engine.meter_state("m-new").unwrap();
    let learned = StateSummary::of(&new_state);
    assert!(
        learned.baseline_days >= 3 && !learned.offline,
        "{learned:?}"
    );

    for (backend, store, _dir) in common::stores().await {
        let pool = store.pool();
        exec(&store, "INSERT INTO households (id, created_ms) VALUES ('h-new', 0), ('h-old', 0), ('h-gone', 0), ('h-quiet', 0)").await;
        exec(&store, "INSERT INTO meters (id, household_id, created_ms) VALUES ('m-new', 'h-new', 0), ('m-old', 'h-old', 0), ('m-gone', 'h-gone', 0)").await;
        let seen = last.timestamp_millis();
        sqlx::query(
            "INSERT INTO meters (id, household_id, created_ms, last_seen_ms) \
             VALUES ('m-quiet', 'h-quiet', 0, $1)",
        )
        .bind(seen)
        .execute(pool)
        .await
        .unwrap();
        let new_json = serde_json::to_string(&new_state).unwrap();
        let mut conn = pool.acquire().await.unwrap();
        ingest::save_meter(
            &mut conn,
            "m-new",
            seen,
            seen,
            SavedState {
                json: &new_json,
                summary: learned,
            },
        )
        .await
        .unwrap();
        // m-quiet: state saved by a time-only evaluation, never a reading.
        let quiet = SavedState {
            json: "{}",
            summary: StateSummary {
                baseline_days: 0,
                offline: true,
            },
        };
        ingest::save_engine_states(&mut conn, &[("m-quiet", quiet)])
            .await
            .unwrap();
        // m-old and m-gone: saved before migration 0008, no summary columns.
        for (meter, state) in [("m-old", &new_state), ("m-gone", &old_state)] {
            sqlx::query(
                "UPDATE meters SET engine_state = $1, last_seen_ms = $2, last_reading_ms = $2 \
                 WHERE id = $3",
            )
            .bind(serde_json::to_string(state).unwrap())
            .bind(seen)
            .bind(meter)
            .execute(&mut *conn)
            .await
            .unwrap();
        }

        let meters = dashboard::meters(pool, None).await.unwrap();
        let [gone, new, old, quiet] = &meters[..] else {
            panic!("{backend}: {meters:?}")
        };
        assert_eq!(new.id, "m-new");
        assert_eq!(
            (new.summary, new.engine_state.is_none()),
            (Some(learned), true),
            "{backend}: the summary, not the state"
        );
        assert_eq!(
            (old.summary, old.engine_state.is_some()),
            (None, true),
            "{backend}: no summary stored, so the state"
        );
        assert_eq!(view::summary(old), Some(learned), "{backend}");
        assert_eq!(
            view::summary(gone),
            Some(StateSummary::of(&old_state)),
            "{backend}"
        );
        assert_eq!(
            quiet.summary,
            Some(StateSummary {
                baseline_days: 0,
                offline: true
            }),
            "{backend}"
        );
        let with_state = dashboard::meters_with_state(pool, Some("h-new"))
            .await
            .unwrap();
        assert_eq!(
            view::meter_state(&with_state[0]).map(|s| s.baseline().days()),
            Some(learned.baseline_days),
            "{backend}: the state when asked for"
        );

        let households = dashboard::households(pool).await.unwrap();
        let rules = waterwatch_rules::RuleSet::default_rules();
        let statuses = view::statuses(&view::Facts {
            households: &households,
            meters: &meters,
            cases: &[],
            suppressions: &[],
            rules: &rules,
            now_ms: seen + 1,
            lang: waterwatch_rules::Language::En,
        });
        let state_of = |id: &str| {
            let s = statuses.iter().find(|s| s.household.id == id).unwrap();
            (s.state, s.detail.clone())
        };
        let learning = (
            view::State::Learning,
            format!(
                "Days learned {}/{}",
                learned.baseline_days, rules.baseline.learning_days
            ),
        );
        assert_eq!(state_of("h-new"), learning, "{backend}");
        assert_eq!(state_of("h-old"), learning, "{backend}: from the state");
        assert_eq!(state_of("h-gone").0, view::State::Silent, "{backend}");
        assert_eq!(state_of("h-quiet").0, view::State::Silent, "{backend}");

        // Withdrawal forgets the summary with the state.
        waterwatch::store::purge::withdraw(&mut conn, "h-new", seen)
            .await
            .unwrap();
        let meters = dashboard::meters(pool, Some("h-new")).await.unwrap();
        assert_eq!(
            (meters[0].summary, meters[0].engine_state.as_deref()),
            (None, None),
            "{backend}"
        );
    }
}

#[tokio::test]
async fn a_household_left_without_meters_leaves_the_overview_unless_a_case_is_open() {
    use waterwatch::web::view;
    for (backend, store, _dir) in common::stores().await {
        let pool = store.pool();
        // m-new registered itself on its first reading (its own household),
        // then the registry listed it for h1; m-gone's household has an
        // open case still.
        exec(
            &store,
            "INSERT INTO households (id, created_ms) VALUES ('m-new', 0), ('h1', 0), ('m-gone', 0)",
        )
        .await;
        exec(&store, "INSERT INTO meters (id, household_id, created_ms) VALUES ('m-new', 'h1', 0), ('m-gone', 'h1', 0)").await;
        exec(
            &store,
            "UPDATE meters SET replaced_by = 'm-new' WHERE id = 'm-gone'",
        )
        .await;
        exec(&store, "INSERT INTO cases (household_id, opened_ms, severity) VALUES ('m-gone', 1000, 'critical')").await;
        let meters = dashboard::meters(pool, None).await.unwrap();
        let open = dashboard::cases(pool, i64::MAX, None).await.unwrap();
        let listed: Vec<String> = dashboard::households(pool)
            .await
            .unwrap()
            .into_iter()
            .filter(|h| view::on_overview(h, &meters, &open))
            .map(|h| h.id)
            .collect();
        assert_eq!(listed, ["h1", "m-gone"], "{backend}");
    }
}
