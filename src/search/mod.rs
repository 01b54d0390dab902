//! Entries → a tantivy index → ranked hits with a comparable confidence.
//!
//! The tantivy index holds one document per entry and language: title, keywords, body,
//! compound parts, and all its example questions. Answering a question is two steps:
//!
//! 1. **Candidates.** BM25 over the index's postings ([`SearchIndex::top_documents`])
//!    finds the few dozen best documents, scoring the example questions and the entry's
//!    own text apart.
//! 2. **Ranking and confidence.** Each candidate's example questions are then scored one
//!    by one, as small documents of their own (users' questions look more like other
//!    questions than like answer prose, and one question that matches well says more than
//!    many that each match a word), and its coverage of the question is computed
//!    ([`SearchIndex::coverage`]).
//!
//! Terms are analysed in code ([`analysis`]): user text never reaches tantivy's query
//! parser. Until November 2026 every example question was a tantivy document of its own;
//! at 10,000 entries that made an answer take 3 ms, most of it in tantivy's scorers
//! (see docs/performance.md).

pub mod analysis;
pub mod on_disk;
mod persisted;
mod segment_tables;
mod term_list;

use rustc_hash::FxHashMap as HashMap;

use std::collections::BinaryHeap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tantivy::postings::Postings;
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{doc, DocSet, Index, IndexReader, ReloadPolicy, TantivyDocument, TERMINATED};

use crate::knowledge::passage::passages;
use crate::knowledge::{KnowledgeBase, Lang};
pub use analysis::{detect_language, detect_variety, Analyzer, QueryWord, Variant, Variety};
pub use on_disk::IndexOrigin;
/// The little-endian codec of the files kept beside the index (also the knowledge cache).
pub(crate) use persisted::{Corrupt, Decoder, Encoder};
use segment_tables::{segment_tables, SegmentTables, NO_ORD};
use term_list::{with_terms, TermList, Terms};

/// Why the index could not be built or searched.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index: reading postings: {0}")]
    Postings(#[from] std::io::Error),
}

const TOKENIZER: &str = "anbud_preanalysed";

/// How much each field counts when a word matches there.
const BOOST_QUESTION: f32 = 3.0;
const BOOST_TITLE: f32 = 2.5;
const BOOST_KEYWORDS: f32 = 2.0;
const BOOST_PARTS: f32 = 0.8;
const BOOST_BODY: f32 = 0.5;

/// How much a word found in an example question (rather than the title or keywords), or
/// only in the body, counts towards coverage.
const PLACE_QUESTION: f32 = 0.85;
const PLACE_BODY: f32 = 0.45;

/// How much coverage counts beside relative BM25 when ranking entries: a little more than
/// BM25, so of two entries that match about as strongly, the one that covers more of the
/// question wins.
const COVERAGE_IN_RANK: f32 = 1.2;
/// Weight of the weaker of the question-document and entry-document scores.
const BOTH_MATCH: f32 = 3.0;

/// The weight of a filler word ("works", "betyr") in a question.
const FILLER_WEIGHT: f32 = 0.3;
/// The most an everyday word ("high", "team", "bil") can weigh, as a share of the weight of
/// the rarest term: a question is not about procurement because it shares everyday words
/// with an entry.
const GENERAL_WORD_CAP: f32 = 0.4;

/// How many documents (one per entry and language) to collect as candidates: their
/// example questions are then scored one by one, and their coverage computed. On the
/// bundled base the answers are the same from 20 up; fewer is faster at 10,000 entries.
const TOP_DOCS: usize = 24;
/// Of a word's matches other than its best, the share that counts.
const DISMAX_TIE: f32 = 0.15;
/// A term that can add at most this share of what the question's strongest term can add
/// to a document, and that occurs in at least `LONG_POSTINGS` documents, is not scored
/// (see [`SearchIndex::plan`]).
const LOW_IMPACT: f32 = 0.3;
const LONG_POSTINGS: u32 = 500;

/// Leave out of `plan` the terms that occur in many documents and can add little to any
/// (see [`SearchIndex::plan`]).
fn leave_out_low_impact(plan: &mut Vec<PlannedWord>) {
    let strongest = plan
        .iter()
        .flat_map(|w| w.terms.iter().map(|t| t.bound * w.boost))
        .fold(0.0f32, f32::max);
    for word in plan.iter_mut() {
        let boost = word.boost;
        word.terms
            .retain(|t| t.doc_freq < LONG_POSTINGS || t.bound * boost >= LOW_IMPACT * strongest);
    }
    plan.retain(|w| !w.terms.is_empty());
}

/// One question word, ready to score: see [`SearchIndex::plan`].
struct PlannedWord {
    /// The word's weight, applied to its disjunction-max score.
    boost: f32,
    terms: Vec<PlannedTerm>,
}

/// The postings of one segment, by searched field.
struct SegmentPostings<'a> {
    inverted: &'a [std::sync::Arc<tantivy::InvertedIndexReader>],
    tables: &'a SegmentTables,
}

/// One term of a question word in one field.
struct PlannedTerm {
    /// Position of the field in [`Fields::searched`].
    slot: usize,
    /// [`QUESTIONS`] or [`TEXT`].
    group: usize,
    /// Documents the term occurs in, in this field.
    doc_freq: u32,
    /// The term's number (see [`SearchIndex::postings`]).
    number: u32,
    /// idf · (k1 + 1) · field boost · variant weight: the score is this times `tf / (tf + norm)`.
    weight: f32,
    /// The most this term scores in any document.
    bound: f32,
}

/// Per-document score buffers of one search over one segment, kept between searches so
/// that a search touches only the documents its terms occur in, not every document.
#[derive(Default)]
struct Scratch {
    /// Document → its scores (see [`DocScores`]).
    scores: Vec<DocScores>,
    /// Documents touched by the current word, and by any word (each once).
    word_docs: Vec<u32>,
    docs: Vec<u32>,
}

/// One document's scores during a search, side by side so that a posting touches one
/// cache line rather than one per array (separate arrays per figure were a third of the
/// candidates' scoring at 10,000 entries). Aligned to 32 bytes so that none straddles two
/// lines (at 28 bytes, four in nine did; a sixth fewer first-level cache misses in
/// answering at 10,000 entries).
#[derive(Clone, Copy, Default)]
#[repr(align(32))]
struct DocScores {
    /// Score so far, per group (questions, text).
    total: [f32; 2],
    /// Best and summed term score of the current word, per group (zero between words).
    word_max: [f32; 2],
    word_sum: [f32; 2],
    /// Touched by any word of this search.
    touched: bool,
}

/// A document's score from its two group scores: the larger, and the smaller three
/// times over, because an entry whose example questions and whose own text both match is
/// a better bet than one that matches only either. Grows with either group's score.
fn combined(questions: f32, text: f32) -> f32 {
    questions.max(text) + BOTH_MATCH * questions.min(text)
}

impl Scratch {
    /// Make room for a segment of `max_doc` documents, every score zero.
    fn reset(&mut self, max_doc: usize) {
        for &doc in &self.docs {
            let scores = &mut self.scores[doc as usize];
            scores.total = [0.0; 2];
            scores.touched = false;
        }
        self.docs.clear();
        if self.scores.len() < max_doc {
            self.scores.resize(max_doc, DocScores::default());
        }
    }

    fn start_word(&mut self) {
        self.word_docs.clear();
    }

    #[inline(always)]
    fn add_to_word(&mut self, doc: u32, group: usize, score: f32) {
        // Listed on the word's first posting in the document: every score is positive,
        // so a document the word has not touched has both maxima 0. (A score of 0 would
        // list it again; `finish_word` takes each document once.)
        let scores = &mut self.scores[doc as usize];
        let first = scores.word_max == [0.0; 2];
        scores.word_max[group] = scores.word_max[group].max(score);
        scores.word_sum[group] += score;
        if first {
            self.word_docs.push(doc);
        }
    }

    /// Add the current word's disjunction-max score per group, boosted, to each
    /// document's totals.
    fn finish_word(&mut self, boost: f32, tie: f32) {
        for &doc in &self.word_docs {
            let scores = &mut self.scores[doc as usize];
            let (q_max, t_max) = (scores.word_max[QUESTIONS], scores.word_max[TEXT]);
            if q_max == 0.0 && t_max == 0.0 {
                // Listed again after a score of 0: already added.
                continue;
            }
            // A group the word did not match adds exactly 0 (its maximum and sum are 0):
            // skipped, the same totals.
            for (g, max) in [(QUESTIONS, q_max), (TEXT, t_max)] {
                if max != 0.0 {
                    scores.total[g] += boost * (max + (scores.word_sum[g] - max) * tie);
                    scores.word_max[g] = 0.0;
                    scores.word_sum[g] = 0.0;
                }
            }
            if !scores.touched {
                scores.touched = true;
                self.docs.push(doc);
            }
        }
    }

    #[inline]
    fn score(&self, doc: u32) -> f32 {
        let total = self.scores[doc as usize].total;
        combined(total[QUESTIONS], total[TEXT])
    }

