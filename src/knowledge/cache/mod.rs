//! The parsed knowledge files kept between starts, so that a start on an unchanged folder
//! reads one file instead of reading and parsing every entry (at 10,000 entries, 20,000
//! files: most of a second start).
//!
//! The cache lives in `index.dir` (beside the search indexes; no `index.dir`, no cache)
//! as `knowledge-<hash of the folder's path>`, one per knowledge folder. It holds, for
//! each file that loaded, the entry parsed from it and its warnings, under the file's
//! [`Stamp`]: size, modification and status-change times to the nanosecond, inode and
//! device. A start lists the folders and looks at every file's stamp (no file is read);
//! a file whose stamp matches is taken from the cache, any other (changed, added) is read
//! and parsed as without a cache, and a removed one is simply not listed any more.
//! An entry taken from the cache leaves its body in the cache file, which stays open,
//! and reads it from there when it is needed (see [`super::body`]): the bodies are most
//! of a large knowledge base's text, and a reply needs one.
//!
//! - A file changed less than [`SETTLE`] before a start is never taken from the cache
//!   and never stored in it: file times are coarse (a few milliseconds on many file
//!   systems), so a file rewritten at once with the same size could keep its stamp.
//! - The cache names the folder, this format, the crate version and the running
//!   executable (its size and time): a new build, whose parser may differ, parses again.
//! - A cache that is missing, truncated, damaged (a CRC-32 over each half) or
//!   foreign is not used, with a log line: every file is read, and the cache written
//!   anew. Nothing read from it is trusted before it is checked: never a panic.
//! - It is written only after a load without errors, to a temporary file that is synced
//!   and renamed into place, so a reader sees the old cache, none, or the whole new one.
//! - When it is written, other folders' caches not written for a day, and temporary
//!   files left by crashed writes, are removed.
//! - `kb lint` does not use it: its checks of figures read each file's text.

mod codec;

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustc_hash::FxHashMap as HashMap;
use sha2::{Digest, Sha256};

use self::codec::{decode_entry, encode_entry, PartPlace};
use super::body::BodyFile;
use super::entry::Entry;
use super::lint::{Problem, Severity};
use super::texts::SharedTexts;
use crate::search::{Corrupt, Decoder, Encoder};

const MAGIC: &[u8; 16] = b"anbud-knowledge\0";
/// Bump whenever what is written here changes.
const FORMAT: u32 = 3;
/// A file changed less than this before a start is read and parsed at every start until
/// it is older (see the module's notes).
pub(crate) const SETTLE: Duration = Duration::from_secs(2);
/// Another folder's cache not written for this long is removed when a cache is written.
const STALE_CACHE: Duration = Duration::from_secs(24 * 3600);
/// A temporary file this old is a write that crashed.
const STALE_TEMPORARY: Duration = Duration::from_secs(3600);

/// One version of a file, as its metadata tells it without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified_ns: i128,
    changed_ns: i128,
    inode: u64,
    device: u64,
}

impl Stamp {
    pub(crate) fn of(metadata: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
            Stamp {
                len: metadata.len(),
                modified_ns: ns(metadata.mtime(), metadata.mtime_nsec()),
                changed_ns: ns(metadata.ctime(), metadata.ctime_nsec()),
                inode: metadata.ino(),
                device: metadata.dev(),
            }
        }
        #[cfg(not(unix))]
        {
            let modified = metadata.modified().map(unix_ns).unwrap_or(0);
            Stamp {
                len: metadata.len(),
                modified_ns: modified,
                changed_ns: modified,
                inode: 0,
                device: 0,
            }
        }
    }

    /// The last time the file or its metadata changed, in nanoseconds since 1970.
    fn last_change_ns(&self) -> i128 {
        self.modified_ns.max(self.changed_ns)
    }

    fn encode(&self, e: &mut Encoder) {
        e.u64(self.len);
        for v in [self.modified_ns, self.changed_ns] {
            e.u64(v as u64);
            e.u64((v >> 64) as u64);
        }
        e.u64(self.inode);
        e.u64(self.device);
    }

    fn decode(d: &mut Decoder<impl Read>) -> Result<Stamp, Corrupt> {
        let len = d.u64()?;
        let mut times = [0i128; 2];
        for t in &mut times {
            let low = d.u64()?;
            let high = d.u64()?;
            *t = (i128::from(high as i64) << 64) | i128::from(low);
        }
        Ok(Stamp {
            len,
            modified_ns: times[0],
            changed_ns: times[1],
            inode: d.u64()?,
            device: d.u64()?,
        })
    }
}

