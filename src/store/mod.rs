//! Everything the bot keeps: the advisers' queue of unanswered questions, the
//! outbox of answers on their way back to askers, feedback, anonymous
//! statistics, knowledge taught by advisers, organisers' announcements, events
//! and event reminders, and the audit log.
//!
//! One [`Store`] runs on SQLite (a single bot with a file) or PostgreSQL
//! (several bots sharing one database). All SQL lives in this module; the
//! schema is in `migrations/sqlite` and `migrations/postgres` and is brought up
//! to date by [`Store::connect`].
//!
//! The bot must keep answering when the database is down: errors say whether
//! the database is [unavailable](StoreError::is_unavailable), and
//! [`ResilientLogger`] buffers writes until it is back.

mod backend;
mod error;
mod group_commit;
mod group_key;
mod hold;
mod model;
mod resilient;
pub mod taught;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, SubsecRound, TimeDelta, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::knowledge::Lang;

use self::backend::{postgres, sqlite};
pub use self::error::StoreError;
pub use self::group_commit::AnsweringWrite;
pub use self::group_key::group_key;
pub use self::hold::{hold_claim, Held};
use self::model::Claimed;
pub use self::model::{
    AlertMessage, Announcement, AnnouncementClaim, AnnouncementId, AnnouncementStatus, Ask,
    AuditRow, ClaimToken, DeliveryFailure, EventId, ForgetReport, LearnedEntry, Logged,
    NewAnnouncement, NewEvent, NewFeedback, NewUnanswered, Origin, OutboxClaim, OutboxId,
    OutboxMessage, Phrasing, QueueItem, QueueItemId, QueueStatus, Reason, ReasonSummary,
    ReminderClaim, Source, Stats, StoredEvent,
};
pub use self::resilient::{
    LogOutcome, ResilientConfig, ResilientLogger, Ticket, Unconfirmed, Unwritten,
};

/// A delivery that failed this many times is given up (marked failed).
pub const MAX_DELIVERY_ATTEMPTS: u32 = 10;

/// How long a claimed outbox message is reserved for the process that claimed
/// it. If that process dies mid-send, another one retries after this.
pub const OUTBOX_LEASE: Duration = Duration::from_secs(120);

/// How long a reply or announcement claimed one at a time ([`Store::claim_next_outbox`],
/// [`Store::claim_next_announcement`]) is reserved for its sender before the lease is
/// renewed; the sender renews it every third of this while it posts, so only a sender
/// that died (or lost the database for this long) lets another take over. The default of
/// `claims.lease_ms`.
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);

/// How long a claimed announcement or reminder is reserved for the bot that
/// claimed it. If that bot dies between claiming and posting, another one posts
/// it after this.
pub const ANNOUNCEMENT_LEASE: Duration = Duration::from_secs(120);

/// An announcement whose posting failed this many times is given up (failed).
pub const MAX_ANNOUNCEMENT_ATTEMPTS: u32 = 10;

/// How many entries [`Store::stats`] lists in `top_entries`.
pub const TOP_ENTRIES: u32 = 10;

/// The time zone of the statistics' calendar days: the advisers are in Norway.
const STATS_TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Oslo;

/// Connection settings that rarely need changing; [`Store::connect`] uses the
/// defaults.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// How long a query waits for a connection before the database counts as
    /// unavailable. Keep it short: the bot waits this long before it buffers.
    pub acquire_timeout: Duration,
    /// How long a write waits for another writer's lock: SQLite's busy_timeout, and
    /// on PostgreSQL the group commit's `lock_timeout`.
    pub busy_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> StoreOptions {
        StoreOptions {
            max_connections: 5,
            acquire_timeout: Duration::from_secs(5),
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// How a database makes commits durable, as it reports it ([`Store::durability`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Durability {
    /// SQLite's `journal_mode` (`wal`) and `synchronous` (0 off, 1 normal, 2 full,
    /// 3 extra).
    Sqlite {
        journal_mode: String,
        synchronous: i64,
    },
    /// PostgreSQL's `fsync` and `synchronous_commit` settings.
    Postgres {
        fsync: String,
        synchronous_commit: String,
    },
}

impl Durability {
    /// Whether a commit is on disk when it returns, so that neither a killed process
    /// nor a power cut loses it: WAL with `synchronous` FULL or EXTRA on SQLite (NORMAL
    /// may lose the last commits on power loss); `fsync` on and `synchronous_commit`
    /// anything but `off` on PostgreSQL.
    pub fn is_durable(&self) -> bool {
        match self {
            Durability::Sqlite {
                journal_mode,
                synchronous,
            } => journal_mode == "wal" && *synchronous >= 2,
            Durability::Postgres {
                fsync,
                synchronous_commit,
            } => fsync == "on" && synchronous_commit != "off",
        }
    }
}

/// The bot's database. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// How long a group commit waits for another session's lock (SQLite's
    /// busy_timeout; `lock_timeout` on PostgreSQL).
    lock_timeout: Duration,
}

