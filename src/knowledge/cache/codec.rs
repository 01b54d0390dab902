//! How an entry is written into the cache of parsed knowledge files and read back:
//! every field in order, with the shared [`Encoder`] and [`Decoder`] of the derived
//! search data.

use std::io::Read;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};

use crate::knowledge::body::{Body, BodyFile, BodyUnreadable};
use crate::knowledge::entry::{Entry, EventInfo, Fact, Lang, Source};
use crate::knowledge::texts::{SharedTexts, TextList};
use crate::search::{Corrupt, Decoder, Encoder};

/// Where the part of the cache being decoded lies, so that a body is left there: the
/// file, and the offset where the part ends (the decoder counts what is left of it).
pub(super) struct PartPlace {
    pub(super) file: Arc<BodyFile>,
    pub(super) end: u64,
}

fn encode_date(e: &mut Encoder, date: NaiveDate) {
    e.u32(date.num_days_from_ce() as u32);
}

fn decode_date(d: &mut Decoder<impl Read>) -> Result<NaiveDate, Corrupt> {
    NaiveDate::from_num_days_from_ce_opt(d.u32()? as i32)
        .ok_or_else(|| Corrupt("a date out of range".into()))
}

fn encode_time(e: &mut Encoder, time: NaiveDateTime) {
    let utc = time.and_utc();
    e.u64(utc.timestamp() as u64);
    e.u32(utc.timestamp_subsec_nanos());
}

fn decode_time(d: &mut Decoder<impl Read>) -> Result<NaiveDateTime, Corrupt> {
    let secs = d.u64()? as i64;
    let nanos = d.u32()?;
    DateTime::from_timestamp(secs, nanos)
        .map(|t| t.naive_utc())
        .ok_or_else(|| Corrupt("a time out of range".into()))
}

fn encode_optional(e: &mut Encoder, value: &Option<String>) {
    match value {
        Some(v) => {
            e.u8(1);
            e.str(v);
        }
        None => e.u8(0),
    }
}

fn decode_optional(d: &mut Decoder<impl Read>) -> Result<Option<String>, Corrupt> {
    match d.u8()? {
        0 => Ok(None),
        1 => Ok(Some(d.string()?)),
        _ => Err(Corrupt("a bad optional value".into())),
    }
}

/// Write `entry`; its body is read when it is stored in another cache file.
pub(super) fn encode_entry(e: &mut Encoder, entry: &Entry) -> Result<(), BodyUnreadable> {
    e.str(&entry.id);
    e.u8(match entry.lang {
        Lang::Nb => 0,
        Lang::En => 1,
    });
    e.str(&entry.title);
    // The example questions as one piece, left in the cache when it is read back.
    e.fixed(&entry.questions.digest());
    e.bytes(&entry.questions.encoded()?);
    e.strings(entry.keywords.iter());
    e.strings(entry.related.iter());
    encode_date(e, entry.reviewed);
    e.len(entry.sources.len());
    for s in &entry.sources {
        e.str(&s.name);
        e.str(&s.url);
    }
    e.len(entry.facts.len());
    for f in &entry.facts {
        e.str(&f.text);
        encode_date(e, f.checked);
        e.str(&f.source);
        e.u64(f.line.map_or(0, |l| l as u64 + 1));
    }
    e.fixed(&entry.body.digest());
    e.str(&entry.body.read()?);
    match &entry.event {
        None => e.u8(0),
        Some(ev) => {
            e.u8(1);
            encode_time(e, ev.start);
            encode_time(e, ev.end);
            e.str(&ev.venue);
            for v in [
                &ev.address,
                &ev.registration_url,
                &ev.organiser,
                &ev.audience,
            ] {
                encode_optional(e, v);
            }
        }
    }
    Ok(())
}

/// A length-prefixed piece of the part being read, left where it is: `make` is given
/// the file, the piece's offset and length there, and its bytes (to check-sum them).
fn stored_piece<T>(
    d: &mut Decoder<impl Read>,
    part: &PartPlace,
    make: impl FnOnce(Arc<BodyFile>, u64, u32, &[u8]) -> Result<T, Corrupt>,
) -> Result<T, Corrupt> {
    let len = d.len(1)?;
    let len_u32 = u32::try_from(len).map_err(|_| Corrupt("a piece too long".into()))?;
    let offset = part
        .end
        .checked_sub(d.left())
        .ok_or_else(|| Corrupt("a piece beyond its part".into()))?;
    make(Arc::clone(&part.file), offset, len_u32, d.take(len)?)
}

/// Read an entry back, its body and example questions left where `part` holds them;
/// its repeated texts are shared through `shared`.
pub(super) fn decode_entry(
    d: &mut Decoder<impl Read>,
    part: &PartPlace,
    shared: &mut SharedTexts,
) -> Result<Entry, Corrupt> {
    let id = d.string()?;
    let lang = match d.u8()? {
        0 => Lang::Nb,
        1 => Lang::En,
        _ => return Err(Corrupt("an unknown language".into())),
    };
    let title = d.string()?;
    let questions_digest = d.array::<32>()?;
    let questions = stored_piece(d, part, |file, offset, len, bytes| {
        let head: [u8; 8] = bytes
            .get(..8)
            .and_then(|h| h.try_into().ok())
            .ok_or_else(|| Corrupt("a list without its length".into()))?;
        let crc = crc32fast::hash(bytes);
        TextList::stored(file, offset, len, head, crc, questions_digest)
    })?;
    let keywords = TextList::decode(d)?;
    let related = d.strings()?;
    let reviewed = decode_date(d)?;
    let n = d.len(16)?;
    let mut sources = Vec::with_capacity(n);
    for _ in 0..n {
        sources.push(Source {
            name: shared.text(&d.string()?),
            url: shared.text(&d.string()?),
        });
    }
    let n = d.len(28)?;
    let mut facts = Vec::with_capacity(n);
    for _ in 0..n {
        let text = shared.text(&d.string()?);
        let checked = decode_date(d)?;
        let source = shared.text(&d.string()?);
        let line = match d.u64()? {
            0 => None,
            l => Some((l - 1) as usize),
        };
        facts.push(Fact {
            text,
            checked,
            source,
            line,
        });
    }
    let digest = d.array::<32>()?;
    let body = stored_piece(d, part, |file, offset, len, bytes| {
        Ok(Body::stored(
            file,
            offset,
            len,
            crc32fast::hash(bytes),
            digest,
        ))
    })?;
    let event = match d.u8()? {
        0 => None,
        1 => Some(EventInfo {
            start: decode_time(d)?,
            end: decode_time(d)?,
            venue: d.string()?,
            address: decode_optional(d)?,
            registration_url: decode_optional(d)?,
            organiser: decode_optional(d)?,
            audience: decode_optional(d)?,
        }),
        _ => return Err(Corrupt("a bad event".into())),
    };
    Ok(Entry {
        id,
        lang,
        title,
        questions,
        keywords,
        related,
        reviewed,
        sources,
        facts,
        body,
        event,
        path: None,
    })
}
