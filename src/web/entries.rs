//! The knowledge: every entry in both languages with its review date, sources and
//! example questions; editing with a live preview of the reply as a supplier sees it and
//! `kb lint`'s messages before saving; "try a question"; stale entries marked; the
//! changed entries exported as knowledge files for review in git.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::{NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use super::markdown::{is_web_url, to_html};
use super::page::{csrf_field, field_error, lang_field, layout, notice, Nav, WebError};
use super::{Session, WebState};
use crate::answer::{render_text, Reply};
use crate::knowledge::{self, parse_entry_file, Entry, Lang, Problem, Severity, Source};
use crate::store::LearnedEntry;

/// Limits of the edit form.
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 8000;
pub const MAX_QUESTION_CHARS: usize = 500;
pub const MAX_QUESTIONS: usize = 60;
pub const MAX_SOURCES: usize = 10;
/// The longest question "try a question" takes (longer ones are cut by the answerer too).
const MAX_TRY_CHARS: usize = 2000;

/// The reply as a supplier sees it in Discord, as HTML.
pub fn reply_preview(reply: &Reply) -> Markup {
    html! {
        div.reply { (to_html(&render_text(reply, true))) }
    }
}

fn is_stale(reviewed: NaiveDate, review_after_days: u32, today: NaiveDate) -> bool {
    (today - reviewed).num_days() > i64::from(review_after_days)
}

fn origin(entry: &Entry) -> &'static str {
    match (&entry.path, &entry.event) {
        (_, Some(_)) => "event",
        (Some(_), None) => "file",
        (None, None) => "taught",
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    stale: Option<String>,
}

