//! Fitting the calibration: the rank, answer and referral models on the `train`
//! questions, the two thresholds on the `dev` questions (`anbud kb calibrate`).
//!
//! Each model is an L2-regularised logistic regression fitted by Newton's method on
//! standardised features: a handful of weights, no randomness, the same file from the
//! same data.

use std::sync::Arc;

use crate::answer::{decide, features, Action, Analysis, Answerer};
use crate::knowledge::associations::{Associations, LeaveOut, Word, NONE};
use crate::knowledge::calibration::{
    Calibration, Model, Unlearned, ANSWER_FEATURES, REFERRAL_FEATURES,
};
use crate::knowledge::phrasing::Phrasing;
use crate::search::SearchError;

use super::{Labelled, Split};

/// The L2 penalty on the standardised weights (the intercept is not penalised).
const L2: f64 = 1.0;
/// Newton steps at most; the fit usually settles in under ten.
const MAX_STEPS: usize = 50;

/// One labelled question, analysed once (the models are applied many times).
pub struct Example {
    pub row: Labelled,
    pub analysis: Analysis,
}

/// Analyse every row with the answerer's index and referrals.
pub fn analyse(answerer: &Answerer, rows: &[Labelled]) -> Result<Vec<Example>, SearchError> {
    rows.iter()
        .map(|row| {
            let cleaned = crate::answer::clean_question(&row.question);
            Ok(Example {
                row: row.clone(),
                analysis: answerer.analyse(&cleaned)?,
            })
        })
        .collect()
}

/// How features are put on one scale before fitting: the penalty then treats every
/// feature alike, and Newton's method is well conditioned. Constant features are left
/// out (they get no weight).
struct Standardised {
    mean: Vec<f64>,
    sd: Vec<f64>,
    /// The features that vary, in order.
    used: Vec<usize>,
}

impl Standardised {
    fn of<'a>(rows: impl Iterator<Item = &'a Vec<f32>> + Clone, features: usize) -> Standardised {
        let n = rows.clone().count().max(1) as f64;
        let mut mean = vec![0.0f64; features];
        let mut sd = vec![0.0f64; features];
        for row in rows.clone() {
            for (m, x) in mean.iter_mut().zip(row) {
                *m += f64::from(*x) / n;
            }
        }
        for row in rows {
            for ((s, m), x) in sd.iter_mut().zip(&mean).zip(row) {
                *s += (f64::from(*x) - m).powi(2) / n;
            }
        }
        for s in &mut sd {
            *s = s.sqrt();
        }
        let used = (0..features).filter(|&j| sd[j] > 1e-9).collect();
        Standardised { mean, sd, used }
    }

    /// The used features of `row`, standardised.
    fn apply<'a>(&'a self, row: &'a [f32]) -> impl Iterator<Item = f64> + 'a {
        self.used
            .iter()
            .map(move |&j| (f64::from(row[j]) - self.mean[j]) / self.sd[j])
    }

    /// A model on the features' own scale from weights on the standardised ones
    /// (`weights[k]` belongs to `used[k]`).
    fn model(&self, mut bias: f64, weights: &[f64]) -> Model {
        let mut unscaled = vec![0.0f64; self.mean.len()];
        for (k, &j) in self.used.iter().enumerate() {
            unscaled[j] = weights[k] / self.sd[j];
            bias -= weights[k] * self.mean[j] / self.sd[j];
        }
        Model {
            bias,
            weights: unscaled,
        }
    }
}

/// One Newton step on `w` from the gradient and the lower triangle of the Hessian
/// (mirrored here); the L2 penalty is added for the weights from `penalised_from` on.
/// `None` when the step cannot be taken; otherwise whether the fit has settled.
#[allow(clippy::needless_range_loop)]
fn newton_step(
    w: &mut [f64],
    mut gradient: Vec<f64>,
    mut hessian: Vec<Vec<f64>>,
    penalised_from: usize,
) -> Option<bool> {
    let dim = w.len();
    for a in 0..dim {
        for b in 0..a {
            hessian[b][a] = hessian[a][b];
        }
        if a >= penalised_from {
            gradient[a] += L2 * w[a];
            hessian[a][a] += L2;
        } else {
            hessian[a][a] += 1e-9;
        }
    }
    let step = solve(hessian, gradient)?;
    let size: f64 = step.iter().map(|s| s * s).sum::<f64>().sqrt();
    for (wi, si) in w.iter_mut().zip(&step) {
        *wi -= si;
    }
    Some(size < 1e-10)
}

