//! What a search index derives from its entries beside tantivy's files (the analyser's
//! vocabulary and word memo, each entry's numbered terms, example questions and passages,
//! the term table and the BM25 statistics), kept in the index folder as
//! [`DERIVED_FILE`], so that a start with unchanged knowledge opens it instead of
//! analysing every entry again: at 10,000 entries that analysis was most of a start.
//!
//! The file belongs to the folder's fingerprint (see [`super::on_disk`]): it names the
//! fingerprint it was derived for, carries a hash of its contents, and is written to a
//! temporary name and renamed into place. A file that is missing, truncated, damaged or
//! another fingerprint's is not used: the entries are analysed again (with a log line)
//! and the file written anew. Nothing in it is trusted to be in range before it is
//! checked, so a damaged file is an error, never a panic.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Mutex;

use rustc_hash::FxHashMap as HashMap;
use sha2::{Digest, Sha256};

use super::analysis::Analyzer;
use super::term_list::{with_terms, TermList};
use super::{
    pack_places, EntryTerms, FieldStats, Fields, PassageDoc, PassageStore, QuestionDoc,
    QuestionScoring, QuestionStore, SearchIndex, TermInfo, SEARCHED_FIELDS,
};
use crate::knowledge::{Glossary, Lang};

/// The file, inside an index folder, holding what was derived from the entries.
pub const DERIVED_FILE: &str = "anbud-derived";
const MAGIC: &[u8; 16] = b"anbud-derived\0\0\0";
/// Bump whenever what is written here changes.
const FORMAT: u32 = 3;

/// Bytes being written: little-endian numbers, lengths before sequences.
#[derive(Default)]
pub(crate) struct Encoder {
    buf: Vec<u8>,
}

