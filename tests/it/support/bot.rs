//! The real bot (`anbud::discord::start`, serenity and poise in this process) against a
//! fake Discord, a fresh SQLite database and the bundled knowledge per test.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anbud::app::{App, Clock, SystemClock};
use anbud::config::Settings;
use anbud::discord::{self, RunningBot};
use anbud::store::{QueueStatus, Store};
use secrecy::SecretString;
use serde_json::{json, Value};

use super::knowledge_dir;
use crate::fake_discord::{ids, FakeDiscord, FakeGuild, Posted, TOKEN};

/// How long a test waits for something the bot must do before it fails. Only a hang
/// guard, not a claim about speed (tests do not assert on time): the load test floods
/// the same test binary, and a reply may queue behind 2,000 others. How fast replies
/// are is measured and printed, not asserted (`cargo test --test it load -- --nocapture`).
pub(crate) const WAIT: Duration = Duration::from_secs(120);

/// A running bot, its fake Discord and its application (store, answering core).
pub(crate) struct TestBot {
    pub(crate) fake: FakeDiscord,
    pub(crate) app: App,
    pub(crate) bot: Option<RunningBot>,
    pub(crate) dir: tempfile::TempDir,
}

impl TestBot {
    pub(crate) fn store(&self) -> Store {
        self.app.store().expect("the test database is connected")
    }

    /// Wait for the bot's reply to message `question`.
    pub(crate) async fn reply_to(&self, question: u64) -> Posted {
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

    /// Stop the bot and start it again on the same database and fake Discord, as a
    /// deploy or a crash would: everything the bot kept in memory is gone.
    pub(crate) async fn restart(&mut self) {
        let identified = self.fake.gateway_stats().identifies;
        let registered = self.registrations();
        if let Some(bot) = self.bot.take() {
            bot.stop().await;
        }
        self.fake
            .wait_for_gateway("the old bot to disconnect", WAIT, |s| !s.connected)
            .await;
        let bot = discord::start(self.app.clone(), SecretString::from(TOKEN))
            .await
            .expect("restart the bot");
        self.fake
            .wait_for_gateway("the new bot to identify", WAIT, |s| {
                s.identifies > identified && s.connected
            })
            .await;
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.registrations() <= registered {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the restarted bot never registered its commands"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.bot = Some(bot);
    }

    fn registrations(&self) -> usize {
        self.fake
            .requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.path.ends_with("/commands"))
            .count()
    }

    /// Wait for interaction `command` to open a form whose first field is a paragraph,
    /// and submit `text` in it as `user` in `channel`. Returns the submission's
    /// interaction id: what the command says from then on goes there.
    pub(crate) async fn fill_text_form(
        &self,
        command: u64,
        user: u64,
        channel: u64,
        text: &str,
    ) -> u64 {
        let modal = self
            .fake
            .wait_for_callback(WAIT, |c| {
                c.interaction_id == command && c.kind == crate::fake_discord::callback_type::MODAL
            })
            .await;
        let field = &modal.data["components"][0]["components"][0];
        assert_eq!(field["style"], json!(2), "a paragraph: {field}");
        self.fake.modal_submit(
            user,
            channel,
            modal.data["custom_id"].as_str().unwrap(),
            &[(field["custom_id"].as_str().unwrap(), text)],
        )
    }

    /// The supplier runs `/forget-me` in the Q&A channel; returns the private question
    /// with its buttons.
    pub(crate) async fn forget_me_prompt(&self) -> Posted {
        let command = self.fake.slash_command(
            ids::SUPPLIER_USER,
            ids::QA_CHANNEL,
            "forget-me",
            Value::Null,
        );
        self.interaction_reply(command).await
    }

    /// How many queue items are open.
    pub(crate) async fn open_items(&self) -> usize {
        self.store()
            .list_queue(Some(QueueStatus::Open))
            .await
            .unwrap()
            .len()
    }

    /// `user` clicks the button whose custom id starts with `prefix` on `message`;
    /// returns the interaction id. Panics, listing the buttons, if there is none.
    pub(crate) fn click(&self, user: u64, message: &Posted, prefix: &str) -> u64 {
        let custom_id = button(message, prefix);
        self.fake
            .button_click(user, message.channel_id, message.message_id, &custom_id)
    }
}

impl Drop for TestBot {
    fn drop(&mut self) {
        drop(self.bot.take());
    }
}

/// The custom id of the button on `message` that starts with `prefix`.
pub(crate) fn button(message: &Posted, prefix: &str) -> String {
    message
        .custom_ids()
        .into_iter()
        .find(|c| c.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix}… button on {:?}", message.custom_ids()))
}

/// The settings every bot test starts from: pointing at `fake`, a database in `dir`, the
/// bundled knowledge, the `qa` channel, the adviser and organiser roles, the `advisers`
/// channel, no rate limit.
pub(crate) fn test_settings(fake: &FakeDiscord, dir: &Path) -> Settings {
    let mut settings = Settings::defaults();
    settings.knowledge.dir = knowledge_dir();
    settings.database.url = format!("sqlite://{}", dir.join("anbud.sqlite").display());
    settings.discord.api_url = fake.api_url();
    settings.discord.test_without_rate_limiter = true;
    settings.discord.qa_channels = vec![ids::QA_CHANNEL];
    settings.discord.adviser_roles = vec![ids::ADVISER_ROLE];
    settings.discord.organiser_roles = vec![ids::ORGANISER_ROLE];
    settings.discord.adviser_channel = Some(ids::ADVISERS_CHANNEL);
    settings.discord.rate_limit_per_minute = 0;
    // Never the real Doffin, even with DOFFIN_API_KEY set in the shell (port 9: discard).
    settings.tenders.api_url = "http://127.0.0.1:9".into();
    settings
}

/// Start a fake and the bot; `configure` adjusts the [`test_settings`].
pub(crate) async fn spawn_bot(configure: impl FnOnce(&mut Settings, &Path)) -> TestBot {
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    spawn_bot_on(fake, configure).await
}

/// Start the bot against a fake that is already running (one the test set up itself).
pub(crate) async fn spawn_bot_on(
    fake: FakeDiscord,
    configure: impl FnOnce(&mut Settings, &Path),
) -> TestBot {
    spawn_bot_with_clock(fake, configure, Arc::new(SystemClock)).await
}

/// [`spawn_bot_on`] with the bot going by `clock` (the scheduler: announcements and
/// reminders fall due when the test moves the clock).
pub(crate) async fn spawn_bot_with_clock(
    fake: FakeDiscord,
    configure: impl FnOnce(&mut Settings, &Path),
    clock: Arc<dyn Clock>,
) -> TestBot {
    crate::init_test_logging();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(&fake, dir.path());
    configure(&mut settings, dir.path());
    let app = App::open(&settings)
        .await
        .expect("open the app")
        .with_clock(clock);
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
        dir,
    }
}

/// Panics unless `p` was sent with mentions off (no @everyone, roles, users or reply ping).
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

/// Slash-command options from (name, value) pairs: booleans, integers, strings.
pub(crate) fn options(pairs: &[(&str, Value)]) -> Value {
    let items: Vec<_> = pairs
        .iter()
        .map(|(name, value)| {
            let kind = match value {
                Value::Bool(_) => 5,
                Value::Number(_) => 4,
                _ => 3,
            };
            json!({ "name": name, "type": kind, "value": value })
        })
        .collect();
    json!(items)
}

/// A subcommand with its options, as Discord sends it: `/kb reload`, `/events add …`.
pub(crate) fn subcommand(name: &str, opts: Value) -> Value {
    json!([{ "name": name, "type": 1, "options": opts }])
}
