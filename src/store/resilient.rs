//! Keeps the bot's writes when the database is down.
//!
//! The bot must go on answering while PostgreSQL restarts or the disk with the
//! SQLite file is away. What it would lose meanwhile are the questions it could
//! not answer (the advisers' queue) and the statistics counters. The
//! [`ResilientLogger`] holds those in a bounded in-memory queue and writes them,
//! in order, when the database is back.
//!
//! What is buffered lives only in memory: a process that stops while the
//! database is down loses it (call [`ResilientLogger::wait_flushed`] on a
//! graceful shutdown).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use tokio::sync::{mpsc, Notify};

use super::{Logged, NewFeedback, NewUnanswered, Source, Store, StoreError, StoreOptions};

/// Settings of a [`ResilientLogger`].
#[derive(Debug, Clone)]
pub struct ResilientConfig {
    /// The most writes kept while the database is down. When full, the oldest
    /// is dropped (with a warning): recent questions matter more to advisers.
    pub capacity: usize,
    /// The first pause between attempts to reach the database.
    pub initial_backoff: Duration,
    /// The longest pause; the pause doubles up to this.
    pub max_backoff: Duration,
    /// Pool settings when the logger opens the store itself.
    pub store_options: StoreOptions,
}

impl Default for ResilientConfig {
    fn default() -> ResilientConfig {
        ResilientConfig {
            capacity: 10_000,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            store_options: StoreOptions::default(),
        }
    }
}

/// What became of a write handed to the [`ResilientLogger`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogOutcome<T> {
    /// It is in the database; here is the store's answer.
    Stored(T),
    /// The database is unavailable: it is buffered and will be written later.
    /// Queue items created then are reported on [`ResilientLogger::flushed_events`].
    Buffered,
}

/// A write that can wait for the database.
#[derive(Debug, Clone)]
enum PendingWrite {
    Unanswered(NewUnanswered),
    Feedback(NewFeedback),
    QuestionAsked {
        answered: bool,
        lang: String,
        at: DateTime<Utc>,
    },
    AnswerGiven {
        entry_id: String,
        lang: String,
        source: Source,
        at: DateTime<Utc>,
    },
}

impl PendingWrite {
    /// Writes it; the queue item it filed, if it files one.
    async fn apply(&self, store: &Store) -> Result<Option<Logged>, StoreError> {
        match self {
            PendingWrite::Unanswered(question) => store.log_unanswered(question).await.map(Some),
            PendingWrite::Feedback(feedback) => store.record_feedback(feedback).await,
            PendingWrite::QuestionAsked { answered, lang, at } => store
                .record_question_asked_at(*answered, lang, *at)
                .await
                .map(|()| None),
            PendingWrite::AnswerGiven {
                entry_id,
                lang,
                source,
                at,
            } => store
                .record_answer_given_at(entry_id, lang, *source, *at)
                .await
                .map(|()| None),
        }
    }
}

/// Writes the bot's questions and counters to the [`Store`], buffering them in
/// memory while the database is unavailable and flushing them in order from a
/// background task when it is back.
///
/// Cheap to clone; clones share the buffer. The background task ends when the
/// last clone is dropped. Needs a tokio runtime.
#[derive(Clone)]
pub struct ResilientLogger {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where to connect when started without a store.
    url: Option<String>,
    config: ResilientConfig,
    state: Mutex<State>,
    signals: Arc<Signals>,
    events: Mutex<Option<mpsc::UnboundedSender<Logged>>>,
}

struct Signals {
    /// Something was buffered.
    wake: Notify,
    /// The last handle is gone.
    closed: Notify,
}

struct State {
    store: Option<Store>,
    buffer: VecDeque<Buffered>,
    next_seq: u64,
    /// False from the first failure until the buffer is empty again; while
    /// false, new writes queue behind the buffered ones to keep their order.
    healthy: bool,
    dropped: u64,
}

struct Buffered {
    seq: u64,
    write: PendingWrite,
}

enum Step {
    Idle,
    Progress,
    Failed,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.signals.closed.notify_one();
        self.signals.wake.notify_one();
    }
}

impl ResilientLogger {
    /// A logger over a store that is already connected.
    pub fn new(store: Store, config: ResilientConfig) -> ResilientLogger {
        ResilientLogger::start(None, Some(store), config)
    }

