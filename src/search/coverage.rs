//! How much of the question a candidate entry covers: its terms by place, its example
//! questions scored one by one as small documents of their own, and its passages.

use super::*;

/// A set of term numbers that may answer "yes" wrongly but never "no" wrongly: most terms
/// of an example question are not asked, and this rejects them in one step.
struct TermFilter([u64; 16]);

impl TermFilter {
    pub(super) fn new(numbers: impl Iterator<Item = u32>) -> TermFilter {
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

/// Where each asked term number's entries are in the sorted asked terms: a small
/// open-addressing table (linear probing, at most half full), one multiply and mostly
/// one probe a look-up. A binary search among the asked terms for each term of each
/// example question that passed the filter was a sixth of the candidates' coverage at
/// 10,000 entries.
struct AskedIndex {
    /// `(number, start, len)`, [`AskedIndex::EMPTY`] as the number of a free slot.
    slots: Vec<(u32, u32, u32)>,
    /// How far to shift a product to get a slot (`32 − log2(slots)`).
    shift: u32,
}

impl AskedIndex {
    const EMPTY: u32 = u32::MAX;

    /// `asked` sorted by number.
    fn new(asked: &[AskedTerm]) -> AskedIndex {
        let size = (asked.len() * 2).next_power_of_two().max(16);
        let mut index = AskedIndex {
            slots: vec![(Self::EMPTY, 0, 0); size],
            shift: 32 - size.trailing_zeros(),
        };
        let mut start = 0;
        while start < asked.len() {
            let number = asked[start].number;
            let len = asked[start..]
                .iter()
                .take_while(|a| a.number == number)
                .count();
            let mut slot = index.slot(number);
            while index.slots[slot].0 != Self::EMPTY {
                slot = (slot + 1) & (size - 1);
            }
            index.slots[slot] = (number, start as u32, len as u32);
            start += len;
        }
        index
    }

    #[inline]
    fn slot(&self, number: u32) -> usize {
        (number.wrapping_mul(0x9E37_79B1) >> self.shift) as usize
    }

    /// The range of `number` in the asked terms (empty when it is not asked).
    #[inline]
    fn range(&self, number: u32) -> std::ops::Range<usize> {
        let mask = self.slots.len() - 1;
        let mut slot = self.slot(number);
        loop {
            let (key, start, len) = self.slots[slot];
            if key == number {
                return start as usize..(start + len) as usize;
            }
            if key == Self::EMPTY {
                return 0..0;
            }
            slot = (slot + 1) & mask;
        }
    }
}

/// The question's known terms, made once per question for all its candidates (see
/// [`AskedTerms`]).
pub(super) struct Asked {
    terms: Vec<AskedTerm>,
    largest: u32,
    filter: TermFilter,
    index: AskedIndex,
}

impl Asked {
    pub(super) fn new(words: &[QueryWord], numbers: &[Vec<Option<u32>>]) -> Asked {
        let terms = SearchIndex::asked_terms(words, numbers);
        let largest = terms.last().map_or(0, |a| a.number);
        let filter = TermFilter::new(terms.iter().map(|a| a.number));
        let index = AskedIndex::new(&terms);
        Asked {
            terms,
            largest,
            filter,
            index,
        }
    }

    pub(super) fn view(&self) -> AskedTerms<'_> {
        AskedTerms {
            terms: &self.terms,
            largest: self.largest,
            filter: &self.filter,
            index: &self.index,
        }
    }
}

/// The question's known terms, sorted by number, as a list, a filter and an index by
/// number: made once per question for all its candidates.
#[derive(Clone, Copy)]
pub(super) struct AskedTerms<'a> {
    terms: &'a [AskedTerm],
    /// The largest asked number (0 when none is asked).
    largest: u32,
    filter: &'a TermFilter,
    index: &'a AskedIndex,
}

impl<'a> AskedTerms<'a> {
    /// The asked terms with term number `number` (each word it stands for).
    #[inline]
    fn matching(&self, number: u32) -> &'a [AskedTerm] {
        &self.terms[self.index.range(number)]
    }
}

/// Scratch space of [`SearchIndex::coverage`], one slot per question word, kept from one
/// candidate to the next instead of four allocations per candidate.
#[derive(Default)]
pub(super) struct CoverageBuffers {
    best_place: Vec<f32>,
    per_word: Vec<WordInQuestion>,
}

