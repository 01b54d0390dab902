//! The organisers' commands, thin layers over [`crate::announce`]:
//!
//! - `/announce channel text [at]`: a private preview with *Publish* / *Cancel*; on
//!   *Publish* the announcement is stored and the scheduler posts it.
//! - `/announcements list [status]`, `/announcements edit id [text] [at]`,
//!   `/announcements cancel id`.
//! - `/events list`, `/events ics id` (everyone) and `/events add …` (organisers).
//!
//! Organiser commands carry `check = "is_organiser"` (the roles come from the
//! interaction, on the server side) and `category = "organiser"`, which makes
//! [`on_error`](super::on_error) refuse others with the organisers' wording. Input the
//! core refuses ([`AnnounceError::is_user_error`]) is answered privately with the
//! core's message, and nothing changes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use poise::serenity_prelude as serenity;
use serenity::futures::StreamExt;
use serenity::{
    ButtonStyle, ChannelType, CreateActionRow, CreateAttachment, CreateButton,
    CreateInteractionResponse, CreateInteractionResponseMessage,
};

use super::answering::send_chunks;
use super::format::{quote_block, split_message, tr, MESSAGE_LIMIT};
use super::send::no_mentions;
use super::{ctx_lang, is_organiser, Context, Data, Error};
use crate::announce::{
    self, discord_timestamp, ics, AnnounceError, AnnouncementDraft, EventDraft,
    PreparedAnnouncement,
};
use crate::knowledge::Lang;
use crate::search::detect_language;
use crate::store::{Announcement, AnnouncementId, AnnouncementStatus};

/// The category that marks a command as the organisers' (see `on_error`).
pub const CATEGORY: &str = "organiser";

/// How long the preview's buttons wait. Discord lets the bot edit its reply to a
/// command for 15 minutes; stay below that.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(14 * 60);

/// How many announcements `/announcements list` shows (the latest by time).
const LIST_LIMIT: usize = 20;

/// The organisers' commands, for registration.
pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![announce(), announcements(), events()]
}

/// Who acts, for the audit log.
fn organiser_name(ctx: Context<'_>) -> String {
    let user = ctx.author();
    format!(
        "{} (discord {})",
        user.global_name
            .clone()
            .unwrap_or_else(|| user.name.clone()),
        user.id
    )
}

async fn say_private(ctx: Context<'_>, text: impl Into<String>) -> Result<(), Error> {
    let chunks = split_message(&text.into(), MESSAGE_LIMIT);
    send_chunks(ctx, &chunks, Vec::new(), true).await
}

