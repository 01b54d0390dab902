//! Suppliers' side end to end: questions in channels, mentions, DMs and threads, `/ask`,
//! the buttons under answers, `/help` and `/forget-me`.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_questions_in_the_qa_channel_and_mentions() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert_eq!(answer.source, PostSource::ChannelMessage);
    assert_eq!(answer.channel_id, ids::QA_CHANNEL);
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert!(answer.content.contains("Kilde: [DFØ"), "{}", answer.content);
    assert!(
        answer.content.contains("](<https://"),
        "the source is a link: {}",
        answer.content
    );
    assert!(
        answer.content.contains("sist gjennomgått 20"),
        "{}",
        answer.content
    );
    assert_no_mentions(&answer);
    let ids = answer.custom_ids();
    assert!(
        ids.iter().any(|c| c.starts_with("anbud:fb:y:nb:")),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|c| c.starts_with("anbud:fb:n:nb:")),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|c| c.starts_with("anbud:topic:nb:")),
        "{ids:?}"
    );

    let mention = t.fake.send_message_mentioning_bot(
        ids::GENERAL_CHANNEL,
        ids::SUPPLIER_USER,
        "What is a dialogue conference?",
    );
    let answer = t.reply_to(mention).await;
    assert_eq!(answer.channel_id, ids::GENERAL_CHANNEL);
    assert!(
        answer
            .content
            .contains("Dialogue conference: how to prepare and take part"),
        "{}",
        answer.content
    );
    assert_no_mentions(&answer);
    // The answer is one message: the part of the entry that answers the question, the
    // source line, and the buttons, with "More" for the whole entry.
    assert!(answer.content.chars().count() <= 2000);
    assert!(
        answer.content.contains("Source: ") && answer.content.contains("last reviewed"),
        "{}",
        answer.content
    );
    let buttons = answer.custom_ids();
    assert!(
        buttons.iter().any(|c| c.starts_with("anbud:more:en:")),
        "{buttons:?}"
    );

    let dm = t.fake.send_dm(ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(dm).await;
    assert!(answer.content.contains(TITLE_NB));
    t.fake.assert_no_unknown_routes();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stays_silent_in_other_channels_and_for_bots() {
    let t = spawn_bot(|_, _| {}).await;
    let elsewhere = t
        .fake
        .send_message(ids::GENERAL_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let from_bot = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::OTHER_BOT_USER, ANSWERED_NB);
    // A later question that is answered proves the earlier ones were seen.
    let marker = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    t.reply_to(marker).await;
    t.fake
        .assert_no_post(Duration::from_millis(300), |p| {
            p.reply_to() == Some(elsewhere) || p.reply_to() == Some(from_bot)
        })
        .await;
    assert_eq!(t.fake.posted().len(), 1, "only the marker was answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abstention_is_queued_and_posted_to_the_advisers() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    let reply = t.reply_to(question).await;
    assert!(reply.content.contains("rådgiver"), "{}", reply.content);
    assert_no_mentions(&reply);
    let alert = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ADVISERS_CHANNEL)
        .await;
    assert!(alert.content.contains(OFF_TOPIC), "{}", alert.content);
    assert!(alert.content.contains("#1"), "{}", alert.content);
    assert_no_mentions(&alert);
    let items = t.store().list_queue(Some(QueueStatus::Open)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].question, OFF_TOPIC);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_refuses_the_third_question_politely() {
    let t = spawn_bot(|s, _| s.discord.rate_limit_per_minute = 2).await;
    for _ in 0..2 {
        let q = t
            .fake
            .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
        let a = t.reply_to(q).await;
        assert!(a.content.contains(TITLE_NB));
    }
    let third = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let refusal = t.reply_to(third).await;
    assert!(
        refusal.content.contains("mange spørsmål"),
        "{}",
        refusal.content
    );
    assert!(!refusal.content.contains(TITLE_NB));
    assert_no_mentions(&refusal);
    // Another user is not limited.
    let other = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::ADVISER_USER, ANSWERED_NB);
    assert!(t.reply_to(other).await.content.contains(TITLE_NB));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_buttons_record_feedback_and_not_helpful_queues_the_question() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    let ids_ = answer.custom_ids();
    let helpful = ids_.iter().find(|c| c.starts_with("anbud:fb:y:")).unwrap();
    let not_helpful = ids_.iter().find(|c| c.starts_with("anbud:fb:n:")).unwrap();

    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        helpful,
    );
    let thanks = t.interaction_reply(click).await;
    assert!(
        thanks.is_ephemeral() && thanks.content.contains("Takk"),
        "{}",
        thanks.content
    );
    assert_eq!(t.open_items().await, 0);

    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        not_helpful,
    );
    let thanks = t.interaction_reply(click).await;
    assert!(thanks.content.contains("rådgiver"), "{}", thanks.content);
    let items = t.store().list_queue(Some(QueueStatus::Open)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].question, ANSWERED_NB);
    assert_eq!(items[0].reason.not_helpful, 1);
    let alert = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ADVISERS_CHANNEL)
        .await;
    assert!(alert.content.contains("ikke nyttig"), "{}", alert.content);
    let stats = t.store().stats(None).await.unwrap();
    assert_eq!(stats.unhelpful, 1);

    // A related topic shows that entry.
    let topic = ids_.iter().find(|c| c.starts_with("anbud:topic:")).unwrap();
    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        topic,
    );
    let shown = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == click)
        .await;
    assert!(
        shown.is_ephemeral() && shown.content().starts_with("**"),
        "{}",
        shown.content()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ask_is_ephemeral_and_can_be_shared() {
    let t = spawn_bot(|_, _| {}).await;
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "ask",
        options(&[("question", json!(ANSWERED_NB)), ("private", json!(true))]),
    );
    let answer = t.interaction_reply(command).await;
    assert!(answer.is_ephemeral());
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert_no_mentions(&answer);
    let share = answer
        .custom_ids()
        .into_iter()
        .find(|c| c.starts_with("anbud:share:"))
        .expect("a share button");

    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        &share,
    );
    // Acknowledged privately first, then shared as a public follow-up of the click (no
    // channel permissions needed), not through the channel endpoint.
    t.fake
        .wait_for_callback(WAIT, |c| c.interaction_id == click && c.is_ephemeral())
        .await;
    let shared = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(click) && p.content.contains(TITLE_NB)
        })
        .await;
    assert_eq!(shared.source, PostSource::Followup);
    assert_eq!(shared.channel_id, ids::QA_CHANNEL);
    assert!(!shared.is_ephemeral());
    assert_no_mentions(&shared);
    assert!(
        !t.fake
            .posted()
            .iter()
            .any(|p| p.source == PostSource::ChannelMessage),
        "nothing through the channel endpoint"
    );
    let told = t.interaction_reply(click).await;
    assert!(
        told.is_ephemeral() && told.content.contains("Delt"),
        "{}",
        told.content
    );

    // A public /ask is answered in the open.
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "ask",
        options(&[("question", json!(ANSWERED_NB))]),
    );
    let answer = t.interaction_reply(command).await;
    assert!(!answer.is_ephemeral());
    assert!(answer.content.contains(TITLE_NB));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_mode_answers_in_a_thread_and_follow_ups_there() {
    let t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == question)
        .await;
    assert!(answer.content.contains(TITLE_NB));
    let threads = t.fake.threads();
    assert_eq!(threads.len(), 1);
    assert_eq!(
        (threads[0].id, threads[0].parent_id),
        (question, ids::QA_CHANNEL)
    );

    // A short follow-up is read together with the thread's first question.
    follow_up_in(&t, question).await;
    assert_eq!(t.fake.threads().len(), 1, "no thread in a thread");

    // An adviser (or anyone but the asker) talking in the thread is not a follow-up:
    // not answered, not queued.
    aside_then_follow_up(&t, question, TITLE_NB).await;
    assert_eq!(
        t.open_items().await,
        0,
        "nothing queued for the adviser's aside"
    );
}

