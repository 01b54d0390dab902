//! Posting what is due: scheduled announcements and event reminders.
//!
//! Every bot runs a scheduler; the store's claims make sure each announcement and each
//! reminder is posted by one of them, once. A bot that was down posts what it missed
//! late, with a note, unless it is older than `announcements.late_limit_hours` (then it
//! is skipped and the audit log says so). Functions take `now` so tests need no sleep.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tokio::task::JoinHandle;

use super::format::{announcement_messages, reminder_message};
use super::ics::{event_ics, ics_filename};
use super::model::{events_from_knowledge, Event};
use crate::app::App;
use crate::config::AnnouncementSettings;
use crate::knowledge::Lang;
use crate::store::{
    hold_claim, AnnouncementClaim, AnnouncementId, DeliveryFailure, Held, ReminderClaim, Store,
    StoreError,
};

/// How often [`spawn_scheduler`] looks for due announcements and reminders.
pub const SCHEDULER_TICK: Duration = Duration::from_secs(5);

/// An announcement posted more than this after its time gets the "delayed" note;
/// less is the normal delay of a tick, or of a retry after a crashed bot's lease
/// ([`ANNOUNCEMENT_LEASE`](crate::store::ANNOUNCEMENT_LEASE), two minutes).
pub const LATE_NOTE_AFTER: TimeDelta = TimeDelta::minutes(5);

/// Why posting an announcement's messages stopped early.
enum Stopped {
    Failed(PostError),
    Lost,
    Store(StoreError),
}

/// How long a reminder whose post failed waits before it is tried again.
const REMINDER_RETRY: TimeDelta = TimeDelta::minutes(1);

/// A file posted with a message (the `.ics` of an event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name users see and save it under: `conference-follo-2017.ics`.
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Why a post did not reach its channel. The scheduler retries every kind with a
/// growing back-off and gives up after
/// [`MAX_ANNOUNCEMENT_ATTEMPTS`](crate::store::MAX_ANNOUNCEMENT_ATTEMPTS).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    /// The channel does not exist or the bot cannot see it.
    #[error("channel {0} does not exist or the bot cannot see it")]
    UnknownChannel(u64),
    /// The bot lacks permission to post (or attach files) there.
    #[error("the bot may not post in channel {0}")]
    Forbidden(u64),
    /// Anything else: Discord unavailable, rate limited, a network error.
    #[error("posting failed: {0}")]
    Failed(String),
}

/// The future [`Poster::post`] returns.
pub type PostFuture<'a> = Pin<Box<dyn Future<Output = Result<(), PostError>> + Send + 'a>>;

/// Something that posts a message to a channel: the Discord adapter, or
/// [`RecordingPoster`] in tests. Implement it as
/// `fn post<'a>(&'a self, …) -> PostFuture<'a> { Box::pin(async move { … }) }`.
pub trait Poster: Send + Sync {
    /// Posts `text` (at most 2,000 characters) to the channel, with an optional file.
    fn post<'a>(
        &'a self,
        channel_id: u64,
        text: &'a str,
        attachment: Option<Attachment>,
    ) -> PostFuture<'a>;
}

/// One post a [`RecordingPoster`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPost {
    pub channel_id: u64,
    pub text: String,
    pub attachment: Option<Attachment>,
}

/// A [`Poster`] that keeps what it is given, for tests and dry runs. It can be told
/// to fail, to test retries.
#[derive(Debug, Default)]
pub struct RecordingPoster {
    posts: Mutex<Vec<RecordedPost>>,
    failing: Mutex<Option<PostError>>,
}

impl RecordingPoster {
    /// A poster that accepts everything.
    pub fn new() -> RecordingPoster {
        RecordingPoster::default()
    }

    /// Every post so far, in order.
    pub fn posts(&self) -> Vec<RecordedPost> {
        self.posts.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// From now on fail every post with `error` (`None`: succeed again).
    pub fn fail_with(&self, error: Option<PostError>) {
        if let Ok(mut failing) = self.failing.lock() {
            *failing = error;
        }
    }
}

impl Poster for RecordingPoster {
    fn post<'a>(
        &'a self,
        channel_id: u64,
        text: &'a str,
        attachment: Option<Attachment>,
    ) -> PostFuture<'a> {
        Box::pin(async move {
            if let Some(error) = self.failing.lock().ok().and_then(|f| f.clone()) {
                return Err(error);
            }
            if let Ok(mut posts) = self.posts.lock() {
                posts.push(RecordedPost {
                    channel_id,
                    text: text.to_owned(),
                    attachment,
                });
            }
            Ok(())
        })
    }
}

