//! Upcoming tenders: planning notices, market dialogues and open competitions from the
//! Doffin public API, kept in the store one row per procedure, listed with filters
//! (`anbud tenders list`), shown under answers to questions that ask for them, and
//! alerted to users who watch for them.
//!
//! Data flows Doffin's JSON → [`model`] (parsed at the edge into typed notices) →
//! [`sync`] (one transaction per run) → the store → [`Filter`] → the CLI, answers and
//! alerts. Places and words are data in `config/tenders.toml` ([`Vocabulary`]).

pub mod alerts;
pub mod answer;
pub mod client;
pub mod filter;
pub mod model;
pub mod sync;
pub mod vocab;

pub use client::{key_from_env, DoffinClient, DoffinError, KEY_VAR};
pub use filter::{Filter, FilterError, TextMatcher};
pub use model::{CpvCode, Kind, Notice, Nuts, Value};
pub use sync::{sync, SyncReport, TendersError};
pub use vocab::Vocabulary;
