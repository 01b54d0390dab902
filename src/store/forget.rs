// Forgetting a user: everything personal about them, and every copy of their words.
// Included into each backend module next to `queries.rs` (see `backend.rs`).

/// Deletes the user's asks, feedback and replies, and queue items nobody else asked;
/// retitles the items others asked too; removes the user's words from what advisers
/// taught from those items (example questions, phrasings, titles) and from old audit
/// details; and writes one audit line that says a user was forgotten, not who.
pub(crate) async fn forget_user(
    pool: &Pool,
    user_id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<ForgetReport, StoreError> {
    let mut tx = begin_write(pool).await?;
    let asks = sqlx::query("SELECT item_id, question, thread_id FROM asks WHERE user_id = $1")
        .bind(user_id)
        .fetch_all(&mut *tx)
        .await?;
    let mut touched_items = std::collections::BTreeSet::new();
    let mut questions = Vec::new();
    let mut threads = std::collections::BTreeSet::new();
    for row in &asks {
        touched_items.insert(row.try_get::<i64, _>("item_id")?);
        questions.push(row.try_get::<String, _>("question")?);
        threads.extend(row.try_get::<Option<String>, _>("thread_id")?);
    }
    let keys = crate::store::taught::asker_keys(questions.iter().map(String::as_str));

    // Replies to the user's asks, wherever they were to be delivered.
    let mut outbox_deleted = sqlx::query(
        "DELETE FROM outbox
         WHERE user_id = $1 OR ask_id IN (SELECT id FROM asks WHERE user_id = $1)",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();

    // The user's tender watches and what was alerted to them (src/tenders/).
    sqlx::query(
        "DELETE FROM tender_alerts
         WHERE watch_id IN (SELECT id FROM tender_watches WHERE user_id = $1)",
    )
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM tender_watches WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;

    // The threads the bot opened on their questions, and those questions with them.
    let mut opened_threads: Vec<String> =
        sqlx::query_scalar("DELETE FROM bot_threads WHERE asker_id = $1 RETURNING thread_id")
            .bind(user_id)
            .fetch_all(&mut *tx)
            .await?;
    opened_threads.sort();

    let asks_deleted = sqlx::query("DELETE FROM asks WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();

    // What advisers taught from the user's items, before the items can go.
    let taught = forget_taught_words(&mut tx, &touched_items, &keys, now).await?;

    let mut deleted_items = Vec::new();
    let mut items_retitled = Vec::new();
    let mut alerts = Vec::new();
    for &item_id in &touched_items {
        let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM asks WHERE item_id = $1")
            .bind(item_id)
            .fetch_one(&mut *tx)
            .await?;
        // The advisers' alert quotes the item's title as it was when the item was new.
        let item = sqlx::query(SELECT_ITEM_TO_FORGET)
        .bind(item_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(item) = &item {
            let title: String = item.try_get("question")?;
            let channel: Option<String> = item.try_get("alert_channel_id")?;
            let message: Option<String> = item.try_get("alert_message_id")?;
            if let (Some(channel_id), Some(message_id)) = (channel, message) {
                if remaining == 0 || questions.contains(&title) {
                    alerts.push(AlertMessage {
                        item_id: QueueItemId(item_id),
                        channel_id,
                        message_id,
                    });
                }
            }
        }
        if remaining == 0 {
            // Nobody else asked: the item itself is the user's question.
            outbox_deleted += sqlx::query("DELETE FROM outbox WHERE item_id = $1")
                .bind(item_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM queue_items WHERE id = $1")
                .bind(item_id)
                .execute(&mut *tx)
                .await?;
            deleted_items.push(QueueItemId(item_id));
        } else {
            retitle_item(&mut tx, item_id).await?;
            items_retitled.push(QueueItemId(item_id));
        }
    }

    let feedback_deleted = sqlx::query("DELETE FROM feedback WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();

    let audit_lines_cleared = clear_audit_details(&mut tx, user_id, &keys).await?;
    if taught.wordings_removed + taught.titles_replaced > 0 {
        // Running bots rebuild their index and stop answering with the user's words.
        bump_knowledge_version(&mut tx).await?;
    }

    let report = ForgetReport {
        asks_deleted,
        feedback_deleted,
        items_deleted: deleted_items.len() as u64,
        outbox_deleted,
        wordings_removed: taught.wordings_removed,
        titles_replaced: taught.titles_replaced,
        audit_lines_cleared,
        deleted_items,
        items_retitled,
        threads: threads.into_iter().collect(),
        opened_threads,
        alerts,
    };
    // The audit says that someone was forgotten, never who.
    let detail = report.to_string();
    audit_in(&mut tx, now, actor, "forget_user", "user", Some(&detail)).await?;
    tx.commit().await?;
    Ok(report)
}

/// Gives an item others asked too the earliest remaining wording as its title, and the
/// key of that wording (a key of its own if another open item has that key), so neither
/// keeps the forgotten user's words.
async fn retitle_item(conn: &mut Conn, item_id: i64) -> Result<(), StoreError> {
    let row = sqlx::query(
        "UPDATE queue_items SET
             question = (SELECT a.question FROM asks a WHERE a.item_id = $1
                         ORDER BY a.asked_at, a.id LIMIT 1),
             lang = (SELECT a.lang FROM asks a WHERE a.item_id = $1
                     ORDER BY a.asked_at, a.id LIMIT 1),
             asked_at = (SELECT MIN(a.asked_at) FROM asks a WHERE a.item_id = $1),
             last_asked_at = (SELECT MAX(a.asked_at) FROM asks a WHERE a.item_id = $1)
         WHERE id = $1
         RETURNING question",
    )
    .bind(item_id)
    .fetch_one(&mut *conn)
    .await?;
    let key = crate::store::group_key(row.try_get("question")?);
    sqlx::query(
        "UPDATE queue_items SET group_key = CASE
             WHEN status = 'open' AND EXISTS (
                 SELECT 1 FROM queue_items o
                 WHERE o.group_key = $2 AND o.status = 'open'
                   AND o.is_private = queue_items.is_private AND o.id <> $1)
             THEN $3 ELSE $2 END
         WHERE id = $1",
    )
    .bind(item_id)
    .bind(&key)
    .bind(format!("item:{item_id}"))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What [`forget_taught_words`] changed.
struct TaughtForgotten {
    wordings_removed: u64,
    titles_replaced: u64,
}

/// Removes the user's words from entries and phrasings taught from `items`: example
/// questions and phrasings that are one of the user's questions, and titles made from
/// one (replaced by a title from the adviser's answer, which stays). Phrasings from before
/// their item was recorded are matched by their words alone.
async fn forget_taught_words(
    conn: &mut Conn,
    items: &std::collections::BTreeSet<i64>,
    keys: &std::collections::BTreeSet<String>,
    now: DateTime<Utc>,
) -> Result<TaughtForgotten, StoreError> {
    use crate::store::taught::{is_askers_title, is_askers_wording, title_from_answer};
    let mut forgotten = TaughtForgotten {
        wordings_removed: 0,
        titles_replaced: 0,
    };
    if keys.is_empty() {
        return Ok(forgotten);
    }
    for &item_id in items {
        let entries = sqlx::query(
            "SELECT id, lang, title, body, questions FROM learned_entries WHERE from_item = $1",
        )
        .bind(item_id)
        .fetch_all(&mut *conn)
        .await?;
        for row in &entries {
            let title: String = row.try_get("title")?;
            let questions = from_json(row.try_get("questions")?)?;
            let kept: Vec<String> = questions
                .iter()
                .filter(|q| !is_askers_wording(q, keys))
                .cloned()
                .collect();
            let replace_title = is_askers_title(&title, keys);
            if kept.len() == questions.len() && !replace_title {
                continue;
            }
            let lang: String = row.try_get("lang")?;
            let title = if replace_title {
                title_from_answer(row.try_get("body")?, &lang)
            } else {
                title
            };
            sqlx::query(
                "UPDATE learned_entries SET title = $3, questions = $4, updated_at = $5
                 WHERE id = $1 AND lang = $2",
            )
            .bind(row.try_get::<String, _>("id")?)
            .bind(&lang)
            .bind(&title)
            .bind(to_json(&kept))
            .bind(now)
            .execute(&mut *conn)
            .await?;
            forgotten.wordings_removed += (questions.len() - kept.len()) as u64;
            forgotten.titles_replaced += u64::from(replace_title);
        }
        let phrasings = sqlx::query("SELECT id, question FROM phrasings WHERE from_item = $1")
            .bind(item_id)
            .fetch_all(&mut *conn)
            .await?;
        forgotten.wordings_removed += delete_phrasings(conn, &phrasings, keys).await?;
    }
    // Phrasings taught before their item was recorded.
    let phrasings = sqlx::query("SELECT id, question FROM phrasings WHERE from_item IS NULL")
        .fetch_all(&mut *conn)
        .await?;
    forgotten.wordings_removed += delete_phrasings(conn, &phrasings, keys).await?;
    Ok(forgotten)
}

/// Deletes those of the phrasings `rows` (id, question) that are the user's words.
async fn delete_phrasings(
    conn: &mut Conn,
    rows: &[DbRow],
    keys: &std::collections::BTreeSet<String>,
) -> Result<u64, StoreError> {
    let mut deleted = 0;
    for row in rows {
        if crate::store::taught::is_askers_wording(row.try_get("question")?, keys) {
            deleted += sqlx::query("DELETE FROM phrasings WHERE id = $1")
                .bind(row.try_get::<i64, _>("id")?)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
    }
    Ok(deleted)
}

/// Clears audit details that quote the user's words (saving an entry or a phrasing wrote
/// them there before this version) and the user id as the target of `forget` lines (the
/// command line wrote it there before this version). Returns the lines changed.
async fn clear_audit_details(
    conn: &mut Conn,
    user_id: &str,
    keys: &std::collections::BTreeSet<String>,
) -> Result<u64, StoreError> {
    let mut cleared = sqlx::query(
        "UPDATE audit_log SET target = 'user' WHERE action = 'forget' AND target = $1",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if keys.is_empty() {
        return Ok(cleared);
    }
    let rows = sqlx::query(
        "SELECT id, detail FROM audit_log
         WHERE action IN ('save_entry', 'add_phrasing') AND detail IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    for row in &rows {
        let detail: String = row.try_get("detail")?;
        let keys_match = crate::store::taught::is_askers_wording(&detail, keys)
            || crate::store::taught::is_askers_title(&detail, keys);
        if keys_match {
            cleared += sqlx::query("UPDATE audit_log SET detail = NULL WHERE id = $1")
                .bind(row.try_get::<i64, _>("id")?)
                .execute(&mut *conn)
                .await?
                .rows_affected();
        }
    }
    Ok(cleared)
}
