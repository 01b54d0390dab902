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
//!   response 404 (Unknown Webhook), and a first response more than 3 seconds after the
//!   interaction was dispatched 404 (Unknown interaction, 10062) as on Discord
//!   ([`FakeDiscord::set_ack_deadline`] changes the 3 seconds).
//! - Anything else: 404 `{"message":"Unknown route","code":0}`, recorded so a test can assert
//!   there were none ([`FakeDiscord::assert_no_unknown_routes`]).
//! - [`FakeDiscord::answer_posts_slowly`] delays every `POST /channels/{c}/messages`.
//! - [`FakeDiscord::fail_next_requests`] answers the next matching requests with any
//!   status and Discord's error body (403 Missing Access, 404, 500, …);
//!   [`FakeDiscord::fail_requests_after`] lets some through first (the second part of a
//!   message fails); [`FakeDiscord::fail_next_posts_after_creating`] creates the message and
//!   then answers 5xx. A post with `enforce_nonce` and a nonce seen before in the channel
//!   returns the earlier message, as on Discord.
//! - [`FakeDiscord::hold_answers_to_posts_in`] creates posts in a channel at once but holds
//!   the answer to the bot until released.
//! - [`FakeDiscord::expire_interaction_token`]: the interaction's webhook answers 401
//!   Invalid Webhook Token (50027), as 15 minutes after the interaction on Discord.
//! - [`FakeDiscord::preregister_commands`]: commands an earlier run registered.
//! - [`FakeDiscord::fail_next_posts_with_429`] makes `POST /channels/{c}/messages` answer 429
//!   with Discord's body and `Retry-After`/`X-RateLimit-*` headers.
//!
//! - Shard routing as on Discord: a session that identified as shard `[id, count]` gets a
//!   guild's events only if `(guild_id >> 22) % count == id`, and direct messages only as
//!   shard 0 (the IDENTIFY's `shard` is recorded and echoed in READY).
//!
//! Not implemented: zlib compression, more than one shard connected at once, presence updates and member
//! chunking (ignored and counted as other ops), voice, permission checks on the server side (the
//! fake accepts any post into a known channel; serenity checks the bot's permissions from its
//! cache before sending), message edits by users, reactions by users, autocomplete helpers
//! (send those with [`FakeDiscord::send_interaction`]), attachments uploaded by users, CDN.

#![allow(dead_code)] // Not every test module uses every helper.

mod gateway;
mod guild;
mod multipart;
mod payloads;
mod records;
mod rest;
mod selftest;
mod state;

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

