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
