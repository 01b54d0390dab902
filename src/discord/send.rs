//! The one path by which the bot posts channel messages: mentions always off, long text
//! split, and an HTTP 429 or a 5xx retried.
//!
//! With `discord.api_url` set, serenity's own rate limiter is off, so a 429 comes back to
//! us as an error without `retry_after`. A 429, and a 500, 502, 503 or 504 (Discord
//! having a bad moment), is retried after 0.5 s, 1 s, 2 s and 4 s, then given up. Only
//! the part that failed is sent again, never the parts before it; and each part carries
//! a nonce Discord enforces, so a part Discord created before answering 5xx is not
//! posted twice.

use std::future::Future;
use std::time::Duration;

use serenity::all::{
    ChannelId, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateMessage, Http,
    Mentionable, Message, MessageId, UserId,
};

use super::format::{split_message, DISCORD_LIMIT, MESSAGE_LIMIT};

/// Tries after the first before a 429 or 5xx is given up.
const RETRIES: u32 = 4;
const FIRST_BACK_OFF: Duration = Duration::from_millis(500);

/// Nothing may ping: not @everyone, not roles, not users, not the replied-to author.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

/// Only `user` may be notified: by the reply (`replied_user`) when the message replies
/// to theirs, else by a mention of them; nobody else, no roles, no @everyone.
pub fn notify_only(user: UserId, by_reply: bool) -> CreateAllowedMentions {
    CreateAllowedMentions::new()
        .users([user])
        .replied_user(by_reply)
}

/// The HTTP status of an unsuccessful request.
pub fn status(error: &serenity::Error) -> Option<u16> {
    match error {
        serenity::Error::Http(http) => http.status_code().map(|s| s.as_u16()),
        _ => None,
    }
}

/// Discord's own error code in an unsuccessful request's body (e.g. 160004).
pub fn discord_code(error: &serenity::Error) -> Option<isize> {
    match error {
        serenity::Error::Http(serenity::all::HttpError::UnsuccessfulRequest(response)) => {
            Some(response.error.code)
        }
        _ => None,
    }
}

/// Discord's answer to a second thread on one message: "A thread has already been
/// created for this message".
const THREAD_ALREADY_CREATED: isize = 160_004;

/// Whether the request may succeed if sent again: 429, or Discord's server failing
/// (500, 502, 503, 504).
pub fn is_transient(error: &serenity::Error) -> bool {
    matches!(status(error), Some(429 | 500 | 502 | 503 | 504))
}

/// True when the channel (or the message replied to) no longer exists or cannot be
/// reached: the caller may fall back to a direct message.
pub fn is_gone(error: &serenity::Error) -> bool {
    matches!(status(error), Some(403 | 404))
}

