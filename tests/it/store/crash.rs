//! Acknowledged writes survive the process being killed, also in the middle of a group
//! commit, and the database is set up so that they would survive a power cut too.
//!
//! The test runs this test binary again as a child, selecting
//! [`child_logs_questions_until_killed`] by name and handing it the database URL in
//! [`CHILD_URL_VAR`]. The child files questions through the group-commit writer
//! ([`ResilientLogger`]) as fast as it can, prints `ACK n` once question `n`'s commit has
//! returned, and the writer's log line `group commit started … first=F writes=W` before
//! each commit. The parent kills it with SIGKILL the moment it reads such a line (so a
//! commit is in flight), then looks for every acknowledged question in the database and
//! checks that the batch in flight is there whole or not at all.
//!
//! A killed process loses nothing the kernel already has, so this alone would pass with
//! `synchronous=OFF`. The durability settings are therefore asserted as well, as the
//! child's own connection reports them: WAL with `synchronous=FULL` on SQLite, `fsync`
//! and `synchronous_commit` on for PostgreSQL.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anbud::store::{
    AnsweringWrite, Durability, LogOutcome, ResilientConfig, ResilientLogger, Store,
};

use super::{discord, unanswered, TestDb};

/// Set only in the child: the database to write to.
const CHILD_URL_VAR: &str = "ANBUD_TEST_CRASH_CHILD_URL";
/// How many acknowledgements the parent waits for before killing.
const ACKS_BEFORE_KILL: usize = 200;
/// Questions the child keeps waiting for at once (so commits are groups).
const IN_FLIGHT: usize = 400;

fn question(n: u64) -> String {
    format!("Krasjtest spørsmål {n}")
}

/// The child's side. As a normal test (no variable set) it does nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn child_logs_questions_until_killed() {
    let Ok(url) = std::env::var(CHILD_URL_VAR) else {
        return;
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter("anbud::store::resilient=debug")
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .try_init();
    let store = Store::connect(&url).await.expect("child connects");
    println!(
        "DURABILITY {:?}",
        store.durability().await.expect("settings")
    );
    let logger = ResilientLogger::new(store, ResilientConfig::default());
    let room = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    // One task submits, so question n is the logger's write n.
    for n in 0.. {
        let permit = Arc::clone(&room).acquire_owned().await.unwrap();
        let ask = unanswered(&question(n), discord("crash-user", &format!("m{n}")));
        let ticket = logger.submit(AnsweringWrite::Unanswered(ask));
        tokio::spawn(async move {
            let outcome = ticket.wait().await.expect("child logs");
            // Only after the commit returned: this line is the promise under test.
            if let LogOutcome::Stored(_) = outcome {
                println!("ACK {n}");
            }
            drop(permit);
        });
    }
}

/// What the parent read from the child.
#[derive(Default)]
struct ChildOutput {
    durability: Option<String>,
    acked: BTreeSet<u64>,
    /// The questions of the commit in flight at the kill.
    in_flight: Vec<u64>,
    other: Vec<String>,
}

/// `first=F writes=W` from the writer's log line.
fn batch_of(line: &str) -> Option<Vec<u64>> {
    let field = |name: &str| -> Option<u64> {
        let start = line.find(&format!("{name}="))? + name.len() + 1;
        line[start..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let (first, writes) = (field("first")?, field("writes")?);
    Some((first..first + writes).collect())
}

async fn acknowledged_questions_survive_sigkill_mid_commit(db: &TestDb) {
    db.store().await.close().await; // migrate before the child starts
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "store::crash::child_logs_questions_until_killed",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL_VAR, &db.url)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child test process");
    let stdout = child.stdout.take().unwrap();

    // Read on a thread of its own: the pipe is blocking.
    let reader = tokio::task::spawn_blocking(move || {
        let mut seen = ChildOutput::default();
        let mut killed = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // The test harness may print "test … ... " before the child's first line.
            let after = |marker: &str| line.find(marker).map(|i| &line[i + marker.len()..]);
            if let Some(n) = after("ACK ").and_then(|n| n.parse().ok()) {
                seen.acked.insert(n);
            } else if let Some(settings) = after("DURABILITY ") {
                seen.durability = Some(settings.to_owned());
            } else if line.contains("group commit started") {
                if !killed && seen.acked.len() >= ACKS_BEFORE_KILL {
                    // SIGKILL with the commit in flight: no destructors, no flush.
                    child.kill().expect("kill the child");
                    killed = true;
                    seen.in_flight = batch_of(&line).expect("first= and writes=");
                }
            } else {
                seen.other.push(line);
            }
        }
        // Lines written before the kill are still read above, until EOF.
        let status = child.wait().expect("reap the child");
        (seen, killed, status)
    });
    let (seen, killed, status) = tokio::time::timeout(Duration::from_secs(600), reader)
        .await
        .expect("the child is killed once it has acknowledged enough")
        .unwrap();
    assert!(
        killed,
        "child stopped before {ACKS_BEFORE_KILL} acks: {:?}",
        seen.other
    );
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "child died of SIGKILL");
    }

    // The settings that make a commit durable beyond a killed process.
    let expected = if db.url.starts_with("sqlite:") {
        Durability::Sqlite {
            journal_mode: "wal".into(),
            synchronous: 2,
        }
    } else {
        Durability::Postgres {
            fsync: "on".into(),
            synchronous_commit: "on".into(),
        }
    };
    assert_eq!(
        seen.durability.as_deref(),
        Some(format!("{expected:?}").as_str()),
        "the child's connection"
    );
    assert!(expected.is_durable());

    let store = db.store().await;
    let stored: BTreeSet<String> = store
        .list_queue(None)
        .await
        .unwrap()
        .into_iter()
        .map(|item| item.question)
        .collect();
    let lost: Vec<_> = seen
        .acked
        .iter()
        .map(|&n| question(n))
        .filter(|q| !stored.contains(q))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");

    // The commit in flight is all there or not there at all.
    let of_batch = seen
        .in_flight
        .iter()
        .filter(|&&n| stored.contains(&question(n)))
        .count();
    assert!(
        of_batch == 0 || of_batch == seen.in_flight.len(),
        "{of_batch} of the {} questions of the commit in flight were stored",
        seen.in_flight.len()
    );
    eprintln!(
        "killed with a commit of {} questions in flight ({}); {} acknowledged, {} stored",
        seen.in_flight.len(),
        if of_batch == 0 {
            "not stored"
        } else {
            "stored whole"
        },
        seen.acked.len(),
        stored.len()
    );
}

super::on_both_databases!(acknowledged_questions_survive_sigkill_mid_commit);
