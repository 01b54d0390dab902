//! The curated knowledge base: Markdown files with TOML front matter, plus a glossary.
//!
//! Files → [`Entry`] values and a [`Glossary`]. Everything that reads the folder goes
//! through [`load_dir`], which is also what `anbud kb lint` runs: a knowledge base that
//! loads is a knowledge base that lints clean (warnings aside).

mod entry;
pub mod figures;
mod glossary;
mod lint;
pub mod review;

pub use entry::{
    parse_entry_file, parse_local_datetime, Entry, EventInfo, Fact, Lang, Source, MIN_QUESTIONS,
};
pub use glossary::{Glossary, SpellingRule};
pub use lint::{Freshness, Problem, Severity};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Everything the answering core needs from the knowledge folder.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    /// All entries, both languages, in a stable order (by id, then language).
    pub entries: Vec<Entry>,
    pub glossary: Glossary,
}

/// Why a knowledge folder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("knowledge folder {path} cannot be read: {source}")]
    Unreadable {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the knowledge base has {} error(s):\n{}", .0.iter().filter(|p| p.severity == Severity::Error).count(), lint::format_problems(.0))]
    Invalid(Vec<Problem>),
}

impl KnowledgeBase {
    /// Entries of one id, in both languages.
    pub fn entries_with_id<'a>(&'a self, id: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.entries.iter().filter(move |e| e.id == id)
    }

    /// The entry of `id` in `lang`, or in the other language if that is all there is.
    pub fn entry(&self, id: &str, lang: Lang) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.id == id && e.lang == lang)
            .or_else(|| self.entries.iter().find(|e| e.id == id))
    }

    /// Distinct ids, sorted.
    pub fn ids(&self) -> BTreeSet<&str> {
        self.entries.iter().map(|e| e.id.as_str()).collect()
    }

    /// Add entries taught by advisers (from the database). An entry with the same id and
    /// language as a file entry replaces it: the adviser's newer answer wins.
    pub fn merge_learned(&mut self, learned: Vec<Entry>) {
        for entry in learned {
            if let Some(existing) = self
                .entries
                .iter_mut()
                .find(|e| e.id == entry.id && e.lang == entry.lang)
            {
                *existing = entry;
            } else {
                self.entries.push(entry);
            }
        }
        self.sort();
    }

    /// Add example phrasings (learned from answered questions) to existing entries.
    /// Returns the phrasings whose entry does not exist.
    pub fn add_phrasings<'a>(
        &mut self,
        phrasings: impl IntoIterator<Item = (&'a str, Lang, &'a str)>,
    ) -> Vec<String> {
        let mut orphans = Vec::new();
        for (id, lang, question) in phrasings {
            let target = self
                .entries
                .iter_mut()
                .position(|e| e.id == id && e.lang == lang)
                .or_else(|| self.entries.iter().position(|e| e.id == id));
            match target {
                Some(i) => {
                    let entry = &mut self.entries[i];
                    if !entry.questions.iter().any(|q| q == question) {
                        entry.questions.push(question.to_string());
                    }
                }
                None => orphans.push(id.to_string()),
            }
        }
        orphans
    }

    fn sort(&mut self) {
        self.entries
            .sort_by(|a, b| (a.id.as_str(), a.lang).cmp(&(b.id.as_str(), b.lang)));
    }
}

/// Read and check a knowledge folder. Errors (not warnings) make it fail, with every
/// problem found, so an adviser sees them all at once.
pub fn load_dir(dir: &Path) -> Result<(KnowledgeBase, Vec<Problem>), KnowledgeError> {
    load_dir_with(dir, None)
}

/// [`load_dir`], and with `freshness` the checks of figures `anbud kb lint` runs: a
/// warning for every figure in a body without a date, and for every check older than
/// `knowledge.review_after_days`. (A running bot skips them: they cost time at start-up
/// with a large base and change no answer.)
pub fn load_dir_with(
    dir: &Path,
    freshness: Option<Freshness>,
) -> Result<(KnowledgeBase, Vec<Problem>), KnowledgeError> {
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    if !dir.is_dir() {
        return Err(KnowledgeError::Unreadable {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    for sub in ["entries", "events"] {
        let folder = dir.join(sub);
        if !folder.exists() {
            continue;
        }
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(|source| KnowledgeError::Unreadable {
                path: folder.clone(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
            .collect();
        paths.sort();
        for path in paths {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem::error(&path, 1, format!("cannot read file: {e}")));
                    continue;
                }
            };
            match parse_entry_file(&path, &text) {
                Ok((entry, mut warnings)) => {
                    problems.append(&mut warnings);
                    if let Some(freshness) = freshness {
                        lint::check_figures(&entry, entry::body_start_line(&text), &mut problems);
                        lint::check_freshness(&entry, &text, freshness, &mut problems);
                    }
                    if sub == "events" && entry.event.is_none() {
                        problems.push(Problem::error(
                            &path,
                            1,
                            "a file under events/ needs an [event] table",
                        ));
                    }
                    entries.push(entry);
                }
                Err(mut errs) => problems.append(&mut errs),
            }
        }
    }
    let glossary_path = dir.join("glossary.txt");
    let glossary = if glossary_path.exists() {
        match std::fs::read_to_string(&glossary_path) {
            Ok(text) => {
                let (glossary, mut errs) = Glossary::parse(&glossary_path, &text);
                problems.append(&mut errs);
                glossary
            }
            Err(e) => {
                problems.push(Problem::error(
                    &glossary_path,
                    1,
                    format!("cannot read file: {e}"),
                ));
                Glossary::default()
            }
        }
    } else {
        problems.push(Problem::warning(
            &glossary_path,
            1,
            "no glossary: synonyms and spelling rules are off",
        ));
        Glossary::default()
    };
    lint::check_collection(&entries, &mut problems);
    let mut kb = KnowledgeBase { entries, glossary };
    kb.sort();
    if problems.iter().any(|p| p.severity == Severity::Error) {
        return Err(KnowledgeError::Invalid(problems));
    }
    Ok((kb, problems))
}

/// Group entries by id: `id → (nb, en)`.
pub fn by_id(entries: &[Entry]) -> BTreeMap<&str, Vec<&Entry>> {
    let mut map: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in entries {
        map.entry(e.id.as_str()).or_default().push(e);
    }
    map
}