/// What the scheduler needs from the settings, in typed form.
#[derive(Debug, Clone)]
pub struct SchedulerConfig {
    /// The zone of organisers' wall-clock times (Europe/Oslo).
    pub timezone: Tz,
    /// The language of notes and reminders.
    pub lang: Lang,
    /// Older than this, a missed announcement or reminder is skipped.
    pub late_limit: TimeDelta,
    /// Reminders go out this long before each upcoming event.
    pub reminder_offsets: Vec<TimeDelta>,
    /// Where reminders go; none, no reminders.
    pub reminder_channel: Option<u64>,
    /// How long an announcement being posted is held before another bot may take it
    /// (`claims.lease_ms`); renewed every third of it while posting.
    pub lease: Duration,
}

impl SchedulerConfig {
    /// From the `[announcements]` settings.
    pub fn from_settings(settings: &AnnouncementSettings) -> SchedulerConfig {
        let mut offsets: Vec<TimeDelta> = settings
            .reminder_days_before
            .iter()
            .map(|d| TimeDelta::days(i64::from(*d)))
            .chain(
                settings
                    .reminder_hours_before
                    .iter()
                    .map(|h| TimeDelta::hours(i64::from(*h))),
            )
            .filter(|o| *o > TimeDelta::zero())
            .collect();
        offsets.sort();
        offsets.dedup();
        SchedulerConfig {
            timezone: settings.timezone,
            lang: settings.language,
            late_limit: TimeDelta::hours(i64::from(settings.late_limit_hours)),
            reminder_offsets: offsets,
            reminder_channel: settings.reminder_channel,
            lease: crate::store::CLAIM_LEASE,
        }
    }
}

/// Whether a due announcement is posted as usual, late with a note, or skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    OnTime,
    Late,
    TooLate,
}

/// Decides how to treat something due at `due` that is handled at `now`.
pub fn timing(due: DateTime<Utc>, now: DateTime<Utc>, late_limit: TimeDelta) -> Timing {
    let delay = now - due;
    if delay > late_limit {
        Timing::TooLate
    } else if delay > LATE_NOTE_AFTER {
        Timing::Late
    } else {
        Timing::OnTime
    }
}

/// A reminder due now: the event and how long before its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder<'a> {
    pub event: &'a Event,
    pub offset: TimeDelta,
}

/// The reminders due at `now`: per event not yet started, the one for the smallest
/// offset whose time has come, if that time is within the late limit. Larger offsets
/// passed while no bot ran are not posted after a smaller one is due: one reminder
/// per event at a time, never a burst.
pub fn due_reminders<'a>(
    events: &'a [Event],
    config: &SchedulerConfig,
    now: DateTime<Utc>,
) -> Vec<DueReminder<'a>> {
    let mut due = Vec::new();
    for event in events.iter().filter(|e| e.start > now) {
        let smallest = config
            .reminder_offsets
            .iter()
            .copied()
            .filter(|o| event.start - *o <= now)
            .min();
        if let Some(offset) = smallest {
            if now - (event.start - offset) <= config.late_limit {
                due.push(DueReminder { event, offset });
            }
        }
    }
    due
}

/// What one run of the scheduler did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TickReport {
    /// Posted on time.
    pub posted: Vec<AnnouncementId>,
    /// Posted late, with a note.
    pub posted_late: Vec<AnnouncementId>,
    /// Too late: skipped (status skipped, audit line).
    pub skipped: Vec<AnnouncementId>,
    /// Posting failed; retried later or given up.
    pub failed: Vec<AnnouncementId>,
    /// Reminders posted, as (event id, minutes before).
    pub reminders: Vec<(String, i64)>,
}

