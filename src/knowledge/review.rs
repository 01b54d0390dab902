//! Freshness for advisers: every entry and every dated figure by the age of its last
//! check, oldest first (`anbud kb review`), and the weekly message that lists what
//! became stale (see [`digest_text`]).

use chrono::{Duration, NaiveDate};
use serde::Serialize;

use super::figures::dated_figures;
use super::lint::covering_facts;
use super::{Entry, Freshness, KnowledgeBase, Lang};

/// One entry in one language, with what to verify in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewItem {
    pub id: String,
    pub lang: Lang,
    /// The entry's `reviewed` date.
    #[serde(serialize_with = "iso_date")]
    pub reviewed: NaiveDate,
    /// Days since the entry's oldest check: its `reviewed` date or a fact's `checked`,
    /// whichever is older.
    pub age_days: i64,
    /// The oldest check is older than `knowledge.review_after_days`.
    pub stale: bool,
    /// The entry's dated figures, oldest check first.
    pub facts: Vec<ReviewFact>,
}

/// A dated figure: a `[[facts]]` table, or a sentence with its own "per DATE".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewFact {
    pub text: String,
    #[serde(serialize_with = "iso_date")]
    pub checked: NaiveDate,
    pub source: String,
    /// Older than `knowledge.review_after_days`.
    #[serde(skip)]
    pub stale: bool,
}

fn iso_date<S: serde::Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&date.format("%Y-%m-%d").to_string())
}

impl ReviewItem {
    /// The day of the entry's oldest check.
    pub fn oldest_check(&self) -> NaiveDate {
        self.facts
            .iter()
            .map(|f| f.checked)
            .chain(std::iter::once(self.reviewed))
            .min()
            .unwrap_or(self.reviewed)
    }
}

/// The dated figures of one entry: its facts, and sentences dated inline whose figure
/// no fact states (their source is the entry's first source).
fn entry_facts(entry: &Entry, freshness: Freshness) -> Vec<ReviewFact> {
    let mut facts: Vec<ReviewFact> = entry
        .facts
        .iter()
        .map(|f| ReviewFact {
            text: f.text.to_string(),
            checked: f.checked,
            source: f.source.to_string(),
            stale: freshness.is_stale(f.checked),
        })
        .collect();
    let first_source = entry
        .sources
        .first()
        .map(|s| s.url.to_string())
        .unwrap_or_default();
    let body = entry.body_text();
    for found in dated_figures(&body) {
        let Some(as_of) = found.as_of else { continue };
        if covering_facts(entry, &found.figure).next().is_some()
            || facts.iter().any(|f| f.text == found.sentence)
        {
            continue;
        }
        facts.push(ReviewFact {
            text: found.sentence,
            checked: as_of,
            source: first_source.clone(),
            stale: freshness.is_stale(as_of),
        });
    }
    facts.sort_by(|a, b| a.checked.cmp(&b.checked).then_with(|| a.text.cmp(&b.text)));
    facts
}

/// Every entry of `kb` with its dated figures, the oldest check first (then by id and
/// language).
pub fn review(kb: &KnowledgeBase, freshness: Freshness) -> Vec<ReviewItem> {
    let mut items: Vec<ReviewItem> = kb
        .entries
        .iter()
        .map(|entry| {
            let facts = entry_facts(entry, freshness);
            let mut item = ReviewItem {
                id: entry.id.clone(),
                lang: entry.lang,
                reviewed: entry.reviewed,
                age_days: 0,
                stale: false,
                facts,
            };
            let oldest = item.oldest_check();
            item.age_days = (freshness.today - oldest).num_days();
            item.stale = freshness.is_stale(oldest);
            item
        })
        .collect();
    items.sort_by(|a, b| {
        b.age_days
            .cmp(&a.age_days)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.lang.cmp(&b.lang))
    });
    items
}

