//! Shared helpers for the daemon's integration tests: a fresh database per
//! test on each backend.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
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
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    let (base, _) = admin
        .rsplit_once('/')
        .expect("a database URL ends with /db");
    Some(format!("{base}/{name}"))
}
