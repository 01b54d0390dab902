//! The advisers' whole flow through the real binary, on SQLite and PostgreSQL: a question
//! abstained → listed once with its count → answered → the asker told through the outbox →
//! saved as an entry or a phrasing → answered by `ask` and by a running `chat` without a
//! restart.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::store::TestDb;

fn anbud(db: &str, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args(["--database", db])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "anbud {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_json::from_str(text.trim()).unwrap_or(Value::String(text))
}

/// A running `anbud chat` whose output lines arrive on a channel.
struct Chat {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Chat {
    fn start(db: &str) -> Chat {
        let mut child = Command::new(env!("CARGO_BIN_EXE_anbud"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("RUST_LOG")
            .env("ANBUD__DATABASE__KNOWLEDGE_POLL_MS", "200")
            .args(["--database", db, "chat"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Chat {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    fn ask(&mut self, question: &str) {
        writeln!(self.stdin, "{question}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Wait for an output line containing `needle`.
    fn expect(&mut self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(50)) {
                let found = line.contains(needle);
                self.seen.push(line);
                if found {
                    return;
                }
            }
        }
        panic!(
            "chat did not print {needle:?} within {within:?}; it printed:\n{}",
            self.seen.join("\n")
        );
    }
}

impl Drop for Chat {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn whole_flow(db: &TestDb) {
    let url = db.url.as_str();
    // Create the schema before the chat starts, so both see the same database.
    db.store().await;
    let mut chat = Chat::start(url);

    let question = "Hvordan søker jeg om parkeringstillatelse for firmabilen?";
    for wording in [
        question,
        "hvordan søker jeg om parkeringstillatelse for firmabilen",
    ] {
        let reply = anbud(url, &["ask", "--format", "json", wording]);
        assert_eq!(reply["answered"], false, "{reply}");
    }
    chat.ask(question);
    chat.expect("rådgiver", Duration::from_secs(10));

    let list = anbud(url, &["unanswered", "list", "--format", "json"]);
    let items = list.as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "one item for three asks of the same question: {list}"
    );
    assert_eq!(items[0]["count"], 3);
    assert_eq!(items[0]["status"], "open");
    let id = items[0]["id"].as_i64().unwrap().to_string();

    let answer = "Parkeringstillatelse søker du om hos kommunens parkeringsetat; det er ikke en anskaffelse.";
    // Without a reviewed title and wordings nothing is answered: the proposal is shown.
    let proposal = crate::anbud_on(url)
        .args(["unanswered", "answer", &id, answer, "--save-entry"])
        .output()
        .unwrap();
    assert_eq!(proposal.status.code(), Some(2));
    let shown = String::from_utf8_lossy(&proposal.stdout);
    // Three asks, one wording once they are normalised.
    assert!(
        shown.contains(&format!("--title \"{question}\""))
            && shown.matches("--question ").count() == 1
            && shown.contains(&format!("--question \"{question}\"")),
        "{shown}"
    );
    let still_open = anbud(url, &["unanswered", "list", "--format", "json"]);
    assert_eq!(still_open[0]["status"], "open");
    anbud(
        url,
        &[
            "unanswered",
            "answer",
            &id,
            answer,
            "--save-entry",
            "--title",
            "Parkeringstillatelse for firmabil",
            "--question",
            question,
            "--question",
            "Hvor søker vi om parkeringstillatelse?",
            "--by",
            "kari",
        ],
    );
    // The askers in the terminal are told through the outbox.
    chat.expect("En rådgiver har svart", Duration::from_secs(10));
    chat.expect("parkeringsetat", Duration::from_secs(5));

    let reply = anbud(url, &["ask", "--format", "json", question]);
    assert_eq!(reply["answered"], true, "{reply}");
    assert_eq!(reply["id"], format!("learned-{id}"));
    // The running chat answers from the new entry without a restart.
    chat.ask("hvordan søker jeg parkeringstillatelse til firmabilen?");
    chat.expect("parkeringsetat", Duration::from_secs(5));

    let list = anbud(
        url,
        &[
            "unanswered",
            "list",
            "--status",
            "answered",
            "--format",
            "json",
        ],
    );
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["answer"], answer);

    // A new wording of an existing entry, in words the knowledge base does not know
    // ("greia", "sesonger"), so the bot abstains until an adviser teaches it.
    let wording = "Hva kaller dere greia der vi leverer litt hver uke i mange sesonger?";
    let before = anbud(url, &["ask", "--format", "json", wording]);
    assert_eq!(before["answered"], false, "{before}");
    let list = anbud(
        url,
        &["unanswered", "list", "--status", "open", "--format", "json"],
    );
    let id = list[0]["id"].as_i64().unwrap().to_string();
    anbud(
        url,
        &[
            "unanswered",
            "answer",
            &id,
            "Det er en rammeavtale med avrop.",
            "--entry",
            "framework-agreements",
            "--question",
            wording,
        ],
    );
    let after = anbud(url, &["ask", "--format", "json", wording]);
    assert_eq!(after["id"], "framework-agreements", "{after}");

    // Dismiss and stats.
    let off = anbud(
        url,
        &["ask", "--format", "json", "Hvem vant fotballkampen i går?"],
    );
    assert_eq!(off["answered"], false);
    let open = anbud(
        url,
        &["unanswered", "list", "--status", "open", "--format", "json"],
    );
    let id = open.as_array().unwrap().last().unwrap()["id"]
        .as_i64()
        .unwrap()
        .to_string();
    anbud(
        url,
        &["unanswered", "dismiss", &id, "--reason", "off topic"],
    );
    let stats = anbud(url, &["stats", "--format", "json"]);
    assert!(stats["questions"].as_u64().unwrap() >= 6, "{stats}");
    assert!(stats["answered"].as_u64().unwrap() >= 2, "{stats}");
    // Exported for review in git, in the knowledge format.
    let dir = tempfile::tempdir().unwrap();
    anbud(
        url,
        &[
            "kb",
            "export",
            "--format",
            "markdown",
            dir.path().to_str().unwrap(),
        ],
    );
    // Taught in Norwegian only, from two questions, without a web source: a draft to
    // complete in review, not yet a knowledge file.
    let exported = std::fs::read_to_string(
        dir.path()
            .join(format!("drafts/learned-{}.nb.md", items[0]["id"])),
    )
    .unwrap();
    assert!(exported.contains("parkeringsetat") && exported.starts_with("+++"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_whole_adviser_flow() {
    whole_flow(&TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_whole_adviser_flow() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    whole_flow(&db).await;
}