    /// The `k` best touched documents, `(questions score, text score, doc)`, in no
    /// particular order: the best by score, and of equal scores the lowest ordinal
    /// (`ords`, document → ordinal): the order of the knowledge base, whatever order
    /// merging segments left the documents in, so that ties (copies of one text score
    /// alike) are broken the same way by every build.
    ///
    /// One pass that keeps the `k` best so far, most documents rejected by one comparison
    /// with the worst of them, rather than a list of every touched document (most of the
    /// segment at 10,000 entries) and a selection in it: the same documents, a twentieth
    /// of an answer less.
    fn best(&self, k: usize, ords: &[u32]) -> Vec<(f32, f32, u32)> {
        if k == 0 {
            return Vec::new();
        }
        let mut kept: BinaryHeap<RankedDoc> = BinaryHeap::with_capacity(k);
        for &doc in &self.docs {
            let candidate = RankedDoc {
                score: self.score(doc),
                ord: ords.get(doc as usize).copied().unwrap_or(NO_ORD),
                doc,
            };
            if kept.len() < k {
                kept.push(candidate);
            } else if let Some(mut worst) = kept.peek_mut() {
                // Most documents score below the worst kept: one float comparison (scores
                // are sums of finite positive terms, never NaN) rejects them before the
                // total order does.
                if candidate.score >= worst.score && candidate < *worst {
                    *worst = candidate;
                }
            }
        }
        kept.into_iter()
            .map(|RankedDoc { doc, .. }| {
                let total = self.scores[doc as usize].total;
                (total[QUESTIONS], total[TEXT], doc)
            })
            .collect()
    }
}

/// A document in [`Scratch::best`], ordered from best to worst: a higher score first,
/// and of equal scores the lower ordinal (then document), so that a `BinaryHeap`'s top is the
/// worst kept.
#[derive(Clone, Copy)]
struct RankedDoc {
    score: f32,
    ord: u32,
    doc: u32,
}

impl Ord for RankedDoc {
    fn cmp(&self, other: &RankedDoc) -> std::cmp::Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.ord.cmp(&other.ord))
            .then(self.doc.cmp(&other.doc))
    }
}

impl PartialOrd for RankedDoc {
    fn partial_cmp(&self, other: &RankedDoc) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for RankedDoc {
    fn eq(&self, other: &RankedDoc) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for RankedDoc {}

/// Where [`SearchIndex::build_in`] puts or finds the tantivy index.
enum Target {
    Memory,
    /// Opened from this folder, the index of `fingerprint`: nothing to index.
    Existing {
        folder: PathBuf,
        fingerprint: String,
    },
    /// Being built in `temporary`, to be published under `dir` for `fingerprint`;
    /// `reason` says why an index there was not used.
    Temporary {
        dir: PathBuf,
        temporary: PathBuf,
        fingerprint: String,
        reason: Option<String>,
    },
}

/// The tantivy index for `kb`: opened from `dir` when one for the same inputs is there,
/// else a new one (in a temporary folder under `dir`, or in memory).
fn open_or_create(kb: &KnowledgeBase, dir: Option<&Path>, schema: &Schema) -> (Index, Target) {
    let Some(dir) = dir else {
        return (Index::create_in_ram(schema.clone()), Target::Memory);
    };
    let fingerprint = on_disk::fingerprint(kb);
    let mut reason = None;
    match on_disk::open_existing(dir, &fingerprint, kb.entries.len(), schema) {
        Ok(Some(index)) => {
            return (
                index,
                Target::Existing {
                    folder: on_disk::folder_of(dir, &fingerprint),
                    fingerprint,
                },
            )
        }
        Ok(None) => {}
        Err(why) => {
            tracing::warn!(
                folder = %on_disk::folder_of(dir, &fingerprint).display(),
                "search index on disk cannot be used ({why}); rebuilding it"
            );
            on_disk::discard(dir, &fingerprint);
            reason = Some(why);
        }
    }
    match on_disk::create_temporary(dir, schema.clone()) {
        Ok((index, temporary)) => (
            index,
            Target::Temporary {
                dir: dir.to_path_buf(),
                temporary,
                fingerprint,
                reason,
            },
        ),
        Err(e) => {
            tracing::warn!(
                dir = %dir.display(),
                "cannot keep the search index on disk ({e}); building it in memory"
            );
            (Index::create_in_ram(schema.clone()), Target::Memory)
        }
    }
}

/// The index to search once its documents are committed: a newly built one is moved
/// into place under its fingerprint (see [`on_disk::publish`]) and opened from there.
fn finish(index: Index, target: Target) -> (Index, IndexOrigin) {
    match target {
        Target::Memory => (index, IndexOrigin::Memory),
        Target::Existing { folder, .. } => {
            tracing::info!(folder = %folder.display(), "search index opened from disk (knowledge unchanged)");
            (index, IndexOrigin::Opened(folder))
        }
        Target::Temporary {
            dir,
            temporary,
            fingerprint,
            reason,
        } => match on_disk::publish(&dir, &temporary, &fingerprint) {
            Ok((published, folder)) => {
                tracing::info!(folder = %folder.display(), "search index built and saved to disk");
                on_disk::remove_others(&dir, &fingerprint);
                let origin = match reason {
                    Some(why) => IndexOrigin::Rebuilt(folder, why),
                    None => IndexOrigin::Built(folder),
                };
                drop(index);
                (published, origin)
            }
            Err(why) => {
                tracing::warn!(
                    folder = %temporary.display(),
                    "search index built but not saved ({why}); using it from its temporary folder"
                );
                (index, IndexOrigin::Memory)
            }
        },
    }
}

struct Fields {
    ord: Field,
    title: Field,
    question: Field,
    keywords: Field,
    body: Field,
    parts: Field,
    question_parts: Field,
}

/// The number of fields a question word is looked up in.
const SEARCHED_FIELDS: usize = 6;

/// The two groups of fields, scored apart: the example questions, and the entry's own
/// text (title, keywords, body).
const QUESTIONS: usize = 0;
const TEXT: usize = 1;

impl Fields {
    /// The fields of the index's schema, by name.
    fn of(schema: &Schema) -> Result<Fields, SearchError> {
        Ok(Fields {
            ord: schema.get_field("ord")?,
            title: schema.get_field("title")?,
            question: schema.get_field("question")?,
            keywords: schema.get_field("keywords")?,
            body: schema.get_field("body")?,
            parts: schema.get_field("parts")?,
            question_parts: schema.get_field("question_parts")?,
        })
    }

    /// The fields a question word is looked up in, with their boosts and group.
    fn searched(&self) -> [(Field, f32, usize); SEARCHED_FIELDS] {
        [
            (self.question, BOOST_QUESTION, QUESTIONS),
            (self.question_parts, BOOST_PARTS, QUESTIONS),
            (self.title, BOOST_TITLE, TEXT),
            (self.keywords, BOOST_KEYWORDS, TEXT),
            (self.parts, BOOST_PARTS, TEXT),
            (self.body, BOOST_BODY, TEXT),
        ]
    }
}

/// The terms of one entry (both languages), for the coverage part of the confidence, as
/// sorted term numbers (see [`SearchIndex::terms`]): a few bytes a term instead of a
/// `String` in a hash set, which at 10,000 entries is hundreds of megabytes less.
#[derive(Debug, Default)]
struct EntryTerms {
    /// Title and keywords: what the entry is about.
    core: Vec<u32>,
    /// Example questions.
    strong: Vec<u32>,
    /// The body.
    weak: Vec<u32>,
    /// After [`EntryTerms::finish`]: all of the above, sorted and distinct, each with its
    /// best place (2 title or keywords, 1 example questions, 0 body); the three lists
    /// are emptied.
    all: TermList,
    places: Box<[u8]>,
    /// Each example question, scored on its own (see [`SearchIndex::coverage`]).
    questions: Vec<QuestionDoc>,
    /// Each passage (lead and `###` sections) of the entry in each language, in order.
    passages: Vec<PassageDoc>,
}

/// One passage of an entry: its language, its place among the entry's passages, and
/// its distinct terms (sorted) in the [`PassageStore`].
#[derive(Debug)]
struct PassageDoc {
    lang: Lang,
    start: u32,
    len: u32,
}

/// The terms of every passage, one after the other (like [`QuestionStore`]).
#[derive(Debug, Default)]
struct PassageStore {
    terms: TermList,
}

impl PassageStore {
    fn terms(&self, passage: &PassageDoc) -> Terms<'_> {
        self.terms
            .range(passage.start as usize..(passage.start + passage.len) as usize)
    }
}

/// One example question as a small document of its own: where its terms are in the
/// [`QuestionStore`], and the length codes of its words and compound parts.
#[derive(Debug)]
struct QuestionDoc {
    start: u32,
    len: u32,
    /// tantivy field-norm codes of the number of words and of parts.
    lengths: [u8; 2],
}

/// The terms of every example question, one after the other: an answer reads the
/// questions of a few dozen entries, and reading them from one array rather than from
/// an allocation per question halved the time of that step.
#[derive(Debug, Default)]
struct QuestionStore {
    /// Per question: its distinct term numbers, sorted.
    terms: TermList,
    /// Per term of a question: occurrences among its words and among its parts.
    counts: Vec<[u8; 2]>,
}

impl QuestionStore {
    fn push(&mut self, counts: &[(u32, [u8; 2])], lengths: [u8; 2]) -> QuestionDoc {
        let start = self.terms.len() as u32;
        self.terms.extend(counts.iter().map(|(n, _)| *n));
        self.counts.extend(counts.iter().map(|(_, c)| *c));
        QuestionDoc {
            start,
            len: counts.len() as u32,
            lengths,
        }
    }

    fn terms(&self, question: &QuestionDoc) -> (Terms<'_>, &[[u8; 2]]) {
        let range = question.start as usize..(question.start + question.len) as usize;
        (self.terms.range(range.clone()), &self.counts[range])
    }
}

impl EntryTerms {
    fn finish(&mut self) {
        let mut merged: Vec<(u32, u8)> = Vec::new();
        for (place, set) in [
            (2u8, std::mem::take(&mut self.core)),
            (1, std::mem::take(&mut self.strong)),
            (0, std::mem::take(&mut self.weak)),
        ] {
            merged.extend(set.into_iter().map(|t| (t, place)));
        }
        // Best place first within a term, then keep the first of each term.
        merged.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        merged.dedup_by_key(|(t, _)| *t);
        self.all = TermList::from(merged.iter().map(|(t, _)| *t).collect::<Vec<_>>()).narrowed();
        self.places = merged.iter().map(|(_, p)| *p).collect();
    }

