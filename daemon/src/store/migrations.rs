//! The schema's migrations, embedded in the binary: one list per backend,
//! applied in order by sqlx's migrator, which records each in
//! `_sqlx_migrations` with the checksum of its SQL (a changed file is an
//! error, never silently run again).
//!
//! Design: listed here with `include_str!` rather than found by
//! `sqlx::migrate!`, whose proc macro builds a second copy of sqlx and both
//! drivers for the build host (a minute and a half of CI on two cores).
//! Versions and descriptions come from the file names as `migrate!` took
//! them, so a database migrated by an earlier build is recognised; a test
//! checks that every file in `migrations/` is listed.

use std::borrow::Cow;

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

use super::Backend;

/// `(file name, SQL)` of each migration, in order, for each backend: both
/// have the same files (one schema, written for each).
macro_rules! embedded {
    ($($file:literal),* $(,)?) => {
        const SQLITE: &[(&str, &str)] =
            &[$(($file, include_str!(concat!("../../migrations/sqlite/", $file)))),*];
        const POSTGRES: &[(&str, &str)] =
            &[$(($file, include_str!(concat!("../../migrations/postgres/", $file)))),*];
    };
}

embedded!(
    "0001_init.sql",
    "0002_case_progress.sql",
    "0003_suppressions.sql",
    "0004_delivery.sql",
    "0005_access.sql",
    "0006_withdrawal.sql",
    "0007_signal.sql",
    "0008_state_summary.sql",
    "0009_replaced_meters.sql",
    "0010_registry_fingerprint.sql",
);

fn files(backend: Backend) -> &'static [(&'static str, &'static str)] {
    match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    }
}

/// The migrator for `backend`'s schema.
pub(super) fn migrator(backend: Backend) -> Migrator {
    Migrator::with_migrations(
        files(backend)
            .iter()
            .map(|&(name, sql)| migration(name, sql))
            .collect(),
    )
}

/// `0002_case_progress.sql` is version 2, "case progress" (as sqlx names it).
fn migration(file: &str, sql: &'static str) -> Migration {
    let (version, rest) = file
        .split_once('_')
        .unwrap_or_else(|| panic!("migration {file} is not named VERSION_DESCRIPTION.sql"));
    let version = version
        .parse()
        .unwrap_or_else(|_| panic!("migration {file} does not start with its version"));
    let description = rest.trim_end_matches(".sql").replace('_', " ");
    let no_transaction = sql.starts_with("-- no-transaction");
    Migration::new(
        version,
        Cow::Owned(description),
        MigrationType::Simple,
        sql.into_sql_str(),
        no_transaction,
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn every_migration_file_is_embedded_in_order_with_its_current_text() {
        for (backend, dir) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(dir);
            let mut on_disk: Vec<(String, String)> = std::fs::read_dir(&dir)
                .expect("the migrations directory")
                .map(|entry| entry.expect("a directory entry").path())
                .filter(|path| path.extension().is_some_and(|e| e == "sql"))
                .map(|path| {
                    let name = path
                        .file_name()
                        .expect("a name")
                        .to_string_lossy()
                        .into_owned();
                    (
                        name,
                        std::fs::read_to_string(&path).expect("a migration's SQL"),
                    )
                })
                .collect();
            on_disk.sort();
            let embedded: Vec<(String, String)> = files(backend)
                .iter()
                .map(|&(n, s)| (n.to_owned(), s.to_owned()))
                .collect();
            assert_eq!(
                embedded,
                on_disk,
                "migrations/{} and the embedded list differ",
                dir.display()
            );
        }
    }

    #[test]
    fn versions_and_descriptions_are_read_from_the_file_names_as_sqlx_reads_them() {
        let migrator = migrator(Backend::Sqlite);
        let read: Vec<(i64, &str)> = migrator
            .iter()
            .map(|m| (m.version, m.description.as_ref()))
            .collect();
        assert_eq!(read[0], (1, "init"));
        assert_eq!(read[1], (2, "case progress"));
        assert!(
            read.windows(2).all(|w| w[0].0 < w[1].0),
            "versions in order: {read:?}"
        );
        assert!(
            migrator
                .iter()
                .all(|m| m.migration_type == MigrationType::Simple && !m.no_tx)
        );
    }
}