/// Posts due announcements and reminders through a [`Poster`].
#[derive(Clone)]
pub struct Scheduler {
    store: Store,
    config: SchedulerConfig,
    poster: Arc<dyn Poster>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Scheduler {
    pub fn new(store: Store, config: SchedulerConfig, poster: Arc<dyn Poster>) -> Scheduler {
        Scheduler {
            store,
            config,
            poster,
        }
    }

    /// One round: due announcements, then due reminders of `events`. Errors are
    /// logged, not returned: the next tick tries again.
    pub async fn tick(&self, events: &[Event], now: DateTime<Utc>) -> TickReport {
        let mut report = TickReport::default();
        if let Err(e) = self.post_due_announcements(now, &mut report).await {
            tracing::warn!(error = %e, "could not post due announcements");
        }
        if let Err(e) = self.post_due_reminders(events, now, &mut report).await {
            tracing::warn!(error = %e, "could not post event reminders");
        }
        report
    }

    /// Claims the announcements due at `now`, one at a time, and posts, skips or fails
    /// each. A claim is held while its messages are posted (renewed every third of
    /// [`SchedulerConfig::lease`]), so a slow Discord never lets another bot post it
    /// again, and each message posted is recorded, so a retry after a failure halfway
    /// posts only the rest.
    pub async fn post_due_announcements(
        &self,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        while let Some(claim) = self
            .store
            .claim_next_announcement(now, self.config.lease)
            .await?
        {
            self.post_announcement(&claim, now, report).await?;
        }
        Ok(())
    }

    async fn post_announcement(
        &self,
        claim: &AnnouncementClaim,
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        let announcement = &claim.announcement;
        let id = announcement.id;
        let timing = timing(announcement.publish_at, now, self.config.late_limit);
        if timing == Timing::TooLate {
            let reason = format!(
                "missed by {} hours, more than announcements.late_limit_hours ({})",
                (now - announcement.publish_at).num_hours(),
                self.config.late_limit.num_hours()
            );
            tracing::warn!(%id, %reason, "skipping a missed announcement");
            self.store.skip_announcement(id, &reason, now).await?;
            report.skipped.push(id);
            return Ok(());
        }
        let late = timing == Timing::Late;
        let messages = announcement_messages(
            &announcement.text,
            late.then_some(announcement.publish_at),
            self.config.timezone,
            self.config.lang,
        );
        let start = usize::try_from(claim.parts_posted).unwrap_or(usize::MAX);
        let post = async {
            for (index, message) in messages.iter().enumerate().skip(start) {
                self.poster
                    .post(announcement.channel_id, message, None)
                    .await
                    .map_err(Stopped::Failed)?;
                let posted = u32::try_from(index + 1).unwrap_or(u32::MAX);
                match self.store.record_parts_posted(claim, posted).await {
                    Ok(true) => {}
                    Ok(false) => return Err(Stopped::Lost),
                    Err(e) => return Err(Stopped::Store(e)),
                }
            }
            Ok(())
        };
        // The lease runs on the scheduler's clock (`now`) plus the time spent posting.
        let started = std::time::Instant::now();
        let lease = TimeDelta::from_std(self.config.lease).unwrap_or(TimeDelta::MAX);
        let renew = || {
            let spent = TimeDelta::from_std(started.elapsed()).unwrap_or_default();
            self.store
                .renew_announcement_claim(claim, now + spent + lease)
        };
        match hold_claim(post, self.config.lease / 3, renew).await {
            Held::Done(Ok(())) => {
                self.store.mark_announcement_posted(id, late, now).await?;
                tracing::info!(%id, late, "posted an announcement");
                if late {
                    report.posted_late.push(id);
                } else {
                    report.posted.push(id);
                }
            }
            Held::Done(Err(Stopped::Failed(error))) => {
                let outcome = self
                    .store
                    .mark_announcement_failed(id, &error.to_string(), now)
                    .await?;
                match outcome {
                    DeliveryFailure::GaveUp => {
                        tracing::error!(%id, %error, "gave up posting an announcement")
                    }
                    DeliveryFailure::WillRetry { attempts } => {
                        tracing::warn!(%id, %error, attempts, "posting an announcement failed; will retry")
                    }
                }
                report.failed.push(id);
            }
            Held::Lost | Held::Done(Err(Stopped::Lost)) => {
                tracing::warn!(%id, "another bot took over posting an announcement");
            }
            Held::Done(Err(Stopped::Store(e))) => return Err(e),
        }
        Ok(())
    }

    /// Posts the reminders of `events` due at `now` to the reminder channel, each
    /// with the event's `.ics` file. Each is posted once across all bots.
    pub async fn post_due_reminders(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
        report: &mut TickReport,
    ) -> Result<(), StoreError> {
        let Some(channel) = self.config.reminder_channel else {
            return Ok(());
        };
        for due in due_reminders(events, &self.config, now) {
            let claim = ReminderClaim {
                event_key: due.event.id.clone(),
                offset_minutes: due.offset.num_minutes(),
            };
            if !self
                .store
                .claim_reminder(&claim, due.event.start, now)
                .await?
            {
                continue;
            }
            let text = reminder_message(due.event, due.event.start - now, self.config.lang);
            let attachment = Attachment {
                filename: ics_filename(due.event),
                bytes: event_ics(due.event, now).into_bytes(),
            };
            match self.poster.post(channel, &text, Some(attachment)).await {
                Ok(()) => {
                    self.store.mark_reminder_posted(&claim, now).await?;
                    report
                        .reminders
                        .push((claim.event_key, claim.offset_minutes));
                }
                Err(error) => {
                    tracing::warn!(event = %claim.event_key, %error, "posting a reminder failed; will retry");
                    self.store
                        .release_reminder(&claim, now + REMINDER_RETRY)
                        .await?;
                }
            }
        }
        Ok(())
    }
}

/// Starts the scheduler of a running bot: every [`SCHEDULER_TICK`] it posts due
/// announcements and reminders for the events in the app's knowledge (files and
/// database, as merged by the last reload). While the database is down it waits.
pub fn spawn_scheduler(app: App, poster: Arc<dyn Poster>) -> JoinHandle<()> {
    spawn_scheduler_every(app, poster, SCHEDULER_TICK)
}

/// [`spawn_scheduler`] with another interval (tests use a short one).
pub fn spawn_scheduler_every(app: App, poster: Arc<dyn Poster>, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let config = SchedulerConfig {
            lease: app.settings.claims.lease(),
            ..SchedulerConfig::from_settings(&app.settings.announcements)
        };
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut digest_week = None;
        loop {
            interval.tick().await;
            let Some(store) = app.store() else { continue };
            let knowledge = app.answerer();
            // This week's list of stale knowledge goes out as an announcement, posted below.
            if let Err(e) = super::digest::queue_weekly_digest(
                &app.settings,
                knowledge.knowledge(),
                &store,
                Utc::now(),
                &mut digest_week,
            )
            .await
            {
                tracing::warn!(error = %e, "could not schedule the weekly knowledge digest");
            }
            let events = events_from_knowledge(knowledge.knowledge(), config.lang, config.timezone);
            let scheduler = Scheduler::new(store, config.clone(), poster.clone());
            let report = scheduler.tick(&events, app.now()).await;
            if report != TickReport::default() {
                tracing::debug!(?report, "scheduler tick");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn timing_boundaries() {
        let due = at("2026-05-01T10:00:00Z");
        let limit = TimeDelta::hours(12);
        assert_eq!(timing(due, due, limit), Timing::OnTime);
        assert_eq!(
            timing(due, due + TimeDelta::seconds(90), limit),
            Timing::OnTime
        );
        assert_eq!(
            timing(due, due + TimeDelta::minutes(3), limit),
            Timing::OnTime
        );
        assert_eq!(
            timing(due, due + TimeDelta::minutes(6), limit),
            Timing::Late
        );
        assert_eq!(timing(due, due + limit, limit), Timing::Late);
        assert_eq!(
            timing(due, due + limit + TimeDelta::seconds(1), limit),
            Timing::TooLate
        );
    }

    #[test]
    fn offsets_come_from_the_settings_sorted() {
        let settings = crate::config::Settings::defaults().announcements;
        let config = SchedulerConfig::from_settings(&settings);
        assert_eq!(
            config.reminder_offsets,
            vec![TimeDelta::hours(2), TimeDelta::days(1), TimeDelta::days(7)]
        );
        assert_eq!(config.lang, Lang::Nb);
    }
}
