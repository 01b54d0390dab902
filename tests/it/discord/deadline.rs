//! Discord's three seconds: every interaction that waits for the database is acknowledged
//! first, so a slow or locked database gives the user a clear message instead of "This
//! interaction failed". The fake refuses a first response after the deadline, as Discord
//! does; here the deadline is 1 s and the database makes writers wait 2 s.

use sqlx::Connection;

use super::*;
use crate::support::button;

/// In a reply to a command or click: what the user reads, within [`WAIT`]… but the click
/// must have been acknowledged in time for there to be anything at all.
async fn reply_text(t: &TestBot, interaction: u64) -> String {
    t.fake
        .wait_for_post(Duration::from_secs(30), |p| {
            p.interaction_id == Some(interaction) && !p.content.is_empty()
        })
        .await
        .content
}

/// An adviser runs `/dismiss id:1`; what they are told.
async fn dismiss_first_item(t: &TestBot) -> String {
    let dismiss = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "dismiss",
        options(&[("id", json!(1))]),
    );
    reply_text(t, dismiss).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_database_is_acknowledged_in_time_and_said_plainly() {
    let t = spawn_bot(|s, _| s.durability.sqlite_busy_timeout_ms = 2000).await;
    t.fake.set_ack_deadline(Duration::from_secs(1));
    let answered = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(answered).await;
    let abstained = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(abstained).await;
    let forget = t.forget_me_prompt().await;
    assert!(t.app.logger().wait_flushed(WAIT).await, "counters written");
    assert_eq!(t.open_items().await, 1);

    // Another process holds SQLite's write lock for longer than Discord waits.
    let mut held = sqlx::SqliteConnection::connect(&t.app.settings.database.url)
        .await
        .unwrap();
    sqlx::query("BEGIN EXCLUSIVE")
        .execute(&mut held)
        .await
        .unwrap();

    let click = t.click(ids::SUPPLIER_USER, &answer, "anbud:fb:n:");
    let text = reply_text(&t, click).await;
    assert!(text.contains("fikk ikke sendt"), "{text}");

    let text = dismiss_first_item(&t).await;
    assert!(text.contains("Databasen svarer ikke"), "{text}");

    let yes = button(&forget, "anbud:forget:yes:");
    let click = t
        .fake
        .button_click(ids::SUPPLIER_USER, ids::QA_CHANNEL, forget.message_id, &yes);
    let text = reply_text(&t, click).await;
    assert!(text.contains("ingenting er slettet"), "{text}");

    let late: Vec<_> = t
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/callback") && r.status != 204)
        .map(|r| format!("{} -> {}", r.path, r.status))
        .collect();
    assert!(
        late.is_empty(),
        "every interaction answered in time: {late:?}"
    );

    sqlx::query("ROLLBACK").execute(&mut held).await.unwrap();
    // The database is back: the same commands work.
    let text = dismiss_first_item(&t).await;
    assert!(text.contains("#1"), "{text}");
}
