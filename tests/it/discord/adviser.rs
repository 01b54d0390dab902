//! Advisers' side end to end: the queue, answers reaching askers, the knowledge commands
//! and form, and refusals for everyone else.

use super::*;
use anbud::knowledge::Lang;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advisers_answer_reaches_the_asker_in_the_channel() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;
    t.fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ADVISERS_CHANNEL)
        .await;

    let text = "Boten svarer ikke på vær, men yr.no gjør det.";
    let command = answer_item(&t, 1, text);
    let confirmation = t.interaction_reply(command).await;
    assert!(confirmation.is_ephemeral());
    assert!(
        confirmation.content.contains("#1"),
        "{}",
        confirmation.content
    );

    let delivered = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.reply_to() == Some(question) && p.content.contains(text)
        })
        .await;
    assert_eq!(delivered.channel_id, ids::QA_CHANNEL);
    assert!(
        delivered.content.contains("> Hva blir været"),
        "{}",
        delivered.content
    );
    // Hours later the asker must hear of it: the reply pings them, and only them.
    assert_notifies_only(&delivered, ids::SUPPLIER_USER);
    assert_eq!(
        t.store()
            .list_queue(Some(QueueStatus::Answered))
            .await
            .unwrap()
            .len(),
        1
    );
}

/// A supplier asks what the bot cannot answer; returns the question's id once the
/// advisers have been alerted to it (queue item #1 in a fresh bot).
async fn queue_off_topic(t: &TestBot) -> u64 {
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ADVISERS_CHANNEL)
        .await;
    question
}

/// An adviser runs `/kb edit id:…`; returns the interaction id.
fn kb_edit(t: &TestBot, id: &str) -> u64 {
    let edit = json!([{ "name": "edit", "type": 1, "options": [{ "name": "id", "type": 3, "value": id }] }]);
    t.fake
        .slash_command(ids::ADVISER_USER, ids::ADVISERS_CHANNEL, "kb", edit)
}

/// An adviser runs `/answer id:… text:…`; returns the interaction id.
fn answer_item(t: &TestBot, id: i64, text: &str) -> u64 {
    t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "answer",
        options(&[("id", json!(id)), ("text", json!(text))]),
    )
}

