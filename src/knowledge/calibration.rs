//! `calibration.toml`: the fitted weights of the answering core's three small models.
//!
//! - `rank` orders the candidate entries of a question (a weighted sum of their match
//!   figures, see [`RANK_FEATURES`]);
//! - `answer` gives the probability that the first candidate answers the question
//!   (logistic, [`ANSWER_FEATURES`]); below its `threshold` the bot does not answer;
//! - `referral` gives the probability that the question belongs to the best-matching
//!   public service of `referrals/` (logistic, [`REFERRAL_FEATURES`]).
//!
//! `anbud kb calibrate` writes the file: it fits the weights on the labelled `train`
//! questions and chooses the thresholds on the `dev` questions. The file is reviewed in
//! git like the entries; a folder without one uses the bundled file.
//!
//! The rank and answer models lean on the learned figures (`associations.tsv`,
//! `phrasing.tsv`), which know only the entries that were there at the last refit. The
//! rank model was fitted with some entries hidden from them, so it ranks entries they do
//! not know on the other figures. The answer model cannot: for a question none of whose
//! candidates they know (a knowledge folder with entries of its own, or one rewritten
//! since), `learned_none` and `phrasing_none` are missing, and read as 0 they say "surely
//! about procurement". Such questions get `[unlearned_answer]`: the answer model fitted on
//! the same questions with the learned figures left out, with a threshold of its own.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, LazyLock};

use serde::Deserialize;

use super::associations::Associations;
use super::lint::{read_if_there, Problem};
use super::phrasing::Phrasing;

/// The figures a candidate entry is ranked on, in the order of a weight vector.
pub const RANK_FEATURES: &[&str] = &[
    // BM25 of the entry relative to the best candidate's.
    "relative_bm25",
    // Its best example question's BM25 relative to the best of any candidate.
    "relative_question_bm25",
    // Its own text's BM25 relative to the best of any candidate.
    "relative_text_bm25",
    // Share of the question's weighted content the entry covers (unknown words count
    // against it), of the known content, and by its best example question alone.
    "coverage",
    "known_coverage",
    "question_coverage",
    // Share of the known content its best passage (lead or `###` section) covers.
    "passage_coverage",
    // How likely questions with these words belong to the entry, among the candidates
    // (`associations.tsv`; 0 when it does not know the entry), and 1 when it does not.
    "learned",
    "learned_missing",
    // The same on a log scale (0 when it does not know the entry): in the softmax over
    // the candidates that the rank model is fitted as, a weight on it raises the
    // learned probability to a power, as a product of experts would.
    "learned_log",
    // How likely the question belongs to the entry by its character 4-grams, among the
    // candidates (`phrasing.tsv`; 0 when it does not know the entry), and its log.
    "phrasing",
    "phrasing_log",
];

/// The figures the answer probability is computed from, in the order of a weight vector.
pub const ANSWER_FEATURES: &[&str] = &[
    "known_coverage",
    "question_coverage",
    "coverage",
    "passage_coverage",
    // Share of the question's weight the knowledge base does not know at all.
    "unknown_share",
    // The rank model's lead over the next candidate (0 to 1).
    "margin",
    // The next candidate's coverage of the known content.
    "runner_up_coverage",
    // Share of the question's words that are everyday words or fillers.
    "everyday_share",
    // ln(1 + content words): long questions carry context words nobody covers.
    "length",
    // unknown_share × length: unknown words weigh less in a long question.
    "unknown_in_long",
    // The question's language: 1 or 0 each (Bokmål is none of them).
    "english",
    "nynorsk",
    "swedish",
    // How well the best public service of `referrals/` matches, and how much better
    // than the entry.
    "referral_coverage",
    "referral_lead",
    // The entry's `learned` figure and whether it is missing (as for ranking), and how
    // likely the question belongs to none of the entries (0 when no candidate is known).
    "learned",
    "learned_missing",
    "learned_none",
    // The entry's `phrasing` figure, and how likely the question belongs to none of the
    // entries by its 4-grams (0 when no candidate is known).
    "phrasing",
    "phrasing_none",
];

