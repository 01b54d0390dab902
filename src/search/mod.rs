//! Entries → a tantivy index → ranked hits with a comparable confidence.
//!
//! The index holds two kinds of documents: one per entry and language (title, keywords,
//! body) and one per example question, which points back to its entry. Users' questions
//! look more like other questions than like answer prose, so question-to-question
//! matching carries the most weight. Queries are built from analysed terms in code:
//! user text never reaches tantivy's query parser.

pub mod analysis;

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, DisjunctionMaxQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{doc, Index, IndexReader, ReloadPolicy, TantivyDocument, Term};

use crate::knowledge::KnowledgeBase;
#[cfg(test)]
use crate::knowledge::Lang;
pub use analysis::{detect_language, Analyzer, QueryWord, Variant};

/// Why the index could not be built or searched.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
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
/// How much of the coverage comes from the single best example question rather than the
/// entry as a whole: an entry that covers the question only by gathering words from many
/// places is less likely to be about it.
const QUESTION_SHARE: f32 = 0.3;
/// How much words unknown to the knowledge base lower the confidence.
const UNKNOWN_PENALTY: f32 = 0.8;
/// How much a lead over the runner-up raises the confidence, and the largest lead counted.
const MARGIN_WEIGHT: f32 = 0.4;
const MARGIN_CAP: f32 = 0.5;

/// The weight of a filler word ("works", "betyr") in a question.
const FILLER_WEIGHT: f32 = 0.3;
/// The most an everyday word ("high", "team", "bil") can weigh, as a share of the weight of
/// the rarest term: a question is not about procurement because it shares everyday words
/// with an entry.
const GENERAL_WORD_CAP: f32 = 0.4;

/// How many documents to collect before grouping them by entry.
const TOP_DOCS: usize = 80;

struct Fields {
    ord: Field,
    title: Field,
    question: Field,
    keywords: Field,
    body: Field,
    parts: Field,
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
    /// Each example question's terms, sorted: for question-to-question coverage.
    questions: Vec<Vec<u32>>,
}

impl EntryTerms {
    fn finish(&mut self) {
        for set in [&mut self.core, &mut self.strong, &mut self.weak] {
            set.sort_unstable();
            set.dedup();
            set.shrink_to_fit();
        }
    }
}

/// A term of the knowledge base: its number, the number of entries (ids) it occurs in,
/// and the index fields it occurs in (`IN_…` bits).
#[derive(Debug, Clone, Copy)]
struct TermInfo {
    number: u32,
    doc_freq: u32,
    fields: u8,
}

/// Bits of [`TermInfo::fields`]: a query asks only the fields a term is in. A term query
/// for a term a field does not have matches nothing, but tantivy still looks the term up
/// and prepares its BM25 weight, which was a tenth of the time of a search.
const IN_QUESTION: u8 = 1;
const IN_TITLE: u8 = 2;
const IN_KEYWORDS: u8 = 4;
const IN_PARTS: u8 = 8;
const IN_BODY: u8 = 16;

/// Numbers terms while the index is built, and notes the fields each is indexed in.
#[derive(Default)]
struct TermNumbers {
    numbers: HashMap<String, u32>,
    fields: Vec<u8>,
}

impl TermNumbers {
    fn number(&mut self, term: &str) -> u32 {
        if let Some(&n) = self.numbers.get(term) {
            return n;
        }
        let n = self.numbers.len() as u32;
        self.numbers.insert(term.to_string(), n);
        self.fields.push(0);
        n
    }

    fn extend<'a>(&mut self, into: &mut Vec<u32>, terms: impl IntoIterator<Item = &'a String>) {
        for t in terms {
            let n = self.number(t);
            into.push(n);
        }
    }

    /// Note that `terms` are indexed in the field of `bit`.
    fn mark<'a>(&mut self, bit: u8, terms: impl IntoIterator<Item = &'a String>) {
        for t in terms {
            let n = self.number(t) as usize;
            self.fields[n] |= bit;
        }
    }
}

#[derive(Debug, Default)]
struct Coverage {
    all: f32,
    known: f32,
    unknown_share: f32,
    question: f32,
}

/// One candidate entry for a question.
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
    /// Confidence 0..1 that this entry answers the question; compared with the threshold.
    pub confidence: f32,
}

