//! The one writer of answering's writes: group commit, and a buffer while the database
//! is down.
//!
//! Every write answering makes (a question for the advisers' queue, feedback, the
//! statistics counters) goes through a [`ResilientLogger`]. A single background task
//! takes every write that queued up while its previous commit ran and writes them in one
//! transaction ([`Store::write_batch`]): one commit and one fsync for many questions, in
//! the order they were made. Under load the batches grow by themselves; a lone question
//! is written at once.
//!
//! **Acknowledged means durable.** A caller that must tell a user "your question was
//! passed to an adviser" waits for the commit of the batch holding it ([`Ticket::wait`])
//! and may say so only on [`LogOutcome::Stored`]. Counters are not waited for: they are
//! written with the next batch, normally within milliseconds, so a crash can lose the
//! counts of the last moments (never a question someone was told about).
//!
//! **While the database is down** (PostgreSQL restarting, SQLite's file locked by a
//! backup, a full disk) the writes stay in a bounded in-memory queue and the task retries
//! with a growing pause. A caller waiting for such a write learns at once that it is not
//! stored. What happens to it then is the logger's [`Unconfirmed`] policy: a long-running
//! bot keeps it and writes it when the database is back (the queue item is then reported
//! on [`ResilientLogger::flushed_events`]); a command that is about to exit withdraws it,
//! so that "not passed on" stays true. Whatever is still queued when the process stops is
//! lost unless [`ResilientLogger::close`] gets it written; `close` names in the log what it
//! could not write.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use chrono::{SubsecRound, Utc};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use super::{
    AnsweringWrite, Logged, NewFeedback, NewUnanswered, Source, Store, StoreError, StoreOptions,
};
use crate::knowledge::Lang;

/// What becomes of a write the database could not take in time, when someone waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unconfirmed {
    /// Kept in memory and written when the database is back: for a bot that keeps
    /// running. The caller was told it is not stored; it may still arrive later.
    Keep,
    /// Taken back, unless a commit holding it is already under way: for a command
    /// that is about to exit, so that "not stored" stays true.
    Withdraw,
}

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
    /// The longest a caller waits for its write to be stored (a database that hangs
    /// neither answers nor fails).
    pub ack_timeout: Duration,
    /// What becomes of a write that could not be stored in time.
    pub unconfirmed: Unconfirmed,
    /// The most writes in one transaction.
    pub max_batch: usize,
}

impl Default for ResilientConfig {
    fn default() -> ResilientConfig {
        ResilientConfig {
            capacity: 10_000,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            store_options: StoreOptions::default(),
            ack_timeout: Duration::from_secs(6),
            unconfirmed: Unconfirmed::Keep,
            max_batch: 1024,
        }
    }
}

/// What became of a write handed to the [`ResilientLogger`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogOutcome<T> {
    /// It is in the database, committed; here is the store's answer.
    Stored(T),
    /// Not stored yet: the database is unavailable. It is kept in memory and
    /// written when the database is back ([`Unconfirmed::Keep`]); queue items
    /// created then are reported on [`ResilientLogger::flushed_events`]. With
    /// [`Unconfirmed::Withdraw`]: a commit holding it was still under way when the
    /// wait ran out (a database that hangs), so it may still land.
    Buffered,
    /// Not stored, and taken back: it will not be written ([`Unconfirmed::Withdraw`]).
    Withdrawn,
}

impl<T> LogOutcome<T> {
    /// True when the write is in the database.
    pub fn is_stored(&self) -> bool {
        matches!(self, LogOutcome::Stored(_))
    }
}

/// What [`ResilientLogger::close`] could not write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unwritten {
    /// Questions for the advisers' queue and feedback.
    pub acknowledged: usize,
    /// Statistics counters.
    pub counters: usize,
}

impl Unwritten {
    /// True when everything was written.
    pub fn is_empty(&self) -> bool {
        self.acknowledged == 0 && self.counters == 0
    }
}

/// A write on its way to the database; [`Ticket::wait`] tells whether it got there.
#[must_use = "a ticket tells whether the write is stored"]
pub struct Ticket {
    seq: u64,
    result: oneshot::Receiver<Result<Option<Logged>, StoreError>>,
    /// The database was known to be unavailable when the write was made.
    unhealthy: bool,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ticket").field("seq", &self.seq).finish()
    }
}

