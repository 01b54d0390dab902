//! The Discord adapter: serenity + poise in front of [`App`].
//!
//! [`serve`] runs the bot until Ctrl-C; [`start`] starts it in the background and returns
//! a [`RunningBot`] (the integration tests use it against a fake Discord). Everything the
//! bot posts goes through [`send`] (mentions off, 429 retried, long text split) or through
//! poise replies built with the same `allowed_mentions`.
//!
//! - [`answering`]: questions in messages and `/ask`, the answer buttons.
//! - [`adviser`]: the advisers' commands (role checked on the server side).
//! - [`everyone`]: `/help`, `/forget-me`.
//! - [`delivery`]: the outbox loop (advisers' answers to askers) and alerts to advisers.
//! - [`format`], [`buttons`], [`rate_limit`]: pure logic, unit tested.

pub mod adviser;
pub mod answering;
pub mod buttons;
pub mod delivery;
pub mod everyone;
pub mod format;
pub mod organiser;
pub mod poster;
pub mod rate_limit;
pub mod send;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use poise::serenity_prelude as serenity;
use secrecy::{ExposeSecret, SecretString};
use serenity::{
    ChannelId, FullEvent, GatewayIntents, HttpBuilder, Interaction, RoleId, ShardManager,
};

use crate::adviser::AdviserError;
use crate::announce::{self, AnnounceError};
use crate::app::App;
use crate::knowledge::Lang;
use crate::store::StoreError;
use format::{lang_from_locale, tr};
use rate_limit::RateLimiter;

/// The environment variable the token is read from.
pub const TOKEN_VARIABLE: &str = "DISCORD_TOKEN";

