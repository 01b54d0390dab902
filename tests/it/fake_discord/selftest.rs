//! Proof that the fake Discord works with the real serenity client and poise: these tests use
//! no code of the bot, only serenity, poise and the fake.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use serenity::all::{
    ChannelId, ComponentInteractionDataKind, Context, CreateActionRow, CreateAttachment,
    CreateButton, CreateInteractionResponse, CreateInteractionResponseMessage, CreateMessage,
    CreateThread, EditMessage, EventHandler, GatewayIntents, Guild, GuildId, Http, HttpBuilder,
    Interaction, Message, MessageId, ShardManager, UserId,
};
use serenity::Client;
use tokio::sync::mpsc;

use super::multipart::parse_multipart;
use super::state::{filter_for_intents, validate_dispatch, Shared, StateData};
use crate::fake_discord::{
    callback_type, ids, FakeDiscord, FakeGuild, FakeOptions, PostSource, Posted,
};

/// Generous for a loaded 2-core machine; a passing test takes a fraction of it.
const WAIT: Duration = Duration::from_secs(5);

fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// serenity's REST client pointed at the fake, as the bot will build it.
fn http_for(fake: &FakeDiscord) -> Http {
    HttpBuilder::new(fake.token())
        .proxy(fake.api_url())
        .ratelimiter_disabled(true)
        .build()
}

/// A serenity client running in the background; stopped when dropped.
struct RunningClient {
    shard_manager: Arc<ShardManager>,
    task: tokio::task::JoinHandle<serenity::Result<()>>,
}

impl RunningClient {
    fn spawn(mut client: Client) -> Self {
        let shard_manager = client.shard_manager.clone();
        let task = tokio::spawn(async move { client.start().await });
        RunningClient {
            shard_manager,
            task,
        }
    }

    async fn with_handler(fake: &FakeDiscord, handler: impl EventHandler + 'static) -> Self {
        let client = serenity::client::ClientBuilder::new_with_http(http_for(fake), intents())
            .event_handler(handler)
            .await
            .expect("build the serenity client");
        Self::spawn(client)
    }
}

impl Drop for RunningClient {
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let shard_manager = self.shard_manager.clone();
            runtime.spawn(async move { shard_manager.shutdown_all().await });
        }
        self.task.abort();
    }
}

/// Answers "ping" with a reply "pong" (through the cache, so permissions are checked), and
/// reports what it sees on `notes`.
struct PingPong {
    notes: mpsc::UnboundedSender<String>,
}

#[serenity::async_trait]
impl EventHandler for PingPong {
    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        let _ = self.notes.send(format!(
            "guild {} with {} roles, {} channels, {} members",
            guild.name,
            guild.roles.len(),
            guild.channels.len(),
            guild.members.len()
        ));
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot || msg.content != "ping" {
            return;
        }
        if let Err(why) = msg.reply(&ctx, "pong").await {
            let _ = self.notes.send(format!("reply failed: {why}"));
        }
    }
}

fn ping_pong() -> (PingPong, mpsc::UnboundedReceiver<String>) {
    let (notes, rx) = mpsc::unbounded_channel();
    (PingPong { notes }, rx)
}

async fn next_note(notes: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(WAIT, notes.recv())
        .await
        .expect("a note from the handler in time")
        .expect("handler alive")
}

