//! Announcements and events for organisers: schedule (wall-clock times in
//! `announcements.timezone`, with the same checks as `/announce`), preview, edit and
//! cancel announcements; list and add events, each with its `.ics` calendar file.
//! Everything goes through [`crate::announce`], like the command line and Discord.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::Utc;
use maud::{html, Markup};
use serde::Deserialize;

use super::page::{csrf_field, field_error, layout, notice, Nav, WebError};
use super::{Session, WebState};
use crate::announce::{
    self, format::event_span, ics, parse_channel_id, AnnounceError, AnnouncementDraft, EventDraft,
};
use crate::knowledge::Lang;
use crate::store::{AnnouncementId, AnnouncementStatus, EventId, StoreError};

type FieldErrors = BTreeMap<&'static str, String>;

/// An organiser's error as a message next to a field, or the error page.
fn field_of(error: AnnounceError, start: &str) -> Result<(&'static str, String), WebError> {
    let error = match error {
        AnnounceError::Store(e)
            if !matches!(
                e,
                StoreError::AnnouncementNotScheduled { .. }
                    | StoreError::AnnouncementBeingPosted { .. }
            ) =>
        {
            return Err(e.into())
        }
        error => error,
    };
    let field = match &error {
        AnnounceError::EmptyText | AnnounceError::TooLong { .. } => "text",
        AnnounceError::BadTime { text } if text == start.trim() => "start",
        AnnounceError::NonexistentTime { local, .. }
            if local.format("%Y-%m-%d %H:%M").to_string() == start.trim() =>
        {
            "start"
        }
        AnnounceError::BadTime { .. }
        | AnnounceError::NonexistentTime { .. }
        | AnnounceError::InPast { .. } => "at",
        AnnounceError::BadChannel { .. } | AnnounceError::UnknownChannel { .. } => "channel",
        AnnounceError::EndsBeforeStart { .. } | AnnounceError::EventOver { .. } => "end",
        AnnounceError::MissingField { field } => field,
        AnnounceError::BadUrl { .. } => "registration_url",
        // Only "not scheduled any more" and "being posted" are left here.
        AnnounceError::NothingToChange | AnnounceError::Store(_) => "form",
        AnnounceError::UnknownEvent(_) => return Err(WebError::NotFound),
        AnnounceError::NoDatabase => return Err(WebError::Outage),
    };
    Ok((field, error.to_string()))
}

