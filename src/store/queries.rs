// The store's SQL and row mapping, written once and compiled twice.
//
// This file is not a module of its own: `backend.rs` includes it into one module
// per database, each of which first defines
//   `type Db`            the sqlx database type (Sqlite or Postgres),
//   `const BEGIN_WRITE`  how a writing transaction starts,
//   `const CLAIM_OUTBOX`, `const CLAIM_ANNOUNCEMENTS` the claims, the statements whose
//                        text differs (PostgreSQL adds FOR UPDATE SKIP LOCKED).
// Everything else is the same SQL text on both databases, because `$N` placeholders
// and `RETURNING`, `ON CONFLICT` and `CAST` mean the same on SQLite and PostgreSQL.
// Only bound parameters carry values; no text is ever formatted into SQL.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Database, Row};

use crate::knowledge::Lang;
use crate::store::error::StoreError;
use crate::store::model::{
    AlertMessage, Ask, AuditRow, DeliveryFailure, ForgetReport, LearnedEntry, Logged, NewFeedback, NewUnanswered,
    Origin, OutboxId, OutboxMessage, Phrasing, QueueItem, QueueItemId, QueueStatus, Reason,
    ReasonSummary, Source, Stats,
};
use crate::store::model::{
    Announcement, AnnouncementClaim, AnnouncementId, AnnouncementStatus, ClaimToken, Claimed,
    EventId, NewAnnouncement, NewEvent, ReminderClaim, StoredEvent,
};

type Pool = sqlx::Pool<Db>;
type Conn = <Db as Database>::Connection;
type DbRow = <Db as Database>::Row;

/// Starts a transaction that will write. On SQLite it takes the write lock at
/// once (BEGIN IMMEDIATE), so two writers wait for each other through
/// busy_timeout instead of failing when one upgrades a read lock.
async fn begin_write(pool: &Pool) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
    Ok(pool.begin_with(BEGIN_WRITE).await?)
}

fn decode_error(message: String) -> StoreError {
    StoreError::Database(sqlx::Error::Decode(message.into()))
}

fn parse_source(text: &str) -> Result<Source, StoreError> {
    Source::parse(text).ok_or_else(|| decode_error(format!("unknown source {text:?}")))
}

/// The language of a row. Written as [`Lang::code`] ("nb", "en"); read with
/// [`Lang::parse`], which also takes the other spellings older rows could hold
/// ("no", "nn", "eng", any case). Anything else is bad data, reported, not guessed.
fn parse_lang(text: &str) -> Result<Lang, StoreError> {
    Lang::parse(text).ok_or_else(|| decode_error(format!("unknown language {text:?}")))
}

fn lang_from_row(row: &DbRow) -> Result<Lang, StoreError> {
    parse_lang(row.try_get::<&str, _>("lang")?)
}