impl Encoder {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn f32(&mut self, v: f32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn len(&mut self, n: usize) {
        self.u64(n as u64);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.len(s.len());
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub(crate) fn strings<S: AsRef<str>>(&mut self, items: impl ExactSizeIterator<Item = S>) {
        self.len(items.len());
        for s in items {
            self.str(s.as_ref());
        }
    }

    pub(crate) fn u32s(&mut self, items: &[u32]) {
        self.len(items.len());
        self.buf.reserve(items.len() * 4);
        for v in items {
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// Term numbers: their width (2 or 4 bytes), then the numbers.
    pub(super) fn term_list(&mut self, list: &TermList) {
        match list {
            TermList::Narrow(numbers) => {
                self.u8(2);
                self.len(numbers.len());
                for v in numbers {
                    self.buf.extend_from_slice(&v.to_le_bytes());
                }
            }
            TermList::Wide(numbers) => {
                self.u8(4);
                self.u32s(numbers);
            }
        }
    }

    pub(crate) fn f32s(&mut self, items: &[f32]) {
        self.len(items.len());
        for v in items {
            self.f32(*v);
        }
    }

    pub(crate) fn bytes(&mut self, items: &[u8]) {
        self.len(items.len());
        self.buf.extend_from_slice(items);
    }

    /// Bytes of a length both sides know (a hash), without their length.
    pub(crate) fn fixed(&mut self, items: &[u8]) {
        self.buf.extend_from_slice(items);
    }

    /// What was encoded since the last [`Encoder::clear`] (for writing a file a piece at
    /// a time).
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn clear(&mut self) {
        self.buf.clear();
    }
}

/// Why a derived file cannot be used.
#[derive(Debug)]
pub(crate) struct Corrupt(pub(crate) String);

impl std::fmt::Display for Corrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn corrupt(what: impl Into<String>) -> Corrupt {
    Corrupt(what.into())
}

/// Bytes being read back from a file or a slice, a piece at a time (a derived file is
/// tens of megabytes at 10,000 entries; read whole before decoding, it raised a start's
/// peak memory by as much). Every read is bounds-checked against what is left, and
/// hashed when a hash is expected.
pub(crate) struct Decoder<R> {
    src: R,
    /// Bytes left to read.
    left: u64,
    hash: Option<Sha256>,
    scratch: Vec<u8>,
}

#[cfg(test)]
impl<'a> Decoder<&'a [u8]> {
    pub(crate) fn new(buf: &'a [u8]) -> Decoder<&'a [u8]> {
        Decoder::over(buf, buf.len() as u64)
    }
}

impl<R: Read> Decoder<R> {
    /// A decoder of the `left` bytes that `src` holds.
    pub(crate) fn over(src: R, left: u64) -> Decoder<R> {
        Decoder {
            src,
            left,
            hash: None,
            scratch: Vec::new(),
        }
    }

    /// The next `n` bytes, valid until the next read.
    pub(crate) fn take(&mut self, n: usize) -> Result<&[u8], Corrupt> {
        if n as u64 > self.left {
            return Err(corrupt("truncated"));
        }
        self.scratch.resize(n, 0);
        self.src
            .read_exact(&mut self.scratch)
            .map_err(|e| corrupt(format!("reading it: {e}")))?;
        self.left -= n as u64;
        if let Some(hash) = self.hash.as_mut() {
            hash.update(&self.scratch);
        }
        Ok(&self.scratch)
    }

    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], Corrupt> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, Corrupt> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u32(&mut self) -> Result<u32, Corrupt> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, Corrupt> {
        Ok(u64::from_le_bytes(self.array()?))
    }

    pub(crate) fn f32(&mut self) -> Result<f32, Corrupt> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    /// A length of items of at least `item_size` bytes each: never more than what is
    /// left, so a damaged length cannot make a huge allocation.
    pub(crate) fn len(&mut self, item_size: usize) -> Result<usize, Corrupt> {
        let n = self.u64()?;
        if n.saturating_mul(item_size.max(1) as u64) > self.left {
            return Err(corrupt("a length beyond the end"));
        }
        Ok(n as usize)
    }

    /// `n` bytes read straight into a vector of their own (no copy through `scratch`).
    fn take_owned(&mut self, n: usize) -> Result<Vec<u8>, Corrupt> {
        if n as u64 > self.left {
            return Err(corrupt("truncated"));
        }
        let mut out = Vec::with_capacity(n);
        let read = (&mut self.src)
            .take(n as u64)
            .read_to_end(&mut out)
            .map_err(|e| corrupt(format!("reading it: {e}")))?;
        if read != n {
            return Err(corrupt("truncated"));
        }
        self.left -= n as u64;
        if let Some(hash) = self.hash.as_mut() {
            hash.update(&out);
        }
        Ok(out)
    }

    pub(crate) fn string(&mut self) -> Result<String, Corrupt> {
        let n = self.len(1)?;
        let bytes = self.take_owned(n)?;
        String::from_utf8(bytes).map_err(|_| corrupt("text that is not UTF-8"))
    }

    pub(crate) fn strings(&mut self) -> Result<Vec<String>, Corrupt> {
        let n = self.len(8)?;
        (0..n).map(|_| self.string()).collect()
    }

    /// `n` items of `N` bytes, read 16,384 at a time.
    fn words<const N: usize, T>(
        &mut self,
        convert: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>, Corrupt> {
        let n = self.len(N)?;
        let mut out = Vec::with_capacity(n);
        let mut left = n;
        while left > 0 {
            let chunk = left.min(16_384);
            out.extend(self.take(chunk * N)?.chunks_exact(N).map(|c| {
                let mut bytes = [0u8; N];
                bytes.copy_from_slice(c);
                convert(bytes)
            }));
            left -= chunk;
        }
        Ok(out)
    }

    pub(crate) fn u32s(&mut self) -> Result<Vec<u32>, Corrupt> {
        self.words(u32::from_le_bytes)
    }

    pub(crate) fn f32s(&mut self) -> Result<Vec<f32>, Corrupt> {
        self.words(f32::from_le_bytes)
    }

    /// Term numbers as [`Encoder::term_list`] wrote them.
    pub(super) fn term_list(&mut self) -> Result<TermList, Corrupt> {
        match self.u8()? {
            2 => Ok(TermList::Narrow(self.words(u16::from_le_bytes)?)),
            4 => Ok(TermList::Wide(self.u32s()?)),
            _ => Err(corrupt("term numbers of an unknown width")),
        }
    }

    pub(crate) fn bytes(&mut self) -> Result<Vec<u8>, Corrupt> {
        let n = self.len(1)?;
        self.take_owned(n)
    }

    /// Bytes not read yet.
    pub(crate) fn left(&self) -> u64 {
        self.left
    }

    /// What the bytes are read from (to hash them another way).
    pub(crate) fn source(&mut self) -> &mut R {
        &mut self.src
    }

    pub(crate) fn finished(&self) -> Result<(), Corrupt> {
        if self.left == 0 {
            Ok(())
        } else {
            Err(corrupt("bytes after the end"))
        }
    }
}

fn content_hash(payload: &[u8]) -> [u8; 32] {
    Sha256::digest(payload).into()
}

fn norm_tables<const N: usize>(e: &mut Encoder, tables: &[[f32; 256]; N]) {
    for table in tables {
        e.f32s(table);
    }
}

fn read_norm_tables<const N: usize>(
    d: &mut Decoder<impl Read>,
) -> Result<Box<[[f32; 256]; N]>, Corrupt> {
    let mut tables = Box::new([[0.0f32; 256]; N]);
    for table in tables.iter_mut() {
        let values = d.f32s()?;
        if values.len() != 256 {
            return Err(corrupt("a norm table of the wrong size"));
        }
        table.copy_from_slice(&values);
    }
    Ok(tables)
}

/// Check that `start..start + len` lies within `size`.
fn within(start: u32, len: u32, size: usize) -> Result<(), Corrupt> {
    if (start as usize)
        .checked_add(len as usize)
        .is_some_and(|end| end <= size)
    {
        Ok(())
    } else {
        Err(corrupt("a range beyond its store"))
    }
}

impl SearchIndex {
    /// Everything this index derived from its entries, for [`DERIVED_FILE`].
    fn encode_derived(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        self.analyzer.encode_learned(&mut e);
        e.u32s(&self.doc_ids);
        e.strings(self.ids.iter());
        e.len(self.entry_terms.len());
        for terms in &self.entry_terms {
            e.term_list(&terms.all);
            // One byte a place on disk, as before they were packed in memory.
            let places: Vec<u8> = (0..terms.all.len()).map(|i| terms.place_code(i)).collect();
            e.bytes(&places);
            e.len(terms.questions.len());
            for q in &terms.questions {
                e.u32(q.start);
                e.u32(u32::from(q.len));
                e.u8(q.lengths[0]);
                e.u8(q.lengths[1]);
            }
            e.len(terms.passages.len());
            for p in &terms.passages {
                e.u8(match p.lang() {
                    Lang::Nb => 0,
                    Lang::En => 1,
                });
                e.u32(p.start);
                e.u32(p.len());
            }
        }
        // The term table in number order, so that reading it back needs no sort.
        let mut table: Vec<(&String, &TermInfo)> = self.terms.iter().collect();
        table.sort_unstable_by_key(|(_, info)| info.number);
        e.len(table.len());
        for (term, info) in table {
            e.str(term);
            e.u32(info.number);
            e.u32(info.doc_freq);
            for stats in &info.stats {
                e.u32(stats.doc_freq);
                e.f32(stats.idf);
                e.f32(stats.max_tf_factor);
            }
        }
        norm_tables(&mut e, &self.norms);
        e.len(self.question_scoring.idf.len());
        for idf in &self.question_scoring.idf {
            e.f32(idf[0]);
            e.f32(idf[1]);
        }
        norm_tables(&mut e, &self.question_scoring.norms);
        e.term_list(&self.question_store.terms);
        let counts: Vec<u8> = self
            .question_store
            .counts
            .iter()
            .flatten()
            .copied()
            .collect();
        e.bytes(&counts);
        e.term_list(&self.passage_store.terms);
        e.buf
    }

    /// The index from `tantivy` (opened from the same folder) and a derived file's
    /// payload; `documents` is the number of entries (documents) the index must have.
    fn decode_derived(
        d: &mut Decoder<impl Read>,
        reader: tantivy::IndexReader,
        fields: Fields,
        glossary: &Glossary,
        documents: usize,
    ) -> Result<SearchIndex, Corrupt> {
        let mut analyzer = Analyzer::decode_learned(glossary, d)?;
        let doc_ids = d.u32s()?;
        let ids = d.strings()?;
        if doc_ids.len() != documents {
            return Err(corrupt(format!(
                "{} documents where {documents} were expected",
                doc_ids.len()
            )));
        }
        if doc_ids.iter().any(|&id| id as usize >= ids.len()) {
            return Err(corrupt("a document of an unknown entry"));
        }
        let entry_count = d.len(8)?;
        if entry_count != ids.len() {
            return Err(corrupt("entry terms do not match the entries"));
        }
        let mut entry_terms = Vec::with_capacity(entry_count);
        for _ in 0..entry_count {
            let all = d.term_list()?;
            let places = d.bytes()?;
            if places.len() != all.len() || places.iter().any(|&p| p > 2) {
                return Err(corrupt("term places do not match the terms"));
            }
            if with_terms!(all.terms(), |numbers| numbers
                .windows(2)
                .any(|w| w[0] >= w[1]))
            {
                return Err(corrupt("entry terms out of order"));
            }
            let n = d.len(10)?;
            let mut questions = Vec::with_capacity(n);
            for _ in 0..n {
                let start = d.u32()?;
                let len = u16::try_from(d.u32()?)
                    .map_err(|_| corrupt("an example question with too many terms"))?;
                questions.push(QuestionDoc {
                    start,
                    len,
                    lengths: [d.u8()?, d.u8()?],
                });
            }
            let n = d.len(9)?;
            let mut passages = Vec::with_capacity(n);
            for _ in 0..n {
                let lang = match d.u8()? {
                    0 => Lang::Nb,
                    1 => Lang::En,
                    _ => return Err(corrupt("an unknown language")),
                };
                let (start, len) = (d.u32()?, d.u32()?);
                passages.push(
                    PassageDoc::new(lang, start, len)
                        .ok_or_else(|| corrupt("a passage with too many terms"))?,
                );
            }
            entry_terms.push(EntryTerms {
                all,
                places: pack_places(places.into_iter()),
                questions,
                passages,
            });
        }
        let term_count = d.len(4 + 4 + 4 + SEARCHED_FIELDS * 12)?;
        let mut terms: HashMap<String, TermInfo> = HashMap::default();
        terms.reserve(term_count);
        for expected in 0..term_count as u32 {
            let term = d.string()?;
            let number = d.u32()?;
            let doc_freq = d.u32()?;
            if number != expected {
                return Err(corrupt("term numbers out of order"));
            }
            let mut stats = [FieldStats::default(); SEARCHED_FIELDS];
            for s in &mut stats {
                *s = FieldStats {
                    doc_freq: d.u32()?,
                    idf: d.f32()?,
                    max_tf_factor: d.f32()?,
                };
            }
            if terms
                .insert(
                    term,
                    TermInfo {
                        number,
                        doc_freq,
                        stats,
                    },
                )
                .is_some()
            {
                return Err(corrupt("a term listed twice"));
            }
        }
        let norms = read_norm_tables::<SEARCHED_FIELDS>(d)?;
        let n = d.len(8)?;
        if n != term_count {
            return Err(corrupt("question statistics do not match the terms"));
        }
        let mut idf = Vec::with_capacity(n);
        for _ in 0..n {
            idf.push([d.f32()?, d.f32()?]);
        }
        let question_norms = read_norm_tables::<2>(d)?;
        let question_terms = d.term_list()?;
        let count_bytes = d.len(1)?;
        if count_bytes != 2 * question_terms.len() {
            return Err(corrupt("question term counts do not match the terms"));
        }
        // Read in pieces straight into their pairs: the bytes whole beside the pairs
        // were 4 MB more at the start's peak at 10,000 entries.
        let mut counts = Vec::with_capacity(question_terms.len());
        let mut left = count_bytes;
        while left > 0 {
            let chunk = left.min(1 << 16);
            counts.extend(d.take(chunk)?.chunks_exact(2).map(|c| [c[0], c[1]]));
            left -= chunk;
        }
        let question_store = QuestionStore {
            terms: question_terms,
            counts,
        };
        let passage_store = PassageStore {
            terms: d.term_list()?,
        };
        d.finished()?;

        // Every number that answering uses as an index must be in range.
        let in_table = |list: &TermList| list.terms().iter().all(|n| (n as usize) < term_count);
        if !in_table(&question_store.terms) || !in_table(&passage_store.terms) {
            return Err(corrupt("a term number beyond the term table"));
        }
        for terms in &entry_terms {
            if !in_table(&terms.all) {
                return Err(corrupt("a term number beyond the term table"));
            }
            for q in &terms.questions {
                within(q.start, u32::from(q.len), question_store.terms.len())?;
            }
            for p in &terms.passages {
                within(p.start, p.len(), passage_store.terms.len())?;
            }
        }
        analyzer.set_index_terms(terms.keys());
        let segments = super::segment_tables::segment_tables(&reader, &fields, |t| {
            terms.get(t).map(|i| i.number)
        })
        .map_err(|e| corrupt(format!("the index's term dictionaries: {e}")))?;
        let id_numbers = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.clone(), i as u32))
            .collect();
        Ok(SearchIndex {
            reader,
            fields,
            analyzer,
            doc_ids,
            ids,
            id_numbers,
            entry_terms,
            terms,
            question_scoring: QuestionScoring {
                idf,
                norms: question_norms,
            },
            question_store,
            passage_store,
            by_tf: super::scoring::tf_tables(&norms),
            norms,
            segments,
            scratch: Mutex::new(Vec::new()),
        })
    }
}

/// Write what `index` derived from its entries into `folder`, for `fingerprint`: to a
/// temporary file, synced, then renamed into place, so that a reader sees the old file,
/// none, or the whole new one.
pub(crate) fn write(folder: &Path, fingerprint: &str, index: &SearchIndex) -> std::io::Result<()> {
    let payload = index.encode_derived();
    let mut header = Encoder::default();
    header.buf.extend_from_slice(MAGIC);
    header.u32(FORMAT);
    header.str(fingerprint);
    header.u64(payload.len() as u64);
    header.buf.extend_from_slice(&content_hash(&payload));
    let temporary = folder.join(format!(
        ".{DERIVED_FILE}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&header.buf)?;
        file.write_all(&payload)?;
        file.sync_all()?;
        std::fs::rename(&temporary, folder.join(DERIVED_FILE))?;
        std::fs::File::open(folder)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The index of `folder` with what was derived for `fingerprint` read back: `Ok(None)`
/// when the folder has no derived file, `Err(reason)` when it has one that cannot be
/// used.
pub(crate) fn read(
    folder: &Path,
    fingerprint: &str,
    reader: tantivy::IndexReader,
    fields: Fields,
    glossary: &Glossary,
    documents: usize,
) -> Result<Option<SearchIndex>, String> {
    let file = match std::fs::File::open(folder.join(DERIVED_FILE)) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("reading it: {e}")),
    };
    let size = file
        .metadata()
        .map_err(|e| format!("reading it: {e}"))?
        .len();
    let mut d = Decoder::over(std::io::BufReader::with_capacity(1 << 18, file), size);
    let expected = check_header(&mut d, fingerprint).map_err(|c| c.0)?;
    // Decoding checks every length and range; this keeps a mistake in that from taking
    // the process down on a damaged file.
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        d.hash = Some(Sha256::new());
        let index = SearchIndex::decode_derived(&mut d, reader, fields, glossary, documents)?;
        let hash: [u8; 32] = d
            .hash
            .take()
            .map(|h| h.finalize().into())
            .unwrap_or_default();
        if hash != expected {
            return Err(corrupt("its contents do not match their hash"));
        }
        Ok(index)
    }));
    match decoded {
        Ok(Ok(index)) => Ok(Some(index)),
        Ok(Err(c)) => Err(c.0),
        Err(_) => Err("reading it panicked".into()),
    }
}

/// Read a derived file's header: it must be one, of this format and `fingerprint`'s, and
/// say how long the rest is. Returns the hash the rest must have.
fn check_header(d: &mut Decoder<impl Read>, fingerprint: &str) -> Result<[u8; 32], Corrupt> {
    if d.take(MAGIC.len())? != MAGIC {
        return Err(corrupt("not a derived file"));
    }
    let format = d.u32()?;
    if format != FORMAT {
        return Err(corrupt(format!("format {format}, not {FORMAT}")));
    }
    if d.string()? != fingerprint {
        return Err(corrupt("another fingerprint's"));
    }
    let len = d.u64()?;
    let hash: [u8; 32] = d.array()?;
    if d.left != len {
        return Err(corrupt("truncated"));
    }
    Ok(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::KnowledgeBase;
    use crate::search::IndexOrigin;

    fn bundled() -> KnowledgeBase {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        crate::knowledge::load_dir(&dir).unwrap().0
    }

    fn questions() -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/quality");
        let mut out = Vec::new();
        for name in ["train.tsv", "dev.tsv"] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            out.extend(
                text.lines()
                    .skip(1)
                    .filter_map(|l| l.split('\t').nth(4).map(str::to_string)),
            );
        }
        assert!(out.len() > 100, "{} questions", out.len());
        out
    }