use gateway::*;
pub use guild::*;
use multipart::*;
use payloads::*;
pub use records::*;
use rest::*;
use state::*;

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

    /// A member (the supplier, who owns it, as Discord records) opens a public thread (not
    /// from a message) in guild channel `parent`, as one does under a Q&A channel;
    /// THREAD_CREATE is dispatched. Returns the thread id.
    pub fn user_creates_thread(&self, parent: u64, name: &str) -> u64 {
        let mut st = self.shared.lock();
        let reply = self.shared.create_thread(
            &mut st,
            parent,
            None,
            ids::SUPPLIER_USER,
            &json!({ "name": name, "type": 11 }),
        );
        drop(st);
        self.shared.changed.notify_waiters();
        reply
            .body
            .as_ref()
            .and_then(|b| value_id(&b["id"]))
            .unwrap_or_else(|| panic!("fake Discord: no thread in {parent}"))
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
                created: std::time::Instant::now(),
                channel_id,
                message_id,
                original: None,
                responded: false,
                deferred_pending: false,
                expired: false,
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

    /// Commands registered before the test, as by an earlier run of the bot: globally
    /// (`guild_id` `None`) or in a guild.
    pub fn preregister_commands(&self, guild_id: Option<u64>, names: &[&str]) {
        let commands: Vec<Value> = names
            .iter()
            .map(|name| json!({ "name": name, "description": "registered before", "type": 1 }))
            .collect();
        let mut st = self.shared.lock();
        self.shared
            .put_commands(&mut st, guild_id, &Value::Array(commands));
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

    /// From now on every `POST /channels/{id}/messages` takes `delay` before it is
    /// answered, as a slow or overloaded Discord does (zero: answer at once).
    pub fn answer_posts_slowly(&self, delay: Duration) {
        self.shared.lock().post_delay = delay;
    }

    /// The next `count` requests with this method whose path contains `path_contains`
    /// get HTTP `status` with Discord's error body `{"message", "code"}` and change
    /// nothing (they are recorded with that status). For example
    /// `fail_next_requests("PUT", "/commands", 1, 403, "Missing Access", 50001)` refuses a
    /// command registration as Discord does for a guild the bot is not in.
    pub fn fail_next_requests(
        &self,
        method: &str,
        path_contains: &str,
        count: u32,
        status: u16,
        message: &str,
        code: u64,
    ) {
        self.fail_requests_after(method, path_contains, 0, count, status, message, code);
    }

    /// Like [`FakeDiscord::fail_next_requests`], after letting `skip` matching requests
    /// through: `fail_requests_after("POST", "/channels/5/messages", 1, 1, 500, …)` fails
    /// the second part of a message posted in parts.
    #[allow(clippy::too_many_arguments)]
    pub fn fail_requests_after(
        &self,
        method: &str,
        path_contains: &str,
        skip: u32,
        count: u32,
        status: u16,
        message: &str,
        code: u64,
    ) {
        self.shared.lock().injected.push(Injected {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            remaining: count,
            skip,
            status,
            message: message.to_owned(),
            code,
        });
    }

    /// The next `count` posts in `channel_id` are created (and posted) but answered
    /// with HTTP `status` (a 5xx), as when Discord fails after doing the work: a bot
    /// that simply sends again posts twice, unless it sends a nonce Discord enforces.
    pub fn fail_next_posts_after_creating(&self, channel_id: u64, count: u32, status: u16) {
        self.shared
            .lock()
            .fail_after_creating
            .insert(channel_id, (count, status));
    }

    /// The next `count` threads opened in `channel_id` are created (THREAD_CREATE is
    /// sent) but answered with HTTP `status` (a 5xx); a retry on the same message then
    /// gets Discord's 400 "A thread has already been created for this message" (160004).
    pub fn fail_next_threads_after_creating(&self, channel_id: u64, count: u32, status: u16) {
        self.shared
            .lock()
            .fail_threads_after_creating
            .insert(channel_id, (count, status));
    }

    /// The token of interaction `interaction_id` runs out now, as it does on Discord 15
    /// minutes after the interaction: follow-ups and edits on it get 401 Invalid
    /// Webhook Token (50027).
    pub fn expire_interaction_token(&self, interaction_id: u64) {
        let mut st = self.shared.lock();
        let record = st
            .interactions
            .values_mut()
            .find(|r| r.id == interaction_id)
            .unwrap_or_else(|| panic!("fake Discord: no interaction {interaction_id}"));
        record.expired = true;
    }

    /// From now on, a `POST /channels/{channel_id}/messages` creates its message at once
    /// (it is posted and [`FakeDiscord::wait_for_post`] sees it) but Discord's answer to
    /// the bot waits until [`FakeDiscord::release_answers_to_posts_in`]: the moment
    /// between a message appearing and the bot learning its id, stretched.
    pub fn hold_answers_to_posts_in(&self, channel_id: u64) {
        self.shared.lock().held_post_channels.insert(channel_id);
    }

    /// Answer the held posts in `channel_id` (and those to come at once).
    pub fn release_answers_to_posts_in(&self, channel_id: u64) {
        self.shared.lock().held_post_channels.remove(&channel_id);
        self.shared.changed.notify_waiters();
    }

    /// From now on an interaction must get its first response within `deadline` of
    /// being dispatched (Discord: 3 s); a later callback gets 404 Unknown interaction
    /// (10062), as on Discord, and the user sees "This interaction failed".
    pub fn set_ack_deadline(&self, deadline: Duration) {
        self.shared.lock().ack_deadline = Some(deadline);
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
