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

const GOOD: &str = "+++\nid = \"demo\"\nlang = \"LANG\"\ntitle = \"Demo\"\nquestions = [\"a\", \"b\", \"c\", \"d\", \"e\"]\nreviewed = \"2026-01-01\"\n\n[[sources]]\nname = \"Lovdata\"\nurl = \"https://lovdata.no/forskrift/2016-08-12-974/§5-3\"\n+++\nBody.\n";

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

// ------------------------------------------------ sources, dated figures, `kb review`

/// `anbud kb …` on a folder with extra environment variables; (status, stdout).
fn kb(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .args(["--database", "sqlite::memory:", "--knowledge"])
        .arg(dir)
        .arg("kb")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A good folder whose file `name` is replaced by `text`.
fn with_file(name: &str, text: String) -> tempfile::TempDir {
    folder(|d| std::fs::write(d.join(name), text).unwrap())
}

/// `kb lint` with a review period long enough that no check is stale.
fn lint_without_staleness(dir: &Path) -> (i32, String) {
    kb(
        dir,
        &["lint"],
        &[("ANBUD__KNOWLEDGE__REVIEW_AFTER_DAYS", "36500")],
    )
}

/// The demo entry in `lang` with `front` added to its front matter and `body` as its body.
fn demo(lang: &str, front: &str, body: &str) -> String {
    GOOD.replace("LANG", lang)
        .replace("\n+++\nBody.\n", &format!("\n{front}+++\n{body}\n"))
}

/// Runs `kb lint` on `dir`, which must pass with a warning `needle` at `file:line`;
/// returns the output.
fn assert_lint_warning(dir: &Path, file: &str, line: usize, needle: &str) -> String {
    let (code, out) = lint(dir);
    assert_eq!(code, 0, "a warning is not an error: {out}");
    let prefix = format!("{}:{line}: warning: ", dir.join(file).display());
    assert!(
        out.lines()
            .any(|l| l.starts_with(&prefix) && l.contains(needle)),
        "expected `{prefix}…{needle}…` in:\n{out}"
    );
    out
}

#[test]
fn lint_warns_about_a_source_that_is_a_bare_domain() {
    let dir = with_file(
        "entries/demo.nb.md",
        GOOD.replace("LANG", "nb").replace(
            "https://lovdata.no/forskrift/2016-08-12-974/§5-3",
            "https://www.skatteetaten.no/",
        ),
    );
    let out = assert_lint_warning(dir.path(), "entries/demo.nb.md", 10, "is a bare domain");
    // The English file keeps its section link: no warning there.
    assert!(!out.contains("demo.en.md"), "{out}");
}

#[test]
fn lint_warns_about_a_figure_without_a_date_until_a_fact_dates_it() {
    let body = "KOFA tar et klagegebyr.\n\nGebyret er 8 000 kroner.";
    let dir = with_file("entries/demo.nb.md", demo("nb", "", body));
    assert_lint_warning(
        dir.path(),
        "entries/demo.nb.md",
        14,
        "figure \"8 000 kroner\" has no date",
    );
    let fact = "\n[[facts]]\ntext = \"Klagegebyr: 8 000 kroner\"\nchecked = \"2026-12-01\"\nsource = \"https://www.klagenemndssekretariatet.no/klagenemda-for-offentlige-anskaffelser-kofa/levere-klage\"\n";
    let dir = with_file("entries/demo.nb.md", demo("nb", fact, body));
    let (code, out) = lint_without_staleness(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("has no date"), "{out}");
    // A sentence's own date also dates its figure.
    let dir = with_file(
        "entries/demo.nb.md",
        demo("nb", "", "Per 1. desember 2026 er gebyret 8 000 kroner."),
    );
    let (_, out) = lint_without_staleness(dir.path());
    assert!(!out.contains("has no date"), "{out}");
}

#[test]
fn lint_warns_when_a_figure_was_checked_longer_ago_than_review_after_days() {
    let fact = "\n[[facts]]\ntext = \"Minstefrist: 30 dager\"\nchecked = \"2020-01-06\"\nsource = \"https://anskaffelser.no/verktoy/veiledere/oversikt-minimumsfrister-kunngjoring-over-og-under-eos-terskelverdier\"\n";
    let dir = with_file(
        "entries/demo.en.md",
        demo("en", fact, "The minimum time limit is 30 dager."),
    );
    let out = assert_lint_warning(
        dir.path(),
        "entries/demo.en.md",
        12,
        "was checked 2020-01-06",
    );
    assert!(out.contains("knowledge.review_after_days = 180"), "{out}");
    let (_, out) = lint_without_staleness(dir.path());
    assert!(!out.contains("was checked"), "{out}");
}

#[test]
fn kb_review_lists_entries_and_facts_oldest_check_first_as_json() {
    let old_fact = "\n[[facts]]\ntext = \"Klagefrist: seks måneder\"\nchecked = \"2020-03-01\"\nsource = \"https://www.klagenemndssekretariatet.no/klagenemda-for-offentlige-anskaffelser-kofa/saksgangen/frister-for-klager-og-innklagede\"\n\n[[facts]]\ntext = \"Klagegebyr: 8 000 kroner\"\nchecked = \"2026-01-01\"\nsource = \"https://www.klagenemndssekretariatet.no/klagenemda-for-offentlige-anskaffelser-kofa/levere-klage\"\n";
    let dir = folder(|d| {
        std::fs::write(
            d.join("entries/demo.nb.md"),
            demo(
                "nb",
                old_fact,
                "Klagefristen er seks måneder, og gebyret er 8 000 kroner.",
            ),
        )
        .unwrap();
        for lang in ["nb", "en"] {
            std::fs::write(
                d.join(format!("entries/older.{lang}.md")),
                GOOD.replace("LANG", lang)
                    .replace("id = \"demo\"", "id = \"older\"")
                    .replace("2026-01-01", "2025-06-01"),
            )
            .unwrap();
        }
    });
    let (code, out) = kb(dir.path(), &["review", "--format", "json"], &[]);
    assert_eq!(code, 0, "{out}");
    let items: serde_json::Value = serde_json::from_str(&out).unwrap();
    let items = items.as_array().unwrap();
    let order: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["lang"].as_str().unwrap()))
        .collect();
    // demo/nb has the oldest check (a fact of 2020), then the entries reviewed in
    // 2025 (Bokmål before English), then demo/en (reviewed 2026-01-01).
    assert_eq!(
        order,
        vec![
            ("demo", "nb"),
            ("older", "nb"),
            ("older", "en"),
            ("demo", "en")
        ]
    );
    let first = &items[0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys.iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        ["age_days", "facts", "id", "lang", "reviewed", "stale"]
            .into_iter()
            .collect()
    );
    assert_eq!(first["reviewed"], "2026-01-01");
    assert_eq!(first["stale"], true);
    let facts = first["facts"].as_array().unwrap();
    assert_eq!(facts[0]["checked"], "2020-03-01", "{first}");
    assert_eq!(facts[1]["text"], "Klagegebyr: 8 000 kroner");
    let mut fact_keys: Vec<&String> = facts[0].as_object().unwrap().keys().collect();
    fact_keys.sort();
    assert_eq!(fact_keys, vec!["checked", "source", "text"]);
    // Ages count from the oldest check: demo/nb is (2026-01-01 - 2020-03-01) days
    // older than demo/en.
    let age = |i: usize| items[i]["age_days"].as_i64().unwrap();
    assert_eq!(age(0) - age(3), 2132);
    assert_eq!(age(1) - age(3), 214);
    // With a long enough review period nothing is stale; the text form says so too.
    let (_, out) = kb(
        dir.path(),
        &["review", "--format", "json"],
        &[("ANBUD__KNOWLEDGE__REVIEW_AFTER_DAYS", "36500")],
    );
    let items: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(items
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["stale"] == false));
    let (_, text) = kb(dir.path(), &["review"], &[]);
    assert!(text.starts_with("STALE demo (nb)"), "{text}");
    assert!(
        text.contains("check against: https://www.klagenemndssekretariatet.no/"),
        "{text}"
    );
}

