//! The advisers' commands. Every one carries `check = "is_adviser"`, which reads the
//! invoker's roles from the interaction on the server side: hiding a command from
//! members is not enough.

use super::answering::send_chunks;
use super::format::{entry_text, escape_markdown, quote_block, split_message, tr, MESSAGE_LIMIT};
use super::send::no_mentions;
use super::{ctx_lang, is_adviser, Context, Error};
use crate::adviser::{self as core, AdviserError, Learn};
use crate::app::ReloadError;
use crate::knowledge::{Entry, Lang};
use crate::search::detect_language;
use crate::store::{LearnedEntry, QueueItemId, QueueStatus, StoreError};
use chrono::Utc;
use poise::serenity_prelude as serenity;

/// The advisers' commands, for registration.
pub fn commands() -> Vec<poise::Command<super::Data, Error>> {
    vec![unanswered(), answer(), dismiss(), kb(), stats()]
}

/// Who acts, for the audit log and "answer from an adviser (name)".
fn adviser_name(ctx: Context<'_>) -> String {
    let user = ctx.author();
    user.global_name
        .clone()
        .unwrap_or_else(|| user.name.clone())
}

async fn say_private(ctx: Context<'_>, text: impl Into<String>) -> Result<(), Error> {
    let chunks = split_message(&text.into(), MESSAGE_LIMIT);
    send_chunks(ctx, &chunks, Vec::new(), true).await
}

