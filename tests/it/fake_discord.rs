//! A fake Discord for integration tests: REST and gateway on 127.0.0.1, port 0, driven by the
//! real serenity client (and poise on top of it).
//!
//! Point the bot at it with `HttpBuilder::new(TOKEN).proxy(fake.api_url())
//! .ratelimiter_disabled(true)` and `ClientBuilder::new_with_http(http, intents)`.
//!
//! ```ignore
//! let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
//! // … start the bot with discord.api_url = fake.api_url() and the token fake_discord::TOKEN …
//! let question = fake.send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, "Hva er terskelverdien?");
//! let answer = fake.wait_for_post(Duration::from_secs(5), |p| p.reply_to() == Some(question)).await;
//! assert!(answer.text().contains("terskelverdi"));
//! fake.assert_no_unknown_routes();
//! ```
//!
//! Making things happen (`send_*`, `slash_command`, `button_click`, `drop_gateway`, …) is
//! synchronous and returns at once; waiting (`wait_for_*`) is async, looks at everything
//! recorded so far and then at what comes, and on timeout panics with a dump of what the bot
//! posted, which requests failed, and the gateway counters. Each test should start its own
//! fake; nothing is shared between fakes.
//!
//! # Scope
//!
//! Gateway (`ws://127.0.0.1:PORT/gateway`, plain-text JSON frames):
//! - HELLO on connect; IDENTIFY (op 2) with the token `Bot TOKEN` gets READY (the guild listed as
//!   unavailable) and then GUILD_CREATE with the full guild (channels, roles, members including
//!   the bot, threads the bot created), so serenity's cache knows roles and permissions.
//! - Heartbeat (op 1) gets a heartbeat ACK (op 11).
//! - RESUME (op 6) with the current session id replays every dispatch after the given sequence
//!   number, then RESUMED; an unknown session id gets INVALID SESSION (op 9, not resumable).
//! - A wrong token in IDENTIFY or RESUME closes the socket with 4004.
//! - Dispatches: READY, GUILD_CREATE, RESUMED, MESSAGE_CREATE (guild channels, threads and DMs),
//!   INTERACTION_CREATE (slash commands, buttons, select menus, modal submits, or raw JSON) and
//!   THREAD_CREATE (when the bot creates a thread). Intents are honoured the way Discord does:
//!   no GUILD_CREATE/THREAD_CREATE without GUILDS, no guild messages without GUILD_MESSAGES, no
//!   DMs without DIRECT_MESSAGES, and guild messages that do not mention the bot arrive with
//!   empty content without MESSAGE_CONTENT.
//! - Every dispatch is first checked with serenity's own deserializer, and the fake panics if
//!   serenity would silently drop it as an unknown event.
//! - Events dispatched before the bot has identified are held and delivered right after
//!   GUILD_CREATE; events dispatched while the socket is down are delivered by RESUME.
//! - [`FakeDiscord::drop_gateway`] cuts the socket without a close frame,
//!   [`FakeDiscord::close_gateway`] sends a close code; serenity then resumes.
//!
//! REST (under `/api/v10`), each request recorded with method, path, JSON body and files:
//! - `GET /gateway`, `GET /gateway/bot`, `GET /users/@me`, `GET /oauth2/applications/@me`,
//!   `POST /users/@me/channels` (DM channel, one per user).
//! - `GET|PUT /applications/{app}/commands` and `/applications/{app}/guilds/{g}/commands`
//!   (echoed back with ids).
//! - `POST /interactions/{id}/{token}/callback` (204), `GET|PATCH|DELETE
//!   /webhooks/{app}/{token}/messages/{@original|id}`, `POST /webhooks/{app}/{token}`
//!   (follow-ups; the first one after a deferred response edits the original, as on Discord).
//! - `GET /channels/{c}`, `POST /channels/{c}/messages` (JSON or multipart with files),
//!   `GET|PATCH|DELETE /channels/{c}/messages/{m}`, `POST /channels/{c}/messages/{m}/threads`
//!   (thread id = message id, 201), `POST /channels/{c}/threads` (201),
//!   `POST /channels/{c}/typing` (204), `PUT /channels/{c}/messages/{m}/reactions/{e}/@me` (204).
//! - `GET /guilds/{g}/members/{u}`, `GET /guilds/{g}/roles`.
//! - Unknown channels, messages, members and interactions get Discord's 404 error bodies, and
//!   so does an application id that is not the fake's (for example the bot's user id); a
//!   second response to one interaction gets 400 (code 40060), a follow-up before any
//!   response 404 (Unknown Webhook).
//! - Anything else: 404 `{"message":"Unknown route","code":0}`, recorded so a test can assert
//!   there were none ([`FakeDiscord::assert_no_unknown_routes`]).
//! - [`FakeDiscord::fail_next_posts_with_429`] makes `POST /channels/{c}/messages` answer 429
//!   with Discord's body and `Retry-After`/`X-RateLimit-*` headers.
//!
//! Not implemented: zlib compression, more than one shard at once (one shard of several is:
//! the IDENTIFY's `shard` is recorded and echoed in READY), presence updates and member
//! chunking (ignored and counted as other ops), voice, permission checks on the server side (the
//! fake accepts any post into a known channel; serenity checks the bot's permissions from its
//! cache before sending), message edits by users, reactions by users, autocomplete helpers
//! (send those with [`FakeDiscord::send_interaction`]), attachments uploaded by users, CDN.

#![allow(dead_code)] // Not every test module uses every helper.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};
use serenity::model::Permissions;
use tokio::sync::{mpsc, Notify};

/// The bot token the fake expects; IDENTIFY and RESUME must carry `Bot TOKEN`, and REST calls
/// that send an `Authorization` header must send the same.
pub const TOKEN: &str = "fake-discord-token";

/// Fixed ids of [`FakeGuild::default_test_guild`].
pub mod ids {
    /// The guild.
    pub const GUILD: u64 = 1_100_000_000_000_000_001;
    /// `@everyone`; on Discord its id is the guild's id.
    pub const EVERYONE_ROLE: u64 = GUILD;
    /// The `adviser` role.
    pub const ADVISER_ROLE: u64 = 1_100_000_000_000_000_201;
    /// The `organiser` role.
    pub const ORGANISER_ROLE: u64 = 1_100_000_000_000_000_202;
    /// The `qa` channel, where suppliers ask.
    pub const QA_CHANNEL: u64 = 1_100_000_000_000_000_101;
    /// The `general` channel.
    pub const GENERAL_CHANNEL: u64 = 1_100_000_000_000_000_102;
    /// The `advisers` channel.
    pub const ADVISERS_CHANNEL: u64 = 1_100_000_000_000_000_103;
    /// The `announcements` channel (a plain text channel here).
    pub const ANNOUNCEMENTS_CHANNEL: u64 = 1_100_000_000_000_000_104;
    /// The bot's own user.
    pub const BOT_USER: u64 = 1_100_000_000_000_000_301;
    /// The bot's application (deliberately not equal to [`BOT_USER`], so mixing them up shows).
    pub const APPLICATION: u64 = 1_100_000_000_000_000_302;
    /// An ordinary supplier, no roles.
    pub const SUPPLIER_USER: u64 = 1_100_000_000_000_000_401;
    /// A member with the `adviser` role.
    pub const ADVISER_USER: u64 = 1_100_000_000_000_000_402;
    /// A member with the `organiser` role; also the guild's owner.
    pub const ORGANISER_USER: u64 = 1_100_000_000_000_000_403;
    /// Another bot in the guild.
    pub const OTHER_BOT_USER: u64 = 1_100_000_000_000_000_404;
}

/// Interaction callback types (`type` in `POST /interactions/{id}/{token}/callback`).
pub mod callback_type {
    /// CHANNEL_MESSAGE_WITH_SOURCE: the reply itself.
    pub const MESSAGE: u64 = 4;
    /// DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "thinking…", the answer comes later.
    pub const DEFERRED_MESSAGE: u64 = 5;
    /// DEFERRED_UPDATE_MESSAGE: acknowledge a component without changing anything yet.
    pub const DEFERRED_UPDATE: u64 = 6;
    /// UPDATE_MESSAGE: edit the message the component is on.
    pub const UPDATE_MESSAGE: u64 = 7;
    /// APPLICATION_COMMAND_AUTOCOMPLETE_RESULT.
    pub const AUTOCOMPLETE: u64 = 8;
    /// MODAL: open a modal.
    pub const MODAL: u64 = 9;
}

/// Discord message flag that makes an interaction reply visible only to its user.
pub const EPHEMERAL_FLAG: u64 = 1 << 6;

// ---------------------------------------------------------------------------------------------
// The guild

/// What the fake's one guild contains. All channels are text channels (type 0).
#[derive(Clone, Debug)]
pub struct FakeGuild {
    /// Guild id.
    pub id: u64,
    /// Guild name.
    pub name: String,
    /// The owner; serenity grants the owner every permission.
    pub owner_id: u64,
    /// Text channels, in display order.
    pub channels: Vec<FakeChannel>,
    /// Roles, including `@everyone` (whose id must equal the guild id).
    pub roles: Vec<FakeRole>,
    /// Members other than the bot.
    pub members: Vec<FakeMember>,
    /// The bot's user id.
    pub bot_user_id: u64,
    /// The bot's user name.
    pub bot_name: String,
    /// Roles the bot member has besides `@everyone`.
    pub bot_role_ids: Vec<u64>,
    /// The bot's application id (used in READY, commands and interaction webhooks).
    pub application_id: u64,
}

/// A text channel of the guild.
#[derive(Clone, Debug)]
pub struct FakeChannel {
    /// Channel id.
    pub id: u64,
    /// Channel name, without `#`.
    pub name: String,
}

/// A role of the guild.
#[derive(Clone, Debug)]
pub struct FakeRole {
    /// Role id.
    pub id: u64,
    /// Role name (`@everyone` for the everyone role).
    pub name: String,
    /// What the role grants.
    pub permissions: Permissions,
}

/// A (human or bot) member of the guild.
#[derive(Clone, Debug)]
pub struct FakeMember {
    /// User id.
    pub user_id: u64,
    /// User name.
    pub name: String,
    /// Roles besides `@everyone`.
    pub role_ids: Vec<u64>,
    /// Whether the user is a bot.
    pub bot: bool,
}

