//! The values the store takes and gives back. They carry no sqlx types, so the
//! rest of the bot can use them without knowing which database is behind.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::knowledge::Lang;

/// Where a question was asked: decides how an adviser's answer travels back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The local terminal chat (for advisers trying the bot, and for tests).
    Terminal,
    /// A Discord server or direct message.
    Discord,
}

impl Source {
    /// The text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Terminal => "terminal",
            Source::Discord => "discord",
        }
    }

    /// Parses the stored text; `None` for anything this version does not know.
    pub fn parse(text: &str) -> Option<Source> {
        match text {
            "terminal" => Some(Source::Terminal),
            "discord" => Some(Source::Discord),
            _ => None,
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who asked, and where, so an answer can be delivered later.
///
/// Discord ids are snowflakes; they are kept as text so the store never has to
/// care about their numeric range. `user_id` and `message_id` are personal data:
/// [`Store::forget_user`](crate::store::Store::forget_user) deletes them and
/// [`Store::purge_personal_data`](crate::store::Store::purge_personal_data)
/// blanks them after the retention period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The chat the question came through.
    pub source: Source,
    /// The Discord server, `None` in a direct message.
    pub guild_id: Option<String>,
    /// The channel to reply in.
    pub channel_id: Option<String>,
    /// The asker's message, to reply to it.
    pub message_id: Option<String>,
    /// The thread the conversation moved to, if any.
    pub thread_id: Option<String>,
    /// The asker, for a direct message when there is no channel.
    pub user_id: Option<String>,
}

impl Origin {
    /// An origin for the terminal chat, which has nothing to address.
    pub fn terminal() -> Origin {
        Origin {
            source: Source::Terminal,
            guild_id: None,
            channel_id: None,
            message_id: None,
            thread_id: None,
            user_id: None,
        }
    }

    /// Whether the question was asked privately: in a direct message, or with a private
    /// `/ask` (no channel or thread to answer in). A private question never shares a
    /// queue item with a public one, so an answer written for it is never posted in a
    /// channel. The terminal chat counts as public: it is the operator's own screen.
    pub fn is_private(&self) -> bool {
        self.source == Source::Discord
            && (self.guild_id.is_none() || (self.channel_id.is_none() && self.thread_id.is_none()))
    }

    /// Whether an answer could be delivered here: the terminal always can (its
    /// outbox rows are shown on the next start), Discord needs a channel, a
    /// thread or a user to write to.
    pub fn is_deliverable(&self) -> bool {
        match self.source {
            Source::Terminal => true,
            Source::Discord => {
                self.channel_id.is_some() || self.thread_id.is_some() || self.user_id.is_some()
            }
        }
    }
}

/// Why a question went to the advisers' queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// The bot found no entry good enough and said so instead of guessing.
    Abstained,
    /// The bot answered with `entry_id`, and the asker said it did not help.
    NotHelpful {
        /// What the asker wrote about it (personal data, purged with the rest).
        comment: Option<String>,
        /// The entry that was not helpful.
        entry_id: String,
    },
}

impl Reason {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Reason::Abstained => "abstained",
            Reason::NotHelpful { .. } => "not_helpful",
        }
    }
}

/// A question to put in the advisers' queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewUnanswered {
    /// The asker's words, as asked.
    pub question: String,
    /// The language the reply should be in.
    pub lang: Lang,
    /// Where to deliver the answer.
    pub origin: Origin,
    /// The best entry the search found, to help the adviser.
    pub best_candidate: Option<String>,
    /// The search score of `best_candidate`; 0 when there was none.
    pub score: f32,
    /// Why the question is here.
    pub reason: Reason,
    /// When it was asked (not when it reached the database, which may be later
    /// when the database was down).
    pub asked_at: DateTime<Utc>,
}

/// The id of a queue item, as shown to advisers ("#42").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct QueueItemId(pub i64);

impl fmt::Display for QueueItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The id of an outbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OutboxId(pub i64);

impl fmt::Display for OutboxId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What logging an unanswered question did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Logged {
    /// The item the question was filed under.
    pub item_id: QueueItemId,
    /// True when the item was created by this ask: the Discord layer then posts
    /// it to the advisers' channel; otherwise it only bumps the count.
    pub is_new: bool,
}

/// Where a queue item is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatus {
    /// Waiting for an adviser. New asks with the same meaning join it.
    Open,
    /// An adviser answered; the askers' replies are in the outbox.
    Answered,
    /// An adviser decided it needs no answer. A new ask starts a new item.
    Dismissed,
}

