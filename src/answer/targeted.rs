//! Which passage of an entry answers the question: the lead always, and one `###`
//! section when the question asks for something the section holds and the lead does not
//! (a figure, a "how do I", a "what if", or words only the section covers).

use std::sync::LazyLock;

use regex::Regex;

use crate::knowledge::passage::Passage;
use crate::search::analysis::{fold, words};
use crate::search::PassageCoverage;

/// How much more of the question a section must cover than the lead to be shown.
const SECTION_GAIN: f32 = 0.12;
/// How much more of the question a section with a figure must cover than a lead that
/// also states one.
const FIGURE_LEAD: f32 = 0.1;
/// What asking "how" adds to a passage with steps, and "what if" to a passage whose
/// heading is a condition.
const STEPS_BONUS: f32 = 0.1;
const CONDITION_BONUS: f32 = 0.1;

/// What kind of answer a question asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Asks {
    /// A number: days, amounts, percentages, dates, deadlines.
    pub figure: bool,
    /// A way to do something: "how do I".
    pub steps: bool,
    /// What happens in a case: "what if".
    pub condition: bool,
}

/// Word pairs and single words (folded) that ask for a figure.
const FIGURE_PAIRS: &[(&str, &str)] = &[
    ("hvor", "lang"),
    ("hvor", "lenge"),
    ("hvor", "mye"),
    ("hvor", "mange"),
    ("hvor", "stor"),
    ("hvor", "stort"),
    ("hvor", "hoy"),
    ("hvor", "hoyt"),
    ("hva", "koster"),
    ("kor", "lang"),
    ("kor", "lenge"),
    ("kor", "mykje"),
    ("kor", "mange"),
    ("kor", "stor"),
    ("hur", "lange"),
    ("hur", "mycket"),
    ("hur", "manga"),
    ("hur", "stor"),
    ("how", "long"),
    ("how", "much"),
    ("how", "many"),
    ("how", "big"),
    ("how", "high"),
    ("how", "large"),
];
const FIGURE_WORDS: &[&str] = &[
    "frist",
    "fristen",
    "tidsfrist",
    "deadline",
    "belop",
    "belopet",
    "amount",
    "sats",
    "satsen",
    "rate",
    "prosent",
    "percent",
    "percentage",
    "dager",
    "days",
    "nar",
    "when",
    "terskelverdien",
    "terskelverdiene",
    "grense",
    "grensen",
    "limit",
    "koster",
    "cost",
    "costs",
    "fee",
    "gebyr",
    "gebyret",
    "varighet",
    "duration",
    "dato",
    "date",
];
const STEPS_WORDS: &[&str] = &[
    "hvordan",
    "korleis",
    "hur",
    "how",
    "steg",
    "steps",
    "fremgangsmate",
];
const CONDITION_PAIRS: &[(&str, &str)] = &[
    ("hva", "hvis"),
    ("hva", "skjer"),
    ("kva", "skjer"),
    ("vad", "hander"),
    ("what", "if"),
    ("what", "happens"),
];
const CONDITION_WORDS: &[&str] = &["hvis", "dersom", "om", "if", "viss", "ifall"];

impl Asks {
    /// Read what a question asks for from its words.
    pub fn of(question: &str) -> Asks {
        let w: Vec<String> = words(question).iter().map(|w| fold(w)).collect();
        let pair = |pairs: &[(&str, &str)]| {
            w.windows(2)
                .any(|p| pairs.iter().any(|(a, b)| p[0] == *a && p[1] == *b))
        };
        let any = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
        Asks {
            figure: pair(FIGURE_PAIRS) || any(FIGURE_WORDS),
            steps: any(STEPS_WORDS),
            condition: pair(CONDITION_PAIRS) || any(CONDITION_WORDS),
        }
    }
}

/// The pattern of [`FIGURE`], with `boundary` where a word must start or end (`\b`, or
/// nothing for [`MAYBE_FIGURE`]).
fn figure_pattern(boundary: &str) -> String {
    let b = boundary;
    let number = format!(
        r"(?:\d[\d \u{{a0}}.,]*|{b}(?:to|tre|fire|fem|seks|sju|syv|åtte|ni|ti|tolv|femten|tjue|tretti|førti|femti|hundre|tusen|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|forty|fifty|hundred|thousand))"
    );
    let unit = format!(
        r"(?:%|(?:prosent|percent|per cent|virkedager|arbeidsdager|dagers|dager|dagar|dag|days|day|working days|uker|veker|weeks|måneder|månader|months|år|years|timer|hours|kroner|kr|nok|mill(?:ion|ioner|ions)?|milliard(?:er)?|billion){b})"
    );
    format!(r"(?i){number}\s*(?:{unit})|{b}(?:nok|kr\.?)\s*\d")
}

