//! `/tenders list|watch|watches|unwatch`: notices from Doffin in Discord (see
//! [`crate::tenders`]), and the loop that sends watch alerts by direct message.
//!
//! Discord does not let a command with subcommands take options of its own, so the list
//! is `/tenders list [query] [region] [kind]`.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use poise::serenity_prelude as serenity;
use serenity::{ButtonStyle, CreateActionRow, CreateButton, Http};

use crate::app::App;
use crate::discord::buttons::{ButtonAction, MAX_SHARED_TENDERS};
use crate::discord::context::{ctx_lang, texts, Context, Data, Error};
use crate::discord::format::Rendered;
use crate::discord::format::{split_message, MESSAGE_LIMIT};
use crate::discord::reply::{say_private, send_chunks};
use crate::discord::send::{post_dm, Outgoing};
use crate::discord::texts::Texts;
use crate::knowledge::Lang;
use crate::store::{NewTenderWatch, Store, TenderWatchId};
use crate::tenders::alerts::{claim_due_digests, describe_watch, render_digest};
use crate::tenders::answer::{notice_lines, render, Style, DOFFIN_SEARCH};
use crate::tenders::{Filter, Kind, TextMatcher, Vocabulary};

/// The most notices one `/tenders list` shows: as many as its share button carries.
const LIST_MAX: usize = MAX_SHARED_TENDERS;

pub fn commands() -> Vec<poise::Command<Data, Error>> {
    vec![tenders()]
}

/// Planned procurements, market dialogues and open competitions from Doffin.
#[poise::command(
    slash_command,
    subcommands("tenders_list", "tenders_watch", "tenders_watches", "tenders_unwatch"),
    subcommand_required
)]
pub async fn tenders(_ctx: Context<'_>) -> Result<(), Error> {
    Ok(())
}

#[derive(Debug, Clone, Copy, poise::ChoiceParameter)]
pub enum KindChoice {
    #[name = "planned"]
    Planned,
    #[name = "dialogue"]
    Dialogue,
    #[name = "open"]
    Open,
}

impl From<KindChoice> for Kind {
    fn from(k: KindChoice) -> Kind {
        match k {
            KindChoice::Planned => Kind::Planned,
            KindChoice::Dialogue => Kind::Dialogue,
            KindChoice::Open => Kind::Open,
        }
    }
}

/// The store, or `None` once the user has been told the database is unavailable.
async fn store_or_say(ctx: Context<'_>) -> Result<Option<Store>, Error> {
    match ctx.data().app.store() {
        Some(store) => Ok(Some(store)),
        None => {
            say_private(ctx, texts(ctx).database_unavailable.clone()).await?;
            Ok(None)
        }
    }
}

/// Current notices that match, newest first (only you see the list).
#[poise::command(slash_command, rename = "list")]
pub async fn tenders_list(
    ctx: Context<'_>,
    #[description = "Words in the title or description, e.g. renhold"] query: Option<String>,
    #[description = "County, Follo, a Follo municipality or a NUTS code"] region: Option<String>,
    #[description = "planned, dialogue or open"] kind: Option<KindChoice>,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let app = &ctx.data().app;
    let (text, shown) = list_text(
        app,
        lang,
        query.as_deref(),
        region.as_deref(),
        kind.map(Kind::from),
    )
    .await;
    let share = ButtonAction::ShareTenders {
        lang,
        ids: shown.into_iter().take(MAX_SHARED_TENDERS).collect(),
    }
    .custom_id();
    let components = match share {
        Some(id) => vec![CreateActionRow::Buttons(vec![CreateButton::new(id)
            .label(&texts(ctx).share)
            .style(ButtonStyle::Secondary)])],
        None => Vec::new(),
    };
    let chunks = split_message(&text, MESSAGE_LIMIT);
    send_chunks(ctx, &chunks, components, true).await
}

/// The notices a share button names, as the channel sees them; `None` when none of them
/// is stored any more.
pub async fn shared_list(app: &App, lang: Lang, ids: &[String]) -> Option<String> {
    let stored = app.store()?.list_tenders().await.ok()?;
    let notices: Vec<_> = ids
        .iter()
        .filter_map(|id| stored.iter().find(|s| &s.notice.id == id))
        .map(|s| s.notice.clone())
        .collect();
    (!notices.is_empty()).then(|| notice_lines(&notices, Style::Discord, lang))
}

/// The reply of `/tenders list`: the notices, or why there are none; and the Doffin ids
/// shown (for the share button).
pub async fn list_text(
    app: &App,
    lang: Lang,
    query: Option<&str>,
    region: Option<&str>,
    kind: Option<Kind>,
) -> (String, Vec<String>) {
    let vocab = Vocabulary::bundled();
    let mut filter = match Filter::from_options(vocab, query, None, None, region, kind) {
        Ok(f) => f,
        Err(e) => return (e.to_string(), Vec::new()),
    };
    let now = Utc::now();
    filter.current_at = Some(now);
    let Some(store) = app.store() else {
        return (Texts::get(lang).database_unavailable.clone(), Vec::new());
    };
    let stored = match store.list_tenders().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "stored notices unavailable");
            Vec::new()
        }
    };
    let answerer = app.answerer();
    let matcher = TextMatcher::from_analyzer(answerer.index().analyzer());
    let notices: Vec<_> = stored
        .iter()
        .map(|s| s.notice.clone())
        .filter(|n| filter.matches(n, &matcher))
        .collect();
    if stored.is_empty() {
        let text = Texts::get(lang)
            .tenders_none_synced
            .fill(&[("search", &DOFFIN_SEARCH)]);
        return (text, Vec::new());
    }
    if notices.is_empty() {
        let text = Texts::get(lang)
            .tenders_no_match
            .fill(&[("search", &DOFFIN_SEARCH)]);
        return (text, Vec::new());
    }
    let shown: Vec<_> = notices.iter().take(LIST_MAX).cloned().collect();
    let mut text = notice_lines(&shown, Style::Discord, lang);
    if notices.len() > shown.len() {
        let more = notices.len() - shown.len();
        text.push_str(&Texts::get(lang).tenders_more.fill(&[("more", &more)]));
    }
    (text, shown.into_iter().map(|n| n.id).collect())
}

