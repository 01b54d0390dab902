// Announcements, events and their reminders: included into each backend module beside
// queries.rs (whose helpers and imports it uses), as queries.rs is.

// ------------------------------------------------------------ announcements

/// The columns of an announcement row, for `concat!` (SQL text stays literal).
macro_rules! announcement_columns {
    () => {
        "id, channel_id, text, publish_at, status, attempts, last_error,
         created_by, created_at, updated_at, posted_at, late"
    };
}

fn parse_channel(text: &str) -> Result<u64, StoreError> {
    text.parse()
        .map_err(|_| decode_error(format!("bad channel id {text:?}")))
}

fn announcement_from_row(row: &DbRow) -> Result<Announcement, StoreError> {
    let status: &str = row.try_get("status")?;
    Ok(Announcement {
        id: AnnouncementId(row.try_get("id")?),
        channel_id: parse_channel(row.try_get("channel_id")?)?,
        text: row.try_get("text")?,
        publish_at: row.try_get("publish_at")?,
        status: AnnouncementStatus::parse(status)
            .ok_or_else(|| decode_error(format!("unknown announcement status {status:?}")))?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
        last_error: row.try_get("last_error")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        posted_at: row.try_get("posted_at")?,
        late: row.try_get("late")?,
    })
}

/// Inserts a scheduled announcement within the caller's transaction.
async fn insert_announcement_in(
    conn: &mut Conn,
    new: &NewAnnouncement,
    now: DateTime<Utc>,
) -> Result<Announcement, StoreError> {
    let sql = concat!(
        "INSERT INTO announcements
             (channel_id, text, publish_at, status, attempts, created_by, created_at,
              updated_at, late)
         VALUES ($1, $2, $3, 'scheduled', 0, $4, $5, $5, FALSE)
         RETURNING ", announcement_columns!(), ""
    );
    let row = sqlx::query(sql)
        .bind(new.channel_id.to_string())
        .bind(&new.text)
        .bind(new.publish_at)
        .bind(&new.created_by)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
    announcement_from_row(&row)
}

