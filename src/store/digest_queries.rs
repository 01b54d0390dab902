// The SQL of the weekly knowledge digest, included into each backend module next to
// `queries.rs` (see `backend.rs`), whose helpers it uses.

/// Claims `week` and, when this caller is the first to, schedules `new` in the same
/// transaction. `None`: the week already had its digest (from this bot or another).
pub(crate) async fn queue_knowledge_digest(
    pool: &Pool,
    week: &str,
    new: &NewAnnouncement,
    now: DateTime<Utc>,
) -> Result<Option<Announcement>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let claimed: Option<String> = sqlx::query_scalar(
        "INSERT INTO knowledge_digests (week, created_at) VALUES ($1, $2)
         ON CONFLICT (week) DO NOTHING
         RETURNING week",
    )
    .bind(week)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    if claimed.is_none() {
        tx.commit().await?;
        return Ok(None);
    }
    let announcement = insert_announcement_in(&mut tx, new, now).await?;
    sqlx::query("UPDATE knowledge_digests SET announcement_id = $2 WHERE week = $1")
        .bind(week)
        .bind(announcement.id.0)
        .execute(&mut *tx)
        .await?;
    let detail = format!("week {week}, channel {}", new.channel_id);
    audit_in(
        &mut tx,
        now,
        &new.created_by,
        "schedule_knowledge_digest",
        &announcement.id.to_string(),
        Some(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(announcement))
}

/// When the newest digest was made, if any.
pub(crate) async fn last_knowledge_digest(
    pool: &Pool,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT created_at FROM knowledge_digests ORDER BY created_at DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?)
}
