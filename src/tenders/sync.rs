//! One sync run: fetch what Doffin issued since the newest stored notice (a day of
//! overlap), then store it all in one transaction. A failure anywhere stores nothing.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use super::client::{DoffinClient, DoffinError};
use super::model::Notice;
use super::vocab::Vocabulary;
use crate::config::TenderSettings;
use crate::store::{Store, StoreError, SyncCounts};

/// The most pages one run reads (Doffin lets through 1,000 hits a search).
const MAX_PAGES: u32 = 50;

/// Why a sync failed. Nothing of the run was stored.
#[derive(Debug, thiserror::Error)]
pub enum TendersError {
    #[error(transparent)]
    Doffin(#[from] DoffinError),
    #[error("the database: {0}")]
    Store(#[from] StoreError),
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The first issue date asked for.
    pub from: NaiveDate,
    pub pages: u32,
    /// Hits received (all kinds).
    pub hits: usize,
    pub counts: SyncCounts,
    /// Doffin had more hits than it lets through: the oldest of the window were missed.
    pub capped: bool,
}

/// Where a run starts: a day before the newest stored publication date (notices are
/// indexed late sometimes), or `initial_days` back on the first run.
pub fn sync_from(newest: Option<NaiveDate>, initial_days: u32, now: DateTime<Utc>) -> NaiveDate {
    match newest {
        Some(date) => date - TimeDelta::days(1),
        None => now.date_naive() - TimeDelta::days(i64::from(initial_days)),
    }
}

/// A client for the settings' API with the key from `DOFFIN_API_KEY`.
pub fn client_from_env(settings: &TenderSettings) -> Result<DoffinClient, DoffinError> {
    let key = super::client::key_from_env()?;
    Ok(DoffinClient::new(
        &settings.api_url,
        key,
        Duration::from_secs(settings.max_retry_wait_secs),
    ))
}

/// Fetches and stores one run.
#[tracing::instrument(skip_all)]
pub async fn sync(
    store: &Store,
    client: &DoffinClient,
    vocab: &Vocabulary,
    initial_days: u32,
    now: DateTime<Utc>,
) -> Result<SyncReport, TendersError> {
    let from = sync_from(store.tender_sync_from().await?, initial_days, now);
    let mut notices: Vec<Notice> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut hits = 0;
    let mut pages = 0;
    let mut capped = false;
    for page in 1..=MAX_PAGES {
        let result = client.search(from, page, vocab).await?;
        pages = page;
        hits += result.hits;
        if let (Some(total), Some(accessible)) = (result.total, result.accessible) {
            capped = total > accessible;
        }
        let before = seen.len();
        for n in result.notices {
            if seen.insert(n.id.clone()) {
                notices.push(n);
            }
        }
        let limit = match (result.total, result.accessible) {
            (Some(t), Some(a)) => Some(t.min(a)),
            (t, a) => t.or(a),
        };
        let done = result.hits == 0
            || (seen.len() == before && hits > result.hits)
            || limit.is_some_and(|l| hits as u64 >= l);
        if done {
            break;
        }
    }
    if capped {
        tracing::warn!(%from, "Doffin has more notices since this date than it lets through; the oldest were missed");
    }
    // Oldest first, so that of two versions of one procedure in this run the newer is
    // stored last (the store also refuses an older version over a newer one).
    notices.sort_by_key(|n| (n.issued, n.published));
    let counts = store.store_tenders(&notices, now).await?;
    Ok(SyncReport {
        from,
        pages,
        hits,
        counts,
        capped,
    })
}

/// `anbud serve`'s schedule: every minute, try to take the sync's lease; the one bot
/// that gets it (when the last success is `sync_minutes` old) syncs.
pub async fn run_schedule(store: Store, settings: TenderSettings, client: DoffinClient) {
    let vocab = Vocabulary::bundled();
    let interval = TimeDelta::minutes(i64::try_from(settings.sync_minutes).unwrap_or(60));
    let token = claim_token();
    loop {
        let now = Utc::now();
        match store
            .claim_tender_sync(now, now - interval, now + TimeDelta::minutes(10), &token)
            .await
        {
            Ok(true) => {
                let result = sync(&store, &client, vocab, settings.initial_days, now).await;
                let retry_at = match &result {
                    Ok(report) => {
                        tracing::info!(
                            new = report.counts.new,
                            changed = report.counts.changed,
                            "tenders synced"
                        );
                        None
                    }
                    Err(e) => {
                        tracing::warn!("tenders sync failed: {e}");
                        Some(Utc::now() + interval.min(TimeDelta::minutes(15)))
                    }
                };
                if let Err(e) = store.release_tender_sync(&token, retry_at).await {
                    tracing::warn!(error = %e, "could not release the tenders sync lease");
                }
            }
            Ok(false) => {}
            Err(e) => tracing::debug!(error = %e, "tenders sync lease unavailable"),
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// [`run_schedule`] on the application's store, once it has one (the database may be
/// down at start-up).
pub async fn run_schedule_for(app: crate::app::App) {
    if let Err(e) = super::client::key_from_env() {
        tracing::warn!("tenders are off: {e}");
        return;
    }
    loop {
        if let Some(store) = app.store() {
            let settings = app.settings.tenders.clone();
            let client = match client_from_env(&settings) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("tenders are off: {e}");
                    return;
                }
            };
            return run_schedule(store, settings, client).await;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// A token naming this process's hold on the lease.
pub fn claim_token() -> String {
    let mut bytes = [0u8; 12];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_starts_a_day_before_the_newest_notice_or_initial_days_back() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")
            .unwrap()
            .to_utc();
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(sync_from(Some(d("2026-12-01")), 90, now), d("2026-11-30"));
        assert_eq!(sync_from(None, 90, now), d("2026-09-08"));
    }
}