/// A logistic regression of `labels` on `rows` (each row one feature vector): the
/// weights on the features' own scale.
// Matrix code reads clearer with indices.
#[allow(clippy::needless_range_loop)]
pub fn logistic(rows: &[Vec<f32>], labels: &[bool]) -> Model {
    let features = rows.first().map_or(0, Vec::len);
    if rows.is_empty() {
        return Model::zero(features);
    }
    let scale = Standardised::of(rows.iter(), features);
    let dim = scale.used.len() + 1;
    let x: Vec<Vec<f64>> = rows
        .iter()
        .map(|row| {
            let mut v = Vec::with_capacity(dim);
            v.push(1.0);
            v.extend(scale.apply(row));
            v
        })
        .collect();
    let y: Vec<f64> = labels.iter().map(|&l| f64::from(u8::from(l))).collect();
    let mut w = vec![0.0f64; dim];
    for _ in 0..MAX_STEPS {
        let mut gradient = vec![0.0f64; dim];
        let mut hessian = vec![vec![0.0f64; dim]; dim];
        for (xi, yi) in x.iter().zip(&y) {
            let z: f64 = xi.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let r = p * (1.0 - p);
            for a in 0..dim {
                gradient[a] += (p - yi) * xi[a];
                for b in 0..=a {
                    hessian[a][b] += r * xi[a] * xi[b];
                }
            }
        }
        match newton_step(&mut w, gradient, hessian, 1) {
            Some(false) => {}
            Some(true) | None => break,
        }
    }
    scale.model(w[0], &w[1..])
}

/// Solve `a · x = b` by Gaussian elimination with partial pivoting.
#[allow(clippy::needless_range_loop)]
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let factor = a[row][col] / a[col][col];
            for k in col..n {
                a[row][k] -= factor * a[col][k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let sum: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - sum) / a[row][row];
    }
    Some(x)
}

/// Fit the rank model over the in-scope questions that have a right candidate: the
/// weights by a conditional logit (a softmax over each question's candidates, so the fit
/// rewards putting a right entry first rather than scoring each candidate alone), then
/// the bias by a logistic regression of "this candidate is right" with those weights
/// fixed, so the model's figure stays a probability the answer model can read.
pub fn fit_rank(examples: &[Example]) -> Model {
    let mut groups = Vec::new();
    for e in examples.iter().filter(|e| e.row.in_scope()) {
        let candidates = &e.analysis.candidates;
        if !candidates.iter().any(|h| e.row.expected.contains(&h.id)) {
            continue;
        }
        let rows: Vec<Vec<f32>> = (0..candidates.len())
            .map(|i| features::rank(candidates, i).to_vec())
            .collect();
        let right: Vec<bool> = candidates
            .iter()
            .map(|hit| e.row.expected.contains(&hit.id))
            .collect();
        groups.push((rows, right));
    }
    conditional_logit(&groups)
}

