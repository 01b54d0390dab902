//! `anbud unanswered …`, `anbud stats`, `anbud forget`: the advisers' work on the command line.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use clap::{Args, Subcommand};

use super::{actor, terminal, Format};
use crate::adviser::{self, EntryDraft, Learn, Proposal};
use crate::app::App;
use crate::config::Settings;
use crate::store::{QueueItemId, QueueStatus, Store};

#[derive(Debug, Subcommand)]
pub enum UnansweredCommand {
    /// List the queue (oldest first).
    List {
        #[arg(long, value_parser = ["open", "answered", "dismissed"])]
        status: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Answer a queued question; the askers are told.
    ///
    /// With --save-entry or --entry the bot also learns from it. What it learns from the
    /// askers' words is given with --title and --question after review: run the command
    /// without them to see the proposal (nothing is answered then).
    Answer {
        id: i64,
        text: String,
        /// Make a new knowledge entry from this answer (needs --title and --question).
        #[arg(long, conflicts_with = "entry")]
        save_entry: bool,
        /// Add example wordings (--question) to this existing entry.
        #[arg(long, value_name = "EXISTING_ID")]
        entry: Option<String>,
        /// The new entry's title, as reviewed.
        #[arg(long, requires = "save_entry")]
        title: Option<String>,
        /// An example question the bot learns, as reviewed; repeat for more.
        #[arg(long = "question", value_name = "QUESTION")]
        questions: Vec<String>,
        /// The public page the answer rests on (https://…), for --save-entry.
        #[arg(long, requires = "save_entry", value_name = "URL")]
        source_url: Option<String>,
        /// Who answers (for the audit log); defaults to the login name.
        #[arg(long)]
        by: Option<String>,
    },
    /// Close a queued question without an answer.
    Dismiss {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
        #[arg(long)]
        by: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Count from this day (YYYY-MM-DD, Norwegian time); all time when left out.
    #[arg(long, value_parser = parse_day)]
    pub since: Option<NaiveDate>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The user's id (Discord user id).
    pub user_id: String,
    #[arg(long)]
    pub by: Option<String>,
}

/// A day as YYYY-MM-DD with a four-digit year. chrono alone takes `10000-01-01`, which
/// SQLite compares as text before `2026-…`, so every day would count "since" it.
fn parse_day(text: &str) -> Result<NaiveDate, String> {
    let not_a_day = || format!("{text:?} is not a date YYYY-MM-DD (years 0001 to 9999)");
    let text = text.trim();
    let four_digit_year = text.len() == 10 && text.as_bytes()[..4].iter().all(u8::is_ascii_digit);
    if !four_digit_year {
        return Err(not_a_day());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|day| day.year() >= 1)
        .ok_or_else(not_a_day)
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Store::connect(&settings.database.url)
        .await
        .context("opening the database (database.url)")
}

pub async fn run_unanswered(
    settings: &Settings,
    cmd: UnansweredCommand,
) -> anyhow::Result<ExitCode> {
    let mut out = terminal::stdout();
    match cmd {
        UnansweredCommand::List { status, format } => {
            let store = open_store(settings).await?;
            let status = status.as_deref().and_then(QueueStatus::parse);
            let items = store.list_queue(status).await?;
            if format == Format::Json {
                let rows: Vec<_> = items
                    .iter()
                    .map(|i| {
                        serde_json::json!({
                            "id": i.id.0, "question": i.question, "status": i.status.as_str(),
                            "count": i.count, "asked_at": i.asked_at, "last_asked_at": i.last_asked_at,
                            "lang": i.lang, "private": i.private,
                            "best_candidate": i.best_candidate, "score": i.score,
                            "abstained": i.reason.abstained, "not_helpful": i.reason.not_helpful,
                            "answer": i.answer, "dismiss_reason": i.dismiss_reason,
                            "handled_by": i.handled_by, "handled_at": i.handled_at,
                        })
                    })
                    .collect();
                terminal::write_json_rows(&mut out, rows)?;
            } else if items.is_empty() {
                writeln!(out, "The queue is empty.")?;
            } else {
                for i in items {
                    let times = if i.count == 1 {
                        "once".to_string()
                    } else {
                        format!("{} times", i.count)
                    };
                    let private = if i.private { ", privately" } else { "" };
                    writeln!(
                        out,
                        "#{:<5} {:<9} asked {times}{private}, first {} ({})  closest: {}\n       {}",
                        i.id.0,
                        i.status.as_str(),
                        i.asked_at.format("%Y-%m-%d %H:%M"),
                        i.lang,
                        i.best_candidate.as_deref().unwrap_or("-"),
                        i.question.replace('\n', " ")
                    )?;
                }
            }
        }
        UnansweredCommand::Answer {
            id,
            text,
            save_entry,
            entry,
            title,
            questions,
            source_url,
            by,
        } => {
            let app = App::open(settings).await?;
            let id = QueueItemId(id);
            let learn = match (save_entry, entry, title) {
                (false, None, _) => Learn::Nothing,
                (true, _, Some(title)) if !questions.is_empty() => Learn::NewEntry(EntryDraft {
                    title,
                    questions,
                    source_url,
                }),
                (false, Some(entry), _) if !questions.is_empty() => {
                    Learn::Phrasing { entry, questions }
                }
                _ => {
                    let proposal = adviser::proposal(&app, id).await?;
                    show_proposal(&mut out, id, &proposal, save_entry)?;
                    return Ok(ExitCode::from(2));
                }
            };
            let done = adviser::answer(&app, id, &text, &actor(&by), learn).await?;
            let id = id.0;
            writeln!(
                out,
                "Answered #{id}; {} asker(s) will be told.",
                done.outbox.len()
            )?;
            if let Some(entry) = done.learned {
                writeln!(
                    out,
                    "The bot now answers this question from entry {entry:?}."
                )?;
            }
        }
        UnansweredCommand::Dismiss { id, reason, by } => {
            let app = App::open(settings).await?;
            adviser::dismiss(&app, QueueItemId(id), reason.as_deref(), &actor(&by)).await?;
            writeln!(out, "Dismissed #{id}.")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows what teaching the bot from item `id` would take from its askers, as arguments
/// to give after review. Nothing has been answered or saved.
fn show_proposal(
    out: &mut impl Write,
    id: QueueItemId,
    proposal: &Proposal,
    with_title: bool,
) -> std::io::Result<()> {
    let quoted = |text: &str| {
        let mut q = String::from('"');
        for c in text.chars() {
            if matches!(c, '"' | '\\' | '$' | '`') {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    };
    writeln!(
        out,
        "Nothing was answered yet. What the bot learns from the askers' words is saved only as \
         you review it: check this proposal from {id}, remove names, e-mail addresses and \
         anything else personal, and run the command again with it:"
    )?;
    if with_title {
        writeln!(out, "  --title {}", quoted(&proposal.title))?;
    }
    for question in &proposal.questions {
        writeln!(out, "  --question {}", quoted(question))?;
    }
    Ok(())
}

pub async fn run_stats(settings: &Settings, args: StatsArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let stats = store.stats(args.since).await?;
    let mut out = terminal::stdout();
    if args.format == Format::Json {
        writeln!(
            out,
            "{}",
            terminal::json_line(&serde_json::to_value(&stats)?)
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    let since = args
        .since
        .map(|d| format!(" since {d}"))
        .unwrap_or_default();
    writeln!(out, "Questions asked{since}: {}", stats.questions)?;
    writeln!(
        out,
        "Answered: {} ({:.0} %), abstained: {}",
        stats.answered,
        stats.share_answered * 100.0,
        stats.abstained
    )?;
    if stats.referred > 0 {
        let per: Vec<String> = stats
            .referrals
            .iter()
            .map(|(id, n)| format!("{id} {n}"))
            .collect();
        writeln!(
            out,
            "Referred to a public service: {} ({})",
            stats.referred,
            per.join(", ")
        )?;
    }
    writeln!(out, "Open queue: {}", stats.open_queue)?;
    writeln!(out, "Marked not helpful: {}", stats.unhelpful)?;
    if !stats.top_entries.is_empty() {
        writeln!(out, "Top entries:")?;
        for (id, n) in &stats.top_entries {
            writeln!(out, "  {n:>6}  {id}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_forget(settings: &Settings, args: ForgetArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(settings).await?;
    let user = args.user_id.trim();
    // The audit line names the adviser and what was removed, never the user.
    let report = store.forget_user_by(user, &actor(&args.by)).await?;
    writeln!(terminal::stdout(), "Forgot user {user}: {report}.")?;
    if !report.threads.is_empty() {
        writeln!(
            terminal::stdout(),
            "Their questions were in Discord thread(s) {}: a thread is named after the question \
             it was opened on.",
            report.threads.join(", ")
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