    /// How well the entry holds term `number`: 1 in its title or keywords, less in its
    /// example questions, less still only in its body, 0 not at all.
    fn place(&self, number: u32) -> f32 {
        match self.all.terms().binary_search(number) {
            Ok(i) => self.place_at(i),
            Err(_) => 0.0,
        }
    }

    /// [`EntryTerms::place`] of the `i`th of [`EntryTerms::all`].
    fn place_at(&self, i: usize) -> f32 {
        [PLACE_BODY, PLACE_QUESTION, 1.0][self.places[i] as usize]
    }
}

/// A term of the knowledge base: its number, the number of entries (ids) it occurs in,
/// and its statistics in each index field.
#[derive(Debug, Clone, Copy)]
struct TermInfo {
    number: u32,
    doc_freq: u32,
    /// BM25 statistics per searched field, in the order of [`Fields::searched`]; a field
    /// the term is not in has `doc_freq` 0, and a query does not ask it.
    stats: [FieldStats; SEARCHED_FIELDS],
}

/// A term's BM25 statistics in one field of the index, fixed when the index is built.
#[derive(Debug, Clone, Copy, Default)]
struct FieldStats {
    /// Documents (entry and language) the term occurs in, in this field.
    doc_freq: u32,
    /// tantivy's BM25 idf over the whole index: `ln(1 + (N - n + 0.5) / (n + 0.5))`.
    idf: f32,
    /// The largest `tf / (tf + norm)` of any document: with the idf, the most one
    /// document can score for the term, which lets a search skip documents that cannot
    /// reach the top (see [`SearchIndex::top_documents`]).
    max_tf_factor: f32,
}

/// BM25 parameters, as tantivy uses them.
const BM25_K1: f32 = 1.2;
const BM25_B: f32 = 0.75;

/// tantivy's BM25 idf of a term in `doc_freq` of `documents` documents.
fn bm25_idf(doc_freq: f32, documents: f32) -> f32 {
    (1.0 + (documents - doc_freq + 0.5) / (doc_freq + 0.5)).ln()
}

/// BM25's length normalisation `k1 · (1 − b + b · len / average)` for each of tantivy's
/// 256 field-norm codes (all zero for a field without tokens).
fn norm_table(average: f32) -> [f32; 256] {
    let mut norms = [0.0f32; 256];
    if average > 0.0 {
        for (code, norm) in norms.iter_mut().enumerate() {
            let length = tantivy::fieldnorm::FieldNormReader::id_to_fieldnorm(code as u8);
            *norm = BM25_K1 * (1.0 - BM25_B + BM25_B * length as f32 / average);
        }
    }
    norms
}

/// Numbers terms while the index is built.
#[derive(Default)]
struct TermNumbers {
    numbers: HashMap<String, u32>,
}

impl TermNumbers {
    fn number(&mut self, term: &str) -> u32 {
        if let Some(&n) = self.numbers.get(term) {
            return n;
        }
        let n = self.numbers.len() as u32;
        self.numbers.insert(term.to_string(), n);
        n
    }

    fn extend<'a>(&mut self, into: &mut Vec<u32>, terms: impl IntoIterator<Item = &'a String>) {
        for t in terms {
            let n = self.number(t);
            into.push(n);
        }
    }
}

/// A set of term numbers that may answer "yes" wrongly but never "no" wrongly: most terms
/// of an example question are not asked, and this rejects them in one step.
struct TermFilter([u64; 16]);

impl TermFilter {
    fn new(numbers: impl Iterator<Item = u32>) -> TermFilter {
        let mut bits = [0u64; 16];
        for n in numbers {
            let n = n as usize % 1024;
            bits[n / 64] |= 1 << (n % 64);
        }
        TermFilter(bits)
    }

    #[inline]
    fn may_hold(&self, number: u32) -> bool {
        let n = number as usize % 1024;
        self.0[n / 64] & (1 << (n % 64)) != 0
    }
}

/// The asked terms' numbers as an exact bit set, for walking an entry's terms.
struct TermSet {
    bits: Vec<u64>,
    /// The largest number in the set (0 when empty).
    largest: u32,
}

impl TermSet {
    /// `asked` sorted by number.
    fn new(asked: &[AskedTerm]) -> TermSet {
        let largest = asked.last().map_or(0, |a| a.number);
        let mut bits = vec![0u64; largest as usize / 64 + 1];
        for a in asked {
            bits[a.number as usize / 64] |= 1 << (a.number % 64);
        }
        TermSet { bits, largest }
    }

    #[inline]
    fn contains(&self, number: u32) -> bool {
        self.bits
            .get(number as usize / 64)
            .is_some_and(|w| w & (1 << (number % 64)) != 0)
    }
}

/// The question's known terms, sorted by number, as a list, an exact set and a filter:
/// made once per question for all its candidates.
#[derive(Clone, Copy)]
struct AskedTerms<'a> {
    terms: &'a [AskedTerm],
    set: &'a TermSet,
    filter: &'a TermFilter,
}

/// Scratch space of [`SearchIndex::coverage`], one slot per question word, kept from one
/// candidate to the next instead of four allocations per candidate.
#[derive(Default)]
struct CoverageBuffers {
    best_place: Vec<f32>,
    best_per_word: Vec<f32>,
    word_max: Vec<f32>,
    word_sum: Vec<f32>,
}

/// A term of the question: its number, which word it stands for, and how well.
struct AskedTerm {
    number: u32,
    word: usize,
    weight: f32,
}

#[derive(Debug, Default)]
struct Coverage {
    all: f32,
    known: f32,
    unknown_share: f32,
    question: f32,
    /// BM25 of the best-matching example question on its own.
    question_bm25: f32,
    /// The weight of the question's known words (what the passages' shares divide by).
    known_total: f32,
}

/// One candidate entry for a question: what [`crate::answer`] ranks and calibrates on.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// The entry id (shared by both languages).
    pub id: String,
    /// The ranking score: relevance relative to the best hit, plus coverage. 0..=2.
    pub score: f32,
    /// Share (0..1) of the question's content, weighted by rarity, that the entry covers.
    /// Words the knowledge base does not know count against it.
    pub coverage: f32,
    /// The same share over the words the knowledge base knows.
    pub known_coverage: f32,
    /// Share (0..1) of the question's weight in words the knowledge base does not know.
    pub unknown_share: f32,
    /// Share (0..1) of the known words that the entry's best-matching example question
    /// covers on its own (question-to-question similarity).
    pub question_coverage: f32,
    /// The raw BM25 score (only comparable within one question).
    pub bm25: f32,
    /// BM25 of the entry's best-matching example question on its own, and of the entry's
    /// own text (title, keywords, body); both only comparable within one question.
    pub question_bm25: f32,
    pub text_bm25: f32,
    /// Share (0..1) of the known words that the entry's best passage (its lead or one
    /// `###` section, either language) covers on its own.
    pub passage_coverage: f32,
    /// How likely questions with these words belong to this entry, learned from labelled
    /// questions (`associations.tsv`), among the candidates; `None` when the counts do
    /// not know the entry. Filled by [`crate::answer`], not by the search.
    pub learned: Option<f32>,
    /// How likely questions phrased like this belong to this entry, by their character
    /// 4-grams (`phrasing.tsv`), among the candidates; `None` when the model does not
    /// know the entry. Filled by [`crate::answer`], not by the search.
    pub phrasing: Option<f32>,
}

/// The question as the index saw it: what the confidence needs beside the hits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QuestionShape {
    /// Content words (stop words and repeats left out).
    pub words: usize,
    /// Share (0..1) of the question's weight in words the knowledge base does not know.
    pub unknown_share: f32,
    /// Share (0..1) of the question's words that are everyday words or fillers.
    pub everyday_share: f32,
}

/// The candidates for a question, best first, the question's shape, and the analysed
/// question (for scoring an entry's passages afterwards).
#[derive(Debug, Clone, Default)]
pub struct Searched {
    pub hits: Vec<Hit>,
    pub shape: QuestionShape,
    pub query: Query,
}

/// A question as analysed against one index: its words, their weights, and their
/// alternatives as the index's term numbers.
#[derive(Debug, Clone, Default)]
pub struct Query {
    words: Vec<QueryWord>,
    weights: Vec<f32>,
    numbers: Vec<Vec<Option<u32>>>,
    /// The largest weight a word can have in the index.
    max_weight: f32,
}

impl Query {
    /// The question's content words and their alternatives, as analysed.
    pub fn words(&self) -> &[QueryWord] {
        &self.words
    }

    /// The weight of the word `surface` as a share of the largest possible weight.
    fn weight_share(&self, surface: &str) -> Option<f32> {
        let i = self.words.iter().position(|w| w.surface == surface)?;
        (self.max_weight > 0.0).then(|| self.weights[i] / self.max_weight)
    }
}

