//! The figures the calibrated models look at, in the order of their weight vectors
//! ([`crate::knowledge::calibration`]). Every figure is a share or a small count that
//! means the same for any question; none is tied to a particular question or entry.

use crate::knowledge::associations::{Associations, LeaveOut, Word, NONE};
use crate::knowledge::calibration::{ANSWER_FEATURES, RANK_FEATURES, REFERRAL_FEATURES};
use crate::knowledge::phrasing::Phrasing;
use crate::search::{Hit, Query, QuestionShape, Variety};

/// What the models look at for one question: the candidates from the index, the
/// question's shape and language, and the best-matching referrals.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Candidate entries, in the index's order (at most [`super::CANDIDATES`]).
    pub candidates: Vec<Hit>,
    pub shape: QuestionShape,
    pub variety: Variety,
    /// Candidate referrals (public services), best first, at most two.
    pub referrals: Vec<Hit>,
    /// The question as the entries' index analysed it (for choosing a passage).
    pub query: Query,
    /// How likely the question belongs to none of the entries, by the learned word
    /// associations (`None` when they know none of the candidates).
    pub learned_none: Option<f32>,
    /// How likely the question belongs to none of the entries by its phrasing
    /// (`None` when the model knows none of the candidates).
    pub phrasing_none: Option<f32>,
}

impl Analysis {
    /// Whether the learned figures (word associations or phrasing) know any of the
    /// candidates: when not, the models fitted without them apply
    /// ([`crate::knowledge::calibration::Unlearned`]).
    pub fn learned_known(&self) -> bool {
        self.learned_none.is_some() || self.phrasing_none.is_some()
    }

    /// The analysis as it would be without any learned figure: what the models of
    /// [`crate::knowledge::calibration::Unlearned`] are fitted on.
    pub fn without_learned(&self) -> Analysis {
        let mut analysis = self.clone();
        for hit in &mut analysis.candidates {
            hit.learned = None;
            hit.phrasing = None;
        }
        analysis.learned_none = None;
        analysis.phrasing_none = None;
        analysis
    }
}

/// The learned figure of a hit and whether it is missing.
fn learned(hit: &Hit) -> [f32; 2] {
    match hit.learned {
        Some(p) => [p, 0.0],
        None => [0.0, 1.0],
    }
}

/// The question's words as the association counts take them: each word's analysed
/// terms, sharing its one count by the weight of their kind (the word itself, a compound
/// part, a synonym, a typo's correction).
pub fn words(query: &Query) -> Vec<Word> {
    query
        .words()
        .iter()
        .filter(|w| !w.alternatives.is_empty())
        .map(|w| {
            let total: f32 = w.alternatives.iter().map(|(_, v)| v.weight()).sum();
            w.alternatives
                .iter()
                .map(|(t, v)| (t.clone(), f64::from(v.weight() / total)))
                .collect()
        })
        .collect()
}

/// Put the learned figures into the candidates (and [`Analysis::learned_none`]).
pub fn fill_learned(
    analysis: &mut Analysis,
    associations: &Associations,
    leave_out: Option<LeaveOut<'_>>,
) {
    // No figure for any candidate the counts do not know (as `posteriors` gives): the
    // question's words, a copy of every term, are built only when one is known.
    if !analysis
        .candidates
        .iter()
        .any(|h| h.id != NONE && associations.has_class(&h.id))
    {
        for hit in &mut analysis.candidates {
            hit.learned = None;
        }
        analysis.learned_none = None;
        return;
    }
    let words = words(&analysis.query);
    let ids: Vec<&str> = analysis.candidates.iter().map(|h| h.id.as_str()).collect();
    let (posteriors, none) = associations.posteriors(&words, &ids, leave_out);
    for (hit, p) in analysis.candidates.iter_mut().zip(posteriors) {
        hit.learned = p;
    }
    analysis.learned_none = none;
}