/// An adviser action's error as the adviser should read it, or `None` when it is ours
/// (then it goes to `on_error`, which logs it and apologises).
fn adviser_error_text(lang: Lang, error: &AdviserError) -> Option<String> {
    match error {
        AdviserError::NoDatabase
        | AdviserError::UnknownEntry(_)
        | AdviserError::EmptyAnswer
        | AdviserError::EmptyTitle
        | AdviserError::NoQuestions
        | AdviserError::BadSourceUrl => Some(error.to_string()),
        AdviserError::Store(StoreError::NotFound { .. } | StoreError::InvalidState { .. }) => {
            Some(error.to_string())
        }
        AdviserError::Store(e) if e.is_unavailable() => Some(
            tr(
                lang,
                "Databasen svarer ikke akkurat nå; prøv igjen om litt.",
                "The database is not answering right now; try again in a moment.",
            )
            .to_string(),
        ),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum StatusChoice {
    #[name = "open"]
    Open,
    #[name = "answered"]
    Answered,
    #[name = "dismissed"]
    Dismissed,
}

impl From<StatusChoice> for QueueStatus {
    fn from(choice: StatusChoice) -> QueueStatus {
        match choice {
            StatusChoice::Open => QueueStatus::Open,
            StatusChoice::Answered => QueueStatus::Answered,
            StatusChoice::Dismissed => QueueStatus::Dismissed,
        }
    }
}

/// How many items `/unanswered` lists.
const LIST_LIMIT: usize = 25;

/// List the questions waiting for an adviser.
#[poise::command(slash_command, check = "is_adviser")]
pub async fn unanswered(
    ctx: Context<'_>,
    #[description = "open (default), answered or dismissed"] status: Option<StatusChoice>,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let Some(store) = ctx.data().app.store() else {
        return say_private(ctx, AdviserError::NoDatabase.to_string()).await;
    };
    let status = status.map(QueueStatus::from).unwrap_or(QueueStatus::Open);
    let items = store.list_queue(Some(status)).await?;
    if items.is_empty() {
        return say_private(ctx, tr(lang, "Ingen spørsmål her.", "No questions here.")).await;
    }
    let mut text = String::new();
    for item in items.iter().take(LIST_LIMIT) {
        text.push_str(&format!(
            "**{}** · {} · {}× · {} · {}: {}\n{}\n\n",
            item.id,
            item.status,
            item.count,
            item.lang,
            tr(lang, "nærmest", "closest"),
            item.best_candidate
                .as_deref()
                .map(escape_markdown)
                .unwrap_or_else(|| "–".into()),
            quote_block(&item.question, 300),
        ));
    }
    if items.len() > LIST_LIMIT {
        text.push_str(&format!(
            "… {} {}",
            items.len() - LIST_LIMIT,
            tr(lang, "til", "more")
        ));
    }
    say_private(ctx, text).await
}

/// Answer a queued question; the askers get the answer where they asked.
#[poise::command(slash_command, check = "is_adviser")]
pub async fn answer(
    ctx: Context<'_>,
    #[description = "The queue item's number"] id: i64,
    #[description = "Your answer"]
    #[max_length = 1800]
    text: String,
    #[description = "Make a new knowledge entry from the question and this answer"]
    save_entry: Option<bool>,
    #[description = "Or: add the question as a wording of this existing entry id"] entry: Option<
        String,
    >,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let learn = match (save_entry.unwrap_or(false), entry) {
        (true, Some(_)) => {
            return say_private(
                ctx,
                tr(
                    lang,
                    "Velg enten save_entry eller entry, ikke begge.",
                    "Choose save_entry or entry, not both.",
                ),
            )
            .await
        }
        (save, entry) => (save, entry),
    };
    ctx.defer_ephemeral().await?;
    // The askers' wordings, cleaned of mentions, links and control characters. They are
    // not yet shown for review here: the answer form should show this proposal.
    let learn = match learn {
        (false, None) => Learn::Nothing,
        (save, entry) => match core::proposal(&ctx.data().app, QueueItemId(id)).await {
            Ok(proposal) if save => Learn::NewEntry(proposal.accepted()),
            Ok(proposal) => Learn::Phrasing {
                entry: entry.unwrap_or_default().trim().to_string(),
                questions: proposal.questions,
            },
            Err(e) => {
                return match adviser_error_text(lang, &e) {
                    Some(text) => say_private(ctx, text).await,
                    None => Err(e.into()),
                }
            }
        },
    };
    match core::answer(
        &ctx.data().app,
        QueueItemId(id),
        &text,
        &adviser_name(ctx),
        learn,
    )
    .await
    {
        Ok(done) => {
            let mut reply = match lang {
                Lang::Nb => format!(
                    "Besvarte {}; {} spørrer(e) får svaret.",
                    done.item.id,
                    done.outbox.len()
                ),
                Lang::En => format!(
                    "Answered {}; {} asker(s) will get the answer.",
                    done.item.id,
                    done.outbox.len()
                ),
            };
            if let Some(entry) = done.learned {
                reply.push_str(&match lang {
                    Lang::Nb => format!(" Boten svarer nå på dette fra oppføringen `{entry}`."),
                    Lang::En => format!(" The bot now answers this from entry `{entry}`."),
                });
            }
            say_private(ctx, reply).await
        }
        Err(e) => match adviser_error_text(lang, &e) {
            Some(text) => say_private(ctx, text).await,
            None => Err(e.into()),
        },
    }
}

/// Close a queued question without an answer.
#[poise::command(slash_command, check = "is_adviser")]
pub async fn dismiss(
    ctx: Context<'_>,
    #[description = "The queue item's number"] id: i64,
    #[description = "Why (for the audit log)"] reason: Option<String>,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    match core::dismiss(
        &ctx.data().app,
        QueueItemId(id),
        reason.as_deref(),
        &adviser_name(ctx),
    )
    .await
    {
        Ok(()) => {
            say_private(
                ctx,
                format!("{} {}.", tr(lang, "Avviste", "Dismissed"), QueueItemId(id)),
            )
            .await
        }
        Err(e) => match adviser_error_text(lang, &e) {
            Some(text) => say_private(ctx, text).await,
            None => Err(e.into()),
        },
    }
}

