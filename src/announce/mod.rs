//! Announcements and events for organisers.
//!
//! - **Announcements**: a text for a Discord channel, posted now or at a wall-clock
//!   time in `announcements.timezone`. [`prepare_announcement`] checks the input and
//!   gives the [preview](PreparedAnnouncement::preview); [`schedule_announcement`]
//!   stores it; the [scheduler](schedule) posts it once, even across restarts and with
//!   several bots on one PostgreSQL.
//! - **Events**: from `knowledge/events/` or added with [`add_event`] (the `events`
//!   table). Answers prefer the next upcoming one ([`prefer_upcoming_event`]), `/events`
//!   lists them ([`upcoming_events`] + [`format::event_list`]), reminders go out before
//!   each, and [`ics::event_ics`] makes a calendar file.
//!
//! The command line (`anbud announce`, `anbud announcements …`, `anbud events …`) and
//! the Discord commands are thin layers over the functions here. Every function takes
//! `now`, so tests use any clock.

pub mod digest;
pub mod events;
pub mod format;
pub mod ics;
pub mod model;
pub mod schedule;

use chrono::{DateTime, NaiveDateTime, SubsecRound, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;

pub use self::events::{is_event_question, prefer_upcoming_event, stored_event_to_entry};
pub use self::format::{discord_timestamp, preview};
pub use self::model::{
    events_from_knowledge, order_events, parse_channel_id, parse_local_time, resolve_local_time,
    validate_channel, validate_text, Event, ResolvedTime, DISCORD_MESSAGE_LIMIT,
};
pub use self::schedule::{
    spawn_scheduler, spawn_scheduler_every, Attachment, PostError, PostFuture, Poster,
    RecordedPost, RecordingPoster, Scheduler, SchedulerConfig, TickReport,
};
use crate::knowledge::{KnowledgeBase, Lang};
use crate::store::{
    Announcement, AnnouncementId, EventId, NewAnnouncement, NewEvent, Store, StoreError,
    StoredEvent,
};

/// A time this close to now counts as now, not as the past: an organiser who types
/// the current minute means "now".
const PAST_TOLERANCE: TimeDelta = TimeDelta::minutes(1);

/// Why an organiser's request was refused. Every variant but
/// [`Store`](AnnounceError::Store) is the organiser's to fix, and its message says
/// how; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum AnnounceError {
    #[error("the text is empty")]
    EmptyText,
    #[error("the text has {chars} characters; Discord allows at most {limit} in one message")]
    TooLong { chars: usize, limit: usize },
    #[error("{text:?} is not a time; write it as YYYY-MM-DD HH:MM, for example 2026-11-04 09:00")]
    BadTime { text: String },
    #[error(
        "{} does not exist in {timezone}: the clocks jump from 02:00 to 03:00 that night \
         (daylight saving time begins); choose a time before 02:00 or from 03:00",
        local.format("%Y-%m-%d %H:%M")
    )]
    NonexistentTime {
        local: NaiveDateTime,
        timezone: String,
    },
    #[error("{} is in the past (it is now {}); choose a later time, or leave the time out to post now", at.format("%Y-%m-%d %H:%M"), now.format("%Y-%m-%d %H:%M"))]
    InPast {
        at: NaiveDateTime,
        now: NaiveDateTime,
    },
    #[error("{text:?} is not a Discord channel id (a number such as 123456789012345678, or a #channel mention)")]
    BadChannel { text: String },
    #[error("channel {channel_id} is not a channel of this server that the bot can see")]
    UnknownChannel { channel_id: u64 },
    #[error("the event ends ({}) before it starts ({})", end.format("%Y-%m-%d %H:%M"), start.format("%Y-%m-%d %H:%M"))]
    EndsBeforeStart {
        start: NaiveDateTime,
        end: NaiveDateTime,
    },
    #[error("the event is already over (it ended {})", end.format("%Y-%m-%d %H:%M"))]
    EventOver { end: NaiveDateTime },
    #[error("`{field}` is empty")]
    MissingField { field: &'static str },
    #[error("{url:?} is not a web address starting with https:// or http://")]
    BadUrl { url: String },
    #[error("nothing to change: give a new text, a new time, or both")]
    NothingToChange,
    #[error("there is no event with id {0:?}")]
    UnknownEvent(String),
    #[error("there is no database connection right now; try again in a moment")]
    NoDatabase,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AnnounceError {
    /// True when the organiser can fix it (a bad input, an unknown id, an announcement
    /// no longer scheduled): show the message. False for internal failures: log them
    /// and show a general apology.
    pub fn is_user_error(&self) -> bool {
        match self {
            AnnounceError::Store(e) => matches!(
                e,
                StoreError::NotFound { .. }
                    | StoreError::AnnouncementNotScheduled { .. }
                    | StoreError::AnnouncementBeingPosted { .. }
            ),
            AnnounceError::NoDatabase => false,
            _ => true,
        }
    }
}

/// What an organiser asks to announce, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementDraft {
    /// The channel (parse typed text with [`parse_channel_id`]).
    pub channel_id: u64,
    pub text: String,
    /// "YYYY-MM-DD HH:MM" in `announcements.timezone`; `None` posts at once.
    pub at: Option<String>,
}