    /// A start that reads the derived file back answers exactly as the start that
    /// analysed every entry: the same hits with the same figures, the same question
    /// shape, passage coverage and language.
    #[test]
    fn an_index_read_back_searches_exactly_as_the_one_built() {
        let kb = bundled();
        let dir = tempfile::tempdir().unwrap();
        let (built, origin) = SearchIndex::build_in(&kb, Some(dir.path())).unwrap();
        let IndexOrigin::Built(folder) = origin else {
            panic!("{origin:?}")
        };
        assert!(folder.join(DERIVED_FILE).exists());
        let (opened, origin) = SearchIndex::build_in(&kb, Some(dir.path())).unwrap();
        assert_eq!(origin, IndexOrigin::Opened(folder));
        assert_eq!(opened.encode_derived(), built.encode_derived());
        for question in questions() {
            let a = built.search_shaped(&question, 8).unwrap();
            let b = opened.search_shaped(&question, 8).unwrap();
            assert_eq!(a.hits, b.hits, "{question}");
            assert_eq!(a.shape, b.shape, "{question}");
            assert_eq!(
                built.analyzer().detect_variety(&question),
                opened.analyzer().detect_variety(&question)
            );
            if let Some(top) = a.hits.first() {
                for lang in [Lang::Nb, Lang::En] {
                    assert_eq!(
                        built.passage_coverage(&a.query, &top.id, lang),
                        opened.passage_coverage(&b.query, &top.id, lang),
                        "{question}"
                    );
                }
            }
        }
    }

