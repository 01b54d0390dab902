//! Event reminders: at each configured offset before the start, once, with the
//! calendar file; never a burst of missed ones.

use std::sync::Arc;

use anbud::announce::{self, Event, EventDraft, RecordingPoster, Scheduler};
use anbud::knowledge::Lang;
use chrono::TimeDelta;
use chrono_tz::Europe::Oslo;

use super::db::{on_both_databases, TestDb};
use super::{config, scheduler, utc, SlowPoster, REMINDERS};

on_both_databases!(
    reminders_are_posted_once_at_each_offset,
    racing_schedulers_post_each_reminder_once,
    reminders_missed_long_ago_are_not_posted,
);

/// An event stored in the database, starting 2026-11-04 09:00 Oslo (08:00 UTC).
async fn conference(db: &TestDb) -> Event {
    let store = db.store().await;
    let draft = EventDraft {
        title: "Leverandørkonferansen 2026".into(),
        start: "2026-11-04 09:00".into(),
        end: "2026-11-04 15:30".into(),
        venue: "Thon Hotel Ski".into(),
        address: Some("Jernbanesvingen 6, 1400 Ski".into()),
        registration_url: Some("https://example.org/pamelding".into()),
        audience: Some("Leverandører og innkjøpere".into()),
        description: Some("Kommunene i Follo legger fram planene sine.".into()),
        organiser: None,
        lang: Lang::Nb,
    };
    let now = utc("2026-10-01T00:00:00Z");
    let prepared = announce::prepare_event(&draft, Oslo, "organiser", now).unwrap();
    let stored = announce::add_event(&store, &prepared, now).await.unwrap();
    Event::from_stored(&stored, Oslo)
}

async fn reminders_are_posted_once_at_each_offset(db: &TestDb) {
    let event = conference(db).await;
    assert_eq!(event.start, utc("2026-11-04T08:00:00Z"));
    let store = db.store().await;
    let poster = Arc::new(RecordingPoster::new());
    let scheduler = scheduler(&store, &poster);
    let events = std::slice::from_ref(&event);
    let start = event.start;
    let mut expected = 0;
    for (at, posts_one) in [
        (start - TimeDelta::days(8), false),
        (start - TimeDelta::days(7) - TimeDelta::seconds(1), false),
        (start - TimeDelta::days(7), true),
        (start - TimeDelta::days(7) + TimeDelta::seconds(5), false),
        (start - TimeDelta::days(3), false),
        (start - TimeDelta::days(1) - TimeDelta::minutes(1), false),
        (start - TimeDelta::days(1), true),
        (start - TimeDelta::hours(3), false),
        (start - TimeDelta::hours(2), true),
        (start - TimeDelta::hours(1), false),
        (start + TimeDelta::hours(1), false),
    ] {
        scheduler.tick(events, at).await;
        if posts_one {
            expected += 1;
        }
        assert_eq!(poster.posts().len(), expected, "after the tick at {at}");
    }
    let posts = poster.posts();
    assert!(posts.iter().all(|p| p.channel_id == REMINDERS));
    assert!(
        posts[0].text.contains("starter om 7 dager"),
        "{}",
        posts[0].text
    );
    assert!(
        posts[1].text.contains("starter om 1 dag "),
        "{}",
        posts[1].text
    );
    assert!(
        posts[2].text.contains("starter om 2 timer"),
        "{}",
        posts[2].text
    );
    let unix = start.timestamp();
    assert!(
        posts[0]
            .text
            .contains(&format!("<t:{unix}:F> (<t:{unix}:R>)")),
        "{}",
        posts[0].text
    );
    let ics = posts[0].attachment.as_ref().expect("the calendar file");
    assert_eq!(ics.filename, format!("{}.ics", event.id));
    let text = String::from_utf8(ics.bytes.clone()).unwrap();
    assert!(text.contains("DTSTART:20261104T080000Z\r\n"), "{text}");
    let sent = store.reminders_posted().await.unwrap();
    assert_eq!(
        sent.iter().map(|r| r.offset_minutes).collect::<Vec<_>>(),
        [120, 24 * 60, 7 * 24 * 60]
    );
}

async fn racing_schedulers_post_each_reminder_once(db: &TestDb) {
    let event = conference(db).await;
    let (first_store, second_store) = (db.store().await, db.store().await);
    let first_poster = Arc::new(SlowPoster::default());
    let second_poster = Arc::new(SlowPoster::default());
    let first = Scheduler::new(first_store, config(), first_poster.clone());
    let second = Scheduler::new(second_store, config(), second_poster.clone());
    let events = std::slice::from_ref(&event);
    for offset in [TimeDelta::days(7), TimeDelta::days(1), TimeDelta::hours(2)] {
        let at = event.start - offset;
        for step in 0..3 {
            let at = at + TimeDelta::seconds(step);
            tokio::join!(first.tick(events, at), second.tick(events, at));
        }
    }
    let total = first_poster.posts().len() + second_poster.posts().len();
    assert_eq!(
        total,
        3,
        "one reminder per offset: {:?} {:?}",
        first_poster.posts(),
        second_poster.posts()
    );
}

async fn reminders_missed_long_ago_are_not_posted(db: &TestDb) {
    let event = conference(db).await;
    let store = db.store().await;
    let poster = Arc::new(RecordingPoster::new());
    let scheduler = scheduler(&store, &poster);
    let events = std::slice::from_ref(&event);
    // The bot starts three days before: the 7-day reminder is long gone.
    scheduler
        .tick(events, event.start - TimeDelta::days(3))
        .await;
    assert!(poster.posts().is_empty());
    // It was down over the 1-day mark and comes back 20 hours before the start.
    scheduler
        .tick(events, event.start - TimeDelta::hours(20))
        .await;
    assert_eq!(
        poster.posts().len(),
        1,
        "four hours late is within the limit"
    );
    assert!(
        poster.posts()[0].text.contains("starter om 20 timer"),
        "{}",
        poster.posts()[0].text
    );
    // Down again over the 2-hour mark, back 30 minutes before: the 2-hour one, once.
    scheduler
        .tick(events, event.start - TimeDelta::minutes(30))
        .await;
    scheduler
        .tick(events, event.start - TimeDelta::minutes(29))
        .await;
    assert_eq!(poster.posts().len(), 2);
    assert!(
        poster.posts()[1].text.contains("starter om 30 minutter"),
        "{}",
        poster.posts()[1].text
    );
}
