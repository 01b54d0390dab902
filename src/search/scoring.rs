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

/// Term counts up to this have their tf factor looked up in [`tf_tables`] rather than
/// computed: nearly all postings, most of them a count of 1 or 2.
pub(super) const TABULATED_TF: usize = 8;

/// Per searched field, per term count `1..=TABULATED_TF` (at `count - 1`), per field-norm
/// code: BM25's tf factor `tf / (tf + norm)`.
pub(super) type TfTables = Box<[[[f32; 256]; TABULATED_TF]; SEARCHED_FIELDS]>;

/// The tf factors of [`TfTables`] for the length normalisations `norms`, computed as a
/// posting's factor is computed for a larger count (the same figures). A look-up rather
/// than a choice between a table for a count of 1 and a division, a branch that can go
/// either way from one posting to the next. It added under 1 % to an answer's
/// instructions at 10,000 entries; its effect on time was not measured on its own.
pub(super) fn tf_tables(norms: &[[f32; 256]; SEARCHED_FIELDS]) -> TfTables {
    Box::new(norms.map(|field| {
        std::array::from_fn(|at| {
            let tf = (at + 1) as f32;
            field.map(|norm| tf / (tf + norm))
        })
    }))
}

/// Per-document score buffers of one search over one segment, kept between searches so
/// that a search touches only the documents its terms occur in, not every document.
#[derive(Default)]
pub(super) struct Scratch {
    /// Document → its scores (see [`DocScores`]).
    scores: Vec<DocScores>,
    /// Documents touched by any word of this search, each once, in the order touched:
    /// the first `touched` (the rest is room, at least one place per document of the
    /// segment, so that touching a document is a write, not a push).
    docs: Vec<u32>,
    /// The score so far of each of `docs` (at the same place), per group (questions,
    /// text), the current word's part included. Kept apart from [`DocScores`], in the
    /// order touched, so that choosing the best reads them one after the other rather
    /// than one cache line per document anywhere in the segment, and each document's
    /// record is half as large.
    totals: Vec<[f32; 2]>,
    /// How many documents this search has touched.
    touched: usize,
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
        self.touched = 0;
        if self.word >= WORDS_BEFORE_WRAP {
            self.scores.fill(DocScores::default());
            self.word = 0;
        }
        self.first_word = self.word + 1;
        if self.scores.len() < max_doc {
            self.scores.resize(max_doc, DocScores::default());
        }
        // A search touches each document at most once.
        if self.docs.len() < max_doc {
            self.docs.resize(max_doc, 0);
            self.totals.resize(max_doc, [0.0; 2]);
        }
    }

    fn start_word(&mut self) {
        self.word += 1;
    }

    /// The `k` best touched documents, `(questions score, text score, doc)`, in no
    /// particular order: the best by score, and of equal scores the lowest ordinal
    /// (`ords`, document → ordinal): the order of the knowledge base, whatever order
    /// merging segments left the documents in, so that ties (copies of one text score
    /// alike) are broken the same way by every build.
    ///
    /// One pass that keeps the `k` best so far, rather than a list of every touched
    /// document (most of the segment at 10,000 entries) and a selection in it. Most
    /// documents cannot get in once `k` are kept: a run of `RUN` of them is rejected at
    /// once when none reaches the worst kept, its scores computed without a branch per
    /// document (two fifths fewer instructions in this pass at 10,000 entries than a
    /// comparison and a branch per document).
    fn best(&self, k: usize, ords: &[u32]) -> Vec<(f32, f32, u32)> {
        const RUN: usize = 8;
        if k == 0 {
            return Vec::new();
        }
        let mut kept: BinaryHeap<RankedDoc> = BinaryHeap::with_capacity(k);
        // The score of the worst kept once `k` are kept (below it, nothing gets in).
        // Scores are sums of finite positive terms, never NaN.
        let mut floor = f32::NEG_INFINITY;
        for (run, totals) in self.totals[..self.touched].chunks(RUN).enumerate() {
            let mut scores = [f32::NEG_INFINITY; RUN];
            for (score, &[questions, text]) in scores.iter_mut().zip(totals) {
                *score = combined(questions, text);
            }
            let reaches = scores
                .iter()
                .fold(false, |reaches, &score| reaches | (score >= floor));
            if !reaches {
                continue;
            }
            for (at, &score) in scores.iter().enumerate().take(totals.len()) {
                if score < floor {
                    continue;
                }
                let doc = self.docs[run * RUN + at];
                let candidate = RankedDoc {
                    score,
                    ord: ords.get(doc as usize).copied().unwrap_or(NO_ORD),
                    doc,
                };
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
    /// `tf / (tf + norm)` of the smaller counts (see [`tf_tables`]).
    by_tf: &'a [[f32; 256]; TABULATED_TF],
    lengths: &'a [u8],
    weight: f32,
}

impl TfFactors<'_> {
    /// Add one block of postings (`docs`, and `freqs` the term's count in each) to the
    /// current word's scores in `GROUP` (a constant, so that each group's loop indexes
    /// its figures without a bounds check).
    ///
    /// The scratch's counters and lists are taken apart into locals first, so that the
    /// loop keeps them in registers rather than loading them again after every write.
    #[inline(always)]
    fn add<const GROUP: usize>(
        &self,
        docs: &[u32],
        freqs: &[u32],
        shares: WordShares,
        scratch: &mut Scratch,
    ) {
        let Scratch {
            scores,
            docs: touched_docs,
            totals,
            touched,
            word,
            first_word,
        } = scratch;
        let (word, first_word) = (*word, *first_word);
        // The count of touched documents below relies on the current word being one of
        // this search (`start_word` after `reset`): a document is counted once because
        // its `word` is then at or above `first_word`.
        debug_assert!(word >= first_word, "a word is scored before it is started");
        if word < first_word {
            return;
        }
        // Every document of the block must be in the segment, for the look-ups below
        // without a bounds check per posting (2 % of an answer's instructions at 10,000
        // entries).
        // Only a corrupt index has one beyond it, and then the block is left out.
        let Some(last) = docs.iter().copied().max() else {
            return;
        };
        let room = (self.lengths.len())
            .min(scores.len())
            .min(touched_docs.len())
            .min(totals.len());
        if last as usize >= room {
            return;
        }
        for (&doc, &tf) in docs.iter().zip(freqs) {
            // SAFETY: `doc <= last`, below the length of `lengths` (checked above).
            let code = unsafe { *self.lengths.get_unchecked(doc as usize) } as usize;
            let factor = match self.by_tf.get((tf as usize).wrapping_sub(1)) {
                Some(factors) => factors[code],
                None => {
                    let tf = tf as f32;
                    tf / (tf + self.norms[code])
                }
            };
            let score = self.weight * factor;
            // SAFETY: `doc <= last`, below the length of `scores` (checked above).
            let figures = unsafe { scores.get_unchecked_mut(doc as usize) };
            if figures.word != word {
                if figures.word < first_word {
                    // SAFETY: a search counts each document once (its `word` is from
                    // this search from now on), and every document it touches is below
                    // `room` (checked above), so fewer than `room` are counted.
                    unsafe {
                        *touched_docs.get_unchecked_mut(*touched) = doc;
                        *totals.get_unchecked_mut(*touched) = [0.0; 2];
                    }
                    figures.at = *touched as u32;
                    *touched += 1;
                }
                figures.word = word;
                figures.word_max = [0.0; 2];
            }
            let max = figures.word_max[GROUP];
            let mut add = shares.every * score;
            if score > max {
                add += shares.best * (score - max);
                figures.word_max[GROUP] = score;
            }
            // SAFETY: `at` was set when this search first touched the document (its
            // `word` is from this search, not below `first_word`), to a place below
            // `room`.
            let total = unsafe { totals.get_unchecked_mut(figures.at as usize) };
            total[GROUP] += add;
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
                by_tf: &self.by_tf[slot],
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

    /// Scores a term's postings (`(doc, tf)`) as one word into `scratch`, with a
    /// weight of 1 and flat length norms, over a segment of `max_doc` documents.
    fn score_postings(scratch: &mut Scratch, max_doc: usize, postings: &[(u32, u32)]) {
        let norms = [1.0f32; 256];
        let by_tf = tf_tables(&[norms; SEARCHED_FIELDS]);
        let lengths = vec![0u8; max_doc];
        let factors = TfFactors {
            norms: &norms,
            by_tf: &by_tf[0],
            lengths: &lengths,
            weight: 1.0,
        };
        let (docs, freqs): (Vec<u32>, Vec<u32>) = postings.iter().copied().unzip();
        scratch.start_word();
        factors.add::<QUESTIONS>(&docs, &freqs, WordShares::new(1.0, DISMAX_TIE), scratch);
    }

    /// The tf factors looked up are the ones computed, bit for bit, for every count the
    /// table holds and every length code; a larger count is computed the same way.
    #[test]
    fn tabulated_tf_factors_are_the_computed_ones() {
        let norms = [
            norm_table(7.5),
            norm_table(0.0),
            norm_table(1.0),
            norm_table(30.0),
            norm_table(3.0),
            norm_table(12.0),
        ];
        let tables = tf_tables(&norms);
        for (field, table) in norms.iter().zip(tables.iter()) {
            for (at, row) in table.iter().enumerate() {
                let tf = (at + 1) as f32;
                for (code, &factor) in row.iter().enumerate() {
                    assert_eq!(factor.to_bits(), (tf / (tf + field[code])).to_bits());
                }
            }
        }
        let mut scratch = Scratch::default();
        scratch.reset(4);
        score_postings(&mut scratch, 4, &[(0, 1), (1, 8), (2, 9), (3, 40)]);
        let best = scratch.best(4, &[0, 1, 2, 3]);
        let score = |doc: u32| best.iter().find(|b| b.2 == doc).map(|b| b.0).unwrap();
        for (doc, tf) in [(0u32, 1.0f32), (1, 8.0), (2, 9.0), (3, 40.0)] {
            assert_eq!(score(doc).to_bits(), (tf / (tf + 1.0)).to_bits(), "tf {tf}");
        }
    }

    /// A posting of a document beyond the segment (only in a corrupt index) leaves its
    /// block out, and neither panics nor touches a document.
    #[test]
    fn a_block_beyond_the_segment_is_left_out() {
        let mut scratch = Scratch::default();
        scratch.reset(10);
        score_postings(&mut scratch, 10, &[(2, 1), (10, 1)]);
        assert_eq!(scratch.touched, 0);
        score_postings(&mut scratch, 10, &[(2, 1), (9, 3)]);
        assert_eq!(scratch.touched, 2);
    }

    /// Choosing the best by runs of documents keeps the same documents as sorting all
    /// of them: by score, ties by the lower ordinal, for lists that do and do not fill
    /// whole runs, with many equal scores, and for `k` above the number touched.
    #[test]
    fn the_best_are_those_a_full_sort_finds() {
        let mut seed = 7u64;
        let mut next = move |below: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) % below
        };
        for (touched, k) in [
            (0usize, 24usize),
            (1, 24),
            (7, 3),
            (8, 8),
            (23, 24),
            (250, 24),
            (1001, 5),
            (64, 1),
        ] {
            let max_doc = touched * 2 + 1;
            let mut scratch = Scratch::default();
            scratch.reset(max_doc);
            // Distinct documents, in a shuffled order of touching.
            let mut docs: Vec<u32> = (0..max_doc as u32).collect();
            for i in (1..docs.len()).rev() {
                docs.swap(i, next(i as u64 + 1) as usize);
            }
            docs.truncate(touched);
            // Scores from a few values, so that many are equal.
            scratch.start_word();
            for &doc in &docs {
                let tf = 1 + next(3) as u32;
                score_postings(&mut scratch, max_doc, &[(doc, tf)]);
                if next(2) == 0 {
                    scratch.totals[scratch.scores[doc as usize].at as usize][TEXT] = next(4) as f32;
                }
            }
            let ords: Vec<u32> = (0..max_doc as u32)
                .map(|d| (d * 7919) % max_doc as u32)
                .collect();
            let mut all: Vec<(f32, u32, u32)> = docs
                .iter()
                .map(|&d| {
                    let [q, t] = scratch.totals[scratch.scores[d as usize].at as usize];
                    (combined(q, t), ords[d as usize], d)
                })
                .collect();
            all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            let mut expected: Vec<u32> = all.iter().take(k).map(|a| a.2).collect();
            let mut found: Vec<u32> = scratch.best(k, &ords).into_iter().map(|b| b.2).collect();
            expected.sort_unstable();
            found.sort_unstable();
            assert_eq!(found, expected, "{touched} touched, best {k}");
        }
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
}
