//! The command line: `anbud [--config FILE] [--knowledge DIR] [--database URL] <command>`.
//! Each subcommand is a thin parser in front of a typed function that returns a `Result`.

mod adviser;
mod announce;
mod ask;
mod events;
mod kb;
mod serve;
mod tenders;
mod terminal;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Overrides, Settings};

#[derive(Debug, Parser)]
#[command(
    name = "anbud",
    version,
    about = "Answers suppliers' questions about Norwegian public procurement"
)]
pub struct Cli {
    /// A configuration file layered over the defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The knowledge folder (entries/, events/, glossary.txt).
    #[arg(long, global = true, value_name = "DIR")]
    pub knowledge: Option<PathBuf>,
    /// Database URL: sqlite://FILE or postgres://…
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Answer a question (or, with --format json and no question, one per line of stdin).
    Ask(ask::AskArgs),
    /// Talk to the bot in the terminal, as a supplier would.
    Chat(ask::ChatArgs),
    /// Check and export the knowledge base.
    #[command(subcommand)]
    Kb(kb::KbCommand),
    /// The advisers' queue of questions the bot could not answer.
    #[command(subcommand)]
    Unanswered(adviser::UnansweredCommand),
    /// Questions asked, share answered, top entries, open queue, unhelpful answers.
    Stats(adviser::StatsArgs),
    /// Delete every stored question and feedback of one user.
    Forget(adviser::ForgetArgs),
    /// Schedule an announcement for a Discord channel (posted by a running bot).
    Announce(announce::AnnounceArgs),
    /// List, edit and cancel announcements.
    #[command(subcommand)]
    Announcements(announce::AnnouncementsCommand),
    /// List and add events, and print their calendar files.
    #[command(subcommand)]
    Events(events::EventsCommand),
    /// Run the Discord bot (token from the environment variable DISCORD_TOKEN).
    Serve(serve::ServeArgs),
    /// Serve the advisers' and organisers' web pages; prints a one-time sign-in link.
    Web(web::WebArgs),
    /// Notices from Doffin: list, sync, and alerts (watches).
    #[command(subcommand)]
    Tenders(tenders::TendersCommand),
}

/// Output format of commands that have a machine-readable form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// Parse the command line, run the command, and turn its outcome into an exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    tracing::debug!(
        huge_pages = crate::heap::huge_pages_asked(),
        "heap: transparent huge pages asked of malloc"
    );
    let overrides = Overrides {
        config_file: cli.config.clone(),
        knowledge_dir: cli.knowledge.clone(),
        database_url: cli.database.clone(),
    };
    let settings = match Settings::load(&overrides) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("anbud: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("anbud: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Ask(args) => ask::run_ask(&settings, args).await,
            Command::Chat(args) => ask::run_chat(&settings, args).await,
            Command::Kb(cmd) => kb::run(&settings, cmd).await,
            Command::Unanswered(cmd) => adviser::run_unanswered(&settings, cmd).await,
            Command::Stats(args) => adviser::run_stats(&settings, args).await,
            Command::Forget(args) => adviser::run_forget(&settings, args).await,
            Command::Announce(args) => announce::run_announce(&settings, args).await,
            Command::Announcements(cmd) => announce::run_announcements(&settings, cmd).await,
            Command::Events(cmd) => events::run(&settings, cmd).await,
            Command::Serve(args) => serve::run(&settings, args).await,
            Command::Web(args) => web::run(&settings, args).await,
            Command::Tenders(cmd) => tenders::run(&settings, cmd).await,
        }
    });
    // Background tasks (the logger's flush loop) end with the runtime.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // The error may quote what a user typed (an entry id, a file's contents).
            eprintln!("anbud: {}", terminal::printable(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// `anbud ask … | head` closes our stdout early: that is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Who is acting, for the audit log: `--by`, else the login name.
pub(crate) fn actor(by: &Option<String>) -> String {
    by.clone()
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "cli".into())
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,anbud=info",
        _ => "debug,anbud=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
