//! The fake's state behind one lock: the gateway session, everything recorded, the
//! messages and channels it knows; which dispatches a session gets.

use super::*;

pub(super) struct Shared {
    pub(super) guild: FakeGuild,
    pub(super) token: String,
    pub(super) heartbeat_interval_ms: u64,
    pub(super) api_url: String,
    pub(super) gateway_url: String,
    pub(super) state: Mutex<StateData>,
    /// Woken on every change, for the `wait_for_*` helpers.
    pub(super) changed: Notify,
}

#[derive(Default)]
pub(super) struct StateData {
    pub(super) last_id: u64,
    pub(super) gateway: Gateway,
    pub(super) requests: Vec<RecordedRequest>,
    pub(super) posted: Vec<Posted>,
    pub(super) callbacks: Vec<InteractionCallback>,
    /// Every message the fake knows (users' and the bot's), as Discord would return it.
    pub(super) messages: HashMap<u64, Value>,
    pub(super) deleted: Vec<u64>,
    /// Threads and DM channels, as channel objects.
    pub(super) extra_channels: HashMap<u64, Value>,
    pub(super) threads: Vec<FakeThread>,
    pub(super) dm_channels: HashMap<u64, u64>,
    pub(super) interactions: HashMap<String, InteractionRecord>,
    pub(super) commands: Vec<Value>,
    pub(super) rate_limit_remaining: u32,
    pub(super) rate_limit_retry_after: f64,
    pub(super) rate_limited_served: u32,
    /// How long `POST /channels/{c}/messages` takes before it is answered.
    pub(super) post_delay: Duration,
    /// Errors to answer instead of the real thing, first match first.
    pub(super) injected: Vec<Injected>,
    /// How long an interaction may wait for its first response; `None`: Discord's
    /// [`ACK_DEADLINE`].
    pub(super) ack_deadline: Option<Duration>,
    /// Channels whose `POST …/messages` are created at once but answered only when the
    /// test releases them ([`FakeDiscord::hold_answers_to_posts_in`]).
    pub(super) held_post_channels: std::collections::HashSet<u64>,
    /// Channel → how many more posts there are created and then answered with this
    /// status ([`FakeDiscord::fail_next_posts_after_creating`]).
    pub(super) fail_after_creating: HashMap<u64, (u32, u16)>,
    /// Channel → how many more threads opened in it are created and then answered with
    /// this status ([`FakeDiscord::fail_next_threads_after_creating`]).
    pub(super) fail_threads_after_creating: HashMap<u64, (u32, u16)>,
    /// (channel, nonce) → the message created with it, for `enforce_nonce`.
    pub(super) nonces: HashMap<(u64, String), u64>,
}

/// Discord's time to respond to an interaction before it fails for the user.
pub(super) const ACK_DEADLINE: Duration = Duration::from_secs(3);

/// An error the fake answers the next `remaining` requests that match with.
pub(super) struct Injected {
    pub(super) method: String,
    pub(super) path_contains: String,
    pub(super) remaining: u32,
    /// Matching requests let through before the first failure.
    pub(super) skip: u32,
    pub(super) status: u16,
    pub(super) message: String,
    pub(super) code: u64,
}

pub(super) struct InteractionRecord {
    pub(super) id: u64,
    /// When it was dispatched: the first response must come within the deadline.
    pub(super) created: std::time::Instant,
    pub(super) channel_id: u64,
    /// The message a component was on.
    pub(super) message_id: Option<u64>,
    /// The original response message, once there is one.
    pub(super) original: Option<u64>,
    pub(super) responded: bool,
    /// Deferred and not yet answered: the next follow-up edits the original.
    pub(super) deferred_pending: bool,
    /// The token ran out (Discord: 15 minutes after the interaction): its webhook
    /// (follow-ups, edits of the original) answers 401 Invalid Webhook Token.
    pub(super) expired: bool,
}

#[derive(Default)]
pub(super) struct Gateway {
    pub(super) session: Option<Session>,
    /// Dispatched before the first IDENTIFY; delivered after GUILD_CREATE.
    pub(super) pending: Vec<(String, Value)>,
    pub(super) connections: u32,
    pub(super) identifies: u32,
    pub(super) resumes: u32,
    pub(super) invalid_sessions: u32,
    pub(super) rejected_tokens: u32,
    pub(super) heartbeats: u32,
    pub(super) other_ops: Vec<u64>,
    pub(super) shards: Vec<Value>,
}

pub(super) struct Session {
    pub(super) id: String,
    pub(super) intents: u64,
    /// `[shard_id, shard_count]` from IDENTIFY (`[0, 1]` when absent).
    pub(super) shard: (u64, u64),
    pub(super) seq: u64,
    /// Every frame dispatched in this session, for RESUME.
    pub(super) log: Vec<(u64, String)>,
    pub(super) conn: Option<Conn>,
}

#[derive(Clone)]
pub(super) struct Conn {
    pub(super) id: u32,
    pub(super) tx: mpsc::UnboundedSender<Outgoing>,
}

pub(super) enum Outgoing {
    Frame(String),
    Close(u16),
    Abort,
}

impl Gateway {
    pub(super) fn stats(&self) -> GatewayStats {
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
    pub(super) fn dispatch(&mut self, t: &str, d: Value, bot_id: u64) {
        let Some(session) = self.session.as_mut() else {
            self.pending.push((t.to_owned(), d));
            return;
        };
        if !shard_owns(session.shard, t, &d) {
            tracing::debug!(
                "fake Discord: {t} not delivered to shard {:?}",
                session.shard
            );
            return;
        }
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
    pub(super) fn next_id(&mut self) -> u64 {
        pub(super) const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let from_clock = now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22;
        self.last_id = from_clock.max(self.last_id + 1);
        self.last_id
    }

    pub(super) fn describe(&self) -> String {
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

/// Whether Discord sends this dispatch to `shard` (`(id, count)`): a guild's events go to
/// shard `(guild_id >> 22) % count`, direct messages to shard 0; READY and RESUMED to all.
pub(super) fn shard_owns(shard: (u64, u64), t: &str, d: &Value) -> bool {
    let (id, count) = shard;
    if matches!(t, "READY" | "RESUMED") || count <= 1 {
        return true;
    }
    let guild = if t == "GUILD_CREATE" {
        value_id(&d["id"])
    } else {
        value_id(&d["guild_id"])
    };
    match guild {
        Some(guild) => (guild >> 22) % count == id,
        None => id == 0,
    }
}

/// What Discord would (not) deliver to a session with these intents.
pub(super) fn filter_for_intents(
    t: &str,
    mut d: Value,
    intents: u64,
    bot_id: u64,
) -> Option<Value> {
    pub(super) const GUILDS: u64 = 1;
    pub(super) const GUILD_MESSAGES: u64 = 1 << 9;
    pub(super) const DIRECT_MESSAGES: u64 = 1 << 12;
    pub(super) const MESSAGE_CONTENT: u64 = 1 << 15;
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
pub(super) fn validate_dispatch(t: &str, d: &Value) -> Result<(), String> {
    use serenity::model::event::{
        Event, GuildCreateEvent, InteractionCreateEvent, MessageCreateEvent, ReadyEvent,
        ThreadCreateEvent,
    };
    pub(super) fn check<T: serde::de::DeserializeOwned>(d: &Value) -> Result<(), String> {
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