/// A built, searchable index. Cheap to share behind an `Arc`; rebuilt, not mutated, when
/// the knowledge changes.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    analyzer: Analyzer,
    /// Document ordinal → entry id.
    doc_ids: Vec<u32>,
    ids: Vec<String>,
    /// Entry id → its number (its place in `ids`).
    id_numbers: HashMap<String, u32>,
    /// Entry (id number) → its terms.
    entry_terms: Vec<EntryTerms>,
    /// Every term of the knowledge base → its number and document frequency.
    terms: HashMap<String, TermInfo>,
    /// Per searched field: BM25's length normalisation `k1 · (1 − b + b · len / avg len)`
    /// for each of tantivy's 256 field-norm codes.
    norms: Box<[[f32; 256]; SEARCHED_FIELDS]>,
    /// BM25 statistics of the example questions as documents of their own.
    question_scoring: QuestionScoring,
    question_store: QuestionStore,
    passage_store: PassageStore,
    /// `1 / (1 + norm)`: the tf factor of a term that occurs once.
    once: Box<[[f32; 256]; SEARCHED_FIELDS]>,
    /// Per segment: (term number, place in [`Fields::searched`]) → where tantivy keeps
    /// the term's postings in that field, read from the term dictionaries once when the
    /// index is built or opened ([`segment_tables`]) instead of for every term of every
    /// question (a thirtieth of an answer at 10,000 entries); and each document's ordinal.
    segments: Vec<SegmentTables>,
    /// Reusable per-document score buffers, one set per concurrent search.
    scratch: Mutex<Vec<Scratch>>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("entries", &self.ids.len())
            .field("docs", &self.doc_ids.len())
            .field("segments", &self.reader.searcher().segment_readers().len())
            .field("terms", &self.terms.len())
            .finish()
    }
}

fn text_field(schema: &mut tantivy::schema::SchemaBuilder, name: &str) -> Field {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqs);
    schema.add_text_field(name, TextOptions::default().set_indexing_options(indexing))
}

impl SearchIndex {
    /// Analyse and index every entry of the knowledge base, in memory.
    pub fn build(kb: &KnowledgeBase) -> Result<SearchIndex, SearchError> {
        Ok(SearchIndex::build_in(kb, None)?.0)
    }

    /// The index of the knowledge base: opened from `dir` when one for the same inputs is
    /// there, with what was derived from the entries read back beside it (see
    /// [`persisted`]; the entries are analysed again only when that cannot be read), else
    /// every entry analysed and indexed (into `dir`, replacing what was there, when given;
    /// see [`on_disk`]). Says which it did.
    pub fn build_in(
        kb: &KnowledgeBase,
        dir: Option<&Path>,
    ) -> Result<(SearchIndex, IndexOrigin), SearchError> {
        let mut builder = Schema::builder();
        builder.add_u64_field("ord", FAST);
        for name in [
            "title",
            "question",
            "keywords",
            "body",
            "parts",
            "question_parts",
        ] {
            text_field(&mut builder, name);
        }
        let schema = builder.build();
        let started = std::time::Instant::now();
        let (index, target) = open_or_create(kb, dir, &schema);
        tracing::debug!(
            entries = kb.entries.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "search index: fingerprinted and opened or created"
        );
        let fields = Fields::of(&index.schema())?;
        index.tokenizers().register(
            TOKENIZER,
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
        );
        if let Target::Existing {
            folder,
            fingerprint,
        } = &target
        {
            let reader = index
                .reader_builder()
                .reload_policy(ReloadPolicy::Manual)
                .try_into()?;
            let fields = Fields::of(&index.schema())?;
            match persisted::read(
                folder,
                fingerprint,
                reader,
                fields,
                &kb.glossary,
                kb.entries.len(),
            ) {
                Ok(Some(search)) => {
                    tracing::debug!(
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "search index: derived data read"
                    );
                    tracing::info!(
                        folder = %folder.display(),
                        "search index opened from disk (knowledge unchanged), entries not analysed again"
                    );
                    drop(index);
                    return Ok((search, IndexOrigin::Opened(folder.clone())));
                }
                Ok(None) => tracing::info!(
                    folder = %folder.display(),
                    "search index on disk has no derived data yet; analysing the entries"
                ),
                Err(why) => tracing::warn!(
                    folder = %folder.display(),
                    "derived data of the search index on disk cannot be used ({why}); analysing the entries again"
                ),
            }
        }
        let fingerprint = match &target {
            Target::Existing { fingerprint, .. } | Target::Temporary { fingerprint, .. } => {
                Some(fingerprint.clone())
            }
            Target::Memory => None,
        };
        let mut analyzer = Analyzer::new(kb);
        // tantivy's indexing arena is the largest part of the build's peak memory; 24 MB
        // keeps 10,000 entries under 200 MB and in one or two segments.
        let mut writer = match target {
            Target::Existing { .. } => None,
            _ => Some(index.writer_with_num_threads::<TantivyDocument>(1, 24_000_000)?),
        };

        let mut ids: Vec<String> = Vec::new();
        let mut id_of: HashMap<String, u32> = HashMap::default();
        let mut doc_ids: Vec<u32> = Vec::new();
        let mut entry_terms: Vec<EntryTerms> = Vec::new();
        let mut numbers = TermNumbers::default();
        // Words and compound parts in all example questions, for their length norms.
        let mut question_tokens = [0u64; 2];
        let mut question_store = QuestionStore::default();
        let mut passage_store = PassageStore::default();
        for entry in &kb.entries {
            let id_index = *id_of.entry(entry.id.clone()).or_insert_with(|| {
                ids.push(entry.id.clone());
                entry_terms.push(EntryTerms::default());
                (ids.len() - 1) as u32
            });
            let terms = &mut entry_terms[id_index as usize];
            let lang = entry.lang;
            let title = analyzer.analyse_text_memoised(&entry.title, lang);
            let keywords = analyzer.analyse_text_memoised(&entry.keywords.join(" . "), lang);
            let entry_body = entry.body_text();
            let mut body_text = entry_body.to_string();
            if let Some(event) = &entry.event {
                body_text.push_str(&format!(
                    " {} {}",
                    event.venue,
                    event.address.as_deref().unwrap_or("")
                ));
            }
            let body = analyzer.analyse_text_memoised(&body_text, lang);
            let mut strong_parts = title.parts.clone();
            strong_parts.extend(keywords.parts.iter().cloned());
            numbers.extend(
                &mut terms.core,
                title
                    .terms
                    .iter()
                    .chain(&keywords.terms)
                    .chain(&strong_parts),
            );
            numbers.extend(&mut terms.weak, body.terms.iter().chain(&body.parts));
            let ord = doc_ids.len() as u64;
            doc_ids.push(id_index);
            // Only when indexing: an opened index has the documents already.
            let mut document = writer.is_some().then(|| {
                doc!(
                    fields.ord => ord,
                    fields.title => title.terms.join(" "),
                    fields.keywords => keywords.terms.join(" "),
                    fields.body => body.terms.join(" "),
                    fields.parts => strong_parts.join(" "),
                )
            });
            for question in entry.questions_text().iter() {
                let q = analyzer.analyse_text_memoised(question, lang);
                numbers.extend(&mut terms.strong, q.terms.iter().chain(&q.parts));
                let mut counts: Vec<(u32, [u8; 2])> = Vec::new();
                for (slot, list) in [&q.terms, &q.parts].into_iter().enumerate() {
                    for t in list {
                        let n = numbers.number(t);
                        match counts.iter_mut().find(|(m, _)| *m == n) {
                            Some((_, c)) => c[slot] = c[slot].saturating_add(1),
                            None => {
                                let mut c = [0u8; 2];
                                c[slot] = 1;
                                counts.push((n, c));
                            }
                        }
                    }
                }
                counts.sort_unstable_by_key(|(n, _)| *n);
                question_tokens[0] += q.terms.len() as u64;
                question_tokens[1] += q.parts.len() as u64;
                let lengths = [q.terms.len() as u32, q.parts.len() as u32]
                    .map(tantivy::fieldnorm::FieldNormReader::fieldnorm_to_id);
                terms.questions.push(question_store.push(&counts, lengths));
                // Every example question is also part of the entry's document, which
                // finds candidates; each is scored on its own in `coverage`.
                if let Some(document) = document.as_mut() {
                    document.add_text(fields.question, q.terms.join(" "));
                    document.add_text(fields.question_parts, q.parts.join(" "));
                }
            }
            for passage in passages(&entry_body) {
                let heading = passage.heading.unwrap_or("");
                let analysed =
                    analyzer.analyse_text_memoised(&format!("{heading}\n{}", passage.text), lang);
                let mut numbered: Vec<u32> = analysed
                    .terms
                    .iter()
                    .chain(&analysed.parts)
                    .map(|t| numbers.number(t))
                    .collect();
                numbered.sort_unstable();
                numbered.dedup();
                terms.passages.push(PassageDoc {
                    lang,
                    start: passage_store.terms.len() as u32,
                    len: numbered.len() as u32,
                });
                passage_store.terms.extend(numbered);
            }
            if let (Some(writer), Some(document)) = (writer.as_mut(), document) {
                writer.add_document(document)?;
            }
        }
        if let Some(mut writer) = writer {
            writer.commit()?;
            // One segment: a search opens each asked term's postings once per segment,
            // and at 10,000 entries the arena leaves two (at 50,000, several), each term
            // read from all of them. Merged once here, the index on disk is opened as
            // one segment at every later start.
            let segments = index.searchable_segment_ids()?;
            if segments.len() > 1 {
                writer.merge(&segments).wait()?;
            }
            writer.wait_merging_threads()?;
        }
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "search index: entries analysed (and indexed)"
        );
        let (index, origin) = finish(index, target);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;