#[derive(Debug, Clone)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Calls the same function of whichever backend the store runs on.
macro_rules! dispatch {
    ($store:expr, $function:ident ( $($arg:expr),* $(,)? )) => {
        match &$store.backend {
            Backend::Sqlite(pool) => sqlite::$function(pool, $($arg),*).await,
            Backend::Postgres(pool) => postgres::$function(pool, $($arg),*).await,
        }
    };
}

// After `dispatch!`, which they use.
mod announcements;
mod web;
pub use self::web::{DayCount, EntryFeedback, LangCount, NewWebSession, WebSession};
pub mod tenders;
pub use self::tenders::{NewTenderWatch, StoredNotice, SyncCounts, TenderWatch, TenderWatchId};
mod threads;
pub use self::threads::StoredThread;

/// Text as both databases can keep it. PostgreSQL refuses NUL in text (SQLSTATE 22021),
/// which lost a question holding one; it becomes U+FFFD on both, so they store the same.
fn storable(text: &str) -> String {
    text.replace('\0', "\u{FFFD}")
}

fn storable_origin(origin: &Origin) -> Origin {
    let field = |f: &Option<String>| f.as_deref().map(storable);
    Origin {
        source: origin.source,
        guild_id: field(&origin.guild_id),
        channel_id: field(&origin.channel_id),
        message_id: field(&origin.message_id),
        thread_id: field(&origin.thread_id),
        user_id: field(&origin.user_id),
    }
}

/// A question as the database keeps it, and the key it is grouped by.
fn prepare_unanswered(question: &NewUnanswered) -> (NewUnanswered, String) {
    let question = NewUnanswered {
        question: storable(&question.question),
        origin: storable_origin(&question.origin),
        asked_at: question.asked_at.trunc_subsecs(6),
        ..question.clone()
    };
    let key = group_key(&question.question);
    (question, key)
}

/// Feedback as the database keeps it, and the key its question is grouped by.
fn prepare_feedback(feedback: &NewFeedback) -> (NewFeedback, String) {
    let feedback = NewFeedback {
        question: storable(&feedback.question),
        comment: feedback.comment.as_deref().map(storable),
        origin: storable_origin(&feedback.origin),
        at: feedback.at.trunc_subsecs(6),
        ..feedback.clone()
    };
    let key = group_key(&feedback.question);
    (feedback, key)
}

/// The current time at the precision both databases keep (microseconds), so a
/// value reads back exactly as written.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The statistics day a moment falls on.
fn stats_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&STATS_TIME_ZONE).date_naive()
}

/// When to offer a failed delivery again: 30 s after the first failure, doubling
/// up to an hour, so a Discord outage is not hammered.
fn retry_at(attempts: u32) -> DateTime<Utc> {
    now() + back_off(attempts)
}

/// The wait after `attempts` failures: 30 s, doubling, at most an hour.
fn back_off(attempts: u32) -> TimeDelta {
    let seconds = 30_i64.saturating_mul(1 << attempts.saturating_sub(1).min(7));
    TimeDelta::seconds(seconds.min(3600))
}

