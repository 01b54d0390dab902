// Counting questions referred to a public service (knowledge/referrals/): included into
// each backend module beside queries.rs, as queries.rs is.

/// Questions referred since `since`, and per referral (most first).
async fn referral_totals(
    pool: &Pool,
    since: NaiveDate,
) -> Result<(u64, Vec<(String, u64)>), StoreError> {
    let rows = sqlx::query(
        "SELECT referral_id, CAST(SUM(count) AS BIGINT) AS referred
         FROM referral_counts WHERE day >= $1
         GROUP BY referral_id
         ORDER BY referred DESC, referral_id",
    )
    .bind(since)
    .fetch_all(pool)
    .await?;
    let per_referral = rows
        .iter()
        .map(|row| Ok((row.try_get("referral_id")?, to_u64(row.try_get("referred")?))))
        .collect::<Result<Vec<(String, u64)>, StoreError>>()?;
    Ok((per_referral.iter().map(|(_, n)| n).sum(), per_referral))
}
