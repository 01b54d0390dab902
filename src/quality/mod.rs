//! Labelled questions and what the bot makes of them: the answer-quality figures.
//!
//! The labelled questions live in `tests/quality/` as three files, one per split:
//! `train.tsv` (the calibration is fitted on it), `dev.tsv` (the threshold is chosen on it,
//! and its misses may be read) and `heldout.tsv` (the test split: only reported, never
//! tuned on, never read row by row). [`evaluate`] answers every row with the real
//! answering core and tallies the figures per split, language and kind.

pub mod fit;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::answer::{render_text, Answerer, Reply};
pub use crate::search::Variety;

/// The files of the labelled questions, in split order.
pub const FILES: [(&str, Split); 3] = [
    ("train.tsv", Split::Train),
    ("dev.tsv", Split::Dev),
    ("heldout.tsv", Split::Test),
];

/// What a labelled question is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    /// Fitting the calibration (and reading misses to improve analysis and content).
    Train,
    /// Choosing the thresholds (and reading misses).
    Dev,
    /// Reporting only.
    Test,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }

    fn parse(text: &str) -> Option<Split> {
        match text {
            "train" => Some(Split::Train),
            "dev" => Some(Split::Dev),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
}

/// One labelled question.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub split: Split,
    /// Topic ids that answer it (either counts as right); empty when out of scope.
    pub expected: Vec<String>,
    pub written: Variety,
    /// The style: paraphrase, long, keywords, typo, ascii, compound, direct; neartopic or
    /// offtopic when out of scope.
    pub kind: String,
    pub question: String,
    /// The public service a near-topic question deserves, if any.
    pub referral: Option<String>,
    /// Where it is, for messages: `file:line`.
    pub place: String,
}

impl Labelled {
    pub fn in_scope(&self) -> bool {
        !self.expected.is_empty()
    }
}

/// Why labelled questions could not be read.
#[derive(Debug, thiserror::Error)]
pub enum QualityError {
    #[error("{path}: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}: {1}")]
    Bad(String, String),
}

/// The six tab-separated columns of a labelled question file.
pub const HEADER: &str = "split\texpected\tlang\tkind\tquestion\treferral";

/// Read one labelled question file.
pub fn read_file(path: &Path) -> Result<Vec<Labelled>, QualityError> {
    let text = std::fs::read_to_string(path).map_err(|source| QualityError::Unreadable {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let place = format!("{name}:{}", index + 1);
        if index == 0 {
            if line.trim_end() != HEADER {
                return Err(QualityError::Bad(
                    place,
                    format!("the header must be {HEADER:?}"),
                ));
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [split, expected, lang, kind, question, referral] = cols[..] else {
            return Err(QualityError::Bad(
                place,
                format!("{} columns, not 6", cols.len()),
            ));
        };
        let bad = |what: &str| QualityError::Bad(place.clone(), what.to_string());
        rows.push(Labelled {
            split: Split::parse(split).ok_or_else(|| bad("unknown split"))?,
            expected: match expected {
                "-" => Vec::new(),
                ids => ids.split('|').map(str::to_string).collect(),
            },
            written: Variety::parse(lang).ok_or_else(|| bad("unknown language"))?,
            kind: kind.to_string(),
            question: question.to_string(),
            referral: (referral != "-").then(|| referral.to_string()),
            place,
        });
    }
    Ok(rows)
}

/// Read the labelled question files of the given splits from `dir`.
pub fn read_splits(dir: &Path, splits: &[Split]) -> Result<Vec<Labelled>, QualityError> {
    let mut rows = Vec::new();
    for (name, split) in FILES {
        if splits.contains(&split) {
            rows.extend(read_file(&dir.join(name))?);
        }
    }
    Ok(rows)
}

/// Case, æøå, spacing and punctuation folded away: two questions that differ only in
/// those are the same question (for the overlap check between splits).
pub fn normalise(text: &str) -> String {
    let folded = crate::search::analysis::fold(text);
    crate::search::analysis::words(&folded).join(" ")
}

/// Right out of total.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Tally {
    pub right: usize,
    pub total: usize,
}

impl Tally {
    pub fn add(&mut self, ok: bool) {
        self.total += 1;
        self.right += usize::from(ok);
    }

    /// The share right; 1 when there is nothing to count.
    pub fn share(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.right as f64 / self.total as f64
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.3} ({}/{})", self.share(), self.right, self.total)
    }
}

/// What the bot did with one labelled question.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The entry answered with, if any.
    pub answered: Option<String>,
    /// The referral given, if any.
    pub referral: Option<String>,
    /// Answered with a right entry (in scope), or not answered with an entry (out of scope).
    pub right: bool,
    /// The reply's language is the question's (English for English, Bokmål otherwise).
    pub language_right: bool,
    /// Characters of the reply as shown.
    pub reply_chars: usize,
    pub confidence: f32,
    /// The best candidates, best first.
    pub candidates: Vec<String>,
}

