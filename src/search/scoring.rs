//! The candidates for a question: the documents (one per entry and language) that score
//! best with BM25 over the index, computed term at a time over tantivy's block postings
//! into per-document arrays (see [`SearchIndex::top_documents`]).

use super::*;

/// How many documents (one per entry and language) to collect as candidates: their
/// example questions are then scored one by one, and their coverage computed. On the
/// bundled base the answers are the same from 20 up; fewer is faster at 10,000 entries.
const TOP_DOCS: usize = 24;
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
pub(super) struct Scratch {
    /// Document → its scores (see [`DocScores`]).
    scores: Vec<DocScores>,
    /// Documents touched by any word of this search, each once, in the order touched.
    docs: Vec<u32>,
    /// The score so far of each of `docs` (at the same place), per group (questions,
    /// text), the current word's part included. Kept apart from [`DocScores`], in the
    /// order touched, so that choosing the best reads them one after the other rather
    /// than one cache line per document anywhere in the segment, and each document's
    /// record is half as large.
    totals: Vec<[f32; 2]>,
    /// The current word, counted over every search that used this scratch (0 before
    /// the first).
    word: u32,
    /// The first word of the current search: a document whose `word` is below it has
    /// not been touched by this search, whatever its figures say (they are from an
    /// earlier one). So a search need not set back the documents the last one touched
    /// (a fortieth of an answer at 10,000 entries).
    first_word: u32,
}

/// Once the word count passes this, a search sets every document back and counts from 0
/// again, long before it could overflow (a question has far fewer words).
const WORDS_BEFORE_WRAP: u32 = u32::MAX - (1 << 24);

/// One document's figures during a search, side by side so that a posting touches one
/// cache line rather than one per array (separate arrays per figure were a third of the
/// candidates' scoring at 10,000 entries). Sixteen bytes, aligned so that none straddles
/// two lines.
#[derive(Clone, Copy, Default)]
#[repr(align(16))]
struct DocScores {
    /// Best term score of word `word` in this document, per group.
    word_max: [f32; 2],
    /// The word that `word_max` is for: below [`Scratch::first_word`] when no word of
    /// this search has touched the document.
    word: u32,
    /// Where the document is in [`Scratch::docs`] and [`Scratch::totals`] (valid once
    /// this search touched it).
    at: u32,
}

/// A document's score from its two group scores: the larger, and the smaller three
/// times over, because an entry whose example questions and whose own text both match is
/// a better bet than one that matches only either. Grows with either group's score.
pub(super) fn combined(questions: f32, text: f32) -> f32 {
    // One comparison for both: scores are never NaN, so this is `max` and `min`
    // without their NaN cases, which made this a third of choosing the best documents.
    let (high, low) = if questions >= text {
        (questions, text)
    } else {
        (text, questions)
    };
    high + BOTH_MATCH * low
}

/// How one word's term scores add to a document's total: the word's disjunction-max
/// `boost · (max + tie · (sum − max))`, written as `boost · tie` of every score plus
/// `boost · (1 − tie)` of the maximum, so that it can be added posting by posting (the
/// maximum by how much each score raises it). A second pass over the word's documents
/// to add their maxima was an eighth of an answer at 10,000 entries.
#[derive(Clone, Copy)]
struct WordShares {
    every: f32,
    best: f32,
}

impl WordShares {
    fn new(boost: f32, tie: f32) -> WordShares {
        WordShares {
            every: boost * tie,
            best: boost * (1.0 - tie),
        }
    }
}

impl Scratch {
    /// Make room for a segment of `max_doc` documents, none touched.
    fn reset(&mut self, max_doc: usize) {
        self.docs.clear();
        self.totals.clear();
        if self.word >= WORDS_BEFORE_WRAP {
            self.scores.fill(DocScores::default());
            self.word = 0;
        }
        self.first_word = self.word + 1;
        if self.scores.len() < max_doc {
            self.scores.resize(max_doc, DocScores::default());
        }
    }

    fn start_word(&mut self) {
        self.word += 1;
    }

