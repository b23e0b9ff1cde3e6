//! The hot path's batched writes against each store backend: readings
//! inserted a chunk at a time with repeats recognised, meters registered and
//! their engine state saved a chunk at a time; the household registry
//! synced a chunk at a time (and not again while it is the same) and the
//! meters read back a page at a time.

mod common;

use chrono::{DateTime, FixedOffset, TimeZone};
use sqlx::Row;
use waterwatch::store::Store;
use waterwatch::store::dashboard::StateSummary;
use waterwatch::store::ingest::{self, HeardMeter, ROWS_PER_STATEMENT, SavedState};
use waterwatch::store::registry;
use waterwatch_rules::Reading;

fn at(minute: i64) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    offset
        .with_ymd_and_hms(2026, 11, 24, 0, 0, 0)
        .single()
        .expect("a time")
        + chrono::Duration::minutes(minute)
}

fn reading(meter: &str, minute: i64, total_l: f64) -> Reading {
    Reading {
        meter_id: meter.to_owned(),
        ts: at(minute),
        total_l,
        flow_lpm: None,
        battery_pct: Some(90.0),
        rssi_dbm: None,
        status: vec![],
    }
}

async fn insert(store: &Store, readings: &[Reading], received_ms: i64) -> Vec<bool> {
    let mut tx = store.pool().begin().await.expect("begin");
    let is_new = ingest::insert_readings(&mut tx, readings, received_ms)
        .await
        .expect("inserted");
    tx.commit().await.expect("commit");
    is_new
}

async fn register(store: &Store, meters: &[String]) {
    let mut tx = store.pool().begin().await.expect("begin");
    ingest::register_meters(&mut tx, meters, 0)
        .await
        .expect("registered");
    tx.commit().await.expect("commit");
}

