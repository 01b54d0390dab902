//! Announcements and events against both databases: schedules that survive a
//! restart, daylight saving, exactly one post from racing schedulers, late and
//! skipped announcements, reminders, bad input, and events in answers.
//!
//! Every test passes `now` explicitly; nothing sleeps to wait for a clock. PostgreSQL
//! variants run when `ANBUD_TEST_POSTGRES_URL` is set (for example
//! `postgres://postgres@127.0.0.1:5432/test`), each on a fresh database.

mod answers;
mod claims;
mod db;
mod digest;
mod input;
mod reminders;
mod schedule;

use std::sync::Arc;

use anbud::announce::{
    self, AnnouncementDraft, Attachment, PostFuture, Poster, RecordedPost, RecordingPoster,
    Scheduler, SchedulerConfig,
};
use anbud::knowledge::Lang;
use anbud::store::{Announcement, Store};
use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Europe::Oslo;

/// The channel test announcements go to.
pub const CHANNEL: u64 = 123_456_789_012_345_678;
/// The channel reminders go to.
pub const REMINDERS: u64 = 223_456_789_012_345_678;

/// A UTC instant from RFC 3339 text.
pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc)
}

/// The scheduler settings of the tests: Oslo, Bokmål, 12 hours late limit, reminders
/// 7 days, 1 day and 2 hours before.
pub fn config() -> SchedulerConfig {
    SchedulerConfig {
        timezone: Oslo,
        lang: Lang::Nb,
        late_limit: TimeDelta::hours(12),
        reminder_offsets: vec![TimeDelta::hours(2), TimeDelta::days(1), TimeDelta::days(7)],
        reminder_channel: Some(REMINDERS),
        lease: anbud::store::CLAIM_LEASE,
    }
}

/// A scheduler on `store` posting to `poster`.
pub fn scheduler(store: &Store, poster: &Arc<RecordingPoster>) -> Scheduler {
    Scheduler::new(store.clone(), config(), poster.clone())
}

/// Prepares and stores an announcement of `text` at local time `at` (`None`: now).
pub async fn schedule(
    store: &Store,
    text: &str,
    at: Option<&str>,
    now: DateTime<Utc>,
) -> Announcement {
    let draft = AnnouncementDraft {
        channel_id: CHANNEL,
        text: text.into(),
        at: at.map(str::to_owned),
    };
    let prepared = announce::prepare_announcement(&draft, &[], Oslo, "organiser", now)
        .expect("valid announcement");
    announce::schedule_announcement(store, &prepared, now)
        .await
        .expect("stored")
}

/// A poster that takes a little time per post, so racing schedulers interleave, and
/// records every post. Implemented here, outside the crate, the way the Discord
/// adapter implements [`Poster`].
#[derive(Debug, Default)]
pub struct SlowPoster {
    inner: RecordingPoster,
}

impl SlowPoster {
    pub fn posts(&self) -> Vec<RecordedPost> {
        self.inner.posts()
    }
}

impl Poster for SlowPoster {
    fn post<'a>(
        &'a self,
        channel_id: u64,
        text: &'a str,
        attachment: Option<Attachment>,
    ) -> PostFuture<'a> {
        Box::pin(async move {
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            self.inner.post(channel_id, text, attachment).await
        })
    }
}