/// The knowledge base: show, add, edit, reload.
#[poise::command(
    slash_command,
    check = "is_adviser",
    subcommands("kb_show", "kb_add", "kb_edit", "kb_reload"),
    subcommand_required
)]
pub async fn kb(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Show a knowledge entry.
#[poise::command(slash_command, rename = "show", check = "is_adviser")]
pub async fn kb_show(
    ctx: Context<'_>,
    #[description = "Entry id"] id: String,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let answerer = ctx.data().app.answerer();
    let Some(entry) = answerer.knowledge().entry(id.trim(), lang) else {
        return say_private(
            ctx,
            format!(
                "{} `{}`.",
                tr(lang, "Fant ingen oppføring med id", "No entry with id"),
                escape_markdown(id.trim())
            ),
        )
        .await;
    };
    let origin = match &entry.path {
        Some(path) => path.display().to_string(),
        None => tr(lang, "lært fra en rådgiver", "taught by an adviser").to_string(),
    };
    let text = format!(
        "`{}` ({}, `{}`)\n\n{}",
        entry.id,
        entry.lang.code(),
        origin.replace('`', "'"),
        entry_text(entry, entry.lang)
    );
    say_private(ctx, text).await
}

/// The form for adding or editing an entry.
#[derive(Debug, Clone, poise::Modal)]
#[name = "Kunnskapsoppføring / knowledge entry"]
pub struct EntryForm {
    #[name = "Tittel / title"]
    #[max_length = 200]
    pub title: String,
    #[name = "Svar / answer"]
    #[paragraph]
    #[max_length = 4000]
    pub body: String,
    #[name = "Eksempelspørsmål, ett per linje"]
    #[paragraph]
    pub questions: Option<String>,
    #[name = "Kilde (navn) / source name"]
    #[max_length = 200]
    pub source_name: String,
    #[name = "Kilde (lenke) / source URL"]
    pub source_url: Option<String>,
}

impl EntryForm {
    fn from_entry(entry: &Entry) -> EntryForm {
        let source = entry.sources.first();
        EntryForm {
            title: entry.title.clone(),
            body: entry.body.chars().take(4000).collect(),
            questions: Some(entry.questions.join("\n")),
            source_name: source.map(|s| s.name.clone()).unwrap_or_default(),
            source_url: source.map(|s| s.url.clone()).filter(|u| !u.is_empty()),
        }
    }

    /// The learned entry this form describes, or what is wrong with it.
    pub fn to_learned(
        &self,
        id: &str,
        lang: Lang,
        keywords: Vec<String>,
        adviser: &str,
    ) -> Result<LearnedEntry, &'static str> {
        let url = self
            .source_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        if let Some(url) = url {
            if !(url.starts_with("https://") || url.starts_with("http://"))
                || url.contains(char::is_whitespace)
            {
                return Err("the source URL must start with https:// (or be empty)");
            }
        }
        if self.title.trim().is_empty()
            || self.body.trim().is_empty()
            || self.source_name.trim().is_empty()
        {
            return Err("title, answer and source name are required");
        }
        Ok(LearnedEntry {
            id: id.to_string(),
            lang: lang.code().to_string(),
            title: self.title.trim().to_string(),
            body: self.body.trim().to_string(),
            questions: self
                .questions
                .as_deref()
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(str::to_string)
                .collect(),
            keywords,
            source_name: self.source_name.trim().to_string(),
            source_url: url.map(str::to_string),
            reviewed: Utc::now().date_naive(),
            created_by: adviser.to_string(),
        })
    }
}

/// An id for a new entry from its title: `learned-<slug>`.
pub fn slug_id(title: &str) -> String {
    let mut slug = String::new();
    for c in title.to_lowercase().chars() {
        let c = match c {
            'æ' => "ae".to_string(),
            'ø' => "o".to_string(),
            'å' => "a".to_string(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            _ => "-".to_string(),
        };
        if c == "-" && (slug.is_empty() || slug.ends_with('-')) {
            continue;
        }
        slug.push_str(&c);
    }
    let slug: String = slug.trim_end_matches('-').chars().take(40).collect();
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "learned-entry".to_string()
    } else {
        format!("learned-{slug}")
    }
}

async fn save_form(
    ctx: Context<'_>,
    form: &EntryForm,
    id: &str,
    lang: Lang,
    keywords: Vec<String>,
) -> Result<(), Error> {
    let ui = ctx_lang(ctx);
    let learned = match form.to_learned(id, lang, keywords, &adviser_name(ctx)) {
        Ok(learned) => learned,
        Err(problem) => {
            return say_private(
                ctx,
                format!("{} {problem}", tr(ui, "Ikke lagret:", "Not saved:")),
            )
            .await
        }
    };
    let Some(store) = ctx.data().app.store() else {
        return say_private(ctx, AdviserError::NoDatabase.to_string()).await;
    };
    store.save_learned_entry(&learned).await?;
    ctx.data().app.reload_if_changed().await;
    let text = match ui {
        Lang::Nb => {
            format!(
                "Lagret `{id}` ({}): «{}». Boten svarer nå fra den.",
                lang.code(),
                escape_markdown(&learned.title)
            )
        }
        Lang::En => format!(
            "Saved `{id}` ({}): \"{}\". The bot now answers from it.",
            lang.code(),
            escape_markdown(&learned.title)
        ),
    };
    say_private(ctx, text).await
}

