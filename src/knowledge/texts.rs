//! A short list of texts (an entry's example questions or keywords) kept in two
//! allocations rather than one per text, or left in the cache of parsed files.
//!
//! At 10,000 entries (20,000 files) the example questions and keywords as a
//! `Vec<String>` each were some 200,000 allocations and the largest holder of a second
//! start's memory after the bodies were left on disk (about 33 MB of a 113 MB heap): a
//! short string costs its header and the allocator's overhead as much as its text.
//! Here the texts are written one after the other in one `Box<str>`, with where each
//! ends in a `Box<[u32]>`.
//!
//! The example questions were still the largest part (about 25 MB) after that, and a
//! running bot does not read them: answering uses the index's numbered terms. An entry
//! taken from the cache of parsed files leaves them there, as its body (see
//! [`super::body`]): it keeps where the list is, its CRC-32 and its SHA-256 (for the
//! index's fingerprint). They are read, once, when something asks for the texts (a web
//! page, an export); building the index reads them with [`TextList::read`], which does
//! not keep them.

use std::borrow::Cow;
use std::fmt;
use std::io::Read;
use std::sync::{Arc, LazyLock, OnceLock};

use sha2::{Digest, Sha256};

use super::body::{BodyFile, BodyUnreadable};
use crate::search::{Corrupt, Decoder, Encoder};

/// Texts in order, read as `&str`; see the module's notes.
#[derive(Clone)]
pub struct TextList(Place);

#[derive(Clone)]
enum Place {
    Held(Held),
    Stored(Box<StoredTexts>),
}

#[derive(Clone, Default)]
struct Held {
    /// The texts one after the other.
    joined: Box<str>,
    /// Where each text ends in `joined`.
    ends: Box<[u32]>,
}

/// A list left in the cache file: its encoding ([`TextList::encoded`]) is `len` bytes
/// at `offset`.
#[derive(Clone)]
struct StoredTexts {
    file: Arc<BodyFile>,
    offset: u64,
    len: u32,
    count: u32,
    /// CRC-32 of the encoding, taken as the cache was read.
    crc: u32,
    /// SHA-256 of the encoding, as the cache recorded it.
    digest: [u8; 32],
    /// The texts, once something asked for them.
    held: OnceLock<Held>,
}

/// What a list that cannot be read shows (with a log line).
static UNREADABLE: LazyLock<Held> = LazyLock::new(Held::default);

impl Default for TextList {
    fn default() -> TextList {
        TextList(Place::Held(Held::default()))
    }
}

impl TextList {
    /// No texts.
    pub fn new() -> TextList {
        TextList::default()
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Place::Held(held) => held.ends.len(),
            Place::Stored(stored) => stored.count as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The texts themselves: a stored list is read (once) from the cache file.
    fn held(&self) -> &Held {
        match &self.0 {
            Place::Held(held) => held,
            Place::Stored(stored) => {
                if let Some(held) = stored.held.get() {
                    return held;
                }
                match stored.read() {
                    Ok(held) => stored.held.get_or_init(|| held),
                    Err(why) => {
                        tracing::error!(error = %why, "an entry's example questions cannot be read from the cache of parsed files");
                        &UNREADABLE
                    }
                }
            }
        }
    }

    /// The list with its texts in memory, without keeping a stored list's texts (for
    /// reading every entry's once, as building the index does).
    pub fn read(&self) -> Result<Cow<'_, TextList>, BodyUnreadable> {
        match &self.0 {
            Place::Stored(stored) if stored.held.get().is_none() => {
                Ok(Cow::Owned(TextList(Place::Held(stored.read()?))))
            }
            _ => Ok(Cow::Borrowed(self)),
        }
    }

    /// Whether the texts are in memory.
    pub fn is_held(&self) -> bool {
        matches!(self.0, Place::Held(_))
    }

    /// The `i`th text.
    pub fn get(&self, i: usize) -> Option<&str> {
        let held = self.held();
        (i < held.ends.len()).then(|| held.text(i))
    }

    /// The list as the cache of parsed files writes it: the number of texts, then each
    /// with its length ([`Encoder::strings`]).
    pub(crate) fn encoded(&self) -> Result<Vec<u8>, BodyUnreadable> {
        let list = self.read()?;
        let mut e = Encoder::default();
        e.strings(list.iter());
        Ok(e.as_slice().to_vec())
    }

    /// SHA-256 of [`TextList::encoded`], as the index's fingerprint takes it (recorded in
    /// the cache for a stored list).
    pub fn digest(&self) -> [u8; 32] {
        match &self.0 {
            Place::Stored(stored) => stored.digest,
            Place::Held(_) => {
                let mut e = Encoder::default();
                e.strings(self.iter());
                Sha256::digest(e.as_slice()).into()
            }
        }
    }

