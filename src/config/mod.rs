//! One typed configuration, in layers: the built-in `config/default.toml`, an optional
//! `config/local.toml`, `--config FILE`, then `ANBUD__SECTION__KEY` environment variables.
//! Secrets (the Discord token) are read from the environment only and never logged.

use std::path::{Path, PathBuf};

use serde::Deserialize;

mod keys;
mod redact;
#[cfg(test)]
mod tests;
mod values;

use keys::check_keys;
#[cfg(test)]
use keys::{edit_distance, known_keys};
use redact::{redact, show};
pub use values::WeeklyTime;
use values::{ids, numbers, optional_id, shard_numbers, time_zone, weekly_time};

/// The defaults, compiled in so the binary runs from any folder.
const DEFAULTS: &str = include_str!("../../config/default.toml");

/// Why the configuration could not be loaded. Names the key; never prints a secret.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A layer could not be read or a value has the wrong type. The text is the config
    /// crate's, with the values it quotes hidden (see [`redact`]).
    #[error("configuration: {0}")]
    Load(String),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: String, problem: String },
    /// A layer names a key anbud does not have: a typo would otherwise be ignored and the
    /// default used without a word.
    #[error("{place}: `{key}` is not a configuration key; the nearest is `{nearest}` (every key is listed in config/default.toml)")]
    UnknownKey {
        /// Where it was given: a file's path, or an environment variable's name.
        place: String,
        /// The key as a dotted path, `answer.treshold`.
        key: String,
        /// The known key closest to it.
        nearest: String,
    },
}

impl From<config::ConfigError> for ConfigError {
    fn from(e: config::ConfigError) -> ConfigError {
        ConfigError::Load(redact(&e.to_string()))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub knowledge: KnowledgeSettings,
    pub answer: AnswerSettings,
    pub database: DatabaseSettings,
    pub durability: DurabilitySettings,
    pub discord: DiscordSettings,
    pub announcements: AnnouncementSettings,
    pub web: WebSettings,
    pub claims: ClaimSettings,
    pub tenders: TenderSettings,
    #[serde(default)]
    pub index: IndexSettings,
}

/// Where the search index is kept between starts (see [`crate::search::on_disk`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSettings {
    /// The folder of the tantivy index and its fingerprint; empty keeps it in memory
    /// only, built at every start.
    pub dir: PathBuf,
}

impl Default for IndexSettings {
    fn default() -> IndexSettings {
        IndexSettings {
            dir: PathBuf::from("data/index"),
        }
    }
}

impl IndexSettings {
    /// The folder to keep the index in, or `None` for memory only.
    pub fn folder(&self) -> Option<&std::path::Path> {
        (!self.dir.as_os_str().is_empty()).then_some(self.dir.as_path())
    }
}

/// Notices from Doffin (see [`crate::tenders`]); the API key comes from the environment
/// variable `DOFFIN_API_KEY` only.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenderSettings {
    /// The Doffin public API (tests point it at a fake on 127.0.0.1).
    pub api_url: String,
    /// How often `anbud serve` syncs (once across all processes on one database).
    pub sync_minutes: u64,
    /// How far back the first sync reaches.
    pub initial_days: u32,
    /// The longest wait a 429 may ask for before the run gives up.
    pub max_retry_wait_secs: u64,
}

/// Claims held while posting (see [`crate::delivery`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimSettings {
    pub lease_ms: u64,
}

impl ClaimSettings {
    /// The lease of a claim, renewed every third of it while posting.
    pub fn lease(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.lease_ms)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeSettings {
    pub dir: PathBuf,
    /// A check older than this many days is stale (`kb lint`, `kb review`).
    #[serde(default = "default_review_after_days")]
    pub review_after_days: u32,
    /// When the weekly list of what became stale goes to the advisers' channel; `None`
    /// turns it off.
    #[serde(default = "default_review_digest", deserialize_with = "weekly_time")]
    pub review_digest: Option<WeeklyTime>,
}

fn default_review_after_days() -> u32 {
    180
}

/// The advisers' and organisers' web pages (`anbud web`, `web.listen` for `serve`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// Where `anbud serve` serves the pages; empty: it does not.
    #[serde(default)]
    pub listen: String,
    /// The address people open (for Discord's redirect and the Secure cookie flag).
    #[serde(default)]
    pub public_url: String,
    /// The Discord application for "Sign in with Discord"; empty turns it off.
    #[serde(default)]
    pub discord_client_id: String,
    /// The server whose roles decide adviser or organiser.
    #[serde(default, deserialize_with = "optional_id")]
    pub discord_guild: Option<u64>,
    pub discord_authorize_url: String,
    pub discord_api_url: String,
    pub session_hours: u32,
    pub sign_in_per_minute: u32,
}

