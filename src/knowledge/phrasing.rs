//! `phrasing.tsv`: how people phrase questions about each entry, learned from the
//! labelled `train` questions as a multinomial logistic regression over the character
//! 4-grams of a question's words.
//!
//! The word counts of [`super::associations`] see a question through the index's
//! analysis: a word the glossary does not know, a typo it does not correct, a Nynorsk
//! or Swedish ending it does not respell, is lost to them. Character 4-grams of the
//! folded words ("_anbu", "nbud", "kunn") meet such words halfway, and a discriminative
//! fit weighs the 4-grams that tell neighbouring entries apart, where the counts weigh
//! every word by how often it occurs. The answering core uses the model's probability
//! among the candidates as one more figure the calibrated models weigh.
//!
//! A question's vector: each distinct 4-gram of its folded words (a word padded with
//! `_` on both sides; a word shorter than that is one gram), weighted `1 + ln(count)`
//! times its inverse document frequency, scaled to unit length; 4-grams the training
//! questions never had are left out. A class's score is its bias plus the weights of
//! its 4-grams; weights exist only for 4-grams that occurred in questions of that class
//! (a 4-gram's evidence against a class comes from its weight for the others).
//!
//! Format: comment lines starting with `#`, then tab-separated lines of three kinds:
//! `idf<TAB>gram<TAB>value`, `bias<TAB>class<TAB>value` and
//! `weight<TAB>class<TAB>gram<TAB>value`, where class is an entry id or `-` (questions
//! that are not about procurement).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use super::associations::{decimal_text, NONE};
use super::lint::{parse_if_there, Problem};
use crate::search::analysis::{fold, words};

/// The length of the character n-grams.
const GRAM: usize = 4;

/// The L2 penalty's inverse strength: larger fits the training questions more closely.
/// Chosen on the dev split among 1, 3, 10 and 30 (in scope answered rightly 0.925,
/// 0.928, 0.928, 0.928; out of scope 0.962, 0.954, 0.969, 0.969).
const INVERSE_PENALTY: f64 = 10.0;

/// L-BFGS: steps at most, and the history it keeps.
const MAX_STEPS: usize = 400;
const HISTORY: usize = 10;

/// Weights whose size is below this are not written (they change no probability by
/// more than a rounding error). Dropping those below 0.05 or 0.2 saves only 7 % or 26 %
/// of the file's lines.
const SMALLEST_WEIGHT: f64 = 1e-3;

/// One 4-gram the model knows.
#[derive(Debug, Clone, Default, PartialEq)]
struct Gram {
    idf: f32,
    /// `(class, weight)`, by class index.
    weights: Vec<(u16, f32)>,
}

/// The fitted model.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Phrasing {
    classes: Vec<String>,
    class_index: HashMap<String, u16>,
    bias: Vec<f32>,
    grams: HashMap<String, Gram>,
}

/// A text's folded words, each padded with `_` and followed by a space: its 4-grams are
/// slices of this one string (no allocation per 4-gram while answering).
fn padded_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for word in words(text) {
        out.push('_');
        out.push_str(&fold(&word));
        out.push_str("_ ");
    }
    out
}

/// The distinct 4-grams of [`padded_words`], in byte order, each with how often it
/// occurs; a word shorter than a 4-gram is one gram.
fn gram_counts(padded: &str) -> Vec<(&str, u32)> {
    let mut grams: Vec<&str> = Vec::with_capacity(padded.len());
    let mut bounds: Vec<usize> = Vec::new();
    for word in padded.split_terminator(' ') {
        bounds.clear();
        bounds.extend(word.char_indices().map(|(i, _)| i));
        bounds.push(word.len());
        let chars = bounds.len() - 1;
        if chars <= GRAM {
            grams.push(word);
            continue;
        }
        for start in 0..=chars - GRAM {
            grams.push(&word[bounds[start]..bounds[start + GRAM]]);
        }
    }
    grams.sort_unstable();
    let mut out: Vec<(&str, u32)> = Vec::with_capacity(grams.len());
    for gram in grams {
        match out.last_mut() {
            Some((last, n)) if *last == gram => *n += 1,
            _ => out.push((gram, 1)),
        }
    }
    out
}

