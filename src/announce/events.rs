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

/// Parts of words (folded) that make a question about an event; parts, because
/// Norwegian compounds them: "leverandørkonferansen", "dialogmøtet".
const TOPIC_PARTS: &[&str] = &[
    "konferans",
    "arrangement",
    "pamelding",
    "pamelde",
    "seminar",
    "mote",
    "samling",
    "webinar",
    "kurs",
    "conferenc",
    "event",
    "meeting",
    "registr",
    "workshop",
];

/// Question words that ask about an event's time, place or audience (folded, whole words).
const DETAIL_WORDS: &[&str] = &[
    "nar",
    "hvor",
    "hvem",
    "dato",
    "sted",
    "tid",
    "tidspunkt",
    "neste",
    "kommende",
    "delta",
    "when",
    "where",
    "who",
    "date",
    "venue",
    "next",
    "upcoming",
    "attend",
    "register",
];

fn has_topic_word(question: &str) -> bool {
    words(question)
        .iter()
        .map(|w| fold(w))
        .any(|w| TOPIC_PARTS.iter().any(|p| w.contains(p)))
}

fn has_detail_word(question: &str) -> bool {
    words(question)
        .iter()
        .map(|w| fold(w))
        .any(|w| DETAIL_WORDS.contains(&w.as_str()))
}

/// Whether a question asks when, where or for whom an event is: "når er neste
/// konferanse?", "hvor er leverandørkonferansen?", "who can attend the event?". "Hva er
/// en dialogkonferanse?" names an event but asks what it is: not an event question.
pub fn is_event_question(question: &str) -> bool {
    has_topic_word(question) && has_detail_word(question)
}

/// Prefers the next upcoming event in a reply and notes whether its event is past or
/// upcoming. Call it on every reply before rendering it, with the knowledge base the
/// reply came from ([`App::answer_only`](crate::app::App::answer_only) does).
///
/// - When the reply's entry is an event, or the question is an
///   [event question](is_event_question) (names an event and asks when, where or
///   who), the candidates that are events and score within [`EVENT_SCORE_MARGIN`] of
///   the best are ordered upcoming first (soonest first), and the reply switches to
///   the first upcoming one. With no upcoming one the reply keeps its entry.
/// - `reply.event_note` gets the line to show: "Kommende arrangement: …" or
///   "Dette arrangementet er avholdt (1. november 2017)."
///
/// Returns whether the reply's entry changed.
pub fn prefer_upcoming_event(
    reply: &mut Reply,
    kb: &KnowledgeBase,
    tz: Tz,
    now: DateTime<Utc>,
) -> bool {
    let Some(entry) = &reply.entry else {
        return false;
    };
    let entry_is_event = entry.event.is_some();
    if !entry_is_event && !is_event_question(&reply.question) {
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
            pool.push((
                Candidate {
                    id: entry.id.clone(),
                    title: entry.title.clone(),
                    score: reply.score,
                },
                event,
            ));
        }
    }
    let upcoming = pool
        .iter()
        .filter(|(_, e)| e.is_upcoming(now))
        .min_by_key(|(c, e)| (e.start, c.id.clone()));
    let chosen = match upcoming {
        Some(found) => Some(found.clone()),
        // No upcoming event: an event keeps its answer (and is marked past); a general
        // entry ("what is a dialogue conference") beats a past event.
        None if entry_is_event => pool.iter().find(|(c, _)| c.id == entry.id).cloned(),
        None => None,
    };
    let Some((candidate, event)) = chosen else {
        return false;
    };
    let changed = candidate.id != entry.id;
    // A tie between two events is settled by their dates, not asked about.
    if reply
        .tied_with
        .as_ref()
        .is_some_and(|t| pool.iter().any(|(c, _)| c.id == t.id))
    {
        reply.tied_with = None;
    }
    if changed {
        let Some(new_entry) = kb.entry(&candidate.id, reply.lang).cloned() else {
            return false;
        };
        reply.score = candidate.score;
        reply.tied_with = None;
        reply.related = new_entry
            .related
            .iter()
            .filter_map(|id| kb.entry(id, reply.lang))
            .take(RELATED_AFTER_SWITCH)
            .map(|e| Candidate {
                id: e.id.clone(),
                title: e.title.clone(),
                score: 0.0,
            })
            .collect();
        reply.entry = Some(new_entry);
        reply.passage = None;
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
            vec![
                "arrangement".to_owned(),
                "påmelding".to_owned(),
                event.venue.clone(),
            ],
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
            vec![
                "event".to_owned(),
                "registration".to_owned(),
                event.venue.clone(),
            ],
            ["When", "Where", "For", "Organiser", "Registration"],
        ),
    };
    let mut details = vec![
        format!(
            "**{}:** {}",
            labels[0],
            event_span(event.start_local, event.end_local, lang)
        ),
        format!("**{}:** {}", labels[1], event.place()),
    ];
    for (label, value) in [
        (labels[2], &event.audience),
        (labels[3], &event.organiser),
        (labels[4], &event.registration_url),
    ] {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            details.push(format!("**{label}:** {value}"));
        }
    }
    let details = details.join("\n");
    let description = event.description.trim();
    let body = if description.is_empty() {
        details
    } else {
        format!("{description}\n\n{details}")
    };
    let source_name = event.organiser.clone().unwrap_or_else(|| match lang {
        Lang::Nb => "Arrangøren".to_owned(),
        Lang::En => "The organiser".to_owned(),
    });
    Entry {
        id: event.id.clone(),
        lang,
        title: title.to_owned(),
        questions: questions.into(),
        keywords: keywords.into(),
        related: Vec::new(),
        reviewed: stored.updated_at.with_timezone(&tz).date_naive(),
        sources: vec![Source {
            name: source_name.into(),
            url: event.registration_url.clone().unwrap_or_default().into(),
        }],
        facts: Vec::new(),
        body: body.into(),
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
        for q in [
            "Når er neste konferanse?",
            "hvor er leverandørkonferansen?",
            "When is the next conference?",
            "Hvem kan delta på dialogmøtet?",
        ] {
            assert!(is_event_question(q), "{q}");
        }
        for q in [
            "Hva er terskelverdien",
            "What is ESPD",
            "Hva er en dialogkonferanse?",
            "Hvem kan klage?",
        ] {
            assert!(!is_event_question(q), "{q}");
        }
    }
}
