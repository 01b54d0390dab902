//! The tantivy index kept on disk (`index.dir`, `data/index` by default), so that a start
//! with unchanged knowledge opens it instead of indexing every entry again.
//!
//! Layout: one folder per fingerprint, `DIR/<fingerprint>/`, holding tantivy's own files
//! (its `MmapDirectory`) and [`FINGERPRINT_FILE`], written last. The fingerprint
//! ([`fingerprint`]) is a SHA-256 over everything the index is built from: every entry's
//! indexed text (the knowledge files *and* what advisers taught, merged before indexing),
//! the glossary, [`ANALYSIS_VERSION`] and the index layout ([`LAYOUT_VERSION`]).
//!
//! - Unchanged inputs: the folder of their fingerprint exists, its fingerprint file
//!   matches, tantivy opens it and its checksums hold → it is opened (read-only; any
//!   number of processes may open the same folder).
//! - Anything changed: a new index is built into `DIR/.build-…` (a temporary folder next
//!   to the others), committed, its fingerprint file written and synced, and the folder
//!   renamed to `DIR/<fingerprint>` in one step. A crash mid-build leaves only the
//!   temporary folder; the indexes already there stay usable. Once the new one is in
//!   place, folders of other fingerprints older than an hour are removed (a younger one
//!   may be another process's: processes on different knowledge may share `DIR`).
//! - A folder that fails any check (garbage files, a foreign index, a fingerprint that
//!   does not match) is logged, moved out of the way and rebuilt: never a panic.
//! - When `DIR` cannot be used (read-only, not a folder), the index is built in memory
//!   with a warning.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use tantivy::schema::Schema;
use tantivy::Index;

use crate::knowledge::{KnowledgeBase, Lang};

/// Bump whenever analysis changes what terms a text gives (stemming, compound parts,
/// stop words, the general-word list, synonym expansion…): the indexes on disk were
/// built with the old analysis and are rebuilt.
pub const ANALYSIS_VERSION: u32 = 1;
/// Bump whenever the schema or what goes into a field changes (see `SearchIndex::build`),
/// or how the index is laid out: 2 merges it into one segment, so an index built before
/// is rebuilt once rather than searched in several.
pub const LAYOUT_VERSION: u32 = 2;

/// The file, inside an index folder, holding the fingerprint it was built for.
pub const FINGERPRINT_FILE: &str = "anbud-fingerprint";
/// Temporary build folders and other fingerprints' folders older than this are removed.
const STALE_BUILD: Duration = Duration::from_secs(3600);

/// How the index of a start came to be: what the log line and [`IndexOrigin`] report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexOrigin {
    /// Built in memory only (no `index.dir`, or it could not be used).
    Memory,
    /// Opened from the folder of an unchanged fingerprint.
    Opened(PathBuf),
    /// Built and saved: there was none for this fingerprint.
    Built(PathBuf),
    /// Built and saved because the folder there could not be used (the reason).
    Rebuilt(PathBuf, String),
}

