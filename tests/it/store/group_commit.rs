//! Group commit: answering's writes go through one writer that commits many in one
//! transaction, and a write counts as stored only once its transaction is committed.

use std::time::Duration;

use anbud::knowledge::Lang;
use anbud::store::{
    AnsweringWrite, LogOutcome, NewFeedback, QueueStatus, ResilientConfig, ResilientLogger, Source,
    Store, StoreOptions, Unconfirmed,
};
use sqlx::Connection;

use super::{discord, now, unanswered, TestDb};

fn config(unconfirmed: Unconfirmed) -> ResilientConfig {
    ResilientConfig {
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(100),
        ack_timeout: Duration::from_secs(60),
        unconfirmed,
        store_options: StoreOptions {
            busy_timeout: Duration::from_millis(200),
            acquire_timeout: Duration::from_secs(2),
            ..StoreOptions::default()
        },
        ..ResilientConfig::default()
    }
}

fn question(i: usize) -> String {
    format!("Gruppe {i}: hvor mange sjiraffer får plass i en rammeavtale?")
}

/// Writes made while the writer cannot run (this runtime has one thread and the test
/// does not yield) all go into the first transaction: one commit for 300 writes, each
/// caller told its own queue item.
async fn writes_made_together_share_one_commit(db: &TestDb) {
    let store = db.store().await;
    let logger = ResilientLogger::new(store.clone(), config(Unconfirmed::Withdraw));
    let mut tickets = Vec::new();
    for i in 0..100 {
        logger.record_question_asked(false, Lang::Nb);
        logger.record_answer_given("espd", Lang::Nb, Source::Discord);
        let ask = unanswered(&question(i), discord(&format!("u{i}"), &format!("m{i}")));
        tickets.push(logger.submit(AnsweringWrite::Unanswered(ask)));
    }
    let mut items = Vec::new();
    for ticket in tickets {
        match ticket.wait().await.unwrap() {
            LogOutcome::Stored(Some(logged)) => {
                assert!(logged.is_new);
                items.push(logged.item_id);
            }
            other => panic!("not stored: {other:?}"),
        }
    }
    assert!(logger.wait_flushed(Duration::from_secs(60)).await);
    assert_eq!(logger.commits(), 1, "300 writes, one transaction");

    let queue = store.list_queue(Some(QueueStatus::Open)).await.unwrap();
    assert_eq!(
        queue.iter().map(|i| i.id).collect::<Vec<_>>(),
        items,
        "each caller got its own item, in the order asked"
    );
    assert_eq!(
        queue.iter().map(|i| i.question.clone()).collect::<Vec<_>>(),
        (0..100).map(question).collect::<Vec<_>>()
    );
    let stats = store.stats(None).await.unwrap();
    assert_eq!((stats.questions, stats.abstained), (100, 100));
    assert_eq!(stats.top_entries.first().map(|e| e.1), Some(100));
}

/// Questions asked while earlier ones are being committed form the next batches: more
/// than one commit, far fewer than questions, and every one stored.
async fn writes_arriving_during_a_commit_form_the_next_batch(db: &TestDb) {
    let store = db.store().await;
    let logger = ResilientLogger::new(store.clone(), config(Unconfirmed::Withdraw));
    let mut waiting = tokio::task::JoinSet::new();
    for i in 0..400 {
        let ask = unanswered(&question(i), discord(&format!("u{i}"), "m"));
        let ticket = logger.submit(AnsweringWrite::Unanswered(ask));
        waiting.spawn(ticket.wait());
        if i % 40 == 0 {
            tokio::task::yield_now().await;
        }
    }
    while let Some(outcome) = waiting.join_next().await {
        assert!(outcome.unwrap().unwrap().is_stored());
    }
    let commits = logger.commits();
    assert!(
        (1..400).contains(&commits),
        "{commits} commits for 400 questions"
    );
    assert_eq!(store.list_queue(None).await.unwrap().len(), 400);
}

