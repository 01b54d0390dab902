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

/// The asked terms' numbers as an exact bit set, for walking an entry's terms.
struct TermSet {
    bits: Vec<u64>,
    /// The largest number in the set (0 when empty).
    largest: u32,
}

impl TermSet {
    /// `asked` sorted by number.
    pub(super) fn new(asked: &[AskedTerm]) -> TermSet {
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

/// The question's known terms, made once per question for all its candidates (see
/// [`AskedTerms`]).
pub(super) struct Asked {
    terms: Vec<AskedTerm>,
    set: TermSet,
    filter: TermFilter,
}

impl Asked {
    pub(super) fn new(words: &[QueryWord], numbers: &[Vec<Option<u32>>]) -> Asked {
        let terms = SearchIndex::asked_terms(words, numbers);
        let set = TermSet::new(&terms);
        let filter = TermFilter::new(terms.iter().map(|a| a.number));
        Asked { terms, set, filter }
    }

    pub(super) fn view(&self) -> AskedTerms<'_> {
        AskedTerms {
            terms: &self.terms,
            set: &self.set,
            filter: &self.filter,
        }
    }
}

/// The question's known terms, sorted by number, as a list, an exact set and a filter:
/// made once per question for all its candidates.
#[derive(Clone, Copy)]
pub(super) struct AskedTerms<'a> {
    terms: &'a [AskedTerm],
    set: &'a TermSet,
    filter: &'a TermFilter,
}

/// Scratch space of [`SearchIndex::coverage`], one slot per question word, kept from one
/// candidate to the next instead of four allocations per candidate.
#[derive(Default)]
pub(super) struct CoverageBuffers {
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
    pub(super) fn warm_candidates(&self, ids: impl Iterator<Item = u32>) {
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
