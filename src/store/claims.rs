// Claims held while posting: an outbox reply or an announcement is claimed by one sender
// at a time, its lease renewed while it posts, and every part posted is recorded, so a
// slow Discord never lets a second sender post it again and a failure halfway never
// posts the first parts twice. Included into each backend module next to `queries.rs`
// (see `backend.rs`); the claims themselves are CLAIM_OUTBOX and CLAIM_ANNOUNCEMENTS.

/// Runs `sql` (`$1` the row's id, `$2` the claim token, `$3` the new value) on a row this
/// sender still holds. False when it does not: the lease ran out and another sender took
/// it, or it was posted or given up; the sender must then stop.
async fn update_held<V>(
    pool: &Pool,
    sql: &'static str,
    id: i64,
    token: &ClaimToken,
    value: V,
) -> Result<bool, StoreError>
where
    V: for<'q> sqlx::Encode<'q, Db> + sqlx::Type<Db> + Send + 'static,
{
    let mut tx = begin_write(pool).await?;
    let changed = sqlx::query(sql)
        .bind(id)
        .bind(&token.0)
        .bind(value)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(changed == 1)
}

/// The statements that renew a claim's lease and record its parts posted, with the row.
fn claimed_row(claimed: Claimed<'_>) -> (&'static str, &'static str, i64, &ClaimToken) {
    match claimed {
        Claimed::Outbox(claim) => (
            "UPDATE outbox SET claimed_until = $3
             WHERE id = $1 AND claim_token = $2 AND status = 'pending'",
            "UPDATE outbox SET parts_sent = $3
             WHERE id = $1 AND claim_token = $2 AND status = 'pending'",
            claim.message.id.0,
            &claim.token,
        ),
        Claimed::Announcement(claim) => (
            "UPDATE announcements SET claimed_until = $3
             WHERE id = $1 AND claim_token = $2 AND status = 'scheduled'",
            "UPDATE announcements SET parts_posted = $3
             WHERE id = $1 AND claim_token = $2 AND status = 'scheduled'",
            claim.announcement.id.0,
            &claim.token,
        ),
    }
}

/// Extends the lease of a reply or announcement this sender holds.
pub(crate) async fn renew_claim(
    pool: &Pool,
    claimed: Claimed<'_>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (renew, _, id, token) = claimed_row(claimed);
    update_held(pool, renew, id, token, until).await
}

/// Records that the first `parts` parts (messages) of a claimed reply or announcement
/// are posted.
pub(crate) async fn record_parts(
    pool: &Pool,
    claimed: Claimed<'_>,
    parts: u32,
) -> Result<bool, StoreError> {
    let (_, record, id, token) = claimed_row(claimed);
    update_held(pool, record, id, token, i64::from(parts)).await
}

/// Claims the announcement due first, if any, with the parts an earlier attempt posted.
pub(crate) async fn claim_next_announcement(
    pool: &Pool,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    token: &ClaimToken,
) -> Result<Option<AnnouncementClaim>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let row = sqlx::query(CLAIM_ANNOUNCEMENTS)
        .bind(lease_until)
        .bind(now)
        .bind(1_i64)
        .bind(&token.0)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(AnnouncementClaim {
        announcement: announcement_from_row(&row)?,
        parts_posted: u32::try_from(row.try_get::<i64, _>("parts_posted")?).unwrap_or(u32::MAX),
        token: token.clone(),
    }))
}
