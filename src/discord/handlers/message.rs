//! Messages: questions in Q&A channels, mentions, direct messages and follow-ups in the
//! bot's threads.

use std::time::Instant;

use poise::serenity_prelude as serenity;
use serenity::{ChannelId, Message, MessageType, UserId};

use super::discord_origin;
use crate::config::ReplyMode;
use crate::discord::context::{BotThread, Data, Error};
use crate::discord::delivery;
use crate::discord::format::render_reply;
use crate::discord::reply::answer_components;
use crate::discord::send::{self, Outgoing};
use crate::discord::texts::Texts;
use crate::search::detect_language;
use crate::store::StoredThread;

/// Why a message is (or is not) a question for the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    DirectMessage,
    QaChannel,
    Mention,
    /// A message in a thread the bot opened on a question.
    FollowUp,
}

/// Decide whether to answer a message. Bots (ourselves included) are never answered.
pub fn trigger(
    author_is_bot: bool,
    is_dm: bool,
    in_qa_channel: bool,
    mentions_bot: bool,
    in_bot_thread: bool,
) -> Option<Trigger> {
    if author_is_bot {
        None
    } else if is_dm {
        Some(Trigger::DirectMessage)
    } else if in_bot_thread {
        Some(Trigger::FollowUp)
    } else if mentions_bot {
        Some(Trigger::Mention)
    } else if in_qa_channel {
        Some(Trigger::QaChannel)
    } else {
        None
    }
}

/// Follow-ups with fewer words than this are read together with the thread's first question.
const SHORT_FOLLOW_UP_WORDS: usize = 5;

/// What to ask for a follow-up in a thread: the follow-up alone when it stands on its own
/// (answered and not short), else the first question and the follow-up together.
pub fn follow_up_question(first: &str, follow_up: &str, alone_answered: bool) -> String {
    let words = crate::answer::clean_question(follow_up)
        .split_whitespace()
        .count();
    if alone_answered && words >= SHORT_FOLLOW_UP_WORDS {
        follow_up.to_string()
    } else {
        format!("{}\n{}", first.trim(), follow_up.trim())
    }
}

/// The channel a message counts as in for `discord.qa_channels`: for a thread or a forum
/// post, its parent (from the cache, else asked of Discord); else its own channel.
async fn counts_as_channel(ctx: &serenity::Context, msg: &Message) -> ChannelId {
    let Some(guild_id) = msg.guild_id else {
        return msg.channel_id;
    };
    let cached = ctx.cache.guild(guild_id).map(|guild| {
        if guild.channels.contains_key(&msg.channel_id) {
            Some(msg.channel_id)
        } else {
            guild
                .threads
                .iter()
                .find(|t| t.id == msg.channel_id)
                .and_then(|t| t.parent_id)
        }
    });
    if let Some(Some(channel)) = cached {
        return channel;
    }
    match msg.channel_id.to_channel(ctx).await {
        Ok(serenity::Channel::Guild(channel)) => channel
            .parent_id
            .filter(|_| channel.thread_metadata.is_some())
            .unwrap_or(msg.channel_id),
        Ok(_) => msg.channel_id,
        Err(e) => {
            tracing::debug!(error = %e, channel = %msg.channel_id, "could not look up a channel's parent");
            msg.channel_id
        }
    }
}

/// The thread the bot opened on a question, if `msg` is in one: from memory, else (after
/// a restart) from the database. Only threads are looked up there, not every channel.
async fn bot_thread(ctx: &serenity::Context, data: &Data, msg: &Message) -> Option<BotThread> {
    if let Some(thread) = data.state.thread(msg.channel_id) {
        return Some(thread);
    }
    let guild_id = msg.guild_id?;
    let store = data.app.store()?;
    let plain_channel = ctx
        .cache
        .guild(guild_id)
        .is_some_and(|guild| guild.channels.contains_key(&msg.channel_id));
    if plain_channel {
        return None;
    }
    match store.thread(&msg.channel_id.to_string()).await {
        Ok(stored) => {
            let asker = stored.as_ref()?.asker_id.parse::<u64>().ok()?;
            let thread = BotThread {
                question: stored?.question,
                asker: UserId::new(asker),
            };
            data.state
                .remember_thread(msg.channel_id, &thread.question, thread.asker);
            Some(thread)
        }
        Err(e) => {
            tracing::warn!(channel = %msg.channel_id, error = %e, "could not look up a thread the bot may have opened");
            None
        }
    }
}

/// Keep the thread opened on `question` in memory and in the database (so follow-ups
/// after a restart are still read with the question).
async fn remember_thread(data: &Data, thread: ChannelId, question: &str, asker: UserId) {
    data.state.remember_thread(thread, question, asker);
    let Some(store) = data.app.store() else {
        return;
    };
    let stored = StoredThread {
        thread_id: thread.to_string(),
        asker_id: asker.to_string(),
        question: question.to_string(),
    };
    if let Err(e) = store.save_thread(&stored).await {
        tracing::warn!(%thread, error = %e, "could not keep a thread's question; follow-ups after a restart lose it");
    }
}

