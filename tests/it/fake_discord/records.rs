//! What the fake records and what tests make it do: requests, posts, callbacks, gateway
//! counters, threads, users' messages.

use super::*;

/// One REST request the bot made.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The full path, for example `/api/v10/channels/1/messages`.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// The JSON body (for multipart requests, `payload_json`); `Null` when there was none.
    pub body: Value,
    /// Files of a multipart request.
    pub files: Vec<PostedFile>,
    /// The status the fake answered with.
    pub status: u16,
    /// True when the fake does not implement the route (it answered 404 `Unknown route`).
    pub unknown_route: bool,
}

/// A file the bot uploaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostedFile {
    /// The multipart field, for example `files[0]`.
    pub field: String,
    /// The file name.
    pub filename: String,
    /// The part's content type, if given.
    pub content_type: Option<String>,
    /// The bytes.
    pub data: Vec<u8>,
}

impl PostedFile {
    /// The content as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// How a [`Posted`] message came to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostSource {
    /// `POST /channels/{id}/messages`.
    ChannelMessage,
    /// `PATCH /channels/{c}/messages/{m}`.
    ChannelMessageEdit,
    /// Interaction callback type 4 (the reply to a command, button or modal).
    InteractionResponse,
    /// Interaction callback type 7 (the component's message was replaced).
    InteractionUpdate,
    /// `PATCH /webhooks/{app}/{token}/messages/@original`.
    InteractionOriginalEdit,
    /// `POST /webhooks/{app}/{token}` (a follow-up; the first after a deferral edits the
    /// original message, and then `message_id` is the original's).
    Followup,
    /// `PATCH /webhooks/{app}/{token}/messages/{id}` for a follow-up.
    FollowupEdit,
}

impl PostSource {
    /// True for everything that answers an interaction rather than posting in a channel.
    pub fn is_interaction(self) -> bool {
        !matches!(
            self,
            PostSource::ChannelMessage | PostSource::ChannelMessageEdit
        )
    }

    /// True for edits of an existing message.
    pub fn is_edit(self) -> bool {
        matches!(
            self,
            PostSource::ChannelMessageEdit
                | PostSource::InteractionUpdate
                | PostSource::InteractionOriginalEdit
                | PostSource::FollowupEdit
        )
    }
}

/// A message the bot created or edited, in the order the fake received them.
///
/// For edits the fields show the message as it is after the edit.
#[derive(Clone, Debug)]
pub struct Posted {
    /// How it was posted.
    pub source: PostSource,
    /// The channel it is in (for interactions, the interaction's channel).
    pub channel_id: u64,
    /// The id of the message created or edited.
    pub message_id: u64,
    /// The interaction it answers, if any.
    pub interaction_id: Option<u64>,
    /// `content` ("" when absent).
    pub content: String,
    /// `embeds` as sent.
    pub embeds: Vec<Value>,
    /// `components` (action rows) as sent.
    pub components: Vec<Value>,
    /// `allowed_mentions` of the request, if sent.
    pub allowed_mentions: Option<Value>,
    /// `message_reference`, if this is a reply.
    pub message_reference: Option<Value>,
    /// `flags` (0 when absent); see [`EPHEMERAL_FLAG`].
    pub flags: u64,
    /// Uploaded files.
    pub attachments: Vec<PostedFile>,
    /// The request body as received (for multipart, `payload_json`).
    pub body: Value,
}

impl Posted {
    /// Whether only the interaction's user can see it.
    pub fn is_ephemeral(&self) -> bool {
        self.flags & EPHEMERAL_FLAG != 0
    }

    /// The id of the message this replies to, if it is a reply.
    pub fn reply_to(&self) -> Option<u64> {
        self.message_reference
            .as_ref()
            .and_then(|r| value_id(&r["message_id"]))
    }

    /// Content plus every embed's title, description, field names and values, and footer, one
    /// per line: what a reader sees, for asserting on wording regardless of layout.
    pub fn text(&self) -> String {
        let mut parts = vec![self.content.clone()];
        for embed in &self.embeds {
            for key in ["title", "description"] {
                if let Some(s) = embed[key].as_str() {
                    parts.push(s.to_owned());
                }
            }
            for field in embed["fields"].as_array().into_iter().flatten() {
                for key in ["name", "value"] {
                    if let Some(s) = field[key].as_str() {
                        parts.push(s.to_owned());
                    }
                }
            }
            if let Some(s) = embed["footer"]["text"].as_str() {
                parts.push(s.to_owned());
            }
        }
        parts.retain(|p| !p.is_empty());
        parts.join("\n")
    }

