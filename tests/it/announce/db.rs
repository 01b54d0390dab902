//! The announcement tests use the store tests' databases: a fresh SQLite file, or a fresh
//! PostgreSQL database when `ANBUD_TEST_POSTGRES_URL` is set.

pub(crate) use crate::store::{on_both_databases, TestDb};
