//! The slash commands, one file per group. Each file has a `commands()` listing its
//! group; [`commands`] is every command the bot registers. To add a group: a file here,
//! one line in [`commands`].
//!
//! Adviser commands carry `check = "is_adviser"` and organiser commands
//! `check = "is_organiser"` with `category = "organiser"`: the roles are read from the
//! interaction on the server side, so hiding a command from members is not enough.

pub mod announce;
pub mod ask;
pub mod events;
pub mod help;
pub mod kb;
pub mod privacy;
pub mod queue;
pub mod stats;
pub mod tenders;

use super::context::{Data, Error};

/// Every slash command the bot registers.
pub fn commands() -> Vec<poise::Command<Data, Error>> {
    [
        ask::commands(),
        help::commands(),
        privacy::commands(),
        queue::commands(),
        kb::commands(),
        stats::commands(),
        announce::commands(),
        events::commands(),
        tenders::commands(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_registered() {
        let names: Vec<_> = commands().iter().map(|c| c.name.clone()).collect();
        for name in [
            "ask",
            "help",
            "forget-me",
            "unanswered",
            "answer",
            "dismiss",
            "kb",
            "stats",
            "announce",
            "announcements",
            "events",
            "tenders",
        ] {
            assert!(
                names.iter().any(|n| n == name),
                "{name} missing from {names:?}"
            );
        }
    }
}