fn parse_status(text: &str) -> Result<QueueStatus, StoreError> {
    QueueStatus::parse(text).ok_or_else(|| decode_error(format!("unknown status {text:?}")))
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn origin_from_row(row: &DbRow) -> Result<Origin, StoreError> {
    Ok(Origin {
        source: parse_source(row.try_get::<&str, _>("source")?)?,
        guild_id: row.try_get("guild_id")?,
        channel_id: row.try_get("channel_id")?,
        message_id: row.try_get("message_id")?,
        thread_id: row.try_get("thread_id")?,
        user_id: row.try_get("user_id")?,
    })
}

// ---------------------------------------------------------------- the queue

pub(crate) async fn log_unanswered(
    pool: &Pool,
    question: &NewUnanswered,
    key: &str,
) -> Result<Logged, StoreError> {
    let mut tx = begin_write(pool).await?;
    let logged = log_unanswered_in(&mut tx, question, key).await?;
    tx.commit().await?;
    Ok(logged)
}

/// Files one ask under the open item with the same key, or a new item.
async fn log_unanswered_in(
    conn: &mut Conn,
    question: &NewUnanswered,
    key: &str,
) -> Result<Logged, StoreError> {
    let score = f64::from(question.score);
    // A private question and a public one never share an item, whatever their words.
    let private = question.origin.is_private();
    // A few rounds at most: each round either joins an item or creates one,
    // unless another process created or closed one at the same moment.
    for _ in 0..5 {
        // Joining is an UPDATE so that, on PostgreSQL, it locks the item: an
        // adviser answering it at this moment either comes after us (and our
        // asker gets the answer) or before us (the item is no longer open and we
        // start a new one). No asker can fall between the two.
        let joined: Option<i64> = sqlx::query_scalar(
            "UPDATE queue_items SET
                 last_asked_at = CASE WHEN last_asked_at < $2 THEN $2 ELSE last_asked_at END,
                 best_candidate = CASE WHEN $4 IS NOT NULL AND $3 > score
                                       THEN $4 ELSE best_candidate END,
                 score = CASE WHEN $4 IS NOT NULL AND $3 > score THEN $3 ELSE score END
             WHERE group_key = $1 AND is_private = $5 AND status = 'open'
             RETURNING id",
        )
        .bind(key)
        .bind(question.asked_at)
        .bind(score)
        .bind(question.best_candidate.as_deref())
        .bind(private)
        .fetch_optional(&mut *conn)
        .await?;

        let (item_id, is_new) = match joined {
            Some(id) => (id, false),
            None => {
                let created: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO queue_items
                         (group_key, question, lang, status, best_candidate, score,
                          asked_at, last_asked_at, is_private)
                     VALUES ($1, $2, $3, 'open', $4, $5, $6, $6, $7)
                     ON CONFLICT (group_key, is_private) WHERE status = 'open' DO NOTHING
                     RETURNING id",
                )
                .bind(key)
                .bind(&question.question)
                .bind(question.lang.code())
                .bind(question.best_candidate.as_deref())
                .bind(score)
                .bind(question.asked_at)
                .bind(private)
                .fetch_optional(&mut *conn)
                .await?;
                match created {
                    Some(id) => (id, true),
                    // Someone else created it first: join theirs.
                    None => continue,
                }
            }
        };

        let (entry_id, comment) = match &question.reason {
            Reason::Abstained => (None, None),
            Reason::NotHelpful { comment, entry_id } => {
                (Some(entry_id.as_str()), comment.as_deref())
            }
        };
        let origin = &question.origin;
        sqlx::query(
            "INSERT INTO asks
                 (item_id, question, lang, reason, entry_id, comment, source, guild_id,
                  channel_id, message_id, thread_id, user_id, asked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(item_id)
        .bind(&question.question)
        .bind(question.lang.code())
        .bind(question.reason.kind())
        .bind(entry_id)
        .bind(comment)
        .bind(origin.source.as_str())
        .bind(origin.guild_id.as_deref())
        .bind(origin.channel_id.as_deref())
        .bind(origin.message_id.as_deref())
        .bind(origin.thread_id.as_deref())
        .bind(origin.user_id.as_deref())
        .bind(question.asked_at)
        .execute(&mut *conn)
        .await?;

        return Ok(Logged {
            item_id: QueueItemId(item_id),
            is_new,
        });
    }
    Err(StoreError::Database(sqlx::Error::Protocol(
        "could not file the question: its queue item kept changing".into(),
    )))
}

fn item_from_row(row: &DbRow) -> Result<QueueItem, StoreError> {
    let score: f64 = row.try_get("score")?;
    Ok(QueueItem {
        id: QueueItemId(row.try_get("id")?),
        question: row.try_get("question")?,
        status: parse_status(row.try_get::<&str, _>("status")?)?,
        count: to_u64(row.try_get("ask_count")?),
        asked_at: row.try_get("asked_at")?,
        last_asked_at: row.try_get("last_asked_at")?,
        lang: lang_from_row(row)?,
        private: row.try_get("is_private")?,
        best_candidate: row.try_get("best_candidate")?,
        score: score as f32,
        reason: ReasonSummary {
            abstained: to_u64(row.try_get("abstained")?),
            not_helpful: to_u64(row.try_get("not_helpful")?),
        },
        answer: row.try_get("answer")?,
        dismiss_reason: row.try_get("dismiss_reason")?,
        handled_by: row.try_get("handled_by")?,
        handled_at: row.try_get("handled_at")?,
    })
}

pub(crate) async fn list_queue(
    pool: &Pool,
    status: Option<QueueStatus>,
) -> Result<Vec<QueueItem>, StoreError> {
    let rows = sqlx::query(
        "SELECT q.id, q.question, q.status, q.lang, q.is_private, q.best_candidate, q.score,
                q.asked_at, q.last_asked_at, q.answer, q.dismiss_reason,
                q.handled_by, q.handled_at,
                COUNT(a.id) AS ask_count,
                COUNT(CASE WHEN a.reason = 'abstained' THEN 1 END) AS abstained,
                COUNT(CASE WHEN a.reason = 'not_helpful' THEN 1 END) AS not_helpful
         FROM queue_items q LEFT JOIN asks a ON a.item_id = q.id
         WHERE $1 IS NULL OR q.status = $1
         GROUP BY q.id
         ORDER BY q.id",
    )
    .bind(status.map(QueueStatus::as_str))
    .fetch_all(pool)
    .await?;
    rows.iter().map(item_from_row).collect()
}

pub(crate) async fn get_item(pool: &Pool, id: QueueItemId) -> Result<QueueItem, StoreError> {
    let row = sqlx::query(
        "SELECT q.id, q.question, q.status, q.lang, q.is_private, q.best_candidate, q.score,
                q.asked_at, q.last_asked_at, q.answer, q.dismiss_reason,
                q.handled_by, q.handled_at,
                COUNT(a.id) AS ask_count,
                COUNT(CASE WHEN a.reason = 'abstained' THEN 1 END) AS abstained,
                COUNT(CASE WHEN a.reason = 'not_helpful' THEN 1 END) AS not_helpful
         FROM queue_items q LEFT JOIN asks a ON a.item_id = q.id
         WHERE q.id = $1
         GROUP BY q.id",
    )
    .bind(id.0)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => item_from_row(&row),
        None => Err(StoreError::not_found("queue item", id)),
    }
}

pub(crate) async fn set_alert_message(
    pool: &Pool,
    id: QueueItemId,
    quoted: &str,
    channel_id: &str,
    message_id: &str,
) -> Result<bool, StoreError> {
    // Only while the item still has the title the alert quotes: a forget that deleted or
    // retitled it first (it locks the row) leaves nothing here, and the caller redacts.
    let done = sqlx::query(
        "UPDATE queue_items SET alert_channel_id = $2, alert_message_id = $3
         WHERE id = $1 AND question = $4",
    )
    .bind(id.0)
    .bind(channel_id)
    .bind(message_id)
    .bind(quoted)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

pub(crate) async fn asks_for_item(pool: &Pool, id: QueueItemId) -> Result<Vec<Ask>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, item_id, question, lang, reason, entry_id, comment, source, guild_id,
                channel_id, message_id, thread_id, user_id, asked_at
         FROM asks WHERE item_id = $1 ORDER BY asked_at, id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let reason = match row.try_get::<&str, _>("reason")? {
                "abstained" => Reason::Abstained,
                "not_helpful" => Reason::NotHelpful {
                    comment: row.try_get("comment")?,
                    entry_id: row
                        .try_get::<Option<String>, _>("entry_id")?
                        .unwrap_or_default(),
                },
                other => return Err(decode_error(format!("unknown reason {other:?}"))),
            };
            Ok(Ask {
                id: row.try_get("id")?,
                item_id: QueueItemId(row.try_get("item_id")?),
                question: row.try_get("question")?,
                lang: lang_from_row(row)?,
                reason,
                origin: origin_from_row(row)?,
                asked_at: row.try_get("asked_at")?,
            })
        })
        .collect()
}