fn is_pong_to(message_id: u64) -> impl Fn(&Posted) -> bool {
    move |p| p.content == "pong" && p.reply_to() == Some(message_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_serenity_client_answers_ping_with_pong() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let (handler, mut notes) = ping_pong();
    let _client = RunningClient::with_handler(&fake, handler).await;

    // Sent before the bot is even connected: the fake holds it until after GUILD_CREATE.
    let ping = fake.send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, "ping");
    let pong = fake.wait_for_post(WAIT, is_pong_to(ping)).await;

    assert_eq!(pong.source, PostSource::ChannelMessage);
    assert_eq!(pong.channel_id, ids::QA_CHANNEL);
    assert_eq!(
        next_note(&mut notes).await,
        "guild Anbud test with 3 roles, 4 channels, 5 members"
    );
    let stats = fake.gateway_stats();
    assert_eq!((stats.identifies, stats.resumes), (1, 0));
    assert_eq!(stats.intents, Some(intents().bits()));
    fake.assert_no_unknown_routes();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_in_a_thread_and_in_a_dm_get_answered_there() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let (handler, _notes) = ping_pong();
    let _client = RunningClient::with_handler(&fake, handler).await;
    fake.wait_until_ready(WAIT).await;

    // The bot opens a thread on a message of its own; a user writes in it.
    let http = http_for(&fake);
    let qa = ChannelId::new(ids::QA_CHANNEL);
    let opener = qa
        .say(&http, "Spørsmål? Svar i tråden.")
        .await
        .expect("post the opener");
    let thread = qa
        .create_thread_from_message(&http, opener.id, CreateThread::new("Spørsmål"))
        .await
        .expect("create the thread");
    assert_eq!(
        thread.id.get(),
        opener.id.get(),
        "a thread started from a message has its id"
    );
    let in_thread = fake.send_message(thread.id.get(), ids::SUPPLIER_USER, "ping");
    let pong = fake.wait_for_post(WAIT, is_pong_to(in_thread)).await;
    assert_eq!(pong.channel_id, thread.id.get());

    let in_dm = fake.send_dm(ids::SUPPLIER_USER, "ping");
    let pong = fake.wait_for_post(WAIT, is_pong_to(in_dm)).await;
    assert_eq!(pong.channel_id, fake.dm_channel_id(ids::SUPPLIER_USER));
    fake.assert_no_unknown_routes();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_sent_while_the_gateway_is_down_arrive_after_resume() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let (handler, _notes) = ping_pong();
    let _client = RunningClient::with_handler(&fake, handler).await;
    let first = fake.send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, "ping");
    fake.wait_for_post(WAIT, is_pong_to(first)).await;

    // A network failure: no close frame.
    assert!(fake.drop_gateway());
    let during_drop = fake.send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, "ping");
    fake.wait_for_post(WAIT, is_pong_to(during_drop)).await;
    fake.wait_for_gateway("the first resume", WAIT, |s| s.resumes == 1 && s.connected)
        .await;

    // A resumable close code.
    assert!(fake.close_gateway(4000));
    let during_close = fake.send_message(ids::GENERAL_CHANNEL, ids::ADVISER_USER, "ping");
    fake.wait_for_post(WAIT, is_pong_to(during_close)).await;

    let stats = fake
        .wait_for_gateway("the second resume", WAIT, |s| s.resumes == 2 && s.connected)
        .await;
    assert_eq!(
        stats.identifies, 1,
        "serenity resumed instead of identifying again"
    );
    assert_eq!(stats.connections, 3);
    let pongs = fake.posted().iter().filter(|p| p.content == "pong").count();
    assert_eq!(
        pongs, 3,
        "each ping answered exactly once (no duplicate replay)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged() {
    crate::init_test_logging();
    let options = FakeOptions {
        heartbeat_interval: Duration::from_millis(100),
        ..FakeOptions::default()
    };
    let fake = FakeDiscord::start_with(FakeGuild::default_test_guild(), options).await;
    let (handler, _notes) = ping_pong();
    let _client = RunningClient::with_handler(&fake, handler).await;

    // serenity checks whether a heartbeat is due about every 500 ms; a missing ACK would make
    // it reconnect, so a second heartbeat on the same connection shows the first was ACKed.
    let stats = fake
        .wait_for_gateway("two heartbeats", WAIT, |s| s.heartbeats >= 2)
        .await;
    assert_eq!((stats.connections, stats.identifies), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused_at_identify() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let http = HttpBuilder::new("not-the-token")
        .proxy(fake.api_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = serenity::client::ClientBuilder::new_with_http(http, intents())
        .await
        .expect("build the serenity client");

    let result = tokio::time::timeout(WAIT, client.start())
        .await
        .expect("serenity gives up in time");
    assert!(result.is_err(), "serenity must stop on close code 4004");
    assert_eq!(fake.gateway_stats().rejected_tokens, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_send_messages_serenity_refuses_before_any_request() {
    crate::init_test_logging();
    let mut guild = FakeGuild::default_test_guild();
    guild.roles[0]
        .permissions
        .remove(serenity::all::Permissions::SEND_MESSAGES);
    let fake = FakeDiscord::start(guild).await;
    let (handler, mut notes) = ping_pong();
    let _client = RunningClient::with_handler(&fake, handler).await;

    fake.send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, "ping");
    // serenity runs each handler call in a task of its own, so the notes come in either order.
    let mut seen = [next_note(&mut notes).await, next_note(&mut notes).await];
    seen.sort();
    assert!(seen[0].starts_with("guild "), "{seen:?}");
    assert!(
        seen[1].starts_with("reply failed: Invalid permissions"),
        "{seen:?}"
    );
    assert!(fake.posted().is_empty());
    assert!(
        fake.requests().iter().all(|r| r.method == "GET"),
        "no POST was even tried"
    );
}

// ----- poise -----

type PoiseError = Box<dyn std::error::Error + Send + Sync>;
type PoiseContext<'a> = poise::Context<'a, (), PoiseError>;

/// Say hello
#[poise::command(slash_command)]
async fn hei(
    ctx: PoiseContext<'_>,
    #[description = "Who to greet"] navn: String,
) -> Result<(), PoiseError> {
    ctx.say(format!("Hei, {navn}!")).await?;
    Ok(())
}

/// Think first, then answer
#[poise::command(slash_command)]
async fn tenk(ctx: PoiseContext<'_>) -> Result<(), PoiseError> {
    ctx.defer().await?;
    ctx.say("Ferdig tenkt.").await?;
    Ok(())
}

/// Answer, edit the answer, then add a follow-up
#[poise::command(slash_command)]
async fn rediger(ctx: PoiseContext<'_>) -> Result<(), PoiseError> {
    let first = ctx.say("Først").await?;
    first
        .edit(ctx, poise::CreateReply::default().content("Så"))
        .await?;
    ctx.say("Til slutt").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poise_slash_commands_are_registered_and_answered() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let framework = poise::Framework::builder()
        .options(poise::FrameworkOptions {
            commands: vec![hei(), tenk(), rediger()],
            ..Default::default()
        })
        .setup(|ctx, _ready, framework| {
            Box::pin(async move {
                poise::builtins::register_globally(ctx, &framework.options().commands).await?;
                Ok(())
            })
        })
        .initialize_owners(false)
        .build();
    let client = serenity::client::ClientBuilder::new_with_http(http_for(&fake), intents())
        .framework(framework)
        .await
        .expect("build the serenity client");
    let _client = RunningClient::spawn(client);

    fake.wait_for_request(WAIT, |r| r.method == "PUT" && r.path.ends_with("/commands"))
        .await;
    let names: Vec<_> = fake
        .registered_commands()
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, [json!("hei"), json!("tenk"), json!("rediger")]);

    let options = json!([{ "name": "navn", "type": 3, "value": "Kari" }]);
    let interaction = fake.slash_command(ids::SUPPLIER_USER, ids::QA_CHANNEL, "hei", options);
    let callback = fake
        .wait_for_callback(WAIT, |c| c.interaction_id == interaction)
        .await;
    assert_eq!(callback.kind, callback_type::MESSAGE);
    assert_eq!(callback.content(), "Hei, Kari!");
    let reply = fake
        .wait_for_post(WAIT, |p| p.interaction_id == Some(interaction))
        .await;
    assert_eq!(
        (reply.source, reply.channel_id),
        (PostSource::InteractionResponse, ids::QA_CHANNEL)
    );

    // Deferred: "thinking…" first, then the follow-up fills in the original message.
    let interaction = fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "tenk",
        json!(null),
    );
    let answer = fake
        .wait_for_post(WAIT, |p| p.interaction_id == Some(interaction))
        .await;
    assert_eq!(
        (answer.source, answer.content.as_str()),
        (PostSource::Followup, "Ferdig tenkt.")
    );
    let callbacks = fake.interaction_callbacks();
    let deferral = callbacks
        .iter()
        .find(|c| c.interaction_id == interaction)
        .expect("deferred");
    assert_eq!(deferral.kind, callback_type::DEFERRED_MESSAGE);

    // Answer, edit (PATCH @original), follow up.
    let interaction = fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "rediger",
        json!(null),
    );
    let posts = fake
        .wait_for_posts(3, WAIT, |p| p.interaction_id == Some(interaction))
        .await;
    let seen: Vec<_> = posts
        .iter()
        .map(|p| (p.source, p.content.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (PostSource::InteractionResponse, "Først"),
            (PostSource::InteractionOriginalEdit, "Så"),
            (PostSource::Followup, "Til slutt"),
        ]
    );
    assert_eq!(
        posts[0].message_id, posts[1].message_id,
        "the edit is of the original"
    );
    assert_ne!(
        posts[0].message_id, posts[2].message_id,
        "a follow-up after an answer is a new message"
    );
    fake.assert_no_unknown_routes();
}

