//! What every command and handler shares: poise's [`Data`] (the application and the
//! bot's own state), the [`Context`] alias, who the invoker is (role checks, the name
//! for the audit log) and which language to talk to them in.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use poise::serenity_prelude as serenity;
use serenity::{Cache, ChannelId, GuildId, ModalInteraction, RoleId, UserId};

use super::buttons::ButtonKey;
use super::rate_limit::RateLimiter;
use super::reply::CommandError;
use super::texts::Texts;
use crate::app::App;
use crate::knowledge::Lang;
use crate::store::StoreError;

pub type Error = CommandError;
pub type Context<'a> = poise::Context<'a, Data, Error>;
pub type AppContext<'a> = poise::ApplicationContext<'a, Data, Error>;

/// The category that marks a command as the organisers' (their refusal names
/// `/events list` instead of `/help`).
pub const ORGANISER_CATEGORY: &str = "organiser";

/// What the bot remembers while it runs (lost on restart; nothing here is needed for
/// correctness after a restart, only for convenience).
#[derive(Debug)]
pub struct BotState {
    pub rate: RateLimiter,
    /// Threads the bot opened on a question → that first question and its asker.
    threads: Mutex<HashMap<u64, BotThread>>,
    /// Questions behind the feedback buttons, by the number in the button's key.
    questions: Mutex<BTreeMap<u64, String>>,
    /// This run's part of every button key: random, so keys differ across restarts.
    run: u32,
    /// Button ids a running command is waiting for (a collector answers those clicks).
    collecting: Arc<Mutex<HashSet<String>>>,
    /// The submitted form of a command that opened one, by the command's interaction
    /// id: what the command says after the form goes on the submission's own token,
    /// which is fresh when the command's (15 minutes) has run out.
    form_submits: Mutex<BTreeMap<u64, ModalInteraction>>,
    next_key: AtomicU64,
}

/// How many questions behind feedback buttons are remembered.
const REMEMBERED_QUESTIONS: usize = 5000;

/// How many commands' form submissions are remembered (a command runs for at most the
/// form's half hour plus its preview; far fewer are ever open at once).
const REMEMBERED_FORMS: usize = 1000;

impl BotState {
    pub fn new(rate_limit_per_minute: u32) -> BotState {
        BotState {
            rate: RateLimiter::per_minute(rate_limit_per_minute),
            threads: Mutex::new(HashMap::new()),
            questions: Mutex::new(BTreeMap::new()),
            run: run_id(),
            collecting: Arc::default(),
            form_submits: Mutex::new(BTreeMap::new()),
            next_key: AtomicU64::new(1),
        }
    }

    /// From now on the command `command` (an interaction id) answers on `submit`, the
    /// form it opened and got back.
    pub fn answer_on_form(&self, command: u64, submit: ModalInteraction) {
        let mut submits = self.form_submits.lock().unwrap_or_else(|p| p.into_inner());
        submits.insert(command, submit);
        // Interaction ids grow with time: the oldest go first, long after their command.
        while submits.len() > REMEMBERED_FORMS {
            submits.pop_first();
        }
    }

