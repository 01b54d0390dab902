//! The bot keeps its questions while the database is away.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anbud::knowledge::Lang;
use anbud::store::{LogOutcome, Logged, ResilientConfig, ResilientLogger, StoreOptions};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{discord, unanswered, TestDb};

fn quick_config(capacity: usize) -> ResilientConfig {
    ResilientConfig {
        capacity,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        store_options: StoreOptions {
            acquire_timeout: Duration::from_secs(1),
            ..StoreOptions::default()
        },
        ..ResilientConfig::default()
    }
}

/// Logs `questions` through the logger and asserts each was buffered.
async fn log_buffered(logger: &ResilientLogger, questions: &[String]) {
    for (i, question) in questions.iter().enumerate() {
        let ask = unanswered(question, discord(&format!("u{i}"), "m"));
        assert_eq!(
            logger.log_unanswered(ask).await.unwrap(),
            LogOutcome::Buffered
        );
    }
}

/// Receives `n` flush events.
async fn flushed(events: &mut mpsc::UnboundedReceiver<Logged>, n: usize) -> Vec<Logged> {
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(Duration::from_secs(20), events.recv()).await {
            Ok(Some(logged)) => got.push(logged),
            other => panic!("expected {n} flush events, got {got:?} then {other:?}"),
        }
    }
    got
}

fn questions(range: std::ops::Range<usize>) -> Vec<String> {
    range
        .map(|i| format!("Spørsmål nummer {i} om rammeavtaler"))
        .collect()
}

#[tokio::test]
async fn unreachable_postgres_buffers_a_bounded_number_of_writes() {
    // Nothing listens on port 1.
    let logger = ResilientLogger::connect("postgres://postgres@127.0.0.1:1/anbud", quick_config(3));
    log_buffered(&logger, &questions(0..5)).await;
    logger.record_question_asked(true, Lang::Nb);
    assert_eq!(logger.buffered(), 3);
    assert_eq!(logger.dropped(), 3);
    assert!(logger.store().is_none());
    assert!(!logger.wait_flushed(Duration::from_millis(300)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_directory_outage_is_buffered_then_flushed_in_order() {
    let dir = tempfile::tempdir().unwrap();
    // A plain file where the database's directory should be: the directory
    // cannot be created (even by root, who ignores read-only permissions).
    let blocker = dir.path().join("data");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let url = format!("sqlite://{}", blocker.join("anbud.sqlite").display());

    let logger = ResilientLogger::connect(&url, quick_config(100));
    let mut events = logger.flushed_events();
    let asked = questions(0..4);
    log_buffered(&logger, &asked).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(logger.buffered(), 4, "nothing can be written yet");

    std::fs::remove_file(&blocker).unwrap();
    assert!(logger.wait_flushed(Duration::from_secs(20)).await);
    let logged = flushed(&mut events, 4).await;
    assert!(logged.iter().all(|l| l.is_new));

    let store = logger.store().expect("connected");
    let queue = store.list_queue(None).await.unwrap();
    let in_db: Vec<_> = queue.iter().map(|item| item.question.clone()).collect();
    assert_eq!(in_db, asked, "flushed in the order asked");
    assert_eq!(
        queue.iter().map(|i| i.id).collect::<Vec<_>>(),
        logged.iter().map(|l| l.item_id).collect::<Vec<_>>()
    );

    // Healthy again: writes go straight through.
    let ask = unanswered("Spørsmål nummer 0 om rammeavtaler", discord("u9", "m"));
    match logger.log_unanswered(ask).await.unwrap() {
        LogOutcome::Stored(logged) => assert_eq!(logged.item_id, queue[0].id),
        other => panic!("the database is back: {other:?}"),
    }
}

/// A TCP relay in front of PostgreSQL that the test can cut and restore,
/// standing in for the server going away and coming back.
pub(crate) struct Relay {
    listen: SocketAddr,
    target: SocketAddr,
    acceptor: Mutex<Option<JoinHandle<()>>>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    pub(crate) async fn new(target: SocketAddr) -> Relay {
        // Take a free port, then leave it closed until `start`.
        let probe = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listen = probe.local_addr().unwrap();
        drop(probe);
        Relay {
            listen,
            target,
            acceptor: Mutex::new(None),
            connections: Arc::new(Mutex::new(Vec::new())),
        }
    }

    pub(crate) async fn start(&self) {
        let listener = TcpListener::bind(self.listen).await.unwrap();
        let target = self.target;
        let connections = Arc::clone(&self.connections);
        let acceptor = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                connections.lock().unwrap().push(relay);
            }
        });
        *self.acceptor.lock().unwrap() = Some(acceptor);
    }

    /// Closes the port and every relayed connection.
    pub(crate) async fn stop(&self) {
        let acceptor = self.acceptor.lock().unwrap().take();
        if let Some(acceptor) = acceptor {
            acceptor.abort();
            let _ = acceptor.await;
        }
        let connections: Vec<_> = self.connections.lock().unwrap().drain(..).collect();
        for connection in connections {
            connection.abort();
            let _ = connection.await;
        }
    }

    /// `url` pointed at the relay instead of the server.
    pub(crate) fn url(&self, url: &str) -> String {
        let authority_start = url.find("://").unwrap() + 3;
        let authority_end = url[authority_start..]
            .find('/')
            .map_or(url.len(), |i| authority_start + i);
        let authority = &url[authority_start..authority_end];
        let user = authority
            .rsplit_once('@')
            .map_or(String::new(), |(user, _)| format!("{user}@"));
        format!(
            "{}{user}{}{}",
            &url[..authority_start],
            self.listen,
            &url[authority_end..]
        )
    }
}

/// The server's address from a `postgres://` URL (port 5432 when absent).
pub(crate) fn server_address(url: &str) -> SocketAddr {
    let authority_start = url.find("://").unwrap() + 3;
    let rest = &url[authority_start..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host_port = if host_port.contains(':') {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let host_port = host_port.replace("localhost", "127.0.0.1");
    host_port
        .parse()
        .unwrap_or_else(|e| panic!("{host_port}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_is_buffered_then_flushed_in_order() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    db.store().await; // create the schema through the direct route
    let relay = Relay::new(server_address(&db.url)).await;
    let url = relay.url(&db.url);

    // Down at start: the bot starts anyway and buffers.
    let logger = ResilientLogger::connect(&url, quick_config(100));
    let mut events = logger.flushed_events();
    let mut asked = questions(0..3);
    log_buffered(&logger, &asked).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(logger.buffered(), 3);

    relay.start().await;
    assert!(logger.wait_flushed(Duration::from_secs(20)).await);
    flushed(&mut events, 3).await;

    // Down while running: the write that finds it down is buffered, and so is
    // everything after it until the flush.
    relay.stop().await;
    let later = questions(3..6);
    log_buffered(&logger, &later).await;
    assert_eq!(logger.buffered(), 3);
    relay.start().await;
    assert!(logger.wait_flushed(Duration::from_secs(20)).await);
    flushed(&mut events, 3).await;
    asked.extend(later);

    let queue = db.store().await.list_queue(None).await.unwrap();
    let in_db: Vec<_> = queue.into_iter().map(|item| item.question).collect();
    assert_eq!(in_db, asked, "flushed in the order asked");
    relay.stop().await;
}
