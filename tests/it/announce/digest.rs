//! The weekly message to advisers that lists what in the knowledge base became stale:
//! due from `knowledge.review_digest` each week, queued once however many bots race
//! and however often they restart, and posted by the scheduler like any announcement.

use std::sync::Arc;

use anbud::announce::digest::{queue_weekly_digest, DIGEST_AUTHOR};
use anbud::announce::RecordingPoster;
use anbud::config::Settings;
use anbud::knowledge::{Entry, Fact, KnowledgeBase, Lang};
use anbud::store::AnnouncementStatus;
use chrono::NaiveDate;

use super::db::{on_both_databases, TestDb};
use super::{scheduler, utc};

on_both_databases!(
    the_weekly_digest_is_queued_once_across_bots_and_restarts,
    no_digest_without_an_adviser_channel_or_anything_stale,
);

const ADVISERS: u64 = 323_456_789_012_345_678;

fn settings(adviser_channel: Option<u64>) -> Settings {
    let mut settings = Settings::defaults();
    settings.discord.adviser_channel = adviser_channel;
    settings
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

fn entry(id: &str, reviewed: &str, fact: Option<(&str, &str)>) -> Entry {
    let mut e = Entry::new(id, Lang::Nb, id, &["a", "b", "c", "d", "e"], "Tekst.");
    e.reviewed = date(reviewed);
    e.facts = fact
        .into_iter()
        .map(|(text, checked)| Fact {
            text: text.into(),
            checked: date(checked),
            source: "https://anskaffelser.no/avtaler-og-regelverk/terskelverdier-offentlige-anskaffelser".into(),
            line: None,
        })
        .collect();
    e
}

/// One entry stale for long, one whose figure (checked 2026-06-07, 180 days) became
/// stale on 2026-12-05, and one fresh.
fn knowledge() -> KnowledgeBase {
    KnowledgeBase {
        entries: vec![
            entry("long-stale", "2025-01-01", None),
            entry(
                "thresholds",
                "2026-12-01",
                Some(("Nasjonal terskelverdi: 1,3 millioner kroner", "2026-06-07")),
            ),
            entry("fresh", "2026-12-01", None),
        ],
        ..Default::default()
    }
}

async fn the_weekly_digest_is_queued_once_across_bots_and_restarts(db: &TestDb) {
    let settings = settings(Some(ADVISERS));
    let kb = knowledge();
    let (bot_a, bot_b) = (db.store().await, db.store().await);
    let (mut done_a, mut done_b) = (None, None);

    // Monday 2026-12-07 08:00 in Oslo: before "mon 09:00", nothing yet.
    let early = utc("2026-12-07T07:00:00Z");
    let queued = queue_weekly_digest(&settings, &kb, &bot_a, early, &mut done_a)
        .await
        .unwrap();
    assert!(queued.is_none());
    assert_eq!(done_a, None, "not due: the week is not settled yet");

    // 09:30: two bots at once; one of them queues the week's message.
    let now = utc("2026-12-07T08:30:00Z");
    let (a, b) = tokio::join!(
        queue_weekly_digest(&settings, &kb, &bot_a, now, &mut done_a),
        queue_weekly_digest(&settings, &kb, &bot_b, now, &mut done_b),
    );
    let queued: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(done_a.as_deref(), Some("2026-W50"));
    assert_eq!(done_b.as_deref(), Some("2026-W50"));
    let digest = &queued[0];
    assert_eq!(digest.channel_id, ADVISERS);
    assert_eq!(digest.created_by, DIGEST_AUTHOR);
    assert!(digest.text.contains("thresholds (nb)"), "{}", digest.text);
    assert!(
        digest.text.contains("1,3 millioner kroner"),
        "{}",
        digest.text
    );
    assert!(
        !digest.text.contains("long-stale (nb)"),
        "stale before the week: {}",
        digest.text
    );
    assert!(
        digest.text.contains("Foreldet i alt: 2 av 3"),
        "{}",
        digest.text
    );

    // A restarted bot the same week: nothing more.
    let restarted = db.store().await;
    let mut done = None;
    let later = utc("2026-12-09T12:00:00Z");
    assert!(
        queue_weekly_digest(&settings, &kb, &restarted, later, &mut done)
            .await
            .unwrap()
            .is_none()
    );
    let all = restarted.list_announcements(None).await.unwrap();
    assert_eq!(all.len(), 1, "{all:?}");

    // The scheduler's next tick posts it to the advisers' channel, once.
    let tick = now + chrono::TimeDelta::seconds(5);
    let poster = Arc::new(RecordingPoster::new());
    let report = scheduler(&restarted, &poster).tick(&[], tick).await;
    assert_eq!(
        report.posted_late.len() + report.posted.len(),
        1,
        "{report:?}"
    );
    let posts = poster.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].channel_id, ADVISERS);
    assert!(posts[0].text.contains("1,3 millioner kroner"));
    let again = scheduler(&restarted, &poster).tick(&[], later).await;
    assert_eq!(poster.posts().len(), 1);
    assert_eq!(again, Default::default());
    assert_eq!(
        restarted
            .list_announcements(Some(AnnouncementStatus::Posted))
            .await
            .unwrap()
            .len(),
        1
    );

    // The next week: nothing new became stale, but two entries still are.
    let next_week = utc("2026-12-14T08:30:00Z");
    let mut done = None;
    let queued = queue_weekly_digest(&settings, &kb, &restarted, next_week, &mut done)
        .await
        .unwrap()
        .expect("a reminder while entries are stale");
    assert!(
        queued
            .text
            .contains("ingenting nytt ble foreldet siden 2026-12-07"),
        "{}",
        queued.text
    );
    assert_eq!(done.as_deref(), Some("2026-W51"));
}

async fn no_digest_without_an_adviser_channel_or_anything_stale(db: &TestDb) {
    let store = db.store().await;
    let now = utc("2026-12-07T08:30:00Z");
    let mut done = None;
    assert!(
        queue_weekly_digest(&settings(None), &knowledge(), &store, now, &mut done)
            .await
            .unwrap()
            .is_none()
    );
    let fresh = KnowledgeBase {
        entries: vec![entry("fresh", "2026-12-01", None)],
        ..Default::default()
    };
    let mut done = None;
    assert!(
        queue_weekly_digest(&settings(Some(ADVISERS)), &fresh, &store, now, &mut done)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        done.as_deref(),
        Some("2026-W50"),
        "the week is settled: nothing to say"
    );
    assert!(store.list_announcements(None).await.unwrap().is_empty());
}
