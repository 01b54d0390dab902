// Learned knowledge, the audit log and the retention purge: included into each backend
// module beside queries.rs (whose helpers and imports it uses), as queries.rs is.

// ------------------------------------------------------- learned knowledge

async fn bump_knowledge_version(conn: &mut Conn) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE knowledge_version SET version = version + 1 WHERE id = 1 RETURNING version",
    )
    .fetch_one(&mut *conn)
    .await?)
}

fn to_json(list: &[String]) -> String {
    serde_json::Value::from(list.to_vec()).to_string()
}

fn from_json(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(|e| decode_error(format!("bad JSON list: {e}")))
}

/// Saves an entry; `from_item` is the queue item its title and questions were taught
/// from (kept on a later edit that does not say), so forgetting an asker finds them.
pub(crate) async fn save_learned_entry(
    pool: &Pool,
    entry: &LearnedEntry,
    from_item: Option<i64>,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "INSERT INTO learned_entries
             (id, lang, title, body, questions, keywords, source_name, source_url, reviewed,
              created_by, created_at, updated_at, from_item)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)
         ON CONFLICT (id, lang) DO UPDATE SET
             title = excluded.title,
             body = excluded.body,
             questions = excluded.questions,
             keywords = excluded.keywords,
             source_name = excluded.source_name,
             source_url = excluded.source_url,
             reviewed = excluded.reviewed,
             updated_at = excluded.updated_at,
             from_item = COALESCE(excluded.from_item, learned_entries.from_item)",
    )
    .bind(&entry.id)
    .bind(entry.lang.code())
    .bind(&entry.title)
    .bind(&entry.body)
    .bind(to_json(&entry.questions))
    .bind(to_json(&entry.keywords))
    .bind(&entry.source_name)
    .bind(entry.source_url.as_deref())
    .bind(entry.reviewed)
    .bind(&entry.created_by)
    .bind(now)
    .bind(from_item)
    .execute(&mut *tx)
    .await?;
    let version = bump_knowledge_version(&mut tx).await?;
    let target = format!("{}/{}", entry.id, entry.lang);
    // A title taught from a question is the asker's words: the audit names the item.
    let detail = match from_item {
        Some(item) => format!("from {}", QueueItemId(item)),
        None => entry.title.clone(),
    };
    audit_in(
        &mut tx,
        now,
        &entry.created_by,
        "save_entry",
        &target,
        Some(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// Adds a phrasing; `from_item` as for [`save_learned_entry`].
pub(crate) async fn add_phrasing(
    pool: &Pool,
    phrasing: &Phrasing,
    created_by: &str,
    from_item: Option<i64>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    let added = sqlx::query(
        "INSERT INTO phrasings (entry_id, lang, question, created_by, created_at, from_item)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (entry_id, lang, question) DO NOTHING",
    )
    .bind(&phrasing.entry_id)
    .bind(phrasing.lang.code())
    .bind(&phrasing.question)
    .bind(created_by)
    .bind(now)
    .bind(from_item)
    .execute(&mut *tx)
    .await?
    .rows_affected()
        > 0;
    if added {
        bump_knowledge_version(&mut tx).await?;
        let target = format!("{}/{}", phrasing.entry_id, phrasing.lang);
        let detail = match from_item {
            Some(item) => format!("from {}", QueueItemId(item)),
            None => phrasing.question.clone(),
        };
        audit_in(&mut tx, now, created_by, "add_phrasing", &target, Some(&detail)).await?;
    }
    tx.commit().await?;
    Ok(added)
}

pub(crate) async fn learned_entries(pool: &Pool) -> Result<Vec<LearnedEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, lang, title, body, questions, keywords, source_name, source_url,
                reviewed, created_by
         FROM learned_entries ORDER BY id, lang",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(LearnedEntry {
                id: row.try_get("id")?,
                lang: lang_from_row(row)?,
                title: row.try_get("title")?,
                body: row.try_get("body")?,
                questions: from_json(row.try_get("questions")?)?,
                keywords: from_json(row.try_get("keywords")?)?,
                source_name: row.try_get("source_name")?,
                source_url: row.try_get("source_url")?,
                reviewed: row.try_get("reviewed")?,
                created_by: row.try_get("created_by")?,
            })
        })
        .collect()
}

pub(crate) async fn phrasings(pool: &Pool) -> Result<Vec<Phrasing>, StoreError> {
    let rows = sqlx::query("SELECT entry_id, lang, question FROM phrasings ORDER BY id")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Phrasing {
                entry_id: row.try_get("entry_id")?,
                lang: lang_from_row(row)?,
                question: row.try_get("question")?,
            })
        })
        .collect()
}

pub(crate) async fn delete_learned_entry(
    pool: &Pool,
    id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut tx = begin_write(pool).await?;
    let deleted = sqlx::query("DELETE FROM learned_entries WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(StoreError::not_found("learned entry", id));
    }
    let version = bump_knowledge_version(&mut tx).await?;
    audit_in(&mut tx, now, actor, "delete_entry", id, None).await?;
    tx.commit().await?;
    Ok(version)
}

pub(crate) async fn knowledge_version(pool: &Pool) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM knowledge_version WHERE id = 1")
            .fetch_one(pool)
            .await?,
    )
}

// ---------------------------------------------------------------- the audit

async fn audit_in(
    conn: &mut Conn,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(at)
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn audit(
    pool: &Pool,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: &str,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    audit_in(&mut tx, at, actor, action, target, detail).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn audit_log(pool: &Pool, limit: u32) -> Result<Vec<AuditRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditRow {
                id: row.try_get("id")?,
                at: row.try_get("at")?,
                actor: row.try_get("actor")?,
                action: row.try_get("action")?,
                target: row.try_get("target")?,
                detail: row.try_get("detail")?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------- privacy

// `forget_user` is in forget.rs.

pub(crate) async fn purge_personal_data(
    pool: &Pool,
    older_than: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    // Each statement takes the cut-off as $1; its count goes into the audit line.
    const STEPS: [(&str, &str); 4] = [
        (
            "asks",
            "UPDATE asks SET user_id = NULL, message_id = NULL, comment = NULL
             WHERE asked_at < $1
               AND (user_id IS NOT NULL OR message_id IS NOT NULL OR comment IS NOT NULL)",
        ),
        (
            "feedback",
            "UPDATE feedback SET user_id = NULL, message_id = NULL, comment = NULL
             WHERE created_at < $1
               AND (user_id IS NOT NULL OR message_id IS NOT NULL OR comment IS NOT NULL)",
        ),
        // Finished deliveries hold the same ids and have no further use.
        (
            "outbox",
            "DELETE FROM outbox WHERE created_at < $1 AND status <> 'pending'",
        ),
        // A thread's question and asker: a follow-up in a thread this old is told the
        // question is gone and to ask anew.
        ("threads", "DELETE FROM bot_threads WHERE created_at < $1"),
    ];
    let mut tx = begin_write(pool).await?;
    let mut total = 0;
    let mut detail = Vec::new();
    for (name, sql) in STEPS {
        let n = sqlx::query(sql)
            .bind(older_than)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        total += n;
        detail.push(format!("{name}={n}"));
    }
    let detail = detail.join(" ");
    let target = older_than.to_rfc3339();
    audit_in(&mut tx, now, "system", "purge", &target, Some(&detail)).await?;
    tx.commit().await?;
    Ok(total)
}