/// The figures the referral probability is computed from, in the order of a weight vector.
pub const REFERRAL_FEATURES: &[&str] = &[
    // The best referral's coverage of the question (unknown words count against it), of
    // the known content, and by its best example phrasing alone.
    "coverage",
    "known_coverage",
    "question_coverage",
    // Its lead over the next referral's coverage.
    "margin",
    // The best entry's coverage of the known content, and the answer probability.
    "entry_coverage",
    "answer_probability",
    // (No question length: a long question is not more likely to be a referral.)
    "english",
    "nynorsk",
    "swedish",
];

/// One fitted model: `bias + Σ weight · feature`.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub bias: f64,
    /// One weight per feature, in the order of the model's feature list; a feature the
    /// file does not name (added since it was fitted) weighs nothing.
    pub weights: Vec<f64>,
}

impl Model {
    /// A model that weighs nothing.
    pub fn zero(features: usize) -> Model {
        Model {
            bias: 0.0,
            weights: vec![0.0; features],
        }
    }

    /// `bias + Σ weight · feature`.
    pub fn linear(&self, features: &[f32]) -> f64 {
        self.bias
            + self
                .weights
                .iter()
                .zip(features)
                .map(|(w, x)| w * f64::from(*x))
                .sum::<f64>()
    }

    /// The logistic of [`Model::linear`]: a probability.
    pub fn probability(&self, features: &[f32]) -> f32 {
        (1.0 / (1.0 + (-self.linear(features)).exp())) as f32
    }
}

/// The answer model fitted without the learned figures, with its own threshold: used for
/// questions none of whose candidates the learned figures know.
#[derive(Debug, Clone, PartialEq)]
pub struct Unlearned {
    pub answer: Model,
    pub threshold: f32,
}

/// The three models and the two thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub rank: Model,
    pub answer: Model,
    /// Answer when the answer probability is at least this.
    pub threshold: f32,
    /// The answer model for questions the learned figures know nothing of (`None` in a
    /// file written before it was fitted: the model above serves).
    pub unlearned: Option<Unlearned>,
    pub referral: Model,
    /// Refer when the referral probability is at least this (and above the answer's).
    pub referral_threshold: f32,
    /// The comment lines at the top of the file (what it was fitted on, and when).
    pub header: Vec<String>,
    /// The words people use for each entry (`associations.tsv` beside the file; empty
    /// when there is none).
    pub associations: Arc<Associations>,
    /// How people phrase questions about each entry (`phrasing.tsv` beside the file;
    /// empty when there is none).
    pub phrasing: Arc<Phrasing>,
}

/// The calibration shipped in `knowledge/calibration.toml`, for knowledge folders
/// without one.
pub static BUNDLED: LazyLock<Calibration> = LazyLock::new(|| {
    let mut calibration = Calibration::parse(include_str!("../../knowledge/calibration.toml"))
        .expect("the bundled calibration.toml is valid (a test checks it)");
    calibration.associations = Arc::new(
        Associations::parse(include_str!("../../knowledge/associations.tsv"))
            .expect("the bundled associations.tsv is valid (a test checks it)"),
    );
    calibration.phrasing = Arc::new(
        Phrasing::parse(include_str!("../../knowledge/phrasing.tsv"))
            .expect("the bundled phrasing.tsv is valid (a test checks it)"),
    );
    calibration
});

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    rank: RawModel,
    answer: RawModel,
    referral: RawModel,
    unlearned_answer: Option<RawModel>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    threshold: Option<f64>,
    bias: f64,
    weights: BTreeMap<String, f64>,
}

