//! `anbud kb lint`, `review`, `export`, `generate`, `calibrate` and `evaluate`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use serde_json::json;

use super::{terminal, Format};
use crate::config::Settings;
use crate::knowledge::{self, KnowledgeError, Severity};
use crate::quality;
use crate::synth::{self, SynthOptions};

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Check every knowledge file and the glossary; print `path:line: message`.
    Lint,
    /// Entries and their dated figures by the age of their last check, oldest first,
    /// with what to verify and where.
    Review {
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Export the knowledge base, files and what was taught through the bot (entries,
    /// phrasings, organisers' events): a JSON array on stdout, or a knowledge folder DIR
    /// that `anbud --knowledge DIR kb lint` accepts (taught entries that do not yet meet
    /// the rules for files go to DIR/drafts/, with what they lack).
    Export {
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
        /// The folder for `--format markdown`.
        dir: Option<PathBuf>,
        /// Write into DIR even when it is not empty (its knowledge files are replaced).
        #[arg(long)]
        force: bool,
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
    /// Refit the ranking and confidence models on the labelled questions (train split),
    /// choose the thresholds on the dev split, and write `calibration.toml` into the
    /// knowledge folder.
    Calibrate {
        /// The folder with train.tsv, dev.tsv and heldout.tsv.
        #[arg(long, default_value = "tests/quality")]
        data: PathBuf,
        /// Print the figures without writing the file.
        #[arg(long)]
        dry_run: bool,
    },
    /// Answer the labelled questions and print the figures per split, language and
    /// kind, and the misses of the dev split (`--misses train` for the train split's).
    /// The test split is only evaluated with `--test`, and only its figures are shown.
    Evaluate {
        /// The folder with train.tsv, dev.tsv and heldout.tsv.
        #[arg(long, default_value = "tests/quality")]
        data: PathBuf,
        /// Print the misses of this split (train or dev).
        #[arg(long, default_value = "dev")]
        misses: String,
        /// Also evaluate the held-out test split (figures only).
        #[arg(long)]
        test: bool,
    },
}

pub async fn run(settings: &Settings, cmd: KbCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        KbCommand::Lint => lint(settings),
        KbCommand::Review { format } => {
            // Review what the bot answers from: the files plus what advisers taught.
            let app = crate::app::App::open(settings).await?;
            let kb = app.answerer().knowledge().clone();
            review(&kb, freshness(settings), format)
        }
        KbCommand::Export { format, dir, force } => {
            let entries = knowledge_to_export(settings).await?;
            export(settings, entries, format, dir, force)
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
        KbCommand::Calibrate { data, dry_run } => calibrate(settings, &data, dry_run),
        KbCommand::Evaluate { data, misses, test } => evaluate(settings, &data, &misses, test),
    }
}

/// The bundled knowledge folder's answering core, without learned knowledge: the
/// labelled questions are about the files.
fn file_answerer(settings: &Settings) -> anyhow::Result<crate::answer::Answerer> {
    let kb = crate::app::load_knowledge(settings)?;
    Ok(crate::answer::Answerer::new(kb, settings.answer.clone())?)
}

fn calibrate(settings: &Settings, data: &Path, dry_run: bool) -> anyhow::Result<ExitCode> {
    let answerer = file_answerer(settings)?;
    let rows = quality::read_splits(data, &[quality::Split::Train, quality::Split::Dev])?;
    let quality::fit::Fitted {
        calibration,
        train,
        dev,
        dev_unlearned,
    } = quality::fit::calibrate(&answerer, &rows)?;
    let figures = |name: &str, s: quality::fit::Score| {
        eprintln!(
            "{name}: in scope answered right {:.3}, out of scope not answered {:.3}, referred right {:.3}, referred wrongly {:.3}",
            s.in_scope, s.out_of_scope, s.referred_right, s.referred_wrong
        )
    };
    figures("train", train);
    figures("dev", dev);
    figures("dev without the learned figures", dev_unlearned);
    eprintln!(
        "threshold {:.2}, referral threshold {:.2}, threshold without the learned figures {:.2}",
        calibration.threshold,
        calibration.referral_threshold,
        calibration
            .unlearned
            .as_ref()
            .map_or(calibration.threshold, |u| u.threshold)
    );
    let path = settings.knowledge.dir.join("calibration.toml");
    if dry_run {
        print!("{}", calibration.to_text());
    } else {
        let associations = settings.knowledge.dir.join("associations.tsv");
        let header = [
            "Written by `anbud kb calibrate` with calibration.toml; do not edit by hand."
                .to_string(),
            "The words of the labelled train questions, counted per entry (- for questions"
                .to_string(),
            "that are not about procurement): class, analysed term, count.".to_string(),
        ];
        let phrasing = settings.knowledge.dir.join("phrasing.tsv");
        let phrasing_header = [
            "Written by `anbud kb calibrate` with calibration.toml; do not edit by hand."
                .to_string(),
            "How the labelled train questions are phrased: a multinomial logistic regression"
                .to_string(),
            "over their words' character 4-grams (see src/knowledge/phrasing.rs).".to_string(),
        ];
        for (path, text) in [
            (&associations, calibration.associations.to_text(&header)),
            (&phrasing, calibration.phrasing.to_text(&phrasing_header)),
            (&path, calibration.to_text()),
        ] {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn evaluate(
    settings: &Settings,
    data: &Path,
    misses: &str,
    test: bool,
) -> anyhow::Result<ExitCode> {
    let answerer = file_answerer(settings)?;
    let mut splits = vec![quality::Split::Train, quality::Split::Dev];
    if test {
        splits.push(quality::Split::Test);
    }
    let rows = quality::read_splits(data, &splits)?;
    let report = quality::evaluate(&answerer, &rows);
    for (split, miss) in &report.misses {
        if split.name() == misses {
            println!("miss {miss}");
        }
    }
    println!("{report}");
    Ok(ExitCode::SUCCESS)
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

/// Today, and how old a check may be.
fn freshness(settings: &Settings) -> knowledge::Freshness {
    knowledge::Freshness {
        today: chrono::Local::now().date_naive(),
        review_after_days: settings.knowledge.review_after_days,
    }
}

fn review(
    kb: &knowledge::KnowledgeBase,
    freshness: knowledge::Freshness,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let items = knowledge::review::review(kb, freshness);
    // Titles and figures may be taught through the bot: users' text.
    let mut out = terminal::stdout();
    match format {
        Format::Json => writeln!(
            out,
            "{}",
            terminal::safe_json(&serde_json::to_string_pretty(&items)?)
        )?,
        Format::Text => write!(
            out,
            "{}",
            knowledge::review::format_review(&items, freshness)
        )?,
        Format::Markdown => anyhow::bail!("`kb review` writes text or json"),
    }
    Ok(ExitCode::SUCCESS)
}

fn lint(settings: &Settings) -> anyhow::Result<ExitCode> {
    // Problems quote the files' contents.
    let mut out = terminal::stdout();
    match knowledge::load_dir_with(&settings.knowledge.dir, Some(freshness(settings))) {
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

/// What the bot answers from: the files, what advisers taught (entries and phrasings),
/// and the organisers' events in the database. Without the database there is no telling
/// what was taught, so that is an error rather than an export of the files alone.
async fn knowledge_to_export(settings: &Settings) -> anyhow::Result<Vec<knowledge::Entry>> {
    let app = crate::app::App::open(settings).await?;
    let store = app.store().context(
        "the database is unavailable, so what advisers taught cannot be exported; try again when it is back",
    )?;
    let mut entries = app.answerer().knowledge().entries.clone();
    let tz = settings.timezone();
    for stored in store.list_events().await? {
        entries.extend(event_entries(&stored, tz));
    }
    Ok(entries)
}

/// An organiser's event in both languages. Its facts (time, place, organiser, the
/// registration page) are the same in both; the title and description stay as the
/// organiser wrote them, so the other language's file has the answer's frame in its
/// language around them, for a reviewer to translate.
fn event_entries(stored: &crate::store::StoredEvent, tz: chrono_tz::Tz) -> Vec<knowledge::Entry> {
    let mut other = stored.clone();
    other.event.lang = stored.event.lang.other();
    vec![
        crate::announce::stored_event_to_entry(stored, tz),
        crate::announce::stored_event_to_entry(&other, tz),
    ]
}

fn export(
    settings: &Settings,
    entries: Vec<knowledge::Entry>,
    format: Format,
    dir: Option<PathBuf>,
    force: bool,
) -> anyhow::Result<ExitCode> {
    match format {
        Format::Json | Format::Text => {
            let items: Vec<_> = knowledge::by_id(&entries)
                .into_iter()
                .map(|(id, entries)| {
                    let pick = |lang: knowledge::Lang| entries.iter().find(|e| e.lang == lang).copied();
                    let primary = pick(knowledge::Lang::Nb).or(entries.first().copied()).expect("a group has entries");
                    let mut questions = Vec::new();
                    let mut keywords = Vec::new();
                    for e in &entries {
                        questions.extend(e.questions.iter().map(str::to_string));
                        keywords.extend(e.keywords.iter().map(str::to_string));
                    }
                    let langs: serde_json::Map<String, serde_json::Value> = entries
                        .iter()
                        .map(|e| (e.lang.code().to_string(), serde_json::to_value(e).unwrap_or_default()))
                        .collect();
                    json!({
                        "id": id,
                        "title": primary.title,
                        "body": entries.iter().map(|e| e.body_text()).collect::<Vec<_>>().join("\n\n"),
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
            writeln!(
                terminal::stdout(),
                "{}",
                terminal::safe_json(&serde_json::to_string_pretty(&items)?)
            )?;
        }
        Format::Markdown => {
            let dir = dir.context("`kb export --format markdown` needs a folder to write into")?;
            let exported = knowledge::write_folder(&entries, &settings.knowledge.dir, &dir, force)?;
            let mut err = terminal::stderr();
            writeln!(
                err,
                "wrote {} knowledge files to {}",
                exported.files,
                dir.display()
            )?;
            if !exported.drafts.is_empty() {
                writeln!(
                    err,
                    "{} taught entr(ies) do not yet meet the rules for knowledge files and \
                     went to {} (see its README.md):",
                    exported.drafts.len(),
                    dir.join("drafts").display()
                )?;
                for draft in &exported.drafts {
                    writeln!(err, "  {}: {}", draft.id, draft.reasons.join("; "))?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
