//! Events in answers: database events become knowledge entries, and a question about
//! an event gets the next upcoming one, with a line saying when it is or that it is
//! over.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::format::{event_span, event_timing_line};
use super::model::Event;
use crate::answer::{Candidate, Reply};
use crate::knowledge::{Entry, EventInfo, KnowledgeBase, Lang, Source};
use crate::search::analysis::{fold, words};
use crate::store::StoredEvent;

/// How far below the best candidate's confidence another event may score and still
/// be preferred for being upcoming.
pub const EVENT_SCORE_MARGIN: f32 = 0.15;

/// How many related entries an answer offers when the event preference changes the
/// entry (the answer settings' default).
const RELATED_AFTER_SWITCH: usize = 3;

/// Words (folded, as prefixes) that make a question about an event.
const TOPIC_PREFIXES: &[&str] = &[
    "konferans", "arrangement", "pamelding", "pamelde", "seminar", "frokostmote", "dialogmote", "mote",
    "samling", "webinar", "kurs", "conferenc", "event", "meeting", "registr", "workshop",
];

/// Question words that ask about an event's time, place or audience (folded, whole words).
const DETAIL_WORDS: &[&str] = &[
    "nar", "hvor", "hvem", "dato", "sted", "tid", "tidspunkt", "neste", "kommende", "delta", "when", "where",
    "who", "date", "venue", "next", "upcoming", "attend", "register",
];

fn has_topic_word(question: &str) -> bool {
    words(question).iter().map(|w| fold(w)).any(|w| TOPIC_PREFIXES.iter().any(|p| w.starts_with(p)))
}

fn has_detail_word(question: &str) -> bool {
    words(question).iter().map(|w| fold(w)).any(|w| DETAIL_WORDS.contains(&w.as_str()))
}

/// Whether a question asks about an event: "når er neste konferanse?", "hvor er
/// konferansen?", "who can attend the event?".
pub fn is_event_question(question: &str) -> bool {
    has_topic_word(question) || has_detail_word(question) && question.contains('?')
}

/// Prefers the next upcoming event in a reply and notes whether its event is past or
/// upcoming. Call it on every reply before rendering it, with the knowledge base the
/// reply came from ([`App::answer_only`](crate::app::App::answer_only) does).
///
/// - When the reply's entry is an event, or the question names an event ("konferanse",
///   "arrangement", "event", …), the candidates that are events and score within
///   [`EVENT_SCORE_MARGIN`] of the best are ordered upcoming first (soonest first),
///   and the reply switches to the first upcoming one. A reply about a non-event entry
///   switches to a past event only when the question also asks when, where or who.
/// - `reply.event_note` gets the line to show: "Kommende arrangement: …" or
///   "Dette arrangementet er avholdt (1. november 2017)."
///
/// Returns whether the reply's entry changed.
pub fn prefer_upcoming_event(reply: &mut Reply, kb: &KnowledgeBase, tz: Tz, now: DateTime<Utc>) -> bool {
    let Some(entry) = &reply.entry else { return false };
    let entry_is_event = entry.event.is_some();
    let topic = has_topic_word(&reply.question);
    if !entry_is_event && !topic {
        return false;
    }
    let floor = reply.score - EVENT_SCORE_MARGIN;
    let mut pool: Vec<(Candidate, Event)> = reply
        .candidates
        .iter()
        .filter(|c| c.score >= floor)
        .filter_map(|c| {
            let event = Event::from_entry(kb.entry(&c.id, reply.lang)?, tz)?;
            Some((c.clone(), event))
        })
        .collect();
    if entry_is_event && !pool.iter().any(|(c, _)| c.id == entry.id) {
        if let Some(event) = Event::from_entry(entry, tz) {
            pool.push((Candidate { id: entry.id.clone(), title: entry.title.clone(), score: reply.score }, event));
        }
    }
    let upcoming = pool.iter().filter(|(_, e)| e.is_upcoming(now)).min_by_key(|(c, e)| (e.start, c.id.clone()));
    let chosen = match upcoming {
        Some(found) => Some(found.clone()),
        None if entry_is_event => pool.iter().find(|(c, _)| c.id == entry.id).cloned(),
        None if has_detail_word(&reply.question) => {
            pool.iter().max_by_key(|(c, e)| (e.start, std::cmp::Reverse(c.id.clone()))).cloned()
        }
        None => None,
    };
    let Some((candidate, event)) = chosen else { return false };
    let changed = candidate.id != entry.id;
    if changed {
        let Some(new_entry) = kb.entry(&candidate.id, reply.lang).cloned() else { return false };
        reply.score = candidate.score;
        reply.tied_with = None;
        reply.related = new_entry
            .related
            .iter()
            .filter_map(|id| kb.entry(id, reply.lang))
            .take(RELATED_AFTER_SWITCH)
            .map(|e| Candidate { id: e.id.clone(), title: e.title.clone(), score: 0.0 })
            .collect();
        reply.entry = Some(new_entry);
    }
    reply.event_note = Some(event_timing_line(&event, now, reply.lang));
    changed
}

