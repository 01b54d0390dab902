//! The bundled knowledge base meets the content rules, and `anbud kb lint` catches each
//! kind of error in a broken one.

use std::path::{Path, PathBuf};
use std::process::Command;

use anbud::knowledge::{self, Lang};

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

#[test]
fn every_required_topic_has_both_languages_sources_dates_and_questions() {
    let topics = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quality/topics.txt"),
    )
    .unwrap();
    let (kb, _) =
        knowledge::load_dir(&bundled()).expect("the bundled knowledge base loads without errors");
    let mut problems = Vec::new();
    for id in topics.lines().map(str::trim).filter(|l| !l.is_empty()) {
        for lang in [Lang::Nb, Lang::En] {
            let Some(e) = kb.entries.iter().find(|e| e.id == id && e.lang == lang) else {
                problems.push(format!("{id}: no {lang} entry"));
                continue;
            };
            if e.sources.is_empty() || e.sources.iter().any(|s| !s.url.starts_with("https://")) {
                problems.push(format!(
                    "{id} ({lang}): needs a source with an https address"
                ));
            }
            if e.reviewed.year() < 2020 {
                problems.push(format!("{id} ({lang}): review date {}", e.reviewed));
            }
            if e.questions.len() < 5 {
                problems.push(format!(
                    "{id} ({lang}): {} example questions",
                    e.questions.len()
                ));
            }
            if e.summary().chars().count() > 700 {
                problems.push(format!(
                    "{id} ({lang}): first paragraph too long for one chat message"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

use chrono::Datelike;

const GOOD: &str = "+++\nid = \"demo\"\nlang = \"LANG\"\ntitle = \"Demo\"\nquestions = [\"a\", \"b\", \"c\", \"d\", \"e\"]\nreviewed = \"2026-01-01\"\n\n[[sources]]\nname = \"Lovdata\"\nurl = \"https://lovdata.no/\"\n+++\nBody.\n";

/// A knowledge folder with a valid demo entry in both languages, then `edit` applied.
fn folder(edit: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("entries")).unwrap();
    for lang in ["nb", "en"] {
        std::fs::write(
            dir.path().join(format!("entries/demo.{lang}.md")),
            GOOD.replace("LANG", lang),
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("glossary.txt"),
        "anbud, tilbud, bid\nkva => hva\n",
    )
    .unwrap();
    edit(dir.path());
    dir
}

fn lint(dir: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .args(["--database", "sqlite::memory:", "--knowledge"])
        .arg(dir)
        .args(["kb", "lint"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn assert_lint_error(edit: impl FnOnce(&Path), file: &str, line: usize, needle: &str) {
    let dir = folder(edit);
    let (code, out) = lint(dir.path());
    assert_eq!(code, 1, "lint should fail: {out}");
    let expected_prefix = format!("{}:{line}: ", dir.path().join(file).display());
    assert!(
        out.lines()
            .any(|l| l.starts_with(&expected_prefix) && l.contains(needle)),
        "expected `{expected_prefix}…{needle}…` in:\n{out}"
    );
}

#[test]
fn lint_passes_a_good_folder_and_the_bundled_one() {
    let dir = folder(|_| {});
    assert_eq!(lint(dir.path()).0, 0);
    let (code, out) = lint(&bundled());
    assert_eq!(code, 0, "{out}");
}

#[test]
fn lint_reports_a_missing_field() {
    assert_lint_error(
        |d| {
            let p = d.join("entries/demo.nb.md");
            std::fs::write(
                &p,
                GOOD.replace("LANG", "nb").replace("title = \"Demo\"\n", ""),
            )
            .unwrap();
        },
        "entries/demo.nb.md",
        1,
        "missing field `title`",
    );
}

#[test]
fn lint_reports_a_duplicate_id() {
    assert_lint_error(
        |d| {
            std::fs::write(
                d.join("entries/demo-copy.nb.md"),
                GOOD.replace("LANG", "nb"),
            )
            .unwrap()
        },
        "entries/demo.nb.md",
        1,
        "duplicate id \"demo\" in language nb",
    );
}

#[test]
fn lint_reports_a_bad_date() {
    assert_lint_error(
        |d| {
            std::fs::write(
                d.join("entries/demo.en.md"),
                GOOD.replace("LANG", "en")
                    .replace("2026-01-01", "2026-13-45"),
            )
            .unwrap()
        },
        "entries/demo.en.md",
        6,
        "`reviewed` must be a date",
    );
}

#[test]
fn lint_reports_an_unknown_key() {
    assert_lint_error(
        |d| {
            std::fs::write(
                d.join("entries/demo.en.md"),
                GOOD.replace("LANG", "en")
                    .replace("title = \"Demo\"", "title = \"Demo\"\nauthor = \"me\""),
            )
            .unwrap()
        },
        "entries/demo.en.md",
        5,
        "author",
    );
}

#[test]
fn lint_reports_an_empty_body() {
    assert_lint_error(
        |d| {
            std::fs::write(
                d.join("entries/demo.en.md"),
                GOOD.replace("LANG", "en").replace("Body.\n", "\n"),
            )
            .unwrap()
        },
        "entries/demo.en.md",
        12,
        "empty body",
    );
}

#[test]
fn lint_reports_a_broken_glossary_line() {
    assert_lint_error(
        |d| {
            std::fs::write(
                d.join("glossary.txt"),
                "anbud, tilbud\nthis line = broken\nkva => \n",
            )
            .unwrap()
        },
        "glossary.txt",
        2,
        "cannot read this line",
    );
}

#[test]
fn lint_reports_an_entry_in_one_language() {
    assert_lint_error(
        |d| std::fs::remove_file(d.join("entries/demo.en.md")).unwrap(),
        "entries/demo.nb.md",
        1,
        "exists only in nb",
    );
}

#[test]
fn lint_reports_too_few_questions_and_a_broken_front_matter() {
    assert_lint_error(
        |d| {
            std::fs::write(
                d.join("entries/demo.en.md"),
                GOOD.replace("LANG", "en").replace("\"d\", \"e\"", ""),
            )
            .unwrap()
        },
        "entries/demo.en.md",
        5,
        "at least 5",
    );
    assert_lint_error(
        |d| {
            std::fs::write(
                d.join("entries/demo.en.md"),
                GOOD.replace("LANG", "en")
                    .replace("title = \"Demo\"", "title = \"Demo"),
            )
            .unwrap()
        },
        "entries/demo.en.md",
        4,
        "front matter",
    );
}