/// A conditional logit over groups of rows, each with the rows that are right: weights
/// that make the right rows' share of each group's softmax large (L2-penalised on the
/// standardised features, Newton's method), then the bias that makes
/// `σ(bias + w·x)` a calibrated "this row is right".
#[allow(clippy::needless_range_loop)]
pub fn conditional_logit(groups: &[(Vec<Vec<f32>>, Vec<bool>)]) -> Model {
    let all = groups.iter().flat_map(|(rows, _)| rows);
    let Some(features) = all.clone().next().map(Vec::len) else {
        return Model::zero(0);
    };
    let scale = Standardised::of(all, features);
    let dim = scale.used.len();
    let standard = |row: &Vec<f32>| -> Vec<f64> { scale.apply(row).collect() };
    let data: Vec<(Vec<Vec<f64>>, &Vec<bool>)> = groups
        .iter()
        .map(|(rows, right)| (rows.iter().map(standard).collect(), right))
        .collect();
    let dot = |x: &[f64], w: &[f64]| x.iter().zip(w).map(|(a, b)| a * b).sum::<f64>();
    let mut w = vec![0.0f64; dim];
    for _ in 0..MAX_STEPS {
        let mut gradient = vec![0.0f64; dim];
        let mut hessian = vec![vec![0.0f64; dim]; dim];
        for (x, right) in &data {
            let z: Vec<f64> = x.iter().map(|xi| dot(xi, &w)).collect();
            let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = z.iter().map(|zi| (zi - top).exp()).collect();
            let total: f64 = e.iter().sum();
            let right_total: f64 = e
                .iter()
                .zip(right.iter())
                .filter(|(_, r)| **r)
                .map(|(v, _)| v)
                .sum();
            // p: the softmax; q: the softmax within the right rows. The gradient of
            // -log Σ_right p is Σ (p - q) x; the Hessian is taken as the covariance
            // under p (exact when one row is right, positive semi-definite always).
            let mut mean_p = vec![0.0f64; dim];
            for (i, xi) in x.iter().enumerate() {
                let p = e[i] / total;
                let q = if right[i] { e[i] / right_total } else { 0.0 };
                for a in 0..dim {
                    gradient[a] += (p - q) * xi[a];
                    mean_p[a] += p * xi[a];
                    for b in 0..=a {
                        hessian[a][b] += p * xi[a] * xi[b];
                    }
                }
            }
            for a in 0..dim {
                for b in 0..=a {
                    hessian[a][b] -= mean_p[a] * mean_p[b];
                }
            }
        }
        match newton_step(&mut w, gradient, hessian, 0) {
            Some(false) => {}
            Some(true) | None => break,
        }
    }
    // The bias: one-dimensional Newton on the logistic loss with `w` fixed.
    let scored: Vec<(f64, bool)> = data
        .iter()
        .flat_map(|(x, right)| x.iter().zip(right.iter()).map(|(xi, r)| (dot(xi, &w), *r)))
        .collect();
    let mut bias = 0.0f64;
    for _ in 0..MAX_STEPS {
        let (mut g, mut h) = (0.0f64, 1e-9f64);
        for (z, r) in &scored {
            let p = 1.0 / (1.0 + (-(z + bias)).exp());
            g += p - f64::from(u8::from(*r));
            h += p * (1.0 - p);
        }
        let step = g / h;
        bias -= step;
        if step.abs() < 1e-10 {
            break;
        }
    }
    scale.model(bias, &w)
}

/// Fit the answer model: "the first candidate (after the rank model) answers the
/// question" on the answer figures; out-of-scope questions are all "no".
pub fn fit_answer(examples: &[Example], rank: &Model) -> Model {
    let calibration = with_models(rank.clone(), Model::zero(ANSWER_FEATURES.len()));
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for e in examples {
        let decision = decide(&e.analysis, &calibration, Some(1.0));
        let Some(first) = decision.ranked.first() else {
            continue;
        };
        let runner_up = decision.ranked.get(1);
        let lead = features::lead(first.rank_score, runner_up.map(|r| r.rank_score));
        rows.push(
            features::answer(&e.analysis, &first.hit, lead, runner_up.map(|r| &r.hit)).to_vec(),
        );
        labels.push(e.row.expected.contains(&first.hit.id));
    }
    logistic(&rows, &labels)
}

/// Fit the referral model: "the best referral is the service this question deserves".
pub fn fit_referral(examples: &[Example], rank: &Model, answer: &Model) -> Model {
    let calibration = with_models(rank.clone(), answer.clone());
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for e in examples {
        let decision = decide(&e.analysis, &calibration, Some(1.0));
        let first = decision.ranked.first();
        let probability = first.map_or(0.0, |r| r.probability);
        let Some(x) = features::referral(&e.analysis, first.map(|r| &r.hit), probability) else {
            continue;
        };
        let best = e.analysis.referrals.first().map(|r| r.id.as_str());
        rows.push(x.to_vec());
        labels.push(e.row.referral.is_some() && e.row.referral.as_deref() == best);
    }
    logistic(&rows, &labels)
}

fn with_models(rank: Model, answer: Model) -> Calibration {
    Calibration {
        rank,
        answer,
        threshold: 0.5,
        unlearned: None,
        referral: Model::zero(REFERRAL_FEATURES.len()),
        referral_threshold: 1.1,
        header: Vec::new(),
        associations: Arc::default(),
        phrasing: Arc::default(),
    }
}

