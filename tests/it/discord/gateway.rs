//! The connection to Discord: 429s, a dropped gateway, shards.

use super::*;
use crate::fake_discord::{FakeDiscord, FakeGuild};
use crate::support::spawn_bot_on;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_and_the_reply_delivered() {
    let t = spawn_bot(|_, _| {}).await;
    t.fake.fail_next_posts_with_429(2, 0.2);
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert!(answer.content.contains(TITLE_NB));
    assert_eq!(t.fake.rate_limited_count(), 2);
}

/// Discord failing with a 5xx on a channel post: the post is retried (a few times, with
/// back-off), and a message Discord created before failing is not posted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_on_a_post_is_retried_without_posting_twice() {
    let t = spawn_bot(|_, _| {}).await;
    let qa_posts = format!("/channels/{}/messages", ids::QA_CHANNEL);
    t.fake
        .fail_next_requests("POST", &qa_posts, 1, 502, "Bad Gateway", 0);
    t.fake
        .fail_next_posts_after_creating(ids::ADVISERS_CHANNEL, 1, 500);
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;
    let advisers_posts = format!("/channels/{}/messages", ids::ADVISERS_CHANNEL);
    t.fake
        .wait_for_request(WAIT, |r| {
            r.method == "POST" && r.path.ends_with(&advisers_posts) && r.status == 200
        })
        .await;
    let alerts: Vec<_> = t
        .fake
        .posted()
        .into_iter()
        .filter(|p| p.channel_id == ids::ADVISERS_CHANNEL)
        .collect();
    assert_eq!(alerts.len(), 1, "the alert once: {alerts:?}");
    let failed: Vec<_> = t
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.status >= 500)
        .map(|r| r.path.trim_start_matches("/api/v10").to_owned())
        .collect();
    assert_eq!(failed, [qa_posts, advisers_posts], "each failed once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_sent_while_the_gateway_is_down_is_answered_after_resume() {
    let t = spawn_bot(|_, _| {}).await;
    let first = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    t.reply_to(first).await;
    assert!(t.fake.drop_gateway());
    let during = t.fake.send_message(
        ids::QA_CHANNEL,
        ids::SUPPLIER_USER,
        "What is a dialogue conference?",
    );
    let answer = t.reply_to(during).await;
    assert!(answer.content.contains("Dialogue conference"));
    let stats = t
        .fake
        .wait_for_gateway("a resume", WAIT, |s| s.resumes >= 1 && s.connected)
        .await;
    assert_eq!(stats.identifies, 1, "resumed, not re-identified");
    let after = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    t.reply_to(after).await;
    let replies: Vec<_> = t
        .fake
        .posted()
        .iter()
        .filter_map(|p| p.reply_to())
        .collect();
    assert_eq!(
        replies,
        vec![first, during, after],
        "each question answered once"
    );
}

/// A process configured to run shard 3 of 4 identifies as that shard and answers its
/// guild's events; one running shard 2 of 4 gets none of them, as on Discord
/// (the test guild is on shard `(guild_id >> 22) % 4 == 3`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_runs_the_shard_range_it_is_configured_for() {
    assert_eq!((ids::GUILD >> 22) % 4, 3);
    let other = spawn_bot(|settings, _| {
        settings.discord.shard_total = 4;
        settings.discord.shard_range = vec![2, 2];
    })
    .await;
    let question = other
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    other
        .fake
        .assert_no_post(Duration::from_millis(500), |p| {
            p.reply_to() == Some(question)
        })
        .await;
    drop(other);

    let t = spawn_bot(|settings, _| {
        settings.discord.shard_total = 4;
        settings.discord.shard_range = vec![3, 3];
    })
    .await;
    assert_eq!(t.fake.gateway_stats().shards, vec![json!([3, 4])]);
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
}