/// `p` may notify `user` (by its reply, or a mention when it replies to nothing) and
/// nobody else: no @everyone, no roles, no other users.
fn assert_notifies_only(p: &Posted, user: u64) {
    let allowed = p.allowed_mentions.as_ref().expect("allowed_mentions");
    assert_eq!(allowed["parse"], json!([]), "{allowed}");
    assert_eq!(allowed["users"], json!([user.to_string()]), "{allowed}");
    assert!(
        allowed
            .get("roles")
            .is_none_or(|v| v.as_array().is_some_and(|a| a.is_empty())),
        "{allowed}"
    );
    match p.reply_to() {
        Some(_) => assert_eq!(allowed["replied_user"], json!(true), "{allowed}"),
        None => assert!(
            p.content.starts_with(&format!("<@{user}>")),
            "{}",
            p.content
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_advisers_are_refused_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = dir.path().join("knowledge");
    copy_dir(&knowledge_dir(), &knowledge);
    let k = knowledge.clone();
    let t = spawn_bot(move |s, _| s.knowledge.dir = k).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;

    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "answer",
        options(&[("id", json!(1)), ("text", json!("Sol."))]),
    );
    let refusal = t.interaction_reply(command).await;
    assert!(refusal.is_ephemeral());
    assert!(
        refusal.content.contains("bare for rådgivere"),
        "{}",
        refusal.content
    );
    assert_eq!(t.open_items().await, 1, "the item is still open");

    // A new entry on disk is not picked up when a non-adviser asks for a reload.
    let before = t.app.answerer().knowledge().ids().len();
    std::fs::copy(
        knowledge.join("entries/dialogue-conference.nb.md"),
        knowledge.join("entries/zz-copy.nb.md"),
    )
    .unwrap();
    let text = std::fs::read_to_string(knowledge.join("entries/zz-copy.nb.md"))
        .unwrap()
        .replace("id = \"dialogue-conference\"", "id = \"zz-copy\"");
    std::fs::write(knowledge.join("entries/zz-copy.nb.md"), text).unwrap();
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "kb",
        json!([{ "name": "reload", "type": 1, "options": [] }]),
    );
    let refusal = t.interaction_reply(command).await;
    assert!(
        refusal.content.contains("bare for rådgivere"),
        "{}",
        refusal.content
    );
    assert_eq!(t.app.answerer().knowledge().ids().len(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_reload_with_a_broken_file_keeps_answering_and_reports_path_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let knowledge = dir.path().join("knowledge");
    copy_dir(&knowledge_dir(), &knowledge);
    let k = knowledge.clone();
    let t = spawn_bot(move |s, _| s.knowledge.dir = k).await;
    std::fs::write(
        knowledge.join("entries/broken.nb.md"),
        "+++\nid = \"broken\"\nthis is not toml\n+++\nBody\n",
    )
    .unwrap();

    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "kb",
        json!([{ "name": "reload", "type": 1, "options": [] }]),
    );
    let report = t.interaction_reply(command).await;
    assert!(report.is_ephemeral());
    assert!(
        report.content.contains("broken.nb.md:"),
        "{}",
        report.content
    );
    assert!(
        regex::Regex::new(r"broken\.nb\.md:\d+:")
            .unwrap()
            .is_match(&report.content),
        "{}",
        report.content
    );

    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    assert!(t.reply_to(question).await.content.contains(TITLE_NB));

    // Fixed: the reload succeeds.
    std::fs::remove_file(knowledge.join("entries/broken.nb.md")).unwrap();
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "kb",
        json!([{ "name": "reload", "type": 1, "options": [] }]),
    );
    let report = t.interaction_reply(command).await;
    assert!(
        report.content.contains("Lastet inn på nytt"),
        "{}",
        report.content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advisers_list_show_dismiss_and_count() {
    let t = spawn_bot(|_, _| {}).await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, OFF_TOPIC);
    t.reply_to(question).await;

    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "unanswered",
        json!(null),
    );
    let list = t.interaction_reply(command).await;
    assert!(list.is_ephemeral());
    assert!(
        list.content.contains("#1") && list.content.contains(OFF_TOPIC),
        "{}",
        list.content
    );

    let show = json!([{ "name": "show", "type": 1, "options": [{ "name": "id", "type": 3, "value": "dialogue-conference" }] }]);
    let command = t
        .fake
        .slash_command(ids::ADVISER_USER, ids::ADVISERS_CHANNEL, "kb", show);
    let shown = t.interaction_reply(command).await;
    assert!(
        shown.content.contains(TITLE_NB) && shown.content.contains("dialogue-conference.nb.md"),
        "{}",
        shown.content
    );

    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "stats",
        json!(null),
    );
    let stats = t.interaction_reply(command).await;
    assert!(
        stats.content.contains("Spørsmål: 1") && stats.content.contains("Åpne i køen: 1"),
        "{}",
        stats.content
    );

    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "dismiss",
        options(&[("id", json!(1)), ("reason", json!("off topic"))]),
    );
    let dismissed = t.interaction_reply(command).await;
    assert!(
        dismissed.content.contains("Avviste #1"),
        "{}",
        dismissed.content
    );
    assert_eq!(t.open_items().await, 0);

    // Answering a dismissed item is refused with the reason, not an apology.
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "answer",
        options(&[("id", json!(1)), ("text", json!("For sent."))]),
    );
    let refused = t.interaction_reply(command).await;
    assert!(refused.content.contains("dismissed"), "{}", refused.content);
}

