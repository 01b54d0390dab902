//! What the bot does with gateway events that are not slash commands: messages
//! ([`message`]), clicks on its buttons ([`click`]) and forms no command waits for ([`form`]). `bot::on_event` dispatches here.

pub mod click;
pub mod form;
pub mod message;

use poise::serenity_prelude as serenity;
use serenity::{ChannelId, GuildId, MessageId, UserId};

use crate::store::{Origin, Source};

/// Where a question came from, for the store (and for bringing an adviser's answer back).
pub fn discord_origin(
    guild: Option<GuildId>,
    channel: Option<ChannelId>,
    message: Option<MessageId>,
    thread: Option<ChannelId>,
    user: UserId,
) -> Origin {
    Origin {
        source: Source::Discord,
        guild_id: guild.map(|g| g.to_string()),
        channel_id: channel.map(|c| c.to_string()),
        message_id: message.map(|m| m.to_string()),
        thread_id: thread.map(|t| t.to_string()),
        user_id: Some(user.to_string()),
    }
}
