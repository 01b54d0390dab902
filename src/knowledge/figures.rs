//! Figures that change over time, found in an entry's text: amounts of money,
//! percentages and periods (days, working days, weeks, months, years), in Bokmål and
//! English, in digits ("1,3 millioner kroner", "NOK 500,000", "30 %") or words ("ti
//! dager", "six months"). `kb lint` uses them to ask for the date each was checked;
//! a fact covers a figure in the body when its text holds the same figure.
//!
//! Figures in a sentence after "for eksempel" / "for example" / "e.g." are examples,
//! not rules, and need no date. A sentence may carry its own date: "per 6. desember
//! 2026", "as of 6 December 2026", "(per 2026-12-06)".

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

// The month names the organisers' texts use, for dates such as "6. desember 2026".
use crate::announce::format::{MONTHS_EN, MONTHS_NB};

/// What a figure measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FigureKind {
    Money,
    Percent,
    Days,
    WorkingDays,
    Weeks,
    Months,
    Years,
}

/// One figure in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub kind: FigureKind,
    /// In units of the kind: kroner (or euro), percent, days …
    pub value: f64,
    /// The figure as written: "1,3 millioner kroner".
    pub text: String,
    /// Byte offset of the figure in the text it was found in.
    pub offset: usize,
}

impl Figure {
    /// The same measure and amount (whatever the wording or language).
    pub fn same_as(&self, other: &Figure) -> bool {
        self.kind == other.kind
            && (self.value - other.value).abs() <= 1e-9 * self.value.abs().max(1.0)
    }
}

const NUMBER: &str = r"(?P<num>\d{1,3}(?:[ \u{a0}\u{202f}.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)";
const WORD_NUMBER: &str = r"(?P<word>to|tre|fire|fem|seks|sju|syv|åtte|ni|ti|elleve|tolv|femten|tjue|tretti|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty)";
const SCALE: &str = r"(?P<scale>millioner|million|millions|mill\.|mill|milliarder|milliard|billion|billions|mrd\.|mrd|MNOK)";
const CURRENCY_AFTER: &str = r"(?P<cur>kroner|kr\.|kr|NOK|euro|EUR)";
const UNIT: &str = r"(?P<unit>%|prosent|percent|per cent|kalenderdager|calendar days|virkedager|virkedagar|arbeidsdager|arbeidsdagar|working days|business days|dager|dagar|days|day|uker|veker|weeks|week|måneder|månader|months|month|år|years|year)";

static FIGURE: LazyLock<Regex> = LazyLock::new(|| {
    let pattern = format!(
        r"(?i)(?P<pre>NOK|kr\.|€|EUR)?\s?(?:{NUMBER}|\b{WORD_NUMBER})(?:\s{SCALE})?(?:\s(?:{CURRENCY_AFTER}|{UNIT}))?(?:\b|$)"
    );
    Regex::new(&pattern).expect("valid figure pattern")
});

/// Sentences end at ". ", "! " or "? " before a capital (not after "1." in "1. juli")
/// and at line ends.
static SENTENCE_END: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[.!?]\s+[A-ZÆØÅ«(*\[]|\n").expect("valid pattern"));

static EXAMPLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:for eksempel|for example|eksempelvis)\b|\be\.g\.|\bf\.eks\.")
        .expect("valid pattern")
});

static AS_OF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:per|pr\.|as of|as at)\s+(?:(?P<iso>\d{4}-\d{2}-\d{2})|(?P<day>\d{1,2})\.?\s+(?P<month>[a-zæøå]+)\s+(?P<year>\d{4}))",
    )
    .expect("valid pattern")
});

fn word_value(word: &str) -> Option<f64> {
    let n = match word.to_lowercase().as_str() {
        "to" | "two" => 2,
        "tre" | "three" => 3,
        "fire" | "four" => 4,
        "fem" | "five" => 5,
        "seks" | "six" => 6,
        "sju" | "syv" | "seven" => 7,
        "åtte" | "eight" => 8,
        "ni" | "nine" => 9,
        "ti" | "ten" => 10,
        "elleve" | "eleven" => 11,
        "tolv" | "twelve" => 12,
        "femten" | "fifteen" => 15,
        "tjue" | "twenty" => 20,
        "tretti" | "thirty" => 30,
        _ => return None,
    };
    Some(f64::from(n))
}