/// A figure as entries state one: a number (digits or a number word) with a unit, an
/// amount in kroner, or a percentage. A paragraph number ("§ 10-1"), a list number and
/// a date (entries date their figures: "as of 2026-11-29") are not figures.
static FIGURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&figure_pattern(r"\b")).expect("valid regex"));

/// [`FIGURE`] without its word boundaries: it matches wherever `FIGURE` does (a boundary
/// only narrows a match), and the regex crate runs it as a DFA, where `FIGURE`'s Unicode
/// `\b` on Norwegian text needs the much slower PikeVM (a twentieth of an answer at
/// 10,000 entries, most of it on sections without any figure).
static MAYBE_FIGURE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&figure_pattern("")).expect("valid regex"));

/// Does a text state a figure?
pub fn has_figure(text: &str) -> bool {
    MAYBE_FIGURE.is_match(text) && FIGURE.is_match(text)
}

fn has_steps(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with("- ")
            || l.starts_with("* ")
            || l.split_once(". ")
                .is_some_and(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    })
}

/// Headings that name a case: "Hvis du vant", "If the deadline is missed".
fn is_condition(heading: &str) -> bool {
    let first = words(heading).first().map(|w| fold(w)).unwrap_or_default();
    ["hvis", "dersom", "nar", "if", "when", "om"].contains(&first.as_str())
}

