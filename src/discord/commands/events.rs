//! `/events list`, `/events ics id` (everyone) and `/events add …` (organisers).

use chrono::Utc;
use poise::serenity_prelude as serenity;
use serenity::CreateAttachment;

use super::announce::no_database;
use crate::announce::{self, ics, EventDraft};
use crate::discord::context::{actor, ctx_lang, is_organiser, texts, Context, Data, Error};
use crate::discord::format::when;
use crate::discord::reply::{say_private, CommandError};
use crate::discord::send::no_mentions;
use crate::knowledge::Lang;
use crate::search::detect_language;
use crate::store::NewEvent;

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![events()]
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
        text.push_str(&texts(ctx).calendar_hint);
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
    let event = announce::find_event(&id, answerer.knowledge(), store.as_ref(), lang, tz).await?;
    let file = CreateAttachment::bytes(
        ics::event_ics(&event, Utc::now()).into_bytes(),
        ics::ics_filename(&event),
    );
    let reply = poise::CreateReply::default()
        .content(texts(ctx).calendar_file.fill(&[("title", &event.title)]))
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
    // Acknowledged before any database work: Discord allows three seconds.
    ctx.defer_ephemeral().await?;
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
    let prepared =
        announce::prepare_event(&draft, tz, &actor(ctx), now).map_err(CommandError::unchanged)?;
    let store = ctx.data().app.store().ok_or_else(no_database)?;
    // A command sent again (it seemed to fail, or was clicked twice) finds the event it
    // already added instead of adding it a second time.
    let earlier = store
        .list_events()
        .await?
        .into_iter()
        .find(|e| same_event(&e.event, &prepared.event));
    let stored = match earlier {
        Some(earlier) => earlier,
        None => announce::add_event(&store, &prepared, now)
            .await
            .map_err(CommandError::unchanged)?,
    };
    // Answer about it, list it and remind of it from this bot at once.
    ctx.data().app.reload_if_changed().await;
    let key = stored.id.knowledge_id();
    let mut text = texts(ctx).event_added.fill(&[
        ("key", &key),
        ("title", &stored.event.title),
        ("when", &when(stored.event.start_at)),
    ]);
    for notice in &prepared.notices {
        text.push_str(&format!("\n{notice}"));
    }
    say_private(ctx, text).await
}

/// The same event: title (ignoring case and surrounding space), start and venue.
fn same_event(a: &NewEvent, b: &NewEvent) -> bool {
    a.start_at == b.start_at
        && a.title.trim().to_lowercase() == b.title.trim().to_lowercase()
        && a.venue.trim() == b.venue.trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate};

    #[test]
    fn event_choices_match_title_or_id() {
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
}
