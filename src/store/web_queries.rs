// The web pages' SQL (sessions, statistics by day, language and entry, the sources of
// entries edited on the web), written once and compiled twice like `queries.rs`: this
// file is included into each backend module after it, so it uses that file's helpers.

use crate::store::web::{DayCount, EntryFeedback, LangCount, NewWebSession, WebSession};

fn web_session_from_row(row: &DbRow) -> Result<WebSession, StoreError> {
    Ok(WebSession {
        person: row.try_get("person")?,
        discord_user_id: row.try_get("discord_user_id")?,
        adviser: row.try_get("adviser")?,
        organiser: row.try_get("organiser")?,
        csrf_token: row.try_get("csrf_token")?,
        access_token: row.try_get("access_token")?,
        created_at: row.try_get("created_at")?,
        last_seen_at: row.try_get("last_seen_at")?,
        expires_at: row.try_get("expires_at")?,
        roles_checked_at: row.try_get("roles_checked_at")?,
    })
}

pub(crate) async fn insert_web_session(
    pool: &Pool,
    token_hash: &str,
    session: &NewWebSession,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    // Sessions past their time are removed here, so the table stays small without a
    // background task.
    sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO web_sessions
             (token_hash, person, discord_user_id, adviser, organiser, csrf_token, access_token,
              created_at, last_seen_at, expires_at, roles_checked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $8)",
    )
    .bind(token_hash)
    .bind(&session.person)
    .bind(session.discord_user_id.as_deref())
    .bind(session.adviser)
    .bind(session.organiser)
    .bind(&session.csrf_token)
    .bind(session.access_token.as_deref())
    .bind(now)
    .bind(expires_at)
    .execute(&mut *tx)
    .await?;
    let how = if session.discord_user_id.is_some() {
        "discord"
    } else {
        "one-time link"
    };
    audit_in(&mut tx, now, &session.person, "web_sign_in", how, None).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn get_web_session(
    pool: &Pool,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<WebSession>, StoreError> {
    let row = sqlx::query(
        "SELECT person, discord_user_id, adviser, organiser, csrf_token, access_token,
                created_at, last_seen_at, expires_at, roles_checked_at
         FROM web_sessions WHERE token_hash = $1 AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(web_session_from_row).transpose()
}

pub(crate) async fn touch_web_session(
    pool: &Pool,
    token_hash: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE web_sessions SET last_seen_at = $2, expires_at = $3 WHERE token_hash = $1")
        .bind(token_hash)
        .bind(now)
        .bind(expires_at)
        .execute(pool)
        .await?;
    Ok(())
}

pub(crate) async fn update_web_session_roles(
    pool: &Pool,
    token_hash: &str,
    adviser: bool,
    organiser: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE web_sessions SET adviser = $2, organiser = $3, roles_checked_at = $4
         WHERE token_hash = $1",
    )
    .bind(token_hash)
    .bind(adviser)
    .bind(organiser)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn delete_web_session(
    pool: &Pool,
    token_hash: &str,
    actor: Option<&str>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    sqlx::query("DELETE FROM web_sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(&mut *tx)
        .await?;
    if let Some(actor) = actor {
        audit_in(&mut tx, now, actor, "web_sign_out", reason, None).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn questions_by_day(
    pool: &Pool,
    since: NaiveDate,
) -> Result<Vec<DayCount>, StoreError> {
    let rows = sqlx::query(
        "SELECT day, CAST(SUM(answered) AS BIGINT) AS answered,
                CAST(SUM(abstained) AS BIGINT) AS abstained
         FROM question_counts WHERE day >= $1
         GROUP BY day ORDER BY day",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(DayCount {
                day: row.try_get("day")?,
                answered: to_u64(row.try_get("answered")?),
                abstained: to_u64(row.try_get("abstained")?),
            })
        })
        .collect()
}

pub(crate) async fn questions_by_lang(
    pool: &Pool,
    since: NaiveDate,
) -> Result<Vec<LangCount>, StoreError> {
    let rows = sqlx::query(
        "SELECT lang, CAST(SUM(answered) AS BIGINT) AS answered,
                CAST(SUM(abstained) AS BIGINT) AS abstained,
                CAST(SUM(helpful) AS BIGINT) AS helpful,
                CAST(SUM(unhelpful) AS BIGINT) AS unhelpful
         FROM question_counts WHERE day >= $1
         GROUP BY lang ORDER BY lang",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LangCount {
                lang: lang_from_row(row)?,
                answered: to_u64(row.try_get("answered")?),
                abstained: to_u64(row.try_get("abstained")?),
                helpful: to_u64(row.try_get("helpful")?),
                unhelpful: to_u64(row.try_get("unhelpful")?),
            })
        })
        .collect()
}

pub(crate) async fn feedback_by_entry(
    pool: &Pool,
    since: DateTime<Utc>,
) -> Result<Vec<EntryFeedback>, StoreError> {
    let rows = sqlx::query(
        "SELECT entry_id, lang,
                CAST(SUM(CASE WHEN helpful THEN 1 ELSE 0 END) AS BIGINT) AS helpful,
                CAST(SUM(CASE WHEN helpful THEN 0 ELSE 1 END) AS BIGINT) AS unhelpful
         FROM feedback WHERE created_at >= $1
         GROUP BY entry_id, lang
         ORDER BY unhelpful DESC, entry_id, lang",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(EntryFeedback {
                entry_id: row.try_get("entry_id")?,
                lang: lang_from_row(row)?,
                helpful: to_u64(row.try_get("helpful")?),
                unhelpful: to_u64(row.try_get("unhelpful")?),
            })
        })
        .collect()
}

pub(crate) async fn save_web_entry_sources(
    pool: &Pool,
    id: &str,
    lang: &str,
    sources_json: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO web_entry_sources (id, lang, sources) VALUES ($1, $2, $3)
         ON CONFLICT (id, lang) DO UPDATE SET sources = excluded.sources",
    )
    .bind(id)
    .bind(lang)
    .bind(sources_json)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn web_entry_sources(
    pool: &Pool,
) -> Result<Vec<(String, String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id, s.lang, s.sources FROM web_entry_sources s
         JOIN learned_entries l ON l.id = s.id AND l.lang = s.lang
         ORDER BY s.id, s.lang",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("lang")?, row.try_get("sources")?)))
        .collect()
}