impl Calibration {
    /// Read the file's text; every problem is a message.
    pub fn parse(text: &str) -> Result<Calibration, Vec<String>> {
        let raw: RawFile = toml::from_str(text).map_err(|e| vec![e.message().to_string()])?;
        let mut problems = Vec::new();
        let mut model = |name: &str, raw: &RawModel, features: &[&str], threshold: bool| {
            let mut weights = vec![0.0; features.len()];
            for (key, value) in &raw.weights {
                match features.iter().position(|f| f == key) {
                    Some(i) => weights[i] = *value,
                    None => problems.push(format!(
                        "[{name}.weights]: unknown feature {key:?} (known: {})",
                        features.join(", ")
                    )),
                }
                if !value.is_finite() {
                    problems.push(format!("[{name}.weights]: {key} is not a finite number"));
                }
            }
            if !raw.bias.is_finite() {
                problems.push(format!("[{name}]: bias is not a finite number"));
            }
            match (threshold, raw.threshold) {
                (true, None) => problems.push(format!("[{name}]: missing threshold")),
                (true, Some(t)) if !(0.0..=1.0).contains(&t) => {
                    problems.push(format!("[{name}]: threshold {t} is not between 0 and 1"))
                }
                (false, Some(_)) => problems.push(format!("[{name}]: has no threshold")),
                _ => {}
            }
            Model {
                bias: raw.bias,
                weights,
            }
        };
        let rank = model("rank", &raw.rank, RANK_FEATURES, false);
        let answer = model("answer", &raw.answer, ANSWER_FEATURES, true);
        let referral = model("referral", &raw.referral, REFERRAL_FEATURES, true);
        let unlearned = raw.unlearned_answer.as_ref().map(|answer| Unlearned {
            answer: model("unlearned_answer", answer, ANSWER_FEATURES, true),
            threshold: answer.threshold.unwrap_or(0.5) as f32,
        });
        if !problems.is_empty() {
            return Err(problems);
        }
        let header = text
            .lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim().to_string())
            .collect();
        Ok(Calibration {
            rank,
            answer,
            threshold: raw.answer.threshold.unwrap_or(0.5) as f32,
            unlearned,
            referral,
            referral_threshold: raw.referral.threshold.unwrap_or(0.5) as f32,
            header,
            associations: Arc::default(),
            phrasing: Arc::default(),
        })
    }

    /// Read `calibration.toml` from a knowledge folder: `None` when there is none,
    /// problems as `path:1: message`.
    pub(crate) fn load(dir: &Path, problems: &mut Vec<Problem>) -> Option<Calibration> {
        let path = dir.join("calibration.toml");
        let text = read_if_there(&path, problems)?;
        match Calibration::parse(&text) {
            Ok(mut c) => {
                if let Some(associations) = Associations::load(dir, problems) {
                    c.associations = Arc::new(associations);
                }
                if let Some(phrasing) = Phrasing::load(dir, problems) {
                    c.phrasing = Arc::new(phrasing);
                }
                Some(c)
            }
            Err(messages) => {
                for m in messages {
                    problems.push(Problem::error(&path, 1, m));
                }
                None
            }
        }
    }

    /// The file's text; [`Calibration::parse`] reads it back unchanged. Weights are
    /// written with seven significant digits, so a refit on the same data writes the same
    /// file.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            out.push_str(format!("# {line}").trim_end());
            out.push('\n');
        }
        let mut section = |name: &str, model: &Model, features: &[&str], threshold: Option<f32>| {
            out.push_str(&format!("\n[{name}]\n"));
            if let Some(t) = threshold {
                out.push_str(&format!("threshold = {}\n", number(f64::from(t))));
            }
            out.push_str(&format!(
                "bias = {}\n\n[{name}.weights]\n",
                number(model.bias)
            ));
            for (feature, weight) in features.iter().zip(&model.weights) {
                out.push_str(&format!("{feature} = {}\n", number(*weight)));
            }
        };
        section("rank", &self.rank, RANK_FEATURES, None);
        section(
            "answer",
            &self.answer,
            ANSWER_FEATURES,
            Some(self.threshold),
        );
        section(
            "referral",
            &self.referral,
            REFERRAL_FEATURES,
            Some(self.referral_threshold),
        );
        if let Some(unlearned) = &self.unlearned {
            section(
                "unlearned_answer",
                &unlearned.answer,
                ANSWER_FEATURES,
                Some(unlearned.threshold),
            );
        }
        out
    }

    /// The answer model and its threshold for a question: the [`Unlearned`] ones when
    /// the learned figures know none of its candidates (`learned_known` false) and the
    /// file has them.
    pub fn answer_model_for(&self, learned_known: bool) -> (&Model, f32) {
        match &self.unlearned {
            Some(u) if !learned_known => (&u.answer, u.threshold),
            _ => (&self.answer, self.threshold),
        }
    }
}

