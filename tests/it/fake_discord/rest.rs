//! The REST API under `/api/v10`: routes, Discord's error bodies, and what each request
//! changes.

use super::*;

pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) body: Option<Value>,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) unknown_route: bool,
}

impl Reply {
    pub(super) fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            headers: Vec::new(),
            unknown_route: false,
        }
    }
    pub(super) fn created(body: Value) -> Self {
        Reply {
            status: StatusCode::CREATED,
            ..Self::ok(body)
        }
    }
    pub(super) fn no_content() -> Self {
        Reply {
            status: StatusCode::NO_CONTENT,
            body: None,
            headers: Vec::new(),
            unknown_route: false,
        }
    }
    pub(super) fn error(status: StatusCode, message: &str, code: u64) -> Self {
        Reply {
            status,
            ..Self::ok(json!({ "message": message, "code": code }))
        }
    }
    pub(super) fn unknown_route() -> Self {
        Reply {
            unknown_route: true,
            ..Self::error(StatusCode::NOT_FOUND, "Unknown route", 0)
        }
    }
    pub(super) fn unknown_channel() -> Self {
        Self::error(StatusCode::NOT_FOUND, "Unknown Channel", 10003)
    }
    pub(super) fn unknown_message() -> Self {
        Self::error(StatusCode::NOT_FOUND, "Unknown Message", 10008)
    }
    pub(super) fn bad_id() -> Self {
        Self::error(StatusCode::BAD_REQUEST, "Invalid Form Body", 50035)
    }
}

pub(super) async fn rest_request(
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

    // A slow Discord: the post is created only after the delay (the lock is not held).
    let delay = shared.lock().post_delay;
    let is_post = method == Method::POST
        && path.starts_with("/api/v10/channels/")
        && path.ends_with("/messages");
    if is_post && !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let injected = shared.lock().take_injected(method.as_str(), &path);
    let reply = if !auth_ok {
        Reply::error(StatusCode::UNAUTHORIZED, "401: Unauthorized", 0)
    } else if let Some(reply) = injected {
        reply
    } else if let Some(route) = path.strip_prefix("/api/v10/") {
        let segments: Vec<&str> = route.trim_end_matches('/').split('/').collect();
        let mut st = shared.lock();
        shared.route(&mut st, &method, &segments, &json_body, &files)
    } else {
        Reply::unknown_route()
    };

    let posted_in = path
        .strip_prefix("/api/v10/channels/")
        .filter(|_| is_post)
        .and_then(|rest| rest.split('/').next())
        .and_then(|c| c.parse::<u64>().ok());
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
    if let Some(channel) = posted_in {
        shared.wait_while_held(channel).await;
    }

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

/// What Discord refuses in a message it is asked to create (`creating`) or edit: more
/// than 2,000 characters, nothing at all to show, too many or too large embeds, more
/// than 5 rows of at most 5 buttons, custom ids over 100 and labels over 80 characters,
/// and a reply to a message it does not know.
pub(super) fn refuse_message(
    st: &StateData,
    body: &Value,
    files: &[PostedFile],
    creating: bool,
) -> Option<Reply> {
    let invalid = |why: &str| {
        tracing::warn!("fake Discord: refused a message: {why}");
        Some(Reply::error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid Form Body ({why})"),
            50035,
        ))
    };
    let content = body["content"].as_str().unwrap_or("");
    if content.chars().count() > 2000 {
        return invalid("content: must be 2000 or fewer in length");
    }
    let embeds = body["embeds"].as_array().map_or(&[][..], |e| e.as_slice());
    if creating
        && content.trim().is_empty()
        && embeds.is_empty()
        && files.is_empty()
        && body["sticker_ids"].as_array().is_none_or(|s| s.is_empty())
        && body["poll"].is_null()
    {
        return Some(Reply::error(
            StatusCode::BAD_REQUEST,
            "Cannot send an empty message",
            50006,
        ));
    }
    if embeds.len() > 10 {
        return invalid("embeds: at most 10");
    }
    let length = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let mut total = 0;
    for embed in embeds {
        let fields = embed["fields"].as_array().map_or(&[][..], |f| f.as_slice());
        if length(&embed["title"]) > 256
            || length(&embed["description"]) > 4096
            || fields.len() > 25
        {
            return invalid("embed: title, description or fields over the limit");
        }
        total += length(&embed["title"]) + length(&embed["description"]);
        for field in fields {
            if length(&field["name"]) > 256 || length(&field["value"]) > 1024 {
                return invalid("embed field over the limit");
            }
            total += length(&field["name"]) + length(&field["value"]);
        }
    }
    if total > 6000 {
        return invalid("embeds: 6000 characters in all");
    }
    let rows = body["components"]
        .as_array()
        .map_or(&[][..], |r| r.as_slice());
    if rows.len() > 5 {
        return invalid("components: at most 5 action rows");
    }
    for row in rows {
        let items = row["components"]
            .as_array()
            .map_or(&[][..], |c| c.as_slice());
        if row["type"] != json!(1) || items.is_empty() || items.len() > 5 {
            return invalid("components: an action row holds 1 to 5 components");
        }
        for item in items {
            if length(&item["custom_id"]) > 100 || length(&item["label"]) > 80 {
                return invalid("components: custom_id over 100 or label over 80 characters");
            }
            if item["type"] == json!(2) && item["custom_id"].is_null() && item["url"].is_null() {
                return invalid("components: a button needs a custom_id or a url");
            }
        }
    }
    if let Some(reference) = body.get("message_reference").filter(|r| r.is_object()) {
        let known =
            value_id(&reference["message_id"]).is_some_and(|m| st.messages.contains_key(&m));
        if !known && reference["fail_if_not_exists"] != json!(false) {
            return invalid("message_reference: Unknown message");
        }
    }
    None
}

