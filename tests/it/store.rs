//! Tests of the store against both databases.
//!
//! Each behaviour is written once, as a function taking a [`TestDb`], and
//! [`on_both_databases!`] turns it into a `sqlite::NAME` and a `postgres::NAME`
//! test. SQLite gets a fresh file per test. PostgreSQL gets a fresh database
//! per test on the server named by `ANBUD_TEST_POSTGRES_URL`; without that
//! variable the PostgreSQL tests say so and pass (and fail when `CI` is set), and
//! with it they fail when the server cannot be reached, so CI cannot go green by
//! accident.

mod claims;
mod connect;
mod crash;
pub(crate) mod group_commit;
mod knowledge;
mod lang;
mod outbox;
mod privacy;
mod queue;
pub(crate) mod resilience;
mod stats;

use std::sync::atomic::{AtomicU64, Ordering};

use anbud::knowledge::Lang;
use anbud::store::{NewUnanswered, Origin, QueueItemId, Reason, Source, Store};
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::Connection;

/// The variable naming the PostgreSQL server for tests, e.g.
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const POSTGRES_URL_VAR: &str = "ANBUD_TEST_POSTGRES_URL";

/// A database of one test, removed when the test ends.
pub struct TestDb {
    /// The URL to give `Store::connect`.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<PostgresCleanup>,
}

struct PostgresCleanup {
    base_url: String,
    name: String,
}

impl TestDb {
    /// A fresh SQLite file in its own temporary directory.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("anbud.sqlite").display());
        TestDb {
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a note) when no server is
    /// configured. Panics when one is configured but cannot be reached, and under CI
    /// when none is configured (see [`postgres_url`]).
    pub async fn postgres() -> Option<TestDb> {
        let base_url = postgres_url()?;
        let name = unique_name("anbud_test");
        let mut admin = sqlx::PgConnection::connect(&base_url)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}={base_url} cannot be reached: {e}"));
        // The name is made here from digits and underscores, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
        let _ = admin.close().await;
        Some(TestDb {
            url: with_database(&base_url, &name),
            _dir: None,
            postgres: Some(PostgresCleanup { base_url, name }),
        })
    }

    /// A new connection pool on this database, migrated.
    pub async fn store(&self) -> Store {
        Store::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("connect to {}: {e:?}", self.url))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(cleanup) = self.postgres.take() else {
            return;
        };
        // Best effort, on a thread of its own: Drop cannot await, and the
        // test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&cleanup.base_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", cleanup.name);
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut admin)
                        .await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// The PostgreSQL server for tests (from [`POSTGRES_URL_VAR`]), or `None` with a note
/// that the PostgreSQL variant is skipped. When the variable `CI` is set (to anything
/// but empty, `0` or `false`) a missing server fails the test instead: CI must not go
/// green by skipping.
pub fn postgres_url() -> Option<String> {
    postgres_url_from(
        std::env::var(POSTGRES_URL_VAR).ok(),
        std::env::var("CI").ok(),
    )
    .unwrap_or_else(|message| panic!("{message}"))
}

/// [`postgres_url`] from the two variables' values: the URL, none (skip), or why not.
fn postgres_url_from(url: Option<String>, ci: Option<String>) -> Result<Option<String>, String> {
    let in_ci = ci.is_some_and(|ci| !matches!(ci.trim(), "" | "0" | "false"));
    match url.filter(|url| !url.trim().is_empty()) {
        Some(url) => Ok(Some(url)),
        None if in_ci => Err(format!(
            "CI is set but {POSTGRES_URL_VAR} is not: the PostgreSQL tests would be skipped \
             (.ci/run sets it up)"
        )),
        None => {
            eprintln!("skipped: set {POSTGRES_URL_VAR} to run the PostgreSQL variant");
            Ok(None)
        }
    }
}

