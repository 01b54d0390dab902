//! Issue 18.4 for announcements: each one is held by one bot while it posts (the claim
//! renewed, however slow Discord is), and a post that failed halfway goes on from the
//! message that failed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anbud::announce::{PostError, PostFuture, Poster, Scheduler, SchedulerConfig};
use anbud::store::{AnnouncementId, AnnouncementStatus, NewAnnouncement, Store};
use chrono::{DateTime, TimeDelta, Utc};

use super::db::{on_both_databases, TestDb};
use super::{config, CHANNEL};

on_both_databases!(
    two_bots_and_a_slow_discord_post_every_message_once,
    a_post_that_failed_halfway_goes_on_from_the_next_message,
);

/// A Discord that takes `delay` for every message, records what it got, and can be told
/// to refuse the n-th message.
struct SlowDiscord {
    delay: Duration,
    posted: Mutex<Vec<String>>,
    refuse_call: Option<usize>,
    calls: Mutex<usize>,
}

impl SlowDiscord {
    fn new(delay: Duration, refuse_call: Option<usize>) -> SlowDiscord {
        SlowDiscord {
            delay,
            posted: Mutex::new(Vec::new()),
            refuse_call,
            calls: Mutex::new(0),
        }
    }

    fn posted(&self) -> Vec<String> {
        self.posted.lock().unwrap().clone()
    }
}

impl Poster for SlowDiscord {
    fn post<'a>(
        &'a self,
        _channel_id: u64,
        text: &'a str,
        _attachment: Option<anbud::announce::Attachment>,
    ) -> PostFuture<'a> {
        Box::pin(async move {
            let call = {
                let mut calls = self.calls.lock().unwrap();
                *calls += 1;
                *calls
            };
            tokio::time::sleep(self.delay).await;
            if Some(call) == self.refuse_call {
                return Err(PostError::Failed("Discord answered 503".into()));
            }
            self.posted.lock().unwrap().push(text.to_owned());
            Ok(())
        })
    }
}

/// An announcement due ten minutes before `now`, too long to share a message with the
/// "delayed" note: two messages, its text and the note.
async fn late_and_long(store: &Store, label: &str, now: DateTime<Utc>) -> AnnouncementId {
    let text = format!("{label} {}", "Velkommen til leverandørdagen. ".repeat(63));
    assert!(text.chars().count() > 1950);
    let new = NewAnnouncement {
        channel_id: CHANNEL,
        text,
        publish_at: now - TimeDelta::minutes(10),
        created_by: "organiser".into(),
    };
    store
        .add_announcement(&new, now - TimeDelta::hours(1))
        .await
        .unwrap()
        .id
}

/// How many messages of each announcement (by its label) were posted, and how often.
fn tally(posts: &[String]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for post in posts {
        let key = if post.starts_with("(Forsinket") {
            "note".to_string()
        } else {
            post.split(' ').next().unwrap_or_default().to_string()
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    counts
}

async fn two_bots_and_a_slow_discord_post_every_message_once(db: &TestDb) {
    let start = Utc::now();
    let setup = db.store().await;
    let ids = [
        late_and_long(&setup, "A1", start).await,
        late_and_long(&setup, "A2", start).await,
        late_and_long(&setup, "A3", start).await,
    ];
    // Each announcement is two messages of 900 ms, longer than the lease: the claim must
    // be renewed while a bot posts, or the other bot takes the announcement over.
    let lease = Duration::from_millis(1500);
    let discord = Arc::new(SlowDiscord::new(Duration::from_millis(900), None));
    let clock = Instant::now();
    let mut bots = Vec::new();
    for _ in 0..2 {
        let store = db.store().await;
        let scheduler = Scheduler::new(
            store,
            SchedulerConfig { lease, ..config() },
            discord.clone(),
        );
        bots.push(tokio::spawn(async move {
            // Each bot ticks on its own clock, as running bots do.
            while clock.elapsed() < Duration::from_secs(8) {
                let now = start + TimeDelta::from_std(clock.elapsed()).unwrap();
                scheduler.tick(&[], now).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
    for bot in bots {
        bot.await.unwrap();
    }
    let counts = tally(&discord.posted());
    for label in ["A1", "A2", "A3"] {
        assert_eq!(counts.get(label), Some(&1), "{label}: {counts:?}");
    }
    assert_eq!(counts.get("note"), Some(&3), "{counts:?}");
    for id in ids {
        let stored = setup.get_announcement(id).await.unwrap();
        assert_eq!(stored.status, AnnouncementStatus::Posted);
        assert!(stored.late);
    }
}

async fn a_post_that_failed_halfway_goes_on_from_the_next_message(db: &TestDb) {
    let now = Utc::now();
    let store = db.store().await;
    let id = late_and_long(&store, "B1", now).await;
    // The text goes out, the note is refused.
    let discord = Arc::new(SlowDiscord::new(Duration::ZERO, Some(2)));
    let scheduler = Scheduler::new(store.clone(), config(), discord.clone());
    let report = scheduler.tick(&[], now).await;
    assert_eq!(report.failed, [id]);
    assert_eq!(tally(&discord.posted()).get("B1"), Some(&1));
    // After the back-off the next tick posts only what is missing.
    let report = scheduler.tick(&[], now + TimeDelta::minutes(2)).await;
    assert_eq!(report.posted_late, [id]);
    let counts = tally(&discord.posted());
    assert_eq!(
        (counts.get("B1"), counts.get("note")),
        (Some(&1), Some(&1)),
        "{counts:?}"
    );
    assert_eq!(
        store.get_announcement(id).await.unwrap().status,
        AnnouncementStatus::Posted
    );
}