/// Explains why an item could not be closed: it is missing or not open.
async fn closing_error(conn: &mut Conn, id: QueueItemId) -> StoreError {
    let status: Result<Option<String>, sqlx::Error> =
        sqlx::query_scalar("SELECT status FROM queue_items WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await;
    match status {
        Err(error) => error.into(),
        Ok(None) => StoreError::not_found("queue item", id),
        Ok(Some(status)) => match parse_status(&status) {
            Ok(actual) => StoreError::InvalidState { id, actual },
            Err(error) => error,
        },
    }
}

fn outbox_from_row(row: &DbRow) -> Result<OutboxMessage, StoreError> {
    Ok(OutboxMessage {
        id: OutboxId(row.try_get("id")?),
        item_id: QueueItemId(row.try_get("item_id")?),
        origin: origin_from_row(row)?,
        question: row.try_get("question")?,
        text: row.try_get("text")?,
        lang: lang_from_row(row)?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        parts_sent: u32::try_from(row.try_get::<i64, _>("parts_sent")?).unwrap_or(u32::MAX),
        created_at: row.try_get("created_at")?,
    })
}

pub(crate) async fn answer_item(
    pool: &Pool,
    id: QueueItemId,
    text: &str,
    adviser: &str,
    now: DateTime<Utc>,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let updated = sqlx::query(
        "UPDATE queue_items
         SET status = 'answered', answer = $2, handled_by = $3, handled_at = $4
         WHERE id = $1 AND status = 'open'",
    )
    .bind(id.0)
    .bind(text)
    .bind(adviser)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(closing_error(&mut tx, id).await);
    }

    let rows = sqlx::query(
        "INSERT INTO outbox
             (item_id, ask_id, source, guild_id, channel_id, message_id, thread_id, user_id,
              question, text, lang, status, attempts, created_at)
         SELECT item_id, id, source, guild_id, channel_id, message_id, thread_id, user_id,
                question, $2, lang, 'pending', 0, $3
         FROM asks
         WHERE item_id = $1
           AND (source = 'terminal' OR channel_id IS NOT NULL
                OR thread_id IS NOT NULL OR user_id IS NOT NULL)
         ORDER BY id
         RETURNING id, item_id, source, guild_id, channel_id, message_id, thread_id, user_id,
                   question, text, lang, attempts, parts_sent, created_at",
    )
    .bind(id.0)
    .bind(text)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let mut messages = rows
        .iter()
        .map(outbox_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    messages.sort_by_key(|m| m.id);

    let detail = format!("{} replies queued", messages.len());
    audit_in(
        &mut tx,
        now,
        adviser,
        "answer",
        &id.to_string(),
        Some(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(messages)
}

pub(crate) async fn dismiss_item(
    pool: &Pool,
    id: QueueItemId,
    reason: Option<&str>,
    adviser: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    let updated = sqlx::query(
        "UPDATE queue_items
         SET status = 'dismissed', dismiss_reason = $2, handled_by = $3, handled_at = $4
         WHERE id = $1 AND status = 'open'",
    )
    .bind(id.0)
    .bind(reason)
    .bind(adviser)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(closing_error(&mut tx, id).await);
    }
    audit_in(&mut tx, now, adviser, "dismiss", &id.to_string(), reason).await?;
    tx.commit().await?;
    Ok(())
}

// --------------------------------------------------------------- the outbox

pub(crate) async fn claim_outbox(
    pool: &Pool,
    limit: u32,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    source_pattern: &str,
    token: &ClaimToken,
) -> Result<Vec<OutboxMessage>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let rows = sqlx::query(CLAIM_OUTBOX)
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .bind(source_pattern)
        .bind(&token.0)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut messages = rows
        .iter()
        .map(outbox_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    messages.sort_by_key(|m| m.id);
    Ok(messages)
}

pub(crate) async fn mark_delivered(
    pool: &Pool,
    id: OutboxId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    let updated = sqlx::query(
        "UPDATE outbox SET status = 'delivered', delivered_at = $2, claimed_until = NULL,
             claim_token = NULL
         WHERE id = $1",
    )
    .bind(id.0)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::not_found("outbox message", id));
    }
    tx.commit().await?;
    Ok(())
}

