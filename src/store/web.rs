//! What the web pages keep: server-side sessions, statistics by day, language and
//! entry, and every source of an entry edited on the web. The SQL is in
//! `web_queries.rs`, compiled for both databases like the rest of the store.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use super::backend::{postgres, sqlite};
use super::{now, storable, Backend, Store, StoreError};
use crate::knowledge::Lang;
use crate::knowledge::Source as EntrySource;

/// A session to create when someone signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebSession {
    /// The name shown on the pages and written to the audit log.
    pub person: String,
    /// The Discord user, for a Discord sign-in.
    pub discord_user_id: Option<String>,
    pub adviser: bool,
    pub organiser: bool,
    /// The value every form must send back.
    pub csrf_token: String,
    /// Discord's OAuth2 access token, to check the roles again later.
    pub access_token: Option<String>,
}

/// A signed-in person's session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub person: String,
    pub discord_user_id: Option<String>,
    pub adviser: bool,
    pub organiser: bool,
    pub csrf_token: String,
    pub access_token: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When the roles were last read from Discord (sign-in for a local session).
    pub roles_checked_at: DateTime<Utc>,
}

/// Questions of one day (Norwegian calendar day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub day: NaiveDate,
    pub answered: u64,
    pub abstained: u64,
}

impl DayCount {
    /// Questions asked that day.
    pub fn questions(&self) -> u64 {
        self.answered + self.abstained
    }
}

/// Questions and feedback in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LangCount {
    pub lang: Lang,
    pub answered: u64,
    pub abstained: u64,
    pub helpful: u64,
    pub unhelpful: u64,
}

/// Askers' verdicts on one entry in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryFeedback {
    pub entry_id: String,
    pub lang: Lang,
    pub helpful: u64,
    pub unhelpful: u64,
}

impl Store {
    /// Creates a session under the SHA-256 of its cookie token, lasting until
    /// `expires_at`, with a sign-in line in the audit log. Expired sessions are
    /// removed on the way.
    pub async fn create_web_session(
        &self,
        token_hash: &str,
        session: &NewWebSession,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let session = NewWebSession {
            person: storable(&session.person),
            ..session.clone()
        };
        dispatch!(
            self,
            insert_web_session(token_hash, &session, now(), expires_at.trunc_subsecs(6))
        )
    }

    /// The session with this token hash, unless it has expired.
    pub async fn web_session(&self, token_hash: &str) -> Result<Option<WebSession>, StoreError> {
        dispatch!(self, get_web_session(token_hash, now()))
    }

    /// Records a use of the session and moves its end to `expires_at`.
    pub async fn touch_web_session(
        &self,
        token_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        dispatch!(
            self,
            touch_web_session(token_hash, now(), expires_at.trunc_subsecs(6))
        )
    }

    /// Stores the roles just read from Discord.
    pub async fn update_web_session_roles(
        &self,
        token_hash: &str,
        adviser: bool,
        organiser: bool,
    ) -> Result<(), StoreError> {
        dispatch!(
            self,
            update_web_session_roles(token_hash, adviser, organiser, now())
        )
    }

    /// Ends a session; with an `actor`, the audit log says who signed out and why.
    pub async fn end_web_session(
        &self,
        token_hash: &str,
        actor: Option<&str>,
        reason: &str,
    ) -> Result<(), StoreError> {
        dispatch!(self, delete_web_session(token_hash, actor, reason, now()))
    }

    /// Questions per day (answered and not) from `since` on, by day.
    pub async fn questions_by_day(&self, since: NaiveDate) -> Result<Vec<DayCount>, StoreError> {
        dispatch!(self, questions_by_day(since))
    }

    /// Questions and feedback per language from `since` on.
    pub async fn questions_by_lang(&self, since: NaiveDate) -> Result<Vec<LangCount>, StoreError> {
        dispatch!(self, questions_by_lang(since))
    }

    /// Helpful and not-helpful verdicts per entry and language given from `since` on,
    /// most often unhelpful first.
    pub async fn feedback_by_entry(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<EntryFeedback>, StoreError> {
        dispatch!(self, feedback_by_entry(since.trunc_subsecs(6)))
    }

    /// Keeps every source of a learned entry (the learned entry itself keeps only the
    /// first). Save it before [`Store::save_learned_entry`], whose knowledge version
    /// bump makes running bots read both.
    pub async fn save_entry_sources(
        &self,
        id: &str,
        lang: &str,
        sources: &[EntrySource],
    ) -> Result<(), StoreError> {
        let list: Vec<serde_json::Value> = sources
            .iter()
            .map(|s| serde_json::json!({"name": storable(&s.name), "url": storable(&s.url)}))
            .collect();
        let json = serde_json::Value::Array(list).to_string();
        dispatch!(self, save_web_entry_sources(id, lang, &json))
    }

    /// The sources kept with [`Store::save_entry_sources`] for learned entries that
    /// exist: `(id, lang, sources)`.
    pub async fn entry_sources(
        &self,
    ) -> Result<Vec<(String, String, Vec<EntrySource>)>, StoreError> {
        let rows = dispatch!(self, web_entry_sources())?;
        rows.into_iter()
            .map(|(id, lang, json)| {
                let sources: Vec<EntrySource> = serde_json::from_str(&json).map_err(|e| {
                    StoreError::Database(sqlx::Error::Decode(
                        format!("bad JSON list of sources: {e}").into(),
                    ))
                })?;
                Ok((id, lang, sources))
            })
            .collect()
    }
}
