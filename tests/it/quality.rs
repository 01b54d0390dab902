//! The answer-quality suite: questions written as users write them (`tests/quality/`),
//! answered by the real core over the bundled knowledge base.
//!
//! Three splits: `train` (the calibration is fitted on it), `dev` (the threshold is chosen
//! on it; its misses are printed) and `test` (`heldout.tsv`: held out, only its aggregate
//! figures are printed, and the gate asserts on it alone). When this fails, improve the
//! analysis, the glossary or the entries, never add a special case for a question.

use std::path::Path;

use anbud::answer::Answerer;
use anbud::config::Settings;
use anbud::knowledge;
use anbud::quality::{self, Split};

fn answerer() -> Answerer {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let (kb, _) = knowledge::load_dir(&dir).expect("the bundled knowledge base loads");
    Answerer::new(kb, Settings::defaults().answer).expect("index")
}

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quality")
}

/// The gate, on the held-out test split alone: the figures reached when the calibration
/// was last fitted (7 December 2026, third fit: the phrasing model's character-4-gram
/// probability added to the rank and answer models: in scope 0.939, out of scope 1.000,
/// English 0.888 the weakest language, long questions 0.951, near-topic 1.000), less two
/// points.
const MIN_IN_SCOPE: f64 = 0.919;
const MIN_OUT_OF_SCOPE: f64 = 0.98;
const MIN_PER_LANGUAGE: f64 = 0.868;
const MIN_LONG: f64 = 0.931;
const MIN_NEAR_TOPIC: f64 = 0.98;
/// Replies in the question's language (English for English, Bokmål otherwise).
const MIN_LANGUAGE: f64 = 0.98;

#[test]
fn answers_in_scope_questions_and_abstains_on_the_rest() {
    let answerer = answerer();
    let rows = quality::read_splits(&data_dir(), &[Split::Train, Split::Dev, Split::Test])
        .expect("the labelled questions load");
    let report = quality::evaluate(&answerer, &rows);
    for (split, miss) in &report.misses {
        if *split == Split::Dev || std::env::var_os("QUALITY_TRAIN_MISSES").is_some() {
            eprintln!("miss {miss}");
        }
    }
    eprintln!("{report}");
    let test = report.split(Split::Test);
    let mut failures = Vec::new();
    let mut check = |what: String, tally: quality::Tally, min: f64| {
        if tally.share() < min {
            failures.push(format!("{what}: {tally} (min {min:.2})"));
        }
    };
    check("in-scope top-1".into(), test.in_scope, MIN_IN_SCOPE);
    check(
        "out-of-scope abstention".into(),
        test.out_of_scope,
        MIN_OUT_OF_SCOPE,
    );
    for (lang, tally) in &test.in_scope_by_lang {
        check(format!("in-scope top-1, {lang}"), *tally, MIN_PER_LANGUAGE);
    }
    check(
        "long questions".into(),
        test.by_kind.get("long").copied().unwrap_or_default(),
        MIN_LONG,
    );
    check(
        "near-topic abstention or referral".into(),
        test.near_topic(),
        MIN_NEAR_TOPIC,
    );
    for split in [Split::Train, Split::Dev, Split::Test] {
        check(
            format!("reply language, {}", split.name()),
            report.split(split).language,
            MIN_LANGUAGE,
        );
    }
    assert!(
        failures.is_empty(),
        "quality below the gate on the test split:\n{}",
        failures.join("\n")
    );
}

/// Every reply in the suite fits one Discord message with room to spare, and most are
/// short: the lead, and a section only when the question asks for it.
#[test]
fn replies_fit_one_message_and_most_are_short() {
    let answerer = answerer();
    let rows = quality::read_splits(&data_dir(), &[Split::Train, Split::Dev, Split::Test])
        .expect("the labelled questions load");
    let mut lengths = Vec::new();
    for row in &rows {
        let reply = answerer.answer(&row.question).unwrap();
        let text = anbud::answer::render_text(&reply, true);
        let chars = text.chars().count();
        assert!(
            chars <= anbud::answer::MAX_REPLY_CHARS,
            "{}: a reply of {chars} characters",
            row.place
        );
        if reply.answered() {
            lengths.push(chars);
        }
    }
    lengths.sort_unstable();
    let median = lengths[lengths.len() / 2];
    eprintln!(
        "answered replies: {}, median {median}, longest {}",
        lengths.len(),
        lengths.last().unwrap()
    );
    assert!(median <= 1000, "median reply {median} characters");
}