/// The questions that were refused a figure before (issue 16): the reply states it.
#[test]
fn threshold_and_tax_certificate_questions_get_their_figures() {
    let cases = [
        (
            "Hva er den nasjonale terskelverdien?",
            "thresholds",
            "1,3 millioner kroner",
        ),
        (
            "What is the EEA threshold for works contracts?",
            "thresholds",
            "NOK 62.9 million",
        ),
        (
            "Hva er EØS-terskelverdien for bygge- og anleggskontrakter?",
            "thresholds",
            "62,9 millioner",
        ),
        (
            "What is the national threshold?",
            "thresholds",
            "NOK 1.3 million",
        ),
        (
            "Når må vi levere skatteattest?",
            "tax-and-hse-certificates",
            "500 000 kroner",
        ),
        (
            "From what contract value do we need a tax certificate?",
            "tax-and-hse-certificates",
            "NOK 500,000",
        ),
        (
            "Hvor lang er karensperioden?",
            "award-decision-and-standstill",
            "ti dager",
        ),
        (
            "Hva koster det å klage til KOFA?",
            "complaints",
            "8 000 kroner",
        ),
    ];
    for (question, id, figure) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_anbud"))
            .args(["--database", "sqlite::memory:", "--knowledge"])
            .arg(bundled())
            .args(["ask", "--format", "json", question])
            .output()
            .unwrap();
        let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(reply["id"], id, "{question}: {reply}");
        let answer = reply["answer"].as_str().unwrap_or("");
        assert!(
            answer.contains(figure),
            "{question}: no {figure:?} in {answer}"
        );
        // Every figure comes with the date it was checked.
        assert!(answer.contains("2026"), "{question}: no date in {answer}");
    }
}
