//! The application state built once at start-up and passed explicitly: settings, the
//! answering core (swapped whole on reload, never mutated) and the store.
//!
//! Terminal chat and the Discord bot both answer through [`App::ask`], so they log,
//! count and learn the same way.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use chrono::Utc;

use crate::announce::{prefer_upcoming_event, stored_event_to_entry};
use crate::answer::{Answerer, Reply};
use crate::config::Settings;
use crate::knowledge::{self, Entry, KnowledgeBase, KnowledgeError, Source as EntrySource};
use crate::store::{
    AnsweringWrite, LearnedEntry, LogOutcome, Logged, NewUnanswered, Origin, Reason,
    ResilientConfig, ResilientLogger, Store, StoreOptions, Ticket, Unconfirmed, Unwritten,
};

/// Read the knowledge folder named in the settings; every problem is in the error.
/// Files unchanged since an earlier start are taken from the cache of parsed files in
/// `index.dir` (none when it is empty).
pub fn load_knowledge(settings: &Settings) -> Result<KnowledgeBase, KnowledgeError> {
    let (kb, warnings) =
        knowledge::load_dir_cached(&settings.knowledge.dir, settings.index.folder())?;
    for w in warnings {
        tracing::debug!("{w}");
    }
    Ok(kb)
}

/// A knowledge entry taught by an adviser, as the answering core sees it.
pub fn learned_to_entry(learned: &LearnedEntry) -> Entry {
    Entry {
        id: learned.id.clone(),
        lang: learned.lang,
        title: learned.title.clone(),
        questions: learned.questions.iter().collect(),
        keywords: learned.keywords.iter().collect(),
        related: Vec::new(),
        reviewed: learned.reviewed,
        sources: vec![EntrySource {
            name: learned.source_name.as_str().into(),
            // An adviser's own answer may have no public page; the reply then names the
            // adviser alone, and `kb export` leaves the url empty for review.
            url: learned.source_url.as_deref().unwrap_or_default().into(),
        }],
        facts: Vec::new(),
        body: learned.body.clone().into(),
        event: None,
        path: None,
    }
}

/// Add the entries and phrasings advisers taught (from the database) to the files'
/// knowledge. Returns the database's knowledge version they were read at, or `None` when
/// they could not be read (the files alone are used, and the next poll tries again).
async fn merge_learned_knowledge(store: &Store, kb: &mut KnowledgeBase) -> Option<i64> {
    let version = store.knowledge_version().await.unwrap_or(-1);
    match (store.learned_entries().await, store.phrasings().await) {
        (Ok(learned), Ok(phrasings)) => {
            let mut entries: Vec<Entry> = learned.iter().map(learned_to_entry).collect();
            // An entry edited on the web page keeps all its sources there.
            match store.entry_sources().await {
                Ok(sources) => {
                    for (id, lang, list) in sources {
                        if let Some(e) = entries
                            .iter_mut()
                            .find(|e| e.id == id && e.lang.code() == lang && !list.is_empty())
                        {
                            e.sources = list;
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "sources of edited entries unavailable"),
            }
            kb.merge_learned(entries);
            let orphans = kb.add_phrasings(
                phrasings
                    .iter()
                    .map(|p| (p.entry_id.as_str(), p.lang, p.question.as_str())),
            );
            for id in orphans {
                tracing::warn!(%id, "a learned phrasing names an entry that does not exist");
            }
            Some(version)
        }
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "learned knowledge unavailable; using the files alone");
            None
        }
    }
}

/// What asking a question produced.
#[derive(Debug, Clone)]
pub struct Asked {
    pub reply: Reply,
    /// The abstention is committed to the advisers' queue: only then may the reply say
    /// it was passed on to an adviser. False for answers, and for abstentions the
    /// database could not take in time (the reply then says so).
    pub logged: bool,
    /// The queue item it was filed under; `is_new` tells whether advisers should be
    /// alerted.
    pub queue_item: Option<Logged>,
}

