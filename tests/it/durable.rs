//! "Passed on to an adviser" only once it is durable (issue 18, item 1).
//!
//! With the SQLite file locked by another process (a backup, a long adviser transaction),
//! `ask`, `chat` and batch mode used to say the question went to an adviser, exit 0, and
//! lose it with the process. Now a reply says so only once the database has committed
//! the question; otherwise it says it could not pass it on, the command exits with status
//! 3 (batch mode: `"queued": false` on the lines concerned), and the question is not left
//! behind to appear later. `serve` stops on SIGTERM as on Ctrl-C and writes what it had to
//! keep in memory before it exits, naming in its log what it could not write.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use anbud::store::Store;
use serde_json::Value;
use sqlx::Connection;

use crate::fake_discord::{ids, FakeDiscord, FakeGuild, TOKEN};
use crate::store::group_commit::{lock_sqlite, open_questions};
use crate::store::TestDb;
use crate::support::{spawn_bot, TestBot, WAIT};

const OFF_TOPIC_EN: &str = "What is the weather like in Bergen tomorrow?";
const OFF_TOPIC_NB: &str = "Hva blir været i morgen i Bergen?";
/// Answered in one Discord message, with the feedback buttons on it.
const ANSWERED_NB: &str = "Hva er en dialogkonferanse?";
const PASSED_ON_EN: &str = "Your question has been passed to an adviser";
const NOT_PASSED_ON_EN: &str = "I could not pass your question on to an adviser";
const NOT_PASSED_ON_NB: &str = "Jeg fikk ikke sendt spørsmålet videre til en rådgiver";

/// `anbud` on the test's database, waiting at most 200 ms for another process's lock.
fn anbud(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_anbud"));
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env("ANBUD__DURABILITY__SQLITE_BUSY_TIMEOUT_MS", "200")
        .args(["--database", &db.url]);
    command
}

/// Runs `command` with `input` on stdin, off the async runtime.
async fn run(mut command: Command, input: &str) -> Output {
    let input = input.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start anbud");
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let output = child.wait_with_output().expect("anbud runs");
        writer.join().unwrap().unwrap();
        output
    })
    .await
    .unwrap()
}

/// A fresh, migrated SQLite database.
async fn database() -> (TestDb, Store) {
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    (db, store)
}

/// Another connection holding SQLite's write lock, as a backup or a long transaction in
/// another process would.
async fn lock(db: &TestDb) -> sqlx::SqliteConnection {
    lock_sqlite(&db.url).await
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_on_a_locked_database_says_the_question_was_not_passed_on_and_fails() {
    let (db, store) = database().await;
    let held = lock(&db).await;

    let mut command = anbud(&db);
    command.args(["ask", OFF_TOPIC_EN]);
    let out = run(command, "").await;
    let reply = text(&out.stdout);
    assert!(reply.contains(NOT_PASSED_ON_EN), "{reply}");
    assert!(!reply.contains(PASSED_ON_EN), "{reply}");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("could not be passed on"),
        "{}",
        text(&out.stderr)
    );

    let mut command = anbud(&db);
    command.args(["ask", "--format", "json", OFF_TOPIC_EN]);
    let out = run(command, "").await;
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["answered"], false);
    assert_eq!(value["queued"], false);
    assert_eq!(out.status.code(), Some(3));

    // What the replies said stays true once the lock is gone.
    held.close().await.unwrap();
    assert!(open_questions(&store).await.is_empty());

    // With the database free, the same question is passed on, and said so.
    let mut command = anbud(&db);
    command.args(["ask", OFF_TOPIC_EN]);
    let out = run(command, "").await;
    assert!(
        text(&out.stdout).contains(PASSED_ON_EN),
        "{}",
        text(&out.stdout)
    );
    assert!(out.status.success());
    let mut command = anbud(&db);
    command.args(["ask", "--format", "json", OFF_TOPIC_NB]);
    let out = run(command, "").await;
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(value["queued"], true);
    assert!(out.status.success());
    assert_eq!(
        open_questions(&store).await,
        vec![OFF_TOPIC_EN, OFF_TOPIC_NB]
    );
}

/// The lines of a batch: answered, abstained, empty, abstained.
const BATCH: &str =
    "Hva er ESPD?\nHva blir været i morgen i Bergen?\n\nHvor mye veier en sjiraff?\n";

