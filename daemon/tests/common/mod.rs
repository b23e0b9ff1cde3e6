//! Shared helpers for the daemon's integration tests: a fresh database per
//! test on each backend.

#![allow(dead_code)]

pub mod formats;
pub mod timeline;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use sqlx::Connection;
use waterwatch::config::UnknownMeters;
use waterwatch::ingest::native::TimeWindow;
use waterwatch::process::Settings;
use waterwatch::store::Store;

/// A fresh store on each backend this machine offers: SQLite always,
/// PostgreSQL when `WW_TEST_POSTGRES_URL` points at a server (CI sets it).
pub async fn stores() -> Vec<(String, Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite_url = format!("sqlite://{}", dir.path().join("test.db").display());
    let mut out = vec![(
        "sqlite".to_string(),
        Store::connect(&sqlite_url).await.expect("sqlite store"),
        dir,
    )];
    if let Some(url) = fresh_postgres().await {
        let dir = tempfile::tempdir().expect("temp dir");
        out.push((
            "postgres".to_string(),
            Store::connect(&url).await.expect("postgres store"),
            dir,
        ));
    }
    out
}

/// A new, empty PostgreSQL database, or `None` when none is configured.
pub async fn fresh_postgres() -> Option<String> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let Ok(admin) = std::env::var("WW_TEST_POSTGRES_URL") else {
        eprintln!("WW_TEST_POSTGRES_URL is not set: PostgreSQL not tested here (CI sets it)");
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!(
        "ww_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let mut conn = sqlx::AnyConnection::connect(&admin)
        .await
        .expect("WW_TEST_POSTGRES_URL is set but PostgreSQL does not answer");
    static SWEPT: AtomicBool = AtomicBool::new(false);
    // Which processes have ended is read from /proc (Linux only).
    if std::path::Path::new("/proc/self").exists() && !SWEPT.swap(true, Ordering::SeqCst) {
        drop_left_behind(&mut conn).await;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let (base, _) = admin
        .rsplit_once('/')
        .expect("a database URL ends with /db");
    Some(format!("{base}/{name}"))
}

/// Drops the test databases of test processes that have ended (the name
/// carries the process id), so runs do not pile them up on the server.
/// Best effort: a database still in use, or a server that refuses, is left.
async fn drop_left_behind(conn: &mut sqlx::AnyConnection) {
    let names: Vec<String> = match sqlx::query_scalar(
        "SELECT datname::text FROM pg_database WHERE datname LIKE 'ww_test_%'",
    )
    .fetch_all(&mut *conn)
    .await
    {
        Ok(names) => names,
        Err(e) => {
            eprintln!("cannot list old test databases: {e}");
            return;
        }
    };
    for name in names {
        let pid = name
            .strip_prefix("ww_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let ended = pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists());
        if ended
            && let Err(e) = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name}"
            )))
            .execute(&mut *conn)
            .await
        {
            eprintln!("cannot drop the old test database {name}: {e}");
        }
    }
}

/// The households' time zone in these tests, +08:00.
pub fn offset() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00")
}

/// `hh:mm` local (+08:00) on 2026-11-`day`.
pub fn on(day: u32, hh: u32, mm: u32) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    offset()
        .with_ymd_and_hms(2026, 11, day, hh, mm, 0)
        .single()
        .expect("a time")
        .to_utc()
}

/// The processor's settings for household `h1` in `grid-7` (resident Zhang
/// Mei), displayed at +08:00, new meters registered; no channels, contacts
/// or routes: each test adds its own.
pub fn settings() -> Settings {
    Settings {
        router: waterwatch::ingest::adapter::Router::new("waterwatch", &[]),
        unknown_meters: UnknownMeters::Register,
        window: TimeWindow::default(),
        max_payload_bytes: 256 * 1024,
        dead_letters_kept: 100,
        channels: vec![],
        contacts: vec![],
        grids: [("h1".to_string(), "grid-7".to_string())].into(),
        templates: Default::default(),
        links: None,
        display_offset: chrono::FixedOffset::east_opt(8 * 3600).expect("+08:00"),
        routes: vec![],
        names: [("h1".to_string(), "Zhang Mei".to_string())].into(),
        ops: Default::default(),
    }
}
