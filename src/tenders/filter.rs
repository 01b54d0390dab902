//! Which stored notices a user asked for: `anbud tenders list` options, `/tenders`,
//! watches and questions all become one [`Filter`].

use chrono::{DateTime, Utc};
use std::borrow::Cow;

use super::model::{CpvCode, Kind, Notice};
use super::vocab::{Region, Topic, Vocabulary};
use crate::knowledge::{KnowledgeBase, Lang};
use crate::search::analysis::{fold, is_stop_word, words, Analyzer};

/// Matches free text against notices with the answering's Norwegian analysis: stems,
/// æøå folding and compound parts, so "renhold" finds "renholdstjenester" and
/// "innkjøp" finds "innkjop".
#[derive(Debug, Clone)]
pub struct TextMatcher<'a> {
    /// Borrowed from the answering index where there is one: a copy of its vocabulary,
    /// word cache and typo table for each question cost more than the search.
    analyzer: Cow<'a, Analyzer>,
}

impl<'a> TextMatcher<'a> {
    /// With the knowledge base's vocabulary, which lets compounds be split into known
    /// words.
    pub fn new(kb: &KnowledgeBase) -> TextMatcher<'static> {
        TextMatcher {
            analyzer: Cow::Owned(Analyzer::new(kb)),
        }
    }

    /// With an analyser already built (the answering index's).
    pub fn from_analyzer(analyzer: &'a Analyzer) -> TextMatcher<'a> {
        TextMatcher {
            analyzer: Cow::Borrowed(analyzer),
        }
    }

    /// A matcher that owns its analyser (one kept across reloads of the index).
    pub fn into_owned(self) -> TextMatcher<'static> {
        TextMatcher {
            analyzer: Cow::Owned(self.analyzer.into_owned()),
        }
    }

    /// The query's content words, stemmed and folded.
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        words(query)
            .iter()
            .map(|w| fold(w))
            .filter(|w| !is_stop_word(w))
            .map(|w| self.analyzer.stem(&w, Lang::Nb))
            .filter(|w| !w.is_empty())
            .collect()
    }

    /// Whether every term occurs in `text`: as a word's stem, one of its compound parts,
    /// or the beginning of a word (a compound's first part: "renhold" in
    /// "renholdstjenester"); a term of five letters or more also inside a word
    /// ("renhold" in "vaskerenhold").
    pub fn matches_all(&self, terms: &[String], text: &str) -> bool {
        if terms.is_empty() {
            return true;
        }
        let text_words: Vec<String> = words(text).iter().map(|w| fold(w)).collect();
        terms.iter().all(|term| {
            text_words.iter().any(|w| {
                w.starts_with(term.as_str())
                    || (term.chars().count() >= 5 && w.contains(term.as_str()))
                    || self.analyzer.stem(w, Lang::Nb) == *term
                    || self.analyzer.compound_parts(w, Lang::Nb).contains(term)
            })
        })
    }

    /// Whether any of the folded beginnings occurs in `text`.
    fn matches_any_prefix(&self, prefixes: &[String], text: &str) -> bool {
        let text_words: Vec<String> = words(text).iter().map(|w| fold(w)).collect();
        prefixes
            .iter()
            .any(|p| text_words.iter().any(|w| w.starts_with(p.as_str())))
    }
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// What to list. Every part given must hold; an empty filter lists everything.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Free text, matched against title and description.
    pub query: Option<String>,
    /// A CPV code: the code and its sub-codes.
    pub cpv: Option<CpvCode>,
    /// Part of a buyer's name (folded words).
    pub buyer: Option<String>,
    /// Any of these regions.
    pub regions: Vec<Region>,
    pub kind: Option<Kind>,
    /// Topics named in a question: one of their CPV codes or words.
    pub topics: Vec<Topic>,
    /// Only notices a supplier can still act on at this time.
    pub current_at: Option<DateTime<Utc>>,
}

/// Why a filter could not be made from what a user typed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FilterError {
    #[error("{0:?} is not a CPV code (eight digits, such as 90900000)")]
    Cpv(String),
    #[error("{0:?} is not a region anbud knows: give a county (Akershus), a Follo municipality (Nordre Follo, Ås, Frogn, Nesodden, Vestby, Enebakk), Follo, or a NUTS code (NO084)")]
    Region(String),
}

impl Filter {
    /// A filter from the options of `tenders list`, `/tenders` or a watch.
    pub fn from_options(
        vocab: &Vocabulary,
        query: Option<&str>,
        cpv: Option<&str>,
        buyer: Option<&str>,
        region: Option<&str>,
        kind: Option<Kind>,
    ) -> Result<Filter, FilterError> {
        let cpv = match nonempty(cpv) {
            Some(code) => Some(CpvCode::parse(code).ok_or_else(|| FilterError::Cpv(code.into()))?),
            None => None,
        };
        let regions = match nonempty(region) {
            Some(name) => vec![vocab
                .region_named(name)
                .ok_or_else(|| FilterError::Region(name.into()))?],
            None => Vec::new(),
        };
        Ok(Filter {
            query: nonempty(query).map(str::to_string),
            cpv,
            buyer: nonempty(buyer).map(str::to_string),
            regions,
            kind,
            topics: Vec::new(),
            current_at: None,
        })
    }

    /// Whether the notice passes every part of the filter.
    pub fn matches(&self, notice: &Notice, matcher: &TextMatcher) -> bool {
        if self.kind.is_some_and(|k| k != notice.kind) {
            return false;
        }
        if let Some(now) = self.current_at {
            if !notice.is_current(now) {
                return false;
            }
        }
        if let Some(cpv) = &self.cpv {
            if !notice.cpv.iter().any(|c| cpv.covers(c)) {
                return false;
            }
        }
        if let Some(buyer) = &self.buyer {
            let wanted: Vec<String> = words(buyer).iter().map(|w| fold(w)).collect();
            let found = notice.buyers.iter().any(|b| {
                let have: Vec<String> = words(b).iter().map(|w| fold(w)).collect();
                wanted
                    .iter()
                    .all(|w| have.iter().any(|h| h.starts_with(w.as_str())))
            });
            if !found {
                return false;
            }
        }
        if !self.regions.is_empty()
            && !self
                .regions
                .iter()
                .any(|r| r.contains(&notice.regions, &notice.buyers))
        {
            return false;
        }
        let text = format!("{} {}", notice.title, notice.description);
        if !self.topics.is_empty()
            && !self.topics.iter().any(|t| {
                notice
                    .cpv
                    .iter()
                    .any(|c| t.cpv.iter().any(|tc| tc.covers(c)))
                    || matcher.matches_any_prefix(&t.text, &text)
            })
        {
            return false;
        }
        if let Some(query) = &self.query {
            if !matcher.matches_all(&matcher.query_terms(query), &text) {
                return false;
            }
        }
        true
    }

    /// The notices that pass, in the order given (the store gives newest first).
    pub fn apply<'a>(&self, notices: &'a [Notice], matcher: &TextMatcher) -> Vec<&'a Notice> {
        notices
            .iter()
            .filter(|n| self.matches(n, matcher))
            .collect()
    }
}
