//! `/kb show|add|edit|reload`: the advisers' knowledge commands. `add` and `edit` open
//! a form ([`EntryForm`]); what is saved becomes learned knowledge and is used at once.

use std::time::Duration;

use chrono::Utc;
use poise::serenity_prelude as serenity;

use crate::adviser::AdviserError;
use crate::app::ReloadError;
use crate::discord::context::{
    ctx_lang, display_name, is_adviser, texts, AppContext, Context, Data, Error,
};
use crate::discord::format::{entry_text, escape_markdown, MESSAGE_LIMIT};
use crate::discord::reply::{cause_chain, say_private, send_chunks};
use crate::knowledge::{Entry, Lang};
use crate::search::detect_language;
use crate::store::LearnedEntry;

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![kb()]
}

/// How long an adviser may take to fill in the form (longer than the command's own
/// 15 minutes: the result goes on the form's submission, see [`open_form`]).
const FORM_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The knowledge base: show, add, edit, reload.
#[poise::command(
    slash_command,
    check = "is_adviser",
    default_member_permissions = "MANAGE_MESSAGES",
    subcommands("kb_show", "kb_add", "kb_edit", "kb_reload"),
    subcommand_required
)]
pub async fn kb(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// "No entry with id `x`."
async fn no_entry(ctx: Context<'_>, id: &str) -> Result<(), Error> {
    say_private(
        ctx,
        texts(ctx)
            .no_entry
            .fill(&[("id", &escape_markdown(id.trim()))]),
    )
    .await
}

/// Show a knowledge entry.
#[poise::command(slash_command, rename = "show", check = "is_adviser")]
pub async fn kb_show(
    ctx: Context<'_>,
    #[description = "Entry id"] id: String,
) -> Result<(), Error> {
    let t = texts(ctx);
    let answerer = ctx.data().app.answerer();
    let Some(entry) = answerer.knowledge().entry(id.trim(), ctx_lang(ctx)) else {
        return no_entry(ctx, &id).await;
    };
    let origin = match &entry.path {
        Some(path) => path.display().to_string(),
        None => t.taught_by_adviser.clone(),
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

/// `text` cut to at most `limit` characters (a form field's limit).
fn within(text: &str, limit: usize) -> String {
    text.chars().take(limit).collect()
}

impl EntryForm {
    fn from_entry(entry: &Entry) -> EntryForm {
        let source = entry.sources.first();
        // Discord refuses the whole form if a pre-filled value is longer than its field
        // allows (the limits above; 4,000 where none is set).
        EntryForm {
            title: within(&entry.title, 200),
            body: within(&entry.body_text(), 4000),
            questions: Some(within(&entry.questions.join("\n"), 4000)),
            source_name: within(source.map_or("", |s| &*s.name), 200),
            source_url: source
                .map(|s| within(&s.url, 4000))
                .filter(|u| !u.is_empty()),
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
            lang,
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
    let t = texts(ctx);
    let learned = match form.to_learned(id, lang, keywords, &display_name(ctx)) {
        Ok(learned) => learned,
        Err(problem) => return say_private(ctx, t.not_saved.fill(&[("problem", &problem)])).await,
    };
    let store = ctx.data().app.store().ok_or(AdviserError::NoDatabase)?;
    store.save_learned_entry(&learned).await?;
    ctx.data().app.reload_if_changed().await;
    let text = t.saved_entry.fill(&[
        ("id", &id),
        ("lang", &lang.code()),
        ("title", &escape_markdown(&learned.title)),
    ]);
    say_private(ctx, text).await
}

/// Show a form and wait for it. Unlike `poise::execute_modal`, the listener for the
/// submission is registered before the form is shown, so a fast submission is never lost.
pub(crate) async fn open_form<M: poise::Modal>(
    ctx: AppContext<'_>,
    defaults: Option<M>,
) -> Result<Option<M>, Error> {
    use serenity::futures::StreamExt;
    let custom_id = ctx.interaction.id.to_string();
    let wanted = custom_id.clone();
    let mut submissions = serenity::ModalInteractionCollector::new(&ctx.serenity_context().shard)
        .filter(move |m| m.data.custom_id == wanted)
        .timeout(FORM_TIMEOUT)
        .stream();
    // While this waits, handlers::form leaves the submission to it; after (a submission
    // later than FORM_TIMEOUT, or after a restart) that handler gives the text back.
    let _collecting = ctx
        .data()
        .state
        .collecting(std::slice::from_ref(&custom_id));
    ctx.interaction
        .create_response(ctx.serenity_context(), M::create(defaults, custom_id))
        .await?;
    ctx.has_sent_initial_response
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let Some(submitted) = submissions.next().await else {
        return Ok(None);
    };
    // Close the form on the adviser's screen at once ("thinking…" until the result). The
    // result, and anything else the command says from now on, goes on the submission's
    // own token: the command's ran out 15 minutes after it was run, and the form may
    // have been open longer than that.
    let thinking = serenity::CreateInteractionResponse::Defer(
        serenity::CreateInteractionResponseMessage::new().ephemeral(true),
    );
    submitted
        .create_response(ctx.serenity_context(), thinking)
        .await?;
    let data = submitted.data.clone();
    ctx.data()
        .state
        .answer_on_form(ctx.interaction.id.get(), submitted);
    M::parse(data)
        .map(Some)
        .map_err(|e| Error::Unexpected(format!("the form came back incomplete: {e}")))
}

/// Add a knowledge entry (a form opens).
#[poise::command(slash_command, rename = "add", check = "is_adviser")]
pub async fn kb_add(ctx: AppContext<'_>) -> Result<(), Error> {
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
    save_form(ctx.into(), &form, &id, lang, Vec::new()).await
}

/// Edit a knowledge entry (a form opens with its text); saved as the adviser's version.
#[poise::command(slash_command, rename = "edit", check = "is_adviser")]
pub async fn kb_edit(
    ctx: AppContext<'_>,
    #[description = "Entry id"] id: String,
    #[description = "Language version: nb or en (default: yours)"] lang: Option<String>,
) -> Result<(), Error> {
    let context = Context::from(ctx);
    let lang = lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or_else(|| ctx_lang(context));
    let entry = ctx
        .data()
        .app
        .answerer()
        .knowledge()
        .entry(id.trim(), lang)
        .cloned();
    let Some(entry) = entry else {
        return no_entry(context, &id).await;
    };
    let Some(form) = open_form(ctx, Some(EntryForm::from_entry(&entry))).await? else {
        return Ok(());
    };
    save_form(
        context,
        &form,
        &entry.id,
        entry.lang,
        entry.keywords.to_vec(),
    )
    .await
}

/// Re-read the knowledge folder; on errors the old knowledge stays.
#[poise::command(slash_command, rename = "reload", check = "is_adviser")]
pub async fn kb_reload(ctx: Context<'_>) -> Result<(), Error> {
    let t = texts(ctx);
    ctx.defer_ephemeral().await?;
    match ctx.data().app.reload().await {
        Ok(count) => say_private(ctx, t.reloaded.fill(&[("count", &count)])).await,
        Err(ReloadError::Knowledge(e)) => {
            tracing::warn!(error = %e, "reload refused: the knowledge folder has errors");
            let details = e.to_string().replace("```", "'''");
            let block = |details: &str| format!("{}\n```\n{details}\n```", t.knowledge_has_errors);
            let mut text = block(&details);
            // Keep the code block whole (one message) even when the list is long.
            if text.chars().count() > MESSAGE_LIMIT {
                let cut: String = details.chars().take(MESSAGE_LIMIT - 200).collect();
                text = block(&format!("{cut}\n…"));
            }
            send_chunks(ctx, &[text], Vec::new(), true).await
        }
        Err(e) => Err(Error::Unexpected(cause_chain(&e))),
    }
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
