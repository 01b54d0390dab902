//! The data of each entry that the candidates' coverage reads (see `coverage.rs`): its
//! terms with their places, its example questions as small documents of their own, and
//! its passages, kept for as long as the process runs and packed small (see
//! [`EntryTerms`]).

use super::term_list::{TermList, Terms};
use super::{PLACE_BODY, PLACE_QUESTION};
use crate::knowledge::Lang;

/// The terms of one entry (both languages), for the coverage part of the confidence, as
/// sorted term numbers (see [`super::SearchIndex::terms`]): a few bytes a term instead of a
/// `String` in a hash set, which at 10,000 entries is hundreds of megabytes less.
///
/// Kept for every entry while the process runs, so nothing here is only for the build
/// (that is [`EntryTermSets`]) and the small figures are packed: at 10,000 entries the
/// places at a byte each, the lists the build needed and 12-byte question and passage
/// records were 4 MB of a start's memory.
#[derive(Debug, Default)]
pub(super) struct EntryTerms {
    /// The terms of the title, keywords, example questions and body, sorted and
    /// distinct.
    pub(super) all: TermList,
    /// The best place of each of `all`, four to a byte (two bits each, the first in the
    /// lowest bits): 2 title or keywords, 1 example questions, 0 body.
    pub(super) places: Box<[u8]>,
    /// Each example question, scored on its own (see [`super::SearchIndex::coverage`]).
    pub(super) questions: Vec<QuestionDoc>,
    /// Each passage (lead and `###` sections) of the entry in each language, in order.
    pub(super) passages: Vec<PassageDoc>,
}

/// An entry's terms by place, while the index is built: [`EntryTermSets::finish`] makes
/// them the entry's [`EntryTerms::all`] and [`EntryTerms::places`].
#[derive(Debug, Default)]
pub(super) struct EntryTermSets {
    /// Title and keywords: what the entry is about.
    pub(super) core: Vec<u32>,
    /// Example questions.
    pub(super) strong: Vec<u32>,
    /// The body.
    pub(super) weak: Vec<u32>,
}

/// Two-bit places, four to a byte, the first in the lowest bits.
pub(super) fn pack_places(places: impl ExactSizeIterator<Item = u8>) -> Box<[u8]> {
    let mut packed = vec![0u8; places.len().div_ceil(4)];
    for (i, place) in places.enumerate() {
        packed[i / 4] |= (place & 3) << (2 * (i % 4));
    }
    packed.into_boxed_slice()
}

/// One passage of an entry: its language, its place among the entry's passages, and
/// its distinct terms (sorted) in the [`PassageStore`].
#[derive(Debug)]
pub(super) struct PassageDoc {
    pub(super) start: u32,
    /// The number of terms, and in the highest bit the language (set for English):
    /// eight bytes a passage rather than twelve.
    pub(super) len_and_lang: u32,
}

/// The highest bit of [`PassageDoc::len_and_lang`].
const PASSAGE_ENGLISH: u32 = 1 << 31;

impl PassageDoc {
    /// The most terms a passage can have (31 bits; a knowledge file is at most a
    /// megabyte, so a passage never has that many).
    pub(super) const MOST_TERMS: u32 = PASSAGE_ENGLISH - 1;

    /// `None` when `len` is over [`PassageDoc::MOST_TERMS`].
    pub(super) fn new(lang: Lang, start: u32, len: u32) -> Option<PassageDoc> {
        if len > Self::MOST_TERMS {
            return None;
        }
        let lang_bit = match lang {
            Lang::Nb => 0,
            Lang::En => PASSAGE_ENGLISH,
        };
        Some(PassageDoc {
            start,
            len_and_lang: len | lang_bit,
        })
    }

    pub(super) fn len(&self) -> u32 {
        self.len_and_lang & !PASSAGE_ENGLISH
    }

    pub(super) fn lang(&self) -> Lang {
        if self.len_and_lang & PASSAGE_ENGLISH != 0 {
            Lang::En
        } else {
            Lang::Nb
        }
    }
}

/// The terms of every passage, one after the other (like [`QuestionStore`]).
#[derive(Debug, Default)]
pub(super) struct PassageStore {
    pub(super) terms: TermList,
}

impl PassageStore {
    pub(super) fn terms(&self, passage: &PassageDoc) -> Terms<'_> {
        self.terms
            .range(passage.start as usize..(passage.start + passage.len()) as usize)
    }
}

