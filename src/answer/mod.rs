//! Hits → a reply or an abstention.
//!
//! [`Answerer`] owns one knowledge base and its index; it is rebuilt (not mutated) when the
//! knowledge changes and swapped in whole, so a reader never sees half an index.

pub mod features;
mod render;
pub mod targeted;

use std::sync::LazyLock;

use regex::Regex;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;

use crate::config::AnswerSettings;
use crate::knowledge::calibration::{Calibration, BUNDLED};
use crate::knowledge::passage::passages;
use crate::knowledge::{Entry, KnowledgeBase, Lang};
use crate::memo::Memo;
use crate::search::{Hit, SearchError, SearchIndex};
use features::lead;
pub use features::Analysis;

pub use render::{
    escape_user_text, passage_heading, referral_text, render_full_text, render_json, render_text,
    targeted_answer, tie_line, Texts, MAX_REPLY_CHARS,
};

/// How many candidates a reply lists at most.
pub const MAX_CANDIDATES: usize = 5;

/// How many candidates from the index the rank model orders.
pub const CANDIDATES: usize = 8;

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
    /// The `###` section of the entry shown beside its lead (an index into
    /// [`crate::knowledge::passage::passages`] of its body), when the question asks for
    /// something the section holds.
    pub passage: Option<usize>,
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
    /// A public service the question belongs to instead (not answered, not queued).
    pub referral: Option<Referred>,
}

/// A pointer to the public service a question belongs to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Referred {
    /// The referral's id in `knowledge/referrals.toml`.
    pub id: String,
    pub name: String,
    pub url: String,
    /// One or two sentences on what the service helps with.
    pub text: String,
}

impl Reply {
    /// A reply that shows one entry directly (a related topic the user clicked).
    pub fn for_entry(entry: Entry, lang: Lang) -> Reply {
        Reply {
            question: entry.title.clone(),
            lang,
            entry: Some(entry),
            passage: None,
            score: 1.0,
            candidates: Vec::new(),
            tied_with: None,
            related: Vec::new(),
            problem: None,
            truncated: false,
            event_note: None,
            referral: None,
        }
    }