/// The test split shares no question with the entries' example questions or keywords,
/// or with the train and dev splits, after folding case, æøå, spacing and punctuation.
/// Only counts and line numbers are printed: the test rows stay unread.
#[test]
fn the_test_split_shares_no_question_with_the_knowledge_or_the_other_splits() {
    use std::collections::HashMap;
    let answerer = answerer();
    let mut known: HashMap<String, String> = HashMap::new();
    for entry in &answerer.knowledge().entries {
        for q in &entry.questions {
            known.insert(
                quality::normalise(q),
                format!("an example question of {}", entry.id),
            );
        }
        for k in &entry.keywords {
            known
                .entry(quality::normalise(k))
                .or_insert_with(|| format!("a keyword of {}", entry.id));
        }
    }
    let rows = quality::read_splits(&data_dir(), &[Split::Train, Split::Dev, Split::Test])
        .expect("the labelled questions load");
    for row in rows.iter().filter(|r| r.split != Split::Test) {
        known
            .entry(quality::normalise(&row.question))
            .or_insert_with(|| format!("{} ({} split)", row.place, row.split.name()));
    }
    let overlaps: Vec<String> = rows
        .iter()
        .filter(|r| r.split == Split::Test)
        .filter_map(|r| {
            known
                .get(&quality::normalise(&r.question))
                .map(|other| format!("{} is the same question as {other}", r.place))
        })
        .collect();
    assert!(
        overlaps.is_empty(),
        "{} test question(s) overlap (change the other side, not the test row):\n{}",
        overlaps.len(),
        overlaps.join("\n")
    );
    assert!(
        rows.iter()
            .all(|r| r.split != Split::Test || r.place.starts_with("heldout.tsv")),
        "test rows live in heldout.tsv only"
    );
}

/// The labelled data is large enough and covers every topic, both written languages
/// and Nynorsk and Swedish.
#[test]
fn the_labelled_questions_cover_every_topic_and_language() {
    use std::collections::BTreeMap;
    let answerer = answerer();
    let rows = quality::read_splits(&data_dir(), &[Split::Train, Split::Dev, Split::Test])
        .expect("the labelled questions load");
    let ids = answerer.knowledge().ids();
    let mut per_topic: BTreeMap<&str, usize> = ids.iter().map(|id| (*id, 0)).collect();
    for row in &rows {
        for id in &row.expected {
            let count = per_topic
                .get_mut(id.as_str())
                .unwrap_or_else(|| panic!("{}: unknown topic {id}", row.place));
            *count += 1;
        }
        for (split, name) in [
            (Split::Train, "train"),
            (Split::Dev, "dev"),
            (Split::Test, "heldout"),
        ] {
            if row.split == split {
                assert!(
                    row.place.starts_with(name),
                    "{}: a {} row",
                    row.place,
                    split.name()
                );
            }
        }
    }
    let thin: Vec<_> = per_topic.iter().filter(|(_, n)| **n < 25).collect();
    assert!(
        thin.is_empty(),
        "topics with fewer than 25 questions: {thin:?}"
    );
    let count = |f: &dyn Fn(&quality::Labelled) -> bool| rows.iter().filter(|r| f(r)).count();
    assert!(count(&|r| r.in_scope()) >= 1500);
    assert!(count(&|r| !r.in_scope()) >= 500);
    assert!(count(&|r| r.written == quality::Variety::Nn) >= 100);
    assert!(count(&|r| r.written == quality::Variety::Sv) >= 60);
}

