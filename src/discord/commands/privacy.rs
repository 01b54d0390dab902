//! `/forget-me`: asks for confirmation; the click is handled in
//! [`handlers::click`](crate::discord::handlers::click).

use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton};

use crate::discord::buttons::ButtonAction;
use crate::discord::context::{texts, Context, Data, Error};
use crate::discord::reply::send_chunks;

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![forget_me()]
}

/// Delete your stored questions and feedback.
#[poise::command(slash_command, rename = "forget-me")]
pub async fn forget_me(ctx: Context<'_>) -> Result<(), Error> {
    let t = texts(ctx);
    let user = ctx.author().id.get();
    let button = |confirm: bool| ButtonAction::Forget { confirm, user }.custom_id();
    let (Some(yes), Some(no)) = (button(true), button(false)) else {
        return Err(Error::Unexpected(
            "forget buttons could not be built".into(),
        ));
    };
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new(yes)
            .label(&t.forget_yes)
            .style(ButtonStyle::Danger),
        CreateButton::new(no)
            .label(&t.cancel)
            .style(ButtonStyle::Secondary),
    ]);
    send_chunks(
        ctx,
        std::slice::from_ref(&t.forget_question),
        vec![buttons],
        true,
    )
    .await
}
