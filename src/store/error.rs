//! The store's one error type.
//!
//! The bot must keep answering while the database is down, so the important
//! split is between [`StoreError::Unavailable`] (try again later, buffer what can
//! be buffered) and everything else (a bug or bad data: log it and move on).

use super::model::{AnnouncementId, AnnouncementStatus, QueueItemId, QueueStatus};

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist, e.g. `answer #42` when there is no #42.
    #[error("{what} {id} does not exist")]
    NotFound {
        /// What kind of thing: "queue item", "outbox message", "learned entry".
        what: &'static str,
        /// Its id as the user gave it.
        id: String,
    },

    /// A queue item is not in a state that allows this, e.g. answering a
    /// dismissed item. The adviser should be told, it is not a failure.
    #[error("queue item {id} is {actual}, not open")]
    InvalidState {
        /// The item.
        id: QueueItemId,
        /// Its current state.
        actual: QueueStatus,
    },

    /// An announcement that is no longer scheduled (posted, cancelled, skipped,
    /// failed) cannot be edited or cancelled. The organiser should be told.
    #[error("announcement {id} is {actual}; only a scheduled announcement can be changed")]
    AnnouncementNotScheduled {
        /// The announcement.
        id: AnnouncementId,
        /// Its current state.
        actual: AnnouncementStatus,
    },

    /// A bot is posting the announcement at this very moment; changing it now
    /// could not stop the post.
    #[error("announcement {id} is being posted right now and can no longer be changed")]
    AnnouncementBeingPosted {
        /// The announcement.
        id: AnnouncementId,
    },

    /// The URL names neither SQLite nor PostgreSQL.
    #[error("database url must start with sqlite: or postgres:, got {scheme:?}")]
    UnsupportedUrl {
        /// The part before the first colon.
        scheme: String,
    },

    /// The database cannot be reached right now (connection refused, pool timed
    /// out, disk or file trouble). Worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),

    /// The database answered with an error that retrying will not fix.
    #[error("database error")]
    Database(#[source] sqlx::Error),

    /// The schema could not be brought up to date.
    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// True when the database could not be reached: callers buffer or retry
    /// instead of reporting a failure.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }

    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> StoreError {
        StoreError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> StoreError {
        if is_unavailable(&error) {
            StoreError::Unavailable(error)
        } else {
            StoreError::Database(error)
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> StoreError {
        match error {
            sqlx::migrate::MigrateError::Execute(inner) if is_unavailable(&inner) => {
                StoreError::Unavailable(inner)
            }
            other => StoreError::Migrate(other),
        }
    }
}

impl From<std::io::Error> for StoreError {
    /// Only used for preparing the SQLite file's directory: a missing or
    /// unwritable directory is an outage of the storage, not a bug.
    fn from(error: std::io::Error) -> StoreError {
        StoreError::Unavailable(sqlx::Error::Io(error))
    }
}

/// Decides whether an error means "the database is not there right now".
fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let Some(code) = db.code() else { return false };
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                is_unavailable_sqlite_code(&code)
            } else {
                is_unavailable_sqlstate(&code)
            }
        }
        _ => false,
    }
}

/// PostgreSQL SQLSTATE classes that mean an outage: connection exceptions,
/// insufficient resources, operator intervention (shutdown, cannot connect
/// now), system errors, and a lock another session held past `lock_timeout`
/// (55P03, PostgreSQL's SQLITE_BUSY).
fn is_unavailable_sqlstate(code: &str) -> bool {
    ["08", "53", "57P", "58", "55P03"]
        .iter()
        .any(|class| code.starts_with(class))
}

/// SQLite result codes that mean an outage. SQLite reports its extended result
/// code as a decimal number; the primary code is the low byte.
fn is_unavailable_sqlite_code(code: &str) -> bool {
    match code.parse::<i32>() {
        Ok(extended) => matches!(
            extended & 0xff,
            5   // SQLITE_BUSY: another writer held the lock past busy_timeout
            | 8  // SQLITE_READONLY
            | 10 // SQLITE_IOERR
            | 13 // SQLITE_FULL
            | 14 // SQLITE_CANTOPEN
        ),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_unavailable() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert!(StoreError::from(sqlx::Error::Io(refused)).is_unavailable());
        assert!(StoreError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        assert!(StoreError::from(sqlx::Error::PoolClosed).is_unavailable());
    }

    #[test]
    fn bugs_are_not_unavailable() {
        assert!(!StoreError::from(sqlx::Error::RowNotFound).is_unavailable());
        assert!(!StoreError::from(sqlx::Error::ColumnNotFound("x".into())).is_unavailable());
    }

    #[test]
    fn codes() {
        assert!(is_unavailable_sqlstate("08006"));
        assert!(is_unavailable_sqlstate("57P01"));
        assert!(!is_unavailable_sqlstate("23505"));
        assert!(is_unavailable_sqlstate("55P03")); // lock_not_available
        assert!(!is_unavailable_sqlstate("55000"));
        assert!(is_unavailable_sqlite_code("14"));
        assert!(is_unavailable_sqlite_code("782")); // SQLITE_CANTOPEN_FULLPATH
        assert!(is_unavailable_sqlite_code("1546")); // an extended SQLITE_IOERR code
        assert!(!is_unavailable_sqlite_code("2067")); // SQLITE_CONSTRAINT_UNIQUE
    }
}
