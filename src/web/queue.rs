//! The queue: questions the bot could not answer (or whose answer was not helpful),
//! grouped as the store groups them, with count, first and last asked, language and
//! the closest entry. Answering and dismissing go through [`crate::adviser`], so the
//! askers are told through the outbox exactly as from Discord.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use maud::html;
use serde::Deserialize;

use super::entries::reply_preview;
use super::page::{csrf_field, field_error, lang_field, layout, notice, Nav, WebError};
use super::{Session, WebState};
use crate::adviser::{self, AdviserError, Learn};
use crate::answer::Reply;
use crate::knowledge::Lang;
use crate::store::{QueueItem, QueueItemId, QueueStatus, StoreError};

/// The longest answer accepted (the Discord layer splits long messages).
pub const MAX_ANSWER_CHARS: usize = 4000;
/// The longest dismissal reason accepted.
pub const MAX_REASON_CHARS: usize = 500;

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    status: Option<String>,
    #[serde(default, deserialize_with = "lang_field")]
    lang: Option<Lang>,
    q: Option<String>,
    sort: Option<String>,
    answered: Option<i64>,
    told: Option<usize>,
    learned: Option<String>,
    dismissed: Option<i64>,
}

/// The ways the queue can be sorted, with their labels.
const SORTS: [(&str, &str); 4] = [
    ("oldest", "First asked, oldest first"),
    ("newest", "First asked, newest first"),
    ("count", "Most asked first"),
    ("last", "Last asked, newest first"),
];

/// Filters and sorts the queue as the form asks.
pub fn filter_and_sort(
    mut items: Vec<QueueItem>,
    lang: Option<Lang>,
    text: Option<&str>,
    sort: &str,
) -> Vec<QueueItem> {
    if let Some(lang) = lang {
        items.retain(|i| i.lang == lang);
    }
    if let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) {
        let needle = text.to_lowercase();
        items.retain(|i| {
            i.question.to_lowercase().contains(&needle)
                || i.best_candidate
                    .as_deref()
                    .is_some_and(|c| c.contains(&needle))
        });
    }
    match sort {
        "newest" => items.sort_by(|a, b| b.asked_at.cmp(&a.asked_at).then(b.id.cmp(&a.id))),
        "count" => items.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id))),
        "last" => items.sort_by(|a, b| b.last_asked_at.cmp(&a.last_asked_at).then(b.id.cmp(&a.id))),
        _ => items.sort_by(|a, b| a.asked_at.cmp(&b.asked_at).then(a.id.cmp(&b.id))),
    }
    items
}

/// `GET /queue`.
pub async fn list(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Query(query): Query<QueueQuery>,
) -> Result<Html<String>, WebError> {
    let store = state.store()?;
    let status_text = query.status.clone().unwrap_or_else(|| "open".into());
    let status = QueueStatus::parse(&status_text);
    let items = store.list_queue(status).await?;
    let sort = query.sort.clone().unwrap_or_else(|| "oldest".into());
    let items = filter_and_sort(items, query.lang, query.q.as_deref(), &sort);
    let tz = state.app.settings.timezone();
    let answerer = state.app.answerer();
    let kb = answerer.knowledge();
    let done = match (&query.answered, &query.dismissed) {
        (Some(id), _) => Some(match &query.learned {
            Some(entry) => format!(
                "Answered #{id}; {} asker(s) will be told. The bot now answers it from entry {entry}.",
                query.told.unwrap_or(0)
            ),
            None => format!("Answered #{id}; {} asker(s) will be told.", query.told.unwrap_or(0)),
        }),
        (None, Some(id)) => Some(format!("Dismissed #{id}.")),
        _ => None,
    };
    let body = html! {
        h1 { "Queue" }
        (notice(done.as_deref()))
        form.filters method="get" action="/queue" {
            label { "Status "
                select name="status" {
                    @for (value, label) in [("open", "Open"), ("answered", "Answered"), ("dismissed", "Dismissed"), ("all", "All")] {
                        option value=(value) selected[status_text == value] { (label) }
                    }
                }
            }
            label { "Language "
                select name="lang" {
                    @for (value, label) in [("", "Any"), ("nb", "Bokmål"), ("en", "English")] {
                        option value=(value) selected[query.lang.map_or("", Lang::code) == value] { (label) }
                    }
                }
            }
            label { "Contains " input type="search" name="q" value=(query.q.as_deref().unwrap_or("")) maxlength="200"; }
            label { "Sort "
                select name="sort" {
                    @for (value, label) in SORTS {
                        option value=(value) selected[sort == value] { (label) }
                    }
                }
            }
            button type="submit" { "Show" }
        }
        @if items.is_empty() {
            p.empty { "No questions here." }
        } @else {
            table.queue {
                thead { tr {
                    th { "#" } th { "Question" } th { "Asked" } th { "First asked" } th { "Last asked" }
                    th { "Lang" } th { "Closest entry" } th { "Status" }
                } }
                tbody {
                    @for item in &items {
                        tr {
                            td { a href={ "/queue/" (item.id.0) } { (item.id) } }
                            td.question { a href={ "/queue/" (item.id.0) } { (item.question) } }
                            td.num { (times(item.count)) }
                            td { (local(item.asked_at, tz)) }
                            td { (local(item.last_asked_at, tz)) }
                            td { (item.lang) }
                            td {
                                @if let Some(id) = &item.best_candidate {
                                    a href={ "/entries/" (id) } { (kb.entry(id, item.lang).map(|e| e.title.as_str()).unwrap_or(id)) }
                                    " " span.score { (format!("{:.2}", item.score)) }
                                } @else { "–" }
                            }
                            td { (item.status.as_str()) }
                        }
                    }
                }
            }
            p.muted { (items.len()) " item(s)." }
        }
    };
    Ok(layout("Queue", Some(&session), Nav::Queue, body))
}

