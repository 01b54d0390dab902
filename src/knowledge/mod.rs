//! The curated knowledge base: Markdown files with TOML front matter, plus a glossary.
//!
//! Files → [`Entry`] values and a [`Glossary`]. Everything that reads the folder goes
//! through [`load_dir`], which is also what `anbud kb lint` runs: a knowledge base that
//! loads is a knowledge base that lints clean (warnings aside).

pub mod associations;
mod body;
mod cache;
pub mod calibration;
mod entry;
mod export;
pub mod figures;
mod glossary;
mod lint;
pub mod passage;
pub mod phrasing;
pub mod review;
mod texts;

pub use body::{Body, BodyUnreadable};
pub use cache::CacheUse;
pub use calibration::Calibration;
pub use entry::{
    parse_entry_file, parse_local_datetime, Entry, EventInfo, Fact, Lang, Source, MIN_QUESTIONS,
};
pub use export::{write_folder, Draft, ExportError, Exported};
pub use glossary::{Glossary, SpellingRule};
pub use lint::{Freshness, Problem, Severity};
pub use texts::TextList;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Everything the answering core needs from the knowledge folder.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    /// All entries, both languages, in a stable order (by id, then language).
    pub entries: Vec<Entry>,
    pub glossary: Glossary,
    /// Public services that questions outside procurement are referred to
    /// (`referrals/`): entries whose title is the service's name, whose first source is
    /// its page, and whose body says what it helps with.
    pub referrals: Vec<Entry>,
    /// The fitted ranking and confidence models (`calibration.toml`); `None` when the
    /// folder has none, and the bundled one is used.
    pub calibration: Option<Calibration>,
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
                        entry.questions.push(question);
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
    load(dir, freshness, None)
}

/// [`load_dir`] for a start of the bot: files unchanged since an earlier start are taken
/// from the cache of parsed files in `cache_dir` (`index.dir`) instead of being read and
/// parsed again (see [`cache`]); `None` reads every file. The same knowledge base and
/// warnings either way.
pub fn load_dir_cached(
    dir: &Path,
    cache_dir: Option<&Path>,
) -> Result<(KnowledgeBase, Vec<Problem>), KnowledgeError> {
    let Some(cache_dir) = cache_dir else {
        return load_dir(dir);
    };
    load_dir_counting(dir, &mut cache::FileCache::open(dir, cache_dir))
}

/// [`load_dir_cached`] with the cache given, saying how it was used.
fn load_dir_counting(
    dir: &Path,
    cache: &mut cache::FileCache,
) -> Result<(KnowledgeBase, Vec<Problem>), KnowledgeError> {
    let loaded = load(dir, None, Some(&mut *cache));
    let usage = &cache.usage;
    tracing::info!(
        from_cache = usage.cached,
        read = usage.parsed,
        cache_written = usage.written,
        "knowledge files loaded"
    );
    loaded
}