fn unix_ns(time: SystemTime) -> i128 {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => d.as_nanos() as i128,
        Err(e) => -(e.duration().as_nanos() as i128),
    }
}

/// A file's entry and warnings as the cache keeps them.
struct Record {
    stamp: Stamp,
    entry: Entry,
    /// Line and message of each warning parsing gave.
    warnings: Vec<(usize, String)>,
}

/// How a load used the cache, for the log and the tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CacheUse {
    /// Files taken from the cache.
    pub cached: usize,
    /// Files read and parsed.
    pub parsed: usize,
    /// Why the cache file could not be used, when there was one.
    pub unusable: Option<String>,
    /// The cache was written (something changed).
    pub written: bool,
}

/// What a load keeps of a file it may store: its stamp and its warnings (line, text).
type Kept = (Stamp, Vec<(usize, String)>);

/// The cache of one load: what was read from the file, taken as the load goes, and what
/// the load will write back.
pub(crate) struct FileCache {
    file: PathBuf,
    key: String,
    /// When the load started, in nanoseconds since 1970, less [`SETTLE`].
    settled_before_ns: i128,
    records: HashMap<String, Record>,
    /// Stamps and warnings of the files this load can store, by their path in the folder.
    keep: HashMap<String, Kept>,
    /// The file on disk differs from what this load found (or is not there).
    stale: bool,
    pub(crate) usage: CacheUse,
}

impl FileCache {
    /// The cache of the knowledge folder `dir`, kept in `cache_dir`: read when it is there
    /// and sound, else empty (with a warning when there was one that cannot be used).
    pub(crate) fn open(dir: &Path, cache_dir: &Path) -> FileCache {
        FileCache::open_settling(dir, cache_dir, SETTLE)
    }

    pub(crate) fn open_settling(dir: &Path, cache_dir: &Path, settle: Duration) -> FileCache {
        let folder = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let folder_text = folder.to_string_lossy();
        let name: String = Sha256::digest(folder_text.as_bytes())[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let file = cache_dir.join(format!("knowledge-{name}"));
        let key = format!(
            "format {FORMAT}; anbud {}; executable {}; folder {folder_text}",
            env!("CARGO_PKG_VERSION"),
            executable_identity()
        );
        let mut cache = FileCache {
            settled_before_ns: unix_ns(SystemTime::now()) - settle.as_nanos() as i128,
            file,
            key,
            records: HashMap::default(),
            keep: HashMap::default(),
            stale: true,
            usage: CacheUse::default(),
        };
        match read(&cache.file, &cache.key) {
            Ok(Some(records)) => {
                cache.records = records;
                cache.stale = false;
            }
            Ok(None) => {}
            Err(why) => {
                tracing::warn!(
                    file = %cache.file.display(),
                    "the cache of parsed knowledge files cannot be used ({why}); reading every file"
                );
                cache.usage.unusable = Some(why);
            }
        }
        cache
    }

    /// The entry and warnings of the file at `relative` (`entries/ID.LANG.md`, at `path`)
    /// when the cache holds this version of it.
    pub(crate) fn take(
        &mut self,
        relative: &str,
        stamp: Stamp,
        path: &Path,
    ) -> Option<(Entry, Vec<Problem>)> {
        let record = self.records.remove(relative)?;
        if record.stamp != stamp || !self.settled(stamp) {
            self.stale = true;
            return None;
        }
        let mut entry = record.entry;
        entry.path = Some(path.to_path_buf());
        let warnings = record
            .warnings
            .iter()
            .map(|(line, message)| Problem::warning(path, *line, message.clone()))
            .collect();
        self.keep
            .insert(relative.to_string(), (stamp, record.warnings));
        self.usage.cached += 1;
        Some((entry, warnings))
    }

    /// A file read and parsed (it was not in the cache, or had changed): stored when the
    /// load succeeds, unless it changed too recently to trust its stamp.
    pub(crate) fn parsed(&mut self, relative: &str, stamp: Option<Stamp>, warnings: &[Problem]) {
        self.usage.parsed += 1;
        self.stale = true;
        let Some(stamp) = stamp.filter(|s| self.settled(*s)) else {
            return;
        };
        let warnings = warnings
            .iter()
            .filter(|p| p.severity == Severity::Warning)
            .map(|p| (p.line, p.message.clone()))
            .collect();
        self.keep.insert(relative.to_string(), (stamp, warnings));
    }

    fn settled(&self, stamp: Stamp) -> bool {
        stamp.last_change_ns() < self.settled_before_ns
    }

    /// After a load without errors: write the cache when it differs from the file (a
    /// file changed, was added or removed, or the file was unusable). `entries` are all
    /// the loaded files' entries (entries, events and referrals), `dir` their folder.
    pub(crate) fn finish<'a>(&mut self, dir: &Path, entries: impl Iterator<Item = &'a Entry>) {
        // Files the cache held that this load did not list were removed.
        if !self.records.is_empty() {
            self.stale = true;
            self.records.clear();
        }
        if !self.stale {
            return;
        }
        match write(&self.file, &self.key, dir, entries, &self.keep) {
            Ok(()) => {
                self.usage.written = true;
                remove_stale(&self.file);
            }
            Err(e) => tracing::warn!(
                file = %self.file.display(),
                error = %e,
                "could not write the cache of parsed knowledge files"
            ),
        }
    }
}

