//! Bad input never takes the answering path down.
//!
//! Property tests over the bundled knowledge base: any text a user can send (empty, huge,
//! control characters, bidi marks, emoji, Discord markdown and mentions, search-engine query
//! syntax, thousands of parentheses, SQL) gets a reply or an abstention within a liveness
//! bound, and the reply renders to non-empty text and to valid JSON. Also properties of the
//! text analysis and of the knowledge-file parsers.
//!
//! The strategies mix random Unicode, structured nasty fragments and real words from the
//! glossary and entry titles, so cases reach the deep parts of the analysis (compound
//! splitting, typo look-up, synonyms) and not only the "no words here" shortcut.
//! More cases: `PROPTEST_CASES=20000 cargo test --test it robustness` (every property).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use anbud::answer::{render_json, render_text, Answerer};
use anbud::config::AnswerSettings;
use anbud::knowledge::{self, parse_entry_file, Entry, EventInfo, Fact, Glossary, Lang, Source};
use anbud::search::analysis::{fold, words};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

/// `n` cases, or `PROPTEST_CASES` when set (a longer run: `PROPTEST_CASES=20000`).
fn cases(n: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n)
}

/// A liveness bound, not a benchmark: generous enough for a debug build on a busy machine,
/// small enough to catch anything super-linear in the input.
const LIVENESS: Duration = Duration::from_secs(2);

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

static ANSWERER: LazyLock<Answerer> = LazyLock::new(|| {
    let (kb, _) = knowledge::load_dir(&bundled()).expect("the bundled knowledge base loads");
    Answerer::new(kb, AnswerSettings::default()).expect("the index builds")
});

/// Real words: every glossary term and every word of the entries' titles and keywords.
static VOCABULARY: LazyLock<Vec<String>> = LazyLock::new(|| {
    let kb = ANSWERER.knowledge();
    let mut out: Vec<String> = kb.glossary.groups.iter().flatten().cloned().collect();
    for rule in &kb.glossary.rules {
        out.extend(rule.from.iter().chain(&rule.to).cloned());
    }
    for entry in &kb.entries {
        out.extend(words(&entry.title));
        out.extend(entry.keywords.iter().map(str::to_string));
    }
    out.sort();
    out.dedup();
    out
});

/// Pieces that have broken text handling somewhere: control and format characters, bidi
/// and zero-width marks, combining and case-changing letters, emoji sequences, Discord
/// markdown and mentions, query syntax, SQL, format strings.
const FRAGMENTS: &[&str] = &[
    " ",
    "  ",
    "\n",
    "\r",
    "\r\n",
    "\t",
    "\0",
    "\u{7}",
    "\u{1b}[31m",
    "\u{85}",
    "\u{202e}",
    "\u{202d}",
    "\u{200f}",
    "\u{200e}",
    "\u{2066}",
    "\u{2069}",
    "\u{200b}",
    "\u{200d}",
    "\u{feff}",
    "\u{00ad}",
    "\u{2028}",
    "\u{2029}",
    "\u{0301}",
    "\u{0308}",
    "e\u{0301}",
    "ﬁ",
    "ß",
    "ẞ",
    "İ",
    "ı",
    "ǅ",
    "Å",
    "Å",
    "ÆØÅ",
    "æøå",
    "aa",
    "aaa",
    "AAAA",
    "ꙮ",
    "🙂",
    "👩\u{200d}👩\u{200d}👧",
    "🇳🇴",
    "1\u{fe0f}\u{20e3}",
    "\u{10ffff}",
    "\u{e000}",
    "\u{fffd}",
    "<@123456789012345678>",
    "<@!1>",
    "<@&1>",
    "<#1>",
    "<:anbud:123>",
    "<a:x:1>",
    "<@",
    "<@>",
    "@everyone",
    "@here",
    "@ everyone",
    "**x**",
    "__x__",
    "~~x~~",
    "||spoiler||",
    "`code`",
    "```rust\nfn main() {}\n```",
    "```",
    "> quote",
    ">>> all",
    "# heading",
    "-# small",
    "[lenke](https://x.no)",
    "https://example.com/?q=(",
    "http://",
    "www.x.no",
    "title:x AND (",
    "body:\"",
    "question:",
    "*",
    "?",
    "~2",
    "^3",
    "+anbud -tilbud",
    "NOT",
    "OR",
    "AND",
    "[a TO b]",
    "{",
    "}",
    "\\",
    "\"",
    "'",
    "((((",
    "))))",
    "()",
    "IN [",
    ":",
    "'; DROP TABLE asks; --",
    "$1",
    "?1",
    "' OR '1'='1",
    "/* */",
    "%s",
    "%n",
    "{}",
    "{0}",
    "{{x}}",
    "${HOME}",
    "../../etc/passwd",
    "NaN",
    "-0",
    "1e309",
    "9999999999999999999999",
    "+++",
    "\n+++\n",
    "'''",
    "\"\"\"",
];