/// A number with seven significant digits, always with a decimal point (TOML float).
fn number(x: f64) -> String {
    let text = format!("{:.6e}", x);
    let value: f64 = text.parse().unwrap_or(0.0);
    let mut plain = format!("{value}");
    if !plain.contains('.') && !plain.contains('e') && !plain.contains("inf") {
        plain.push_str(".0");
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_file_is_valid_and_round_trips() {
        let text = include_str!("../../knowledge/calibration.toml");
        let parsed = Calibration::parse(text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(Calibration::parse(&parsed.to_text()).unwrap(), parsed);
        assert_eq!(
            parsed.to_text(),
            text,
            "the file is as `kb calibrate` writes it"
        );
    }

    #[test]
    fn unknown_features_are_reported_and_missing_ones_weigh_nothing() {
        let mut text = BUNDLED.to_text().replace("margin =", "lead =");
        text = text.replacen("[rank]\n", "[rank]\nthreshold = 0.5\n", 1);
        let problems = Calibration::parse(&text).unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("unknown feature \"lead\"")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("[rank]: has no threshold")),
            "{problems:?}"
        );
    }

    #[test]
    fn the_unlearned_answer_model_serves_only_questions_the_learned_figures_do_not_know() {
        let bundled = BUNDLED.clone();
        let unlearned = bundled.unlearned.clone().expect("the bundled file has one");
        assert_ne!(unlearned.answer, bundled.answer);
        assert_eq!(
            bundled.answer_model_for(false),
            (&unlearned.answer, unlearned.threshold)
        );
        assert_eq!(
            bundled.answer_model_for(true),
            (&bundled.answer, bundled.threshold)
        );
        // A file written before the section existed still reads; the one model serves.
        let text = bundled.to_text();
        let older = &text[..text.find("\n[unlearned_answer]").unwrap()];
        let parsed = Calibration::parse(older).unwrap();
        assert_eq!(parsed.unlearned, None);
        assert_eq!(
            parsed.answer_model_for(false),
            (&bundled.answer, bundled.threshold)
        );
    }

    /// The comment lines at the top of a written file, as its writer takes them.
    fn header_of(text: &str) -> Vec<String> {
        text.lines()
            .take_while(|l| l.starts_with('#'))
            .map(|l| l.trim_start_matches('#').trim().to_string())
            .collect()
    }

    #[test]
    fn the_bundled_associations_are_valid_and_round_trip() {
        assert!(BUNDLED
            .associations
            .has_class(super::super::associations::NONE));
        let text = include_str!("../../knowledge/associations.tsv");
        let header = header_of(text);
        assert_eq!(
            BUNDLED.associations.to_text(&header),
            text,
            "the file is as `kb calibrate` writes it"
        );
    }

    #[test]
    fn the_bundled_phrasing_model_is_valid_and_round_trips() {
        assert!(BUNDLED.phrasing.has_class(super::super::associations::NONE));
        let text = include_str!("../../knowledge/phrasing.tsv");
        let header = header_of(text);
        assert_eq!(
            BUNDLED.phrasing.to_text(&header),
            text,
            "the file is as `kb calibrate` writes it"
        );
    }

    #[test]
    fn numbers_keep_seven_digits() {
        assert_eq!(number(1.0), "1.0");
        assert_eq!(number(-0.123456789), "-0.1234568");
        assert_eq!(number(12345678.0), "12345680.0");
    }
}
