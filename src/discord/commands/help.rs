//! `/help`: what the bot can do, in the user's language.

use crate::discord::context::{texts, Context, Data, Error};
use crate::discord::reply::say_private;

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![help()]
}

/// What the bot can do and how to ask.
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    say_private(ctx, &texts(ctx).help).await
}
