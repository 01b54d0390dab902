//! Guards against hostile input: SQL only with bound parameters (text that looks like SQL
//! is stored and read back verbatim and the tables stay), and configuration errors that
//! name the key without printing a secret. (Escaping user text for Discord is tested
//! beside `escape_user_text`.)

use anbud::config::{Overrides, Settings};
use anbud::knowledge::Lang;
use anbud::store::{LearnedEntry, Store};
use chrono::NaiveDate;
use sqlx::Connection;

use crate::store::{discord, on_both_databases, unanswered, TestDb};

/// Text that breaks SQL built by pasting strings together.
const SQL_LIKE: &[&str] = &[
    "'; DROP TABLE asks; --",
    "Robert'); DROP TABLE queue_items; --",
    "' OR '1'='1",
    "$1",
    "$2::text, $3",
    "?",
    "?1 ?2",
    "\\'; SELECT pg_sleep(10); --",
    "\"; DELETE FROM learned_entries; --",
    "%' AND question LIKE '%",
    "O'Brien's \"rammeavtale\"",
    "1; UPDATE knowledge_version SET version = 999",
];

const TABLES: &[&str] = &[
    "queue_items",
    "asks",
    "outbox",
    "feedback",
    "question_counts",
    "answer_counts",
    "learned_entries",
    "phrasings",
    "knowledge_version",
    "audit_log",
];

async fn table_names(url: &str) -> Vec<String> {
    let sql = if url.starts_with("sqlite:") {
        "SELECT name FROM sqlite_master WHERE type = 'table'"
    } else {
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    };
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    }
}

fn learned(id: &str, text: &str) -> LearnedEntry {
    LearnedEntry {
        id: id.into(),
        lang: Lang::Nb,
        title: text.into(),
        body: format!("Svar: {text}"),
        questions: vec![text.into()],
        keywords: vec![text.into()],
        source_name: text.into(),
        source_url: Some(format!("https://example.org/?q={text}")),
        reviewed: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        created_by: text.into(),
    }
}

async fn text_that_looks_like_sql_is_stored_verbatim(db: &TestDb) {
    let store: Store = db.store().await;
    let mut asked = Vec::new();
    for (i, text) in SQL_LIKE.iter().enumerate() {
        // A word of its own per question, so each is its own queue item.
        let question = format!(
            "{text} spørsmål{}",
            [
                "en", "to", "tre", "fire", "fem", "seks", "sju", "åtte", "ni", "ti", "elleve",
                "tolv"
            ][i]
        );
        store
            .log_unanswered(&unanswered(&question, discord(text, text)))
            .await
            .unwrap();
        asked.push(question);
    }
    let queue = store.list_queue(None).await.unwrap();
    let stored: Vec<String> = queue.iter().map(|item| item.question.clone()).collect();
    assert_eq!(
        stored, asked,
        "every question back verbatim, each its own item"
    );
    for (item, text) in queue.iter().zip(SQL_LIKE) {
        let asks = store.asks_for_item(item.id).await.unwrap();
        assert_eq!(asks.len(), 1);
        assert_eq!(
            asks[0].origin.user_id.as_deref(),
            Some(*text),
            "ids are bound too"
        );
    }

    for (i, text) in SQL_LIKE.iter().enumerate() {
        store
            .save_learned_entry(&learned(&format!("learned-{i}"), text))
            .await
            .unwrap();
    }
    let entries = store.learned_entries().await.unwrap();
    assert_eq!(entries.len(), SQL_LIKE.len());
    for entry in entries {
        let i: usize = entry.id.trim_start_matches("learned-").parse().unwrap();
        assert_eq!(entry, learned(&entry.id, SQL_LIKE[i]));
    }
    assert_eq!(
        store.knowledge_version().await.unwrap(),
        SQL_LIKE.len() as i64
    );

    let tables = table_names(&db.url).await;
    for table in TABLES {
        assert!(
            tables.iter().any(|t| t == table),
            "table {table} is gone: {tables:?}"
        );
    }
    assert_eq!(
        store.stats(None).await.unwrap().open_queue,
        SQL_LIKE.len() as u64
    );
}

// ------------------------------------------------------------ configuration

fn load(env: &[(&str, &str)], file: Option<&str>) -> String {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let config_file = file.map(|text| {
        let path = dir.path().join("local.toml");
        std::fs::write(&path, text).unwrap();
        path
    });
    let overrides = Overrides {
        config_file,
        ..Overrides::default()
    };
    match Settings::from_sources(None, &env, &overrides) {
        Ok(_) => panic!("the configuration {env:?} {file:?} should not load"),
        Err(e) => {
            // The whole chain, as `anbud` prints it.
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                text.push_str(&format!(": {s}"));
                source = s.source();
            }
            text
        }
    }
}

const PASSWORD: &str = "hunter2-s3cret";
const TOKEN: &str = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456";

#[test]
fn a_database_url_with_a_password_is_never_printed() {
    let url = format!("mysql://anbud:{PASSWORD}@db.example.org/anbud");
    let err = load(&[("ANBUD__DATABASE__URL", &url)], None);
    assert!(err.contains("database.url"), "{err}");
    assert!(
        !err.contains(PASSWORD) && !err.contains("db.example.org"),
        "{err}"
    );

    // A URL of the wrong type (a table instead of a string) in a file.
    let err = load(
        &[],
        Some(&format!(
            "[database]\nurl = {{ value = \"postgres://u:{PASSWORD}@h/db\" }}\n"
        )),
    );
    assert!(err.contains("url"), "{err}");
    assert!(!err.contains(PASSWORD), "{err}");
}

