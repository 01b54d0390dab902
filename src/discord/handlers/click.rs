//! Clicks on the bot's buttons. [`on_click`] parses the custom id
//! ([`ButtonAction`]) and hands the click to one small function per action. To add a
//! button: a variant in [`ButtonAction`], its custom id there, and a function here.

use std::time::Instant;

use chrono::Utc;
use poise::serenity_prelude as serenity;
use serenity::{
    ChannelId, ComponentInteraction, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, EditInteractionResponse, EditThread, Http,
};

use super::discord_origin;
use crate::answer::Reply;
use crate::discord::buttons::{ButtonAction, ButtonKey};
use crate::discord::context::{lang_from_locale, Data, Error};
use crate::discord::delivery;
use crate::discord::format::{entry_text, render_reply, split_message, MESSAGE_LIMIT};
use crate::discord::reply::{answer_components, cause_chain, private_response};
use crate::discord::send::no_mentions;
use crate::discord::texts::Texts;
use crate::knowledge::Lang;
use crate::store::{LogOutcome, NewFeedback};

/// One click, with what every action needs.
struct Click<'a> {
    http: &'a Http,
    cache: &'a serenity::Cache,
    data: &'a Data,
    interaction: &'a ComponentInteraction,
}

impl Click<'_> {
    async fn respond(&self, response: CreateInteractionResponse) -> Result<(), Error> {
        self.interaction
            .create_response(self.http, response)
            .await?;
        Ok(())
    }

    /// A note only the clicker sees.
    async fn tell(&self, text: &str) -> Result<(), Error> {
        self.respond(private_response(text, Vec::new())).await
    }

    /// Acknowledge at once (Discord allows three seconds), with a private "thinking…"
    /// that [`Click::edit`] replaces: for clicks that wait for the database or Discord.
    async fn defer_privately(&self) -> Result<(), Error> {
        self.respond(CreateInteractionResponse::Defer(
            CreateInteractionResponseMessage::new().ephemeral(true),
        ))
        .await
    }

    /// Acknowledge at once without a message: [`Click::edit`] then changes the message
    /// the button is on.
    async fn acknowledge(&self) -> Result<(), Error> {
        self.respond(CreateInteractionResponse::Acknowledge).await
    }

    /// Replace the acknowledged response (or, after [`Click::acknowledge`], the button's
    /// message): the text, no buttons.
    async fn edit(&self, text: &str) -> Result<(), Error> {
        self.interaction
            .edit_response(
                self.http,
                EditInteractionResponse::new()
                    .content(text)
                    .components(Vec::new())
                    .allowed_mentions(no_mentions()),
            )
            .await?;
        Ok(())
    }
}

/// A click on one of the bot's buttons.
pub async fn on_click(
    ctx: &serenity::Context,
    data: &Data,
    interaction: &ComponentInteraction,
) -> Result<(), Error> {
    let received = Instant::now();
    let click = Click {
        http: &ctx.http,
        cache: &ctx.cache,
        data,
        interaction,
    };
    if data.state.is_collecting(&interaction.data.custom_id) {
        return Ok(()); // A running command waits for this click.
    }
    let Some(action) = ButtonAction::parse(&interaction.data.custom_id) else {
        // Discord only sends us clicks on our own messages: an id we cannot read is from
        // an older version (or forged). Answer it, or the user sees "This interaction failed".
        tracing::info!(custom_id = %interaction.data.custom_id, "an expired or unknown button");
        let t = Texts::get(lang_from_locale(Some(&interaction.locale)));
        return click.tell(&t.button_expired).await;
    };
    match action {
        ButtonAction::Feedback {
            helpful,
            lang,
            key,
            entry_id,
        } => feedback(&click, helpful, lang, key, entry_id).await?,
        ButtonAction::Topic { lang, entry_id } => topic(&click, lang, &entry_id, false).await?,
        ButtonAction::More { lang, entry_id } => topic(&click, lang, &entry_id, true).await?,
        ButtonAction::Share { lang, entry_id } => share(&click, lang, &entry_id).await?,
        ButtonAction::Forget { confirm, user } => forget(&click, confirm, user).await?,
        ButtonAction::ShareTenders { lang, ids } => share_tenders(&click, lang, &ids).await?,
    }
    tracing::debug!(elapsed_ms = received.elapsed().as_millis() as u64, custom_id = %interaction.data.custom_id, "handled a button");
    Ok(())
}