impl WebSettings {
    /// The listen address of `serve`, when set.
    pub fn listen_addr(&self) -> Option<std::net::SocketAddr> {
        self.listen.trim().parse().ok()
    }
}

fn default_review_digest() -> Option<WeeklyTime> {
    Some(WeeklyTime {
        weekday: chrono::Weekday::Mon,
        time: chrono::NaiveTime::from_hms_opt(9, 0, 0).expect("a valid time"),
    })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerSettings {
    /// Overrides the calibrated threshold (`knowledge/calibration.toml`) when set.
    pub threshold: Option<f32>,
    pub tie_margin: f32,
    pub closest: usize,
    pub related: usize,
    pub max_question_chars: usize,
}

impl Default for AnswerSettings {
    fn default() -> Self {
        Settings::defaults().answer
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub retention_days: u32,
    pub buffer_capacity: usize,
    pub knowledge_poll_ms: u64,
}

/// When a question counts as passed on, and how long writes may wait (`[durability]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurabilitySettings {
    /// The longest a reply waits for the database to commit its question before it says
    /// the question could not be passed on.
    pub ack_timeout_ms: u64,
    /// How long a SQLite write waits for another process's lock before it fails.
    pub sqlite_busy_timeout_ms: u64,
    /// On stopping (SIGTERM, Ctrl-C, the end of a command): how long to keep trying to
    /// write what the database has not taken yet.
    pub shutdown_flush_ms: u64,
}

impl DurabilitySettings {
    /// [`DurabilitySettings::ack_timeout_ms`] as a duration.
    pub fn ack_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.ack_timeout_ms)
    }

    /// [`DurabilitySettings::sqlite_busy_timeout_ms`] as a duration.
    pub fn sqlite_busy_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.sqlite_busy_timeout_ms)
    }

    /// [`DurabilitySettings::shutdown_flush_ms`] as a duration.
    pub fn shutdown_flush(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.shutdown_flush_ms)
    }
}

/// How the bot answers in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyMode {
    Reply,
    Thread,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordSettings {
    pub api_url: String,
    /// Test only: turn serenity's rate limiter off so that `api_url` (a fake Discord) is
    /// used for every request. Refused with Discord's own API (see `discord::bot`).
    #[serde(default)]
    pub test_without_rate_limiter: bool,
    #[serde(deserialize_with = "ids")]
    pub qa_channels: Vec<u64>,
    #[serde(deserialize_with = "ids")]
    pub adviser_roles: Vec<u64>,
    #[serde(deserialize_with = "ids")]
    pub organiser_roles: Vec<u64>,
    #[serde(deserialize_with = "optional_id")]
    pub adviser_channel: Option<u64>,
    pub reply_mode: ReplyMode,
    pub rate_limit_per_minute: u32,
    #[serde(deserialize_with = "ids")]
    pub command_guilds: Vec<u64>,
    /// Discord sharding: the number of shards of the whole bot (0: one shard, every
    /// guild), and which of them this process runs, `[first, last]` (empty: all).
    #[serde(default)]
    pub shard_total: u32,
    #[serde(default, deserialize_with = "shard_numbers")]
    pub shard_range: Vec<u32>,
}