    /// The list whose encoding is `len` bytes at `offset` of `file`, with CRC-32 `crc`
    /// and SHA-256 `digest`; `head` is the encoding's first eight bytes (the count).
    pub(crate) fn stored(
        file: Arc<BodyFile>,
        offset: u64,
        len: u32,
        head: [u8; 8],
        crc: u32,
        digest: [u8; 32],
    ) -> Result<TextList, Corrupt> {
        let count = u32::try_from(u64::from_le_bytes(head))
            .map_err(|_| Corrupt("a list too long".into()))?;
        Ok(TextList(Place::Stored(Box::new(StoredTexts {
            file,
            offset,
            len,
            count,
            crc,
            digest,
            held: OnceLock::new(),
        }))))
    }

    /// The list from its encoding ([`TextList::encoded`]), `len` bytes of `d`.
    pub(crate) fn decode(d: &mut Decoder<impl Read>) -> Result<TextList, Corrupt> {
        let n = d.len(8)?;
        let mut list = TextListBuilder::default();
        for _ in 0..n {
            let len = d.len(1)?;
            let text = std::str::from_utf8(d.take(len)?)
                .map_err(|_| Corrupt("text that is not UTF-8".into()))?;
            list.push(text);
        }
        Ok(list.finish())
    }

    pub fn first(&self) -> Option<&str> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&str> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> Iter<'_> {
        let held = self.held();
        Iter {
            held,
            front: 0,
            back: held.ends.len(),
        }
    }

    /// Whether `text` is one of the texts.
    pub fn contains(&self, text: &str) -> bool {
        self.iter().any(|t| t == text)
    }

    /// Add `text` at the end (copies the list: lists are short and rarely added to).
    pub fn push(&mut self, text: &str) {
        *self = self.iter().chain(std::iter::once(text)).collect();
    }

    /// The texts with `separator` between them.
    pub fn join(&self, separator: &str) -> String {
        let mut out =
            String::with_capacity(self.held().joined.len() + separator.len() * self.len());
        for (i, text) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(separator);
            }
            out.push_str(text);
        }
        out
    }

    /// The texts as strings of their own.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_string).collect()
    }
}

/// The texts of a [`TextList`], in order.
#[derive(Clone)]
pub struct Iter<'a> {
    held: &'a Held,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        Some(self.held.text(self.front - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.held.text(self.back))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl Held {
    /// The `i`th text (`i` below the count).
    fn text(&self, i: usize) -> &str {
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        &self.joined[start..self.ends[i] as usize]
    }
}

impl StoredTexts {
    fn read(&self) -> Result<Held, BodyUnreadable> {
        let bytes = self.file.read_checked(self.offset, self.len, self.crc)?;
        let mut d = Decoder::over(&bytes[..], bytes.len() as u64);
        let list = TextList::decode(&mut d).map_err(|_| BodyUnreadable::Changed)?;
        d.finished().map_err(|_| BodyUnreadable::Changed)?;
        match list.0 {
            Place::Held(held) if held.ends.len() == self.count as usize => Ok(held),
            _ => Err(BodyUnreadable::Changed),
        }
    }
}

impl<'a> IntoIterator for &'a TextList {
    type Item = &'a str;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// A [`TextList`] being written, text by text; [`TextListBuilder::finish`] allocates it
/// at its exact size (a list shrunk from a grown `String` kept the spare room or moved).
#[derive(Default)]
pub(crate) struct TextListBuilder {
    joined: String,
    ends: Vec<u32>,
}

impl TextListBuilder {
    pub(crate) fn push(&mut self, text: &str) {
        self.joined.push_str(text);
        // Lists are a few short texts; one over 4 GB could not have been read.
        let end = u32::try_from(self.joined.len()).unwrap_or(u32::MAX);
        self.ends.push(end);
    }

    /// The list, leaving the builder empty for the next.
    pub(crate) fn finish(&mut self) -> TextList {
        let list = TextList(Place::Held(Held {
            joined: Box::from(self.joined.as_str()),
            ends: Box::from(self.ends.as_slice()),
        }));
        self.joined.clear();
        self.ends.clear();
        list
    }
}

impl<S: AsRef<str>> FromIterator<S> for TextList {
    fn from_iter<I: IntoIterator<Item = S>>(items: I) -> TextList {
        let mut builder = TextListBuilder::default();
        for item in items {
            builder.push(item.as_ref());
        }
        builder.finish()
    }
}

impl From<Vec<String>> for TextList {
    fn from(items: Vec<String>) -> TextList {
        items.into_iter().collect()
    }
}

impl From<&[String]> for TextList {
    fn from(items: &[String]) -> TextList {
        items.iter().collect()
    }
}

impl<const N: usize> From<[&str; N]> for TextList {
    fn from(items: [&str; N]) -> TextList {
        items.into_iter().collect()
    }
}

impl std::ops::Index<usize> for TextList {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(text) => text,
            None => panic!("text {i} of a list of {}", self.len()),
        }
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for TextList {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for TextList {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for TextList {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

/// Two lists are equal when their texts are.
impl PartialEq for TextList {
    fn eq(&self, other: &TextList) -> bool {
        let (a, b) = (self.held(), other.held());
        a.ends == b.ends && a.joined == b.joined
    }
}

impl Eq for TextList {}

impl fmt::Debug for TextList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Place::Stored(stored) if stored.held.get().is_none() => write!(
                f,
                "<{} texts, {} bytes at {}>",
                stored.count, stored.len, stored.offset
            ),
            _ => f.debug_list().entries(self.iter()).finish(),
        }
    }
}

/// Serialised as a sequence of strings, as a `Vec<String>` is.
impl serde::Serialize for TextList {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for TextList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<TextList, D::Error> {
        Vec::<String>::deserialize(deserializer).map(TextList::from)
    }
}

/// One copy of each text that entries repeat: the names and addresses of sources and the
/// facts. Every entry cites its sources in both languages, and many entries cite the
/// same few, so one copy of each was 16 MB less at 10,000 generated entries. Used as
/// files are parsed (one for the whole load) and as the parsed-files cache is read (one
/// for each half, read on its own thread: at most two copies).
#[derive(Default)]
pub(crate) struct SharedTexts(rustc_hash::FxHashSet<Arc<str>>);

impl SharedTexts {
    /// `text`, shared with an equal one seen before.
    pub(crate) fn text(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(text) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = text.into();
        self.0.insert(Arc::clone(&shared));
        shared
    }