/// The asker follows up briefly in the bot's thread `thread` (opened on [`ANSWERED_NB`]):
/// answered there, read together with the thread's question. Returns the answer.
pub(super) async fn follow_up_in(t: &TestBot, thread: u64) -> Posted {
    let follow_up = t
        .fake
        .send_message(thread, ids::SUPPLIER_USER, "Hvem kan delta?");
    let answer = t.reply_to(follow_up).await;
    assert_eq!(answer.channel_id, thread);
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    answer
}

/// Thread mode, [`ANSWERED_NB`] asked in the Q&A channel: returns the thread the bot
/// opened on it (it has the question's id) once the answer is in it.
pub(super) async fn question_in_a_thread(t: &TestBot) -> u64 {
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    t.fake
        .wait_for_post(WAIT, |p| p.channel_id == question)
        .await;
    question
}

/// In the bot's thread `thread` (opened on [`ANSWERED_NB`]) an adviser says something,
/// then the asker follows up briefly: only the asker is answered, in the thread, with
/// `expected` (the thread question's title when the bot can read the two together).
pub(super) async fn aside_then_follow_up(t: &TestBot, thread: u64, expected: &str) -> Posted {
    let aside = t.fake.send_message(
        thread,
        ids::ADVISER_USER,
        "Jeg tar kontakt med deg på e-post om dette.",
    );
    let follow_up = t
        .fake
        .send_message(thread, ids::SUPPLIER_USER, "Hvem kan delta?");
    let answer = t.reply_to(follow_up).await;
    assert_eq!(answer.channel_id, thread);
    assert!(answer.content.contains(expected), "{}", answer.content);
    assert_eq!(t.fake.threads().len(), 1, "no thread in a thread");
    t.fake
        .assert_no_post(Duration::from_millis(300), |p| p.reply_to() == Some(aside))
        .await;
    answer
}

