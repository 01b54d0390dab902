//! The organisers' input, checked: Discord channel ids, message texts, local times
//! (with daylight saving resolved), and one view of an event whether it comes from a
//! knowledge file or the database.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use super::AnnounceError;
use crate::knowledge::{parse_local_datetime, Entry, KnowledgeBase, Lang};
use crate::store::StoredEvent;

/// The most characters Discord accepts in one message.
pub const DISCORD_MESSAGE_LIMIT: usize = 2000;

/// A time an organiser typed, resolved to one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResolvedTime {
    /// The instant.
    pub utc: DateTime<Utc>,
    /// The wall-clock time as typed.
    pub local: NaiveDateTime,
    /// Set when the time was ambiguous (the autumn hour that happens twice): says
    /// which of the two was taken. Show it to the organiser.
    pub notice: Option<String>,
}

/// Resolves a wall-clock time in `tz` to an instant.
///
/// A time in the hour skipped when daylight saving time begins (in Oslo, 02:00–02:59
/// on the last Sunday of March) does not exist: that is an error saying so. A time in
/// the hour that happens twice when it ends (02:00–02:59 on the last Sunday of
/// October) takes the first occurrence, still on summer time, and the notice says so.
pub fn resolve_local_time(local: NaiveDateTime, tz: Tz) -> Result<ResolvedTime, AnnounceError> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => Ok(ResolvedTime {
            utc: at.with_timezone(&Utc),
            local,
            notice: None,
        }),
        LocalResult::Ambiguous(first, second) => {
            let utc = first.with_timezone(&Utc);
            let notice = format!(
                "{} happens twice in {tz} (the clocks go back an hour that night); using the first, \
                 {} (UTC{}), not the second (UTC{}).",
                local.format("%Y-%m-%d %H:%M"),
                utc.format("%H:%M UTC"),
                first.format("%:z"),
                second.format("%:z"),
            );
            Ok(ResolvedTime {
                utc,
                local,
                notice: Some(notice),
            })
        }
        LocalResult::None => Err(AnnounceError::NonexistentTime {
            local,
            timezone: tz.name().to_owned(),
        }),
    }
}

/// Parses "YYYY-MM-DD HH:MM" (also with `T` or seconds) as a wall-clock time in `tz`;
/// see [`resolve_local_time`].
pub fn parse_local_time(text: &str, tz: Tz) -> Result<ResolvedTime, AnnounceError> {
    let local = parse_local_datetime(text).ok_or_else(|| AnnounceError::BadTime {
        text: text.trim().to_owned(),
    })?;
    resolve_local_time(local, tz)
}

/// Parses a Discord channel id as organisers give it: the number, or a channel
/// mention `<#123…>`. A snowflake is a non-zero 64-bit number.
pub fn parse_channel_id(text: &str) -> Result<u64, AnnounceError> {
    let trimmed = text.trim();
    let digits = trimmed
        .strip_prefix("<#")
        .and_then(|t| t.strip_suffix('>'))
        .unwrap_or(trimmed);
    match digits.parse::<u64>() {
        Ok(id) if id > 0 && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(id),
        _ => Err(AnnounceError::BadChannel {
            text: trimmed.to_owned(),
        }),
    }
}

/// Checks a channel against the channels the bot knows (the Discord layer passes the
/// guild's text channels). An empty list means "unknown, do not check".
pub fn validate_channel(channel_id: u64, known_channels: &[u64]) -> Result<(), AnnounceError> {
    if channel_id == 0 {
        return Err(AnnounceError::BadChannel { text: "0".into() });
    }
    if !known_channels.is_empty() && !known_channels.contains(&channel_id) {
        return Err(AnnounceError::UnknownChannel { channel_id });
    }
    Ok(())
}

/// Checks the text of an announcement: not empty, within Discord's limit. Returns it
/// trimmed, which is what will be posted.
pub fn validate_text(text: &str) -> Result<String, AnnounceError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AnnounceError::EmptyText);
    }
    let chars = text.chars().count();
    if chars > DISCORD_MESSAGE_LIMIT {
        return Err(AnnounceError::TooLong {
            chars,
            limit: DISCORD_MESSAGE_LIMIT,
        });
    }
    Ok(text.to_owned())
}

