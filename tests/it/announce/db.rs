//! A fresh database per test, on SQLite and (when configured) PostgreSQL.
//!
//! The same helper as the store's tests (`tests/it/store.rs` on the store branch);
//! kept here so this module stands alone until the two are merged.

use std::sync::atomic::{AtomicU64, Ordering};

use anbud::store::Store;
use sqlx::Connection;

/// The variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "ANBUD_TEST_POSTGRES_URL";

/// A database of one test, removed when the test ends.
pub struct TestDb {
    /// The URL to give `Store::connect`.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite file in its own temporary directory.
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("anbud.sqlite").display());
        TestDb { url, _dir: Some(dir), postgres: None }
    }

    /// A fresh PostgreSQL database, or `None` (with a note) when no server is
    /// configured. Panics when one is configured but cannot be reached.
    pub async fn postgres() -> Option<TestDb> {
        let Ok(base_url) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!("skipped: set {POSTGRES_URL_VAR} to run the PostgreSQL variant");
            return None;
        };
        let name = unique_name("anbud_announce");
        let mut admin = sqlx::PgConnection::connect(&base_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}={base_url} cannot be reached: {e}"));
        // The name is made here from digits and underscores, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = admin.close().await;
        Some(TestDb { url: with_database(&base_url, &name), _dir: None, postgres: Some((base_url, name)) })
    }

    /// A new connection pool on this database, migrated. Two calls give two pools:
    /// two bot processes.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url).await.unwrap_or_else(|e| panic!("connect to {}: {e:?}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base_url, name)) = self.postgres.take() else { return };
        // Best effort, on a thread of its own: Drop cannot await.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&base_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed))
}

fn with_database(base: &str, name: &str) -> String {
    let (without_query, query) = match base.split_once('?') {
        Some((url, query)) => (url, format!("?{query}")),
        None => (base, String::new()),
    };
    let authority_start = without_query.find("://").map_or(0, |i| i + 3);
    let server = match without_query[authority_start..].find('/') {
        Some(slash) => &without_query[..authority_start + slash],
        None => without_query,
    };
    format!("{server}/{name}{query}")
}

/// Generates `sqlite::NAME` and `postgres::NAME` tests from async functions
/// `NAME(&TestDb)` in the invoking module.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::announce::db::TestDb::sqlite();
                    super::$name(&db).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = crate::announce::db::TestDb::postgres().await else { return };
                    super::$name(&db).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_databases;
