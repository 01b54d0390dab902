//! `anbud web` as a person runs it: it prints `login: http://ADDR/login?token=…`, and
//! the queue behind that link shows a question asked through `anbud chat` on the same
//! database.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anbud_web_prints_the_login_line_and_shows_a_question_from_chat() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("anbud.sqlite").display());
    let question = "Hvor kan jeg parkere ved rådhuset i Moss?";
    let mut chat = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--database", &database, "chat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    writeln!(chat.stdin.take().unwrap(), "{question}").unwrap();
    assert!(chat.wait().unwrap().success());

    let mut web = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args(["--database", &database, "web", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(web.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let link = line
        .trim()
        .strip_prefix("login: ")
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    assert!(
        link.starts_with("http://127.0.0.1:") && link.contains("/login?token="),
        "{link}"
    );

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let signed_in = client.get(&link).send().await.unwrap();
    assert_eq!(signed_in.status(), 303);
    let cookie = super::session_cookie(&signed_in).unwrap();
    let base = link.split("/login").next().unwrap();
    let page = client
        .get(format!("{base}/queue"))
        .header("cookie", format!("anbud_session={cookie}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let _ = web.kill();
    let _ = web.wait();
    assert!(page.contains(question), "{page}");
}

/// `anbud serve` with `web.listen` set serves the same pages next to the bot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anbud_serve_serves_the_pages_when_web_listen_is_set() {
    use crate::fake_discord::{FakeDiscord, FakeGuild, TOKEN};
    use std::time::{Duration, Instant};

    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .env("DISCORD_TOKEN", TOKEN)
        .env("ANBUD__DISCORD__API_URL", fake.api_url())
        .env("ANBUD__DISCORD__TEST_WITHOUT_RATE_LIMITER", "true")
        .env("ANBUD__WEB__LISTEN", format!("127.0.0.1:{port}"))
        .args([
            "--database",
            &format!("sqlite://{}", dir.path().join("a.sqlite").display()),
            "serve",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    fake.wait_until_ready(Duration::from_secs(30)).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let login = loop {
        match client.get(format!("{base}/login")).send().await {
            Ok(response) => break response,
            Err(e) => {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "no web pages on {base}: {e}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let queue = client.get(format!("{base}/queue")).send().await.unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(login.status(), 200);
    assert!(login.text().await.unwrap().contains("<h1>Sign in</h1>"));
    assert_eq!(queue.status(), 303);
}