        let mut doc_freq: Vec<u32> = vec![0; numbers.numbers.len()];
        for terms in &mut entry_terms {
            terms.finish();
            for t in terms.all.terms().iter() {
                doc_freq[t as usize] += 1;
            }
        }
        // Statistics as if every example question were a document of its own beside one
        // per entry and language: what the scores were tuned on.
        let question_count: usize = entry_terms.iter().map(|t| t.questions.len()).sum();
        let documents = (kb.entries.len() + question_count) as u64;
        let (norms, stats) = bm25_statistics(&reader, &fields, &numbers.numbers, documents)?;
        question_store.terms = std::mem::take(&mut question_store.terms).narrowed();
        question_store.counts.shrink_to_fit();
        passage_store.terms = std::mem::take(&mut passage_store.terms).narrowed();
        let question_scoring = QuestionScoring::new(
            &entry_terms,
            &question_store,
            kb.entries.len(),
            question_tokens,
            numbers.numbers.len(),
        );
        let terms: HashMap<String, TermInfo> = numbers
            .numbers
            .into_iter()
            .map(|(term, number)| {
                let info = TermInfo {
                    number,
                    doc_freq: doc_freq[number as usize],
                    stats: stats[number as usize],
                };
                (term, info)
            })
            .collect();
        analyzer.set_index_terms(terms.keys());
        let segments = segment_tables(&reader, &fields, |t| terms.get(t).map(|i| i.number))?;
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "search index: statistics ready"
        );
        let index = SearchIndex {
            reader,
            fields,
            analyzer,
            doc_ids,
            ids,
            id_numbers: id_of,
            entry_terms,
            terms,
            question_scoring,
            question_store,
            passage_store,
            once: Box::new(norms.map(|field| field.map(|norm| 1.0 / (1.0 + norm)))),
            norms,
            segments,
            scratch: Mutex::new(Vec::new()),
        };
        // What was derived goes beside tantivy's files, for the next start.
        let folder = match &origin {
            IndexOrigin::Opened(folder)
            | IndexOrigin::Built(folder)
            | IndexOrigin::Rebuilt(folder, _) => Some(folder),
            IndexOrigin::Memory => None,
        };
        if let (Some(folder), Some(fingerprint)) = (folder, fingerprint) {
            match persisted::write(folder, &fingerprint, &index) {
                Ok(()) => tracing::debug!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "search index: derived data saved"
                ),
                Err(e) => tracing::warn!(
                    folder = %folder.display(),
                    "derived data of the search index not saved ({e}); the next start analyses the entries again"
                ),
            }
        }
        Ok((index, origin))
    }

    /// Number of distinct entry ids.
    pub fn entry_count(&self) -> usize {
        self.ids.len()
    }

    /// The analyser this index was built with.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Rank entries for a question, best first, at most `limit`.
    pub fn search(&self, question: &str, limit: usize) -> Result<Vec<Hit>, SearchError> {
        Ok(self.search_shaped(question, limit)?.hits)
    }

    /// [`SearchIndex::search`], with the question's shape.
    pub fn search_shaped(&self, question: &str, limit: usize) -> Result<Searched, SearchError> {
        let words = self.analyzer.analyse_question(question);
        self.search_analysed(words, limit)
    }

    /// [`SearchIndex::search_shaped`] of a question whose variety is known already (this
    /// index's analyser's [`Analyzer::detect_variety`] of the same text): telling it
    /// again costs a fiftieth of an answer.
    pub fn search_shaped_as(
        &self,
        question: &str,
        variety: Variety,
        limit: usize,
    ) -> Result<Searched, SearchError> {
        let words = self.analyzer.analyse_question_as(question, variety);
        self.search_analysed(words, limit)
    }

    /// [`SearchIndex::search`], with each word weighing at most what it weighs in
    /// `reference` (another index's analysis of the same question), relative to the
    /// largest weight of each index: a word that is common in the reference knowledge
    /// base ("kommune") cannot make a match in this one.
    pub fn search_relative_to(
        &self,
        question: &str,
        limit: usize,
        reference: &Query,
    ) -> Result<Vec<Hit>, SearchError> {
        let words = self.analyzer.analyse_question(question);
        let infos = self.alternative_infos(&words);
        let mut weights = self.word_weights(&words, &infos);
        let own_max = (1.0 + self.ids.len().max(1) as f32).ln();
        for (word, weight) in words.iter().zip(&mut weights) {
            if let Some(share) = reference.weight_share(&word.surface) {
                *weight = weight.min(share * own_max);
            }
        }
        Ok(self.search_weighted(words, &infos, weights, limit)?.hits)
    }

    /// Rank entries for already analysed question words.
    pub fn search_words(&self, words: &[QueryWord], limit: usize) -> Result<Searched, SearchError> {
        self.search_analysed(words.to_vec(), limit)
    }

    /// [`SearchIndex::search_words`], the words moved into the result's [`Query`]
    /// rather than copied.
    fn search_analysed(
        &self,
        words: Vec<QueryWord>,
        limit: usize,
    ) -> Result<Searched, SearchError> {
        let infos = self.alternative_infos(&words);
        let weights = self.word_weights(&words, &infos);
        self.search_weighted(words, &infos, weights, limit)
    }

    fn search_weighted(
        &self,
        words: Vec<QueryWord>,
        infos: &[Vec<Option<&TermInfo>>],
        weights: Vec<f32>,
        limit: usize,
    ) -> Result<Searched, SearchError> {
        if words.is_empty() || self.ids.is_empty() {
            return Ok(Searched::default());
        }
        let shape = self.shape(&words, &weights, infos);
        let numbers = infos
            .iter()
            .map(|alternatives| alternatives.iter().map(|i| i.map(|i| i.number)).collect())
            .collect();
        let top = self.top_documents(&words, &weights, infos)?;
        let mut searched = Searched {
            hits: Vec::new(),
            shape,
            query: Query {
                words,
                weights,
                numbers,
                max_weight: (1.0 + self.ids.len().max(1) as f32).ln(),
            },
        };
        if top.is_empty() {
            // No word of the question is in any field: nothing matches.
            return Ok(searched);
        }
        let (words, weights, numbers) = (
            &searched.query.words,
            &searched.query.weights,
            &searched.query.numbers,
        );
        // The candidate entries, with the best text score of their documents (either
        // language). Their example questions are scored one by one in `coverage`: the
        // documents' question scores, over all questions together, only found them.
        let mut best: HashMap<u32, f32> = HashMap::default();
        for (_, text, ord) in top {
            let id = self.doc_ids[ord as usize];
            let slot = best.entry(id).or_insert(0.0);
            *slot = slot.max(text);
        }
        self.warm_candidates(best.keys().copied());
        let asked = Self::asked_terms(words, numbers);
        let asked_set = TermSet::new(&asked);
        let asked_filter = TermFilter::new(asked.iter().map(|a| a.number));
        let mut buffers = CoverageBuffers::default();
        let mut hits: Vec<(Hit, u32, f32)> = best
            .into_iter()
            .map(|(id, text)| {
                let asked = AskedTerms {
                    terms: &asked,
                    set: &asked_set,
                    filter: &asked_filter,
                };
                let c = self.coverage(id, words, weights, numbers, asked, &mut buffers);
                let hit = Hit {
                    id: self.ids[id as usize].clone(),
                    score: 0.0,
                    coverage: c.all,
                    known_coverage: c.known,
                    unknown_share: c.unknown_share,
                    question_coverage: c.question,
                    bm25: combined(c.question_bm25, text),
                    question_bm25: c.question_bm25,
                    text_bm25: text,
                    passage_coverage: 0.0,
                    learned: None,
                    phrasing: None,
                };
                (hit, id, c.known_total)
            })
            .collect();
        let top_bm25 = hits
            .iter()
            .map(|(h, _, _)| h.bm25)
            .fold(0.0f32, f32::max)
            .max(f32::EPSILON);
        for (h, _, _) in &mut hits {
            h.score = h.bm25 / top_bm25 + COVERAGE_IN_RANK * h.coverage;
        }
        hits.sort_by(|(a, _, _), (b, _, _)| {
            b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id))
        });
        hits.truncate(limit);
        // The passages do not rank: only the candidates kept need them (a third of the
        // candidates scored above, and the largest part of each one's coverage).
        let mut best_per_word = Vec::new();
        searched.hits = hits
            .into_iter()
            .map(|(mut hit, id, known_total)| {
                let asked = AskedTerms {
                    terms: &asked,
                    set: &asked_set,
                    filter: &asked_filter,
                };
                hit.passage_coverage =
                    self.best_passage(id, weights, asked, known_total, &mut best_per_word);
                hit
            })
            .collect();
        Ok(searched)
    }

    /// How much of the question is everyday language or unknown to the knowledge base.
    fn shape(
        &self,
        words: &[QueryWord],
        weights: &[f32],
        infos: &[Vec<Option<&TermInfo>>],
    ) -> QuestionShape {
        let total: f32 = weights.iter().sum();
        let unknown: f32 = infos
            .iter()
            .zip(weights)
            .filter(|(alternatives, _)| alternatives.iter().all(Option::is_none))
            .map(|(_, weight)| weight)
            .sum();
        let everyday = words
            .iter()
            .filter(|w| analysis::is_filler(&w.surface) || analysis::is_general_word(&w.surface))
            .count();
        QuestionShape {
            words: words.len(),
            unknown_share: if total > 0.0 { unknown / total } else { 0.0 },
            everyday_share: everyday as f32 / words.len().max(1) as f32,
        }
    }

    /// The `TOP_DOCS` best documents for the question, as `(questions score, text score,
    /// document ordinal)`, best first.
    ///
    /// Each group's score is BM25 in the shape of a tantivy query: per question word a
    /// disjunction-max (tie-breaker 0.15) over every alternative term in every field of the
    /// group it is indexed in, each a BM25 term score (tantivy's formula) boosted by field
    /// and variant; the word's result boosted by its weight; summed over words. Documents
    /// are ranked by [`combined`].
    ///
    /// It is computed here, term at a time over tantivy's postings block by block, into
    /// flat per-document arrays, rather than by a tantivy query: tantivy's nested union
    /// scorers for this shape cost several times as much per posting, and block-max WAND
    /// does not apply to disjunction-max. See [`SearchIndex::plan`] for the terms left out.
    fn top_documents(
        &self,
        words: &[QueryWord],
        weights: &[f32],
        infos: &[Vec<Option<&TermInfo>>],
    ) -> Result<Vec<(f32, f32, u32)>, SearchError> {
        let plan = self.plan(words, weights, infos);
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let mut scratch = self
            .scratch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop()
            .unwrap_or_default();
        let mut top: Vec<(f32, f32, u32)> = Vec::new();
        let result = (|| -> Result<(), SearchError> {
            for (segment, tables) in searcher.segment_readers().iter().zip(&self.segments) {
                let max_doc = segment.max_doc() as usize;
                let mut inverted = Vec::with_capacity(SEARCHED_FIELDS);
                for (field, _, _) in self.fields.searched() {
                    inverted.push(segment.inverted_index(field)?);
                }
                let segment = SegmentPostings {
                    inverted: &inverted,
                    tables,
                };
                scratch.reset(max_doc);
                for word in &plan {
                    self.score_word(word, &segment, &mut scratch)?;
                }
                for (questions, text, doc) in scratch.best(TOP_DOCS, &tables.ords) {
                    match tables.ords.get(doc as usize) {
                        Some(&ord) if ord != NO_ORD => top.push((questions, text, ord)),
                        _ => {}
                    }
                }
            }
            Ok(())
        })();
        self.scratch
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(scratch);
        result?;
        top.sort_by(|a, b| {
            combined(b.0, b.1)
                .total_cmp(&combined(a.0, a.1))
                .then(a.2.cmp(&b.2))
        });
        top.truncate(TOP_DOCS);
        Ok(top)
    }

    /// Score one word's terms in one segment into `scratch`.
    #[inline]
    fn score_word(
        &self,
        word: &PlannedWord,
        segment: &SegmentPostings<'_>,
        scratch: &mut Scratch,
    ) -> Result<(), SearchError> {
        scratch.start_word();
        for term in &word.terms {
            let slot = term.slot;
            let Some(info) = segment.tables.postings.get(&(term.number, slot)) else {
                continue;
            };
            // Block by block (128 documents): much cheaper per document than tantivy's
            // one-at-a-time `DocSet`.
            let mut postings = segment.inverted[slot]
                .read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
            let norms = &self.norms[slot];
            let once = &self.once[slot];
            let lengths = &segment.tables.lengths[slot];
            loop {
                let docs = postings.docs();
                if docs.is_empty() {
                    break;
                }
                for (&doc, &tf) in docs.iter().zip(postings.freqs()) {
                    let code = lengths.get(doc as usize).copied().unwrap_or(0) as usize;
                    let factor = if tf == 1 {
                        // Most terms occur once: no division.
                        once[code]
                    } else {
                        let tf = tf as f32;
                        tf / (tf + norms[code])
                    };
                    scratch.add_to_word(doc, term.group, term.weight * factor);
                }
                postings.advance();
            }
        }
        scratch.finish_word(word.boost, DISMAX_TIE);
        Ok(())
    }

    /// The question as weighted words, each with its terms and their BM25 weights.
    ///
    /// A term that can add little to any document (at most `LOW_IMPACT` of what the
    /// question's strongest term can) and that occurs in many documents (`LONG_POSTINGS`)
    /// is left out: such terms, mostly synonyms and translations of common words in the
    /// body, were most of the postings read at 10,000 entries and barely move a ranking.
    /// On a knowledge base of a few hundred entries no term is that common, so nothing is
    /// left out; at 10,000 synthetic entries it changed 1 % of the answers.
    fn plan(
        &self,
        words: &[QueryWord],
        weights: &[f32],
        infos: &[Vec<Option<&TermInfo>>],
    ) -> Vec<PlannedWord> {
        let mut plan = self.plan_all(words, weights, infos);
        leave_out_low_impact(&mut plan);
        plan
    }

    /// [`SearchIndex::plan`] with every term.
    fn plan_all(
        &self,
        words: &[QueryWord],
        weights: &[f32],
        infos: &[Vec<Option<&TermInfo>>],
    ) -> Vec<PlannedWord> {
        let searched = self.fields.searched();
        let mut plan = Vec::new();
        for ((word, weight), infos) in words.iter().zip(weights).zip(infos) {
            let mut terms = Vec::new();
            for ((_, variant), info) in word.alternatives.iter().zip(infos) {
                let Some(info) = info else {
                    continue;
                };
                for (slot, (_, boost, group)) in searched.into_iter().enumerate() {
                    let stats = info.stats[slot];
                    if stats.doc_freq == 0 {
                        // Not in this field: asking it would only cost a look-up.
                        continue;
                    }
                    let weight = stats.idf * (1.0 + BM25_K1) * boost * variant.weight();
                    terms.push(PlannedTerm {
                        slot,
                        group,
                        doc_freq: stats.doc_freq,
                        number: info.number,
                        weight,
                        bound: weight * stats.max_tf_factor,
                    });
                }
            }
            if !terms.is_empty() {
                // Rarer words count more.
                plan.push(PlannedWord {
                    boost: 0.5 + weight,
                    terms,
                });
            }
        }
        plan
    }

    /// A weight per question word: rare words (few entries) weigh more; a word the
    /// knowledge base does not know at all weighs most, because it is what the question
    /// is about and nothing covers it.
    fn word_weights(&self, words: &[QueryWord], infos: &[Vec<Option<&TermInfo>>]) -> Vec<f32> {
        let n = self.ids.len().max(1) as f32;
        let max = (1.0 + n).ln();
        words
            .iter()
            .zip(infos)
            .map(|(w, infos)| {
                if analysis::is_filler(&w.surface) {
                    return FILLER_WEIGHT;
                }
                let cap = if analysis::is_general_word(&w.surface) {
                    GENERAL_WORD_CAP * max
                } else {
                    max
                };
                let df = w
                    .alternatives
                    .iter()
                    .zip(infos)
                    .filter(|((_, v), _)| matches!(v, Variant::Exact | Variant::Typo))
                    .filter_map(|(_, info)| info.map(|i| i.doc_freq))
                    .max();
                match df {
                    Some(df) => (1.0 + n / (df as f32 + 0.5)).ln().min(cap),
                    None => {
                        // Unknown word: weigh it fully unless a synonym or part is known.
                        // An everyday word is capped even when unknown.
                        let known_otherwise = infos.iter().any(Option::is_some);
                        let weight = if known_otherwise { 0.8 * max } else { max };
                        weight.min(cap)
                    }
                }
            })
            .collect()
    }

    /// Every known term of the question with its word and variant weight, sorted by term
    /// number.
    fn asked_terms(words: &[QueryWord], numbers: &[Vec<Option<u32>>]) -> Vec<AskedTerm> {
        let mut asked: Vec<AskedTerm> = words
            .iter()
            .zip(numbers)
            .enumerate()
            .flat_map(|(word, (w, numbers))| {
                w.alternatives
                    .iter()
                    .zip(numbers)
                    .filter_map(move |((_, variant), number)| {
                        number.map(|number| AskedTerm {
                            number,
                            word,
                            weight: variant.weight(),
                        })
                    })
            })
            .collect();
        asked.sort_by_key(|a| a.number);
        asked
    }

    /// Each word's alternatives as the knowledge base's terms (`None` for a term it does
    /// not have), looked up once per question: the weights, the question's shape, the
    /// plan and the candidates' coverage all need them, and each look-up hashes and
    /// compares a string.
    fn alternative_infos(&self, words: &[QueryWord]) -> Vec<Vec<Option<&TermInfo>>> {
        words
            .iter()
            .map(|w| {
                w.alternatives
                    .iter()
                    .map(|(t, _)| self.terms.get(t))
                    .collect()
            })
            .collect()
    }

    fn coverage(
        &self,
        id: u32,
        words: &[QueryWord],
        weights: &[f32],
        numbers: &[Vec<Option<u32>>],
        asked: AskedTerms<'_>,
        buffers: &mut CoverageBuffers,
    ) -> Coverage {
        let Some(terms) = self.entry_terms.get(id as usize) else {
            return Coverage::default();
        };
        let AskedTerms {
            terms: asked,
            set: asked_set,
            filter: asked_filter,
        } = asked;
        let CoverageBuffers {
            best_place,
            best_per_word,
            word_max,
            word_sum,
        } = buffers;
        // Each word's best alternative by its place in the entry: the entry's sorted
        // terms are walked up to the largest asked one, each tested in the asked set
        // (one bit; a binary search per asked term, even in what was left of the entry's
        // terms, was a tenth of an answer at 10,000 entries). The same products, and
        // maxima do not depend on the order, so the same figures.
        best_place.clear();
        best_place.resize(words.len(), 0.0);
        with_terms!(terms.all.terms(), |all| {
            for (i, &number) in all.iter().enumerate() {
                let number = u32::from(number);
                if number > asked_set.largest {
                    break;
                }
                if !asked_set.contains(number) {
                    continue;
                }
                let place = terms.place_at(i);
                let start = asked.partition_point(|a| a.number < number);
                for a in asked[start..].iter().take_while(|a| a.number == number) {
                    let best = &mut best_place[a.word];
                    *best = best.max(place * a.weight);
                }
            }
        });
        let mut covered = 0.0;
        let mut total = 0.0;
        let mut known_total = 0.0;
        for ((best, weight), numbers) in best_place.iter().zip(weights).zip(numbers) {
            let known = numbers.iter().any(Option::is_some);
            if known {
                known_total += weight;
            }
            covered += best * weight;
            total += weight;
        }
        if total == 0.0 {
            return Coverage::default();
        }
        // Question-to-question: how much of the question one example question covers.
        // Each of the question's terms is looked up among the asked terms (few, sorted).
        // The same pass scores each example question with BM25 as its own document.
        let mut best_question: f32 = 0.0;
        let mut best_bm25: f32 = 0.0;
        for buffer in [&mut *best_per_word, &mut *word_max, &mut *word_sum] {
            buffer.clear();
            buffer.resize(words.len(), 0.0);
        }
        // Whether the three buffers are all zero.
        let mut zero = true;
        for question in &terms.questions {
            if !zero {
                best_per_word.fill(0.0);
                word_max.fill(0.0);
                word_sum.fill(0.0);
                zero = true;
            }
            let (numbers, counts) = self.question_store.terms(question);
            with_terms!(numbers, |numbers| {
                for (&number, counts) in numbers.iter().zip(counts) {
                    let number = u32::from(number);
                    if !asked_filter.may_hold(number) {
                        continue;
                    }
                    let start = asked.partition_point(|a| a.number < number);
                    for a in asked[start..].iter().take_while(|a| a.number == number) {
                        zero = false;
                        let best = &mut best_per_word[a.word];
                        *best = best.max(a.weight);
                        for (slot, &count) in counts.iter().enumerate() {
                            if count > 0 {
                                let score = a.weight
                                    * self.question_scoring.score(question, number, slot, count);
                                word_max[a.word] = word_max[a.word].max(score);
                                word_sum[a.word] += score;
                            }
                        }
                    }
                }
            });
            if zero {
                // None of the question's terms is asked: it covers nothing and scores 0,
                // which changes neither maximum.
                continue;
            }
            let q_covered: f32 = best_per_word.iter().zip(weights).map(|(b, w)| b * w).sum();
            best_question = best_question.max(q_covered);
            let bm25: f32 = word_max
                .iter()
                .zip(word_sum.iter())
                .zip(weights)
                .map(|((max, sum), weight)| (0.5 + weight) * (max + (sum - max) * DISMAX_TIE))
                .sum();
            best_bm25 = best_bm25.max(bm25);
        }
        Coverage {
            all: covered / total,
            known: if known_total > 0.0 {
                covered / known_total
            } else {
                0.0
            },
            unknown_share: 1.0 - known_total / total,
            question: if known_total > 0.0 {
                (best_question / known_total).min(1.0)
            } else {
                0.0
            },
            question_bm25: best_bm25,
            known_total,
        }
    }

    /// Read something in each cache line that [`SearchIndex::coverage`] reads for the
    /// entries `ids`, all before it reads any. The candidates are a few dozen entries
    /// anywhere in the base, so their terms are rarely in the processor's caches, and
    /// `coverage` waited on each of them in turn (its first read of an entry's terms was
    /// an eighth of its time at 10,000 entries); loads that do not depend on each other
    /// are waited on together. It changes no figure.
    fn warm_candidates(&self, ids: impl Iterator<Item = u32>) {
        /// One value of each 64-byte line of `items`.
        fn every_line<T: Copy + Into<u64>>(items: &[T]) -> u64 {
            let step = (64 / std::mem::size_of::<T>()).max(1);
            items.iter().step_by(step).map(|&item| item.into()).sum()
        }
        let (store_terms, store_counts) = (
            self.question_store.terms.terms(),
            &self.question_store.counts,
        );
        let mut sum = 0u64;
        for id in ids {
            let Some(terms) = self.entry_terms.get(id as usize) else {
                continue;
            };
            sum += with_terms!(terms.all.terms(), |all| every_line(all));
            sum += every_line(&terms.places);
            for question in &terms.questions {
                let at = question.start as usize;
                sum += with_terms!(store_terms, |numbers| numbers
                    .get(at)
                    .map_or(0, |&n| u64::from(u32::from(n))));
                sum += store_counts.get(at).map_or(0, |c| u64::from(c[0]));
            }
        }
        std::hint::black_box(sum);
    }

    /// Share of the known content (`known_total` of the question's weight, from
    /// [`SearchIndex::coverage`]) that the best passage of entry `id` covers on its own.
    /// `best_per_word` is scratch space, kept from one candidate to the next.
    fn best_passage(
        &self,
        id: u32,
        weights: &[f32],
        asked: AskedTerms<'_>,
        known_total: f32,
        best_per_word: &mut Vec<f32>,
    ) -> f32 {
        let Some(terms) = self.entry_terms.get(id as usize) else {
            return 0.0;
        };
        if known_total <= 0.0 {
            return 0.0;
        }
        best_per_word.clear();
        best_per_word.resize(weights.len(), 0.0);
        terms
            .passages
            .iter()
            .map(|p| {
                self.passage_covered_asked(p, asked.terms, asked.filter, weights, best_per_word)
            })
            .fold(0.0, f32::max)
            / known_total
    }
}