fn fragment() -> impl Strategy<Value = String> {
    prop::sample::select(FRAGMENTS).prop_map(str::to_string)
}

fn real_word() -> impl Strategy<Value = String> {
    prop::sample::select(VOCABULARY.clone())
}

/// Text made of a mix of fragments, real words and random Unicode.
fn mixed_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => fragment(),
        4 => real_word(),
        2 => any::<String>(),
        1 => "\\PC{0,20}",
        1 => prop::collection::vec(any::<char>(), 0..8).prop_map(|c| c.into_iter().collect::<String>()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Long inputs: a piece repeated up to about 100 KB, or parentheses nested thousands deep.
fn long_text() -> impl Strategy<Value = String> {
    prop_oneof![
        (prop_oneof![fragment(), real_word()], 1usize..20_000).prop_map(|(p, n)| {
            let n = n.min(100_000 / p.len().max(1));
            p.repeat(n)
        }),
        (0usize..6_000, real_word()).prop_map(|(n, w)| format!(
            "{}{w}{}",
            "(".repeat(n),
            ")".repeat(n)
        )),
        (prop::collection::vec(real_word(), 1..6), 1usize..200)
            .prop_map(|(ws, n)| ws.concat().repeat(n)),
    ]
}

/// Everything that must hold for one question: bounded time, a reply, text and JSON.
fn check_answer(question: &str) -> Result<(), TestCaseError> {
    let start = Instant::now();
    let reply = ANSWERER
        .answer(question)
        .map_err(|e| TestCaseError::fail(format!("index error: {e}")))?;
    let logged = render_text(&reply, true);
    let not_logged = render_text(&reply, false);
    let json = render_json(&reply);
    let elapsed = start.elapsed();
    prop_assert!(
        elapsed < LIVENESS,
        "took {elapsed:?} for a question of {} bytes",
        question.len()
    );
    for text in [&logged, &not_logged] {
        prop_assert!(!text.trim().is_empty(), "empty reply text");
        prop_assert!(!text.contains('\0'));
        // Reply text comes from the knowledge base, never from the question: a question
        // cannot make the bot ping people.
        for ping in ["@everyone", "@here", "<@"] {
            prop_assert!(!text.contains(ping), "reply text holds {ping}: {text}");
        }
    }
    prop_assert_eq!(reply.answered(), reply.entry.is_some());
    prop_assert!(reply.candidates.len() <= anbud::answer::MAX_CANDIDATES);
    prop_assert!((0.0..=1.0).contains(&reply.score), "score {}", reply.score);
    let line = serde_json::to_string(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(!line.contains('\n'), "a JSON reply is one line");
    let back: Value =
        serde_json::from_str(&line).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        back["question"].as_str(),
        Some(question),
        "the question comes back verbatim"
    );
    prop_assert_eq!(back["answered"].as_bool(), Some(reply.answered()));
    prop_assert!(back["candidates"].is_array() && back["lang"].is_string());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(512), ..ProptestConfig::default() })]

    #[test]
    fn any_mixed_text_gets_a_reply_in_bounded_time(question in mixed_text()) {
        check_answer(&question)?;
    }

    #[test]
    fn any_unicode_string_gets_a_reply_in_bounded_time(question in any::<String>()) {
        check_answer(&question)?;
    }

    #[test]
    fn folding_is_idempotent(text in prop_oneof![any::<String>(), mixed_text()]) {
        let once = fold(&text);
        prop_assert_eq!(fold(&once), once.clone(), "fold({:?})", text);
    }

    #[test]
    fn words_are_never_empty_and_hold_no_separators(text in prop_oneof![any::<String>(), mixed_text()]) {
        for w in words(&text) {
            prop_assert!(!w.is_empty());
            prop_assert!(w.chars().all(|c| !c.is_whitespace() && !c.is_control()), "{:?}", w);
        }
    }

    #[test]
    fn compound_parts_are_never_longer_than_the_word(
        text in prop_oneof![
            prop::collection::vec(real_word(), 1..5).prop_map(|w| w.concat()),
            prop::collection::vec(prop_oneof![real_word(), Just("s".to_string()), Just("e".to_string())], 1..8).prop_map(|w| w.concat()),
            mixed_text(),
        ]
    ) {
        let analyzer = ANSWERER.index().analyzer();
        for w in words(&text) {
            let folded = fold(&w);
            for lang in [Lang::Nb, Lang::En] {
                let start = Instant::now();
                let parts = analyzer.compound_parts(&folded, lang);
                prop_assert!(start.elapsed() < LIVENESS, "{:?} took {:?}", folded, start.elapsed());
                let len = folded.chars().count();
                for p in &parts {
                    prop_assert!(!p.is_empty(), "empty part of {:?}", folded);
                    prop_assert!(p.chars().count() <= len, "part {:?} longer than {:?}", p, folded);
                }
            }
        }
    }
}

