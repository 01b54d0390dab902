//! `anbud kb lint`, `anbud kb export` and `anbud kb generate`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use super::{terminal, Format};
use crate::config::Settings;
use crate::knowledge::{self, KnowledgeError, Severity};
use crate::synth::{self, SynthOptions};

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Check every knowledge file and the glossary; print `path:line: message`.
    Lint,
    /// Export the knowledge base: a JSON array on stdout, or Markdown files into DIR.
    Export {
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// The folder for `--format markdown`.
        dir: Option<PathBuf>,
    },
    /// Write a synthetic knowledge base recombined from the knowledge folder, for
    /// measuring speed and memory at scale; with a matching question set.
    Generate {
        /// Number of entry ids; each is written in both languages (two files).
        #[arg(long)]
        entries: usize,
        /// Seed of the generator: the same seed gives the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of questions in questions.tsv and questions.txt.
        #[arg(long, default_value_t = 1000)]
        questions: usize,
        /// The folder to write into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

pub async fn run(settings: &Settings, cmd: KbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KbCommand::Lint => lint(settings),
        KbCommand::Export { format, dir } => {
            // Export what the bot answers from: the files plus what advisers taught.
            let app = crate::app::App::open(settings).await?;
            let kb = app.answerer().knowledge().clone();
            export(&kb, format, dir)
        }
        KbCommand::Generate {
            entries,
            seed,
            questions,
            out,
        } => generate(
            settings,
            SynthOptions {
                entries,
                seed,
                questions,
            },
            &out,
        ),
    }
}

fn generate(settings: &Settings, options: SynthOptions, out: &Path) -> anyhow::Result<ExitCode> {
    let (source, _) = knowledge::load_dir(&settings.knowledge.dir).with_context(|| {
        format!(
            "loading the source knowledge base from {}",
            settings.knowledge.dir.display()
        )
    })?;
    let synthetic = synth::generate(&source, options)?;
    synth::write_dir(&synthetic, out)?;
    eprintln!(
        "wrote {} entries ({} files) and {} questions to {}",
        options.entries,
        synthetic.kb.entries.len(),
        synthetic.questions.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn lint(settings: &Settings) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    // Problems quote the files' contents.
    let mut out = terminal::stdout();
    match knowledge::load_dir(&settings.knowledge.dir) {
        Ok((kb, warnings)) => {
            for w in &warnings {
                writeln!(out, "{w}")?;
            }
            eprintln!(
                "{}: {} entries ({} ids), {} synonym groups, {} spelling rules, {} warning(s), no errors",
                settings.knowledge.dir.display(),
                kb.entries.len(),
                kb.ids().len(),
                kb.glossary.groups.len(),
                kb.glossary.rules.len(),
                warnings.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(KnowledgeError::Invalid(problems)) => {
            for p in &problems {
                writeln!(out, "{p}")?;
            }
            let errors = problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count();
            eprintln!("{}: {errors} error(s)", settings.knowledge.dir.display());
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            writeln!(out, "{}:1: {e}", settings.knowledge.dir.display())?;
            Ok(ExitCode::FAILURE)
        }
    }
}

fn export(
    kb: &knowledge::KnowledgeBase,
    format: Format,
    dir: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    match format {
        Format::Json | Format::Text => {
            let items: Vec<_> = knowledge::by_id(&kb.entries)
                .into_iter()
                .map(|(id, entries)| {
                    let pick = |lang: knowledge::Lang| entries.iter().find(|e| e.lang == lang).copied();
                    let primary = pick(knowledge::Lang::Nb).or(entries.first().copied()).expect("a group has entries");
                    let mut questions = Vec::new();
                    let mut keywords = Vec::new();
                    for e in &entries {
                        questions.extend(e.questions.iter().cloned());
                        keywords.extend(e.keywords.iter().cloned());
                    }
                    let langs: serde_json::Map<String, serde_json::Value> = entries
                        .iter()
                        .map(|e| (e.lang.code().to_string(), serde_json::to_value(e).unwrap_or_default()))
                        .collect();
                    json!({
                        "id": id,
                        "title": primary.title,
                        "body": entries.iter().map(|e| e.body.as_str()).collect::<Vec<_>>().join("\n\n"),
                        "questions": questions,
                        "keywords": keywords,
                        "sources": primary.sources,
                        "reviewed": primary.reviewed.format("%Y-%m-%d").to_string(),
                        "languages": entries.iter().map(|e| e.lang.code()).collect::<Vec<_>>(),
                        "event": primary.event,
                        "by_language": langs,
                    })
                })
                .collect();
            use std::io::Write;
            writeln!(
                terminal::stdout(),
                "{}",
                terminal::safe_json(&serde_json::to_string_pretty(&items)?)
            )?;
        }
        Format::Markdown => {
            let dir = dir.context("`kb export --format markdown` needs a folder to write into")?;
            for e in &kb.entries {
                let sub = if e.event.is_some() {
                    "events"
                } else {
                    "entries"
                };
                let folder = dir.join(sub);
                std::fs::create_dir_all(&folder)
                    .with_context(|| format!("creating {}", folder.display()))?;
                let path = folder.join(format!("{}.{}.md", e.id, e.lang.code()));
                std::fs::write(&path, e.to_markdown())
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            eprintln!("wrote {} files to {}", kb.entries.len(), dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