/// The section (index into `passages`) to show beside the lead, if any. `coverage` is
/// how much of the question each passage covers, in the same order; the first passage is
/// the lead when it has no heading.
///
/// A question that asks for a figure gets the section that states a figure and covers
/// most of the question, unless the lead states one and covers as much. Otherwise a
/// section is shown when it covers words of the question that are not the entry's topic
/// (with a bonus for steps to a "how" and a condition to a "what if") clearly better than
/// the lead does.
pub fn choose(passages: &[Passage<'_>], coverage: &[PassageCoverage], asks: Asks) -> Option<usize> {
    choose_with(passages, coverage, asks, &has_figure)
}

/// [`choose`], telling whether a passage's text (heading, line break, text) holds a
/// figure with `figure_in` (which may remember what [`has_figure`] said of it).
pub fn choose_with(
    passages: &[Passage<'_>],
    coverage: &[PassageCoverage],
    asks: Asks,
    figure_in: &dyn Fn(&str) -> bool,
) -> Option<usize> {
    let covered = |i: usize| coverage.get(i).copied().unwrap_or_default();
    let figure = |i: usize| {
        let p = &passages[i];
        figure_in(&format!("{}\n{}", p.heading.unwrap_or(""), p.text))
    };
    let has_lead = passages.first().is_some_and(|p| p.heading.is_none());
    let sections = usize::from(has_lead)..passages.len();
    let best_of = |score: &dyn Fn(usize) -> f32| {
        sections
            .clone()
            .map(|i| (i, score(i)))
            .fold(None, |acc: Option<(usize, f32)>, (i, s)| match acc {
                Some((_, b)) if b >= s => acc,
                _ => Some((i, s)),
            })
    };
    let both = |i: usize| covered(i).specific + covered(i).content;
    if asks.figure {
        let with_figure = |i: usize| {
            // The coverage first: the figure's regex is most of the cost of choosing.
            if covered(i).content > 0.0 && figure(i) {
                both(i)
            } else {
                -1.0
            }
        };
        if let Some((best, score)) = best_of(&with_figure).filter(|(_, s)| *s >= 0.0) {
            let lead_figure = has_lead && figure(0);
            let lead = if has_lead { both(0) } else { 0.0 };
            if !lead_figure || score > lead + FIGURE_LEAD {
                return Some(best);
            }
        }
    }
    let score = |i: usize| -> f32 {
        let p = &passages[i];
        let mut s = covered(i).specific;
        if asks.steps && has_steps(p.text) {
            s += STEPS_BONUS;
        }
        if asks.condition && p.heading.is_some_and(is_condition) {
            s += CONDITION_BONUS;
        }
        s
    };
    let lead = if has_lead { score(0) } else { 0.0 };
    let (best, best_score) = best_of(&score)?;
    (covered(best).specific > 0.0 && best_score >= lead + SECTION_GAIN).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::passage::passages;

    const BODY: &str = "Karensperioden er en periode før kontrakten signeres.\n\n\
        ### Hvor lang den er\nMinst 10 dager over EØS-terskelverdiene.\n\n\
        ### Slik klager du\n1. Les begrunnelsen.\n2. Klag skriftlig.\n\n\
        ### Hvis du vant\nVent til perioden er ute.";

    /// Coverage with the same share of specific and content words.
    fn cov(shares: &[f32]) -> Vec<PassageCoverage> {
        shares
            .iter()
            .map(|&s| PassageCoverage {
                specific: s,
                content: s,
            })
            .collect()
    }

    #[test]
    fn asks_are_read_from_question_words() {
        assert!(Asks::of("Hvor lang er karensperioden?").figure);
        assert!(Asks::of("How long is the standstill period?").figure);
        assert!(Asks::of("Kor lenge varer ein rammeavtale?").figure);
        assert!(!Asks::of("Hva er en karensperiode?").figure);
        assert!(Asks::of("Hvordan klager vi?").steps);
        assert!(Asks::of("Hva skjer hvis vi vant?").condition);
        assert!(!Asks::of("Hva er ESPD?").condition);
    }

    #[test]
    fn a_figure_question_gets_the_section_with_the_figure() {
        let p = passages(BODY);
        let coverage = cov(&[0.6, 0.6, 0.3, 0.3]);
        let chosen = choose(&p, &coverage, Asks::of("Hvor lang er karensperioden?"));
        assert_eq!(chosen, Some(1));
    }

    #[test]
    fn the_lead_alone_when_it_covers_as_much() {
        let p = passages(BODY);
        let coverage = cov(&[0.8, 0.5, 0.5, 0.5]);
        assert_eq!(
            choose(&p, &coverage, Asks::of("Hva er en karensperiode?")),
            None
        );
    }

    #[test]
    fn steps_and_cases_and_words_only_a_section_has() {
        let p = passages(BODY);
        assert_eq!(
            choose(
                &p,
                &cov(&[0.4, 0.4, 0.7, 0.4]),
                Asks::of("Hvordan klager vi?")
            ),
            Some(2)
        );
        assert_eq!(
            choose(
                &p,
                &cov(&[0.5, 0.5, 0.5, 0.7]),
                Asks::of("Hva gjør vi hvis vi vant?")
            ),
            Some(3)
        );
        // A section that covers nothing of the question is never shown.
        assert_eq!(
            choose(&p, &cov(&[0.0, 0.0, 0.0, 0.0]), Asks::of("Hvor lang?")),
            None
        );
        for figure in [
            "ti dager",
            "NOK 1 300 000",
            "25 %",
            "10 days",
            "10 per cent",
            "500 000 kroner",
        ] {
            assert!(has_figure(figure), "{figure}");
        }
        for not_figure in [
            "en dag",
            "§ 10-1",
            "1. Les begrunnelsen.",
            "del III",
            "per 29. november 2026",
            "as of 2026-11-29",
        ] {
            assert!(!has_figure(not_figure), "{not_figure}");
        }
    }

    /// The figure pattern is the one written out before it had a boundary-free twin, and
    /// the twin finds a figure wherever the pattern does (never a miss it would cause).
    #[test]
    fn the_figure_prefilter_misses_no_figure() {
        let number = r"(?:\d[\d \u{a0}.,]*|\b(?:to|tre|fire|fem|seks|sju|syv|åtte|ni|ti|tolv|femten|tjue|tretti|førti|femti|hundre|tusen|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty|forty|fifty|hundred|thousand))";
        let unit = r"(?:%|(?:prosent|percent|per cent|virkedager|arbeidsdager|dagers|dager|dagar|dag|days|day|working days|uker|veker|weeks|måneder|månader|months|år|years|timer|hours|kroner|kr|nok|mill(?:ion|ioner|ions)?|milliard(?:er)?|billion)\b)";
        assert_eq!(
            figure_pattern(r"\b"),
            format!(r"(?i){number}\s*(?:{unit})|\b(?:nok|kr\.?)\s*\d")
        );
        let bundled = crate::knowledge::load_dir(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge"),
        )
        .unwrap()
        .0;
        let mut figures = 0;
        for entry in &bundled.entries {
            for p in passages(&entry.body_text()) {
                let text = format!("{}\n{}", p.heading.unwrap_or(""), p.text);
                if FIGURE.is_match(&text) {
                    figures += 1;
                    assert!(MAYBE_FIGURE.is_match(&text), "{text}");
                }
            }
        }
        assert!(figures > 10, "{figures} passages with a figure");
    }
}
