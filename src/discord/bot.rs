//! Starting the bot: the token, the gateway intents, the poise framework (commands,
//! their registration, `on_error`), event dispatch, and the background loops.
//!
//! [`serve`] runs the bot until Ctrl-C; [`start`] starts it in the background and returns
//! a [`RunningBot`] (the integration tests use it against a fake Discord).

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use secrecy::{ExposeSecret, SecretString};
use serenity::{FullEvent, GatewayIntents, HttpBuilder, Interaction, ShardManager};

use super::context::{BotState, Data, Error};
use super::reply::cause_chain;
use super::{commands, delivery, handlers, poster, reply, send};
use crate::announce;
use crate::app::App;

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
    #[error(
        "Discord refused the connection with close code 4014 (disallowed intents): turn on \
         Message Content Intent under Bot → Privileged Gateway Intents in the developer portal"
    )]
    DisallowedIntents,
    #[error("the Discord client failed")]
    Client(#[source] Box<serenity::Error>),
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
    parse_token(&token)
}

/// A bot token as pasted: surrounding space trimmed, and a leading `Bot ` (as in the
/// `Authorization` header, and some guides) accepted.
fn parse_token(raw: &str) -> Result<SecretString, DiscordError> {
    let token = raw.trim_start();
    let token = token.strip_prefix("Bot ").unwrap_or(token).trim();
    if token.is_empty() || token.contains(char::is_whitespace) {
        return Err(DiscordError::BadToken);
    }
    Ok(SecretString::from(token.to_string()))
}