fn load(
    dir: &Path,
    freshness: Option<Freshness>,
    mut cache: Option<&mut cache::FileCache>,
) -> Result<(KnowledgeBase, Vec<Problem>), KnowledgeError> {
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    if !dir.is_dir() {
        return Err(KnowledgeError::Unreadable {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let entries_dir = dir.join("entries");
    if !entries_dir.is_dir() {
        // Without it the bot would start, lint clean, and abstain on every question.
        problems.push(Problem::error(
            &entries_dir,
            1,
            "no entries/ folder: a knowledge folder holds its entries in entries/ID.LANG.md",
        ));
    }
    let mut referrals = Vec::new();
    // Entries read from the cache share their repeated texts already.
    let mut shared = texts::SharedTexts::default();
    for sub in ["entries", "events", "referrals"] {
        let folder = dir.join(sub);
        if !folder.is_dir() {
            continue;
        }
        let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(&folder)
            .map_err(|source| KnowledgeError::Unreadable {
                path: folder.clone(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .filter(|name| Path::new(name).extension().is_some_and(|x| x == "md"))
            .collect();
        // By name: the order of the paths (one folder), without comparing them part by
        // part (20,000 of them at 10k entries).
        names.sort_unstable();
        let paths: Vec<PathBuf> = names.iter().map(|name| folder.join(name)).collect();
        // Room for all of them at once: grown by doubling, the entries' list was 13 MB
        // at its largest at 10,000 entries instead of 8.
        if sub == "referrals" {
            referrals.reserve(paths.len());
        } else {
            entries.reserve(paths.len());
        }
        if sub == "entries" && paths.is_empty() {
            problems.push(Problem::error(
                &folder,
                1,
                "entries/ holds no knowledge files (ID.LANG.md): the bot would answer nothing",
            ));
        }
        for path in paths {
            // With a cache: the file's stamp, taken before it is read (a change after
            // this gives a newer stamp, so it is parsed again next time).
            let mut stamp = None;
            let mut relative = String::new();
            let mut cached = None;
            if let (Some(cache), Some(key)) =
                (cache.as_deref_mut(), cache::relative_key(dir, &path))
            {
                relative = key;
                stamp = std::fs::metadata(&path)
                    .ok()
                    .filter(|m| m.is_file() && m.len() <= MAX_FILE_BYTES)
                    .map(|m| cache::Stamp::of(&m));
                if let Some(stamp) = stamp {
                    cached = cache.take(&relative, stamp, &path);
                }
            }
            let parsed = match cached {
                Some(found) => Ok(found),
                None => {
                    let text = match read_knowledge_file(&path) {
                        Ok(t) => t,
                        Err(e) => {
                            problems.push(Problem::error(
                                &path,
                                1,
                                format!("cannot read file: {e}"),
                            ));
                            continue;
                        }
                    };
                    match parse_entry_file(&path, &text) {
                        Ok((mut entry, mut warnings)) => {
                            shared.share(&mut entry);
                            if let Some(cache) = cache.as_deref_mut() {
                                cache.parsed(&relative, stamp, &warnings);
                            }
                            if let Some(freshness) = freshness {
                                let body_line = entry::body_start_line(&text);
                                lint::check_figures(&entry, body_line, &mut warnings);
                                lint::check_freshness(&entry, &text, freshness, &mut warnings);
                            }
                            Ok((entry, warnings))
                        }
                        Err(errors) => Err(errors),
                    }
                }
            };
            match parsed {
                Ok((entry, mut warnings)) => {
                    problems.append(&mut warnings);
                    if sub == "events" && entry.event.is_none() {
                        problems.push(Problem::error(
                            &path,
                            1,
                            "a file under events/ needs an [event] table",
                        ));
                    }
                    if sub == "referrals" {
                        referrals.push(entry);
                    } else {
                        entries.push(entry);
                    }
                }
                Err(mut errs) => problems.append(&mut errs),
            }
        }
    }
    let glossary_path = dir.join("glossary.txt");
    let glossary = if glossary_path.exists() {
        match read_knowledge_file(&glossary_path) {
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
    lint::check_referrals(&referrals, &entries, &mut problems);
    let calibration = Calibration::load(dir, &mut problems);
    let mut kb = KnowledgeBase {
        entries,
        glossary,
        referrals,
        calibration,
    };
    kb.sort();
    if problems.iter().any(|p| p.severity == Severity::Error) {
        return Err(KnowledgeError::Invalid(problems));
    }
    if let Some(cache) = cache {
        cache.finish(dir, kb.entries.iter().chain(&kb.referrals));
    }
    Ok((kb, problems))
}

/// The largest knowledge file read (the largest bundled one is a few kilobytes).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads a knowledge file: a regular file (or a symlink to one) of at most
/// [`MAX_FILE_BYTES`], as UTF-8.
///
/// Opened without blocking and checked on the open handle, so a symlink to a FIFO, a
/// device or a folder is refused instead of hanging start-up (a FIFO blocks a plain open
/// until someone writes; `/dev/zero` never ends), and a file swapped after a check cannot
/// slip through.
pub fn read_knowledge_file(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    let metadata = file.metadata()?;
    let invalid = |message: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, message);
    if !metadata.is_file() {
        return Err(invalid(
            "not a regular file (a folder, FIFO, socket or device); knowledge files must be regular files".into(),
        ));
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(invalid(format!(
            "{} bytes is larger than the limit of {MAX_FILE_BYTES} bytes for a knowledge file",
            metadata.len()
        )));
    }
    let mut bytes = Vec::new();
    // The limit holds even for a file that grows while it is read.
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(invalid(format!(
            "larger than the limit of {MAX_FILE_BYTES} bytes for a knowledge file"
        )));
    }
    String::from_utf8(bytes).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Group entries by id: `id → (nb, en)`.
pub fn by_id(entries: &[Entry]) -> BTreeMap<&str, Vec<&Entry>> {
    let mut map: BTreeMap<&str, Vec<&Entry>> = BTreeMap::new();
    for e in entries {
        map.entry(e.id.as_str()).or_default().push(e);
    }
    map
}
