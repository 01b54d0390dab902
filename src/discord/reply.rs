//! How the bot answers an interaction: private notes, replies in parts, the buttons
//! under an answer, and the one place where an error becomes a reply ([`on_error`]).
//!
//! Commands return their errors; [`CommandError::user_text`] decides what the user may
//! read (their own mistake, an unknown id, the database being away) and everything else
//! is logged with its whole cause chain and answered with an apology. Internal error
//! text never reaches a user.

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, CreateActionRow, CreateButton, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, MessageId,
    ModalInteraction,
};

use super::buttons::{ButtonAction, ButtonKey};
use super::context::{ctx_lang, Context, Data, ORGANISER_CATEGORY};
use super::format::{split_message, Rendered, MESSAGE_LIMIT};
use super::send::no_mentions;
use super::texts::Texts;
use crate::adviser::AdviserError;
use crate::announce::AnnounceError;
use crate::store::StoreError;

/// Why a command or event handler failed. [`on_error`] logs it and tells the user what
/// [`CommandError::user_text`] allows.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("Discord request failed")]
    Discord(#[from] serenity::Error),
    #[error("adviser action failed")]
    Adviser(#[from] AdviserError),
    #[error("store failed")]
    Store(#[from] StoreError),
    #[error("announcement or event action failed")]
    Announce(#[from] AnnounceError),
    /// An organiser's change that was refused: nothing was stored or changed.
    #[error("change refused")]
    Unchanged(#[source] AnnounceError),
    #[error("{0}")]
    Unexpected(String),
}

impl CommandError {
    /// An organiser's change refused (the reply starts "Nothing was changed:").
    pub fn unchanged(error: AnnounceError) -> CommandError {
        CommandError::Unchanged(error)
    }

    /// What the user may read about this error, in their language; `None` when it is
    /// ours to fix (then they get an apology and the log gets the cause).
    pub fn user_text(&self, t: &Texts) -> Option<String> {
        match self {
            CommandError::Adviser(e) => match e {
                AdviserError::NoDatabase => Some(t.database_unavailable.clone()),
                AdviserError::UnknownEntry(_)
                | AdviserError::EmptyAnswer
                | AdviserError::EmptyTitle
                | AdviserError::NoQuestions
                | AdviserError::BadSourceUrl => Some(e.to_string()),
                AdviserError::Store(store) => store_text(store, t),
                AdviserError::Reload(_) => None,
            },
            CommandError::Store(e) => store_text(e, t),
            CommandError::Announce(e) => announce_text(e, t),
            CommandError::Unchanged(e) => {
                announce_text(e, t).map(|text| format!("{} {text}", t.nothing_changed))
            }
            CommandError::Discord(_) | CommandError::Unexpected(_) => None,
        }
    }
}

fn store_text(error: &StoreError, t: &Texts) -> Option<String> {
    match error {
        e if e.is_unavailable() => Some(t.database_unavailable.clone()),
        StoreError::NotFound { .. }
        | StoreError::InvalidState { .. }
        | StoreError::AnnouncementNotScheduled { .. }
        | StoreError::AnnouncementBeingPosted { .. } => Some(error.to_string()),
        _ => None,
    }
}

fn announce_text(error: &AnnounceError, t: &Texts) -> Option<String> {
    match error {
        AnnounceError::NoDatabase => Some(t.database_unavailable.clone()),
        AnnounceError::Store(store) => store_text(store, t),
        e if e.is_user_error() => Some(e.to_string()),
        _ => None,
    }
}

/// The whole cause chain of an error, for the log.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Reply to a command in parts, with the buttons on the last part. A command that got a
/// form back replies on the form's submission (see [`BotState::answer_on_form`]).
///
/// [`BotState::answer_on_form`]: super::context::BotState::answer_on_form
pub async fn send_chunks(
    ctx: Context<'_>,
    chunks: &[String],
    components: Vec<CreateActionRow>,
    ephemeral: bool,
) -> Result<(), CommandError> {
    let last = chunks.len().saturating_sub(1);
    if let Some(submit) = ctx.data().state.form_of(ctx.id()) {
        for (i, chunk) in chunks.iter().enumerate() {
            let rows = if i == last {
                components.clone()
            } else {
                Vec::new()
            };
            submit
                .create_followup(ctx.http(), followup(chunk, rows, ephemeral))
                .await?;
        }
        return Ok(());
    }
    for (i, chunk) in chunks.iter().enumerate() {
        let mut reply = poise::CreateReply::default()
            .content(chunk.clone())
            .ephemeral(ephemeral)
            .allowed_mentions(no_mentions());
        if i == last && !components.is_empty() {
            reply = reply.components(components.clone());
        }
        ctx.send(reply).await?;
    }
    Ok(())
}

/// A follow-up message with mentions off.
fn followup(
    text: &str,
    components: Vec<CreateActionRow>,
    ephemeral: bool,
) -> CreateInteractionResponseFollowup {
    CreateInteractionResponseFollowup::new()
        .content(text)
        .ephemeral(ephemeral)
        .allowed_mentions(no_mentions())
        .components(components)
}

/// A private message with buttons that the command takes away later (a preview).
pub enum PrivateMessage<'a> {
    /// Sent on the command's own interaction.
    Command(poise::ReplyHandle<'a>),
    /// Sent on the form the command opened (see [`send_chunks`]).
    Form {
        submit: Box<ModalInteraction>,
        message: MessageId,
    },
}

impl PrivateMessage<'_> {
    /// Send `text` with `components`, privately, where the command replies.
    pub async fn send<'a>(
        ctx: Context<'a>,
        text: String,
        components: Vec<CreateActionRow>,
    ) -> Result<PrivateMessage<'a>, CommandError> {
        if let Some(submit) = ctx.data().state.form_of(ctx.id()) {
            let sent = submit
                .create_followup(ctx.http(), followup(&text, components, true))
                .await?;
            return Ok(PrivateMessage::Form {
                submit: Box::new(submit),
                message: sent.id,
            });
        }
        let reply = poise::CreateReply::default()
            .content(text)
            .components(components)
            .ephemeral(true)
            .allowed_mentions(no_mentions());
        Ok(PrivateMessage::Command(ctx.send(reply).await?))
    }

    /// Take the message's buttons away.
    pub async fn remove_buttons(&self, ctx: Context<'_>) -> Result<(), CommandError> {
        match self {
            PrivateMessage::Command(handle) => {
                handle
                    .edit(ctx, poise::CreateReply::default().components(Vec::new()))
                    .await?
            }
            PrivateMessage::Form { submit, message } => {
                let edit = CreateInteractionResponseFollowup::new().components(Vec::new());
                submit.edit_followup(ctx.http(), *message, edit).await?;
            }
        }
        Ok(())
    }
}

/// A reply only the invoker sees, split when long.
pub async fn say_private(ctx: Context<'_>, text: impl Into<String>) -> Result<(), CommandError> {
    let chunks = split_message(&text.into(), MESSAGE_LIMIT);
    send_chunks(ctx, &chunks, Vec::new(), true).await
}

/// An ephemeral answer to a button click.
pub fn private_response(
    text: impl Into<String>,
    components: Vec<CreateActionRow>,
) -> CreateInteractionResponse {
    let mut message = CreateInteractionResponseMessage::new()
        .content(text)
        .ephemeral(true)
        .allowed_mentions(no_mentions());
    if !components.is_empty() {
        message = message.components(components);
    }
    CreateInteractionResponse::Message(message)
}

/// The buttons under an answer: feedback (and share, for a private answer), then up to
/// three topics.
pub fn answer_components(rendered: &Rendered, key: ButtonKey, share: bool) -> Vec<CreateActionRow> {
    let lang = rendered.lang;
    let t = Texts::get(lang);
    let mut rows = Vec::new();
    let mut first = Vec::new();
    if let Some(entry_id) = &rendered.entry_id {
        let feedback = |helpful: bool| {
            ButtonAction::Feedback {
                helpful,
                lang,
                key,
                entry_id: entry_id.clone(),
            }
            .custom_id()
        };
        if let (Some(yes), Some(no)) = (feedback(true), feedback(false)) {
            first.push(
                CreateButton::new(yes)
                    .label(&t.helpful)
                    .style(ButtonStyle::Success),
            );
            first.push(
                CreateButton::new(no)
                    .label(&t.not_helpful)
                    .style(ButtonStyle::Danger),
            );
        }
        let share_id = ButtonAction::Share {
            lang,
            entry_id: entry_id.clone(),
        }
        .custom_id();
        let more_id = ButtonAction::More {
            lang,
            entry_id: entry_id.clone(),
        }
        .custom_id();
        if let Some(id) = more_id.filter(|_| rendered.more) {
            first.push(
                CreateButton::new(id)
                    .label(crate::answer::Texts::get(lang).more)
                    .style(ButtonStyle::Secondary),
            );
        }
        if let Some(id) = share_id.filter(|_| share) {
            first.push(
                CreateButton::new(id)
                    .label(&t.share)
                    .style(ButtonStyle::Primary),
            );
        }
    }
    if !first.is_empty() {
        rows.push(CreateActionRow::Buttons(first));
    }
    let topics: Vec<CreateButton> = rendered
        .topics
        .iter()
        .filter_map(|topic| {
            let id = ButtonAction::Topic {
                lang,
                entry_id: topic.id.clone(),
            }
            .custom_id()?;
            let label: String = topic.label.chars().take(80).collect();
            Some(
                CreateButton::new(id)
                    .label(label)
                    .style(ButtonStyle::Secondary),
            )
        })
        .collect();
    if !topics.is_empty() {
        rows.push(CreateActionRow::Buttons(topics));
    }
    rows
}

/// The one place errors become replies: logged in full, answered kindly (ephemeral, in
/// the user's language), never with internal text.
pub async fn on_error(error: poise::FrameworkError<'_, Data, CommandError>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            let command = &ctx.command().qualified_name;
            let t = Texts::get(ctx_lang(ctx));
            let text = match error.user_text(t) {
                Some(text) => {
                    tracing::info!(%command, user = %ctx.author().id, error = %cause_chain(&error), "refused");
                    text
                }
                None => {
                    tracing::error!(%command, user = %ctx.author().id, error = %cause_chain(&error), "command failed");
                    t.sorry.clone()
                }
            };
            tell(ctx, text).await;
        }
        poise::FrameworkError::CommandCheckFailed { error, ctx, .. } => {
            let command = &ctx.command().qualified_name;
            if let Some(error) = &error {
                tracing::error!(%command, error = %cause_chain(error), "permission check failed");
            }
            tracing::warn!(%command, user = %ctx.author().id, "refused: the user lacks the role for this command");
            let t = Texts::get(ctx_lang(ctx));
            let text = if ctx.command().category.as_deref() == Some(ORGANISER_CATEGORY) {
                &t.organisers_only
            } else {
                &t.advisers_only
            };
            tell(ctx, text).await;
        }
        poise::FrameworkError::EventHandler { error, event, .. } => {
            tracing::error!(event = %event.snake_case_name(), error = %cause_chain(&error), "event handler failed");
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!(error = %e, "error while handling an error");
            }
        }
    }
}

/// Tell the invoker something privately, logging (not failing) when even that fails.
async fn tell(ctx: Context<'_>, text: impl Into<String>) {
    if let Err(e) = say_private(ctx, text).await {
        tracing::warn!(error = %cause_chain(&e), "could not tell the user why their command failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_read_their_own_mistakes_and_never_internal_text() {
        let t = Texts::get(crate::knowledge::Lang::Nb);
        let bad_time = AnnounceError::BadTime {
            text: "i morgen".into(),
        };
        assert!(CommandError::Announce(bad_time)
            .user_text(t)
            .is_some_and(|s| s.contains("i morgen")));
        let unchanged = CommandError::unchanged(AnnounceError::EmptyText);
        assert_eq!(
            unchanged.user_text(t).as_deref(),
            Some("Ingenting er endret: the text is empty")
        );
        assert_eq!(
            CommandError::Adviser(AdviserError::NoDatabase).user_text(t),
            Some(t.database_unavailable.clone())
        );
        assert_eq!(
            CommandError::Unexpected("secret internals".into()).user_text(t),
            None
        );
    }
}