impl FakeGuild {
    /// The permissions `@everyone` has in [`FakeGuild::default_test_guild`]: enough for the bot
    /// to answer in channels and threads with embeds and files.
    pub fn default_everyone_permissions() -> Permissions {
        Permissions::SEND_MESSAGES
            | Permissions::VIEW_CHANNEL
            | Permissions::READ_MESSAGE_HISTORY
            | Permissions::CREATE_PUBLIC_THREADS
            | Permissions::SEND_MESSAGES_IN_THREADS
            | Permissions::EMBED_LINKS
            | Permissions::ATTACH_FILES
    }

    /// The guild most tests use; every id is in [`ids`].
    ///
    /// Channels `qa`, `general`, `advisers`, `announcements`; roles `@everyone` (see
    /// [`FakeGuild::default_everyone_permissions`]), `adviser`, `organiser`; members `supplier`
    /// (no roles), `adviser`, `organiser` (also the owner) and `otherbot` (a bot). The bot is
    /// `anbud` with no extra roles.
    pub fn default_test_guild() -> Self {
        let channel = |id, name: &str| FakeChannel {
            id,
            name: name.to_owned(),
        };
        let member = |user_id, name: &str, role_ids: Vec<u64>, bot| FakeMember {
            user_id,
            name: name.to_owned(),
            role_ids,
            bot,
        };
        FakeGuild {
            id: ids::GUILD,
            name: "Anbud test".to_owned(),
            owner_id: ids::ORGANISER_USER,
            channels: vec![
                channel(ids::QA_CHANNEL, "qa"),
                channel(ids::GENERAL_CHANNEL, "general"),
                channel(ids::ADVISERS_CHANNEL, "advisers"),
                channel(ids::ANNOUNCEMENTS_CHANNEL, "announcements"),
            ],
            roles: vec![
                FakeRole {
                    id: ids::EVERYONE_ROLE,
                    name: "@everyone".to_owned(),
                    permissions: Self::default_everyone_permissions(),
                },
                FakeRole {
                    id: ids::ADVISER_ROLE,
                    name: "adviser".to_owned(),
                    permissions: Permissions::MANAGE_THREADS,
                },
                FakeRole {
                    id: ids::ORGANISER_ROLE,
                    name: "organiser".to_owned(),
                    permissions: Permissions::MANAGE_THREADS
                        | Permissions::MANAGE_MESSAGES
                        | Permissions::MANAGE_GUILD,
                },
            ],
            members: vec![
                member(ids::SUPPLIER_USER, "supplier", vec![], false),
                member(ids::ADVISER_USER, "adviser", vec![ids::ADVISER_ROLE], false),
                member(
                    ids::ORGANISER_USER,
                    "organiser",
                    vec![ids::ORGANISER_ROLE],
                    false,
                ),
                member(ids::OTHER_BOT_USER, "otherbot", vec![], true),
            ],
            bot_user_id: ids::BOT_USER,
            bot_name: "anbud".to_owned(),
            bot_role_ids: vec![],
            application_id: ids::APPLICATION,
        }
    }

    /// The id of the channel with this name; panics if there is none.
    pub fn channel_id(&self, name: &str) -> u64 {
        self.channels
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("the fake guild has no channel named {name:?}"))
            .id
    }

    /// The id of the role with this name; panics if there is none.
    pub fn role_id(&self, name: &str) -> u64 {
        self.roles
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("the fake guild has no role named {name:?}"))
            .id
    }

    /// The member with this user id (not the bot).
    pub fn member(&self, user_id: u64) -> Option<&FakeMember> {
        self.members.iter().find(|m| m.user_id == user_id)
    }

    fn is_member(&self, user_id: u64) -> bool {
        user_id == self.bot_user_id || self.member(user_id).is_some()
    }

    fn role_ids_of(&self, user_id: u64) -> Vec<u64> {
        if user_id == self.bot_user_id {
            self.bot_role_ids.clone()
        } else {
            self.member(user_id)
                .map(|m| m.role_ids.clone())
                .unwrap_or_default()
        }
    }

    /// Guild-wide permissions of a member: `@everyone` plus their roles (everything for the
    /// owner or an administrator).
    pub fn permissions_of(&self, user_id: u64) -> Permissions {
        if user_id == self.owner_id {
            return Permissions::all();
        }
        let role_ids = self.role_ids_of(user_id);
        let perms = self
            .roles
            .iter()
            .filter(|r| r.id == self.id || role_ids.contains(&r.id))
            .fold(Permissions::empty(), |acc, r| acc | r.permissions);
        if perms.contains(Permissions::ADMINISTRATOR) {
            Permissions::all()
        } else {
            perms
        }
    }

    fn name_and_bot_flag(&self, user_id: u64) -> (String, bool) {
        if user_id == self.bot_user_id {
            (self.bot_name.clone(), true)
        } else if let Some(m) = self.member(user_id) {
            (m.name.clone(), m.bot)
        } else {
            (format!("user{user_id}"), false)
        }
    }
}

/// Knobs that are not about the guild.
#[derive(Clone, Debug)]
pub struct FakeOptions {
    /// The token the fake accepts (without `Bot `).
    pub token: String,
    /// Sent in HELLO. Discord's is 41.25 s; make it short to see heartbeats in a test.
    pub heartbeat_interval: Duration,
}