/// A built, searchable index. Cheap to share behind an `Arc`; rebuilt, not mutated, when
/// the knowledge changes.
pub struct SearchIndex {
    reader: IndexReader,
    fields: Fields,
    analyzer: Analyzer,
    /// Document ordinal → entry id.
    doc_ids: Vec<u32>,
    /// Document ordinal → is it an example-question document?
    doc_is_question: Vec<bool>,
    ids: Vec<String>,
    /// Entry (id number) → its terms.
    entry_terms: Vec<EntryTerms>,
    /// Every term of the knowledge base → its number and document frequency.
    terms: HashMap<String, TermInfo>,
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
    /// Analyse and index every entry of the knowledge base.
    pub fn build(kb: &KnowledgeBase) -> Result<SearchIndex, SearchError> {
        let mut analyzer = Analyzer::new(kb);
        let mut builder = Schema::builder();
        let fields = Fields {
            ord: builder.add_u64_field("ord", FAST),
            title: text_field(&mut builder, "title"),
            question: text_field(&mut builder, "question"),
            keywords: text_field(&mut builder, "keywords"),
            body: text_field(&mut builder, "body"),
            parts: text_field(&mut builder, "parts"),
        };
        let index = Index::create_in_ram(builder.build());
        index.tokenizers().register(
            TOKENIZER,
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
        );
        let mut writer = index.writer_with_num_threads::<TantivyDocument>(1, 64_000_000)?;

        let mut ids: Vec<String> = Vec::new();
        let mut id_of: HashMap<String, u32> = HashMap::new();
        let mut doc_ids: Vec<u32> = Vec::new();
        let mut doc_is_question: Vec<bool> = Vec::new();
        let mut entry_terms: Vec<EntryTerms> = Vec::new();
        let mut numbers = TermNumbers::default();
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
            let mut body_text = entry.body.clone();
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
            numbers.mark(IN_TITLE, &title.terms);
            numbers.mark(IN_KEYWORDS, &keywords.terms);
            numbers.mark(IN_BODY, &body.terms);
            numbers.mark(IN_PARTS, &strong_parts);
            let ord = doc_ids.len() as u64;
            doc_ids.push(id_index);
            doc_is_question.push(false);
            writer.add_document(doc!(
                fields.ord => ord,
                fields.title => title.terms.join(" "),
                fields.keywords => keywords.terms.join(" "),
                fields.body => body.terms.join(" "),
                fields.parts => strong_parts.join(" "),
            ))?;
            for question in &entry.questions {
                let q = analyzer.analyse_text_memoised(question, lang);
                numbers.extend(&mut terms.strong, q.terms.iter().chain(&q.parts));
                let mut question_terms = Vec::new();
                numbers.extend(&mut question_terms, q.terms.iter().chain(&q.parts));
                question_terms.sort_unstable();
                question_terms.dedup();
                question_terms.shrink_to_fit();
                terms.questions.push(question_terms);
                numbers.mark(IN_QUESTION, &q.terms);
                numbers.mark(IN_PARTS, &q.parts);
                let ord = doc_ids.len() as u64;
                doc_ids.push(id_index);
                doc_is_question.push(true);
                writer.add_document(doc!(
                    fields.ord => ord,
                    fields.question => q.terms.join(" "),
                    fields.parts => q.parts.join(" "),
                ))?;
            }
        }
        writer.commit()?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;

