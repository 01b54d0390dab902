//! Who may use the pages.
//!
//! - **One-time link** (local use, like a notebook server): `anbud web` prints
//!   `login: http://ADDR/login?token=…`. The link works once and gives an adviser and
//!   organiser session.
//! - **Sign in with Discord** (OAuth2 authorisation code flow, scopes `identify
//!   guilds.members.read`): the member's roles in `web.discord_guild` decide adviser
//!   (`discord.adviser_roles`) or organiser (`discord.organiser_roles`). They are read
//!   at sign-in and again when they are older than [`ROLE_RECHECK`]; a member who lost
//!   the roles or left the server is signed out. The client secret comes from the
//!   environment only.
//!
//! Sessions are server-side (`web_sessions`, keyed by the SHA-256 of the cookie's
//! random token); the cookie is `HttpOnly`, `SameSite=Lax`, and `Secure` when
//! `web.public_url` is https. Every POST must carry the session's CSRF token
//! ([`require_session`] checks it before any handler runs). Sign-in attempts are rate
//! limited per client address. Sign-in and sign-out are written to the audit log with
//! the person's name; every other action is written by the store function it calls.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use chrono::{TimeDelta, Utc};
use maud::html;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::page::{layout, url_encode, Nav, WebError};
use super::{WebState, BODY_LIMIT};
use crate::config::WebSettings;
use crate::discord::rate_limit::RateLimiter;
use crate::store::NewWebSession;

/// The session cookie.
const SESSION_COOKIE: &str = "anbud_session";
/// The cookie holding the OAuth2 `state` between the redirect and the callback.
const OAUTH_COOKIE: &str = "anbud_oauth";
/// Roles read from Discord are trusted this long, then read again.
pub const ROLE_RECHECK: Duration = Duration::from_secs(10 * 60);
/// A session's last use is written at most this often.
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);
/// The scopes asked of Discord: who the person is, and their roles in our server.
const SCOPES: &str = "identify guilds.members.read";

/// What a person may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The queue, the knowledge, the statistics.
    Adviser,
    /// Announcements and events.
    Organiser,
}

impl Role {
    pub fn plural(self) -> &'static str {
        match self {
            Role::Adviser => "advisers",
            Role::Organiser => "organisers",
        }
    }
}

/// The signed-in person, as handlers see it.
#[derive(Debug, Clone)]
pub struct Session {
    token_hash: String,
    /// The name shown and written to the audit log.
    pub person: String,
    pub adviser: bool,
    pub organiser: bool,
    /// The value of every form's hidden `csrf` field.
    pub csrf_token: String,
}

impl Session {
    pub fn has(&self, role: Role) -> bool {
        match role {
            Role::Adviser => self.adviser,
            Role::Organiser => self.organiser,
        }
    }
}

/// Sign-in state of one server: the one-time links it printed, the rate limit, and
/// Discord's settings.
pub(crate) struct AuthState {
    /// SHA-256 of each unused one-time token → when it stops working.
    login_tokens: Mutex<HashMap<String, Instant>>,
    limiter: RateLimiter,
    http: reqwest::Client,
    settings: WebSettings,
    client_secret: Option<SecretString>,
    adviser_roles: Vec<u64>,
    organiser_roles: Vec<u64>,
}

impl AuthState {
    pub(crate) fn new(
        settings: &crate::config::Settings,
        client_secret: Option<SecretString>,
    ) -> AuthState {
        AuthState {
            login_tokens: Mutex::new(HashMap::new()),
            limiter: RateLimiter::per_minute(settings.web.sign_in_per_minute),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            settings: settings.web.clone(),
            client_secret,
            adviser_roles: settings.discord.adviser_roles.clone(),
            organiser_roles: settings.discord.organiser_roles.clone(),
        }
    }

    /// Whether "Sign in with Discord" is offered: a client id, a guild, a public
    /// address and the secret are all there.
    pub(crate) fn discord_enabled(&self) -> bool {
        !self.settings.discord_client_id.trim().is_empty()
            && self.settings.discord_guild.is_some()
            && !self.settings.public_url.is_empty()
            && self.client_secret.is_some()
    }