/// The fingerprint of everything an index of `kb` is built from, as 64 hex digits.
pub fn fingerprint(kb: &KnowledgeBase) -> String {
    let mut h = Sha256::new();
    let mut put = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    put(format!("anbud-index analysis {ANALYSIS_VERSION} layout {LAYOUT_VERSION}").as_bytes());
    put(&(kb.entries.len() as u64).to_le_bytes());
    for e in &kb.entries {
        put(e.id.as_bytes());
        put(match e.lang {
            Lang::Nb => b"nb",
            Lang::En => b"en",
        });
        put(e.title.as_bytes());
        // The example questions' SHA-256, recorded in the cache as the body's is.
        put(&e.questions.digest());
        put(&(e.keywords.len() as u64).to_le_bytes());
        for k in &e.keywords {
            put(k.as_bytes());
        }
        // The body's SHA-256: the cache of parsed files records it, so a start need not
        // read every body to fingerprint them.
        put(&e.body.digest());
        match &e.event {
            Some(ev) => {
                put(b"event");
                put(ev.venue.as_bytes());
                put(ev.address.as_deref().unwrap_or("").as_bytes());
            }
            None => put(b"-"),
        }
    }
    put(&(kb.glossary.groups.len() as u64).to_le_bytes());
    for group in &kb.glossary.groups {
        put(&(group.len() as u64).to_le_bytes());
        for term in group {
            put(term.as_bytes());
        }
    }
    put(&(kb.glossary.rules.len() as u64).to_le_bytes());
    for rule in &kb.glossary.rules {
        put(rule.from.join(" ").as_bytes());
        put(rule.to.join(" ").as_bytes());
    }
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The folder of `fingerprint` under `dir`.
pub fn folder_of(dir: &Path, fingerprint: &str) -> PathBuf {
    dir.join(&fingerprint[..32])
}

/// Open the index of `fingerprint` under `dir` if it is there and sound: `Ok(None)` when
/// there is none, `Err(reason)` when there is one that cannot be used.
pub(crate) fn open_existing(
    dir: &Path,
    fingerprint: &str,
    documents: usize,
    expected: &Schema,
) -> Result<Option<Index>, String> {
    let folder = folder_of(dir, fingerprint);
    if !folder.exists() {
        return Ok(None);
    }
    // tantivy should return errors for damaged files; this keeps a panic in it on
    // garbage from taking the process down.
    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        check(&folder, fingerprint, documents, expected)
    }));
    match checked {
        Ok(Ok(index)) => Ok(Some(index)),
        Ok(Err(reason)) => Err(reason),
        Err(_) => Err("reading it panicked".into()),
    }
}

fn check(
    folder: &Path,
    fingerprint: &str,
    documents: usize,
    expected: &Schema,
) -> Result<Index, String> {
    let written = std::fs::read_to_string(folder.join(FINGERPRINT_FILE))
        .map_err(|e| format!("no fingerprint file ({e})"))?;
    if written.trim() != fingerprint {
        return Err("its fingerprint is another knowledge base's".into());
    }
    let index = Index::open_in_dir(folder).map_err(|e| format!("tantivy cannot open it: {e}"))?;
    let damaged = index
        .validate_checksum()
        .map_err(|e| format!("checking its files: {e}"))?;
    if !damaged.is_empty() {
        let mut names: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
        names.sort();
        return Err(format!("damaged files: {}", names.join(", ")));
    }
    let schema = index.schema();
    for (_, entry) in expected.fields() {
        match schema.get_field(entry.name()) {
            Ok(found) if schema.get_field_entry(found) == entry => {}
            _ => return Err(format!("foreign schema (field {})", entry.name())),
        }
    }
    let reader = index
        .reader()
        .map_err(|e| format!("tantivy cannot read it: {e}"))?;
    let docs = reader.searcher().num_docs() as usize;
    if docs != documents {
        return Err(format!("{docs} documents where {documents} were expected"));
    }
    Ok(index)
}

/// Move an unusable index folder out of the way (removed if possible).
pub(crate) fn discard(dir: &Path, fingerprint: &str) {
    let folder = folder_of(dir, fingerprint);
    let aside = dir.join(format!(".discarded-{}", unique()));
    if std::fs::rename(&folder, &aside).is_ok() {
        let _ = std::fs::remove_dir_all(&aside);
    } else {
        let _ = std::fs::remove_dir_all(&folder);
    }
}

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

/// A new, empty index in a temporary folder under `dir`, to be [`publish`]ed.
pub(crate) fn create_temporary(dir: &Path, schema: Schema) -> std::io::Result<(Index, PathBuf)> {
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".build-{}", unique()));
    std::fs::create_dir(&temporary)?;
    match Index::create_in_dir(&temporary, schema) {
        Ok(index) => Ok((index, temporary)),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&temporary);
            Err(std::io::Error::other(e))
        }
    }
}

