//! One typed configuration, in layers: the built-in `config/default.toml`, an optional
//! `config/local.toml`, `--config FILE`, then `ANBUD__SECTION__KEY` environment variables.
//! Secrets (the Discord token) are read from the environment only and never logged.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

/// The defaults, compiled in so the binary runs from any folder.
const DEFAULTS: &str = include_str!("../config/default.toml");

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

/// The config crate and the TOML parser quote what they could not use: a value of the
/// wrong type (`invalid type: string "…"`), an unknown variant, the source line of a
/// syntax error. Any of those may be a token or a password put in the wrong place, so
/// the source lines are dropped and quoted values are shown only when they cannot be a
/// secret (see [`shown`]).
fn redact(message: &str) -> String {
    static QUOTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"`[^`]*`|"(?:[^"\\]|\\.)*""#).expect("valid regex")
    });
    static SOURCE_LINE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^\s*\d*\s*\|").expect("valid regex"));
    let kept: Vec<&str> = message
        .lines()
        .filter(|l| !SOURCE_LINE.is_match(l))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let text = kept.join(" ");
    // The one message that names a value without quotes: a bad enum value.
    static VARIANT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(does not have variant constructor )(.*?)( for key `|$)")
            .expect("valid regex")
    });
    let text = VARIANT.replace_all(&text, |c: &regex::Captures| {
        let value = &c[2];
        let shown_value = if shown(value) {
            value.to_string()
        } else {
            hidden(value)
        };
        format!("{}{shown_value}{}", &c[1], &c[3])
    });
    QUOTED
        .replace_all(&text, |c: &regex::Captures| {
            let quoted = &c[0];
            let inner = &quoted[1..quoted.len() - 1];
            if shown(inner) {
                quoted.to_string()
            } else {
                hidden(inner)
            }
        })
        .into_owned()
}

/// Whether a value may appear in an error message: short, and made of the characters of
/// names, numbers and keys. Tokens (long) and URLs or passwords (`:`, `@`) are not.
fn shown(value: &str) -> bool {
    static KEY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[a-z][a-z0-9]*([._][a-z][a-z0-9]*)+$").expect("valid regex")
    });
    let n = value.chars().count();
    n <= 3 && !value.chars().any(char::is_alphanumeric)
        || n <= 24 && value.chars().all(|c| c.is_alphanumeric() || " _-.,#/+".contains(c))
        // A configuration key such as `discord.rate_limit_per_minute`.
        || n <= 64 && KEY.is_match(value)
}

fn hidden(value: &str) -> String {
    format!(
        "(a value of {} characters, not shown)",
        value.chars().count()
    )
}

/// A value for an error message: quoted when [`shown`], else described.
fn show(value: &str) -> String {
    if shown(value) {
        format!("{value:?}")
    } else {
        hidden(value)
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

/// A time of the week, "mon 09:00", in the announcements' time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyTime {
    pub weekday: chrono::Weekday,
    pub time: chrono::NaiveTime,
}

impl std::str::FromStr for WeeklyTime {
    type Err = String;

    fn from_str(text: &str) -> Result<WeeklyTime, String> {
        let problem = || {
            format!(
                "{} is not a weekday and a time such as \"mon 09:00\"",
                show(text)
            )
        };
        let mut parts = text.split_whitespace();
        let (Some(day), Some(time), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(problem());
        };
        let weekday = day.parse::<chrono::Weekday>().map_err(|_| problem())?;
        let time = chrono::NaiveTime::parse_from_str(time, "%H:%M").map_err(|_| problem())?;
        Ok(WeeklyTime { weekday, time })
    }
}

/// "mon 09:00", or empty for none.
fn weekly_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<WeeklyTime>, D::Error> {
    let text = String::deserialize(d)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(serde::de::Error::custom)
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

/// A Discord id (or a number of a list) given as an integer or a string of digits.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawId {
    Int(u64),
    Text(String),
}

fn parse_id(raw: RawId) -> Result<Option<u64>, String> {
    match raw {
        RawId::Int(0) => Err("0 is not a Discord id".into()),
        RawId::Int(n) => Ok(Some(n)),
        RawId::Text(s) if s.trim().is_empty() => Ok(None),
        RawId::Text(s) => match s.trim().parse::<u64>() {
            Ok(0) | Err(_) => Err(format!(
                "{} is not a Discord id (a number such as 123456789012345678)",
                show(&s)
            )),
            Ok(n) => Ok(Some(n)),
        },
    }
}

/// A list setting: a TOML array, or a comma-separated string (as environment variables
/// give it: every key can be set from the environment, lists too).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawList {
    List(Vec<RawId>),
    Text(String),
}

fn list_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RawId>, D::Error> {
    Ok(match RawList::deserialize(d)? {
        RawList::List(list) => list,
        RawList::Text(s) => s
            .split(',')
            .map(|p| RawId::Text(p.trim().to_string()))
            .collect(),
    })
}

fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    let mut out = Vec::new();
    for item in list_items(d)? {
        if let Some(id) = parse_id(item).map_err(serde::de::Error::custom)? {
            out.push(id);
        }
    }
    Ok(out)
}

/// A list of whole numbers, such as `[7, 1]` or `7,1`.
fn numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    let not_a_number = |shown: String| {
        serde::de::Error::custom(format!(
            "{shown} is not a whole number from 0 to {} (give a list such as 7,1)",
            u32::MAX
        ))
    };
    let mut out = Vec::new();
    for item in list_items(d)? {
        match item {
            RawId::Int(n) => out.push(u32::try_from(n).map_err(|_| not_a_number(n.to_string()))?),
            RawId::Text(s) if s.trim().is_empty() => {}
            RawId::Text(s) => out.push(s.trim().parse().map_err(|_| not_a_number(show(&s)))?),
        }
    }
    Ok(out)
}

/// Shard numbers, a list or "2, 3" from the environment. Shards count from 0, so unlike
/// a Discord id, 0 is a shard number.
fn shard_numbers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    numbers(d)
}

fn optional_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    parse_id(RawId::deserialize(d)?).map_err(serde::de::Error::custom)
}

/// An IANA time zone name ("Europe/Oslo"); the value is named in the error only if it
/// cannot be a secret.
fn time_zone<'de, D: Deserializer<'de>>(d: D) -> Result<chrono_tz::Tz, D::Error> {
    let name = String::deserialize(d)?;
    name.trim().parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "{} is not a time zone name (for example \"Europe/Oslo\")",
            show(&name)
        ))
    })
}

/// Keys without a default, so absent from `config/default.toml` (where a comment names
/// each): setting one overrides what would otherwise be computed.
const OPTIONAL_KEYS: &[&str] = &["answer.threshold"];

/// The dotted paths of every key: those in `config/default.toml`, and [`OPTIONAL_KEYS`].
fn known_keys() -> Vec<String> {
    let defaults: toml::Table = DEFAULTS
        .parse()
        .expect("the built-in config/default.toml is valid TOML");
    let mut keys: Vec<String> = OPTIONAL_KEYS.iter().map(|k| k.to_string()).collect();
    leaf_keys(&defaults, "", &mut keys);
    keys
}

/// The dotted paths of the values (not the tables) in `table`.
fn leaf_keys(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (name, value) in table {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            toml::Value::Table(inner) => leaf_keys(inner, &path, out),
            _ => out.push(path),
        }
    }
}

/// Refuses a key that no part of anbud reads, in a configuration file or an `ANBUD__…`
/// variable: `[answer] treshold = 0.9` would otherwise leave the default threshold in
/// force without a word. A file that is not valid TOML is left to the loader, whose
/// error says where.
fn check_keys(
    local_file: Option<&Path>,
    env: &[(String, String)],
    overrides: &Overrides,
) -> Result<(), ConfigError> {
    let known = known_keys();
    let check = |key: String, place: String| -> Result<(), ConfigError> {
        let is_section = known.iter().any(|k| k.starts_with(&format!("{key}.")));
        if known.contains(&key) || is_section {
            return Ok(());
        }
        let nearest = known
            .iter()
            .min_by_key(|k| (edit_distance(k, &key), k.as_str()))
            .cloned()
            .unwrap_or_default();
        Err(ConfigError::UnknownKey {
            place,
            key: key.chars().take(80).collect(),
            nearest,
        })
    };
    for file in local_file
        .iter()
        .copied()
        .chain(overrides.config_file.as_deref())
    {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(table) = text.parse::<toml::Table>() else {
            continue;
        };
        let mut keys = Vec::new();
        leaf_keys(&table, "", &mut keys);
        for key in keys {
            check(key, file.display().to_string())?;
        }
    }
    for (variable, _) in env {
        if let Some(path) = variable.strip_prefix("ANBUD__") {
            let key = path.to_lowercase().replace("__", ".");
            check(key, format!("environment variable {variable}"))?;
        }
    }
    Ok(())
}

/// The number of single-character insertions, deletions and substitutions that turn `a`
/// into `b` (Levenshtein), for naming the key a typo meant.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
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
        if !self.discord.api_url.is_empty()
            && !(self.discord.api_url.starts_with("http://")
                || self.discord.api_url.starts_with("https://"))
        {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The error loading the defaults with these environment variables gives.
    fn load_error(pairs: &[(&str, &str)]) -> String {
        Settings::from_sources(None, &env(pairs), &Overrides::default())
            .unwrap_err()
            .to_string()
    }

    /// The settings the defaults with these environment variables give.
    fn load_ok(pairs: &[(&str, &str)]) -> Settings {
        Settings::from_sources(None, &env(pairs), &Overrides::default()).unwrap()
    }

    #[test]
    fn the_time_zone_is_parsed_when_the_configuration_is_read() {
        assert_eq!(Settings::defaults().timezone(), chrono_tz::Europe::Oslo);
        let s = load_ok(&[("ANBUD__ANNOUNCEMENTS__TIMEZONE", "Europe/Stockholm")]);
        assert_eq!(s.announcements.timezone, chrono_tz::Europe::Stockholm);
        let err = load_error(&[("ANBUD__ANNOUNCEMENTS__TIMEZONE", "Europe/Bergen")]);
        assert!(err.contains("timezone"), "{err}");
        assert!(
            err.contains("\"Europe/Bergen\" is not a time zone name"),
            "{err}"
        );
    }

    #[test]
    fn defaults_load() {
        let s = Settings::defaults();
        assert_eq!(s.knowledge.dir, PathBuf::from("knowledge"));
        assert!(s.discord.qa_channels.is_empty());
        assert!(s.database.url.starts_with("sqlite:"));
    }

    #[test]
    fn environment_overrides_with_ids_as_strings() {
        let s = Settings::from_sources(
            None,
            &env(&[
                ("ANBUD__DISCORD__QA_CHANNELS", "123456789012345678, 42"),
                ("ANBUD__ANSWER__THRESHOLD", "0.7"),
            ]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(s.discord.qa_channels, vec![123456789012345678, 42]);
        assert!((s.answer.threshold.unwrap() - 0.7).abs() < 1e-6);
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = Settings::from_sources(
            None,
            &env(&[("ANBUD__DISCORD__ADVISER_CHANNEL", "general")]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("adviser_channel") && err.contains("general"),
            "{err}"
        );
        let err = Settings::from_sources(
            None,
            &env(&[("ANBUD__ANSWER__THRESHOLD", "3")]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("answer.threshold"), "{err}");
        let err = Settings::from_sources(
            None,
            &env(&[("ANBUD__DATABASE__URL", "mysql://user:hunter2@host/db")]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("database.url") && !err.contains("hunter2"),
            "{err}"
        );
    }

    #[test]
    fn shard_settings_are_checked() {
        let load = |pairs: &[(&str, &str)]| {
            Settings::from_sources(None, &env(pairs), &Overrides::default())
        };
        assert_eq!(load(&[]).unwrap().discord.shards(), None);
        let s = load(&[("ANBUD__DISCORD__SHARD_TOTAL", "4")]).unwrap();
        assert_eq!(s.discord.shards(), Some((0, 3, 4)));
        let s = load(&[
            ("ANBUD__DISCORD__SHARD_TOTAL", "4"),
            ("ANBUD__DISCORD__SHARD_RANGE", "2, 3"),
        ])
        .unwrap();
        assert_eq!(s.discord.shards(), Some((2, 3, 4)));
        for (total, range) in [("4", "3, 4"), ("4", "2, 1"), ("0", "0, 0"), ("4", "1")] {
            let err = load(&[
                ("ANBUD__DISCORD__SHARD_TOTAL", total),
                ("ANBUD__DISCORD__SHARD_RANGE", range),
            ])
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("discord.shard_range"),
                "{total} {range}: {err}"
            );
        }
    }

    #[test]
    fn quoted_values_are_hidden_unless_harmless() {
        let token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456";
        let message = format!("invalid type: string \"{token}\", expected a floating point number for key `answer.threshold`");
        let redacted = redact(&message);
        assert!(!redacted.contains(token), "{redacted}");
        assert!(
            redacted.contains("`answer.threshold`") && redacted.contains("65 characters"),
            "{redacted}"
        );
        assert_eq!(
            redact("unknown variant `treads`, expected `reply` or `thread`"),
            "unknown variant `treads`, expected `reply` or `thread`"
        );
        assert!(!redact("\"postgres://u:pw@h/db\" is not valid").contains("pw"));
        assert!(!redact("\"hunter2:x\"").contains("hunter2"));
        assert!(redact("for key `discord.rate_limit_per_minute`")
            .contains("`discord.rate_limit_per_minute`"));
        let variant = format!(
            "enum ReplyMode does not have variant constructor {token} for key `discord.reply_mode`"
        );
        assert_eq!(redact(&variant), "enum ReplyMode does not have variant constructor (a value of 65 characters, not shown) for key `discord.reply_mode`");
        assert!(
            redact("enum ReplyMode does not have variant constructor treads").ends_with("treads")
        );
        let hex = "3f9a0c5e7b1d4f2a8c6e0b9d7f5a3c1e";
        assert!(!redact(&format!("`{hex}`")).contains(hex));
        // A syntax error's source line is dropped, its position and reason kept.
        let parse = "TOML parse error at line 2, column 40\n  |\n2 | url = \"postgres://u:secret@h/db\n  |    ^\ninvalid basic string, expected `\"`\n in local.toml";
        assert_eq!(redact(parse), "TOML parse error at line 2, column 40 invalid basic string, expected `\"` in local.toml");
    }

    #[test]
    fn files_layer_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[discord]\nqa_channels = [1, \"2\"]\n").unwrap();
        let o = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        let s = Settings::from_sources(None, &[], &o).unwrap();
        assert_eq!(s.discord.qa_channels, vec![1, 2]);
        assert_eq!(s.answer.closest, 3);
    }

    fn file_layer(text: &str) -> (tempfile::TempDir, Overrides) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("local.toml");
        std::fs::write(&file, text).unwrap();
        let overrides = Overrides {
            config_file: Some(file),
            ..Default::default()
        };
        (dir, overrides)
    }

    #[test]
    fn unknown_keys_stop_start_up_naming_the_nearest_known_key() {
        for (text, unknown, nearest) in [
            (
                "[answer]\ntreshold = 0.9\n",
                "answer.treshold",
                "answer.threshold",
            ),
            (
                "[databse]\nurl = \"sqlite://x.sqlite\"\n",
                "databse.url",
                "database.url",
            ),
            (
                "[discord]\nqa_channel = [1]\n",
                "discord.qa_channel",
                "discord.qa_channels",
            ),
        ] {
            let (_dir, overrides) = file_layer(text);
            let err = Settings::from_sources(None, &[], &overrides)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("`{unknown}` is not a configuration key")),
                "{err}"
            );
            assert!(err.contains("local.toml"), "the file is named: {err}");
            assert!(
                err.contains(&format!("the nearest is `{nearest}`")),
                "{err}"
            );
        }
        let err = load_error(&[("ANBUD__ANSWER__BOGUS", "1")]);
        assert!(
            err.contains("environment variable ANBUD__ANSWER__BOGUS")
                && err.contains("`answer.bogus` is not a configuration key"),
            "{err}"
        );
        let err = load_error(&[("ANBUD__ANSWER__TRESHOLD", "0.9")]);
        assert!(err.contains("the nearest is `answer.threshold`"), "{err}");
        // Every key of the defaults is known, in the environment too.
        for key in known_keys() {
            let variable = format!("ANBUD__{}", key.to_uppercase().replace('.', "__"));
            let pairs = env(&[(variable.as_str(), "x")]);
            assert!(
                check_keys(None, &pairs, &Overrides::default()).is_ok(),
                "{key}"
            );
        }
    }

    #[test]
    fn the_shard_range_may_start_at_shard_0() {
        let (_dir, overrides) = file_layer("[discord]\nshard_total = 2\nshard_range = [0, 1]\n");
        let s = Settings::from_sources(None, &[], &overrides).unwrap();
        assert_eq!(s.discord.shards(), Some((0, 1, 2)));
        let s = load_ok(&[
            ("ANBUD__DISCORD__SHARD_TOTAL", "4"),
            ("ANBUD__DISCORD__SHARD_RANGE", "0,0"),
        ]);
        assert_eq!(s.discord.shards(), Some((0, 0, 4)));
    }

    #[test]
    fn lists_can_be_set_from_the_environment() {
        let s = load_ok(&[
            ("ANBUD__ANNOUNCEMENTS__REMINDER_DAYS_BEFORE", "7,1"),
            ("ANBUD__ANNOUNCEMENTS__REMINDER_HOURS_BEFORE", " 3 , 1 "),
        ]);
        assert_eq!(s.announcements.reminder_days_before, vec![7, 1]);
        assert_eq!(s.announcements.reminder_hours_before, vec![3, 1]);
        let err = load_error(&[("ANBUD__ANNOUNCEMENTS__REMINDER_DAYS_BEFORE", "7,x")]);
        assert!(
            err.contains("reminder_days_before") && err.contains("\"x\""),
            "{err}"
        );
    }

    #[test]
    fn nonsensical_values_are_refused() {
        for (variable, value, key) in [
            (
                "ANBUD__DATABASE__RETENTION_DAYS",
                "0",
                "database.retention_days",
            ),
            (
                "ANBUD__DATABASE__BUFFER_CAPACITY",
                "0",
                "database.buffer_capacity",
            ),
            (
                "ANBUD__DATABASE__KNOWLEDGE_POLL_MS",
                "0",
                "database.knowledge_poll_ms",
            ),
            (
                "ANBUD__ANNOUNCEMENTS__SCHEDULER_TICK_MS",
                "0",
                "announcements.scheduler_tick_ms",
            ),
            (
                "ANBUD__ANNOUNCEMENTS__REMINDER_DAYS_BEFORE",
                "7,0",
                "announcements.reminder_days_before",
            ),
            (
                "ANBUD__ANNOUNCEMENTS__REMINDER_HOURS_BEFORE",
                "0",
                "announcements.reminder_hours_before",
            ),
            ("ANBUD__KNOWLEDGE__DIR", "", "knowledge.dir"),
            ("ANBUD__CLAIMS__LEASE_MS", "0", "claims.lease_ms"),
        ] {
            let err = load_error(&[(variable, value)]);
            assert!(err.contains(key), "{variable}={value}: {err}");
        }
    }

    #[test]
    fn edit_distances() {
        assert_eq!(edit_distance("treshold", "threshold"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn the_review_digest_is_a_weekday_and_a_time_or_off() {
        let s = Settings::defaults();
        assert_eq!(s.knowledge.review_after_days, 180);
        assert_eq!(
            s.knowledge.review_digest,
            Some(WeeklyTime {
                weekday: chrono::Weekday::Mon,
                time: chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap()
            })
        );
        let off = Settings::from_sources(
            None,
            &env(&[("ANBUD__KNOWLEDGE__REVIEW_DIGEST", "")]),
            &Overrides::default(),
        )
        .unwrap();
        assert_eq!(off.knowledge.review_digest, None);
        let err = Settings::from_sources(
            None,
            &env(&[("ANBUD__KNOWLEDGE__REVIEW_DIGEST", "someday")]),
            &Overrides::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("knowledge.review_digest"), "{err}");
    }
}
