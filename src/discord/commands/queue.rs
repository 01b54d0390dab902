//! The advisers' queue: `/unanswered`, `/answer`, `/dismiss`.

use crate::adviser::{self as core, AdviserError, Learn};
use crate::discord::commands::text_form;
use crate::discord::context::{display_name, is_adviser, texts, Context, Data, Error};
use crate::discord::format::{escape_markdown, quote_block};
use crate::discord::reply::say_private;
use crate::store::{QueueItemId, QueueStatus};

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![unanswered(), answer(), dismiss()]
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum StatusChoice {
    #[name = "open"]
    Open,
    #[name = "answered"]
    Answered,
    #[name = "dismissed"]
    Dismissed,
}

impl From<StatusChoice> for QueueStatus {
    fn from(choice: StatusChoice) -> QueueStatus {
        match choice {
            StatusChoice::Open => QueueStatus::Open,
            StatusChoice::Answered => QueueStatus::Answered,
            StatusChoice::Dismissed => QueueStatus::Dismissed,
        }
    }
}

/// How many items `/unanswered` lists.
const LIST_LIMIT: usize = 25;

/// List the questions waiting for an adviser.
#[poise::command(
    slash_command,
    check = "is_adviser",
    default_member_permissions = "MANAGE_MESSAGES"
)]
pub async fn unanswered(
    ctx: Context<'_>,
    #[description = "open (default), answered or dismissed"] status: Option<StatusChoice>,
) -> Result<(), Error> {
    // Acknowledged before any database work: Discord allows three seconds.
    ctx.defer_ephemeral().await?;
    let t = texts(ctx);
    let store = ctx.data().app.store().ok_or(AdviserError::NoDatabase)?;
    let status = status.map(QueueStatus::from).unwrap_or(QueueStatus::Open);
    let items = store.list_queue(Some(status)).await?;
    if items.is_empty() {
        return say_private(ctx, &t.no_questions).await;
    }
    let mut text = String::new();
    for item in items.iter().take(LIST_LIMIT) {
        text.push_str(&format!(
            "**{}** · {} · {}× · {} · {}: {}\n{}\n\n",
            item.id,
            item.status,
            item.count,
            item.lang,
            t.closest,
            item.best_candidate
                .as_deref()
                .map(escape_markdown)
                .unwrap_or_else(|| "–".into()),
            quote_block(&item.question, 300),
        ));
    }
    if items.len() > LIST_LIMIT {
        text.push_str(&t.more_items.fill(&[("count", &(items.len() - LIST_LIMIT))]));
    }
    say_private(ctx, text).await
}

/// Answer a queued question; the askers get the answer where they asked.
#[poise::command(
    slash_command,
    check = "is_adviser",
    default_member_permissions = "MANAGE_MESSAGES"
)]
pub async fn answer(
    ctx: Context<'_>,
    #[description = "The queue item's number"] id: i64,
    #[description = "Your answer (leave out for a form with room for several lines)"]
    #[max_length = 1800]
    text: Option<String>,
    #[description = "Make a new knowledge entry from the question and this answer"]
    save_entry: Option<bool>,
    #[description = "Or: add the question as a wording of this existing entry id"] entry: Option<
        String,
    >,
) -> Result<(), Error> {
    let t = texts(ctx);
    let (save, entry) = match (save_entry.unwrap_or(false), entry) {
        (true, Some(_)) => return say_private(ctx, &t.save_entry_or_entry).await,
        other => other,
    };
    // Discord's command options cannot hold line breaks: without `text`, a form can.
    let text = match text {
        Some(text) => text,
        None => match text_form(ctx).await? {
            Some(text) => text,
            None => return Ok(()),
        },
    };
    ctx.defer_ephemeral().await?;
    // The askers' wordings, cleaned of mentions, links and control characters. Not yet
    // shown for review here: the answer form should show this proposal (issue 18.2).
    let learn = match (save, entry) {
        (false, None) => Learn::Nothing,
        (save, entry) => {
            let proposal = core::proposal(&ctx.data().app, QueueItemId(id)).await?;
            match entry {
                Some(entry) if !save => Learn::Phrasing {
                    entry: entry.trim().to_string(),
                    questions: proposal.questions,
                },
                _ => Learn::NewEntry(proposal.accepted()),
            }
        }
    };
    let done = core::answer(
        &ctx.data().app,
        QueueItemId(id),
        &text,
        &display_name(ctx),
        learn,
    )
    .await?;
    let mut reply = t
        .answered
        .fill(&[("item", &done.item.id), ("askers", &done.outbox.len())]);
    if let Some(entry) = done.learned {
        reply.push_str(&t.now_answers_from.fill(&[("entry", &entry)]));
    }
    say_private(ctx, reply).await
}

/// Close a queued question without an answer.
#[poise::command(
    slash_command,
    check = "is_adviser",
    default_member_permissions = "MANAGE_MESSAGES"
)]
pub async fn dismiss(
    ctx: Context<'_>,
    #[description = "The queue item's number"] id: i64,
    #[description = "Why (for the audit log)"] reason: Option<String>,
) -> Result<(), Error> {
    // Acknowledged before any database work: Discord allows three seconds.
    ctx.defer_ephemeral().await?;
    core::dismiss(
        &ctx.data().app,
        QueueItemId(id),
        reason.as_deref(),
        &display_name(ctx),
    )
    .await?;
    say_private(
        ctx,
        texts(ctx).dismissed.fill(&[("item", &QueueItemId(id))]),
    )
    .await
}
