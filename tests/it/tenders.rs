//! Issue 13: notices from Doffin. A fake Doffin on 127.0.0.1 serves the recorded
//! responses in tests/fixtures/doffin/ (the documented format); the real `anbud` binary
//! syncs from it, lists with every filter and answers questions with the notices. The
//! store's part (one row per procedure, the sync's lease, alerts exactly once) runs on
//! both databases.

mod cli;
mod discord;
mod store;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// The key the tests give anbud; it must never appear in its output or logs.
pub const TEST_KEY: &str = "test-doffin-key-5f1e9c";

/// A recorded response from tests/fixtures/doffin/.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/doffin")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What the fake answers next.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Scripted {
    pub fn ok(name: &str) -> Scripted {
        Scripted {
            status: 200,
            retry_after: None,
            body: fixture(name),
        }
    }
}

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: String,
    pub key: Option<String>,
}

#[derive(Default)]
struct FakeState {
    script: Mutex<VecDeque<Scripted>>,
    seen: Mutex<Vec<Seen>>,
}

/// A fake Doffin public API: answers `GET /v2/search` from a script (then with empty
/// pages) and records every request.
pub struct FakeDoffin {
    pub url: String,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

async fn search(State(state): State<Arc<FakeState>>, uri: Uri, headers: HeaderMap) -> Response {
    state.seen.lock().unwrap().push(Seen {
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        key: headers
            .get("Ocp-Apim-Subscription-Key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    let next = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| Scripted::ok("empty.json"));
    let mut response = (
        StatusCode::from_u16(next.status).unwrap(),
        [("content-type", "application/json")],
        next.body,
    )
        .into_response();
    if let Some(wait) = next.retry_after {
        response
            .headers_mut()
            .insert("retry-after", wait.parse().unwrap());
    }
    response
}

impl FakeDoffin {
    pub async fn start() -> FakeDoffin {
        let state = Arc::new(FakeState::default());
        let app = axum::Router::new()
            .route("/v2/search", axum::routing::get(search))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDoffin { url, state, task }
    }

    /// Answers to give next, in order.
    pub fn script(&self, answers: impl IntoIterator<Item = Scripted>) {
        self.state.script.lock().unwrap().extend(answers);
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }
}

impl Drop for FakeDoffin {
    fn drop(&mut self) {
        self.task.abort();
    }
}