/// Show a form and wait for it. Unlike `poise::execute_modal`, the listener for the
/// submission is registered before the form is shown, so a fast submission is never lost.
async fn open_form<M: poise::Modal>(
    ctx: poise::ApplicationContext<'_, super::Data, Error>,
    defaults: Option<M>,
) -> Result<Option<M>, Error> {
    use serenity::futures::StreamExt;
    let custom_id = ctx.interaction.id.to_string();
    let wanted = custom_id.clone();
    let mut submissions = serenity::ModalInteractionCollector::new(&ctx.serenity_context().shard)
        .filter(move |m| m.data.custom_id == wanted)
        .timeout(FORM_TIMEOUT)
        .stream();
    ctx.interaction
        .create_response(ctx.serenity_context(), M::create(defaults, custom_id))
        .await?;
    ctx.has_sent_initial_response
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let Some(submitted) = submissions.next().await else {
        return Ok(None);
    };
    // Close the form on the adviser's screen; the result follows as a message.
    submitted
        .create_response(
            ctx.serenity_context(),
            serenity::CreateInteractionResponse::Acknowledge,
        )
        .await?;
    M::parse(submitted.data.clone())
        .map(Some)
        .map_err(|e| Error::Unexpected(format!("the form came back incomplete: {e}")))
}

/// How long an adviser may take to fill in the form.
const FORM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// Add a knowledge entry (a form opens).
#[poise::command(slash_command, rename = "add", check = "is_adviser")]
pub async fn kb_add(ctx: poise::ApplicationContext<'_, super::Data, Error>) -> Result<(), Error> {
    let Some(form) = open_form::<EntryForm>(ctx, None).await? else {
        return Ok(());
    };
    let lang = detect_language(&format!("{} {}", form.title, form.body));
    let knowledge = ctx.data().app.answerer();
    let base = slug_id(&form.title);
    let mut id = base.clone();
    let mut n = 2;
    while knowledge.knowledge().entries_with_id(&id).next().is_some() {
        id = format!("{base}-{n}");
        n += 1;
    }
    save_form(
        poise::Context::Application(ctx),
        &form,
        &id,
        lang,
        Vec::new(),
    )
    .await
}

/// Edit a knowledge entry (a form opens with its text); saved as the adviser's version.
#[poise::command(slash_command, rename = "edit", check = "is_adviser")]
pub async fn kb_edit(
    ctx: poise::ApplicationContext<'_, super::Data, Error>,
    #[description = "Entry id"] id: String,
    #[description = "Language version: nb or en (default: yours)"] lang: Option<String>,
) -> Result<(), Error> {
    let context = poise::Context::Application(ctx);
    let ui = ctx_lang(context);
    let lang = lang.as_deref().and_then(Lang::parse).unwrap_or(ui);
    let entry = ctx
        .data()
        .app
        .answerer()
        .knowledge()
        .entry(id.trim(), lang)
        .cloned();
    let Some(entry) = entry else {
        return say_private(
            context,
            format!(
                "{} `{}`.",
                tr(ui, "Fant ingen oppføring med id", "No entry with id"),
                escape_markdown(id.trim())
            ),
        )
        .await;
    };
    let Some(form) = open_form(ctx, Some(EntryForm::from_entry(&entry))).await? else {
        return Ok(());
    };
    save_form(
        context,
        &form,
        &entry.id,
        entry.lang,
        entry.keywords.clone(),
    )
    .await
}