/// Why the bot could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("the environment variable {TOKEN_VARIABLE} is not set; put the bot token from the Discord developer portal there")]
    MissingToken,
    #[error(
        "the environment variable {TOKEN_VARIABLE} does not look like a bot token (it is empty or contains spaces)"
    )]
    BadToken,
    #[error("configuration key `{key}`: {problem}")]
    Config { key: &'static str, problem: String },
    #[error("the Discord client failed")]
    Client(#[source] Box<serenity::Error>),
}

/// Why a command or event handler failed. Never shown to users: [`on_error`] logs it and
/// answers kindly.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("Discord request failed")]
    Discord(#[from] serenity::Error),
    #[error("adviser action failed")]
    Adviser(#[from] AdviserError),
    #[error("store failed")]
    Store(#[from] StoreError),
    #[error("announcement or event action failed")]
    Announce(#[from] AnnounceError),
    #[error("{0}")]
    Unexpected(String),
}

pub type Error = CommandError;
pub type Context<'a> = poise::Context<'a, Data, Error>;

/// What the bot remembers while it runs (lost on restart; nothing here is needed for
/// correctness after a restart, only for convenience).
#[derive(Debug)]
pub struct BotState {
    pub rate: RateLimiter,
    /// Threads the bot opened on a question → that first question.
    threads: Mutex<HashMap<u64, String>>,
    /// Questions behind the feedback buttons, by the key in the button's custom id.
    questions: Mutex<BTreeMap<u64, String>>,
    next_key: AtomicU64,
}

/// How many questions behind feedback buttons are remembered.
const REMEMBERED_QUESTIONS: usize = 5000;

impl BotState {
    pub fn new(rate_limit_per_minute: u32) -> BotState {
        BotState {
            rate: RateLimiter::per_minute(rate_limit_per_minute),
            threads: Mutex::new(HashMap::new()),
            questions: Mutex::new(BTreeMap::new()),
            next_key: AtomicU64::new(1),
        }
    }

    pub fn remember_thread(&self, thread: ChannelId, question: &str) {
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(thread.get(), question.to_string());
    }

    /// The first question of a thread the bot opened, if `channel` is one.
    pub fn thread_question(&self, channel: ChannelId) -> Option<String> {
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&channel.get())
            .cloned()
    }

    /// Keep a question for its feedback buttons; returns the key to put in their ids.
    pub fn remember_question(&self, question: &str) -> u64 {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed);
        let mut questions = self.questions.lock().unwrap_or_else(|p| p.into_inner());
        questions.insert(key, question.chars().take(4000).collect());
        while questions.len() > REMEMBERED_QUESTIONS {
            questions.pop_first();
        }
        key
    }

    pub fn question(&self, key: u64) -> Option<String> {
        self.questions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned()
    }
}

/// poise's user data: the application and the bot's own state.
#[derive(Debug, Clone)]
pub struct Data {
    pub app: App,
    pub state: Arc<BotState>,
}

/// The gateway intents the bot needs. MESSAGE_CONTENT is privileged: enable it for the
/// application in the developer portal.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// Read the token from `DISCORD_TOKEN`.
pub fn token_from_env() -> Result<SecretString, DiscordError> {
    let token = std::env::var(TOKEN_VARIABLE).map_err(|_| DiscordError::MissingToken)?;
    let token = token.trim().to_string();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(DiscordError::BadToken);
    }
    Ok(SecretString::from(token))
}

/// Whether any of `roles` is one of the configured role ids.
pub fn has_any_role(roles: &[RoleId], allowed: &[u64]) -> bool {
    roles.iter().any(|r| allowed.contains(&r.get()))
}

/// The roles of the member who invoked the command, taken from the interaction itself
/// (what Discord vouches for), not from the cache. Empty in direct messages.
fn invoker_roles(ctx: Context<'_>) -> Vec<RoleId> {
    match ctx {
        poise::Context::Application(app) => app
            .interaction
            .member
            .as_ref()
            .map(|m| m.roles.clone())
            .unwrap_or_default(),
        poise::Context::Prefix(prefix) => prefix
            .msg
            .member
            .as_ref()
            .map(|m| m.roles.clone())
            .unwrap_or_default(),
    }
}

/// poise check: the invoker has a role in `discord.adviser_roles`.
pub async fn is_adviser(ctx: Context<'_>) -> Result<bool, Error> {
    Ok(has_any_role(
        &invoker_roles(ctx),
        &ctx.data().app.settings.discord.adviser_roles,
    ))
}

/// poise check: the invoker has a role in `discord.organiser_roles` (for `/announce` and
/// `/events`).
pub async fn is_organiser(ctx: Context<'_>) -> Result<bool, Error> {
    Ok(has_any_role(
        &invoker_roles(ctx),
        &ctx.data().app.settings.discord.organiser_roles,
    ))
}

/// The language to talk to the invoker in: the interaction's locale.
pub fn ctx_lang(ctx: Context<'_>) -> Lang {
    lang_from_locale(ctx.locale())
}

/// The organisers' commands (`/announce`, `/announcements`, `/events`); see
/// [`organiser`]. They use [`is_organiser`] as their check (`/events list` and
/// `/events ics` are for everyone).
pub fn organiser_commands() -> Vec<poise::Command<Data, Error>> {
    organiser::commands()
}

/// Every slash command the bot registers.
pub fn commands() -> Vec<poise::Command<Data, Error>> {
    let mut commands = vec![answering::ask(), everyone::help(), everyone::forget_me()];
    commands.extend(adviser::commands());
    commands.extend(organiser_commands());
    commands
}

/// The whole cause chain of an error, for the log.
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The one place errors become replies: logged in full, answered kindly (ephemeral, in
/// the user's language), never with internal text.
async fn on_error(error: poise::FrameworkError<'_, Data, Error>) {
    match error {
        poise::FrameworkError::Command { error, ctx, .. } => {
            tracing::error!(command = %ctx.command().qualified_name, user = %ctx.author().id, error = %cause_chain(&error), "command failed");
            let lang = ctx_lang(ctx);
            let text = tr(
                lang,
                "Beklager, noe gikk galt hos meg. Prøv igjen om litt; vedvarer det, si fra til en rådgiver.",
                "Sorry, something went wrong on my side. Please try again in a moment; if it persists, tell an adviser.",
            );
            let reply = poise::CreateReply::default()
                .content(text)
                .ephemeral(true)
                .allowed_mentions(send::no_mentions());
            if let Err(e) = ctx.send(reply).await {
                tracing::warn!(error = %e, "could not tell the user about a failed command");
            }
        }
        poise::FrameworkError::CommandCheckFailed { error, ctx, .. } => {
            if let Some(error) = &error {
                tracing::error!(command = %ctx.command().qualified_name, error = %cause_chain(error), "permission check failed");
            }
            tracing::warn!(command = %ctx.command().qualified_name, user = %ctx.author().id, "refused: the user lacks the role for this command");
            let lang = ctx_lang(ctx);
            let text = if ctx.command().category.as_deref() == Some(organiser::CATEGORY) {
                tr(
                    lang,
                    "Denne kommandoen er bare for arrangører. Kommende arrangementer finner du med /events list, og du kan spørre meg med /ask.",
                    "This command is for organisers only. You can see upcoming events with /events list, and ask me with /ask.",
                )
            } else {
                tr(
                    lang,
                    "Denne kommandoen er bare for rådgivere. Du kan spørre meg med /ask, eller skrive /help for å se hva jeg kan.",
                    "This command is for advisers only. You can ask me with /ask, or type /help to see what I can do.",
                )
            };
            let reply = poise::CreateReply::default()
                .content(text)
                .ephemeral(true)
                .allowed_mentions(send::no_mentions());
            if let Err(e) = ctx.send(reply).await {
                tracing::warn!(error = %e, "could not send a refusal");
            }
        }
        poise::FrameworkError::EventHandler { error, event, .. } => {
            tracing::error!(event = %event.snake_case_name(), error = %cause_chain(&error), "event handler failed");
        }
        other => {
            if let Err(e) = poise::builtins::on_error(other).await {
                tracing::error!(error = %e, "error while handling an error");
            }
        }
    }
}

/// Messages and button clicks (slash commands go through poise's command dispatch).
async fn on_event(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &FullEvent,
) -> Result<(), Error> {
    let ctx = framework.serenity_context;
    let data = framework.user_data;
    match event {
        FullEvent::Message { new_message } => answering::on_message(ctx, data, new_message).await,
        FullEvent::InteractionCreate {
            interaction: Interaction::Component(click),
        } => answering::on_click(ctx, data, click).await,
        _ => Ok(()),
    }
}

/// A bot running in the background. Dropping it stops it.
pub struct RunningBot {
    shard_manager: Arc<ShardManager>,
    client: Option<tokio::task::JoinHandle<Result<(), serenity::Error>>>,
    background: Vec<tokio::task::JoinHandle<()>>,
}

impl RunningBot {
    /// Wait until the client stops (a fatal gateway error).
    pub async fn wait(&mut self) -> Result<(), DiscordError> {
        match self.client.take() {
            Some(task) => match task.await {
                Ok(result) => result.map_err(|e| DiscordError::Client(Box::new(e))),
                Err(e) => Err(DiscordError::Client(Box::new(serenity::Error::Other(
                    if e.is_panic() {
                        "client panicked"
                    } else {
                        "client cancelled"
                    },
                )))),
            },
            None => Ok(()),
        }
    }

    /// Disconnect and stop the background loops.
    pub async fn stop(mut self) {
        self.shard_manager.shutdown_all().await;
        self.abort();
    }

    fn abort(&mut self) {
        for task in self.background.drain(..) {
            task.abort();
        }
        if let Some(task) = self.client.take() {
            task.abort();
        }
    }
}

impl Drop for RunningBot {
    fn drop(&mut self) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let shard_manager = self.shard_manager.clone();
            runtime.spawn(async move { shard_manager.shutdown_all().await });
        }
        self.abort();
    }
}

