//! Discord's JSON objects as the fake builds them: users, members, roles, channels,
//! READY, GUILD_CREATE, messages, interactions, threads.

use super::*;

/// An id as Discord writes it: a string.
pub(super) fn sid(id: u64) -> Value {
    Value::String(id.to_string())
}

/// An id from a string or a number.
/// The ids given in channel options (type 7), also inside subcommands.
pub(super) fn collect_channel_options(options: &Value, out: &mut Vec<u64>) {
    for option in options.as_array().into_iter().flatten() {
        if option["type"] == 7 {
            out.extend(value_id(&option["value"]));
        }
        collect_channel_options(&option["options"], out);
    }
}

pub(super) fn value_id(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

pub(super) fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub(super) const JOINED_AT: &str = "2024-01-15T09:00:00.000Z";
/// Discord's default upload limit, sent in every interaction.
pub(super) const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;
pub(super) const LOCALE: &str = "no";

impl Shared {
    pub(super) fn new(guild: FakeGuild, options: FakeOptions, addr: SocketAddr) -> Self {
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

    pub(super) fn lock(&self) -> MutexGuard<'_, StateData> {
        // A panic in one request handler must not wedge the whole test.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Validate (panicking in the caller if serenity would drop it) and dispatch.
    pub(super) fn dispatch_locked(&self, st: &mut StateData, t: &str, d: Value) {
        if let Err(why) = validate_dispatch(t, &d) {
            panic!("fake Discord: serenity would silently drop this {t}: {why}\npayload: {d:#}");
        }
        st.gateway.dispatch(t, d, self.guild.bot_user_id);
    }

    pub(super) fn user_json(&self, user_id: u64) -> Value {
        let (name, bot) = self.guild.name_and_bot_flag(user_id);
        json!({
            "id": sid(user_id), "username": name, "discriminator": "0", "global_name": null,
            "avatar": null, "bot": bot, "public_flags": 0,
        })
    }

    pub(super) fn member_json(
        &self,
        user_id: u64,
        with_user: bool,
        with_permissions: bool,
    ) -> Value {
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

    pub(super) fn role_json(&self, position: usize, role: &FakeRole) -> Value {
        json!({
            "id": sid(role.id), "name": role.name, "color": 0,
            "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
            "hoist": false, "icon": null, "unicode_emoji": null, "position": position,
            "permissions": role.permissions.bits().to_string(), "managed": false,
            "mentionable": false, "flags": 0,
        })
    }

    pub(super) fn guild_channel_json(&self, position: usize, channel: &FakeChannel) -> Value {
        json!({
            "id": sid(channel.id), "type": 0, "guild_id": sid(self.guild.id), "name": channel.name,
            "position": position, "permission_overwrites": [], "parent_id": null, "topic": null,
            "nsfw": false, "last_message_id": null, "rate_limit_per_user": 0, "flags": 0,
        })
    }

    pub(super) fn current_user_json(&self) -> Value {
        json!({
            "id": sid(self.guild.bot_user_id), "username": self.guild.bot_name,
            "discriminator": "0", "global_name": null, "avatar": null, "bot": true,
            "verified": true, "mfa_enabled": true, "flags": 0, "public_flags": 0,
        })
    }

    pub(super) fn ready_json(&self, session_id: &str) -> Value {
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

    pub(super) fn guild_create_json(&self, threads: &[Value]) -> Value {
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
    pub(super) fn channel_json(&self, st: &StateData, channel_id: u64) -> Option<Value> {
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
    pub(super) fn guild_of_channel(&self, st: &StateData, channel_id: u64) -> Option<u64> {
        if self.guild.channels.iter().any(|c| c.id == channel_id) {
            return Some(self.guild.id);
        }
        st.extra_channels
            .get(&channel_id)
            .and_then(|c| value_id(&c["guild_id"]))
    }

    pub(super) fn dm_channel(&self, st: &mut StateData, user_id: u64) -> u64 {
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

    pub(super) fn user_message_json(&self, st: &StateData, id: u64, m: &UserMessage) -> Value {
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
    pub(super) fn bot_message_json(
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

    pub(super) fn attachments_json(
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
    pub(super) fn interaction_json(
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

    pub(super) fn thread_json(
        &self,
        id: u64,
        parent_id: u64,
        owner: u64,
        name: &str,
        kind: u64,
        body: &Value,
    ) -> Value {
        let now = now_iso();
        json!({
            "id": sid(id), "type": kind, "guild_id": sid(self.guild.id), "parent_id": sid(parent_id),
            "owner_id": sid(owner), "name": name, "last_message_id": null,
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

pub(super) fn posted_from_message(
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
pub(super) fn apply_edit(
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