/// A checked announcement, ready to show as a preview and to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreparedAnnouncement {
    pub announcement: NewAnnouncement,
    /// When it will be posted, in the announcements' time zone.
    pub local_time: NaiveDateTime,
    /// No time was given: the next running bot posts it.
    pub immediate: bool,
    /// Something to tell the organiser (which of two autumn times was taken).
    pub notice: Option<String>,
}

impl PreparedAnnouncement {
    /// Exactly the message that will be posted at its time.
    pub fn preview(&self) -> String {
        preview(&self.announcement.text)
    }
}

/// Checks an announcement: a known, valid channel (`known_channels` empty: any
/// snowflake), a text within Discord's limit, a time that exists and is not past.
pub fn prepare_announcement(
    draft: &AnnouncementDraft,
    known_channels: &[u64],
    tz: Tz,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<PreparedAnnouncement, AnnounceError> {
    validate_channel(draft.channel_id, known_channels)?;
    let text = validate_text(&draft.text)?;
    let (publish_at, notice, immediate) =
        match draft.at.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => (now, None, true),
            Some(at) => {
                let resolved = check_future(parse_local_time(at, tz)?, tz, now)?;
                (resolved.utc, resolved.notice, false)
            }
        };
    Ok(PreparedAnnouncement {
        announcement: NewAnnouncement {
            channel_id: draft.channel_id,
            text,
            publish_at: publish_at.trunc_subsecs(6),
            created_by: actor.to_owned(),
        },
        local_time: publish_at.with_timezone(&tz).naive_local(),
        immediate,
        notice,
    })
}

fn check_future(
    resolved: ResolvedTime,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<ResolvedTime, AnnounceError> {
    if resolved.utc < now - PAST_TOLERANCE {
        return Err(AnnounceError::InPast {
            at: resolved.local,
            now: now.with_timezone(&tz).naive_local(),
        });
    }
    Ok(resolved)
}

/// Stores a prepared announcement; a running bot posts it at its time.
pub async fn schedule_announcement(
    store: &Store,
    prepared: &PreparedAnnouncement,
    now: DateTime<Utc>,
) -> Result<Announcement, AnnounceError> {
    Ok(store.add_announcement(&prepared.announcement, now).await?)
}

/// The result of an edit: the announcement as it now is, and any notice about its
/// time (see [`ResolvedTime::notice`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edited {
    pub announcement: Announcement,
    pub notice: Option<String>,
}

