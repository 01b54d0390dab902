//! Users' text on the command line (issue 18.5): a question holding terminal escape
//! sequences must not retitle, clear or rewrite an adviser's terminal. Every control
//! character reaches the terminal as a visible stand-in (`␛`, `␇`, `␍`, `<U+009B>`), and
//! JSON output keeps the exact text as `\u` escapes.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anbud::knowledge::Lang;
use anbud::store::{LearnedEntry, Origin};
use chrono::NaiveDate;
use serde_json::Value;

use crate::store::{unanswered, TestDb};

/// OSC 0 (set the window title) ended by BEL, CSI 2J (clear the screen), a carriage return
/// that would overwrite the start of the line, and an 8-bit CSI.
const HOSTILE: &str = "\x1b]0;pwned\x07Hva er \x1b[2Jfristen\rfor klage\u{9b}31m i Ytre Vesteland?";

fn stdout_of(db: &str, args: &[&str]) -> String {
    let out = crate::anbud_on(db).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "anbud {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Nothing a terminal acts on: no C0 control but line breaks and tabs, no C1 control.
fn assert_terminal_safe(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect();
    assert!(bad.is_empty(), "{what} printed {bad:?}:\n{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_text_reaches_the_terminal_with_its_control_characters_shown() {
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    let item = store
        .log_unanswered(&unanswered(HOSTILE, Origin::terminal()))
        .await
        .unwrap()
        .item_id;

    // The advisers' queue.
    let list = stdout_of(&db.url, &["unanswered", "list"]);
    assert_terminal_safe("unanswered list", &list);
    assert!(
        list.contains("␛]0;pwned␇Hva er ␛[2Jfristen␍for klage<U+009B>31m"),
        "{list}"
    );
    let json = stdout_of(&db.url, &["unanswered", "list", "--format", "json"]);
    assert_terminal_safe("unanswered list --format json", &json);
    assert!(!json.contains('\u{9b}'), "{json}");
    let rows: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(rows[0]["question"], HOSTILE, "JSON keeps the exact text");

    // A title taught from a question, in `ask`.
    store
        .save_learned_entry(&LearnedEntry {
            id: "learned-terminal".into(),
            lang: Lang::Nb,
            title: format!("Klagefrist {HOSTILE}"),
            body: "Klagefristen i Ytre Vesteland er ti dager.".into(),
            questions: vec!["Hva er klagefristen i Ytre Vesteland?".into()],
            keywords: vec![],
            source_name: "Rådgiver".into(),
            source_url: None,
            reviewed: NaiveDate::from_ymd_opt(2026, 1, 5).unwrap(),
            created_by: "adviser".into(),
        })
        .await
        .unwrap();
    let asked = stdout_of(&db.url, &["ask", "Hva er klagefristen i Ytre Vesteland?"]);
    assert_terminal_safe("ask", &asked);
    assert!(asked.contains("Klagefrist ␛]0;pwned␇"), "{asked}");

    // An adviser's answer delivered to `chat`, quoting the question.
    store
        .answer_item(item, "Ti dager.\x1b[2J", "adviser")
        .await
        .unwrap();
    let mut chat = crate::anbud_on(&db.url)
        .arg("chat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = chat.stdin.take().unwrap();
    let stdout = chat.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    writeln!(stdin, "Hva er klagefristen i Ytre Vesteland?").unwrap();
    stdin.flush().unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !(seen.contains("har svart") && seen.contains("Ti dager.") && seen.contains("Klagefrist"))
    {
        assert!(
            Instant::now() < deadline,
            "chat did not print the answer and the reply:\n{seen}"
        );
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
            seen.push_str(&line);
            seen.push('\n');
        }
    }
    drop(stdin);
    let _ = chat.kill();
    let _ = chat.wait();
    assert_terminal_safe("chat", &seen);
    assert!(seen.contains("Ti dager.␛[2J"), "{seen}");
    assert!(seen.contains("«␛]0;pwned␇Hva er"), "{seen}");
}