/// "1,3" → 1.3; "500 000" and "500,000" → 500000; "1.49" → 1.49. Every separator
/// groups thousands but the last one when fewer or more than three digits follow it:
/// that one is the decimal mark.
fn number_value(text: &str) -> Option<f64> {
    let groups: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let (last, rest) = groups.split_last()?;
    if rest.is_empty() {
        return last.parse().ok();
    }
    let number = if last.len() == 3 {
        groups.concat()
    } else {
        format!("{}.{last}", rest.concat())
    };
    number.parse().ok()
}

fn unit_kind(unit: &str) -> Option<FigureKind> {
    let u = unit.to_lowercase();
    Some(match u.as_str() {
        "%" | "prosent" | "percent" | "per cent" => FigureKind::Percent,
        "virkedager" | "virkedagar" | "arbeidsdager" | "arbeidsdagar" | "working days"
        | "business days" => FigureKind::WorkingDays,
        "kalenderdager" | "calendar days" | "dager" | "dagar" | "days" | "day" => FigureKind::Days,
        "uker" | "veker" | "weeks" | "week" => FigureKind::Weeks,
        "måneder" | "månader" | "months" | "month" => FigureKind::Months,
        "år" | "years" | "year" => FigureKind::Years,
        _ => return None,
    })
}

/// Every figure in `text`, in order.
pub fn figures(text: &str) -> Vec<Figure> {
    let mut found = Vec::new();
    for caps in FIGURE.captures_iter(text) {
        let whole = caps.get(0).expect("a match");
        let start = caps
            .name("pre")
            .or_else(|| caps.name("num"))
            .or_else(|| caps.name("word"))
            .map_or(whole.start(), |m| m.start());
        // "2+1+1 år": the parts of a sum are not figures on their own.
        if text[..start].ends_with('+') {
            continue;
        }
        let scale = caps.name("scale").map(|m| m.as_str().to_lowercase());
        let money_marker =
            caps.name("pre").is_some() || caps.name("cur").is_some() || scale.is_some();
        let unit = caps.name("unit").and_then(|m| unit_kind(m.as_str()));
        let (base, is_word) = match (caps.name("num"), caps.name("word")) {
            (Some(n), _) => match number_value(n.as_str()) {
                Some(v) => (v, false),
                None => continue,
            },
            (None, Some(w)) => match word_value(w.as_str()) {
                Some(v) => (v, true),
                None => continue,
            },
            _ => continue,
        };
        let kind = match (unit, money_marker) {
            (Some(kind), _) => kind,
            (None, true) if !is_word => FigureKind::Money,
            _ => continue,
        };
        let factor = match scale.as_deref() {
            Some("millioner" | "million" | "millions" | "mill." | "mill" | "mnok") => 1e6,
            Some("milliarder" | "milliard" | "billion" | "billions" | "mrd." | "mrd") => 1e9,
            _ => 1.0,
        };
        // A scale word with a unit that is not money ("2 millioner dager") is odd;
        // keep the value as written.
        let value = if kind == FigureKind::Money {
            base * factor
        } else {
            base
        };
        found.push(Figure {
            kind,
            value,
            text: text[start..whole.end()].trim().to_string(),
            offset: start,
        });
    }
    found
}

/// The sentence spans of `text`, as byte ranges.
pub fn sentences(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let mut start = 0;
    for m in SENTENCE_END.find_iter(text) {
        // End after the punctuation (or the newline); the next sentence starts at
        // its capital.
        let end = if m.as_str() == "\n" {
            m.start()
        } else {
            m.start() + 1
        };
        spans.push(start..end);
        start = if m.as_str() == "\n" {
            m.end()
        } else {
            m.end() - m.as_str().chars().last().map_or(0, char::len_utf8)
        };
    }
    spans.push(start..text.len());
    spans.retain(|r| !text[r.clone()].trim().is_empty());
    spans
}

/// The date a sentence says its figures are "as of", if it says one.
pub fn as_of_date(sentence: &str) -> Option<NaiveDate> {
    let caps = AS_OF.captures(sentence)?;
    if let Some(iso) = caps.name("iso") {
        return NaiveDate::parse_from_str(iso.as_str(), "%Y-%m-%d").ok();
    }
    let day: u32 = caps.name("day")?.as_str().parse().ok()?;
    let year: i32 = caps.name("year")?.as_str().parse().ok()?;
    let month = caps.name("month")?.as_str();
    let index = MONTHS_NB
        .iter()
        .chain(MONTHS_EN.iter())
        .position(|m| m.eq_ignore_ascii_case(month))?
        % 12;
    NaiveDate::from_ymd_opt(year, u32::try_from(index).ok()? + 1, day)
}