/// The review as a person reads it: one block per entry, stale ones marked.
pub fn format_review(items: &[ReviewItem], freshness: Freshness) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str(&format!(
            "{} {} ({}): oldest check {} days ago; reviewed {}\n",
            if item.stale { "STALE" } else { "ok   " },
            item.id,
            item.lang,
            item.age_days,
            item.reviewed
        ));
        for fact in &item.facts {
            out.push_str(&format!(
                "    {} {}  {}\n        check against: {}\n",
                if fact.stale { "STALE" } else { "ok   " },
                fact.checked,
                fact.text,
                fact.source
            ));
        }
    }
    let stale = items.iter().filter(|i| i.stale).count();
    out.push_str(&format!(
        "{} entries, {stale} stale (older than knowledge.review_after_days = {} days on {})\n",
        items.len(),
        freshness.review_after_days,
        freshness.today
    ));
    out
}

/// Something that became stale: an entry's review, or one of its figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BecameStale {
    pub id: String,
    pub lang: Lang,
    /// The figure's text, or `None` for the entry's `reviewed` date.
    pub fact: Option<String>,
    pub checked: NaiveDate,
    pub source: Option<String>,
}

/// What became stale after `since` and by `freshness.today`: a check on day `c`
/// becomes stale on `c + review_after_days + 1`.
pub fn became_stale(
    items: &[ReviewItem],
    since: NaiveDate,
    freshness: Freshness,
) -> Vec<BecameStale> {
    let stale_on =
        |checked: NaiveDate| checked + Duration::days(i64::from(freshness.review_after_days) + 1);
    let in_window = |checked: NaiveDate| {
        let day = stale_on(checked);
        day > since && day <= freshness.today
    };
    let mut out = Vec::new();
    for item in items {
        if in_window(item.reviewed) {
            out.push(BecameStale {
                id: item.id.clone(),
                lang: item.lang,
                fact: None,
                checked: item.reviewed,
                source: None,
            });
        }
        for fact in item.facts.iter().filter(|f| in_window(f.checked)) {
            out.push(BecameStale {
                id: item.id.clone(),
                lang: item.lang,
                fact: Some(fact.text.clone()),
                checked: fact.checked,
                source: Some(fact.source.clone()),
            });
        }
    }
    out.sort_by(|a, b| (a.checked, &a.id, a.lang).cmp(&(b.checked, &b.id, b.lang)));
    out
}

/// The longest digest message: Discord's limit, with room to spare.
const DIGEST_LIMIT: usize = 1900;