/// Records a failed delivery. `retry_at` computes when to offer the message
/// again from the number of failed attempts so far.
pub(crate) async fn mark_failed(
    pool: &Pool,
    id: OutboxId,
    error: &str,
    max_attempts: u32,
    retry_at: impl Fn(u32) -> DateTime<Utc>,
) -> Result<DeliveryFailure, StoreError> {
    let mut tx = begin_write(pool).await?;
    let row = sqlx::query(
        "UPDATE outbox SET
             attempts = attempts + 1,
             last_error = $2,
             status = CASE WHEN status = 'pending' AND attempts + 1 >= $3
                           THEN 'failed' ELSE status END
         WHERE id = $1
         RETURNING attempts, status",
    )
    .bind(id.0)
    .bind(error)
    .bind(i64::from(max_attempts))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(StoreError::not_found("outbox message", id));
    };
    let attempts = u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX);
    let status: String = row.try_get("status")?;
    let outcome = if status == "failed" {
        DeliveryFailure::GaveUp
    } else {
        DeliveryFailure::WillRetry { attempts }
    };
    // The parts already posted stay counted: the next attempt goes on from there.
    sqlx::query("UPDATE outbox SET claimed_until = $2, claim_token = NULL WHERE id = $1")
        .bind(id.0)
        .bind(retry_at(attempts))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(outcome)
}

// ------------------------------------------------- feedback and statistics

pub(crate) async fn record_feedback(
    pool: &Pool,
    feedback: &NewFeedback,
    day: NaiveDate,
    key: &str,
) -> Result<Option<Logged>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let logged = record_feedback_in(&mut tx, feedback, day, key).await?;
    tx.commit().await?;
    Ok(logged)
}

