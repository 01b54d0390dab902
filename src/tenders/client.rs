//! The Doffin public API client: `GET {tenders.api_url}/v2/search` with the key in the
//! `Ocp-Apim-Subscription-Key` header, waiting out 429 answers as they ask.

use std::time::Duration;

use chrono::NaiveDate;
use secrecy::{ExposeSecret, SecretString};

use super::model::{parse_search_page, ParseError, SearchPage, OPEN_TYPES, PLANNING_TYPES};
use super::vocab::Vocabulary;

/// The environment variable holding the Doffin API key.
pub const KEY_VAR: &str = "DOFFIN_API_KEY";

/// Hits asked for per page: the spec's maximum. Paging stops on an empty page or when
/// `numHitsAccessible` is reached, so a server that gives fewer per page still works.
pub const PAGE_SIZE: u32 = 100;

/// How often one page is retried after 429 before the run gives up.
const MAX_RATE_LIMIT_RETRIES: u32 = 5;

/// Why talking to Doffin failed. Never holds the key.
#[derive(Debug, thiserror::Error)]
pub enum DoffinError {
    #[error("{KEY_VAR} is not set: get a free key from the \"Public\" product of Doffin's developer portal (https://dof-notices-prod-api.developer.azure-api.net) and set the environment variable {KEY_VAR}")]
    MissingKey,
    #[error("Doffin refused the key (HTTP {0}): check {KEY_VAR}")]
    Unauthorized(u16),
    #[error("Doffin's rate limit: it asked to wait {0} s, longer than tenders.max_retry_wait_secs; try again later")]
    RateLimited(u64),
    #[error("Doffin answered HTTP {0}")]
    Status(u16),
    #[error("cannot reach Doffin: {0}")]
    Network(String),
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// The key from [`KEY_VAR`], or [`DoffinError::MissingKey`].
pub fn key_from_env() -> Result<SecretString, DoffinError> {
    match std::env::var(KEY_VAR) {
        Ok(key) if !key.trim().is_empty() => Ok(SecretString::from(key.trim().to_string())),
        _ => Err(DoffinError::MissingKey),
    }
}

/// A client of one Doffin API.
pub struct DoffinClient {
    http: reqwest::Client,
    base: String,
    key: SecretString,
    max_wait: Duration,
}

impl std::fmt::Debug for DoffinClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DoffinClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl DoffinClient {
    /// A client of the API at `base` (`tenders.api_url`), waiting at most `max_wait` for
    /// one 429.
    pub fn new(base: &str, key: SecretString, max_wait: Duration) -> DoffinClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("anbud/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        DoffinClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            key,
            max_wait,
        }
    }

    /// One page (from 1) of planning, dialogue and open notices issued on or after
    /// `from`, newest first.
    #[tracing::instrument(skip(self, vocab))]
    pub async fn search(
        &self,
        from: NaiveDate,
        page: u32,
        vocab: &Vocabulary,
    ) -> Result<SearchPage, DoffinError> {
        let mut url = reqwest::Url::parse(&format!("{}/v2/search", self.base))
            .map_err(|e| DoffinError::Network(format!("tenders.api_url: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("issueDateFrom", &from.format("%Y-%m-%d").to_string())
                .append_pair("sortBy", "PUBLICATION_DATE_DESC")
                .append_pair("numHitsPerPage", &PAGE_SIZE.to_string())
                .append_pair("page", &page.to_string());
            // Several values are given by repeating the parameter: comma-joined values
            // silently match nothing.
            for t in PLANNING_TYPES.iter().chain(OPEN_TYPES) {
                q.append_pair("type", t);
            }
        }
        let mut retries = 0;
        loop {
            let response = self
                .http
                .get(url.clone())
                .header("Ocp-Apim-Subscription-Key", self.key.expose_secret())
                .send()
                .await
                .map_err(|e| DoffinError::Network(e.without_url().to_string()))?;
            let status = response.status().as_u16();
            match status {
                200 => {
                    let body = response
                        .text()
                        .await
                        .map_err(|e| DoffinError::Network(e.without_url().to_string()))?;
                    return Ok(parse_search_page(&body, vocab)?);
                }
                401 | 403 => return Err(DoffinError::Unauthorized(status)),
                429 => {
                    let header = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let body = response.text().await.unwrap_or_default();
                    let wait = header.or_else(|| seconds_in_message(&body)).unwrap_or(60);
                    if Duration::from_secs(wait) > self.max_wait
                        || retries >= MAX_RATE_LIMIT_RETRIES
                    {
                        return Err(DoffinError::RateLimited(wait));
                    }
                    retries += 1;
                    tracing::info!(wait_secs = wait, page, "Doffin rate limit; waiting");
                    tokio::time::sleep(Duration::from_secs(wait)).await;
                }
                _ => return Err(DoffinError::Status(status)),
            }
        }
    }
}

/// The seconds in Doffin's 429 message: "Rate limit is exceeded. Try again in 53 seconds."
fn seconds_in_message(body: &str) -> Option<u64> {
    let at = body.find("Try again in ")? + "Try again in ".len();
    body[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_read_from_doffins_message() {
        let body =
            r#"{"statusCode":429,"message":"Rate limit is exceeded. Try again in 53 seconds."}"#;
        assert_eq!(seconds_in_message(body), Some(53));
        assert_eq!(seconds_in_message("{}"), None);
    }

    #[test]
    fn the_key_is_not_in_the_debug_text() {
        let client = DoffinClient::new(
            "http://127.0.0.1:1",
            SecretString::from("secret-key-123".to_string()),
            Duration::from_secs(1),
        );
        assert!(!format!("{client:?}").contains("secret-key-123"));
    }
}