/// The class a labelled question is counted under: its (first) right entry, or [`NONE`].
fn class(row: &Labelled) -> &str {
    row.expected.first().map_or(NONE, String::as_str)
}

/// Whether an entry's learned counts are left out while the models are fitted: about
/// one entry in six, chosen by its id. The models must also rank and answer well without
/// the learned figure (an entry an adviser has just taught has none, nor has a knowledge
/// folder without `associations.tsv`), so they see such entries while fitting.
fn unlearned_while_fitting(id: &str) -> bool {
    // FNV-1a: stable across runs and platforms, unlike the standard hasher.
    let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % 6 == 0
}

/// Count the words of the training questions per class, and fill every example's
/// learned figures: the training questions' each as if it had not been counted (and
/// with some entries' counts left out, see [`unlearned_while_fitting`]), the dev
/// questions' with all counts, as the bot will have them.
pub fn learn_associations(train: &mut [Example], dev: &mut [Example]) -> Associations {
    let words: Vec<Vec<Word>> = train
        .iter()
        .map(|e| features::words(&e.analysis.query))
        .collect();
    let associations = Associations::count(
        train
            .iter()
            .zip(&words)
            .map(|(e, w)| (class(&e.row), w.as_slice())),
    );
    let fitting = associations.without(unlearned_while_fitting);
    for (e, w) in train.iter_mut().zip(&words) {
        let class = class(&e.row);
        let counts = Associations::question_counts(w);
        let leave_out = fitting.has_class(class).then_some(LeaveOut {
            class,
            counts: &counts,
        });
        features::fill_learned(&mut e.analysis, &fitting, leave_out);
    }
    for e in dev.iter_mut() {
        features::fill_learned(&mut e.analysis, &associations, None);
    }
    associations
}

/// Parts the training questions are cut into for [`learn_phrasing`].
const PHRASING_FOLDS: usize = 5;

/// Fit the phrasing model on the training questions and fill every example's phrasing
/// figures: each training question's from a model fitted without its fifth of the
/// questions (cross-fitting: a model scores its own training questions too well for
/// the calibrated models to learn how far to trust it), with the entries of
/// [`unlearned_while_fitting`] left out as for the associations; the dev questions'
/// from the model fitted on all of them, as the bot will have it.
pub fn learn_phrasing(train: &mut [Example], dev: &mut [Example]) -> Phrasing {
    let texts: Vec<String> = train
        .iter()
        .map(|e| crate::answer::clean_question(&e.row.question))
        .collect();
    let classes: Vec<String> = train.iter().map(|e| class(&e.row).to_string()).collect();
    let fold = |i: usize| i % PHRASING_FOLDS;
    let models: Vec<Phrasing> = std::thread::scope(|scope| {
        let fits: Vec<_> = (0..PHRASING_FOLDS)
            .map(|k| {
                let (texts, classes) = (&texts, &classes);
                scope.spawn(move || {
                    Phrasing::fit(
                        (0..texts.len())
                            .filter(|i| fold(*i) != k && !unlearned_while_fitting(&classes[*i]))
                            .map(|i| (classes[i].as_str(), texts[i].as_str())),
                    )
                })
            })
            .collect();
        fits.into_iter()
            .map(|f| f.join().expect("a phrasing fit does not panic"))
            .collect()
    });
    for (i, e) in train.iter_mut().enumerate() {
        features::fill_phrasing(&mut e.analysis, &models[fold(i)], &texts[i]);
    }
    let phrasing = Phrasing::fit(
        classes
            .iter()
            .map(String::as_str)
            .zip(texts.iter().map(String::as_str)),
    );
    for e in dev.iter_mut() {
        let text = crate::answer::clean_question(&e.row.question);
        features::fill_phrasing(&mut e.analysis, &phrasing, &text);
    }
    phrasing
}

/// How the bot does on a set of analysed questions with one calibration.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Score {
    /// In scope answered with a right entry.
    pub in_scope: f64,
    /// Out of scope not answered with an entry.
    pub out_of_scope: f64,
    /// Questions labelled with a referral that got it.
    pub referred_right: f64,
    /// Out-of-scope questions referred to a service they were not labelled with.
    pub referred_wrong: f64,
}