    /// A logger that opens the store at `url` itself, in the background, and
    /// keeps trying until it succeeds: the bot can start while the database is
    /// down. Writes are buffered until then.
    pub fn connect(url: &str, config: ResilientConfig) -> ResilientLogger {
        ResilientLogger::start(Some(url.to_owned()), None, config)
    }

    fn start(
        url: Option<String>,
        store: Option<Store>,
        config: ResilientConfig,
    ) -> ResilientLogger {
        let signals = Arc::new(Signals {
            wake: Notify::new(),
            closed: Notify::new(),
        });
        let inner = Arc::new(Inner {
            url,
            config,
            state: Mutex::new(State {
                healthy: store.is_some(),
                store,
                buffer: VecDeque::new(),
                next_seq: 0,
                dropped: 0,
            }),
            signals: Arc::clone(&signals),
            events: Mutex::new(None),
        });
        tokio::spawn(flush_loop(Arc::downgrade(&inner), signals));
        ResilientLogger { inner }
    }

    /// The store, once connected. The rest of the bot (outbox, knowledge) uses
    /// it directly.
    pub fn store(&self) -> Option<Store> {
        self.inner.lock().store.clone()
    }

    /// Reports the queue items created by buffered writes when they are
    /// flushed, so the Discord layer can still announce new items to
    /// advisers. Only the latest receiver gets them.
    pub fn flushed_events(&self) -> mpsc::UnboundedReceiver<Logged> {
        let (sender, receiver) = mpsc::unbounded_channel();
        *self
            .inner
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(sender);
        receiver
    }

    /// Writes waiting for the database.
    pub fn buffered(&self) -> usize {
        self.inner.lock().buffer.len()
    }

    /// Writes dropped because the buffer was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.inner.lock().dropped
    }

    /// Waits until nothing is buffered, or `timeout` passes. Returns whether
    /// everything reached the database. Call it before a graceful shutdown.
    pub async fn wait_flushed(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let state = self.inner.lock();
                if state.buffer.is_empty() && state.healthy {
                    return true;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// [`Store::log_unanswered`], or buffered while the database is down.
    /// Fails only for errors that retrying would not fix. May wait up to the
    /// pool's acquire timeout when the database has just gone away, so call it
    /// after replying to the asker.
    pub async fn log_unanswered(
        &self,
        question: NewUnanswered,
    ) -> Result<LogOutcome<Logged>, StoreError> {
        let outcome = self.submit(PendingWrite::Unanswered(question)).await?;
        Ok(match outcome {
            // An unanswered question always files an item.
            LogOutcome::Stored(Some(logged)) => LogOutcome::Stored(logged),
            LogOutcome::Stored(None) | LogOutcome::Buffered => LogOutcome::Buffered,
        })
    }

    /// [`Store::record_feedback`], or buffered while the database is down.
    pub async fn record_feedback(
        &self,
        feedback: NewFeedback,
    ) -> Result<LogOutcome<Option<Logged>>, StoreError> {
        self.submit(PendingWrite::Feedback(feedback)).await
    }

    /// [`Store::record_question_asked`], or buffered (with the time of asking)
    /// while the database is down.
    pub async fn record_question_asked(
        &self,
        answered: bool,
        lang: &str,
    ) -> Result<LogOutcome<()>, StoreError> {
        let write = PendingWrite::QuestionAsked {
            answered,
            lang: lang.to_owned(),
            at: Utc::now().trunc_subsecs(6),
        };
        Ok(discard(self.submit(write).await?))
    }

    /// [`Store::record_answer_given`], or buffered (with the time of the
    /// answer) while the database is down.
    pub async fn record_answer_given(
        &self,
        entry_id: &str,
        lang: &str,
        source: Source,
    ) -> Result<LogOutcome<()>, StoreError> {
        let write = PendingWrite::AnswerGiven {
            entry_id: entry_id.to_owned(),
            lang: lang.to_owned(),
            source,
            at: Utc::now().trunc_subsecs(6),
        };
        Ok(discard(self.submit(write).await?))
    }

    async fn submit(&self, write: PendingWrite) -> Result<LogOutcome<Option<Logged>>, StoreError> {
        let store = {
            let state = self.inner.lock();
            if state.healthy && state.buffer.is_empty() {
                state.store.clone()
            } else {
                None
            }
        };
        let Some(store) = store else {
            self.inner.buffer(write);
            return Ok(LogOutcome::Buffered);
        };
        match write.apply(&store).await {
            Ok(result) => Ok(LogOutcome::Stored(result)),
            Err(error) if error.is_unavailable() => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "database unavailable: buffering writes"
                );
                self.inner.buffer(write);
                Ok(LogOutcome::Buffered)
            }
            Err(error) => Err(error),
        }
    }
}

