//! The messages users see: announcements (on time and late), the event list with
//! Discord timestamps, reminders, and the line that says whether an event in an answer
//! is upcoming or past. Norwegian Bokmål and English.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use super::model::{Event, DISCORD_MESSAGE_LIMIT};
use crate::knowledge::Lang;

pub(crate) const MONTHS_NB: [&str; 12] = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
];
pub(crate) const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn weekday(day: Weekday, lang: Lang) -> &'static str {
    let i = day.num_days_from_monday() as usize;
    match lang {
        Lang::Nb => [
            "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag",
        ][i],
        Lang::En => [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ][i],
    }
}

/// "1. november 2017" / "1 November 2017".
pub fn date_long(date: NaiveDate, lang: Lang) -> String {
    let month = date.month0() as usize;
    match lang {
        Lang::Nb => format!("{}. {} {}", date.day(), MONTHS_NB[month], date.year()),
        Lang::En => format!("{} {} {}", date.day(), MONTHS_EN[month], date.year()),
    }
}

/// "09.00" / "09:00".
pub fn clock(time: NaiveDateTime, lang: Lang) -> String {
    let sep = match lang {
        Lang::Nb => '.',
        Lang::En => ':',
    };
    format!("{:02}{sep}{:02}", time.hour(), time.minute())
}

/// "1. november 2017 kl. 09.00" / "1 November 2017 at 09:00".
pub fn datetime_long(time: NaiveDateTime, lang: Lang) -> String {
    match lang {
        Lang::Nb => format!("{} kl. {}", date_long(time.date(), lang), clock(time, lang)),
        Lang::En => format!("{} at {}", date_long(time.date(), lang), clock(time, lang)),
    }
}

/// When an event is, in words: "onsdag 1. november 2017 kl. 09.00–15.30" /
/// "Wednesday 1 November 2017, 09:00–15:30"; an event over several days names both.
pub fn event_span(start: NaiveDateTime, end: NaiveDateTime, lang: Lang) -> String {
    let day = |t: NaiveDateTime| {
        format!(
            "{} {}",
            weekday(t.weekday(), lang),
            date_long(t.date(), lang)
        )
    };
    match (lang, start.date() == end.date()) {
        (Lang::Nb, true) => format!(
            "{} kl. {}–{}",
            day(start),
            clock(start, lang),
            clock(end, lang)
        ),
        (Lang::En, true) => format!(
            "{}, {}–{}",
            day(start),
            clock(start, lang),
            clock(end, lang)
        ),
        (Lang::Nb, false) => {
            format!(
                "{} kl. {} – {} kl. {}",
                day(start),
                clock(start, lang),
                day(end),
                clock(end, lang)
            )
        }
        (Lang::En, false) => format!(
            "{}, {} – {}, {}",
            day(start),
            clock(start, lang),
            day(end),
            clock(end, lang)
        ),
    }
}

/// A Discord timestamp, shown in each reader's own time zone and language:
/// style `F` "Wednesday, 1 November 2017 09:00", `R` "in 3 days", `f`, `D`, `t`.
pub fn discord_timestamp(at: DateTime<Utc>, style: char) -> String {
    format!("<t:{}:{style}>", at.timestamp())
}

/// Exactly what will be posted for an announcement posted on time: its text. The
/// Discord layer shows this before the organiser confirms.
pub fn preview(text: &str) -> String {
    text.trim().to_owned()
}

/// The note added to an announcement posted late:
/// "(Forsinket: skulle vært publisert 25. oktober 2026 kl. 01.30.)".
pub fn late_note(publish_at: DateTime<Utc>, tz: Tz, lang: Lang) -> String {
    let local = publish_at.with_timezone(&tz).naive_local();
    match lang {
        Lang::Nb => format!(
            "(Forsinket: skulle vært publisert {}.)",
            datetime_long(local, lang)
        ),
        Lang::En => format!(
            "(Delayed: should have been posted on {}.)",
            datetime_long(local, lang)
        ),
    }
}

/// The messages to post for an announcement: its text, and when it is late the note
/// after it (as a second message if both do not fit in one).
pub fn announcement_messages(
    text: &str,
    late_since: Option<DateTime<Utc>>,
    tz: Tz,
    lang: Lang,
) -> Vec<String> {
    let text = preview(text);
    let Some(publish_at) = late_since else {
        return vec![text];
    };
    let note = late_note(publish_at, tz, lang);
    let joined = format!("{text}\n\n{note}");
    if joined.chars().count() <= DISCORD_MESSAGE_LIMIT {
        vec![joined]
    } else {
        vec![text, note]
    }
}

