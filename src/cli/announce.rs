//! `anbud announce …` and `anbud announcements …`: organisers schedule, list, edit and
//! cancel announcements. Thin parsers over [`crate::announce`].

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Subcommand};

use super::{actor, terminal, Format};
use crate::announce::{self, AnnouncementDraft};
use crate::config::Settings;
use crate::store::{Announcement, AnnouncementId, AnnouncementStatus, Store};

#[derive(Debug, Args)]
pub struct AnnounceArgs {
    /// The Discord channel id to post in (a number, or <#id>).
    #[arg(long, value_parser = parse_channel)]
    pub channel: u64,
    /// When to post, "YYYY-MM-DD HH:MM" in announcements.timezone (Europe/Oslo);
    /// left out, the next running bot posts it at once.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Show the preview and check everything, but store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Who announces (for the audit log); defaults to the login name.
    #[arg(long)]
    pub by: Option<String>,
    /// The message, exactly as it will be posted (at most 2,000 characters).
    pub text: String,
}

#[derive(Debug, Subcommand)]
pub enum AnnouncementsCommand {
    /// List announcements by time.
    List {
        #[arg(long, value_parser = ["scheduled", "posted", "cancelled", "skipped", "failed"])]
        status: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Cancel a scheduled announcement.
    Cancel {
        #[arg(value_parser = parse_announcement_id)]
        id: AnnouncementId,
        #[arg(long)]
        by: Option<String>,
    },
    /// Change the text and/or the time of a scheduled announcement.
    Edit {
        #[arg(value_parser = parse_announcement_id)]
        id: AnnouncementId,
        #[arg(long)]
        text: Option<String>,
        /// The new time, "YYYY-MM-DD HH:MM".
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
        #[arg(long)]
        by: Option<String>,
    },
}

fn parse_channel(text: &str) -> Result<u64, String> {
    announce::parse_channel_id(text).map_err(|e| e.to_string())
}

fn parse_announcement_id(text: &str) -> Result<AnnouncementId, String> {
    let digits = text.trim().trim_start_matches('#');
    match digits.parse::<i64>() {
        Ok(n) if n > 0 => Ok(AnnouncementId(n)),
        _ => Err(format!(
            "{text:?} is not an announcement id (a number such as 7)"
        )),
    }
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::connect(&settings.database.url)
        .await
        .context("opening the database (database.url)")
}

/// `anbud announce`.
pub async fn run_announce(settings: &Settings, args: AnnounceArgs) -> anyhow::Result<ExitCode> {
    let tz = settings.timezone();
    let now = Utc::now();
    let draft = AnnouncementDraft {
        channel_id: args.channel,
        text: args.text,
        at: args.at,
    };
    // The command line cannot see the server's channels; the Discord command checks them.
    let prepared = announce::prepare_announcement(&draft, &[], tz, &actor(&args.by), now)?;
    let mut out = terminal::stdout();
    writeln!(
        out,
        "Preview (posted exactly like this):\n---\n{}\n---",
        prepared.preview()
    )?;
    if let Some(notice) = &prepared.notice {
        writeln!(out, "Note: {notice}")?;
    }
    if args.dry_run {
        writeln!(out, "Dry run: nothing was stored.")?;
        return Ok(ExitCode::SUCCESS);
    }
    let store = open_store(settings).await?;
    let stored = announce::schedule_announcement(&store, &prepared, now).await?;
    if prepared.immediate {
        writeln!(
            out,
            "Announcement {} for channel {}: the next running bot posts it now.",
            stored.id, stored.channel_id
        )?;
    } else {
        writeln!(
            out,
            "Announcement {} for channel {} scheduled for {} ({tz}).",
            stored.id,
            stored.channel_id,
            prepared.local_time.format("%Y-%m-%d %H:%M")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(a: &Announcement, tz: chrono_tz::Tz) -> String {
    let local = a.publish_at.with_timezone(&tz).format("%Y-%m-%d %H:%M");
    let mut status = a.status.to_string();
    if a.late {
        status.push_str(" (late)");
    }
    let text: String = a.text.replace('\n', " ").chars().take(100).collect();
    let mut line = format!(
        "{:<6} {local}  {status:<15} channel {}\n       {text}",
        a.id.to_string(),
        a.channel_id
    );
    if let Some(error) = &a.last_error {
        line.push_str(&format!(
            "\n       last error ({} attempts): {error}",
            a.attempts
        ));
    }
    line
}

/// `anbud announcements …`.
pub async fn run_announcements(
    settings: &Settings,
    cmd: AnnouncementsCommand,
) -> anyhow::Result<ExitCode> {
    let tz = settings.timezone();
    let store = open_store(settings).await?;
    let mut out = terminal::stdout();
    let now = Utc::now();
    match cmd {
        AnnouncementsCommand::List { status, format } => {
            let status = status.as_deref().and_then(AnnouncementStatus::parse);
            let list = store.list_announcements(status).await?;
            if format == Format::Json {
                let rows: Vec<serde_json::Value> = list
                    .iter()
                    .map(|a| {
                        let mut v = serde_json::to_value(a).unwrap_or_default();
                        v["publish_at_local"] = a
                            .publish_at
                            .with_timezone(&tz)
                            .format("%Y-%m-%d %H:%M")
                            .to_string()
                            .into();
                        v
                    })
                    .collect();
                terminal::write_json_rows(&mut out, rows)?;
            } else if list.is_empty() {
                writeln!(out, "No announcements.")?;
            } else {
                for a in &list {
                    writeln!(out, "{}", describe(a, tz))?;
                }
            }
        }
        AnnouncementsCommand::Cancel { id, by } => {
            announce::cancel_announcement(&store, id, &actor(&by), now).await?;
            writeln!(out, "Cancelled announcement {id}.")?;
        }
        AnnouncementsCommand::Edit { id, text, at, by } => {
            let edited = announce::edit_announcement(
                &store,
                id,
                text.as_deref(),
                at.as_deref(),
                tz,
                &actor(&by),
                now,
            )
            .await?;
            if let Some(notice) = &edited.notice {
                writeln!(out, "Note: {notice}")?;
            }
            writeln!(
                out,
                "Changed announcement {id}:\n{}",
                describe(&edited.announcement, tz)
            )?;
            writeln!(
                out,
                "Preview:\n---\n{}\n---",
                announce::preview(&edited.announcement.text)
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