/// Changes the text and/or the time of a scheduled announcement, with the same checks
/// as [`prepare_announcement`]. An announcement already posted, cancelled or being
/// posted cannot be changed.
pub async fn edit_announcement(
    store: &Store,
    id: AnnouncementId,
    text: Option<&str>,
    at: Option<&str>,
    tz: Tz,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Edited, AnnounceError> {
    if text.is_none() && at.is_none() {
        return Err(AnnounceError::NothingToChange);
    }
    let text = text.map(validate_text).transpose()?;
    let resolved = at
        .map(|at| parse_local_time(at, tz).and_then(|r| check_future(r, tz, now)))
        .transpose()?;
    let notice = resolved.as_ref().and_then(|r| r.notice.clone());
    let announcement = store
        .edit_announcement(id, text.as_deref(), resolved.map(|r| r.utc), actor, now)
        .await?;
    Ok(Edited {
        announcement,
        notice,
    })
}

/// Cancels a scheduled announcement.
pub async fn cancel_announcement(
    store: &Store,
    id: AnnouncementId,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Announcement, AnnounceError> {
    Ok(store.cancel_announcement(id, actor, now).await?)
}

/// An event as an organiser types it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDraft {
    pub title: String,
    /// "YYYY-MM-DD HH:MM" in `announcements.timezone`.
    pub start: String,
    pub end: String,
    pub venue: String,
    pub address: Option<String>,
    pub registration_url: Option<String>,
    pub audience: Option<String>,
    pub description: Option<String>,
    pub organiser: Option<String>,
    pub lang: Lang,
}

/// A checked event, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreparedEvent {
    pub event: NewEvent,
    /// Notices about ambiguous autumn times.
    pub notices: Vec<String>,
}

fn optional(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn required(value: &str, field: &'static str) -> Result<String, AnnounceError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AnnounceError::MissingField { field });
    }
    Ok(value.to_owned())
}