/// Judge a reply to a labelled question; `ranked` are the candidate ids as ranked
/// (before an abstention leaves only the closest).
pub fn judge(row: &Labelled, reply: &Reply, ranked: Vec<String>) -> Outcome {
    let answered = reply.id().map(str::to_string);
    let right = if row.in_scope() {
        answered
            .as_ref()
            .is_some_and(|id| row.expected.contains(id))
    } else {
        answered.is_none()
    };
    Outcome {
        answered,
        referral: reply.referral.as_ref().map(|r| r.id.clone()),
        right,
        language_right: reply.lang == row.written.reply_lang(),
        reply_chars: render_text(reply, true).chars().count(),
        confidence: reply.score,
        candidates: ranked,
    }
}

/// The figures of one split.
#[derive(Debug, Default, Clone)]
pub struct Figures {
    /// In scope: answered with a right entry.
    pub in_scope: Tally,
    /// Out of scope: not answered with an entry (abstained or referred).
    pub out_of_scope: Tally,
    /// In scope per language of the question.
    pub in_scope_by_lang: BTreeMap<&'static str, Tally>,
    /// Out of scope per language.
    pub out_of_scope_by_lang: BTreeMap<&'static str, Tally>,
    /// Per kind: in-scope kinds count answered-and-right, out-of-scope kinds count
    /// not answered.
    pub by_kind: BTreeMap<String, Tally>,
    /// Labelled near-topic questions referred to the service they deserve.
    pub referral_right: Tally,
    /// Referrals given: to the service the question was labelled with.
    pub referrals_given: Tally,
    /// Replies in the question's language.
    pub language: Tally,
    /// Characters of every answered reply.
    pub answer_chars: Vec<usize>,
    /// In scope: the right entry ranked first, answered or not.
    pub ranked_first: Tally,
    /// In scope: the right entry among the first three candidates.
    pub in_top3: Tally,
}

impl Figures {
    fn add(&mut self, row: &Labelled, outcome: &Outcome) {
        let lang = row.written.code();
        if row.in_scope() {
            self.in_scope.add(outcome.right);
            self.in_scope_by_lang
                .entry(lang)
                .or_default()
                .add(outcome.right);
            self.ranked_first.add(
                outcome
                    .candidates
                    .first()
                    .is_some_and(|c| row.expected.contains(c)),
            );
            self.in_top3.add(
                outcome
                    .candidates
                    .iter()
                    .take(3)
                    .any(|c| row.expected.contains(c)),
            );
        } else {
            self.out_of_scope.add(outcome.right);
            self.out_of_scope_by_lang
                .entry(lang)
                .or_default()
                .add(outcome.right);
        }
        self.by_kind
            .entry(row.kind.clone())
            .or_default()
            .add(outcome.right);
        if let Some(label) = &row.referral {
            self.referral_right
                .add(outcome.referral.as_deref() == Some(label.as_str()));
        }
        if let Some(given) = &outcome.referral {
            self.referrals_given
                .add(row.referral.as_deref() == Some(given.as_str()));
        }
        self.language.add(outcome.language_right);
        if outcome.answered.is_some() {
            self.answer_chars.push(outcome.reply_chars);
        }
    }

    /// Near-topic questions neither answered with an entry (abstained or referred).
    pub fn near_topic(&self) -> Tally {
        self.by_kind.get("neartopic").copied().unwrap_or_default()
    }

    /// The longest and the median answered reply, in characters.
    pub fn reply_lengths(&self) -> (usize, usize) {
        let mut lengths = self.answer_chars.clone();
        lengths.sort_unstable();
        let max = lengths.last().copied().unwrap_or(0);
        let median = lengths.get(lengths.len() / 2).copied().unwrap_or(0);
        (max, median)
    }
}

