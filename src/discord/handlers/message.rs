//! Messages: questions in Q&A channels, mentions, direct messages and follow-ups in the
//! bot's threads.

use std::time::Instant;

use poise::serenity_prelude as serenity;
use serenity::{ChannelId, Message, MessageId, MessageType, UserId};

use super::discord_origin;
use crate::config::ReplyMode;
use crate::discord::context::{Data, Error};
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

/// Where a message was written, as far as the cache or Discord can tell.
enum Place {
    /// A direct message or a plain channel.
    Channel,
    /// A thread or forum post, with its parent channel and who opened it.
    Thread {
        parent: Option<ChannelId>,
        owner: Option<UserId>,
    },
    /// Discord could not say.
    Unknown,
}

/// Where `msg` was written: from the cache, else asked of Discord.
async fn place(ctx: &serenity::Context, msg: &Message) -> Place {
    let Some(guild_id) = msg.guild_id else {
        return Place::Channel;
    };
    let cached = ctx.cache.guild(guild_id).and_then(|guild| {
        if guild.channels.contains_key(&msg.channel_id) {
            return Some(Place::Channel);
        }
        let thread = guild.threads.iter().find(|t| t.id == msg.channel_id)?;
        thread.parent_id.map(|parent| Place::Thread {
            parent: Some(parent),
            owner: thread.owner_id,
        })
    });
    if let Some(place) = cached {
        return place;
    }
    match msg.channel_id.to_channel(ctx).await {
        Ok(serenity::Channel::Guild(channel)) if channel.thread_metadata.is_some() => {
            Place::Thread {
                parent: channel.parent_id,
                owner: channel.owner_id,
            }
        }
        Ok(_) => Place::Channel,
        Err(e) => {
            tracing::debug!(error = %e, channel = %msg.channel_id, "could not look up a channel's parent");
            Place::Unknown
        }
    }
}

/// The channel a message counts as in for `discord.qa_channels`: for a thread or a forum
/// post, its parent; else its own channel.
fn counts_as_channel(place: &Place, msg: &Message) -> ChannelId {
    match place {
        Place::Thread {
            parent: Some(parent),
            ..
        } => *parent,
        _ => msg.channel_id,
    }
}

/// Whether the thread a message is in may be one the bot opened: the bot opened it, or
/// Discord cannot say who did.
fn may_be_bots_thread(place: &Place, me: UserId) -> bool {
    match place {
        Place::Channel => false,
        Place::Thread {
            owner: Some(owner), ..
        } => *owner == me,
        Place::Thread { owner: None, .. } | Place::Unknown => true,
    }
}

/// Whether `place` is a thread that `me` is known to have opened.
fn opened_by(place: &Place, me: UserId) -> bool {
    matches!(place, Place::Thread { owner: Some(owner), .. } if *owner == me)
}