/// Checks an event: a title and venue, start and end times that exist, an end not
/// before the start and not already past, a registration link that is a web address.
pub fn prepare_event(
    draft: &EventDraft,
    tz: Tz,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<PreparedEvent, AnnounceError> {
    let title = required(&draft.title, "title")?;
    let venue = required(&draft.venue, "venue")?;
    let start = parse_local_time(&draft.start, tz)?;
    let end = parse_local_time(&draft.end, tz)?;
    if end.utc < start.utc {
        return Err(AnnounceError::EndsBeforeStart {
            start: start.local,
            end: end.local,
        });
    }
    if end.utc <= now {
        return Err(AnnounceError::EventOver { end: end.local });
    }
    let registration_url = optional(&draft.registration_url);
    if let Some(url) = &registration_url {
        if !(url.starts_with("https://") || url.starts_with("http://"))
            || url.contains(char::is_whitespace)
        {
            return Err(AnnounceError::BadUrl { url: url.clone() });
        }
    }
    let notices = [&start.notice, &end.notice]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    Ok(PreparedEvent {
        event: NewEvent {
            title,
            description: optional(&draft.description).unwrap_or_default(),
            start_at: start.utc,
            end_at: end.utc,
            venue,
            address: optional(&draft.address),
            registration_url,
            organiser: optional(&draft.organiser),
            audience: optional(&draft.audience),
            lang: draft.lang,
            created_by: actor.to_owned(),
        },
        notices,
    })
}

/// Stores a prepared event. It bumps the knowledge version, so running bots answer
/// about it after their next poll (call [`App::reload_if_changed`](crate::app::App::reload_if_changed)
/// to make this process answer at once).
pub async fn add_event(
    store: &Store,
    prepared: &PreparedEvent,
    now: DateTime<Utc>,
) -> Result<StoredEvent, AnnounceError> {
    let (stored, _version) = store.add_event(&prepared.event, now).await?;
    Ok(stored)
}

/// Every event known: the knowledge files' and (when `stored` is given) the
/// database's, one per id, upcoming first (see [`order_events`]). With
/// `include_past` false only events not yet over.
pub fn all_events(
    kb: &KnowledgeBase,
    stored: &[StoredEvent],
    lang: Lang,
    tz: Tz,
    include_past: bool,
    now: DateTime<Utc>,
) -> Vec<Event> {
    let mut events = events_from_knowledge(kb, lang, tz);
    for event in stored {
        let event = Event::from_stored(event, tz);
        if !events.iter().any(|e| e.id == event.id) {
            events.push(event);
        }
    }
    if !include_past {
        events.retain(|e| e.is_upcoming(now));
    }
    order_events(&mut events, now);
    events
}

/// The upcoming events for `/events`, soonest first, from a knowledge base that has
/// the database's events merged (as [`App::answerer`](crate::app::App::answerer) has).
/// Format them with [`format::event_list`].
pub fn upcoming_events(kb: &KnowledgeBase, lang: Lang, tz: Tz, now: DateTime<Utc>) -> Vec<Event> {
    all_events(kb, &[], lang, tz, false, now)
}

/// Finds an event by id: a database event id (`12` or `event-12`) or a knowledge id
/// (`conference-follo-2017`).
pub async fn find_event(
    id: &str,
    kb: &KnowledgeBase,
    store: Option<&Store>,
    lang: Lang,
    tz: Tz,
) -> Result<Event, AnnounceError> {
    let id = id.trim();
    if let Some(event_id) = EventId::parse(id) {
        let store = store.ok_or(AnnounceError::NoDatabase)?;
        return match store.get_event(event_id).await {
            Ok(stored) => Ok(Event::from_stored(&stored, tz)),
            Err(StoreError::NotFound { .. }) => Err(AnnounceError::UnknownEvent(id.to_owned())),
            Err(e) => Err(e.into()),
        };
    }
    kb.entry(id, lang)
        .and_then(|entry| Event::from_entry(entry, tz))
        .ok_or_else(|| AnnounceError::UnknownEvent(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Oslo;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-05-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn draft(at: Option<&str>) -> AnnouncementDraft {
        AnnouncementDraft {
            channel_id: 42,
            text: "Hei!".into(),
            at: at.map(str::to_owned),
        }
    }

    #[test]
    fn announcement_without_time_is_for_now() {
        let prepared = prepare_announcement(&draft(None), &[], Oslo, "kari", now()).unwrap();
        assert!(prepared.immediate);
        assert_eq!(prepared.announcement.publish_at, now());
        assert_eq!(prepared.preview(), "Hei!");
    }

    #[test]
    fn announcement_input_is_checked() {
        let err = prepare_announcement(&draft(Some("2026-05-01 11:00")), &[], Oslo, "kari", now())
            .unwrap_err();
        assert!(matches!(err, AnnounceError::InPast { .. }), "{err}");
        assert!(err.is_user_error());
        let ok = prepare_announcement(&draft(Some("2026-05-01 12:00")), &[], Oslo, "kari", now())
            .unwrap();
        assert_eq!(ok.announcement.publish_at, now());
        assert!(!ok.immediate);
        let err = prepare_announcement(&draft(None), &[1, 2], Oslo, "kari", now()).unwrap_err();
        assert!(matches!(
            err,
            AnnounceError::UnknownChannel { channel_id: 42 }
        ));
    }

    #[test]
    fn event_input_is_checked() {
        let mut d = EventDraft {
            title: "Konferanse".into(),
            start: "2026-11-04 09:00".into(),
            end: "2026-11-04 08:00".into(),
            venue: "Ski".into(),
            address: None,
            registration_url: Some(" ".into()),
            audience: None,
            description: None,
            organiser: None,
            lang: Lang::Nb,
        };
        assert!(matches!(
            prepare_event(&d, Oslo, "kari", now()),
            Err(AnnounceError::EndsBeforeStart { .. })
        ));
        d.end = "2026-11-04 15:00".into();
        let ok = prepare_event(&d, Oslo, "kari", now()).unwrap();
        assert_eq!(ok.event.registration_url, None);
        d.registration_url = Some("www.example.org".into());
        assert!(matches!(
            prepare_event(&d, Oslo, "kari", now()),
            Err(AnnounceError::BadUrl { .. })
        ));
        d.registration_url = None;
        d.venue = " ".into();
        assert!(matches!(
            prepare_event(&d, Oslo, "kari", now()),
            Err(AnnounceError::MissingField { field: "venue" })
        ));
        d.venue = "Ski".into();
        d.start = "2026-03-29 02:15".into();
        assert!(matches!(
            prepare_event(&d, Oslo, "kari", now()),
            Err(AnnounceError::NonexistentTime { .. })
        ));
        d.start = "2026-04-01 09:00".into();
        d.end = "2026-04-01 10:00".into();
        assert!(matches!(
            prepare_event(&d, Oslo, "kari", now()),
            Err(AnnounceError::EventOver { .. })
        ));
    }
}