impl fmt::Display for Figures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  in-scope top-1 (answered and right): {}",
            self.in_scope
        )?;
        writeln!(
            f,
            "  in-scope right entry ranked first: {}; among the first three: {}",
            self.ranked_first, self.in_top3
        )?;
        writeln!(
            f,
            "  out-of-scope abstention (or referral): {}",
            self.out_of_scope
        )?;
        writeln!(
            f,
            "  near-topic abstention or referral: {}",
            self.near_topic()
        )?;
        writeln!(
            f,
            "  near-topic referred to the right service: {}; referrals given that were right: {}",
            self.referral_right, self.referrals_given
        )?;
        let langs = |map: &BTreeMap<&str, Tally>| {
            map.iter()
                .map(|(k, t)| format!("{k} {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(
            f,
            "  in scope by language: {}",
            langs(&self.in_scope_by_lang)
        )?;
        writeln!(
            f,
            "  out of scope by language: {}",
            langs(&self.out_of_scope_by_lang)
        )?;
        writeln!(
            f,
            "  by kind: {}",
            self.by_kind
                .iter()
                .map(|(k, t)| format!("{k} {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        writeln!(f, "  reply in the question's language: {}", self.language)?;
        let (max, median) = self.reply_lengths();
        write!(
            f,
            "  answered reply length: max {max}, median {median} characters"
        )
    }
}

/// The figures per split, and the misses of the splits that may be read.
#[derive(Debug, Default)]
pub struct Report {
    pub splits: BTreeMap<Split, Figures>,
    /// `(split, line)` for every miss of the train and dev splits; never the test split's.
    pub misses: Vec<(Split, String)>,
}

impl Report {
    pub fn split(&self, split: Split) -> Figures {
        self.splits.get(&split).cloned().unwrap_or_default()
    }

    /// Every split's figures together.
    pub fn all(&self) -> Figures {
        let mut all = Figures::default();
        for figures in self.splits.values() {
            merge(&mut all, figures);
        }
        all
    }
}

fn merge(into: &mut Figures, from: &Figures) {
    let add = |a: &mut Tally, b: &Tally| {
        a.right += b.right;
        a.total += b.total;
    };
    add(&mut into.in_scope, &from.in_scope);
    add(&mut into.out_of_scope, &from.out_of_scope);
    add(&mut into.referral_right, &from.referral_right);
    add(&mut into.referrals_given, &from.referrals_given);
    add(&mut into.language, &from.language);
    add(&mut into.in_top3, &from.in_top3);
    add(&mut into.ranked_first, &from.ranked_first);
    for (k, t) in &from.in_scope_by_lang {
        add(into.in_scope_by_lang.entry(k).or_default(), t);
    }
    for (k, t) in &from.out_of_scope_by_lang {
        add(into.out_of_scope_by_lang.entry(k).or_default(), t);
    }
    for (k, t) in &from.by_kind {
        add(into.by_kind.entry(k.clone()).or_default(), t);
    }
    into.answer_chars.extend(&from.answer_chars);
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (split, figures) in &self.splits {
            writeln!(f, "[{}]", split.name())?;
            writeln!(f, "{figures}")?;
        }
        Ok(())
    }
}

/// Answer every row and tally the figures. Misses are kept for the train and dev splits
/// only: the test split is reported in aggregate.
pub fn evaluate(answerer: &Answerer, rows: &[Labelled]) -> Report {
    let mut report = Report::default();
    for row in rows {
        let reply = answerer
            .answer(&row.question)
            .unwrap_or_else(|_| Reply::empty(&row.question));
        let ranked = answerer
            .analyse(&crate::answer::clean_question(&row.question))
            .map(|analysis| {
                answerer
                    .decide(&analysis)
                    .ranked
                    .into_iter()
                    .map(|r| r.hit.id)
                    .collect()
            })
            .unwrap_or_default();
        let outcome = judge(row, &reply, ranked);
        report
            .splits
            .entry(row.split)
            .or_default()
            .add(row, &outcome);
        if row.split != Split::Test && (!outcome.right || !outcome.language_right) {
            report
                .misses
                .push((row.split, describe_miss(row, &outcome)));
        }
    }
    report
}

fn describe_miss(row: &Labelled, outcome: &Outcome) -> String {
    let expected = if row.in_scope() {
        row.expected.join("|")
    } else {
        format!(
            "(out of scope{})",
            row.referral
                .as_deref()
                .map(|r| format!(", refer {r}"))
                .unwrap_or_default()
        )
    };
    let got = match (&outcome.answered, &outcome.referral) {
        (Some(id), _) => id.clone(),
        (None, Some(r)) => format!("referral {r}"),
        (None, None) => "ABSTAIN".to_string(),
    };
    let language = if outcome.language_right {
        ""
    } else {
        " [wrong reply language]"
    };
    format!(
        "{} {}/{}: expected {expected}, got {got} ({:.2}; {}){language}: {}",
        row.place,
        row.written.code(),
        row.kind,
        outcome.confidence,
        outcome
            .candidates
            .iter()
            .take(3)
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        row.question
    )
}