fn times(count: u64) -> String {
    if count == 1 {
        "once".into()
    } else {
        format!("{count} times")
    }
}

/// What the answer form sent.
#[derive(Debug, Default, Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    answer: String,
    #[serde(default)]
    learn: String,
    #[serde(default)]
    entry: String,
    /// The new entry's title, shown for review (proposed from the askers' wording).
    #[serde(default)]
    title: String,
    /// The example questions the bot learns, one per line, shown for review.
    #[serde(default)]
    questions: String,
    /// The public page the answer rests on, if any.
    #[serde(default)]
    source_url: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DismissForm {
    #[serde(default)]
    reason: String,
}

/// What the item page shows in its forms: what was typed, and what is wrong with it.
#[derive(Debug, Default)]
struct ItemForms {
    answer: AnswerForm,
    reason: String,
    errors: BTreeMap<&'static str, String>,
}

/// `GET /queue/{id}`.
pub async fn show(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    item_page(&state, &session, QueueItemId(id), ItemForms::default()).await
}

async fn item_page(
    state: &WebState,
    session: &Session,
    id: QueueItemId,
    forms: ItemForms,
) -> Result<Html<String>, WebError> {
    let store = state.store()?;
    let item = store.get_item(id).await?;
    let asks = store.asks_for_item(id).await?;
    let tz = state.app.settings.timezone();
    let answerer = state.app.answerer();
    let lang = item.lang;
    let entry_id = if forms.answer.entry.trim().is_empty() {
        item.best_candidate.clone().unwrap_or_default()
    } else {
        forms.answer.entry.trim().to_string()
    };
    let shown_entry = answerer.knowledge().entry(&entry_id, lang).cloned();
    // What teaching would take from the askers, shown for review instead of copied raw;
    // what the adviser typed wins when the form comes back with a problem.
    let (title, questions) = if forms.answer.title.is_empty() && forms.answer.questions.is_empty() {
        match adviser::proposal(&state.app, id).await {
            Ok(p) => (p.title, p.questions.join("\n")),
            Err(_) => (String::new(), String::new()),
        }
    } else {
        (forms.answer.title.clone(), forms.answer.questions.clone())
    };
    let learn = if forms.answer.learn.is_empty() {
        "nothing"
    } else {
        forms.answer.learn.as_str()
    };
    let body = html! {
        p.crumbs { a href="/queue" { "Queue" } " › " (item.id) }
        h1 { "Question " (item.id) }
        blockquote.user-text { (item.question) }
        dl.facts {
            dt { "Status" } dd { (item.status.as_str()) }
            dt { "Asked" } dd { (times(item.count)) " (" (item.reason.abstained) " not answered by the bot, " (item.reason.not_helpful) " marked not helpful)" }
            dt { "First asked" } dd { (local(item.asked_at, tz)) }
            dt { "Last asked" } dd { (local(item.last_asked_at, tz)) }
            dt { "Language" } dd { (item.lang) }
            dt { "Closest entry" } dd {
                @if let Some(c) = &item.best_candidate { a href={ "/entries/" (c) } { (c) } " (score " (format!("{:.2}", item.score)) ")" } @else { "–" }
            }
            @if let Some(answer) = &item.answer { dt { "Answer" } dd.user-text { (answer) } }
            @if let Some(reason) = &item.dismiss_reason { dt { "Dismissed because" } dd { (reason) } }
            @if let Some(by) = &item.handled_by { dt { "By" } dd { (by) @if let Some(at) = item.handled_at { ", " (local(at, tz)) } } }
        }
        @if asks.len() > 1 {
            h2 { "Every wording" }
            ul.asks {
                @for ask in &asks {
                    li { span.user-text { (ask.question) } " " span.muted { "(" (local(ask.asked_at, tz)) ", " (ask.origin.source.as_str()) ")" } }
                }
            }
        }
        (field_error(forms.errors.get("item")))
        @if item.status == QueueStatus::Open {
            div.columns {
                section {
                    h2 { "Answer" }
                    form.answer method="post" action={ "/queue/" (item.id.0) "/answer" } {
                        (csrf_field(session))
                        label for="answer" { "Your answer (the askers get it where they asked, in Discord or the terminal)" }
                        (field_error(forms.errors.get("answer")))
                        textarea #answer name="answer" rows="8" maxlength=(MAX_ANSWER_CHARS * 2) { (forms.answer.answer) }
                        fieldset {
                            legend { "Teach the bot" }
                            label { input type="radio" name="learn" value="nothing" checked[learn == "nothing"]; " Only answer the askers" }
                            label { input type="radio" name="learn" value="new" checked[learn == "new"]; " Save as a new entry (" code { (adviser::learned_entry_id(item.id)) } ")" }
                            label { input type="radio" name="learn" value="phrasing" checked[learn == "phrasing"]; " Add the question as a phrasing of an existing entry:" }
                            input #entry type="text" name="entry" value=(entry_id) maxlength="200" aria-label="Entry id";
                            (field_error(forms.errors.get("entry")))
                            p.muted { "What the bot learns, from the askers' words: review it before saving (it is shown to suppliers)." }
                            label for="title" { "Title of the new entry" }
                            (field_error(forms.errors.get("title")))
                            input #title type="text" name="title" value=(title) maxlength="200";
                            label for="questions" { "Example questions, one per line" }
                            (field_error(forms.errors.get("questions")))
                            textarea #questions name="questions" rows="4" { (questions) }
                            label for="source_url" { "Source (a web address, optional)" }
                            (field_error(forms.errors.get("source_url")))
                            input #source_url type="url" name="source_url" value=(forms.answer.source_url) maxlength="500";
                        }
                        button type="submit" { "Send answer" }
                    }
                    h2 { "Dismiss" }
                    form.dismiss method="post" action={ "/queue/" (item.id.0) "/dismiss" } {
                        (csrf_field(session))
                        label for="reason" { "Reason (for the audit log; the askers are not told)" }
                        (field_error(forms.errors.get("reason")))
                        input #reason type="text" name="reason" value=(forms.reason) maxlength=(MAX_REASON_CHARS * 2);
                        button type="submit" { "Dismiss" }
                    }
                }
                section {
                    h2 { "The entry" }
                    @if let Some(entry) = shown_entry {
                        p.muted { a href={ "/entries/" (entry.id) } { (entry.id) } " as suppliers see it:" }
                        (reply_preview(&Reply::for_entry(entry.clone(), lang)))
                    } @else {
                        p.muted { "No entry is close to this question." }
                    }
                }
            }
        }
    };
    Ok(layout(
        &format!("Question {}", item.id),
        Some(session),
        Nav::Queue,
        body,
    ))
}