/// A statement's worth of meters and three more, registered, and for each
/// a stored state that names it.
async fn many_meters(store: &Store) -> (Vec<String>, Vec<String>) {
    let meters: Vec<String> = (0..ROWS_PER_STATEMENT + 3)
        .map(|i| format!("m{i:04}"))
        .collect();
    register(store, &meters).await;
    let states = meters
        .iter()
        .map(|m| format!(r#"{{"of":"{m}"}}"#))
        .collect();
    (meters, states)
}

async fn total_l(store: &Store, meter: &str, minute: i64) -> f64 {
    sqlx::query("SELECT total_l FROM readings WHERE meter_id = $1 AND ts_ms = $2")
        .bind(meter)
        .bind(at(minute).timestamp_millis())
        .fetch_one(store.pool())
        .await
        .and_then(|row| row.try_get(0))
        .expect("a stored reading")
}

#[tokio::test]
async fn a_batch_longer_than_a_statement_stores_each_new_reading_once_and_flags_the_repeats() {
    for (backend, store, _dir) in common::stores().await {
        let many: Vec<String> = (0..2 * ROWS_PER_STATEMENT + 7)
            .map(|i| format!("m{i:04}"))
            .collect();
        register(&store, &many).await;
        register(&store, &["new".to_owned()]).await;
        assert_eq!(
            insert(&store, &[reading("m0003", 0, 5.0)], 1).await,
            vec![true],
            "{backend}"
        );

        let mut batch = vec![
            reading("m0003", 0, 99.0), // redelivered: stored before
            reading("new", 0, 10.0),   // a meter first heard of now
            reading("new", 0, 11.0),   // the same meter and time again
        ];
        batch.extend(many.iter().map(|m| reading(m, 15, 20.0)));
        batch.push(reading(&many[0], 15, 21.0)); // a repeat in the last chunk
        let is_new = insert(&store, &batch, 2).await;

        let mut expected = vec![false, true, false];
        expected.extend(many.iter().map(|_| true));
        expected.push(false);
        assert_eq!(is_new, expected, "{backend}");
        assert_eq!(
            ingest::count_readings(store.pool(), "m0003")
                .await
                .expect("n"),
            2,
            "{backend}"
        );
        assert_eq!(total_l(&store, "m0003", 0).await, 5.0, "{backend}: kept");
        assert_eq!(total_l(&store, "new", 0).await, 10.0, "{backend}: first");
        assert_eq!(total_l(&store, &many[0], 15).await, 20.0, "{backend}");

        // Delivered again, all of it is recognised.
        let again = insert(&store, &batch, 3).await;
        assert!(again.iter().all(|new| !new), "{backend}");
    }
}

#[tokio::test]
async fn registering_known_meters_again_leaves_their_household_alone() {
    for (backend, store, _dir) in common::stores().await {
        sqlx::query("INSERT INTO households (id, created_ms) VALUES ('h1', 0)")
            .execute(store.pool())
            .await
            .expect("household");
        sqlx::query("INSERT INTO meters (id, household_id, created_ms) VALUES ('m1', 'h1', 0)")
            .execute(store.pool())
            .await
            .expect("meter");
        let mut meters: Vec<String> = (0..ROWS_PER_STATEMENT + 1)
            .map(|i| format!("n{i}"))
            .collect();
        meters.push("m1".to_owned());
        register(&store, &meters).await;

        let rows = sqlx::query("SELECT id, household_id FROM meters ORDER BY id")
            .fetch_all(store.pool())
            .await
            .expect("meters");
        assert_eq!(rows.len(), ROWS_PER_STATEMENT + 2, "{backend}");
        for row in rows {
            let id: String = row.try_get("id").expect("id");
            let household: String = row.try_get("household_id").expect("household");
            let expected = if id == "m1" { "h1" } else { id.as_str() };
            assert_eq!(household, expected, "{backend}");
        }
    }
}

#[tokio::test]
async fn saving_many_meters_gives_each_its_own_state_and_never_moves_the_newest_reading_back() {
    for (backend, store, _dir) in common::stores().await {
        let (meters, states) = many_meters(&store).await;
        sqlx::query("UPDATE meters SET last_reading_ms = 5000 WHERE id = 'm0001'")
            .execute(store.pool())
            .await
            .expect("an earlier reading");

        let heard: Vec<HeardMeter> = meters
            .iter()
            .zip(&states)
            .enumerate()
            .map(|(i, (meter, json))| HeardMeter {
                id: meter,
                last_seen_ms: 9000,
                newest_reading_ms: 1000 + i as i64,
                state: SavedState {
                    json,
                    summary: StateSummary {
                        baseline_days: i as u32,
                        offline: i % 2 == 1,
                    },
                },
            })
            .collect();
        let mut conn = store.pool().acquire().await.expect("connection");
        ingest::save_meters(&mut conn, &heard).await.expect("saved");

        let rows = sqlx::query(
            "SELECT id, last_seen_ms, last_reading_ms, engine_state, baseline_days, offline \
             FROM meters ORDER BY id",
        )
        .fetch_all(store.pool())
        .await
        .expect("meters");
        assert_eq!(rows.len(), meters.len(), "{backend}");
        for (i, row) in rows.iter().enumerate() {
            let id: String = row.try_get("id").expect("id");
            let newest = if id == "m0001" { 5000 } else { 1000 + i as i64 };
            let got: (i64, i64, String, i64, i64) = (
                row.try_get("last_seen_ms").expect("seen"),
                row.try_get("last_reading_ms").expect("newest"),
                row.try_get("engine_state").expect("state"),
                row.try_get("baseline_days").expect("days"),
                row.try_get("offline").expect("offline"),
            );
            assert_eq!(
                got,
                (
                    9000,
                    newest,
                    format!(r#"{{"of":"{id}"}}"#),
                    i as i64,
                    (i % 2) as i64
                ),
                "{backend}: {id}"
            );
        }
    }
}

#[tokio::test]
async fn a_registry_longer_than_a_statement_is_synced_in_chunks_and_read_back_page_by_page() {
    for (backend, store, _dir) in common::stores().await {
        // Two and a half statements of households, the last one listed twice
        // (the later entry wins, as writing them in turn would) and a meter
        // moving to it; read back over more than one page of meters.
        let n = 2 * ROWS_PER_STATEMENT + ROWS_PER_STATEMENT / 2;
        let mut registry: Vec<registry::HouseholdRow> = (0..n)
            .map(|i| registry::HouseholdRow {
                id: format!("h{i:05}"),
                name: Some(format!("Resident {i}")),
                grid: Some("grid-7".into()),
                meters: vec![format!("m{i:05}")],
                replaced: vec![],
            })
            .collect();
        registry.push(registry::HouseholdRow {
            id: "h00000".into(),
            name: Some("Renamed".into()),
            grid: Some("grid-9".into()),
            meters: vec!["m00000".into(), "m00001".into()],
            replaced: vec![],
        });
        let mut tx = store.pool().begin().await.expect("begin");
        registry::sync_households(&mut tx, &registry, 1_000)
            .await
            .expect("synced");
        tx.commit().await.expect("commit");

        let mut seen = Vec::new();
        registry::for_each_meter(store.pool(), |row| {
            seen.push((row.id, row.household_id));
            Ok(())
        })
        .await
        .expect("meters");
        assert_eq!(seen.len(), n, "{backend}");
        assert!(
            seen.windows(2).all(|w| w[0].0 < w[1].0),
            "{backend}: in id order"
        );
        // Read ahead a page at a time, the same meters in the same order.
        let mut pages = registry::MeterPages::read(store.pool().clone());
        let mut ahead = Vec::new();
        while let Some(page) = pages.next().await.expect("a page") {
            ahead.extend(page.into_iter().map(|row| (row.id, row.household_id)));
        }
        assert_eq!(ahead, seen, "{backend}");
        assert_eq!(
            registry::meter_count(store.pool()).await.expect("count"),
            n,
            "{backend}"
        );
        assert_eq!(seen[1], ("m00001".into(), "h00000".into()), "{backend}");
        assert_eq!(seen[n - 1].1, format!("h{:05}", n - 1), "{backend}");
        let renamed = sqlx::query("SELECT name, grid FROM households WHERE id = 'h00000'")
            .fetch_one(store.pool())
            .await
            .expect("household");
        assert_eq!(renamed.get::<String, _>("name"), "Renamed", "{backend}");
        assert_eq!(renamed.get::<String, _>("grid"), "grid-9", "{backend}");
    }
}

#[tokio::test]
async fn saving_the_states_of_many_meters_alone_gives_each_its_own() {
    for (backend, store, _dir) in common::stores().await {
        let (meters, jsons) = many_meters(&store).await;
        let states: Vec<(&str, SavedState)> = meters
            .iter()
            .zip(&jsons)
            .enumerate()
            .map(|(i, (meter, json))| {
                let summary = StateSummary {
                    baseline_days: i as u32,
                    offline: i % 2 == 1,
                };
                (meter.as_str(), SavedState { json, summary })
            })
            .collect();
        let mut conn = store.pool().acquire().await.expect("connection");
        ingest::save_engine_states(&mut conn, &states)
            .await
            .expect("saved");

        let rows = sqlx::query(
            "SELECT id, last_seen_ms, engine_state, baseline_days, offline FROM meters ORDER BY id",
        )
        .fetch_all(store.pool())
        .await
        .expect("meters");
        assert_eq!(rows.len(), meters.len(), "{backend}");
        for (i, row) in rows.iter().enumerate() {
            let id: String = row.try_get("id").expect("id");
            let got: (Option<i64>, String, i64, i64) = (
                row.try_get("last_seen_ms").expect("seen"),
                row.try_get("engine_state").expect("state"),
                row.try_get("baseline_days").expect("days"),
                row.try_get("offline").expect("offline"),
            );
            let want = (
                None,
                format!(r#"{{"of":"{id}"}}"#),
                i as i64,
                (i % 2) as i64,
            );
            assert_eq!(got, want, "{backend}: {id}");
        }
    }
}

#[tokio::test]
async fn the_same_registry_is_not_written_again_but_any_change_to_it_is() {
    for (backend, store, _dir) in common::stores().await {
        let household =
            |name: &str, meters: &[&str], replaced: &[(&str, &str)]| registry::HouseholdRow {
                id: "h1".into(),
                name: Some(name.into()),
                grid: Some("grid-1".into()),
                meters: meters.iter().map(|m| m.to_string()).collect(),
                replaced: replaced
                    .iter()
                    .map(|(old, new)| (old.to_string(), new.to_string()))
                    .collect(),
            };
        let sync = |rows: Vec<registry::HouseholdRow>| {
            let store = &store;
            async move {
                let mut tx = store.pool().begin().await.expect("begin");
                let written = registry::sync_households(&mut tx, &rows, 1_000)
                    .await
                    .expect("synced");
                tx.commit().await.expect("commit");
                written
            }
        };
        let name_of_h1 = || async {
            sqlx::query_scalar::<_, String>("SELECT name FROM households WHERE id = 'h1'")
                .fetch_one(store.pool())
                .await
                .expect("h1")
        };
        let first = vec![household("Zhang Mei", &["m2"], &[("m1", "m2")])];
        assert!(sync(first.clone()).await, "{backend}: a new registry");
        assert!(!sync(first.clone()).await, "{backend}: the same one again");
        // Each part of it counts: the name, a meter, a replacement, a
        // household more (texts are not run together: "m2" + "m3" is not
        // "m2m3").
        let changes = [
            vec![household("Zhang Wei", &["m2"], &[("m1", "m2")])],
            vec![household("Zhang Mei", &["m2", "m3"], &[("m1", "m2")])],
            vec![household("Zhang Mei", &["m2m3"], &[("m1", "m2")])],
            vec![household("Zhang Mei", &["m2"], &[])],
        ];
        for changed in changes {
            assert!(sync(changed.clone()).await, "{backend}: {changed:?}");
            assert!(!sync(changed).await, "{backend}");
        }
        // Another config wrote its registry since: this one is written again.
        assert!(sync(first.clone()).await, "{backend}");
        assert_eq!(name_of_h1().await, "Zhang Mei", "{backend}");
        assert!(
            sync(vec![household("Li Na", &["m2"], &[])]).await,
            "{backend}"
        );
        assert_eq!(name_of_h1().await, "Li Na", "{backend}");
        assert!(sync(first).await, "{backend}");
        assert_eq!(name_of_h1().await, "Zhang Mei", "{backend}");
        let replaced: Option<String> =
            sqlx::query_scalar("SELECT replaced_by FROM meters WHERE id = 'm1'")
                .fetch_one(store.pool())
                .await
                .expect("m1");
        assert_eq!(replaced.as_deref(), Some("m2"), "{backend}");
    }
}