fn batch_lines(out: &Output) -> Vec<Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_mode_on_a_locked_database_marks_each_abstention_not_queued() {
    let (db, store) = database().await;
    let held = lock(&db).await;
    let mut command = anbud(&db);
    command.args(["ask", "--format", "json"]);
    let out = run(command, BATCH).await;
    let lines = batch_lines(&out);
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["id"], "espd");
    assert!(lines[0].get("queued").is_none(), "answered: {}", lines[0]);
    assert_eq!(lines[1]["queued"], false);
    assert!(lines[2]["error"].is_string() && lines[2].get("queued").is_none());
    assert_eq!(lines[3]["queued"], false);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    held.close().await.unwrap();
    assert!(open_questions(&store).await.is_empty());

    let mut command = anbud(&db);
    command.args(["ask", "--format", "json"]);
    let out = run(command, BATCH).await;
    let lines = batch_lines(&out);
    assert_eq!(lines[1]["queued"], true);
    assert_eq!(lines[3]["queued"], true);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        open_questions(&store).await,
        vec![
            "Hva blir været i morgen i Bergen?",
            "Hvor mye veier en sjiraff?"
        ]
    );
    let stats = store.stats(None).await.unwrap();
    assert_eq!((stats.answered, stats.abstained), (1, 2), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_on_a_locked_database_says_the_question_was_not_passed_on_and_fails() {
    let (db, store) = database().await;
    let held = lock(&db).await;
    let mut command = anbud(&db);
    command.arg("chat");
    let out = run(command, &format!("{OFF_TOPIC_NB}\nHva er ESPD?\n")).await;
    let said = text(&out.stdout);
    assert!(said.contains(NOT_PASSED_ON_NB), "{said}");
    assert!(!said.contains("Spørsmålet er sendt videre"), "{said}");
    assert!(said.contains("ESPD"), "answering goes on: {said}");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    held.close().await.unwrap();
    assert!(open_questions(&store).await.is_empty());
}

// ------------------------------------------------------------------------ serve

/// The real `anbud serve` process against the fake Discord, its log lines on a channel.
struct Served {
    child: std::process::Child,
    log: std::sync::mpsc::Receiver<String>,
    log_so_far: Vec<String>,
}

impl Served {
    async fn start(fake: &FakeDiscord, db: &TestDb, shutdown_flush_ms: &str) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_anbud"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("DISCORD_TOKEN", TOKEN)
            .env("RUST_LOG", "anbud=info")
            .env("ANBUD__DISCORD__API_URL", fake.api_url())
            .env("ANBUD__DISCORD__TEST_WITHOUT_RATE_LIMITER", "true")
            .env("ANBUD__DISCORD__QA_CHANNELS", ids::QA_CHANNEL.to_string())
            .env("ANBUD__DISCORD__RATE_LIMIT_PER_MINUTE", "0")
            .env("ANBUD__DURABILITY__SQLITE_BUSY_TIMEOUT_MS", "200")
            .env("ANBUD__DURABILITY__SHUTDOWN_FLUSH_MS", shutdown_flush_ms)
            .args(["--database", &db.url, "serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (sender, log) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        fake.wait_until_ready(Duration::from_secs(120)).await;
        fake.wait_for_request(Duration::from_secs(120), |r| {
            r.method == "PUT" && r.path.ends_with("/commands")
        })
        .await;
        Served {
            child,
            log,
            log_so_far: Vec::new(),
        }
    }

    fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: sends a signal to our own child process; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    }

    /// Waits for a log line containing `text` (the timeout only stops a hung test).
    async fn wait_for_log(&mut self, text: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        loop {
            while let Ok(line) = self.log.try_recv() {
                self.log_so_far.push(line);
            }
            if self.log_so_far.iter().any(|l| l.contains(text)) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no log line with {text:?}: {:#?}",
                self.log_so_far
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the process to end; its status and everything it logged.
    async fn wait(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::task::spawn_blocking(move || {
            let status = self.child.wait().unwrap();
            self.log_so_far.extend(self.log.iter());
            (status, self.log_so_far.join("\n"))
        });
        tokio::time::timeout(Duration::from_secs(120), status)
            .await
            .expect("the process stops")
            .unwrap()
    }
}

/// The reply to an off-topic question asked while the database is locked.
async fn ask_while_locked(fake: &FakeDiscord) -> String {
    let question = fake.send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC_EN);
    fake.wait_for_post(Duration::from_secs(120), |p| p.reply_to() == Some(question))
        .await
        .content
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_stops_on_sigterm_and_writes_the_question_it_kept() {
    let (db, store) = database().await;
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let mut served = Served::start(&fake, &db, "60000").await;

    let held = lock(&db).await;
    let reply = ask_while_locked(&fake).await;
    assert!(reply.contains(NOT_PASSED_ON_EN), "{reply}");
    assert!(!reply.contains(PASSED_ON_EN), "{reply}");

    served.terminate();
    served.wait_for_log("stopping").await;
    // The lock goes while the bot is stopping: what it kept is written before it exits.
    held.close().await.unwrap();
    let (status, log) = served.wait().await;
    assert_eq!(status.code(), Some(0), "SIGTERM is a normal stop: {log}");
    assert!(log.contains("every write is in the database"), "{log}");
    assert_eq!(open_questions(&store).await, vec![OFF_TOPIC_EN]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_names_what_it_could_not_write_when_stopped_with_the_database_locked() {
    let (db, store) = database().await;
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let served = Served::start(&fake, &db, "500").await;

    let held = lock(&db).await;
    let reply = ask_while_locked(&fake).await;
    assert!(reply.contains(NOT_PASSED_ON_EN), "{reply}");
    served.terminate();
    let (status, log) = served.wait().await;
    held.close().await.unwrap();
    assert_eq!(status.code(), Some(0), "{log}");
    let lost: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("not written to the advisers' queue"))
        .collect();
    assert_eq!(lost.len(), 1, "{log}");
    assert!(lost[0].contains(OFF_TOPIC_EN), "{}", lost[0]);
    assert!(open_questions(&store).await.is_empty());
}

// ------------------------------------------------------- the bot, in this process

/// The bot with SQLite's lock wait at 200 ms.
async fn impatient_bot() -> TestBot {
    spawn_bot(|settings, _| settings.durability.sqlite_busy_timeout_ms = 200).await
}

async fn lock_bot_database(t: &TestBot) -> sqlx::SqliteConnection {
    lock_sqlite(&t.app.settings.database.url).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_abstention_while_locked_says_so_and_reaches_advisers_when_written() {
    let t = impatient_bot().await;
    let held = lock_bot_database(&t).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC_NB);
    let reply = t.reply_to(question).await;
    assert!(
        reply.content.contains(NOT_PASSED_ON_NB),
        "{}",
        reply.content
    );
    assert!(
        !reply.content.contains("Spørsmålet er sendt videre"),
        "{}",
        reply.content
    );

    // The bot kept it: once the lock is gone it is written and advisers are alerted.
    held.close().await.unwrap();
    let alert = t
        .fake
        .wait_for_post(Duration::from_secs(120), |p| {
            p.channel_id == ids::ADVISERS_CHANNEL
        })
        .await;
    assert!(alert.content.contains("Bergen"), "{}", alert.content);
    assert_eq!(open_questions(&t.store()).await, vec![OFF_TOPIC_NB]);
}

/// Asks [`ANSWERED_NB`], clicks "not helpful" on the answer, and returns what the bot
/// said back.
async fn not_helpful(t: &TestBot, held: Option<&mut sqlx::SqliteConnection>) -> String {
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert!(t.app.logger().wait_flushed(WAIT).await, "counters written");
    if let Some(conn) = held {
        sqlx::query("BEGIN EXCLUSIVE").execute(conn).await.unwrap();
    }
    let click = t.click(ids::SUPPLIER_USER, &answer, "anbud:fb:n:");
    t.interaction_reply(click).await.content
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_not_helpful_while_locked_does_not_promise_an_adviser() {
    let t = impatient_bot().await;
    let mut other = sqlx::SqliteConnection::connect(&t.app.settings.database.url)
        .await
        .unwrap();
    let thanks = not_helpful(&t, Some(&mut other)).await;
    assert!(thanks.contains(NOT_PASSED_ON_NB), "{thanks}");
    assert!(!thanks.contains("En rådgiver ser på"), "{thanks}");
    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();

    // With the database free the same click is passed on, and said so.
    let thanks = not_helpful(&t, None).await;
    assert!(thanks.contains("En rådgiver ser på"), "{thanks}");
}
