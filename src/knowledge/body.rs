//! An entry's body (its Markdown answer): held in memory, or left in the cache of parsed
//! knowledge files and read from there when something needs it.
//!
//! At 10,000 entries (20,000 files) the bodies were the largest holder of a second
//! start's memory (42 MB of a 175 MB heap), and a running bot reads only the few it
//! replies with. A start that takes an entry from the cache (see [`super::cache`]) keeps
//! its body where the cache file holds it: the file stays open (a cache written later is
//! renamed over it, which leaves this open file as it was), and a body is read with one
//! positional read, checked against the CRC-32 taken when the cache was loaded.
//!
//! A body also knows its SHA-256 (recorded in the cache, or computed once for a body in
//! memory), so that the index's fingerprint need not read every body at every start.

use std::borrow::Cow;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};

use super::entry::{parse_entry_file, Entry};
use super::texts::TextList;

impl Entry {
    /// The body's text. An entry from the cache of parsed files reads it from there; when
    /// that fails (the cache file damaged under the running process), from the entry's
    /// own file, with a log line.
    pub fn body_text(&self) -> Cow<'_, str> {
        match self.body.read() {
            Ok(text) => text,
            Err(why) => {
                tracing::error!(id = %self.id, lang = %self.lang, error = %why, "an entry's body cannot be read from the cache; reading its file");
                Cow::Owned(self.body_from_file().unwrap_or_default())
            }
        }
    }

    /// The body as the entry's file gives it now.
    fn body_from_file(&self) -> Option<String> {
        match self.as_in_own_file()?.body.read() {
            Ok(body) => Some(body.into_owned()),
            Err(_) => None,
        }
    }

    /// The entry as its own file gives it now (`None`, with a log line when the file
    /// cannot be read, for an entry without one or a file that no longer parses).
    fn as_in_own_file(&self) -> Option<Entry> {
        let path = self.path.as_deref()?;
        let text = super::read_knowledge_file(path)
            .map_err(|e| tracing::error!(file = %path.display(), error = %e, "cannot read a knowledge file"))
            .ok()?;
        parse_entry_file(path, &text).ok().map(|(entry, _)| entry)
    }

    /// The example questions, without keeping them in memory when the cache of parsed
    /// files holds them (building the index reads every entry's once); when they cannot
    /// be read from there, from the entry's own file, with a log line.
    pub fn questions_text(&self) -> Cow<'_, TextList> {
        match self.questions.read() {
            Ok(questions) => questions,
            Err(why) => {
                tracing::error!(id = %self.id, lang = %self.lang, error = %why, "an entry's example questions cannot be read from the cache; reading its file");
                Cow::Owned(
                    self.as_in_own_file()
                        .map(|e| e.questions)
                        .unwrap_or_default(),
                )
            }
        }
    }

    /// The entry with its body's text in memory: a reply reads it several times.
    pub fn with_body_held(self) -> Entry {
        if self.body.is_held() {
            return self;
        }
        let body = Body::from(self.body_text().into_owned());
        Entry { body, ..self }
    }
}

/// An entry's body; see the module's notes.
#[derive(Clone)]
pub struct Body(Place);

#[derive(Clone)]
enum Place {
    /// The text itself (parsed from a file, taught by an adviser, built in code).
    Held {
        text: String,
        digest: OnceLock<[u8; 32]>,
    },
    /// Where the cache file holds the text.
    Stored(StoredBody),
}

#[derive(Clone)]
struct StoredBody {
    file: Arc<BodyFile>,
    offset: u64,
    len: u32,
    /// CRC-32 of the text, taken as the cache was read.
    crc: u32,
    /// SHA-256 of the text, as the cache recorded it.
    digest: [u8; 32],
}

/// Why a stored body could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum BodyUnreadable {
    #[error("reading the cache of parsed knowledge files: {0}")]
    Io(#[from] std::io::Error),
    #[error("the cache of parsed knowledge files changed under the running process")]
    Changed,
}

impl Body {
    /// The body's SHA-256, as the index's fingerprint takes it.
    pub fn digest(&self) -> [u8; 32] {
        match &self.0 {
            Place::Held { text, digest } => *digest.get_or_init(|| digest_of(text)),
            Place::Stored(stored) => stored.digest,
        }
    }

    /// The text: borrowed when held, else read from the cache file.
    pub(crate) fn read(&self) -> Result<Cow<'_, str>, BodyUnreadable> {
        match &self.0 {
            Place::Held { text, .. } => Ok(Cow::Borrowed(text)),
            Place::Stored(stored) => stored.read().map(Cow::Owned),
        }
    }

    /// Whether the text is in memory (a reply's entry always has it so).
    pub fn is_held(&self) -> bool {
        matches!(self.0, Place::Held { .. })
    }

    /// The body `len` bytes at `offset` of `file`, whose text has CRC-32 `crc` and
    /// SHA-256 `digest`.
    pub(crate) fn stored(
        file: Arc<BodyFile>,
        offset: u64,
        len: u32,
        crc: u32,
        digest: [u8; 32],
    ) -> Body {
        Body(Place::Stored(StoredBody {
            file,
            offset,
            len,
            crc,
            digest,
        }))
    }
}

