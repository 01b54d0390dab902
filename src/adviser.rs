//! The advisers' workflow, shared by the command line and Discord: answer a queued
//! question (the askers are told through the outbox), teach the bot from it, dismiss it.

use chrono::Utc;

use crate::app::App;
use crate::knowledge::Lang;
use crate::store::taught;
use crate::store::{LearnedEntry, OutboxMessage, QueueItem, QueueItemId, Store, StoreError};

/// What the adviser wants the bot to learn from an answer. Wordings taken from the askers
/// are the ones the adviser reviewed (start from [`proposal`]), never their text copied
/// unseen: a question may hold a name, an e-mail address or a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Learn {
    /// Only answer the askers.
    Nothing,
    /// Make a new knowledge entry `learned-ID` from the answer, with this title and these
    /// example questions.
    NewEntry(EntryDraft),
    /// Add these wordings as example questions of an existing entry.
    Phrasing {
        /// The entry's id.
        entry: String,
        /// The reviewed wordings.
        questions: Vec<String>,
    },
}

/// A new entry's parts that come from the askers, as the adviser reviewed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryDraft {
    /// The entry's title.
    pub title: String,
    /// Its example questions.
    pub questions: Vec<String>,
    /// The public page the answer rests on, if there is one (`https://…`).
    pub source_url: Option<String>,
}

/// What teaching the bot from a queue item would take from its askers, for the adviser to
/// review before anything is saved: a title and the distinct wordings, each cleaned of
/// mentions, links and control characters (see [`taught::wording`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub title: String,
    pub questions: Vec<String>,
}

impl Proposal {
    /// The proposal as it is, for a caller that has shown it to the adviser and got it
    /// back unchanged.
    pub fn accepted(self) -> EntryDraft {
        EntryDraft {
            title: self.title,
            questions: self.questions,
            source_url: None,
        }
    }
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
    #[error("the new entry needs a title")]
    EmptyTitle,
    #[error("give at least one example question for the bot to learn")]
    NoQuestions,
    #[error("the source must be a web address starting with https:// or http://")]
    BadSourceUrl,
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

/// Whether an entry id is one [`learned_entry_id`] gives: an entry made from a question,
/// whose title and questions may be askers' words (reviewed, but still users' text).
pub fn is_taught_from_a_question(id: &str) -> bool {
    id.strip_prefix("learned-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The title and wordings teaching the bot from item `id` would take from its askers,
/// for the adviser to review (and edit) first.
pub async fn proposal(app: &App, id: QueueItemId) -> Result<Proposal, AdviserError> {
    let store = store(app)?;
    let item = store.get_item(id).await?;
    let asks = store.asks_for_item(id).await?;
    let mut questions: Vec<String> = Vec::new();
    let mut keys = std::collections::BTreeSet::new();
    for ask in
        std::iter::once(item.question.as_str()).chain(asks.iter().map(|a| a.question.as_str()))
    {
        let wording = taught::wording(ask);
        if !wording.is_empty() && keys.insert(crate::store::group_key(&wording)) {
            questions.push(wording);
        }
    }
    Ok(Proposal {
        title: taught::proposed_title(&item.question),
        questions,
    })
}

/// The reviewed wordings, trimmed, without empty ones or repeats.
fn reviewed(questions: &[String]) -> Result<Vec<String>, AdviserError> {
    let mut out: Vec<String> = Vec::new();
    for q in questions {
        let q = taught::wording(q);
        if !q.is_empty() && !out.contains(&q) {
            out.push(q);
        }
    }
    if out.is_empty() {
        return Err(AdviserError::NoQuestions);
    }
    Ok(out)
}

/// Answer a queued question, tell its askers (outbox), and learn from it.
#[tracing::instrument(level = "info", skip(app, text, learn))]
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
    // Check everything before the askers are told, so a mistake changes nothing.
    let learn = match learn {
        Learn::Nothing => Learn::Nothing,
        Learn::NewEntry(draft) => {
            let title = taught::wording(&draft.title);
            if title.is_empty() {
                return Err(AdviserError::EmptyTitle);
            }
            let source_url = draft
                .source_url
                .map(|url| url.trim().to_string())
                .filter(|url| !url.is_empty());
            if source_url
                .as_deref()
                .is_some_and(|url| !(url.starts_with("https://") || url.starts_with("http://")))
            {
                return Err(AdviserError::BadSourceUrl);
            }
            Learn::NewEntry(EntryDraft {
                title,
                questions: reviewed(&draft.questions)?,
                source_url,
            })
        }
        Learn::Phrasing { entry, questions } => {
            if app
                .answerer()
                .knowledge()
                .entries_with_id(&entry)
                .next()
                .is_none()
            {
                return Err(AdviserError::UnknownEntry(entry));
            }
            Learn::Phrasing {
                entry,
                questions: reviewed(&questions)?,
            }
        }
    };
    let outbox = store.answer_item(id, text, adviser).await?;
    let item = store.get_item(id).await?;
    let learned = match learn {
        Learn::Nothing => None,
        Learn::NewEntry(draft) => {
            let lang = item.lang;
            let entry_id = learned_entry_id(id);
            store
                .save_entry_taught_from(
                    &LearnedEntry {
                        id: entry_id.clone(),
                        lang,
                        title: draft.title,
                        body: text.to_string(),
                        questions: draft.questions,
                        keywords: Vec::new(),
                        source_name: match lang {
                            Lang::Nb => format!("Svar fra rådgiver ({adviser})"),
                            Lang::En => format!("Answer from an adviser ({adviser})"),
                        },
                        source_url: draft.source_url,
                        reviewed: Utc::now().date_naive(),
                        created_by: adviser.to_string(),
                    },
                    id,
                )
                .await?;
            Some(entry_id)
        }
        Learn::Phrasing { entry, questions } => {
            for wording in &questions {
                store
                    .add_phrasing_from(&entry, item.lang, wording, adviser, id)
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