    fn session_length(&self) -> TimeDelta {
        TimeDelta::hours(i64::from(self.settings.session_hours.max(1)))
    }

    /// A new one-time sign-in token.
    pub(crate) fn issue_login_token(&self) -> String {
        let token = random_token();
        let until = Instant::now() + self.session_length().to_std().unwrap_or(Duration::MAX);
        let mut tokens = self.login_tokens.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        tokens.retain(|_, until| *until > now);
        tokens.insert(hash_token(&token), until);
        token
    }

    /// Uses a one-time token up: true the first time, false ever after.
    fn take_login_token(&self, token: &str) -> bool {
        let mut tokens = self.login_tokens.lock().unwrap_or_else(|p| p.into_inner());
        matches!(tokens.remove(&hash_token(token)), Some(until) if until > Instant::now())
    }

    /// Counts a sign-in attempt from `addr`; false when over the limit.
    fn allow_attempt(&self, addr: SocketAddr) -> bool {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        addr.ip().hash(&mut hasher);
        self.limiter.allow(hasher.finish(), Instant::now())
    }

    fn cookie(&self, name: &str, value: &str, path: &str, max_age: Option<i64>) -> HeaderValue {
        let secure = if self.settings.public_url.starts_with("https://") {
            "; Secure"
        } else {
            ""
        };
        let max_age = max_age
            .map(|s| format!("; Max-Age={s}"))
            .unwrap_or_default();
        let text = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax{secure}{max_age}");
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    fn redirect_uri(&self) -> String {
        format!(
            "{}/auth/callback",
            self.settings.public_url.trim_end_matches('/')
        )
    }

    /// The person's roles in the guild, read with their access token.
    async fn member_roles(
        &self,
        access_token: &str,
    ) -> Result<(bool, bool, Option<String>), RoleCheck> {
        let guild = self.settings.discord_guild.ok_or(RoleCheck::NotMember)?;
        let url = format!(
            "{}/users/@me/guilds/{guild}/member",
            self.settings.discord_api_url.trim_end_matches('/')
        );
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| RoleCheck::Unreachable(e.to_string()))?;
        match response.status() {
            s if s.is_success() => {}
            StatusCode::NOT_FOUND | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(RoleCheck::NotMember)
            }
            s => return Err(RoleCheck::Unreachable(format!("Discord answered {s}"))),
        }
        let member: Member = response
            .json()
            .await
            .map_err(|e| RoleCheck::Unreachable(e.to_string()))?;
        let roles: Vec<u64> = member.roles.iter().filter_map(|r| r.parse().ok()).collect();
        let adviser = roles.iter().any(|r| self.adviser_roles.contains(r));
        let organiser = roles.iter().any(|r| self.organiser_roles.contains(r));
        Ok((adviser, organiser, member.nick))
    }
}

/// Why roles could not be confirmed.
#[derive(Debug)]
enum RoleCheck {
    /// Not a member of the guild (or the token was revoked).
    NotMember,
    /// Discord could not be asked.
    Unreachable(String),
}

#[derive(Debug, Deserialize)]
struct Member {
    #[serde(default)]
    roles: Vec<String>,
    nick: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DiscordUser {
    id: String,
    username: String,
    global_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
}

/// 32 random bytes from the operating system, as hex.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS's random source failing is not something to recover from.
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the database keeps of a token.
pub(crate) fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares without stopping at the first difference.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

fn wants_json(headers: &HeaderMap, path: &str) -> bool {
    path.ends_with(".json")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| {
                accept.contains("application/json") && !accept.contains("text/html")
            })
}

/// Only a path on this site may be a place to go after sign-in.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
        _ => "/".to_string(),
    }
}

