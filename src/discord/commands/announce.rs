//! The organisers' announcements, thin layers over [`crate::announce`]:
//!
//! - `/announce channel text [at]`: a private preview with *Publish* / *Cancel*; on
//!   *Publish* the announcement is stored and the scheduler posts it.
//! - `/announcements list [status]`, `/announcements edit id [text] [at]`,
//!   `/announcements cancel id`.
//!
//! Input the core refuses is answered privately with the core's message (through
//! [`on_error`](crate::discord::reply::on_error)), and nothing changes.

use std::time::Duration;

use chrono::Utc;
use poise::serenity_prelude as serenity;
use serenity::futures::StreamExt;
use serenity::{
    ButtonStyle, ChannelType, CreateActionRow, CreateButton, CreateInteractionResponse,
    CreateInteractionResponseMessage,
};

use crate::announce::{
    self, discord_timestamp, AnnounceError, AnnouncementDraft, PreparedAnnouncement,
};
use crate::discord::commands::text_form;
use crate::discord::context::{actor, ctx_lang, is_organiser, texts, Context, Data, Error};
use crate::discord::format::{quote_block, when};
use crate::discord::reply::{say_private, CommandError, PrivateMessage};
use crate::discord::send::no_mentions;
use crate::discord::texts::Texts;
use crate::knowledge::Lang;
use crate::store::{Announcement, AnnouncementId, AnnouncementStatus};

/// How long the preview's buttons wait. Discord lets the bot edit its reply to a
/// command for 15 minutes; stay below that.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(14 * 60);

/// How many announcements `/announcements list` shows (the latest by time).
const LIST_LIMIT: usize = 20;

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![announce(), announcements()]
}

/// The text channels of the invoking guild, from the cache. Empty (no check) when the
/// guild is not cached, which Discord's channel picker makes harmless.
fn guild_text_channels(ctx: Context<'_>) -> Vec<u64> {
    match ctx.guild() {
        Some(guild) => guild
            .channels
            .values()
            .filter(|c| matches!(c.kind, ChannelType::Text | ChannelType::News))
            .map(|c| c.id.get())
            .collect(),
        None => {
            tracing::warn!(
                "the guild is not in the cache; the announcement channel is not checked"
            );
            Vec::new()
        }
    }
}

/// The status of an announcement in words.
pub fn status_text(status: AnnouncementStatus, late: bool, lang: Lang) -> &'static str {
    let t = Texts::get(lang);
    match (status, late) {
        (AnnouncementStatus::Scheduled, _) => &t.scheduled,
        (AnnouncementStatus::Posted, false) => &t.posted,
        (AnnouncementStatus::Posted, true) => &t.posted_late,
        (AnnouncementStatus::Cancelled, _) => &t.cancelled,
        (AnnouncementStatus::Skipped, _) => &t.skipped,
        (AnnouncementStatus::Failed, _) => &t.failed,
    }
}

/// One announcement in `/announcements list`: id, status, time, channel, the start
/// of its text.
pub fn describe(a: &Announcement, lang: Lang) -> String {
    let mut line = format!(
        "**{}** · {} · {} · <#{}>\n{}",
        a.id,
        status_text(a.status, a.late, lang),
        discord_timestamp(a.publish_at, 'f'),
        a.channel_id,
        quote_block(&a.text, 150)
    );
    if a.status != AnnouncementStatus::Posted {
        if let Some(error) = &a.last_error {
            let error: String = error.chars().take(200).collect();
            line.push_str(&format!(
                "\n{} ({}×): {}",
                Texts::get(lang).last_error,
                a.attempts,
                error
            ));
        }
    }
    line
}