impl Ticket {
    /// Waits until the write is committed, the database is found unavailable, or the
    /// logger's `ack_timeout` passes, whichever comes first. Only
    /// [`LogOutcome::Stored`] means the write is durable. Fails only for errors that
    /// retrying would not fix (the write is then dropped).
    pub async fn wait(self) -> Result<LogOutcome<Option<Logged>>, StoreError> {
        let Ticket {
            seq,
            mut result,
            unhealthy,
            inner,
        } = self;
        if !unhealthy {
            let mut failed = inner.failed_before.subscribe();
            tokio::select! {
                received = &mut result => return settled(received),
                _ = failed.wait_for(|&failed_before| failed_before > seq) => {}
                () = tokio::time::sleep(inner.config.ack_timeout) => {}
            }
        }
        match inner.config.unconfirmed {
            Unconfirmed::Keep => give_up(result),
            Unconfirmed::Withdraw => loop {
                let mut failed = inner.failed_before.subscribe();
                if inner.withdraw(seq) {
                    return Ok(LogOutcome::Withdrawn);
                }
                // Not queued: a commit holding it is under way. Its outcome decides: if
                // it fails, the write is queued again and withdrawn on the next round.
                tokio::select! {
                    received = &mut result => return settled(received),
                    _ = failed.changed() => {}
                    () = tokio::time::sleep(inner.config.ack_timeout) => return give_up(result),
                }
            },
        }
    }
}

/// What a received result means: stored, refused, or dropped from a full buffer.
fn settled(
    received: Result<Result<Option<Logged>, StoreError>, oneshot::error::RecvError>,
) -> Result<LogOutcome<Option<Logged>>, StoreError> {
    match received {
        Ok(Ok(logged)) => Ok(LogOutcome::Stored(logged)),
        Ok(Err(error)) => Err(error),
        // The writer let go of it: dropped to make room in a full buffer.
        Err(_) => Ok(LogOutcome::Withdrawn),
    }
}

/// Stops waiting: stored if the result came just now, else left to the writer (which
/// reports a queue item it files later on `flushed_events`).
fn give_up(
    mut result: oneshot::Receiver<Result<Option<Logged>, StoreError>>,
) -> Result<LogOutcome<Option<Logged>>, StoreError> {
    result.close();
    match result.try_recv() {
        Ok(received) => settled(Ok(received)),
        Err(_) => Ok(LogOutcome::Buffered),
    }
}

/// Writes answering's writes to the [`Store`] in group commits, keeping them in memory
/// while the database is unavailable and writing them, in order, when it is back.
///
/// Cheap to clone; clones share the queue and the writer. The writer task ends when the
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
    /// After each failed attempt: every write with a sequence number below this has met
    /// the outage (it was in the failed batch or queued behind it).
    failed_before: watch::Sender<u64>,
    events: Mutex<Option<mpsc::UnboundedSender<Logged>>>,
}

struct Signals {
    /// Something was queued.
    wake: Notify,
    /// The process is stopping: retry now.
    hurry: Notify,
    /// The last handle is gone.
    closed: Notify,
}

struct State {
    store: Option<Store>,
    /// Writes not yet handed to the database, oldest first.
    queue: VecDeque<Pending>,
    /// Writes in the commit under way, in order.
    in_flight: VecDeque<Pending>,
    next_seq: u64,
    /// False from a failed attempt (or before the first connection) until a commit
    /// succeeds; while false, callers are told at once that their write waits.
    healthy: bool,
    dropped: u64,
    /// Group commits written since the start.
    commits: u64,
    /// [`ResilientLogger::close`] is waiting: retry without long pauses.
    closing: bool,
}