/// What Discord refuses in a modal: a title over 45 characters, more than 5 rows, a text
/// input whose label is over 45 characters, whose limit is over 4,000, or whose
/// pre-filled value is longer than its own limit.
pub(super) fn refuse_modal(data: &Value) -> Option<Reply> {
    let invalid = |why: String| {
        tracing::warn!("fake Discord: refused a modal: {why}");
        Some(Reply::error(
            StatusCode::BAD_REQUEST,
            &format!("Invalid Form Body ({why})"),
            50035,
        ))
    };
    let length = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    if length(&data["title"]) > 45 || length(&data["title"]) == 0 {
        return invalid("title: 1 to 45 characters".into());
    }
    let rows = data["components"]
        .as_array()
        .map_or(&[][..], |r| r.as_slice());
    if rows.is_empty() || rows.len() > 5 {
        return invalid("components: 1 to 5 rows".into());
    }
    for input in rows
        .iter()
        .flat_map(|r| r["components"].as_array().into_iter().flatten())
    {
        let max = input["max_length"].as_u64().unwrap_or(4000) as usize;
        let label = input["label"].as_str().unwrap_or("");
        if length(&input["label"]) > 45 || max > 4000 {
            return invalid(format!(
                "text input {label:?}: label over 45 or max_length over 4000"
            ));
        }
        if length(&input["value"]) > max {
            return invalid(format!(
                "text input {label:?}: value longer than max_length {max}"
            ));
        }
    }
    None
}

