//! The store's side of announcements, events and event reminders (organisers' work,
//! posted by the scheduler). The SQL is in `announce_queries.rs`, compiled for both
//! databases like the rest of the store.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};

use super::backend::{postgres, sqlite};
use super::model::Claimed;
use super::{
    back_off, Announcement, AnnouncementClaim, AnnouncementId, AnnouncementStatus, Backend,
    ClaimToken, DeliveryFailure, EventId, NewAnnouncement, NewEvent, ReminderClaim, Store,
    StoreError, StoredEvent, ANNOUNCEMENT_LEASE, MAX_ANNOUNCEMENT_ATTEMPTS,
};

impl Store {
    // -------------------------------------------------------- announcements
    //
    // These take `now` from the caller so the scheduler and its tests share
    // one clock.

    /// Stores an announcement, scheduled for `new.publish_at`, with an audit
    /// line. Check it first with
    /// [`announce::prepare_announcement`](crate::announce::prepare_announcement).
    #[tracing::instrument(level = "debug", skip_all, fields(channel = new.channel_id))]
    pub async fn add_announcement(
        &self,
        new: &NewAnnouncement,
        now: DateTime<Utc>,
    ) -> Result<Announcement, StoreError> {
        let new = NewAnnouncement {
            publish_at: new.publish_at.trunc_subsecs(6),
            ..new.clone()
        };
        dispatch!(self, insert_announcement(&new, now.trunc_subsecs(6)))
    }

    /// Announcements by time, optionally only those in one state.
    pub async fn list_announcements(
        &self,
        status: Option<AnnouncementStatus>,
    ) -> Result<Vec<Announcement>, StoreError> {
        dispatch!(self, list_announcements(status))
    }

    /// One announcement, or [`StoreError::NotFound`].
    pub async fn get_announcement(&self, id: AnnouncementId) -> Result<Announcement, StoreError> {
        dispatch!(self, get_announcement(id))
    }