/// Installs a trigger that makes the database refuse one question (as a constraint
/// would), to see what happens to the rest of its batch.
async fn refuse_question(store_url: &str, sqlite: bool, refused: &str) {
    if sqlite {
        let mut conn = sqlx::SqliteConnection::connect(store_url).await.unwrap();
        // The text is this test's own constant, not input.
        let sql = format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON asks WHEN NEW.question = '{refused}'
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(store_url).await.unwrap();
        let sql = format!(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$
             BEGIN
               IF NEW.question = '{refused}' THEN
                 RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation';
               END IF;
               RETURN NEW;
             END $$ LANGUAGE plpgsql"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse BEFORE INSERT ON asks FOR EACH ROW EXECUTE FUNCTION refuse()",
        )
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// A write the database refuses fails alone: the rest of its batch is stored, and its
/// caller gets the error instead of "passed on".
async fn a_refused_write_fails_alone_and_the_rest_of_its_batch_is_stored(db: &TestDb) {
    let store = db.store().await;
    refuse_question(&db.url, db.url.starts_with("sqlite:"), "refuse me").await;
    let logger = ResilientLogger::new(store.clone(), config(Unconfirmed::Withdraw));
    let texts = [question(1), "refuse me".to_string(), question(2)];
    let tickets: Vec<_> = texts
        .iter()
        .map(|text| {
            logger.submit(AnsweringWrite::Unanswered(unanswered(
                text,
                discord("u", "m"),
            )))
        })
        .collect();
    logger.record_question_asked(false, Lang::Nb);
    let mut outcomes = Vec::new();
    for ticket in tickets {
        outcomes.push(ticket.wait().await);
    }
    assert!(outcomes[0].as_ref().unwrap().is_stored());
    assert!(outcomes[1].is_err(), "{:?}", outcomes[1]);
    assert!(outcomes[2].as_ref().unwrap().is_stored());
    assert!(logger.wait_flushed(Duration::from_secs(60)).await);
    assert_eq!(open_questions(&store).await, vec![question(1), question(2)]);
    assert_eq!(store.stats(None).await.unwrap().abstained, 1);
}

/// Feedback goes through the same writer and is acknowledged only when committed.
async fn feedback_is_stored_through_the_group_commit(db: &TestDb) {
    let store = db.store().await;
    let logger = ResilientLogger::new(store.clone(), config(Unconfirmed::Keep));
    let feedback = NewFeedback {
        entry_id: "espd".into(),
        lang: Lang::Nb,
        helpful: false,
        comment: Some("for vagt".into()),
        origin: discord("u7", "m7"),
        question: "Hva er ESPD egentlig?".into(),
        at: now(),
    };
    let LogOutcome::Stored(Some(logged)) = logger.record_feedback(feedback).await.unwrap() else {
        panic!("not stored");
    };
    let item = store.get_item(logged.item_id).await.unwrap();
    assert_eq!(item.question, "Hva er ESPD egentlig?");
    assert_eq!(store.stats(None).await.unwrap().unhelpful, 1);
}

// On a one-thread runtime the writer cannot run while the test makes its writes.
#[tokio::test(flavor = "current_thread")]
async fn sqlite_writes_made_together_share_one_commit() {
    writes_made_together_share_one_commit(&TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_writes_made_together_share_one_commit() {
    if let Some(db) = TestDb::postgres().await {
        writes_made_together_share_one_commit(&db).await;
    }
}

super::on_both_databases!(
    writes_arriving_during_a_commit_form_the_next_batch,
    a_refused_write_fails_alone_and_the_rest_of_its_batch_is_stored,
    feedback_is_stored_through_the_group_commit,
);

// ---------------------------------------------------------------- a locked database

/// Another connection holding SQLite's write lock (a backup, a long adviser transaction).
pub(crate) async fn lock_sqlite(url: &str) -> sqlx::SqliteConnection {
    let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

/// The questions of every queue item, oldest first.
pub(crate) async fn open_questions(store: &Store) -> Vec<String> {
    store
        .list_queue(None)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.question)
        .collect()
}

/// Files question `i` and waits for the outcome.
async fn log(logger: &ResilientLogger, i: usize) -> LogOutcome<anbud::store::Logged> {
    let ask = unanswered(&question(i), discord(&format!("u{i}"), &format!("m{i}")));
    logger.log_unanswered(ask).await.unwrap()
}

/// A command (`ask`, `chat`) withdraws a question the locked database did not take, so
/// its "not passed on" stays true once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_withdraws_what_a_locked_sqlite_did_not_take() {
    let db = TestDb::sqlite().await;
    let store = impatient_store(&db).await;
    let logger = ResilientLogger::new(store.clone(), config(Unconfirmed::Withdraw));
    let lock = lock_sqlite(&db.url).await;

    assert_eq!(log(&logger, 1).await, LogOutcome::Withdrawn);
    // Known to be down now: the next is withdrawn at once.
    assert_eq!(log(&logger, 2).await, LogOutcome::Withdrawn);
    logger.record_question_asked(false, Lang::Nb);

    lock.close().await.unwrap();
    assert!(logger.wait_flushed(Duration::from_secs(60)).await);
    assert!(
        open_questions(&store).await.is_empty(),
        "withdrawn questions never reach the queue"
    );
    // The counter was kept and written.
    assert_eq!(store.stats(None).await.unwrap().abstained, 1);

    // Back: stored, and said so.
    let third = log(&logger, 3).await;
    assert!(third.is_stored(), "{third:?}");
    assert_eq!(open_questions(&store).await, vec![question(3)]);
}

/// A bot keeps what the locked database did not take, tells the caller it is not
/// stored, and writes it when the lock is gone, reporting the new queue item.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bot_keeps_what_a_locked_sqlite_did_not_take_and_writes_it_later() {
    let db = TestDb::sqlite().await;
    let (store, logger, lock) = one_question_kept_while_locked(&db).await;
    let mut events = logger.flushed_events();
    assert_eq!(logger.buffered(), 1);

    lock.close().await.unwrap();
    let logged = tokio::time::timeout(Duration::from_secs(60), events.recv())
        .await
        .expect("reported when written")
        .unwrap();
    assert!(logged.is_new);
    assert_eq!(open_questions(&store).await, vec![question(1)]);
}

/// A store whose writes wait at most 200 ms for another connection's lock.
async fn impatient_store(db: &TestDb) -> Store {
    let options = StoreOptions {
        busy_timeout: Duration::from_millis(200),
        ..StoreOptions::default()
    };
    Store::connect_with(&db.url, &options).await.unwrap()
}

/// A bot's logger on a locked database, holding one question it could not write.
async fn one_question_kept_while_locked(
    db: &TestDb,
) -> (Store, ResilientLogger, sqlx::SqliteConnection) {
    let store = impatient_store(db).await;
    let logger = ResilientLogger::new(store.clone(), config(Unconfirmed::Keep));
    let lock = lock_sqlite(&db.url).await;
    assert_eq!(log(&logger, 1).await, LogOutcome::Buffered);
    (store, logger, lock)
}

/// `close` names what it could not write when the database stays locked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_counts_what_a_locked_database_did_not_take() {
    let db = TestDb::sqlite().await;
    let (store, logger, lock) = one_question_kept_while_locked(&db).await;
    logger.record_question_asked(false, Lang::Nb);

    let unwritten = logger.close(Duration::from_millis(300)).await;
    assert_eq!((unwritten.acknowledged, unwritten.counters), (1, 1));
    drop(logger);
    lock.close().await.unwrap();
    assert!(open_questions(&store).await.is_empty());
}

/// `close` writes what was kept when the database comes back while it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_writes_what_was_kept_when_the_lock_goes_in_time() {
    let db = TestDb::sqlite().await;
    let (store, logger, lock) = one_question_kept_while_locked(&db).await;
    let unlock = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        lock.close().await.unwrap();
    });
    let unwritten = logger.close(Duration::from_secs(60)).await;
    unlock.await.unwrap();
    assert!(unwritten.is_empty(), "{unwritten:?}");
    assert_eq!(open_questions(&store).await, vec![question(1)]);
}