/// One question word in one example question: its best variant weight found there, and
/// its largest and summed BM25 term scores (its disjunction-max's parts), side by side.
#[derive(Clone, Copy, Default)]
struct WordInQuestion {
    best: f32,
    max: f32,
    sum: f32,
}

/// A term of the question: its number, which word it stands for, and how well.
struct AskedTerm {
    number: u32,
    word: usize,
    weight: f32,
}

#[derive(Debug, Default)]
pub(super) struct Coverage {
    pub(super) all: f32,
    pub(super) known: f32,
    pub(super) unknown_share: f32,
    pub(super) question: f32,
    /// BM25 of the best-matching example question on its own.
    pub(super) question_bm25: f32,
    /// The weight of the question's known words (what the passages' shares divide by).
    pub(super) known_total: f32,
}

impl SearchIndex {
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

    pub(super) fn coverage(
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
            largest,
            filter: asked_filter,
            ..
        } = asked;
        let CoverageBuffers {
            best_place,
            per_word,
        } = buffers;
        // Each word's best alternative by its place in the entry: the entry's sorted
        // terms are walked up to the largest asked one, most rejected by the filter in
        // one bit test, the rest looked up in the asked terms' index (a binary search per
        // asked term, even in what was left of the entry's terms, was a tenth of an answer
        // at 10,000 entries). The same products, and maxima do not depend on the order,
        // so the same figures.
        best_place.clear();
        best_place.resize(words.len(), 0.0);
        with_terms!(terms.all.terms(), |all| {
            for (i, &number) in all.iter().enumerate() {
                let number = u32::from(number);
                if number > largest {
                    break;
                }
                if !asked_filter.may_hold(number) {
                    continue;
                }
                let place = terms.place_at(i);
                for a in asked.matching(number) {
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
        per_word.clear();
        per_word.resize(words.len(), WordInQuestion::default());
        // The words of the current question touched so far, a bit each, when there are
        // at most 64 words (else every word is read and reset): the sums below and the
        // reset read only those. A word not touched adds exactly 0 to either sum, so
        // leaving it out, the others still added in word order, gives the same figures.
        let few_words = words.len() <= 64;
        for question in &terms.questions {
            let mut touched: u64 = 0;
            let mut any = false;
            let (numbers, counts) = self.question_store.terms(question);
            with_terms!(numbers, |numbers| {
                for (&number, &[in_words, in_parts]) in numbers.iter().zip(counts) {
                    let number = u32::from(number);
                    if !asked_filter.may_hold(number) {
                        continue;
                    }
                    for a in asked.matching(number) {
                        any = true;
                        touched |= 1u64.wrapping_shl(a.word as u32);
                        let word = &mut per_word[a.word];
                        word.best = word.best.max(a.weight);
                        for (slot, count) in [(0, in_words), (1, in_parts)] {
                            if count > 0 {
                                let score = a.weight
                                    * self.question_scoring.score(question, number, slot, count);
                                word.max = word.max.max(score);
                                word.sum += score;
                            }
                        }
                    }
                }
            });
            if !any {
                // None of the question's terms is asked: it covers nothing and scores 0,
                // which changes neither maximum.
                continue;
            }
            let mut q_covered = 0.0f32;
            let mut bm25 = 0.0f32;
            let mut add = |word: &mut WordInQuestion, weight: f32| {
                q_covered += word.best * weight;
                bm25 += (0.5 + weight) * (word.max + (word.sum - word.max) * DISMAX_TIE);
                *word = WordInQuestion::default();
            };
            if few_words {
                while touched != 0 {
                    let w = touched.trailing_zeros() as usize;
                    touched &= touched - 1;
                    add(&mut per_word[w], weights[w]);
                }
            } else {
                for (word, &weight) in per_word.iter_mut().zip(weights) {
                    add(word, weight);
                }
            }
            best_question = best_question.max(q_covered);
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

    /// Ask the processor to bring into its caches each cache line that
    /// [`SearchIndex::coverage`] reads for the entries `ids`, before it reads any. The
    /// candidates are a few dozen entries anywhere in the base, so their terms are rarely
    /// in the caches, and `coverage` waited on each of them in turn. It changes no figure.
    ///
    /// In three rounds over all the candidates, each round's lines found through the
    /// last's: their records, then their terms, places and example questions, then those
    /// questions' terms in the store. The requests of a round do not wait on each other,
    /// so a round costs about one trip to memory, not one per candidate (reading each
    /// line instead, candidate by candidate, was a sixteenth of an answer at 10,000
    /// entries, most of it waiting).
    pub(super) fn warm_candidates(&self, ids: impl Iterator<Item = u32> + Clone) {
        let records = || {
            ids.clone()
                .filter_map(|id| self.entry_terms.get(id as usize))
        };
        for terms in records() {
            prefetch_lines(std::slice::from_ref(terms));
        }
        for terms in records() {
            with_terms!(terms.all.terms(), |all| prefetch_lines(all));
            prefetch_lines(&terms.places);
            prefetch_lines(&terms.questions);
        }
        let store_counts = &self.question_store.counts;
        for terms in records() {
            for question in &terms.questions {
                let span = question.start as usize..question.start as usize + question.len as usize;
                with_terms!(self.question_store.terms.terms(), |numbers| {
                    prefetch_lines(numbers.get(span.clone()).unwrap_or_default())
                });
                prefetch_lines(store_counts.get(span).unwrap_or_default());
            }
        }
    }

    /// Share of the known content (`known_total` of the question's weight, from
    /// [`SearchIndex::coverage`]) that the best passage of entry `id` covers on its own.
    /// `best_per_word` is scratch space, kept from one candidate to the next.
    pub(super) fn best_passage(
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
            .map(|p| self.passage_covered_asked(p, asked, weights, best_per_word))
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
        asked: AskedTerms<'_>,
        weights: &[f32],
        best: &mut [f32],
    ) -> f32 {
        best.fill(0.0);
        with_terms!(self.passage_store.terms(passage), |numbers| {
            for &number in numbers {
                let number = u32::from(number);
                if !asked.filter.may_hold(number) {
                    continue;
                }
                for a in asked.matching(number) {
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
            .filter(|p| p.lang() == lang)
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
pub(super) struct QuestionScoring {
    /// Term number → idf among the questions' words and among their compound parts.
    pub(super) idf: Vec<[f32; 2]>,
    /// Length normalisation per field-norm code, for words and for parts.
    pub(super) norms: Box<[[f32; 256]; 2]>,
}

impl QuestionScoring {
    pub(super) fn new(
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

/// Ask the processor to bring each 64-byte line of `items` into its caches, without
/// waiting for any (a hint: nothing is read, and it changes no value).
fn prefetch_lines<T>(items: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let start = items.as_ptr().cast::<i8>();
        let bytes = std::mem::size_of_val(items);
        let mut offset = 0;
        while offset < bytes {
            // SAFETY: a prefetch is a hint that never faults, whatever the address (it
            // is inside `items` here), and SSE is part of every x86-64 processor.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(offset)) };
            offset += 64;
        }
        // The last line, when `items` does not start on a line's boundary.
        if bytes > 0 {
            // SAFETY: as above.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(start.wrapping_add(bytes - 1)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = items;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every asked number finds exactly its own asked terms, also when many numbers fall
    /// on the same slot and a number stands for several words; any other number finds
    /// none.
    #[test]
    fn asked_index_finds_each_number_and_nothing_else() {
        // Multiples of 2^16 share their low bits, and numbers 0 and u32::MAX - 1 are
        // the edges.
        let mut numbers: Vec<u32> = (0..40).map(|i| i << 16).collect();
        numbers.extend([7, 7, 7, 123_456, u32::MAX - 1]);
        numbers.sort_unstable();
        let asked: Vec<AskedTerm> = numbers
            .iter()
            .enumerate()
            .map(|(word, &number)| AskedTerm {
                number,
                word,
                weight: 1.0,
            })
            .collect();
        let index = AskedIndex::new(&asked);
        for &number in &numbers {
            let found: Vec<u32> = asked[index.range(number)]
                .iter()
                .map(|a| a.number)
                .collect();
            let expected = numbers.iter().filter(|&&n| n == number).count();
            assert_eq!(found.len(), expected, "{number}");
            assert!(found.iter().all(|&n| n == number), "{number}");
        }
        for other in [1, 8, 65_535, 65_537, 123_457, u32::MAX - 2] {
            assert!(index.range(other).is_empty(), "{other}");
        }
        assert!(AskedIndex::new(&[]).range(5).is_empty());
    }
}