impl DiscordSettings {
    /// The shards this process runs: `(first, last, total)`, `None` for one shard.
    pub fn shards(&self) -> Option<(u32, u32, u32)> {
        match (self.shard_total, self.shard_range.as_slice()) {
            (0, _) => None,
            (total, [first, last]) => Some((*first, *last, total)),
            (total, _) => Some((0, total - 1, total)),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementSettings {
    /// The time zone organisers write times in (an IANA name such as "Europe/Oslo"),
    /// parsed when the configuration is read.
    #[serde(deserialize_with = "time_zone")]
    pub timezone: chrono_tz::Tz,
    pub late_limit_hours: u32,
    #[serde(deserialize_with = "numbers")]
    pub reminder_days_before: Vec<u32>,
    #[serde(deserialize_with = "numbers")]
    pub reminder_hours_before: Vec<u32>,
    #[serde(deserialize_with = "optional_id")]
    pub reminder_channel: Option<u64>,
    /// The language of delay notes, reminders and the event list.
    #[serde(default = "default_language")]
    pub language: crate::knowledge::Lang,
    /// How often a running bot looks for due announcements and reminders, in
    /// milliseconds (tests use a short interval).
    #[serde(default = "default_scheduler_tick_ms")]
    pub scheduler_tick_ms: u64,
}

fn default_scheduler_tick_ms() -> u64 {
    5000
}

fn default_language() -> crate::knowledge::Lang {
    crate::knowledge::Lang::Nb
}

/// Overrides from the command line, applied last.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub knowledge_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

impl Settings {
    /// The compiled-in defaults alone.
    pub fn defaults() -> Settings {
        Self::from_sources(None, &[], &Overrides::default())
            .expect("the built-in config/default.toml is valid")
    }

    /// Load every layer: defaults, `config/local.toml` if present, the `--config` file,
    /// the environment, then the command line.
    pub fn load(overrides: &Overrides) -> Result<Settings, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars()
            .filter(|(k, _)| k.starts_with("ANBUD__"))
            .collect();
        let local = Path::new("config/local.toml");
        Self::from_sources(local.exists().then_some(local), &env, overrides)
    }

    /// Load from explicit sources (tests use this instead of the process environment).
    pub fn from_sources(
        local_file: Option<&Path>,
        env: &[(String, String)],
        overrides: &Overrides,
    ) -> Result<Settings, ConfigError> {
        check_keys(local_file, env, overrides)?;
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(local) = local_file {
            builder =
                builder.add_source(config::File::from(local).format(config::FileFormat::Toml));
        }
        if let Some(file) = &overrides.config_file {
            if !file.exists() {
                return Err(ConfigError::Invalid {
                    key: "--config".into(),
                    problem: format!("the file {} does not exist", file.display()),
                });
            }
            builder = builder
                .add_source(config::File::from(file.as_path()).format(config::FileFormat::Toml));
        }
        for (key, value) in env {
            let Some(path) = key.strip_prefix("ANBUD__") else {
                continue;
            };
            let path = path.to_lowercase().replace("__", ".");
            builder = builder.set_override(path, value.as_str())?;
        }
        if let Some(dir) = &overrides.knowledge_dir {
            builder = builder.set_override("knowledge.dir", dir.to_string_lossy().as_ref())?;
        }
        if let Some(url) = &overrides.database_url {
            builder = builder.set_override("database.url", url.as_str())?;
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key: &str, problem: String| {
            Err(ConfigError::Invalid {
                key: key.into(),
                problem,
            })
        };
        if let Some(threshold) = self.answer.threshold {
            if !(0.0..=1.0).contains(&threshold) {
                return invalid(
                    "answer.threshold",
                    format!("{threshold} is not between 0 and 1"),
                );
            }
        }
        if !(0.0..=1.0).contains(&self.answer.tie_margin) {
            return invalid(
                "answer.tie_margin",
                format!("{} is not between 0 and 1", self.answer.tie_margin),
            );
        }
        if self.answer.max_question_chars < 10 {
            return invalid("answer.max_question_chars", "must be at least 10".into());
        }
        let durability = &self.durability;
        for (key, value, range) in [
            (
                "durability.ack_timeout_ms",
                durability.ack_timeout_ms,
                1..=600_000,
            ),
            (
                "durability.sqlite_busy_timeout_ms",
                durability.sqlite_busy_timeout_ms,
                1..=600_000,
            ),
            (
                "durability.shutdown_flush_ms",
                durability.shutdown_flush_ms,
                0..=3_600_000,
            ),
        ] {
            if !range.contains(&value) {
                return invalid(
                    key,
                    format!(
                        "{value} is not between {} and {} milliseconds",
                        range.start(),
                        range.end()
                    ),
                );
            }
        }
        if self.knowledge.dir.as_os_str().is_empty() {
            return invalid("knowledge.dir", "must name a folder".into());
        }
        let database = &self.database;
        if database.retention_days == 0 {
            return invalid(
                "database.retention_days",
                "must be at least 1: with 0 the ids needed to bring an adviser's answer back to the asker would be removed at once".into(),
            );
        }
        if database.buffer_capacity == 0 {
            return invalid(
                "database.buffer_capacity",
                "must be at least 1: with 0 every question asked while the database is down would be lost".into(),
            );
        }
        if self.tenders.sync_minutes == 0 || self.tenders.initial_days == 0 {
            return invalid(
                "tenders.sync_minutes",
                "tenders.sync_minutes and tenders.initial_days must be at least 1".into(),
            );
        }
        if !self.tenders.api_url.starts_with("http://")
            && !self.tenders.api_url.starts_with("https://")
        {
            return invalid(
                "tenders.api_url",
                format!("{} is not an http(s) address", show(&self.tenders.api_url)),
            );
        }
        let announcements = &self.announcements;
        for (key, value, least) in [
            ("database.knowledge_poll_ms", database.knowledge_poll_ms, 50),
            (
                "announcements.scheduler_tick_ms",
                announcements.scheduler_tick_ms,
                10,
            ),
            ("claims.lease_ms", self.claims.lease_ms, 500),
        ] {
            if !(least..=3_600_000).contains(&value) {
                return invalid(
                    key,
                    format!("{value} is not between {least} and 3600000 milliseconds"),
                );
            }
        }
        for (key, list, unit, most) in [
            (
                "announcements.reminder_days_before",
                &announcements.reminder_days_before,
                "days",
                366,
            ),
            (
                "announcements.reminder_hours_before",
                &announcements.reminder_hours_before,
                "hours",
                24 * 366,
            ),
        ] {
            if let Some(bad) = list.iter().find(|n| !(1..=most).contains(*n)) {
                return invalid(
                    key,
                    format!("{bad} is not between 1 and {most} {unit} before an event"),
                );
            }
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            // Never echo the URL: it may hold a password.
            return invalid(
                "database.url",
                "must start with sqlite:, postgres:// or postgresql://".into(),
            );
        }
        let api_url = &self.discord.api_url;
        let http = ["http://", "https://"]
            .iter()
            .any(|p| api_url.starts_with(p));
        if !api_url.is_empty() && !http {
            return invalid(
                "discord.api_url",
                format!("{} is not an http(s) URL", show(&self.discord.api_url)),
            );
        }
        let discord = &self.discord;
        match (discord.shard_total, discord.shard_range.as_slice()) {
            (_, [] | [_, _]) if discord.shard_total == 0 && !discord.shard_range.is_empty() => {
                return invalid(
                    "discord.shard_range",
                    "needs discord.shard_total (the number of shards in all)".into(),
                );
            }
            (total, [first, last]) if first > last || *last >= total => {
                return invalid(
                    "discord.shard_range",
                    format!(
                        "[{first}, {last}] is not a range of shards 0 to {}",
                        total - 1
                    ),
                );
            }
            (_, [] | [_, _]) => {}
            _ => {
                return invalid(
                    "discord.shard_range",
                    "must be [first, last] or empty".into(),
                );
            }
        }
        let web = &self.web;
        if !web.listen.trim().is_empty() && web.listen_addr().is_none() {
            return invalid(
                "web.listen",
                format!(
                    "{} is not an address such as 127.0.0.1:8080",
                    show(&web.listen)
                ),
            );
        }
        for (key, url) in [
            ("web.public_url", &web.public_url),
            ("web.discord_authorize_url", &web.discord_authorize_url),
            ("web.discord_api_url", &web.discord_api_url),
        ] {
            let web_url = url.starts_with("http://") || url.starts_with("https://");
            if !(url.is_empty() || web_url) {
                return invalid(key, format!("{} is not an http(s) URL", show(url)));
            }
        }
        if !web.discord_client_id.trim().is_empty()
            && (web.discord_guild.is_none() || web.public_url.is_empty())
        {
            return invalid(
                "web.discord_client_id",
                "Discord sign-in also needs web.discord_guild and web.public_url".into(),
            );
        }
        if web.session_hours == 0 {
            return invalid("web.session_hours", "must be at least 1".into());
        }
        Ok(())
    }

    /// The announcements' time zone.
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.announcements.timezone
    }
}