    /// Add a term score of the current word to `doc`'s total in `GROUP` (a constant, so
    /// that each group's loop indexes its figures without a bounds check).
    #[inline(always)]
    fn add_to_word<const GROUP: usize>(&mut self, doc: u32, score: f32, shares: WordShares) {
        let scores = &mut self.scores[doc as usize];
        if scores.word != self.word {
            if scores.word < self.first_word {
                scores.at = self.docs.len() as u32;
                self.docs.push(doc);
                self.totals.push([0.0; 2]);
            }
            scores.word = self.word;
            scores.word_max = [0.0; 2];
        }
        let max = scores.word_max[GROUP];
        let mut add = shares.every * score;
        if score > max {
            add += shares.best * (score - max);
            scores.word_max[GROUP] = score;
        }
        self.totals[scores.at as usize][GROUP] += add;
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
        let ranked = |doc: u32, score: f32| RankedDoc {
            score,
            ord: ords.get(doc as usize).copied().unwrap_or(NO_ORD),
            doc,
        };
        // The score of the worst kept once `k` are kept (below it, nothing gets in):
        // most documents are rejected by this one float comparison (scores are sums of
        // finite positive terms, never NaN), without the heap or their ordinal.
        let mut floor = f32::NEG_INFINITY;
        for (at, &[questions, text]) in self.totals.iter().enumerate() {
            let score = combined(questions, text);
            if score < floor {
                continue;
            }
            let doc = self.docs[at];
            let candidate = ranked(doc, score);
            if kept.len() < k {
                kept.push(candidate);
            } else if let Some(mut worst) = kept.peek_mut() {
                if candidate < *worst {
                    *worst = candidate;
                }
            }
            if kept.len() == k {
                floor = kept.peek().map_or(floor, |worst| worst.score);
            }
        }
        kept.into_iter()
            .map(|RankedDoc { doc, .. }| {
                let total = self.totals[self.scores[doc as usize].at as usize];
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

/// What scoring one term's postings in one field needs: BM25's length normalisation by
/// field-length code, the documents' codes, and the term's weight.
struct TfFactors<'a> {
    norms: &'a [f32; 256],
    /// `1 / (1 + norm)`: the factor of a term that occurs once.
    once: &'a [f32; 256],
    lengths: &'a [u8],
    weight: f32,
}

impl TfFactors<'_> {
    /// Add one block of postings (`docs`, and `freqs` the term's count in each) to the
    /// current word's scores in `GROUP`.
    #[inline(always)]
    fn add<const GROUP: usize>(
        &self,
        docs: &[u32],
        freqs: &[u32],
        shares: WordShares,
        scratch: &mut Scratch,
    ) {
        for (&doc, &tf) in docs.iter().zip(freqs) {
            let code = self.lengths.get(doc as usize).copied().unwrap_or(0) as usize;
            let factor = if tf == 1 {
                // Most terms occur once: no division.
                self.once[code]
            } else {
                let tf = tf as f32;
                tf / (tf + self.norms[code])
            };
            scratch.add_to_word::<GROUP>(doc, self.weight * factor, shares);
        }
    }
}

impl SearchIndex {
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
    pub(super) fn top_documents(
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
                scratch.reset(max_doc);
                for word in &plan {
                    self.score_word(word, tables, &mut scratch)?;
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
        segment: &SegmentTables,
        scratch: &mut Scratch,
    ) -> Result<(), SearchError> {
        scratch.start_word();
        let shares = WordShares::new(word.boost, DISMAX_TIE);
        for term in &word.terms {
            let slot = term.slot;
            let Some(info) = segment.postings.get(&(term.number, slot)) else {
                continue;
            };
            // Block by block (128 documents): much cheaper per document than tantivy's
            // one-at-a-time `DocSet`.
            let mut postings = segment.inverted[slot]
                .read_block_postings_from_terminfo(info, IndexRecordOption::WithFreqs)?;
            let factors = TfFactors {
                norms: &self.norms[slot],
                once: &self.once[slot],
                lengths: &segment.lengths[slot],
                weight: term.weight,
            };
            loop {
                let docs = postings.docs();
                if docs.is_empty() {
                    break;
                }
                if term.group == QUESTIONS {
                    factors.add::<QUESTIONS>(docs, postings.freqs(), shares, scratch);
                } else {
                    factors.add::<TEXT>(docs, postings.freqs(), shares, scratch);
                }
                postings.advance();
            }
        }
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