impl QueueStatus {
    /// The text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            QueueStatus::Open => "open",
            QueueStatus::Answered => "answered",
            QueueStatus::Dismissed => "dismissed",
        }
    }

    /// Parses the stored text; `None` for anything this version does not know.
    pub fn parse(text: &str) -> Option<QueueStatus> {
        match text {
            "open" => Some(QueueStatus::Open),
            "answered" => Some(QueueStatus::Answered),
            "dismissed" => Some(QueueStatus::Dismissed),
            _ => None,
        }
    }
}

impl fmt::Display for QueueStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many of an item's asks came from each [`Reason`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReasonSummary {
    /// Asks the bot did not dare to answer.
    pub abstained: u64,
    /// Asks whose answer was marked not helpful.
    pub not_helpful: u64,
}

/// One question in the advisers' queue, with all its asks counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueItem {
    /// The id advisers refer to.
    pub id: QueueItemId,
    /// The first wording that was asked.
    pub question: String,
    /// Open, answered or dismissed.
    pub status: QueueStatus,
    /// How many times it was asked ("asked 7 times").
    pub count: u64,
    /// When it was first asked.
    pub asked_at: DateTime<Utc>,
    /// When it was last asked.
    pub last_asked_at: DateTime<Utc>,
    /// The language of the first ask.
    pub lang: Lang,
    /// Asked in direct messages or private `/ask`s only (see [`Origin::is_private`]).
    pub private: bool,
    /// The best entry the search found (the best over all asks).
    pub best_candidate: Option<String>,
    /// The score of `best_candidate`.
    pub score: f32,
    /// Why it was asked, counted per reason.
    pub reason: ReasonSummary,
    /// The adviser's answer, once answered.
    pub answer: Option<String>,
    /// Why it was dismissed, if the adviser said.
    pub dismiss_reason: Option<String>,
    /// The adviser who answered or dismissed it.
    pub handled_by: Option<String>,
    /// When it was answered or dismissed.
    pub handled_at: Option<DateTime<Utc>>,
}

/// One individual ask of a queue item: who asked, in which words, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ask {
    /// The ask's own id.
    pub id: i64,
    /// The item it belongs to.
    pub item_id: QueueItemId,
    /// The asker's words.
    pub question: String,
    /// The asker's language.
    pub lang: Lang,
    /// Why it went to the queue.
    pub reason: Reason,
    /// Where it was asked.
    pub origin: Origin,
    /// When it was asked.
    pub asked_at: DateTime<Utc>,
}

/// An answer waiting to be delivered to one asker.
///
/// The outbox is written in the same transaction as the answer, so an answer is
/// never recorded without its deliveries (or the other way round), and a bot that
/// crashes mid-send picks the rest up on its next start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxMessage {
    /// The id to report delivery with.
    pub id: OutboxId,
    /// The queue item this answers.
    pub item_id: QueueItemId,
    /// Where to deliver it.
    pub origin: Origin,
    /// The asker's own question, to quote in the reply.
    pub question: String,
    /// The adviser's answer.
    pub text: String,
    /// The asker's language.
    pub lang: Lang,
    /// Failed delivery attempts so far.
    pub attempts: u32,
    /// The parts of the reply (messages, when it is split) already posted: a delivery
    /// that failed halfway goes on from the next part.
    pub parts_sent: u32,
    /// When the answer was given.
    pub created_at: DateTime<Utc>,
}

/// Proof that this sender holds a claim: the store refuses renewals and progress
/// reports from a sender whose claim ran out and was taken by another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimToken(pub(crate) String);