    /// The form submission command `command` answers on, if it opened a form.
    pub fn form_of(&self, command: u64) -> Option<ModalInteraction> {
        self.form_submits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&command)
            .cloned()
    }

    pub fn remember_thread(&self, thread: ChannelId, question: &str, asker: UserId) {
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                thread.get(),
                BotThread {
                    question: question.to_string(),
                    asker,
                },
            );
    }

    /// Forget the threads opened on `asker`'s questions (their text with them); returns
    /// their ids, so their names (the question) can be changed too.
    pub fn forget_threads_of(&self, asker: UserId) -> Vec<ChannelId> {
        let mut threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        let theirs: Vec<u64> = threads
            .iter()
            .filter(|(_, t)| t.asker == asker)
            .map(|(id, _)| *id)
            .collect();
        for id in &theirs {
            threads.remove(id);
        }
        theirs.into_iter().map(ChannelId::new).collect()
    }

    /// The thread the bot opened, if `channel` is one.
    pub fn thread(&self, channel: ChannelId) -> Option<BotThread> {
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&channel.get())
            .cloned()
    }

    /// Keep a question for its feedback buttons; returns the key to put in their ids.
    pub fn remember_question(&self, question: &str) -> ButtonKey {
        let number = self.next_key.fetch_add(1, Ordering::Relaxed);
        let mut questions = self.questions.lock().unwrap_or_else(|p| p.into_inner());
        questions.insert(number, question.chars().take(4000).collect());
        while questions.len() > REMEMBERED_QUESTIONS {
            questions.pop_first();
        }
        ButtonKey {
            run: self.run,
            number,
        }
    }

    /// Mark `ids` as answered by a collector until the returned guard is dropped.
    pub fn collecting(&self, ids: &[String]) -> CollectingGuard {
        let mut set = self.collecting.lock().unwrap_or_else(|p| p.into_inner());
        set.extend(ids.iter().cloned());
        CollectingGuard {
            set: self.collecting.clone(),
            ids: ids.to_vec(),
        }
    }

    /// Whether a running command's collector answers a click on `custom_id`.
    pub fn is_collecting(&self, custom_id: &str) -> bool {
        self.collecting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(custom_id)
    }

    /// The question behind a button key, if this run wrote the key and still remembers it.
    pub fn question(&self, key: ButtonKey) -> Option<String> {
        if key.run != self.run {
            return None;
        }
        self.questions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key.number)
            .cloned()
    }
}

/// While alive, a collector is waiting for clicks on these ids ([`BotState::collecting`]).
#[derive(Debug)]
pub struct CollectingGuard {
    set: Arc<Mutex<HashSet<String>>>,
    ids: Vec<String>,
}

impl Drop for CollectingGuard {
    fn drop(&mut self) {
        let mut set = self.set.lock().unwrap_or_else(|p| p.into_inner());
        for id in &self.ids {
            set.remove(id);
        }
    }
}

/// A random id for this run of the bot (from the clock if the OS has no randomness).
fn run_id() -> u32 {
    getrandom::u32().unwrap_or_else(|_| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos() ^ d.as_secs() as u32)
    })
}

/// A thread the bot opened on a question.
#[derive(Debug, Clone)]
pub struct BotThread {
    /// The question it was opened on (follow-ups may be read together with it).
    pub question: String,
    /// Who asked: only their messages in the thread are follow-ups.
    pub asker: UserId,
}

/// poise's user data: the application and the bot's own state.
#[derive(Debug, Clone)]
pub struct Data {
    pub app: App,
    pub state: Arc<BotState>,
}

impl Data {
    /// The thread the bot opened on a question, if `channel` (in `guild`) is one: from
    /// memory, else (after a restart) from the database, remembered again. Every place
    /// that asks "is this the bot's thread?" (a message, `/ask`, a button's origin) asks
    /// here. Direct messages and the guild's plain channels (in the cache) are never
    /// looked up. An error means the database could not say: the caller decides what the
    /// user is told.
    pub async fn bot_thread(
        &self,
        cache: &Cache,
        guild: Option<GuildId>,
        channel: ChannelId,
    ) -> Result<Option<BotThread>, StoreError> {
        if let Some(thread) = self.state.thread(channel) {
            return Ok(Some(thread));
        }
        let Some(guild) = guild else {
            return Ok(None);
        };
        let plain_channel = cache
            .guild(guild)
            .is_some_and(|guild| guild.channels.contains_key(&channel));
        let Some(store) = self.app.store().filter(|_| !plain_channel) else {
            return Ok(None);
        };
        let Some(stored) = store.thread(&channel.to_string()).await? else {
            return Ok(None);
        };
        let Ok(asker) = stored.asker_id.parse::<u64>() else {
            return Ok(None);
        };
        let thread = BotThread {
            question: stored.question,
            asker: UserId::new(asker),
        };
        self.state
            .remember_thread(channel, &thread.question, thread.asker);
        Ok(Some(thread))
    }