/// A refusal the organiser can act on (bad input, unknown id, no database) is shown
/// to them; anything else goes to `on_error`, which logs it and apologises.
async fn refuse(ctx: Context<'_>, error: AnnounceError, changes: bool) -> Result<(), Error> {
    if !(error.is_user_error() || matches!(error, AnnounceError::NoDatabase)) {
        return Err(error.into());
    }
    tracing::info!(command = %ctx.command().qualified_name, error = %error, "organiser input refused");
    let lang = ctx_lang(ctx);
    let text = if changes {
        format!(
            "{} {error}",
            tr(lang, "Ingenting er endret:", "Nothing was changed:")
        )
    } else {
        error.to_string()
    };
    say_private(ctx, text).await
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

/// "<t:…:F> (<t:…:R>)": shown in each reader's own time zone and language.
fn when(at: DateTime<Utc>) -> String {
    format!(
        "{} ({})",
        discord_timestamp(at, 'F'),
        discord_timestamp(at, 'R')
    )
}

/// The status of an announcement in words.
pub fn status_text(status: AnnouncementStatus, late: bool, lang: Lang) -> &'static str {
    match (status, late) {
        (AnnouncementStatus::Scheduled, _) => tr(lang, "planlagt", "scheduled"),
        (AnnouncementStatus::Posted, false) => tr(lang, "publisert", "posted"),
        (AnnouncementStatus::Posted, true) => tr(lang, "publisert (forsinket)", "posted (late)"),
        (AnnouncementStatus::Cancelled, _) => tr(lang, "avlyst", "cancelled"),
        (AnnouncementStatus::Skipped, _) => {
            tr(lang, "hoppet over (for sent)", "skipped (too late)")
        }
        (AnnouncementStatus::Failed, _) => tr(lang, "mislyktes", "failed"),
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
                tr(lang, "Siste feil", "Last error"),
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
    let mut text = if prepared.immediate {
        match lang {
            Lang::Nb => format!(
                "Lagret som kunngjøring {}. Den publiseres i <#{}> i løpet av noen sekunder.",
                stored.id, stored.channel_id
            ),
            Lang::En => format!(
                "Saved as announcement {}. It will be posted in <#{}> within a few seconds.",
                stored.id, stored.channel_id
            ),
        }
    } else {
        match lang {
            Lang::Nb => format!(
                "Lagret som kunngjøring {}. Den publiseres i <#{}> {}.",
                stored.id,
                stored.channel_id,
                when(stored.publish_at)
            ),
            Lang::En => format!(
                "Saved as announcement {}. It will be posted in <#{}> {}.",
                stored.id,
                stored.channel_id,
                when(stored.publish_at)
            ),
        }
    };
    if let Some(notice) = &prepared.notice {
        text.push_str(&format!("\n{notice}"));
    }
    text
}

/// The custom ids of the preview's buttons. Not `anbud:`-prefixed, so the general
/// button handler ignores them; the command that showed the preview collects them.
fn confirm_ids(interaction: u64) -> (String, String) {
    (
        format!("anbud-announce:publish:{interaction}"),
        format!("anbud-announce:cancel:{interaction}"),
    )
}

/// Post an announcement, now or at a time (organisers). Shows a private preview first.
#[poise::command(
    slash_command,
    guild_only,
    check = "is_organiser",
    category = "organiser"
)]
pub async fn announce(
    ctx: Context<'_>,
    #[description = "Where to post it"]
    #[channel_types("Text", "News")]
    channel: serenity::ChannelId,
    #[description = "The message, exactly as it will be posted (at most 2000 characters)"]
    text: String,
    #[description = "When, Norwegian time: YYYY-MM-DD HH:MM (leave out to post now)"] at: Option<
        String,
    >,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let tz = ctx.data().app.settings.timezone();
    let known = guild_text_channels(ctx);
    let actor = organiser_name(ctx);
    let draft = AnnouncementDraft {
        channel_id: channel.get(),
        text,
        at,
    };
    let prepared = match announce::prepare_announcement(&draft, &known, tz, &actor, Utc::now()) {
        Ok(prepared) => prepared,
        Err(e) => return refuse(ctx, e, true).await,
    };

    let (publish_id, cancel_id) = confirm_ids(ctx.id());
    // Listen before showing the buttons, so a fast click is never lost.
    let mut clicks = serenity::ComponentInteractionCollector::new(&ctx.serenity_context().shard)
        .author_id(ctx.author().id)
        .custom_ids(vec![publish_id.clone(), cancel_id.clone()])
        .timeout(CONFIRM_TIMEOUT)
        .stream();

    let timing = if prepared.immediate {
        tr(lang, "så snart du publiserer", "as soon as you publish").to_owned()
    } else {
        when(prepared.announcement.publish_at)
    };
    let mut intro = match lang {
        Lang::Nb => format!(
            "**Forhåndsvisning.** Kunngjøringen publiseres i <#{}> {timing}, nøyaktig slik (neste melding):",
            channel
        ),
        Lang::En => format!(
            "**Preview.** The announcement will be posted in <#{}> {timing}, exactly like this (next message):",
            channel
        ),
    };
    if let Some(notice) = &prepared.notice {
        intro.push_str(&format!("\n{notice}"));
    }
    say_private(ctx, intro).await?;
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new(publish_id.clone())
            .label(tr(lang, "Publiser", "Publish"))
            .style(ButtonStyle::Success),
        CreateButton::new(cancel_id)
            .label(tr(lang, "Avbryt", "Cancel"))
            .style(ButtonStyle::Secondary),
    ]);
    let preview = poise::CreateReply::default()
        .content(prepared.preview())
        .components(vec![buttons])
        .ephemeral(true)
        .allowed_mentions(no_mentions());
    let handle = ctx.send(preview).await?;

    let Some(click) = clicks.next().await else {
        handle
            .edit(ctx, poise::CreateReply::default().components(Vec::new()))
            .await?;
        return say_private(
            ctx,
            tr(
                lang,
                "Ingen svar på forhåndsvisningen, så ingenting er lagret. Bruk /announce igjen.",
                "No answer to the preview, so nothing was stored. Use /announce again.",
            ),
        )
        .await;
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
        return say_private(
            ctx,
            tr(
                lang,
                "Avbrutt; ingenting er lagret.",
                "Cancelled; nothing was stored.",
            ),
        )
        .await;
    }
    // Check again at the moment of publishing: the time may have passed meanwhile, and
    // "now" means the click.
    let now = Utc::now();
    let prepared = match announce::prepare_announcement(&draft, &known, tz, &actor, now) {
        Ok(prepared) => prepared,
        Err(e) => return refuse(ctx, e, true).await,
    };
    let Some(store) = ctx.data().app.store() else {
        return refuse(ctx, AnnounceError::NoDatabase, true).await;
    };
    let stored = match announce::schedule_announcement(&store, &prepared, now).await {
        Ok(stored) => stored,
        Err(e) => return refuse(ctx, e, true).await,
    };
    tracing::info!(id = %stored.id, channel = stored.channel_id, publish_at = %stored.publish_at, "announcement scheduled from Discord");
    say_private(ctx, scheduled_text(&stored, &prepared, lang)).await
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
    let lang = ctx_lang(ctx);
    let Some(store) = ctx.data().app.store() else {
        return refuse(ctx, AnnounceError::NoDatabase, false).await;
    };
    let list = store
        .list_announcements(status.map(AnnouncementStatus::from))
        .await?;
    if list.is_empty() {
        return say_private(ctx, tr(lang, "Ingen kunngjøringer.", "No announcements.")).await;
    }
    let shown = &list[list.len().saturating_sub(LIST_LIMIT)..];
    let mut text = String::new();
    if shown.len() < list.len() {
        text.push_str(&match lang {
            Lang::Nb => format!("De {} siste av {}:\n\n", shown.len(), list.len()),
            Lang::En => format!("The latest {} of {}:\n\n", shown.len(), list.len()),
        });
    }
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
    #[description = "The new message (at most 2000 characters)"] text: Option<String>,
    #[description = "The new time, Norwegian time: YYYY-MM-DD HH:MM"] at: Option<String>,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let tz = ctx.data().app.settings.timezone();
    let Some(store) = ctx.data().app.store() else {
        return refuse(ctx, AnnounceError::NoDatabase, true).await;
    };
    let id = AnnouncementId(id);
    let actor = organiser_name(ctx);
    let edited = match announce::edit_announcement(
        &store,
        id,
        text.as_deref(),
        at.as_deref(),
        tz,
        &actor,
        Utc::now(),
    )
    .await
    {
        Ok(edited) => edited,
        Err(e) => return refuse(ctx, e, true).await,
    };
    let a = &edited.announcement;
    let mut reply = match lang {
        Lang::Nb => format!(
            "Endret kunngjøring {id}. Den publiseres i <#{}> {}.",
            a.channel_id,
            when(a.publish_at)
        ),
        Lang::En => {
            format!(
                "Changed announcement {id}. It will be posted in <#{}> {}.",
                a.channel_id,
                when(a.publish_at)
            )
        }
    };
    if let Some(notice) = &edited.notice {
        reply.push_str(&format!("\n{notice}"));
    }
    reply.push_str(tr(
        lang,
        "\nSlik blir den (neste melding):",
        "\nThis is how it will look (next message):",
    ));
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
    let lang = ctx_lang(ctx);
    let Some(store) = ctx.data().app.store() else {
        return refuse(ctx, AnnounceError::NoDatabase, true).await;
    };
    let id = AnnouncementId(id);
    match announce::cancel_announcement(&store, id, &organiser_name(ctx), Utc::now()).await {
        Ok(_) => {
            say_private(
                ctx,
                format!(
                    "{} {id}.",
                    tr(lang, "Avlyste kunngjøring", "Cancelled announcement")
                ),
            )
            .await
        }
        Err(e) => refuse(ctx, e, true).await,
    }
}

