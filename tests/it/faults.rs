//! The bot holds under faults: a knowledge reload stopped halfway, a knowledge file broken
//! while it runs, the database gone mid-run (PostgreSQL behind a relay that is cut), and
//! SQLite's disk full. In each the bot keeps answering, and nothing it had to write is lost.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anbud::app::App;
use anbud::config::{Overrides, Settings};
use anbud::knowledge::Lang;
use anbud::store::{LearnedEntry, Origin};
use chrono::NaiveDate;

use crate::store::resilience::{server_address, Relay};
use crate::store::TestDb;
use crate::support::knowledge_copy;

fn settings(knowledge: &Path, database_url: &str) -> Settings {
    let overrides = Overrides {
        config_file: None,
        knowledge_dir: Some(knowledge.to_path_buf()),
        database_url: Some(database_url.to_string()),
    };
    Settings::from_sources(None, &[], &overrides).unwrap()
}

/// A new topic, in both languages, that the bundled knowledge base does not have.
fn add_giraffe_entry(knowledge: &Path) {
    for (lang, title, questions, body) in [
        (
            "nb",
            "Sjiraffer i dyreparken",
            r#"["Hvor lang hals har en sjiraff?", "Hva spiser sjiraffer?", "Hvor høy er en sjiraff?", "Sover sjiraffer stående?", "Hvor gammel blir en sjiraff?"]"#,
            "En sjiraff har en hals på omtrent to meter.",
        ),
        (
            "en",
            "Giraffes in the zoo",
            r#"["How long is a giraffe's neck?", "What do giraffes eat?", "How tall is a giraffe?", "Do giraffes sleep standing?", "How old do giraffes get?"]"#,
            "A giraffe's neck is about two metres long.",
        ),
    ] {
        let text = format!(
            "+++\nid = \"giraffes\"\nlang = \"{lang}\"\ntitle = \"{title}\"\nquestions = {questions}\nkeywords = [\"sjiraff\", \"giraffe\"]\nreviewed = \"2026-01-02\"\n\n[[sources]]\nname = \"Dyreparken\"\nurl = \"https://example.org/\"\n+++\n{body}\n"
        );
        std::fs::write(knowledge.join(format!("entries/giraffes.{lang}.md")), text).unwrap();
    }
}

const GIRAFFE_QUESTION: &str = "Hvor lang hals har en sjiraff?";

fn answers(app: &App, question: &str) -> Option<String> {
    app.answer_only(question).id().map(str::to_string)
}

