//! The web pages end to end: the real server (`anbud::web::start`) on 127.0.0.1 with a
//! fresh database (SQLite, and PostgreSQL when `ANBUD_TEST_POSTGRES_URL` is set), the
//! bundled knowledge, and Discord's OAuth2 endpoints faked on 127.0.0.1.
//!
//! - `http`: every refusal (no session, wrong role, missing CSRF token, replayed
//!   one-time link, escaped script, oversize input, database outage, rate limit) and
//!   the pages' work, over HTTP on both databases.
//! - `oauth`: "Sign in with Discord" against the fake, with the roles re-checked.
//! - `browser`: headless Chromium through chromedriver, with JavaScript on and off.
//! - `cli`: `anbud web` prints the login line, and the queue shows a question asked
//!   through `anbud chat`.

mod browser;
mod cli;
mod fake_oauth;
mod http;
mod oauth;

use anbud::app::App;
use anbud::config::Settings;
use anbud::store::{Origin, QueueItemId, Store};
use anbud::web::{self, RunningWeb};
use secrecy::SecretString;

use crate::store::TestDb;

/// A running web server on its own database.
pub struct Site {
    pub web: RunningWeb,
    pub app: App,
    pub base: String,
    /// A client that does not follow redirects, so tests see every 303.
    pub client: reqwest::Client,
    _db: TestDb,
}

/// A signed-in browser-less client: its session cookie and its forms' CSRF token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub cookie: String,
    pub csrf: String,
}

impl Site {
    /// Starts the pages on `db` with the bundled knowledge; `configure` adjusts the
    /// settings first.
    pub async fn start(db: TestDb, configure: impl FnOnce(&mut Settings)) -> Site {
        Site::start_with_secret(db, None, configure).await
    }

    pub async fn start_with_secret(
        db: TestDb,
        secret: Option<&str>,
        configure: impl FnOnce(&mut Settings),
    ) -> Site {
        crate::init_test_logging();
        let mut settings = Settings::defaults();
        settings.knowledge.dir = crate::support::knowledge_dir();
        settings.database.url = db.url.clone();
        configure(&mut settings);
        let app = App::open(&settings).await.expect("open the app");
        let web = web::start_with_secret(
            app.clone(),
            "127.0.0.1:0".parse().unwrap(),
            secret.map(|s| SecretString::from(s.to_string())),
        )
        .await
        .expect("start the web server");
        let base = web.url();
        Site {
            web,
            app,
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            _db: db,
        }
    }

    pub fn store(&self) -> Store {
        self.app.store().expect("the test database is connected")
    }

    /// Signs in with a fresh one-time link and reads the CSRF token from a page.
    pub async fn sign_in(&self) -> SignedIn {
        let response = self.client.get(self.web.login_url()).send().await.unwrap();
        assert_eq!(response.status(), 303, "sign-in answered {response:?}");
        let cookie = session_cookie(&response).expect("a session cookie");
        let page = self
            .get("/queue", Some(&cookie))
            .await
            .text()
            .await
            .unwrap();
        SignedIn {
            csrf: csrf_of(&page),
            cookie,
        }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(cookie) = cookie {
            request = request.header("cookie", format!("anbud_session={cookie}"));
        }
        request.send().await.unwrap()
    }

    pub async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .header("cookie", format!("anbud_session={cookie}"))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Asks through the answering path as the terminal chat does; the bot abstains on
    /// this kind of question, so it lands in the queue. Returns the item.
    pub async fn queue_question(&self, question: &str) -> QueueItemId {
        let asked = self.app.ask(question, Origin::terminal()).await;
        assert!(!asked.reply.answered(), "the bot answered {question:?}");
        asked.queue_item.expect("stored in the queue").item_id
    }
}

/// The session token from a response's `Set-Cookie`.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("anbud_session="))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .find(|v| !v.is_empty())
}

/// The CSRF token in a page's forms.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// Runs each test function on SQLite and on PostgreSQL (when configured).
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::store::TestDb::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = crate::store::TestDb::postgres().await else { return };
                    super::$name(db).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_databases;