/// The thread's question is kept in the database: a follow-up after a restart is still
/// read with it, and only the asker's messages are follow-ups; forgetting the asker
/// renames the thread although this run of the bot never opened it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_follow_ups_keep_their_question_across_a_restart() {
    let mut t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    let question = question_in_a_thread(&t).await;
    t.restart().await;
    aside_then_follow_up(&t, question, TITLE_NB).await;

    forget_the_supplier(&t).await;
    t.fake
        .wait_for_request(WAIT, |r| {
            r.method == "PATCH" && r.path.ends_with(&question.to_string())
        })
        .await;
    assert_eq!(t.fake.threads()[0].name, "Spørsmål (slettet)");
    assert_eq!(
        t.store().thread(&question.to_string()).await.unwrap(),
        None,
        "the question is forgotten with its asker"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everyone_and_role_mentions_are_answered_without_pinging() {
    let t = spawn_bot(|_, _| {}).await;
    let text = format!("@everyone <@&{}> {ANSWERED_NB}", ids::ADVISER_ROLE);
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, &text);
    let answer = t.reply_to(question).await;
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    assert!(!answer.content.contains("@everyone"));
    assert_no_mentions(&answer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_is_in_the_users_language() {
    let t = spawn_bot(|_, _| {}).await;
    // The fake's interactions carry the locale "no".
    let command = t
        .fake
        .slash_command(ids::SUPPLIER_USER, ids::QA_CHANNEL, "help", json!(null));
    let help = t.interaction_reply(command).await;
    assert!(help.is_ephemeral());
    assert!(
        help.content.contains("Slik spør du") && help.content.contains("/forget-me"),
        "{}",
        help.content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_me_deletes_the_users_queued_questions() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;
    assert_eq!(t.open_items().await, 1);

    let ask = t.forget_me_prompt().await;
    assert!(ask.is_ephemeral());
    let yes = ask
        .custom_ids()
        .into_iter()
        .find(|c| c.starts_with("anbud:forget:yes:"))
        .expect("a confirm button");

    // Someone else's click does nothing.
    t.fake
        .button_click(ids::ADVISER_USER, ids::QA_CHANNEL, ask.message_id, &yes);
    t.fake
        .wait_for_callback(WAIT, |c| c.content().contains("ikke til deg"))
        .await;
    assert_eq!(t.open_items().await, 1);

    let click = t
        .fake
        .button_click(ids::SUPPLIER_USER, ids::QA_CHANNEL, ask.message_id, &yes);
    let done = t
        .fake
        .wait_for_post(WAIT, |p| p.interaction_id == Some(click))
        .await;
    assert_eq!(done.source, PostSource::InteractionOriginalEdit);
    assert_eq!(done.message_id, ask.message_id, "the question is replaced");
    let acknowledged = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == click)
        .await;
    assert_eq!(
        acknowledged.kind,
        crate::fake_discord::callback_type::DEFERRED_UPDATE
    );
    assert!(
        done.content.contains("slettet 1 spørsmål"),
        "{}",
        done.content
    );
    assert!(done.components.is_empty());
    assert_eq!(t.open_items().await, 0);
}

/// "Not helpful" on an answer sent before a restart queues that answer's question, not
/// whichever question got the same key after the restart; a private answer's button from
/// before the restart says it has expired (and the click does not fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_from_before_a_restart_keep_their_meaning_or_say_they_expired() {
    let mut t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    let topic = t.click(ids::SUPPLIER_USER, &answer, "anbud:topic:");
    let private = t.interaction_reply(topic).await;
    assert!(private.is_ephemeral());

    t.restart().await;
    // After the restart another user asks; their answer's buttons are numbered afresh.
    let other = t.fake.send_message(
        ids::QA_CHANNEL,
        ids::ADVISER_USER,
        "What is a dialogue conference?",
    );
    t.reply_to(other).await;

    let click = t.click(ids::SUPPLIER_USER, &answer, "anbud:fb:n:");
    t.interaction_reply(click).await;
    let items = t.store().list_queue(Some(QueueStatus::Open)).await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        items[0].question, ANSWERED_NB,
        "the old answer's own question"
    );

    let click = t.click(ids::SUPPLIER_USER, &private, "anbud:fb:n:");
    let expired = t.interaction_reply(click).await;
    assert!(expired.is_ephemeral());
    assert!(expired.content.contains("utløpt"), "{}", expired.content);
    assert_eq!(
        t.open_items().await,
        1,
        "nothing queued for an expired button"
    );

    // A button in a format the bot no longer writes is answered too.
    let click = t.fake.button_click(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        answer.message_id,
        "anbud:fb:n:nb:1:dialogkonferanse",
    );
    let expired = t.interaction_reply(click).await;
    assert!(expired.content.contains("utløpt"), "{}", expired.content);
}

