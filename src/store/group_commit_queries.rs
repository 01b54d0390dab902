// The SQL of a group commit (see `group_commit.rs`), compiled into both backends like
// `queries.rs`, whose helpers it uses.

use crate::store::group_commit::{BatchPlan, Filed};

/// Writes a batch in one transaction: the queue writes in order, then the summed
/// counters. Returns, for every write of the batch, the queue item it filed.
pub(crate) async fn write_batch(
    pool: &Pool,
    plan: &BatchPlan,
    lock_timeout: std::time::Duration,
) -> Result<Vec<Option<Logged>>, StoreError> {
    let mut filed = vec![None; plan.len];
    let mut tx = begin_write(pool).await?;
    if let Some(set_lock_timeout) = SET_LOCK_TIMEOUT {
        sqlx::query(set_lock_timeout)
            .bind(format!("{}ms", lock_timeout.as_millis().max(1)))
            .execute(&mut *tx)
            .await?;
    }
    for write in &plan.filed {
        match write {
            Filed::Unanswered {
                index,
                question,
                key,
            } => filed[*index] = Some(log_unanswered_in(&mut tx, question, key).await?),
            Filed::Feedback {
                index,
                feedback,
                day,
                key,
            } => filed[*index] = record_feedback_in(&mut tx, feedback, *day, key).await?,
        }
    }
    for ((day, lang), (answered, abstained)) in &plan.question_counts {
        bump_question_counts(&mut tx, *day, *lang, *answered, *abstained, 0, 0).await?;
    }
    for ((day, entry_id, lang, source), count) in &plan.answer_counts {
        add_answer_count(&mut tx, *day, entry_id, *lang, source, *count).await?;
    }
    for ((day, referral_id, lang), count) in &plan.referral_counts {
        add_referral_count(&mut tx, *day, referral_id, *lang, *count).await?;
    }
    tx.commit().await?;
    Ok(filed)
}

/// Adds `count` answers given from an entry on a day.
async fn add_answer_count(
    conn: &mut Conn,
    day: NaiveDate,
    entry_id: &str,
    lang: Lang,
    source: &str,
    count: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO answer_counts (day, entry_id, lang, source, count)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (day, entry_id, lang, source) DO UPDATE SET
             count = answer_counts.count + excluded.count",
    )
    .bind(day)
    .bind(entry_id)
    .bind(lang.code())
    .bind(source)
    .bind(count)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds `count` questions referred to a public service on a day.
async fn add_referral_count(
    conn: &mut Conn,
    day: NaiveDate,
    referral_id: &str,
    lang: Lang,
    count: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO referral_counts (day, referral_id, lang, count)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (day, referral_id, lang) DO UPDATE SET
             count = referral_counts.count + excluded.count",
    )
    .bind(day)
    .bind(referral_id)
    .bind(lang.code())
    .bind(count)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