/// `GET /entries`.
pub async fn list(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Query(query): Query<ListQuery>,
) -> Html<String> {
    let answerer = state.app.answerer();
    let kb = answerer.knowledge();
    let days = state.app.settings.knowledge.review_after_days;
    let today = Utc::now().date_naive();
    let needle = query.q.as_deref().unwrap_or("").trim().to_lowercase();
    let only_stale = query.stale.is_some();
    let groups = knowledge::by_id(&kb.entries);
    let rows: Vec<(&str, Vec<&Entry>)> = groups
        .into_iter()
        .filter(|(id, entries)| {
            needle.is_empty()
                || id.contains(&needle)
                || entries
                    .iter()
                    .any(|e| e.title.to_lowercase().contains(&needle))
        })
        .filter(|(_, entries)| {
            !only_stale || entries.iter().any(|e| is_stale(e.reviewed, days, today))
        })
        .collect();
    let stale_count = knowledge::by_id(&kb.entries)
        .values()
        .filter(|entries| entries.iter().any(|e| is_stale(e.reviewed, days, today)))
        .count();
    let body = html! {
        h1 { "Knowledge" }
        form.try method="get" action="/try" {
            label for="try-q" { "Try a question" }
            input #try-q type="search" name="q" maxlength=(MAX_TRY_CHARS) placeholder="Hva er en rammeavtale?";
            button type="submit" { "Ask" }
        }
        form.filters method="get" action="/entries" {
            label { "Contains " input type="search" name="q" value=(query.q.as_deref().unwrap_or("")) maxlength="200"; }
            label { input type="checkbox" name="stale" value="1" checked[only_stale]; " Only stale (reviewed more than " (days) " days ago)" }
            button type="submit" { "Show" }
            " "
            a href="/entries/export.tar" { "Export the changed entries (.tar of knowledge files)" }
        }
        p.muted { (rows.len()) " entries shown; " (stale_count) " stale in all." }
        table.entries {
            thead { tr { th { "Entry" } th { "Bokmål" } th { "English" } th { "Reviewed" } th { "Sources" } th { "Questions" } th { "From" } } }
            tbody {
                @for (id, entries) in &rows {
                    @let nb = entries.iter().find(|e| e.lang == Lang::Nb);
                    @let en = entries.iter().find(|e| e.lang == Lang::En);
                    @let oldest = entries.iter().map(|e| e.reviewed).min().unwrap_or(today);
                    tr {
                        td { a href={ "/entries/" (id) } { (id) } }
                        td { (nb.map(|e| e.title.as_str()).unwrap_or("–")) }
                        td { (en.map(|e| e.title.as_str()).unwrap_or("–")) }
                        td {
                            (oldest.format("%Y-%m-%d"))
                            @if is_stale(oldest, days, today) { " " span.badge.stale { "stale" } }
                        }
                        td.num { (entries.iter().map(|e| e.sources.len()).max().unwrap_or(0)) }
                        td.num { (entries.iter().map(|e| e.questions.len()).sum::<usize>()) }
                        td { (entries.first().map(|e| origin(e)).unwrap_or("")) }
                    }
                }
            }
        }
    };
    layout("Knowledge", Some(&session), Nav::Entries, body)
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowQuery {
    saved: Option<String>,
}

/// `GET /entries/{id}`: both languages side by side.
pub async fn show(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Html<String>, WebError> {
    let answerer = state.app.answerer();
    let entries: Vec<&Entry> = answerer.knowledge().entries_with_id(&id).collect();
    if entries.is_empty() {
        return Err(WebError::NotFound);
    }
    let days = state.app.settings.knowledge.review_after_days;
    let today = Utc::now().date_naive();
    let saved = query
        .saved
        .as_deref()
        .map(|lang| format!("Saved the {lang} version. The bot answers from it now."));
    let body = html! {
        p.crumbs { a href="/entries" { "Knowledge" } " › " (id) }
        h1 { (id) }
        (notice(saved.as_deref()))
        div.columns {
            @for lang in [Lang::Nb, Lang::En] {
                section {
                    @if let Some(entry) = entries.iter().find(|e| e.lang == lang) {
                        h2 { (lang_name(lang)) }
                        dl.facts {
                            dt { "Reviewed" }
                            dd { (entry.reviewed.format("%Y-%m-%d")) @if is_stale(entry.reviewed, days, today) { " " span.badge.stale { "stale" } } }
                            dt { "From" }
                            dd { @match &entry.path { Some(p) => code { (p.display()) }, None => (origin(entry)) } }
                            dt { "Sources" }
                            dd { ul { @for s in &entry.sources { li { (source_link(s)) } } } }
                            @if !entry.keywords.is_empty() { dt { "Keywords" } dd { (entry.keywords.join(", ")) } }
                        }
                        h3 { "Example questions" }
                        ul.questions { @for q in &entry.questions { li { (q) } } }
                        h3 { "As suppliers see it" }
                        (reply_preview(&Reply::for_entry((*entry).clone(), lang)))
                        @if entry.event.is_none() {
                            p { a.button href={ "/entries/" (id) "/edit?lang=" (lang.code()) } { "Edit the " (lang_name(lang)) " version" } }
                        } @else {
                            p.muted { "An event: change it in knowledge/events/ or on the Events page." }
                        }
                    } @else {
                        h2 { (lang_name(lang)) }
                        p.muted { "No " (lang_name(lang)) " version." }
                    }
                }
            }
        }
    };
    Ok(layout(&id, Some(&session), Nav::Entries, body))
}

fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Nb => "Bokmål",
        Lang::En => "English",
    }
}

