//! Discord's OAuth2 endpoints, faked on 127.0.0.1: the consent page (which sends the
//! browser straight back with a code for the user chosen by the test), the token
//! exchange, `/users/@me` and `/users/@me/guilds/{guild}/member`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;

/// The client secret the fake accepts.
pub const SECRET: &str = "test-client-secret";
pub const CLIENT_ID: &str = "1100000000000000999";
pub const GUILD: u64 = 1_100_000_000_000_000_001;
pub const ADVISER_ROLE: u64 = 1_100_000_000_000_000_201;
pub const ORGANISER_ROLE: u64 = 1_100_000_000_000_000_202;

#[derive(Default)]
struct Inner {
    /// user id → (name, roles in the guild; `None`: not a member).
    users: HashMap<String, (String, Option<Vec<u64>>)>,
    /// Who the consent page signs in.
    next_user: Option<String>,
    /// Codes given out → user.
    codes: HashMap<String, String>,
    /// Member look-ups so far.
    member_calls: usize,
}

#[derive(Clone, Default)]
pub struct FakeOauth {
    inner: Arc<Mutex<Inner>>,
    pub addr: Option<SocketAddr>,
}

impl FakeOauth {
    pub async fn start() -> FakeOauth {
        let mut fake = FakeOauth::default();
        let app = Router::new()
            .route("/oauth2/authorize", get(authorize))
            .route("/api/oauth2/token", post(token))
            .route("/api/users/@me", get(me))
            .route("/api/users/@me/guilds/{guild}/member", get(member))
            .with_state(fake.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        fake.addr = Some(listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    pub fn authorize_url(&self) -> String {
        format!("http://{}/oauth2/authorize", self.addr.unwrap())
    }

    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr.unwrap())
    }

    /// Adds or changes a user: `roles` `None` means not a member of the guild.
    pub fn set_user(&self, id: &str, name: &str, roles: Option<Vec<u64>>) {
        self.inner
            .lock()
            .unwrap()
            .users
            .insert(id.into(), (name.into(), roles));
    }

    /// The user the consent page signs in next.
    pub fn sign_in_as(&self, id: &str) {
        self.inner.lock().unwrap().next_user = Some(id.into());
    }

    pub fn member_calls(&self) -> usize {
        self.inner.lock().unwrap().member_calls
    }

    /// A code for `user`, as the consent page would hand out.
    pub fn code_for(&self, user: &str) -> String {
        let code = format!("code-{user}-{}", self.inner.lock().unwrap().codes.len());
        self.inner
            .lock()
            .unwrap()
            .codes
            .insert(code.clone(), user.into());
        code
    }
}

async fn authorize(
    State(fake): State<FakeOauth>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    assert_eq!(q.get("client_id").map(String::as_str), Some(CLIENT_ID));
    assert_eq!(
        q.get("scope").map(String::as_str),
        Some("identify guilds.members.read")
    );
    assert_eq!(q.get("response_type").map(String::as_str), Some("code"));
    let user = fake
        .inner
        .lock()
        .unwrap()
        .next_user
        .clone()
        .expect("sign_in_as first");
    let code = fake.code_for(&user);
    let target = format!("{}?code={code}&state={}", q["redirect_uri"], q["state"]);
    Redirect::to(&target).into_response()
}

async fn token(
    State(fake): State<FakeOauth>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("client_secret").map(String::as_str) != Some(SECRET)
        || form.get("grant_type").map(String::as_str) != Some("authorization_code")
        || !form
            .get("redirect_uri")
            .is_some_and(|u| u.ends_with("/auth/callback"))
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let code = form.get("code").cloned().unwrap_or_default();
    let Some(user) = fake.inner.lock().unwrap().codes.remove(&code) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    Json(json!({"access_token": format!("access-{user}"), "token_type": "Bearer", "expires_in": 604800, "scope": "identify guilds.members.read"})).into_response()
}

fn bearer_user(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer access-")
        .map(str::to_owned)
}

async fn me(State(fake): State<FakeOauth>, headers: HeaderMap) -> Response {
    let Some(user) = bearer_user(&headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let name = fake
        .inner
        .lock()
        .unwrap()
        .users
        .get(&user)
        .map(|u| u.0.clone())
        .unwrap_or_default();
    Json(json!({"id": user, "username": name.to_lowercase(), "global_name": name})).into_response()
}

async fn member(
    State(fake): State<FakeOauth>,
    Path(guild): Path<u64>,
    headers: HeaderMap,
) -> Response {
    let Some(user) = bearer_user(&headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let mut inner = fake.inner.lock().unwrap();
    inner.member_calls += 1;
    match inner.users.get(&user) {
        Some((_, Some(roles))) if guild == GUILD => Json(json!({
            "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
            "nick": null,
            "user": {"id": user},
        }))
        .into_response(),
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "Unknown Guild", "code": 10004})),
        )
            .into_response(),
    }
}