/// Make the committed index in `temporary` the index of `fingerprint`: write and sync the
/// fingerprint file, rename the folder into place, and open it from there. When another
/// process published the same fingerprint first, its index is opened and ours dropped.
pub(crate) fn publish(
    dir: &Path,
    temporary: &Path,
    fingerprint: &str,
) -> Result<(Index, PathBuf), String> {
    let write = || -> std::io::Result<()> {
        let path = temporary.join(FINGERPRINT_FILE);
        std::fs::write(&path, fingerprint)?;
        std::fs::File::open(&path)?.sync_all()?;
        std::fs::File::open(temporary)?.sync_all()
    };
    write().map_err(|e| format!("writing the fingerprint: {e}"))?;
    let folder = folder_of(dir, fingerprint);
    if let Err(e) = std::fs::rename(temporary, &folder) {
        // Another process may have published the same index a moment ago.
        let _ = std::fs::remove_dir_all(temporary);
        if !folder.join(FINGERPRINT_FILE).exists() {
            return Err(format!("moving it into place: {e}"));
        }
    }
    if let Ok(parent) = std::fs::File::open(dir) {
        let _ = parent.sync_all();
    }
    let index =
        Index::open_in_dir(&folder).map_err(|e| format!("opening it after building: {e}"))?;
    Ok((index, folder))
}

/// Remove, from `dir`, the folders of other fingerprints and the temporary folders of
/// builds that crashed, once they are older than an hour. Best effort. A younger folder
/// may be another process's index (processes on different knowledge may share `dir`, and
/// the tests do): removed under it, that process fails to open or reload its index.
pub(crate) fn remove_others(dir: &Path, fingerprint: &str) {
    let ours = &fingerprint[..32];
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    for item in listing.flatten() {
        let name = item.file_name().to_string_lossy().into_owned();
        let path = item.path();
        if !path.is_dir() || name == ours {
            continue;
        }
        let is_index = name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit());
        let is_build = name.starts_with(".build-") || name.starts_with(".discarded-");
        let is_old = item
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_BUILD);
        if (is_index || is_build) && is_old {
            if let Err(e) = std::fs::remove_dir_all(&path) {
                tracing::debug!(path = %path.display(), error = %e, "could not remove an old index");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Entry;

    fn kb() -> KnowledgeBase {
        KnowledgeBase {
            entries: vec![Entry::new(
                "a",
                Lang::En,
                "Framework agreements",
                &["What is a framework agreement?"],
                "A framework agreement is …",
            )],
            ..Default::default()
        }
    }

    #[test]
    fn the_fingerprint_follows_every_input_of_the_index() {
        let base = fingerprint(&kb());
        assert_eq!(base, fingerprint(&kb()), "same inputs, same fingerprint");
        assert_eq!(base.len(), 64);

        // Knowledge taught in the database is merged into the entries before indexing.
        let mut taught = kb();
        taught.merge_learned(vec![Entry::new(
            "learned-1",
            Lang::Nb,
            "Egenerklæring",
            &["Hva er ESPD?"],
            "ESPD er …",
        )]);
        assert_ne!(base, fingerprint(&taught));

        let mut question = kb();
        question.entries[0].questions.push("How long can it last?");
        assert_ne!(base, fingerprint(&question));

        let mut glossary = kb();
        glossary
            .glossary
            .groups
            .push(vec!["anbud".into(), "tender".into()]);
        assert_ne!(base, fingerprint(&glossary));

        // Field boundaries count: moving text between fields changes it.
        let mut moved = kb();
        moved.entries[0].title = "Framework agreementsA".into();
        moved.entries[0].body = " framework agreement is …".into();
        assert_ne!(base, fingerprint(&moved));
    }

    #[test]
    fn a_folder_that_is_not_an_index_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let fp = fingerprint(&kb());
        let folder = folder_of(dir.path(), &fp);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(FINGERPRINT_FILE), &fp).unwrap();
        std::fs::write(folder.join("meta.json"), b"{ not json").unwrap();
        let schema = Schema::builder().build();
        assert!(open_existing(dir.path(), &fp, 1, &schema).is_err());
        discard(dir.path(), &fp);
        assert!(!folder.exists());
        assert!(matches!(
            open_existing(dir.path(), &fp, 1, &schema),
            Ok(None)
        ));
    }
}
