//! Inputs that used to be taken without a word (issue 18.9): a knowledge folder without
//! entries, special files in the knowledge folder, dates past the year 9999.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

const ENTRY: &str = "+++\nid = \"demo\"\nlang = \"LANG\"\ntitle = \"Demo\"\nquestions = [\"a\", \"b\", \"c\", \"d\", \"e\"]\nreviewed = \"2026-01-01\"\n\n[[sources]]\nname = \"Lovdata\"\nurl = \"https://lovdata.no/\"\n+++\nBody.\n";

/// `anbud --knowledge DIR ARGS…` with a database of its own, killed after `limit`.
fn anbud(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let db = dir.join("db.sqlite");
    let child = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .env_remove("RUST_LOG")
        .arg("--knowledge")
        .arg(dir.join("knowledge"))
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let id = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output().unwrap();
        let _ = done_tx.send(());
        out
    });
    if done_rx.recv_timeout(limit).is_err() {
        // SAFETY: kill(2) on the child started above, by its own id.
        unsafe { libc::kill(id as i32, libc::SIGKILL) };
        let out = waiter.join().unwrap();
        panic!(
            "anbud {args:?} hung for {limit:?}; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    waiter.join().unwrap()
}

fn write_entries(knowledge: &Path) {
    let entries = knowledge.join("entries");
    std::fs::create_dir_all(&entries).unwrap();
    for lang in ["nb", "en"] {
        std::fs::write(
            entries.join(format!("demo.{lang}.md")),
            ENTRY.replace("LANG", lang),
        )
        .unwrap();
    }
}

#[test]
fn a_knowledge_folder_without_entries_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let knowledge = tmp.path().join("knowledge");
    std::fs::create_dir_all(knowledge.join("events")).unwrap();
    std::fs::write(knowledge.join("glossary.txt"), "anbud, tilbud\n").unwrap();

    let lint = anbud(tmp.path(), &["kb", "lint"], Duration::from_secs(60));
    assert_eq!(lint.status.code(), Some(1), "lint must fail");
    let out = String::from_utf8_lossy(&lint.stdout);
    assert!(
        out.contains("entries") && out.contains("no entries/ folder"),
        "{out}"
    );

    let ask = anbud(
        tmp.path(),
        &["ask", "Hva er ESPD?"],
        Duration::from_secs(60),
    );
    assert!(
        !ask.status.success(),
        "the bot must not start without entries"
    );
    assert!(
        String::from_utf8_lossy(&ask.stderr).contains("no entries/ folder"),
        "{}",
        String::from_utf8_lossy(&ask.stderr)
    );

    // An entries/ folder with nothing in it is no better.
    std::fs::create_dir_all(knowledge.join("entries")).unwrap();
    let lint = anbud(tmp.path(), &["kb", "lint"], Duration::from_secs(60));
    assert_eq!(lint.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&lint.stdout).contains("holds no knowledge files"));

    write_entries(&knowledge);
    let lint = anbud(tmp.path(), &["kb", "lint"], Duration::from_secs(60));
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&lint.stdout)
    );
}

#[cfg(unix)]
#[test]
fn special_files_in_the_knowledge_folder_do_not_hang_start_up() {
    use std::os::unix::fs::symlink;

    let tmp = tempfile::tempdir().unwrap();
    let knowledge = tmp.path().join("knowledge");
    write_entries(&knowledge);
    let fifo = tmp.path().join("fifo");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    symlink(&fifo, knowledge.join("entries/fifo.nb.md")).unwrap();
    symlink("/dev/zero", knowledge.join("entries/zero.en.md")).unwrap();
    symlink(&fifo, knowledge.join("glossary.txt")).unwrap();

    for args in [&["kb", "lint"][..], &["ask", "Hva er ESPD?"][..]] {
        let out = anbud(tmp.path(), args, Duration::from_secs(60));
        assert!(!out.status.success(), "{args:?} must refuse the folder");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for name in ["fifo.nb.md", "zero.en.md", "glossary.txt"] {
            assert!(
                text.lines()
                    .any(|l| l.contains(name) && l.contains("not a regular file")),
                "{args:?} {name}: {text}"
            );
        }
    }

    // A regular file past the size limit is refused, not read.
    std::fs::remove_file(knowledge.join("entries/fifo.nb.md")).unwrap();
    std::fs::remove_file(knowledge.join("entries/zero.en.md")).unwrap();
    std::fs::remove_file(knowledge.join("glossary.txt")).unwrap();
    let big = ENTRY.replace("LANG", "nb") + "x".repeat(2 * 1024 * 1024).as_str();
    std::fs::write(knowledge.join("entries/demo.nb.md"), big).unwrap();
    let out = anbud(tmp.path(), &["kb", "lint"], Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("larger than the limit"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn stats_since_refuses_years_past_9999() {
    let tmp = tempfile::tempdir().unwrap();
    write_entries(&tmp.path().join("knowledge"));
    for day in ["10000-01-01", "+10000-01-01", "0000-12-31"] {
        let out = anbud(
            tmp.path(),
            &["stats", "--since", day],
            Duration::from_secs(60),
        );
        assert_eq!(out.status.code(), Some(2), "{day} must be refused");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("9999"), "{day}: {err}");
    }
    let out = anbud(
        tmp.path(),
        &["stats", "--since", "9999-12-31", "--format", "json"],
        Duration::from_secs(60),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
