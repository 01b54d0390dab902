// Notices from Doffin, the sync's lease, watches and alerts: included into each backend
// module next to `queries.rs` (see `backend.rs`), whose helpers it uses.

use crate::store::tenders::{
    NewTenderWatch, StoredNotice, SyncCounts, TenderWatch, TenderWatchId,
};
use crate::tenders::{CpvCode, Kind, Notice, Nuts, Value};

fn notice_from_row(row: &DbRow) -> Result<StoredNotice, StoreError> {
    let kind: String = row.try_get("kind")?;
    let buyers: String = row.try_get("buyers")?;
    let cpv: String = row.try_get("cpv")?;
    let regions: String = row.try_get("regions")?;
    let amount: Option<f64> = row.try_get("value_amount")?;
    let currency: Option<String> = row.try_get("value_currency")?;
    Ok(StoredNotice {
        notice: Notice {
            id: row.try_get("doffin_id")?,
            procedure_key: row.try_get("procedure_key")?,
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            buyers: buyers
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
            kind: Kind::parse(&kind)
                .ok_or_else(|| decode_error(format!("unknown notice kind {kind:?}")))?,
            notice_type: row.try_get("notice_type")?,
            status: row.try_get("status")?,
            published: row.try_get("published")?,
            issued: row.try_get("issued_at")?,
            deadline: row.try_get("deadline")?,
            cpv: cpv.split_whitespace().filter_map(CpvCode::parse).collect(),
            regions: regions.split_whitespace().filter_map(Nuts::parse).collect(),
            value: amount.map(|amount| Value {
                amount,
                currency: currency.unwrap_or_else(|| "NOK".into()),
            }),
        },
        first_seen_at: row.try_get("first_seen_at")?,
    })
}

const NOTICE_COLUMNS: &str = "procedure_key, doffin_id, title, description, buyers, kind,
    notice_type, status, published, issued_at, deadline, cpv, regions, value_amount,
    value_currency, first_seen_at";

/// Binds a notice's columns as $1..$15 in the order of `NOTICE_COLUMNS` (without
/// first_seen_at).
fn bind_notice<'q>(
    query: sqlx::query::Query<'q, Db, <Db as Database>::Arguments>,
    n: &'q Notice,
) -> sqlx::query::Query<'q, Db, <Db as Database>::Arguments> {
    query
        .bind(&n.procedure_key)
        .bind(&n.id)
        .bind(&n.title)
        .bind(&n.description)
        .bind(n.buyers.join("\n"))
        .bind(n.kind.code())
        .bind(&n.notice_type)
        .bind(&n.status)
        .bind(n.published)
        .bind(n.issued)
        .bind(n.deadline)
        .bind(n.cpv.iter().map(CpvCode::as_str).collect::<Vec<_>>().join(" "))
        .bind(n.regions.iter().map(Nuts::as_str).collect::<Vec<_>>().join(" "))
        .bind(n.value.as_ref().map(|v| v.amount))
        .bind(n.value.as_ref().map(|v| v.currency.clone()))
}

