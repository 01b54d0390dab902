//! The Discord bot end to end: the real serenity/poise client in this process, started with
//! `anbud::discord::start`, against the fake Discord; a fresh SQLite database and the bundled
//! knowledge folder per test.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anbud::app::App;
use anbud::config::{ReplyMode, Settings};
use anbud::discord::{self, RunningBot};
use anbud::store::{QueueStatus, Store};
use secrecy::SecretString;
use serde_json::json;

use crate::fake_discord::{ids, FakeDiscord, FakeGuild, PostSource, Posted, TOKEN};

/// Generous for a loaded 2-core machine; a passing test takes a fraction of it.
pub(crate) const WAIT: Duration = Duration::from_secs(6);

const ANSWERED_NB: &str = "Hva er en dialogkonferanse?";
const TITLE_NB: &str = "Dialogkonferanse: slik forbereder du deg og deltar";
const OFF_TOPIC: &str = "Hva blir været i morgen i Bergen?";

pub(crate) struct TestBot {
    pub(crate) fake: FakeDiscord,
    pub(crate) app: App,
    bot: Option<RunningBot>,
    _dir: tempfile::TempDir,
}

impl TestBot {
    pub(crate) fn store(&self) -> Store {
        self.app.store().expect("the test database is connected")
    }

    /// Wait for the bot's reply to message `question`.
    async fn reply_to(&self, question: u64) -> Posted {
        self.fake
            .wait_for_post(WAIT, |p| p.reply_to() == Some(question))
            .await
    }

    /// Wait for the first post that answers interaction `interaction` and has content.
    pub(crate) async fn interaction_reply(&self, interaction: u64) -> Posted {
        self.fake
            .wait_for_post(WAIT, |p| {
                p.interaction_id == Some(interaction) && !p.content.is_empty()
            })
            .await
    }

    async fn open_items(&self) -> usize {
        self.store()
            .list_queue(Some(QueueStatus::Open))
            .await
            .unwrap()
            .len()
    }
}

impl Drop for TestBot {
    fn drop(&mut self) {
        drop(self.bot.take());
    }
}

fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Start a fake and the bot; `configure` adjusts the settings (already pointing at the fake,
/// a temporary database, the bundled knowledge, the `qa` channel, the adviser role and the
/// `advisers` channel).
pub(crate) async fn spawn_bot(configure: impl FnOnce(&mut Settings, &Path)) -> TestBot {
    crate::init_test_logging();
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::defaults();
    settings.knowledge.dir = knowledge_dir();
    settings.database.url = format!("sqlite://{}", dir.path().join("anbud.sqlite").display());
    settings.discord.api_url = fake.api_url();
    settings.discord.qa_channels = vec![ids::QA_CHANNEL];
    settings.discord.adviser_roles = vec![ids::ADVISER_ROLE];
    settings.discord.organiser_roles = vec![ids::ORGANISER_ROLE];
    settings.discord.adviser_channel = Some(ids::ADVISERS_CHANNEL);
    settings.discord.rate_limit_per_minute = 0;
    configure(&mut settings, dir.path());
    let app = App::open(&settings).await.expect("open the app");
    let bot = discord::start(app.clone(), SecretString::from(TOKEN))
        .await
        .expect("start the bot");
    fake.wait_until_ready(WAIT).await;
    fake.wait_for_request(WAIT, |r| r.method == "PUT" && r.path.ends_with("/commands"))
        .await;
    TestBot {
        fake,
        app,
        bot: Some(bot),
        _dir: dir,
    }
}

pub(crate) fn assert_no_mentions(p: &Posted) {
    let allowed = p
        .allowed_mentions
        .as_ref()
        .unwrap_or_else(|| panic!("no allowed_mentions on {:?}", p.content));
    assert_eq!(allowed["parse"], json!([]), "{allowed}");
    for key in ["users", "roles"] {
        assert!(
            allowed
                .get(key)
                .is_none_or(|v| v.as_array().is_some_and(|a| a.is_empty())),
            "{allowed}"
        );
    }
    assert_ne!(allowed["replied_user"], json!(true));
}

pub(crate) fn options(pairs: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let items: Vec<_> = pairs
        .iter()
        .map(|(name, value)| {
            let kind = match value {
                serde_json::Value::Bool(_) => 5,
                serde_json::Value::Number(_) => 4,
                _ => 3,
            };
            json!({ "name": name, "type": kind, "value": value })
        })
        .collect();
    json!(items)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_questions_in_the_qa_channel_and_mentions() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert_eq!(answer.source, PostSource::ChannelMessage);
    assert_eq!(answer.channel_id, ids::QA_CHANNEL);
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert!(answer.content.contains("Kilde: [DFØ"), "{}", answer.content);
    assert!(
        answer.content.contains("](<https://"),
        "the source is a link: {}",
        answer.content
    );
    assert!(
        answer.content.contains("sist gjennomgått 20"),
        "{}",
        answer.content
    );
    assert_no_mentions(&answer);
    let ids = answer.custom_ids();
    assert!(
        ids.iter().any(|c| c.starts_with("anbud:fb:y:nb:")),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|c| c.starts_with("anbud:fb:n:nb:")),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|c| c.starts_with("anbud:topic:nb:")),
        "{ids:?}"
    );

    let mention = t.fake.send_message_mentioning_bot(
        ids::GENERAL_CHANNEL,
        ids::SUPPLIER_USER,
        "What is a dialogue conference?",
    );
    let answer = t.reply_to(mention).await;
    assert_eq!(answer.channel_id, ids::GENERAL_CHANNEL);
    assert!(
        answer
            .content
            .contains("Dialogue conference: how to prepare and take part"),
        "{}",
        answer.content
    );
    assert_no_mentions(&answer);
    // This answer is longer than one message: the rest follows, with the buttons at the end.
    let rest = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.channel_id == ids::GENERAL_CHANNEL && p.reply_to().is_none()
        })
        .await;
    for part in [&answer, &rest] {
        assert!(part.content.chars().count() <= 2000);
        assert_no_mentions(part);
    }
    assert!(answer.custom_ids().is_empty() && !rest.custom_ids().is_empty());
    assert!(
        rest.content.contains("Source: ") && rest.content.contains("last reviewed"),
        "{}",
        rest.content
    );

    let dm = t.fake.send_dm(ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(dm).await;
    assert!(answer.content.contains(TITLE_NB));
    t.fake.assert_no_unknown_routes();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stays_silent_in_other_channels_and_for_bots() {
    let t = spawn_bot(|_, _| {}).await;
    let elsewhere = t
        .fake
        .send_message(ids::GENERAL_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let from_bot = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::OTHER_BOT_USER, ANSWERED_NB);
    // A later question that is answered proves the earlier ones were seen.
    let marker = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    t.reply_to(marker).await;
    t.fake
        .assert_no_post(Duration::from_millis(300), |p| {
            p.reply_to() == Some(elsewhere) || p.reply_to() == Some(from_bot)
        })
        .await;
    assert_eq!(t.fake.posted().len(), 1, "only the marker was answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abstention_is_queued_and_posted_to_the_advisers() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    let reply = t.reply_to(question).await;
    assert!(reply.content.contains("rådgiver"), "{}", reply.content);
    assert_no_mentions(&reply);
    let alert = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ADVISERS_CHANNEL)
        .await;
    assert!(alert.content.contains(OFF_TOPIC), "{}", alert.content);
    assert!(alert.content.contains("#1"), "{}", alert.content);
    assert_no_mentions(&alert);
    let items = t.store().list_queue(Some(QueueStatus::Open)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].question, OFF_TOPIC);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advisers_answer_reaches_the_asker_in_the_channel() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;
    t.fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ADVISERS_CHANNEL)
        .await;

    let text = "Boten svarer ikke på vær, men yr.no gjør det.";
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "answer",
        options(&[("id", json!(1)), ("text", json!(text))]),
    );
    let confirmation = t.interaction_reply(command).await;
    assert!(confirmation.is_ephemeral());
    assert!(
        confirmation.content.contains("#1"),
        "{}",
        confirmation.content
    );

    let delivered = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.reply_to() == Some(question) && p.content.contains(text)
        })
        .await;
    assert_eq!(delivered.channel_id, ids::QA_CHANNEL);
    assert!(
        delivered.content.contains("> Hva blir været"),
        "{}",
        delivered.content
    );
    assert_no_mentions(&delivered);
    assert_eq!(
        t.store()
            .list_queue(Some(QueueStatus::Answered))
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_advisers_are_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = dir.path().join("knowledge");
    copy_dir(&knowledge_dir(), &knowledge);
    let k = knowledge.clone();
    let t = spawn_bot(move |s, _| s.knowledge.dir = k).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;

    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "answer",
        options(&[("id", json!(1)), ("text", json!("Sol."))]),
    );
    let refusal = t.interaction_reply(command).await;
    assert!(refusal.is_ephemeral());
    assert!(
        refusal.content.contains("bare for rådgivere"),
        "{}",
        refusal.content
    );
    assert_eq!(t.open_items().await, 1, "the item is still open");

    // A new entry on disk is not picked up when a non-adviser asks for a reload.
    let before = t.app.answerer().knowledge().ids().len();
    std::fs::copy(
        knowledge.join("entries/dialogue-conference.nb.md"),
        knowledge.join("entries/zz-copy.nb.md"),
    )
    .unwrap();
    let text = std::fs::read_to_string(knowledge.join("entries/zz-copy.nb.md"))
        .unwrap()
        .replace("id = \"dialogue-conference\"", "id = \"zz-copy\"");
    std::fs::write(knowledge.join("entries/zz-copy.nb.md"), text).unwrap();
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "kb",
        json!([{ "name": "reload", "type": 1, "options": [] }]),
    );
    let refusal = t.interaction_reply(command).await;
    assert!(
        refusal.content.contains("bare for rådgivere"),
        "{}",
        refusal.content
    );
    assert_eq!(t.app.answerer().knowledge().ids().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_refuses_the_third_question_politely() {
    let t = spawn_bot(|s, _| s.discord.rate_limit_per_minute = 2).await;
    for _ in 0..2 {
        let q = t
            .fake
            .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
        let a = t.reply_to(q).await;
        assert!(a.content.contains(TITLE_NB));
    }
    let third = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let refusal = t.reply_to(third).await;
    assert!(
        refusal.content.contains("mange spørsmål"),
        "{}",
        refusal.content
    );
    assert!(!refusal.content.contains(TITLE_NB));
    assert_no_mentions(&refusal);
    // Another user is not limited.
    let other = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::ADVISER_USER, ANSWERED_NB);
    assert!(t.reply_to(other).await.content.contains(TITLE_NB));
}

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_me_deletes_the_users_queued_questions() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;
    assert_eq!(t.open_items().await, 1);

    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "forget-me",
        json!(null),
    );
    let ask = t.interaction_reply(command).await;
    assert!(ask.is_ephemeral());
    let yes = ask
        .custom_ids()
        .into_iter()
        .find(|c| c.starts_with("anbud:forget:yes:"))
        .expect("a confirm button");

    // Someone else's click does nothing.
    t.fake
        .button_click(ids::ADVISER_USER, ids::QA_CHANNEL, ask.message_id, &yes);
    t.fake
        .wait_for_callback(WAIT, |c| c.content().contains("ikke til deg"))
        .await;
    assert_eq!(t.open_items().await, 1);

    let click = t
        .fake
        .button_click(ids::SUPPLIER_USER, ids::QA_CHANNEL, ask.message_id, &yes);
    let done = t
        .fake
        .wait_for_post(WAIT, |p| p.interaction_id == Some(click))
        .await;
    assert_eq!(done.source, PostSource::InteractionUpdate);
    assert!(
        done.content.contains("slettet 1 spørsmål"),
        "{}",
        done.content
    );
    assert!(done.components.is_empty());
    assert_eq!(t.open_items().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_buttons_record_feedback_and_not_helpful_queues_the_question() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    let ids_ = answer.custom_ids();
    let helpful = ids_.iter().find(|c| c.starts_with("anbud:fb:y:")).unwrap();
    let not_helpful = ids_.iter().find(|c| c.starts_with("anbud:fb:n:")).unwrap();

    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        helpful,
    );
    let thanks = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == click)
        .await;
    assert!(
        thanks.is_ephemeral() && thanks.content().contains("Takk"),
        "{}",
        thanks.content()
    );
    assert_eq!(t.open_items().await, 0);

    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        not_helpful,
    );
    let thanks = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == click)
        .await;
    assert!(
        thanks.content().contains("rådgiver"),
        "{}",
        thanks.content()
    );
    let items = t.store().list_queue(Some(QueueStatus::Open)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].question, ANSWERED_NB);
    assert_eq!(items[0].reason.not_helpful, 1);
    let alert = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ADVISERS_CHANNEL)
        .await;
    assert!(alert.content.contains("ikke nyttig"), "{}", alert.content);
    let stats = t.store().stats(None).await.unwrap();
    assert_eq!(stats.unhelpful, 1);

    // A related topic shows that entry.
    let topic = ids_.iter().find(|c| c.starts_with("anbud:topic:")).unwrap();
    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        topic,
    );
    let shown = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == click)
        .await;
    assert!(
        shown.is_ephemeral() && shown.content().starts_with("**"),
        "{}",
        shown.content()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ask_is_ephemeral_and_can_be_shared() {
    let t = spawn_bot(|_, _| {}).await;
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "ask",
        options(&[("question", json!(ANSWERED_NB)), ("private", json!(true))]),
    );
    let answer = t.interaction_reply(command).await;
    assert!(answer.is_ephemeral());
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert_no_mentions(&answer);
    let share = answer
        .custom_ids()
        .into_iter()
        .find(|c| c.starts_with("anbud:share:"))
        .expect("a share button");

    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        &share,
    );
    let shared = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.source == PostSource::ChannelMessage && p.channel_id == ids::QA_CHANNEL
        })
        .await;
    assert!(shared.content.contains(TITLE_NB), "{}", shared.content);
    assert!(!shared.is_ephemeral());
    assert_no_mentions(&shared);
    t.fake
        .wait_for_callback(WAIT, |c| c.interaction_id == click && c.is_ephemeral())
        .await;

    // A public /ask is answered in the open.
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "ask",
        options(&[("question", json!(ANSWERED_NB))]),
    );
    let answer = t.interaction_reply(command).await;
    assert!(!answer.is_ephemeral());
    assert!(answer.content.contains(TITLE_NB));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_mode_answers_in_a_thread_and_follow_ups_there() {
    let t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == question)
        .await;
    assert!(answer.content.contains(TITLE_NB));
    let threads = t.fake.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!(
        (threads[0].id, threads[0].parent_id),
        (question, ids::QA_CHANNEL)
    );

    // A short follow-up is read together with the thread's first question.
    let follow_up = t
        .fake
        .send_message(question, ids::SUPPLIER_USER, "Hvem kan delta?");
    let answer = t.reply_to(follow_up).await;
    assert_eq!(answer.channel_id, question);
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert_eq!(t.fake.threads().len(), 1, "no thread in a thread");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_reload_with_a_broken_file_keeps_answering_and_reports_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = dir.path().join("knowledge");
    copy_dir(&knowledge_dir(), &knowledge);
    let k = knowledge.clone();
    let t = spawn_bot(move |s, _| s.knowledge.dir = k).await;
    std::fs::write(
        knowledge.join("entries/broken.nb.md"),
        "+++\nid = \"broken\"\nthis is not toml\n+++\nBody\n",
    )
    .unwrap();

    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "kb",
        json!([{ "name": "reload", "type": 1, "options": [] }]),
    );
    let report = t.interaction_reply(command).await;
    assert!(report.is_ephemeral());
    assert!(
        report.content.contains("broken.nb.md:"),
        "{}",
        report.content
    );
    assert!(
        regex::Regex::new(r"broken\.nb\.md:\d+:")
            .unwrap()
            .is_match(&report.content),
        "{}",
        report.content
    );

    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    assert!(t.reply_to(question).await.content.contains(TITLE_NB));

    // Fixed: the reload succeeds.
    std::fs::remove_file(knowledge.join("entries/broken.nb.md")).unwrap();
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "kb",
        json!([{ "name": "reload", "type": 1, "options": [] }]),
    );
    let report = t.interaction_reply(command).await;
    assert!(
        report.content.contains("Lastet inn på nytt"),
        "{}",
        report.content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_and_role_mentions_are_answered_without_pinging() {
    let t = spawn_bot(|_, _| {}).await;
    let text = format!("@everyone <@&{}> {ANSWERED_NB}", ids::ADVISER_ROLE);
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, &text);
    let answer = t.reply_to(question).await;
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert!(!answer.content.contains("@everyone"));
    assert_no_mentions(&answer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_is_in_the_users_language() {
    let t = spawn_bot(|_, _| {}).await;
    // The fake's interactions carry the locale "no".
    let command = t
        .fake
        .slash_command(ids::SUPPLIER_USER, ids::QA_CHANNEL, "help", json!(null));
    let help = t.interaction_reply(command).await;
    assert!(help.is_ephemeral());
    assert!(
        help.content.contains("Slik spør du") && help.content.contains("/forget-me"),
        "{}",
        help.content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisers_list_show_dismiss_and_count() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;

    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "unanswered",
        json!(null),
    );
    let list = t.interaction_reply(command).await;
    assert!(list.is_ephemeral());
    assert!(
        list.content.contains("#1") && list.content.contains(OFF_TOPIC),
        "{}",
        list.content
    );

    let show = json!([{ "name": "show", "type": 1, "options": [{ "name": "id", "type": 3, "value": "dialogue-conference" }] }]);
    let command = t
        .fake
        .slash_command(ids::ADVISER_USER, ids::ADVISERS_CHANNEL, "kb", show);
    let shown = t.interaction_reply(command).await;
    assert!(
        shown.content.contains(TITLE_NB) && shown.content.contains("dialogue-conference.nb.md"),
        "{}",
        shown.content
    );

    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "stats",
        json!(null),
    );
    let stats = t.interaction_reply(command).await;
    assert!(
        stats.content.contains("Spørsmål: 1") && stats.content.contains("Åpne i køen: 1"),
        "{}",
        stats.content
    );

    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "dismiss",
        options(&[("id", json!(1)), ("reason", json!("off topic"))]),
    );
    let dismissed = t.interaction_reply(command).await;
    assert!(
        dismissed.content.contains("Avviste #1"),
        "{}",
        dismissed.content
    );
    assert_eq!(t.open_items().await, 0);

    // Answering a dismissed item is refused with the reason, not an apology.
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "answer",
        options(&[("id", json!(1)), ("text", json!("For sent."))]),
    );
    let refused = t.interaction_reply(command).await;
    assert!(refused.content.contains("dismissed"), "{}", refused.content);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_add_and_edit_through_the_form_teach_the_bot() {
    let t = spawn_bot(|_, _| {}).await;
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "kb",
        json!([{ "name": "add", "type": 1, "options": [] }]),
    );
    let modal = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == command)
        .await;
    assert_eq!(modal.kind, crate::fake_discord::callback_type::MODAL);
    let modal_id = modal.data["custom_id"].as_str().unwrap().to_string();
    t.fake.modal_submit(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        &modal_id,
        &[
            ("title", "Parkering ved rådhuset under dialogkonferanser"),
            ("body", "Leverandører kan parkere gratis i rådhusets kjeller når de deltar på dialogkonferanser."),
            ("questions", "Hvor kan jeg parkere ved rådhuset?\nEr det gratis parkering ved rådhuset?"),
            ("source_name", "Kommunens parkeringsside"),
            ("source_url", "https://example.kommune.no/parkering"),
        ],
    );
    let saved = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(command) && p.content.contains("Lagret")
        })
        .await;
    assert!(
        saved.content.contains("learned-parkering-ved-radhuset"),
        "{}",
        saved.content
    );

    let question = t.fake.send_message(
        ids::QA_CHANNEL,
        ids::SUPPLIER_USER,
        "Hvor kan jeg parkere ved rådhuset?",
    );
    let answer = t.reply_to(question).await;
    assert!(
        answer.content.contains("Parkering ved rådhuset"),
        "{}",
        answer.content
    );
    assert!(
        answer
            .content
            .contains("Kommunens parkeringsside](<https://example.kommune.no/parkering>)"),
        "{}",
        answer.content
    );

    // Edit: the form opens with the entry's text; the saved version answers.
    let edit = json!([{ "name": "edit", "type": 1, "options": [{ "name": "id", "type": 3, "value": "dialogue-conference" }] }]);
    let command = t
        .fake
        .slash_command(ids::ADVISER_USER, ids::ADVISERS_CHANNEL, "kb", edit);
    let modal = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == command)
        .await;
    assert!(
        modal.data.to_string().contains(TITLE_NB),
        "the form is filled in"
    );
    let modal_id = modal.data["custom_id"].as_str().unwrap().to_string();
    t.fake.modal_submit(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        &modal_id,
        &[
            ("title", "Dialogkonferanse (oppdatert)"),
            (
                "body",
                "En dialogkonferanse er et åpent møte der kommunen presenterer et behov.",
            ),
            ("questions", "Hva er en dialogkonferanse?"),
            ("source_name", "DFØ"),
            ("source_url", ""),
        ],
    );
    t.fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(command) && p.content.contains("Lagret")
        })
        .await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert!(
        answer.content.contains("Dialogkonferanse (oppdatert)"),
        "{}",
        answer.content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_whose_channel_is_gone_goes_by_direct_message() {
    use anbud::store::{NewUnanswered, Origin, Reason, Source};
    let t = spawn_bot(|_, _| {}).await;
    let gone = NewUnanswered {
        question: "Kan jeg levere tilbud på papir?".into(),
        lang: "nb".into(),
        origin: Origin {
            source: Source::Discord,
            guild_id: Some(ids::GUILD.to_string()),
            channel_id: Some("1100000000000000999".into()),
            message_id: Some("1100000000000000998".into()),
            thread_id: None,
            user_id: Some(ids::SUPPLIER_USER.to_string()),
        },
        best_candidate: None,
        score: 0.0,
        reason: Reason::Abstained,
        asked_at: chrono::Utc::now(),
    };
    let logged = t.store().log_unanswered(&gone).await.unwrap();
    anbud::adviser::answer(
        &t.app,
        logged.item_id,
        "Nei, tilbud leveres elektronisk.",
        "tester",
        anbud::adviser::Learn::Nothing,
    )
    .await
    .unwrap();
    let dm = t.fake.dm_channel_id(ids::SUPPLIER_USER);
    let delivered = t.fake.wait_for_post(WAIT, |p| p.channel_id == dm).await;
    assert!(
        delivered.content.contains("leveres elektronisk")
            && delivered.content.contains("> Kan jeg levere"),
        "{}",
        delivered.content
    );
    assert_no_mentions(&delivered);
}

/// A process configured to run shard 2 of 4 identifies as that shard, and answers the
/// events Discord sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_runs_the_shard_range_it_is_configured_for() {
    let t = spawn_bot(|settings, _| {
        settings.discord.shard_total = 4;
        settings.discord.shard_range = vec![2, 2];
    })
    .await;
    assert_eq!(t.fake.gateway_stats().shards, vec![json!([2, 4])]);
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
}