/// Answer a message if it is a question for the bot.
pub async fn on_message(ctx: &serenity::Context, data: &Data, msg: &Message) -> Result<(), Error> {
    let received = Instant::now();
    if !matches!(msg.kind, MessageType::Regular | MessageType::InlineReply) {
        return Ok(());
    }
    let me = ctx.cache.current_user().id;
    let settings = &data.app.settings.discord;
    let bot_thread = bot_thread(ctx, data, msg).await;
    // In the bot's thread only the asker's messages are follow-ups: an adviser or
    // another member talking there is not answered (unless they mention the bot).
    let thread_question = bot_thread
        .as_ref()
        .filter(|t| t.asker == msg.author.id)
        .map(|t| t.question.clone());
    let in_bot_thread = bot_thread.is_some();
    let in_qa_channel = !in_bot_thread
        && settings
            .qa_channels
            .contains(&counts_as_channel(ctx, msg).await.get());
    let Some(trigger) = trigger(
        msg.author.bot || msg.author.id == me,
        msg.guild_id.is_none(),
        in_qa_channel,
        msg.mentions_user_id(me),
        thread_question.is_some(),
    ) else {
        return Ok(());
    };
    let http = &ctx.http;
    if !data.state.rate.allow(msg.author.id.get(), Instant::now()) {
        tracing::info!(user = %msg.author.id, "rate limited");
        let text = Texts::get(detect_language(&msg.content))
            .rate_limited
            .as_str();
        send::post(
            http,
            msg.channel_id,
            Outgoing::text(text).replying_to(Some(msg.id)),
        )
        .await?;
        return Ok(());
    }

    let question = match &thread_question {
        Some(first) => {
            let alone = data.app.answer_only(&msg.content);
            follow_up_question(first, &msg.content, alone.answered())
        }
        None => msg.content.clone(),
    };

    // Where the answer goes: a reply, or a new thread on the question.
    let mut target = msg.channel_id;
    let mut reply_to = Some(msg.id);
    let mut thread = bot_thread.map(|_| msg.channel_id);
    if settings.reply_mode == ReplyMode::Thread
        && trigger != Trigger::FollowUp
        && trigger != Trigger::DirectMessage
    {
        match send::open_thread(http, msg.channel_id, msg.id, &msg.content).await {
            Ok(opened) => {
                remember_thread(data, opened.id, &msg.content, msg.author.id).await;
                target = opened.id;
                reply_to = None;
                thread = Some(opened.id);
            }
            Err(e) => tracing::warn!(error = %e, "could not open a thread; replying instead"),
        }
    }

    let origin = discord_origin(
        msg.guild_id,
        Some(msg.channel_id),
        Some(msg.id),
        thread,
        msg.author.id,
    );
    let asked = data.app.ask(&question, origin).await;
    let mut rendered = render_reply(&asked.reply, asked.logged);
    crate::discord::commands::tenders::add_notices(&mut rendered, &data.app, &question).await;
    let key = data.state.remember_question(&question);
    let outgoing = Outgoing::text(rendered.chunks.join("\n\n"))
        .replying_to(reply_to)
        .with_components(answer_components(&rendered, key, false));
    send::post(http, target, outgoing).await?;
    tracing::debug!(elapsed_ms = received.elapsed().as_millis() as u64, trigger = ?trigger, answered = asked.reply.answered(), "replied to a message");

    if let Some(logged) = asked.queue_item.filter(|l| l.is_new) {
        delivery::alert_advisers(http, &data.app, logged).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_gets_an_answer() {
        // (bot, dm, qa channel, mentions the bot, in the bot's thread) → trigger
        let cases = [
            ((true, true, true, true, true), None),
            (
                (false, true, false, false, false),
                Some(Trigger::DirectMessage),
            ),
            ((false, false, true, false, false), Some(Trigger::QaChannel)),
            ((false, false, false, true, false), Some(Trigger::Mention)),
            ((false, false, false, false, true), Some(Trigger::FollowUp)),
            ((false, false, false, false, false), None),
        ];
        for ((bot, dm, qa, mention, thread), expected) in cases {
            assert_eq!(trigger(bot, dm, qa, mention, thread), expected);
        }
    }

    #[test]
    fn follow_ups_borrow_the_first_question_when_needed() {
        let first = "Hva er en dialogkonferanse?";
        assert_eq!(
            follow_up_question(first, "Og for små bedrifter?", true),
            format!("{first}\nOg for små bedrifter?")
        );
        assert_eq!(
            follow_up_question(first, "Hva er fristen for å klage på en tildeling?", false),
            format!("{first}\nHva er fristen for å klage på en tildeling?")
        );
        let standalone = "Hva er fristen for å klage på en tildeling?";
        assert_eq!(follow_up_question(first, standalone, true), standalone);
    }
}