/// An adviser runs `/kb add`; returns the command's interaction id and the custom id
/// of the form it opened.
async fn kb_add(t: &TestBot) -> (u64, String) {
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "kb",
        json!([{ "name": "add", "type": 1, "options": [] }]),
    );
    let modal = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == command)
        .await;
    assert_eq!(modal.kind, crate::fake_discord::callback_type::MODAL);
    (
        command,
        modal.data["custom_id"].as_str().unwrap().to_string(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_add_and_edit_through_the_form_teach_the_bot() {
    let t = spawn_bot(|_, _| {}).await;
    let (_, modal_id) = kb_add(&t).await;
    let submit = t.fake.modal_submit(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        &modal_id,
        &[
            ("title", "Parkering ved rådhuset under dialogkonferanser"),
            ("body", "Leverandører kan parkere gratis i rådhusets kjeller når de deltar på dialogkonferanser."),
            ("questions", "Hvor kan jeg parkere ved rådhuset?\nEr det gratis parkering ved rådhuset?"),
            ("source_name", "Kommunens parkeringsside"),
            ("source_url", "https://example.kommune.no/parkering"),
        ],
    );
    let saved = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(submit) && p.content.contains("Lagret")
        })
        .await;
    assert!(
        saved.content.contains("learned-parkering-ved-radhuset"),
        "{}",
        saved.content
    );

    let question = t.fake.send_message(
        ids::QA_CHANNEL,
        ids::SUPPLIER_USER,
        "Hvor kan jeg parkere ved rådhuset?",
    );
    let answer = t.reply_to(question).await;
    assert!(
        answer.content.contains("Parkering ved rådhuset"),
        "{}",
        answer.content
    );
    assert!(
        answer
            .content
            .contains("Kommunens parkeringsside](<https://example.kommune.no/parkering>)"),
        "{}",
        answer.content
    );

    // Edit: the form opens with the entry's text; the saved version answers.
    let command = kb_edit(&t, "dialogue-conference");
    let modal = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == command)
        .await;
    assert!(
        modal.data.to_string().contains(TITLE_NB),
        "the form is filled in"
    );
    let modal_id = modal.data["custom_id"].as_str().unwrap().to_string();
    let submit = t.fake.modal_submit(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        &modal_id,
        &[
            ("title", "Dialogkonferanse (oppdatert)"),
            (
                "body",
                "En dialogkonferanse er et åpent møte der kommunen presenterer et behov.",
            ),
            ("questions", "Hva er en dialogkonferanse?"),
            ("source_name", "DFØ"),
            ("source_url", ""),
        ],
    );
    t.fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(submit) && p.content.contains("Lagret")
        })
        .await;
    let question = t
        .fake
        .send_message(ids::QA_CHANNEL, ids::SUPPLIER_USER, ANSWERED_NB);
    let answer = t.reply_to(question).await;
    assert!(
        answer.content.contains("Dialogkonferanse (oppdatert)"),
        "{}",
        answer.content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_whose_channel_is_gone_goes_by_direct_message() {
    use anbud::store::{NewUnanswered, Origin, Reason, Source};
    let t = spawn_bot(|_, _| {}).await;
    let gone = NewUnanswered {
        question: "Kan jeg levere tilbud på papir?".into(),
        lang: Lang::Nb,
        origin: Origin {
            source: Source::Discord,
            guild_id: Some(ids::GUILD.to_string()),
            channel_id: Some("1100000000000000999".into()),
            message_id: Some("1100000000000000998".into()),
            thread_id: None,
            user_id: Some(ids::SUPPLIER_USER.to_string()),
        },
        best_candidate: None,
        score: 0.0,
        reason: Reason::Abstained,
        asked_at: chrono::Utc::now(),
    };
    let logged = t.store().log_unanswered(&gone).await.unwrap();
    anbud::adviser::answer(
        &t.app,
        logged.item_id,
        "Nei, tilbud leveres elektronisk.",
        "tester",
        anbud::adviser::Learn::Nothing,
    )
    .await
    .unwrap();
    let dm = t.fake.dm_channel_id(ids::SUPPLIER_USER);
    let delivered = t.fake.wait_for_post(WAIT, |p| p.channel_id == dm).await;
    assert!(
        delivered.content.contains("leveres elektronisk")
            && delivered.content.contains("> Kan jeg levere"),
        "{}",
        delivered.content
    );
    assert_no_mentions(&delivered);
}

/// In thread mode the answer goes into the asker's thread without a reply to point at:
/// it mentions the asker, and only the asker may be notified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_advisers_answer_in_a_thread_mentions_the_asker() {
    let t = spawn_bot(|s, _| s.discord.reply_mode = ReplyMode::Thread).await;
    let question = queue_off_topic(&t).await;
    let text = "Boten svarer ikke på vær, men yr.no gjør det.";
    let command = answer_item(&t, 1, text);
    t.interaction_reply(command).await;
    let delivered = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.channel_id == question && p.content.contains(text)
        })
        .await;
    assert_eq!(delivered.reply_to(), None);
    assert_notifies_only(&delivered, ids::SUPPLIER_USER);
}

/// `/kb edit` on an entry with more example questions than a form field holds: the form
/// is pre-filled within Discord's limits (the fake refuses a value over max_length, as
/// Discord does, and the adviser would see "This interaction failed").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kb_edit_prefills_the_form_within_discords_limits() {
    let knowledge = crate::support::knowledge_copy();
    let file = knowledge.path().join("entries/dialogue-conference.nb.md");
    let many: String = (0..80)
        .map(|i| {
            format!("  \"Spørsmål nummer {i} om dialogkonferanser og hvordan man deltar?\",\n")
        })
        .collect();
    let text = std::fs::read_to_string(&file).unwrap().replacen(
        "questions = [\n",
        &format!("questions = [\n{many}"),
        1,
    );
    std::fs::write(&file, text).unwrap();
    let dir = knowledge.path().to_path_buf();
    let t = spawn_bot(move |s, _| s.knowledge.dir = dir).await;
    let command = kb_edit(&t, "dialogue-conference");
    let modal = t
        .fake
        .wait_for_callback(Duration::from_secs(20), |c| {
            c.interaction_id == command && c.kind == crate::fake_discord::callback_type::MODAL
        })
        .await;
    let questions = modal.data["components"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["components"].as_array().unwrap().iter())
        .find(|input| {
            input["label"]
                .as_str()
                .unwrap_or("")
                .starts_with("Eksempel")
        })
        .expect("the questions field")["value"]
        .as_str()
        .unwrap()
        .chars()
        .count();
    assert!((3000..=4000).contains(&questions), "{questions}");
    drop(knowledge);
}