    /// A reply that abstains on `question` without looking (used when the index fails).
    pub fn empty(question: &str) -> Reply {
        Reply {
            question: question.to_string(),
            lang: Lang::Nb,
            entry: None,
            passage: None,
            score: 0.0,
            candidates: Vec::new(),
            tied_with: None,
            related: Vec::new(),
            problem: None,
            truncated: false,
            event_note: None,
            referral: None,
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
    Regex::new(concat!(
        r"<(@[!&]?|#|a?:\w+:)\d+>|@(everyone|here)\b|https?://\S+",
        // HTML tags and script bodies pasted into a question are markup, not words: left
        // in, "script", "img", "src" and "alert" would be searched and could lend an
        // off-topic question a confident answer.
        r#"|(?is:<script\b.*?</script\s*>|</?[a-z][a-z0-9]*(\s[^<>]*)?/?>)"#
    ))
    .expect("valid regex")
});

/// Remove what is not part of the question: Discord mentions, emoji tags, links, HTML.
pub fn clean_question(text: &str) -> String {
    // Every pattern of `MENTION` holds `<`, `@` or `http`: most questions hold none, and
    // searching them with the regex was a twentieth of an answer at 10,000 entries.
    if !text.contains(['<', '@']) && !text.contains("http") {
        return text.trim().to_string();
    }
    MENTION.replace_all(text, " ").trim().to_string()
}

/// The answering core: a knowledge base, its index and the thresholds.
pub struct Answerer {
    kb: KnowledgeBase,
    index: SearchIndex,
    /// The referrals (public services) as an index of their own, so they neither
    /// change the entries' statistics nor compete with them for candidate places.
    referral_index: Option<SearchIndex>,
    calibration: Calibration,
    settings: AnswerSettings,
    /// Entry id → positions in `kb.entries` of its Bokmål and English entries: a reply
    /// looks up several entries, and scanning 20,000 entries for each costs more than the
    /// search at scale. FxHash, as for the index's maps: cheaper than SipHash on these
    /// short keys, looked up for every candidate of every reply.
    positions: HashMap<String, [Option<u32>; 2]>,
    /// Whether a passage holds a figure ([`targeted::has_figure`], a Unicode regex), by
    /// the passage's text: replies keep choosing among the same passages.
    figures: Memo<bool>,
}

/// The most passages whose figures are remembered (each by its text: about a megabyte).
const FIGURES_REMEMBERED: usize = 2_000;

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
        Ok(Answerer::with_index_dir(kb, settings, None)?.0)
    }

    /// [`Answerer::new`], keeping the entries' index in `index_dir` (`index.dir`): opened
    /// from there when the knowledge is unchanged (see [`crate::search::on_disk`]).
    pub fn with_index_dir(
        kb: KnowledgeBase,
        settings: AnswerSettings,
        index_dir: Option<&std::path::Path>,
    ) -> Result<(Answerer, crate::search::IndexOrigin), SearchError> {
        let (index, origin) = SearchIndex::build_in(&kb, index_dir)?;
        let referral_index = if kb.referrals.is_empty() {
            None
        } else {
            Some(SearchIndex::build(&KnowledgeBase {
                entries: kb.referrals.clone(),
                glossary: kb.glossary.clone(),
                ..Default::default()
            })?)
        };
        let calibration = kb.calibration.clone().unwrap_or_else(|| BUNDLED.clone());
        let mut positions: HashMap<String, [Option<u32>; 2]> = HashMap::default();
        for (i, e) in kb.entries.iter().enumerate() {
            let slot = &mut positions.entry(e.id.clone()).or_default()[lang_slot(e.lang)];
            // The first entry of an id and language wins, as in `KnowledgeBase::entry`.
            slot.get_or_insert(i as u32);
        }
        let answerer = Answerer {
            kb,
            index,
            referral_index,
            calibration,
            settings,
            positions,
            figures: Memo::new(FIGURES_REMEMBERED),
        };
        Ok((answerer, origin))
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

    /// The models in use (the knowledge folder's `calibration.toml`, or the bundled one).
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// The threshold in use: `answer.threshold` when set, else the calibrated one.
    pub fn threshold(&self) -> f32 {
        self.settings
            .threshold
            .unwrap_or(self.calibration.threshold)
    }

    /// Search the entries and the referrals for a cleaned question: everything the
    /// models need, before any model is applied.
    pub fn analyse(&self, cleaned: &str) -> Result<Analysis, SearchError> {
        let variety = self.index.analyzer().detect_variety(cleaned);
        let searched = self.index.search_shaped_as(cleaned, variety, CANDIDATES)?;
        // Words common among the entries ("kommune", "firma") do not make a referral.
        let referrals = match &self.referral_index {
            Some(index) => index.search_relative_to(cleaned, 2, &searched.query)?,
            None => Vec::new(),
        };
        let mut analysis = Analysis {
            candidates: searched.hits,
            shape: searched.shape,
            variety,
            referrals,
            query: searched.query,
            learned_none: None,
            phrasing_none: None,
        };
        features::fill_learned(&mut analysis, &self.calibration.associations, None);
        features::fill_phrasing(&mut analysis, &self.calibration.phrasing, cleaned);
        Ok(analysis)
    }

    /// How a cleaned question was scored, for advisers (`anbud ask --explain`): the
    /// question's language and shape, each candidate's figures and probability, the
    /// best referral and the decision.
    pub fn explain(&self, cleaned: &str) -> Result<serde_json::Value, SearchError> {
        let analysis = self.analyse(cleaned)?;
        let decision = self.decide(&analysis);
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        Ok(serde_json::json!({
            "language": analysis.variety.code(),
            "words": analysis.shape.words,
            "unknown_share": round(f64::from(analysis.shape.unknown_share)),
            "everyday_share": round(f64::from(analysis.shape.everyday_share)),
            "candidates": decision.ranked.iter().map(|r| serde_json::json!({
                "id": r.hit.id,
                "probability": round(f64::from(r.probability)),
                "rank_score": round(r.rank_score),
                "coverage": round(f64::from(r.hit.coverage)),
                "known_coverage": round(f64::from(r.hit.known_coverage)),
                "question_coverage": round(f64::from(r.hit.question_coverage)),
                "bm25": round(f64::from(r.hit.bm25)),
                "learned": r.hit.learned.map(|p| round(f64::from(p))),
                "phrasing": r.hit.phrasing.map(|p| round(f64::from(p))),
            })).collect::<Vec<_>>(),
            "learned_none": analysis.learned_none.map(|p| round(f64::from(p))),
            "phrasing_none": analysis.phrasing_none.map(|p| round(f64::from(p))),
            "referral": decision.referral.as_ref().map(|(id, p)| serde_json::json!({
                "id": id, "probability": round(f64::from(*p)),
            })),
            "passages": decision.ranked.first().and_then(|r| self.entry(&r.hit.id, analysis.variety.reply_lang())).map(|entry| {
                let coverage = self.index.passage_coverage(&analysis.query, &entry.id, entry.lang);
                passages(&entry.body_text()).iter().zip(coverage).map(|(p, c)| serde_json::json!({
                    "heading": p.heading,
                    "specific": round(f64::from(c.specific)),
                    "content": round(f64::from(c.content)),
                    "figure": targeted::has_figure(&format!("{}\n{}", p.heading.unwrap_or(""), p.text)),
                })).collect::<Vec<_>>()
            }),
            "threshold": round(f64::from(decision.threshold)),
            "learned_known": analysis.learned_known(),
            "referral_threshold": round(f64::from(self.calibration.referral_threshold)),
            "action": format!("{:?}", decision.action).to_lowercase(),
        }))
    }

    /// Apply the models in use to an analysis.
    pub fn decide(&self, analysis: &Analysis) -> Decision {
        decide(analysis, &self.calibration, self.settings.threshold)
    }

    fn candidate(&self, ranked: &Ranked, lang: Lang) -> Candidate {
        let title = self
            .entry(&ranked.hit.id, lang)
            .map(|e| e.title.clone())
            .unwrap_or_else(|| ranked.hit.id.clone());
        Candidate {
            id: ranked.hit.id.clone(),
            title,
            score: ranked.probability,
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
        let mut reply = Reply::empty(question);
        reply.truncated = truncated;
        if !cleaned.chars().any(char::is_alphanumeric) {
            reply.problem = Some(InputProblem::Empty);
            return Ok(reply);
        }
        let analysis = self.analyse(&cleaned)?;
        let lang = analysis.variety.reply_lang();
        reply.lang = lang;
        let decision = self.decide(&analysis);
        reply.candidates = decision
            .ranked
            .iter()
            .take(MAX_CANDIDATES)
            .map(|r| self.candidate(r, lang))
            .collect();
        let Some(best) = decision.ranked.first() else {
            return Ok(reply);
        };
        reply.score = best.probability;
        let threshold = decision.threshold;
        match decision.action {
            Action::Refer => {
                let id = decision.referral.as_ref().map(|(id, _)| id.as_str());
                reply.referral = id.and_then(|id| self.referral(id, lang));
                return Ok(reply);
            }
            Action::Abstain => {
                // Keep only candidates worth naming as "closest topics".
                let floor = threshold * 0.5;
                reply.candidates.retain(|c| c.score >= floor);
                return Ok(reply);
            }
            Action::Answer => {}
        }
        if let Some(second) = decision.ranked.get(1) {
            if lead(best.rank_score, Some(second.rank_score)) <= self.settings.tie_margin * 2.0
                && second.probability_as_first >= threshold
            {
                reply.tied_with = Some(self.candidate(second, lang));
            }
        }
        // Its body in memory: choosing the passage and rendering the reply each read it.
        let entry = self
            .entry(&best.hit.id, lang)
            .cloned()
            .map(Entry::with_body_held);
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
        if let Some(entry) = &entry {
            let coverage = self
                .index
                .passage_coverage(&analysis.query, &entry.id, entry.lang);
            reply.passage = targeted::choose_with(
                &passages(&entry.body_text()),
                &coverage,
                targeted::Asks::of(&cleaned),
                &|text| self.figures.get_or_compute(text, targeted::has_figure),
            );
        }
        reply.entry = entry;
        Ok(reply)
    }

    /// The referral `id` in `lang` (or the other language), as shown to users.
    fn referral(&self, id: &str, lang: Lang) -> Option<Referred> {
        let entry = self
            .kb
            .referrals
            .iter()
            .find(|r| r.id == id && r.lang == lang)
            .or_else(|| self.kb.referrals.iter().find(|r| r.id == id))?;
        Some(Referred {
            id: entry.id.clone(),
            name: entry.title.clone(),
            url: entry
                .sources
                .first()
                .map(|s| s.url.to_string())
                .unwrap_or_default(),
            text: entry.body_text().trim().to_string(),
        })
    }
}

/// What to do with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Answer,
    Refer,
    Abstain,
}

