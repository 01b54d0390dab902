//! The advisers' and organisers' web pages: the queue, the knowledge, the statistics,
//! announcements and events.
//!
//! Server-rendered HTML (axum + maud, which escapes every value), a little CSS and one
//! small script that only enhances (the entry editor's live preview): every page works
//! with JavaScript off. The pages call the same core as the command line and Discord:
//! [`crate::adviser`] for the queue, [`crate::announce`] for announcements and events,
//! the [`crate::store`] and the answering core in [`App`].
//!
//! - [`auth`]: sign-in (a one-time link, or Discord OAuth2), server-side sessions,
//!   CSRF tokens, roles, the rate limit on sign-in.
//! - [`queue`], [`entries`], [`stats`], [`organise`]: the pages.
//! - [`page`]: the layout and the error pages; [`markdown`], [`chart`], [`tar`]: pure
//!   helpers, unit tested.

pub mod auth;
pub mod chart;
pub mod entries;
pub mod markdown;
pub mod organise;
pub mod page;
pub mod queue;
pub mod stats;
pub mod tar;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use secrecy::SecretString;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::store::{Store, StoreError};

pub use self::auth::{Role, Session};
pub use self::page::WebError;

/// The environment variable with the Discord application's client secret.
pub const CLIENT_SECRET_VARIABLE: &str = "DISCORD_CLIENT_SECRET";

/// The largest request body accepted (a form with an entry's text is far smaller).
const BODY_LIMIT: usize = 256 * 1024;

/// What every handler shares.
pub struct WebState {
    pub app: App,
    pub(crate) auth: auth::AuthState,
}

impl WebState {
    /// The store, or the "database is not answering" page.
    pub fn store(&self) -> Result<Store, WebError> {
        self.app.store().ok_or(WebError::Outage)
    }
}

/// Why the web server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A running web server.
pub struct RunningWeb {
    /// The address it listens on (the real port when 0 was asked for).
    pub addr: SocketAddr,
    state: Arc<WebState>,
    task: Option<JoinHandle<()>>,
}

impl RunningWeb {
    /// A new one-time sign-in link (adviser and organiser), valid once, for
    /// `web.session_hours`.
    pub fn login_url(&self) -> String {
        let token = self.state.auth.issue_login_token();
        format!("http://{}/login?token={token}", self.addr)
    }

    /// The address of the pages.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until the server stops (it does not stop by itself).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningWeb {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Starts serving the pages on `listen` in the background. The Discord client secret
/// is read from [`CLIENT_SECRET_VARIABLE`] when Discord sign-in is configured.
pub async fn start(app: App, listen: SocketAddr) -> Result<RunningWeb, StartError> {
    let secret = std::env::var(CLIENT_SECRET_VARIABLE)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .map(SecretString::from);
    start_with_secret(app, listen, secret).await
}

/// [`start`] with the client secret given (tests).
pub async fn start_with_secret(
    app: App,
    listen: SocketAddr,
    client_secret: Option<SecretString>,
) -> Result<RunningWeb, StartError> {
    let auth = auth::AuthState::new(&app.settings, client_secret);
    if app.settings.web.discord_client_id.trim().is_empty() {
        tracing::info!("Discord sign-in is off (web.discord_client_id is empty)");
    } else if !auth.discord_enabled() {
        tracing::warn!(
            "Discord sign-in is off: {CLIENT_SECRET_VARIABLE} is not set in the environment"
        );
    }
    let state = Arc::new(WebState { app, auth });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: listen,
        source,
    })?;
    let router = router(state.clone());
    let task = tokio::spawn(async move {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, service).await {
            tracing::error!(error = %e, "the web server stopped");
        }
    });
    tracing::info!(%addr, "web pages served");
    Ok(RunningWeb {
        addr,
        state,
        task: Some(task),
    })
}

/// Every route. Pages behind sign-in go through [`auth::require_session`] (session,
/// role re-check, CSRF on every POST) and then a role check.
pub fn router(state: Arc<WebState>) -> Router {
    let adviser = Router::new()
        .route("/queue", get(queue::list))
        .route("/queue/{id}", get(queue::show))
        .route("/queue/{id}/answer", post(queue::answer))
        .route("/queue/{id}/dismiss", post(queue::dismiss))
        .route("/entries", get(entries::list))
        .route("/entries/export.tar", get(entries::export))
        .route("/entries/{id}", get(entries::show))
        .route(
            "/entries/{id}/edit",
            get(entries::edit_form).post(entries::edit),
        )
        .route("/entries/{id}/preview", post(entries::preview))
        .route("/try", get(entries::try_question))
        .route("/stats", get(stats::page))
        .route("/stats.json", get(stats::json))
        .route_layer(middleware::from_fn(auth::require_adviser));
    let organiser = Router::new()
        .route(
            "/announcements",
            get(organise::announcements).post(organise::new_announcement),
        )
        .route(
            "/announcements/{id}",
            get(organise::announcement).post(organise::edit_announcement),
        )
        .route(
            "/announcements/{id}/cancel",
            post(organise::cancel_announcement),
        )
        .route("/events", get(organise::events).post(organise::new_event))
        .route("/events/{id}/delete", post(organise::delete_event))
        .route_layer(middleware::from_fn(auth::require_organiser));
    let signed_in = Router::new()
        .route("/", get(page::home))
        .route("/logout", post(auth::logout))
        .route("/events/{id}/ics", get(organise::ics))
        .merge(adviser)
        .merge(organiser)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_session,
        ));
    Router::new()
        .route("/login", get(auth::login))
        .route("/auth/discord", get(auth::discord_start))
        .route("/auth/callback", get(auth::discord_callback))
        .route("/static/style.css", get(style))
        .route("/static/app.js", get(script))
        .merge(signed_in)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn not_found() -> WebError {
    WebError::NotFound
}

/// Headers on every response: no framing, no sniffing, no outside scripts or styles,
/// no referrer (a sign-in link carries its token in the address).
async fn security_headers(
    request: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("static/style.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        include_str!("static/app.js"),
    )
}

/// A store error as a page: an outage is the "database is not answering" page, the
/// rest is logged and shown as a general error.
impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        match e {
            StoreError::NotFound { .. } => WebError::NotFound,
            e if e.is_unavailable() => WebError::Outage,
            e => WebError::internal(&e),
        }
    }
}