/// `1 + ln(count)` times the idf, scaled to unit length; grams `idf` does not know are
/// left out.
fn unit_vector<'a, T>(
    counts: impl IntoIterator<Item = (&'a str, u32)>,
    idf: impl Fn(&str) -> Option<(T, f32)>,
) -> Vec<(T, f32)> {
    let mut out: Vec<(T, f32)> = counts
        .into_iter()
        .filter_map(|(g, n)| idf(g).map(|(key, idf)| (key, (1.0 + (n as f32).ln()) * idf)))
        .collect();
    let norm = out.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, x) in &mut out {
            *x /= norm;
        }
    }
    out
}

impl Phrasing {
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    pub fn has_class(&self, class: &str) -> bool {
        self.class_index.contains_key(class)
    }

    /// The probability of each of `classes` (entry ids; `None` for one the model does
    /// not know) and of [`NONE`], among those classes and [`NONE`] alone. `None` for
    /// [`NONE`] when no class is known.
    pub fn posteriors(&self, text: &str, classes: &[&str]) -> (Vec<Option<f32>>, Option<f32>) {
        let known: Vec<(usize, u16)> = classes
            .iter()
            .enumerate()
            .filter(|(_, c)| **c != NONE)
            .filter_map(|(i, c)| self.class_index.get(*c).map(|k| (i, *k)))
            .collect();
        let Some(&none) = self.class_index.get(NONE).filter(|_| !known.is_empty()) else {
            return (vec![None; classes.len()], None);
        };
        let padded = padded_words(text);
        let vector = unit_vector(gram_counts(&padded), |g| {
            self.grams.get(g).map(|gram| (gram, gram.idf))
        });
        let mut scored: Vec<u16> = known.iter().map(|(_, k)| *k).collect();
        scored.push(none);
        let mut logits: Vec<f64> = scored
            .iter()
            .map(|k| f64::from(self.bias[*k as usize]))
            .collect();
        // Class index -> place in `scored`, for the weights' look-ups.
        let mut slot = vec![usize::MAX; self.classes.len()];
        for (j, k) in scored.iter().enumerate() {
            slot[usize::from(*k)] = j;
        }
        for (gram, x) in &vector {
            for (class, w) in &gram.weights {
                if let Some(logit) = logits.get_mut(slot[usize::from(*class)]) {
                    *logit += f64::from(w * x);
                }
            }
        }
        let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = logits.iter().map(|l| (l - max).exp()).collect();
        let sum: f64 = exp.iter().sum();
        let mut out = vec![None; classes.len()];
        for (j, (i, _)) in known.iter().enumerate() {
            out[*i] = Some((exp[j] / sum) as f32);
        }
        (out, Some((exp[exp.len() - 1] / sum) as f32))
    }

