//! The advisers' workflow, shared by the command line and Discord: answer a queued
//! question (the askers are told through the outbox), teach the bot from it, dismiss it.

use chrono::Utc;

use crate::app::App;
use crate::knowledge::Lang;
use crate::store::{LearnedEntry, OutboxMessage, QueueItem, QueueItemId, Store, StoreError};

/// What the adviser wants the bot to learn from an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learn {
    /// Only answer the askers.
    Nothing,
    /// Make a new knowledge entry from the question and the answer.
    NewEntry,
    /// Add the question's wordings as example questions of an existing entry.
    Phrasing(String),
}

/// Why an adviser action failed. The message is fit to show the adviser.
#[derive(Debug, thiserror::Error)]
pub enum AdviserError {
    #[error("there is no database connection right now; try again in a moment")]
    NoDatabase,
    #[error("there is no knowledge entry with id {0:?}")]
    UnknownEntry(String),
    #[error("the answer is empty")]
    EmptyAnswer,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the answer was saved, but the index could not be rebuilt: {0}")]
    Reload(#[from] crate::app::ReloadError),
}

/// The result of answering a queued question.
#[derive(Debug, Clone)]
pub struct Answered {
    pub item: QueueItem,
    /// Replies queued for the askers.
    pub outbox: Vec<OutboxMessage>,
    /// The id of the entry created or extended, if any.
    pub learned: Option<String>,
}

fn store(app: &App) -> Result<Store, AdviserError> {
    app.store().ok_or(AdviserError::NoDatabase)
}

/// An id for a new entry made from a question: `learned-<queue item>`.
pub fn learned_entry_id(item: QueueItemId) -> String {
    format!("learned-{}", item.0)
}

/// Answer a queued question, tell its askers (outbox), and learn from it.
#[tracing::instrument(level = "info", skip(app, text))]
pub async fn answer(
    app: &App,
    id: QueueItemId,
    text: &str,
    adviser: &str,
    learn: Learn,
) -> Result<Answered, AdviserError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AdviserError::EmptyAnswer);
    }
    let store = store(app)?;
    if let Learn::Phrasing(entry) = &learn {
        if app
            .answerer()
            .knowledge()
            .entries_with_id(entry)
            .next()
            .is_none()
        {
            return Err(AdviserError::UnknownEntry(entry.clone()));
        }
    }
    let outbox = store.answer_item(id, text, adviser).await?;
    let item = store.get_item(id).await?;
    let asks = store.asks_for_item(id).await?;
    let mut wordings: Vec<String> = Vec::new();
    for ask in std::iter::once(item.question.clone()).chain(asks.into_iter().map(|a| a.question)) {
        let ask = ask.trim().to_string();
        if !ask.is_empty() && !wordings.contains(&ask) {
            wordings.push(ask);
        }
    }
    let learned = match learn {
        Learn::Nothing => None,
        Learn::NewEntry => {
            let lang = Lang::parse(&item.lang).unwrap_or(Lang::Nb);
            let entry_id = learned_entry_id(id);
            let title: String = item.question.trim().chars().take(120).collect();
            store
                .save_learned_entry(&LearnedEntry {
                    id: entry_id.clone(),
                    lang: lang.code().to_string(),
                    title,
                    body: text.to_string(),
                    questions: wordings.clone(),
                    keywords: Vec::new(),
                    source_name: match lang {
                        Lang::Nb => format!("Svar fra rådgiver ({adviser})"),
                        Lang::En => format!("Answer from an adviser ({adviser})"),
                    },
                    source_url: None,
                    reviewed: Utc::now().date_naive(),
                    created_by: adviser.to_string(),
                })
                .await?;
            Some(entry_id)
        }
        Learn::Phrasing(entry) => {
            for wording in &wordings {
                store
                    .add_phrasing(&entry, &item.lang, wording, adviser)
                    .await?;
            }
            Some(entry)
        }
    };
    if learned.is_some() {
        // Answer from it at once in this process; other processes see the version bump.
        app.reload_if_changed().await;
    }
    Ok(Answered {
        item,
        outbox,
        learned,
    })
}

/// Close a queued question without an answer.
pub async fn dismiss(
    app: &App,
    id: QueueItemId,
    reason: Option<&str>,
    adviser: &str,
) -> Result<(), AdviserError> {
    store(app)?.dismiss_item(id, reason, adviser).await?;
    Ok(())
}