/// Stores a sync's notices and its progress in one transaction: all or nothing.
pub(crate) async fn store_tenders(
    pool: &Pool,
    notices: &[Notice],
    now: DateTime<Utc>,
) -> Result<SyncCounts, StoreError> {
    let mut tx = begin_write(pool).await?;
    let mut counts = SyncCounts::default();
    for n in notices {
        // The same notice stored under another procedure key (its title changed): that
        // row is this one's older self.
        let moved = sqlx::query("DELETE FROM tenders WHERE doffin_id = $1 AND procedure_key <> $2
                                 RETURNING first_seen_at")
            .bind(&n.id)
            .bind(&n.procedure_key)
            .fetch_optional(&mut *tx)
            .await?;
        let moved_seen: Option<DateTime<Utc>> = match &moved {
            Some(row) => Some(row.try_get("first_seen_at")?),
            None => None,
        };
        let sql = format!("SELECT {NOTICE_COLUMNS} FROM tenders WHERE procedure_key = $1");
        let stored = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&n.procedure_key)
            .fetch_optional(&mut *tx)
            .await?;
        let stored = match &stored {
            Some(row) => Some(notice_from_row(row)?),
            None => None,
        };
        match stored {
            None => {
                let sql = format!(
                    "INSERT INTO tenders ({NOTICE_COLUMNS}, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                             $16, $17)
                     ON CONFLICT DO NOTHING"
                );
                // Another process storing the same sync at this moment may have won:
                // then this one leaves its row alone.
                let inserted = bind_notice(sqlx::query(sqlx::AssertSqlSafe(sql)), n)
                    .bind(moved_seen.unwrap_or(now))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if inserted == 0 {
                    counts.unchanged += 1;
                } else if moved.is_some() {
                    counts.changed += 1;
                } else {
                    counts.new += 1;
                }
            }
            Some(old) => {
                let older = matches!((old.notice.issued, n.issued), (Some(a), Some(b)) if b < a);
                if older || old.notice == *n {
                    counts.unchanged += 1;
                    continue;
                }
                // Another version of the procedure with the id the old one had must give
                // way first (UNIQUE doffin_id).
                sqlx::query("DELETE FROM tenders WHERE doffin_id = $1 AND procedure_key <> $2")
                    .bind(&n.id)
                    .bind(&n.procedure_key)
                    .execute(&mut *tx)
                    .await?;
                bind_notice(
                    sqlx::query(
                        "UPDATE tenders SET doffin_id = $2, title = $3, description = $4,
                             buyers = $5, kind = $6, notice_type = $7, status = $8,
                             published = $9, issued_at = $10, deadline = $11, cpv = $12,
                             regions = $13, value_amount = $14, value_currency = $15,
                             updated_at = $16
                         WHERE procedure_key = $1",
                    ),
                    n,
                )
                .bind(now)
                .execute(&mut *tx)
                .await?;
                counts.changed += 1;
            }
        }
    }
    let newest = notices.iter().filter_map(|n| n.published).max();
    sqlx::query(
        "UPDATE tender_sync SET
             newest_published = CASE
                 WHEN newest_published IS NULL OR newest_published < $1 THEN $1
                 ELSE newest_published END,
             last_success_at = $2
         WHERE id = 1",
    )
    .bind(newest)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(counts)
}

/// Every stored notice, newest first.
pub(crate) async fn list_tenders(pool: &Pool) -> Result<Vec<StoredNotice>, StoreError> {
    let sql = format!(
        "SELECT {NOTICE_COLUMNS} FROM tenders
         ORDER BY published DESC, issued_at DESC, doffin_id DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await?;
    rows.iter().map(notice_from_row).collect()
}

/// The newest publication date stored, where the next sync continues.
pub(crate) async fn tender_sync_from(pool: &Pool) -> Result<Option<NaiveDate>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT newest_published FROM tender_sync WHERE id = 1")
            .fetch_optional(pool)
            .await?
            .flatten(),
    )
}

/// Takes the sync's lease when it is free and the last success is at least `due_before`
/// old. One UPDATE of one row: of several bots, one gets it.
pub(crate) async fn claim_tender_sync(
    pool: &Pool,
    now: DateTime<Utc>,
    due_before: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    token: &str,
) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    let changed = sqlx::query(
        "UPDATE tender_sync SET lease_until = $1, lease_token = $2
         WHERE id = 1
           AND (lease_until IS NULL OR lease_until <= $3)
           AND (last_success_at IS NULL OR last_success_at <= $4)",
    )
    .bind(lease_until)
    .bind(token)
    .bind(now)
    .bind(due_before)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(changed == 1)
}

/// Ends a held lease: `retry_at` keeps others from trying again before it (after a
/// failed run), `None` frees it.
pub(crate) async fn release_tender_sync(
    pool: &Pool,
    token: &str,
    retry_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tender_sync SET lease_until = $2, lease_token = NULL WHERE id = 1 AND lease_token = $1")
        .bind(token)
        .bind(retry_at)
        .execute(pool)
        .await?;
    Ok(())
}

fn watch_from_row(row: &DbRow) -> Result<TenderWatch, StoreError> {
    let kind: Option<String> = row.try_get("kind")?;
    Ok(TenderWatch {
        id: TenderWatchId(row.try_get("id")?),
        user_id: row.try_get("user_id")?,
        query: row.try_get("query")?,
        cpv: row.try_get("cpv")?,
        region: row.try_get("region")?,
        kind: kind.as_deref().and_then(Kind::parse),
        created_at: row.try_get("created_at")?,
        last_digest_at: row.try_get("last_digest_at")?,
    })
}