proptest! {
    // Each case can be 100 KB; fewer of them.
    #![proptest_config(ProptestConfig { cases: cases(64), ..ProptestConfig::default() })]

    #[test]
    fn long_and_deeply_nested_text_gets_a_reply_in_bounded_time(question in long_text()) {
        check_answer(&question)?;
    }
}

#[test]
fn the_named_nasty_inputs_get_a_reply_in_bounded_time() {
    let words_2000: String = VOCABULARY
        .iter()
        .cycle()
        .take(2_000)
        .cloned()
        .collect::<Vec<_>>()
        .join(" ");
    let cases: Vec<String> = vec![
        String::new(),
        "\0".repeat(10),
        "a".repeat(100_000),
        "anbud ".repeat(20_000),
        "(".repeat(10_000),
        format!("{}anbud{}", "(".repeat(5_000), ")".repeat(5_000)),
        "title:x AND (".repeat(500),
        "rammeavtale".repeat(200),
        "anbudskonkurranse".repeat(120),
        "kravs".repeat(400),
        words_2000,
        "<@123> <@&1> @everyone **x** ||spoiler|| ```\ncode\n```".into(),
        "'; DROP TABLE asks; -- $1".into(),
        "\u{202e}\u{200b}🙂\u{feff}".repeat(1_000),
    ];
    for question in &cases {
        check_answer(question).unwrap_or_else(|e| {
            panic!("{:?}…: {e}", question.chars().take(40).collect::<String>())
        });
    }
}

// ---------------------------------------------------------------- knowledge files

fn entry_path() -> &'static Path {
    Path::new("knowledge/entries/fuzz.nb.md")
}

