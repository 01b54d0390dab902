//! Notices under an answer: when a question asks for upcoming or open tenders ("hvilke
//! anbud kommer i Nordre Follo?"), the matching current notices (at most
//! [`MAX_SHOWN`]), or an honest word that there are none and how to search Doffin.

use chrono::{DateTime, Utc};

use super::filter::{Filter, TextMatcher};
use super::model::Notice;
use super::vocab::Vocabulary;
use crate::knowledge::Lang;
use crate::store::StoredNotice;

/// The most notices shown under an answer.
pub const MAX_SHOWN: usize = 5;

/// Doffin's own search, for when anbud has nothing to show.
pub const DOFFIN_SEARCH: &str = "https://doffin.no/search";

/// The notices for one question.
#[derive(Debug, Clone, PartialEq)]
pub struct TenderAnswer {
    pub lang: Lang,
    /// Matching current notices, newest first, at most [`MAX_SHOWN`].
    pub notices: Vec<Notice>,
    /// How many matched in all.
    pub matched: usize,
    /// Whether any notice is stored at all (a sync has run).
    pub synced: bool,
    /// What was looked for, in words ("renhold, Akershus").
    pub looked_for: Vec<String>,
}

/// How deadlines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Discord: `<t:UNIX:R>`, shown in the reader's time zone ("in 3 days").
    Discord,
    /// Text: the date and time in Norway.
    Plain,
}

/// The filter a question asks for: its regions, topics and kind, current notices only.
/// `None` when it does not ask for notices.
pub fn filter_for_question(
    question: &str,
    vocab: &Vocabulary,
    now: DateTime<Utc>,
) -> Option<Filter> {
    if !vocab.asks_for_notices(question) {
        return None;
    }
    Some(Filter {
        regions: vocab.regions_in(question),
        topics: vocab.topics_in(question),
        kind: vocab.kind_in(question),
        current_at: Some(now),
        ..Filter::default()
    })
}

/// The notices for a question in `lang`, or `None` when it does not ask for notices.
pub fn for_question(
    question: &str,
    lang: Lang,
    vocab: &Vocabulary,
    matcher: &TextMatcher<'_>,
    stored: &[StoredNotice],
    now: DateTime<Utc>,
) -> Option<TenderAnswer> {
    let filter = filter_for_question(question, vocab, now)?;
    let matching: Vec<&Notice> = stored
        .iter()
        .map(|s| &s.notice)
        .filter(|n| filter.matches(n, matcher))
        .collect();
    let mut looked_for: Vec<String> = Vec::new();
    if let Some(kind) = filter.kind {
        looked_for.push(kind.label(lang == Lang::Nb).to_string());
    }
    looked_for.extend(filter.topics.iter().filter_map(|t| t.text.first().cloned()));
    looked_for.extend(filter.regions.iter().map(|r| r.name.clone()));
    Some(TenderAnswer {
        lang,
        matched: matching.len(),
        notices: matching.into_iter().take(MAX_SHOWN).cloned().collect(),
        synced: !stored.is_empty(),
        looked_for,
    })
}

fn deadline_text(notice: &Notice, style: Style, nb: bool) -> String {
    match (notice.deadline, style) {
        (Some(d), Style::Discord) => crate::announce::discord_timestamp(d, 'R'),
        (Some(d), Style::Plain) => d
            .with_timezone(&chrono_tz::Europe::Oslo)
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        (None, _) if nb => "ikke satt".into(),
        (None, _) => "not set".into(),
    }
}

/// One line per notice: title (linked), buyer, kind, deadline.
pub fn notice_lines(notices: &[Notice], style: Style, lang: Lang) -> String {
    let nb = lang == Lang::Nb;
    let deadline = if nb { "frist" } else { "deadline" };
    notices
        .iter()
        .map(|n| {
            let title = crate::answer::escape_user_text(&n.title);
            format!(
                "- [{title}]({}) — {}; {}; {deadline} {}",
                n.url(),
                crate::answer::escape_user_text(&n.buyer()),
                n.kind.label(nb),
                deadline_text(n, style, nb)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The section under the answer, in Markdown.
pub fn render(answer: &TenderAnswer, style: Style) -> String {
    let nb = answer.lang == Lang::Nb;
    let what = if answer.looked_for.is_empty() {
        String::new()
    } else {
        format!(" ({})", answer.looked_for.join(", "))
    };
    if !answer.synced {
        return if nb {
            format!("**Kunngjøringer fra Doffin**\nJeg har ikke hentet kunngjøringer fra Doffin ennå, så jeg kan ikke vise aktuelle anbud{what}. Søk selv på {DOFFIN_SEARCH}: filtrer på sted, CPV-kode og type (planlegging eller konkurranse).")
        } else {
            format!("**Notices from Doffin**\nI have not fetched any notices from Doffin yet, so I cannot show current tenders{what}. Search Doffin yourself at {DOFFIN_SEARCH}: filter by place, CPV code and type (planning or competition).")
        };
    }
    if answer.notices.is_empty() {
        return if nb {
            format!("**Kunngjøringer fra Doffin**\nJeg fant ingen aktuelle kunngjøringer som passer{what}. Søk selv på {DOFFIN_SEARCH}, gjerne med andre ord eller et større område, eller sett opp et varsel med `/tenders watch`.")
        } else {
            format!("**Notices from Doffin**\nI found no current notices that match{what}. Search Doffin yourself at {DOFFIN_SEARCH}, perhaps with other words or a wider area, or set up an alert with `/tenders watch`.")
        };
    }
    let heading = if nb {
        format!("**Aktuelle kunngjøringer fra Doffin{what}**")
    } else {
        format!("**Current notices from Doffin{what}**")
    };
    let more = answer.matched.saturating_sub(answer.notices.len());
    let tail = match (more, nb) {
        (0, _) => String::new(),
        (n, true) => format!("\n…og {n} til: `anbud tenders list` eller `/tenders`."),
        (n, false) => format!("\n…and {n} more: `anbud tenders list` or `/tenders`."),
    };
    format!(
        "{heading}\n{}{tail}",
        notice_lines(&answer.notices, style, answer.lang)
    )
}

/// The notices for a question asked through `app`, from its store, matched with its
/// answering analyser. `None` when the question does not ask for notices. A database
/// that cannot be read counts as nothing synced (and is logged).
pub async fn for_app(app: &crate::app::App, question: &str, lang: Lang) -> Option<TenderAnswer> {
    let vocab = Vocabulary::bundled();
    let now = Utc::now();
    filter_for_question(question, vocab, now)?;
    let stored = match app.store() {
        Some(store) => store.list_tenders().await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "stored notices unavailable");
            Vec::new()
        }),
        None => Vec::new(),
    };
    let answerer = app.answerer();
    let matcher = TextMatcher::from_analyzer(answerer.index().analyzer());
    for_question(question, lang, vocab, &matcher, &stored, now)
}

/// Adds `"tenders"` (and, when there are none, `"tenders_note"` saying why and how to
/// search Doffin) to an answer's JSON.
pub fn add_to_json(value: &mut serde_json::Value, answer: &TenderAnswer) {
    value["tenders"] =
        serde_json::Value::Array(answer.notices.iter().map(Notice::to_json).collect());
    if answer.notices.is_empty() {
        value["tenders_note"] = render(answer, Style::Plain).into();
    }
}