/// Events: upcoming ones, calendar files; organisers add them.
#[poise::command(
    slash_command,
    subcommands("events_list", "events_ics", "events_add"),
    subcommand_required
)]
pub async fn events(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Upcoming events (conferences, dialogue meetings), soonest first.
#[poise::command(slash_command, rename = "list")]
pub async fn events_list(ctx: Context<'_>) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let tz = ctx.data().app.settings.timezone();
    let answerer = ctx.data().app.answerer();
    let upcoming = announce::upcoming_events(answerer.knowledge(), lang, tz, Utc::now());
    let mut text = announce::format::event_list(&upcoming, lang);
    if !upcoming.is_empty() {
        text.push_str(tr(
            lang,
            "\n\nKalenderfil for et arrangement: `/events ics`.",
            "\n\nCalendar file for an event: `/events ics`.",
        ));
    }
    say_private(ctx, text).await
}

/// Autocomplete choices for an event id: (label, id) of the events whose title or id
/// contains `partial`, at most 25 (Discord's limit), labels within 100 characters.
pub fn event_choices(events: &[announce::Event], partial: &str) -> Vec<(String, String)> {
    let partial = partial.trim().to_lowercase();
    events
        .iter()
        .filter(|e| {
            partial.is_empty()
                || e.title.to_lowercase().contains(&partial)
                || e.id.contains(&partial)
        })
        .take(25)
        .map(|e| {
            let label = format!("{} ({})", e.title, e.start_local.format("%Y-%m-%d"));
            let label = if label.chars().count() > 100 {
                format!("{}…", label.chars().take(99).collect::<String>())
            } else {
                label
            };
            (label, e.id.clone())
        })
        .collect()
}

async fn autocomplete_event(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let lang = ctx_lang(ctx);
    let tz = ctx.data().app.settings.timezone();
    let answerer = ctx.data().app.answerer();
    let upcoming = announce::upcoming_events(answerer.knowledge(), lang, tz, Utc::now());
    let choices = event_choices(&upcoming, partial)
        .into_iter()
        .map(|(label, id)| serenity::AutocompleteChoice::new(label, id))
        .collect();
    serenity::CreateAutocompleteResponse::new().set_choices(choices)
}

/// An event's calendar file (.ics), for Outlook, Google Calendar or Apple Calendar.
#[poise::command(slash_command, rename = "ics")]
pub async fn events_ics(
    ctx: Context<'_>,
    #[description = "The event (start typing its name), or its id such as event-3"]
    #[autocomplete = "autocomplete_event"]
    id: String,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let tz = ctx.data().app.settings.timezone();
    let answerer = ctx.data().app.answerer();
    let store = ctx.data().app.store();
    let event =
        match announce::find_event(&id, answerer.knowledge(), store.as_ref(), lang, tz).await {
            Ok(event) => event,
            Err(e) => return refuse(ctx, e, false).await,
        };
    let file = CreateAttachment::bytes(
        ics::event_ics(&event, Utc::now()).into_bytes(),
        ics::ics_filename(&event),
    );
    let text = match lang {
        Lang::Nb => {
            format!(
                "Kalenderfil for **{}**: åpne den for å legge arrangementet i kalenderen din.",
                event.title
            )
        }
        Lang::En => format!(
            "Calendar file for **{}**: open it to add the event to your calendar.",
            event.title
        ),
    };
    let reply = poise::CreateReply::default()
        .content(text)
        .attachment(file)
        .ephemeral(true)
        .allowed_mentions(no_mentions());
    ctx.send(reply).await?;
    Ok(())
}

/// Add an event (organisers). Running bots answer about it at once.
#[allow(clippy::too_many_arguments)]
#[poise::command(
    slash_command,
    rename = "add",
    guild_only,
    check = "is_organiser",
    category = "organiser"
)]
pub async fn events_add(
    ctx: Context<'_>,
    #[description = "Title"]
    #[max_length = 200]
    title: String,
    #[description = "Start, Norwegian time: YYYY-MM-DD HH:MM"] start: String,
    #[description = "End, Norwegian time: YYYY-MM-DD HH:MM"] end: String,
    #[description = "Venue (for example Thon Hotel Ski)"] venue: String,
    #[description = "Street address"] address: Option<String>,
    #[description = "Registration link (https://…)"] registration_url: Option<String>,
    #[description = "Who it is for"] audience: Option<String>,
    #[description = "What it is about"] description: Option<String>,
    #[description = "Language of the texts: nb or en (default: detected)"] lang: Option<String>,
) -> Result<(), Error> {
    let ui = ctx_lang(ctx);
    let tz = ctx.data().app.settings.timezone();
    let event_lang = lang.as_deref().and_then(Lang::parse).unwrap_or_else(|| {
        detect_language(&format!(
            "{title} {}",
            description.as_deref().unwrap_or_default()
        ))
    });
    let draft = EventDraft {
        title,
        start,
        end,
        venue,
        address,
        registration_url,
        audience,
        description,
        organiser: None,
        lang: event_lang,
    };
    let now = Utc::now();
    let prepared = match announce::prepare_event(&draft, tz, &organiser_name(ctx), now) {
        Ok(prepared) => prepared,
        Err(e) => return refuse(ctx, e, true).await,
    };
    let Some(store) = ctx.data().app.store() else {
        return refuse(ctx, AnnounceError::NoDatabase, true).await;
    };
    let stored = match announce::add_event(&store, &prepared, now).await {
        Ok(stored) => stored,
        Err(e) => return refuse(ctx, e, true).await,
    };
    // Answer about it, list it and remind of it from this bot at once.
    ctx.data().app.reload_if_changed().await;
    let key = stored.id.knowledge_id();
    let mut text = match ui {
        Lang::Nb => format!(
            "La til arrangementet `{key}`: **{}**, {}. Det vises i /events list, boten svarer om det, og påminnelser sendes før det.",
            stored.event.title,
            when(stored.event.start_at)
        ),
        Lang::En => format!(
            "Added the event `{key}`: **{}**, {}. It shows in /events list, the bot answers about it, and reminders go out before it.",
            stored.event.title,
            when(stored.event.start_at)
        ),
    };
    for notice in &prepared.notices {
        text.push_str(&format!("\n{notice}"));
    }
    say_private(ctx, text).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organiser_commands_are_marked_and_checked() {
        for command in commands() {
            let organiser_only = command.name != "events";
            assert_eq!(
                command.category.as_deref() == Some(CATEGORY),
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
                    sub.category.as_deref() == Some(CATEGORY),
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
        assert!(super::super::buttons::ButtonAction::parse(&publish).is_none());
        assert!(super::super::buttons::ButtonAction::parse(&cancel).is_none());
        assert!(publish.len() <= super::super::buttons::MAX_CUSTOM_ID);
    }

    #[test]
    fn event_choices_match_title_or_id() {
        use chrono::NaiveDate;
        let start = NaiveDate::from_ymd_opt(2027, 2, 10)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let at = DateTime::from_timestamp(1_802_246_400, 0).unwrap();
        let event = |id: &str, title: &str| announce::Event {
            id: id.into(),
            lang: Lang::Nb,
            title: title.into(),
            description: String::new(),
            start: at,
            end: at,
            start_local: start,
            end_local: start,
            venue: "Ski".into(),
            address: None,
            registration_url: None,
            organiser: None,
            audience: None,
        };
        let events = vec![
            event("event-1", "Leverandørkonferansen i Ski"),
            event("event-2", &"Dialogmøte ".repeat(20)),
        ];
        assert_eq!(
            event_choices(&events, "konferanse"),
            vec![(
                "Leverandørkonferansen i Ski (2027-02-10)".to_owned(),
                "event-1".to_owned()
            )]
        );
        assert_eq!(event_choices(&events, "event-2")[0].1, "event-2");
        assert!(event_choices(&events, "")[1].0.chars().count() <= 100);
        assert_eq!(event_choices(&events, "").len(), 2);
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
