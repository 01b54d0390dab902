//! `anbud events …`: organisers list and add events and get their calendar files.
//! Thin parsers over [`crate::announce`].

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::Subcommand;

use super::{actor, terminal, Format};
use crate::announce::{self, format, ics, EventDraft};
use crate::app::load_knowledge;
use crate::config::Settings;
use crate::knowledge::Lang;
use crate::store::Store;

// `Add` is much larger than the others; the value is parsed once per run.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List upcoming events (from knowledge/events/ and the database), soonest first.
    List {
        /// Past events too (after the upcoming ones, most recent first).
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Add an event; the bot answers about it and reminds of it.
    Add {
        #[arg(long)]
        title: String,
        /// "YYYY-MM-DD HH:MM", local time (announcements.timezone).
        #[arg(long)]
        start: String,
        #[arg(long)]
        end: String,
        #[arg(long)]
        venue: String,
        #[arg(long)]
        address: Option<String>,
        #[arg(long)]
        registration_url: Option<String>,
        /// Who it is for.
        #[arg(long)]
        audience: Option<String>,
        #[arg(long)]
        description: Option<String>,
        #[arg(long)]
        organiser: Option<String>,
        /// The language the texts are written in.
        #[arg(long, default_value = "nb", value_parser = ["nb", "en"])]
        lang: String,
        #[arg(long)]
        by: Option<String>,
    },
    /// Print an event's calendar file (.ics): a database id (12) or a knowledge id.
    Ics { id: String },
}

/// `anbud events …`.
pub async fn run(settings: &Settings, cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    let tz = settings.timezone();
    let lang = settings.announcements.language;
    let now = Utc::now();
    let mut out = terminal::stdout();
    match cmd {
        EventsCommand::List { all, format } => {
            let kb = load_knowledge(settings).context("loading the knowledge base")?;
            let stored = match Store::connect(&settings.database.url).await {
                Ok(store) => store.list_events().await?,
                Err(e) if e.is_unavailable() => {
                    tracing::warn!(error = %e, "the database is unavailable; listing the knowledge files' events only");
                    eprintln!("anbud: the database is unavailable; showing the knowledge files' events only");
                    Vec::new()
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e).context("opening the database (database.url)"))
                }
            };
            let events = announce::all_events(&kb, &stored, lang, tz, all, now);
            if format == Format::Json {
                let rows: Vec<serde_json::Value> = events
                    .iter()
                    .map(|e| {
                        let mut v = serde_json::to_value(e).unwrap_or_default();
                        v["past"] = (!e.is_upcoming(now)).into();
                        v
                    })
                    .collect();
                terminal::write_json_rows(&mut out, rows)?;
            } else if events.is_empty() {
                writeln!(
                    out,
                    "{}",
                    if all {
                        "No events."
                    } else {
                        "No upcoming events."
                    }
                )?;
            } else {
                for e in &events {
                    let when = format::event_span(e.start_local, e.end_local, Lang::En);
                    let past = if e.is_upcoming(now) { "" } else { "  (past)" };
                    writeln!(
                        out,
                        "{:<28} {when}{past}\n{:<28} {} — {}",
                        e.id,
                        "",
                        e.title,
                        e.place()
                    )?;
                }
            }
        }
        EventsCommand::Add {
            title,
            start,
            end,
            venue,
            address,
            registration_url,
            audience,
            description,
            organiser,
            lang,
            by,
        } => {
            let draft = EventDraft {
                title,
                start,
                end,
                venue,
                address,
                registration_url,
                audience,
                description,
                organiser,
                lang: Lang::parse(&lang).unwrap_or(Lang::Nb),
            };
            let prepared = announce::prepare_event(&draft, tz, &actor(&by), now)?;
            for notice in &prepared.notices {
                writeln!(out, "Note: {notice}")?;
            }
            let store = Store::connect(&settings.database.url)
                .await
                .context("opening the database (database.url)")?;
            let stored = announce::add_event(&store, &prepared, now).await?;
            writeln!(
                out,
                "Added event {} ({}): {}. Running bots answer about it after their next reload.",
                stored.id,
                stored.id.knowledge_id(),
                stored.event.title
            )?;
        }
        EventsCommand::Ics { id } => {
            let kb = load_knowledge(settings).context("loading the knowledge base")?;
            let store = if crate::store::EventId::parse(&id).is_some() {
                Some(
                    Store::connect(&settings.database.url)
                        .await
                        .context("opening the database (database.url)")?,
                )
            } else {
                None
            };
            let event = announce::find_event(&id, &kb, store.as_ref(), lang, tz).await?;
            // A calendar file, written as it is: its lines end in CR LF by the standard,
            // and every text in it is escaped by `event_ics`.
            write!(std::io::stdout(), "{}", ics::event_ics(&event, now))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