/// `POST /queue/{id}/answer`.
pub async fn answer(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Form(form): Form<AnswerForm>,
) -> Result<Response, WebError> {
    let id = QueueItemId(id);
    let mut errors = BTreeMap::new();
    let text = form.answer.trim();
    let chars = text.chars().count();
    if text.is_empty() {
        errors.insert("answer", "Write an answer.".to_string());
    } else if chars > MAX_ANSWER_CHARS {
        errors.insert(
            "answer",
            format!("The answer has {chars} characters; at most {MAX_ANSWER_CHARS} are allowed."),
        );
    }
    let reviewed_questions: Vec<String> = form
        .questions
        .lines()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string)
        .collect();
    let wants_questions = matches!(form.learn.as_str(), "new" | "phrasing");
    if wants_questions && reviewed_questions.is_empty() {
        errors.insert(
            "questions",
            "Give at least one example question for the bot to learn.".to_string(),
        );
    }
    let learn = match form.learn.as_str() {
        "new" => {
            let title = form.title.trim();
            if title.is_empty() {
                errors.insert("title", "The new entry needs a title.".to_string());
            }
            let source_url = form.source_url.trim();
            let is_web_address =
                source_url.starts_with("https://") || source_url.starts_with("http://");
            if !source_url.is_empty() && !is_web_address {
                errors.insert(
                    "source_url",
                    "The source must be a web address starting with https:// or http://."
                        .to_string(),
                );
            }
            Learn::NewEntry(adviser::EntryDraft {
                title: title.to_string(),
                questions: reviewed_questions.clone(),
                source_url: (!source_url.is_empty()).then(|| source_url.to_string()),
            })
        }
        "phrasing" => {
            let entry = form.entry.trim();
            if entry.is_empty() {
                errors.insert(
                    "entry",
                    "Name the entry the question is a phrasing of.".to_string(),
                );
            } else if state
                .app
                .answerer()
                .knowledge()
                .entries_with_id(entry)
                .next()
                .is_none()
            {
                errors.insert("entry", format!("There is no entry with id {entry:?}."));
            }
            Learn::Phrasing {
                entry: entry.to_string(),
                questions: reviewed_questions.clone(),
            }
        }
        "" | "nothing" => Learn::Nothing,
        _ => {
            errors.insert(
                "entry",
                "Choose one of the three ways to teach the bot.".to_string(),
            );
            Learn::Nothing
        }
    };
    if !errors.is_empty() {
        return refused(&state, &session, id, form, errors).await;
    }
    match adviser::answer(&state.app, id, text, &session.person, learn).await {
        Ok(done) => {
            let mut target = format!("/queue?answered={}&told={}", id.0, done.outbox.len());
            if let Some(entry) = done.learned {
                target.push_str(&format!("&learned={}", super::page::url_encode(&entry)));
            }
            Ok(Redirect::to(&target).into_response())
        }
        Err(e) => {
            let message = adviser_message(e)?;
            let mut errors = BTreeMap::new();
            errors.insert("item", message);
            refused(&state, &session, id, form, errors).await
        }
    }
}