/// Other folders' caches not written for a day, and temporary files of writes that
/// crashed, beside `ours`: best effort. (Tests load many temporary knowledge folders
/// with one `index.dir`; a cache removed under a folder still in use is written again at
/// its next start.)
fn remove_stale(ours: &Path) {
    let (Some(folder), Some(our_name)) = (ours.parent(), ours.file_name()) else {
        return;
    };
    let Ok(listing) = std::fs::read_dir(folder) else {
        return;
    };
    for item in listing.flatten() {
        let name = item.file_name();
        let text = name.to_string_lossy();
        let limit = if text.starts_with("knowledge-") {
            STALE_CACHE
        } else if text.starts_with(".knowledge-") {
            STALE_TEMPORARY
        } else {
            continue;
        };
        let age = item
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok());
        if name != our_name && age.is_some_and(|age| age > limit) {
            let _ = std::fs::remove_file(item.path());
        }
    }
}

/// Size and modification time of the running executable: a rebuilt binary (whose parser
/// may have changed) does not trust a cache another build wrote.
fn executable_identity() -> String {
    std::env::current_exe()
        .and_then(|exe| {
            let metadata = std::fs::metadata(&exe)?;
            Ok(format!(
                "{} {} {}",
                exe.display(),
                metadata.len(),
                metadata.modified().map(unix_ns).unwrap_or(0)
            ))
        })
        .unwrap_or_default()
}

