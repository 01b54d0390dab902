//! `associations.tsv`: the words people use when they ask about each entry, counted
//! from the labelled `train` questions (and, under [`NONE`], the words of questions
//! that are not about procurement at all).
//!
//! The index knows an entry by its own text and example questions; people ask in
//! their own words ("get on the radar of the council's buyers" for positioning before
//! tenders). These counts let the answering core ask "which entry do questions with
//! these words usually belong to?" (a smoothed naive Bayes over the candidates), one
//! figure among the others the calibrated models weigh. `anbud kb calibrate` writes the
//! file together with `calibration.toml`; a folder without one (or an entry it does not
//! name, such as one an adviser just taught) simply has no such figure, and the models
//! were fitted to do without it (see `quality::fit`).
//!
//! Format: comment lines starting with `#`, then one `class<TAB>term<TAB>count` per line,
//! where class is an entry id or `-`, term an analysed term (as the index's analysis
//! gives it) and count a non-negative number (a word with several analyses shares one
//! count among them).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use super::lint::{parse_if_there, Problem};

/// The class of questions that are not about procurement.
pub const NONE: &str = "-";

/// Dirichlet smoothing towards the counts of all classes: how many pseudo-words of the
/// background a class's own counts are mixed with.
const SMOOTHING: f64 = 8.0;

/// Term counts of one class (or of one question).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub total: f64,
    pub terms: HashMap<String, f64>,
}

impl Counts {
    pub fn add(&mut self, term: &str, n: f64) {
        *self.terms.entry(term.to_string()).or_default() += n;
        self.total += n;
    }

    fn count(&self, term: &str) -> f64 {
        self.terms.get(term).copied().unwrap_or(0.0)
    }
}

/// One word of a question: its analysed terms, each with its share (summing to 1).
pub type Word = Vec<(String, f64)>;

/// The counts of every class, and of all classes together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Associations {
    classes: BTreeMap<String, Counts>,
    background: Counts,
}

/// A question's own counts and class, left out of the counts while it is scored
/// (fitting scores each training question as if it had not been counted).
#[derive(Debug, Clone, Copy)]
pub struct LeaveOut<'a> {
    pub class: &'a str,
    pub counts: &'a Counts,
}

impl Associations {
    /// Count the words of labelled questions: `(class, words)` pairs.
    pub fn count<'a>(questions: impl IntoIterator<Item = (&'a str, &'a [Word])>) -> Associations {
        let mut out = Associations::default();
        for (class, words) in questions {
            let counts = out.classes.entry(class.to_string()).or_default();
            for word in words {
                for (term, share) in word {
                    counts.add(term, *share);
                    out.background.add(term, *share);
                }
            }
        }
        out
    }

    /// A question's words as counts (what [`LeaveOut`] subtracts).
    pub fn question_counts(words: &[Word]) -> Counts {
        let mut counts = Counts::default();
        for word in words {
            for (term, share) in word {
                counts.add(term, *share);
            }
        }
        counts
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.classes.contains_key(class)
    }

    /// The same counts without the classes `drop` names.
    pub fn without(&self, drop: impl Fn(&str) -> bool) -> Associations {
        let kept = self
            .classes
            .iter()
            .filter(|(class, _)| !drop(class))
            .map(|(c, n)| (c.clone(), n.clone()));
        let mut out = Associations::default();
        for (class, counts) in kept {
            for (term, n) in &counts.terms {
                out.background.add(term, *n);
            }
            out.classes.insert(class, counts);
        }
        out
    }

    /// The posterior probability of each of `classes` (entry ids; `None` for one these
    /// counts do not know) and of [`NONE`], among those classes and [`NONE`] alone, for a
    /// question of `words`, with equal priors. Words no class has seen are left out;
    /// the log-likelihoods are divided by the square root of the words counted, so a
    /// long question does not make every posterior 0 or 1. `None` for [`NONE`] when no
    /// class is known.
    pub fn posteriors(
        &self,
        words: &[Word],
        classes: &[&str],
        leave_out: Option<LeaveOut<'_>>,
    ) -> (Vec<Option<f32>>, Option<f32>) {
        let known: Vec<(usize, &str)> = classes
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != NONE && self.classes.contains_key(**c))
            .map(|(i, c)| (i, *c))
            .collect();
        if known.is_empty() {
            return (vec![None; classes.len()], None);
        }
        let left_out = |class: &str, term: &str| match leave_out {
            Some(l) if l.class == class => l.counts.count(term),
            _ => 0.0,
        };
        let left_out_total = |class: &str| match leave_out {
            Some(l) if l.class == class => l.counts.total,
            _ => 0.0,
        };
        let own = leave_out.map_or(0.0, |l| l.counts.total);
        let background_total = (self.background.total - own).max(0.0);
        let vocabulary = self.background.terms.len() as f64 + 1.0;
        let background = |term: &str| {
            let n = (self.background.count(term) - leave_out.map_or(0.0, |l| l.counts.count(term)))
                .max(0.0);
            (n + 1.0) / (background_total + vocabulary)
        };
        let seen: Vec<&Word> = words
            .iter()
            .filter(|w| {
                w.iter().any(|(t, _)| {
                    self.background.count(t) - leave_out.map_or(0.0, |l| l.counts.count(t)) > 1e-9
                })
            })
            .collect();
        let scale = (seen.len().max(1) as f64).sqrt();
        let mut scored: Vec<&str> = known.iter().map(|(_, c)| *c).collect();
        scored.push(NONE);
        let log_likelihoods: Vec<f64> = scored
            .iter()
            .map(|class| {
                let counts = self.classes.get(*class);
                let total = counts.map_or(0.0, |c| c.total) - left_out_total(class);
                let p = |term: &str| {
                    let n = counts.map_or(0.0, |c| c.count(term)) - left_out(class, term);
                    (n.max(0.0) + SMOOTHING * background(term)) / (total.max(0.0) + SMOOTHING)
                };
                seen.iter()
                    .map(|w| w.iter().map(|(t, share)| share * p(t)).sum::<f64>().ln())
                    .sum::<f64>()
                    / scale
            })
            .collect();
        let max = log_likelihoods
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = log_likelihoods.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        let mut out = vec![None; classes.len()];
        for (k, (i, _)) in known.iter().enumerate() {
            out[*i] = Some((exp[k] / sum) as f32);
        }
        (out, Some((exp[exp.len() - 1] / sum) as f32))
    }

    /// Read the file's text; every problem is `(line, message)`.
    pub fn parse(text: &str) -> Result<Associations, Vec<(usize, String)>> {
        let mut out = Associations::default();
        let mut problems = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let [class, term, count] = fields[..] else {
                problems.push((i + 1, "expected class<TAB>term<TAB>count".to_string()));
                continue;
            };
            match count.parse::<f64>() {
                Ok(n) if n.is_finite() && n >= 0.0 && !class.is_empty() && !term.is_empty() => {
                    out.classes
                        .entry(class.to_string())
                        .or_default()
                        .add(term, n);
                    out.background.add(term, n);
                }
                _ => problems.push((
                    i + 1,
                    format!("not a count for {class:?} {term:?}: {count:?}"),
                )),
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(problems)
        }
    }

    /// The file's text, sorted, counts with three decimals: the same counts write the
    /// same file.
    pub fn to_text(&self, header: &[String]) -> String {
        let mut out = String::new();
        for line in header {
            let _ = writeln!(out, "# {line}");
        }
        for (class, counts) in &self.classes {
            let mut terms: Vec<(&String, &f64)> = counts.terms.iter().collect();
            terms.sort_by(|a, b| a.0.cmp(b.0));
            for (term, n) in terms {
                let _ = writeln!(out, "{class}\t{term}\t{}", decimal_text(*n, 3));
            }
        }
        out
    }

    /// Read `associations.tsv` from a knowledge folder: `None` when there is none,
    /// problems as `path:line: message`.
    pub(crate) fn load(dir: &Path, problems: &mut Vec<Problem>) -> Option<Associations> {
        parse_if_there(&dir.join("associations.tsv"), problems, Associations::parse)
    }
}