impl SearchIndex {
    /// [`SearchIndex::passage_covered`] from the asked terms: each of the passage's
    /// terms is looked up among them (few, sorted, and most rejected by `filter` in one
    /// step) rather than each alternative among the passage's terms. The same maximum
    /// per word, summed in the same order, so the same figure. `best` is scratch space
    /// of one slot per word.
    fn passage_covered_asked(
        &self,
        passage: &PassageDoc,
        asked: &[AskedTerm],
        filter: &TermFilter,
        weights: &[f32],
        best: &mut [f32],
    ) -> f32 {
        best.fill(0.0);
        with_terms!(self.passage_store.terms(passage), |numbers| {
            for &number in numbers {
                let number = u32::from(number);
                if !filter.may_hold(number) {
                    continue;
                }
                let start = asked.partition_point(|a| a.number < number);
                for a in asked[start..].iter().take_while(|a| a.number == number) {
                    best[a.word] = best[a.word].max(a.weight);
                }
            }
        });
        best.iter()
            .zip(weights)
            .map(|(best, weight)| best * weight)
            .sum()
    }

    /// How much of the question's weight one passage covers (each word by its best
    /// alternative found there, at that alternative's variant weight).
    fn passage_covered(
        &self,
        passage: &PassageDoc,
        words: &[QueryWord],
        weights: &[f32],
        numbers: &[Vec<Option<u32>>],
    ) -> f32 {
        let terms = self.passage_store.terms(passage);
        words
            .iter()
            .zip(weights)
            .zip(numbers)
            .map(|((word, weight), numbers)| {
                let best = word
                    .alternatives
                    .iter()
                    .zip(numbers)
                    .filter(|(_, n)| n.is_some_and(|n| terms.binary_search(n).is_ok()))
                    .map(|((_, variant), _)| variant.weight())
                    .fold(0.0f32, f32::max);
                best * weight
            })
            .sum()
    }