/// A question in a thread a member opened under a Q&A channel counts as asked in that
/// channel: answered there. A thread under another channel does not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thread_under_a_qa_channel_counts_as_that_channel() {
    let t = spawn_bot(|_, _| {}).await;
    let under_qa = t
        .fake
        .user_creates_thread(ids::QA_CHANNEL, "Spørsmål om dialog");
    let elsewhere = t.fake.user_creates_thread(ids::GENERAL_CHANNEL, "Lunsj");
    let ignored = t
        .fake
        .send_message(elsewhere, ids::SUPPLIER_USER, ANSWERED_NB);
    let question = t
        .fake
        .send_message(under_qa, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert_eq!(answer.channel_id, under_qa);
    assert!(answer.content.contains(TITLE_NB), "{}", answer.content);
    t.fake
        .assert_no_post(Duration::from_millis(300), |p| {
            p.reply_to() == Some(ignored)
        })
        .await;
}

/// `/forget-me` also renames the threads the bot opened on the user's questions: their
/// name was the question.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_me_renames_the_threads_named_after_the_users_questions() {
    let t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.fake
        .wait_for_post(WAIT, |p| p.channel_id == question)
        .await;
    assert_eq!(t.fake.threads()[0].name, OFF_TOPIC);
    let ask = t.forget_me_prompt().await;
    let click = t.click(ids::SUPPLIER_USER, &ask, "anbud:forget:yes:");
    t.fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(click) && p.content.contains("slettet")
        })
        .await;
    t.fake
        .wait_for_request(WAIT, |r| {
            r.method == "PATCH" && r.path.ends_with(&question.to_string())
        })
        .await;
    let thread = &t.fake.threads()[0];
    assert_eq!(thread.name, "Spørsmål (slettet)");
    assert!(!thread.name.contains("Bergen"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_me_redacts_the_advisers_alert_that_quotes_the_question() {
    // No pause between the alert and the forget: a forget before the bot has stored
    // where the alert is must find it as well as one after (see the next test).
    alert_then_forget(false).await;
}

/// The alert appears in the advisers' channel, but Discord's answer (with its id) is
/// slow to reach the bot, and the asker is forgotten meanwhile: the forget cannot see
/// the alert, so the bot redacts it once the answer arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forget_me_while_the_alert_is_being_posted_still_redacts_it() {
    alert_then_forget(true).await;
}

/// The supplier's question is alerted to the advisers and the supplier forgotten at
/// once (with Discord's answer to the alert post `held` until after the forget); the
/// alert must end up redacted.
async fn alert_then_forget(held: bool) {
    let t = spawn_bot(|_, _| {}).await;
    if held {
        t.fake.hold_answers_to_posts_in(ids::ADVISERS_CHANNEL);
    }
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;
    let alert = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ADVISERS_CHANNEL)
        .await;
    assert!(alert.content.contains(OFF_TOPIC), "{}", alert.content);
    forget_the_supplier(&t).await;
    t.fake.release_answers_to_posts_in(ids::ADVISERS_CHANNEL);
    expect_the_alert_redacted(&t, &alert).await;
}

/// The supplier runs `/forget-me`, confirms, and is told their data is deleted.
async fn forget_the_supplier(t: &TestBot) {
    let ask = t.forget_me_prompt().await;
    let click = t.click(ids::SUPPLIER_USER, &ask, "anbud:forget:yes:");
    t.fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(click) && p.content.contains("slettet")
        })
        .await;
}

/// Wait for `alert` to be edited into the note that the question was deleted.
async fn expect_the_alert_redacted(t: &TestBot, alert: &Posted) {
    let edited = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.source == PostSource::ChannelMessageEdit && p.message_id == alert.message_id
        })
        .await;
    assert_eq!(edited.channel_id, ids::ADVISERS_CHANNEL);
    assert_eq!(
        edited.content,
        "(spørsmålet er slettet etter ønske fra den som spurte)"
    );
    assert_no_mentions(&edited);
    let stored = t
        .fake
        .message(alert.message_id)
        .expect("the alert is still there");
    let content = stored["content"].as_str().unwrap_or_default();
    assert!(!content.contains(OFF_TOPIC), "{content}");
    assert!(!content.contains("Bergen"), "{content}");
}
