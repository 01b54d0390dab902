//! The layout every page shares, and the error pages.

use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Extension;
use maud::{html, Markup, DOCTYPE};

use super::auth::{Role, Session};

/// The sections in the navigation bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Queue,
    Entries,
    Stats,
    Announcements,
    Events,
    None,
}

/// A whole page: navigation for what the person may use, their name, sign-out.
pub fn layout(title: &str, session: Option<&Session>, active: Nav, body: Markup) -> Html<String> {
    let sections = [
        (Nav::Queue, "/queue", "Queue", Role::Adviser),
        (Nav::Entries, "/entries", "Knowledge", Role::Adviser),
        (Nav::Stats, "/stats", "Statistics", Role::Adviser),
        (
            Nav::Announcements,
            "/announcements",
            "Announcements",
            Role::Organiser,
        ),
        (Nav::Events, "/events", "Events", Role::Organiser),
    ];
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · anbud" }
                link rel="stylesheet" href="/static/style.css";
                script src="/static/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "anbud" }
                    @if let Some(session) = session {
                        nav {
                            @for (nav, href, label, role) in sections {
                                @if session.has(role) {
                                    a href=(href) class=[(nav == active).then_some("active")] { (label) }
                                }
                            }
                        }
                        div.who {
                            span.person { (session.person) }
                            form.inline method="post" action="/logout" {
                                (csrf_field(session))
                                button.link type="submit" { "Sign out" }
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    Html(markup.into_string())
}

/// The hidden field every form carries.
pub fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf_token); }
}

/// A notice at the top of a page ("Answered #4; 2 askers will be told.").
pub fn notice(text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p.notice role="status" { (text) }
        }
    }
}

/// A form field's error, shown next to it.
pub fn field_error(error: Option<&String>) -> Markup {
    html! {
        @if let Some(error) = error {
            span.field-error role="alert" { (error) }
        }
    }
}

/// `/`: the first page the person may use.
pub async fn home(Extension(session): Extension<Session>) -> Redirect {
    if session.has(Role::Adviser) {
        Redirect::to("/queue")
    } else {
        Redirect::to("/announcements")
    }
}

/// Everything a page handler can answer instead of its page.
#[derive(Debug)]
pub enum WebError {
    /// No valid session: 303 to sign-in, or 401 for a client that wants JSON.
    NotSignedIn {
        json: bool,
        next: String,
    },
    /// Signed in, but without the role this page needs.
    Forbidden(Role),
    /// A form without the session's CSRF token.
    Csrf,
    /// A sign-in that was refused (a used or unknown link, no role in the server).
    SignInRefused(String),
    /// Too many sign-in attempts from one address.
    TooManySignIns,
    /// The database is not answering.
    Outage,
    NotFound,
    /// Something of ours went wrong; the cause is in the log, not on the page.
    Internal,
}

impl WebError {
    /// Logs an unexpected error with its whole cause chain and gives the general page.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> WebError {
        let mut chain = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push_str(": ");
            chain.push_str(&cause.to_string());
            source = cause.source();
        }
        tracing::error!(error = %chain, "web request failed");
        WebError::Internal
    }
}

fn error_page(status: StatusCode, title: &str, text: Markup) -> Response {
    let body = html! {
        h1 { (title) }
        (text)
    };
    (status, layout(title, None, Nav::None, body)).into_response()
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::NotSignedIn { json: true, .. } => (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"error":"not signed in"}"#,
            )
                .into_response(),
            WebError::NotSignedIn { json: false, next } => {
                let target = if next.is_empty() || next == "/" {
                    "/login".to_string()
                } else {
                    format!("/login?next={}", url_encode(&next))
                };
                Redirect::to(&target).into_response()
            }
            WebError::Forbidden(role) => error_page(
                StatusCode::FORBIDDEN,
                "Not for your role",
                html! {
                    p { "This page is for " (role.plural()) ". Nothing was changed." }
                    p { a href="/" { "Back to your pages" } }
                },
            ),
            WebError::Csrf => error_page(
                StatusCode::FORBIDDEN,
                "The form could not be checked",
                html! {
                    p { "The form did not carry this session's check value (it may be from an old page, or from another site). Nothing was changed." }
                    p { "Go back, reload the page and send it again." }
                },
            ),
            WebError::SignInRefused(reason) => error_page(
                StatusCode::FORBIDDEN,
                "Sign-in refused",
                html! { p { (reason) } p { a href="/login" { "Sign in" } } },
            ),
            WebError::TooManySignIns => {
                let mut response = error_page(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many sign-in attempts",
                    html! { p { "Too many sign-in attempts from your address. Wait a minute and try again." } },
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("60"));
                response
            }
            WebError::Outage => error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database is not answering",
                html! {
                    p { "The database is not answering right now, so this page cannot be shown and nothing was changed." }
                    p { "The bot keeps answering suppliers meanwhile. Try again in a moment." }
                },
            ),
            WebError::NotFound => error_page(
                StatusCode::NOT_FOUND,
                "Not found",
                html! { p { "There is no such page or item." } p { a href="/" { "Back" } } },
            ),
            WebError::Internal => error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                html! { p { "Something went wrong on our side; it is in the log. Nothing may have changed: check before you try again." } },
            ),
        }
    }
}

/// Percent-encodes a query value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A language from a query string or form: `nb`, `en` (and the spellings
/// [`Lang::parse`] takes); empty or missing is none ("any"). Anything else is refused
/// (400, the field named) rather than read as "any".
pub fn lang_field<'de, D>(deserializer: D) -> Result<Option<crate::knowledge::Lang>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let text: Option<String> = serde::Deserialize::deserialize(deserializer)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(code) => crate::knowledge::Lang::parse(code)
            .map(Some)
            .ok_or_else(|| {
                serde::de::Error::custom(format!("unknown language {code:?} (nb or en)"))
            }),
    }
}
