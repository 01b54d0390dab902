//! `/ask question [private]`: the same answering path as a message, as a reply to the
//! command (privately, with a *Share in channel* button, when asked).

use std::time::Instant;

use crate::discord::context::{Context, Data, Error};
use crate::discord::delivery;
use crate::discord::format::render_reply;
use crate::discord::handlers::discord_origin;
use crate::discord::reply::{answer_components, say_private, send_chunks};
use crate::discord::texts::Texts;
use crate::search::detect_language;

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![ask()]
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
        return say_private(ctx, &Texts::get(detect_language(&question)).rate_limited).await;
    }
    if private {
        ctx.defer_ephemeral().await?;
    } else {
        ctx.defer().await?;
    }
    // A private question's answer from an adviser goes by DM; a public one to the
    // channel, or to the bot's thread it was asked in (also one opened before a restart).
    let (thread, channel) = match private {
        true => (None, None),
        false => (
            data.thread_origin(
                &ctx.serenity_context().cache,
                ctx.guild_id(),
                ctx.channel_id(),
            )
            .await,
            Some(ctx.channel_id()),
        ),
    };
    let origin = discord_origin(ctx.guild_id(), channel, None, thread, ctx.author().id);
    let asked = data.app.ask(&question, origin).await;
    let mut rendered = render_reply(&asked.reply, asked.logged);
    crate::discord::commands::tenders::add_notices(&mut rendered, &data.app, &question).await;
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