/// Front-matter lines, valid and broken, for files that get past the first checks.
const FRONT_LINES: &[&str] = &[
    "id = \"thresholds\"",
    "id = \"Bad Id\"",
    "id = \"\"",
    "id = 3",
    "lang = \"nb\"",
    "lang = \"en\"",
    "lang = \"sv\"",
    "title = \"T\"",
    "title = \"\"",
    "questions = [\"a\", \"b\", \"c\", \"d\", \"e\"]",
    "questions = [\"\"]",
    "questions = []",
    "questions = \"x\"",
    "keywords = [\"k\"]",
    "related = [\"x\"]",
    "reviewed = \"2026-01-02\"",
    "reviewed = 2026-01-02",
    "reviewed = \"9999-12-31\"",
    "reviewed = \"yesterday\"",
    "reviewed = 2026-01-02T10:00:00Z",
    "[[sources]]",
    "name = \"Lovdata\"",
    "url = \"https://lovdata.no/\"",
    "url = \"ftp://x\"",
    "name = \"\"",
    "[event]",
    "start = \"2026-01-02 10:00\"",
    "end = \"2026-01-01 10:00\"",
    "start = 2026-01-02T10:00:00",
    "venue = \"Oslo\"",
    "colour = \"blue\"",
    "[sources]",
    "x = [",
    "\"",
    "'''",
    "\"\"\"",
    "= =",
    "[[",
    "]]",
    "+++",
    "+++ ",
    "\u{feff}+++",
    "\r",
    "",
    "#",
    "a.b.c = 1",
];

fn front_line() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(FRONT_LINES).prop_map(str::to_string),
        1 => "\\PC{0,30}",
        1 => any::<String>(),
    ]
}

/// Text shaped like a knowledge file, with random and broken parts.
fn file_like_text() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop::sample::select(vec!["", "\u{feff}", "\n", " "])),
        prop::collection::vec(front_line(), 0..30),
        any::<bool>(),
        prop_oneof![Just(String::new()), any::<String>(), mixed_text()],
        prop::sample::select(vec!["\n", "\r\n"]),
    )
        .prop_map(|(prefix, lines, closed, body, eol)| {
            let mut text = format!("{}+++{eol}", prefix.unwrap_or(""));
            for l in lines {
                text.push_str(&l);
                text.push_str(eol);
            }
            if closed {
                text.push_str("+++");
                text.push_str(eol);
            }
            text.push_str(&body);
            text
        })
}

fn check_parse(text: &str) -> Result<(), TestCaseError> {
    let max_line = text.lines().count() + 2;
    match parse_entry_file(entry_path(), text) {
        Ok((entry, warnings)) => {
            prop_assert!(
                !entry.id.is_empty() && !entry.title.is_empty() && !entry.body_text().is_empty()
            );
            for w in warnings {
                prop_assert!(w.line >= 1 && w.line <= max_line, "{}", w);
            }
        }
        Err(problems) => {
            prop_assert!(!problems.is_empty(), "an error without a problem");
            for p in problems {
                prop_assert!(
                    p.line >= 1 && p.line <= max_line,
                    "line {} of {}: {}",
                    p.line,
                    max_line,
                    p
                );
                prop_assert!(!p.message.trim().is_empty());
            }
        }
    }
    Ok(())
}

/// A string that survives the parser's trimming: non-empty, no outer whitespace.
fn trimmed_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-zÆØÅæøå0-9 ,.?!'\"\\\\#=+()\\[\\]{}-]{1,40}",
        any::<String>(),
        mixed_text(),
    ]
    .prop_map(|s| s.trim().to_string())
    .prop_filter("non-empty after trimming", |s| !s.is_empty())
}

#[test]
fn crlf_files_read_like_lf_files() {
    let lf = "+++\nid = \"x\"\nlang = \"nb\"\ntitle = \"T\"\nquestions = [\"a\", \"b\", \"c\", \"d\", \"e\"]\nreviewed = \"2026-01-02\"\n[[sources]]\nname = \"L\"\nurl = \"https://lovdata.no/\"\n+++\nFirst.\n\nSecond.\n";
    let crlf = lf.replace('\n', "\r\n");
    let (a, _) = parse_entry_file(entry_path(), lf).unwrap();
    let (b, _) = parse_entry_file(entry_path(), &crlf).unwrap();
    assert_eq!(a, b);
    assert_eq!(b.body_text(), "First.\n\nSecond.");
}

fn date() -> impl Strategy<Value = NaiveDate> {
    // Up to today: a review date in the future is an error.
    let first = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    let days = (chrono::Local::now().date_naive() - first).num_days();
    (0..=days).prop_map(move |d| first + chrono::Duration::days(d))
}