    fn derived_of(kb: &KnowledgeBase) -> (tempfile::TempDir, std::path::PathBuf, String) {
        let dir = tempfile::tempdir().unwrap();
        let (_, origin) = SearchIndex::build_in(kb, Some(dir.path())).unwrap();
        let IndexOrigin::Built(folder) = origin else {
            panic!("{origin:?}")
        };
        let fingerprint =
            std::fs::read_to_string(folder.join(super::super::on_disk::FINGERPRINT_FILE)).unwrap();
        (dir, folder, fingerprint)
    }

    fn read_back(
        kb: &KnowledgeBase,
        folder: &Path,
        fingerprint: &str,
    ) -> Result<Option<SearchIndex>, String> {
        let index = tantivy::Index::open_in_dir(folder).unwrap();
        let reader = index.reader().unwrap();
        let fields = Fields::of(&index.schema()).unwrap();
        read(
            folder,
            fingerprint,
            reader,
            fields,
            &kb.glossary,
            kb.entries.len(),
        )
    }

    /// Term numbers read back at the width they were written: 16 bits when all fit,
    /// else 32; a width byte other than 2 or 4 is refused.
    #[test]
    fn term_lists_round_trip_at_their_width() {
        let lists = [
            TermList::from(vec![0, 3, 65_535]).narrowed(),
            TermList::from(vec![0, 3, 65_536, u32::MAX]).narrowed(),
            TermList::default().narrowed(),
        ];
        assert!(matches!(lists[0], TermList::Narrow(_)));
        assert!(matches!(lists[1], TermList::Wide(_)));
        let mut e = Encoder::default();
        for list in &lists {
            e.term_list(list);
        }
        let mut d = Decoder::new(e.as_slice());
        for list in &lists {
            assert_eq!(&d.term_list().unwrap(), list);
        }
        assert!(d.finished().is_ok());
        let mut bytes = e.as_slice().to_vec();
        bytes[0] = 3;
        assert!(Decoder::new(&bytes).term_list().is_err());
    }

