//! Answering suppliers: messages (Q&A channels, mentions, DMs, follow-ups in the bot's
//! threads), `/ask`, and the buttons under answers.

use std::time::Instant;

use chrono::Utc;
use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, ChannelId, ComponentInteraction, CreateActionRow, CreateButton,
    CreateInteractionResponse, CreateInteractionResponseMessage, GuildId, Message, MessageType,
    UserId,
};

use super::buttons::ButtonAction;
use super::format::{entry_text, lang_from_locale, render_reply, tr, Rendered};
use super::send::{self, no_mentions, Outgoing};
use super::{delivery, Context, Data, Error};
use crate::answer::Reply;
use crate::config::ReplyMode;
use crate::knowledge::Lang;
use crate::search::detect_language;
use crate::store::{LogOutcome, NewFeedback, Origin, Source};

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

/// The polite refusal when a user asks too often.
pub fn rate_limited_text(lang: Lang) -> &'static str {
    tr(
        lang,
        "Du har stilt mange spørsmål på kort tid. Vent litt og spør igjen om et minutt.",
        "You have asked a lot of questions in a short time. Please wait a moment and ask again in a minute.",
    )
}

/// The buttons under an answer: feedback (and share, for a private answer), then up to
/// three topics.
pub fn answer_components(rendered: &Rendered, key: u64, share: bool) -> Vec<CreateActionRow> {
    let lang = rendered.lang;
    let mut rows = Vec::new();
    let mut first = Vec::new();
    if let Some(entry_id) = &rendered.entry_id {
        let feedback = |helpful: bool| {
            ButtonAction::Feedback {
                helpful,
                lang,
                key,
                entry_id: entry_id.clone(),
            }
            .custom_id()
        };
        if let (Some(yes), Some(no)) = (feedback(true), feedback(false)) {
            first.push(
                CreateButton::new(yes)
                    .label(tr(lang, "Nyttig", "Helpful"))
                    .style(ButtonStyle::Success),
            );
            first.push(
                CreateButton::new(no)
                    .label(tr(lang, "Ikke nyttig", "Not helpful"))
                    .style(ButtonStyle::Danger),
            );
        }
        if share {
            if let Some(id) = (ButtonAction::Share {
                lang,
                entry_id: entry_id.clone(),
            })
            .custom_id()
            {
                first.push(
                    CreateButton::new(id)
                        .label(tr(lang, "Del i kanalen", "Share in channel"))
                        .style(ButtonStyle::Primary),
                );
            }
        }
    }
    if !first.is_empty() {
        rows.push(CreateActionRow::Buttons(first));
    }
    let topics: Vec<CreateButton> = rendered
        .topics
        .iter()
        .filter_map(|t| {
            let id = ButtonAction::Topic {
                lang,
                entry_id: t.id.clone(),
            }
            .custom_id()?;
            let label: String = t.label.chars().take(80).collect();
            Some(
                CreateButton::new(id)
                    .label(label)
                    .style(ButtonStyle::Secondary),
            )
        })
        .collect();
    if !topics.is_empty() {
        rows.push(CreateActionRow::Buttons(topics));
    }
    rows
}

