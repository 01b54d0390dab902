//! Acknowledged writes survive the process being killed.
//!
//! The test runs this test binary again as a child, selecting
//! [`child_logs_questions_until_killed`] by name and handing it the database
//! URL in [`CHILD_URL_VAR`]. The child logs questions in a loop and prints
//! `ACK n` after each commit; the parent kills it with SIGKILL mid-stream and
//! then looks for every acknowledged question in the database.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anbud::store::{QueueStatus, Store};

use super::{discord, unanswered, TestDb};

/// Set only in the child: the database to write to.
const CHILD_URL_VAR: &str = "ANBUD_TEST_CRASH_CHILD_URL";
/// How many acknowledgements the parent waits for before killing.
const ACKS_BEFORE_KILL: usize = 40;

fn question(n: u64) -> String {
    format!("Krasjtest spørsmål {n}")
}

/// The child's side. As a normal test (no variable set) it does nothing.
#[tokio::test]
async fn child_logs_questions_until_killed() {
    let Ok(url) = std::env::var(CHILD_URL_VAR) else {
        return;
    };
    let store = Store::connect(&url).await.expect("child connects");
    for n in 0.. {
        let ask = unanswered(&question(n), discord("crash-user", &format!("m{n}")));
        store.log_unanswered(&ask).await.expect("child logs");
        // Only after the commit returned: this line is the promise under test.
        println!("ACK {n}");
    }
}

async fn acknowledged_questions_survive_sigkill(db: &TestDb) {
    db.store().await.close().await; // migrate before the child starts
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "store::crash::child_logs_questions_until_killed",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_URL_VAR, &db.url)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child test process");
    let stdout = child.stdout.take().unwrap();

    // Read on a thread of its own: the pipe is blocking.
    let reader = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let mut acked = BTreeSet::new();
        let mut other = Vec::new();
        let mut killed = false;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            match line.strip_prefix("ACK ").map(str::parse::<u64>) {
                Some(Ok(n)) => {
                    acked.insert(n);
                }
                _ => other.push(line),
            }
            if !killed && acked.len() >= ACKS_BEFORE_KILL {
                // SIGKILL: no destructors, no flush, no goodbye.
                child.kill().expect("kill the child");
                killed = true;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "child too slow; its output: {other:?}"
            );
        }
        // Lines written before the kill are still read above, until EOF.
        let status = child.wait().expect("reap the child");
        (acked, other, killed, status)
    });
    let (acked, other, killed, status) = reader.await.unwrap();
    assert!(
        killed,
        "child stopped before {ACKS_BEFORE_KILL} acks: {other:?}"
    );
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "child died of SIGKILL");
    }

    let store = db.store().await;
    let stored: BTreeSet<String> = store
        .list_queue(Some(QueueStatus::Open))
        .await
        .unwrap()
        .into_iter()
        .map(|item| item.question)
        .collect();
    let lost: Vec<_> = acked
        .iter()
        .map(|&n| question(n))
        .filter(|q| !stored.contains(q))
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert!(stored.len() >= acked.len());
}

super::on_both_databases!(acknowledged_questions_survive_sigkill);