/// Re-read the knowledge folder; on errors the old knowledge stays.
#[poise::command(slash_command, rename = "reload", check = "is_adviser")]
pub async fn kb_reload(ctx: Context<'_>) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    ctx.defer_ephemeral().await?;
    match ctx.data().app.reload().await {
        Ok(count) => {
            say_private(
                ctx,
                format!(
                    "{} {count} {}.",
                    tr(lang, "Lastet inn på nytt:", "Reloaded:"),
                    tr(lang, "temaer", "topics")
                ),
            )
            .await
        }
        Err(ReloadError::Knowledge(e)) => {
            tracing::warn!(error = %e, "reload refused: the knowledge folder has errors");
            let details = e.to_string().replace("```", "'''");
            let text = format!(
                "{}\n```\n{details}\n```",
                tr(
                    lang,
                    "Kunnskapen har feil, så jeg beholder den gamle versjonen:",
                    "The knowledge has errors, so I keep the old version:"
                )
            );
            // Keep the code block whole even when the list is long.
            let text: String = if text.chars().count() > MESSAGE_LIMIT {
                let cut: String = details.chars().take(MESSAGE_LIMIT - 200).collect();
                format!(
                    "{}\n```\n{cut}\n…\n```",
                    tr(
                        lang,
                        "Kunnskapen har feil, så jeg beholder den gamle versjonen:",
                        "The knowledge has errors, so I keep the old version:"
                    )
                )
            } else {
                text
            };
            let reply = poise::CreateReply::default()
                .content(text)
                .ephemeral(true)
                .allowed_mentions(no_mentions());
            ctx.send(reply).await?;
            Ok(())
        }
        Err(e) => Err(Error::Unexpected(super::cause_chain(&e))),
    }
}

/// Questions asked, share answered, top entries, open queue.
#[poise::command(slash_command, check = "is_adviser")]
pub async fn stats(ctx: Context<'_>) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let Some(store) = ctx.data().app.store() else {
        return say_private(ctx, AdviserError::NoDatabase.to_string()).await;
    };
    let s = store.stats(None).await?;
    let mut text = match lang {
        Lang::Nb => format!(
            "**Statistikk**\nSpørsmål: {}\nBesvart: {} ({:.0} %), ikke besvart: {}\nÅpne i køen: {}\nMarkert ikke nyttig: {}",
            s.questions, s.answered, s.share_answered * 100.0, s.abstained, s.open_queue, s.unhelpful
        ),
        Lang::En => format!(
            "**Statistics**\nQuestions: {}\nAnswered: {} ({:.0} %), not answered: {}\nOpen in the queue: {}\nMarked not helpful: {}",
            s.questions, s.answered, s.share_answered * 100.0, s.abstained, s.open_queue, s.unhelpful
        ),
    };
    if !s.top_entries.is_empty() {
        text.push_str(&format!(
            "\n{}:",
            tr(lang, "Mest brukte temaer", "Most used topics")
        ));
        for (id, n) in &s.top_entries {
            text.push_str(&format!("\n`{n:>5}` {}", escape_markdown(id)));
        }
    }
    say_private(ctx, text).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(
            slug_id("Hva er en rammeavtale?"),
            "learned-hva-er-en-rammeavtale"
        );
        assert_eq!(
            slug_id("Små og mellomstore bedrifter"),
            "learned-sma-og-mellomstore-bedrifter"
        );
        assert_eq!(slug_id("???"), "learned-entry");
        assert!(slug_id(&"a".repeat(100)).len() <= "learned-".len() + 40);
    }

    #[test]
    fn forms_are_checked() {
        let form = EntryForm {
            title: " Tittel ".into(),
            body: "Svar".into(),
            questions: Some("Én?\n\n To? ".into()),
            source_name: "Kilde".into(),
            source_url: Some("javascript:alert(1)".into()),
        };
        assert!(form.to_learned("x", Lang::Nb, vec![], "a").is_err());
        let form = EntryForm {
            source_url: Some(" https://lovdata.no ".into()),
            ..form
        };
        let learned = form.to_learned("x", Lang::Nb, vec![], "a").unwrap();
        assert_eq!(learned.title, "Tittel");
        assert_eq!(learned.questions, vec!["Én?", "To?"]);
        assert_eq!(learned.source_url.as_deref(), Some("https://lovdata.no"));
    }
}