/// A form submitted when no command waits for it any more (after its time, or a
/// restart) is answered, privately, with the user's text given back: never lost, never
/// "This interaction failed".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_nobody_waits_for_gives_the_text_back() {
    let t = spawn_bot(|_, _| {}).await;
    let body = "Første linje av svaret.\nAndre linje, med detaljer.";
    let submit = t.fake.modal_submit(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "1100000000000000999",
        &[("title", "Parkering"), ("body", body)],
    );
    let back = t.interaction_reply(submit).await;
    assert!(back.is_ephemeral());
    assert!(
        back.content.contains("ingenting er lagret"),
        "{}",
        back.content
    );
    assert!(back.content.contains(body), "{}", back.content);
    assert_no_mentions(&back);
}

/// The command's token runs out 15 minutes after `/kb add`, and the form may stay open
/// longer: the entry is still saved, and the confirmation goes on the submission's own
/// interaction (the command's token would get 401 and the adviser would see nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_submitted_after_the_commands_token_ran_out_is_saved_and_confirmed() {
    let t = spawn_bot(|_, _| {}).await;
    let (command, modal_id) = kb_add(&t).await;
    t.fake.expire_interaction_token(command);
    let submit = t.fake.modal_submit(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        &modal_id,
        &[
            ("title", "Sykkelparkering ved rådhuset"),
            ("body", "Sykkelstativene står ved hovedinngangen."),
            ("questions", "Hvor kan jeg parkere sykkelen?"),
            ("source_name", "Kommunen"),
            ("source_url", ""),
        ],
    );
    let saved = t.interaction_reply(submit).await;
    assert!(saved.is_ephemeral());
    assert!(
        saved
            .content
            .contains("learned-sykkelparkering-ved-radhuset"),
        "{}",
        saved.content
    );
    let stored = t.store().learned_entries().await.unwrap();
    assert!(
        stored
            .iter()
            .any(|e| e.id == "learned-sykkelparkering-ved-radhuset"),
        "{stored:?}"
    );
    let refused: Vec<_> = t
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.status == 401)
        .map(|r| r.path)
        .collect();
    assert!(refused.is_empty(), "used the expired token: {refused:?}");
}

/// `/answer id` without `text` opens a form with a paragraph field: an answer of several
/// lines reaches the asker with its line breaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_without_text_takes_several_lines_in_a_form() {
    let t = spawn_bot(|_, _| {}).await;
    let question = queue_off_topic(&t).await;
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "answer",
        options(&[("id", json!(1))]),
    );
    let text = "Boten svarer ikke på vær.\n\nPrøv yr.no, eller\nspør Meteorologisk institutt.";
    let submit = t
        .fill_text_form(command, ids::ADVISER_USER, ids::ADVISERS_CHANNEL, text)
        .await;
    let delivered = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.reply_to() == Some(question) && p.content.contains("yr.no")
        })
        .await;
    assert!(delivered.content.contains(text), "{}", delivered.content);
    let confirmation = t.interaction_reply(submit).await;
    assert!(
        confirmation.content.contains("#1"),
        "{}",
        confirmation.content
    );
}

/// An adviser's answer too long for one message goes out in two; Discord fails the
/// second with a 500 once. The second is sent again, the first is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_that_failed_halfway_is_not_posted_again_from_the_start() {
    let t = spawn_bot(|_, _| {}).await;
    queue_off_topic(&t).await;
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::ADVISERS_CHANNEL,
        "answer",
        options(&[("id", json!(1))]),
    );
    let middle = "Boten svarer bare på spørsmål om offentlige anskaffelser. ".repeat(50);
    let text = format!("FØRSTE DEL. {middle}SISTE DEL.");
    let qa_posts = format!("/channels/{}/messages", ids::QA_CHANNEL);
    t.fake
        .fail_requests_after("POST", &qa_posts, 1, 1, 500, "Internal Server Error", 0);
    t.fill_text_form(command, ids::ADVISER_USER, ids::ADVISERS_CHANNEL, &text)
        .await;
    t.fake
        .wait_for_post(WAIT, |p| {
            p.channel_id == ids::QA_CHANNEL && p.content.contains("SISTE DEL.")
        })
        .await;
    let firsts = t
        .fake
        .posted()
        .into_iter()
        .filter(|p| p.channel_id == ids::QA_CHANNEL && p.content.contains("FØRSTE DEL."))
        .count();
    assert_eq!(firsts, 1, "the first part once");
    let failed = t.fake.requests().iter().filter(|r| r.status == 500).count();
    assert_eq!(failed, 1);
}