impl Store {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// `sqlite://path/to/file.sqlite` (relative or `sqlite:///absolute`) creates
    /// the file and its directory if missing. It runs in WAL mode with
    /// `synchronous=FULL`, so every acknowledged write survives the process
    /// being killed. `postgres://user@host/db` connects to PostgreSQL.
    ///
    /// A database that cannot be reached gives [`StoreError::Unavailable`].
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::connect_with(url, &StoreOptions::default()).await
    }

    /// [`Store::connect`] with explicit pool settings.
    #[tracing::instrument(level = "debug", skip_all, fields(scheme = url_scheme(url)))]
    pub async fn connect_with(url: &str, options: &StoreOptions) -> Result<Store, StoreError> {
        let backend = match url_scheme(url) {
            "sqlite" => Backend::Sqlite(connect_sqlite(url, options).await?),
            "postgres" | "postgresql" => Backend::Postgres(connect_postgres(url, options).await?),
            other => {
                return Err(StoreError::UnsupportedUrl {
                    scheme: other.to_owned(),
                })
            }
        };
        let store = Store {
            backend,
            lock_timeout: options.busy_timeout,
        };
        store.migrate().await?;
        match store.durability().await {
            Ok(durability) if !durability.is_durable() => tracing::warn!(
                ?durability,
                "the database does not make every commit durable: a crash can lose questions the bot said it passed on"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(
                error = &error as &dyn std::error::Error,
                "could not read the database's durability settings"
            ),
        }
        store.rekey_legacy_items().await;
        Ok(store)
    }

    /// How the database makes a commit durable, read back from the database (for
    /// SQLite from a pooled connection, whose settings every connection shares).
    pub async fn durability(&self) -> Result<Durability, StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                    .fetch_one(&mut *conn)
                    .await?;
                let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
                    .fetch_one(&mut *conn)
                    .await?;
                Ok(Durability::Sqlite {
                    journal_mode: journal_mode.to_lowercase(),
                    synchronous,
                })
            }
            Backend::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let mut show = async |name: &'static str| -> Result<String, StoreError> {
                    Ok(sqlx::query_scalar("SELECT current_setting($1)")
                        .bind(name)
                        .fetch_one(&mut *conn)
                        .await?)
                };
                Ok(Durability::Postgres {
                    fsync: show("fsync").await?,
                    synchronous_commit: show("synchronous_commit").await?,
                })
            }
        }
    }

    /// Keys open queue items made before keys kept word order again from their wording
    /// (see `migrations/*/20261206500000_promises.sql`). Once done it finds nothing; a
    /// failure is logged and tried again at the next start, and meanwhile new asks of
    /// those questions start new items.
    async fn rekey_legacy_items(&self) {
        let items = match dispatch!(self, legacy_open_items()) {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the queue to update its keys");
                return;
            }
        };
        for (id, question) in items {
            let key = group_key(&question);
            let own = format!("item:{id}");
            if let Err(e) = dispatch!(self, rekey_legacy_item(id, &key, &own)) {
                tracing::warn!(item = id, error = %e, "could not update a queue item's key");
            }
        }
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Backend::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// "sqlite" or "postgres", for logs and messages.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection, waiting for running queries. Later calls fail
    /// as [unavailable](StoreError::is_unavailable).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Sqlite(pool) => pool.close().await,
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    // ------------------------------------------------------------ the queue

    /// Puts a question the bot could not (or not helpfully) answer into the
    /// advisers' queue.
    ///
    /// Questions with the same [`group_key`] share one open item, so advisers
    /// see "asked 7 times" once; every ask is still kept with its origin so
    /// every asker gets the answer. `is_new` in the result tells whether the
    /// item was created now (the Discord layer then announces it to advisers).
    #[tracing::instrument(level = "debug", skip_all, fields(lang = %question.lang))]
    pub async fn log_unanswered(&self, question: &NewUnanswered) -> Result<Logged, StoreError> {
        let (question, key) = prepare_unanswered(question);
        dispatch!(self, log_unanswered(&question, &key))
    }

    /// The queue, oldest item first, optionally only items in one state.
    pub async fn list_queue(
        &self,
        status: Option<QueueStatus>,
    ) -> Result<Vec<QueueItem>, StoreError> {
        dispatch!(self, list_queue(status))
    }

    /// One queue item, or [`StoreError::NotFound`].
    pub async fn get_item(&self, id: QueueItemId) -> Result<QueueItem, StoreError> {
        dispatch!(self, get_item(id))
    }

    /// Records where the advisers' alert about `id` was posted, so forgetting its asker
    /// can redact it (see [`ForgetReport::alerts`]). `quoted` is the item's question as
    /// the alert quotes it. Returns `false`, recording nothing, when the item is gone or
    /// no longer has that question: a forget came between reading the item and posting
    /// the alert, did not see the alert, and the caller must redact it itself.
    pub async fn set_alert_message(
        &self,
        id: QueueItemId,
        quoted: &str,
        channel_id: &str,
        message_id: &str,
    ) -> Result<bool, StoreError> {
        dispatch!(self, set_alert_message(id, quoted, channel_id, message_id))
    }

    /// Every ask of an item, first first: the wordings, reasons and askers an
    /// adviser may want to see before answering.
    pub async fn asks_for_item(&self, id: QueueItemId) -> Result<Vec<Ask>, StoreError> {
        dispatch!(self, asks_for_item(id))
    }

    /// Answers an open item: in one transaction it records the answer, queues
    /// one reply per ask that can be delivered (see [`Origin::is_deliverable`]),
    /// and writes the audit log. Returns the queued replies.
    ///
    /// Fails with [`StoreError::NotFound`] or [`StoreError::InvalidState`] (the
    /// item is already answered or dismissed) without changing anything.
    #[tracing::instrument(level = "debug", skip(self, text))]
    pub async fn answer_item(
        &self,
        id: QueueItemId,
        text: &str,
        adviser: &str,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        dispatch!(
            self,
            answer_item(id, &storable(text), &storable(adviser), now())
        )
    }

    /// Closes an open item without an answer (spam, a duplicate, out of
    /// scope), with an optional reason for the audit log. The same errors as
    /// [`Store::answer_item`].
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn dismiss_item(
        &self,
        id: QueueItemId,
        reason: Option<&str>,
        adviser: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, dismiss_item(id, reason, adviser, now()))
    }

    // ----------------------------------------------------------- the outbox

    /// Claims up to `limit` replies to deliver, oldest first.
    ///
    /// A claimed reply is hidden from other callers for [`OUTBOX_LEASE`]; report
    /// the result with [`Store::mark_delivered`] or [`Store::mark_failed`]
    /// before then. On PostgreSQL several bot processes can call this at once
    /// and each reply goes to exactly one of them.
    pub async fn pending_outbox(&self, limit: u32) -> Result<Vec<OutboxMessage>, StoreError> {
        let now = now();
        let lease = TimeDelta::from_std(OUTBOX_LEASE).unwrap_or(TimeDelta::MAX);
        let token = ClaimToken::new();
        dispatch!(self, claim_outbox(limit, now, now + lease, "%", &token))
    }

    /// [`Store::pending_outbox`] for replies to questions from one kind of place: the
    /// terminal chat delivers terminal replies, the Discord bot Discord replies.
    ///
    /// Only for a sender that delivers the whole batch within [`OUTBOX_LEASE`] (the
    /// terminal prints at once). A sender that may be slow claims one reply at a time
    /// with [`Store::claim_next_outbox`] and renews it while it posts.
    pub async fn pending_outbox_for(
        &self,
        source: Source,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let now = now();
        let lease = TimeDelta::from_std(OUTBOX_LEASE).unwrap_or(TimeDelta::MAX);
        let token = ClaimToken::new();
        dispatch!(
            self,
            claim_outbox(limit, now, now + lease, source.as_str(), &token)
        )
    }

    /// Claims the oldest reply to deliver for questions from `source`, for `lease` (see
    /// [`CLAIM_LEASE`]). Post it part by part, reporting each with
    /// [`Store::record_parts_sent`] and renewing the lease with
    /// [`Store::renew_outbox_claim`] while posting ([`hold_claim`] does both), then
    /// [`Store::mark_delivered`] or [`Store::mark_failed`]. `parts_sent` says which parts
    /// an earlier attempt posted already. Any number of senders may call this at once:
    /// each reply goes to one of them.
    pub async fn claim_next_outbox(
        &self,
        source: Source,
        lease: Duration,
    ) -> Result<Option<OutboxClaim>, StoreError> {
        let now = now();
        let until = now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX);
        let token = ClaimToken::new();
        let claimed = dispatch!(self, claim_outbox(1, now, until, source.as_str(), &token))?;
        Ok(claimed
            .into_iter()
            .next()
            .map(|message| OutboxClaim { message, token }))
    }

    /// Extends a claimed reply's lease to `lease` from now. False when this sender no
    /// longer holds it (it must stop posting).
    pub async fn renew_outbox_claim(
        &self,
        claim: &OutboxClaim,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let until = now() + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX);
        dispatch!(self, renew_claim(Claimed::Outbox(claim), until))
    }

    /// Records that the first `parts` parts of a claimed reply are posted. False when
    /// this sender no longer holds it (it must stop posting: another sender goes on).
    pub async fn record_parts_sent(
        &self,
        claim: &OutboxClaim,
        parts: u32,
    ) -> Result<bool, StoreError> {
        dispatch!(self, record_parts(Claimed::Outbox(claim), parts))
    }

    /// Records that a reply reached its asker.
    pub async fn mark_delivered(&self, id: OutboxId) -> Result<(), StoreError> {
        dispatch!(self, mark_delivered(id, now()))
    }

    /// Records a failed delivery. The reply is offered again after a growing
    /// back-off; after [`MAX_DELIVERY_ATTEMPTS`] failures it is given up and
    /// stays in the table marked failed, with the last error.
    pub async fn mark_failed(
        &self,
        id: OutboxId,
        error: &str,
    ) -> Result<DeliveryFailure, StoreError> {
        dispatch!(
            self,
            mark_failed(id, error, MAX_DELIVERY_ATTEMPTS, retry_at)
        )
    }

    // -------------------------------------------- feedback and statistics

    /// Records an asker's verdict on an answer and counts it for the
    /// statistics. A not-helpful verdict also puts the question into the
    /// advisers' queue ([`Reason::NotHelpful`], best candidate = the entry,
    /// score 0) in the same transaction, and returns where it was filed.
    #[tracing::instrument(level = "debug", skip_all, fields(entry = %feedback.entry_id, helpful = feedback.helpful))]
    pub async fn record_feedback(
        &self,
        feedback: &NewFeedback,
    ) -> Result<Option<Logged>, StoreError> {
        let (feedback, key) = prepare_feedback(feedback);
        dispatch!(
            self,
            record_feedback(&feedback, stats_day(feedback.at), &key)
        )
    }

    /// Writes a batch of answering's writes in one transaction: one commit and one
    /// fsync for all of them, in order, counters summed. Returns for each write the
    /// queue item it filed (abstentions and not-helpful feedback). Either every write
    /// of the batch is stored or none is.
    #[tracing::instrument(level = "debug", skip_all, fields(writes = writes.len()))]
    pub async fn write_batch(
        &self,
        writes: &[AnsweringWrite],
    ) -> Result<Vec<Option<Logged>>, StoreError> {
        let plan = group_commit::BatchPlan::new(writes);
        dispatch!(self, write_batch(&plan, self.lock_timeout))
    }

    /// Counts one question for the statistics: answered or not. Call it once
    /// per question the bot receives; [`Store::log_unanswered`] does not count.
    pub async fn record_question_asked(
        &self,
        answered: bool,
        lang: Lang,
    ) -> Result<(), StoreError> {
        self.record_question_asked_at(answered, lang, now()).await
    }

    /// [`Store::record_question_asked`] for a question asked at `at` (used when
    /// a buffered count reaches the database late).
    pub async fn record_question_asked_at(
        &self,
        answered: bool,
        lang: Lang,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(self, record_question_asked(answered, lang, stats_day(at)))
    }

    /// Counts one answer given from `entry_id`. Only the entry, language,
    /// source and day are kept: no asker, no question text.
    pub async fn record_answer_given(
        &self,
        entry_id: &str,
        lang: Lang,
        source: Source,
    ) -> Result<(), StoreError> {
        self.record_answer_given_at(entry_id, lang, source, now())
            .await
    }

    /// Counts one question referred to the public service `referral_id` (anonymous,
    /// like the answer counts; a referral is not queued for advisers).
    pub async fn record_referral(&self, referral_id: &str, lang: Lang) -> Result<(), StoreError> {
        self.write_batch(&[AnsweringWrite::Referred {
            referral_id: referral_id.to_owned(),
            lang,
            at: now(),
        }])
        .await
        .map(drop)
    }

    /// [`Store::record_answer_given`] for an answer given at `at`.
    pub async fn record_answer_given_at(
        &self,
        entry_id: &str,
        lang: Lang,
        source: Source,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(
            self,
            record_answer_given(entry_id, lang, source, stats_day(at))
        )
    }

    /// Statistics from the day `since` (Norwegian calendar day) on, or over
    /// all time. `open_queue` is always the queue as it is now.
    pub async fn stats(&self, since: Option<NaiveDate>) -> Result<Stats, StoreError> {
        // Before the first day the bot could have run; valid on both databases.
        let since = since.unwrap_or(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default());
        dispatch!(self, stats(since, TOP_ENTRIES))
    }

    // --------------------------------------------------- learned knowledge

    /// Saves an entry taught by an adviser, replacing the one with the same id
    /// and language. On a replacement the original `created_by` is kept and
    /// the audit log records the new editor (`entry.created_by`). Bumps
    /// [`Store::knowledge_version`] and returns the new version.
    pub async fn save_learned_entry(&self, entry: &LearnedEntry) -> Result<i64, StoreError> {
        self.save_entry_taught(entry, None).await
    }

    /// [`Store::save_learned_entry`] for an entry whose title and questions an adviser
    /// took (after review) from the asks of queue item `from`: forgetting one of those
    /// askers removes their words from it.
    pub async fn save_entry_taught_from(
        &self,
        entry: &LearnedEntry,
        from: QueueItemId,
    ) -> Result<i64, StoreError> {
        self.save_entry_taught(entry, Some(from)).await
    }

    async fn save_entry_taught(
        &self,
        entry: &LearnedEntry,
        from: Option<QueueItemId>,
    ) -> Result<i64, StoreError> {
        let entry = LearnedEntry {
            id: storable(&entry.id),
            title: storable(&entry.title),
            body: storable(&entry.body),
            questions: entry.questions.iter().map(|q| storable(q)).collect(),
            keywords: entry.keywords.iter().map(|k| storable(k)).collect(),
            source_name: storable(&entry.source_name),
            source_url: entry.source_url.as_deref().map(storable),
            created_by: storable(&entry.created_by),
            ..entry.clone()
        };
        dispatch!(self, save_learned_entry(&entry, from.map(|i| i.0), now()))
    }

    /// Teaches another wording for an entry (from the files or learned).
    /// Returns false, changing nothing, if that wording was already known.
    pub async fn add_phrasing(
        &self,
        entry_id: &str,
        lang: Lang,
        question: &str,
        created_by: &str,
    ) -> Result<bool, StoreError> {
        self.add_phrasing_taught(entry_id, lang, question, created_by, None)
            .await
    }

    /// [`Store::add_phrasing`] for a wording an adviser took (after review) from the asks
    /// of queue item `from`: forgetting the asker removes it.
    pub async fn add_phrasing_from(
        &self,
        entry_id: &str,
        lang: Lang,
        question: &str,
        created_by: &str,
        from: QueueItemId,
    ) -> Result<bool, StoreError> {
        self.add_phrasing_taught(entry_id, lang, question, created_by, Some(from))
            .await
    }

    async fn add_phrasing_taught(
        &self,
        entry_id: &str,
        lang: Lang,
        question: &str,
        created_by: &str,
        from: Option<QueueItemId>,
    ) -> Result<bool, StoreError> {
        let phrasing = Phrasing {
            entry_id: entry_id.to_owned(),
            lang,
            question: storable(question),
        };
        let created_by = storable(created_by);
        dispatch!(
            self,
            add_phrasing(&phrasing, &created_by, from.map(|i| i.0), now())
        )
    }

    /// Every learned entry, by id and language.
    pub async fn learned_entries(&self) -> Result<Vec<LearnedEntry>, StoreError> {
        dispatch!(self, learned_entries())
    }

    /// Every taught wording, oldest first.
    pub async fn phrasings(&self) -> Result<Vec<Phrasing>, StoreError> {
        dispatch!(self, phrasings())
    }

    /// Deletes a learned entry in all languages. Taught wordings for its id
    /// stay (they may belong to an entry in the files with the same id).
    /// Bumps [`Store::knowledge_version`] and returns the new version.
    pub async fn delete_learned_entry(&self, id: &str, actor: &str) -> Result<i64, StoreError> {
        dispatch!(self, delete_learned_entry(id, actor, now()))
    }

    /// A counter bumped in the same transaction as every change to learned
    /// knowledge. Running bots poll it and rebuild their search index when it
    /// changes, which is how bots sharing a database see each other's lessons.
    pub async fn knowledge_version(&self) -> Result<i64, StoreError> {
        dispatch!(self, knowledge_version())
    }

    // ------------------------------------------------------------ the audit

    /// Writes one line to the audit log. The store's own changes (answer,
    /// dismiss, save, phrasing, delete, forget, purge) already do.
    pub async fn audit(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: Option<&str>,
    ) -> Result<(), StoreError> {
        dispatch!(self, audit(now(), actor, action, target, detail))
    }

    /// The newest `limit` lines of the audit log, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditRow>, StoreError> {
        dispatch!(self, audit_log(limit))
    }

    // -------------------------------------------------------------- privacy

    /// Deletes everything personal about one user, at their own request (`/forget-me`).
    /// See [`Store::forget_user_by`].
    pub async fn forget_user(&self, user_id: &str) -> Result<ForgetReport, StoreError> {
        self.forget_user_by(user_id, "system").await
    }

    /// Deletes everything personal about one user, `actor` (an adviser) acting on their
    /// request:
    ///
    /// - their asks, feedback and replies (delivered or not), and the queue items nobody
    ///   else asked; items others asked too stay, titled with the earliest remaining
    ///   wording;
    /// - their words where advisers taught the bot from their questions: example
    ///   questions and phrasings that are one of their questions are removed, and an
    ///   entry title made from one is replaced by the first line of the adviser's answer
    ///   (the answer itself, the adviser's own words, stays); running bots reload;
    /// - audit details that quoted their words, and audit lines that named them.
    ///
    /// The anonymous counters stay. The audit log records that a user was forgotten, by
    /// `actor`, never who. On SQLite the deleted text is then scrubbed from the file:
    /// deleted content is overwritten with zeros (`secure_delete`), the database is
    /// rebuilt without free pages (`VACUUM`) and the write-ahead log is emptied, so the
    /// words cannot be read back from `anbud.sqlite` or its `-wal` file. On PostgreSQL
    /// no other table keeps a copy; old row versions are PostgreSQL's to vacuum.
    ///
    /// The report lists what the chat adapters must clean up outside the database.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn forget_user_by(
        &self,
        user_id: &str,
        actor: &str,
    ) -> Result<ForgetReport, StoreError> {
        let report = dispatch!(self, forget_user(user_id, &storable(actor), now()))?;
        if let Backend::Sqlite(pool) = &self.backend {
            scrub_sqlite(pool).await;
        }
        Ok(report)
    }

    /// Blanks user ids, message ids and comments on asks and feedback older
    /// than `older_than`, and deletes finished deliveries that old. Question
    /// texts stay for the statistics. Returns the number of rows changed.
    pub async fn purge_personal_data(&self, older_than: DateTime<Utc>) -> Result<u64, StoreError> {
        dispatch!(self, purge_personal_data(older_than, now()))
    }
}