    /// Point `entry`'s sources and facts at the shared copies (its own are dropped).
    pub(crate) fn share(&mut self, entry: &mut super::Entry) {
        for source in &mut entry.sources {
            source.name = self.text(&source.name);
            source.url = self.text(&source.url);
        }
        for fact in &mut entry.facts {
            fact.text = self.text(&fact.text);
            fact.source = self.text(&fact.source);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_read_back_in_order_whatever_they_hold() {
        let texts = ["Hva er en rammeavtale?", "", "første\n+++\nandre", "ø"];
        let list: TextList = texts.iter().collect();
        assert_eq!(list.len(), 4);
        assert!(!list.is_empty());
        assert_eq!(list.iter().collect::<Vec<_>>(), texts);
        assert_eq!(
            list.iter().rev().collect::<Vec<_>>(),
            [texts[3], texts[2], texts[1], texts[0]]
        );
        assert_eq!(list.iter().len(), 4);
        assert_eq!(list.get(2), Some(texts[2]));
        assert_eq!(&list[1], "");
        assert_eq!(list.get(4), None);
        assert_eq!(list.first(), Some(texts[0]));
        assert_eq!(list.last(), Some("ø"));
        assert!(list.contains("ø") && !list.contains("o"));
        assert_eq!(list.join(" | "), texts.join(" | "));
        assert_eq!(list, texts);
        assert_eq!(list.to_vec(), texts.map(String::from).to_vec());
        assert_eq!(format!("{list:?}"), format!("{texts:?}"));

        let mut grown = TextList::new();
        assert!(grown.is_empty() && grown.first().is_none() && grown.join(", ").is_empty());
        for text in texts {
            grown.push(text);
        }
        assert_eq!(grown, list);
    }

    #[test]
    fn a_stored_list_reads_back_and_a_changed_file_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache");
        let held = TextList::from(["Hva er en rammeavtale?", "Hvor lenge varer den?"]);
        let encoded = held.encoded().unwrap();
        let mut bytes = b"xx".to_vec();
        bytes.extend_from_slice(&encoded);
        bytes.extend_from_slice(b"yy");
        std::fs::write(&path, &bytes).unwrap();
        let file = Arc::new(BodyFile::open(&path).unwrap());
        let stored = || {
            TextList::stored(
                file.clone(),
                2,
                encoded.len() as u32,
                encoded[..8].try_into().unwrap(),
                crc32fast::hash(&encoded),
                held.digest(),
            )
            .unwrap()
        };
        let list = stored();
        assert!(!list.is_held());
        assert_eq!(list.len(), 2);
        assert_eq!(list.digest(), held.digest());
        assert!(matches!(list.read().unwrap(), Cow::Owned(ref l) if *l == held));
        assert_eq!(
            list.iter().collect::<Vec<_>>(),
            held.iter().collect::<Vec<_>>()
        );
        assert_eq!(list, held);
        assert_eq!(list.join("\n"), held.join("\n"));
        // Once read, it is kept: read() no longer goes to the file.
        assert!(matches!(list.read().unwrap(), Cow::Borrowed(_)));
        assert_ne!(
            held.digest(),
            TextList::from(["Hva er en rammeavtale?"]).digest()
        );

        // Overwritten in place (a cache is never written so, but a person might).
        bytes[12] ^= 0x20;
        std::fs::write(&path, &bytes).unwrap();
        let changed = stored();
        assert!(matches!(changed.read(), Err(BodyUnreadable::Changed)));
        assert!(changed.iter().next().is_none());
    }

    /// Serialised exactly as the `Vec<String>` it replaced (exports and web pages show
    /// it so), and read back from one.
    #[test]
    fn it_serialises_as_a_list_of_strings() {
        let texts = vec!["a \"b\"".to_string(), "c".to_string()];
        let list = TextList::from(texts.clone());
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            serde_json::to_string(&texts).unwrap()
        );
        let back: TextList = serde_json::from_str(r#"["a \"b\"", "c"]"#).unwrap();
        assert_eq!(back, list);
    }
}
