//! Hits → a reply or an abstention.
//!
//! [`Answerer`] owns one knowledge base and its index; it is rebuilt (not mutated) when the
//! knowledge changes and swapped in whole, so a reader never sees half an index.

mod render;

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::config::AnswerSettings;
use crate::knowledge::{Entry, KnowledgeBase, Lang};
use crate::search::{detect_language, Hit, SearchError, SearchIndex};

pub use render::{escape_user_text, render_json, render_text, tie_line, Texts};

/// How many candidates a reply lists at most.
pub const MAX_CANDIDATES: usize = 5;

/// A candidate entry, as shown to users ("did you mean …", "closest topics").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub id: String,
    pub title: String,
    pub score: f32,
}

/// Why a question could not be taken at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputProblem {
    /// Nothing but spaces, mentions or punctuation.
    Empty,
}

/// What the bot says to one question.
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// The question as received.
    pub question: String,
    /// The language to answer in.
    pub lang: Lang,
    /// The chosen entry, in `lang` when it exists in that language.
    pub entry: Option<Entry>,
    /// Confidence 0..1 of the best candidate (comparable across questions).
    pub score: f32,
    /// Best candidates first, at most [`MAX_CANDIDATES`].
    pub candidates: Vec<Candidate>,
    /// A second entry that scored nearly as well: the reply asks "A or B?".
    pub tied_with: Option<Candidate>,
    /// Related entries offered after an answer.
    pub related: Vec<Candidate>,
    /// Set when the input could not be used as a question.
    pub problem: Option<InputProblem>,
    /// True when the question was cut to the maximum length before analysis.
    pub truncated: bool,
    /// For an answer about an event: whether it is upcoming (with its time and place)
    /// or past. Set by [`crate::announce::prefer_upcoming_event`].
    pub event_note: Option<String>,
}

impl Reply {
    /// A reply that shows one entry directly (a related topic the user clicked).
    pub fn for_entry(entry: Entry, lang: Lang) -> Reply {
        Reply {
            question: entry.title.clone(),
            lang,
            entry: Some(entry),
            score: 1.0,
            candidates: Vec::new(),
            tied_with: None,
            related: Vec::new(),
            problem: None,
            truncated: false,
            event_note: None,
        }
    }

    pub fn answered(&self) -> bool {
        self.entry.is_some()
    }

    pub fn id(&self) -> Option<&str> {
        self.entry.as_ref().map(|e| e.id.as_str())
    }

    /// The best candidate, answered or not (what an adviser sees in the queue).
    pub fn best_candidate(&self) -> Option<&Candidate> {
        self.candidates.first()
    }
}

static MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<(@[!&]?|#|a?:\w+:)\d+>|@(everyone|here)\b|https?://\S+").expect("valid regex")
});

/// Remove what is not part of the question: Discord mentions, emoji tags, links.
pub fn clean_question(text: &str) -> String {
    MENTION.replace_all(text, " ").trim().to_string()
}

/// The answering core: a knowledge base, its index and the thresholds.
pub struct Answerer {
    kb: KnowledgeBase,
    index: SearchIndex,
    settings: AnswerSettings,
    /// Entry id → positions in `kb.entries` of its Bokmål and English entries: a reply
    /// looks up several entries, and scanning 20,000 entries for each costs more than the
    /// search at scale.
    positions: HashMap<String, [Option<u32>; 2]>,
}

impl std::fmt::Debug for Answerer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answerer")
            .field("index", &self.index)
            .finish()
    }
}

impl Answerer {
    /// Index a knowledge base.
    pub fn new(kb: KnowledgeBase, settings: AnswerSettings) -> Result<Answerer, SearchError> {
        let index = SearchIndex::build(&kb)?;
        let mut positions: HashMap<String, [Option<u32>; 2]> = HashMap::new();
        for (i, e) in kb.entries.iter().enumerate() {
            let slot = &mut positions.entry(e.id.clone()).or_default()[lang_slot(e.lang)];
            // The first entry of an id and language wins, as in `KnowledgeBase::entry`.
            slot.get_or_insert(i as u32);
        }
        Ok(Answerer {
            kb,
            index,
            settings,
            positions,
        })
    }

    /// The entry of `id` in `lang`, or in the other language if that is all there is: the
    /// same as [`KnowledgeBase::entry`], without a scan.
    pub fn entry(&self, id: &str, lang: Lang) -> Option<&Entry> {
        let slots = self.positions.get(id)?;
        let at = slots[lang_slot(lang)].or_else(|| slots.iter().flatten().min().copied())?;
        self.kb.entries.get(at as usize)
    }

