//! Several processes, one state: two `anbud chat` processes share one PostgreSQL database.
//! An adviser (a third process, `anbud unanswered answer`) teaches the bot; both chats
//! pick the new knowledge up by polling the database's knowledge version
//! (`database.knowledge_poll_ms`, 500 ms by default) and answer from it.
//!
//! Runs when `ANBUD_TEST_POSTGRES_URL` names a server (CI sets
//! `postgres://postgres@127.0.0.1:5432/test`); each test gets a fresh database there. When
//! the variable is set but the server cannot be reached the test fails; when it is not
//! set the test says so and passes (and fails when `CI` is set).
//!
//! How soon the taught knowledge is answered from is printed
//! (`cargo test --test it multiprocess -- --nocapture`), not asserted.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use sqlx::Connection;

use crate::store::POSTGRES_URL_VAR;

/// How long a process may take to start (connect, migrate, index) and answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long any other single step may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// Only stops a hung test: a process that never picks up the taught knowledge. How soon
/// it does is printed, not asserted (tests do not assert on time): each process polls the
/// knowledge version every `database.knowledge_poll_ms` (500 ms) and then rebuilds its
/// index.
const PROPAGATION_HANG_GUARD: Duration = Duration::from_secs(120);

/// A fresh PostgreSQL database, dropped at the end of the test.
struct TestDatabase {
    url: String,
    base_url: String,
    name: String,
}

impl TestDatabase {
    /// `None` (with a note) when no server is configured; panics when one is configured
    /// but cannot be reached, so CI cannot pass by skipping.
    fn create() -> Option<TestDatabase> {
        let base_url = crate::store::postgres_url()?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("anbud_mp_{}_{}", std::process::id(), nanos % 1_000_000_000);
        block_on(async {
            let mut admin =
                tokio::time::timeout(STEP_TIMEOUT, sqlx::PgConnection::connect(&base_url))
                    .await
                    .unwrap_or_else(|_| {
                        panic!("{POSTGRES_URL_VAR}={base_url} did not answer in time")
                    })
                    .unwrap_or_else(|e| {
                        panic!("{POSTGRES_URL_VAR}={base_url} cannot be reached: {e}")
                    });
            // The name is made here from digits and underscores, never from input.
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut admin)
                .await
                .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
            let _ = admin.close().await;
        });
        let url = match base_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => format!("{base_url}/{name}"),
        };
        Some(TestDatabase {
            url,
            base_url,
            name,
        })
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (base_url, name) = (self.base_url.clone(), self.name.clone());
        block_on(async move {
            if let Ok(Ok(mut admin)) =
                tokio::time::timeout(STEP_TIMEOUT, sqlx::PgConnection::connect(&base_url)).await
            {
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .execute(&mut admin)
                    .await;
                let _ = admin.close().await;
            }
        });
    }
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// A small knowledge folder whose words the test questions do not share, so those
/// questions are abstained until an adviser teaches the bot.
fn write_knowledge(dir: &Path) {
    let entries = dir.join("entries");
    std::fs::create_dir_all(&entries).unwrap();
    let entry = |id: &str, lang: &str, title: &str, questions: &[&str], body: &str| {
        let questions: Vec<String> = questions.iter().map(|q| format!("  {q:?},")).collect();
        let text = format!(
            "+++\nid = \"{id}\"\nlang = \"{lang}\"\ntitle = \"{title}\"\nquestions = [\n{}\n]\nreviewed = \"2026-01-05\"\n\n[[sources]]\nname = \"DFØ\"\nurl = \"https://anskaffelser.no/\"\n+++\n{body}\n",
            questions.join("\n")
        );
        std::fs::write(entries.join(format!("{id}.{lang}.md")), text).unwrap();
    };
    entry(
        "framework-agreements",
        "nb",
        "Rammeavtaler",
        &[
            "Hva er en rammeavtale?",
            "Hvor lenge varer en rammeavtale?",
            "rammeavtale avrop",
            "Kan kommunen forlenge rammeavtalen?",
            "Hva er et avrop?",
        ],
        "En rammeavtale fastsetter vilkårene for senere avrop, vanligvis i høyst fire år.",
    );
    entry(
        "framework-agreements",
        "en",
        "Framework agreements",
        &[
            "What is a framework agreement?",
            "How long does a framework agreement last?",
            "framework call-off",
            "Can the agreement be extended?",
            "What is a call-off?",
        ],
        "A framework agreement sets the terms for later call-offs, usually for at most four years.",
    );
    entry(
        "complaints",
        "nb",
        "Klage på en anskaffelse",
        &[
            "Hvordan klager jeg på en tildeling?",
            "Hva er KOFA?",
            "klagenemnd anskaffelser",
            "Kan jeg klage på konkurransen?",
            "Hvor lang er klagefristen?",
        ],
        "Du kan klage til oppdragsgiveren og til Klagenemnda for offentlige anskaffelser (KOFA).",
    );
    entry(
        "complaints",
        "en",
        "Complaining about a procurement",
        &["How do I complain about an award?", "What is KOFA?", "complaints board procurement", "Can I complain about the competition?", "What is the deadline for complaints?"],
        "You can complain to the contracting authority and to the Complaints Board for Public Procurement (KOFA).",
    );
    std::fs::write(
        dir.join("glossary.txt"),
        "rammeavtale, framework agreement\n",
    )
    .unwrap();
}

