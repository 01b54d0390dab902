//! The search index kept on disk (`index.dir`): a second start with the same knowledge
//! opens it instead of indexing again, a changed entry is found right after the change,
//! and a damaged or foreign index is rebuilt with a warning, never a panic. The signal is
//! the log line each start writes (`RUST_LOG=anbud=info`), not timing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::knowledge_copy;

const OPENED: &str = "search index opened from disk";
const BUILT: &str = "search index built and saved to disk";
const UNUSABLE: &str = "search index on disk cannot be used";
/// The start read what was derived from the entries back instead of analysing them.
const NOT_ANALYSED: &str = "entries not analysed again";
const DERIVED_UNUSABLE: &str = "derived data of the search index on disk cannot be used";
const DERIVED_MISSING: &str = "search index on disk has no derived data yet";
const DERIVED_FILE: &str = "anbud-derived";

/// An entry in both languages that only the "other" knowledge base has.
const QUOKKA: &str = "+++\nid = \"quokka-permits\"\nlang = \"LANG\"\ntitle = \"Quokka permits\"\nquestions = [\"quokka a\", \"quokka b\", \"quokka c\", \"quokka d\", \"quokka e\"]\nreviewed = \"2026-01-01\"\n\n[[sources]]\nname = \"Lovdata\"\nurl = \"https://lovdata.no/forskrift/2016-08-12-974/§5-3\"\n+++\nBody about quokka permits.\n";

struct Start {
    reply: Value,
    log: String,
}

/// `anbud ask --format json QUESTION` on `knowledge` with the index in `index`.
fn ask(knowledge: &Path, index: &Path, db: &Path, question: &str) -> Start {
    let out = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("RUST_LOG", "anbud=info")
        .env("ANBUD__INDEX__DIR", index)
        .arg("--knowledge")
        .arg(knowledge)
        .arg("--database")
        .arg(format!("sqlite://{}", db.join("anbud.sqlite").display()))
        .args(["ask", "--format", "json", question])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "anbud ask failed:\n{log}");
    assert!(!log.contains("panicked"), "{log}");
    let reply = serde_json::from_slice(&out.stdout).unwrap();
    Start { reply, log }
}

/// A copy of the bundled knowledge, and a temporary folder for the database and index.
struct Case {
    knowledge: tempfile::TempDir,
    tmp: tempfile::TempDir,
    index: PathBuf,
}

impl Case {
    fn new() -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let index = tmp.path().join("index");
        Case {
            knowledge: knowledge_copy(),
            tmp,
            index,
        }
    }

    fn ask(&self, question: &str) -> Start {
        ask(
            self.knowledge.path(),
            &self.index,
            self.tmp.path(),
            question,
        )
    }
}

/// Change an entry of `knowledge`: `question` becomes the first example question of
/// framework-agreements in English.
fn add_example_question(knowledge: &Path, question: &str) {
    let file = knowledge.join("entries/framework-agreements.en.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replacen(
        "questions = [\n",
        &format!("questions = [\n  {question:?},\n"),
        1,
    );
    assert_ne!(changed, text);
    std::fs::write(&file, changed).unwrap();
}

/// The index folders (one per fingerprint) under `index`.
fn folders(index: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(index)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    found.sort();
    found
}

#[test]
fn a_second_start_opens_the_index_and_a_changed_entry_is_found_at_once() {
    let t = Case::new();
    let (knowledge, index) = (&t.knowledge, &t.index);

    let first = t.ask("What is a framework agreement?");
    assert!(first.log.contains(BUILT), "{}", first.log);
    assert_eq!(first.reply["id"], "framework-agreements");
    let built = folders(index);
    assert_eq!(built.len(), 1, "{built:?}");

    assert!(!first.log.contains(NOT_ANALYSED), "{}", first.log);
    let second = t.ask("What is a framework agreement?");
    assert!(second.log.contains(OPENED), "{}", second.log);
    assert!(second.log.contains(NOT_ANALYSED), "{}", second.log);
    assert!(!second.log.contains(BUILT), "{}", second.log);
    assert_eq!(
        second.reply, first.reply,
        "the same answer from the opened index"
    );
    assert_eq!(folders(index), built);

    // Change an entry: a new example question, with words no other entry has.
    let question = "Where do I register the quokka permit for a zanzibar tender?";
    let before = t.ask(question);
    assert_ne!(before.reply["id"], "framework-agreements");
    add_example_question(knowledge.path(), question);

    let after = t.ask(question);
    assert!(after.log.contains(BUILT), "{}", after.log);
    assert_eq!(after.reply["id"], "framework-agreements", "{}", after.reply);
    let rebuilt = folders(index);
    // The old folder stays for an hour (another process may still be using it).
    assert_eq!(
        rebuilt.len(),
        2,
        "the new index beside the old one: {rebuilt:?}"
    );
    assert!(built.iter().all(|f| rebuilt.contains(f)), "{rebuilt:?}");

    let again = t.ask(question);
    assert!(again.log.contains(OPENED), "{}", again.log);
    assert!(again.log.contains(NOT_ANALYSED), "{}", again.log);
    assert_eq!(again.reply["id"], "framework-agreements");
}