const WATCH_COLUMNS: &str = "id, user_id, query, cpv, region, kind, created_at, last_digest_at";

pub(crate) async fn add_tender_watch(
    pool: &Pool,
    watch: &NewTenderWatch,
    now: DateTime<Utc>,
) -> Result<TenderWatch, StoreError> {
    let mut tx = begin_write(pool).await?;
    let sql = format!(
        "INSERT INTO tender_watches (user_id, query, cpv, region, kind, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {WATCH_COLUMNS}"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&watch.user_id)
        .bind(&watch.query)
        .bind(&watch.cpv)
        .bind(&watch.region)
        .bind(watch.kind.map(Kind::code))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    watch_from_row(&row)
}

pub(crate) async fn tender_watches(
    pool: &Pool,
    user_id: Option<&str>,
) -> Result<Vec<TenderWatch>, StoreError> {
    let sql = format!(
        "SELECT {WATCH_COLUMNS} FROM tender_watches
         WHERE $1 IS NULL OR user_id = $1 ORDER BY id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(user_id)
        .fetch_all(pool)
        .await?;
    rows.iter().map(watch_from_row).collect()
}

pub(crate) async fn remove_tender_watch(
    pool: &Pool,
    id: TenderWatchId,
    user_id: Option<&str>,
) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "DELETE FROM tender_alerts WHERE watch_id IN
            (SELECT id FROM tender_watches WHERE id = $1 AND ($2 IS NULL OR user_id = $2))",
    )
    .bind(id.0)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    let removed = sqlx::query("DELETE FROM tender_watches WHERE id = $1 AND ($2 IS NULL OR user_id = $2)")
        .bind(id.0)
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(removed == 1)
}

/// The procedures a watch must not be offered now: sent, or held by a live claim.
pub(crate) async fn tender_alerted(
    pool: &Pool,
    id: TenderWatchId,
    now: DateTime<Utc>,
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT procedure_key FROM tender_alerts
         WHERE watch_id = $1 AND (sent_at IS NOT NULL OR claimed_until > $2)",
    )
    .bind(id.0)
    .bind(now)
    .fetch_all(pool)
    .await?)
}

/// Claims a digest for a watch: when its last digest is older than `cutoff`, takes each
/// of `keys` that is neither sent nor held by another live claim, until `lease_until`,
/// under `token`, and returns them. Nothing to take: nothing changes and the hour is not
/// used up. Several bots may try at once: the conditional UPDATE of the watch lets one
/// through, and the primary key of (watch, procedure) keeps one row per pair.
pub(crate) async fn claim_tender_digest(
    pool: &Pool,
    id: TenderWatchId,
    keys: &[String],
    now: DateTime<Utc>,
    cutoff: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    token: &str,
) -> Result<Vec<String>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let due = sqlx::query(
        "UPDATE tender_watches SET last_digest_at = $2
         WHERE id = $1 AND (last_digest_at IS NULL OR last_digest_at <= $3)",
    )
    .bind(id.0)
    .bind(now)
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if due != 1 {
        tx.rollback().await?;
        return Ok(Vec::new());
    }
    let mut claimed = Vec::new();
    for key in keys {
        let taken = sqlx::query(
            "INSERT INTO tender_alerts (watch_id, procedure_key, claimed_until, claim_token)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (watch_id, procedure_key) DO UPDATE
                 SET claimed_until = excluded.claimed_until,
                     claim_token = excluded.claim_token
                 WHERE tender_alerts.sent_at IS NULL AND tender_alerts.claimed_until <= $5",
        )
        .bind(id.0)
        .bind(key)
        .bind(lease_until)
        .bind(token)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if taken == 1 {
            claimed.push(key.clone());
        }
    }
    if claimed.is_empty() {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
    }
    Ok(claimed)
}

/// Marks the notices claimed under `token` for a watch as sent. False when the claim was
/// lost (its lease ran out and another bot took it).
pub(crate) async fn mark_tender_alerts_sent(
    pool: &Pool,
    id: TenderWatchId,
    token: &str,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    let marked = sqlx::query(
        "UPDATE tender_alerts SET sent_at = $3
         WHERE watch_id = $1 AND claim_token = $2 AND sent_at IS NULL",
    )
    .bind(id.0)
    .bind(token)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(marked > 0)
}