/// The share of out-of-scope dev questions the answer threshold must leave unanswered.
/// The targets ask for 0.93 in scope and 0.93 out of scope; out of scope already clears
/// its target with room at every threshold worth having, while in scope does not, so the
/// threshold is chosen to answer as many in-scope questions rightly as it can while
/// keeping out of scope two points above its target (dev is a few hundred questions;
/// the margin is for the difference between dev and unseen questions).
pub const OUT_OF_SCOPE_FLOOR: f64 = 0.95;

impl Score {
    /// What the thresholds are chosen to make largest among those that keep
    /// [`OUT_OF_SCOPE_FLOOR`]: in-scope questions answered rightly, right referrals a
    /// little, wrong ones against.
    pub fn objective(&self) -> f64 {
        self.in_scope + 0.25 * self.referred_right - 0.5 * self.referred_wrong
    }

    /// The objective before the floor: both kinds of rightness alike. Used only when no
    /// threshold keeps the floor (a small or odd dev split).
    fn balanced_objective(&self) -> f64 {
        self.objective() + self.out_of_scope
    }
}

/// Score a calibration on analysed questions.
pub fn score(examples: &[Example], calibration: &Calibration) -> Score {
    let (mut in_right, mut in_total, mut out_right, mut out_total) = (0, 0, 0, 0);
    let (mut ref_right, mut ref_total, mut ref_wrong) = (0, 0, 0);
    for e in examples {
        let decision = decide(&e.analysis, calibration, None);
        let answered = (decision.action == Action::Answer)
            .then(|| decision.ranked.first().map(|r| r.hit.id.as_str()))
            .flatten();
        let referred = (decision.action == Action::Refer)
            .then(|| decision.referral.as_ref().map(|(id, _)| id.as_str()))
            .flatten();
        if e.row.in_scope() {
            in_total += 1;
            in_right +=
                usize::from(answered.is_some_and(|id| e.row.expected.iter().any(|x| x == id)));
        } else {
            out_total += 1;
            out_right += usize::from(answered.is_none());
            if referred.is_some() && referred != e.row.referral.as_deref() {
                ref_wrong += 1;
            }
        }
        if let Some(label) = &e.row.referral {
            ref_total += 1;
            ref_right += usize::from(referred == Some(label.as_str()));
        }
    }
    let share = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Score {
        in_scope: share(in_right, in_total),
        out_of_scope: share(out_right, out_total),
        referred_right: share(ref_right, ref_total),
        referred_wrong: share(ref_wrong, out_total),
    }
}

/// The thresholds that make [`Score::objective`] largest on `examples` among those that
/// keep [`OUT_OF_SCOPE_FLOOR`] (or, when none does, [`Score::balanced_objective`] largest):
/// a grid of 0.05..0.95 in steps of 0.01 for the answer threshold and 0.3..0.95 in steps
/// of 0.05 for the referral threshold; of equal objectives, the higher thresholds
/// (abstaining is the safer mistake).
pub fn choose_thresholds(examples: &[Example], calibration: &Calibration) -> (f32, f32, Score) {
    let mut c = calibration.clone();
    let mut grid = Vec::new();
    for r in 6..=19 {
        c.referral_threshold = r as f32 * 0.05;
        for t in 5..=95 {
            c.threshold = t as f32 * 0.01;
            grid.push((c.threshold, c.referral_threshold, score(examples, &c)));
        }
    }
    best_thresholds(&grid).unwrap_or((0.5, 0.5, Score::default()))
}

/// The answer threshold alone, by the rule of [`choose_thresholds`], with the
/// calibration's referral threshold kept.
fn choose_answer_threshold(examples: &[Example], calibration: &Calibration) -> f32 {
    let mut c = calibration.clone();
    let grid: Vec<(f32, f32, Score)> = (5..=95)
        .map(|t| {
            c.threshold = t as f32 * 0.01;
            (c.threshold, c.referral_threshold, score(examples, &c))
        })
        .collect();
    best_thresholds(&grid).map_or(0.5, |(t, _, _)| t)
}