/// `n` with at most `decimals` decimals and no trailing zeros ("-0" is "0"): the
/// learned files' numbers, so the same model writes the same file.
pub(crate) fn decimal_text(n: f64, decimals: usize) -> String {
    let text = format!("{n:.decimals$}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Word> {
        text.split_whitespace()
            .map(|w| vec![(w.to_string(), 1.0)])
            .collect()
    }

    fn sample() -> (Associations, Vec<(&'static str, Vec<Word>)>) {
        let questions = vec![
            ("deadline", words("how long standstill period days")),
            ("deadline", words("standstill days complaint")),
            ("thresholds", words("threshold value amount kroner")),
            ("thresholds", words("what amount threshold national")),
            (NONE, words("vat rate tax")),
            (NONE, words("cheap flights spain")),
        ];
        let a = Associations::count(questions.iter().map(|(c, w)| (*c, w.as_slice())));
        (a, questions)
    }

    #[test]
    fn the_class_whose_questions_share_the_words_is_most_likely() {
        let (a, _) = sample();
        let (p, none) = a.posteriors(&words("standstill days"), &["thresholds", "deadline"], None);
        assert!(p[1].unwrap() > 0.6, "{p:?}");
        assert!(p[1].unwrap() > p[0].unwrap());
        let (_, none_for_tax) = a.posteriors(&words("tax rate"), &["thresholds", "deadline"], None);
        assert!(
            none_for_tax.unwrap() > none.unwrap(),
            "{none_for_tax:?} {none:?}"
        );
    }

    #[test]
    fn unknown_classes_have_no_figure_and_none_needs_a_known_one() {
        let (a, _) = sample();
        let (p, none) = a.posteriors(&words("standstill"), &["new-entry", "deadline"], None);
        assert!(p[0].is_none() && p[1].is_some());
        assert!(none.is_some());
        let (p, none) = a.posteriors(&words("standstill"), &["new-entry"], None);
        assert_eq!(p, vec![None]);
        assert!(none.is_none());
    }

    #[test]
    fn leaving_a_question_out_is_the_same_as_never_counting_it() {
        let (a, questions) = sample();
        let (class, own) = &questions[1];
        let counts = Associations::question_counts(own);
        let left_out = a.posteriors(
            own,
            &["thresholds", "deadline"],
            Some(LeaveOut {
                class,
                counts: &counts,
            }),
        );
        let without = Associations::count(
            questions
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 1)
                .map(|(_, (c, w))| (*c, w.as_slice())),
        );
        let never = without.posteriors(own, &["thresholds", "deadline"], None);
        for (x, y) in left_out.0.iter().zip(&never.0) {
            assert!(
                (x.unwrap() - y.unwrap()).abs() < 0.01,
                "{left_out:?} {never:?}"
            );
        }
        assert!((left_out.1.unwrap() - never.1.unwrap()).abs() < 0.01);
    }

    #[test]
    fn the_file_round_trips_and_bad_lines_are_reported() {
        let (a, _) = sample();
        let text = a.to_text(&["written by a test".to_string()]);
        assert!(text.starts_with("# written by a test\n"));
        assert_eq!(Associations::parse(&text).unwrap(), a);
        let problems = Associations::parse("deadline\tdays\n-\tvat\tmany\n").unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert_eq!(problems[0].0, 1);
        assert!(problems[1].1.contains("not a count"));
    }
}