/// A question answered, whose abstention (if any) is on its way to the database:
/// [`PendingAsk::settle`] waits for it. Lets a batch answer many questions while their
/// writes share one commit.
#[derive(Debug)]
pub struct PendingAsk {
    pub reply: Reply,
    ticket: Option<Ticket>,
}

impl PendingAsk {
    /// True when the reply is an abstention waiting for the advisers' queue.
    pub fn is_abstention(&self) -> bool {
        self.ticket.is_some()
    }

    /// Waits until the abstention is committed or known not to be (see
    /// [`Ticket::wait`]).
    pub async fn settle(self) -> Asked {
        let mut asked = Asked {
            reply: self.reply,
            logged: false,
            queue_item: None,
        };
        let Some(ticket) = self.ticket else {
            return asked;
        };
        match ticket.wait().await {
            Ok(LogOutcome::Stored(logged)) => {
                asked.logged = true;
                asked.queue_item = logged;
            }
            Ok(LogOutcome::Buffered) => tracing::warn!(
                "the database did not take an unanswered question in time; kept to be written later, and the asker told it was not passed on"
            ),
            Ok(LogOutcome::Withdrawn) => tracing::warn!(
                "the database did not take an unanswered question in time; the asker was told it was not passed on"
            ),
            Err(e) => tracing::error!(error = %e, "could not log an unanswered question"),
        }
        asked
    }
}

/// Why a reload kept the old knowledge.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    #[error("the search index could not be built: {0}")]
    Index(#[from] crate::search::SearchError),
}

/// Where the bot's time comes from: the system clock, or one a test moves by hand.
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> chrono::DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now()
    }
}

/// Shared state of a running anbud. Cheap to clone.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    /// The time the scheduler goes by (announcements, reminders).
    clock: Arc<dyn Clock>,
    answerer: Arc<ArcSwap<Answerer>>,
    logger: ResilientLogger,
    /// The database's knowledge version the current index was built from.
    knowledge_version: Arc<AtomicI64>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("answerer", &self.answerer.load())
            .finish()
    }
}

/// How long start-up waits for the database before it goes on without it (answering
/// from the files and buffering what it must write).
const CONNECT_WAIT: Duration = Duration::from_secs(5);

impl App {
    /// Load the knowledge, connect the store (or start without it while it is down),
    /// merge what advisers taught, and build the index. For a process that keeps
    /// running (the bot): a question the database could not take in time is kept in
    /// memory and written when it is back.
    pub async fn open(settings: &Settings) -> anyhow::Result<App> {
        App::open_with(settings, Unconfirmed::Keep).await
    }

    /// [`App::open`] for a command that ends soon (`ask`, `chat`): a question the
    /// database could not take in time is withdrawn, so that the reply's "not passed
    /// on" stays true after the command exits.
    pub async fn open_command(settings: &Settings) -> anyhow::Result<App> {
        App::open_with(settings, Unconfirmed::Withdraw).await
    }