/// Write the cache: a header naming `key`, the records in two parts (read on two
/// threads), each followed by its CRC-32, and the two parts' lengths. Streamed, a record
/// at a time.
fn write<'a>(
    file: &Path,
    key: &str,
    dir: &Path,
    entries: impl Iterator<Item = &'a Entry>,
    keep: &HashMap<String, Kept>,
) -> std::io::Result<()> {
    let Some(folder) = file.parent() else {
        return Err(std::io::Error::other("the cache has no folder"));
    };
    std::fs::create_dir_all(folder)?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = folder.join(format!(
        ".{name}-{}-{}",
        std::process::id(),
        unix_ns(SystemTime::now())
    ));
    let records: Vec<(&str, &Entry, &Kept)> = entries
        .filter_map(|entry| {
            let relative = relative_key(dir, entry.path.as_deref()?)?;
            let (relative, kept) = keep.get_key_value(&relative)?;
            Some((relative.as_str(), entry, kept))
        })
        .collect();
    let written = (|| {
        let mut out = BufWriter::with_capacity(1 << 16, std::fs::File::create(&temporary)?);
        let mut e = Encoder::default();
        e.bytes(MAGIC);
        e.u32(FORMAT);
        e.str(key);
        out.write_all(e.as_slice())?;
        let (first, second) = records.split_at(records.len() / 2);
        let mut lengths = [0u64; 2];
        for (part, length) in [first, second].into_iter().zip(&mut lengths) {
            let mut crc = crc32fast::Hasher::new();
            e.clear();
            e.len(part.len());
            for (relative, entry, (stamp, warnings)) in part {
                e.str(relative);
                stamp.encode(&mut e);
                encode_entry(&mut e, entry).map_err(std::io::Error::other)?;
                e.len(warnings.len());
                for (line, message) in warnings {
                    e.u64(*line as u64);
                    e.str(message);
                }
                crc.update(e.as_slice());
                out.write_all(e.as_slice())?;
                *length += e.as_slice().len() as u64;
                e.clear();
            }
            out.write_all(&crc.finalize().to_le_bytes())?;
        }
        for length in lengths {
            out.write_all(&length.to_le_bytes())?;
        }
        let file_handle = out.into_inner().map_err(|e| e.into_error())?;
        file_handle.sync_all()?;
        std::fs::rename(&temporary, file)?;
        if let Ok(parent) = std::fs::File::open(folder) {
            let _ = parent.sync_all();
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// `entries/ID.LANG.md` for a file under `dir`, `/` between the parts.
pub(crate) fn relative_key(dir: &Path, path: &Path) -> Option<String> {
    let relative = path.strip_prefix(dir).ok()?;
    let parts: Vec<&str> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()?;
    Some(parts.join("/"))
}

/// A reader that keeps the CRC-32 of what was read through it.
struct Checked<R> {
    inner: R,
    crc: crc32fast::Hasher,
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

type Records = HashMap<String, Record>;

/// The records of the cache at `file` when it is there and written for `key`:
/// `Ok(None)` when there is none, `Err(reason)` when there is one that cannot be used.
fn read(file: &Path, key: &str) -> Result<Option<Records>, String> {
    // One open file for the header, both parts and the bodies left in it: a cache
    // renamed over this one meanwhile does not mix two files.
    let handle = match BodyFile::open(file) {
        Ok(handle) => Arc::new(handle),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("reading it: {e}")),
    };
    let size = handle
        .file()
        .metadata()
        .map_err(|e| format!("reading it: {e}"))?
        .len();
    // The lengths of the two parts, at the end.
    let mut tail = [0u8; 16];
    if size < 16 {
        return Err("truncated".into());
    }
    handle
        .read_exact_at(&mut tail, size - 16)
        .map_err(|e| format!("reading it: {e}"))?;
    let first = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
    let second = u64::from_le_bytes(tail[8..].try_into().unwrap_or_default());
    let header = first
        .checked_add(second)
        .and_then(|parts| parts.checked_add(4 + 4 + 16))
        .and_then(|fixed| size.checked_sub(fixed))
        .ok_or("lengths beyond its size")?;
    // Decoding checks every length; this keeps a mistake in that from taking the
    // process down on a damaged file.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        std::thread::scope(|scope| {
            let later = scope.spawn(|| read_part(&handle, header + first + 4, second));
            let records =
                read_header(&handle, header, key).and_then(|()| read_part(&handle, header, first));
            let later = later
                .join()
                .unwrap_or_else(|_| Err(Corrupt("reading it panicked".into())));
            let (mut records, later) = (records?, later?);
            for (relative, record) in later {
                if records.insert(relative, record).is_some() {
                    return Err(Corrupt("a file listed twice".into()));
                }
            }
            Ok(records)
        })
    }));
    match decoded {
        Ok(Ok(records)) => Ok(Some(records)),
        Ok(Err(c)) => Err(c.0),
        Err(_) => Err("reading it panicked".into()),
    }
}

/// Check the header, the first `length` bytes of `file`: this format, for `key`.
fn read_header(file: &BodyFile, length: u64, key: &str) -> Result<(), Corrupt> {
    let mut d = Decoder::over(BufReader::new(file.range(0, length)), length);
    if d.bytes()? != MAGIC {
        return Err(Corrupt("not a cache of knowledge files".into()));
    }
    let format = d.u32()?;
    if format != FORMAT {
        return Err(Corrupt(format!("format {format}, not {FORMAT}")));
    }
    if d.string()? != key {
        return Err(Corrupt(
            "written for another folder or another build of anbud".into(),
        ));
    }
    d.finished()
}