/// The pick of [`choose_thresholds`] from `(threshold, referral threshold, score)` in
/// ascending order of the answer threshold within each referral threshold.
fn best_thresholds(grid: &[(f32, f32, Score)]) -> Option<(f32, f32, Score)> {
    // `>=`: of equal objectives the later, higher thresholds win.
    let best_by = |objective: &dyn Fn(&Score) -> f64, keep: &dyn Fn(&Score) -> bool| {
        grid.iter()
            .filter(|(_, _, s)| keep(s))
            .fold(None::<(f64, (f32, f32, Score))>, |best, &(t, r, s)| {
                let o = objective(&s);
                match best {
                    Some((b, _)) if o < b - 1e-12 => best,
                    _ => Some((o, (t, r, s))),
                }
            })
            .map(|(_, pick)| pick)
    };
    best_by(&Score::objective, &|s| s.out_of_scope >= OUT_OF_SCOPE_FLOOR)
        .or_else(|| best_by(&Score::balanced_objective, &|_| true))
}

/// What [`calibrate`] gives: the calibration and how it does.
pub struct Fitted {
    pub calibration: Calibration,
    /// On the train questions (which the models have seen: flattering).
    pub train: Score,
    /// On the dev questions (which chose the thresholds).
    pub dev: Score,
    /// On the dev questions with the learned figures left out: how the unlearned answer
    /// model does (as for a knowledge folder whose entries the learned figures do not
    /// know).
    pub dev_unlearned: Score,
}

/// Fit the answer model once more on examples without their learned figures, ranked by
/// `calibration`'s rank model (fitted with some entries hidden from the learned figures,
/// it ranks without them), and choose its threshold on `dev` the same way (the referral
/// model and threshold are `calibration`'s).
fn fit_unlearned(
    train: &[Example],
    dev: &[Example],
    calibration: &Calibration,
) -> (Unlearned, Score) {
    let without = |examples: &[Example]| -> Vec<Example> {
        examples
            .iter()
            .map(|e| Example {
                row: e.row.clone(),
                analysis: e.analysis.without_learned(),
            })
            .collect()
    };
    let (train, dev) = (without(train), without(dev));
    let answer = fit_answer(&train, &calibration.rank);
    let mut trial = with_models(calibration.rank.clone(), answer.clone());
    trial.referral = calibration.referral.clone();
    trial.referral_threshold = calibration.referral_threshold;
    let threshold = choose_answer_threshold(&dev, &trial);
    trial.threshold = threshold;
    let dev_score = score(&dev, &trial);
    (Unlearned { answer, threshold }, dev_score)
}