pub(crate) async fn insert_announcement(
    pool: &Pool,
    new: &NewAnnouncement,
    now: DateTime<Utc>,
) -> Result<Announcement, StoreError> {
    let mut tx = begin_write(pool).await?;
    let announcement = insert_announcement_in(&mut tx, new, now).await?;
    let detail = format!(
        "channel {} at {}",
        new.channel_id,
        new.publish_at.to_rfc3339()
    );
    audit_in(
        &mut tx,
        now,
        &new.created_by,
        "schedule_announcement",
        &announcement.id.to_string(),
        Some(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(announcement)
}

pub(crate) async fn list_announcements(
    pool: &Pool,
    status: Option<AnnouncementStatus>,
) -> Result<Vec<Announcement>, StoreError> {
    let sql = concat!(
        "SELECT ", announcement_columns!(), " FROM announcements
         WHERE $1 IS NULL OR status = $1
         ORDER BY publish_at, id"
    );
    let rows = sqlx::query(sql)
        .bind(status.map(AnnouncementStatus::as_str))
        .fetch_all(pool)
        .await?;
    rows.iter().map(announcement_from_row).collect()
}

pub(crate) async fn get_announcement(
    pool: &Pool,
    id: AnnouncementId,
) -> Result<Announcement, StoreError> {
    let sql = concat!(
        "SELECT ", announcement_columns!(), " FROM announcements WHERE id = $1"
    );
    let row = sqlx::query(sql)
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => announcement_from_row(&row),
        None => Err(StoreError::not_found("announcement", id)),
    }
}

/// Explains why an announcement could not be changed: missing, no longer
/// scheduled, or claimed by a bot that is posting it.
async fn announcement_change_error(conn: &mut Conn, id: AnnouncementId) -> StoreError {
    let status: Result<Option<String>, sqlx::Error> =
        sqlx::query_scalar("SELECT status FROM announcements WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await;
    match status {
        Err(error) => error.into(),
        Ok(None) => StoreError::not_found("announcement", id),
        Ok(Some(status)) => match AnnouncementStatus::parse(&status) {
            Some(AnnouncementStatus::Scheduled) => StoreError::AnnouncementBeingPosted { id },
            Some(actual) => StoreError::AnnouncementNotScheduled { id, actual },
            None => decode_error(format!("unknown announcement status {status:?}")),
        },
    }
}

pub(crate) async fn update_announcement(
    pool: &Pool,
    id: AnnouncementId,
    text: Option<&str>,
    publish_at: Option<DateTime<Utc>>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Announcement, StoreError> {
    let mut tx = begin_write(pool).await?;
    // A claimed row is being posted by some bot: changing it now would not
    // change what that bot posts.
    let sql = concat!(
        "UPDATE announcements SET
             text = COALESCE($2, text),
             publish_at = COALESCE($3, publish_at),
             updated_at = $4,
             attempts = 0,
             parts_posted = 0,
             last_error = NULL,
             retry_after = NULL
         WHERE id = $1 AND status = 'scheduled'
           AND (claimed_until IS NULL OR claimed_until <= $4)
         RETURNING ", announcement_columns!(), ""
    );
    let row = sqlx::query(sql)
        .bind(id.0)
        .bind(text)
        .bind(publish_at)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Err(announcement_change_error(&mut tx, id).await);
    };
    let announcement = announcement_from_row(&row)?;
    let mut changes = Vec::new();
    if text.is_some() {
        changes.push("text".to_owned());
    }
    if let Some(at) = publish_at {
        changes.push(format!("time {}", at.to_rfc3339()));
    }
    let detail = changes.join(", ");
    audit_in(&mut tx, now, actor, "edit_announcement", &id.to_string(), Some(&detail)).await?;
    tx.commit().await?;
    Ok(announcement)
}

/// How a scheduled announcement ends without being posted.
enum Closing<'a> {
    /// An organiser cancelled it. A row a bot is posting right now cannot be.
    Cancel { actor: &'a str },
    /// The scheduler (which holds the claim) found it too late to post.
    Skip { reason: &'a str },
}

/// Moves a scheduled announcement to a final state with an audit line.
async fn close_announcement(
    pool: &Pool,
    id: AnnouncementId,
    closing: Closing<'_>,
    now: DateTime<Utc>,
) -> Result<Announcement, StoreError> {
    let (status, actor, action, detail, require_unclaimed) = match closing {
        Closing::Cancel { actor } => {
            (AnnouncementStatus::Cancelled, actor, "cancel_announcement", None, true)
        }
        Closing::Skip { reason } => (
            AnnouncementStatus::Skipped,
            "scheduler",
            "skip_announcement",
            Some(reason),
            false,
        ),
    };
    let mut tx = begin_write(pool).await?;
    let sql = concat!(
        "UPDATE announcements SET status = $2, posted_at = $3, updated_at = $3,
             claimed_until = NULL, claim_token = NULL
         WHERE id = $1 AND status = 'scheduled'
           AND ($4 = 0 OR claimed_until IS NULL OR claimed_until <= $3)
         RETURNING ", announcement_columns!(), ""
    );
    let row = sqlx::query(sql)
        .bind(id.0)
        .bind(status.as_str())
        .bind(now)
        .bind(i64::from(require_unclaimed))
        .fetch_optional(&mut *tx)
        .await?;
    let Some(row) = row else {
        return Err(announcement_change_error(&mut tx, id).await);
    };
    let announcement = announcement_from_row(&row)?;
    audit_in(&mut tx, now, actor, action, &id.to_string(), detail).await?;
    tx.commit().await?;
    Ok(announcement)
}

pub(crate) async fn cancel_announcement(
    pool: &Pool,
    id: AnnouncementId,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Announcement, StoreError> {
    close_announcement(pool, id, Closing::Cancel { actor }, now).await
}

pub(crate) async fn skip_announcement(
    pool: &Pool,
    id: AnnouncementId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Announcement, StoreError> {
    close_announcement(pool, id, Closing::Skip { reason }, now).await
}

pub(crate) async fn claim_announcements(
    pool: &Pool,
    limit: u32,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    token: &ClaimToken,
) -> Result<Vec<Announcement>, StoreError> {
    let mut tx = begin_write(pool).await?;
    let rows = sqlx::query(CLAIM_ANNOUNCEMENTS)
        .bind(lease_until)
        .bind(now)
        .bind(i64::from(limit))
        .bind(&token.0)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut announcements = rows
        .iter()
        .map(announcement_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    announcements.sort_by_key(|a| (a.publish_at, a.id));
    Ok(announcements)
}

pub(crate) async fn mark_announcement_posted(
    pool: &Pool,
    id: AnnouncementId,
    late: bool,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    let updated = sqlx::query(
        "UPDATE announcements SET status = 'posted', posted_at = $2, late = $3,
             claimed_until = NULL, claim_token = NULL, last_error = NULL
         WHERE id = $1 AND status = 'scheduled'",
    )
    .bind(id.0)
    .bind(now)
    .bind(late)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(announcement_change_error(&mut tx, id).await);
    }
    let detail = late.then_some("late");
    audit_in(&mut tx, now, "scheduler", "post_announcement", &id.to_string(), detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Records a failed post: offered again at `retry_at(attempts)`, or given up
/// (status failed, with an audit line) after `max_attempts`.
pub(crate) async fn mark_announcement_failed(
    pool: &Pool,
    id: AnnouncementId,
    error: &str,
    max_attempts: u32,
    retry_at: impl Fn(u32) -> DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DeliveryFailure, StoreError> {
    let mut tx = begin_write(pool).await?;
    let row = sqlx::query(
        "UPDATE announcements SET
             attempts = attempts + 1,
             last_error = $2,
             status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE status END,
             posted_at = CASE WHEN attempts + 1 >= $3 THEN $4 ELSE posted_at END
         WHERE id = $1 AND status = 'scheduled'
         RETURNING attempts, status",
    )
    .bind(id.0)
    .bind(error)
    .bind(i64::from(max_attempts))
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(announcement_change_error(&mut tx, id).await);
    };
    let attempts = u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX);
    let status: String = row.try_get("status")?;
    let outcome = if status == "failed" {
        audit_in(&mut tx, now, "scheduler", "fail_announcement", &id.to_string(), Some(error))
            .await?;
        DeliveryFailure::GaveUp
    } else {
        sqlx::query(
            "UPDATE announcements SET claimed_until = NULL, claim_token = NULL, retry_after = $2 WHERE id = $1",
        )
            .bind(id.0)
            .bind(retry_at(attempts))
            .execute(&mut *tx)
            .await?;
        DeliveryFailure::WillRetry { attempts }
    };
    tx.commit().await?;
    Ok(outcome)
}

// ------------------------------------------------------------------- events

/// The columns of an event row, for `concat!`.
macro_rules! event_columns {
    () => {
        "id, title, description, start_at, end_at, venue, address,
         registration_url, organiser, audience, lang, created_by, created_at, updated_at"
    };
}

fn event_from_row(row: &DbRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        id: EventId(row.try_get("id")?),
        event: NewEvent {
            title: row.try_get("title")?,
            description: row.try_get("description")?,
            start_at: row.try_get("start_at")?,
            end_at: row.try_get("end_at")?,
            venue: row.try_get("venue")?,
            address: row.try_get("address")?,
            registration_url: row.try_get("registration_url")?,
            organiser: row.try_get("organiser")?,
            audience: row.try_get("audience")?,
            lang: lang_from_row(row)?,
            created_by: row.try_get("created_by")?,
        },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Stores an event and bumps the knowledge version in the same transaction,
/// so every running bot starts answering about it.
pub(crate) async fn insert_event(
    pool: &Pool,
    event: &NewEvent,
    now: DateTime<Utc>,
) -> Result<(StoredEvent, i64), StoreError> {
    let mut tx = begin_write(pool).await?;
    let sql = concat!(
        "INSERT INTO events
             (title, description, start_at, end_at, venue, address, registration_url,
              organiser, audience, lang, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
         RETURNING ", event_columns!(), ""
    );
    let row = sqlx::query(sql)
        .bind(&event.title)
        .bind(&event.description)
        .bind(event.start_at)
        .bind(event.end_at)
        .bind(&event.venue)
        .bind(event.address.as_deref())
        .bind(event.registration_url.as_deref())
        .bind(event.organiser.as_deref())
        .bind(event.audience.as_deref())
        .bind(event.lang.code())
        .bind(&event.created_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    let stored = event_from_row(&row)?;
    let version = bump_knowledge_version(&mut tx).await?;
    audit_in(
        &mut tx,
        now,
        &event.created_by,
        "add_event",
        &stored.id.knowledge_id(),
        Some(&event.title),
    )
    .await?;
    tx.commit().await?;
    Ok((stored, version))
}

pub(crate) async fn list_events(pool: &Pool) -> Result<Vec<StoredEvent>, StoreError> {
    let sql = concat!(
        "SELECT ", event_columns!(), " FROM events ORDER BY start_at, id"
    );
    let rows = sqlx::query(sql)
        .fetch_all(pool)
        .await?;
    rows.iter().map(event_from_row).collect()
}

pub(crate) async fn get_event(pool: &Pool, id: EventId) -> Result<StoredEvent, StoreError> {
    let sql = concat!(
        "SELECT ", event_columns!(), " FROM events WHERE id = $1"
    );
    let row = sqlx::query(sql)
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    match row {
        Some(row) => event_from_row(&row),
        None => Err(StoreError::not_found("event", id)),
    }
}

/// Deletes an event (and its reminder records), bumping the knowledge version.
pub(crate) async fn delete_event(
    pool: &Pool,
    id: EventId,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let mut tx = begin_write(pool).await?;
    let deleted = sqlx::query("DELETE FROM events WHERE id = $1")
        .bind(id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(StoreError::not_found("event", id));
    }
    sqlx::query("DELETE FROM reminders_sent WHERE event_key = $1")
        .bind(id.knowledge_id())
        .execute(&mut *tx)
        .await?;
    let version = bump_knowledge_version(&mut tx).await?;
    audit_in(&mut tx, now, actor, "delete_event", &id.knowledge_id(), None).await?;
    tx.commit().await?;
    Ok(version)
}

// ---------------------------------------------------------------- reminders

/// Claims one reminder: true when this caller may post it. The row's key is
/// the event and offset, so of any number of bots exactly one gets it; a
/// claim whose lease ran out (the bot died mid-post) can be taken again.
pub(crate) async fn claim_reminder(
    pool: &Pool,
    claim: &ReminderClaim,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let mut tx = begin_write(pool).await?;
    let claimed: Option<String> = sqlx::query_scalar(
        "INSERT INTO reminders_sent (event_key, offset_minutes, starts_at, status, claimed_until)
         VALUES ($1, $2, $3, 'claimed', $4)
         ON CONFLICT (event_key, offset_minutes) DO UPDATE SET
             claimed_until = excluded.claimed_until,
             starts_at = excluded.starts_at
         WHERE reminders_sent.status = 'claimed' AND reminders_sent.claimed_until <= $5
         RETURNING event_key",
    )
    .bind(&claim.event_key)
    .bind(claim.offset_minutes)
    .bind(starts_at)
    .bind(lease_until)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(claimed.is_some())
}

pub(crate) async fn mark_reminder_posted(
    pool: &Pool,
    claim: &ReminderClaim,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "UPDATE reminders_sent SET status = 'posted', posted_at = $3, claimed_until = NULL
         WHERE event_key = $1 AND offset_minutes = $2",
    )
    .bind(&claim.event_key)
    .bind(claim.offset_minutes)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a claimed reminder back after a failed post, to be tried again at
/// `retry_at`.
pub(crate) async fn release_reminder(
    pool: &Pool,
    claim: &ReminderClaim,
    retry_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut tx = begin_write(pool).await?;
    sqlx::query(
        "UPDATE reminders_sent SET claimed_until = $3
         WHERE event_key = $1 AND offset_minutes = $2 AND status = 'claimed'",
    )
    .bind(&claim.event_key)
    .bind(claim.offset_minutes)
    .bind(retry_at)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The reminders already posted, as (event key, offset in minutes).
pub(crate) async fn reminders_posted(pool: &Pool) -> Result<Vec<ReminderClaim>, StoreError> {
    let rows = sqlx::query(
        "SELECT event_key, offset_minutes FROM reminders_sent WHERE status = 'posted'
         ORDER BY event_key, offset_minutes",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ReminderClaim {
                event_key: row.try_get("event_key")?,
                offset_minutes: row.try_get("offset_minutes")?,
            })
        })
        .collect()
}
