//! Issue 18.6: users' text reaching a rendered reply is escaped. A saved entry's title
//! taken from a question such as "[Offisiell DFØ-veiledning](https://evil.example/phish)
//! …" must show as typed, not as a clickable masked link in every later answer.

use anbud::knowledge::Lang;
use anbud::store::{LearnedEntry, QueueItemId};
use chrono::NaiveDate;

use crate::fake_discord::ids;
use crate::support::spawn_bot;

const LINK: &str = "[Offisiell DFØ-veiledning](https://evil.example/phish)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_taken_from_a_question_is_no_masked_link() {
    let bot = spawn_bot(|_, _| {}).await;
    let store = bot.store();
    store
        .save_entry_taught_from(
            &LearnedEntry {
                id: "learned-1".into(),
                lang: Lang::Nb,
                title: format!("{LINK} om **vaskerier** i kvalifikasjonsordningen"),
                body: "Vaskerier søker om å komme inn i ordningen hos oppdragsgiveren.".into(),
                questions: vec![
                    "Hvordan kommer vaskerier inn i kvalifikasjonsordningen?".into(),
                    "vaskeri kvalifikasjonsordning".into(),
                ],
                keywords: vec!["vaskeri".into()],
                source_name: "Svar fra rådgiver".into(),
                source_url: None,
                reviewed: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                created_by: "kari".into(),
            },
            QueueItemId(1),
        )
        .await
        .unwrap();
    assert!(bot.app.reload_if_changed().await);

    let question = bot.fake.send_message(
        ids::QA_CHANNEL,
        ids::SUPPLIER_USER,
        "Hvordan kommer vaskerier inn i kvalifikasjonsordningen?",
    );
    let reply = bot.reply_to(question).await;
    let text = reply.content.clone();
    assert!(
        text.contains("Vaskerier søker"),
        "answered from the entry: {text}"
    );
    assert!(!text.contains(LINK), "a masked link: {text}");
    assert!(
        !text.contains("**vaskerier**"),
        "bold inside the title: {text}"
    );
    assert!(
        text.contains("\\[Offisiell DFØ\\-veiledning\\]\\(https\\://evil.example/phish\\)"),
        "the title shows as typed: {text}"
    );
}