#[test]
fn a_secret_in_the_wrong_key_is_never_printed() {
    // A token pasted where a number belongs: the error names the key, not the value.
    for key in [
        "ANBUD__DISCORD__ADVISER_CHANNEL",
        "ANBUD__DISCORD__QA_CHANNELS",
        "ANBUD__DISCORD__RATE_LIMIT_PER_MINUTE",
        "ANBUD__ANSWER__THRESHOLD",
        "ANBUD__DATABASE__RETENTION_DAYS",
        "ANBUD__DISCORD__REPLY_MODE",
        "ANBUD__DISCORD__API_URL",
        "ANBUD__ANNOUNCEMENTS__TIMEZONE",
    ] {
        let err = load(&[(key, TOKEN)], None);
        let name = key
            .trim_start_matches("ANBUD__")
            .to_lowercase()
            .replace("__", ".");
        let leaf = name.rsplit('.').next().unwrap();
        assert!(err.contains(leaf), "{key}: the error names the key: {err}");
        assert!(
            !err.contains(TOKEN) && !err.contains("GhIjKl"),
            "{key}: the error prints the value: {err}"
        );
    }
    // The same in a configuration file.
    let err = load(
        &[],
        Some(&format!("[discord]\nadviser_channel = \"{TOKEN}\"\n")),
    );
    assert!(
        err.contains("adviser_channel") && !err.contains(TOKEN),
        "{err}"
    );
    let err = load(&[], Some(&format!("[answer]\nthreshold = \"{TOKEN}\"\n")));
    assert!(err.contains("threshold") && !err.contains(TOKEN), "{err}");
}

#[test]
fn a_broken_configuration_file_does_not_echo_its_lines() {
    // A syntax error: TOML parsers like to quote the offending line.
    let err = load(
        &[],
        Some(&format!(
            "[database]\nurl = \"postgres://u:{PASSWORD}@h/db\n"
        )),
    );
    assert!(!err.contains(PASSWORD), "{err}");
    let err = load(&[], Some(&format!("[discord]\ntoken {TOKEN}\n")));
    assert!(!err.contains(TOKEN), "{err}");
}

// ------------------------------------------------------------ text the databases refuse

async fn control_characters_in_a_question_are_kept(db: &TestDb) {
    // PostgreSQL refuses NUL in text; a question holding one must still reach the queue
    // (the NUL kept as U+FFFD, on both databases alike).
    let store = db.store().await;
    let question = "nul \0 inne \u{1} og \u{7f} og \u{202e}snudd";
    store
        .log_unanswered(&unanswered(question, discord("u\0ser", "m")))
        .await
        .unwrap();
    let queue = store.list_queue(None).await.unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(
        queue[0].question,
        "nul \u{FFFD} inne \u{1} og \u{7f} og \u{202e}snudd"
    );
    let asks = store.asks_for_item(queue[0].id).await.unwrap();
    assert_eq!(asks[0].origin.user_id.as_deref(), Some("u\u{FFFD}ser"));
}

on_both_databases!(
    text_that_looks_like_sql_is_stored_verbatim,
    control_characters_in_a_question_are_kept
);

/// The real `anbud serve` process against the fake Discord, logging everything it can
/// (`RUST_LOG=trace`): it answers a question (through a 429 and a retry) and the token
/// appears nowhere in its output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_appears_in_logs_errors_or_replies() {
    use crate::fake_discord::{ids, FakeDiscord, FakeGuild, TOKEN};
    use std::io::Read;
    use std::process::Stdio;
    use std::time::Duration;

    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_anbud"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DISCORD_TOKEN", TOKEN)
        .env("RUST_LOG", "trace")
        .env("ANBUD__DISCORD__API_URL", fake.api_url())
        .env("ANBUD__DISCORD__TEST_WITHOUT_RATE_LIMITER", "true")
        .env("ANBUD__DISCORD__QA_CHANNELS", ids::QA_CHANNEL.to_string())
        .env("ANBUD__DISCORD__RATE_LIMIT_PER_MINUTE", "0")
        .args([
            "--database",
            &format!("sqlite://{}", dir.path().join("a.sqlite").display()),
            "serve",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the output while the bot runs: a full pipe would block its logging.
    let readers: Vec<_> = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .into_iter()
    .map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    })
    .collect();
    fake.wait_until_ready(Duration::from_secs(30)).await;
    fake.wait_for_request(Duration::from_secs(30), |r| {
        r.method == "PUT" && r.path.ends_with("/commands")
    })
    .await;
    fake.fail_next_posts_with_429(1, 0.2);
    let question = fake.send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, "Hva er ESPD?");
    let reply = fake
        .wait_for_post(Duration::from_secs(30), |p| p.reply_to() == Some(question))
        .await;
    assert!(!reply.content.contains(TOKEN));
    // Also a reply that holds the user's text back (an abstention).
    let other = fake.send_message(
        ids::QA_CHANNEL,
        ids::SUPPLIER_USER,
        &format!("hva er {TOKEN}?"),
    );
    let _ = fake
        .wait_for_post(Duration::from_secs(30), |p| p.reply_to() == Some(other))
        .await;
    child.kill().unwrap();
    let _ = child.wait();
    let logs: String = readers.into_iter().map(|r| r.join().unwrap()).collect();
    assert!(
        logs.len() > 1000,
        "the process logged at trace level: {} bytes",
        logs.len()
    );
    let own_question = format!("hva er {TOKEN}?");
    let leaked: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(TOKEN) && !l.contains(&own_question))
        .collect();
    assert!(
        leaked.is_empty(),
        "the token appears in {} log line(s), e.g.: {:?}",
        leaked.len(),
        leaked.first()
    );
    for p in fake.posted() {
        assert!(
            !p.content.contains(&format!("Bot {TOKEN}")),
            "{}",
            p.content
        );
    }
}