/// Discord refuses the command registration (403 Missing Access, as for a guild in
/// `command_guilds` the bot is not in): the bot logs it, keeps answering messages, and
/// registers the commands when Discord takes them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_command_registration_leaves_the_bot_answering_and_is_retried() {
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    fake.fail_next_requests("PUT", "/commands", 2, 403, "Missing Access", 50001);
    let t = spawn_bot_on(fake, |s, _| s.discord.command_guilds = vec![ids::GUILD]).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    // Not WAIT: a deaf bot never answers, and that should fail in seconds.
    let answer = t
        .fake
        .wait_for_post(Duration::from_secs(20), |p| p.reply_to() == Some(question))
        .await;
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    let registered = t
        .fake
        .wait_for_request(Duration::from_secs(20), |r| {
            r.method == "PUT" && r.path.ends_with("/commands") && r.status == 200
        })
        .await;
    assert!(registered.path.contains(&ids::GUILD.to_string()));
    let refused = t
        .fake
        .requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.status == 403)
        .count();
    assert_eq!(refused, 2, "refused twice, then retried until taken");
    assert!(!t.fake.registered_commands().is_empty());
}

/// Switching from global commands to `command_guilds`: the guild set is registered and
/// the global set an earlier run registered is removed (else members see every
/// command twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_per_guild_removes_the_global_commands() {
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    fake.preregister_commands(None, &["ask", "help"]);
    let t = spawn_bot_on(fake, |s, _| s.discord.command_guilds = vec![ids::GUILD]).await;
    t.fake
        .wait_for_request(WAIT, |r| {
            r.method == "PUT" && r.path.ends_with("/commands") && r.body == json!([])
        })
        .await;
    let commands = t.fake.registered_commands();
    assert!(commands.iter().any(|c| c["name"] == "kb"), "{commands:?}");
    let guild = json!(ids::GUILD.to_string());
    assert!(
        commands.iter().all(|c| c["guild_id"] == guild),
        "global commands left: {commands:?}"
    );
}

/// Switching from `command_guilds` back to global commands: the global set is
/// registered and the guild set of each guild the bot is in is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_globally_removes_the_guild_commands() {
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    fake.preregister_commands(Some(ids::GUILD), &["ask", "help"]);
    let t = spawn_bot_on(fake, |_, _| {}).await;
    t.fake
        .wait_for_request(WAIT, |r| {
            r.method == "PUT"
                && r.path.contains(&format!("/guilds/{}/commands", ids::GUILD))
                && r.body == json!([])
        })
        .await;
    let commands = t.fake.registered_commands();
    assert!(commands.iter().any(|c| c["name"] == "kb"), "{commands:?}");
    assert!(
        commands.iter().all(|c| c["guild_id"].is_null()),
        "guild commands left: {commands:?}"
    );
}

/// `discord.api_url` alone does not turn serenity's rate limiter off, and the test-only
/// switch is refused with Discord's own address: the bot does not start, naming the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limiter_is_only_turned_off_for_a_fake_discord() {
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let dir = tempfile::tempdir().unwrap();
    let refused = |api_url: String, off: bool| {
        let mut settings = crate::support::test_settings(&fake, dir.path());
        settings.discord.api_url = api_url;
        settings.discord.test_without_rate_limiter = off;
        async move {
            let app = anbud::app::App::open(&settings).await.unwrap();
            match anbud::discord::start(app, secrecy::SecretString::from(fake_token())).await {
                Err(anbud::discord::DiscordError::Config { key, .. }) => key,
                Err(other) => panic!("{other}"),
                Ok(_) => panic!("started with api_url {:?}", settings.discord.api_url),
            }
        }
    };
    assert_eq!(refused(fake.api_url(), false).await, "discord.api_url");
    assert_eq!(
        refused("https://discord.com".into(), true).await,
        "discord.test_without_rate_limiter"
    );
    assert_eq!(
        refused(String::new(), true).await,
        "discord.test_without_rate_limiter"
    );
    assert!(fake.requests().is_empty(), "nothing was sent anywhere");
}

fn fake_token() -> &'static str {
    crate::fake_discord::TOKEN
}

/// Without the Message Content intent enabled in the developer portal, Discord closes the
/// gateway with 4014: the bot stops with an error (not a silent, deaf bot), and the error
/// names the cause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disallowed_intents_stop_the_bot_with_a_clear_error() {
    let mut t = spawn_bot(|_, _| {}).await;
    assert!(t.fake.close_gateway(4014));
    let mut bot = t.bot.take().unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(30), bot.wait())
        .await
        .expect("the bot stops");
    let error = stopped.expect_err("an error, not a clean stop");
    let chain = anbud::discord::reply::cause_chain(&error);
    assert!(
        chain.contains("4014") && chain.contains("Message Content Intent"),
        "{chain}"
    );
}