fn check_settings(app: &App) -> Result<(), DiscordError> {
    let discord = &app.settings.discord;
    if discord.rate_limit_per_minute > 10_000 {
        return Err(DiscordError::Config {
            key: "discord.rate_limit_per_minute",
            problem: format!(
                "{} is not a sensible limit (0 turns it off)",
                discord.rate_limit_per_minute
            ),
        });
    }
    Ok(())
}

/// Connect to Discord and run in the background: the gateway client, knowledge
/// maintenance, the announcement and reminder scheduler, the outbox delivery loop and
/// alerts for queue items created after a database outage.
pub async fn start(app: App, token: SecretString) -> Result<RunningBot, DiscordError> {
    check_settings(&app)?;
    let settings = app.settings.discord.clone();
    let mut http = HttpBuilder::new(token.expose_secret());
    if !settings.api_url.is_empty() {
        // serenity's rate limiter ignores the proxy; with it off a 429 reaches send.rs.
        http = http
            .proxy(settings.api_url.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    let http = http.build();
    let data = Data {
        app: app.clone(),
        state: Arc::new(BotState::new(settings.rate_limit_per_minute)),
    };
    let guilds = settings.command_guilds.clone();
    let options = poise::FrameworkOptions {
        commands: commands(),
        on_error: |error| Box::pin(on_error(error)),
        event_handler: |framework, event| Box::pin(on_event(framework, event)),
        allowed_mentions: Some(send::no_mentions()),
        ..Default::default()
    };
    let setup_data = data.clone();
    let framework = poise::Framework::builder()
        .options(options)
        .setup(move |ctx, ready, framework| {
            Box::pin(async move {
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
                let commands = &framework.options().commands;
                if guilds.is_empty() {
                    poise::builtins::register_globally(ctx, commands).await?;
                } else {
                    for guild in &guilds {
                        poise::builtins::register_in_guild(ctx, commands, serenity::GuildId::new(*guild)).await?;
                    }
                }
                Ok(setup_data)
            })
        })
        .initialize_owners(false)
        .build();
    let mut client = serenity::ClientBuilder::new_with_http(http, intents())
        .framework(framework)
        .await
        .map_err(|e| DiscordError::Client(Box::new(e)))?;
    let http = client.http.clone();
    let tick = Duration::from_millis(app.settings.announcements.scheduler_tick_ms.max(50));
    let background = vec![
        app.spawn_maintenance(),
        announce::spawn_scheduler_every(
            app.clone(),
            Arc::new(poster::DiscordPoster::new(http.clone())),
            tick,
        ),
        tokio::spawn(delivery::outbox_loop(
            app.clone(),
            http.clone(),
            Duration::from_secs(1),
        )),
        tokio::spawn(delivery::flushed_alerts(app.clone(), http.clone())),
    ];
    let shard_manager = client.shard_manager.clone();
    let shards = app.settings.discord.shards();
    let task = tokio::spawn(async move {
        match shards {
            None => client.start().await,
            // serenity takes the range's end as the last shard (4..7 runs 4, 5, 6 and 7).
            Some((first, last, total)) => {
                tracing::info!(first, last, total, "starting shards");
                client.start_shard_range(first..last, total).await
            }
        }
    });
    Ok(RunningBot {
        shard_manager,
        client: Some(task),
        background,
    })
}

/// `anbud serve`: run until Ctrl-C or a fatal gateway error, then flush what the
/// database has not taken yet.
pub async fn serve(app: App, token: SecretString) -> Result<(), DiscordError> {
    let mut bot = start(app.clone(), token).await?;
    let result = tokio::select! {
        result = bot.wait() => result,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("stopping");
            Ok(())
        }
    };
    bot.stop().await;
    if !app.logger().wait_flushed(Duration::from_secs(5)).await {
        tracing::warn!(
            buffered = app.logger().buffered(),
            "stopped with writes the database has not taken"
        );
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_matched_by_id() {
        let roles = [RoleId::new(5), RoleId::new(7)];
        assert!(has_any_role(&roles, &[7]));
        assert!(!has_any_role(&roles, &[8]));
        assert!(!has_any_role(&roles, &[]), "no configured role: nobody");
        assert!(!has_any_role(&[], &[7]));
    }

    #[test]
    fn remembered_questions_are_bounded() {
        let state = BotState::new(0);
        let first = state.remember_question("første");
        for i in 0..REMEMBERED_QUESTIONS {
            state.remember_question(&i.to_string());
        }
        assert_eq!(state.question(first), None);
        assert!(state.questions.lock().unwrap().len() <= REMEMBERED_QUESTIONS);
    }

    #[test]
    fn every_command_is_registered() {
        let names: Vec<_> = commands().iter().map(|c| c.name.clone()).collect();
        for name in [
            "ask",
            "help",
            "forget-me",
            "unanswered",
            "answer",
            "dismiss",
            "kb",
            "stats",
            "announce",
            "announcements",
            "events",
        ] {
            assert!(
                names.iter().any(|n| n == name),
                "{name} missing from {names:?}"
            );
        }
    }
}