/// "Helpful" / "Not helpful": record it; "not helpful" queues the question for advisers.
async fn feedback(
    click: &Click<'_>,
    helpful: bool,
    lang: Lang,
    key: ButtonKey,
    entry_id: String,
) -> Result<(), Error> {
    let (data, interaction) = (click.data, click.interaction);
    let t = Texts::get(lang);
    // This run's memory, else the question the answer replies to (Discord keeps it); a
    // private answer from before a restart has neither, and its button has expired.
    let question = data.state.question(key).or_else(|| {
        interaction
            .message
            .referenced_message
            .as_ref()
            .map(|m| m.content.clone())
            .filter(|c| !c.trim().is_empty())
    });
    let Some(question) = question else {
        tracing::info!(%key, "a feedback button from before a restart");
        return click.tell(&t.button_expired).await;
    };
    click.defer_privately().await?;
    let thread = data
        .thread_origin(click.cache, interaction.guild_id, interaction.channel_id)
        .await;
    let origin = discord_origin(
        interaction.guild_id,
        Some(interaction.channel_id),
        Some(interaction.message.id),
        thread,
        interaction.user.id,
    );
    let feedback = NewFeedback {
        entry_id,
        lang,
        helpful,
        comment: None,
        origin,
        question,
        at: Utc::now(),
    };
    // Waits for the commit: "an adviser will look at it" only once it is stored.
    let outcome = data.app.logger().record_feedback(feedback).await;
    let stored = matches!(outcome, Ok(LogOutcome::Stored(_)));
    click
        .edit(match (helpful, stored) {
            (true, _) => &t.thanks_helpful,
            (false, true) => &t.thanks_not_helpful,
            (false, false) => &t.thanks_not_helpful_not_passed_on,
        })
        .await?;
    match outcome {
        Ok(LogOutcome::Stored(Some(logged))) if logged.is_new => {
            delivery::alert_advisers(click.http, &data.app, logged).await
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "could not record feedback"),
    }
    Ok(())
}

/// A related or closest topic: show that entry privately, with its own buttons.
async fn topic(click: &Click<'_>, lang: Lang, entry_id: &str, full: bool) -> Result<(), Error> {
    let answerer = click.data.app.answerer();
    let Some(entry) = answerer.knowledge().entry(entry_id, lang) else {
        return click.tell(&Texts::get(lang).topic_gone).await;
    };
    let reply = Reply::for_entry(entry.clone(), lang);
    let mut rendered = render_reply(&reply, false);
    if full {
        // "More": the whole entry, privately (in the thread in thread mode the button
        // sits under the thread's answer, so the reply shows there too).
        rendered.chunks = split_message(&entry_text(entry, lang), MESSAGE_LIMIT);
        rendered.more = false;
    }
    let key = click.data.state.remember_question(&entry.title);
    let components = answer_components(&rendered, key, true);
    // An interaction response is one message: the first part, the rest follow.
    let mut chunks = rendered.chunks.into_iter();
    let first = chunks.next().unwrap_or_default();
    let rest: Vec<String> = chunks.collect();
    let first_components = if rest.is_empty() {
        components.clone()
    } else {
        Vec::new()
    };
    click
        .respond(private_response(first, first_components))
        .await?;
    let last = rest.len().saturating_sub(1);
    for (i, chunk) in rest.into_iter().enumerate() {
        let mut followup = CreateInteractionResponseFollowup::new()
            .content(chunk)
            .ephemeral(true)
            .allowed_mentions(no_mentions());
        if i == last {
            followup = followup.components(components.clone());
        }
        click
            .interaction
            .create_followup(click.http, followup)
            .await?;
    }
    Ok(())
}

/// "Share in channel" under a private answer: acknowledge privately, then post the
/// entry as a public follow-up of the interaction (which needs no channel permissions,
/// unlike a channel message: it works wherever the command did).
async fn share(click: &Click<'_>, lang: Lang, entry_id: &str) -> Result<(), Error> {
    let t = Texts::get(lang);
    let answerer = click.data.app.answerer();
    let Some(entry) = answerer.knowledge().entry(entry_id, lang) else {
        return click.tell(&t.answer_gone).await;
    };
    let intro = t.shared_this.fill(&[("user", &click.interaction.user.id)]);
    post_publicly(
        click,
        lang,
        &format!("{intro}\n\n{}", entry_text(entry, lang)),
    )
    .await
}

