//! Thread mode under faults: the database away when a follow-up comes in after a restart,
//! `/ask` and feedback in a thread this run did not open, Discord failing around a new
//! thread.

use super::answering::{aside_then_follow_up, follow_up_in, question_in_a_thread};
use super::*;
use anbud::store::Store;

/// The thread recorded with the (only) ask of the open item asked as `question`.
async fn thread_of_ask(store: &Store, question: &str) -> Option<String> {
    let items = store.list_queue(Some(QueueStatus::Open)).await.unwrap();
    let item = items
        .iter()
        .find(|i| i.question == question)
        .unwrap_or_else(|| panic!("no open item {question:?} in {items:?}"));
    let asks = store.asks_for_item(item.id).await.unwrap();
    assert_eq!(asks.len(), 1, "{asks:?}");
    asks[0].origin.thread_id.clone()
}

/// After a restart with the database down the bot cannot read the question its thread
/// was opened on: the asker's follow-up is not answered alone (nor queued), the asker is
/// told so in their language, and an adviser's aside there is not answered as a question
/// in the Q&A channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_the_database_cannot_place_is_told_to_try_again() {
    let mut t = spawn_bot(|s, _| {
        s.discord.reply_mode = ReplyMode::Thread;
        s.discord.rate_limit_per_minute = 2;
    })
    .await;
    let thread = question_in_a_thread(&t).await;
    t.restart().await;
    t.store().close().await;

    let note = aside_then_follow_up(&t, thread, "Jeg får ikke sett spørsmålet").await;
    assert!(!note.content.contains(TITLE_NB), "{}", note.content);
    assert_no_mentions(&note);

    let english = t
        .fake
        .send_message(thread, ids::SUPPLIER_USER, "Who can take part in it?");
    let note = t.reply_to(english).await;
    assert!(
        note.content.contains("I cannot see the question"),
        "{}",
        note.content
    );
    // The notes count against the asker's rate (two a minute here): no flood of them.
    let third = t.fake.send_message(thread, ids::SUPPLIER_USER, "Hallo?");
    t.fake
        .assert_no_post(Duration::from_millis(300), |p| p.reply_to() == Some(third))
        .await;
}

/// A thread the bot opened whose question the database no longer keeps (here: the
/// retention purge after a restart; the same when `/forget-me` deleted it or the
/// database was away when the thread was opened): the asker is told to ask anew instead
/// of getting an answer to their follow-up alone, and an adviser's aside is still not
/// answered as a question in the Q&A channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_in_a_thread_whose_question_is_gone_is_told_to_ask_anew() {
    let mut t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    let thread = question_in_a_thread(&t).await;
    t.restart().await;
    let purged = t
        .store()
        .purge_personal_data(chrono::Utc::now() + chrono::TimeDelta::days(1))
        .await
        .unwrap();
    assert!(purged > 0);

    let note = aside_then_follow_up(&t, thread, "Jeg har ikke lenger spørsmålet").await;
    assert!(!note.content.contains(TITLE_NB), "{}", note.content);
    assert_no_mentions(&note);
}

/// `/ask` in the bot's thread and "Not helpful" clicked there, each after a restart (so
/// the thread is only in the database): the queued question records the thread, as a
/// message follow-up does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_and_feedback_in_a_thread_from_before_a_restart_record_the_thread() {
    let mut t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    let thread = question_in_a_thread(&t).await;
    let answer = follow_up_in(&t, thread).await;

    t.restart().await;
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        thread,
        "ask",
        options(&[("question", json!(OFF_TOPIC))]),
    );
    t.interaction_reply(command).await;
    assert_eq!(
        thread_of_ask(&t.store(), OFF_TOPIC).await,
        Some(thread.to_string())
    );
    // A private question's answer from an adviser goes by direct message, never into
    // the public thread.
    let private = "Hvordan blir været i Tromsø på lørdag?";
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        thread,
        "ask",
        options(&[("question", json!(private)), ("private", json!(true))]),
    );
    t.interaction_reply(command).await;
    assert_eq!(thread_of_ask(&t.store(), private).await, None);

    t.restart().await;
    let click = t.click(ids::SUPPLIER_USER, &answer, "anbud:fb:n:");
    let thanks = t.interaction_reply(click).await;
    assert!(
        thanks.content.contains("En rådgiver ser på"),
        "{}",
        thanks.content
    );
    assert_eq!(
        thread_of_ask(&t.store(), "Hvem kan delta?").await,
        Some(thread.to_string())
    );
}

/// The new thread answers 503 to every try of the answer: the answer goes under the
/// question in the channel, saying so and linking the thread; a follow-up in the thread
/// still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_the_new_thread_will_not_take_goes_under_the_question_with_a_link() {
    let t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    // The first POST …/messages… is the thread's creation; the next five (the answer
    // in the thread and its four retries) fail.
    t.fake
        .fail_requests_after("POST", "/messages", 1, 5, 503, "Service Unavailable", 0);
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert_eq!(answer.channel_id, ids::QA_CHANNEL);
    assert!(
        answer.content.contains(&format!("<#{question}>")),
        "{}",
        answer.content
    );
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert_eq!(t.fake.threads().len(), 1);
    assert_no_mentions(&answer);
    follow_up_in(&t, question).await;
}

/// Discord creates the thread but answers 502; the retry is refused because the thread
/// exists. The answer goes into that thread, not into the channel beside it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_created_despite_a_5xx_gets_the_answer() {
    let t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    t.fake
        .fail_next_threads_after_creating(ids::QA_CHANNEL, 1, 502);
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.channel_id == question || p.reply_to() == Some(question)
        })
        .await;
    assert_eq!(answer.channel_id, question, "{}", answer.content);
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert_eq!(t.fake.threads().len(), 1);
}