/// An event as users see it, from a knowledge file (`knowledge/events/`) or added by
/// an organiser (the `events` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The knowledge id: `conference-follo-2017`, or `event-12` for the database.
    pub id: String,
    /// The language its texts are in.
    pub lang: Lang,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Wall-clock start and end in the announcements' time zone.
    pub start_local: NaiveDateTime,
    pub end_local: NaiveDateTime,
    pub venue: String,
    pub address: Option<String>,
    pub registration_url: Option<String>,
    pub organiser: Option<String>,
    pub audience: Option<String>,
}

impl Event {
    /// The event of a knowledge entry, `None` when the entry is no event. File times
    /// are wall-clock times in `tz`; one in the skipped spring hour is read an hour
    /// later (the lint does not know time zones).
    pub fn from_entry(entry: &Entry, tz: Tz) -> Option<Event> {
        let info = entry.event.as_ref()?;
        let instant = |local: NaiveDateTime| -> DateTime<Utc> {
            match tz.from_local_datetime(&local) {
                LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => at.with_timezone(&Utc),
                LocalResult::None => tz
                    .from_local_datetime(&(local + chrono::TimeDelta::hours(1)))
                    .earliest()
                    .map_or_else(|| local.and_utc(), |at| at.with_timezone(&Utc)),
            }
        };
        Some(Event {
            id: entry.id.clone(),
            lang: entry.lang,
            title: entry.title.clone(),
            description: entry.body_text().into_owned(),
            start: instant(info.start),
            end: instant(info.end),
            start_local: info.start,
            end_local: info.end,
            venue: info.venue.clone(),
            address: info.address.clone(),
            registration_url: info.registration_url.clone(),
            organiser: info.organiser.clone(),
            audience: info.audience.clone(),
        })
    }

    /// An event added through the bot.
    pub fn from_stored(stored: &StoredEvent, tz: Tz) -> Event {
        let e = &stored.event;
        Event {
            id: stored.id.knowledge_id(),
            lang: e.lang,
            title: e.title.clone(),
            description: e.description.clone(),
            start: e.start_at,
            end: e.end_at,
            start_local: e.start_at.with_timezone(&tz).naive_local(),
            end_local: e.end_at.with_timezone(&tz).naive_local(),
            venue: e.venue.clone(),
            address: e.address.clone(),
            registration_url: e.registration_url.clone(),
            organiser: e.organiser.clone(),
            audience: e.audience.clone(),
        }
    }

    /// Not over yet at `now` (upcoming or going on).
    pub fn is_upcoming(&self, now: DateTime<Utc>) -> bool {
        self.end > now
    }

    /// Venue and address on one line.
    pub fn place(&self) -> String {
        match &self.address {
            Some(address) if !address.trim().is_empty() => format!("{}, {}", self.venue, address),
            _ => self.venue.clone(),
        }
    }
}

/// Every event of a knowledge base, one per id, in `lang` where it exists in that
/// language. Includes database events once [`App`](crate::app::App) has merged them.
pub fn events_from_knowledge(kb: &KnowledgeBase, lang: Lang, tz: Tz) -> Vec<Event> {
    let mut events: Vec<Event> = kb
        .ids()
        .into_iter()
        .filter_map(|id| kb.entry(id, lang))
        .filter_map(|entry| Event::from_entry(entry, tz))
        .collect();
    events.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    events
}

