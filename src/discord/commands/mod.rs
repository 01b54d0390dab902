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

use super::context::{Context, Data, Error};

/// A form with one paragraph field, for text of several lines (a command option cannot
/// hold line breaks in the Discord client).
#[derive(Debug, Clone, poise::Modal)]
#[name = "Tekst / text"]
struct TextForm {
    #[name = "Teksten / the text"]
    #[paragraph]
    #[max_length = 4000]
    text: String,
}

/// Open the text form and wait for it; `None` when it was closed without text.
pub(crate) async fn text_form(ctx: Context<'_>) -> Result<Option<String>, Error> {
    let poise::Context::Application(app) = ctx else {
        return Err(Error::Unexpected("a form needs a slash command".into()));
    };
    Ok(kb::open_form::<TextForm>(app, None)
        .await?
        .map(|form| form.text))
}

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