fn time_of_day() -> impl Strategy<Value = NaiveDateTime> {
    (date(), 0u32..24, 0u32..60)
        .prop_map(|(d, h, m)| d.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap()))
}

fn event() -> impl Strategy<Value = EventInfo> {
    (
        time_of_day(),
        0i64..100_000,
        trimmed_text(),
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
    )
        .prop_map(
            |(start, minutes, venue, address, registration_url, organiser, audience)| EventInfo {
                start,
                end: start + chrono::Duration::minutes(minutes),
                venue,
                address,
                registration_url,
                organiser,
                audience,
            },
        )
}

/// A valid entry: what `parse_entry_file` accepts and `Entry::to_markdown` must write back.
fn valid_entry() -> impl Strategy<Value = Entry> {
    (
        "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?",
        prop::sample::select(vec![Lang::Nb, Lang::En]),
        trimmed_text(),
        prop::collection::vec(trimmed_text(), 5..8),
        prop::collection::vec(any::<String>(), 0..4),
        prop::collection::vec("[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", 0..3),
        date(),
        prop::collection::vec(
            (trimmed_text(), "https://[a-z.]{1,20}/[\\PC]{0,20}").prop_map(|(name, url)| Source {
                name: name.into(),
                url: url.into(),
            }),
            1..3,
        ),
        // A carriage return is a line ending in a file: "\r\n" in a body reads back as "\n"
        // (see `crlf_files_read_like_lf_files`), so bodies here hold none.
        trimmed_text()
            .prop_map(|b| b.replace('\r', ""))
            .prop_filter("non-empty body", |b| !b.trim().is_empty()),
        prop::option::of(event()),
        prop::collection::vec(
            (
                trimmed_text(),
                date(),
                // A source that looks like an address must be one.
                trimmed_text().prop_filter("an address or a name", |s| !s.contains("://")),
            )
                .prop_map(|(text, checked, source)| Fact {
                    text: text.into(),
                    checked,
                    source: source.into(),
                    line: None,
                }),
            0..3,
        ),
    )
        .prop_map(
            |(
                id,
                lang,
                title,
                questions,
                keywords,
                related,
                reviewed,
                sources,
                body,
                event,
                facts,
            )| {
                Entry {
                    id,
                    lang,
                    title,
                    questions: questions.into(),
                    keywords: keywords.into(),
                    related,
                    reviewed,
                    sources,
                    facts,
                    body: body.into(),
                    event,
                    path: Some(entry_path().to_path_buf()),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(1024), ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses_to_an_entry_or_to_problems_with_lines(text in prop_oneof![any::<String>(), file_like_text()]) {
        check_parse(&text)?;
    }

    #[test]
    fn the_glossary_parser_never_panics_and_reports_lines(
        text in prop_oneof![
            any::<String>(),
            prop::collection::vec(
                prop_oneof![
                    prop::sample::select(vec!["a, b", "a => b", "=>", "a =>", ", a", "a,,b", "x = y", "# c", "a -> b", "a; b", "a => a"]).prop_map(str::to_string),
                    mixed_text(),
                ],
                0..20,
            ).prop_map(|l| l.join("\n")),
        ]
    ) {
        let lines = text.lines().count();
        let (glossary, problems) = Glossary::parse(Path::new("glossary.txt"), &text);
        for p in &problems {
            prop_assert!(p.line >= 1 && p.line <= lines.max(1), "{}", p);
        }
        for group in &glossary.groups {
            prop_assert!(group.len() >= 2 && group.iter().all(|t| !t.is_empty()));
        }
        for rule in &glossary.rules {
            prop_assert!(!rule.from.is_empty() && !rule.to.is_empty());
        }
    }

    #[test]
    fn a_valid_entry_round_trips_through_markdown(entry in valid_entry()) {
        let text = entry.to_markdown();
        match parse_entry_file(entry_path(), &text) {
            Ok((again, _)) => prop_assert_eq!(again, entry),
            Err(problems) => {
                let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
                return Err(TestCaseError::fail(format!("{}\n---\n{text}", problems.join("\n"))));
            }
        }
    }
}