/// The reply to `/events`: upcoming events with Discord timestamps, soonest first.
/// Pass only the events to show (see
/// [`upcoming_events`](crate::announce::upcoming_events)); stays within one Discord
/// message and says how many were left out.
pub fn event_list(events: &[Event], lang: Lang) -> String {
    let (heading, none, place, registration, more) = match lang {
        Lang::Nb => (
            "**Kommende arrangementer**",
            "Ingen kommende arrangementer er lagt inn.",
            "Sted",
            "Påmelding",
            "og",
        ),
        Lang::En => (
            "**Upcoming events**",
            "No upcoming events have been added.",
            "Venue",
            "Registration",
            "and",
        ),
    };
    if events.is_empty() {
        return none.to_owned();
    }
    let mut out = heading.to_owned();
    for (i, event) in events.iter().enumerate() {
        let mut item = format!(
            "\n\n**{}**\n{} ({})\n{place}: {}",
            event.title,
            discord_timestamp(event.start, 'F'),
            discord_timestamp(event.start, 'R'),
            event.place()
        );
        if let Some(url) = &event.registration_url {
            item.push_str(&format!("\n{registration}: <{url}>"));
        }
        let rest = events.len() - i;
        let tail = format!("\n\n… {more} {rest}");
        if out.chars().count() + item.chars().count() + tail.chars().count() + 8
            > DISCORD_MESSAGE_LIMIT
        {
            out.push_str(&tail);
            out.push('.');
            break;
        }
        out.push_str(&item);
    }
    out
}

/// How long until an event, in words, rounded to whole days (from 23 h 30 min),
/// hours (from 59 min 30 s) or minutes: "om 7 dager" / "in 2 hours".
fn before_words(remaining: TimeDelta, lang: Lang) -> String {
    let seconds = remaining.num_seconds().max(0);
    let minutes = (seconds + 30) / 60;
    let (n, unit_nb, unit_en) = if minutes >= 23 * 60 + 30 {
        let d = (minutes + 12 * 60) / (24 * 60);
        (
            d,
            if d == 1 { "dag" } else { "dager" },
            if d == 1 { "day" } else { "days" },
        )
    } else if minutes >= 60 {
        let h = (minutes + 30) / 60;
        (
            h,
            if h == 1 { "time" } else { "timer" },
            if h == 1 { "hour" } else { "hours" },
        )
    } else {
        (
            minutes,
            if minutes == 1 { "minutt" } else { "minutter" },
            if minutes == 1 { "minute" } else { "minutes" },
        )
    };
    match lang {
        Lang::Nb => format!("om {n} {unit_nb}"),
        Lang::En => format!("in {n} {unit_en}"),
    }
}

/// A reminder posted `remaining` before an event starts (the offset it is due at, or
/// less when it goes out late); the `.ics` file goes with it.
pub fn reminder_message(event: &Event, remaining: TimeDelta, lang: Lang) -> String {
    let (reminder, starts, place, registration) = match lang {
        Lang::Nb => ("Påminnelse", "starter", "Sted", "Påmelding"),
        Lang::En => ("Reminder", "starts", "Venue", "Registration"),
    };
    let mut out = format!(
        "**{reminder}:** {} {starts} {} – {} ({}).\n{place}: {}",
        event.title,
        before_words(remaining, lang),
        discord_timestamp(event.start, 'F'),
        discord_timestamp(event.start, 'R'),
        event.place()
    );
    if let Some(url) = &event.registration_url {
        out.push_str(&format!("\n{registration}: <{url}>"));
    }
    out.chars().take(DISCORD_MESSAGE_LIMIT).collect()
}