/// What the organiser is told once an announcement is stored.
pub fn scheduled_text(
    stored: &Announcement,
    prepared: &PreparedAnnouncement,
    lang: Lang,
) -> String {
    let t = Texts::get(lang);
    let mut text = if prepared.immediate {
        t.saved_soon
            .fill(&[("id", &stored.id), ("channel", &stored.channel_id)])
    } else {
        t.saved_at.fill(&[
            ("id", &stored.id),
            ("channel", &stored.channel_id),
            ("when", &when(stored.publish_at)),
        ])
    };
    if let Some(notice) = &prepared.notice {
        text.push_str(&format!("\n{notice}"));
    }
    text
}

/// The custom ids of the preview's buttons: the command that showed the preview collects
/// them (the general button handler leaves them alone while it does, and calls them
/// expired after).
fn confirm_ids(interaction: u64) -> (String, String) {
    (
        format!("anbud-announce:publish:{interaction}"),
        format!("anbud-announce:cancel:{interaction}"),
    )
}

/// `text` as given, else what the organiser writes in the text form (`None`: closed).
async fn text_or_form(ctx: Context<'_>, text: Option<String>) -> Result<Option<String>, Error> {
    match text {
        Some(text) => Ok(Some(text)),
        None => text_form(ctx).await,
    }
}

/// Post an announcement, now or at a time (organisers). Shows a private preview first.
#[poise::command(
    slash_command,
    guild_only,
    check = "is_organiser",
    default_member_permissions = "MANAGE_EVENTS",
    category = "organiser"
)]
pub async fn announce(
    ctx: Context<'_>,
    #[description = "Where to post it"]
    #[channel_types("Text", "News")]
    channel: serenity::ChannelId,
    #[description = "The message, exactly as it will be posted (leave out for a form with several lines)"]
    text: Option<String>,
    #[description = "When, Norwegian time: YYYY-MM-DD HH:MM (leave out to post now)"] at: Option<
        String,
    >,
) -> Result<(), Error> {
    let Some(text) = text_or_form(ctx, text).await? else {
        return Ok(());
    };
    let t = texts(ctx);
    let tz = ctx.data().app.settings.timezone();
    let known = guild_text_channels(ctx);
    let actor = actor(ctx);
    let draft = AnnouncementDraft {
        channel_id: channel.get(),
        text,
        at,
    };
    let prepared = announce::prepare_announcement(&draft, &known, tz, &actor, Utc::now())
        .map_err(CommandError::unchanged)?;

    let (publish_id, cancel_id) = confirm_ids(ctx.id());
    // Listen before showing the buttons, so a fast click is never lost.
    let mut clicks = serenity::ComponentInteractionCollector::new(&ctx.serenity_context().shard)
        .author_id(ctx.author().id)
        .custom_ids(vec![publish_id.clone(), cancel_id.clone()])
        .timeout(CONFIRM_TIMEOUT)
        .stream();
    // The general button handler leaves these clicks to the collector while it listens.
    let _collecting = ctx
        .data()
        .state
        .collecting(&[publish_id.clone(), cancel_id.clone()]);

    let timing = if prepared.immediate {
        t.on_publish.clone()
    } else {
        when(prepared.announcement.publish_at)
    };
    let mut intro = t
        .preview_intro
        .fill(&[("channel", &channel.get()), ("timing", &timing)]);
    if let Some(notice) = &prepared.notice {
        intro.push_str(&format!("\n{notice}"));
    }
    say_private(ctx, intro).await?;
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new(publish_id.clone())
            .label(&t.publish)
            .style(ButtonStyle::Success),
        CreateButton::new(cancel_id)
            .label(&t.cancel)
            .style(ButtonStyle::Secondary),
    ]);
    let preview = PrivateMessage::send(ctx, prepared.preview(), vec![buttons]).await?;

    let Some(click) = clicks.next().await else {
        preview.remove_buttons(ctx).await?;
        return say_private(ctx, &t.preview_unanswered).await;
    };
    // Keep the preview, take the buttons away: each preview is published at most once.
    let buttons_off = CreateInteractionResponse::UpdateMessage(
        CreateInteractionResponseMessage::new()
            .components(Vec::new())
            .allowed_mentions(no_mentions()),
    );
    click
        .create_response(ctx.serenity_context(), buttons_off)
        .await?;
    if click.data.custom_id != publish_id {
        return say_private(ctx, &t.preview_cancelled).await;
    }
    // Check again at the moment of publishing: the time may have passed meanwhile, and
    // "now" means the click.
    let now = Utc::now();
    let prepared = announce::prepare_announcement(&draft, &known, tz, &actor, now)
        .map_err(CommandError::unchanged)?;
    let store = ctx.data().app.store().ok_or_else(no_database)?;
    let stored = announce::schedule_announcement(&store, &prepared, now)
        .await
        .map_err(CommandError::unchanged)?;
    tracing::info!(id = %stored.id, channel = stored.channel_id, publish_at = %stored.publish_at, "announcement scheduled from Discord");
    say_private(ctx, scheduled_text(&stored, &prepared, ctx_lang(ctx))).await
}