/// What was derived from the entries (beside tantivy's files) that is damaged,
/// truncated or missing is derived again from the entries with a log line, the answer
/// is the same, and the next start reads the file written anew.
#[test]
fn damaged_or_missing_derived_data_is_derived_again_with_a_log_line() {
    let t = Case::new();
    let question = "Hvor lenge kan en rammeavtale vare?";
    let first = t.ask(question);
    assert!(first.log.contains(BUILT), "{}", first.log);
    let folder = folders(&t.index).pop().unwrap();
    let derived = folder.join(DERIVED_FILE);
    let whole = std::fs::read(&derived).unwrap();

    let mut flipped = whole.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x5a;
    let damages: [(&str, Vec<u8>); 3] = [
        ("garbage", b"garbage \x00\xff garbage".to_vec()),
        ("truncated", whole[..whole.len() / 2].to_vec()),
        ("one byte changed", flipped),
    ];
    for (what, bytes) in damages {
        std::fs::write(&derived, bytes).unwrap();
        let damaged = t.ask(question);
        assert!(
            damaged.log.contains(DERIVED_UNUSABLE),
            "{what}: {}",
            damaged.log
        );
        assert!(damaged.log.contains(OPENED), "{what}: {}", damaged.log);
        assert!(
            !damaged.log.contains(NOT_ANALYSED),
            "{what}: {}",
            damaged.log
        );
        assert_eq!(damaged.reply, first.reply, "{what}");
        let next = t.ask(question);
        assert!(next.log.contains(NOT_ANALYSED), "{what}: {}", next.log);
        assert_eq!(next.reply, first.reply, "{what}");
    }

    // An index folder from before the derived file existed.
    std::fs::remove_file(&derived).unwrap();
    let missing = t.ask(question);
    assert!(missing.log.contains(DERIVED_MISSING), "{}", missing.log);
    assert!(!missing.log.contains(DERIVED_UNUSABLE), "{}", missing.log);
    assert_eq!(missing.reply, first.reply);
    let next = t.ask(question);
    assert!(next.log.contains(NOT_ANALYSED), "{}", next.log);
    assert_eq!(
        std::fs::read(&derived).unwrap(),
        whole,
        "written anew, the same"
    );
}

#[test]
fn a_damaged_index_is_rebuilt_with_a_warning() {
    let t = Case::new();
    let index = &t.index;
    let first = t.ask("Hva er en rammeavtale?");
    let folder = folders(index).pop().unwrap();

    // Garbage in every tantivy file; the fingerprint file is left as it was.
    for file in std::fs::read_dir(&folder).unwrap().flatten() {
        if file.file_name() != "anbud-fingerprint" {
            std::fs::write(file.path(), b"garbage \x00\xff garbage").unwrap();
        }
    }
    let second = t.ask("Hva er en rammeavtale?");
    assert!(second.log.contains(UNUSABLE), "{}", second.log);
    assert!(second.log.contains(BUILT), "{}", second.log);
    assert_eq!(second.reply, first.reply);

    // Garbage in the segment files only (meta.json intact): their checksums catch it.
    for file in std::fs::read_dir(&folder).unwrap().flatten() {
        let name = file.file_name().to_string_lossy().into_owned();
        if name != "anbud-fingerprint" && !name.ends_with(".json") && !name.ends_with(".lock") {
            let mut bytes = std::fs::read(file.path()).unwrap();
            let middle = bytes.len() / 2;
            for b in bytes.iter_mut().skip(middle).take(16) {
                *b ^= 0x5a;
            }
            std::fs::write(file.path(), bytes).unwrap();
        }
    }
    let third = t.ask("Hva er en rammeavtale?");
    assert!(third.log.contains(UNUSABLE), "{}", third.log);
    assert!(third.log.contains(BUILT), "{}", third.log);
    assert_eq!(third.reply, first.reply);

    let fourth = t.ask("Hva er en rammeavtale?");
    assert!(fourth.log.contains(OPENED), "{}", fourth.log);
}