/// The line an answer about an event starts with:
/// "Dette arrangementet er avholdt (1. november 2017)." for a past event,
/// "Kommende arrangement: onsdag 1. november 2017 kl. 09.00–15.30, Thon Hotel Ski." for
/// an upcoming one, and a line saying it is going on now.
pub fn event_timing_line(event: &Event, now: DateTime<Utc>, lang: Lang) -> String {
    if event.end <= now {
        let date = date_long(event.start_local.date(), lang);
        return match lang {
            Lang::Nb => format!("Dette arrangementet er avholdt ({date})."),
            Lang::En => format!("This event took place on {date}."),
        };
    }
    if event.start <= now {
        let until = clock(event.end_local, lang);
        return match lang {
            Lang::Nb => format!(
                "Arrangementet pågår nå (til kl. {until}), {}.",
                event.place()
            ),
            Lang::En => format!(
                "This event is happening now (until {until}), {}.",
                event.place()
            ),
        };
    }
    let span = event_span(event.start_local, event.end_local, lang);
    match lang {
        Lang::Nb => format!("Kommende arrangement: {span}, {}.", event.place()),
        Lang::En => format!("Upcoming event: {span}, {}.", event.place()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Oslo;

    use crate::knowledge::parse_local_datetime;

    fn event(start: &str, end: &str) -> Event {
        let s = parse_local_datetime(start).unwrap();
        let e = parse_local_datetime(end).unwrap();
        let at = |t: NaiveDateTime| {
            super::super::model::resolve_local_time(t, Oslo)
                .unwrap()
                .utc
        };
        Event {
            id: "conference".into(),
            lang: Lang::Nb,
            title: "Leverandørkonferansen".into(),
            description: "Om innovative anskaffelser.".into(),
            start: at(s),
            end: at(e),
            start_local: s,
            end_local: e,
            venue: "Thon Hotel Ski".into(),
            address: Some("Jernbanesvingen 6, 1400 Ski".into()),
            registration_url: Some("https://example.org/påmelding".into()),
            organiser: None,
            audience: None,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn dates_read_naturally() {
        let t = parse_local_datetime("2017-11-01 09:00").unwrap();
        assert_eq!(datetime_long(t, Lang::Nb), "1. november 2017 kl. 09.00");
        assert_eq!(datetime_long(t, Lang::En), "1 November 2017 at 09:00");
        let end = parse_local_datetime("2017-11-01 15:30").unwrap();
        assert_eq!(
            event_span(t, end, Lang::Nb),
            "onsdag 1. november 2017 kl. 09.00–15.30"
        );
        assert_eq!(
            event_span(t, end, Lang::En),
            "Wednesday 1 November 2017, 09:00–15:30"
        );
    }

    #[test]
    fn late_announcements_carry_a_note_in_local_time() {
        let due = utc("2026-10-24T23:30:00Z");
        assert_eq!(
            announcement_messages("Hei!", Some(due), Oslo, Lang::Nb),
            vec![
                "Hei!\n\n(Forsinket: skulle vært publisert 25. oktober 2026 kl. 01.30.)".to_owned()
            ]
        );
        assert_eq!(
            announcement_messages("Hi!", Some(due), Oslo, Lang::En),
            vec![
                "Hi!\n\n(Delayed: should have been posted on 25 October 2026 at 01:30.)".to_owned()
            ]
        );
        assert_eq!(
            announcement_messages(" Hei! ", None, Oslo, Lang::Nb),
            vec!["Hei!".to_owned()]
        );
        let long = "x".repeat(DISCORD_MESSAGE_LIMIT);
        let parts = announcement_messages(&long, Some(due), Oslo, Lang::Nb);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], long);
    }

    #[test]
    fn event_list_uses_discord_timestamps() {
        let e = event("2026-11-04 09:00", "2026-11-04 15:30");
        let list = event_list(std::slice::from_ref(&e), Lang::Nb);
        let unix = e.start.timestamp();
        assert_eq!(unix, utc("2026-11-04T08:00:00Z").timestamp());
        assert!(
            list.contains(&format!("<t:{unix}:F> (<t:{unix}:R>)")),
            "{list}"
        );
        assert!(list.starts_with("**Kommende arrangementer**"));
        assert!(list.contains("Sted: Thon Hotel Ski, Jernbanesvingen 6, 1400 Ski"));
        assert_eq!(
            event_list(&[], Lang::En),
            "No upcoming events have been added."
        );
        let many = vec![e; 60];
        let list = event_list(&many, Lang::Nb);
        assert!(list.chars().count() <= DISCORD_MESSAGE_LIMIT);
        assert!(list.ends_with('.') && list.contains("… og "), "{list}");
    }

    #[test]
    fn timing_lines() {
        let e = event("2017-11-01 09:00", "2017-11-01 15:30");
        let after = utc("2026-01-01T00:00:00Z");
        assert_eq!(
            event_timing_line(&e, after, Lang::Nb),
            "Dette arrangementet er avholdt (1. november 2017)."
        );
        assert_eq!(
            event_timing_line(&e, after, Lang::En),
            "This event took place on 1 November 2017."
        );
        let before = utc("2017-10-01T00:00:00Z");
        assert_eq!(
            event_timing_line(&e, before, Lang::Nb),
            "Kommende arrangement: onsdag 1. november 2017 kl. 09.00–15.30, Thon Hotel Ski, Jernbanesvingen 6, 1400 Ski."
        );
        let during = utc("2017-11-01T10:00:00Z");
        assert!(event_timing_line(&e, during, Lang::En)
            .starts_with("This event is happening now (until 15:30)"));
    }

    #[test]
    fn reminders_say_how_long_until() {
        let e = event("2026-11-04 09:00", "2026-11-04 15:30");
        let text = reminder_message(&e, TimeDelta::days(7), Lang::Nb);
        assert!(
            text.starts_with("**Påminnelse:** Leverandørkonferansen starter om 7 dager – <t:"),
            "{text}"
        );
        assert!(reminder_message(&e, TimeDelta::hours(2), Lang::En).contains("starts in 2 hours"));
        assert!(reminder_message(&e, TimeDelta::days(1), Lang::Nb).contains("om 1 dag "));
        let late = TimeDelta::hours(20) - TimeDelta::seconds(3);
        assert!(reminder_message(&e, late, Lang::Nb).contains("om 20 timer "));
        assert!(reminder_message(&e, TimeDelta::minutes(30), Lang::En).contains("in 30 minutes "));
    }
}