    /// The thread to record as a question's origin (where an adviser's answer goes):
    /// `channel` when it is the bot's thread ([`Data::bot_thread`]). When the database
    /// cannot say, none: the question is still recorded with its channel, which for a
    /// question asked in the thread is the thread itself.
    pub async fn thread_origin(
        &self,
        cache: &Cache,
        guild: Option<GuildId>,
        channel: ChannelId,
    ) -> Option<ChannelId> {
        match self.bot_thread(cache, guild, channel).await {
            Ok(thread) => thread.map(|_| channel),
            Err(e) => {
                tracing::warn!(%channel, error = %e, "could not look up whether a question was asked in the bot's thread");
                None
            }
        }
    }
}

/// Whether any of `roles` is one of the configured role ids.
pub fn has_any_role(roles: &[RoleId], allowed: &[u64]) -> bool {
    roles.iter().any(|r| allowed.contains(&r.get()))
}

/// The roles of the member who invoked the command, taken from the interaction itself
/// (what Discord vouches for), not from the cache. Empty in direct messages.
fn invoker_roles(ctx: Context<'_>) -> Vec<RoleId> {
    let roles = match ctx {
        poise::Context::Application(app) => app.interaction.member.as_ref().map(|m| &m.roles),
        poise::Context::Prefix(prefix) => prefix.msg.member.as_ref().map(|m| &m.roles),
    };
    roles.cloned().unwrap_or_default()
}

/// poise check: the invoker has a role in `discord.adviser_roles`.
pub async fn is_adviser(ctx: Context<'_>) -> Result<bool, Error> {
    Ok(has_any_role(
        &invoker_roles(ctx),
        &ctx.data().app.settings.discord.adviser_roles,
    ))
}

/// poise check: the invoker has a role in `discord.organiser_roles` (for `/announce`,
/// `/announcements` and `/events add`).
pub async fn is_organiser(ctx: Context<'_>) -> Result<bool, Error> {
    Ok(has_any_role(
        &invoker_roles(ctx),
        &ctx.data().app.settings.discord.organiser_roles,
    ))
}

/// The invoker's display name: "answer from an adviser (name)".
pub fn display_name(ctx: Context<'_>) -> String {
    let user = ctx.author();
    user.global_name
        .clone()
        .unwrap_or_else(|| user.name.clone())
}

/// Who acts, for the audit log: "name (discord id)".
pub fn actor(ctx: Context<'_>) -> String {
    format!("{} (discord {})", display_name(ctx), ctx.author().id)
}

/// The language of an interaction's locale: "nb"/"no"/"nn" → Bokmål, else English.
pub fn lang_from_locale(locale: Option<&str>) -> Lang {
    let Some(locale) = locale else {
        return Lang::En;
    };
    let primary = locale
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match primary.as_str() {
        "nb" | "no" | "nn" => Lang::Nb,
        _ => Lang::En,
    }
}

/// The language to talk to the invoker in: the interaction's locale.
pub fn ctx_lang(ctx: Context<'_>) -> Lang {
    lang_from_locale(ctx.locale())
}

/// The invoker's texts.
pub fn texts(ctx: Context<'_>) -> &'static Texts {
    Texts::get(ctx_lang(ctx))
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
    fn another_runs_keys_find_nothing() {
        let (before, after) = (BotState::new(0), BotState::new(0));
        assert_ne!(before.run, after.run);
        let old = before.remember_question("før omstart");
        after.remember_question("etter omstart");
        assert_eq!(after.question(old), None);
        assert_eq!(before.question(old).as_deref(), Some("før omstart"));
    }

    #[test]
    fn locales() {
        assert_eq!(lang_from_locale(Some("no")), Lang::Nb);
        assert_eq!(lang_from_locale(Some("nb-NO")), Lang::Nb);
        assert_eq!(lang_from_locale(Some("nn")), Lang::Nb);
        assert_eq!(lang_from_locale(Some("en-US")), Lang::En);
        assert_eq!(lang_from_locale(Some("sv-SE")), Lang::En);
        assert_eq!(lang_from_locale(None), Lang::En);
    }
}
