//! The threads the bot opened on questions (Discord's thread mode): what a follow-up
//! in the thread is read together with, kept across restarts. The SQL is in
//! `thread_queries.rs`, compiled for both databases like the rest of the store.

use super::backend::{postgres, sqlite};
use super::{now, storable, Backend, Store, StoreError};

/// A thread the bot opened on a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredThread {
    /// The chat's id of the thread.
    pub thread_id: String,
    /// Who asked: only their messages in the thread are follow-ups.
    pub asker_id: String,
    /// The question the thread was opened on.
    pub question: String,
}

impl Store {
    /// Keeps `thread`, replacing what was kept under its id.
    pub async fn save_thread(&self, thread: &StoredThread) -> Result<(), StoreError> {
        let thread = StoredThread {
            question: storable(&thread.question),
            ..thread.clone()
        };
        dispatch!(self, save_thread(&thread, now()))
    }

    /// The thread kept under `thread_id`, if the bot opened it.
    pub async fn thread(&self, thread_id: &str) -> Result<Option<StoredThread>, StoreError> {
        dispatch!(self, get_thread(thread_id))
    }
}