/// "Nothing was changed: the database is not answering."
pub(super) fn no_database() -> CommandError {
    CommandError::unchanged(AnnounceError::NoDatabase)
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum StatusChoice {
    #[name = "scheduled"]
    Scheduled,
    #[name = "posted"]
    Posted,
    #[name = "cancelled"]
    Cancelled,
    #[name = "skipped"]
    Skipped,
    #[name = "failed"]
    Failed,
}

impl From<StatusChoice> for AnnouncementStatus {
    fn from(choice: StatusChoice) -> AnnouncementStatus {
        match choice {
            StatusChoice::Scheduled => AnnouncementStatus::Scheduled,
            StatusChoice::Posted => AnnouncementStatus::Posted,
            StatusChoice::Cancelled => AnnouncementStatus::Cancelled,
            StatusChoice::Skipped => AnnouncementStatus::Skipped,
            StatusChoice::Failed => AnnouncementStatus::Failed,
        }
    }
}

/// Announcements: list, edit, cancel (organisers).
#[poise::command(
    slash_command,
    guild_only,
    check = "is_organiser",
    default_member_permissions = "MANAGE_EVENTS",
    category = "organiser",
    subcommands("announcements_list", "announcements_edit", "announcements_cancel"),
    subcommand_required
)]
pub async fn announcements(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// List announcements with their ids, status and times.
#[poise::command(
    slash_command,
    rename = "list",
    check = "is_organiser",
    category = "organiser"
)]
pub async fn announcements_list(
    ctx: Context<'_>,
    #[description = "Only this status (default: all)"] status: Option<StatusChoice>,
) -> Result<(), Error> {
    // Acknowledged before any database work: Discord allows three seconds.
    ctx.defer_ephemeral().await?;
    let t = texts(ctx);
    let store = ctx.data().app.store().ok_or(AnnounceError::NoDatabase)?;
    let list = store
        .list_announcements(status.map(AnnouncementStatus::from))
        .await?;
    if list.is_empty() {
        return say_private(ctx, &t.no_announcements).await;
    }
    let shown = &list[list.len().saturating_sub(LIST_LIMIT)..];
    let mut text = String::new();
    if shown.len() < list.len() {
        text.push_str(
            &t.latest_of
                .fill(&[("shown", &shown.len()), ("total", &list.len())]),
        );
    }
    let lang = ctx_lang(ctx);
    let items: Vec<String> = shown.iter().map(|a| describe(a, lang)).collect();
    text.push_str(&items.join("\n\n"));
    say_private(ctx, text).await
}

