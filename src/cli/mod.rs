//! The command line: `anbud [--config FILE] [--knowledge DIR] [--database URL] <command>`.
//! Each subcommand is a thin parser in front of a typed function that returns a `Result`.

mod ask;
mod kb;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Overrides, Settings};

#[derive(Debug, Parser)]
#[command(name = "anbud", version, about = "Answers suppliers' questions about Norwegian public procurement")]
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
    let result = match cli.command {
        Command::Ask(args) => ask::run_ask(&settings, args),
        Command::Chat(args) => ask::run_chat(&settings, args),
        Command::Kb(cmd) => kb::run(&settings, cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("anbud: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info,anbud=info",
        _ => "debug,anbud=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}