/// Messages and button clicks (slash commands go through poise's command dispatch).
async fn on_event(
    framework: poise::FrameworkContext<'_, Data, Error>,
    event: &FullEvent,
) -> Result<(), Error> {
    let ctx = framework.serenity_context;
    let data = framework.user_data;
    match event {
        FullEvent::Message { new_message } => {
            handlers::message::on_message(ctx, data, new_message).await
        }
        FullEvent::InteractionCreate {
            interaction: Interaction::Component(click),
        } => handlers::click::on_click(ctx, data, click).await,
        FullEvent::InteractionCreate {
            interaction: Interaction::Modal(submit),
        } => handlers::form::on_late_form(ctx, data, submit).await,
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
                Ok(result) => result.map_err(|e| match e {
                    serenity::Error::Gateway(serenity::GatewayError::DisallowedGatewayIntents) => {
                        DiscordError::DisallowedIntents
                    }
                    e => DiscordError::Client(Box::new(e)),
                }),
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

/// Whether `url` is Discord's own API (where the rate limiter must stay on).
fn is_real_discord(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    host.is_empty()
        || ["discord.com", "discordapp.com", "discord.gg"]
            .iter()
            .any(|real| host == *real || host.ends_with(&format!(".{real}")))
}

/// The rate limiter stays on against the real Discord: serenity then honours
/// `Retry-After` itself. Only a fake Discord in tests may turn it off, and `api_url`
/// works only then (the limiter sends its requests to discord.com, whatever the proxy).
fn check_rate_limiter(discord: &crate::config::DiscordSettings) -> Result<(), DiscordError> {
    match (
        discord.api_url.is_empty(),
        discord.test_without_rate_limiter,
    ) {
        (true, false) => Ok(()),
        (false, true) if !is_real_discord(&discord.api_url) => Ok(()),
        (false, false) => Err(DiscordError::Config {
            key: "discord.api_url",
            problem: "is only for a fake Discord in tests, together with \
                      discord.test_without_rate_limiter = true; leave it empty in production"
                .into(),
        }),
        _ => Err(DiscordError::Config {
            key: "discord.test_without_rate_limiter",
            problem: "is only for a fake Discord in tests (discord.api_url on this machine); \
                      it is refused with Discord's own API, where the rate limiter must stay on"
                .into(),
        }),
    }
}

fn check_settings(app: &App) -> Result<(), DiscordError> {
    let discord = &app.settings.discord;
    check_rate_limiter(discord)?;
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

/// How long the first retry of a refused command registration waits; each next one
/// waits twice as long, up to [`REGISTRATION_RETRY_MAX`].
const REGISTRATION_RETRY_FIRST: Duration = Duration::from_secs(1);
const REGISTRATION_RETRY_MAX: Duration = Duration::from_secs(15 * 60);

/// Register the slash commands (globally, or in each of `guilds`), retrying with a
/// growing pause until Discord takes them. Messages are answered meanwhile; only the
/// commands are missing, and the log says why (for example 403 "Missing Access" for a
/// guild in `discord.command_guilds` the bot has not been invited to).
///
/// Then the other set goes: the global commands when it registers per guild, the
/// guild commands of every guild it is in (`joined`) when it registers globally, so a
/// switch between the two does not leave every command listed twice.
async fn register_until_done(
    http: Arc<serenity::Http>,
    commands: Vec<serenity::CreateCommand>,
    guilds: Vec<u64>,
    joined: Vec<serenity::GuildId>,
) {
    let old_sets: Vec<Option<u64>> = if guilds.is_empty() {
        joined.iter().map(|g| Some(g.get())).collect()
    } else {
        vec![None]
    };
    register(&http, &commands, guilds).await;
    for scope in old_sets {
        remove_commands(&http, scope).await;
    }
}

/// Register `commands` globally or in each of `guilds`, retrying what is refused.
async fn register(http: &serenity::Http, commands: &[serenity::CreateCommand], guilds: Vec<u64>) {
    let mut wait = REGISTRATION_RETRY_FIRST;
    let mut pending: Vec<Option<u64>> = if guilds.is_empty() {
        vec![None]
    } else {
        guilds.into_iter().map(Some).collect()
    };
    loop {
        let mut refused = Vec::new();
        for scope in pending {
            let result = set_commands(http, scope, commands.to_vec()).await;
            match result {
                Ok(()) => {
                    tracing::info!(guild = ?scope, count = commands.len(), "registered the slash commands")
                }
                Err(e) => {
                    tracing::error!(
                        guild = ?scope,
                        error = %cause_chain(&e),
                        retry_in_s = wait.as_secs(),
                        "Discord refused the slash commands; messages are still answered. \
                         Check that the bot is in each guild of discord.command_guilds and was \
                         invited with the applications.commands scope"
                    );
                    refused.push(scope);
                }
            }
        }
        if refused.is_empty() {
            return;
        }
        pending = refused;
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(REGISTRATION_RETRY_MAX);
    }
}

/// Replace the commands registered globally (`None`) or in a guild with `commands`.
async fn set_commands(
    http: &serenity::Http,
    scope: Option<u64>,
    commands: Vec<serenity::CreateCommand>,
) -> Result<(), serenity::Error> {
    match scope {
        None => serenity::Command::set_global_commands(http, commands)
            .await
            .map(drop),
        Some(guild) => serenity::GuildId::new(guild)
            .set_commands(http, commands)
            .await
            .map(drop),
    }
}

/// Remove the commands this application registered globally (`None`) or in a guild,
/// if there are any. A failure is logged: the old set then stays listed, and is
/// removed at the next start.
async fn remove_commands(http: &serenity::Http, scope: Option<u64>) {
    let existing = match scope {
        None => serenity::Command::get_global_commands(http).await,
        Some(guild) => serenity::GuildId::new(guild).get_commands(http).await,
    };
    let removed = match existing {
        Ok(existing) if existing.is_empty() => return,
        Ok(existing) => set_commands(http, scope, Vec::new())
            .await
            .map(|()| existing.len()),
        Err(e) => Err(e),
    };
    match removed {
        Ok(count) => {
            tracing::info!(guild = ?scope, count, "removed the slash commands registered the other way (global or per guild)")
        }
        Err(e) => {
            tracing::warn!(guild = ?scope, error = %cause_chain(&e), "could not remove the slash commands registered the other way; members may see them twice")
        }
    }
}

/// Connect to Discord and run in the background: the gateway client, knowledge
/// maintenance, the announcement and reminder scheduler, the outbox delivery loop and
/// alerts for queue items created after a database outage.
pub async fn start(app: App, token: SecretString) -> Result<RunningBot, DiscordError> {
    check_settings(&app)?;
    let settings = app.settings.discord.clone();
    let mut http = HttpBuilder::new(token.expose_secret());
    if settings.test_without_rate_limiter {
        // A fake Discord (checked above). serenity's rate limiter ignores the proxy; with
        // it off a 429 reaches send.rs, which backs off and retries.
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
        commands: commands::commands(),
        on_error: |error| Box::pin(reply::on_error(error)),
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
                // Registration runs on its own: were it to fail here, poise would never
                // hand out the user data, and the bot would stay connected but deaf.
                tokio::spawn(register_until_done(
                    ctx.http.clone(),
                    poise::builtins::create_application_commands(&framework.options().commands),
                    guilds,
                    ready.guilds.iter().map(|g| g.id).collect(),
                ));
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
        // Notices from Doffin: the scheduled sync (once across bots) and watch alerts.
        tokio::spawn(crate::tenders::sync::run_schedule_for(app.clone())),
        tokio::spawn(commands::tenders::alert_loop(
            app.clone(),
            http.clone(),
            tick,
        )),
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

/// `anbud serve`: run until `stop` completes (with the name of the signal that stopped
/// it: SIGINT or SIGTERM) or a fatal gateway error; then stop taking questions and write
/// what the database has not taken yet, for at most `durability.shutdown_flush_ms`,
/// naming in the log what could not be written ([`App::close`]).
pub async fn serve(
    app: App,
    token: SecretString,
    stop: impl std::future::Future<Output = &'static str>,
) -> Result<(), DiscordError> {
    let mut bot = start(app.clone(), token).await?;
    let result = tokio::select! {
        result = bot.wait() => result,
        signal = stop => {
            tracing::info!(signal, "stopping: no new questions; writing what is buffered");
            Ok(())
        }
    };
    bot.stop().await;
    if app.close().await.is_empty() {
        tracing::info!("stopped; every write is in the database");
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn discord(api_url: &str, off: bool) -> crate::config::DiscordSettings {
        let mut settings = Settings::defaults().discord;
        settings.api_url = api_url.into();
        settings.test_without_rate_limiter = off;
        settings
    }

    #[test]
    fn tokens_are_accepted_with_or_without_bot_in_front() {
        for raw in ["abc.def", " abc.def\n", "Bot abc.def", "Bot  abc.def "] {
            assert_eq!(
                parse_token(raw).unwrap().expose_secret(),
                "abc.def",
                "{raw:?}"
            );
        }
        for raw in ["", "Bot ", "abc def", "Bearer abc def"] {
            assert!(
                matches!(parse_token(raw), Err(DiscordError::BadToken)),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn the_rate_limiter_is_only_off_for_a_fake_discord() {
        assert!(
            check_rate_limiter(&discord("", false)).is_ok(),
            "production"
        );
        assert!(check_rate_limiter(&discord("http://127.0.0.1:4000", true)).is_ok());
        for (url, off) in [
            ("http://127.0.0.1:4000", false),
            ("", true),
            ("https://discord.com", true),
            ("https://discord.com/api/v10", true),
            ("https://canary.discord.com", true),
            ("https://DISCORDAPP.COM:443", true),
        ] {
            assert!(
                matches!(
                    check_rate_limiter(&discord(url, off)),
                    Err(DiscordError::Config { .. })
                ),
                "{url} {off}"
            );
        }
    }
}
