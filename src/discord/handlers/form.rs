//! A form (modal) submitted when no command waits for it any more: after the command's
//! time for it ran out, or after a restart. What the user wrote is never lost: it is
//! given back to them, privately, so they can use it again.

use poise::serenity_prelude as serenity;
use serenity::{ActionRowComponent, ModalInteraction};

use crate::discord::context::{lang_from_locale, Data, Error};
use crate::discord::format::{split_message, MESSAGE_LIMIT};
use crate::discord::reply::private_response;
use crate::discord::send::no_mentions;
use crate::discord::texts::Texts;

/// What the user wrote in a submitted form: each non-empty field in turn.
pub fn submitted_text(submit: &ModalInteraction) -> String {
    submit
        .data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|component| match component {
            ActionRowComponent::InputText(input) => input.value.clone(),
            _ => None,
        })
        .filter(|value| !value.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A form no command is waiting for: say so and give the text back.
pub async fn on_late_form(
    ctx: &serenity::Context,
    data: &Data,
    submit: &ModalInteraction,
) -> Result<(), Error> {
    if data.state.is_collecting(&submit.data.custom_id) {
        return Ok(()); // The command that opened it takes it.
    }
    tracing::info!(custom_id = %submit.data.custom_id, "a form submitted after its command stopped waiting");
    let t = Texts::get(lang_from_locale(Some(&submit.locale)));
    let text = format!("{}\n\n{}", t.form_expired, submitted_text(submit));
    let mut parts = split_message(&text, MESSAGE_LIMIT).into_iter();
    let first = parts.next().unwrap_or_default();
    submit
        .create_response(&ctx.http, private_response(first, Vec::new()))
        .await?;
    for part in parts {
        let followup = serenity::CreateInteractionResponseFollowup::new()
            .content(part)
            .ephemeral(true)
            .allowed_mentions(no_mentions());
        submit.create_followup(&ctx.http, followup).await?;
    }
    Ok(())
}