impl std::fmt::Debug for ResilientLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("ResilientLogger")
            .field("connected", &state.store.is_some())
            .field("healthy", &state.healthy)
            .field("buffered", &state.buffer.len())
            .field("dropped", &state.dropped)
            .finish()
    }
}

fn discard(outcome: LogOutcome<Option<Logged>>) -> LogOutcome<()> {
    match outcome {
        LogOutcome::Stored(_) => LogOutcome::Stored(()),
        LogOutcome::Buffered => LogOutcome::Buffered,
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the buffer usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn buffer(&self, write: PendingWrite) {
        let mut state = self.lock();
        if state.buffer.len() >= self.config.capacity.max(1) {
            state.buffer.pop_front();
            state.dropped += 1;
            tracing::warn!(
                capacity = self.config.capacity,
                dropped = state.dropped,
                "database unavailable and write buffer full: dropped the oldest buffered write"
            );
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        state.buffer.push_back(Buffered { seq, write });
        state.healthy = false;
        drop(state);
        self.signals.wake.notify_one();
    }

    /// Removes the buffered write `seq` if it is still first (it may have
    /// been dropped meanwhile to make room).
    fn pop_if_first(&self, seq: u64) {
        let mut state = self.lock();
        if state.buffer.front().is_some_and(|first| first.seq == seq) {
            state.buffer.pop_front();
        }
    }

    /// One step of the background task: connect, or write the oldest buffered
    /// write.
    async fn flush_step(&self) -> Step {
        let (store, first) = {
            let state = self.lock();
            let first = state
                .buffer
                .front()
                .map(|first| (first.seq, first.write.clone()));
            (state.store.clone(), first)
        };

        let Some(store) = store else {
            let Some(url) = &self.url else {
                return Step::Idle;
            };
            return match Store::connect_with(url, &self.config.store_options).await {
                Ok(store) => {
                    tracing::info!(backend = store.backend_name(), "database connected");
                    self.lock().store = Some(store);
                    Step::Progress
                }
                Err(error) => {
                    if error.is_unavailable() {
                        tracing::debug!(
                            error = &error as &dyn std::error::Error,
                            "database still unavailable"
                        );
                    } else {
                        tracing::error!(
                            error = &error as &dyn std::error::Error,
                            "cannot open the database"
                        );
                    }
                    Step::Failed
                }
            };
        };

        let Some((seq, write)) = first else {
            let mut state = self.lock();
            if state.buffer.is_empty() {
                state.healthy = true;
                return Step::Idle;
            }
            return Step::Progress;
        };

        match write.apply(&store).await {
            Ok(logged) => {
                self.pop_if_first(seq);
                if let Some(logged) = logged {
                    let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(sender) = events.as_ref() {
                        // A receiver that went away just stops listening.
                        let _ = sender.send(logged);
                    }
                }
                Step::Progress
            }
            Err(error) if error.is_unavailable() => {
                tracing::debug!(
                    error = &error as &dyn std::error::Error,
                    "database still unavailable"
                );
                Step::Failed
            }
            Err(error) => {
                // Retrying would fail forever and block everything behind it.
                tracing::error!(
                    error = &error as &dyn std::error::Error,
                    "dropping a buffered write the database refuses"
                );
                self.pop_if_first(seq);
                Step::Progress
            }
        }
    }
}

/// The background task: flushes while there is something to flush, backs off
/// while the database is unavailable, sleeps while there is nothing to do, and
/// ends with the last [`ResilientLogger`].
async fn flush_loop(inner: Weak<Inner>, signals: Arc<Signals>) {
    let mut backoff: Option<Duration> = None;
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let step = strong.flush_step().await;
        let (initial, max) = (strong.config.initial_backoff, strong.config.max_backoff);
        drop(strong);
        match step {
            Step::Progress => backoff = None,
            Step::Idle => {
                backoff = None;
                signals.wake.notified().await;
            }
            Step::Failed => {
                let pause = backoff.map_or(initial, |previous| (previous * 2).min(max));
                backoff = Some(pause);
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = signals.closed.notified() => return,
                }
            }
        }
    }
}