    /// Changes the text and/or time of a scheduled announcement (`None` keeps
    /// it). Fails without changing anything with [`StoreError::NotFound`],
    /// [`StoreError::AnnouncementNotScheduled`] or
    /// [`StoreError::AnnouncementBeingPosted`].
    #[tracing::instrument(level = "debug", skip(self, text))]
    pub async fn edit_announcement(
        &self,
        id: AnnouncementId,
        text: Option<&str>,
        publish_at: Option<DateTime<Utc>>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Announcement, StoreError> {
        let publish_at = publish_at.map(|at| at.trunc_subsecs(6));
        dispatch!(
            self,
            update_announcement(id, text, publish_at, actor, now.trunc_subsecs(6))
        )
    }

    /// Cancels a scheduled announcement. The same errors as
    /// [`Store::edit_announcement`].
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn cancel_announcement(
        &self,
        id: AnnouncementId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Announcement, StoreError> {
        dispatch!(self, cancel_announcement(id, actor, now.trunc_subsecs(6)))
    }

    /// Claims up to `limit` announcements due at `now`, earliest first, for
    /// [`ANNOUNCEMENT_LEASE`]. Report each with
    /// [`Store::mark_announcement_posted`], [`Store::skip_announcement`] or
    /// [`Store::mark_announcement_failed`]. Any number of bots may call this
    /// at once (on PostgreSQL with `FOR UPDATE SKIP LOCKED`): each
    /// announcement goes to exactly one of them.
    pub async fn claim_due_announcements(
        &self,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<Announcement>, StoreError> {
        let now = now.trunc_subsecs(6);
        let lease = TimeDelta::from_std(ANNOUNCEMENT_LEASE).unwrap_or(TimeDelta::MAX);
        let token = ClaimToken::new();
        dispatch!(self, claim_announcements(limit, now, now + lease, &token))
    }

    /// Claims the announcement due first at `now`, if any, until `now + lease`: the
    /// scheduler's way, one at a time, renewing the lease with
    /// [`Store::renew_announcement_claim`] while it posts and recording each message
    /// with [`Store::record_parts_posted`]; `parts_posted` says which messages an earlier
    /// attempt posted. Report the end as for [`Store::claim_due_announcements`].
    pub async fn claim_next_announcement(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<AnnouncementClaim>, StoreError> {
        let now = now.trunc_subsecs(6);
        let until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX);
        let token = ClaimToken::new();
        dispatch!(self, claim_next_announcement(now, until, &token))
    }

    /// Extends a claimed announcement's lease until `until`. False when this bot no
    /// longer holds it.
    pub async fn renew_announcement_claim(
        &self,
        claim: &AnnouncementClaim,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let until = until.trunc_subsecs(6);
        dispatch!(self, renew_claim(Claimed::Announcement(claim), until))
    }

    /// Records that the first `parts` messages of a claimed announcement are posted.
    /// False when this bot no longer holds it.
    pub async fn record_parts_posted(
        &self,
        claim: &AnnouncementClaim,
        parts: u32,
    ) -> Result<bool, StoreError> {
        dispatch!(self, record_parts(Claimed::Announcement(claim), parts))
    }

    /// Records that a claimed announcement was posted (`late`: with a delay
    /// note).
    pub async fn mark_announcement_posted(
        &self,
        id: AnnouncementId,
        late: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(
            self,
            mark_announcement_posted(id, late, now.trunc_subsecs(6))
        )
    }

    /// Records that a claimed announcement was not posted because it was too
    /// late, with the reason in the audit log.
    pub async fn skip_announcement(
        &self,
        id: AnnouncementId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Announcement, StoreError> {
        dispatch!(self, skip_announcement(id, reason, now.trunc_subsecs(6)))
    }

    /// Records a failed post. It is tried again after a growing back-off;
    /// after [`MAX_ANNOUNCEMENT_ATTEMPTS`] it is given up (status failed).
    pub async fn mark_announcement_failed(
        &self,
        id: AnnouncementId,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<DeliveryFailure, StoreError> {
        let now = now.trunc_subsecs(6);
        let retry = |attempts: u32| now + back_off(attempts);
        dispatch!(
            self,
            mark_announcement_failed(id, error, MAX_ANNOUNCEMENT_ATTEMPTS, retry, now)
        )
    }

    // --------------------------------------------------------------- events

    /// Stores an event added by an organiser. Bumps
    /// [`Store::knowledge_version`] in the same transaction, so running bots
    /// rebuild their index and answer about it; returns the event and the new
    /// version.
    pub async fn add_event(
        &self,
        event: &NewEvent,
        now: DateTime<Utc>,
    ) -> Result<(StoredEvent, i64), StoreError> {
        let event = NewEvent {
            start_at: event.start_at.trunc_subsecs(6),
            end_at: event.end_at.trunc_subsecs(6),
            ..event.clone()
        };
        dispatch!(self, insert_event(&event, now.trunc_subsecs(6)))
    }

    /// Every stored event, by start time (past ones too).
    pub async fn list_events(&self) -> Result<Vec<StoredEvent>, StoreError> {
        dispatch!(self, list_events())
    }

    /// One stored event, or [`StoreError::NotFound`].
    pub async fn get_event(&self, id: EventId) -> Result<StoredEvent, StoreError> {
        dispatch!(self, get_event(id))
    }

    /// Deletes a stored event and its reminder records; bumps the knowledge
    /// version and returns it.
    pub async fn delete_event(
        &self,
        id: EventId,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        dispatch!(self, delete_event(id, actor, now.trunc_subsecs(6)))
    }

    // ------------------------------------------------------------ reminders

    /// Claims the reminder `claim` of an event starting at `starts_at`: true
    /// when this caller should post it now. A reminder is claimed by one bot
    /// only, and posted once; a claim not marked posted within
    /// [`ANNOUNCEMENT_LEASE`] can be claimed again.
    pub async fn claim_reminder(
        &self,
        claim: &ReminderClaim,
        starts_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let now = now.trunc_subsecs(6);
        let lease = TimeDelta::from_std(ANNOUNCEMENT_LEASE).unwrap_or(TimeDelta::MAX);
        dispatch!(
            self,
            claim_reminder(claim, starts_at.trunc_subsecs(6), now, now + lease)
        )
    }

    /// Records that a claimed reminder was posted; it will never be claimed again.
    pub async fn mark_reminder_posted(
        &self,
        claim: &ReminderClaim,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, mark_reminder_posted(claim, now.trunc_subsecs(6)))
    }

    /// Gives back a claimed reminder whose post failed, to be tried again
    /// from `retry_at`.
    pub async fn release_reminder(
        &self,
        claim: &ReminderClaim,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, release_reminder(claim, retry_at.trunc_subsecs(6)))
    }

    /// Every reminder posted so far.
    pub async fn reminders_posted(&self) -> Result<Vec<ReminderClaim>, StoreError> {
        dispatch!(self, reminders_posted())
    }
}
