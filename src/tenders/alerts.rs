//! Alerts: each watch's subscriber gets the new notices that match it, once per notice,
//! at most one digest an hour, however many bots run and however often they restart.
//! The store records each (watch, procedure) pair under a unique key in the same
//! transaction that takes the watch's hour ([`Store::claim_tender_digest`]).
//!
//! A digest is claimed with a lease before it is sent and marked sent after, as the
//! outbox's replies are: a bot that dies or fails to post lets another take the notices
//! once the lease has run out (at the watch's next hour). Only a bot that dies between
//! posting and marking can make a notice come twice.

use chrono::{DateTime, TimeDelta, Utc};

use super::answer::{notice_lines, Style};
use super::filter::{Filter, FilterError, TextMatcher};
use super::model::Notice;
use super::vocab::Vocabulary;
use crate::knowledge::Lang;
use crate::store::{Store, StoreError, TenderWatch};

/// The least time between two digests to one watch.
pub const DIGEST_GAP: TimeDelta = TimeDelta::hours(1);

/// The new notices of one watch, claimed for sending.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub watch: TenderWatch,
    pub notices: Vec<Notice>,
    /// The claim's token: give it to [`Store::mark_tender_alerts_sent`] once posted.
    pub token: String,
}

/// A watch's filter: its options, current notices only.
pub fn watch_filter(
    watch: &TenderWatch,
    vocab: &Vocabulary,
    now: DateTime<Utc>,
) -> Result<Filter, FilterError> {
    let mut filter = Filter::from_options(
        vocab,
        watch.query.as_deref(),
        watch.cpv.as_deref(),
        None,
        watch.region.as_deref(),
        watch.kind,
    )?;
    filter.current_at = Some(now);
    Ok(filter)
}

/// Claims the digests due now: for each watch, the current matching notices first stored
/// after the watch was made and not alerted to it before. Each claimed notice is
/// claimed for `lease`; the caller sends the digests and marks each sent
/// ([`Store::mark_tender_alerts_sent`]).
pub async fn claim_due_digests(
    store: &Store,
    vocab: &Vocabulary,
    matcher: &TextMatcher<'_>,
    now: DateTime<Utc>,
    lease: TimeDelta,
) -> Result<Vec<Digest>, StoreError> {
    let stored = store.list_tenders().await?;
    let mut digests = Vec::new();
    for watch in store.tender_watches(None).await? {
        if watch.last_digest_at.is_some_and(|t| t > now - DIGEST_GAP) {
            continue;
        }
        let Ok(filter) = watch_filter(&watch, vocab, now) else {
            tracing::warn!(watch = %watch.id, "a watch's options no longer parse; skipped");
            continue;
        };
        let alerted = store.tender_alerted(watch.id, now).await?;
        let fresh: Vec<&Notice> = stored
            .iter()
            .filter(|s| s.first_seen_at >= watch.created_at)
            .map(|s| &s.notice)
            .filter(|n| !alerted.contains(&n.procedure_key))
            .filter(|n| filter.matches(n, matcher))
            .collect();
        if fresh.is_empty() {
            continue;
        }
        let keys: Vec<String> = fresh.iter().map(|n| n.procedure_key.clone()).collect();
        let token = super::sync::claim_token();
        let claimed = store
            .claim_tender_digest(watch.id, &keys, now, now - DIGEST_GAP, now + lease, &token)
            .await?;
        if claimed.is_empty() {
            continue;
        }
        let notices = fresh
            .into_iter()
            .filter(|n| claimed.contains(&n.procedure_key))
            .cloned()
            .collect();
        digests.push(Digest {
            watch,
            notices,
            token,
        });
    }
    Ok(digests)
}

/// The message of a digest (Markdown; deadlines as Discord timestamps with
/// [`Style::Discord`]).
pub fn render_digest(digest: &Digest, style: Style, lang: Lang) -> String {
    let n = digest.notices.len();
    let heading = match lang {
        Lang::Nb => format!(
            "**Nye kunngjøringer for varselet ditt #{}** ({n})",
            digest.watch.id
        ),
        Lang::En => format!("**New notices for your alert #{}** ({n})", digest.watch.id),
    };
    format!("{heading}\n{}", notice_lines(&digest.notices, style, lang))
}

/// A watch's options in words: `query "renhold", region Follo`.
pub fn describe_watch(w: &TenderWatch) -> String {
    let mut parts = Vec::new();
    if let Some(q) = &w.query {
        parts.push(format!("query {q:?}"));
    }
    if let Some(c) = &w.cpv {
        parts.push(format!("cpv {c}"));
    }
    if let Some(r) = &w.region {
        parts.push(format!("region {r}"));
    }
    if let Some(k) = w.kind {
        parts.push(format!("kind {}", k.code()));
    }
    if parts.is_empty() {
        "every notice".into()
    } else {
        parts.join(", ")
    }
}
