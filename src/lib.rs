//! anbud: answers suppliers' questions about Norwegian public procurement.
//!
//! The data flows knowledge files → [`knowledge`] → [`search`] index → [`answer`] (a reply
//! or an abstention) → the chat adapters ([`cli`] terminal chat, Discord). The [`store`]
//! sits beside them: the advisers' queue, feedback, statistics and learned knowledge;
//! [`delivery`] brings advisers' answers from its outbox to the askers.
//! [`announce`] holds organisers' announcements and events: scheduled posts, event
//! reminders and calendar files. [`web`] serves the advisers' and organisers' pages.
//! The core never depends on a chat adapter.

pub mod adviser;
pub mod announce;
pub mod answer;
pub mod app;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod discord;
pub mod heap;
pub mod knowledge;
pub mod memo;
pub mod quality;
pub mod search;
pub mod store;
pub mod synth;
pub mod tenders;
pub mod web;
