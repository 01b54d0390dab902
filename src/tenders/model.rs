//! Notices as anbud keeps them, parsed at the edge from Doffin's search response
//! (`GET /v2/search`, see `docs/tenders.md`): a kind, CPV codes and NUTS codes that cannot
//! hold a bad value, and dates as dates.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::vocab::Vocabulary;
use crate::search::analysis::{fold, words};

/// What a notice is, for a supplier: a procurement being planned, a market dialogue, or
/// a competition open for tenders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Planned,
    Dialogue,
    Open,
}

impl Kind {
    /// The word in the command line, JSON and database.
    pub fn code(self) -> &'static str {
        match self {
            Kind::Planned => "planned",
            Kind::Dialogue => "dialogue",
            Kind::Open => "open",
        }
    }

    pub fn parse(code: &str) -> Option<Kind> {
        match code {
            "planned" => Some(Kind::Planned),
            "dialogue" => Some(Kind::Dialogue),
            "open" => Some(Kind::Open),
            _ => None,
        }
    }

    /// How a reply names it.
    pub fn label(self, norwegian: bool) -> &'static str {
        match (self, norwegian) {
            (Kind::Planned, true) => "planlagt anskaffelse",
            (Kind::Dialogue, true) => "markedsdialog",
            (Kind::Open, true) => "åpen konkurranse",
            (Kind::Planned, false) => "planned procurement",
            (Kind::Dialogue, false) => "market dialogue",
            (Kind::Open, false) => "open competition",
        }
    }
}

/// Doffin `type` values of planning notices ("upcoming").
pub const PLANNING_TYPES: &[&str] = &[
    "ADVISORY_NOTICE",
    "PRE_ANNOUNCEMENT",
    "NOTICE_ON_BUYER_PROFILE",
];
/// Doffin `type` values of competitions open for tenders.
pub const OPEN_TYPES: &[&str] = &["ANNOUNCEMENT_OF_COMPETITION", "DYNAMIC_PURCHASING_SCHEME"];

/// A CPV code: eight digits (a check digit such as `-7` is dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CpvCode(String);

impl CpvCode {
    /// "90910000", "90910000-9": the first eight digits; anything else is refused.
    pub fn parse(text: &str) -> Option<CpvCode> {
        let digits: String = text
            .trim()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (digits.len() == 8).then_some(CpvCode(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code without its trailing zeros, at least two digits: every code that starts
    /// with it is this code or one of its sub-codes (90900000 → "909" covers 90910000).
    pub fn family(&self) -> &str {
        let trimmed = self.0.trim_end_matches('0');
        if trimmed.len() < 2 {
            &self.0[..2]
        } else {
            trimmed
        }
    }

    /// Whether `other` is this code or one of its sub-codes.
    pub fn covers(&self, other: &CpvCode) -> bool {
        other.0.starts_with(self.family())
    }
}

/// A NUTS region code such as "NO081" (or Doffin's "anyw", not specified).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nuts(String);

impl Nuts {
    /// Two capital letters and up to three more letters or digits; "anyw" is kept as is.
    pub fn parse(text: &str) -> Option<Nuts> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("anyw") {
            return Some(Nuts("anyw".into()));
        }
        let upper = text.to_ascii_uppercase();
        let ok = (2..=5).contains(&upper.len())
            && upper.chars().take(2).all(|c| c.is_ascii_uppercase())
            && upper.chars().all(|c| c.is_ascii_alphanumeric());
        ok.then_some(Nuts(upper))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this code is `other` or lies inside it (NO084 inside NO08).
    pub fn within(&self, other: &Nuts) -> bool {
        self.0.starts_with(&other.0)
    }
}

/// An estimated value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Value {
    pub amount: f64,
    pub currency: String,
}

/// One notice, the newest version of its procedure.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Doffin's id of this version, "2026-115111".
    pub id: String,
    /// What stays the same across versions of one procedure: the buyer's organisation
    /// number (or name) and the folded title. Doffin's search gives no procedure id; a
    /// republished notice gets a new id but keeps buyer and title.
    pub procedure_key: String,
    pub title: String,
    pub description: String,
    /// Buyers' names, in Doffin's order.
    pub buyers: Vec<String>,
    pub kind: Kind,
    /// Doffin's `type`, as given.
    pub notice_type: String,
    /// Doffin's `status` (`ACTIVE`, `EXPIRED`, …); often null on planning notices.
    pub status: Option<String>,
    pub published: Option<NaiveDate>,
    pub issued: Option<DateTime<Utc>>,
    pub deadline: Option<DateTime<Utc>>,
    pub cpv: Vec<CpvCode>,
    pub regions: Vec<Nuts>,
    pub value: Option<Value>,
}

impl Notice {
    /// The notice's public page.
    pub fn url(&self) -> String {
        format!("https://doffin.no/notices/{}", self.id)
    }