/// Questions that ask for a figure, and the figure the reply itself must state (any of
/// the spellings): the targeted reply must hold it, not only the whole entry.
const FACT_QUESTIONS: &[(&str, &[&str])] = &[
    ("Hvor lang er karensperioden?", &["ti dager", "10 dager"]),
    (
        "Hvor mange dager har vi på oss før kontrakten kan signeres etter tildelingen?",
        &["ti dager", "10 dager"],
    ),
    (
        "How long is the standstill period?",
        &["ten days", "10 days"],
    ),
    (
        "How many days is the standstill when the notice is not sent electronically?",
        &["15 days", "fifteen days"],
    ),
    (
        "Hva er minstefristen for tilbud i en åpen anbudskonkurranse over EØS-terskelverdiene?",
        &["30 dager", "tretti dager"],
    ),
    (
        "What is the minimum time limit for bids in an open procedure?",
        &["30 days", "thirty days"],
    ),
    (
        "Hvor lang tid må kommunen gi oss til å levere tilbud i en åpen konkurranse?",
        &["30 dager", "tretti dager"],
    ),
    (
        "How long must the tender period be in an open procedure above the EEA thresholds?",
        &["30 days", "thirty days"],
    ),
    (
        "Hvor sent kan vi stille spørsmål før tilbudsfristen?",
        &["seks dager", "6 dager"],
    ),
    (
        "How many days before the deadline must the buyer answer our questions?",
        &["six days", "6 days"],
    ),
    (
        "Hva er klagefristen til KOFA?",
        &["seks måneder", "6 måneder"],
    ),
    (
        "What is the time limit for complaining to KOFA?",
        &["six months", "6 months"],
    ),
    (
        "Hva koster det å klage til KOFA?",
        &["8 000 kroner", "8000 kroner", "8 000 kr"],
    ),
    (
        "How much is the fee for a complaint to KOFA?",
        &["8,000", "8 000", "NOK 8000"],
    ),
    ("Hvor lenge kan en rammeavtale vare?", &["fire år", "4 år"]),
    (
        "How long can a framework agreement last?",
        &["four years", "4 years"],
    ),
    (
        "Hva er maksimal varighet på en rammeavtale?",
        &["fire år", "4 år"],
    ),
    (
        "What is the maximum duration of a framework agreement?",
        &["four years", "4 years"],
    ),
    (
        "Hvor mye skal miljø vektes i tildelingen?",
        &["30 prosent", "30 %"],
    ),
    (
        "How much must the environment be weighted when bids are evaluated?",
        &["30 percent", "30 %"],
    ),
    (
        "Hvor mange prosent må klima og miljø vektes?",
        &["30 prosent", "30 %"],
    ),
    (
        "What percentage does climate and environment have to count?",
        &["30 percent", "30 %"],
    ),
    (
        "Hvor gammel kan skatteattesten være?",
        &["seks måneder", "6 måneder"],
    ),
    (
        "How old can the tax certificate be?",
        &["six months", "6 months"],
    ),
    (
        "Hvor lenge lagrer boten personopplysninger?",
        &["180 dager"],
    ),
    ("How long do you keep personal data?", &["180 days"]),
    (
        "Hvor mye kjøper Follo-kommunene inn for?",
        &["10 milliarder", "ti milliarder"],
    ),
    (
        "How much do the Follo municipalities buy each year?",
        &["10 billion", "ten billion"],
    ),
    (
        "Hvor lang er søknadsfristen for å bli med i en dynamisk innkjøpsordning første gang?",
        &["30 dager", "tretti dager"],
    ),
    (
        "How long is the first deadline to request to join a dynamic purchasing system?",
        &["30 days", "thirty days"],
    ),
    (
        "Hvor lang er tilbudsfristen i en dynamisk innkjøpsordning?",
        &["ti dager", "10 dager"],
    ),
    (
        "What is the minimum tender deadline inside a dynamic purchasing system?",
        &["ten days", "10 days"],
    ),
    (
        "Hva er den nasjonale terskelverdien?",
        &["1,3 millioner", "1 300 000"],
    ),
    (
        "What is the national threshold value?",
        &["1.3 million", "1,300,000", "1 300 000"],
    ),
    (
        "Hva er den nedre beløpsgrensen for når anskaffelsesreglene gjelder?",
        &["500 000", "100 000"],
    ),
    (
        "What is the lower value limit below which the procurement rules do not apply?",
        &["500,000", "500 000", "100,000", "100 000"],
    ),
    (
        "Hvor mye kan en kontrakt endres uten ny konkurranse?",
        &["10 prosent", "10 %"],
    ),
    (
        "How much can a contract be changed without a new tender?",
        &["10 percent", "10 per cent", "10 %"],
    ),
    (
        "Hvor lang er fristen for tilbud hvis elektronisk innlevering ikke kreves?",
        &["35 dager"],
    ),
    (
        "How long is the bid deadline when electronic submission is not required?",
        &["35 days"],
    ),
    ("Hva betyr 2+1+1 år i en rammeavtale?", &["to år", "2+1+1"]),
    (
        "How many years can a framework agreement be extended to with options like 2+1+1?",
        &["four years", "2+1+1"],
    ),
];

#[test]
fn fact_questions_find_their_figure_in_the_reply() {
    let answerer = answerer();
    assert!(FACT_QUESTIONS.len() >= 40);
    let mut missing = Vec::new();
    for (question, figures) in FACT_QUESTIONS {
        let reply = answerer.answer(question).unwrap();
        let text = anbud::answer::render_text(&reply, true).to_lowercase();
        if !figures.iter().any(|f| text.contains(&f.to_lowercase())) {
            missing.push(format!(
                "{question} → {} (passage {:?}): none of {figures:?}",
                reply.id().unwrap_or("ABSTAIN"),
                reply.passage
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "{} fact question(s) without their figure in the reply:\n{}",
        missing.len(),
        missing.join("\n")
    );
}