/// SHA-256 of a body's text.
pub(crate) fn digest_of(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

impl StoredBody {
    fn read(&self) -> Result<String, BodyUnreadable> {
        let bytes = self.file.read_checked(self.offset, self.len, self.crc)?;
        String::from_utf8(bytes).map_err(|_| BodyUnreadable::Changed)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Body {
        Body(Place::Held {
            text,
            digest: OnceLock::new(),
        })
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Body {
        Body::from(text.to_string())
    }
}

/// Two bodies are equal when their texts are (a stored one unreadable is equal to none).
impl PartialEq for Body {
    fn eq(&self, other: &Body) -> bool {
        if let (Place::Stored(a), Place::Stored(b)) = (&self.0, &other.0) {
            if Arc::ptr_eq(&a.file, &b.file) && a.offset == b.offset {
                return true;
            }
        }
        match (self.read(), other.read()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Place::Held { text, .. } => text.fmt(f),
            Place::Stored(stored) => write!(
                f,
                "<{} bytes at {} of {}>",
                stored.len,
                stored.offset,
                stored.file.path.display()
            ),
        }
    }
}

/// Serialised as its text (an unreadable stored body as an empty one, with a log line).
impl serde::Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.read() {
            Ok(text) => serializer.serialize_str(&text),
            Err(why) => {
                tracing::error!(error = %why, "an entry's body cannot be read");
                serializer.serialize_str("")
            }
        }
    }
}

/// The cache file that stored bodies are read from, open for as long as any of them
/// lives.
pub(crate) struct BodyFile {
    file: File,
    /// For log lines.
    path: std::path::PathBuf,
}

impl BodyFile {
    pub(crate) fn open(path: &Path) -> std::io::Result<BodyFile> {
        Ok(BodyFile {
            file: File::open(path)?,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Fill `buf` from `offset`, without moving a shared file position (two threads read
    /// the cache's two parts through one open file).
    pub(crate) fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
        }
        #[cfg(windows)]
        {
            let (mut buf, mut offset) = (buf, offset);
            while !buf.is_empty() {
                match std::os::windows::fs::FileExt::seek_read(&self.file, buf, offset) {
                    Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => {
                        buf = &mut buf[n..];
                        offset += n as u64;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
    }

    /// The `len` bytes at `offset`, which must have CRC-32 `crc` (what the cache held
    /// when it was read).
    pub(crate) fn read_checked(
        &self,
        offset: u64,
        len: u32,
        crc: u32,
    ) -> Result<Vec<u8>, BodyUnreadable> {
        let mut bytes = vec![0u8; len as usize];
        self.read_exact_at(&mut bytes, offset)?;
        if crc32fast::hash(&bytes) != crc {
            return Err(BodyUnreadable::Changed);
        }
        Ok(bytes)
    }

    /// A reader of `len` bytes from `offset`.
    pub(crate) fn range(&self, offset: u64, len: u64) -> FileRange<'_> {
        FileRange {
            file: self,
            offset,
            end: offset.saturating_add(len),
        }
    }
}

/// A stretch of a [`BodyFile`], read in order with positional reads.
pub(crate) struct FileRange<'a> {
    file: &'a BodyFile,
    offset: u64,
    end: u64,
}

impl std::io::Read for FileRange<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.end.saturating_sub(self.offset);
        let n = (buf.len() as u64).min(left) as usize;
        if n == 0 {
            return Ok(0);
        }
        #[cfg(unix)]
        let read =
            std::os::unix::fs::FileExt::read_at(&self.file.file, &mut buf[..n], self.offset)?;
        #[cfg(windows)]
        let read =
            std::os::windows::fs::FileExt::seek_read(&self.file.file, &mut buf[..n], self.offset)?;
        self.offset += read as u64;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_body_reads_back_and_a_changed_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache");
        let text = "Første avsnitt.\n\n### Mer\n\nDetalj.";
        std::fs::write(&path, format!("xx{text}yy")).unwrap();
        let file = Arc::new(BodyFile::open(&path).unwrap());
        let crc = crc32fast::hash(text.as_bytes());
        let stored = Body::stored(file.clone(), 2, text.len() as u32, crc, digest_of(text));
        assert!(!stored.is_held());
        assert_eq!(stored.read().unwrap(), text);
        assert_eq!(stored, Body::from(text));
        assert_eq!(stored.digest(), Body::from(text).digest());

        // Overwritten in place (a cache is never written so, but a person might).
        std::fs::write(&path, format!("xx{}yy", text.replace('F', "f"))).unwrap();
        assert!(matches!(stored.read(), Err(BodyUnreadable::Changed)));
        assert_ne!(stored, Body::from(text));
    }
}