/// A figure of a body that needs a date, with the sentence's own date if it has one.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureInContext {
    pub figure: Figure,
    /// "per 6. desember 2026" in the same sentence.
    pub as_of: Option<NaiveDate>,
    /// The sentence, trimmed.
    pub sentence: String,
}

/// The figures of a body that need a date: all but those given as examples.
pub fn dated_figures(body: &str) -> Vec<FigureInContext> {
    let mut out = Vec::new();
    for span in sentences(body) {
        let sentence = &body[span.clone()];
        let example_from = EXAMPLE.find(sentence).map_or(usize::MAX, |m| m.start());
        let as_of = as_of_date(sentence);
        for mut figure in figures(sentence) {
            if figure.offset >= example_from {
                continue;
            }
            figure.offset += span.start;
            out.push(FigureInContext {
                figure,
                as_of,
                sentence: sentence.trim().to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<(FigureKind, f64)> {
        figures(text).iter().map(|f| (f.kind, f.value)).collect()
    }

    #[test]
    fn amounts_in_both_languages() {
        use FigureKind::*;
        assert_eq!(
            values("1,3 millioner kroner eks. mva."),
            vec![(Money, 1.3e6)]
        );
        assert_eq!(values("NOK 1.3 million"), vec![(Money, 1.3e6)]);
        assert_eq!(values("over 500 000 kroner"), vec![(Money, 500_000.0)]);
        assert_eq!(
            values("above NOK 500,000 excluding VAT"),
            vec![(Money, 500_000.0)]
        );
        assert_eq!(
            values("8 000 kroner (1 000 kroner)"),
            vec![(Money, 8000.0), (Money, 1000.0)]
        );
        assert_eq!(values("€5,404,000 for works"), vec![(Money, 5_404_000.0)]);
        assert_eq!(values("57,8 millioner"), vec![(Money, 57.8e6)]);
        assert_eq!(values("NOK 62.9 million"), vec![(Money, 62.9e6)]);
        assert_eq!(values("10 milliarder kroner"), vec![(Money, 1e10)]);
        assert_eq!(values("NOK 10 billion"), vec![(Money, 1e10)]);
    }

    #[test]
    fn percentages_and_periods_in_digits_and_words() {
        use FigureKind::*;
        assert_eq!(values("minst 30 prosent"), vec![(Percent, 30.0)]);
        assert_eq!(values("at least 30 %"), vec![(Percent, 30.0)]);
        assert_eq!(values("minst ti prosent"), vec![(Percent, 10.0)]);
        assert_eq!(
            values("minst ti dager (15 dager ellers)"),
            vec![(Days, 10.0), (Days, 15.0)]
        );
        assert_eq!(values("innen fem arbeidsdager"), vec![(WorkingDays, 5.0)]);
        assert_eq!(values("within ten working days"), vec![(WorkingDays, 10.0)]);
        assert_eq!(
            values("seks måneder, to år"),
            vec![(Months, 6.0), (Years, 2.0)]
        );
        assert_eq!(values("six months"), vec![(Months, 6.0)]);
    }

    #[test]
    fn section_numbers_dates_and_names_are_not_figures() {
        assert!(figures("anskaffelsesforskriften § 7-2 og §§ 26-4 til 26-7").is_empty());
        assert!(figures("1. juli 2026, 5 February 2026, Prop. 147 L (2024–2025)").is_empty());
        assert!(figures("RF-1507, ISO 14001, del III, kapittel 5").is_empty());
        assert!(figures("rundt 80 deltok").is_empty());
        assert!(figures("for eksempel 2+1+1 år")
            .iter()
            .all(|f| f.value != 1.0));
    }

    #[test]
    fn examples_need_no_date_and_a_sentence_can_carry_its_own() {
        let body = "Vektingen (for eksempel pris 50 % og kvalitet 20 %) står i grunnlaget. \
                    Per 6. desember 2026 er grensen 1,3 millioner kroner.\n- Fristen er 30 dager.";
        let found = dated_figures(body);
        let texts: Vec<(&str, Option<NaiveDate>)> = found
            .iter()
            .map(|f| (f.figure.text.as_str(), f.as_of))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("1,3 millioner kroner", NaiveDate::from_ymd_opt(2026, 12, 6)),
                ("30 dager", None),
            ]
        );
        assert_eq!(
            as_of_date("As of 6 December 2026 the threshold is"),
            NaiveDate::from_ymd_opt(2026, 12, 6)
        );
        assert_eq!(
            as_of_date("(per 2026-11-29)"),
            NaiveDate::from_ymd_opt(2026, 11, 29)
        );
    }
}