impl ClaimToken {
    /// A token no other claim has: the process, the time and a counter.
    pub(crate) fn new() -> ClaimToken {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        ClaimToken(format!(
            "{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

/// A reply claimed by this sender, to post part by part (see
/// [`Store::claim_next_outbox`](crate::store::Store::claim_next_outbox)).
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxClaim {
    pub message: OutboxMessage,
    pub token: ClaimToken,
}

/// A claim of either kind, for the statements both kinds share.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Claimed<'a> {
    Outbox(&'a OutboxClaim),
    Announcement(&'a AnnouncementClaim),
}

/// An announcement claimed by this bot, to post part by part (see
/// [`Store::claim_next_announcement`](crate::store::Store::claim_next_announcement)).
#[derive(Debug, Clone, PartialEq)]
pub struct AnnouncementClaim {
    pub announcement: Announcement,
    /// Its messages already posted by an earlier attempt.
    pub parts_posted: u32,
    pub token: ClaimToken,
}

/// What [`Store::mark_failed`](crate::store::Store::mark_failed) decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFailure {
    /// The message will be offered again after a back-off.
    WillRetry {
        /// Failed attempts so far.
        attempts: u32,
    },
    /// It failed too often and is given up; it stays in the table, marked failed.
    GaveUp,
}

/// What an asker said about an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewFeedback {
    /// The entry that was given as the answer.
    pub entry_id: String,
    /// The language of the answer.
    pub lang: Lang,
    /// The asker's verdict.
    pub helpful: bool,
    /// Optional free text (personal data).
    pub comment: Option<String>,
    /// Who gave it.
    pub origin: Origin,
    /// The question the answer was for; a not-helpful verdict queues it.
    pub question: String,
    /// When it was given.
    pub at: DateTime<Utc>,
}

/// Counts for the advisers' statistics. Built from anonymous daily counters, so
/// forgetting users does not change history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Questions asked.
    pub questions: u64,
    /// Questions the bot answered.
    pub answered: u64,
    /// Questions the bot did not answer (and did not refer).
    pub abstained: u64,
    /// Questions referred to a public service instead (not queued).
    #[serde(default)]
    pub referred: u64,
    /// How often each referral was given, most first.
    #[serde(default)]
    pub referrals: Vec<(String, u64)>,
    /// `answered / questions`, 0 when there were none.
    pub share_answered: f64,
    /// The most used entries with how often they were given, most used first.
    pub top_entries: Vec<(String, u64)>,
    /// Items waiting in the queue now (not limited by `since`).
    pub open_queue: u64,
    /// Answers marked not helpful.
    pub unhelpful: u64,
}

/// A knowledge entry taught by an adviser through the bot.
///
/// It has the shape of an entry in the knowledge files, so the search index can
/// treat both alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedEntry {
    /// The entry id; together with `lang` it identifies the entry.
    pub id: String,
    /// The language it is written in.
    pub lang: Lang,
    /// The short title.
    pub title: String,
    /// The answer text.
    pub body: String,
    /// Questions this entry answers.
    pub questions: Vec<String>,
    /// Extra search words.
    pub keywords: Vec<String>,
    /// The law, regulation or guide the answer rests on.
    pub source_name: String,
    /// A link to that source.
    pub source_url: Option<String>,
    /// When an adviser last checked the content.
    pub reviewed: NaiveDate,
    /// The adviser who first taught it.
    pub created_by: String,
}

/// Another wording of a question that an entry answers, taught by an adviser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phrasing {
    /// The entry (from the files or learned) that answers it.
    pub entry_id: String,
    /// The language of the wording.
    pub lang: Lang,
    /// The wording.
    pub question: String,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Increasing with time.
    pub id: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// Who did it (an adviser's Discord id or name, or "system").
    pub actor: String,
    /// What was done, e.g. "answer", "dismiss", "save_entry".
    pub action: String,
    /// What it was done to, e.g. "#42" or an entry id.
    pub target: String,
    /// Anything else worth keeping.
    pub detail: Option<String>,
}

/// What [`Store::forget_user`](crate::store::Store::forget_user) deleted and changed.
///
/// The lists tell the chat adapters which copies of the user's words they keep outside the
/// database must go too: the Discord layer deletes or edits its alerts about the items in
/// `items_deleted` and `items_retitled`, redacts the `alerts` that quote the user's
/// question, and renames the `opened_threads` (a thread opened on a question is named after
/// it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgetReport {
    /// The user's asks.
    pub asks_deleted: u64,
    /// The user's feedback.
    pub feedback_deleted: u64,
    /// Queue items nobody else had asked.
    pub items_deleted: u64,
    /// Undelivered or delivered replies addressed to the user or to deleted items.
    pub outbox_deleted: u64,
    /// Example questions and phrasings taught from the user's questions, removed.
    pub wordings_removed: u64,
    /// Titles of taught entries that were the user's words, replaced by a title from the
    /// adviser's answer.
    pub titles_replaced: u64,
    /// Audit lines whose detail quoted the user's words or named the user, cleared.
    pub audit_lines_cleared: u64,
    /// The deleted queue items.
    pub deleted_items: Vec<QueueItemId>,
    /// Items others asked too, now titled with another asker's words.
    pub items_retitled: Vec<QueueItemId>,
    /// Discord threads the user's questions were asked in or answered in.
    pub threads: Vec<String>,
    /// Threads the bot opened on the user's questions (named after the question),
    /// forgotten with the question they were opened on.
    pub opened_threads: Vec<String>,
    /// The advisers' alerts that quote the user's question: those about the deleted
    /// items, and about retitled items whose title was the user's words.
    pub alerts: Vec<AlertMessage>,
}

/// Where the advisers' alert about a queue item was posted: a chat message (Discord
/// channel and message ids), recorded by [`Store::set_alert_message`](crate::store::Store::set_alert_message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertMessage {
    /// The item the alert is about.
    pub item_id: QueueItemId,
    /// The channel it was posted in.
    pub channel_id: String,
    /// The message.
    pub message_id: String,
}

