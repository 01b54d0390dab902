//! The weekly message to advisers listing what in the knowledge base became stale:
//! one per week, whichever bot gets there first (see
//! [`knowledge::review`](crate::knowledge::review) for its text).

use chrono::{DateTime, SubsecRound, Utc};

use super::{
    backend::postgres, backend::sqlite, Announcement, Backend, NewAnnouncement, Store, StoreError,
};

impl Store {
    /// Schedules `new` as the knowledge digest of `week` ("2026-W49") unless that week
    /// already has one. `None`: it had (another bot, or this one before a restart,
    /// made it). The week and the message are written in one transaction.
    pub async fn queue_knowledge_digest(
        &self,
        week: &str,
        new: &NewAnnouncement,
        now: DateTime<Utc>,
    ) -> Result<Option<Announcement>, StoreError> {
        let new = NewAnnouncement {
            publish_at: new.publish_at.trunc_subsecs(6),
            ..new.clone()
        };
        dispatch!(
            self,
            queue_knowledge_digest(week, &new, now.trunc_subsecs(6))
        )
    }

    /// When the newest knowledge digest was made: what became stale after it goes
    /// into the next one.
    pub async fn last_knowledge_digest(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        dispatch!(self, last_knowledge_digest())
    }
}
