//! The Discord bot end to end: the real serenity/poise client in this process, started with
//! `anbud::discord::start` (see [`crate::support::spawn_bot`]), against the fake Discord; a
//! fresh SQLite database and the bundled knowledge folder per test. One file per side of the
//! bot; add a file here for a new command group.

mod adviser;
mod answering;
mod deadline;
mod gateway;
mod organiser;
mod threads;

#[allow(unused_imports)]
pub(crate) use std::time::Duration;

#[allow(unused_imports)]
pub(crate) use anbud::config::ReplyMode;
#[allow(unused_imports)]
pub(crate) use anbud::store::QueueStatus;
#[allow(unused_imports)]
pub(crate) use serde_json::json;

#[allow(unused_imports)]
pub(crate) use crate::fake_discord::{ids, PostSource, Posted};
#[allow(unused_imports)]
pub(crate) use crate::support::{
    assert_no_mentions, copy_dir, knowledge_dir, options, spawn_bot, TestBot, WAIT,
};

pub(crate) const ANSWERED_NB: &str = "Hva er en dialogkonferanse?";
pub(crate) const TITLE_NB: &str = "Dialogkonferanse: slik forbereder du deg og deltar";
pub(crate) const OFF_TOPIC: &str = "Hva blir været i morgen i Bergen?";