impl fmt::Display for ForgetReport {
    /// What was removed, in counts (no ids): for the audit log and the adviser.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} question(s), {} feedback row(s), {} queue item(s) and {} reply(ies) deleted; \
             {} taught wording(s) and {} entry title(s) made from their questions removed; \
             {} audit line(s) that quoted or named them cleared",
            self.asks_deleted,
            self.feedback_deleted,
            self.items_deleted,
            self.outbox_deleted,
            self.wordings_removed,
            self.titles_replaced,
            self.audit_lines_cleared,
        )
    }
}

// ------------------------------------------------------------ announcements

/// The id of an announcement, as shown to organisers ("#7").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AnnouncementId(pub i64);

impl fmt::Display for AnnouncementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Where an announcement is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnouncementStatus {
    /// Waiting for its time; the only state in which it can be edited or cancelled.
    Scheduled,
    /// Posted to its channel (perhaps late, see [`Announcement::late`]).
    Posted,
    /// Cancelled by an organiser before it was posted.
    Cancelled,
    /// Missed by more than `announcements.late_limit_hours` while no bot ran.
    Skipped,
    /// Posting failed too many times.
    Failed,
}

impl AnnouncementStatus {
    /// The text stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnouncementStatus::Scheduled => "scheduled",
            AnnouncementStatus::Posted => "posted",
            AnnouncementStatus::Cancelled => "cancelled",
            AnnouncementStatus::Skipped => "skipped",
            AnnouncementStatus::Failed => "failed",
        }
    }

    /// Parses the stored text (also what organisers type as a filter).
    pub fn parse(text: &str) -> Option<AnnouncementStatus> {
        match text {
            "scheduled" => Some(AnnouncementStatus::Scheduled),
            "posted" => Some(AnnouncementStatus::Posted),
            "cancelled" => Some(AnnouncementStatus::Cancelled),
            "skipped" => Some(AnnouncementStatus::Skipped),
            "failed" => Some(AnnouncementStatus::Failed),
            _ => None,
        }
    }
}

impl fmt::Display for AnnouncementStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An announcement to store. Build it with
/// [`announce::prepare_announcement`](crate::announce::prepare_announcement), which
/// checks the text, channel and time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAnnouncement {
    /// The Discord channel to post in.
    pub channel_id: u64,
    /// The message, exactly as it will be posted (at most 2,000 characters).
    pub text: String,
    /// When to post it.
    pub publish_at: DateTime<Utc>,
    /// Who scheduled it, for the audit log.
    pub created_by: String,
}

/// A stored announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub id: AnnouncementId,
    /// The Discord channel to post in.
    pub channel_id: u64,
    pub text: String,
    /// When it is (or was) to be posted.
    pub publish_at: DateTime<Utc>,
    pub status: AnnouncementStatus,
    /// Failed posting attempts so far.
    pub attempts: u32,
    /// The last posting error, for organisers wondering why it is late.
    pub last_error: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it was posted (or skipped, cancelled, given up).
    pub posted_at: Option<DateTime<Utc>>,
    /// It was posted late, with a note saying when it should have been.
    pub late: bool,
}

// ------------------------------------------------------------------- events

/// The id of an event added through the bot (not a knowledge file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub i64);

impl EventId {
    /// The event's id in the knowledge base and in reminders: `event-12`.
    pub fn knowledge_id(self) -> String {
        format!("event-{}", self.0)
    }

    /// The inverse of [`EventId::knowledge_id`]; also takes a bare number.
    pub fn parse(text: &str) -> Option<EventId> {
        let text = text.trim();
        let digits = text.strip_prefix("event-").unwrap_or(text);
        digits.parse().ok().filter(|n| *n > 0).map(EventId)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An event to store. Build it with
/// [`announce::prepare_event`](crate::announce::prepare_event), which checks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewEvent {
    pub title: String,
    /// Markdown; the first paragraph is what answers show first.
    pub description: String,
    pub start_at: DateTime<Utc>,
    pub end_at: DateTime<Utc>,
    pub venue: String,
    pub address: Option<String>,
    pub registration_url: Option<String>,
    pub organiser: Option<String>,
    /// Who the event is for ("Leverandører og innkjøpere").
    pub audience: Option<String>,
    /// The language the texts are written in.
    pub lang: Lang,
    pub created_by: String,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub id: EventId,
    #[serde(flatten)]
    pub event: NewEvent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A reminder one bot may now post: it holds the lease until
/// [`Store::mark_reminder_posted`](crate::store::Store::mark_reminder_posted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderClaim {
    /// The event's knowledge id.
    pub event_key: String,
    /// How long before the start, in minutes.
    pub offset_minutes: i64,
}
