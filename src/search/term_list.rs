//! Lists of term numbers kept in 16 bits each when every number fits.
//!
//! The index keeps each entry's sorted terms, the terms of every example question and
//! of every passage as term numbers: at 10,000 entries some 8.5 million of them, 34 MB as
//! `u32`, the largest part of a second start's memory after the entries themselves. A
//! knowledge base of that size has far fewer than 65,536 distinct terms, so a list whose
//! numbers all fit is stored as `u16`; a larger vocabulary keeps `u32` (each list says
//! which it holds, in memory and in the derived file).
//!
//! The loops that answering runs over these lists are written once and compiled for
//! each width with [`with_terms!`]: no test per number.

use std::ops::Range;

/// Term numbers in order, at the narrowest width that holds them all (once
/// [`TermList::narrowed`]); see the module's notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TermList {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Default for TermList {
    fn default() -> TermList {
        TermList::Wide(Vec::new())
    }
}

impl From<Vec<u32>> for TermList {
    fn from(numbers: Vec<u32>) -> TermList {
        TermList::Wide(numbers)
    }
}

impl TermList {
    /// The list as `u16` when every number fits, else as it is; without spare capacity.
    pub(super) fn narrowed(self) -> TermList {
        match self {
            TermList::Wide(numbers) => match numbers
                .iter()
                .map(|&n| u16::try_from(n).ok())
                .collect::<Option<Vec<u16>>>()
            {
                Some(narrow) => TermList::Narrow(narrow),
                None => TermList::Wide(shrunk(numbers)),
            },
            TermList::Narrow(numbers) => TermList::Narrow(shrunk(numbers)),
        }
    }

    /// Add numbers at the end (while building: a narrowed list is widened again).
    pub(super) fn extend(&mut self, numbers: impl IntoIterator<Item = u32>) {
        if let TermList::Narrow(narrow) = self {
            *self = TermList::Wide(narrow.iter().map(|&n| u32::from(n)).collect());
        }
        if let TermList::Wide(wide) = self {
            wide.extend(numbers);
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            TermList::Narrow(n) => n.len(),
            TermList::Wide(n) => n.len(),
        }
    }

    /// All the numbers.
    pub(super) fn terms(&self) -> Terms<'_> {
        match self {
            TermList::Narrow(n) => Terms::Narrow(n),
            TermList::Wide(n) => Terms::Wide(n),
        }
    }

    /// The numbers in `range` (which must lie within the list).
    pub(super) fn range(&self, range: Range<usize>) -> Terms<'_> {
        match self {
            TermList::Narrow(n) => Terms::Narrow(&n[range]),
            TermList::Wide(n) => Terms::Wide(&n[range]),
        }
    }
}

fn shrunk<T>(mut numbers: Vec<T>) -> Vec<T> {
    numbers.shrink_to_fit();
    numbers
}

/// A borrowed stretch of a [`TermList`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Terms<'a> {
    Narrow(&'a [u16]),
    Wide(&'a [u32]),
}

impl<'a> Terms<'a> {
    /// [`slice::binary_search`] for `number` in sorted numbers.
    pub(super) fn binary_search(self, number: u32) -> Result<usize, usize> {
        match self {
            Terms::Narrow(n) => match u16::try_from(number) {
                Ok(number) => n.binary_search(&number),
                Err(_) => Err(n.len()),
            },
            Terms::Wide(n) => n.binary_search(&number),
        }
    }

    /// The numbers as `u32` (for what is not run per answer; loops that are use
    /// [`with_terms!`]).
    pub(super) fn iter(self) -> impl Iterator<Item = u32> + 'a {
        let (narrow, wide) = match self {
            Terms::Narrow(n) => (n, &[][..]),
            Terms::Wide(n) => (&[][..], n),
        };
        narrow
            .iter()
            .map(|&n| u32::from(n))
            .chain(wide.iter().copied())
    }
}

/// `$body` with `$numbers` bound to the slice of a [`Terms`] at its own width (`&[u16]`
/// or `&[u32]`; read a number with `u32::from`), compiled once for each.
macro_rules! with_terms {
    ($terms:expr, |$numbers:ident| $body:expr) => {
        match $terms {
            $crate::search::term_list::Terms::Narrow($numbers) => $body,
            // `u32::from` of a `u32` here: the one body serves both widths.
            #[allow(clippy::useless_conversion)]
            $crate::search::term_list::Terms::Wide($numbers) => $body,
        }
    };
}
pub(super) use with_terms;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_is_narrowed_only_when_every_number_fits() {
        let small = TermList::from(vec![0, 7, 65_535]).narrowed();
        assert_eq!(small, TermList::Narrow(vec![0, 7, 65_535]));
        let large = TermList::from(vec![0, 7, 65_536]).narrowed();
        assert_eq!(large, TermList::Wide(vec![0, 7, 65_536]));
        assert_eq!(TermList::default().narrowed(), TermList::Narrow(Vec::new()));

        for list in [&small, &large] {
            let terms = list.terms();
            assert_eq!(terms.binary_search(7), Ok(1));
            assert_eq!(terms.binary_search(3), Err(1));
            assert_eq!(terms.binary_search(1 << 20), Err(3));
            assert_eq!(list.range(1..3).iter().next(), Some(7));
            let summed: u64 = with_terms!(terms, |numbers| numbers
                .iter()
                .map(|&n| u64::from(u32::from(n)))
                .sum());
            assert_eq!(summed, terms.iter().map(u64::from).sum::<u64>());
        }
        assert_eq!(small.terms().iter().collect::<Vec<_>>(), [0, 7, 65_535]);

        let mut grown = small.clone();
        grown.extend([70_000]);
        assert_eq!(grown, TermList::Wide(vec![0, 7, 65_535, 70_000]));
    }
}