/// Run `request` again while it fails with 429 or 5xx ([`is_transient`]), backing off
/// between tries, at most [`RETRIES`] times.
pub async fn retry_transient<T, F, Fut>(mut request: F) -> Result<T, serenity::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, serenity::Error>>,
{
    let mut wait = FIRST_BACK_OFF;
    let mut tries = 0;
    loop {
        match request().await {
            Err(e) if is_transient(&e) && tries < RETRIES => {
                tries += 1;
                tracing::debug!(
                    wait_ms = wait.as_millis() as u64,
                    tries,
                    status = ?status(&e),
                    "Discord could not take the request now; retrying"
                );
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            other => return other,
        }
    }
}

/// A message to post: text (split as needed), buttons and files on its last part, and
/// optionally the message it replies to.
#[derive(Debug, Clone, Default)]
pub struct Outgoing {
    pub text: String,
    pub components: Vec<CreateActionRow>,
    pub reply_to: Option<MessageId>,
    pub files: Vec<CreateAttachment>,
    /// Post the text as one message whenever Discord accepts it (up to
    /// [`DISCORD_LIMIT`]), instead of splitting at the safer [`MESSAGE_LIMIT`]: an
    /// organiser's announcement must look exactly like its preview.
    pub keep_whole: bool,
    /// The one user this message may notify (the asker an adviser answered): the
    /// first part pings them through its reply (or, with no reply, a mention in front);
    /// still never @everyone, roles or anyone else.
    pub notify: Option<UserId>,
}

impl Outgoing {
    pub fn text(text: impl Into<String>) -> Outgoing {
        Outgoing {
            text: text.into(),
            ..Outgoing::default()
        }
    }

    pub fn replying_to(mut self, message: Option<MessageId>) -> Outgoing {
        self.reply_to = message;
        self
    }

    pub fn with_components(mut self, components: Vec<CreateActionRow>) -> Outgoing {
        self.components = components;
        self
    }

    pub fn with_file(mut self, file: CreateAttachment) -> Outgoing {
        self.files.push(file);
        self
    }

    pub fn notifying(mut self, user: Option<UserId>) -> Outgoing {
        self.notify = user;
        self
    }

    pub fn kept_whole(mut self) -> Outgoing {
        self.keep_whole = true;
        self
    }
}

/// Post `outgoing` in `channel`; returns the messages posted (one per part).
pub async fn post(
    http: &Http,
    channel: ChannelId,
    outgoing: Outgoing,
) -> Result<Vec<Message>, serenity::Error> {
    let limit = if outgoing.keep_whole {
        DISCORD_LIMIT
    } else {
        MESSAGE_LIMIT
    };
    let chunks = split_message(&outgoing.text, limit);
    let last = chunks.len().saturating_sub(1);
    let mut posted = Vec::with_capacity(chunks.len());
    for (i, mut chunk) in chunks.into_iter().enumerate() {
        let mut allowed = no_mentions();
        if let Some(user) = outgoing.notify.filter(|_| i == 0) {
            allowed = notify_only(user, outgoing.reply_to.is_some());
            if outgoing.reply_to.is_none() {
                chunk = format!("{} {chunk}", user.mention());
            }
        }
        let mut builder = CreateMessage::new()
            .content(chunk)
            .allowed_mentions(allowed);
        if i == 0 {
            if let Some(reply_to) = outgoing.reply_to {
                builder = builder.reference_message((channel, reply_to));
            }
        }
        if i == last && !outgoing.components.is_empty() {
            builder = builder.components(outgoing.components.clone());
        }
        if i == last && !outgoing.files.is_empty() {
            builder = builder.files(outgoing.files.clone());
        }
        // Discord keeps a nonce a few minutes: a retry of a part it did create returns
        // that message instead of a second one.
        builder = builder
            .nonce(serenity::all::Nonce::String(nonce()))
            .enforce_nonce(true);
        let message = retry_transient(|| channel.send_message(http, builder.clone())).await?;
        posted.push(message);
    }
    Ok(posted)
}

/// A nonce for one message: random, at most 25 characters as Discord allows.
fn nonce() -> String {
    let random = getrandom::u64().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    format!("{random:x}")
}

/// Post `outgoing` to a user as a direct message (no reply reference: the question was
/// elsewhere).
pub async fn post_dm(
    http: &Http,
    user: UserId,
    mut outgoing: Outgoing,
) -> Result<Vec<Message>, serenity::Error> {
    let channel = retry_transient(|| user.create_dm_channel(http)).await?;
    outgoing.reply_to = None;
    post(http, channel.id, outgoing).await
}

/// Open a public thread on `message` named after the question; returns its id.
///
/// When Discord created the thread but answered 5xx, the retry is refused with
/// [`THREAD_ALREADY_CREATED`]: that thread is ours and is used (a thread started from a
/// message has the message's id), instead of answering in the channel beside an empty
/// thread.
pub async fn open_thread(
    http: &Http,
    channel: ChannelId,
    message: MessageId,
    question: &str,
) -> Result<ChannelId, serenity::Error> {
    let name = thread_name(question);
    let created = retry_transient(|| {
        channel.create_thread_from_message(
            http,
            message,
            serenity::all::CreateThread::new(name.clone()),
        )
    })
    .await;
    match created {
        Ok(thread) => Ok(thread.id),
        Err(e) if discord_code(&e) == Some(THREAD_ALREADY_CREATED) => {
            tracing::info!(%message, "the thread on this message already exists; answering in it");
            Ok(ChannelId::new(message.get()))
        }
        Err(e) => Err(e),
    }
}

/// A thread name from a question: one line, at most 90 characters.
pub fn thread_name(question: &str) -> String {
    let cleaned = crate::answer::clean_question(question);
    let line = cleaned.lines().next().unwrap_or("").trim();
    let mut name: String = line.chars().take(90).collect();
    if line.chars().count() > 90 {
        name.push('…');
    }
    if name.is_empty() {
        "Spørsmål".to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_names_are_short_single_lines() {
        assert_eq!(
            thread_name("<@1> Hva er en TED-kunngjøring?\nMer tekst"),
            "Hva er en TED-kunngjøring?"
        );
        assert_eq!(thread_name("<@1>"), "Spørsmål");
        assert_eq!(thread_name(&"a".repeat(200)).chars().count(), 91);
    }

    #[test]
    fn no_mentions_allows_nothing() {
        let json = serde_json::to_value(no_mentions()).unwrap();
        assert_eq!(json["parse"], serde_json::json!([]));
        assert!(json
            .get("users")
            .is_none_or(|u| u.as_array().is_some_and(|a| a.is_empty())));
        assert!(json
            .get("roles")
            .is_none_or(|u| u.as_array().is_some_and(|a| a.is_empty())));
    }

    #[test]
    fn notify_only_allows_the_one_user() {
        let json = serde_json::to_value(notify_only(UserId::new(7), true)).unwrap();
        assert_eq!(json["parse"], serde_json::json!([]));
        assert_eq!(json["users"], serde_json::json!(["7"]));
        assert_eq!(json["replied_user"], serde_json::json!(true));
        assert!(json
            .get("roles")
            .is_none_or(|u| u.as_array().is_some_and(|a| a.is_empty())));
    }

    #[tokio::test]
    async fn only_429_and_5xx_are_retried() {
        use std::sync::atomic::{AtomicU32, Ordering};
        let calls = AtomicU32::new(0);
        let result: Result<(), _> = retry_transient(|| {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err(serenity::Error::Other("not a 429")) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "only a 429 or 5xx is retried"
        );
    }
}
