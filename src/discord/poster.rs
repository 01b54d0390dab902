//! The scheduler's way into Discord: [`DiscordPoster`] implements the core's
//! [`Poster`] over [`send::post`](super::send::post), so scheduled announcements and
//! event reminders go out like everything else the bot posts (no mentions, 429
//! retried, split only when Discord would refuse the text).

use std::sync::Arc;

use poise::serenity_prelude as serenity;
use serenity::{ChannelId, CreateAttachment, Http};

use super::send::{self, Outgoing};
use crate::announce::{Attachment, PostError, PostFuture, Poster};

/// Posts announcements and reminders through the bot's HTTP client.
#[derive(Clone)]
pub struct DiscordPoster {
    http: Arc<Http>,
}

impl std::fmt::Debug for DiscordPoster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordPoster").finish_non_exhaustive()
    }
}

impl DiscordPoster {
    pub fn new(http: Arc<Http>) -> DiscordPoster {
        DiscordPoster { http }
    }
}

impl Poster for DiscordPoster {
    fn post<'a>(
        &'a self,
        channel_id: u64,
        text: &'a str,
        attachment: Option<Attachment>,
    ) -> PostFuture<'a> {
        Box::pin(async move {
            let channel = ChannelId::new(channel_id);
            let mut outgoing = Outgoing::text(text).kept_whole();
            if let Some(file) = attachment {
                outgoing = outgoing.with_file(CreateAttachment::bytes(file.bytes, file.filename));
            }
            send::post(&self.http, channel, outgoing)
                .await
                .map(|_| ())
                .map_err(|e| post_error(channel_id, &e))
        })
    }
}

/// What a failed send means to the scheduler: a channel that is gone, a channel the
/// bot may not post in, or anything else (retried with back-off).
pub fn post_error(channel_id: u64, error: &serenity::Error) -> PostError {
    match error {
        // serenity checks the bot's permissions from its cache before sending.
        serenity::Error::Model(serenity::ModelError::InvalidPermissions { .. }) => {
            PostError::Forbidden(channel_id)
        }
        _ => match send::status(error) {
            Some(404) => PostError::UnknownChannel(channel_id),
            Some(403) => PostError::Forbidden(channel_id),
            _ => PostError::Failed(super::reply::cause_chain(error)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_errors_are_forbidden() {
        let error = serenity::Error::Model(serenity::ModelError::InvalidPermissions {
            required: serenity::Permissions::ATTACH_FILES,
            present: serenity::Permissions::SEND_MESSAGES,
        });
        assert_eq!(post_error(7, &error), PostError::Forbidden(7));
        assert!(matches!(
            post_error(7, &serenity::Error::Other("boom")),
            PostError::Failed(_)
        ));
    }
}