impl StateData {
    /// The injected error for this request, if one is waiting (counting it down).
    pub(super) fn take_injected(&mut self, method: &str, path: &str) -> Option<Reply> {
        let found = self
            .injected
            .iter_mut()
            .find(|i| i.remaining > 0 && i.method == method && path.contains(&i.path_contains))?;
        if found.skip > 0 {
            found.skip -= 1;
            return None;
        }
        found.remaining -= 1;
        let status =
            StatusCode::from_u16(found.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Some(Reply::error(status, &found.message, found.code))
    }
}

impl Shared {
    pub(super) fn route(
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
            ("PATCH", ["channels", channel]) => match id(channel) {
                Some(channel_id) => self.edit_thread(st, channel_id, body),
                None => Reply::bad_id(),
            },
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
                    (Some(channel_id), Some(message_id)) => self.create_thread(
                        st,
                        channel_id,
                        Some(message_id),
                        self.guild.bot_user_id,
                        body,
                    ),
                    _ => Reply::bad_id(),
                }
            }
            ("POST", ["channels", channel, "threads"]) => match id(channel) {
                Some(channel_id) => {
                    self.create_thread(st, channel_id, None, self.guild.bot_user_id, body)
                }
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

    pub(super) fn put_commands(
        &self,
        st: &mut StateData,
        guild_id: Option<u64>,
        body: &Value,
    ) -> Reply {
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

    pub(super) fn create_message(
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
        if let Some(refused) = refuse_message(st, body, files, true) {
            return refused;
        }
        // As on Discord: with `enforce_nonce`, a nonce seen recently in the channel
        // returns the message created with it instead of a new one.
        let nonce = body["nonce"]
            .as_str()
            .filter(|_| body["enforce_nonce"] == json!(true))
            .map(|n| (channel_id, n.to_owned()));
        let earlier = nonce.as_ref().and_then(|n| st.nonces.get(n));
        if let Some(message) = earlier.and_then(|id| st.messages.get(id)) {
            return Reply::ok(message.clone());
        }
        let id = st.next_id();
        let message = self.bot_message_json(st, id, channel_id, body, files, false);
        st.messages.insert(id, message.clone());
        if let Some(nonce) = nonce {
            st.nonces.insert(nonce, id);
        }
        st.posted.push(posted_from_message(
            PostSource::ChannelMessage,
            &message,
            None,
            body,
            files,
        ));
        if let Some(failed) = fail_after_creating(&mut st.fail_after_creating, channel_id) {
            return failed;
        }
        Reply::ok(message)
    }

    pub(super) fn channel_message(
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
                if let Some(refused) = refuse_message(st, body, files, false) {
                    return refused;
                }
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

    /// `PATCH /channels/{id}` on a thread: its name (1 to 100 characters).
    pub(super) fn edit_thread(&self, st: &mut StateData, channel_id: u64, body: &Value) -> Reply {
        let Some(thread) = st.extra_channels.get_mut(&channel_id) else {
            return Reply::unknown_channel();
        };
        if let Some(name) = body["name"].as_str() {
            if name.is_empty() || name.chars().count() > 100 {
                return Reply::bad_id();
            }
            thread["name"] = json!(name);
            if let Some(t) = st.threads.iter_mut().find(|t| t.id == channel_id) {
                t.name = name.to_owned();
            }
        }
        Reply::ok(st.extra_channels[&channel_id].clone())
    }

    /// A thread in `channel_id` (from `from_message` when given) opened by `owner`: the
    /// bot for the REST endpoints, a member for [`FakeDiscord::user_creates_thread`].
    pub(super) fn create_thread(
        &self,
        st: &mut StateData,
        channel_id: u64,
        from_message: Option<u64>,
        owner: u64,
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
        let thread = self.thread_json(thread_id, channel_id, owner, &name, kind, body);
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
        if let Some(failed) = fail_after_creating(&mut st.fail_threads_after_creating, channel_id) {
            return failed;
        }
        Reply::created(thread)
    }

    pub(super) fn interaction_callback(
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
        let deadline = st.ack_deadline.unwrap_or(ACK_DEADLINE);
        if !record.responded && record.created.elapsed() > deadline {
            tracing::warn!(
                "fake Discord: interaction {} answered after {:?}, past the {deadline:?} deadline",
                record.id,
                record.created.elapsed()
            );
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
        let checked = match kind {
            callback_type::MESSAGE => refuse_message(st, &data, files, true),
            callback_type::UPDATE_MESSAGE => refuse_message(st, &data, files, false),
            callback_type::MODAL => refuse_modal(&data),
            _ => None,
        };
        if let Some(refused) = checked {
            return refused;
        }
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

    pub(super) fn webhook_message(
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
        if record.expired {
            return expired_token();
        }
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
                if let Some(refused) = refuse_message(st, body, files, false) {
                    return refused;
                }
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

    pub(super) fn followup(
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
        if record.expired {
            return expired_token();
        }
        let (interaction_id, channel_id) = (record.id, record.channel_id);
        let deferred_original = record.original.filter(|_| record.deferred_pending);
        if let Some(refused) = refuse_message(st, body, files, true) {
            return refused;
        }
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

/// Discord's answer on the webhook of an interaction whose token ran out.
fn expired_token() -> Reply {
    Reply::error(StatusCode::UNAUTHORIZED, "Invalid Webhook Token", 50027)
}

impl Shared {
    /// Wait while posts in `channel` are held ([`FakeDiscord::hold_answers_to_posts_in`]).
    pub(super) async fn wait_while_held(&self, channel: u64) {
        loop {
            let released = self.changed.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if !self.lock().held_post_channels.contains(&channel) {
                return;
            }
            released.await;
        }
    }
}

pub(super) fn rate_limited(retry_after: f64) -> Reply {
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

/// The injected 5xx for work just done in `channel_id`, if one is waiting (counting it
/// down): Discord failing after doing the work.
fn fail_after_creating(failures: &mut HashMap<u64, (u32, u16)>, channel_id: u64) -> Option<Reply> {
    let (remaining, status) = failures.get_mut(&channel_id)?;
    if *remaining == 0 {
        return None;
    }
    *remaining -= 1;
    let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY);
    Some(Reply::error(status, "upstream failed", 0))
}