/// One example question as a small document of its own: where its terms are in the
/// [`QuestionStore`], and the length codes of its words and compound parts.
#[derive(Debug)]
pub(super) struct QuestionDoc {
    pub(super) start: u32,
    /// At most [`QuestionStore::MOST_TERMS`]: eight bytes a question rather than twelve.
    pub(super) len: u16,
    /// tantivy field-norm codes of the number of words and of parts.
    pub(super) lengths: [u8; 2],
}

/// The terms of every example question, one after the other: an answer reads the
/// questions of a few dozen entries, and reading them from one array rather than from
/// an allocation per question halved the time of that step.
#[derive(Debug, Default)]
pub(super) struct QuestionStore {
    /// Per question: its distinct term numbers, sorted.
    pub(super) terms: TermList,
    /// Per term of a question: occurrences among its words and among its parts.
    pub(super) counts: Vec<[u8; 2]>,
}

impl QuestionStore {
    /// The most distinct terms kept of one example question: the lowest numbered, the
    /// others left out. An example question is a line of text; one with more than 65,535
    /// different words is not a question anyone asks.
    pub(super) const MOST_TERMS: usize = u16::MAX as usize;

    pub(super) fn push(&mut self, counts: &[(u32, [u8; 2])], lengths: [u8; 2]) -> QuestionDoc {
        let counts = &counts[..counts.len().min(Self::MOST_TERMS)];
        let start = self.terms.len() as u32;
        self.terms.extend(counts.iter().map(|(n, _)| *n));
        self.counts.extend(counts.iter().map(|(_, c)| *c));
        QuestionDoc {
            start,
            len: counts.len() as u16,
            lengths,
        }
    }

    pub(super) fn terms(&self, question: &QuestionDoc) -> (Terms<'_>, &[[u8; 2]]) {
        let range = question.start as usize..question.start as usize + usize::from(question.len);
        (self.terms.range(range.clone()), &self.counts[range])
    }
}

impl EntryTermSets {
    /// The entry's terms, each at its best place (see [`EntryTerms::places`]).
    pub(super) fn finish(self, terms: &mut EntryTerms) {
        let mut merged: Vec<(u32, u8)> = Vec::new();
        for (place, set) in [(2u8, self.core), (1, self.strong), (0, self.weak)] {
            merged.extend(set.into_iter().map(|t| (t, place)));
        }
        // Best place first within a term, then keep the first of each term.
        merged.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        merged.dedup_by_key(|(t, _)| *t);
        terms.all = TermList::from(merged.iter().map(|(t, _)| *t).collect::<Vec<_>>()).narrowed();
        terms.places = pack_places(merged.iter().map(|(_, p)| *p));
    }
}

impl EntryTerms {
    /// How well the entry holds term `number`: 1 in its title or keywords, less in its
    /// example questions, less still only in its body, 0 not at all.
    pub(super) fn place(&self, number: u32) -> f32 {
        match self.all.terms().binary_search(number) {
            Ok(i) => self.place_at(i),
            Err(_) => 0.0,
        }
    }

    /// [`EntryTerms::place`] of the `i`th of [`EntryTerms::all`].
    #[inline]
    pub(super) fn place_at(&self, i: usize) -> f32 {
        [PLACE_BODY, PLACE_QUESTION, 1.0, 1.0][self.place_code(i) as usize]
    }

    /// The place code (see [`EntryTerms::places`]) of the `i`th of [`EntryTerms::all`].
    #[inline]
    pub(super) fn place_code(&self, i: usize) -> u8 {
        (self.places[i / 4] >> (2 * (i % 4))) & 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The places of an entry's terms, packed four to a byte, read back as they were
    /// given, across byte boundaries and in a last byte that is not full.
    #[test]
    fn term_places_read_back_as_packed() {
        let given: Vec<u8> = [2, 0, 1, 1, 0, 2, 2, 1, 0, 1, 2].to_vec();
        let terms = EntryTerms {
            all: TermList::from((0..given.len() as u32).collect::<Vec<_>>()).narrowed(),
            places: pack_places(given.iter().copied()),
            ..Default::default()
        };
        assert_eq!(terms.places.len(), 3);
        let read: Vec<u8> = (0..given.len()).map(|i| terms.place_code(i)).collect();
        assert_eq!(read, given);
        assert_eq!(terms.place(0), 1.0);
        assert_eq!(terms.place(2), PLACE_QUESTION);
        assert_eq!(terms.place(8), PLACE_BODY);
        assert_eq!(terms.place(99), 0.0);
    }
}