/// The pages behind sign-in: loads the session, reads the roles again from Discord
/// when they are older than [`ROLE_RECHECK`], checks the CSRF token of every POST,
/// and hands the [`Session`] to the handler.
pub async fn require_session(
    State(state): State<Arc<WebState>>,
    request: Request,
    next: Next,
) -> Result<Response, WebError> {
    // Owned, so nothing borrows the request (whose body is not Sync) across an await.
    let json = wants_json(request.headers(), request.uri().path());
    let next_path = if request.method() == Method::GET {
        request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let not_signed_in = || WebError::NotSignedIn {
        json,
        next: next_path.clone(),
    };
    let token = cookie_value(request.headers(), SESSION_COOKIE).map(str::to_owned);
    let Some(token) = token else {
        return Err(not_signed_in());
    };
    let token_hash = hash_token(&token);
    let store = state.store()?;
    let Some(stored) = store.web_session(&token_hash).await? else {
        return Err(not_signed_in());
    };
    let mut session = Session {
        token_hash: token_hash.clone(),
        person: stored.person.clone(),
        adviser: stored.adviser,
        organiser: stored.organiser,
        csrf_token: stored.csrf_token.clone(),
    };
    let now = Utc::now();
    let stale_roles =
        now - stored.roles_checked_at > TimeDelta::from_std(ROLE_RECHECK).unwrap_or(TimeDelta::MAX);
    if stored.discord_user_id.is_some() && stale_roles {
        let checked = match stored.access_token.as_deref() {
            Some(access) => state.auth.member_roles(access).await,
            None => Err(RoleCheck::NotMember),
        };
        match checked {
            Ok((adviser, organiser, _)) if adviser || organiser => {
                store
                    .update_web_session_roles(&token_hash, adviser, organiser)
                    .await?;
                session.adviser = adviser;
                session.organiser = organiser;
            }
            Ok(_) | Err(RoleCheck::NotMember) => {
                store
                    .end_web_session(&token_hash, Some(&stored.person), "roles gone in Discord")
                    .await?;
                return Err(not_signed_in());
            }
            Err(RoleCheck::Unreachable(why)) => {
                // Fail closed: without a fresh answer from Discord the roles are not trusted.
                tracing::warn!(%why, "could not check a web session's roles with Discord");
                store
                    .end_web_session(
                        &token_hash,
                        Some(&stored.person),
                        "roles could not be checked",
                    )
                    .await?;
                return Err(WebError::SignInRefused(
                    "Your roles could not be checked with Discord just now, so you were signed out. Sign in again in a moment.".into(),
                ));
            }
        }
    }
    if now - stored.last_seen_at > TOUCH_EVERY {
        store
            .touch_web_session(&token_hash, now + state.auth.session_length())
            .await?;
    }
    let request = if request.method() == Method::POST {
        check_csrf(request, &session.csrf_token).await?
    } else {
        request
    };
    let mut request = request;
    request.extensions_mut().insert(session);
    Ok(next.run(request).await)
}

/// Reads the body of a POST, finds its `csrf` field (or the `X-CSRF-Token` header), and
/// gives the request back with the same body when it matches.
async fn check_csrf(request: Request, expected: &str) -> Result<Request, WebError> {
    let header_token = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| WebError::Csrf)?;
    let form_token = form_urlencoded_value(&bytes, "csrf");
    let given = header_token.or(form_token).ok_or(WebError::Csrf)?;
    if !same(&given, expected) {
        return Err(WebError::Csrf);
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn form_urlencoded_value(body: &[u8], key: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

async fn require_role(role: Role, request: Request, next: Next) -> Result<Response, WebError> {
    let allowed = request
        .extensions()
        .get::<Session>()
        .is_some_and(|s| s.has(role));
    if !allowed {
        let person = request
            .extensions()
            .get::<Session>()
            .map(|s| s.person.clone());
        tracing::info!(?person, path = %request.uri().path(), "refused: needs the {} role", role.plural());
        return Err(WebError::Forbidden(role));
    }
    Ok(next.run(request).await)
}

/// The adviser pages' guard.
pub async fn require_adviser(request: Request, next: Next) -> Result<Response, WebError> {
    require_role(Role::Adviser, request, next).await
}

/// The organiser pages' guard.
pub async fn require_organiser(request: Request, next: Next) -> Result<Response, WebError> {
    require_role(Role::Organiser, request, next).await
}

#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    token: Option<String>,
    next: Option<String>,
}

/// `/login`: with `token`, uses a one-time link; without, the sign-in page.
pub async fn login(
    State(state): State<Arc<WebState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let next = local_path(query.next.as_deref());
    let Some(token) = query.token.filter(|t| !t.is_empty()) else {
        return Ok(sign_in_page(&state, &next).into_response());
    };
    if !state.auth.allow_attempt(addr) {
        return Err(WebError::TooManySignIns);
    }
    if !state.auth.take_login_token(&token) {
        tracing::warn!(%addr, "refused a used or unknown one-time sign-in link");
        return Err(WebError::SignInRefused(
            "This sign-in link has been used already or is not valid. Each link works once: start `anbud web` again for a new one.".into(),
        ));
    }
    let person = format!("{} (local)", crate::cli::actor(&None));
    start_session(
        &state,
        NewWebSession {
            person,
            discord_user_id: None,
            adviser: true,
            organiser: true,
            csrf_token: random_token(),
            access_token: None,
        },
        &next,
    )
    .await
}

fn sign_in_page(state: &WebState, next: &str) -> axum::response::Html<String> {
    let body = html! {
        h1 { "Sign in" }
        @if state.auth.discord_enabled() {
            p { "Advisers and organisers of the programme sign in with their Discord account. Your roles in the programme's Discord server decide what you can do." }
            p { a.button href={ "/auth/discord?next=" (url_encode(next)) } { "Sign in with Discord" } }
        } @else {
            p { "Sign in with the link that " code { "anbud web" } " printed when it started (" code { "login: http://…/login?token=…" } "). Each link works once." }
            p.muted { "Sign-in with Discord is not set up on this server (see docs/web.md)." }
        }
    };
    layout("Sign in", None, Nav::None, body)
}

async fn start_session(
    state: &WebState,
    session: NewWebSession,
    next: &str,
) -> Result<Response, WebError> {
    let token = random_token();
    let store = state.store()?;
    store
        .create_web_session(
            &hash_token(&token),
            &session,
            Utc::now() + state.auth.session_length(),
        )
        .await?;
    tracing::info!(person = %session.person, "signed in to the web pages");
    let mut response = Redirect::to(&local_path(Some(next))).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        state.auth.cookie(SESSION_COOKIE, &token, "/", None),
    );
    response.headers_mut().append(
        header::SET_COOKIE,
        state.auth.cookie(OAUTH_COOKIE, "", "/auth", Some(0)),
    );
    Ok(response)
}

/// `POST /logout`.
pub async fn logout(
    State(state): State<Arc<WebState>>,
    Extension(session): Extension<Session>,
) -> Result<Response, WebError> {
    state
        .store()?
        .end_web_session(&session.token_hash, Some(&session.person), "signed out")
        .await?;
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        state.auth.cookie(SESSION_COOKIE, "", "/", Some(0)),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `/auth/discord`: off to Discord's consent page, with a `state` kept in a cookie.
pub async fn discord_start(
    State(state): State<Arc<WebState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Query(query): Query<StartQuery>,
) -> Result<Response, WebError> {
    if !state.auth.discord_enabled() {
        return Err(WebError::NotFound);
    }
    if !state.auth.allow_attempt(addr) {
        return Err(WebError::TooManySignIns);
    }
    let oauth_state = random_token();
    let next = local_path(query.next.as_deref());
    let settings = &state.auth.settings;
    let url = format!(
        "{}?response_type=code&client_id={}&scope={}&state={}&redirect_uri={}&prompt=none",
        settings.discord_authorize_url,
        url_encode(settings.discord_client_id.trim()),
        url_encode(SCOPES),
        oauth_state,
        url_encode(&state.auth.redirect_uri()),
    );
    let mut response = Redirect::to(&url).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        state.auth.cookie(
            OAUTH_COOKIE,
            &format!("{oauth_state}.{}", url_encode(&next)),
            "/auth",
            Some(600),
        ),
    );
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `/auth/callback`: Discord sends the person back with a code; exchange it, read who
/// they are and their roles, and start a session when they have a role.
pub async fn discord_callback(
    State(state): State<Arc<WebState>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Result<Response, WebError> {
    if !state.auth.discord_enabled() {
        return Err(WebError::NotFound);
    }
    if !state.auth.allow_attempt(addr) {
        return Err(WebError::TooManySignIns);
    }
    if query.error.is_some() {
        return Err(WebError::SignInRefused(
            "Discord did not sign you in (the request was declined).".into(),
        ));
    }
    let cookie = cookie_value(&headers, OAUTH_COOKIE).unwrap_or("");
    let (expected, next) = cookie.split_once('.').unwrap_or((cookie, "/"));
    let next = percent_decode(next);
    let (Some(code), Some(given)) = (query.code, query.state) else {
        return Err(WebError::SignInRefused(
            "The answer from Discord was incomplete.".into(),
        ));
    };
    if expected.is_empty() || !same(expected, &given) {
        return Err(WebError::SignInRefused(
            "The sign-in did not start from this browser, or took too long. Try again.".into(),
        ));
    }
    let access_token = exchange_code(&state.auth, &code).await.map_err(|e| {
        tracing::warn!(error = %e, "Discord sign-in: the code could not be exchanged");
        WebError::SignInRefused("Discord did not confirm the sign-in. Try again.".into())
    })?;
    let user = fetch_user(&state.auth, &access_token).await.map_err(|e| {
        tracing::warn!(error = %e, "Discord sign-in: who the person is could not be read");
        WebError::SignInRefused("Discord did not say who you are. Try again.".into())
    })?;
    let (adviser, organiser, nick) = match state.auth.member_roles(&access_token).await {
        Ok(roles) => roles,
        Err(RoleCheck::NotMember) => (false, false, None),
        Err(RoleCheck::Unreachable(why)) => {
            tracing::warn!(%why, "Discord sign-in: roles could not be read");
            return Err(WebError::SignInRefused(
                "Your roles could not be read from Discord just now. Try again in a moment.".into(),
            ));
        }
    };
    let person = nick
        .or(user.global_name)
        .unwrap_or_else(|| user.username.clone());
    if !adviser && !organiser {
        tracing::info!(user = %user.id, "Discord sign-in refused: no adviser or organiser role");
        if let Ok(store) = state.store() {
            let _ = store
                .audit(
                    &person,
                    "web_sign_in_refused",
                    &user.id,
                    Some("no adviser or organiser role"),
                )
                .await;
        }
        return Err(WebError::SignInRefused(
            "You are not an adviser or organiser in the programme's Discord server, so there is nothing here for you yet. Ask an organiser for the role.".into(),
        ));
    }
    start_session(
        &state,
        NewWebSession {
            person,
            discord_user_id: Some(user.id),
            adviser,
            organiser,
            csrf_token: random_token(),
            access_token: Some(access_token),
        },
        &next,
    )
    .await
}

async fn exchange_code(auth: &AuthState, code: &str) -> Result<String, reqwest::Error> {
    let secret = auth
        .client_secret
        .as_ref()
        .map(|s| s.expose_secret().to_string())
        .unwrap_or_default();
    let url = format!(
        "{}/oauth2/token",
        auth.settings.discord_api_url.trim_end_matches('/')
    );
    let redirect_uri = auth.redirect_uri();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
        ("client_id", auth.settings.discord_client_id.trim()),
        ("client_secret", secret.as_str()),
    ];
    let response: TokenResponse = auth
        .http
        .post(url)
        .form(&form)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(response.access_token)
}

async fn fetch_user(auth: &AuthState, access_token: &str) -> Result<DiscordUser, reqwest::Error> {
    let url = format!(
        "{}/users/@me",
        auth.settings.discord_api_url.trim_end_matches('/')
    );
    auth.http
        .get(url)
        .bearer_auth(access_token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_places_to_go() {
        assert_eq!(local_path(Some("/queue?status=open")), "/queue?status=open");
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("https://evil.example")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), a);
        assert!(same(&a, &a.clone()) && !same(&a, &random_token()) && !same("a", "ab"));
    }

    #[test]
    fn percent_decoding_undoes_url_encode() {
        let path = "/queue?q=sjøl & co";
        assert_eq!(percent_decode(&url_encode(path)), path);
    }
}