    /// The `custom_id` of every component (buttons, select menus) in every action row.
    pub fn custom_ids(&self) -> Vec<String> {
        self.components
            .iter()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|c| c["custom_id"].as_str().map(str::to_owned))
            .collect()
    }

    pub(super) fn summary(&self) -> String {
        let text: String = self.text().chars().take(120).collect();
        format!(
            "{:?} in {} (message {}): {text:?}",
            self.source, self.channel_id, self.message_id
        )
    }
}

/// One `POST /interactions/{id}/{token}/callback`.
#[derive(Clone, Debug)]
pub struct InteractionCallback {
    /// The interaction answered.
    pub interaction_id: u64,
    /// Its token.
    pub token: String,
    /// The callback type; see [`callback_type`].
    pub kind: u64,
    /// `data` of the callback (`Null` when absent).
    pub data: Value,
    /// Uploaded files.
    pub files: Vec<PostedFile>,
}

impl InteractionCallback {
    /// `data.content`, or "".
    pub fn content(&self) -> &str {
        self.data["content"].as_str().unwrap_or("")
    }

    /// Whether `data.flags` has the ephemeral bit.
    pub fn is_ephemeral(&self) -> bool {
        self.data["flags"].as_u64().unwrap_or(0) & EPHEMERAL_FLAG != 0
    }
}

/// Counters of the gateway side.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GatewayStats {
    /// WebSocket connections accepted.
    pub connections: u32,
    /// IDENTIFYs accepted (each starts a new session).
    pub identifies: u32,
    /// RESUMEs accepted.
    pub resumes: u32,
    /// RESUMEs refused with INVALID SESSION.
    pub invalid_sessions: u32,
    /// IDENTIFY/RESUME with a wrong token (closed with 4004).
    pub rejected_tokens: u32,
    /// Heartbeats received.
    pub heartbeats: u32,
    /// Other opcodes received (presence updates, member requests, …).
    pub other_ops: Vec<u64>,
    /// Whether a session currently has a live socket.
    pub connected: bool,
    /// The intents of the current session.
    pub intents: Option<u64>,
    /// The `shard` of every IDENTIFY accepted, `[id, total]`, in order.
    pub shards: Vec<Value>,
    /// Sequence number of the last dispatch in the current session.
    pub seq: u64,
}

/// A thread the bot created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FakeThread {
    /// Thread id (for a thread started from a message, that message's id).
    pub id: u64,
    /// The channel it is in.
    pub parent_id: u64,
    /// Its name.
    pub name: String,
    /// The message it was started from, if any.
    pub from_message: Option<u64>,
}

/// A message a user posts, for [`FakeDiscord::send`]. The simple cases have shortcuts:
/// [`FakeDiscord::send_message`], [`FakeDiscord::send_message_mentioning_bot`],
/// [`FakeDiscord::send_reply`], [`FakeDiscord::send_dm`].
#[derive(Clone, Debug)]
pub struct UserMessage {
    /// Where: a guild channel, a thread, or a DM channel ([`FakeDiscord::dm_channel_id`]).
    pub channel_id: u64,
    /// Who.
    pub author_id: u64,
    /// What.
    pub content: String,
    /// Mention the bot: `<@BOT>` is put in front of the content unless it is already there,
    /// and the bot is listed in `mentions`.
    pub mention_bot: bool,
    /// Reply to this message. As with Discord's default "ping on reply", the replied-to author
    /// is added to `mentions`.
    pub reply_to: Option<u64>,
}

impl UserMessage {
    /// A plain message.
    pub fn new(channel_id: u64, author_id: u64, content: impl Into<String>) -> Self {
        UserMessage {
            channel_id,
            author_id,
            content: content.into(),
            mention_bot: false,
            reply_to: None,
        }
    }

    /// Mention the bot.
    pub fn mentioning_bot(mut self) -> Self {
        self.mention_bot = true;
        self
    }

    /// Reply to a message.
    pub fn replying_to(mut self, message_id: u64) -> Self {
        self.reply_to = Some(message_id);
        self
    }
}