fn discord_origin(
    guild: Option<GuildId>,
    channel: Option<ChannelId>,
    message: Option<serenity::MessageId>,
    thread: Option<ChannelId>,
    user: UserId,
) -> Origin {
    Origin {
        source: Source::Discord,
        guild_id: guild.map(|g| g.to_string()),
        channel_id: channel.map(|c| c.to_string()),
        message_id: message.map(|m| m.to_string()),
        thread_id: thread.map(|t| t.to_string()),
        user_id: Some(user.to_string()),
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
    let thread_question = data.state.thread_question(msg.channel_id);
    let Some(trigger) = trigger(
        msg.author.bot || msg.author.id == me,
        msg.guild_id.is_none(),
        settings.qa_channels.contains(&msg.channel_id.get()),
        msg.mentions_user_id(me),
        thread_question.is_some(),
    ) else {
        return Ok(());
    };
    let http = &ctx.http;
    if !data.state.rate.allow(msg.author.id.get(), Instant::now()) {
        tracing::info!(user = %msg.author.id, "rate limited");
        let text = rate_limited_text(detect_language(&msg.content));
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
    let mut thread = thread_question.as_ref().map(|_| msg.channel_id);
    if settings.reply_mode == ReplyMode::Thread
        && trigger != Trigger::FollowUp
        && trigger != Trigger::DirectMessage
    {
        match send::open_thread(http, msg.channel_id, msg.id, &msg.content).await {
            Ok(opened) => {
                data.state.remember_thread(opened.id, &msg.content);
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
    let rendered = render_reply(&asked.reply, asked.logged);
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

/// Ask the bot a question.
#[poise::command(slash_command)]
pub async fn ask(
    ctx: Context<'_>,
    #[description = "Spørsmålet ditt / your question"]
    #[max_length = 2000]
    question: String,
    #[description = "Vis svaret bare for deg / show the answer only to you"] private: Option<bool>,
) -> Result<(), Error> {
    let received = Instant::now();
    let private = private.unwrap_or(false);
    let data = ctx.data();
    if !data.state.rate.allow(ctx.author().id.get(), Instant::now()) {
        tracing::info!(user = %ctx.author().id, "rate limited");
        let reply = poise::CreateReply::default()
            .content(rate_limited_text(detect_language(&question)))
            .ephemeral(true)
            .allowed_mentions(no_mentions());
        ctx.send(reply).await?;
        return Ok(());
    }
    if private {
        ctx.defer_ephemeral().await?;
    } else {
        ctx.defer().await?;
    }
    // A private question's answer from an adviser goes by DM; a public one to the channel.
    let thread = data
        .state
        .thread_question(ctx.channel_id())
        .map(|_| ctx.channel_id());
    let channel = (!private).then(|| ctx.channel_id());
    let origin = discord_origin(ctx.guild_id(), channel, None, thread, ctx.author().id);
    let asked = data.app.ask(&question, origin).await;
    let rendered = render_reply(&asked.reply, asked.logged);
    let key = data.state.remember_question(&question);
    send_chunks(
        ctx,
        &rendered.chunks,
        answer_components(&rendered, key, private),
        private,
    )
    .await?;
    tracing::debug!(
        elapsed_ms = received.elapsed().as_millis() as u64,
        answered = asked.reply.answered(),
        private,
        "answered /ask"
    );
    if let Some(logged) = asked.queue_item.filter(|l| l.is_new) {
        delivery::alert_advisers(&ctx.serenity_context().http, &data.app, logged).await;
    }
    Ok(())
}

/// Reply to a command in parts, with the buttons on the last part.
pub async fn send_chunks(
    ctx: Context<'_>,
    chunks: &[String],
    components: Vec<CreateActionRow>,
    ephemeral: bool,
) -> Result<(), Error> {
    let last = chunks.len().saturating_sub(1);
    for (i, chunk) in chunks.iter().enumerate() {
        let mut reply = poise::CreateReply::default()
            .content(chunk.clone())
            .ephemeral(ephemeral)
            .allowed_mentions(no_mentions());
        if i == last && !components.is_empty() {
            reply = reply.components(components.clone());
        }
        ctx.send(reply).await?;
    }
    Ok(())
}

/// An ephemeral answer to a button click.
fn private_response(
    text: impl Into<String>,
    components: Vec<CreateActionRow>,
) -> CreateInteractionResponse {
    let mut message = CreateInteractionResponseMessage::new()
        .content(text)
        .ephemeral(true)
        .allowed_mentions(no_mentions());
    if !components.is_empty() {
        message = message.components(components);
    }
    CreateInteractionResponse::Message(message)
}

/// A click on one of the bot's buttons.
pub async fn on_click(
    ctx: &serenity::Context,
    data: &Data,
    click: &ComponentInteraction,
) -> Result<(), Error> {
    let received = Instant::now();
    let Some(action) = ButtonAction::parse(&click.data.custom_id) else {
        // Not ours (or forged): say nothing useful, but do not leave the click hanging.
        tracing::debug!(custom_id = %click.data.custom_id, "unknown button");
        return Ok(());
    };
    let http = &ctx.http;
    match action {
        ButtonAction::Feedback {
            helpful,
            lang,
            key,
            entry_id,
        } => {
            let question = data
                .state
                .question(key)
                .or_else(|| {
                    click
                        .message
                        .referenced_message
                        .as_ref()
                        .map(|m| m.content.clone())
                })
                .or_else(|| {
                    data.app
                        .answerer()
                        .knowledge()
                        .entry(&entry_id, lang)
                        .map(|e| e.title.clone())
                })
                .unwrap_or_else(|| entry_id.clone());
            let thread = data
                .state
                .thread_question(click.channel_id)
                .map(|_| click.channel_id);
            let origin = discord_origin(
                click.guild_id,
                Some(click.channel_id),
                Some(click.message.id),
                thread,
                click.user.id,
            );
            let feedback = NewFeedback {
                entry_id,
                lang: lang.code().to_string(),
                helpful,
                comment: None,
                origin,
                question,
                at: Utc::now(),
            };
            let outcome = data.app.logger().record_feedback(feedback).await;
            let text = if helpful {
                tr(
                    lang,
                    "Takk for tilbakemeldingen! Fint at svaret hjalp.",
                    "Thanks for the feedback! Glad the answer helped.",
                )
            } else {
                tr(
                    lang,
                    "Takk for at du sa fra! En rådgiver ser på spørsmålet, og du får svar her.",
                    "Thanks for telling us! An adviser will look at your question, and you will get the answer here.",
                )
            };
            click
                .create_response(http, private_response(text, Vec::new()))
                .await?;
            match outcome {
                Ok(LogOutcome::Stored(Some(logged))) if logged.is_new => {
                    delivery::alert_advisers(http, &data.app, logged).await
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "could not record feedback"),
            }
        }
        ButtonAction::Topic { lang, entry_id } => {
            let answerer = data.app.answerer();
            let response = match answerer.knowledge().entry(&entry_id, lang) {
                Some(entry) => {
                    let reply = Reply::for_entry(entry.clone(), lang);
                    let rendered = render_reply(&reply, false);
                    let key = data.state.remember_question(&entry.title);
                    // An interaction response is one message: the first part, the rest follow.
                    let mut chunks = rendered.chunks.clone();
                    let first = if chunks.is_empty() {
                        String::new()
                    } else {
                        chunks.remove(0)
                    };
                    let components = if chunks.is_empty() {
                        answer_components(&rendered, key, true)
                    } else {
                        Vec::new()
                    };
                    click
                        .create_response(http, private_response(first, components))
                        .await?;
                    let last = chunks.len().saturating_sub(1);
                    for (i, chunk) in chunks.into_iter().enumerate() {
                        let mut followup = serenity::CreateInteractionResponseFollowup::new()
                            .content(chunk)
                            .ephemeral(true)
                            .allowed_mentions(no_mentions());
                        if i == last {
                            followup = followup.components(answer_components(&rendered, key, true));
                        }
                        click.create_followup(http, followup).await?;
                    }
                    None
                }
                None => Some(private_response(
                    tr(
                        lang,
                        "Det temaet finnes ikke lenger.",
                        "That topic no longer exists.",
                    ),
                    Vec::new(),
                )),
            };
            if let Some(response) = response {
                click.create_response(http, response).await?;
            }
        }
        ButtonAction::Share { lang, entry_id } => {
            let text = data
                .app
                .answerer()
                .knowledge()
                .entry(&entry_id, lang)
                .map(|e| entry_text(e, lang));
            match text {
                Some(text) => {
                    let shared = tr(lang, "delte dette svaret", "shared this answer");
                    let intro = format!("<@{}> {shared}:\n\n", click.user.id);
                    send::post(http, click.channel_id, Outgoing::text(intro + &text)).await?;
                    click
                        .create_response(
                            http,
                            private_response(
                                tr(lang, "Delt i kanalen.", "Shared in the channel."),
                                Vec::new(),
                            ),
                        )
                        .await?;
                }
                None => {
                    click
                        .create_response(
                            http,
                            private_response(
                                tr(
                                    lang,
                                    "Det svaret finnes ikke lenger.",
                                    "That answer no longer exists.",
                                ),
                                Vec::new(),
                            ),
                        )
                        .await?;
                }
            }
        }
        ButtonAction::Forget { confirm, user } => {
            super::everyone::on_forget_click(
                ctx,
                data,
                click,
                confirm,
                user,
                lang_from_locale(Some(&click.locale)),
            )
            .await?;
        }
    }
    tracing::debug!(elapsed_ms = received.elapsed().as_millis() as u64, custom_id = %click.data.custom_id, "handled a button");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_gets_an_answer() {
        assert_eq!(trigger(true, true, true, true, true), None, "never a bot");
        assert_eq!(
            trigger(false, true, false, false, false),
            Some(Trigger::DirectMessage)
        );
        assert_eq!(
            trigger(false, false, true, false, false),
            Some(Trigger::QaChannel)
        );
        assert_eq!(
            trigger(false, false, false, true, false),
            Some(Trigger::Mention)
        );
        assert_eq!(
            trigger(false, false, false, false, true),
            Some(Trigger::FollowUp)
        );
        assert_eq!(
            trigger(false, false, false, false, false),
            None,
            "other channels stay quiet"
        );
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
