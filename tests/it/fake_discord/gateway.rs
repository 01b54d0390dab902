//! The gateway socket: HELLO, IDENTIFY, RESUME, heartbeats, dispatches.

use super::*;

pub(super) async fn gateway_upgrade(
    AxumState(shared): AxumState<Arc<Shared>>,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| run_gateway_connection(shared, socket))
}

pub(super) async fn run_gateway_connection(shared: Arc<Shared>, mut socket: WebSocket) {
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
    pub(super) fn on_gateway_frame(&self, conn: &Conn, text: &str) {
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

    pub(super) fn token_ok(&self, conn: &Conn, d: &Value) -> bool {
        let expected = format!("Bot {}", self.token);
        if d["token"].as_str() == Some(expected.as_str()) {
            return true;
        }
        tracing::warn!("fake Discord: wrong token in IDENTIFY/RESUME; closing with 4004");
        self.lock().gateway.rejected_tokens += 1;
        let _ = conn.tx.send(Outgoing::Close(4004));
        false
    }

    pub(super) fn identify(&self, conn: &Conn, d: &Value) {
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
        let shard = match (d["shard"][0].as_u64(), d["shard"][1].as_u64()) {
            (Some(id), Some(count)) if count > 0 => (id, count),
            _ => (0, 1),
        };
        if !shard_owns(shard, "GUILD_CREATE", &guild_create) {
            ready["guilds"] = json!([]);
        }
        st.gateway.session = Some(Session {
            id: session_id,
            intents,
            shard,
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

    pub(super) fn resume(&self, conn: &Conn, d: &Value) {
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