    /// Fit the model on labelled questions: `(class, question)` pairs, class an entry id
    /// or [`NONE`]. The same questions give the same model.
    pub fn fit<'a>(questions: impl IntoIterator<Item = (&'a str, &'a str)>) -> Phrasing {
        let questions: Vec<(&str, Vec<(String, u32)>)> = questions
            .into_iter()
            .map(|(c, q)| {
                let padded = padded_words(q);
                let grams = gram_counts(&padded)
                    .into_iter()
                    .map(|(g, n)| (g.to_string(), n))
                    .collect();
                (c, grams)
            })
            .collect();
        if questions.is_empty() {
            return Phrasing::default();
        }
        // Classes and grams in sorted order: the fit does not depend on the input order
        // beyond the questions' own.
        let class_names: Vec<String> = questions
            .iter()
            .map(|(c, _)| c.to_string())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let class_of: HashMap<&str, usize> = class_names
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let mut document_frequency: BTreeMap<&str, u32> = BTreeMap::new();
        for (_, grams) in &questions {
            for (g, _) in grams {
                *document_frequency.entry(g.as_str()).or_default() += 1;
            }
        }
        let n = questions.len() as f32;
        let gram_names: Vec<&str> = document_frequency.keys().copied().collect();
        let gram_of: HashMap<&str, (usize, f32)> = document_frequency
            .iter()
            .enumerate()
            .map(|(i, (g, df))| (*g, (i, ((1.0 + n) / (1.0 + *df as f32)).ln() + 1.0)))
            .collect();
        // The (gram, class) pairs that get a weight, numbered; the bias of class k is
        // parameter `pairs + k`.
        let mut pair_of: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        let rows: Vec<(usize, Vec<(usize, f32)>)> = questions
            .iter()
            .map(|(c, grams)| {
                let class = class_of[c];
                let vector = unit_vector(grams.iter().map(|(g, n)| (g.as_str(), *n)), |g| {
                    gram_of.get(g).copied()
                });
                for (g, _) in &vector {
                    pair_of.entry((*g, class)).or_default();
                }
                (class, vector)
            })
            .collect();
        for (i, p) in pair_of.values_mut().enumerate() {
            *p = i;
        }
        let mut pairs_of_gram: Vec<Vec<(usize, usize)>> = vec![Vec::new(); gram_names.len()];
        for ((g, class), p) in &pair_of {
            pairs_of_gram[*g].push((*class, *p));
        }
        let problem = Objective {
            rows: &rows,
            pairs_of_gram: &pairs_of_gram,
            classes: class_names.len(),
            pairs: pair_of.len(),
        };
        let theta = lbfgs(&problem, vec![0.0; pair_of.len() + class_names.len()]);
        let mut grams: HashMap<String, Gram> = HashMap::new();
        for (g, name) in gram_names.iter().enumerate() {
            let weights = pairs_of_gram[g]
                .iter()
                .filter(|(_, p)| theta[*p].abs() >= SMALLEST_WEIGHT)
                .map(|(class, p)| (*class as u16, theta[*p] as f32))
                .collect();
            grams.insert(
                name.to_string(),
                Gram {
                    idf: gram_of[name].1,
                    weights,
                },
            );
        }
        let bias = (0..class_names.len())
            .map(|k| theta[pair_of.len() + k] as f32)
            .collect();
        Phrasing::from_parts(class_names, bias, grams)
    }

    fn from_parts(classes: Vec<String>, bias: Vec<f32>, grams: HashMap<String, Gram>) -> Phrasing {
        let class_index = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i as u16))
            .collect();
        Phrasing {
            classes,
            class_index,
            bias,
            grams,
        }
    }

    /// Read the file's text; every problem is `(line, message)`.
    pub fn parse(text: &str) -> Result<Phrasing, Vec<(usize, String)>> {
        let mut classes: Vec<String> = Vec::new();
        let mut bias: Vec<f32> = Vec::new();
        let mut class_index: HashMap<String, u16> = HashMap::new();
        let mut grams: HashMap<String, Gram> = HashMap::new();
        let mut problems = Vec::new();
        let number = |s: &str| s.parse::<f32>().ok().filter(|x| x.is_finite());
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            match fields[..] {
                ["idf", gram, value] if !gram.is_empty() => match number(value) {
                    Some(x) if x > 0.0 => grams.entry(gram.to_string()).or_default().idf = x,
                    _ => problems.push((i + 1, format!("not an idf for {gram:?}: {value:?}"))),
                },
                ["bias", class, value] if !class.is_empty() => match number(value) {
                    Some(x) if !class_index.contains_key(class) => {
                        class_index.insert(class.to_string(), classes.len() as u16);
                        classes.push(class.to_string());
                        bias.push(x);
                    }
                    Some(_) => problems.push((i + 1, format!("a second bias for {class:?}"))),
                    None => problems.push((i + 1, format!("not a bias for {class:?}: {value:?}"))),
                },
                ["weight", class, gram, value] => match (class_index.get(class), number(value)) {
                    (Some(k), Some(x)) => grams
                        .entry(gram.to_string())
                        .or_default()
                        .weights
                        .push((*k, x)),
                    (None, _) => problems.push((
                        i + 1,
                        format!("a weight for {class:?} before its bias line"),
                    )),
                    (_, None) => problems.push((i + 1, format!("not a weight: {value:?}"))),
                },
                _ => problems.push((
                    i + 1,
                    "expected idf<TAB>gram<TAB>value, bias<TAB>class<TAB>value or \
                     weight<TAB>class<TAB>gram<TAB>value"
                        .to_string(),
                )),
            }
        }
        for (gram, g) in &grams {
            if g.idf <= 0.0 {
                problems.push((0, format!("a weight for {gram:?}, which has no idf line")));
            }
        }
        if problems.is_empty() {
            Ok(Phrasing::from_parts(classes, bias, grams))
        } else {
            Err(problems)
        }
    }

    /// The file's text, sorted, numbers with four decimals: the same model
    /// writes the same file.
    pub fn to_text(&self, header: &[String]) -> String {
        let mut out = String::new();
        for line in header {
            let _ = writeln!(out, "# {line}");
        }
        let mut order: Vec<usize> = (0..self.classes.len()).collect();
        order.sort_by(|a, b| self.classes[*a].cmp(&self.classes[*b]));
        for k in &order {
            let _ = writeln!(
                out,
                "bias\t{}\t{}",
                self.classes[*k],
                decimal_text(f64::from(self.bias[*k]), 4)
            );
        }
        let mut grams: Vec<(&String, &Gram)> = self.grams.iter().collect();
        grams.sort_by(|a, b| a.0.cmp(b.0));
        for (gram, g) in &grams {
            let _ = writeln!(out, "idf\t{gram}\t{}", decimal_text(f64::from(g.idf), 4));
        }
        for k in &order {
            for (gram, g) in &grams {
                for (class, w) in &g.weights {
                    if usize::from(*class) == *k {
                        let _ = writeln!(
                            out,
                            "weight\t{}\t{gram}\t{}",
                            self.classes[*k],
                            decimal_text(f64::from(*w), 4)
                        );
                    }
                }
            }
        }
        out
    }

    /// Read `phrasing.tsv` from a knowledge folder: `None` when there is none, problems
    /// as `path:line: message`.
    pub(crate) fn load(dir: &Path, problems: &mut Vec<Problem>) -> Option<Phrasing> {
        parse_if_there(&dir.join("phrasing.tsv"), problems, Phrasing::parse)
    }
}