    /// Buyers' names joined for display.
    pub fn buyer(&self) -> String {
        self.buyers.join(", ")
    }

    /// Whether a supplier can still act on it at `now`: not cancelled, awarded or
    /// expired, and its deadline (if any) not passed.
    pub fn is_current(&self, now: DateTime<Utc>) -> bool {
        let closed = matches!(
            self.status.as_deref(),
            Some("EXPIRED" | "AWARDED" | "CANCELLED")
        );
        !closed && self.deadline.is_none_or(|d| d > now)
    }

    /// The JSON of `anbud tenders list --format json` and of `"tenders"` in answers.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "title": self.title,
            "buyer": self.buyer(),
            "kind": self.kind.code(),
            "published": self.published.map(|d| d.to_string()),
            "deadline": self.deadline.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "cpv": self.cpv.iter().map(CpvCode::as_str).collect::<Vec<_>>(),
            "region": self.regions.iter().map(Nuts::as_str).collect::<Vec<_>>(),
            "value": self.value,
            "url": self.url(),
        })
    }
}

/// Why a response could not be used. The whole run stops on one: nothing is stored.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    #[error("Doffin's response is not the expected JSON ({0}); nothing was stored")]
    Json(#[from] serde_json::Error),
}

/// One page of `GET /v2/search`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchPage {
    pub total: Option<u64>,
    pub accessible: Option<u64>,
    /// Hits parsed into notices of the kinds anbud keeps.
    pub notices: Vec<Notice>,
    /// How many hits the page held (including those of other kinds).
    pub hits: usize,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawPage {
    num_hits_total: Option<u64>,
    num_hits_accessible: Option<u64>,
    /// Required: a response without it is broken, not empty.
    hits: Vec<RawHit>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawHit {
    id: String,
    #[serde(default)]
    buyer: Option<Vec<RawBuyer>>,
    #[serde(default)]
    heading: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    location_id: Option<Vec<String>>,
    #[serde(default)]
    estimated_value: Option<RawValue>,
    #[serde(default, rename = "type")]
    notice_type: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    issue_date: Option<String>,
    #[serde(default)]
    deadline: Option<String>,
    #[serde(default)]
    publication_date: Option<String>,
    #[serde(default)]
    cpv_codes: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBuyer {
    #[serde(default)]
    organization_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawValue {
    #[serde(default)]
    currency_code: Option<String>,
    #[serde(default)]
    amount: Option<f64>,
}

/// Parse one search response. Hits of other types (results, contract notices) are
/// counted but not kept; a field that cannot be read is left empty (and logged), but a
/// response that is not this JSON at all is an error.
pub fn parse_search_page(body: &str, vocab: &Vocabulary) -> Result<SearchPage, ParseError> {
    let raw: RawPage = serde_json::from_str(body)?;
    let hits = raw.hits.len();
    let notices = raw
        .hits
        .into_iter()
        .filter_map(|hit| notice_from_hit(hit, vocab))
        .collect();
    Ok(SearchPage {
        total: raw.num_hits_total,
        accessible: raw.num_hits_accessible,
        notices,
        hits,
    })
}

fn timestamp(id: &str, field: &str, text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?;
    match DateTime::parse_from_rfc3339(text) {
        Ok(t) => Some(t.with_timezone(&Utc)),
        Err(_) => {
            tracing::warn!(notice = id, field, "not an RFC 3339 timestamp; left empty");
            None
        }
    }
}

fn notice_from_hit(hit: RawHit, vocab: &Vocabulary) -> Option<Notice> {
    let notice_type = hit.notice_type.clone().unwrap_or_default();
    let title = hit.heading.unwrap_or_default().trim().to_string();
    let description = hit.description.unwrap_or_default().trim().to_string();
    let kind = if OPEN_TYPES.contains(&notice_type.as_str()) {
        Kind::Open
    } else if PLANNING_TYPES.contains(&notice_type.as_str()) {
        if vocab.says_dialogue(&format!("{title} {description}")) {
            Kind::Dialogue
        } else {
            Kind::Planned
        }
    } else {
        return None;
    };
    let buyers_raw = hit.buyer.unwrap_or_default();
    let buyers: Vec<String> = buyers_raw
        .iter()
        .filter_map(|b| b.name.as_deref().map(str::trim))
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    let buyer_key = buyers_raw
        .iter()
        .find_map(|b| {
            b.organization_id
                .as_deref()
                .filter(|o| !o.trim().is_empty())
        })
        .map(|o| o.trim().to_string())
        .unwrap_or_else(|| {
            words(&buyers.join(" "))
                .iter()
                .map(|w| fold(w))
                .collect::<Vec<_>>()
                .join(" ")
        });
    let title_key = words(&title)
        .iter()
        .map(|w| fold(w))
        .collect::<Vec<_>>()
        .join(" ");
    let procedure_key = if title_key.is_empty() {
        // Nothing to recognise a later version by: the notice is its own procedure.
        format!("id:{}", hit.id)
    } else {
        format!("{buyer_key}|{title_key}")
    };
    let issued = timestamp(&hit.id, "issueDate", hit.issue_date.as_deref());
    let published = hit
        .publication_date
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d.get(..10).unwrap_or(d), "%Y-%m-%d").ok())
        .or_else(|| issued.map(|t| t.date_naive()));
    let deadline = timestamp(&hit.id, "deadline", hit.deadline.as_deref());
    let mut cpv: Vec<CpvCode> = hit
        .cpv_codes
        .unwrap_or_default()
        .iter()
        .filter_map(|c| CpvCode::parse(c))
        .collect();
    cpv.dedup();
    let regions: Vec<Nuts> = hit
        .location_id
        .unwrap_or_default()
        .iter()
        .filter_map(|c| Nuts::parse(c))
        .collect();
    let value = hit.estimated_value.and_then(|v| {
        Some(Value {
            amount: v.amount?,
            currency: v.currency_code.unwrap_or_else(|| "NOK".into()),
        })
    });
    Some(Notice {
        id: hit.id,
        procedure_key,
        title,
        description,
        buyers,
        kind,
        notice_type,
        status: hit.status,
        published,
        issued,
        deadline,
        cpv,
        regions,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"{"numHitsTotal":2,"numHitsAccessible":2,"hits":[{
     "id":"2026-115111",
     "buyer":[{"id":"905d60b4","organizationId":"972417858","name":"Direktoratet for byggkvalitet"}],
     "heading":"Prekvalifisering for konkurranse om IKT","description":"Drift",
     "locationId":["NO081"],"estimatedValue":{"currencyCode":"NOK","amount":100000000.0},
     "type":"ANNOUNCEMENT_OF_COMPETITION","allTypes":["COMPETITION","ANNOUNCEMENT_OF_COMPETITION"],
     "status":"ACTIVE","issueDate":"2026-09-24T13:35:36Z","deadline":"2026-11-03T11:00:00Z",
     "publicationDate":"2026-09-29","receivedTenders":null,"cpvCodes":["72000000","48000000"],
     "doffinClassicUrl":null,"lots":[]},
     {"id":"2026-1","buyer":null,"heading":null,"description":null,"locationId":null,
      "estimatedValue":null,"type":"RESULT","allTypes":[],"status":null,"issueDate":null,
      "deadline":null,"publicationDate":null,"cpvCodes":null}]}"#;

    #[test]
    fn a_documented_page_parses_into_typed_notices_and_skips_results() {
        let page = parse_search_page(PAGE, Vocabulary::bundled()).unwrap();
        assert_eq!(page.hits, 2);
        assert_eq!(page.notices.len(), 1);
        let n = &page.notices[0];
        assert_eq!(n.kind, Kind::Open);
        assert_eq!(
            n.procedure_key,
            "972417858|prekvalifisering for konkurranse om ikt"
        );
        assert_eq!(n.published, NaiveDate::from_ymd_opt(2026, 9, 29));
        assert_eq!(
            n.cpv,
            vec![CpvCode("72000000".into()), CpvCode("48000000".into())]
        );
        let json = n.to_json();
        assert_eq!(json["deadline"], "2026-11-03T11:00:00Z");
        assert_eq!(json["value"]["amount"], 100000000.0);
        assert_eq!(json["url"], "https://doffin.no/notices/2026-115111");
    }

    #[test]
    fn truncated_or_shapeless_responses_are_errors() {
        assert!(parse_search_page(&PAGE[..PAGE.len() / 2], Vocabulary::bundled()).is_err());
        assert!(parse_search_page(r#"{"numHitsTotal":0}"#, Vocabulary::bundled()).is_err());
        assert!(parse_search_page(r#"{"hits":[]}"#, Vocabulary::bundled()).is_ok());
    }

    #[test]
    fn cpv_codes_cover_their_sub_codes() {
        let cleaning = CpvCode::parse("90900000").unwrap();
        assert!(cleaning.covers(&CpvCode::parse("90910000-9").unwrap()));
        assert!(!cleaning.covers(&CpvCode::parse("90500000").unwrap()));
        assert_eq!(CpvCode::parse("9091"), None);
        assert_eq!(CpvCode::parse("90000000").unwrap().family(), "90");
    }
}