/// Fit the three models on `train` and choose the thresholds on `dev`; the header lines
/// say what it was fitted on.
pub fn calibrate(answerer: &Answerer, rows: &[Labelled]) -> Result<Fitted, SearchError> {
    let train: Vec<Labelled> = rows
        .iter()
        .filter(|r| r.split == Split::Train)
        .cloned()
        .collect();
    let dev: Vec<Labelled> = rows
        .iter()
        .filter(|r| r.split == Split::Dev)
        .cloned()
        .collect();
    let mut train = analyse(answerer, &train)?;
    let mut dev = analyse(answerer, &dev)?;
    let associations = learn_associations(&mut train, &mut dev);
    let phrasing = learn_phrasing(&mut train, &mut dev);
    let rank = fit_rank(&train);
    let answer = fit_answer(&train, &rank);
    let referral = fit_referral(&train, &rank, &answer);
    let mut calibration = Calibration {
        rank,
        answer,
        threshold: 0.5,
        unlearned: None,
        referral,
        referral_threshold: 0.5,
        header: Vec::new(),
        associations: Arc::new(associations),
        phrasing: Arc::new(phrasing),
    };
    let (threshold, referral_threshold, dev_score) = choose_thresholds(&dev, &calibration);
    calibration.threshold = threshold;
    calibration.referral_threshold = referral_threshold;
    let train_score = score(&train, &calibration);
    let (unlearned, dev_unlearned) = fit_unlearned(&train, &dev, &calibration);
    calibration.unlearned = Some(unlearned);
    calibration.header = vec![
        "Written by `anbud kb calibrate`; do not edit by hand. Refit after changing the"
            .to_string(),
        "entries, the glossary, the referrals or tests/quality/train.tsv and dev.tsv.".to_string(),
        format!(
            "Fitted on {} train questions; thresholds chosen on {} dev questions.",
            train.len(),
            dev.len()
        ),
    ];
    Ok(Fitted {
        calibration,
        train: train_score,
        dev: dev_score,
        dev_unlearned,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logistic_regression_finds_the_separating_direction() {
        // y = 1 when x0 > 0.5; x1 is noise.
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..200 {
            let x0 = (i % 20) as f32 / 20.0;
            let x1 = ((i * 7) % 13) as f32 / 13.0;
            rows.push(vec![x0, x1]);
            labels.push(x0 > 0.5);
        }
        let model = logistic(&rows, &labels);
        assert!(model.weights[0] > 5.0, "{model:?}");
        assert!(model.weights[1].abs() < 1.0, "{model:?}");
        assert!(model.probability(&[0.9, 0.5]) > 0.9);
        assert!(model.probability(&[0.1, 0.5]) < 0.1);
        // The same data gives the same weights.
        assert_eq!(logistic(&rows, &labels), model);
    }

    #[test]
    fn the_conditional_logit_puts_the_right_row_first() {
        // In every group the right row has the largest x0 of the group, but x0's level
        // moves from group to group (a pointwise fit sees it only as noise); x1 is noise.
        let mut groups = Vec::new();
        for g in 0..60 {
            let level = (g % 10) as f32;
            let right_at = g % 4;
            let rows: Vec<Vec<f32>> = (0..4)
                .map(|i| {
                    let x0 = level + if i == right_at { 1.0 } else { 0.1 * i as f32 };
                    vec![x0, ((g * 7 + i * 3) % 5) as f32]
                })
                .collect();
            let right: Vec<bool> = (0..4).map(|i| i == right_at).collect();
            groups.push((rows, right));
        }
        let model = conditional_logit(&groups);
        assert!(model.weights[0] > 1.0, "{model:?}");
        assert!(model.weights[1].abs() < model.weights[0] / 5.0, "{model:?}");
        for (rows, right) in &groups {
            let best = (0..rows.len())
                .max_by(|&a, &b| model.linear(&rows[a]).total_cmp(&model.linear(&rows[b])))
                .unwrap();
            assert!(right[best]);
        }
        // The bias makes the probabilities average to the share of right rows (1 in 4).
        let mean: f64 = groups
            .iter()
            .flat_map(|(rows, _)| rows.iter().map(|r| f64::from(model.probability(r))))
            .sum::<f64>()
            / 240.0;
        assert!((mean - 0.25).abs() < 0.02, "{mean}");
    }

    fn scored(in_scope: f64, out_of_scope: f64) -> Score {
        Score {
            in_scope,
            out_of_scope,
            ..Score::default()
        }
    }

    #[test]
    fn the_threshold_answers_most_while_keeping_the_out_of_scope_floor() {
        // Lower thresholds answer more of both kinds.
        let grid = [
            (0.2, 0.5, scored(0.95, 0.90)),
            (0.3, 0.5, scored(0.93, 0.95)),
            (0.4, 0.5, scored(0.93, 0.96)),
            (0.5, 0.5, scored(0.85, 0.99)),
        ];
        let (t, _, s) = best_thresholds(&grid).unwrap();
        // 0.2 answers more but breaks the floor; 0.3 and 0.4 tie: the higher wins.
        assert_eq!(t, 0.4);
        assert_eq!(s.out_of_scope, 0.96);
    }

    #[test]
    fn without_a_threshold_keeping_the_floor_both_kinds_count_alike() {
        let grid = [
            (0.2, 0.5, scored(0.95, 0.80)),
            (0.3, 0.5, scored(0.90, 0.90)),
            (0.4, 0.5, scored(0.70, 0.94)),
        ];
        assert_eq!(best_thresholds(&grid).unwrap().0, 0.3);
    }

    #[test]
    fn a_constant_feature_gets_no_weight() {
        let rows: Vec<Vec<f32>> = (0..50).map(|i| vec![i as f32 / 50.0, 3.0]).collect();
        let labels: Vec<bool> = (0..50).map(|i| i > 25).collect();
        let model = logistic(&rows, &labels);
        assert_eq!(model.weights[1], 0.0);
        assert!(model.weights[0] > 0.0);
    }
}
