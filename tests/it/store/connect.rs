//! Opening the store: URLs, files, and what an outage looks like.

use std::time::Duration;

use anbud::store::{Store, StoreError, StoreOptions};
use sqlx::Connection;

#[tokio::test]
async fn sqlite_creates_its_directory_and_runs_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not/there/yet/anbud.sqlite");
    let url = format!("sqlite://{}", file.display());
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(store.backend_name(), "sqlite");
    assert!(file.is_file());
    store.close().await;

    // WAL is a property of the file; check it from a plain connection.
    let mut plain = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut plain)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // Connecting again finds the schema in place.
    assert_eq!(
        Store::connect(&url)
            .await
            .unwrap()
            .knowledge_version()
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn unknown_url_scheme_is_refused() {
    match Store::connect("mysql://localhost/anbud").await {
        Err(StoreError::UnsupportedUrl { scheme }) => assert_eq!(scheme, "mysql"),
        other => panic!("expected UnsupportedUrl, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_postgres_is_unavailable() {
    let options = StoreOptions {
        acquire_timeout: Duration::from_secs(1),
        ..StoreOptions::default()
    };
    let error = Store::connect_with("postgres://postgres@127.0.0.1:1/anbud", &options)
        .await
        .unwrap_err();
    assert!(error.is_unavailable(), "{error:?}");
}

#[tokio::test]
async fn blocked_sqlite_directory_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("data");
    std::fs::write(&blocker, b"a file, not a directory").unwrap();
    let url = format!("sqlite://{}", blocker.join("anbud.sqlite").display());
    let error = Store::connect(&url).await.unwrap_err();
    assert!(error.is_unavailable(), "{error:?}");
}
