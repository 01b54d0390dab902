//! Entries → a tantivy index → ranked hits with a comparable confidence.
//!
//! The tantivy index holds one document per entry and language: title, keywords, body,
//! compound parts, and all its example questions. Answering a question is two steps:
//!
//! 1. **Candidates** (`scoring.rs`). BM25 over the index's postings
//!    ([`SearchIndex::top_documents`]) finds the few dozen best documents, scoring the
//!    example questions and the entry's own text apart.
//! 2. **Ranking and confidence** (`coverage.rs`). Each candidate's example questions are
//!    then scored one by one, as small documents of their own (users' questions look more
//!    like other questions than like answer prose, and one question that matches well
//!    says more than many that each match a word), and its coverage of the question is
//!    computed ([`SearchIndex::coverage`]).
//!
//! This file builds the index and its derived tables, and ranks the candidates
//! ([`SearchIndex::search_words`]); `analysis.rs` turns text into terms,
//! `entry_terms.rs` holds what coverage reads of each entry, `persisted.rs` and
//! `on_disk.rs` keep the index on disk.
//!
//! Terms are analysed in code ([`analysis`]): user text never reaches tantivy's query
//! parser. Until November 2026 every example question was a tantivy document of its own;
//! at 10,000 entries that made an answer take 3 ms, most of it in tantivy's scorers
//! (see docs/performance.md).

pub mod analysis;
mod coverage;
mod entry_terms;
pub mod on_disk;
mod persisted;
mod scoring;
mod segment_tables;
mod term_list;
mod words;

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
pub use coverage::PassageCoverage;
use coverage::{Asked, CoverageBuffers, QuestionScoring};
use entry_terms::{
    pack_places, EntryTermSets, EntryTerms, PassageDoc, PassageStore, QuestionDoc, QuestionStore,
};
pub use on_disk::IndexOrigin;
/// The little-endian codec of the files kept beside the index (also the knowledge cache).
pub(crate) use persisted::{Corrupt, Decoder, Encoder};
use scoring::{combined, Scratch, TfTables};
use segment_tables::{segment_tables, SegmentTables, NO_ORD};
use term_list::with_terms;

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

/// Of a word's matches other than its best, the share that counts.
const DISMAX_TIE: f32 = 0.15;

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
    /// Per searched field, BM25's tf factor `tf / (tf + norm)` of the counts up to
    /// [`scoring::TABULATED_TF`] for each field-norm code (see [`scoring::tf_tables`]).
    by_tf: TfTables,
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
        let mut term_sets: Vec<EntryTermSets> = Vec::new();
        let mut numbers = TermNumbers::default();
        // Words and compound parts in all example questions, for their length norms.
        let mut question_tokens = [0u64; 2];
        let mut question_store = QuestionStore::default();
        let mut passage_store = PassageStore::default();
        for entry in &kb.entries {
            let id_index = *id_of.entry(entry.id.clone()).or_insert_with(|| {
                ids.push(entry.id.clone());
                entry_terms.push(EntryTerms::default());
                term_sets.push(EntryTermSets::default());
                (ids.len() - 1) as u32
            });
            let terms = &mut entry_terms[id_index as usize];
            let sets = &mut term_sets[id_index as usize];
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
                &mut sets.core,
                title
                    .terms
                    .iter()
                    .chain(&keywords.terms)
                    .chain(&strong_parts),
            );
            numbers.extend(&mut sets.weak, body.terms.iter().chain(&body.parts));
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
                numbers.extend(&mut sets.strong, q.terms.iter().chain(&q.parts));
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
                numbered.truncate(PassageDoc::MOST_TERMS as usize);
                let start = passage_store.terms.len() as u32;
                terms
                    .passages
                    .extend(PassageDoc::new(lang, start, numbered.len() as u32));
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
        for (terms, sets) in entry_terms.iter_mut().zip(term_sets) {
            sets.finish(terms);
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
            by_tf: scoring::tf_tables(&norms),
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
        let asked = Asked::new(words, numbers);
        let mut buffers = CoverageBuffers::default();
        let mut hits: Vec<(Hit, u32, f32)> = best
            .into_iter()
            .map(|(id, text)| {
                let c = self.coverage(id, words, weights, numbers, asked.view(), &mut buffers);
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
                hit.passage_coverage =
                    self.best_passage(id, weights, asked.view(), known_total, &mut best_per_word);
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
