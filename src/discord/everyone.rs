//! Commands for everyone: `/help` and `/forget-me`.

use poise::serenity_prelude as serenity;
use serenity::{
    ButtonStyle, ComponentInteraction, CreateActionRow, CreateButton, CreateInteractionResponse,
    CreateInteractionResponseMessage,
};

use super::buttons::ButtonAction;
use super::format::tr;
use super::send::no_mentions;
use super::{ctx_lang, Context, Data, Error};
use crate::knowledge::Lang;
use crate::store::ForgetReport;

/// What the bot can do, in the user's language.
pub fn help_text(lang: Lang) -> &'static str {
    tr(
        lang,
        "**anbud** svarer på spørsmål om offentlige anskaffelser, med kilde og dato for når svaret sist ble gjennomgått.\n\n\
         **Slik spør du**\n\
         • `/ask` fulgt av spørsmålet (med `private: True` ser bare du svaret)\n\
         • nevn meg (@anbud) i en melding\n\
         • skriv i en spørsmålskanal, eller send meg en direktemelding\n\n\
         Er jeg ikke sikker, gjetter jeg ikke: spørsmålet går til en rådgiver, og du får svaret her. \
         Under svarene kan du si om de var nyttige, og se relaterte temaer.\n\n\
         **Arrangementer**: `/events list` viser kommende arrangementer, `/events ics` gir deg kalenderfilen.\n\
         **Personvern**: `/forget-me` sletter spørsmålene og tilbakemeldingene dine.\n\
         **Rådgivere**: `/unanswered`, `/answer`, `/dismiss`, `/kb`, `/stats`.\n\
         **Arrangører**: `/announce`, `/announcements`, `/events add`.",
        "**anbud** answers questions about public procurement, with the source and the date the answer was last reviewed.\n\n\
         **How to ask**\n\
         • `/ask` followed by your question (with `private: True` only you see the answer)\n\
         • mention me (@anbud) in a message\n\
         • write in a Q&A channel, or send me a direct message\n\n\
         When I am not sure, I do not guess: the question goes to an adviser, and you get the answer here. \
         Under answers you can say whether they helped, and see related topics.\n\n\
         **Events**: `/events list` shows upcoming events, `/events ics` gives you the calendar file.\n\
         **Privacy**: `/forget-me` deletes your questions and feedback.\n\
         **Advisers**: `/unanswered`, `/answer`, `/dismiss`, `/kb`, `/stats`.\n\
         **Organisers**: `/announce`, `/announcements`, `/events add`.",
    )
}

/// What the bot can do and how to ask.
#[poise::command(slash_command)]
pub async fn help(ctx: Context<'_>) -> Result<(), Error> {
    let reply = poise::CreateReply::default()
        .content(help_text(ctx_lang(ctx)))
        .ephemeral(true)
        .allowed_mentions(no_mentions());
    ctx.send(reply).await?;
    Ok(())
}

/// Delete your stored questions and feedback.
#[poise::command(slash_command, rename = "forget-me")]
pub async fn forget_me(ctx: Context<'_>) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let user = ctx.author().id.get();
    let (Some(yes), Some(no)) = (
        ButtonAction::Forget {
            confirm: true,
            user,
        }
        .custom_id(),
        ButtonAction::Forget {
            confirm: false,
            user,
        }
        .custom_id(),
    ) else {
        return Err(Error::Unexpected(
            "forget buttons could not be built".into(),
        ));
    };
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new(yes)
            .label(tr(lang, "Ja, slett", "Yes, delete"))
            .style(ButtonStyle::Danger),
        CreateButton::new(no)
            .label(tr(lang, "Avbryt", "Cancel"))
            .style(ButtonStyle::Secondary),
    ]);
    let text = tr(
        lang,
        "Vil du at jeg skal slette alt jeg har lagret om deg: spørsmål som venter på en rådgiver, tilbakemeldinger og svar som ikke er levert? Anonyme tellinger beholdes.",
        "Do you want me to delete everything I have stored about you: questions waiting for an adviser, feedback and answers not yet delivered? Anonymous counts are kept.",
    );
    let reply = poise::CreateReply::default()
        .content(text)
        .components(vec![buttons])
        .ephemeral(true)
        .allowed_mentions(no_mentions());
    ctx.send(reply).await?;
    Ok(())
}

/// What was deleted, in words.
pub fn forget_report_text(lang: Lang, report: &ForgetReport) -> String {
    match lang {
        Lang::Nb => format!(
            "Ferdig. Jeg slettet {} spørsmål, {} tilbakemelding(er), {} sak(er) i rådgiverkøen og {} svar som ventet på å bli levert.",
            report.asks_deleted, report.feedback_deleted, report.items_deleted, report.outbox_deleted
        ),
        Lang::En => format!(
            "Done. I deleted {} question(s), {} feedback item(s), {} item(s) in the advisers' queue and {} answer(s) waiting to be delivered.",
            report.asks_deleted, report.feedback_deleted, report.items_deleted, report.outbox_deleted
        ),
    }
}

/// The answer to `/forget-me`'s question. Only the user who asked may confirm.
pub async fn on_forget_click(
    ctx: &serenity::Context,
    data: &Data,
    click: &ComponentInteraction,
    confirm: bool,
    user: u64,
    lang: Lang,
) -> Result<(), Error> {
    let respond = |text: String, update: bool| {
        let message = CreateInteractionResponseMessage::new()
            .content(text)
            .components(Vec::new())
            .allowed_mentions(no_mentions());
        if update {
            CreateInteractionResponse::UpdateMessage(message)
        } else {
            CreateInteractionResponse::Message(message.ephemeral(true))
        }
    };
    if click.user.id.get() != user {
        tracing::warn!(clicker = %click.user.id, "a forget button clicked by someone else");
        let text = tr(
            lang,
            "Den knappen er ikke til deg. Bruk /forget-me selv.",
            "That button is not for you. Use /forget-me yourself.",
        );
        click
            .create_response(&ctx.http, respond(text.to_string(), false))
            .await?;
        return Ok(());
    }
    if !confirm {
        let text = tr(
            lang,
            "Greit, ingenting er slettet.",
            "All right, nothing was deleted.",
        );
        click
            .create_response(&ctx.http, respond(text.to_string(), true))
            .await?;
        return Ok(());
    }
    let Some(store) = data.app.store() else {
        let text = tr(
            lang,
            "Jeg får ikke kontakt med databasen akkurat nå, så ingenting er slettet. Prøv igjen om litt.",
            "I cannot reach the database right now, so nothing was deleted. Please try again in a moment.",
        );
        click
            .create_response(&ctx.http, respond(text.to_string(), true))
            .await?;
        return Ok(());
    };
    let report = store.forget_user(&user.to_string()).await?;
    tracing::info!(
        asks = report.asks_deleted,
        items = report.items_deleted,
        "forgot a user at their request"
    );
    click
        .create_response(&ctx.http, respond(forget_report_text(lang, &report), true))
        .await?;
    Ok(())
}