impl Default for FakeOptions {
    fn default() -> Self {
        FakeOptions {
            token: TOKEN.to_owned(),
            heartbeat_interval: Duration::from_millis(41_250),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What the fake records

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

    fn summary(&self) -> String {
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

// ---------------------------------------------------------------------------------------------
// The fake

/// A running fake Discord. Dropping it stops the server.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.drop_gateway();
        self.server.abort();
    }
}

impl FakeDiscord {
    /// Start a fake with this guild on 127.0.0.1, port 0, with default options.
    pub async fn start(guild: FakeGuild) -> FakeDiscord {
        Self::start_with(guild, FakeOptions::default()).await
    }

    /// Start a fake with this guild and these options.
    pub async fn start_with(guild: FakeGuild, options: FakeOptions) -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Discord: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("fake Discord: local address");
        let shared = Arc::new(Shared::new(guild, options, addr));

        // Fail here, in the test, if the guild would be dropped by serenity.
        let ready = shared.ready_json("check");
        let guild_create = shared.guild_create_json(&[]);
        for (t, d) in [("READY", &ready), ("GUILD_CREATE", &guild_create)] {
            if let Err(why) = validate_dispatch(t, d) {
                panic!("fake Discord: serenity would drop this {t}: {why}");
            }
        }

        let app = Router::new()
            .route("/gateway", get(gateway_upgrade))
            .fallback(rest_request)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            if let Err(why) = axum::serve(listener, app).await {
                tracing::error!("fake Discord server stopped: {why}");
            }
        });
        tracing::debug!("fake Discord listening on {addr}");
        FakeDiscord {
            shared,
            addr,
            server,
        }
    }

    /// `http://127.0.0.1:PORT`: the bot's `discord.api_url`, for `HttpBuilder::proxy`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/gateway`, what `GET /api/v10/gateway` answers.
    pub fn gateway_url(&self) -> String {
        self.shared.gateway_url.clone()
    }

    /// The token the fake accepts (without `Bot `).
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The guild the fake serves.
    pub fn guild(&self) -> &FakeGuild {
        &self.shared.guild
    }

    // ----- dispatching events -----

    /// A user posts `content` in a guild channel, thread or DM channel; returns the message id.
    pub fn send_message(&self, channel_id: u64, author_id: u64, content: &str) -> u64 {
        self.send(UserMessage::new(channel_id, author_id, content))
    }

    /// Like [`FakeDiscord::send_message`], with an @mention of the bot in front.
    pub fn send_message_mentioning_bot(
        &self,
        channel_id: u64,
        author_id: u64,
        content: &str,
    ) -> u64 {
        self.send(UserMessage::new(channel_id, author_id, content).mentioning_bot())
    }

    /// A user replies to message `reply_to` (for example one of the bot's answers).
    pub fn send_reply(&self, channel_id: u64, author_id: u64, content: &str, reply_to: u64) -> u64 {
        self.send(UserMessage::new(channel_id, author_id, content).replying_to(reply_to))
    }

    /// A user sends the bot a direct message; the channel is
    /// [`FakeDiscord::dm_channel_id`]`(author_id)`. Returns the message id.
    pub fn send_dm(&self, author_id: u64, content: &str) -> u64 {
        let channel_id = self.dm_channel_id(author_id);
        self.send(UserMessage::new(channel_id, author_id, content))
    }

    /// Dispatch MESSAGE_CREATE for a user's message; returns its id. Panics if the channel is
    /// unknown.
    pub fn send(&self, message: UserMessage) -> u64 {
        let mut st = self.shared.lock();
        let id = st.next_id();
        let payload = self.shared.user_message_json(&st, id, &message);
        st.messages.insert(id, payload.clone());
        self.shared
            .dispatch_locked(&mut st, "MESSAGE_CREATE", payload);
        drop(st);
        self.shared.changed.notify_waiters();
        id
    }

    /// The DM channel between the bot and this user (the same one `POST /users/@me/channels`
    /// returns), created on first use.
    pub fn dm_channel_id(&self, user_id: u64) -> u64 {
        let mut st = self.shared.lock();
        self.shared.dm_channel(&mut st, user_id)
    }

    /// Dispatch an INTERACTION_CREATE with this exact `d` payload; returns its id. The fake
    /// learns the interaction's id, token and channel so callbacks and follow-ups work. Panics
    /// if serenity would not accept the payload.
    pub fn send_interaction(&self, raw: Value) -> u64 {
        let id = value_id(&raw["id"]).expect("send_interaction: the payload needs an id");
        let token = raw["token"]
            .as_str()
            .expect("send_interaction: the payload needs a token");
        let channel_id =
            value_id(&raw["channel_id"]).expect("send_interaction: the payload needs a channel_id");
        let message_id = value_id(&raw["message"]["id"]);
        let mut st = self.shared.lock();
        st.interactions.insert(
            token.to_owned(),
            InteractionRecord {
                id,
                channel_id,
                message_id,
                original: None,
                responded: false,
                deferred_pending: false,
            },
        );
        self.shared
            .dispatch_locked(&mut st, "INTERACTION_CREATE", raw);
        drop(st);
        self.shared.changed.notify_waiters();
        id
    }

    /// A user runs slash command `/name` in a channel (guild channel, thread or DM channel).
    /// `options` is Discord's `data.options` array, for example
    /// `json!([{"name": "question", "type": 3, "value": "Hva er terskelverdien?"}])`
    /// (`Value::Null` for none). Channel options (type 7) are resolved in
    /// `data.resolved.channels`, as Discord does (a channel the guild lacks as a plain text
    /// channel). Uses the id the command was registered with, if it was.
    /// Returns the interaction id.
    pub fn slash_command(&self, user_id: u64, channel_id: u64, name: &str, options: Value) -> u64 {
        let mut st = self.shared.lock();
        let registered = st
            .commands
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| value_id(&c["id"]));
        let command_id = match registered {
            Some(id) => id,
            None => st.next_id(),
        };
        let options = if options.is_null() {
            json!([])
        } else {
            options
        };
        let mut data =
            json!({ "id": sid(command_id), "name": name, "type": 1, "options": options });
        // Like Discord, resolve channel options (type 7) in `data.resolved.channels`.
        let mut channel_ids = Vec::new();
        collect_channel_options(&data["options"], &mut channel_ids);
        if !channel_ids.is_empty() {
            let mut resolved = Map::new();
            for id in channel_ids {
                let partial = match self.shared.channel_json(&st, id) {
                    Some(c) => {
                        json!({ "id": sid(id), "type": c["type"], "name": c["name"], "permissions": "0" })
                    }
                    None => {
                        json!({ "id": sid(id), "type": 0, "name": format!("channel{id}"), "permissions": "0" })
                    }
                };
                resolved.insert(id.to_string(), partial);
            }
            data["resolved"] = json!({ "channels": resolved });
        }
        let raw = self
            .shared
            .interaction_json(&mut st, 2, user_id, channel_id, data, None);
        drop(st);
        self.send_interaction(raw)
    }

    /// A user clicks the button `custom_id` on message `message_id` (which the fake must know,
    /// normally one the bot posted). Returns the interaction id.
    pub fn button_click(
        &self,
        user_id: u64,
        channel_id: u64,
        message_id: u64,
        custom_id: &str,
    ) -> u64 {
        let data = json!({ "custom_id": custom_id, "component_type": 2 });
        self.component_interaction(user_id, channel_id, message_id, data)
    }

    /// A user picks `values` in the string select menu `custom_id` on message `message_id`.
    /// Returns the interaction id.
    pub fn select_menu(
        &self,
        user_id: u64,
        channel_id: u64,
        message_id: u64,
        custom_id: &str,
        values: &[&str],
    ) -> u64 {
        let data = json!({ "custom_id": custom_id, "component_type": 3, "values": values });
        self.component_interaction(user_id, channel_id, message_id, data)
    }

    /// A user submits modal `custom_id` with these (text input custom_id, value) pairs, one
    /// action row per field. Returns the interaction id.
    pub fn modal_submit(
        &self,
        user_id: u64,
        channel_id: u64,
        custom_id: &str,
        fields: &[(&str, &str)],
    ) -> u64 {
        let rows: Vec<Value> = fields
            .iter()
            .map(|(field_id, value)| {
                json!({ "type": 1, "components": [
                    { "type": 4, "custom_id": field_id, "value": value }
                ]})
            })
            .collect();
        let data = json!({ "custom_id": custom_id, "components": rows });
        let mut st = self.shared.lock();
        let raw = self
            .shared
            .interaction_json(&mut st, 5, user_id, channel_id, data, None);
        drop(st);
        self.send_interaction(raw)
    }

    fn component_interaction(
        &self,
        user_id: u64,
        channel_id: u64,
        message_id: u64,
        data: Value,
    ) -> u64 {
        let mut st = self.shared.lock();
        let message = st.messages.get(&message_id).cloned().unwrap_or_else(|| {
            panic!("fake Discord: message {message_id} is unknown; components can only be used on messages the fake has seen")
        });
        let raw =
            self.shared
                .interaction_json(&mut st, 3, user_id, channel_id, data, Some(message));
        drop(st);
        self.send_interaction(raw)
    }

    // ----- the gateway -----

    /// Cut the gateway socket without a close frame, as a network failure would. serenity
    /// reconnects and RESUMEs; events dispatched meanwhile are replayed. Returns whether a
    /// session had a live socket.
    pub fn drop_gateway(&self) -> bool {
        self.take_connection(Outgoing::Abort)
    }

    /// Close the gateway socket with this close code (4000 "unknown error" is resumable;
    /// 4004 is fatal to serenity, 4009 makes it re-identify). Returns whether a session had a
    /// live socket.
    pub fn close_gateway(&self, code: u16) -> bool {
        self.take_connection(Outgoing::Close(code))
    }

    fn take_connection(&self, how: Outgoing) -> bool {
        let mut st = self.shared.lock();
        let conn = st.gateway.session.as_mut().and_then(|s| s.conn.take());
        drop(st);
        self.shared.changed.notify_waiters();
        match conn {
            Some(conn) => {
                let _ = conn.tx.send(how);
                true
            }
            None => false,
        }
    }

    /// The gateway counters now.
    pub fn gateway_stats(&self) -> GatewayStats {
        self.shared.lock().gateway.stats()
    }

    /// Wait until `check` holds for the gateway counters; panics after `timeout`.
    pub async fn wait_for_gateway(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&GatewayStats) -> bool,
    ) -> GatewayStats {
        self.wait_for(what, timeout, |st| {
            let stats = st.gateway.stats();
            check(&stats).then_some(stats)
        })
        .await
    }

    /// Wait until the bot has identified and has a live socket (READY and GUILD_CREATE are on
    /// their way); panics after `timeout`.
    pub async fn wait_until_ready(&self, timeout: Duration) -> GatewayStats {
        self.wait_for_gateway("the bot to identify", timeout, |s| {
            s.identifies > 0 && s.connected
        })
        .await
    }

    // ----- REST: what the bot did -----

    /// Every REST request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Requests to routes the fake does not implement.
    pub fn unknown_routes(&self) -> Vec<RecordedRequest> {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.unknown_route)
            .cloned()
            .collect()
    }

    /// Panics, listing them, if the bot called any route the fake does not implement.
    pub fn assert_no_unknown_routes(&self) {
        let unknown = self.unknown_routes();
        assert!(
            unknown.is_empty(),
            "the bot called routes the fake Discord does not implement:\n{}",
            unknown
                .iter()
                .map(|r| format!("  {} {}", r.method, r.path))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Every message the bot created or edited, channel messages and interaction replies alike,
    /// in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.shared.lock().posted.clone()
    }

    /// Every interaction callback, in order.
    pub fn interaction_callbacks(&self) -> Vec<InteractionCallback> {
        self.shared.lock().callbacks.clone()
    }

    /// Commands registered with `PUT …/commands`, global and guild (guild ones carry
    /// `guild_id`), as the fake echoed them.
    pub fn registered_commands(&self) -> Vec<Value> {
        self.shared.lock().commands.clone()
    }

    /// Threads the bot created.
    pub fn threads(&self) -> Vec<FakeThread> {
        self.shared.lock().threads.clone()
    }

    /// A message as Discord would return it now (any author), or `None` if unknown or deleted.
    pub fn message(&self, message_id: u64) -> Option<Value> {
        self.shared.lock().messages.get(&message_id).cloned()
    }

    /// Ids of messages the bot deleted (channel messages and interaction messages).
    pub fn deleted_messages(&self) -> Vec<u64> {
        self.shared.lock().deleted.clone()
    }

    /// Wait for the first message the bot posted that satisfies `matches` (looking at
    /// everything posted so far, then at what comes); panics after `timeout`, listing what was
    /// posted.
    pub async fn wait_for_post(
        &self,
        timeout: Duration,
        matches: impl Fn(&Posted) -> bool,
    ) -> Posted {
        self.wait_for_posts(1, timeout, matches).await.remove(0)
    }

    /// Wait until `count` posts satisfy `matches`, and return the first `count` of them.
    pub async fn wait_for_posts(
        &self,
        count: usize,
        timeout: Duration,
        matches: impl Fn(&Posted) -> bool,
    ) -> Vec<Posted> {
        self.wait_for(&format!("{count} matching post(s)"), timeout, |st| {
            let found: Vec<Posted> = st
                .posted
                .iter()
                .filter(|p| matches(p))
                .take(count)
                .cloned()
                .collect();
            (found.len() == count).then_some(found)
        })
        .await
    }

    /// Wait `during`, then panic if any post satisfies `matches` (checks the whole history).
    pub async fn assert_no_post(&self, during: Duration, matches: impl Fn(&Posted) -> bool) {
        tokio::time::sleep(during).await;
        let st = self.shared.lock();
        if let Some(p) = st.posted.iter().find(|p| matches(p)) {
            panic!("expected no such post, but the bot posted {}", p.summary());
        }
    }

    /// Wait for the first interaction callback that satisfies `matches`.
    pub async fn wait_for_callback(
        &self,
        timeout: Duration,
        matches: impl Fn(&InteractionCallback) -> bool,
    ) -> InteractionCallback {
        self.wait_for("a matching interaction callback", timeout, |st| {
            st.callbacks.iter().find(|c| matches(c)).cloned()
        })
        .await
    }

    /// Wait for the first REST request that satisfies `matches`.
    pub async fn wait_for_request(
        &self,
        timeout: Duration,
        matches: impl Fn(&RecordedRequest) -> bool,
    ) -> RecordedRequest {
        self.wait_for("a matching request", timeout, |st| {
            st.requests.iter().find(|r| matches(r)).cloned()
        })
        .await
    }

    // ----- 429 injection -----

    /// The next `count` `POST /channels/{id}/messages` get HTTP 429 with Discord's body
    /// `{"message": "You are being rate limited.", "retry_after": R, "global": false}` and the
    /// headers `Retry-After` (whole seconds, rounded up, as Discord sends it),
    /// `X-RateLimit-Limit`, `-Remaining` (0), `-Reset`, `-Reset-After` (R), `-Bucket` and
    /// `-Scope`. The request is recorded (status 429) but creates nothing.
    pub fn fail_next_posts_with_429(&self, count: u32, retry_after_secs: f64) {
        let mut st = self.shared.lock();
        st.rate_limit_remaining = count;
        st.rate_limit_retry_after = retry_after_secs;
    }

    /// How many 429s the fake has served.
    pub fn rate_limited_count(&self) -> u32 {
        self.shared.lock().rate_limited_served
    }

    // ----- waiting -----

    async fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        check: impl Fn(&StateData) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(found) = check(&self.shared.lock()) {
                return found;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                let st = self.shared.lock();
                if let Some(found) = check(&st) {
                    return found;
                }
                panic!(
                    "fake Discord: timed out after {timeout:?} waiting for {what}\n{}",
                    st.describe()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Internals: state

struct Shared {
    guild: FakeGuild,
    token: String,
    heartbeat_interval_ms: u64,
    api_url: String,
    gateway_url: String,
    state: Mutex<StateData>,
    /// Woken on every change, for the `wait_for_*` helpers.
    changed: Notify,
}

#[derive(Default)]
struct StateData {
    last_id: u64,
    gateway: Gateway,
    requests: Vec<RecordedRequest>,
    posted: Vec<Posted>,
    callbacks: Vec<InteractionCallback>,
    /// Every message the fake knows (users' and the bot's), as Discord would return it.
    messages: HashMap<u64, Value>,
    deleted: Vec<u64>,
    /// Threads and DM channels, as channel objects.
    extra_channels: HashMap<u64, Value>,
    threads: Vec<FakeThread>,
    dm_channels: HashMap<u64, u64>,
    interactions: HashMap<String, InteractionRecord>,
    commands: Vec<Value>,
    rate_limit_remaining: u32,
    rate_limit_retry_after: f64,
    rate_limited_served: u32,
}

struct InteractionRecord {
    id: u64,
    channel_id: u64,
    /// The message a component was on.
    message_id: Option<u64>,
    /// The original response message, once there is one.
    original: Option<u64>,
    responded: bool,
    /// Deferred and not yet answered: the next follow-up edits the original.
    deferred_pending: bool,
}

#[derive(Default)]
struct Gateway {
    session: Option<Session>,
    /// Dispatched before the first IDENTIFY; delivered after GUILD_CREATE.
    pending: Vec<(String, Value)>,
    connections: u32,
    identifies: u32,
    resumes: u32,
    invalid_sessions: u32,
    rejected_tokens: u32,
    heartbeats: u32,
    other_ops: Vec<u64>,
    shards: Vec<Value>,
}

struct Session {
    id: String,
    intents: u64,
    seq: u64,
    /// Every frame dispatched in this session, for RESUME.
    log: Vec<(u64, String)>,
    conn: Option<Conn>,
}

#[derive(Clone)]
struct Conn {
    id: u32,
    tx: mpsc::UnboundedSender<Outgoing>,
}

enum Outgoing {
    Frame(String),
    Close(u16),
    Abort,
}

impl Gateway {
    fn stats(&self) -> GatewayStats {
        GatewayStats {
            connections: self.connections,
            identifies: self.identifies,
            resumes: self.resumes,
            invalid_sessions: self.invalid_sessions,
            rejected_tokens: self.rejected_tokens,
            heartbeats: self.heartbeats,
            other_ops: self.other_ops.clone(),
            connected: self.session.as_ref().is_some_and(|s| s.conn.is_some()),
            intents: self.session.as_ref().map(|s| s.intents),
            shards: self.shards.clone(),
            seq: self.session.as_ref().map_or(0, |s| s.seq),
        }
    }

    /// Number, log and (if connected) send a dispatch, as the session's intents allow.
    fn dispatch(&mut self, t: &str, d: Value, bot_id: u64) {
        let Some(session) = self.session.as_mut() else {
            self.pending.push((t.to_owned(), d));
            return;
        };
        let Some(d) = filter_for_intents(t, d, session.intents, bot_id) else {
            tracing::debug!(
                "fake Discord: {t} not delivered (intents {:#x})",
                session.intents
            );
            return;
        };
        session.seq += 1;
        let frame = json!({ "op": 0, "t": t, "s": session.seq, "d": d }).to_string();
        tracing::debug!("fake Discord: dispatch {t} s={}", session.seq);
        session.log.push((session.seq, frame.clone()));
        if let Some(conn) = &session.conn {
            let _ = conn.tx.send(Outgoing::Frame(frame));
        }
    }
}

impl StateData {
    /// A new snowflake: current time in its top bits, always increasing, and never equal to the
    /// fixed ids of [`ids`] (those are from 2022).
    fn next_id(&mut self) -> u64 {
        const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let from_clock = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last_id = from_clock.max(self.last_id + 1);
        self.last_id
    }

    fn describe(&self) -> String {
        let mut out = String::from("posted so far:\n");
        for p in &self.posted {
            out += &format!("  {}\n", p.summary());
        }
        let odd: Vec<_> = self.requests.iter().filter(|r| r.status >= 400).collect();
        if !odd.is_empty() {
            out += "requests answered with an error:\n";
            for r in odd {
                out += &format!("  {} {} -> {}\n", r.method, r.path, r.status);
            }
        }
        out += &format!("gateway: {:?}\n", self.gateway.stats());
        out
    }
}

/// What Discord would (not) deliver to a session with these intents.
fn filter_for_intents(t: &str, mut d: Value, intents: u64, bot_id: u64) -> Option<Value> {
    const GUILDS: u64 = 1;
    const GUILD_MESSAGES: u64 = 1 << 9;
    const DIRECT_MESSAGES: u64 = 1 << 12;
    const MESSAGE_CONTENT: u64 = 1 << 15;
    match t {
        "GUILD_CREATE" | "THREAD_CREATE" => (intents & GUILDS != 0).then_some(d),
        "MESSAGE_CREATE" => {
            let in_guild = d.get("guild_id").is_some();
            let needed = if in_guild {
                GUILD_MESSAGES
            } else {
                DIRECT_MESSAGES
            };
            if intents & needed == 0 {
                return None;
            }
            let by_bot = value_id(&d["author"]["id"]) == Some(bot_id);
            let mentions_bot = d["mentions"]
                .as_array()
                .is_some_and(|m| m.iter().any(|u| value_id(&u["id"]) == Some(bot_id)));
            if in_guild && intents & MESSAGE_CONTENT == 0 && !by_bot && !mentions_bot {
                d["content"] = json!("");
                d["embeds"] = json!([]);
                d["attachments"] = json!([]);
                d["components"] = json!([]);
            }
            Some(d)
        }
        _ => Some(d),
    }
}

/// Checks a dispatch with serenity's own deserializer: Err if serenity would drop it.
fn validate_dispatch(t: &str, d: &Value) -> Result<(), String> {
    use serenity::model::event::{
        Event, GuildCreateEvent, InteractionCreateEvent, MessageCreateEvent, ReadyEvent,
        ThreadCreateEvent,
    };
    fn check<T: serde::de::DeserializeOwned>(d: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(d.clone())
            .map(drop)
            .map_err(|e| e.to_string())
    }
    match t {
        "READY" => check::<ReadyEvent>(d)?,
        "GUILD_CREATE" => check::<GuildCreateEvent>(d)?,
        "MESSAGE_CREATE" => check::<MessageCreateEvent>(d)?,
        "INTERACTION_CREATE" => check::<InteractionCreateEvent>(d)?,
        "THREAD_CREATE" => check::<ThreadCreateEvent>(d)?,
        _ => {}
    }
    match serde_json::from_value::<Event>(json!({ "t": t, "d": d })) {
        Ok(Event::Unknown(_)) => Err("serenity reads it as an unknown event".to_owned()),
        Ok(_) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Internals: payloads

/// An id as Discord writes it: a string.
fn sid(id: u64) -> Value {
    Value::String(id.to_string())
}

/// An id from a string or a number.
/// The ids given in channel options (type 7), also inside subcommands.
fn collect_channel_options(options: &Value, out: &mut Vec<u64>) {
    for option in options.as_array().into_iter().flatten() {
        if option["type"] == 7 {
            out.extend(value_id(&option["value"]));
        }
        collect_channel_options(&option["options"], out);
    }
}

fn value_id(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const JOINED_AT: &str = "2024-01-15T09:00:00.000Z";
/// Discord's default upload limit, sent in every interaction.
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;
const LOCALE: &str = "no";

impl Shared {
    fn new(guild: FakeGuild, options: FakeOptions, addr: SocketAddr) -> Self {
        Shared {
            guild,
            token: options.token,
            heartbeat_interval_ms: options.heartbeat_interval.as_millis() as u64,
            api_url: format!("http://{addr}"),
            gateway_url: format!("ws://{addr}/gateway"),
            state: Mutex::new(StateData::default()),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, StateData> {
        // A panic in one request handler must not wedge the whole test.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Validate (panicking in the caller if serenity would drop it) and dispatch.
    fn dispatch_locked(&self, st: &mut StateData, t: &str, d: Value) {
        if let Err(why) = validate_dispatch(t, &d) {
            panic!("fake Discord: serenity would silently drop this {t}: {why}\npayload: {d:#}");
        }
        st.gateway.dispatch(t, d, self.guild.bot_user_id);
    }

    fn user_json(&self, user_id: u64) -> Value {
        let (name, bot) = self.guild.name_and_bot_flag(user_id);
        json!({
            "id": sid(user_id), "username": name, "discriminator": "0", "global_name": null,
            "avatar": null, "bot": bot, "public_flags": 0,
        })
    }

    fn member_json(&self, user_id: u64, with_user: bool, with_permissions: bool) -> Value {
        let mut member = json!({
            "roles": self.guild.role_ids_of(user_id).into_iter().map(sid).collect::<Vec<_>>(),
            "nick": null, "avatar": null, "joined_at": JOINED_AT, "premium_since": null,
            "deaf": false, "mute": false, "flags": 0, "pending": false,
            "communication_disabled_until": null,
        });
        if with_user {
            member["user"] = self.user_json(user_id);
        }
        if with_permissions {
            member["permissions"] = json!(self.guild.permissions_of(user_id).bits().to_string());
        }
        member
    }

    fn role_json(&self, position: usize, role: &FakeRole) -> Value {
        json!({
            "id": sid(role.id), "name": role.name, "color": 0,
            "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
            "hoist": false, "icon": null, "unicode_emoji": null, "position": position,
            "permissions": role.permissions.bits().to_string(), "managed": false,
            "mentionable": false, "flags": 0,
        })
    }

    fn guild_channel_json(&self, position: usize, channel: &FakeChannel) -> Value {
        json!({
            "id": sid(channel.id), "type": 0, "guild_id": sid(self.guild.id), "name": channel.name,
            "position": position, "permission_overwrites": [], "parent_id": null, "topic": null,
            "nsfw": false, "last_message_id": null, "rate_limit_per_user": 0, "flags": 0,
        })
    }

    fn current_user_json(&self) -> Value {
        json!({
            "id": sid(self.guild.bot_user_id), "username": self.guild.bot_name,
            "discriminator": "0", "global_name": null, "avatar": null, "bot": true,
            "verified": true, "mfa_enabled": true, "flags": 0, "public_flags": 0,
        })
    }

    fn ready_json(&self, session_id: &str) -> Value {
        json!({
            "v": 10,
            "user": self.current_user_json(),
            "guilds": [{ "id": sid(self.guild.id), "unavailable": true }],
            "session_id": session_id,
            "resume_gateway_url": self.gateway_url,
            "shard": [0, 1],
            "application": { "id": sid(self.guild.application_id), "flags": 0 },
            "private_channels": [], "relationships": [], "presences": [],
            "geo_ordered_rtc_regions": [], "guild_join_requests": [],
        })
    }

    fn guild_create_json(&self, threads: &[Value]) -> Value {
        let g = &self.guild;
        let mut members = vec![self.member_json(g.bot_user_id, true, false)];
        members.extend(
            g.members
                .iter()
                .map(|m| self.member_json(m.user_id, true, false)),
        );
        json!({
            "id": sid(g.id), "name": g.name, "icon": null, "splash": null,
            "discovery_splash": null, "owner_id": sid(g.owner_id), "afk_channel_id": null,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 1,
            "explicit_content_filter": 0, "features": [], "mfa_level": 0,
            "application_id": null, "system_channel_id": null, "system_channel_flags": 0,
            "rules_channel_id": null, "vanity_url_code": null, "description": null,
            "banner": null, "premium_tier": 0, "premium_subscription_count": 0,
            "preferred_locale": LOCALE, "public_updates_channel_id": null, "nsfw_level": 0,
            "premium_progress_bar_enabled": false, "max_members": 500_000,
            "joined_at": JOINED_AT, "large": false, "unavailable": false,
            "member_count": members.len(),
            "roles": g.roles.iter().enumerate().map(|(i, r)| self.role_json(i, r)).collect::<Vec<_>>(),
            "channels": g.channels.iter().enumerate().map(|(i, c)| self.guild_channel_json(i, c)).collect::<Vec<_>>(),
            "members": members,
            "threads": threads,
            "emojis": [], "stickers": [], "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [],
        })
    }

    /// The channel object for any channel the fake knows.
    fn channel_json(&self, st: &StateData, channel_id: u64) -> Option<Value> {
        if let Some((i, c)) = self
            .guild
            .channels
            .iter()
            .enumerate()
            .find(|(_, c)| c.id == channel_id)
        {
            return Some(self.guild_channel_json(i, c));
        }
        st.extra_channels.get(&channel_id).cloned()
    }

    /// `Some(guild id)` for guild channels and threads, `None` for DMs and unknown channels.
    fn guild_of_channel(&self, st: &StateData, channel_id: u64) -> Option<u64> {
        if self.guild.channels.iter().any(|c| c.id == channel_id) {
            return Some(self.guild.id);
        }
        st.extra_channels
            .get(&channel_id)
            .and_then(|c| value_id(&c["guild_id"]))
    }

    fn dm_channel(&self, st: &mut StateData, user_id: u64) -> u64 {
        if let Some(&id) = st.dm_channels.get(&user_id) {
            return id;
        }
        let id = st.next_id();
        st.dm_channels.insert(user_id, id);
        let channel = json!({
            "id": sid(id), "type": 1, "last_message_id": null, "flags": 0,
            "recipients": [self.user_json(user_id)],
        });
        st.extra_channels.insert(id, channel);
        id
    }

    fn user_message_json(&self, st: &StateData, id: u64, m: &UserMessage) -> Value {
        assert!(
            self.channel_json(st, m.channel_id).is_some(),
            "fake Discord: channel {} is unknown (use a guild channel, a thread the bot created, or dm_channel_id)",
            m.channel_id
        );
        let guild_id = self.guild_of_channel(st, m.channel_id);
        let bot = self.guild.bot_user_id;
        let mention = |user_id: u64| {
            let mut user = self.user_json(user_id);
            if guild_id.is_some() {
                user["member"] = self.member_json(user_id, false, false);
            }
            user
        };
        let mut content = m.content.clone();
        let mut mentions = Vec::new();
        if m.mention_bot {
            let tag = format!("<@{bot}>");
            if !content.contains(&tag) {
                content = format!("{tag} {content}");
            }
            mentions.push(mention(bot));
        }
        let mut message = json!({
            "id": sid(id), "channel_id": sid(m.channel_id), "author": self.user_json(m.author_id),
            "content": content, "timestamp": now_iso(), "edited_timestamp": null, "tts": false,
            "mention_everyone": false, "mention_roles": [], "attachments": [], "embeds": [],
            "components": [], "pinned": false, "type": 0, "flags": 0,
        });
        if let Some(reply_to) = m.reply_to {
            let referenced = st.messages.get(&reply_to).cloned();
            if let Some(author) = referenced
                .as_ref()
                .and_then(|r| value_id(&r["author"]["id"]))
            {
                if !(m.mention_bot && author == bot) {
                    mentions.push(mention(author));
                }
            }
            message["type"] = json!(19);
            message["message_reference"] = json!({
                "type": 0, "message_id": sid(reply_to), "channel_id": sid(m.channel_id),
                "guild_id": guild_id.map(sid),
            });
            message["referenced_message"] = referenced.unwrap_or(Value::Null);
        }
        message["mentions"] = Value::Array(mentions);
        if let Some(guild_id) = guild_id {
            message["guild_id"] = sid(guild_id);
            message["member"] = self.member_json(m.author_id, false, false);
        }
        message
    }

    /// The message object for something the bot posts (in a channel or via an interaction).
    fn bot_message_json(
        &self,
        st: &mut StateData,
        id: u64,
        channel_id: u64,
        body: &Value,
        files: &[PostedFile],
        via_interaction: bool,
    ) -> Value {
        let guild_id = self.guild_of_channel(st, channel_id);
        let attachments = self.attachments_json(st, channel_id, files);
        let mut message = json!({
            "id": sid(id), "channel_id": sid(channel_id),
            "author": self.user_json(self.guild.bot_user_id),
            "content": body["content"].as_str().unwrap_or(""),
            "timestamp": now_iso(), "edited_timestamp": null, "tts": body["tts"].as_bool().unwrap_or(false),
            "mention_everyone": false, "mentions": [], "mention_roles": [],
            "attachments": attachments,
            "embeds": body.get("embeds").filter(|v| v.is_array()).cloned().unwrap_or(json!([])),
            "components": body.get("components").filter(|v| v.is_array()).cloned().unwrap_or(json!([])),
            "pinned": false, "type": 0, "flags": body["flags"].as_u64().unwrap_or(0),
        });
        if let Some(reference) = body.get("message_reference").filter(|v| v.is_object()) {
            let referenced =
                value_id(&reference["message_id"]).and_then(|m| st.messages.get(&m).cloned());
            message["type"] = json!(19);
            message["message_reference"] = reference.clone();
            message["referenced_message"] = referenced.unwrap_or(Value::Null);
        }
        if via_interaction {
            message["webhook_id"] = sid(self.guild.application_id);
            message["application_id"] = sid(self.guild.application_id);
        }
        if let Some(guild_id) = guild_id {
            message["guild_id"] = sid(guild_id);
            message["member"] = self.member_json(self.guild.bot_user_id, false, false);
        }
        message
    }

    fn attachments_json(
        &self,
        st: &mut StateData,
        channel_id: u64,
        files: &[PostedFile],
    ) -> Vec<Value> {
        files
            .iter()
            .map(|f| {
                let id = st.next_id();
                let url = format!(
                    "{}/attachments/{channel_id}/{id}/{}",
                    self.api_url, f.filename
                );
                json!({
                    "id": sid(id), "filename": f.filename, "size": f.data.len(), "url": url,
                    "proxy_url": url, "content_type": f.content_type,
                })
            })
            .collect()
    }

    /// An INTERACTION_CREATE `d` of this type from this user in this channel.
    fn interaction_json(
        &self,
        st: &mut StateData,
        kind: u8,
        user_id: u64,
        channel_id: u64,
        data: Value,
        message: Option<Value>,
    ) -> Value {
        let channel = self.channel_json(st, channel_id).unwrap_or_else(|| {
            panic!("fake Discord: channel {channel_id} is unknown (use a guild channel, a thread the bot created, or dm_channel_id)")
        });
        let id = st.next_id();
        let bot_permissions = self
            .guild
            .permissions_of(self.guild.bot_user_id)
            .bits()
            .to_string();
        let mut partial_channel = json!({
            "id": sid(channel_id), "type": channel["type"], "name": channel["name"],
        });
        if !channel["parent_id"].is_null() {
            partial_channel["parent_id"] = channel["parent_id"].clone();
        }
        let mut raw = json!({
            "id": sid(id), "application_id": sid(self.guild.application_id), "type": kind,
            "data": data, "channel_id": sid(channel_id), "channel": partial_channel,
            "token": format!("fake-interaction-token-{id}"), "version": 1,
            "app_permissions": bot_permissions, "locale": LOCALE, "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        });
        if let Some(guild_id) = self.guild_of_channel(st, channel_id) {
            raw["guild_id"] = sid(guild_id);
            raw["guild_locale"] = json!(LOCALE);
            raw["member"] = self.member_json(user_id, true, true);
            raw["context"] = json!(0);
            raw["authorizing_integration_owners"] = json!({ "0": sid(guild_id) });
        } else {
            raw["user"] = self.user_json(user_id);
            raw["context"] = json!(1);
            raw["authorizing_integration_owners"] = json!({ "0": sid(self.guild.id) });
        }
        if let Some(message) = message {
            raw["message"] = message;
        }
        raw
    }

    fn thread_json(&self, id: u64, parent_id: u64, name: &str, kind: u64, body: &Value) -> Value {
        let now = now_iso();
        json!({
            "id": sid(id), "type": kind, "guild_id": sid(self.guild.id), "parent_id": sid(parent_id),
            "owner_id": sid(self.guild.bot_user_id), "name": name, "last_message_id": null,
            "rate_limit_per_user": body["rate_limit_per_user"].as_u64().unwrap_or(0),
            "message_count": 0, "member_count": 1, "total_message_sent": 0, "flags": 0,
            "thread_metadata": {
                "archived": false,
                "auto_archive_duration": body["auto_archive_duration"].as_u64().unwrap_or(4320),
                "archive_timestamp": now, "locked": false, "create_timestamp": now,
            },
        })
    }
}

fn posted_from_message(
    source: PostSource,
    message: &Value,
    interaction_id: Option<u64>,
    body: &Value,
    files: &[PostedFile],
) -> Posted {
    let array = |key: &str| message[key].as_array().cloned().unwrap_or_default();
    let present = |v: &Value| (!v.is_null()).then(|| v.clone());
    Posted {
        source,
        channel_id: value_id(&message["channel_id"]).unwrap_or(0),
        message_id: value_id(&message["id"]).unwrap_or(0),
        interaction_id,
        content: message["content"].as_str().unwrap_or("").to_owned(),
        embeds: array("embeds"),
        components: array("components"),
        allowed_mentions: present(&body["allowed_mentions"]),
        message_reference: present(&message["message_reference"]),
        flags: message["flags"].as_u64().unwrap_or(0),
        attachments: files.to_vec(),
        body: body.clone(),
    }
}

/// Apply an edit (PATCH body) to a stored message.
fn apply_edit(
    shared: &Shared,
    st: &mut StateData,
    message: &mut Value,
    body: &Value,
    files: &[PostedFile],
) {
    if let Some(content) = body.get("content") {
        message["content"] = json!(content.as_str().unwrap_or(""));
    }
    if let Some(flags) = body.get("flags") {
        message["flags"] = json!(flags.as_u64().unwrap_or(0));
    }
    for key in ["embeds", "components"] {
        if let Some(list) = body.get(key) {
            message[key] = if list.is_array() {
                list.clone()
            } else {
                json!([])
            };
        }
    }
    if !files.is_empty() {
        let channel_id = value_id(&message["channel_id"]).unwrap_or(0);
        message["attachments"] = json!(shared.attachments_json(st, channel_id, files));
    } else if body
        .get("attachments")
        .is_some_and(|a| a.as_array().is_some_and(Vec::is_empty))
    {
        message["attachments"] = json!([]);
    }
    message["edited_timestamp"] = json!(now_iso());
}

// ---------------------------------------------------------------------------------------------
// Internals: the gateway socket

async fn gateway_upgrade(
    AxumState(shared): AxumState<Arc<Shared>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| run_gateway_connection(shared, socket))
}

async fn run_gateway_connection(shared: Arc<Shared>, mut socket: WebSocket) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conn = {
        let mut st = shared.lock();
        st.gateway.connections += 1;
        Conn {
            id: st.gateway.connections,
            tx,
        }
    };
    shared.changed.notify_waiters();
    tracing::debug!("fake Discord: gateway connection {}", conn.id);

    let hello = json!({ "op": 10, "s": null, "t": null, "d": { "heartbeat_interval": shared.heartbeat_interval_ms } });
    if socket
        .send(WsMessage::Text(hello.to_string().into()))
        .await
        .is_ok()
    {
        loop {
            tokio::select! {
                out = rx.recv() => match out {
                    Some(Outgoing::Frame(frame)) => {
                        if socket.send(WsMessage::Text(frame.into())).await.is_err() {
                            break;
                        }
                    }
                    Some(Outgoing::Close(code)) => {
                        let frame = CloseFrame { code, reason: "closed by the fake Discord".into() };
                        let _ = socket.send(WsMessage::Close(Some(frame))).await;
                        break;
                    }
                    // Dropping the socket closes TCP without a close frame.
                    Some(Outgoing::Abort) | None => break,
                },
                incoming = socket.recv() => match incoming {
                    Some(Ok(WsMessage::Text(text))) => shared.on_gateway_frame(&conn, text.as_str()),
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => {}
                },
            }
        }
    }

    tracing::debug!("fake Discord: gateway connection {} ended", conn.id);
    let mut st = shared.lock();
    if let Some(session) = st.gateway.session.as_mut() {
        if session.conn.as_ref().is_some_and(|c| c.id == conn.id) {
            session.conn = None;
        }
    }
    drop(st);
    shared.changed.notify_waiters();
}

impl Shared {
    fn on_gateway_frame(&self, conn: &Conn, text: &str) {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            tracing::warn!("fake Discord: unparsable gateway frame {text:?}");
            return;
        };
        let op = frame["op"].as_u64().unwrap_or(u64::MAX);
        let d = &frame["d"];
        match op {
            1 => {
                self.lock().gateway.heartbeats += 1;
                let _ = conn
                    .tx
                    .send(Outgoing::Frame(json!({ "op": 11 }).to_string()));
            }
            2 => self.identify(conn, d),
            6 => self.resume(conn, d),
            other => {
                tracing::debug!("fake Discord: ignoring gateway op {other}");
                self.lock().gateway.other_ops.push(other);
            }
        }
        self.changed.notify_waiters();
    }

    fn token_ok(&self, conn: &Conn, d: &Value) -> bool {
        let expected = format!("Bot {}", self.token);
        if d["token"].as_str() == Some(expected.as_str()) {
            return true;
        }
        tracing::warn!("fake Discord: wrong token in IDENTIFY/RESUME; closing with 4004");
        self.lock().gateway.rejected_tokens += 1;
        let _ = conn.tx.send(Outgoing::Close(4004));
        false
    }

    fn identify(&self, conn: &Conn, d: &Value) {
        if !self.token_ok(conn, d) {
            return;
        }
        let intents = d["intents"].as_u64().unwrap_or(0);
        let mut st = self.lock();
        st.gateway.identifies += 1;
        st.gateway.shards.push(d["shard"].clone());
        let session_id = format!("fake-session-{}", st.gateway.identifies);
        let mut ready = self.ready_json(&session_id);
        if d["shard"].is_array() {
            // Tell the bot the shard it asked for, as Discord does.
            ready["shard"] = d["shard"].clone();
        }
        let threads: Vec<Value> = st
            .threads
            .iter()
            .filter_map(|t| st.extra_channels.get(&t.id).cloned())
            .collect();
        let guild_create = self.guild_create_json(&threads);
        st.gateway.session = Some(Session {
            id: session_id,
            intents,
            seq: 0,
            log: Vec::new(),
            conn: Some(conn.clone()),
        });
        let bot = self.guild.bot_user_id;
        st.gateway.dispatch("READY", ready, bot);
        st.gateway.dispatch("GUILD_CREATE", guild_create, bot);
        for (t, d) in std::mem::take(&mut st.gateway.pending) {
            st.gateway.dispatch(&t, d, bot);
        }
    }

    fn resume(&self, conn: &Conn, d: &Value) {
        if !self.token_ok(conn, d) {
            return;
        }
        let seq = d["seq"].as_u64().unwrap_or(0);
        let mut st = self.lock();
        let gateway = &mut st.gateway;
        match gateway.session.as_mut() {
            Some(session) if Some(session.id.as_str()) == d["session_id"].as_str() => {
                for (_, frame) in session.log.iter().filter(|(n, _)| *n > seq) {
                    let _ = conn.tx.send(Outgoing::Frame(frame.clone()));
                }
                session.seq += 1;
                let resumed =
                    json!({ "op": 0, "t": "RESUMED", "s": session.seq, "d": {} }).to_string();
                session.log.push((session.seq, resumed.clone()));
                let _ = conn.tx.send(Outgoing::Frame(resumed));
                session.conn = Some(conn.clone());
                gateway.resumes += 1;
                tracing::debug!("fake Discord: resumed from seq {seq}");
            }
            _ => {
                gateway.invalid_sessions += 1;
                let _ = conn
                    .tx
                    .send(Outgoing::Frame(json!({ "op": 9, "d": false }).to_string()));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Internals: REST

struct Reply {
    status: StatusCode,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    unknown_route: bool,
}

impl Reply {
    fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            headers: Vec::new(),
            unknown_route: false,
        }
    }
    fn created(body: Value) -> Self {
        Reply {
            status: StatusCode::CREATED,
            ..Self::ok(body)
        }
    }
    fn no_content() -> Self {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            headers: Vec::new(),
            unknown_route: false,
        }
    }
    fn error(status: StatusCode, message: &str, code: u64) -> Self {
        Reply {
            status,
            ..Self::ok(json!({ "message": message, "code": code }))
        }
    }
    fn unknown_route() -> Self {
        Reply {
            unknown_route: true,
            ..Self::error(StatusCode::NOT_FOUND, "Unknown route", 0)
        }
    }
    fn unknown_channel() -> Self {
        Self::error(StatusCode::NOT_FOUND, "Unknown Channel", 10003)
    }
    fn unknown_message() -> Self {
        Self::error(StatusCode::NOT_FOUND, "Unknown Message", 10008)
    }
    fn bad_id() -> Self {
        Self::error(StatusCode::BAD_REQUEST, "Invalid Form Body", 50035)
    }
}

async fn rest_request(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let (json_body, files) = parse_body(&headers, &body);
    // As on Discord, `GET /gateway` needs no token (and if it failed, serenity would quietly
    // fall back to the real gateway).
    let auth_ok = path == "/api/v10/gateway"
        || headers
            .get("authorization")
            .is_none_or(|v| v.to_str().ok() == Some(format!("Bot {}", shared.token).as_str()));

    let reply = if !auth_ok {
        Reply::error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0)
    } else if let Some(route) = path.strip_prefix("/api/v10/") {
        let segments: Vec<&str> = route.trim_end_matches('/').split('/').collect();
        let mut st = shared.lock();
        shared.route(&mut st, &method, &segments, &json_body, &files)
    } else {
        Reply::unknown_route()
    };

    tracing::debug!("fake Discord: {method} {path} -> {}", reply.status);
    shared.lock().requests.push(RecordedRequest {
        method: method.to_string(),
        path,
        query: uri.query().map(str::to_owned),
        body: json_body,
        files,
        status: reply.status.as_u16(),
        unknown_route: reply.unknown_route,
    });
    shared.changed.notify_waiters();

    let mut response = match reply.body {
        Some(body) => (reply.status, axum::Json(body)).into_response(),
        None => reply.status.into_response(),
    };
    for (name, value) in reply.headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

impl Shared {
    fn route(
        &self,
        st: &mut StateData,
        method: &Method,
        seg: &[&str],
        body: &Value,
        files: &[PostedFile],
    ) -> Reply {
        let id = |s: &str| s.parse::<u64>().ok();
        // Commands and interaction webhooks live under the application id, which is not the bot's
        // user id: catch code that mixes them up.
        if let ["applications" | "webhooks", app, ..] = seg {
            if id(app) != Some(self.guild.application_id) {
                return match seg[0] {
                    "webhooks" => Reply::error(StatusCode::NOT_FOUND, "Unknown Webhook", 10015),
                    _ => Reply::error(StatusCode::NOT_FOUND, "Unknown Application", 10002),
                };
            }
        }
        match (method.as_str(), seg) {
            ("GET", ["gateway"]) => Reply::ok(json!({ "url": self.gateway_url })),
            ("GET", ["gateway", "bot"]) => Reply::ok(json!({
                "url": self.gateway_url, "shards": 1,
                "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1 },
            })),
            ("GET", ["users", "@me"]) => Reply::ok(self.current_user_json()),
            ("POST", ["users", "@me", "channels"]) => match value_id(&body["recipient_id"]) {
                Some(user_id) => {
                    let channel_id = self.dm_channel(st, user_id);
                    Reply::ok(st.extra_channels[&channel_id].clone())
                }
                None => Reply::bad_id(),
            },
            ("GET", ["oauth2", "applications", "@me"]) => Reply::ok(json!({
                "id": sid(self.guild.application_id), "name": self.guild.bot_name, "icon": null,
                "description": "", "rpc_origins": [], "bot_public": false,
                "bot_require_code_grant": false, "verify_key": "0".repeat(64),
                "owner": self.user_json(self.guild.owner_id), "team": null, "flags": 0,
                "integration_types_config": {}, "bot": self.current_user_json(),
            })),
            ("PUT", ["applications", _app, "commands"]) => self.put_commands(st, None, body),
            ("GET", ["applications", _app, "commands"]) => Reply::ok(json!(st
                .commands
                .iter()
                .filter(|c| c["guild_id"].is_null())
                .cloned()
                .collect::<Vec<_>>())),
            ("PUT", ["applications", _app, "guilds", guild, "commands"]) => match id(guild) {
                Some(guild_id) => self.put_commands(st, Some(guild_id), body),
                None => Reply::bad_id(),
            },
            ("GET", ["applications", _app, "guilds", guild, "commands"]) => {
                let guild = Value::String((*guild).to_owned());
                Reply::ok(json!(st
                    .commands
                    .iter()
                    .filter(|c| c["guild_id"] == guild)
                    .cloned()
                    .collect::<Vec<_>>()))
            }
            ("POST", ["interactions", interaction, token, "callback"]) => {
                self.interaction_callback(st, id(interaction), token, body, files)
            }
            (_, ["webhooks", _app, token, "messages", message]) => {
                self.webhook_message(st, method, token, message, body, files)
            }
            ("POST", ["webhooks", _app, token]) => self.followup(st, token, body, files),
            ("GET", ["channels", channel]) => {
                match id(channel).and_then(|c| self.channel_json(st, c)) {
                    Some(channel) => Reply::ok(channel),
                    None => Reply::unknown_channel(),
                }
            }
            ("POST", ["channels", channel, "messages"]) => match id(channel) {
                Some(channel_id) => self.create_message(st, channel_id, body, files),
                None => Reply::bad_id(),
            },
            (_, ["channels", channel, "messages", message]) => match (id(channel), id(message)) {
                (Some(channel_id), Some(message_id)) => {
                    self.channel_message(st, method, channel_id, message_id, body, files)
                }
                _ => Reply::bad_id(),
            },
            ("POST", ["channels", channel, "messages", message, "threads"]) => {
                match (id(channel), id(message)) {
                    (Some(channel_id), Some(message_id)) => {
                        self.create_thread(st, channel_id, Some(message_id), body)
                    }
                    _ => Reply::bad_id(),
                }
            }
            ("POST", ["channels", channel, "threads"]) => match id(channel) {
                Some(channel_id) => self.create_thread(st, channel_id, None, body),
                None => Reply::bad_id(),
            },
            ("POST", ["channels", channel, "typing"]) => {
                match id(channel).and_then(|c| self.channel_json(st, c)) {
                    Some(_) => Reply::no_content(),
                    None => Reply::unknown_channel(),
                }
            }
            ("PUT", ["channels", _channel, "messages", message, "reactions", _emoji, "@me"]) => {
                match id(message).filter(|m| st.messages.contains_key(m)) {
                    Some(_) => Reply::no_content(),
                    None => Reply::unknown_message(),
                }
            }
            ("GET", ["guilds", guild, "members", user]) => match (id(guild), id(user)) {
                (Some(g), _) if g != self.guild.id => {
                    Reply::error(StatusCode::NOT_FOUND, "Unknown Guild", 10004)
                }
                (Some(_), Some(u)) if self.guild.is_member(u) => {
                    Reply::ok(self.member_json(u, true, false))
                }
                (Some(_), Some(_)) => Reply::error(StatusCode::NOT_FOUND, "Unknown Member", 10007),
                _ => Reply::bad_id(),
            },
            ("GET", ["guilds", guild, "roles"]) => match id(guild) {
                Some(g) if g == self.guild.id => Reply::ok(json!(self
                    .guild
                    .roles
                    .iter()
                    .enumerate()
                    .map(|(i, r)| self.role_json(i, r))
                    .collect::<Vec<_>>())),
                Some(_) => Reply::error(StatusCode::NOT_FOUND, "Unknown Guild", 10004),
                None => Reply::bad_id(),
            },
            _ => Reply::unknown_route(),
        }
    }

    fn put_commands(&self, st: &mut StateData, guild_id: Option<u64>, body: &Value) -> Reply {
        let Some(commands) = body.as_array() else {
            return Reply::bad_id();
        };
        let scope = guild_id.map_or(Value::Null, sid);
        let mut echoed = Vec::new();
        for command in commands {
            let name = command["name"].clone();
            let existing = st
                .commands
                .iter()
                .find(|c| c["name"] == name && c["guild_id"] == scope);
            let command_id = existing
                .and_then(|c| value_id(&c["id"]))
                .unwrap_or_else(|| st.next_id());
            let mut out = command.as_object().cloned().unwrap_or_default();
            let defaults: [(&str, Value); 6] = [
                ("type", json!(1)),
                ("description", json!("")),
                ("options", json!([])),
                ("default_member_permissions", Value::Null),
                ("nsfw", json!(false)),
                ("contexts", Value::Null),
            ];
            for (key, value) in defaults {
                out.entry(key).or_insert(value);
            }
            out.insert("id".to_owned(), sid(command_id));
            out.insert("application_id".to_owned(), sid(self.guild.application_id));
            out.insert("version".to_owned(), sid(st.next_id()));
            out.insert("guild_id".to_owned(), scope.clone());
            echoed.push(Value::Object(out));
        }
        st.commands.retain(|c| c["guild_id"] != scope);
        st.commands.extend(echoed.iter().cloned());
        Reply::ok(Value::Array(echoed))
    }

    fn create_message(
        &self,
        st: &mut StateData,
        channel_id: u64,
        body: &Value,
        files: &[PostedFile],
    ) -> Reply {
        if st.rate_limit_remaining > 0 {
            st.rate_limit_remaining -= 1;
            st.rate_limited_served += 1;
            return rate_limited(st.rate_limit_retry_after);
        }
        if self.channel_json(st, channel_id).is_none() {
            return Reply::unknown_channel();
        }
        let id = st.next_id();
        let message = self.bot_message_json(st, id, channel_id, body, files, false);
        st.messages.insert(id, message.clone());
        st.posted.push(posted_from_message(
            PostSource::ChannelMessage,
            &message,
            None,
            body,
            files,
        ));
        Reply::ok(message)
    }

    fn channel_message(
        &self,
        st: &mut StateData,
        method: &Method,
        channel_id: u64,
        message_id: u64,
        body: &Value,
        files: &[PostedFile],
    ) -> Reply {
        let Some(mut message) = st.messages.get(&message_id).cloned() else {
            return Reply::unknown_message();
        };
        if value_id(&message["channel_id"]) != Some(channel_id) {
            return Reply::unknown_message();
        }
        match method.as_str() {
            "GET" => Reply::ok(message),
            "PATCH" => {
                apply_edit(self, st, &mut message, body, files);
                st.messages.insert(message_id, message.clone());
                st.posted.push(posted_from_message(
                    PostSource::ChannelMessageEdit,
                    &message,
                    None,
                    body,
                    files,
                ));
                Reply::ok(message)
            }
            "DELETE" => {
                st.messages.remove(&message_id);
                st.deleted.push(message_id);
                Reply::no_content()
            }
            _ => Reply::unknown_route(),
        }
    }

    fn create_thread(
        &self,
        st: &mut StateData,
        channel_id: u64,
        from_message: Option<u64>,
        body: &Value,
    ) -> Reply {
        if !self.guild.channels.iter().any(|c| c.id == channel_id) {
            return Reply::unknown_channel();
        }
        let thread_id = match from_message {
            Some(message_id) => {
                let in_this_channel = st
                    .messages
                    .get(&message_id)
                    .is_some_and(|m| value_id(&m["channel_id"]) == Some(channel_id));
                if !in_this_channel {
                    return Reply::unknown_message();
                }
                if st.extra_channels.contains_key(&message_id) {
                    return Reply::error(
                        StatusCode::BAD_REQUEST,
                        "A thread has already been created for this message",
                        160004,
                    );
                }
                message_id
            }
            None => st.next_id(),
        };
        let name = body["name"].as_str().unwrap_or("thread").to_owned();
        // 11 public thread; a thread not started from a message may ask for 12 (private).
        let kind = if from_message.is_some() {
            11
        } else {
            body["type"].as_u64().unwrap_or(11)
        };
        let thread = self.thread_json(thread_id, channel_id, &name, kind, body);
        st.extra_channels.insert(thread_id, thread.clone());
        st.threads.push(FakeThread {
            id: thread_id,
            parent_id: channel_id,
            name,
            from_message,
        });
        if let Some(message) = from_message.and_then(|m| st.messages.get_mut(&m)) {
            message["thread"] = thread.clone();
        }
        let mut event = thread.clone();
        event["newly_created"] = json!(true);
        self.dispatch_locked(st, "THREAD_CREATE", event);
        Reply::created(thread)
    }

    fn interaction_callback(
        &self,
        st: &mut StateData,
        interaction_id: Option<u64>,
        token: &str,
        body: &Value,
        files: &[PostedFile],
    ) -> Reply {
        let unknown = || Reply::error(StatusCode::NOT_FOUND, "Unknown interaction", 10062);
        let Some(record) = st.interactions.get(token) else {
            return unknown();
        };
        if Some(record.id) != interaction_id {
            return unknown();
        }
        if record.responded {
            return Reply::error(
                StatusCode::BAD_REQUEST,
                "Interaction has already been acknowledged.",
                40060,
            );
        }
        let (channel_id, component_message) = (record.channel_id, record.message_id);
        let kind = body["type"].as_u64().unwrap_or(0);
        let data = body["data"].clone();
        st.callbacks.push(InteractionCallback {
            interaction_id: record.id,
            token: token.to_owned(),
            kind,
            data: data.clone(),
            files: files.to_vec(),
        });
        let interaction_id = record.id;
        let mut original = None;
        let mut deferred = false;
        match kind {
            callback_type::MESSAGE | callback_type::DEFERRED_MESSAGE => {
                let id = st.next_id();
                let message = self.bot_message_json(st, id, channel_id, &data, files, true);
                st.messages.insert(id, message.clone());
                if kind == callback_type::MESSAGE {
                    st.posted.push(posted_from_message(
                        PostSource::InteractionResponse,
                        &message,
                        Some(interaction_id),
                        &data,
                        files,
                    ));
                } else {
                    deferred = true;
                }
                original = Some(id);
            }
            callback_type::UPDATE_MESSAGE => {
                if let Some(message_id) = component_message {
                    if let Some(mut message) = st.messages.get(&message_id).cloned() {
                        apply_edit(self, st, &mut message, &data, files);
                        st.messages.insert(message_id, message.clone());
                        st.posted.push(posted_from_message(
                            PostSource::InteractionUpdate,
                            &message,
                            Some(interaction_id),
                            &data,
                            files,
                        ));
                    }
                }
                original = component_message;
            }
            callback_type::DEFERRED_UPDATE => original = component_message,
            _ => {}
        }
        let record = st.interactions.get_mut(token).expect("checked above");
        record.responded = true;
        record.deferred_pending = deferred;
        record.original = original;
        Reply::no_content()
    }

    fn webhook_message(
        &self,
        st: &mut StateData,
        method: &Method,
        token: &str,
        message: &str,
        body: &Value,
        files: &[PostedFile],
    ) -> Reply {
        let Some(record) = st.interactions.get(token) else {
            return Reply::error(StatusCode::NOT_FOUND, "Unknown Webhook", 10015);
        };
        let is_original = message == "@original";
        let message_id = if is_original {
            record.original
        } else {
            message.parse().ok()
        };
        let interaction_id = record.id;
        let Some(message_id) = message_id else {
            return Reply::unknown_message();
        };
        let Some(mut stored) = st.messages.get(&message_id).cloned() else {
            return Reply::unknown_message();
        };
        match method.as_str() {
            "GET" => Reply::ok(stored),
            "PATCH" => {
                apply_edit(self, st, &mut stored, body, files);
                st.messages.insert(message_id, stored.clone());
                let source = if is_original {
                    PostSource::InteractionOriginalEdit
                } else {
                    PostSource::FollowupEdit
                };
                st.posted.push(posted_from_message(
                    source,
                    &stored,
                    Some(interaction_id),
                    body,
                    files,
                ));
                if is_original {
                    if let Some(record) = st.interactions.get_mut(token) {
                        record.deferred_pending = false;
                    }
                }
                Reply::ok(stored)
            }
            "DELETE" => {
                st.messages.remove(&message_id);
                st.deleted.push(message_id);
                Reply::no_content()
            }
            _ => Reply::unknown_route(),
        }
    }

    fn followup(
        &self,
        st: &mut StateData,
        token: &str,
        body: &Value,
        files: &[PostedFile],
    ) -> Reply {
        // Discord only creates the interaction's webhook once the interaction is answered.
        let Some(record) = st.interactions.get(token).filter(|r| r.responded) else {
            return Reply::error(StatusCode::NOT_FOUND, "Unknown Webhook", 10015);
        };
        let (interaction_id, channel_id) = (record.id, record.channel_id);
        let deferred_original = record.original.filter(|_| record.deferred_pending);
        let message = match deferred_original {
            Some(original_id) => {
                let mut message = st
                    .messages
                    .get(&original_id)
                    .cloned()
                    .unwrap_or(Value::Null);
                apply_edit(self, st, &mut message, body, files);
                st.interactions
                    .get_mut(token)
                    .expect("checked above")
                    .deferred_pending = false;
                message
            }
            None => {
                let id = st.next_id();
                self.bot_message_json(st, id, channel_id, body, files, true)
            }
        };
        let message_id = value_id(&message["id"]).unwrap_or(0);
        st.messages.insert(message_id, message.clone());
        st.posted.push(posted_from_message(
            PostSource::Followup,
            &message,
            Some(interaction_id),
            body,
            files,
        ));
        Reply::ok(message)
    }
}

fn rate_limited(retry_after: f64) -> Reply {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
        + retry_after;
    Reply {
        status: StatusCode::TOO_MANY_REQUESTS,
        body: Some(
            json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": false }),
        ),
        headers: vec![
            ("retry-after", format!("{}", retry_after.ceil() as u64)),
            ("x-ratelimit-limit", "5".to_owned()),
            ("x-ratelimit-remaining", "0".to_owned()),
            ("x-ratelimit-reset", format!("{reset:.3}")),
            ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
            ("x-ratelimit-bucket", "fake-channel-messages".to_owned()),
            ("x-ratelimit-scope", "user".to_owned()),
        ],
        unknown_route: false,
    }
}

/// The JSON body and files of a request: plain JSON, or multipart with `payload_json` and
/// `files[n]` parts (what serenity sends when there are attachments).
fn parse_body(headers: &HeaderMap, body: &[u8]) -> (Value, Vec<PostedFile>) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
    {
        let boundary = boundary.split(';').next().unwrap_or("").trim_matches('"');
        return parse_multipart(body, boundary);
    }
    if body.is_empty() {
        return (Value::Null, Vec::new());
    }
    (
        serde_json::from_slice(body).unwrap_or_else(|_| json!(String::from_utf8_lossy(body))),
        Vec::new(),
    )
}

fn parse_multipart(body: &[u8], boundary: &str) -> (Value, Vec<PostedFile>) {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut json_body = Value::Null;
    let mut text_fields = Map::new();
    let mut files = Vec::new();
    for part in split_bytes(body, &delimiter).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break; // the closing delimiter
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = find_bytes(part, b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]);
        let data = &part[split + 4..];
        let mut name = String::new();
        let mut filename = None;
        let mut content_type = None;
        for line in head.lines() {
            let lower = line.to_ascii_lowercase();
            if lower.starts_with("content-disposition:") {
                name = header_param(line, "name").unwrap_or_default();
                filename = header_param(line, "filename");
            } else if let Some(value) = lower.strip_prefix("content-type:") {
                content_type = Some(value.trim().to_owned());
            }
        }
        match filename {
            Some(filename) => files.push(PostedFile {
                field: name,
                filename,
                content_type,
                data: data.to_vec(),
            }),
            None if name == "payload_json" => {
                json_body = serde_json::from_slice(data).unwrap_or(Value::Null)
            }
            None => {
                text_fields.insert(name, json!(String::from_utf8_lossy(data)));
            }
        }
    }
    if let Value::Object(map) = &mut json_body {
        for (k, v) in text_fields {
            map.entry(k).or_insert(v);
        }
    } else if !text_fields.is_empty() {
        json_body = Value::Object(text_fields);
    }
    (json_body, files)
}

/// `name="value"` from a header line (quoted or not), not matching `filename=` for `name=`.
fn header_param(line: &str, key: &str) -> Option<String> {
    line.split(';').skip(1).find_map(|param| {
        let (k, v) = param.trim().split_once('=')?;
        (k.trim().eq_ignore_ascii_case(key)).then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(mut haystack: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find_bytes(haystack, delimiter) {
        parts.push(&haystack[..at]);
        haystack = &haystack[at + delimiter.len()..];
    }
    parts.push(haystack);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_give_payload_json_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"files[0]\"; filename=\"svar.txt\"\r\nContent-Type: text/plain\r\n\r\nhei\r\nverden\r\n--XyZ\r\nContent-Disposition: form-data; name=\"payload_json\"\r\n\r\n{\"content\":\"se vedlegg\"}\r\n--XyZ--\r\n";
        let (json_body, files) = parse_multipart(body, "XyZ");
        assert_eq!(json_body, json!({ "content": "se vedlegg" }));
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].field, "files[0]");
        assert_eq!(files[0].filename, "svar.txt");
        assert_eq!(files[0].content_type.as_deref(), Some("text/plain"));
        assert_eq!(files[0].text(), "hei\r\nverden");
    }

    #[test]
    fn payloads_serenity_would_drop_are_caught() {
        let shared = Shared::new(
            FakeGuild::default_test_guild(),
            FakeOptions::default(),
            ([127, 0, 0, 1], 1).into(),
        );
        let mut guild = shared.guild_create_json(&[]);
        assert_eq!(validate_dispatch("GUILD_CREATE", &guild), Ok(()));
        guild.as_object_mut().unwrap().remove("stickers");
        assert!(validate_dispatch("GUILD_CREATE", &guild).is_err());

        let mut st = StateData::default();
        let mut interaction = shared.interaction_json(
            &mut st,
            2,
            ids::SUPPLIER_USER,
            ids::QA_CHANNEL,
            json!({"id": "1", "name": "x", "type": 1}),
            None,
        );
        assert_eq!(
            validate_dispatch("INTERACTION_CREATE", &interaction),
            Ok(())
        );
        interaction.as_object_mut().unwrap().remove("entitlements");
        let why = validate_dispatch("INTERACTION_CREATE", &interaction).unwrap_err();
        assert!(why.contains("entitlements"), "{why}");
    }

    #[tokio::test]
    #[should_panic(expected = "serenity would silently drop this INTERACTION_CREATE")]
    async fn send_interaction_refuses_a_payload_serenity_would_drop() {
        let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
        fake.send_interaction(json!({ "id": "1", "token": "t", "channel_id": "2", "type": 2 }));
    }

    #[test]
    fn without_message_content_intent_guild_messages_lose_their_content() {
        let bot = 7;
        let message =
            json!({ "guild_id": "1", "author": { "id": "2" }, "content": "hei", "mentions": [] });
        let intents_without_content = 1 | (1 << 9);
        let filtered = filter_for_intents(
            "MESSAGE_CREATE",
            message.clone(),
            intents_without_content,
            bot,
        )
        .unwrap();
        assert_eq!(filtered["content"], "");
        let mut mentioning = message.clone();
        mentioning["mentions"] = json!([{ "id": "7" }]);
        let kept =
            filter_for_intents("MESSAGE_CREATE", mentioning, intents_without_content, bot).unwrap();
        assert_eq!(kept["content"], "hei");
        assert!(filter_for_intents("MESSAGE_CREATE", message, 1, bot).is_none());
    }
}