        let mut doc_freq: Vec<u32> = vec![0; numbers.numbers.len()];
        let mut all: Vec<u32> = Vec::new();
        for terms in &mut entry_terms {
            terms.finish();
            all.clear();
            all.extend(terms.core.iter().chain(&terms.strong).chain(&terms.weak));
            all.sort_unstable();
            all.dedup();
            for &t in &all {
                doc_freq[t as usize] += 1;
            }
        }
        let terms: HashMap<String, TermInfo> = numbers
            .numbers
            .into_iter()
            .map(|(term, number)| {
                let info = TermInfo {
                    number,
                    doc_freq: doc_freq[number as usize],
                    fields: numbers.fields[number as usize],
                };
                (term, info)
            })
            .collect();
        analyzer.set_index_terms(terms.keys());
        Ok(SearchIndex {
            reader,
            fields,
            analyzer,
            doc_ids,
            doc_is_question,
            ids,
            entry_terms,
            terms,
        })
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
        let words = self.analyzer.analyse_question(question);
        self.search_words(&words, limit)
    }

    /// Rank entries for already analysed question words.
    pub fn search_words(&self, words: &[QueryWord], limit: usize) -> Result<Vec<Hit>, SearchError> {
        if words.is_empty() || self.ids.is_empty() {
            return Ok(Vec::new());
        }
        let Some(query) = self.build_query(words) else {
            // No word of the question is in any field: nothing matches.
            return Ok(Vec::new());
        };
        let searcher = self.reader.searcher();
        let top = searcher.search(&query, &TopDocs::with_limit(TOP_DOCS).order_by_score())?;
        // Best document score per entry; question documents and entry documents apart.
        let mut best: HashMap<u32, (f32, f32)> = HashMap::new();
        let mut columns = HashMap::new();
        for (score, address) in top {
            let column = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(c) => c.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => v.insert(
                    searcher
                        .segment_reader(address.segment_ord)
                        .fast_fields()
                        .u64("ord")?,
                ),
            };
            let Some(ord) = column.first(address.doc_id) else {
                continue;
            };
            let id = self.doc_ids[ord as usize];
            let is_question = self.doc_is_question[ord as usize];
            let slot = best.entry(id).or_insert((0.0, 0.0));
            if is_question {
                slot.0 = slot.0.max(score);
            } else {
                slot.1 = slot.1.max(score);
            }
        }
        let weights = self.word_weights(words);
        let numbers = self.alternative_numbers(words);
        let mut hits: Vec<Hit> = best
            .into_iter()
            .map(|(id, (q, e))| {
                // An entry whose example questions and whose own text both match is a
                // better bet than one that matches only either.
                let bm25 = q.max(e) + BOTH_MATCH * q.min(e);
                let c = self.coverage(id, words, &weights, &numbers);
                Hit {
                    id: self.ids[id as usize].clone(),
                    score: 0.0,
                    coverage: c.all,
                    known_coverage: c.known,
                    unknown_share: c.unknown_share,
                    question_coverage: c.question,
                    bm25,
                    confidence: 0.0,
                }
            })
            .collect();
        let top_bm25 = hits
            .iter()
            .map(|h| h.bm25)
            .fold(0.0f32, f32::max)
            .max(f32::EPSILON);
        for h in &mut hits {
            h.score = h.bm25 / top_bm25 + COVERAGE_IN_RANK * h.coverage;
        }
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        // Confidence: how much of what the question is about the entry covers, less for
        // words nobody in the knowledge base uses, more when the entry clearly beats the
        // runner-up. Comparable across questions, unlike BM25.
        let scores: Vec<f32> = hits.iter().map(|h| h.score).collect();
        for (i, h) in hits.iter_mut().enumerate() {
            let next = scores.get(i + 1).copied().unwrap_or(0.0);
            let margin = (h.score - next).clamp(0.0, MARGIN_CAP);
            let covered =
                (1.0 - QUESTION_SHARE) * h.known_coverage + QUESTION_SHARE * h.question_coverage;
            let base = covered * (1.0 - UNKNOWN_PENALTY * h.unknown_share);
            h.confidence = (base + MARGIN_WEIGHT * margin).clamp(0.0, 1.0);
        }
        hits.truncate(limit);
        Ok(hits)
    }

    fn build_query(&self, words: &[QueryWord]) -> Option<BooleanQuery> {
        let fields = [
            (self.fields.question, BOOST_QUESTION, IN_QUESTION),
            (self.fields.title, BOOST_TITLE, IN_TITLE),
            (self.fields.keywords, BOOST_KEYWORDS, IN_KEYWORDS),
            (self.fields.parts, BOOST_PARTS, IN_PARTS),
            (self.fields.body, BOOST_BODY, IN_BODY),
        ];
        let weights = self.word_weights(words);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (word, weight) in words.iter().zip(weights) {
            let mut disjuncts: Vec<Box<dyn Query>> = Vec::new();
            for (term, variant) in &word.alternatives {
                let in_fields = self.terms.get(term).map_or(0, |info| info.fields);
                // Part of a compound: its parts are indexed in `parts` and as whole words.
                for (field, boost, bit) in fields {
                    if in_fields & bit == 0 {
                        continue;
                    }
                    let q = TermQuery::new(
                        Term::from_field_text(field, term),
                        IndexRecordOption::WithFreqs,
                    );
                    disjuncts.push(Box::new(BoostQuery::new(
                        Box::new(q),
                        boost * variant.weight(),
                    )));
                }
            }
            if disjuncts.is_empty() {
                continue;
            }
            // Rarer words count more; a word's best match counts, its others a little.
            let dismax = DisjunctionMaxQuery::with_tie_breaker(disjuncts, 0.15);
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(dismax), 0.5 + weight)),
            ));
        }
        (!clauses.is_empty()).then(|| BooleanQuery::new(clauses))
    }

    /// A weight per question word: rare words (few entries) weigh more; a word the
    /// knowledge base does not know at all weighs most, because it is what the question
    /// is about and nothing covers it.
    fn word_weights(&self, words: &[QueryWord]) -> Vec<f32> {
        let n = self.ids.len().max(1) as f32;
        let max = (1.0 + n).ln();
        words
            .iter()
            .map(|w| {
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
                    .filter(|(_, v)| matches!(v, Variant::Exact | Variant::Typo))
                    .filter_map(|(t, _)| self.terms.get(t).map(|i| i.doc_freq))
                    .max();
                match df {
                    Some(df) => (1.0 + n / (df as f32 + 0.5)).ln().min(cap),
                    None => {
                        // Unknown word: weigh it fully unless a synonym or part is known.
                        let known_otherwise = w
                            .alternatives
                            .iter()
                            .any(|(t, _)| self.terms.contains_key(t));
                        if known_otherwise {
                            0.8 * max
                        } else {
                            max
                        }
                    }
                }
            })
            .collect()
    }

    /// Each word's alternatives as term numbers (`None` for a term the knowledge base does
    /// not have), looked up once per question rather than once per candidate entry.
    fn alternative_numbers(&self, words: &[QueryWord]) -> Vec<Vec<Option<u32>>> {
        words
            .iter()
            .map(|w| {
                w.alternatives
                    .iter()
                    .map(|(t, _)| self.terms.get(t).map(|i| i.number))
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
    ) -> Coverage {
        let Some(terms) = self.entry_terms.get(id as usize) else {
            return Coverage::default();
        };
        let mut covered = 0.0;
        let mut total = 0.0;
        let mut known_total = 0.0;
        for ((word, weight), numbers) in words.iter().zip(weights).zip(numbers) {
            let known = numbers.iter().any(Option::is_some);
            if known {
                known_total += weight;
            }
            let mut best: f32 = 0.0;
            for ((_, variant), number) in word.alternatives.iter().zip(numbers) {
                let place = match number {
                    Some(n) if terms.core.binary_search(n).is_ok() => 1.0,
                    Some(n) if terms.strong.binary_search(n).is_ok() => PLACE_QUESTION,
                    Some(n) if terms.weak.binary_search(n).is_ok() => PLACE_BODY,
                    _ => 0.0,
                };
                best = best.max(place * variant.weight());
            }
            covered += best * weight;
            total += weight;
        }
        if total == 0.0 {
            return Coverage::default();
        }
        // Question-to-question: how much of the question one example question covers.
        let mut best_question: f32 = 0.0;
        for question in &terms.questions {
            let mut q_covered = 0.0;
            for ((word, weight), numbers) in words.iter().zip(weights).zip(numbers) {
                let mut best: f32 = 0.0;
                for ((_, variant), number) in word.alternatives.iter().zip(numbers) {
                    if number.is_some_and(|n| question.binary_search(&n).is_ok()) {
                        best = best.max(variant.weight());
                    }
                }
                q_covered += best * weight;
            }
            best_question = best_question.max(q_covered);
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
        }
    }
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

    #[test]
    fn unknown_words_give_low_coverage() {
        let index = SearchIndex::build(&kb()).unwrap();
        let hits = index.search("weather forecast tomorrow Bergen", 5).unwrap();
        assert!(hits.iter().all(|h| h.confidence < 0.3), "{hits:?}");
        assert!(index.search("", 5).unwrap().is_empty());
        assert!(index
            .search("title:x AND (((", 5)
            .unwrap()
            .iter()
            .all(|h| h.confidence < 0.5));
    }
}