/// A name no other test (in this or another process) uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// `base` with its database name replaced by `name`.
pub fn with_database(base: &str, name: &str) -> String {
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

/// Now, at the precision the databases keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// A Discord origin of `user` in a guild channel, replying to `message`.
pub fn discord(user: &str, message: &str) -> Origin {
    Origin {
        source: Source::Discord,
        guild_id: Some("900000000000000001".into()),
        channel_id: Some("900000000000000002".into()),
        message_id: Some(message.into()),
        thread_id: None,
        user_id: Some(user.into()),
    }
}

/// An abstained question from `origin`, asked now.
pub fn unanswered(question: &str, origin: Origin) -> NewUnanswered {
    NewUnanswered {
        question: question.into(),
        lang: Lang::Nb,
        origin,
        best_candidate: None,
        score: 0.0,
        reason: Reason::Abstained,
        asked_at: now(),
    }
}

/// Files `question` from `origin` in the queue; the item it went to.
pub async fn file(store: &Store, question: &str, origin: Origin) -> QueueItemId {
    store
        .log_unanswered(&unanswered(question, origin))
        .await
        .unwrap()
        .item_id
}

/// A value bound to a statement run by [`execute`].
pub enum Bind<'a> {
    Text(&'a str),
    Int(i64),
}

/// Runs `sql` on the test database directly, behind the store's back (to set up what
/// an older version or a migration left).
pub async fn execute(url: &str, sql: &'static str, binds: &[Bind<'_>]) {
    macro_rules! run {
        ($conn:expr) => {{
            let mut query = sqlx::query(sql);
            for bind in binds {
                query = match bind {
                    Bind::Text(text) => query.bind(*text),
                    Bind::Int(n) => query.bind(*n),
                };
            }
            query.execute(&mut $conn).await.unwrap();
        }};
    }
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        run!(conn);
        let _ = conn.close().await;
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        run!(conn);
        let _ = conn.close().await;
    }
}

/// The number `sql` (a `SELECT COUNT(*)`) gives on the test database, read behind the
/// store's back (so nothing is claimed).
pub async fn count(url: &str, sql: &'static str) -> i64 {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    }
}

/// Every value of every table, as text, one row per line (to look for a text anywhere
/// in the database).
pub async fn all_stored_text(url: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        for table in tables {
            // Names from the schema, never from input.
            let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{table}')"
            )))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            let row = columns
                .iter()
                .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), '')"))
                .collect::<Vec<_>>()
                .join(" || ' | ' || ");
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT {row} FROM \"{table}\""
            )))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            lines.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
        }
        let _ = conn.close().await;
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&mut conn)
                .await
                .unwrap();
        for table in tables {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(t AS TEXT) FROM \"{table}\" t"
            )))
            .fetch_all(&mut conn)
            .await
            .unwrap();
            lines.extend(rows.into_iter().map(|r| format!("{table}: {r}")));
        }
        let _ = conn.close().await;
    }
    lines.join("\n")
}

/// Generates `sqlite::NAME` and `postgres::NAME` tests from async functions
/// `NAME(&TestDb)` in the invoking module.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::store::TestDb::sqlite().await;
                    super::$name(&db).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = crate::store::TestDb::postgres().await else {
                        return;
                    };
                    super::$name(&db).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_databases;

#[test]
fn postgres_tests_skip_only_outside_ci() {
    let url = || Some("postgres://postgres@127.0.0.1:5432/test".to_string());
    let some = |v: &str| Some(v.to_string());
    assert_eq!(postgres_url_from(url(), some("true")), Ok(url()));
    assert_eq!(postgres_url_from(None, None), Ok(None));
    assert_eq!(postgres_url_from(None, some("false")), Ok(None));
    assert_eq!(postgres_url_from(None, some("")), Ok(None));
    assert!(postgres_url_from(None, some("true")).is_err());
    assert!(postgres_url_from(None, some("1")).is_err());
    assert!(postgres_url_from(some(""), some("true")).is_err());
}

#[test]
fn database_name_is_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
}