/// Be told by direct message of new notices that match (at most one message an hour).
#[poise::command(slash_command, rename = "watch")]
pub async fn tenders_watch(
    ctx: Context<'_>,
    #[description = "Words in the title or description, e.g. renhold"] query: Option<String>,
    #[description = "County, Follo, a Follo municipality or a NUTS code"] region: Option<String>,
    #[description = "planned, dialogue or open"] kind: Option<KindChoice>,
    #[description = "A CPV code; its sub-codes match too"] cpv: Option<String>,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let kind = kind.map(Kind::from);
    let vocab = Vocabulary::bundled();
    if let Err(e) = Filter::from_options(
        vocab,
        query.as_deref(),
        cpv.as_deref(),
        None,
        region.as_deref(),
        kind,
    ) {
        return say_private(ctx, e.to_string()).await;
    }
    let Some(store) = store_or_say(ctx).await? else {
        return Ok(());
    };
    let watch = store
        .add_tender_watch(
            &NewTenderWatch {
                user_id: ctx.author().id.get().to_string(),
                query,
                cpv,
                region,
                kind,
            },
            Utc::now(),
        )
        .await?;
    let text = Texts::get(lang)
        .tenders_watch_set
        .fill(&[("id", &watch.id)]);
    say_private(ctx, text).await
}

/// Your alerts.
#[poise::command(slash_command, rename = "watches")]
pub async fn tenders_watches(ctx: Context<'_>) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let Some(store) = store_or_say(ctx).await? else {
        return Ok(());
    };
    let watches = store
        .tender_watches(Some(&ctx.author().id.get().to_string()))
        .await?;
    if watches.is_empty() {
        return say_private(ctx, Texts::get(lang).tenders_no_watches.clone()).await;
    }
    let lines: Vec<String> = watches
        .iter()
        .map(|w| {
            format!(
                "**#{}** · {}",
                w.id,
                crate::answer::escape_user_text(&describe_watch(w))
            )
        })
        .collect();
    say_private(ctx, lines.join("\n")).await
}

/// Remove one of your alerts.
#[poise::command(slash_command, rename = "unwatch")]
pub async fn tenders_unwatch(
    ctx: Context<'_>,
    #[description = "The alert's number (see /tenders watches)"] id: i64,
) -> Result<(), Error> {
    let lang = ctx_lang(ctx);
    let Some(store) = store_or_say(ctx).await? else {
        return Ok(());
    };
    let user = ctx.author().id.get().to_string();
    let removed = store
        .remove_tender_watch(TenderWatchId(id), Some(&user))
        .await?;
    let t = Texts::get(lang);
    let text = if removed {
        t.tenders_watch_removed.fill(&[("id", &id)])
    } else {
        t.tenders_no_such_watch.fill(&[("id", &id)])
    };
    say_private(ctx, text).await
}

/// Adds the notices a question asks for ("hvilke anbud kommer i Nordre Follo?"), when it
/// asks for them, as the last part of an answer: under the general advice, deadlines as
/// Discord timestamps.
pub async fn add_notices(rendered: &mut Rendered, app: &App, question: &str) {
    if let Some(t) = crate::tenders::answer::for_app(app, question, rendered.lang).await {
        rendered.chunks.push(render(&t, Style::Discord));
    }
}

/// Sends due watch digests by direct message every `tick`, as long as the bot runs.
/// Each digest is claimed in the store first (see [`crate::tenders::alerts`]), so of
/// several bots one sends it, once.
pub async fn alert_loop(app: App, http: Arc<Http>, tick: Duration) {
    let vocab = Vocabulary::bundled();
    let mut matcher: Option<TextMatcher<'static>> = None;
    loop {
        tokio::time::sleep(tick).await;
        let Some(store) = app.store() else {
            continue;
        };
        let matcher = matcher.get_or_insert_with(|| {
            TextMatcher::from_analyzer(app.answerer().index().analyzer()).into_owned()
        });
        let lease = chrono::TimeDelta::from_std(app.settings.claims.lease())
            .unwrap_or(chrono::TimeDelta::minutes(1));
        let digests = match claim_due_digests(&store, vocab, matcher, Utc::now(), lease).await {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "tender alerts unavailable");
                continue;
            }
        };
        for digest in digests {
            let Ok(user) = digest.watch.user_id.parse::<u64>() else {
                tracing::warn!(watch = %digest.watch.id, "a watch's user is not a Discord id; its alert is dropped");
                let _ = store
                    .mark_tender_alerts_sent(digest.watch.id, &digest.token, Utc::now())
                    .await;
                continue;
            };
            let lang = app.settings.announcements.language;
            let text = render_digest(&digest, Style::Discord, lang);
            match post_dm(&http, serenity::UserId::new(user), Outgoing::text(text)).await {
                Ok(_) => {
                    if let Err(e) = store
                        .mark_tender_alerts_sent(digest.watch.id, &digest.token, Utc::now())
                        .await
                    {
                        tracing::warn!(watch = %digest.watch.id, error = %e, "a sent tender alert could not be marked sent");
                    }
                }
                // Left claimed: another try after the lease, at the watch's next hour.
                Err(e) => {
                    tracing::warn!(watch = %digest.watch.id, error = %e, "a tender alert could not be sent")
                }
            }
        }
    }
}