/// The message exactly as it will be posted.
fn message_preview(text: &str) -> Markup {
    html! { div.reply.message { (super::markdown::to_html(&announce::preview(text))) } }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct AnnouncementForm {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    at: String,
    /// "preview" or "schedule".
    #[serde(default)]
    action: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    scheduled: Option<i64>,
    changed: Option<i64>,
    cancelled: Option<i64>,
    added: Option<String>,
    deleted: Option<String>,
}

/// `GET /announcements`.
pub async fn announcements(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Query(done): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let message = match (done.scheduled, done.changed, done.cancelled) {
        (Some(id), _, _) => Some(format!(
            "Scheduled announcement #{id}; a running bot posts it at its time."
        )),
        (_, Some(id), _) => Some(format!("Changed announcement #{id}.")),
        (_, _, Some(id)) => Some(format!("Cancelled announcement #{id}.")),
        _ => None,
    };
    announcements_page(
        &state,
        &session,
        &AnnouncementForm::default(),
        &FieldErrors::new(),
        None,
        message,
    )
    .await
}

async fn announcements_page(
    state: &WebState,
    session: &Session,
    form: &AnnouncementForm,
    errors: &FieldErrors,
    preview: Option<Markup>,
    message: Option<String>,
) -> Result<Html<String>, WebError> {
    let store = state.store()?;
    let list = store.list_announcements(None).await?;
    let tz = state.app.settings.timezone();
    let body = html! {
        h1 { "Announcements" }
        (notice(message.as_deref()))
        div.columns {
            section {
                h2 { "Schedule an announcement" }
                form.announce method="post" action="/announcements" {
                    (csrf_field(session))
                    (field_error(errors.get("form")))
                    label for="channel" { "Channel id (in Discord: right-click the channel → Copy Channel ID)" } (field_error(errors.get("channel")))
                    input #channel type="text" name="channel" value=(form.channel) maxlength="100" inputmode="numeric";
                    label for="text" { "Text (at most " (announce::DISCORD_MESSAGE_LIMIT) " characters)" } (field_error(errors.get("text")))
                    textarea #text name="text" rows="6" { (form.text) }
                    label for="at" { "When (" (tz.name()) ", YYYY-MM-DD HH:MM; empty: as soon as possible)" } (field_error(errors.get("at")))
                    input #at type="text" name="at" value=(form.at) maxlength="40" placeholder="2026-11-04 09:00";
                    div.buttons {
                        button type="submit" name="action" value="preview" { "Preview" }
                        button.primary type="submit" name="action" value="schedule" { "Schedule" }
                    }
                }
                @if let Some(preview) = preview { (preview) }
            }
            section {
                h2 { "Scheduled and past" }
                @if list.is_empty() { p.muted { "No announcements yet." } } @else {
                    table.announcements {
                        thead { tr { th { "#" } th { "When" } th { "Status" } th { "Channel" } th { "Text" } } }
                        tbody { @for a in list.iter().rev() {
                            tr {
                                td { a href={ "/announcements/" (a.id.0) } { (a.id) } }
                                td { (a.publish_at.with_timezone(&tz).format("%Y-%m-%d %H:%M")) }
                                td { (a.status.as_str()) @if a.late { " (late)" } @if let Some(e) = &a.last_error { br; span.field-error { (e) } } }
                                td { code { (a.channel_id) } }
                                td.question { (a.text.chars().take(160).collect::<String>()) @if a.text.chars().count() > 160 { "…" } }
                            }
                        } }
                    }
                }
            }
        }
    };
    Ok(layout(
        "Announcements",
        Some(session),
        Nav::Announcements,
        body,
    ))
}

/// `POST /announcements`: preview, or schedule.
pub async fn new_announcement(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Form(form): Form<AnnouncementForm>,
) -> Result<Response, WebError> {
    let tz = state.app.settings.timezone();
    let now = Utc::now();
    let prepared = parse_channel_id(&form.channel).and_then(|channel_id| {
        announce::prepare_announcement(
            &AnnouncementDraft {
                channel_id,
                text: form.text.clone(),
                at: Some(form.at.clone()),
            },
            &[],
            tz,
            &session.person,
            now,
        )
    });
    let prepared = match prepared {
        Ok(p) => p,
        Err(e) => {
            let (field, message) = field_of(e, "")?;
            let errors = FieldErrors::from([(field, message)]);
            let page = announcements_page(&state, &session, &form, &errors, None, None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
        }
    };
    if form.action != "schedule" {
        let when = if prepared.immediate {
            "as soon as possible (a running bot posts it within seconds)".to_string()
        } else {
            format!(
                "{} ({})",
                prepared.local_time.format("%Y-%m-%d %H:%M"),
                tz.name()
            )
        };
        let preview = html! {
            h3 { "Preview: posted exactly like this in channel " code { (prepared.announcement.channel_id) } ", " (when) }
            @if let Some(n) = &prepared.notice { p.notice { (n) } }
            (message_preview(&prepared.announcement.text))
        };
        let page = announcements_page(
            &state,
            &session,
            &form,
            &FieldErrors::new(),
            Some(preview),
            None,
        )
        .await?;
        return Ok(page.into_response());
    }
    let store = state.store()?;
    let stored = announce::schedule_announcement(&store, &prepared, now)
        .await
        .map_err(|e| match e {
            AnnounceError::Store(e) => WebError::from(e),
            e => WebError::internal(&e),
        })?;
    Ok(Redirect::to(&format!("/announcements?scheduled={}", stored.id.0)).into_response())
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct EditForm {
    #[serde(default)]
    text: String,
    #[serde(default)]
    at: String,
}

/// `GET /announcements/{id}`.
pub async fn announcement(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    announcement_page(
        &state,
        &session,
        AnnouncementId(id),
        None,
        &FieldErrors::new(),
    )
    .await
}

async fn announcement_page(
    state: &WebState,
    session: &Session,
    id: AnnouncementId,
    form: Option<&EditForm>,
    errors: &FieldErrors,
) -> Result<Html<String>, WebError> {
    let store = state.store()?;
    let a = store.get_announcement(id).await?;
    let tz = state.app.settings.timezone();
    let at = a
        .publish_at
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let form = form.cloned().unwrap_or(EditForm {
        text: a.text.clone(),
        at: at.clone(),
    });
    let body = html! {
        p.crumbs { a href="/announcements" { "Announcements" } " › " (a.id) }
        h1 { "Announcement " (a.id) }
        dl.facts {
            dt { "Status" } dd { (a.status.as_str()) @if a.late { " (posted late)" } }
            dt { "When" } dd { (at) " (" (tz.name()) ")" }
            dt { "Channel" } dd { code { (a.channel_id) } }
            dt { "Scheduled by" } dd { (a.created_by) }
            @if let Some(e) = &a.last_error { dt { "Last error" } dd { (e) } }
        }
        h2 { "As it will be posted" }
        (message_preview(&a.text))
        @if a.status == AnnouncementStatus::Scheduled {
            h2 { "Change" }
            form method="post" action={ "/announcements/" (a.id.0) } {
                (csrf_field(session))
                (field_error(errors.get("form")))
                label for="text" { "Text" } (field_error(errors.get("text")))
                textarea #text name="text" rows="6" { (form.text) }
                label for="at" { "When (" (tz.name()) ", YYYY-MM-DD HH:MM)" } (field_error(errors.get("at")))
                input #at type="text" name="at" value=(form.at) maxlength="40";
                button.primary type="submit" { "Save changes" }
            }
            form method="post" action={ "/announcements/" (a.id.0) "/cancel" } {
                (csrf_field(session))
                button.danger type="submit" { "Cancel this announcement" }
            }
        } @else {
            p.muted { "Only a scheduled announcement can be changed or cancelled." }
        }
    };
    Ok(layout(
        &format!("Announcement {}", a.id),
        Some(session),
        Nav::Announcements,
        body,
    ))
}

/// `POST /announcements/{id}`: change the text and/or the time.
pub async fn edit_announcement(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Response, WebError> {
    let id = AnnouncementId(id);
    let store = state.store()?;
    let current = store.get_announcement(id).await?;
    let tz = state.app.settings.timezone();
    let current_at = current
        .publish_at
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let text = (form.text.trim() != current.text.trim()).then_some(form.text.as_str());
    let at = (form.at.trim() != current_at).then_some(form.at.as_str());
    match announce::edit_announcement(&store, id, text, at, tz, &session.person, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/announcements?changed={}", id.0)).into_response()),
        Err(e) => {
            let (field, message) = field_of(e, "")?;
            let errors = FieldErrors::from([(field, message)]);
            let page = announcement_page(&state, &session, id, Some(&form), &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

/// `POST /announcements/{id}/cancel`.
pub async fn cancel_announcement(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let id = AnnouncementId(id);
    let store = state.store()?;
    match announce::cancel_announcement(&store, id, &session.person, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/announcements?cancelled={}", id.0)).into_response()),
        Err(e) => {
            let (field, message) = field_of(e, "")?;
            let errors = FieldErrors::from([(field, message)]);
            let page = announcement_page(&state, &session, id, None, &errors).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
        }
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct EventForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    registration_url: String,
    #[serde(default)]
    audience: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    lang: String,
}

/// The longest text accepted in an event's one-line fields and its description.
const MAX_EVENT_FIELD_CHARS: usize = 300;
const MAX_EVENT_DESCRIPTION_CHARS: usize = 4000;

/// `GET /events`.
pub async fn events(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Query(done): Query<DoneQuery>,
) -> Result<Html<String>, WebError> {
    let message = match (&done.added, &done.deleted) {
        (Some(id), _) => Some(format!(
            "Added event {id}. The bot answers about it, lists it and reminds of it."
        )),
        (_, Some(id)) => Some(format!("Deleted event {id}.")),
        _ => None,
    };
    events_page(
        &state,
        &session,
        &EventForm::default(),
        &FieldErrors::new(),
        message,
    )
    .await
}

async fn events_page(
    state: &WebState,
    session: &Session,
    form: &EventForm,
    errors: &FieldErrors,
    message: Option<String>,
) -> Result<Html<String>, WebError> {
    let store = state.store()?;
    let stored = store.list_events().await?;
    let tz = state.app.settings.timezone();
    let lang = state.app.settings.announcements.language;
    let now = Utc::now();
    let answerer = state.app.answerer();
    let list = announce::all_events(answerer.knowledge(), &stored, lang, tz, true, now);
    let text_field = |name: &'static str, label: &str, value: &str, placeholder: &str| {
        html! {
            label for=(name) { (label) } (field_error(errors.get(name)))
            input id=(name) type="text" name=(name) value=(value) maxlength=(MAX_EVENT_FIELD_CHARS * 2) placeholder=(placeholder);
        }
    };
    let body = html! {
        h1 { "Events" }
        (notice(message.as_deref()))
        div.columns {
            section {
                h2 { "Upcoming and past" }
                @if list.is_empty() { p.muted { "No events." } }
                @for e in &list {
                    article.event class=[(!e.is_upcoming(now)).then_some("past")] {
                        h3 { (e.title) @if !e.is_upcoming(now) { " " span.badge { "past" } } }
                        p { (event_span(e.start_local, e.end_local, lang)) br; (e.place()) }
                        @if let Some(url) = &e.registration_url {
                            @if super::markdown::is_web_url(url) { p { "Registration: " a href=(url) rel="noopener noreferrer" { (url) } } }
                        }
                        p.actions {
                            a href={ "/events/" (e.id) "/ics" } download { "Calendar file (.ics)" }
                            @if let Some(id) = EventId::parse(&e.id).filter(|_| e.id.starts_with("event-")) {
                                form.inline method="post" action={ "/events/" (id.0) "/delete" } {
                                    (csrf_field(session))
                                    button.link.danger type="submit" { "Delete" }
                                }
                            } @else {
                                " " span.muted { "(from knowledge/events/)" }
                            }
                        }
                    }
                }
            }
            section {
                h2 { "Add an event" }
                form.event method="post" action="/events" {
                    (csrf_field(session))
                    (text_field("title", "Title", &form.title, ""))
                    (text_field("start", &format!("Starts ({}, YYYY-MM-DD HH:MM)", tz.name()), &form.start, "2027-02-10 09:00"))
                    (text_field("end", "Ends (YYYY-MM-DD HH:MM)", &form.end, "2027-02-10 15:30"))
                    (text_field("venue", "Venue", &form.venue, ""))
                    (text_field("address", "Address (optional)", &form.address, ""))
                    (text_field("registration_url", "Registration link (optional)", &form.registration_url, "https://…"))
                    (text_field("audience", "Who it is for (optional)", &form.audience, ""))
                    label for="description" { "Description (optional, Markdown)" } (field_error(errors.get("description")))
                    textarea #description name="description" rows="5" { (form.description) }
                    label for="lang" { "Language of the texts" }
                    select #lang name="lang" {
                        option value="nb" selected[form.lang != "en"] { "Bokmål" }
                        option value="en" selected[form.lang == "en"] { "English" }
                    }
                    button.primary type="submit" { "Add event" }
                }
            }
        }
    };
    Ok(layout("Events", Some(session), Nav::Events, body))
}

/// `POST /events`: add an event.
pub async fn new_event(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Form(form): Form<EventForm>,
) -> Result<Response, WebError> {
    let mut errors = FieldErrors::new();
    for (name, value) in [
        ("title", &form.title),
        ("start", &form.start),
        ("end", &form.end),
        ("venue", &form.venue),
        ("address", &form.address),
        ("registration_url", &form.registration_url),
        ("audience", &form.audience),
    ] {
        let chars = value.chars().count();
        if chars > MAX_EVENT_FIELD_CHARS {
            errors.insert(
                name,
                format!("{chars} characters; at most {MAX_EVENT_FIELD_CHARS} are allowed."),
            );
        }
    }
    let chars = form.description.chars().count();
    if chars > MAX_EVENT_DESCRIPTION_CHARS {
        errors.insert(
            "description",
            format!("{chars} characters; at most {MAX_EVENT_DESCRIPTION_CHARS} are allowed."),
        );
    }
    let optional = |v: &str| Some(v.to_string()).filter(|v| !v.trim().is_empty());
    let now = Utc::now();
    if errors.is_empty() {
        let draft = EventDraft {
            title: form.title.clone(),
            start: form.start.clone(),
            end: form.end.clone(),
            venue: form.venue.clone(),
            address: optional(&form.address),
            registration_url: optional(&form.registration_url),
            audience: optional(&form.audience),
            description: optional(&form.description),
            organiser: None,
            lang: Lang::parse(&form.lang).unwrap_or(Lang::Nb),
        };
        let tz = state.app.settings.timezone();
        match announce::prepare_event(&draft, tz, &session.person, now) {
            Ok(prepared) => {
                let store = state.store()?;
                let stored =
                    announce::add_event(&store, &prepared, now)
                        .await
                        .map_err(|e| match e {
                            AnnounceError::Store(e) => WebError::from(e),
                            e => WebError::internal(&e),
                        })?;
                state.app.reload_if_changed().await;
                return Ok(
                    Redirect::to(&format!("/events?added={}", stored.id.knowledge_id()))
                        .into_response(),
                );
            }
            Err(e) => {
                let (field, message) = field_of(e, &form.start)?;
                errors.insert(field, message);
            }
        }
    }
    let page = events_page(&state, &session, &form, &errors, None).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// `POST /events/{id}/delete`: delete an event added through the bot.
pub async fn delete_event(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Response, WebError> {
    let store = state.store()?;
    let id = EventId(id);
    store.delete_event(id, &session.person, Utc::now()).await?;
    state.app.reload_if_changed().await;
    Ok(Redirect::to(&format!("/events?deleted={}", id.knowledge_id())).into_response())
}

/// `GET /events/{id}/ics`: the calendar file (for everyone signed in).
pub async fn ics(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
) -> Result<Response, WebError> {
    let answerer = state.app.answerer();
    let lang = state.app.settings.announcements.language;
    let store = state.app.store();
    let event = announce::find_event(
        &id,
        answerer.knowledge(),
        store.as_ref(),
        lang,
        state.app.settings.timezone(),
    )
    .await
    .map_err(|e| match field_of(e, "") {
        Err(page) => page,
        Ok(_) => WebError::NotFound,
    })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/calendar; charset=utf-8".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", ics::ics_filename(&event)),
            ),
        ],
        ics::event_ics(&event, Utc::now()),
    )
        .into_response())
}