/// Records feedback inside a transaction; a not-helpful verdict files the question.
async fn record_feedback_in(
    conn: &mut Conn,
    feedback: &NewFeedback,
    day: NaiveDate,
    key: &str,
) -> Result<Option<Logged>, StoreError> {
    let origin = &feedback.origin;
    sqlx::query(
        "INSERT INTO feedback
             (entry_id, lang, helpful, comment, question, source, guild_id, channel_id,
              message_id, thread_id, user_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&feedback.entry_id)
    .bind(feedback.lang.code())
    .bind(feedback.helpful)
    .bind(feedback.comment.as_deref())
    .bind(&feedback.question)
    .bind(origin.source.as_str())
    .bind(origin.guild_id.as_deref())
    .bind(origin.channel_id.as_deref())
    .bind(origin.message_id.as_deref())
    .bind(origin.thread_id.as_deref())
    .bind(origin.user_id.as_deref())
    .bind(feedback.at)
    .execute(&mut *conn)
    .await?;

    let (helpful, unhelpful) = if feedback.helpful { (1, 0) } else { (0, 1) };
    bump_question_counts(conn, day, feedback.lang, 0, 0, helpful, unhelpful).await?;

    let logged = if feedback.helpful {
        None
    } else {
        let question = NewUnanswered {
            question: feedback.question.clone(),
            lang: feedback.lang,
            origin: feedback.origin.clone(),
            best_candidate: Some(feedback.entry_id.clone()),
            score: 0.0,
            reason: Reason::NotHelpful {
                comment: feedback.comment.clone(),
                entry_id: feedback.entry_id.clone(),
            },
            asked_at: feedback.at,
        };
        Some(log_unanswered_in(conn, &question, key).await?)
    };
    Ok(logged)
}

async fn bump_question_counts(
    conn: &mut Conn,
    day: NaiveDate,
    lang: Lang,
    answered: i64,
    abstained: i64,
    helpful: i64,
    unhelpful: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO question_counts (day, lang, answered, abstained, helpful, unhelpful)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (day, lang) DO UPDATE SET
             answered = question_counts.answered + excluded.answered,
             abstained = question_counts.abstained + excluded.abstained,
             helpful = question_counts.helpful + excluded.helpful,
             unhelpful = question_counts.unhelpful + excluded.unhelpful",
    )
    .bind(day)
    .bind(lang.code())
    .bind(answered)
    .bind(abstained)
    .bind(helpful)
    .bind(unhelpful)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn record_question_asked(
    pool: &Pool,
    answered: bool,
    lang: Lang,
    day: NaiveDate,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    let (answered, abstained) = if answered { (1, 0) } else { (0, 1) };
    bump_question_counts(&mut tx, day, lang, answered, abstained, 0, 0).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn record_answer_given(
    pool: &Pool,
    entry_id: &str,
    lang: Lang,
    source: Source,
    day: NaiveDate,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    add_answer_count(&mut tx, day, entry_id, lang, source.as_str(), 1).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn stats(pool: &Pool, since: NaiveDate, top: u32) -> Result<Stats, StoreError> {
    let totals = sqlx::query(
        "SELECT CAST(COALESCE(SUM(answered), 0) AS BIGINT) AS answered,
                CAST(COALESCE(SUM(abstained), 0) AS BIGINT) AS abstained,
                CAST(COALESCE(SUM(unhelpful), 0) AS BIGINT) AS unhelpful
         FROM question_counts WHERE day >= $1",
    )
    .bind(since)
    .fetch_one(pool)
    .await?;
    let answered = to_u64(totals.try_get("answered")?);
    let abstained = to_u64(totals.try_get("abstained")?);
    let unhelpful = to_u64(totals.try_get("unhelpful")?);

    let top_rows = sqlx::query(
        "SELECT entry_id, CAST(SUM(count) AS BIGINT) AS given
         FROM answer_counts WHERE day >= $1
         GROUP BY entry_id
         ORDER BY given DESC, entry_id
         LIMIT $2",
    )
    .bind(since)
    .bind(i64::from(top))
    .fetch_all(pool)
    .await?;
    let top_entries = top_rows
        .iter()
        .map(|row| Ok((row.try_get("entry_id")?, to_u64(row.try_get("given")?))))
        .collect::<Result<Vec<_>, StoreError>>()?;

    let open_queue: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM queue_items WHERE status = 'open'")
            .fetch_one(pool)
            .await?;

    let (referred, referrals) = referral_totals(pool, since).await?;
    let questions = answered + abstained + referred;
    Ok(Stats {
        questions,
        answered,
        abstained,
        referred,
        referrals,
        share_answered: if questions == 0 {
            0.0
        } else {
            answered as f64 / questions as f64
        },
        top_entries,
        open_queue: to_u64(open_queue),
        unhelpful,
    })
}