// ----- components and modals -----

/// Answers a button click with "clicked CUSTOM_ID" and a modal submit with its field values.
struct ComponentEcho;

#[serenity::async_trait]
impl EventHandler for ComponentEcho {
    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let (answer, result) = match interaction {
            Interaction::Component(component) => {
                let answer = match &component.data.kind {
                    ComponentInteractionDataKind::Button => {
                        format!("clicked {}", component.data.custom_id)
                    }
                    ComponentInteractionDataKind::StringSelect { values } => {
                        format!("picked {}", values.join(","))
                    }
                    other => format!("unexpected {other:?}"),
                };
                let reply = CreateInteractionResponse::Message(
                    CreateInteractionResponseMessage::new()
                        .content(answer.clone())
                        .ephemeral(true),
                );
                (answer, component.create_response(&ctx.http, reply).await)
            }
            Interaction::Modal(modal) => {
                let values: Vec<String> = modal
                    .data
                    .components
                    .iter()
                    .flat_map(|row| row.components.iter())
                    .filter_map(|c| match c {
                        serenity::all::ActionRowComponent::InputText(input) => Some(format!(
                            "{}={}",
                            input.custom_id,
                            input.value.clone().unwrap_or_default()
                        )),
                        _ => None,
                    })
                    .collect();
                let answer = format!("{}: {}", modal.data.custom_id, values.join("; "));
                let reply = CreateInteractionResponse::Message(
                    CreateInteractionResponseMessage::new().content(answer.clone()),
                );
                (answer, modal.create_response(&ctx.http, reply).await)
            }
            _ => return,
        };
        if let Err(why) = result {
            tracing::error!("answering {answer:?} failed: {why}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_select_menus_and_modals_reach_the_handler() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let _client = RunningClient::with_handler(&fake, ComponentEcho).await;
    fake.wait_until_ready(WAIT).await;

    let http = http_for(&fake);
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new("helpful").label("Nyttig"),
        CreateButton::new("not-helpful").label("Ikke nyttig"),
    ]);
    let answer = ChannelId::new(ids::QA_CHANNEL)
        .send_message(
            &http,
            CreateMessage::new()
                .content("Svaret")
                .components(vec![buttons]),
        )
        .await
        .expect("post a message with buttons");
    let posted = fake
        .wait_for_post(WAIT, |p| p.message_id == answer.id.get())
        .await;
    assert_eq!(posted.custom_ids(), ["helpful", "not-helpful"]);

