//! The pages in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `.ci/run`) driven through chromedriver, once with
//! JavaScript on and once with it off, on SQLite and on PostgreSQL.
//!
//! Without chromedriver the tests say so and pass on a developer's machine, and fail
//! when `CI` is set, so CI cannot go green without a browser. With
//! `ANBUD_SCREENSHOTS=DIR` they write a screenshot of each page there (the pictures in
//! docs/web.md come from `ANBUD_SCREENSHOTS=docs/web cargo test --test it browser`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use thirtyfour::prelude::*;
use thirtyfour::session::http::{Body, HttpClient};

use super::Site;
use crate::store::TestDb;

/// An off-topic question the bot abstains on.
const OFF_TOPIC: &str = "Hvor kan jeg parkere ved rådhuset i Moss?";
const WAIT: Duration = Duration::from_secs(10);

/// chromedriver on a free port, stopped with the test.
struct Driver {
    child: Child,
    url: String,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// chromedriver, or `None` (with a note) when it is not installed on a developer's
/// machine. Under CI a missing driver fails the test.
async fn start_driver() -> Option<Driver> {
    let Some(path) = chromedriver() else {
        if std::env::var_os("CI").is_some() {
            panic!("chromedriver is not installed (apt-get install chromium chromium-driver); the browser tests must run in CI");
        }
        eprintln!(
            "skipped: chromedriver is not installed (apt-get install chromium chromium-driver)"
        );
        return None;
    };
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    while reqwest::get(format!("{url}/status")).await.is_err() {
        assert!(started.elapsed() < WAIT, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(Driver {
        child,
        url,
        _profile: tempfile::tempdir().unwrap(),
    })
}

/// thirtyfour's HTTP client trait over the reqwest the crate already uses.
#[derive(Clone)]
struct Reqwest(reqwest::Client);

#[async_trait::async_trait]
impl HttpClient for Reqwest {
    async fn send(
        &self,
        request: http::Request<Body<'_>>,
    ) -> WebDriverResult<http::Response<Bytes>> {
        let (parts, body) = request.into_parts();
        let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap();
        let mut req = self.0.request(method, parts.uri.to_string());
        for (key, value) in parts.headers.iter() {
            req = req.header(key.as_str(), value.as_bytes());
        }
        req = match body {
            Body::Empty => req,
            Body::Json(json) => req.json(json),
        };
        let response = req
            .send()
            .await
            .map_err(|e| WebDriverError::HttpError(e.to_string()))?;
        let mut builder = http::Response::builder().status(response.status().as_u16());
        for (key, value) in response.headers() {
            builder = builder.header(key.as_str(), value.as_bytes());
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| WebDriverError::HttpError(e.to_string()))?;
        builder
            .body(body)
            .map_err(|e| WebDriverError::HttpError(e.to_string()))
    }

    async fn new(&self) -> Arc<dyn HttpClient> {
        Arc::new(Reqwest(reqwest::Client::new()))
    }
}

async fn browser(driver: &Driver, javascript: bool) -> WebDriver {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary("/usr/bin/chromium").unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1200,900",
        "--lang=en",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.add_arg(&format!(
        "--user-data-dir={}",
        driver._profile.path().display()
    ))
    .unwrap();
    if !javascript {
        caps.add_experimental_option(
            "prefs",
            serde_json::json!({ "profile.managed_default_content_settings.javascript": 2 }),
        )
        .unwrap();
    }
    WebDriver::builder(&driver.url, caps)
        .client(Reqwest(reqwest::Client::new()))
        .await
        .expect("a Chromium session")
}

/// Waits until `check` holds on the current page's source.
async fn wait_for_source(driver: &WebDriver, what: &str, check: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let source = driver.source().await.unwrap();
        if check(&source) {
            return source;
        }
        assert!(
            started.elapsed() < WAIT,
            "waited for {what}; the page is:\n{source}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn screenshot(driver: &WebDriver, name: &str) {
    let Some(dir) = std::env::var_os("ANBUD_SCREENSHOTS") else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    driver
        .screenshot(&dir.join(format!("{name}.png")))
        .await
        .unwrap();
}

/// Sign in with the one-time link, answer a queued question and see it leave the
/// queue, edit an entry and see the preview, see the chart, schedule an announcement,
/// see the events.
async fn the_pages_work_in_a_browser(db: TestDb, javascript: bool) {
    let Some(chrome) = start_driver().await else {
        return;
    };
    let site = Site::start(db, |_| {}).await;
    site.app
        .ask("Hva er ESPD?", anbud::store::Origin::terminal())
        .await;
    site.app
        .ask(
            "What is a framework agreement?",
            anbud::store::Origin::terminal(),
        )
        .await;
    // A week of counts, so the chart has something to show.
    for days_ago in 1..=6u32 {
        let at = chrono::Utc::now() - chrono::TimeDelta::days(i64::from(days_ago));
        for n in 0..(3 + days_ago % 4) {
            site.store()
                .record_question_asked_at(n % 3 != 0, anbud::knowledge::Lang::Nb, at)
                .await
                .unwrap();
        }
    }
    let id = site.queue_question(OFF_TOPIC).await;
    site.queue_question("<script>alert('x')</script> Kan jeg sende faktura på papir?")
        .await;
    let driver = browser(&chrome, javascript).await;
    let shots = javascript; // one set of pictures is enough

    // Sign in: the link lands on the queue and leaves no token in the address bar.
    driver.goto(site.web.login_url()).await.unwrap();
    let url = driver.current_url().await.unwrap();
    assert_eq!(url.path(), "/queue");
    assert!(url.query().is_none(), "{url}");
    let source = driver.source().await.unwrap();
    assert!(source.contains(OFF_TOPIC), "{source}");
    // The script tag in a question is text on the page.
    let cell = driver
        .find(By::XPath(
            "//td[contains(., \"<script>alert('x')</script>\")]",
        ))
        .await;
    assert!(cell.is_ok(), "the question shows as typed");
    if shots {
        screenshot(&driver, "queue").await;
    }

    // Answer the question: it leaves the queue and its askers are told.
    driver
        .find(By::LinkText(OFF_TOPIC))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        driver.current_url().await.unwrap().path(),
        format!("/queue/{}", id.0)
    );
    driver
        .find(By::Id("answer"))
        .await
        .unwrap()
        .send_keys("Spør kommunen om parkering.")
        .await
        .unwrap();
    if shots {
        screenshot(&driver, "queue-item").await;
    }
    driver
        .find(By::XPath("//button[text()='Send answer']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let source = wait_for_source(&driver, "the answered notice", |s| {
        s.contains(&format!("Answered #{}", id.0))
    })
    .await;
    assert!(!source.contains(OFF_TOPIC), "the item left the queue");
    assert_eq!(site.store().pending_outbox(10).await.unwrap().len(), 1);

    // Edit an entry: the preview shows the reply as suppliers will see it.
    driver
        .goto(format!("{}/entries/espd/edit?lang=nb", site.base))
        .await
        .unwrap();
    let body = driver.find(By::Id("body")).await.unwrap();
    body.clear().await.unwrap();
    body.send_keys("ESPD er et **egenerklæringsskjema** (forhåndsvist).")
        .await
        .unwrap();
    let edit_url = driver.current_url().await.unwrap();
    if javascript {
        // Live: the preview follows the typing without a page load.
        wait_for_source(&driver, "the live preview", |s| {
            s.contains("<strong>egenerklæringsskjema</strong>")
        })
        .await;
        assert_eq!(driver.current_url().await.unwrap(), edit_url);
    } else {
        // Without a script nothing changes until Preview is pressed.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(!driver
            .source()
            .await
            .unwrap()
            .contains("<strong>egenerklæringsskjema</strong>"));
        driver
            .find(By::XPath("//button[@value='preview']"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let source = wait_for_source(&driver, "the preview", |s| {
            s.contains("<strong>egenerklæringsskjema</strong>")
        })
        .await;
        assert!(source.contains("(forhåndsvist)"), "what was typed is kept");
    }
    assert!(
        driver.source().await.unwrap().contains("No problems."),
        "kb lint is content"
    );
    if shots {
        screenshot(&driver, "entry-edit").await;
    }
    driver
        .find(By::XPath("//button[@value='save']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_source(&driver, "the saved notice", |s| {
        s.contains("Saved the nb version")
    })
    .await;
    assert!(site
        .app
        .answer_only("Hva er ESPD?")
        .entry
        .unwrap()
        .body_text()
        .contains("(forhåndsvist)"));
    if shots {
        screenshot(&driver, "entry").await;
    }

    // The knowledge list and "try a question".
    driver.goto(format!("{}/entries", site.base)).await.unwrap();
    if shots {
        screenshot(&driver, "entries").await;
    }
    driver
        .find(By::Id("try-q"))
        .await
        .unwrap()
        .send_keys("Hva er en rammeavtale?")
        .await
        .unwrap();
    driver
        .find(By::XPath("//form[@action='/try']//button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The list page names every entry too: wait for the result page's own table, or
    // the next `goto` can race the form's navigation.
    wait_for_source(&driver, "the candidates", |s| {
        s.contains("Top candidates") && s.contains("framework-agreements")
    })
    .await;
    if shots {
        screenshot(&driver, "try").await;
    }

    // The chart.
    driver
        .goto(format!("{}/stats?days=7", site.base))
        .await
        .unwrap();
    wait_for_source(&driver, "the statistics page", |s| {
        s.contains("svg class=\"chart\"")
    })
    .await;
    let chart = driver.find(By::Css("svg.chart")).await.unwrap();
    assert!(chart.is_displayed().await.unwrap());
    let bars = driver
        .find_all(By::Css("svg.chart rect.answered"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 7, "a bar for each of the last seven days");
    let source = driver.source().await.unwrap();
    assert!(
        source.contains("4 questions, 2 answered, 2 not answered"),
        "{source}"
    );
    if shots {
        screenshot(&driver, "stats").await;
    }

    // Announcements: preview, then schedule.
    driver
        .goto(format!("{}/announcements", site.base))
        .await
        .unwrap();
    driver
        .find(By::Id("channel"))
        .await
        .unwrap()
        .send_keys("123456789012345678")
        .await
        .unwrap();
    driver
        .find(By::Id("text"))
        .await
        .unwrap()
        .send_keys("Påmeldingen til **leverandørkonferansen** er åpen.")
        .await
        .unwrap();
    driver
        .find(By::Id("at"))
        .await
        .unwrap()
        .send_keys("2099-11-04 09:00")
        .await
        .unwrap();
    driver
        .find(By::XPath("//button[@value='preview']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_source(&driver, "the announcement preview", |s| {
        s.contains("posted exactly like this")
    })
    .await;
    if shots {
        screenshot(&driver, "announcements").await;
    }
    driver
        .find(By::XPath("//button[@value='schedule']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_source(&driver, "the scheduled notice", |s| {
        s.contains("Scheduled announcement #1")
    })
    .await;
    assert_eq!(
        site.store().list_announcements(None).await.unwrap().len(),
        1
    );

    // Events: add one; it is listed with its calendar file.
    driver.goto(format!("{}/events", site.base)).await.unwrap();
    for (field, value) in [
        ("title", "Leverandørkonferansen 2099"),
        ("start", "2099-02-10 09:00"),
        ("end", "2099-02-10 15:30"),
        ("venue", "Thon Hotel Ski"),
    ] {
        driver
            .find(By::Id(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    driver
        .find(By::XPath("//button[text()='Add event']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_source(&driver, "the added event", |s| {
        s.contains("Added event event-1")
    })
    .await;
    driver
        .find(By::XPath("//a[@href='/events/event-1/ics']"))
        .await
        .unwrap();
    if shots {
        screenshot(&driver, "events").await;
    }

    // Sign out: the pages send the browser back to sign-in.
    driver
        .find(By::XPath("//button[text()='Sign out']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_source(&driver, "the sign-in page", |s| {
        s.contains("<h1>Sign in</h1>")
    })
    .await;
    if shots {
        screenshot(&driver, "sign-in").await;
    }
    driver.goto(format!("{}/queue", site.base)).await.unwrap();
    assert_eq!(driver.current_url().await.unwrap().path(), "/login");
    driver.quit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_with_javascript() {
    the_pages_work_in_a_browser(TestDb::sqlite().await, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_without_javascript() {
    the_pages_work_in_a_browser(TestDb::sqlite().await, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_with_javascript() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    the_pages_work_in_a_browser(db, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_without_javascript() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    the_pages_work_in_a_browser(db, false).await;
}