/// The fitting problem: the penalised negative log-likelihood of the training classes.
struct Objective<'a> {
    /// Each question's class and unit vector of gram indices.
    rows: &'a [(usize, Vec<(usize, f32)>)],
    /// Each gram's `(class, parameter)` pairs.
    pairs_of_gram: &'a [Vec<(usize, usize)>],
    classes: usize,
    pairs: usize,
}

impl Objective<'_> {
    /// The objective and its gradient at `theta`.
    fn evaluate(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let mut gradient = vec![0.0; theta.len()];
        let mut loss = 0.0;
        let mut logits = vec![0.0; self.classes];
        for (class, vector) in self.rows {
            logits.copy_from_slice(&theta[self.pairs..]);
            for (g, x) in vector {
                for (k, p) in &self.pairs_of_gram[*g] {
                    logits[*k] += theta[*p] * f64::from(*x);
                }
            }
            let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = logits.iter().map(|l| (l - max).exp()).sum();
            loss -= logits[*class] - max - sum.ln();
            // d loss / d logit_k = p_k - [k = class]
            for (k, l) in logits.iter_mut().enumerate() {
                *l = (*l - max).exp() / sum - f64::from(u8::from(k == *class));
            }
            for (g, x) in vector {
                for (k, p) in &self.pairs_of_gram[*g] {
                    gradient[*p] += logits[*k] * f64::from(*x);
                }
            }
            for (k, d) in logits.iter().enumerate() {
                gradient[self.pairs + k] += d;
            }
        }
        for p in 0..self.pairs {
            loss += 0.5 * theta[p] * theta[p] / INVERSE_PENALTY;
            gradient[p] += theta[p] / INVERSE_PENALTY;
        }
        (loss, gradient)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimise the (convex, smooth) objective by L-BFGS with a backtracking line search.
fn lbfgs(problem: &Objective<'_>, mut theta: Vec<f64>) -> Vec<f64> {
    let (mut loss, mut gradient) = problem.evaluate(&theta);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for _ in 0..MAX_STEPS {
        // The two-loop recursion: the direction -H·g.
        let mut q = gradient.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        if let Some((s, y, _)) = history.last() {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|qi| *qi *= gamma);
        }
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut direction: Vec<f64> = q.iter().map(|x| -x).collect();
        let mut slope = dot(&direction, &gradient);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): start again from the gradient.
            history.clear();
            direction = gradient.iter().map(|g| -g).collect();
            slope = dot(&direction, &gradient);
        }
        let first_step = if history.is_empty() {
            1.0 / dot(&gradient, &gradient).sqrt().max(1.0)
        } else {
            1.0
        };
        let mut step = first_step;
        let mut accepted = None;
        for _ in 0..30 {
            let candidate: Vec<f64> = theta
                .iter()
                .zip(&direction)
                .map(|(t, d)| t + step * d)
                .collect();
            let (l, g) = problem.evaluate(&candidate);
            if l <= loss + 1e-4 * step * slope {
                accepted = Some((candidate, l, g));
                break;
            }
            step *= 0.5;
        }
        let Some((next, next_loss, next_gradient)) = accepted else {
            break;
        };
        let s: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next_gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let sy = dot(&s, &y);
        let improvement = loss - next_loss;
        theta = next;
        gradient = next_gradient;
        loss = next_loss;
        if sy > 1e-12 {
            if history.len() == HISTORY {
                history.remove(0);
            }
            history.push((s, y, 1.0 / sy));
        }
        if improvement.abs() <= 1e-9 * loss.abs().max(1.0)
            || dot(&gradient, &gradient).sqrt() < 1e-6
        {
            break;
        }
    }
    theta
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(&'static str, &'static str)> {
        vec![
            ("standstill", "how long is the standstill period"),
            ("standstill", "karensperiode hvor mange dager"),
            (
                "standstill",
                "standstill days before the contract is signed",
            ),
            ("thresholds", "what is the national threshold value"),
            ("thresholds", "terskelverdi for kunngjøring"),
            ("thresholds", "threshold amount in kroner"),
            (NONE, "what is the vat rate"),
            (NONE, "cheap flights to spain"),
            (NONE, "weather tomorrow in oslo"),
        ]
    }

    #[test]
    fn the_class_whose_questions_share_the_grams_is_most_likely() {
        let model = Phrasing::fit(sample());
        // A typo and an inflection the training questions never had.
        let (p, none) =
            model.posteriors("hvor lang er karensperioden", &["thresholds", "standstill"]);
        assert!(p[1].unwrap() > p[0].unwrap(), "{p:?}");
        assert!(p[1].unwrap() > none.unwrap(), "{p:?} {none:?}");
        let (p, none) = model.posteriors("terskelverdiene", &["standstill", "thresholds"]);
        assert!(
            p[1].unwrap() > p[0].unwrap() && p[1].unwrap() > none.unwrap(),
            "{p:?}"
        );
        let (p, none) = model.posteriors("cheap flight", &["standstill", "thresholds"]);
        assert!(
            none.unwrap() > p[0].unwrap().max(p[1].unwrap()),
            "{p:?} {none:?}"
        );
    }

    #[test]
    fn unknown_classes_have_no_figure_and_none_needs_a_known_one() {
        let model = Phrasing::fit(sample());
        let (p, none) = model.posteriors("standstill", &["new-entry", "standstill"]);
        assert!(p[0].is_none() && p[1].is_some() && none.is_some());
        let (p, none) = model.posteriors("standstill", &["new-entry"]);
        assert_eq!(p, vec![None]);
        assert!(none.is_none());
        assert!(Phrasing::fit(Vec::new()).is_empty());
    }

    #[test]
    fn the_fit_is_the_minimum_of_its_objective() {
        // The gradient at the fitted (unrounded) weights is all but zero, and the fit is
        // deterministic.
        let rows: Vec<(usize, Vec<(usize, f32)>)> = vec![
            (0, vec![(0, 0.8), (1, 0.6)]),
            (1, vec![(1, 0.6), (2, 0.8)]),
            (1, vec![(2, 1.0)]),
        ];
        let pairs_of_gram = vec![vec![(0, 0)], vec![(0, 1), (1, 2)], vec![(1, 3)]];
        let problem = Objective {
            rows: &rows,
            pairs_of_gram: &pairs_of_gram,
            classes: 2,
            pairs: 4,
        };
        let theta = lbfgs(&problem, vec![0.0; 6]);
        let (_, gradient) = problem.evaluate(&theta);
        assert!(dot(&gradient, &gradient).sqrt() < 1e-4, "{gradient:?}");
        assert_eq!(theta, lbfgs(&problem, vec![0.0; 6]));
        assert_eq!(Phrasing::fit(sample()), Phrasing::fit(sample()));
    }

    #[test]
    fn the_file_round_trips_and_bad_lines_are_reported() {
        let model = Phrasing::fit(sample());
        let text = model.to_text(&["written by a test".to_string()]);
        assert!(text.starts_with("# written by a test\n"));
        let read = Phrasing::parse(&text).unwrap();
        assert_eq!(read.to_text(&["written by a test".to_string()]), text);
        let (p, _) = model.posteriors("standstill days", &["standstill", "thresholds"]);
        let (q, _) = read.posteriors("standstill days", &["standstill", "thresholds"]);
        assert!((p[0].unwrap() - q[0].unwrap()).abs() < 1e-3, "{p:?} {q:?}");
        let problems = Phrasing::parse(
            "bias\t-\tx\nweight\tnew\t_ab_\t1\nidf\t_ab_\nbias\t-\t1\nbias\t-\t2\n",
        )
        .unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].1.contains("not a bias"));
        assert!(problems[1].1.contains("before its bias line"));
        assert!(problems[3].1.contains("a second bias"));
    }
}