    let click = fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.id.get(),
        "helpful",
    );
    let reply = fake
        .wait_for_post(WAIT, |p| p.interaction_id == Some(click))
        .await;
    assert_eq!(reply.content, "clicked helpful");
    assert!(reply.is_ephemeral());

    let pick = fake.select_menu(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.id.get(),
        "topic",
        &["frister"],
    );
    assert_eq!(
        fake.wait_for_post(WAIT, |p| p.interaction_id == Some(pick))
            .await
            .content,
        "picked frister"
    );

    let submit = fake.modal_submit(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "correction",
        &[
            ("question", "Hva er terskelverdien?"),
            ("answer", "Se FOA § 5-1."),
        ],
    );
    let reply = fake
        .wait_for_post(WAIT, |p| p.interaction_id == Some(submit))
        .await;
    assert_eq!(
        reply.content,
        "correction: question=Hva er terskelverdien?; answer=Se FOA § 5-1."
    );
    fake.assert_no_unknown_routes();
}

// ----- REST without a gateway -----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_answers_are_objects_serenity_accepts() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let http = http_for(&fake);

    let me = http.get_current_user().await.expect("GET /users/@me");
    assert_eq!(me.id.get(), ids::BOT_USER);
    let app = http
        .get_current_application_info()
        .await
        .expect("GET /oauth2/applications/@me");
    assert_eq!(app.id.get(), ids::APPLICATION);
    let qa = ChannelId::new(ids::QA_CHANNEL);
    let channel = qa
        .to_channel(&http)
        .await
        .expect("GET /channels/{id}")
        .guild()
        .expect("a guild channel");
    assert_eq!(channel.name, "qa");
    let member = GuildId::new(ids::GUILD)
        .member(&http, UserId::new(ids::ADVISER_USER))
        .await
        .expect("GET member");
    assert_eq!(
        member.roles.iter().map(|r| r.get()).collect::<Vec<_>>(),
        [ids::ADVISER_ROLE]
    );
    let roles = GuildId::new(ids::GUILD)
        .roles(&http)
        .await
        .expect("GET roles");
    assert_eq!(roles.len(), 3);
    let dm = UserId::new(ids::SUPPLIER_USER)
        .create_dm_channel(&http)
        .await
        .expect("POST /users/@me/channels");
    assert_eq!(dm.id.get(), fake.dm_channel_id(ids::SUPPLIER_USER));

    // A reply with a file, then an edit, a reaction, typing, and a delete.
    let question = fake.send_message(
        ids::QA_CHANNEL,
        ids::SUPPLIER_USER,
        "Hvor finner jeg malen?",
    );
    let mut answer = qa
        .send_message(
            &http,
            CreateMessage::new()
                .content("Her er malen.")
                .reference_message((qa, MessageId::new(question)))
                .add_file(CreateAttachment::bytes(b"mal".to_vec(), "mal.txt")),
        )
        .await
        .expect("POST a message with a file");
    assert_eq!(answer.attachments[0].filename, "mal.txt");
    answer
        .edit(
            &http,
            EditMessage::new().content("Her er malen (oppdatert)."),
        )
        .await
        .expect("PATCH");
    answer.react(&http, '👍').await.expect("PUT reaction");
    qa.broadcast_typing(&http).await.expect("POST typing");
    answer.delete(&http).await.expect("DELETE");

    let posted = fake.posted();
    assert_eq!(posted.len(), 2);
    assert_eq!(posted[0].reply_to(), Some(question));
    assert_eq!(posted[0].attachments[0].filename, "mal.txt");
    assert_eq!(posted[0].attachments[0].text(), "mal");
    assert_eq!(
        (posted[1].source, posted[1].content.as_str()),
        (PostSource::ChannelMessageEdit, "Her er malen (oppdatert).")
    );
    assert_eq!(fake.deleted_messages(), [answer.id.get()]);
    fake.assert_no_unknown_routes();

    // Unknown routes are answered 404 and recorded.
    let unknown = http.get_guild(GuildId::new(ids::GUILD)).await;
    assert!(unknown.is_err());
    assert_eq!(fake.unknown_routes().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_429s_reach_the_caller_with_discords_body_and_headers() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    fake.fail_next_posts_with_429(2, 0.3);
    let url = format!(
        "{}/api/v10/channels/{}/messages",
        fake.api_url(),
        ids::QA_CHANNEL
    );

    let raw = reqwest::Client::new()
        .post(&url)
        .header("Authorization", format!("Bot {}", fake.token()))
        .json(&json!({ "content": "hei" }))
        .send()
        .await
        .expect("request");
    assert_eq!(raw.status().as_u16(), 429);
    assert_eq!(raw.headers()["retry-after"], "1");
    assert_eq!(raw.headers()["x-ratelimit-reset-after"], "0.300");
    assert_eq!(raw.headers()["x-ratelimit-remaining"], "0");
    let body: serde_json::Value = raw.json().await.expect("JSON body");
    assert_eq!(
        body,
        json!({ "message": "You are being rate limited.", "retry_after": 0.3, "global": false })
    );

    // serenity with its rate limiter off hands the 429 to the caller.
    let http = http_for(&fake);
    let qa = ChannelId::new(ids::QA_CHANNEL);
    let error = qa
        .say(&http, "hei")
        .await
        .expect_err("the second post is rate limited");
    match &error {
        serenity::Error::Http(http_error) => {
            assert_eq!(http_error.status_code().map(|s| s.as_u16()), Some(429))
        }
        other => panic!("expected an HTTP error, got {other:?}"),
    }
    qa.say(&http, "hei")
        .await
        .expect("the third post goes through");
    assert_eq!(fake.rate_limited_count(), 2);
    assert_eq!(fake.posted().len(), 1);
}