/// Whether the thread `msg` is in was opened on a question of `msg`'s author (a thread
/// the bot opened on a question has that question's id). When the first message cannot
/// be read it says yes: a note too many is better than a follow-up dropped in silence.
async fn opened_on_authors_question(ctx: &serenity::Context, msg: &Message, place: &Place) -> bool {
    let Place::Thread {
        parent: Some(parent),
        ..
    } = place
    else {
        return true;
    };
    match parent
        .message(ctx, MessageId::new(msg.channel_id.get()))
        .await
    {
        Ok(first) => first.author.id == msg.author.id,
        Err(e) => {
            tracing::debug!(error = %e, thread = %msg.channel_id, "could not read the message a thread was opened on");
            true
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
    let is_bot = msg.author.bot || msg.author.id == me;
    let (bot_thread, lookup_failed) = match data
        .bot_thread(&ctx.cache, msg.guild_id, msg.channel_id)
        .await
    {
        Ok(thread) => (thread, false),
        Err(e) => {
            tracing::warn!(channel = %msg.channel_id, error = %e, "could not look up a thread the bot may have opened");
            (None, true)
        }
    };
    // In the bot's thread only the asker's messages are follow-ups: an adviser or
    // another member talking there is not answered (unless they mention the bot).
    let thread_question = bot_thread
        .as_ref()
        .filter(|t| t.asker == msg.author.id)
        .map(|t| t.question.clone());
    let in_bot_thread = bot_thread.is_some();
    // Where the message is matters only outside a thread the bot knows as its own.
    let place = match in_bot_thread {
        true => Place::Channel,
        false => place(ctx, msg).await,
    };
    // The database could not say whether this is the bot's thread nor whose: in what
    // may be the bot's thread, the asker is told, and nobody else is answered as if in
    // the Q&A channel (an adviser's aside stays unanswered, as when the bot knows).
    let maybe_bots_thread = lookup_failed && may_be_bots_thread(&place, me);
    // A thread the bot opened (it owns it) that the database answered for without a
    // row: its question is gone (forgotten, purged, or never stored). Treated like the
    // case above, with a note that does not promise it will come back.
    let context_gone = !lookup_failed && !in_bot_thread && opened_by(&place, me);
    if (maybe_bots_thread || context_gone)
        && !is_bot
        && opened_on_authors_question(ctx, msg, &place).await
    {
        // Answered alone, a short follow-up would get an answer to the wrong question
        // (or be queued for advisers without its context): say so instead and record
        // nothing, so nothing is promised that the database has not taken. The note
        // counts against the asker's rate like an answer (no flood of notes).
        if !data.state.rate.allow(msg.author.id.get(), Instant::now()) {
            return Ok(());
        }
        let texts = Texts::get(detect_language(&msg.content));
        let text = match context_gone {
            true => &texts.thread_context_gone,
            false => &texts.thread_context_lost,
        };
        send::post(
            &ctx.http,
            msg.channel_id,
            Outgoing::text(text).replying_to(Some(msg.id)),
        )
        .await?;
        return Ok(());
    }
    let in_qa_channel = !in_bot_thread
        && !maybe_bots_thread
        && !context_gone
        && settings
            .qa_channels
            .contains(&counts_as_channel(&place, msg).get());
    let Some(trigger) = trigger(
        is_bot,
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
                remember_thread(data, opened, &msg.content, msg.author.id).await;
                target = opened;
                reply_to = None;
                thread = Some(opened);
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
    let answer = rendered.chunks.join("\n\n");
    let components = answer_components(&rendered, key, false);
    let outgoing = Outgoing::text(&answer)
        .replying_to(reply_to)
        .with_components(components.clone());
    let posted = match send::post(http, target, outgoing).await {
        Ok(_) => Ok(()),
        // The thread just opened would not take the answer, even after `post`'s retries
        // there. The asker sees their question with a thread under it and expects the
        // answer; an empty thread tells them nothing. So the answer goes under their
        // question in the channel, saying why and linking the thread, where follow-ups
        // still work (it is remembered). It may repeat a part that did reach the thread:
        // better than no answer.
        Err(e) if target != msg.channel_id => {
            tracing::warn!(thread = %target, error = %e, "could not answer in the new thread; answering in the channel");
            let note = Texts::get(rendered.lang)
                .thread_unreachable
                .fill(&[("thread", &target)]);
            let outgoing = Outgoing::text(format!("{note}\n\n{answer}"))
                .replying_to(Some(msg.id))
                .with_components(components);
            send::post(http, msg.channel_id, outgoing).await.map(|_| ())
        }
        Err(e) => Err(e),
    };
    tracing::debug!(elapsed_ms = received.elapsed().as_millis() as u64, trigger = ?trigger, answered = asked.reply.answered(), "replied to a message");

    // A queued question reaches the advisers even when Discord did not take the reply.
    if let Some(logged) = asked.queue_item.filter(|l| l.is_new) {
        delivery::alert_advisers(http, &data.app, logged).await;
    }
    Ok(posted?)
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
    fn a_thread_may_be_the_bots_unless_someone_else_opened_it() {
        let (me, member) = (UserId::new(1), UserId::new(2));
        let thread = |owner| Place::Thread {
            parent: Some(ChannelId::new(3)),
            owner,
        };
        assert!(may_be_bots_thread(&thread(Some(me)), me));
        assert!(may_be_bots_thread(&thread(None), me), "cannot say: maybe");
        assert!(may_be_bots_thread(&Place::Unknown, me));
        assert!(!may_be_bots_thread(&thread(Some(member)), me));
        assert!(!may_be_bots_thread(&Place::Channel, me));
        assert!(opened_by(&thread(Some(me)), me));
        assert!(!opened_by(&thread(None), me), "cannot say: not known");
        assert!(!opened_by(&thread(Some(member)), me));
        assert!(!opened_by(&Place::Unknown, me));
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