    pub fn knowledge(&self) -> &KnowledgeBase {
        &self.kb
    }

    pub fn index(&self) -> &SearchIndex {
        &self.index
    }

    pub fn settings(&self) -> &AnswerSettings {
        &self.settings
    }

    fn candidate(&self, hit: &Hit, lang: Lang) -> Candidate {
        let title = self
            .entry(&hit.id, lang)
            .map(|e| e.title.clone())
            .unwrap_or_else(|| hit.id.clone());
        Candidate {
            id: hit.id.clone(),
            title,
            score: hit.confidence,
        }
    }

    /// Answer one question. Never fails on user input: bad input gives a reply with a
    /// `problem`; only an internal index error is an `Err`.
    pub fn answer(&self, question: &str) -> Result<Reply, SearchError> {
        let mut cleaned = clean_question(question);
        let mut truncated = false;
        if cleaned.chars().count() > self.settings.max_question_chars {
            cleaned = cleaned
                .chars()
                .take(self.settings.max_question_chars)
                .collect();
            truncated = true;
        }
        let lang = detect_language(&cleaned);
        let mut reply = Reply {
            question: question.to_string(),
            lang,
            entry: None,
            score: 0.0,
            candidates: Vec::new(),
            tied_with: None,
            related: Vec::new(),
            problem: None,
            truncated,
            event_note: None,
        };
        if !cleaned.chars().any(char::is_alphanumeric) {
            reply.problem = Some(InputProblem::Empty);
            return Ok(reply);
        }
        let hits = self.index.search(&cleaned, MAX_CANDIDATES)?;
        reply.candidates = hits.iter().map(|h| self.candidate(h, lang)).collect();
        let Some(best) = hits.first() else {
            return Ok(reply);
        };
        reply.score = best.confidence;
        if best.confidence < self.settings.threshold {
            // Abstain; keep only candidates worth naming as "closest topics".
            let floor = self.settings.threshold * 0.5;
            reply.candidates.retain(|c| c.score >= floor);
            return Ok(reply);
        }
        if let Some(second) = hits.get(1) {
            if best.score - second.score <= self.settings.tie_margin * 2.0
                && second.known_coverage >= self.settings.threshold
            {
                reply.tied_with = Some(self.candidate(second, lang));
            }
        }
        let entry = self.entry(&best.id, lang).cloned();
        if let Some(entry) = &entry {
            reply.related = entry
                .related
                .iter()
                .filter(|id| Some(id.as_str()) != reply.tied_with.as_ref().map(|t| t.id.as_str()))
                .filter_map(|id| self.entry(id, lang))
                .take(self.settings.related)
                .map(|e| Candidate {
                    id: e.id.clone(),
                    title: e.title.clone(),
                    score: 0.0,
                })
                .collect();
        }
        reply.entry = entry;
        Ok(reply)
    }
}

fn lang_slot(lang: Lang) -> usize {
    match lang {
        Lang::Nb => 0,
        Lang::En => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_lookup_matches_the_knowledge_base() {
        let entry = |id: &str, lang| Entry {
            id: id.into(),
            lang,
            title: format!("{id} {lang}"),
            questions: vec![],
            keywords: vec![],
            related: vec![],
            reviewed: Default::default(),
            sources: vec![],
            facts: vec![],
            body: "Tekst.".into(),
            event: None,
            path: None,
        };
        let kb = KnowledgeBase {
            entries: vec![
                entry("a", Lang::Nb),
                entry("a", Lang::En),
                entry("b", Lang::En),
                entry("c", Lang::Nb),
            ],
            glossary: Default::default(),
        };
        let answerer = Answerer::new(kb.clone(), AnswerSettings::default()).unwrap();
        for id in ["a", "b", "c", "missing"] {
            for lang in [Lang::Nb, Lang::En] {
                assert_eq!(answerer.entry(id, lang), kb.entry(id, lang), "{id} {lang}");
            }
        }
    }

    #[test]
    fn mentions_and_links_are_not_part_of_the_question() {
        assert_eq!(
            clean_question("<@123> hva er <#456> @everyone https://x.no/a?b"),
            "hva er"
        );
        assert_eq!(clean_question("<@&99>"), "");
    }
}
