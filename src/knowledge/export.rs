//! Writing a knowledge base as a knowledge folder (`anbud kb export --format markdown`).
//!
//! The folder must load: `anbud --knowledge DIR kb lint` accepts it and the bot answers
//! from it. Entries taught through the bot do not always meet the rules for files (both
//! languages, [`MIN_QUESTIONS`] example questions, a source with a web address), so an
//! id whose entries would not pass is written to `drafts/` instead, which the bot does
//! not read, with what it lacks listed in `drafts/README.md`. Nothing is invented to fill
//! a gap.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::{by_id, load_dir, parse_entry_file, Entry, KnowledgeError, Lang, Severity};

/// Why an export was not written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{} is not empty; give --force to write into it (its knowledge files are replaced)", .0.display())]
    NotEmpty(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the exported folder does not load: {0}")]
    DoesNotLoad(#[from] KnowledgeError),
}

/// An id written to `drafts/`, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    /// What the id's files lack before they can move to `entries/` or `events/`.
    pub reasons: Vec<String>,
}

/// What an export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exported {
    /// Files written to `entries/` and `events/`.
    pub files: usize,
    /// Ids written to `drafts/`.
    pub drafts: Vec<Draft>,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `entries` as a knowledge folder in `dir` (created if missing), with the
/// glossary and README of the folder `source` (the knowledge folder they came from).
///
/// A folder that is not empty is refused unless `force`; then the `*.md` files this
/// export did not write are removed from `entries/`, `events/` and `drafts/`, so the
/// folder holds exactly this knowledge base. Checks the result with [`load_dir`].
pub fn write_folder(
    entries: &[Entry],
    source: &Path,
    dir: &Path,
    force: bool,
) -> Result<Exported, ExportError> {
    let not_empty = std::fs::read_dir(dir)
        .map(|mut items| items.next().is_some())
        .unwrap_or(false);
    if not_empty && !force {
        return Err(ExportError::NotEmpty(dir.to_path_buf()));
    }
    let mut written: BTreeSet<PathBuf> = BTreeSet::new();
    let mut exported = Exported::default();
    let mut drafts_readme = String::from(
        "# Drafts\n\nEntries taught through the bot that do not yet meet the rules for \
         knowledge files. The bot does not read this folder. Complete each one, move it to \
         `entries/` (or `events/`) and run `anbud kb lint`.\n\n",
    );
    for (id, group) in by_id(entries) {
        let sub = if group.iter().any(|e| e.event.is_some()) {
            "events"
        } else {
            "entries"
        };
        let reasons = problems_of(dir, sub, &group);
        let folder = if reasons.is_empty() { sub } else { "drafts" };
        for entry in &group {
            let path = dir
                .join(folder)
                .join(format!("{}.{}.md", entry.id, entry.lang.code()));
            write_file(&path, &entry.to_markdown())?;
            written.insert(path);
        }
        if reasons.is_empty() {
            exported.files += group.len();
        } else {
            drafts_readme.push_str(&format!("## {id}\n\n"));
            for reason in &reasons {
                drafts_readme.push_str(&format!("- {reason}\n"));
            }
            drafts_readme.push('\n');
            exported.drafts.push(Draft {
                id: id.to_string(),
                reasons,
            });
        }
    }
    if !exported.drafts.is_empty() {
        let path = dir.join("drafts").join("README.md");
        write_file(&path, &drafts_readme)?;
        written.insert(path);
    }
    for name in ["glossary.txt", "README.md"] {
        let from = source.join(name);
        if from.is_file() {
            let text = super::read_knowledge_file(&from).map_err(io_error(&from))?;
            let path = dir.join(name);
            write_file(&path, &text)?;
            written.insert(path);
        }
    }
    for sub in ["entries", "events", "drafts"] {
        remove_others(&dir.join(sub), &written)?;
    }
    load_dir(dir)?;
    Ok(exported)
}

/// What keeps an id's entries from loading as files in `sub/`: the file rules (the same
/// check as `kb lint`), and a missing language.
fn problems_of(dir: &Path, sub: &str, group: &[&Entry]) -> Vec<String> {
    let mut reasons = Vec::new();
    for entry in group {
        let name = format!("{}.{}.md", entry.id, entry.lang.code());
        let path = dir.join(sub).join(&name);
        let problems = match parse_entry_file(&path, &entry.to_markdown()) {
            Ok((_, warnings)) => warnings,
            Err(errors) => errors,
        };
        reasons.extend(
            problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .map(|p| format!("{name}: {}", p.message)),
        );
    }
    for lang in [Lang::Nb, Lang::En] {
        if !group.iter().any(|e| e.lang == lang) {
            reasons.push(format!(
                "no {lang} version: write `{}.{lang}.md`",
                group[0].id
            ));
        }
    }
    reasons
}

fn write_file(path: &Path, text: &str) -> Result<(), ExportError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    std::fs::write(path, text).map_err(io_error(path))
}

/// Removes the `*.md` files in `folder` that are not in `keep`.
fn remove_others(folder: &Path, keep: &BTreeSet<PathBuf>) -> Result<(), ExportError> {
    let Ok(items) = std::fs::read_dir(folder) else {
        return Ok(());
    };
    for item in items {
        let path = item.map_err(io_error(folder))?.path();
        if path.extension().is_some_and(|x| x == "md") && !keep.contains(&path) {
            std::fs::remove_file(&path).map_err(io_error(&path))?;
        }
    }
    Ok(())
}