/// Rewrites the SQLite database without its free pages and empties the write-ahead log,
/// so text just deleted is gone from both files. Waits for other writers (busy_timeout);
/// if the database stays busy it says so in the log, and the next forget or checkpoint
/// finishes the job (deleted content is already zeroed by `secure_delete`).
async fn scrub_sqlite(pool: &SqlitePool) {
    if let Err(e) = sqlx::query("VACUUM").execute(pool).await {
        tracing::warn!(error = %e, "could not rebuild the database after forgetting a user");
    }
    match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(pool)
        .await
    {
        Ok((0, _, _)) => {}
        Ok(_) => tracing::warn!("the write-ahead log could not be emptied after forgetting a user: the database was busy"),
        Err(e) => tracing::warn!(error = %e, "could not empty the write-ahead log after forgetting a user"),
    }
}

/// The part of a URL before the first colon.
fn url_scheme(url: &str) -> &str {
    url.split_once(':').map_or("", |(scheme, _)| scheme)
}

async fn connect_sqlite(url: &str, options: &StoreOptions) -> Result<SqlitePool, StoreError> {
    let connect = SqliteConnectOptions::from_str(url)
        .map_err(StoreError::Database)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // FULL syncs the WAL on every commit: a write the bot acknowledged is
        // on disk even if the process is killed the next instant.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(options.busy_timeout)
        // Deleted text is overwritten with zeros, not left in free space in the file:
        // what `forget` and the retention purge remove cannot be read back from it.
        .pragma("secure_delete", "on")
        .foreign_keys(true);
    create_parent_dir(connect.get_filename())?;
    Ok(SqlitePoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .after_release(|conn, _| Box::pin(async move { keep_sqlite_connection(conn).await }))
        .connect_with(connect)
        .await?)
}