/// Put the phrasing model's figures into the candidates (and
/// [`Analysis::phrasing_none`]); `cleaned` is the question the analysis is of.
pub fn fill_phrasing(analysis: &mut Analysis, phrasing: &Phrasing, cleaned: &str) {
    let ids: Vec<&str> = analysis.candidates.iter().map(|h| h.id.as_str()).collect();
    let (posteriors, none) = phrasing.posteriors(cleaned, &ids);
    for (hit, p) in analysis.candidates.iter_mut().zip(posteriors) {
        hit.phrasing = p;
    }
    analysis.phrasing_none = none;
}

/// A candidate's figures for the rank model.
pub fn rank(candidates: &[Hit], i: usize) -> [f32; RANK_FEATURES.len()] {
    let best = |f: fn(&Hit) -> f32| candidates.iter().map(f).fold(f32::EPSILON, f32::max);
    let hit = &candidates[i];
    [
        hit.bm25 / best(|h| h.bm25),
        hit.question_bm25 / best(|h| h.question_bm25),
        hit.text_bm25 / best(|h| h.text_bm25),
        hit.coverage,
        hit.known_coverage,
        hit.question_coverage,
        hit.passage_coverage,
        learned(hit)[0],
        learned(hit)[1],
        hit.learned.map_or(0.0, |p| p.max(LEARNED_FLOOR).ln()),
        hit.phrasing.unwrap_or(0.0),
        hit.phrasing.map_or(0.0, |p| p.max(LEARNED_FLOOR).ln()),
    ]
}

/// The smallest learned probability the log takes: a candidate the counts find
/// all but impossible is not pushed out by a figure without end.
const LEARNED_FLOOR: f32 = 1e-4;

/// A lead in rank score as a share: 0 for none, towards 1 for a clear one.
pub fn lead(first: f64, second: Option<f64>) -> f32 {
    match second {
        Some(second) => (1.0 - (-(first - second).max(0.0)).exp()) as f32,
        None => 1.0,
    }
}

fn language(variety: Variety) -> [f32; 3] {
    [
        f32::from(u8::from(variety == Variety::En)),
        f32::from(u8::from(variety == Variety::Nn)),
        f32::from(u8::from(variety == Variety::Sv)),
    ]
}

/// ln(1 + content words).
fn length(shape: &QuestionShape) -> f32 {
    (1.0 + shape.words as f32).ln()
}

/// The figures of `hit` as the answer: `lead` is its rank-score lead over the next
/// candidate, `runner_up` the next candidate (if any).
pub fn answer(
    analysis: &Analysis,
    hit: &Hit,
    lead: f32,
    runner_up: Option<&Hit>,
) -> [f32; ANSWER_FEATURES.len()] {
    let shape = &analysis.shape;
    let referral = analysis.referrals.first().map_or(0.0, |r| r.coverage);
    let [english, nynorsk, swedish] = language(analysis.variety);
    [
        hit.known_coverage,
        hit.question_coverage,
        hit.coverage,
        hit.passage_coverage,
        shape.unknown_share,
        lead,
        runner_up.map_or(0.0, |h| h.known_coverage),
        shape.everyday_share,
        length(shape),
        shape.unknown_share * length(shape),
        english,
        nynorsk,
        swedish,
        referral,
        referral - hit.coverage,
        learned(hit)[0],
        learned(hit)[1],
        analysis.learned_none.unwrap_or(0.0),
        hit.phrasing.unwrap_or(0.0),
        analysis.phrasing_none.unwrap_or(0.0),
    ]
}

/// The figures of the best referral; `None` when no referral matches at all.
pub fn referral(
    analysis: &Analysis,
    entry: Option<&Hit>,
    answer_probability: f32,
) -> Option<[f32; REFERRAL_FEATURES.len()]> {
    let best = analysis.referrals.first()?;
    let next = analysis.referrals.get(1).map_or(0.0, |r| r.coverage);
    let [english, nynorsk, swedish] = language(analysis.variety);
    Some([
        best.coverage,
        best.known_coverage,
        best.question_coverage,
        (best.coverage - next).max(0.0),
        entry.map_or(0.0, |h| h.known_coverage),
        answer_probability,
        english,
        nynorsk,
        swedish,
    ])
}