/// A candidate entry after the rank model, with its answer probability.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub hit: Hit,
    /// The rank model's score (only comparable within one question).
    pub rank_score: f64,
    /// The probability that this candidate answers the question, were it given: the
    /// first candidate's is the reply's confidence.
    pub probability: f32,
    /// The probability it would have with the candidates above it left out (for "did
    /// you mean A or B?").
    pub probability_as_first: f32,
}

/// The models applied to one question.
#[derive(Debug, Clone)]
pub struct Decision {
    /// Candidates, best first.
    pub ranked: Vec<Ranked>,
    /// The best referral and its probability, when one matches at all.
    pub referral: Option<(String, f32)>,
    pub action: Action,
    /// The answer threshold that applied.
    pub threshold: f32,
}

/// Order the candidates with the rank model, compute each one's answer probability, and
/// the best referral's probability; decide.
/// `threshold`: the answer threshold when the settings fix one (else the calibrated one
/// of the models that apply).
pub fn decide(analysis: &Analysis, calibration: &Calibration, threshold: Option<f32>) -> Decision {
    let (answer, calibrated) = calibration.answer_model_for(analysis.learned_known());
    let threshold = threshold.unwrap_or(calibrated);
    let mut ranked: Vec<(Hit, f64)> = analysis
        .candidates
        .iter()
        .enumerate()
        .map(|(i, hit)| {
            let score = calibration
                .rank
                .linear(&features::rank(&analysis.candidates, i));
            (hit.clone(), score)
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
    let scores: Vec<f64> = ranked.iter().map(|(_, s)| *s).collect();
    let ranked: Vec<Ranked> = ranked
        .iter()
        .enumerate()
        .map(|(i, (hit, score))| {
            let as_first = |next: Option<usize>| {
                let lead = lead(*score, next.and_then(|n| scores.get(n).copied()));
                let runner_up = next.and_then(|n| ranked.get(n)).map(|(h, _)| h);
                let x = features::answer(analysis, hit, lead, runner_up);
                (answer.probability(&x), lead)
            };
            // As ranked: led by the next one down. As if first: the next one down too,
            // but for the second candidate, the third (the first would be the runner-up).
            let (probability, _) = as_first(Some(i + 1));
            let next = if i == 1 { Some(2) } else { Some(i + 1) };
            let (probability_as_first, _) = as_first(next);
            Ranked {
                hit: hit.clone(),
                rank_score: *score,
                probability,
                probability_as_first,
            }
        })
        .collect();
    let best = ranked.first();
    let answer_probability = best.map_or(0.0, |r| r.probability);
    let referral =
        features::referral(analysis, best.map(|r| &r.hit), answer_probability).and_then(|x| {
            let id = analysis.referrals.first()?.id.clone();
            Some((id, calibration.referral.probability(&x)))
        });
    let refer = referral
        .as_ref()
        .is_some_and(|(_, p)| *p >= calibration.referral_threshold && *p > answer_probability);
    let action = if refer {
        Action::Refer
    } else if best.is_some() && answer_probability >= threshold {
        Action::Answer
    } else {
        Action::Abstain
    };
    Decision {
        ranked,
        referral,
        action,
        threshold,
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
    use crate::knowledge::TextList;

    #[test]
    fn entry_lookup_matches_the_knowledge_base() {
        let entry = |id: &str, lang| Entry {
            id: id.into(),
            lang,
            title: format!("{id} {lang}"),
            questions: TextList::new(),
            keywords: TextList::new(),
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
            ..Default::default()
        };
        let answerer = Answerer::new(kb.clone(), AnswerSettings::default()).unwrap();
        for id in ["a", "b", "c", "missing"] {
            for lang in [Lang::Nb, Lang::En] {
                assert_eq!(answerer.entry(id, lang), kb.entry(id, lang), "{id} {lang}");
            }
        }
    }

    /// A knowledge base whose entries the learned figures do not know (a synthetic one:
    /// the bundled topics recombined under new ids) is answered by the answer model
    /// fitted without those figures, and its out-of-scope questions are still left
    /// unanswered: the model fitted beside the learned figures reads their absence as
    /// "surely about procurement" and answered most of them.
    #[test]
    fn entries_the_learned_figures_do_not_know_get_the_unlearned_answer_model() {
        let synthetic = crate::synth::generate(
            &crate::synth::bundled(),
            crate::synth::SynthOptions {
                entries: 300,
                seed: 5,
                questions: 600,
            },
        )
        .unwrap();
        let answerer = Answerer::new(synthetic.kb, AnswerSettings::default()).unwrap();
        let unlearned = answerer
            .calibration()
            .unlearned
            .clone()
            .expect("the bundled calibration has the unlearned answer model");
        let (mut outside, mut left, mut inside, mut right) = (0, 0, 0, 0);
        for question in &synthetic.questions {
            let analysis = answerer.analyse(&clean_question(&question.text)).unwrap();
            assert!(!analysis.learned_known(), "{}", question.text);
            let decision = answerer.decide(&analysis);
            assert_eq!(decision.threshold, unlearned.threshold);
            let answered =
                (decision.action == Action::Answer).then(|| decision.ranked[0].hit.id.clone());
            match &question.expected {
                None => {
                    outside += 1;
                    left += usize::from(answered.is_none());
                }
                Some(id) => {
                    inside += 1;
                    right += usize::from(answered.as_ref() == Some(id));
                }
            }
        }
        let (left, right) = (left as f64 / outside as f64, right as f64 / inside as f64);
        assert!(
            left >= 0.9,
            "out of scope left unanswered: {left:.3} of {outside}"
        );
        assert!(
            right >= 0.85,
            "in scope answered rightly: {right:.3} of {inside}"
        );
    }

    #[test]
    fn mentions_and_links_are_not_part_of_the_question() {
        assert_eq!(
            clean_question("<@123> hva er <#456> @everyone https://x.no/a?b"),
            "hva er"
        );
        assert_eq!(clean_question("<@&99>"), "");
    }

    #[test]
    fn html_pasted_into_a_question_is_not_searched() {
        assert_eq!(
            clean_question(
                "<script>alert('x')</script> <img src=x onerror=alert(1)> hva med været?"
            ),
            "hva med været?"
        );
        // A comparison is not a tag.
        assert_eq!(clean_question("beløp < 100 000 kr"), "beløp < 100 000 kr");
    }
}