/// An event added by an organiser, as a knowledge entry the answering core can find
/// and answer from, in the event's language. [`App`](crate::app::App) merges these
/// like taught entries.
pub fn stored_event_to_entry(stored: &StoredEvent, tz: Tz) -> Entry {
    let event = Event::from_stored(stored, tz);
    let lang = event.lang;
    let title = event.title.trim();
    let (questions, keywords, labels) = match lang {
        Lang::Nb => (
            vec![
                format!("Når er {title}?"),
                format!("Hvor er {title}?"),
                format!("Hvem kan delta på {title}?"),
                format!("Hvordan melder jeg meg på {title}?"),
                "Når er neste arrangement?".to_owned(),
                title.to_owned(),
            ],
            vec!["arrangement".to_owned(), "påmelding".to_owned(), event.venue.clone()],
            ["Tid", "Sted", "For", "Arrangør", "Påmelding"],
        ),
        Lang::En => (
            vec![
                format!("When is {title}?"),
                format!("Where is {title}?"),
                format!("Who can attend {title}?"),
                format!("How do I register for {title}?"),
                "When is the next event?".to_owned(),
                title.to_owned(),
            ],
            vec!["event".to_owned(), "registration".to_owned(), event.venue.clone()],
            ["When", "Where", "For", "Organiser", "Registration"],
        ),
    };
    let mut details = vec![
        format!("**{}:** {}", labels[0], event_span(event.start_local, event.end_local, lang)),
        format!("**{}:** {}", labels[1], event.place()),
    ];
    for (label, value) in [(labels[2], &event.audience), (labels[3], &event.organiser), (labels[4], &event.registration_url)] {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            details.push(format!("**{label}:** {value}"));
        }
    }
    let details = details.join("\n");
    let description = event.description.trim();
    let body = if description.is_empty() { details } else { format!("{description}\n\n{details}") };
    let source_name = event.organiser.clone().unwrap_or_else(|| match lang {
        Lang::Nb => "Arrangøren".to_owned(),
        Lang::En => "The organiser".to_owned(),
    });
    Entry {
        id: event.id.clone(),
        lang,
        title: title.to_owned(),
        questions,
        keywords,
        related: Vec::new(),
        reviewed: stored.updated_at.with_timezone(&tz).date_naive(),
        sources: vec![Source { name: source_name, url: event.registration_url.clone().unwrap_or_default() }],
        body,
        event: Some(EventInfo {
            start: event.start_local,
            end: event.end_local,
            venue: event.venue.clone(),
            address: event.address.clone(),
            registration_url: event.registration_url.clone(),
            organiser: event.organiser.clone(),
            audience: event.audience.clone(),
        }),
        path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_questions_are_recognised() {
        for q in ["Når er neste konferanse?", "hvor er konferansen?", "When is the next conference?", "Hvem kan delta?"] {
            assert!(is_event_question(q), "{q}");
        }
        for q in ["Hva er terskelverdien", "What is ESPD"] {
            assert!(!is_event_question(q), "{q}");
        }
    }
}