/// The ids of the index the app answers from now.
fn index_ids(app: &App) -> Vec<String> {
    app.answerer()
        .knowledge()
        .ids()
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Log lines written on this thread while the guard lives (use a current-thread runtime,
/// so the app's tasks log here too).
struct CapturedLogs {
    buffer: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl CapturedLogs {
    fn start() -> CapturedLogs {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Arc::clone(&buffer);
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter("anbud=debug")
            .with_ansi(false)
            .with_writer(move || SharedWriter(Arc::clone(&writer)))
            .finish();
        let logs = CapturedLogs {
            buffer,
            _guard: tracing::subscriber::set_default(subscriber),
        };
        logs.refresh();
        logs
    }

    /// Make every log call site see this thread's subscriber. tracing caches whether a call
    /// site is wanted; a site first reached on another test's thread, while this
    /// subscriber was being set up, can stay cached as unwanted. Call before the fault.
    fn refresh(&self) {
        tracing::callsite::rebuild_interest_cache();
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.buffer.lock().unwrap()).into_owned()
    }
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

// ------------------------------------------------------------ knowledge reloads

#[tokio::test(flavor = "current_thread")]
async fn a_reload_stopped_halfway_leaves_the_old_index_answering() {
    let db = TestDb::sqlite().await;
    let knowledge = knowledge_copy();
    let app = App::open(&settings(knowledge.path(), &db.url))
        .await
        .unwrap();
    let old_ids = index_ids(&app);
    assert_eq!(answers(&app, "Hva er ESPD?").as_deref(), Some("espd"));
    assert_eq!(answers(&app, GIRAFFE_QUESTION), None);

    add_giraffe_entry(knowledge.path());
    let mut new_ids = old_ids.clone();
    new_ids.push("giraffes".into());
    new_ids.sort();

    // Aborted after 0, 1, 2 … steps (on this one-thread runtime each `yield_now` lets it
    // run on to an await): wherever it stops, the app answers from one whole index, the
    // old or the new one, never a mix. (How far each got depends on timing; the
    // PostgreSQL test below stops one halfway for certain.)
    let mut stopped_before_swap = 0;
    for steps in 0..500 {
        let reloading = app.clone();
        let task = tokio::spawn(async move { reloading.reload().await });
        for _ in 0..steps {
            tokio::task::yield_now().await;
        }
        task.abort();
        let outcome = task.await;
        let ids = index_ids(&app);
        assert!(ids == old_ids || ids == new_ids, "a mixed index: {ids:?}");
        assert_eq!(answers(&app, "Hva er ESPD?").as_deref(), Some("espd"));
        match outcome {
            Ok(result) => {
                result.unwrap();
            }
            Err(e) => assert!(e.is_cancelled(), "the reload task failed: {e}"),
        }
        if ids == new_ids {
            break;
        }
        stopped_before_swap += 1;
    }
    eprintln!("{stopped_before_swap} reloads stopped before their swap; the index stayed whole");

    // A reload left to finish swaps the new index in.
    assert_eq!(app.reload().await.unwrap(), new_ids.len());
    assert_eq!(answers(&app, GIRAFFE_QUESTION).as_deref(), Some("giraffes"));
}

/// A relay in front of PostgreSQL that can hold every byte (the server "hangs": queries
/// neither answer nor fail) and let them through again.
struct Gate {
    address: std::net::SocketAddr,
    open: tokio::sync::watch::Sender<bool>,
    acceptor: tokio::task::JoinHandle<()>,
}

impl Gate {
    async fn new(target: std::net::SocketAddr) -> Gate {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (open, _) = tokio::sync::watch::channel(true);
        let gate = open.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                    continue;
                };
                let (client_read, client_write) = client.into_split();
                let (server_read, server_write) = server.into_split();
                tokio::spawn(pump(client_read, server_write, gate.subscribe()));
                tokio::spawn(pump(server_read, client_write, gate.subscribe()));
            }
        });
        Gate {
            address,
            open,
            acceptor,
        }
    }

    fn url(&self, url: &str) -> String {
        let start = url.find("://").unwrap() + 3;
        let end = url[start..].find('/').map_or(url.len(), |i| start + i);
        let user = url[start..end]
            .rsplit_once('@')
            .map_or(String::new(), |(user, _)| format!("{user}@"));
        format!("{}{user}{}{}", &url[..start], self.address, &url[end..])
    }

    fn hold(&self) {
        self.open.send_replace(false);
    }

    fn release(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut open: tokio::sync::watch::Receiver<bool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if open.wait_for(|open| *open).await.is_err() || to.write_all(&buffer[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_stopped_while_the_database_hangs_leaves_the_old_index_answering() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    db.store().await.close().await;
    let gate = Gate::new(server_address(&db.url)).await;
    let knowledge = knowledge_copy();
    let app = App::open(&settings(knowledge.path(), &gate.url(&db.url)))
        .await
        .unwrap();
    let old_ids = index_ids(&app);
    add_giraffe_entry(knowledge.path());

    // The reload reads and parses the files, then waits for the database's learned
    // knowledge, which does not come: stopped there, for certain.
    gate.hold();
    let dropped = tokio::time::timeout(Duration::from_millis(500), app.reload()).await;
    assert!(
        dropped.is_err(),
        "the reload was still waiting for the database"
    );
    assert_eq!(
        index_ids(&app),
        old_ids,
        "a dropped reload swaps nothing in"
    );
    assert_eq!(answers(&app, "Hva er ESPD?").as_deref(), Some("espd"));
    assert_eq!(answers(&app, GIRAFFE_QUESTION), None);

    let reloading = app.clone();
    let task = tokio::spawn(async move { reloading.reload().await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !task.is_finished(),
        "the reload is waiting for the database"
    );
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(
        index_ids(&app),
        old_ids,
        "an aborted reload swaps nothing in"
    );
    assert_eq!(answers(&app, GIRAFFE_QUESTION), None);

    // The database answers again: a reload goes through.
    gate.release();
    tokio::time::timeout(Duration::from_secs(30), app.reload())
        .await
        .expect("the reload finishes")
        .unwrap();
    assert_eq!(answers(&app, GIRAFFE_QUESTION).as_deref(), Some("giraffes"));
}

fn learned(id: &str) -> LearnedEntry {
    LearnedEntry {
        id: id.into(),
        lang: Lang::Nb,
        title: "Frist for å klage på en flodhest".into(),
        body: "Flodhester klager man ikke på.".into(),
        questions: vec!["Kan jeg klage på en flodhest?".into()],
        keywords: vec!["flodhest".into()],
        source_name: "Rådgiver".into(),
        source_url: None,
        reviewed: NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
        created_by: "adviser-1".into(),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_knowledge_file_broken_while_running_keeps_the_old_index_and_names_path_and_line() {
    let logs = CapturedLogs::start();
    let db = TestDb::sqlite().await;
    let knowledge = knowledge_copy();
    let app = App::open(&settings(knowledge.path(), &db.url))
        .await
        .unwrap();
    let old_ids = index_ids(&app);

    // An adviser saves a file with a broken line 4 while the bot runs.
    logs.refresh();
    let broken = knowledge.path().join("entries/espd.nb.md");
    let original = std::fs::read_to_string(&broken).unwrap();
    let mut lines: Vec<&str> = original.lines().collect();
    lines[3] = "title = \"unterminated";
    std::fs::write(&broken, lines.join("\n")).unwrap();

    let error = app
        .reload()
        .await
        .expect_err("a broken file fails the reload")
        .to_string();
    let expected = format!("{}:4: ", broken.display());
    assert!(
        error.contains(&expected),
        "the error names {expected}: {error}"
    );
    assert_eq!(index_ids(&app), old_ids);
    assert_eq!(answers(&app, "Hva er ESPD?").as_deref(), Some("espd"));
    let asked = app.ask("Hva er ESPD?", Origin::terminal()).await;
    assert_eq!(asked.reply.id(), Some("espd"));

    // Knowledge taught in the database triggers a reload, which fails on the same file:
    // the bot goes on with the old index and says why in the log.
    let store = app.store().expect("connected");
    store
        .save_learned_entry(&learned("hippo-complaints"))
        .await
        .unwrap();
    assert!(
        !app.reload_if_changed().await,
        "a failed reload reports no change"
    );
    assert_eq!(index_ids(&app), old_ids);
    assert_eq!(answers(&app, "Hva er ESPD?").as_deref(), Some("espd"));
    let log = logs.text();
    assert!(
        log.contains("keeping the old index") && log.contains(&expected),
        "{log}"
    );

    // Fixed: the next reload takes both the file and the learned entry.
    std::fs::write(&broken, original).unwrap();
    app.reload().await.unwrap();
    assert!(index_ids(&app).contains(&"hippo-complaints".to_string()));
    assert_eq!(answers(&app, "Hva er ESPD?").as_deref(), Some("espd"));
}

// ------------------------------------------------------------ the database

/// Questions the bundled knowledge base cannot answer, each its own queue item.
fn unanswerable(range: std::ops::Range<usize>) -> Vec<String> {
    let animals = [
        "sjiraff",
        "flodhest",
        "krokodille",
        "pingvin",
        "sebra",
        "kenguru",
        "elefant",
        "neshorn",
    ];
    range
        .map(|i| {
            format!(
                "Hvor mye veier en {} nummer {i} i dyreparken?",
                animals[i % animals.len()]
            )
        })
        .collect()
}

/// Asks; returns whether the question is committed to the advisers' queue, after
/// checking that the reply says exactly that. A reply waits for the database at most
/// `durability.ack_timeout_ms`; the timeout here only stops a hung test.
async fn ask_and_check_the_reply(app: &App, question: &str) -> bool {
    let asked = tokio::time::timeout(
        Duration::from_secs(300),
        app.ask(question, Origin::terminal()),
    )
    .await
    .unwrap_or_else(|_| panic!("{question}: no reply"));
    let text = anbud::answer::render_text(&asked.reply, asked.logged);
    if !asked.reply.answered() {
        assert_eq!(
            text.contains("sendt videre til en rådgiver, og du får svaret"),
            asked.logged,
            "{text}"
        );
        assert_eq!(text.contains("fikk ikke sendt"), !asked.logged, "{text}");
    }
    asked.logged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_mid_run_keeps_answering_and_loses_nothing() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    db.store().await.close().await; // the schema, through the direct route
    let relay = Relay::new(server_address(&db.url)).await;
    relay.start().await;
    let knowledge = knowledge_copy();
    let app = App::open(&settings(knowledge.path(), &relay.url(&db.url)))
        .await
        .unwrap();
    assert!(app.store().is_some());

    let before = unanswerable(0..3);
    for q in &before {
        assert!(ask_and_check_the_reply(&app, q).await);
    }
    assert!(app.logger().wait_flushed(Duration::from_secs(60)).await);

    relay.stop().await;
    let during = unanswerable(3..13);
    for q in &during {
        assert!(
            !ask_and_check_the_reply(&app, q).await,
            "while the database is down a reply does not claim the question was passed on"
        );
        assert!(!app.answer_only(q).answered());
    }
    for _ in 0..5 {
        let asked = app.ask("Hva er ESPD?", Origin::terminal()).await;
        assert_eq!(
            asked.reply.id(),
            Some("espd"),
            "answers go on while the database is down"
        );
    }
    // Kept all the same (the bot keeps running): 10 abstentions + 15 "question asked"
    // + 5 "answer given".
    assert_eq!(app.logger().buffered(), 30);
    assert_eq!(app.logger().dropped(), 0);

    relay.start().await;
    assert!(
        app.logger().wait_flushed(Duration::from_secs(60)).await,
        "the buffer is written when the database is back"
    );

    let store = db.store().await;
    let queue: Vec<String> = store
        .list_queue(None)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.question)
        .collect();
    let mut all = before.clone();
    all.extend(during);
    assert_eq!(queue, all, "every abstention reached the queue, in order");
    let stats = store.stats(None).await.unwrap();
    assert_eq!(
        (stats.questions, stats.answered, stats.abstained),
        (18, 5, 13),
        "{stats:?}"
    );
    relay.stop().await;
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct TinyDisk {
    dir: tempfile::TempDir,
}

impl TinyDisk {
    /// `None` when this machine does not let the test mount (not root, or no tmpfs).
    fn mount(size: &str) -> Option<TinyDisk> {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status();
        match status {
            Ok(s) if s.success() => Some(TinyDisk { dir }),
            _ => {
                eprintln!("skipped: cannot mount a tmpfs here (needs root); the disk-full test did not run");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a file until the disk is full; returns its path.
    fn fill(&self) -> PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).unwrap();
        let chunk = vec![0u8; 4096];
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        let _ = file.sync_all();
        path
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        // Lazy, so a file still open somewhere cannot keep the mount busy.
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

#[tokio::test(flavor = "current_thread")]
async fn sqlite_disk_full_keeps_answering_and_keeps_the_questions() {
    let Some(disk) = TinyDisk::mount("4m") else {
        return;
    };
    let logs = CapturedLogs::start();
    let url = format!("sqlite://{}", disk.path().join("anbud.sqlite").display());
    let knowledge = knowledge_copy();
    let app = App::open(&settings(knowledge.path(), &url)).await.unwrap();
    assert!(app.store().is_some());

    let filler = disk.fill();
    logs.refresh();
    // The database's files may have room left inside them; ask until a write meets the
    // full disk, then some more.
    let padding = " Vi lurer også på mye annet om dyr i parken.".repeat(80);
    let mut asked = Vec::new();
    let mut after_full = 0;
    for i in 0..2_000 {
        let question = format!("{}{padding}", unanswerable(i..i + 1)[0]);
        // Stored, or (once the disk is full) kept in memory with a reply that says it
        // was not passed on; the queue below holds both.
        ask_and_check_the_reply(&app, &question).await;
        asked.push(question.chars().take(4000).collect::<String>());
        if app.logger().buffered() > 0 {
            after_full += 1;
            if after_full == 5 {
                break;
            }
        }
    }
    assert!(after_full == 5, "the disk never filled up");
    assert_eq!(
        answers(&app, "Hva er ESPD?").as_deref(),
        Some("espd"),
        "answering goes on"
    );
    let log = logs.text();
    assert!(
        log.contains("database or disk is full"),
        "the log says why: {log}"
    );

    std::fs::remove_file(filler).unwrap();
    assert!(
        app.logger().wait_flushed(Duration::from_secs(60)).await,
        "written once there is room"
    );
    assert_eq!(app.logger().dropped(), 0);
    let store = app.store().unwrap();
    let queue: Vec<String> = store
        .list_queue(None)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.question)
        .collect();
    assert_eq!(queue.len(), asked.len(), "{}", logs.text());
    assert_eq!(queue, asked, "every question kept, in order");
    let stats = store.stats(None).await.unwrap();
    assert_eq!(stats.abstained, asked.len() as u64);
    store.close().await;
}
