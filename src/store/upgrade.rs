// Data upgrades run when a store connects, for what a migration cannot do in SQL alone.
// Included into each backend module next to `queries.rs` (see `backend.rs`).

/// Open queue items whose key predates keys that keep word order (the migration
/// `20261206500000_promises` marks them `legacy:`), with their wording.
pub(crate) async fn legacy_open_items(pool: &Pool) -> Result<Vec<(i64, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, question FROM queue_items
         WHERE status = 'open' AND group_key LIKE 'legacy:%' ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("question")?)))
        .collect()
}

/// Gives a legacy item the key of its wording, so new asks of that question join it. If
/// another open item of the same privacy already has that key, the item gets a key of
/// its own (`own`) instead: it keeps its asks, and new asks go to the other item.
pub(crate) async fn rekey_legacy_item(
    pool: &Pool,
    id: i64,
    key: &str,
    own: &str,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "UPDATE queue_items SET group_key = CASE
             WHEN EXISTS (SELECT 1 FROM queue_items o
                          WHERE o.group_key = $2 AND o.status = 'open'
                            AND o.is_private = queue_items.is_private AND o.id <> $1)
             THEN $3 ELSE $2 END
         WHERE id = $1 AND group_key LIKE 'legacy:%'",
    )
    .bind(id)
    .bind(key)
    .bind(own)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}