/// The fake says no where Discord says no: messages over 2,000 characters, empty
/// messages, too many buttons, replies to unknown messages, injected 403/404/5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_discord_would_refuse_are_refused() {
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let url = format!(
        "{}/api/v10/channels/{}/messages",
        fake.api_url(),
        ids::QA_CHANNEL
    );
    let post = |body: serde_json::Value| {
        let url = url.clone();
        let token = fake.token().to_owned();
        async move {
            let raw = reqwest::Client::new()
                .post(&url)
                .header("Authorization", format!("Bot {token}"))
                .json(&body)
                .send()
                .await
                .expect("request");
            let status = raw.status().as_u16();
            let body: serde_json::Value = raw.json().await.expect("JSON body");
            (status, body["code"].as_u64().unwrap_or(0))
        }
    };
    let button =
        |i: usize| json!({ "type": 2, "style": 1, "label": "x", "custom_id": format!("b{i}") });
    let six_buttons: Vec<_> = (0..6).map(button).collect();
    assert_eq!(
        post(json!({ "content": "x".repeat(2001) })).await,
        (400, 50035)
    );
    assert_eq!(post(json!({ "content": "ø".repeat(2000) })).await.0, 200);
    assert_eq!(post(json!({ "content": "" })).await, (400, 50006));
    assert_eq!(post(json!({ "content": "  \n" })).await, (400, 50006));
    assert_eq!(
        post(json!({ "content": "x", "components": [{ "type": 1, "components": six_buttons }] }))
            .await,
        (400, 50035)
    );
    assert_eq!(
        post(json!({ "content": "x", "embeds": [{ "description": "d".repeat(4097) }] })).await,
        (400, 50035)
    );
    assert_eq!(
        post(json!({ "content": "x", "message_reference": { "message_id": "1" } })).await,
        (400, 50035)
    );
    for (status, code) in [(403, 50001), (404, 10003), (500, 0), (503, 0)] {
        fake.fail_next_requests("POST", "/messages", 1, status, "injected", code);
        assert_eq!(post(json!({ "content": "x" })).await, (status, code));
    }
    assert_eq!(post(json!({ "content": "x" })).await.0, 200, "one each");
    assert_eq!(fake.posted().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dispatch_helper_makes_payloads_serenity_accepts() {
    // The fake checks each dispatch with serenity's deserializer and panics if serenity would
    // drop it; no client is needed for that.
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let http = http_for(&fake);
    let qa = ChannelId::new(ids::QA_CHANNEL);
    let answer = qa.say(&http, "Svar").await.expect("post");
    let thread = qa
        .create_thread_from_message(&http, answer.id, CreateThread::new("Tråd"))
        .await
        .expect("thread");
    let dm = fake.dm_channel_id(ids::SUPPLIER_USER);

    fake.send_message(ids::QA_CHANNEL, ids::OTHER_BOT_USER, "beep");
    fake.send_message_mentioning_bot(ids::QA_CHANNEL, ids::SUPPLIER_USER, "hjelp");
    fake.send_reply(ids::QA_CHANNEL, ids::SUPPLIER_USER, "takk", answer.id.get());
    fake.send_message(thread.id.get(), ids::ADVISER_USER, "i tråden");
    fake.send_dm(ids::SUPPLIER_USER, "hei");
    fake.send_message(ids::QA_CHANNEL, 42, "not a member");
    fake.slash_command(
        ids::SUPPLIER_USER,
        dm,
        "hei",
        json!([{ "name": "navn", "type": 3, "value": "x" }]),
    );
    fake.slash_command(ids::ADVISER_USER, thread.id.get(), "hei", json!(null));
    fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.id.get(),
        "helpful",
    );
    fake.select_menu(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.id.get(),
        "topic",
        &["a", "b"],
    );
    fake.modal_submit(ids::SUPPLIER_USER, dm, "feedback", &[("comment", "bra")]);

    let threads = fake.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!(
        (threads[0].parent_id, threads[0].from_message),
        (ids::QA_CHANNEL, Some(answer.id.get()))
    );
    let reply = fake.message(answer.id.get()).expect("stored");
    assert_eq!(reply["thread"]["id"], json!(thread.id.get().to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_application_id_is_not_the_bot_user_id() {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let http = http_for(&fake);
    http.set_application_id(serenity::all::ApplicationId::new(ids::BOT_USER));
    let result = http
        .create_global_commands(&Vec::<serenity::all::CreateCommand>::new())
        .await;
    assert!(
        result.is_err(),
        "commands under the bot's user id must fail, as on Discord"
    );
    http.set_application_id(serenity::all::ApplicationId::new(ids::APPLICATION));
    http.create_global_commands(&Vec::<serenity::all::CreateCommand>::new())
        .await
        .expect("right id");
}

// ----- the fake's own parts

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