/// Acknowledges a "Share in channel" click privately, then posts `text` as public
/// follow-ups of the interaction (which need no channel permissions, unlike a channel
/// message: they work wherever the command did).
async fn post_publicly(click: &Click<'_>, lang: Lang, text: &str) -> Result<(), Error> {
    let t = Texts::get(lang);
    click.defer_privately().await?;
    // The first follow-up after a deferral would replace the private "thinking…": fill
    // that in first, so the shared parts are messages of their own.
    click.edit(&t.shared).await?;
    for part in split_message(text, MESSAGE_LIMIT) {
        let followup = CreateInteractionResponseFollowup::new()
            .content(part)
            .ephemeral(false)
            .allowed_mentions(no_mentions());
        click
            .interaction
            .create_followup(click.http, followup)
            .await?;
    }
    Ok(())
}

/// "Share in channel" under a private `/tenders list`: post those notices in the channel.
async fn share_tenders(click: &Click<'_>, lang: Lang, ids: &[String]) -> Result<(), Error> {
    let t = Texts::get(lang);
    let Some(list) =
        crate::discord::commands::tenders::shared_list(&click.data.app, lang, ids).await
    else {
        return click.tell(&t.answer_gone).await;
    };
    let intro = t.shared_this.fill(&[("user", &click.interaction.user.id)]);
    post_publicly(click, lang, &format!("{intro}\n\n{list}")).await
}

/// The answer to `/forget-me`'s question. Only the user who asked may confirm.
async fn forget(click: &Click<'_>, confirm: bool, user: u64) -> Result<(), Error> {
    let t = Texts::get(lang_from_locale(Some(&click.interaction.locale)));
    // Replace the question (and its buttons) with the outcome.
    let update = |text: String| {
        CreateInteractionResponse::UpdateMessage(
            CreateInteractionResponseMessage::new()
                .content(text)
                .components(Vec::new())
                .allowed_mentions(no_mentions()),
        )
    };
    if click.interaction.user.id.get() != user {
        tracing::warn!(clicker = %click.interaction.user.id, "a forget button clicked by someone else");
        return click.tell(&t.not_your_button).await;
    }
    if !confirm {
        return click.respond(update(t.nothing_deleted.clone())).await;
    }
    let Some(store) = click.data.app.store() else {
        return click.respond(update(t.forget_no_database.clone())).await;
    };
    click.acknowledge().await?;
    let report = match store.forget_user(&user.to_string()).await {
        Ok(report) => report,
        Err(e) => {
            tracing::error!(error = %cause_chain(&e), "could not forget a user");
            let text = match e.is_unavailable() {
                true => &t.forget_no_database,
                false => &t.sorry,
            };
            return click.edit(text).await;
        }
    };
    // The threads the bot opened on their questions carry the question as their name
    // (those of this run are in memory too, and kept there if the database missed one).
    let mut threads = click
        .data
        .state
        .forget_threads_of(click.interaction.user.id);
    let stored = report
        .opened_threads
        .iter()
        .filter_map(|id| id.parse::<u64>().ok())
        .map(ChannelId::new);
    threads.extend(stored);
    threads.sort();
    threads.dedup();
    for thread in threads {
        let renamed = thread
            .edit_thread(
                click.http,
                EditThread::new().name(t.forgotten_thread.as_str()),
            )
            .await;
        if let Err(e) = renamed {
            tracing::warn!(%thread, error = %e, "could not rename a forgotten user's thread");
        }
    }
    // The advisers' alerts quote their questions.
    delivery::redact_alerts(click.http, &report.alerts).await;
    tracing::info!(
        asks = report.asks_deleted,
        items = report.items_deleted,
        "forgot a user at their request"
    );
    click
        .edit(&t.forget_done.fill(&[
            ("asks", &report.asks_deleted),
            ("feedback", &report.feedback_deleted),
            ("items", &report.items_deleted),
            ("outbox", &report.outbox_deleted),
        ]))
        .await
}