/// What a chat process said to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Said {
    Abstained,
    /// Answered from the entry with this title.
    Answered(String),
}

/// A running `anbud chat`: questions go to its stdin, its stdout lines come through a
/// reader thread so that every read can time out. Killed when dropped.
struct Chat {
    name: &'static str,
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Chat {
    fn start(name: &'static str, workdir: &Path, database_url: &str) -> Chat {
        let mut child = anbud(workdir, database_url)
            .arg("chat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start anbud chat");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Chat {
            name,
            child,
            stdin,
            lines,
        }
    }

    /// Ask a question and wait for the reply (an abstention or an answer), skipping other
    /// output such as advisers' answers delivered from the outbox.
    fn ask(&mut self, question: &str, timeout: Duration) -> Said {
        writeln!(self.stdin, "{question}")
            .and_then(|_| self.stdin.flush())
            .unwrap_or_else(|e| panic!("{}: write: {e}", self.name));
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if line.starts_with("Det spørsmålet kan jeg ikke svare sikkert på") {
                        return Said::Abstained;
                    }
                    if let Some(title) = line.strip_prefix("**").and_then(|l| l.strip_suffix("**"))
                    {
                        return Said::Answered(title.to_string());
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("{}: no reply to {question:?} within {timeout:?}", self.name)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "{}: the process ended before replying to {question:?}: {:?}",
                        self.name,
                        self.child.try_wait()
                    )
                }
            }
        }
    }

    /// Ask until the reply is an answer from the entry titled `title`; returns how long
    /// that took (each try waits for its reply). Only a hang fails.
    fn answers_after_polling(&mut self, question: &str, title: &str) -> Duration {
        let started = Instant::now();
        loop {
            let said = self.ask(question, STEP_TIMEOUT);
            if said == Said::Answered(title.to_string()) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < PROPAGATION_HANG_GUARD,
                "{}: still {said:?} to {question:?} {:?} after the adviser's answer (expected {title:?})",
                self.name,
                started.elapsed()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn anbud(workdir: &Path, database_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_anbud"));
    command
        .current_dir(workdir)
        .arg("--knowledge")
        .arg(workdir.join("knowledge"))
        .arg("--database")
        .arg(database_url);
    command
}

/// Run a short command to its end (with a timeout) and return its stdout.
fn run(workdir: &Path, database_url: &str, args: &[&str]) -> String {
    let mut child = anbud(workdir, database_url)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start anbud");
    let deadline = Instant::now() + STEP_TIMEOUT;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("output");
            assert!(
                status.success(),
                "anbud {args:?} failed: {}\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            return String::from_utf8_lossy(&output.stdout).into_owned();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("anbud {args:?} did not finish within {STEP_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The open queue item holding `question`.
fn queue_id(workdir: &Path, database_url: &str, question: &str) -> i64 {
    let list = run(
        workdir,
        database_url,
        &["unanswered", "list", "--status", "open", "--format", "json"],
    );
    let items: serde_json::Value = serde_json::from_str(list.trim()).expect("queue JSON");
    items
        .as_array()
        .expect("an array")
        .iter()
        .find(|i| i["question"] == question)
        .and_then(|i| i["id"].as_i64())
        .unwrap_or_else(|| panic!("{question:?} is not in the open queue: {list}"))
}

/// Two chats; the question is abstained in A; an adviser answers it (`extra` says how the
/// bot learns); A and B then answer it from the entry titled `title`.
fn taught_knowledge_reaches_both_chats(question: &str, extra: &[&str], title: &str) {
    let Some(db) = TestDatabase::create() else {
        return;
    };
    let workdir = tempfile::tempdir().expect("a temporary folder");
    write_knowledge(&workdir.path().join("knowledge"));

    let mut a = Chat::start("A", workdir.path(), &db.url);
    assert_eq!(
        a.ask(question, START_TIMEOUT),
        Said::Abstained,
        "A should abstain before it is taught"
    );
    // B starts after A has migrated the new database.
    let mut b = Chat::start("B", workdir.path(), &db.url);
    assert_eq!(
        b.ask(question, START_TIMEOUT),
        Said::Abstained,
        "B should abstain before it is taught"
    );

    let id = queue_id(workdir.path(), &db.url, question);
    let id_text = id.to_string();
    let mut args = vec![
        "unanswered",
        "answer",
        id_text.as_str(),
        "Bussene i Tromsø er grønne, sier rådgiveren.",
        "--by",
        "tester",
    ];
    args.extend_from_slice(extra);
    run(workdir.path(), &db.url, &args);

    let in_b = b.answers_after_polling(question, title);
    let in_a = a.answers_after_polling(question, title);
    eprintln!("answered from the taught knowledge after {in_b:?} in B, then {in_a:?} more in A");
}

#[test]
fn an_answer_saved_as_a_new_entry_reaches_every_process() {
    let question = "Hvilken farge har bussene i Tromsø?";
    taught_knowledge_reaches_both_chats(
        question,
        &[
            "--save-entry",
            "--title",
            "Bussene i Tromsø",
            "--question",
            question,
        ],
        "Bussene i Tromsø",
    );
}

#[test]
fn a_new_phrasing_of_an_existing_entry_reaches_every_process() {
    let question = "Hvem bestemmer hvilken buss som kjører skoleruta?";
    taught_knowledge_reaches_both_chats(
        question,
        &["--entry", "framework-agreements", "--question", question],
        "Rammeavtaler",
    );
}