#[test]
fn a_foreign_index_or_fingerprint_is_rebuilt() {
    let t = Case::new();
    let (tmp, index) = (&t.tmp, &t.index);
    let first = t.ask("What is a framework agreement?");
    let folder = folders(index).pop().unwrap();

    // The folder of this fingerprint claims another one.
    std::fs::write(folder.join("anbud-fingerprint"), "0".repeat(64)).unwrap();
    let second = t.ask("What is a framework agreement?");
    assert!(second.log.contains(UNUSABLE), "{}", second.log);
    assert!(second.log.contains("fingerprint"), "{}", second.log);
    assert!(second.log.contains(BUILT), "{}", second.log);
    assert_eq!(second.reply, first.reply);

    // Another knowledge base's index, renamed to this fingerprint's folder, with the
    // fingerprint file copied over too: its documents do not match.
    let other = knowledge_copy();
    for lang in ["nb", "en"] {
        std::fs::write(
            other
                .path()
                .join(format!("entries/quokka-permits.{lang}.md")),
            QUOKKA.replace("LANG", lang),
        )
        .unwrap();
    }
    let other_index = tmp.path().join("other-index");
    ask(
        other.path(),
        &other_index,
        tmp.path(),
        "What is a framework agreement?",
    );
    let foreign = folders(&other_index).pop().unwrap();
    let fingerprint = std::fs::read_to_string(folder.join("anbud-fingerprint")).unwrap();
    std::fs::remove_dir_all(&folder).unwrap();
    std::fs::rename(&foreign, &folder).unwrap();
    std::fs::write(folder.join("anbud-fingerprint"), &fingerprint).unwrap();
    let third = t.ask("What is a framework agreement?");
    assert!(third.log.contains(UNUSABLE), "{}", third.log);
    assert!(third.log.contains(BUILT), "{}", third.log);
    assert_eq!(third.reply, first.reply);
}

#[test]
fn an_empty_index_dir_keeps_the_index_in_memory() {
    let knowledge = knowledge_copy();
    let tmp = tempfile::tempdir().unwrap();
    let start = ask(
        knowledge.path(),
        Path::new(""),
        tmp.path(),
        "What is a framework agreement?",
    );
    assert!(
        !start.log.contains(BUILT) && !start.log.contains(OPENED),
        "{}",
        start.log
    );
    assert_eq!(start.reply["id"], "framework-agreements");
}

/// The files a start took from the cache of parsed knowledge files and the files it
/// read, from its log line ("knowledge files loaded from_cache=N read=M …").
fn files_loaded(log: &str) -> (usize, usize) {
    let line = log
        .lines()
        .find(|l| l.contains("knowledge files loaded"))
        .unwrap_or_else(|| panic!("no line on the knowledge files loaded:\n{log}"));
    // The log may be coloured: drop the escape sequences (ESC [ … m).
    let mut plain = String::new();
    let mut escaped = false;
    for c in line.chars() {
        match (escaped, c) {
            (false, '\u{1b}') => escaped = true,
            (true, 'm') => escaped = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    let line = plain.as_str();
    let field = |name: &str| -> usize {
        let start = line.find(&format!("{name}=")).unwrap() + name.len() + 1;
        line[start..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (field("from_cache"), field("read"))
}

/// The parsed knowledge files are kept in `index.dir` too: a second start on unchanged
/// files reads none of them, a file changed between two starts is read again and its
/// change answered at once (also when it is older than the settling time, so that only
/// its stamp tells), and a damaged cache is not used, with a log line.
#[test]
fn unchanged_files_come_from_the_cache_and_a_changed_one_is_read_again() {
    let t = Case::new();
    // Files younger than two seconds are read at every start (coarse file times).
    let settle = std::time::Duration::from_millis(2100);
    std::thread::sleep(settle);
    let question = "Where do I register the quokka permit for a zanzibar tender?";
    let first = t.ask(question);
    let (cached, read) = files_loaded(&first.log);
    assert_eq!(cached, 0, "{}", first.log);
    assert!(read > 70, "{}", first.log);
    assert_ne!(first.reply["id"], "framework-agreements");

    let second = t.ask(question);
    assert_eq!(files_loaded(&second.log), (read, 0), "{}", second.log);
    assert_eq!(second.reply, first.reply);

    add_example_question(t.knowledge.path(), question);
    std::thread::sleep(settle);
    let after = t.ask(question);
    assert_eq!(files_loaded(&after.log), (read - 1, 1), "{}", after.log);
    assert_eq!(after.reply["id"], "framework-agreements", "{}", after.reply);

    let cache: Vec<PathBuf> = std::fs::read_dir(&t.index)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("knowledge-")
        })
        .collect();
    assert_eq!(cache.len(), 1, "{cache:?}");
    std::fs::write(&cache[0], b"garbage \x00\xff garbage").unwrap();
    let damaged = t.ask(question);
    assert!(
        damaged
            .log
            .contains("cache of parsed knowledge files cannot be used"),
        "{}",
        damaged.log
    );
    assert_eq!(files_loaded(&damaged.log), (0, read), "{}", damaged.log);
    assert_eq!(damaged.reply["id"], "framework-agreements");
    let next = t.ask(question);
    assert_eq!(files_loaded(&next.log), (read, 0), "{}", next.log);
    assert_eq!(next.reply, damaged.reply);
}
