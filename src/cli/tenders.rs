//! `anbud tenders list|sync|watch`: notices from Doffin. Thin parsers over
//! [`crate::tenders`]; the list's options and JSON are a contract other tools use.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::Utc;
use clap::{Args, Subcommand};

use super::{terminal, Format};
use crate::app::load_knowledge;
use crate::config::Settings;
use crate::knowledge::KnowledgeBase;
use crate::store::{NewTenderWatch, Store, TenderWatchId};
use crate::tenders::{self, Filter, Kind, TextMatcher, Vocabulary};

#[derive(Debug, Subcommand)]
pub enum TendersCommand {
    /// List stored notices, newest first.
    List(ListArgs),
    /// Fetch new and changed notices from Doffin (key in DOFFIN_API_KEY).
    Sync,
    /// Alerts: a user is told of new notices that match.
    #[command(subcommand)]
    Watch(WatchCommand),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Words in the title or description (Norwegian analysis: "renhold" finds
    /// "renholdstjenester").
    #[arg(long)]
    query: Option<String>,
    /// A CPV code; its sub-codes match too (90900000 finds 90910000).
    #[arg(long)]
    cpv: Option<String>,
    /// Part of the buyer's name.
    #[arg(long)]
    buyer: Option<String>,
    /// A county, Follo or a Follo municipality, or a NUTS code (NO084).
    #[arg(long, value_name = "NAME_OR_NUTS")]
    region: Option<String>,
    #[arg(long, value_enum)]
    kind: Option<Kind>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// Add a watch for a user (a Discord user id).
    Add {
        #[arg(long)]
        user: String,
        #[arg(long)]
        query: Option<String>,
        #[arg(long)]
        cpv: Option<String>,
        #[arg(long, value_name = "NAME_OR_NUTS")]
        region: Option<String>,
        #[arg(long, value_enum)]
        kind: Option<Kind>,
    },
    /// List watches (one user's with --user).
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Remove a watch by its id.
    Remove { id: i64 },
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::connect(&settings.database.url)
        .await
        .context("opening the database (database.url)")
}

/// The matcher with the knowledge base's vocabulary (for compound splitting), or
/// without it when the folder cannot be read.
fn matcher(settings: &Settings) -> TextMatcher<'static> {
    match load_knowledge(settings) {
        Ok(kb) => TextMatcher::new(&kb),
        Err(e) => {
            tracing::warn!(error = %e, "knowledge base unavailable; matching without its vocabulary");
            TextMatcher::new(&KnowledgeBase::default())
        }
    }
}

/// `anbud tenders …`.
pub async fn run(settings: &Settings, cmd: TendersCommand) -> anyhow::Result<ExitCode> {
    let vocab = Vocabulary::bundled();
    match cmd {
        TendersCommand::List(args) => list(settings, vocab, args).await,
        TendersCommand::Sync => sync(settings, vocab).await,
        TendersCommand::Watch(cmd) => watch(settings, vocab, cmd).await,
    }
}

async fn list(settings: &Settings, vocab: &Vocabulary, args: ListArgs) -> anyhow::Result<ExitCode> {
    let filter = Filter::from_options(
        vocab,
        args.query.as_deref(),
        args.cpv.as_deref(),
        args.buyer.as_deref(),
        args.region.as_deref(),
        args.kind,
    )?;
    let store = open_store(settings).await?;
    let stored = store.list_tenders().await?;
    let matcher = matcher(settings);
    let notices: Vec<&tenders::Notice> = stored
        .iter()
        .map(|s| &s.notice)
        .filter(|n| filter.matches(n, &matcher))
        .collect();
    let mut out = terminal::stdout();
    if args.format == Format::Json {
        let rows: Vec<serde_json::Value> = notices.iter().map(|n| n.to_json()).collect();
        terminal::write_json_rows(&mut out, rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if notices.is_empty() {
        let hint = if stored.is_empty() {
            " (none stored: run `anbud tenders sync`)"
        } else {
            ""
        };
        writeln!(out, "No notices match{hint}.")?;
    }
    for n in notices {
        let deadline = n
            .deadline
            .map(|d| {
                d.with_timezone(&settings.timezone())
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_else(|| "-".into());
        let published = n
            .published
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into());
        writeln!(
            out,
            "{}  {published}  {:<8}  deadline {deadline}\n    {}\n    {}\n    {}",
            n.id,
            n.kind.code(),
            terminal::printable(&n.title),
            terminal::printable(&n.buyer()),
            n.url()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn sync(settings: &Settings, vocab: &Vocabulary) -> anyhow::Result<ExitCode> {
    // The key first: without it nothing else is worth opening.
    let client = match tenders::sync::client_from_env(&settings.tenders) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("anbud: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let store = open_store(settings).await?;
    let report = tenders::sync(
        &store,
        &client,
        vocab,
        settings.tenders.initial_days,
        Utc::now(),
    )
    .await
    .context("syncing from Doffin (nothing of this run was stored)")?;
    let c = report.counts;
    writeln!(
        terminal::stdout(),
        "synced notices issued since {}: {} new, {} changed, {} unchanged ({} hits on {} pages){}",
        report.from,
        c.new,
        c.changed,
        c.unchanged,
        report.hits,
        report.pages,
        if report.capped {
            "; Doffin had more than it lets through, the oldest were missed"
        } else {
            ""
        }
    )?;
    Ok(ExitCode::SUCCESS)
}

async fn watch(
    settings: &Settings,
    vocab: &Vocabulary,
    cmd: WatchCommand,
) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let mut out = terminal::stdout();
    match cmd {
        WatchCommand::Add {
            user,
            query,
            cpv,
            region,
            kind,
        } => {
            // Checked now, so a bad code fails here and not silently in every digest.
            Filter::from_options(
                vocab,
                query.as_deref(),
                cpv.as_deref(),
                None,
                region.as_deref(),
                kind,
            )?;
            if user.trim().is_empty() {
                anyhow::bail!("--user must name a user");
            }
            let watch = store
                .add_tender_watch(
                    &NewTenderWatch {
                        user_id: user,
                        query,
                        cpv,
                        region,
                        kind,
                    },
                    Utc::now(),
                )
                .await?;
            writeln!(out, "watch {} added", watch.id)?;
        }
        WatchCommand::List { user, format } => {
            let watches = store.tender_watches(user.as_deref()).await?;
            if format == Format::Json {
                let rows: Vec<serde_json::Value> = watches
                    .iter()
                    .map(|w| {
                        serde_json::json!({
                            "id": w.id.0, "user": w.user_id, "query": w.query, "cpv": w.cpv,
                            "region": w.region, "kind": w.kind.map(Kind::code),
                            "created": w.created_at.to_rfc3339(),
                        })
                    })
                    .collect();
                terminal::write_json_rows(&mut out, rows)?;
            } else if watches.is_empty() {
                writeln!(out, "No watches.")?;
            } else {
                for w in watches {
                    writeln!(
                        out,
                        "{}  user {}  {}",
                        w.id,
                        terminal::printable(&w.user_id),
                        terminal::printable(&tenders::alerts::describe_watch(&w))
                    )?;
                }
            }
        }
        WatchCommand::Remove { id } => {
            if !store.remove_tender_watch(TenderWatchId(id), None).await? {
                eprintln!("anbud: no watch {id}");
                return Ok(ExitCode::FAILURE);
            }
            writeln!(out, "watch {id} removed")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