    /// A derived file that is truncated, has a byte changed, or is another
    /// fingerprint's is refused with a reason, never read as it is.
    #[test]
    fn a_damaged_or_foreign_derived_file_is_refused() {
        let kb = bundled();
        let (_dir, folder, fingerprint) = derived_of(&kb);
        let path = folder.join(DERIVED_FILE);
        let whole = std::fs::read(&path).unwrap();
        assert!(read_back(&kb, &folder, &fingerprint).unwrap().is_some());
        assert!(read_back(&kb, &folder, &"0".repeat(64)).is_err());

        for cut in [0, 7, 16, 40, whole.len() / 2, whole.len() - 1] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            assert!(
                read_back(&kb, &folder, &fingerprint).is_err(),
                "cut at {cut}"
            );
        }
        for at in [3, 20, 100, whole.len() / 3, whole.len() - 2] {
            let mut bytes = whole.clone();
            bytes[at] ^= 0x5a;
            std::fs::write(&path, &bytes).unwrap();
            assert!(
                read_back(&kb, &folder, &fingerprint).is_err(),
                "byte {at} changed"
            );
        }
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(read_back(&kb, &folder, &fingerprint), Ok(None)));
    }

    /// Decoding checks what it reads: a payload with any byte changed (past the hash,
    /// as a disk could only do by chance) decodes to an index or to an error, and never
    /// panics.
    #[test]
    fn decoding_a_changed_payload_never_panics() {
        let kb = KnowledgeBase {
            entries: vec![
                crate::knowledge::Entry::new(
                    "framework",
                    Lang::Nb,
                    "Rammeavtaler",
                    &["Hva er en rammeavtale?", "Hvor lenge varer en rammeavtale?"],
                    "En rammeavtale varer vanligvis i fire år.\n\n### Avrop\n\nAvrop gjøres …",
                ),
                crate::knowledge::Entry::new(
                    "framework",
                    Lang::En,
                    "Framework agreements",
                    &["What is a framework agreement?"],
                    "A framework agreement usually lasts four years.",
                ),
            ],
            ..Default::default()
        };
        let (_dir, folder, _) = derived_of(&kb);
        let index = tantivy::Index::open_in_dir(&folder).unwrap();
        let payload = SearchIndex::build(&kb).unwrap().encode_derived();
        let payload = payload.as_slice();
        let decode = |bytes: &[u8]| {
            let reader = index.reader().unwrap();
            let fields = Fields::of(&index.schema()).unwrap();
            let mut d = Decoder::new(bytes);
            SearchIndex::decode_derived(&mut d, reader, fields, &kb.glossary, kb.entries.len())
        };
        assert!(decode(payload).is_ok());
        for at in 0..payload.len() {
            assert!(decode(&payload[..at]).is_err(), "cut at {at}");
            let mut bytes = payload.to_vec();
            bytes[at] ^= 0xff;
            if let Ok(decoded) = decode(&bytes) {
                // Whatever it decoded to can be searched without a panic.
                let _ = decoded.search_shaped("hvor lenge varer en rammeavtale", 5);
            }
        }
    }
}