    async fn open_with(settings: &Settings, unconfirmed: Unconfirmed) -> anyhow::Result<App> {
        let files = load_knowledge(settings).with_context(|| {
            format!(
                "loading the knowledge base from {}",
                settings.knowledge.dir.display()
            )
        })?;
        let store_options = StoreOptions {
            busy_timeout: settings.durability.sqlite_busy_timeout(),
            ..StoreOptions::default()
        };
        let config = ResilientConfig {
            capacity: settings.database.buffer_capacity,
            ack_timeout: settings.durability.ack_timeout(),
            unconfirmed,
            store_options: store_options.clone(),
            ..ResilientConfig::default()
        };
        let connect = Store::connect_with(&settings.database.url, &store_options);
        let store = match tokio::time::timeout(CONNECT_WAIT, connect).await {
            Ok(Ok(store)) => Some(store),
            Ok(Err(e)) if !e.is_unavailable() => {
                return Err(anyhow::Error::new(e).context("opening the database (database.url)"));
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "the database is unavailable; answering without it and retrying");
                None
            }
            Err(_) => {
                tracing::warn!(
                    "the database did not answer in time; answering without it and retrying"
                );
                None
            }
        };
        let logger = match &store {
            Some(store) => ResilientLogger::new(store.clone(), config),
            None => ResilientLogger::connect(&settings.database.url, config),
        };
        // Merge what advisers taught before indexing, so start-up builds the index once.
        let mut kb = files;
        let version = match &store {
            Some(store) => merge_learned_knowledge(store, &mut kb).await,
            None => None,
        };
        Ok(App {
            settings: Arc::new(settings.clone()),
            clock: Arc::new(SystemClock),
            answerer: Arc::new(ArcSwap::from_pointee(
                Answerer::with_index_dir(kb, settings.answer.clone(), settings.index.folder())?.0,
            )),
            logger,
            knowledge_version: Arc::new(AtomicI64::new(version.unwrap_or(-1))),
        })
    }

    /// The same app going by `clock` (tests: announcements due at a time they choose).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> App {
        self.clock = clock;
        self
    }

    /// Now, by the app's clock.
    pub fn now(&self) -> chrono::DateTime<Utc> {
        self.clock.now()
    }

    /// The current answering core.
    pub fn answerer(&self) -> Arc<Answerer> {
        self.answerer.load_full()
    }

    /// The store, when connected.
    pub fn store(&self) -> Option<Store> {
        self.logger.store()
    }

    /// The writer that survives a database outage.
    pub fn logger(&self) -> &ResilientLogger {
        &self.logger
    }

    /// Answer a question, count it, and pass an abstention to the advisers' queue,
    /// waiting until the database has committed it (see [`Asked::logged`]).
    #[tracing::instrument(level = "debug", skip_all, fields(source = %origin.source))]
    pub async fn ask(&self, question: &str, origin: Origin) -> Asked {
        self.ask_pending(question, origin).settle().await
    }

    /// [`App::ask`] without the wait: the reply at once, the counters and the
    /// abstention queued for the next group commit.
    pub fn ask_pending(&self, question: &str, origin: Origin) -> PendingAsk {
        let reply = self.answer_only(question);
        if reply.problem.is_some() {
            return PendingAsk {
                reply,
                ticket: None,
            };
        }
        let lang = reply.lang;
        if let Some(referral) = &reply.referral {
            // Counted, not queued: the question belongs to another public service. A
            // counter in the group commit like the others (see the README's durability
            // notes): a write of its own raced the group commit for SQLite's lock and
            // was lost under load, and a batch run could end before it ran.
            self.logger.record_referral(&referral.id, lang);
            return PendingAsk {
                reply,
                ticket: None,
            };
        }
        self.logger.record_question_asked(reply.answered(), lang);
        if let Some(id) = reply.id() {
            self.logger.record_answer_given(id, lang, origin.source);
            return PendingAsk {
                reply,
                ticket: None,
            };
        }
        let entry = NewUnanswered {
            question: question.chars().take(4000).collect(),
            lang: reply.lang,
            origin,
            best_candidate: reply.best_candidate().map(|c| c.id.clone()),
            score: reply.score,
            reason: Reason::Abstained,
            asked_at: Utc::now(),
        };
        let ticket = self.logger.submit(AnsweringWrite::Unanswered(entry));
        PendingAsk {
            reply,
            ticket: Some(ticket),
        }
    }

    /// Before the process ends: write what the database has not taken yet, for at most
    /// `durability.shutdown_flush_ms`, and name in the log what could not be written.
    ///
    /// A command (`ask`, `chat`) whose database is down at its end does not wait: its
    /// questions are settled already (stored, or withdrawn and said so), and only
    /// counters could be left; sitting out an outage for them would keep the user
    /// waiting. A bot waits, to ride out a short outage.
    pub async fn close(&self) -> Unwritten {
        let bound =
            if self.logger.unconfirmed() == Unconfirmed::Withdraw && !self.logger.is_healthy() {
                Duration::ZERO
            } else {
                self.settings.durability.shutdown_flush()
            };
        self.logger.close(bound).await
    }

    /// Answer without logging anything (benchmarks, previews).
    pub fn answer_only(&self, question: &str) -> Reply {
        self.answer_only_at(question, Utc::now())
    }

    /// [`App::answer_only`] at a given moment: whether an event in the answer is
    /// upcoming or past depends on it (see [`prefer_upcoming_event`]).
    pub fn answer_only_at(&self, question: &str, now: chrono::DateTime<Utc>) -> Reply {
        let answerer = self.answerer.load();
        match answerer.answer(question) {
            Ok(mut reply) => {
                prefer_upcoming_event(
                    &mut reply,
                    answerer.knowledge(),
                    self.settings.timezone(),
                    now,
                );
                reply
            }
            Err(e) => {
                // An index error is ours, not the user's: abstain and say so in the log.
                tracing::error!(error = %e, "search failed");
                let mut reply = answerer
                    .answer("")
                    .expect("an empty question needs no search");
                reply.question = question.to_string();
                reply.problem = None;
                reply
            }
        }
    }

    /// Re-read the knowledge folder, the learned knowledge and the organisers' events,
    /// and swap in a new index.
    /// On any error the old index stays and the error says what is wrong.
    pub async fn reload(&self) -> Result<usize, ReloadError> {
        let files = load_knowledge(&self.settings)?;
        self.reload_with(files).await
    }

    async fn reload_with(&self, mut kb: KnowledgeBase) -> Result<usize, ReloadError> {
        if let Some(store) = self.store() {
            if let Some(version) = merge_learned_knowledge(&store, &mut kb).await {
                self.knowledge_version.store(version, Ordering::SeqCst);
            }
            // Organisers' events answer like entries; a file event with the same id
            // would be replaced, but database ids (`event-12`) never clash with files.
            match store.list_events().await {
                Ok(events) => {
                    let tz = self.settings.timezone();
                    kb.merge_learned(
                        events
                            .iter()
                            .map(|e| stored_event_to_entry(e, tz))
                            .collect(),
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "organisers' events unavailable; using the files alone")
                }
            }
        }
        let answerer = Answerer::with_index_dir(
            kb,
            self.settings.answer.clone(),
            self.settings.index.folder(),
        )?
        .0;
        let count = answerer.knowledge().ids().len();
        self.answerer.store(Arc::new(answerer));
        Ok(count)
    }

    /// Rebuild the index when advisers changed the knowledge in the database (through
    /// this process or another one sharing the database). Returns whether it reloaded.
    pub async fn reload_if_changed(&self) -> bool {
        let Some(store) = self.store() else {
            return false;
        };
        let Ok(version) = store.knowledge_version().await else {
            return false;
        };
        if version == self.knowledge_version.load(Ordering::SeqCst) {
            return false;
        }
        match self.reload().await {
            Ok(_) => true,
            Err(e) => {
                // Still remember the version, so a broken file is not re-read every poll.
                self.knowledge_version.store(version, Ordering::SeqCst);
                tracing::error!(error = %e, "reload after a knowledge change failed; keeping the old index");
                false
            }
        }
    }

    /// Poll the database for knowledge changes in the background, and remove personal
    /// data past the retention period once an hour.
    pub fn spawn_maintenance(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            let poll = Duration::from_millis(app.settings.database.knowledge_poll_ms.max(50));
            let mut last_purge: Option<std::time::Instant> = None;
            loop {
                tokio::time::sleep(poll).await;
                app.reload_if_changed().await;
                if last_purge.is_none_or(|t| t.elapsed() > Duration::from_secs(3600)) {
                    if let Some(store) = app.store() {
                        let cutoff = Utc::now()
                            - chrono::Duration::days(i64::from(
                                app.settings.database.retention_days,
                            ));
                        match store.purge_personal_data(cutoff).await {
                            Ok(n) if n > 0 => tracing::info!(
                                rows = n,
                                "removed personal data past the retention period"
                            ),
                            Ok(_) => {}
                            Err(e) => tracing::warn!(error = %e, "retention purge failed"),
                        }
                        last_purge = Some(std::time::Instant::now());
                    }
                }
            }
        })
    }
}