/// Events in the order people want them: upcoming (and ongoing) first, soonest
/// first; then past ones, most recent first.
pub fn order_events(events: &mut [Event], now: DateTime<Utc>) {
    events.sort_by(|a, b| match (a.is_upcoming(now), b.is_upcoming(now)) {
        (true, false) => std::cmp::Ordering::Less,
        (false, true) => std::cmp::Ordering::Greater,
        (true, true) => (a.start, &a.id).cmp(&(b.start, &b.id)),
        (false, false) => (b.start, &b.id).cmp(&(a.start, &a.id)),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Oslo;

    fn local(text: &str) -> NaiveDateTime {
        parse_local_datetime(text).unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn spring_gap_is_an_error_that_says_why() {
        let err = parse_local_time("2026-03-29 02:30", Oslo).unwrap_err();
        assert!(matches!(err, AnnounceError::NonexistentTime { .. }));
        let message = err.to_string();
        assert!(
            message.contains("2026-03-29 02:30") && message.contains("does not exist"),
            "{message}"
        );
        assert!(message.contains("Europe/Oslo"), "{message}");
    }

    #[test]
    fn autumn_overlap_takes_the_first_and_says_so() {
        let resolved = parse_local_time("2026-10-25 02:30", Oslo).unwrap();
        assert_eq!(resolved.utc, utc("2026-10-25T00:30:00Z"));
        let notice = resolved.notice.unwrap();
        assert!(
            notice.contains("twice") && notice.contains("first"),
            "{notice}"
        );
        assert!(
            notice.contains("+02:00") && notice.contains("+01:00"),
            "{notice}"
        );
    }

    #[test]
    fn times_around_the_autumn_change_map_to_the_right_instants() {
        assert_eq!(
            parse_local_time("2026-10-25 01:30", Oslo).unwrap().utc,
            utc("2026-10-24T23:30:00Z")
        );
        assert_eq!(
            parse_local_time("2026-10-25 03:30", Oslo).unwrap().utc,
            utc("2026-10-25T02:30:00Z")
        );
        assert!(parse_local_time("2026-10-25 03:30", Oslo)
            .unwrap()
            .notice
            .is_none());
        assert_eq!(
            parse_local_time("2026-03-29 03:30", Oslo).unwrap().utc,
            utc("2026-03-29T01:30:00Z")
        );
    }

    #[test]
    fn unparseable_times_are_named() {
        for bad in [
            "tomorrow",
            "2026-13-01 10:00",
            "2026-02-30 10:00",
            "2026-05-01",
            "10:00",
            "",
        ] {
            let err = parse_local_time(bad, Oslo).unwrap_err();
            assert!(matches!(err, AnnounceError::BadTime { .. }), "{bad}: {err}");
        }
        assert_eq!(local("2026-05-01T10:00"), local("2026-05-01 10:00"));
    }

    #[test]
    fn channel_ids_are_snowflakes() {
        assert_eq!(
            parse_channel_id("123456789012345678").unwrap(),
            123456789012345678
        );
        assert_eq!(
            parse_channel_id(" <#123456789012345678> ").unwrap(),
            123456789012345678
        );
        for bad in [
            "general",
            "#general",
            "0",
            "-5",
            "+5",
            "12345678901234567890123",
            "",
            "1.5",
        ] {
            assert!(
                matches!(parse_channel_id(bad), Err(AnnounceError::BadChannel { .. })),
                "{bad}"
            );
        }
        assert!(validate_channel(5, &[]).is_ok());
        assert!(validate_channel(5, &[4, 5]).is_ok());
        assert!(matches!(
            validate_channel(6, &[4, 5]),
            Err(AnnounceError::UnknownChannel { channel_id: 6 })
        ));
    }

    #[test]
    fn texts_must_fit_one_discord_message() {
        assert!(matches!(
            validate_text("  \n "),
            Err(AnnounceError::EmptyText)
        ));
        assert_eq!(validate_text(" Hei! ").unwrap(), "Hei!");
        let exactly = "å".repeat(DISCORD_MESSAGE_LIMIT);
        assert_eq!(validate_text(&exactly).unwrap(), exactly);
        let err = validate_text(&"a".repeat(DISCORD_MESSAGE_LIMIT + 1)).unwrap_err();
        assert!(matches!(
            err,
            AnnounceError::TooLong {
                chars: 2001,
                limit: 2000
            }
        ));
    }
}