    /// For each passage of entry `id` in `lang` (in the order of [`passages`]), the share
    /// of the question that it covers, counting only the question's words that are
    /// neither the entry's topic (its title and keywords) nor everyday words (what the
    /// question asks for, such as a figure, is [`crate::answer::targeted::Asks`]'s
    /// part): which passage says something about
    /// "how long" or "what it costs" matters, not which one repeats the subject. Empty
    /// for an unknown entry; all zero when the question is only the entry's topic.
    pub fn passage_coverage(&self, query: &Query, id: &str, lang: Lang) -> Vec<PassageCoverage> {
        let Some(terms) = self
            .id_numbers
            .get(id)
            .and_then(|&i| self.entry_terms.get(i as usize))
        else {
            return Vec::new();
        };
        // Weights of the words that are known and not the entry's topic; the others 0.
        let weights: Vec<f32> = query
            .words
            .iter()
            .zip(&query.weights)
            .zip(&query.numbers)
            .map(|((word, weight), numbers)| {
                let known = numbers.iter().any(Option::is_some);
                // The word itself (not a synonym or a part) in the title or keywords.
                let topic = word
                    .alternatives
                    .iter()
                    .zip(numbers)
                    .filter(|((_, v), _)| matches!(v, Variant::Exact | Variant::Typo))
                    .any(|(_, n)| n.is_some_and(|n| terms.place(n) >= 1.0));
                let everyday =
                    analysis::is_filler(&word.surface) || analysis::is_general_word(&word.surface);
                if known && !topic && !everyday {
                    *weight
                } else {
                    0.0
                }
            })
            .collect();
        let total: f32 = weights.iter().sum();
        // All known words, topic or not.
        let content: Vec<f32> = query
            .weights
            .iter()
            .zip(&query.numbers)
            .map(|(weight, numbers)| {
                if numbers.iter().any(Option::is_some) {
                    *weight
                } else {
                    0.0
                }
            })
            .collect();
        let content_total: f32 = content.iter().sum();
        let share = |p: &PassageDoc, weights: &[f32], total: f32| {
            if total > 0.0 {
                self.passage_covered(p, &query.words, weights, &query.numbers) / total
            } else {
                0.0
            }
        };
        terms
            .passages
            .iter()
            .filter(|p| p.lang == lang)
            .map(|p| PassageCoverage {
                specific: share(p, &weights, total),
                content: share(p, &content, content_total),
            })
            .collect()
    }
}

/// How much of a question one passage covers: see [`SearchIndex::passage_coverage`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PassageCoverage {
    /// Share of the question's words that are neither everyday words nor the entry's
    /// topic.
    pub specific: f32,
    /// Share of the question's known words.
    pub content: f32,
}