fn source_link(source: &Source) -> Markup {
    html! {
        @if is_web_url(&source.url) {
            a href=(source.url) rel="noopener noreferrer" { (source.name) }
        } @else {
            (source.name)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct LangQuery {
    #[serde(default, deserialize_with = "lang_field")]
    lang: Option<Lang>,
}

/// The edit form as sent.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct EntryForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    /// One per line.
    #[serde(default)]
    questions: String,
    /// Comma-separated.
    #[serde(default)]
    keywords: String,
    /// One per line: `Name | https://…`.
    #[serde(default)]
    sources: String,
    #[serde(default)]
    reviewed: String,
    /// "preview" or "save".
    #[serde(default)]
    action: String,
}

impl EntryForm {
    fn from_entry(entry: &Entry, today: NaiveDate) -> EntryForm {
        EntryForm {
            title: entry.title.clone(),
            body: entry.body_text().into_owned(),
            questions: entry.questions.join("\n"),
            keywords: entry.keywords.join(", "),
            sources: entry
                .sources
                .iter()
                .map(|s| {
                    if s.url.is_empty() {
                        s.name.to_string()
                    } else {
                        format!("{} | {}", s.name, s.url)
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            // Saving is reviewing: the date moves to today unless the adviser says otherwise.
            reviewed: today.format("%Y-%m-%d").to_string(),
            action: String::new(),
        }
    }
}

/// The edited entry, or what is wrong with each field.
fn check_form(form: &EntryForm, original: &Entry) -> Result<Entry, BTreeMap<&'static str, String>> {
    let mut errors = BTreeMap::new();
    let too_long = |what: &str, chars: usize, max: usize| {
        format!("{what} has {chars} characters; at most {max} are allowed.")
    };
    let title = form.title.trim();
    let chars = title.chars().count();
    if title.is_empty() {
        errors.insert("title", "The title is empty.".to_string());
    } else if chars > MAX_TITLE_CHARS || title.contains('\n') {
        errors.insert("title", too_long("The title", chars, MAX_TITLE_CHARS));
    }
    let body = form.body.trim().replace("\r\n", "\n");
    let chars = body.chars().count();
    if body.is_empty() {
        errors.insert("body", "The answer is empty.".to_string());
    } else if chars > MAX_BODY_CHARS {
        errors.insert("body", too_long("The answer", chars, MAX_BODY_CHARS));
    }
    let questions: Vec<String> = form
        .questions
        .lines()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_string)
        .collect();
    if questions.len() > MAX_QUESTIONS {
        errors.insert(
            "questions",
            format!(
                "{} questions; at most {MAX_QUESTIONS} are allowed.",
                questions.len()
            ),
        );
    } else if let Some(long) = questions
        .iter()
        .find(|q| q.chars().count() > MAX_QUESTION_CHARS)
    {
        errors.insert(
            "questions",
            format!(
                "A question has {} characters; at most {MAX_QUESTION_CHARS} are allowed.",
                long.chars().count()
            ),
        );
    }
    let keywords: Vec<String> = form
        .keywords
        .split([',', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    let mut sources = Vec::new();
    for line in form
        .sources
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        let (name, url) = match line.rsplit_once('|') {
            Some((name, url)) => (name.trim(), url.trim()),
            None if is_web_url(line) => (line, line),
            None => (line, ""),
        };
        if name.is_empty() || name.chars().count() > MAX_TITLE_CHARS {
            errors.insert(
                "sources",
                format!(
                    "Each source needs a name of at most {MAX_TITLE_CHARS} characters: {line:?}"
                ),
            );
        } else if !url.is_empty() && !is_web_url(url) {
            errors.insert(
                "sources",
                format!("{url:?} is not a web address starting with https://"),
            );
        } else {
            sources.push(Source {
                name: name.into(),
                url: url.into(),
            });
        }
    }
    if sources.is_empty() && !errors.contains_key("sources") {
        errors.insert(
            "sources",
            "Name at least one source (`Name | https://…`).".to_string(),
        );
    } else if sources.len() > MAX_SOURCES {
        errors.insert(
            "sources",
            format!(
                "{} sources; at most {MAX_SOURCES} are allowed.",
                sources.len()
            ),
        );
    }
    let reviewed = NaiveDate::parse_from_str(form.reviewed.trim(), "%Y-%m-%d");
    if reviewed.is_err() {
        errors.insert(
            "reviewed",
            format!("{:?} is not a date YYYY-MM-DD.", form.reviewed.trim()),
        );
    }
    match (errors.is_empty(), reviewed) {
        (true, Ok(reviewed)) => Ok(Entry {
            id: original.id.clone(),
            lang: original.lang,
            title: title.to_string(),
            questions: questions.into(),
            keywords: keywords.into(),
            related: original.related.clone(),
            reviewed,
            sources,
            // The form does not edit the dated facts; the preview and lint keep them.
            facts: original.facts.clone(),
            body: body.into(),
            event: None,
            path: None,
        }),
        _ => Err(errors),
    }
}

/// What `kb lint` says about the entry written as its knowledge file.
pub fn lint(entry: &Entry) -> Vec<Problem> {
    let path = PathBuf::from(format!("entries/{}.{}.md", entry.id, entry.lang.code()));
    match parse_entry_file(&path, &entry.to_markdown()) {
        Ok((_, warnings)) => warnings,
        Err(problems) => problems,
    }
}

/// The preview and the lint messages of an edited entry: the part the script
/// replaces as the adviser types.
fn preview_part(checked: &Result<Entry, BTreeMap<&'static str, String>>) -> Markup {
    html! {
        div #preview {
            @match checked {
                Ok(entry) => {
                    @let problems = lint(entry);
                    h3 { "As suppliers will see it" }
                    (reply_preview(&Reply::for_entry(entry.clone(), entry.lang)))
                    h3 { "kb lint" }
                    @if problems.is_empty() {
                        p.lint-ok { "No problems." }
                    } @else {
                        ul.lint {
                            @for p in &problems {
                                li class=(if p.severity == Severity::Error { "error" } else { "warning" }) { (p.to_string()) }
                            }
                        }
                    }
                }
                Err(errors) => {
                    h3 { "As suppliers will see it" }
                    p.muted { "Fix the fields marked in red to see the preview." }
                    ul.lint { @for (field, e) in errors { li.error { (field) ": " (e) } } }
                }
            }
        }
    }
}

fn find_editable(state: &WebState, id: &str, lang: Option<Lang>) -> Result<Entry, WebError> {
    let lang = lang.unwrap_or(Lang::Nb);
    let answerer = state.app.answerer();
    let entry = answerer
        .knowledge()
        .entries_with_id(id)
        .find(|e| e.lang == lang)
        .cloned()
        .ok_or(WebError::NotFound)?;
    if entry.event.is_some() {
        return Err(WebError::NotFound);
    }
    Ok(entry)
}

fn edit_page(
    session: &Session,
    original: &Entry,
    form: &EntryForm,
    checked: &Result<Entry, BTreeMap<&'static str, String>>,
    lint_refused: bool,
) -> Html<String> {
    let errors = checked.as_ref().err().cloned().unwrap_or_default();
    let action = format!(
        "/entries/{}/edit?lang={}",
        original.id,
        original.lang.code()
    );
    let preview_url = format!(
        "/entries/{}/preview?lang={}",
        original.id,
        original.lang.code()
    );
    let body = html! {
        p.crumbs { a href="/entries" { "Knowledge" } " › " a href={ "/entries/" (original.id) } { (original.id) } " › edit " (original.lang.code()) }
        h1 { "Edit " (original.id) " (" (lang_name(original.lang)) ")" }
        @if lint_refused { p.notice.error role="alert" { "Not saved: kb lint found errors (below). Fix them and save again." } }
        div.columns {
            form.entry method="post" action=(action) data-preview=(preview_url) {
                (csrf_field(session))
                label for="title" { "Title" } (field_error(errors.get("title")))
                input #title type="text" name="title" value=(form.title) maxlength=(MAX_TITLE_CHARS * 2);
                label for="body" { "Answer (Markdown, as in the knowledge files)" } (field_error(errors.get("body")))
                textarea #body name="body" rows="16" { (form.body) }
                label for="questions" { "Example questions, one per line (at least " (knowledge::MIN_QUESTIONS) ")" } (field_error(errors.get("questions")))
                textarea #questions name="questions" rows="8" { (form.questions) }
                label for="keywords" { "Keywords, comma-separated" } (field_error(errors.get("keywords")))
                input #keywords type="text" name="keywords" value=(form.keywords);
                label for="sources" { "Sources, one per line: " code { "Name | https://…" } } (field_error(errors.get("sources")))
                textarea #sources name="sources" rows="3" { (form.sources) }
                label for="reviewed" { "Reviewed (YYYY-MM-DD)" } (field_error(errors.get("reviewed")))
                input #reviewed type="text" name="reviewed" value=(form.reviewed) maxlength="20";
                div.buttons {
                    button type="submit" name="action" value="preview" { "Preview" }
                    button.primary type="submit" name="action" value="save" { "Save" }
                }
                p.muted { "Saving stores your version in the database; the bot answers from it at once. Export the changed entries to put them into the knowledge files through git." }
            }
            section { (preview_part(checked)) }
        }
    };
    layout(
        &format!("Edit {}", original.id),
        Some(session),
        Nav::Entries,
        body,
    )
}

/// `GET /entries/{id}/edit?lang=nb`.
pub async fn edit_form(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
) -> Result<Html<String>, WebError> {
    let original = find_editable(&state, &id, query.lang)?;
    let form = EntryForm::from_entry(&original, Utc::now().date_naive());
    let checked = check_form(&form, &original);
    Ok(edit_page(&session, &original, &form, &checked, false))
}

/// `POST /entries/{id}/edit?lang=nb`: preview (no script), or save when the form is
/// valid and `kb lint` finds no error.
pub async fn edit(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
    Form(form): Form<EntryForm>,
) -> Result<Response, WebError> {
    let original = find_editable(&state, &id, query.lang)?;
    let checked = check_form(&form, &original);
    let lint_errors = checked
        .as_ref()
        .map(|e| lint(e).iter().any(|p| p.severity == Severity::Error))
        .unwrap_or(false);
    let entry = match (&checked, form.action.as_str(), lint_errors) {
        (Ok(entry), "save", false) => entry.clone(),
        _ => {
            let status = if checked.is_err() || (form.action == "save" && lint_errors) {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            let refused = form.action == "save" && lint_errors;
            return Ok((
                status,
                edit_page(&session, &original, &form, &checked, refused),
            )
                .into_response());
        }
    };
    let store = state.store()?;
    let first = entry.sources.first().cloned().unwrap_or(Source {
        name: "".into(),
        url: "".into(),
    });
    store
        .save_entry_sources(&entry.id, entry.lang.code(), &entry.sources)
        .await?;
    store
        .save_learned_entry(&LearnedEntry {
            id: entry.id.clone(),
            lang: entry.lang,
            title: entry.title.clone(),
            body: entry.body_text().into_owned(),
            questions: entry.questions.to_vec(),
            keywords: entry.keywords.to_vec(),
            source_name: first.name.to_string(),
            source_url: Some(first.url.to_string()).filter(|u| !u.is_empty()),
            reviewed: entry.reviewed,
            created_by: session.person.clone(),
        })
        .await?;
    state.app.reload_if_changed().await;
    Ok(Redirect::to(&format!(
        "/entries/{}?saved={}",
        entry.id,
        entry.lang.code()
    ))
    .into_response())
}

/// `POST /entries/{id}/preview?lang=nb`: the preview part alone, for the script.
pub async fn preview(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
    Form(form): Form<EntryForm>,
) -> Result<Html<String>, WebError> {
    let original = find_editable(&state, &id, query.lang)?;
    Ok(Html(
        preview_part(&check_form(&form, &original)).into_string(),
    ))
}

#[derive(Debug, Default, Deserialize)]
pub struct TryQuery {
    q: Option<String>,
}

/// `GET /try?q=…`: the top candidates and the reply, without logging anything.
pub async fn try_question(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Query(query): Query<TryQuery>,
) -> Html<String> {
    let question: String = query
        .q
        .unwrap_or_default()
        .chars()
        .take(MAX_TRY_CHARS)
        .collect();
    let reply = (!question.trim().is_empty()).then(|| state.app.answer_only(&question));
    let body = html! {
        p.crumbs { a href="/entries" { "Knowledge" } " › try a question" }
        h1 { "Try a question" }
        form.try method="get" action="/try" {
            label for="try-q" { "Question" }
            input #try-q type="search" name="q" value=(question) maxlength=(MAX_TRY_CHARS);
            button type="submit" { "Ask" }
        }
        @if let Some(reply) = &reply {
            p {
                @if reply.answered() { "Answered from " a href={ "/entries/" (reply.id().unwrap_or("")) } { (reply.id().unwrap_or("")) } }
                @else { "The bot would not answer (a real question would go to the queue)." }
                " Confidence " (format!("{:.2}", reply.score)) " (threshold " (format!("{:.2}", state.app.answerer().threshold())) "), language " (reply.lang.code()) "."
            }
            div.columns {
                section {
                    h2 { "Top candidates" }
                    @if reply.candidates.is_empty() { p.muted { "None." } } @else {
                        table.candidates {
                            thead { tr { th { "#" } th { "Entry" } th { "Title" } th { "Score" } } }
                            tbody { @for (i, c) in reply.candidates.iter().enumerate() {
                                tr { td { (i + 1) } td { a href={ "/entries/" (c.id) } { (c.id) } } td { (c.title) } td.num { (format!("{:.3}", c.score)) } }
                            } }
                        }
                    }
                }
                section {
                    h2 { "The reply" }
                    (reply_preview(reply))
                }
            }
        }
    };
    layout("Try a question", Some(&session), Nav::Entries, body)
}

/// `GET /entries/export.tar`: the entries taught or edited through the bot (those not
/// read from a file), as knowledge files `entries/ID.LANG.md`.
pub async fn export(State(state): State<Arc<WebState>>) -> Response {
    let answerer = state.app.answerer();
    let files: Vec<(String, String)> = answerer
        .knowledge()
        .entries
        .iter()
        .filter(|e| e.path.is_none() && e.event.is_none())
        .map(|e| {
            (
                format!("entries/{}.{}.md", e.id, e.lang.code()),
                e.to_markdown(),
            )
        })
        .collect();
    let now = Utc::now();
    let archive = super::tar::archive(&files, now.timestamp());
    let name = format!("anbud-changed-entries-{}.tar", now.format("%Y-%m-%d"));
    (
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        archive,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn original() -> Entry {
        let mut e = Entry::new("x", Lang::Nb, "T", &["a", "b", "c", "d", "e"], "Svar.");
        e.sources = vec![Source {
            name: "Lovdata".into(),
            url: "https://lovdata.no".into(),
        }];
        e.reviewed = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        e
    }

    #[test]
    fn the_form_round_trips_and_is_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let form = EntryForm::from_entry(&original(), today);
        let entry = check_form(&form, &original()).unwrap();
        assert_eq!(entry.sources, original().sources);
        assert_eq!(entry.questions.len(), 5);
        assert_eq!(entry.reviewed, today);
        let bad = EntryForm {
            title: "x".repeat(MAX_TITLE_CHARS + 1),
            sources: "Lovdata | javascript:alert(1)".into(),
            reviewed: "i går".into(),
            ..form
        };
        let errors = check_form(&bad, &original()).unwrap_err();
        assert!(
            errors.contains_key("title")
                && errors.contains_key("sources")
                && errors.contains_key("reviewed"),
            "{errors:?}"
        );
    }

    #[test]
    fn lint_speaks_like_kb_lint() {
        let mut entry = original();
        entry.questions = entry.questions.iter().take(2).collect();
        let problems = lint(&entry);
        assert!(
            problems
                .iter()
                .any(|p| p.severity == Severity::Error
                    && p.to_string().starts_with("entries/x.nb.md:")),
            "{problems:?}"
        );
        assert!(lint(&original())
            .iter()
            .all(|p| p.severity != Severity::Error));
    }

    #[test]
    fn staleness() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert!(is_stale(
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            180,
            today
        ));
        assert!(!is_stale(
            NaiveDate::from_ymd_opt(2026, 11, 1).unwrap(),
            180,
            today
        ));
    }
}