/// Change the text and/or the time of a scheduled announcement.
#[poise::command(
    slash_command,
    rename = "edit",
    check = "is_organiser",
    category = "organiser"
)]
pub async fn announcements_edit(
    ctx: Context<'_>,
    #[description = "The announcement's number"]
    #[min = 1]
    id: i64,
    #[description = "The new message (leave out text and time for a form with several lines)"]
    text: Option<String>,
    #[description = "The new time, Norwegian time: YYYY-MM-DD HH:MM"] at: Option<String>,
) -> Result<(), Error> {
    let text = match (text, &at) {
        (None, None) => match text_or_form(ctx, None).await? {
            Some(text) => Some(text),
            None => return Ok(()),
        },
        (text, _) => text,
    };
    // Acknowledged before any database work: Discord allows three seconds.
    ctx.defer_ephemeral().await?;
    let t = texts(ctx);
    let tz = ctx.data().app.settings.timezone();
    let store = ctx.data().app.store().ok_or_else(no_database)?;
    let id = AnnouncementId(id);
    let edited = announce::edit_announcement(
        &store,
        id,
        text.as_deref(),
        at.as_deref(),
        tz,
        &actor(ctx),
        Utc::now(),
    )
    .await
    .map_err(CommandError::unchanged)?;
    let a = &edited.announcement;
    let mut reply = t.changed_announcement.fill(&[
        ("id", &id),
        ("channel", &a.channel_id),
        ("when", &when(a.publish_at)),
    ]);
    if let Some(notice) = &edited.notice {
        reply.push_str(&format!("\n{notice}"));
    }
    reply.push_str(&t.how_it_will_look);
    say_private(ctx, reply).await?;
    say_private(ctx, announce::preview(&a.text)).await
}

/// Cancel a scheduled announcement.
#[poise::command(
    slash_command,
    rename = "cancel",
    check = "is_organiser",
    category = "organiser"
)]
pub async fn announcements_cancel(
    ctx: Context<'_>,
    #[description = "The announcement's number"]
    #[min = 1]
    id: i64,
) -> Result<(), Error> {
    // Acknowledged before any database work: Discord allows three seconds.
    ctx.defer_ephemeral().await?;
    let store = ctx.data().app.store().ok_or_else(no_database)?;
    let id = AnnouncementId(id);
    announce::cancel_announcement(&store, id, &actor(ctx), Utc::now())
        .await
        .map_err(CommandError::unchanged)?;
    say_private(ctx, texts(ctx).cancelled_announcement.fill(&[("id", &id)])).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::buttons::{ButtonAction, MAX_CUSTOM_ID};
    use crate::discord::context::ORGANISER_CATEGORY;

    #[test]
    fn organiser_commands_are_marked_and_checked() {
        for command in commands()
            .into_iter()
            .chain(super::super::events::commands())
        {
            let organiser_only = command.name != "events";
            assert_eq!(
                command.category.as_deref() == Some(ORGANISER_CATEGORY),
                organiser_only,
                "{}",
                command.name
            );
            assert_eq!(
                !command.checks.is_empty(),
                organiser_only,
                "{}",
                command.name
            );
            for sub in &command.subcommands {
                let organiser_only = organiser_only || sub.name == "add";
                assert_eq!(
                    !sub.checks.is_empty(),
                    organiser_only,
                    "{} {}",
                    command.name,
                    sub.name
                );
                assert_eq!(
                    sub.category.as_deref() == Some(ORGANISER_CATEGORY),
                    organiser_only,
                    "{} {}",
                    command.name,
                    sub.name
                );
            }
        }
    }

    #[test]
    fn confirm_ids_are_not_the_general_buttons() {
        let (publish, cancel) = confirm_ids(42);
        assert!(ButtonAction::parse(&publish).is_none());
        assert!(ButtonAction::parse(&cancel).is_none());
        assert!(publish.len() <= MAX_CUSTOM_ID);
    }

    #[test]
    fn statuses_read_in_both_languages() {
        assert_eq!(
            status_text(AnnouncementStatus::Posted, true, Lang::Nb),
            "publisert (forsinket)"
        );
        assert_eq!(
            status_text(AnnouncementStatus::Skipped, false, Lang::En),
            "skipped (too late)"
        );
    }
}
