//! The two databases the store runs on, each compiled from the same SQL
//! (`queries.rs`, and `group_commit_queries.rs`, `upgrade.rs`, `forget.rs`, `claims.rs` and others
//! beside it: included, not modules, and like `queries.rs` without `use` lines of their own).
//!
//! sqlx's `Any` driver cannot decode booleans on SQLite or timestamps on
//! PostgreSQL, and code generic over `sqlx::Database` needs a wall of trait
//! bounds for every type bound or read. Including one file into two modules
//! gives each database plain, concrete code with a single source of SQL.

/// SQLite: one bot process, a file next to it.
pub(crate) mod sqlite {
    type Db = sqlx::Sqlite;

    const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

    /// SQLite waits for another writer's lock through the connection's busy_timeout.
    const SET_LOCK_TIMEOUT: Option<&str> = None;

    /// A single UPDATE is atomic on SQLite, and the write lock taken by
    /// BEGIN IMMEDIATE keeps other connections out meanwhile.
    const CLAIM_OUTBOX: &str = "UPDATE outbox SET claimed_until = $1, claim_token = $5
         WHERE id IN (SELECT id FROM outbox
                      WHERE status = 'pending'
                        AND (claimed_until IS NULL OR claimed_until <= $2)
                        AND source LIKE $4
                      ORDER BY id
                      LIMIT $3)
         RETURNING id, item_id, source, guild_id, channel_id, message_id, thread_id,
                   user_id, question, text, lang, attempts, parts_sent, created_at";

    /// Announcements due now, as for the outbox: BEGIN IMMEDIATE keeps other
    /// writers out while the UPDATE takes its lease.
    const CLAIM_ANNOUNCEMENTS: &str = "UPDATE announcements SET claimed_until = $1,
             claim_token = $4
         WHERE id IN (SELECT id FROM announcements
                      WHERE status = 'scheduled'
                        AND publish_at <= $2
                        AND (claimed_until IS NULL OR claimed_until <= $2)
                        AND (retry_after IS NULL OR retry_after <= $2)
                      ORDER BY publish_at, id
                      LIMIT $3)
         RETURNING id, channel_id, text, publish_at, status, attempts, last_error, created_by,
                   created_at, updated_at, posted_at, late, parts_posted";

    /// The item a forget deletes or retitles, with where its advisers' alert is. SQLite's
    /// BEGIN IMMEDIATE already keeps
    /// [`Store::set_alert_message`](crate::store::Store::set_alert_message) out until the
    /// forget ends.
    const SELECT_ITEM_TO_FORGET: &str =
        "SELECT question, alert_channel_id, alert_message_id FROM queue_items WHERE id = $1";

    include!("queries.rs");
    include!("learned_queries.rs");
    include!("announce_queries.rs");
    include!("web_queries.rs");
    include!("group_commit_queries.rs");
    include!("upgrade.rs");
    include!("forget.rs");
    include!("claims.rs");
    include!("referral_queries.rs");
    include!("digest_queries.rs");
    include!("tender_queries.rs");
    include!("thread_queries.rs");
}

/// PostgreSQL: several bot processes may share it.
pub(crate) mod postgres {
    type Db = sqlx::Postgres;

    const BEGIN_WRITE: &str = "BEGIN";

    /// How long a group commit waits for a row or table lock another session holds,
    /// like SQLite's busy_timeout (otherwise it waits for ever). Set for the
    /// transaction only; running out is SQLSTATE 55P03, an outage.
    const SET_LOCK_TIMEOUT: Option<&str> = Some("SELECT set_config('lock_timeout', $1, true)");

    /// Rows another process is claiming right now are skipped rather than
    /// waited for, and the lease (`claimed_until`) keeps them away from others
    /// until it runs out: each message goes to exactly one sender.
    const CLAIM_OUTBOX: &str = "UPDATE outbox SET claimed_until = $1, claim_token = $5
         WHERE id IN (SELECT id FROM outbox
                      WHERE status = 'pending'
                        AND (claimed_until IS NULL OR claimed_until <= $2)
                        AND source LIKE $4
                      ORDER BY id
                      LIMIT $3
                      FOR UPDATE SKIP LOCKED)
         RETURNING id, item_id, source, guild_id, channel_id, message_id, thread_id,
                   user_id, question, text, lang, attempts, parts_sent, created_at";

    /// Announcements due now. Rows another bot is claiming are skipped, not
    /// waited for, and the lease keeps them from everyone else until it runs
    /// out: each announcement is posted by exactly one bot.
    const CLAIM_ANNOUNCEMENTS: &str = "UPDATE announcements SET claimed_until = $1,
             claim_token = $4
         WHERE id IN (SELECT id FROM announcements
                      WHERE status = 'scheduled'
                        AND publish_at <= $2
                        AND (claimed_until IS NULL OR claimed_until <= $2)
                        AND (retry_after IS NULL OR retry_after <= $2)
                      ORDER BY publish_at, id
                      LIMIT $3
                      FOR UPDATE SKIP LOCKED)
         RETURNING id, channel_id, text, publish_at, status, attempts, last_error, created_by,
                   created_at, updated_at, posted_at, late, parts_posted";

    /// The item a forget deletes or retitles, with where its advisers' alert is, locked:
    /// an alert recorded meanwhile is either seen here or, after the forget, finds its
    /// item gone or retitled (see [`Store::set_alert_message`](crate::store::Store::set_alert_message)).
    const SELECT_ITEM_TO_FORGET: &str = "SELECT question, alert_channel_id, alert_message_id
         FROM queue_items WHERE id = $1 FOR UPDATE";

    include!("queries.rs");
    include!("learned_queries.rs");
    include!("announce_queries.rs");
    include!("web_queries.rs");
    include!("group_commit_queries.rs");
    include!("upgrade.rs");
    include!("forget.rs");
    include!("claims.rs");
    include!("referral_queries.rs");
    include!("digest_queries.rs");
    include!("tender_queries.rs");
    include!("thread_queries.rs");
}