struct Pending {
    seq: u64,
    write: AnsweringWrite,
    /// The caller waiting for this write, if any.
    waiter: Option<oneshot::Sender<Result<Option<Logged>, StoreError>>>,
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
    /// down. Writes wait in memory until then.
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
            hurry: Notify::new(),
            closed: Notify::new(),
        });
        let inner = Arc::new(Inner {
            url,
            config,
            state: Mutex::new(State {
                healthy: store.is_some(),
                store,
                queue: VecDeque::new(),
                in_flight: VecDeque::new(),
                next_seq: 0,
                dropped: 0,
                commits: 0,
                closing: false,
            }),
            signals: Arc::clone(&signals),
            failed_before: watch::Sender::new(0),
            events: Mutex::new(None),
        });
        tokio::spawn(write_loop(Arc::downgrade(&inner), signals));
        ResilientLogger { inner }
    }

    /// The store, once connected. The rest of the bot (outbox, knowledge) uses
    /// it directly.
    pub fn store(&self) -> Option<Store> {
        self.inner.lock().store.clone()
    }

    /// Reports the queue items filed by writes whose caller had stopped waiting (it
    /// was told the write was buffered), when they reach the database, so the Discord
    /// layer can still announce new items to advisers. Only the latest receiver gets
    /// them.
    pub fn flushed_events(&self) -> mpsc::UnboundedReceiver<Logged> {
        let (sender, receiver) = mpsc::unbounded_channel();
        *self
            .inner
            .events
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(sender);
        receiver
    }

    /// Writes not yet in the database (queued or in the commit under way).
    pub fn buffered(&self) -> usize {
        let state = self.inner.lock();
        state.queue.len() + state.in_flight.len()
    }

    /// Writes dropped because the buffer was full, since the start.
    pub fn dropped(&self) -> u64 {
        self.inner.lock().dropped
    }

    /// False while the database is known to be unavailable (from a failed attempt
    /// until the next commit succeeds, or before the first connection).
    pub fn is_healthy(&self) -> bool {
        let state = self.inner.lock();
        state.healthy && state.store.is_some()
    }

    /// What becomes of a write that could not be stored in time.
    pub fn unconfirmed(&self) -> Unconfirmed {
        self.inner.config.unconfirmed
    }

    /// Group commits (transactions) written since the start.
    pub fn commits(&self) -> u64 {
        self.inner.lock().commits
    }

    /// Waits until every write made so far is in the database, or `timeout` passes.
    /// Returns whether everything reached the database.
    pub async fn wait_flushed(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if self.buffered() == 0 {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Before the process stops: waits up to `timeout` for everything queued to be
    /// written, then takes what is left out of the queue and logs (at error level) each
    /// question and feedback not written, and how many counters. A commit still under
    /// way then is counted as not written: the process ends before it returns.
    pub async fn close(&self, timeout: Duration) -> Unwritten {
        self.inner.lock().closing = true;
        // Cut a pause between attempts short: the time left is for writing.
        self.inner.signals.hurry.notify_one();
        if self.wait_flushed(timeout).await {
            return Unwritten::default();
        }
        let mut unwritten = Unwritten::default();
        let mut state = self.inner.lock();
        let left = std::mem::take(&mut state.queue);
        for pending in state.in_flight.iter().chain(&left) {
            name_unwritten(&pending.write, &mut unwritten);
        }
        tracing::error!(
            questions_and_feedback = unwritten.acknowledged,
            counters = unwritten.counters,
            in_commit = state.in_flight.len(),
            "stopped with writes the database has not taken"
        );
        unwritten
    }

    /// Queues a write for the next group commit. Wait on the ticket for the writes a
    /// user is told about; counters need not be waited for.
    pub fn submit(&self, write: AnsweringWrite) -> Ticket {
        let (sender, result) = oneshot::channel();
        let (seq, unhealthy) = self.inner.enqueue(write, Some(sender));
        Ticket {
            seq,
            result,
            unhealthy,
            inner: Arc::clone(&self.inner),
        }
    }

    /// [`Store::log_unanswered`] through the group commit: waits for the commit (see
    /// [`Ticket::wait`]). Fails only for errors that retrying would not fix.
    pub async fn log_unanswered(
        &self,
        question: NewUnanswered,
    ) -> Result<LogOutcome<Logged>, StoreError> {
        let outcome = self
            .submit(AnsweringWrite::Unanswered(question))
            .wait()
            .await?;
        Ok(match outcome {
            // An unanswered question always files an item.
            LogOutcome::Stored(Some(logged)) => LogOutcome::Stored(logged),
            LogOutcome::Stored(None) | LogOutcome::Buffered => LogOutcome::Buffered,
            LogOutcome::Withdrawn => LogOutcome::Withdrawn,
        })
    }

    /// [`Store::record_feedback`] through the group commit: waits for the commit.
    pub async fn record_feedback(
        &self,
        feedback: NewFeedback,
    ) -> Result<LogOutcome<Option<Logged>>, StoreError> {
        self.submit(AnsweringWrite::Feedback(feedback)).wait().await
    }

    /// Counts a question for the statistics ([`Store::record_question_asked`]) with the
    /// next group commit, without waiting for it.
    pub fn record_question_asked(&self, answered: bool, lang: Lang) {
        self.inner.enqueue(
            AnsweringWrite::QuestionAsked {
                answered,
                lang,
                at: Utc::now().trunc_subsecs(6),
            },
            None,
        );
    }

    /// Counts an answer given from `entry_id` ([`Store::record_answer_given`]) with the
    /// next group commit, without waiting for it.
    pub fn record_answer_given(&self, entry_id: &str, lang: Lang, source: Source) {
        self.inner.enqueue(
            AnsweringWrite::AnswerGiven {
                entry_id: entry_id.to_owned(),
                lang,
                source,
                at: Utc::now().trunc_subsecs(6),
            },
            None,
        );
    }

    /// Counts a question referred to the public service `referral_id` with the next
    /// group commit, without waiting for it (a counter, like the others).
    pub fn record_referral(&self, referral_id: &str, lang: Lang) {
        self.inner.enqueue(
            AnsweringWrite::Referred {
                referral_id: referral_id.to_owned(),
                lang,
                at: Utc::now().trunc_subsecs(6),
            },
            None,
        );
    }
}

/// Logs a write [`ResilientLogger::close`] could not get written, and counts it.
fn name_unwritten(write: &AnsweringWrite, unwritten: &mut Unwritten) {
    match write {
        AnsweringWrite::Unanswered(question) => {
            unwritten.acknowledged += 1;
            tracing::error!(
                asked_at = %question.asked_at,
                lang = %question.lang,
                source = %question.origin.source,
                channel = question.origin.channel_id.as_deref().unwrap_or(""),
                message = question.origin.message_id.as_deref().unwrap_or(""),
                question = %question.question,
                "not written to the advisers' queue: the database did not take it before the stop"
            );
        }
        AnsweringWrite::Feedback(feedback) => {
            unwritten.acknowledged += 1;
            tracing::error!(
                at = %feedback.at,
                entry = %feedback.entry_id,
                helpful = feedback.helpful,
                source = %feedback.origin.source,
                question = %feedback.question,
                "feedback not written: the database did not take it before the stop"
            );
        }
        AnsweringWrite::QuestionAsked { .. }
        | AnsweringWrite::AnswerGiven { .. }
        | AnsweringWrite::Referred { .. } => {
            unwritten.counters += 1;
        }
    }
}

impl std::fmt::Debug for ResilientLogger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.lock();
        f.debug_struct("ResilientLogger")
            .field("connected", &state.store.is_some())
            .field("healthy", &state.healthy)
            .field("queued", &state.queue.len())
            .field("in_flight", &state.in_flight.len())
            .field("dropped", &state.dropped)
            .finish()
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the queue usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Queues a write; returns its sequence number and whether the database was
    /// known to be unavailable.
    fn enqueue(
        &self,
        write: AnsweringWrite,
        waiter: Option<oneshot::Sender<Result<Option<Logged>, StoreError>>>,
    ) -> (u64, bool) {
        let mut state = self.lock();
        self.make_room(&mut state, 1);
        let seq = state.next_seq;
        state.next_seq += 1;
        state.queue.push_back(Pending { seq, write, waiter });
        let unhealthy = !state.healthy;
        drop(state);
        self.signals.wake.notify_one();
        (seq, unhealthy)
    }

    /// Drops the oldest queued writes until `extra` more fit in the capacity.
    fn make_room(&self, state: &mut State, extra: usize) {
        let capacity = self.config.capacity.max(1);
        while state.queue.len() + state.in_flight.len() + extra > capacity {
            // Dropping it drops its waiter, who learns it was not stored.
            if state.queue.pop_front().is_none() {
                break;
            }
            state.dropped += 1;
            tracing::warn!(
                capacity = self.config.capacity,
                dropped = state.dropped,
                "database unavailable and write buffer full: dropped the oldest buffered write"
            );
        }
    }

    /// Takes write `seq` out of the queue; false when it is not queued (being
    /// committed, or done).
    fn withdraw(&self, seq: u64) -> bool {
        let mut state = self.lock();
        match state
            .queue
            .binary_search_by_key(&seq, |pending| pending.seq)
        {
            Ok(position) => {
                state.queue.remove(position);
                true
            }
            Err(_) => false,
        }
    }

    /// Reports a queue item filed by a write nobody waits for any more.
    fn report(&self, logged: Logged) {
        let events = self.events.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = events.as_ref() {
            // A receiver that went away just stops listening.
            let _ = sender.send(logged);
        }
    }

    /// Hands each write's result to its waiter, or reports the queue item it filed.
    fn deliver(
        &self,
        waiter: Option<oneshot::Sender<Result<Option<Logged>, StoreError>>>,
        result: Result<Option<Logged>, StoreError>,
    ) {
        let unheard = match waiter {
            Some(waiter) => waiter.send(result).err(),
            None => Some(result),
        };
        if let Some(Ok(Some(logged))) = unheard {
            self.report(logged);
        }
    }

    /// Puts the batch that could not be written back at the front of the queue.
    fn requeue_in_flight(&self) {
        let mut state = self.lock();
        while let Some(pending) = state.in_flight.pop_back() {
            state.queue.push_front(pending);
        }
        // New writes may have filled the room the batch had.
        self.make_room(&mut state, 0);
        state.healthy = false;
        let failed_before = state.next_seq;
        drop(state);
        self.failed_before.send_replace(failed_before);
    }

    /// One step of the writer: connect, or write the next batch.
    async fn write_step(&self) -> Step {
        let store = self.lock().store.clone();
        let Some(store) = store else {
            return self.connect().await;
        };

        let writes: Vec<AnsweringWrite> = {
            let mut state = self.lock();
            if state.queue.is_empty() {
                state.healthy = true;
                return Step::Idle;
            }
            let n = state.queue.len().min(self.config.max_batch.max(1));
            let batch: VecDeque<Pending> = state.queue.drain(..n).collect();
            tracing::debug!(first = batch[0].seq, writes = n, "group commit started");
            state.in_flight = batch;
            state.in_flight.iter().map(|p| p.write.clone()).collect()
        };

        match store.write_batch(&writes).await {
            Ok(results) => {
                let batch = {
                    let mut state = self.lock();
                    state.healthy = true;
                    state.commits += 1;
                    std::mem::take(&mut state.in_flight)
                };
                for (pending, logged) in batch.into_iter().zip(results) {
                    self.deliver(pending.waiter, Ok(logged));
                }
                Step::Progress
            }
            Err(error) if error.is_unavailable() => {
                self.note_outage(&error);
                self.requeue_in_flight();
                Step::Failed
            }
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    writes = writes.len(),
                    "a group commit was refused; writing its writes one by one"
                );
                self.write_one_by_one(&store).await
            }
        }
    }

    /// Writes the refused batch one write per transaction, so that only the write the
    /// database refuses is dropped.
    async fn write_one_by_one(&self, store: &Store) -> Step {
        loop {
            let Some(write) = self.lock().in_flight.front().map(|p| p.write.clone()) else {
                break;
            };
            let result = store.write_batch(std::slice::from_ref(&write)).await;
            if let Err(error) = &result {
                if error.is_unavailable() {
                    self.note_outage(error);
                    self.requeue_in_flight();
                    return Step::Failed;
                }
                // Retrying would fail forever and block everything behind it.
                tracing::error!(
                    error = error as &dyn std::error::Error,
                    write = ?write,
                    "dropping a write the database refuses"
                );
            }
            let pending = {
                let mut state = self.lock();
                state.commits += u64::from(result.is_ok());
                state.in_flight.pop_front()
            };
            if let Some(pending) = pending {
                self.deliver(
                    pending.waiter,
                    result.map(|mut filed| filed.pop().flatten()),
                );
            }
        }
        self.lock().healthy = true;
        Step::Progress
    }

    fn note_outage(&self, error: &StoreError) {
        if self.lock().healthy {
            tracing::warn!(
                error = error as &dyn std::error::Error,
                "database unavailable: buffering writes"
            );
        } else {
            tracing::debug!(
                error = error as &dyn std::error::Error,
                "database still unavailable"
            );
        }
    }

    /// Opens the store when the logger was started without one.
    async fn connect(&self) -> Step {
        let Some(url) = &self.url else {
            return Step::Idle;
        };
        match Store::connect_with(url, &self.config.store_options).await {
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
                // Everything queued meets the outage: waiting callers are told.
                let failed_before = self.lock().next_seq;
                self.failed_before.send_replace(failed_before);
                Step::Failed
            }
        }
    }
}

/// The longest pause between attempts while [`ResilientLogger::close`] waits.
const CLOSING_BACKOFF: Duration = Duration::from_millis(100);

/// The writer: writes while there is something queued, backs off while the database
/// is unavailable, sleeps while there is nothing to do, and ends with the last
/// [`ResilientLogger`].
async fn write_loop(inner: Weak<Inner>, signals: Arc<Signals>) {
    let mut backoff: Option<Duration> = None;
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let step = strong.write_step().await;
        let (initial, mut max) = (strong.config.initial_backoff, strong.config.max_backoff);
        if strong.lock().closing {
            max = max.min(CLOSING_BACKOFF);
        }
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
                    () = signals.hurry.notified() => backoff = None,
                    () = signals.closed.notified() => return,
                }
            }
        }
    }
}
