//! What a search looks up in each segment of the tantivy index, read once when the index
//! is built or opened rather than for every question.

use rustc_hash::FxHashMap as HashMap;
use tantivy::IndexReader;

use super::{Fields, SearchError, SEARCHED_FIELDS};

/// Where the postings of each (term number, searched field) are in one segment.
type PostingsPlaces = HashMap<(u32, usize), tantivy::postings::TermInfo>;

/// What a search looks up in one segment, read once when the index is built or opened.
pub(super) struct SegmentTables {
    /// Where each term has its postings in each searched field.
    pub(super) postings: PostingsPlaces,
    /// Document → its ordinal (the `ord` fast field; [`NO_ORD`] for none): opening the
    /// fast field column for every search was a fortieth of an answer at 10,000 entries.
    pub(super) ords: Box<[u32]>,
    /// Per searched field, each document's field-length code (tantivy's field norm id):
    /// read from here rather than through tantivy's reader, a tenth of the instructions
    /// of scoring a posting.
    pub(super) lengths: [Box<[u8]>; SEARCHED_FIELDS],
    /// Per searched field, its postings: asking the segment for them at every search
    /// (a lock and a map look-up per field) was a fiftieth of an answer at 10,000 entries.
    pub(super) inverted: [std::sync::Arc<tantivy::InvertedIndexReader>; SEARCHED_FIELDS],
}

/// A document without an `ord` (never so in an index this module built).
pub(super) const NO_ORD: u32 = u32::MAX;

/// For each segment of `reader`, where each term that `number` knows has its postings in
/// each searched field, and each document's ordinal (see [`super::SearchIndex::segments`]).
pub(super) fn segment_tables(
    reader: &IndexReader,
    fields: &Fields,
    number: impl Fn(&str) -> Option<u32>,
) -> Result<Vec<SegmentTables>, SearchError> {
    let searcher = reader.searcher();
    let mut out = Vec::new();
    for segment in searcher.segment_readers() {
        let mut infos = HashMap::default();
        for (slot, (field, _, _)) in fields.searched().into_iter().enumerate() {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted.terms().stream()?;
            while stream.advance() {
                if let Some(n) = std::str::from_utf8(stream.key()).ok().and_then(&number) {
                    infos.insert((n, slot), stream.value().clone());
                }
            }
        }
        let mut lengths: [Box<[u8]>; SEARCHED_FIELDS] = Default::default();
        for (slot, (field, _, _)) in fields.searched().into_iter().enumerate() {
            let norms = segment.get_fieldnorms_reader(field)?;
            lengths[slot] = (0..segment.max_doc())
                .map(|doc| norms.fieldnorm_id(doc))
                .collect();
        }
        let mut inverted = Vec::with_capacity(SEARCHED_FIELDS);
        for (field, _, _) in fields.searched() {
            inverted.push(segment.inverted_index(field)?);
        }
        let inverted: [_; SEARCHED_FIELDS] = inverted
            .try_into()
            .unwrap_or_else(|_| unreachable!("one reader per searched field"));
        let column = segment.fast_fields().u64("ord")?;
        let ords = (0..segment.max_doc())
            .map(|doc| column.first(doc).map_or(NO_ORD, |ord| ord as u32))
            .collect();
        out.push(SegmentTables {
            postings: infos,
            ords,
            lengths,
            inverted,
        });
    }
    Ok(out)
}