/// The records of the part of `file` at `start`, `length` bytes and its CRC-32; their
/// bodies are left in `file`.
fn read_part(file: &Arc<BodyFile>, start: u64, length: u64) -> Result<Records, Corrupt> {
    let reading = |e: std::io::Error| Corrupt(format!("reading it: {e}"));
    let checked = Checked {
        inner: file.range(start, length),
        crc: crc32fast::Hasher::new(),
    };
    let mut d = Decoder::over(BufReader::with_capacity(1 << 17, checked), length);
    let part = PartPlace {
        file: Arc::clone(file),
        end: start + length,
    };
    let n = d.len(64)?;
    let mut records = HashMap::with_capacity_and_hasher(n, Default::default());
    let mut shared = SharedTexts::default();
    for _ in 0..n {
        let relative = d.string()?;
        let stamp = Stamp::decode(&mut d)?;
        let entry = decode_entry(&mut d, &part, &mut shared)?;
        let count = d.len(16)?;
        let mut warnings = Vec::with_capacity(count);
        for _ in 0..count {
            warnings.push((d.u64()? as usize, d.string()?));
        }
        let record = Record {
            stamp,
            entry,
            warnings,
        };
        if records.insert(relative, record).is_some() {
            return Err(Corrupt("a file listed twice".into()));
        }
    }
    d.finished()?;
    let crc = d.source().get_ref().crc.clone().finalize();
    let mut expected = [0u8; 4];
    file.read_exact_at(&mut expected, start + length)
        .map_err(reading)?;
    if crc != u32::from_le_bytes(expected) {
        return Err(Corrupt("its contents do not match their checksum".into()));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{load_dir, load_dir_counting, KnowledgeBase, Lang};

    fn entry_file(id: &str, lang: &str, title: &str) -> String {
        format!(
            "+++\nid = \"{id}\"\nlang = \"{lang}\"\ntitle = \"{title}\"\nquestions = [\"{title} a\", \"{title} b\", \"{title} c\", \"{title} d\", \"{title} e\"]\nreviewed = \"2026-01-02\"\n\n[[sources]]\nname = \"Lovdata\"\nurl = \"https://lovdata.no/forskrift/2016-08-12-974\"\n\n[[facts]]\ntext = \"Terskel: 1,3 millioner\"\nchecked = \"2026-11-30\"\nsource = \"DFØ\"\n+++\n{title}: first paragraph.\n\n### More\n\nDetail.\n"
        )
    }

    const EVENT: &str = "+++\nid = \"conference\"\nlang = \"nb\"\ntitle = \"Konferanse\"\nquestions = [\"a\", \"b\", \"c\", \"d\", \"e\"]\nreviewed = \"2026-01-02\"\n\n[event]\nstart = \"2027-03-01 09:00\"\nend = \"2027-03-01 15:30\"\nvenue = \"Oslo\"\naudience = \"Leverandører\"\n\n[[sources]]\nname = \"DFØ\"\nurl = \"https://anskaffelser.no/arrangementer/konferanse\"\n+++\nKonferansen.\n";

    /// A knowledge folder with two entries in both languages, an event and a referral.
    fn folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["entries", "events", "referrals"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        write_both(
            dir.path(),
            "entries",
            "thresholds",
            ["Terskelverdier", "Thresholds"],
        );
        write_both(
            dir.path(),
            "entries",
            "dialogue",
            ["Dialogkonferanse", "Dialogue"],
        );
        write(dir.path(), "events/conference.nb.md", EVENT);
        write(
            dir.path(),
            "events/conference.en.md",
            &EVENT.replace("\"nb\"", "\"en\""),
        );
        write_both(dir.path(), "referrals", "tax", ["Skatt", "Tax"]);
        dir
    }

    /// The entry `id` in Bokmål and English under `sub`, titled `titles`.
    fn write_both(dir: &Path, sub: &str, id: &str, titles: [&str; 2]) {
        for (lang, title) in ["nb", "en"].into_iter().zip(titles) {
            let file = format!("{sub}/{id}.{lang}.md");
            write(dir, &file, &entry_file(id, lang, title));
        }
    }

    fn write(dir: &Path, relative: &str, text: &str) {
        std::fs::write(dir.join(relative), text).unwrap();
    }

    /// One start: the cache opened (every file older than now counts as settled).
    fn start(dir: &Path, cache_dir: &Path) -> (KnowledgeBase, Vec<Problem>, CacheUse) {
        // File times may lag the clock by a tick: let the files be strictly older.
        std::thread::sleep(Duration::from_millis(30));
        let mut cache = FileCache::open_settling(dir, cache_dir, Duration::ZERO);
        let (kb, problems) = load_dir_counting(dir, &mut cache).unwrap();
        (kb, problems, cache.usage)
    }

    /// The most copies in memory of any one of the texts that entries repeat: the name
    /// and address of the source every test entry cites, and the text of its fact.
    fn shared_copies(kb: &KnowledgeBase) -> usize {
        let copies = |texts: Vec<&Arc<str>>| {
            assert!(texts.len() >= 4, "{} entries repeat it", texts.len());
            let distinct: std::collections::HashSet<*const u8> = texts
                .into_iter()
                .map(|t| Arc::as_ptr(t) as *const u8)
                .collect();
            distinct.len()
        };
        let lovdata = || {
            kb.entries
                .iter()
                .flat_map(|e| &e.sources)
                .filter(|s| &*s.name == "Lovdata")
        };
        let facts = kb.entries.iter().flat_map(|e| &e.facts).map(|f| &f.text);
        [
            copies(lovdata().map(|s| &s.name).collect()),
            copies(lovdata().map(|s| &s.url).collect()),
            copies(facts.collect()),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    fn assert_same(kb: &KnowledgeBase, problems: &[Problem], dir: &Path) {
        let (expected, expected_problems) = load_dir(dir).unwrap();
        // The index's fingerprint takes the SHA-256 of bodies and example questions
        // recorded in the cache: the same as of the texts parsed.
        assert_eq!(
            crate::search::on_disk::fingerprint(kb),
            crate::search::on_disk::fingerprint(&expected)
        );
        assert_eq!(kb.entries, expected.entries);
        // Exported (and shown on the web pages) as parsed, example questions included.
        assert_eq!(
            serde_json::to_string(&kb.entries).unwrap(),
            serde_json::to_string(&expected.entries).unwrap()
        );
        assert_eq!(kb.referrals, expected.referrals);
        for (a, b) in kb.entries.iter().zip(&expected.entries) {
            let lines = |e: &Entry| e.facts.iter().map(|f| f.line).collect::<Vec<_>>();
            assert_eq!(lines(a), lines(b));
        }
        assert_eq!(problems, expected_problems);
    }

    #[test]
    fn an_unchanged_file_comes_from_the_cache_and_a_change_is_seen_at_the_next_load() {
        let dir = folder();
        let cache_dir = tempfile::tempdir().unwrap();

        let (kb, problems, usage) = start(dir.path(), cache_dir.path());
        assert_eq!((usage.cached, usage.parsed, usage.written), (0, 8, true));
        assert!(!problems.is_empty(), "the vague sources are warned about");
        assert_same(&kb, &problems, dir.path());
        assert_eq!(shared_copies(&kb), 1, "one copy when every file is parsed");
        assert!(kb.entries.iter().any(|e| e.event.is_some()));

        let (kb, problems, usage) = start(dir.path(), cache_dir.path());
        assert_eq!((usage.cached, usage.parsed, usage.written), (8, 0, false));
        // Bodies and example questions stay in the cache file until asked for.
        assert!(kb
            .entries
            .iter()
            .all(|e| !e.body.is_held() && !e.questions.is_held()));
        assert_same(&kb, &problems, dir.path());
        assert!(
            shared_copies(&kb) <= 2,
            "one copy in each half of the cache"
        );

        // The same size, another title: only the file's times tell.
        let file = "entries/thresholds.en.md";
        let changed = entry_file("thresholds", "en", "Thresholdz");
        assert_eq!(
            changed.len(),
            std::fs::metadata(dir.path().join(file)).unwrap().len() as usize
        );
        write(dir.path(), file, &changed);
        let (kb, problems, usage) = start(dir.path(), cache_dir.path());
        assert_eq!((usage.cached, usage.parsed, usage.written), (7, 1, true));
        assert_eq!(
            kb.entry("thresholds", Lang::En).unwrap().title,
            "Thresholdz"
        );
        assert_same(&kb, &problems, dir.path());

        // Added and removed files.
        std::fs::remove_file(dir.path().join("entries/dialogue.nb.md")).unwrap();
        std::fs::remove_file(dir.path().join("entries/dialogue.en.md")).unwrap();
        write_both(dir.path(), "entries", "new", ["Ny", "New"]);
        let (kb, problems, usage) = start(dir.path(), cache_dir.path());
        assert_eq!((usage.cached, usage.parsed, usage.written), (6, 2, true));
        assert!(kb.entry("dialogue", Lang::Nb).is_none());
        assert_eq!(kb.entry("new", Lang::En).unwrap().title, "New");
        assert_same(&kb, &problems, dir.path());

        let (_, _, usage) = start(dir.path(), cache_dir.path());
        assert_eq!((usage.cached, usage.parsed, usage.written), (8, 0, false));
    }

    #[test]
    fn a_file_changed_just_before_a_load_is_not_trusted_to_its_stamp() {
        let dir = folder();
        let cache_dir = tempfile::tempdir().unwrap();
        // Every file is younger than SETTLE: read every time, never stored.
        for _ in 0..2 {
            let mut cache = FileCache::open(dir.path(), cache_dir.path());
            let (kb, problems) = load_dir_counting(dir.path(), &mut cache).unwrap();
            assert_eq!((cache.usage.cached, cache.usage.parsed), (0, 8));
            assert_same(&kb, &problems, dir.path());
        }
    }

    #[test]
    fn a_damaged_or_foreign_cache_is_not_used_and_is_written_anew() {
        let dir = folder();
        let cache_dir = tempfile::tempdir().unwrap();
        start(dir.path(), cache_dir.path());
        let files: Vec<PathBuf> = std::fs::read_dir(cache_dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(
            files.len(),
            1,
            "one cache file, no temporary left: {files:?}"
        );
        let file = &files[0];
        let good = std::fs::read(file).unwrap();

        let damaged: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"garbage".to_vec(),
            good[..good.len() / 2].to_vec(),
            {
                let mut flipped = good.clone();
                let middle = flipped.len() / 2;
                flipped[middle] ^= 0x40;
                flipped
            },
            {
                let mut longer = good.clone();
                longer.push(0);
                longer
            },
        ];
        for bytes in damaged {
            std::fs::write(file, &bytes).unwrap();
            let (kb, problems, usage) = start(dir.path(), cache_dir.path());
            assert!(usage.unusable.is_some(), "{} bytes: {usage:?}", bytes.len());
            assert_eq!((usage.cached, usage.parsed, usage.written), (0, 8, true));
            assert_same(&kb, &problems, dir.path());
            assert_eq!(std::fs::read(file).unwrap(), good, "written anew");
        }

        // Another folder's cache under this folder's name: not used.
        let other = folder();
        write(
            other.path(),
            "entries/thresholds.nb.md",
            &entry_file("thresholds", "nb", "Annen"),
        );
        let other_cache = tempfile::tempdir().unwrap();
        start(other.path(), other_cache.path());
        let other_file = std::fs::read_dir(other_cache.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::copy(other_file, file).unwrap();
        let (kb, problems, usage) = start(dir.path(), cache_dir.path());
        assert!(
            usage
                .unusable
                .as_deref()
                .unwrap_or("")
                .contains("another folder"),
            "{usage:?}"
        );
        assert_eq!(
            kb.entry("thresholds", Lang::Nb).unwrap().title,
            "Terskelverdier"
        );
        assert_same(&kb, &problems, dir.path());
    }

    #[test]
    fn old_caches_of_other_folders_and_crashed_writes_are_removed() {
        let dir = folder();
        let cache_dir = tempfile::tempdir().unwrap();
        let old = SystemTime::now() - Duration::from_secs(2 * 24 * 3600);
        let plant = |name: &str, modified: SystemTime| {
            let path = cache_dir.path().join(name);
            std::fs::write(&path, b"x").unwrap();
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(modified).unwrap();
            path
        };
        let stale = plant("knowledge-0000000000000000", old);
        let crashed = plant(".knowledge-0000000000000000-1-2", old);
        let recent = plant("knowledge-1111111111111111", SystemTime::now());
        let unrelated = plant("notes", old);
        let (_, _, usage) = start(dir.path(), cache_dir.path());
        assert!(usage.written);
        assert!(!stale.exists() && !crashed.exists());
        assert!(recent.exists() && unrelated.exists());
    }

    #[test]
    fn a_load_with_errors_writes_no_cache() {
        let dir = folder();
        let cache_dir = tempfile::tempdir().unwrap();
        write(dir.path(), "entries/broken.nb.md", "no front matter");
        std::thread::sleep(Duration::from_millis(30));
        let mut cache = FileCache::open_settling(dir.path(), cache_dir.path(), Duration::ZERO);
        assert!(load_dir_counting(dir.path(), &mut cache).is_err());
        assert!(!cache.usage.written);
        assert_eq!(std::fs::read_dir(cache_dir.path()).unwrap().count(), 0);
    }
}
