// The bot's threads' SQL, written once and compiled twice like `queries.rs`: this file
// is included into each backend module after it, so it uses that file's helpers.
// Forgetting an asker deletes their rows (`forget.rs`).

use crate::store::threads::StoredThread;

pub(crate) async fn save_thread(
    pool: &Pool,
    thread: &StoredThread,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO bot_threads (thread_id, asker_id, question, created_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (thread_id) DO UPDATE
         SET asker_id = excluded.asker_id, question = excluded.question,
             created_at = excluded.created_at",
    )
    .bind(&thread.thread_id)
    .bind(&thread.asker_id)
    .bind(&thread.question)
    .bind(now)
    .execute(pool)
    .await?;
    Ok(())
}

pub(crate) async fn get_thread(
    pool: &Pool,
    thread_id: &str,
) -> Result<Option<StoredThread>, StoreError> {
    let row = sqlx::query("SELECT thread_id, asker_id, question FROM bot_threads WHERE thread_id = $1")
        .bind(thread_id)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(StoredThread {
            thread_id: row.try_get("thread_id")?,
            asker_id: row.try_get("asker_id")?,
            question: row.try_get("question")?,
        })
    })
    .transpose()
}
