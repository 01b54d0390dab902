//! Notices from Doffin (one row per procedure), the sync's progress and lease, watches
//! and the alerts sent for them (see [`crate::tenders`]).

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};

use super::{backend::postgres, backend::sqlite, storable, Backend, Store, StoreError};
use crate::tenders::{Kind, Notice};

/// A notice as stored, with when a sync first stored its procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNotice {
    pub notice: Notice,
    pub first_seen_at: DateTime<Utc>,
}

/// What one sync changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncCounts {
    /// Procedures stored for the first time.
    pub new: u32,
    /// Procedures whose newest version changed (a republished or corrected notice).
    pub changed: u32,
    /// Notices already stored as they are (or older versions than the stored one).
    pub unchanged: u32,
}

/// A watch's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenderWatchId(pub i64);

impl std::fmt::Display for TenderWatchId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A watch to create: whose, and the filter's options as the user gave them (checked by
/// [`crate::tenders::Filter::from_options`] before).
#[derive(Debug, Clone, Default)]
pub struct NewTenderWatch {
    pub user_id: String,
    pub query: Option<String>,
    pub cpv: Option<String>,
    pub region: Option<String>,
    pub kind: Option<Kind>,
}

/// A stored watch.
#[derive(Debug, Clone, PartialEq)]
pub struct TenderWatch {
    pub id: TenderWatchId,
    pub user_id: String,
    pub query: Option<String>,
    pub cpv: Option<String>,
    pub region: Option<String>,
    pub kind: Option<Kind>,
    pub created_at: DateTime<Utc>,
    pub last_digest_at: Option<DateTime<Utc>>,
}

fn storable_notice(n: &Notice) -> Notice {
    Notice {
        title: storable(&n.title),
        description: storable(&n.description),
        buyers: n
            .buyers
            .iter()
            .map(|b| storable(b).replace('\n', " "))
            .collect(),
        issued: n.issued.map(|t| t.trunc_subsecs(6)),
        deadline: n.deadline.map(|t| t.trunc_subsecs(6)),
        ..n.clone()
    }
}

impl Store {
    /// Stores a sync's notices, one row per procedure (the newest version wins), and the
    /// sync's progress, in one transaction: a failure stores nothing.
    pub async fn store_tenders(
        &self,
        notices: &[Notice],
        now: DateTime<Utc>,
    ) -> Result<SyncCounts, StoreError> {
        let notices: Vec<Notice> = notices.iter().map(storable_notice).collect();
        dispatch!(self, store_tenders(&notices, now.trunc_subsecs(6)))
    }

    /// Every stored notice, newest first.
    pub async fn list_tenders(&self) -> Result<Vec<StoredNotice>, StoreError> {
        dispatch!(self, list_tenders())
    }

    /// The newest publication date stored (the next sync continues from it).
    pub async fn tender_sync_from(&self) -> Result<Option<NaiveDate>, StoreError> {
        dispatch!(self, tender_sync_from())
    }

    /// Takes the sync's lease (until `lease_until`) when no one holds it and the last
    /// successful sync is older than `due_before`. True: this caller syncs now.
    pub async fn claim_tender_sync(
        &self,
        now: DateTime<Utc>,
        due_before: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        token: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(
            self,
            claim_tender_sync(
                now.trunc_subsecs(6),
                due_before.trunc_subsecs(6),
                lease_until.trunc_subsecs(6),
                token
            )
        )
    }

    /// Gives the lease back; with `retry_at`, no one syncs before then (after a failure).
    pub async fn release_tender_sync(
        &self,
        token: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        dispatch!(
            self,
            release_tender_sync(token, retry_at.map(|t| t.trunc_subsecs(6)))
        )
    }

    pub async fn add_tender_watch(
        &self,
        watch: &NewTenderWatch,
        now: DateTime<Utc>,
    ) -> Result<TenderWatch, StoreError> {
        let text = |s: &Option<String>| s.as_deref().map(storable);
        let watch = NewTenderWatch {
            user_id: storable(&watch.user_id),
            query: text(&watch.query),
            cpv: text(&watch.cpv),
            region: text(&watch.region),
            kind: watch.kind,
        };
        dispatch!(self, add_tender_watch(&watch, now.trunc_subsecs(6)))
    }

    /// One user's watches, or everyone's.
    pub async fn tender_watches(
        &self,
        user_id: Option<&str>,
    ) -> Result<Vec<TenderWatch>, StoreError> {
        dispatch!(self, tender_watches(user_id))
    }

    /// Removes a watch (only the user's own, when `user_id` is given). False: no such
    /// watch.
    pub async fn remove_tender_watch(
        &self,
        id: TenderWatchId,
        user_id: Option<&str>,
    ) -> Result<bool, StoreError> {
        dispatch!(self, remove_tender_watch(id, user_id))
    }

    /// The procedure keys a watch must not be offered at `now`: sent, or held by a live
    /// claim.
    pub async fn tender_alerted(
        &self,
        id: TenderWatchId,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        dispatch!(self, tender_alerted(id, now.trunc_subsecs(6)))
    }

    /// Claims a digest of `keys` for a watch whose last digest is older than `cutoff`: the
    /// keys neither sent nor held by a live claim, held until `lease_until` under
    /// `token`. Empty: not due, or nothing to take. Mark them sent with
    /// [`Store::mark_tender_alerts_sent`] once posted; if that never happens, another bot
    /// takes them after the lease.
    pub async fn claim_tender_digest(
        &self,
        id: TenderWatchId,
        keys: &[String],
        now: DateTime<Utc>,
        cutoff: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        token: &str,
    ) -> Result<Vec<String>, StoreError> {
        dispatch!(
            self,
            claim_tender_digest(
                id,
                keys,
                now.trunc_subsecs(6),
                cutoff.trunc_subsecs(6),
                lease_until.trunc_subsecs(6),
                token
            )
        )
    }

    /// Marks what was claimed under `token` for a watch as sent. False: the claim was
    /// lost to another bot after its lease ran out.
    pub async fn mark_tender_alerts_sent(
        &self,
        id: TenderWatchId,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        dispatch!(
            self,
            mark_tender_alerts_sent(id, token, now.trunc_subsecs(6))
        )
    }
}
