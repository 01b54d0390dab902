//! A calendar file (RFC 5545 iCalendar) for one event, to attach to reminders and hand
//! out with `anbud events ics ID`.
//!
//! Times are written in UTC (`…Z`), which every calendar converts to its reader's zone,
//! so no VTIMEZONE block is needed. Text values are escaped and every line is folded at
//! 75 octets without splitting a UTF-8 character; lines end in CRLF.

use chrono::{DateTime, Utc};

use super::model::Event;

/// The product id calendar programs see.
const PRODID: &str = "-//anbud//events//NB";

/// The longest content line, in octets, before folding (RFC 5545 §3.1).
const MAX_LINE_OCTETS: usize = 75;

/// The `.ics` file of an event. `dtstamp` is when the file was made (pass the clock's
/// now). The UID is stable per event, so importing an updated file replaces the old
/// entry instead of adding a second.
pub fn event_ics(event: &Event, dtstamp: DateTime<Utc>) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        format!("PRODID:{PRODID}"),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}@anbud", escape_text(&event.id)),
        format!("DTSTAMP:{}", utc_stamp(dtstamp)),
        format!("DTSTART:{}", utc_stamp(event.start)),
        format!("DTEND:{}", utc_stamp(event.end)),
        format!("SUMMARY:{}", escape_text(&event.title)),
        format!("LOCATION:{}", escape_text(&event.place())),
    ];
    let mut description = event.description.trim().to_owned();
    if let Some(audience) = &event.audience {
        description.push_str(&format!("\n\n{audience}"));
    }
    if !description.is_empty() {
        lines.push(format!("DESCRIPTION:{}", escape_text(&description)));
    }
    if let Some(organiser) = &event.organiser {
        // ORGANIZER needs a mail address; the name goes in a comment instead.
        lines.push(format!("COMMENT:{}", escape_text(organiser)));
    }
    if let Some(url) = &event.registration_url {
        // URL is of type URI: not escaped as text, but it must stay on its line.
        lines.push(format!("URL:{}", url.replace(['\r', '\n'], "")));
    }
    lines.push("END:VEVENT".to_owned());
    lines.push("END:VCALENDAR".to_owned());
    lines.iter().map(|line| fold_line(line)).collect()
}

/// The file name to attach the calendar under: `conference-follo-2017.ics`.
pub fn ics_filename(event: &Event) -> String {
    let safe: String = event
        .id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{safe}.ics")
}

/// `20171101T080000Z`.
fn utc_stamp(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value: backslash, semicolon and comma get a backslash, a newline
/// becomes `\n`, carriage returns go.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds one content line into lines of at most 75 octets, each continuation
/// starting with a space, and ends every line with CRLF. Never splits a UTF-8
/// character.
pub fn fold_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 70 * 3 + 2);
    let mut used = 0;
    for c in line.chars() {
        if used + c.len_utf8() > MAX_LINE_OCTETS {
            out.push_str("\r\n ");
            // The leading space counts towards the continuation line's 75 octets.
            used = 1;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Lang;
    use proptest::prelude::*;

    fn unfold(text: &str) -> String {
        text.replace("\r\n ", "")
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
        assert_eq!(escape_text("Thon Hotel Ski"), "Thon Hotel Ski");
    }

    #[test]
    fn short_lines_are_not_folded() {
        assert_eq!(fold_line("SUMMARY:Hei"), "SUMMARY:Hei\r\n");
        let exactly = format!("X:{}", "a".repeat(73));
        assert_eq!(fold_line(&exactly), format!("{exactly}\r\n"));
    }

    #[test]
    fn long_lines_fold_at_75_octets() {
        let line = format!("DESCRIPTION:{}", "a".repeat(200));
        let folded = fold_line(&line);
        let parts: Vec<&str> = folded.trim_end_matches("\r\n").split("\r\n").collect();
        assert_eq!(parts[0].len(), 75);
        assert!(parts[1..]
            .iter()
            .all(|p| p.starts_with(' ') && p.len() <= 75));
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
    }

    #[test]
    fn folding_never_splits_a_character() {
        // "ø" is two octets: 37 of them after "X:" would end on octet 76.
        let line = format!("X:{}", "ø".repeat(80));
        let folded = fold_line(&line);
        for part in folded.split("\r\n").filter(|p| !p.is_empty()) {
            assert!(part.len() <= 75, "{} octets", part.len());
        }
        assert_eq!(unfold(&folded), format!("{line}\r\n"));
    }

    proptest! {
        #[test]
        fn folding_round_trips_and_respects_the_limit(text in "\\PC{0,300}") {
            let line = format!("DESCRIPTION:{}", escape_text(&text));
            let folded = fold_line(&line);
            prop_assert!(folded.ends_with("\r\n"));
            for part in folded.trim_end_matches("\r\n").split("\r\n") {
                prop_assert!(part.len() <= 75);
            }
            prop_assert_eq!(unfold(&folded), format!("{line}\r\n"));
        }
    }

    #[test]
    fn a_whole_calendar() {
        let start = DateTime::parse_from_rfc3339("2017-11-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let end = DateTime::parse_from_rfc3339("2017-11-01T14:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let event = Event {
            id: "conference-follo-2017".into(),
            lang: Lang::Nb,
            title: "Leverandørkonferansen, Ski; 2017".into(),
            description: "Første linje.\nAndre linje.".into(),
            start,
            end,
            start_local: start.naive_utc(),
            end_local: end.naive_utc(),
            venue: "Thon Hotel Ski".into(),
            address: Some("Jernbanesvingen 6, 1400 Ski".into()),
            registration_url: Some("https://example.org/a,b".into()),
            organiser: None,
            audience: None,
        };
        let ics = event_ics(&event, start);
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(ics.contains("\r\nUID:conference-follo-2017@anbud\r\n"));
        assert!(ics.contains("\r\nDTSTART:20171101T080000Z\r\nDTEND:20171101T143000Z\r\n"));
        assert!(ics.contains("\r\nSUMMARY:Leverandørkonferansen\\, Ski\\; 2017\r\n"));
        assert!(ics.contains("\r\nLOCATION:Thon Hotel Ski\\, Jernbanesvingen 6\\, 1400 Ski\r\n"));
        assert!(ics.contains("\r\nDESCRIPTION:Første linje.\\nAndre linje.\r\n"));
        assert!(ics.contains("\r\nURL:https://example.org/a,b\r\n"));
        assert!(!ics.replace("\r\n", "").contains('\n'));
        assert_eq!(ics_filename(&event), "conference-follo-2017.ics");
    }
}