/// Whether a connection given back to the pool may be used again.
///
/// When a COMMIT fails with SQLITE_FULL (disk full), SQLite rolls the transaction back
/// itself; sqlx's own ROLLBACK then fails and it goes on counting the connection as
/// inside a transaction, so every later write on it failed with "begin_with at non-zero
/// transaction depth", which is not an outage, and the resilient logger dropped those
/// writes. Such a connection is closed here instead and the pool opens a fresh one.
async fn keep_sqlite_connection(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    // The ping waits for the rollback sqlx queued when the transaction was dropped.
    conn.ping().await?;
    if conn.is_in_transaction() {
        tracing::warn!("closing a database connection left inside a failed transaction");
        return Ok(false);
    }
    Ok(true)
}

/// Creates the directory the database file goes in, so a fresh deployment
/// needs no setup step.
fn create_parent_dir(file: &Path) -> std::io::Result<()> {
    if file.as_os_str() == ":memory:" {
        return Ok(());
    }
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
        _ => Ok(()),
    }
}

async fn connect_postgres(url: &str, options: &StoreOptions) -> Result<PgPool, StoreError> {
    let connect = PgConnectOptions::from_str(url).map_err(StoreError::Database)?;
    Ok(PgPoolOptions::new()
        .max_connections(options.max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_back_off_grows_and_is_capped() {
        let first = retry_at(1) - now();
        let third = retry_at(3) - now();
        let many = retry_at(50) - now();
        assert!(first <= TimeDelta::seconds(30) && first > TimeDelta::seconds(25));
        assert!(third > TimeDelta::seconds(115) && third <= TimeDelta::seconds(120));
        assert!(many <= TimeDelta::seconds(3600) && many > TimeDelta::seconds(3500));
    }

    #[test]
    fn stats_days_are_norwegian() {
        // 23:30 UTC on 31 December is already New Year's Day in Oslo.
        let late = DateTime::parse_from_rfc3339("2024-12-31T23:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            stats_day(late),
            NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
        );
    }

    #[test]
    fn schemes() {
        assert_eq!(url_scheme("sqlite://data/x.sqlite"), "sqlite");
        assert_eq!(url_scheme("postgres://u@h/db"), "postgres");
        assert_eq!(url_scheme("nonsense"), "");
    }
}

// The weekly knowledge digest; declared here, after `dispatch!`, which it uses.
mod digest;