/// The weekly message for the advisers' channel: what became stale since the last one
/// (`since`), and how many entries are stale in all. `None` when nothing is stale.
pub fn digest_text(
    items: &[ReviewItem],
    since: NaiveDate,
    freshness: Freshness,
    lang: Lang,
) -> Option<String> {
    let stale_entries = items.iter().filter(|i| i.stale).count();
    if stale_entries == 0 {
        return None;
    }
    let new = became_stale(items, since, freshness);
    let days = freshness.review_after_days;
    let mut text = match (lang, new.is_empty()) {
        (Lang::Nb, false) => format!(
            "**Kunnskapsbasen:** {} ting ble foreldet siden {since} (sist kontrollert for mer enn {days} dager siden). Kontroller dem mot kilden, og oppdater `checked` / `reviewed`:\n",
            new.len()
        ),
        (Lang::Nb, true) => format!(
            "**Kunnskapsbasen:** ingenting nytt ble foreldet siden {since}.\n"
        ),
        (Lang::En, false) => format!(
            "**Knowledge base:** {} items became stale since {since} (last checked more than {days} days ago). Check them against the source and update `checked` / `reviewed`:\n",
            new.len()
        ),
        (Lang::En, true) => format!("**Knowledge base:** nothing new became stale since {since}.\n"),
    };
    let footer = match lang {
        Lang::Nb => format!(
            "Foreldet i alt: {stale_entries} av {} oppføringer. Hele listen: `anbud kb review`.",
            items.len()
        ),
        Lang::En => format!(
            "Stale in all: {stale_entries} of {} entries. The full list: `anbud kb review`.",
            items.len()
        ),
    };
    let mut left_out = 0;
    for item in &new {
        let line = match (&item.fact, &item.source) {
            (Some(fact), Some(source)) => format!(
                "- {} ({}): «{}» – {} {}, <{}>\n",
                item.id,
                item.lang,
                shorten(fact, 160),
                if lang == Lang::Nb {
                    "kontrollert"
                } else {
                    "checked"
                },
                item.checked,
                source
            ),
            _ => format!(
                "- {} ({}): {} {}\n",
                item.id,
                item.lang,
                if lang == Lang::Nb {
                    "hele oppføringen, sist gjennomgått"
                } else {
                    "the whole entry, last reviewed"
                },
                item.checked
            ),
        };
        if text.chars().count() + line.chars().count() + footer.chars().count() + 40 > DIGEST_LIMIT
        {
            left_out += 1;
            continue;
        }
        text.push_str(&line);
    }
    if left_out > 0 {
        text.push_str(&match lang {
            Lang::Nb => format!("- … og {left_out} til\n"),
            Lang::En => format!("- … and {left_out} more\n"),
        });
    }
    text.push_str(&footer);
    Some(text)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Fact;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn entry(id: &str, reviewed: &str, facts: &[(&str, &str)]) -> Entry {
        let mut e = Entry::new(id, Lang::Nb, id, &["a"], "Tekst.");
        e.reviewed = date(reviewed);
        e.facts = facts
            .iter()
            .map(|(text, checked)| Fact {
                text: (*text).into(),
                checked: date(checked),
                source: "https://example.org/side".into(),
                line: None,
            })
            .collect();
        e
    }

    fn freshness(today: &str) -> Freshness {
        Freshness {
            today: date(today),
            review_after_days: 180,
        }
    }

    #[test]
    fn oldest_check_first_and_a_stale_fact_makes_its_entry_stale() {
        let kb = KnowledgeBase {
            entries: vec![
                entry("a-fresh", "2026-12-01", &[]),
                entry("b-old-fact", "2026-12-01", &[("30 dager", "2026-01-02")]),
                entry("c-old-entry", "2026-03-01", &[]),
            ],
            ..Default::default()
        };
        let items = review(&kb, freshness("2026-12-06"));
        let order: Vec<(&str, i64, bool)> = items
            .iter()
            .map(|i| (i.id.as_str(), i.age_days, i.stale))
            .collect();
        assert_eq!(
            order,
            vec![
                ("b-old-fact", 338, true),
                ("c-old-entry", 280, true),
                ("a-fresh", 5, false),
            ]
        );
        assert!(items[0].facts[0].stale);
    }

    #[test]
    fn the_digest_lists_what_became_stale_since_the_last_one() {
        let kb = KnowledgeBase {
            entries: vec![
                // stale since long ago: not new
                entry("old", "2025-01-01", &[]),
                // checked 2026-06-07: stale from 2026-12-05
                entry("new", "2026-12-01", &[("NOK 1.3 million", "2026-06-07")]),
            ],
            ..Default::default()
        };
        let f = freshness("2026-12-06");
        let items = review(&kb, f);
        let news = became_stale(&items, date("2026-11-29"), f);
        assert_eq!(news.len(), 1);
        assert_eq!(news[0].id, "new");
        let text = digest_text(&items, date("2026-11-29"), f, Lang::En).unwrap();
        assert!(text.contains("NOK 1.3 million"), "{text}");
        assert!(text.contains("Stale in all: 2 of 2"), "{text}");
        assert!(!text.contains("old (nb)"), "{text}");
        let fresh = KnowledgeBase {
            entries: vec![entry("fresh", "2026-12-01", &[])],
            ..Default::default()
        };
        assert_eq!(
            digest_text(&review(&fresh, f), date("2026-11-29"), f, Lang::Nb),
            None
        );
    }
}