/// BM25 statistics of the example questions taken as documents of their own, beside one
/// document per entry and language (as if they were indexed so, which they are not: see
/// [`SearchIndex::coverage`]).
struct QuestionScoring {
    /// Term number → idf among the questions' words and among their compound parts.
    idf: Vec<[f32; 2]>,
    /// Length normalisation per field-norm code, for words and for parts.
    norms: Box<[[f32; 256]; 2]>,
}

impl QuestionScoring {
    fn new(
        entry_terms: &[EntryTerms],
        store: &QuestionStore,
        entry_docs: usize,
        tokens: [u64; 2],
        term_count: usize,
    ) -> QuestionScoring {
        let mut doc_freq = vec![[0u32; 2]; term_count];
        let mut questions = 0usize;
        for entry in entry_terms {
            for question in &entry.questions {
                questions += 1;
                let (numbers, counts) = store.terms(question);
                for (number, counts) in numbers.iter().zip(counts) {
                    for slot in 0..2 {
                        doc_freq[number as usize][slot] += u32::from(counts[slot] > 0);
                    }
                }
            }
        }
        let documents = (entry_docs + questions).max(1) as f32;
        let idf = doc_freq
            .iter()
            .map(|df| df.map(|df| bm25_idf(df as f32, documents)))
            .collect();
        let norms = Box::new(tokens.map(|tokens| norm_table(tokens as f32 / documents)));
        QuestionScoring { idf, norms }
    }

    /// The BM25 score of `count` occurrences of term `number` in field `slot` (0 words, 1
    /// parts) of `question`, before variant and word weights.
    fn score(&self, question: &QuestionDoc, number: u32, slot: usize, count: u8) -> f32 {
        let boost = if slot == 0 {
            BOOST_QUESTION
        } else {
            BOOST_PARTS
        };
        let tf = f32::from(count);
        let norm = self.norms[slot][question.lengths[slot] as usize];
        self.idf[number as usize][slot] * (1.0 + BM25_K1) * boost * tf / (tf + norm)
    }
}

/// BM25 statistics of the built index, as tantivy computes them for a term query: per
/// searched field the length normalisation of each field-norm code, and per term number
/// and field the idf and the largest tf factor of any document.
#[allow(clippy::type_complexity)]
fn bm25_statistics(
    reader: &IndexReader,
    fields: &Fields,
    numbers: &HashMap<String, u32>,
    documents: u64,
) -> Result<
    (
        Box<[[f32; 256]; SEARCHED_FIELDS]>,
        Vec<[FieldStats; SEARCHED_FIELDS]>,
    ),
    SearchError,
> {
    let searcher = reader.searcher();
    let total_docs = documents;
    let mut norms = Box::new([[0.0f32; 256]; SEARCHED_FIELDS]);
    let mut stats = vec![[FieldStats::default(); SEARCHED_FIELDS]; numbers.len()];
    for (slot, (field, _, _)) in fields.searched().into_iter().enumerate() {
        let mut tokens = 0u64;
        for segment in searcher.segment_readers() {
            tokens += segment.inverted_index(field)?.total_num_tokens();
        }
        norms[slot] = norm_table(tokens as f32 / total_docs.max(1) as f32);
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let lengths = segment.get_fieldnorms_reader(field)?;
            let mut stream = inverted.terms().stream()?;
            while stream.advance() {
                let Some(&number) = std::str::from_utf8(stream.key())
                    .ok()
                    .and_then(|t| numbers.get(t))
                else {
                    continue;
                };
                let info = stream.value();
                let mut postings =
                    inverted.read_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
                let mut largest = 0.0f32;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    let tf = postings.term_freq() as f32;
                    let norm = norms[slot][lengths.fieldnorm_id(doc) as usize];
                    largest = largest.max(tf / (tf + norm));
                    doc = postings.advance();
                }
                let entry = &mut stats[number as usize][slot];
                entry.doc_freq += info.doc_freq;
                entry.max_tf_factor = entry.max_tf_factor.max(largest);
            }
        }
        for term in stats.iter_mut() {
            let entry = &mut term[slot];
            if entry.doc_freq > 0 {
                entry.idf = bm25_idf(entry.doc_freq as f32, total_docs as f32);
            }
        }
    }
    Ok((norms, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{Entry, Glossary};

    fn entry(id: &str, lang: Lang, title: &str, questions: &[&str], body: &str) -> Entry {
        Entry::new(id, lang, title, questions, body)
    }

    fn kb() -> KnowledgeBase {
        let (glossary, _) = Glossary::parse(
            std::path::Path::new("g"),
            "rammeavtale, framework agreement\n",
        );
        KnowledgeBase {
            entries: vec![
                entry(
                    "framework",
                    Lang::Nb,
                    "Rammeavtaler",
                    &["Hva er en rammeavtale?"],
                    "En rammeavtale varer vanligvis i fire år, med avrop.",
                ),
                entry(
                    "framework",
                    Lang::En,
                    "Framework agreements",
                    &["What is a framework agreement?"],
                    "A framework agreement usually lasts four years.",
                ),
                entry(
                    "purchase",
                    Lang::Nb,
                    "Innkjøpsplaner",
                    &["Hvor finner jeg kommunens innkjøpsplan?"],
                    "Kommunen publiserer en plan for innkjøp.",
                ),
                entry(
                    "purchase",
                    Lang::En,
                    "Procurement plans",
                    &["Where is the procurement plan?"],
                    "The municipality publishes a plan.",
                ),
            ],
            glossary,
            ..Default::default()
        }
    }

    #[test]
    fn finds_entries_across_spellings_compounds_and_languages() {
        let index = SearchIndex::build(&kb()).unwrap();
        for q in [
            "rammeavtalen",
            "hvor lenge varer rammeavtaler",
            "framework agreement duration",
            "innkjop plan",
            "innkjøpsplanen til kommunen",
            "framwork agreemnt",
        ] {
            let hits = index.search(q, 5).unwrap();
            let expected = if q.contains("innkj") {
                "purchase"
            } else {
                "framework"
            };
            assert_eq!(
                hits.first().map(|h| h.id.as_str()),
                Some(expected),
                "{q}: {hits:?}"
            );
        }
    }

    /// An entry with one example question that matches the whole question beats an
    /// entry whose example questions each match a part of it: questions are scored one
    /// by one, not as one bag of words.
    #[test]
    fn one_question_that_matches_beats_several_that_each_match_a_word() {
        let kb = KnowledgeBase {
            entries: vec![
                entry(
                    "whole",
                    Lang::Nb,
                    "Frister",
                    &["Kan tilbudsfristen forlenges?", "Hva er en frist?"],
                    "Kommunen bestemmer fristene.",
                ),
                entry(
                    "pieces",
                    Lang::Nb,
                    "Tilbud og kontrakter",
                    &[
                        "Hva er tilbudsfristen?",
                        "Kan kontrakten forlenges?",
                        "Hva står i tilbudet?",
                    ],
                    "Kommunen bestemmer tilbudsfristen og om kontrakten forlenges.",
                ),
            ],
            ..Default::default()
        };
        let index = SearchIndex::build(&kb).unwrap();
        let hits = index.search("kan tilbudsfristen forlenges", 5).unwrap();
        assert_eq!(hits[0].id, "whole", "{hits:?}");
        assert!(
            hits[0].question_coverage > hits[1].question_coverage,
            "{hits:?}"
        );
    }

    /// Leaving out low-impact terms never touches a term with short postings: on a small
    /// base, every term of every question is scored; on a large one, only common terms
    /// that can add little are left out.
    #[test]
    fn only_common_low_impact_terms_are_left_out() {
        let bundled = crate::synth::bundled();
        let synthetic = crate::synth::generate(
            &bundled,
            crate::synth::SynthOptions {
                entries: 800,
                seed: 3,
                questions: 200,
            },
        )
        .unwrap();
        let mut left_out_somewhere = false;
        for (kb, large) in [(bundled, false), (synthetic.kb, true)] {
            let index = SearchIndex::build(&kb).unwrap();
            for question in &synthetic.questions {
                let words = index.analyzer().analyse_question(&question.text);
                let infos = index.alternative_infos(&words);
                let weights = index.word_weights(&words, &infos);
                let all = index.plan_all(&words, &weights, &infos);
                let kept: Vec<(u32, usize)> = index
                    .plan(&words, &weights, &infos)
                    .into_iter()
                    .flat_map(|w| w.terms.into_iter().map(|t| (t.number, t.slot)))
                    .collect();
                for term in all.iter().flat_map(|w| &w.terms) {
                    if kept.contains(&(term.number, term.slot)) {
                        continue;
                    }
                    left_out_somewhere = true;
                    assert!(
                        large,
                        "nothing is left out of a small base: {}",
                        question.text
                    );
                    assert!(
                        term.doc_freq >= LONG_POSTINGS,
                        "a term in {} documents was left out: {}",
                        term.doc_freq,
                        question.text
                    );
                }
            }
        }
        assert!(
            left_out_somewhere,
            "at 800 entries some common term is left out"
        );
    }

    #[test]
    fn unknown_words_give_low_coverage() {
        let index = SearchIndex::build(&kb()).unwrap();
        let searched = index
            .search_shaped("weather forecast tomorrow Bergen", 5)
            .unwrap();
        assert!(searched.shape.unknown_share > 0.5, "{searched:?}");
        assert!(
            searched.hits.iter().all(|h| h.coverage < 0.3),
            "{searched:?}"
        );
        assert!(index.search("", 5).unwrap().is_empty());
        assert!(index
            .search("title:x AND (((", 5)
            .unwrap()
            .iter()
            .all(|h| h.coverage < 0.5));
    }
}
