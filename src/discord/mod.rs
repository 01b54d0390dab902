//! The Discord adapter: serenity + poise in front of [`App`](crate::app::App).
//!
//! - [`bot`]: intents, the framework and command registration, event dispatch,
//!   [`start`] and [`serve`].
//! - [`context`]: poise's `Data` and `Context`, the bot's state, role checks, language.
//! - [`commands`]: the slash commands, one file per group.
//! - [`handlers`]: messages ([`handlers::message`]) and button clicks
//!   ([`handlers::click`]).
//! - [`reply`]: how interactions are answered, and the one place errors become replies.
//! - [`texts`]: everything the bot says, one table per language.
//! - [`send`]: the one path for channel messages (mentions off, 429 retried, long text
//!   split); [`delivery`]: advisers' answers to askers and alerts to advisers;
//!   [`poster`]: the scheduler's way into Discord.
//! - [`format`], [`buttons`], [`rate_limit`]: pure logic, unit tested.

pub mod bot;
pub mod buttons;
pub mod commands;
pub mod context;
pub mod delivery;
pub mod format;
pub mod handlers;
pub mod poster;
pub mod rate_limit;
pub mod reply;
pub mod send;
pub mod texts;

pub use bot::{intents, serve, start, token_from_env, DiscordError, RunningBot, TOKEN_VARIABLE};
pub use commands::commands;
pub use context::{Context, Data, Error};
