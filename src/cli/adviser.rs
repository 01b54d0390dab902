//! `anbud unanswered …`, `anbud stats`, `anbud forget`: the advisers' work on the command line.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use chrono::{Datelike, NaiveDate};
use clap::{Args, Subcommand};

use super::{actor, terminal, Format};
use crate::adviser::{self, Learn};
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
    Answer {
        id: i64,
        text: String,
        /// Make a new knowledge entry from the question and this answer.
        #[arg(long, conflicts_with = "entry")]
        save_entry: bool,
        /// Add the question as a new example wording of this existing entry.
        #[arg(long, value_name = "EXISTING_ID")]
        entry: Option<String>,
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
                writeln!(
                    out,
                    "{}",
                    terminal::json_line(&serde_json::Value::Array(rows))
                )?;
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
            by,
        } => {
            let app = App::open(settings).await?;
            let learn = match (save_entry, entry) {
                (true, _) => Learn::NewEntry,
                (false, Some(e)) => Learn::Phrasing(e),
                (false, None) => Learn::Nothing,
            };
            let done = adviser::answer(&app, QueueItemId(id), &text, &actor(&by), learn).await?;
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
    let report = store.forget_user(args.user_id.trim()).await?;
    store
        .audit(&actor(&args.by), "forget", args.user_id.trim(), None)
        .await?;
    writeln!(
        terminal::stdout(),
        "Deleted {} question(s), {} feedback row(s), {} queue item(s) and {} pending reply(ies) of user {}.",
        report.asks_deleted,
        report.feedback_deleted,
        report.items_deleted,
        report.outbox_deleted,
        args.user_id.trim()
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_day;

    #[test]
    fn days_have_four_digit_years() {
        assert_eq!(
            parse_day("2026-11-29").unwrap(),
            chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
        );
        assert!(parse_day(" 9999-12-31 ").is_ok());
        for bad in [
            "10000-01-01",
            "+10000-01-01",
            "99999-01-01",
            "0000-01-01",
            "-001-01-01",
            "2026-13-01",
            "26-01-01",
            "2026-1-1",
        ] {
            let err = parse_day(bad).unwrap_err();
            assert!(err.contains("9999"), "{bad}: {err}");
        }
    }
}