async fn refused(
    state: &WebState,
    session: &Session,
    id: QueueItemId,
    answer: AnswerForm,
    errors: BTreeMap<&'static str, String>,
) -> Result<Response, WebError> {
    let page = item_page(
        state,
        session,
        id,
        ItemForms {
            answer,
            reason: String::new(),
            errors,
        },
    )
    .await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// An adviser action's error as the adviser should read it, or the error page.
fn adviser_message(e: AdviserError) -> Result<String, WebError> {
    match e {
        AdviserError::NoDatabase => Err(WebError::Outage),
        AdviserError::Store(StoreError::NotFound { .. }) => Err(WebError::NotFound),
        AdviserError::Store(e) if e.is_unavailable() => Err(WebError::Outage),
        e @ (AdviserError::UnknownEntry(_)
        | AdviserError::EmptyAnswer
        | AdviserError::EmptyTitle
        | AdviserError::NoQuestions
        | AdviserError::BadSourceUrl
        | AdviserError::Store(StoreError::InvalidState { .. })) => {
            Ok(format!("Nothing was sent: {e}."))
        }
        e @ AdviserError::Reload(_) => Ok(e.to_string()),
        e => Err(WebError::internal(&e)),
    }
}

/// `POST /queue/{id}/dismiss`.
pub async fn dismiss(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Form(form): Form<DismissForm>,
) -> Result<Response, WebError> {
    let id = QueueItemId(id);
    let reason = form.reason.trim();
    let chars = reason.chars().count();
    let mut errors = BTreeMap::new();
    if chars > MAX_REASON_CHARS {
        errors.insert(
            "reason",
            format!("The reason has {chars} characters; at most {MAX_REASON_CHARS} are allowed."),
        );
    } else {
        let reason = (!reason.is_empty()).then_some(reason);
        match adviser::dismiss(&state.app, id, reason, &session.person).await {
            Ok(()) => {
                return Ok(Redirect::to(&format!("/queue?dismissed={}", id.0)).into_response())
            }
            Err(e) => {
                errors.insert("item", adviser_message(e)?);
            }
        }
    }
    let page = item_page(
        &state,
        &session,
        id,
        ItemForms {
            answer: AnswerForm::default(),
            reason: form.reason.clone(),
            errors,
        },
    )
    .await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}
