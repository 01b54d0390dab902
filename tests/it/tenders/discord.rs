//! `/tenders` in Discord against the fake Discord: the private list, setting, listing and
//! removing an alert, and the alert arriving once by direct message.

use std::time::Duration;

use anbud::tenders::model::parse_search_page;
use anbud::tenders::Vocabulary;
use chrono::Utc;
use serde_json::json;

use super::fixture;
use crate::fake_discord::ids;
use crate::support::{assert_no_mentions, options, spawn_bot, subcommand, WAIT};

fn notices(name: &str) -> Vec<anbud::tenders::Notice> {
    parse_search_page(&fixture(name), Vocabulary::bundled())
        .unwrap()
        .notices
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenders_list_watch_and_one_alert_by_direct_message() {
    let t = spawn_bot(|s, _| s.announcements.scheduler_tick_ms = 100).await;
    t.store()
        .store_tenders(&notices("first.json"), Utc::now())
        .await
        .unwrap();

    // The list: private, with title, buyer, kind, a Discord timestamp and the link.
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::GENERAL_CHANNEL,
        "tenders",
        subcommand("list", options(&[("region", json!("Akershus"))])),
    );
    let list = t.interaction_reply(command).await;
    assert!(list.is_ephemeral());
    assert_no_mentions(&list);
    assert!(
        list.content
            .contains("Renholdstjenester for kommunale bygg"),
        "{}",
        list.content
    );
    assert!(
        list.content.contains("Nordre Follo kommune"),
        "{}",
        list.content
    );
    assert!(list.content.contains("<t:"), "{}", list.content);
    assert!(
        list.content
            .contains("https://doffin.no/notices/2026-200002"),
        "{}",
        list.content
    );
    assert!(!list.content.contains("Oslo kommune"), "{}", list.content);

    // "Share in channel" posts the same notices publicly.
    let click = t.click(ids::SUPPLIER_USER, &list, "anbud:tshare:");
    let shared = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.channel_id == ids::GENERAL_CHANNEL
                && !p.is_ephemeral()
                && p.content.contains("doffin.no")
        })
        .await;
    assert!(
        shared
            .content
            .contains("https://doffin.no/notices/2026-200002"),
        "{}",
        shared.content
    );
    assert!(
        shared.content.contains(&ids::SUPPLIER_USER.to_string()),
        "{}",
        shared.content
    );
    assert_no_mentions(&shared);
    let _ = click;

    // A question for tenders gets the notices under the answer.
    let question = t.fake.send_message(
        ids::QA_CHANNEL,
        ids::SUPPLIER_USER,
        "upcoming cleaning tenders in Akershus",
    );
    let answer = t.reply_to(question).await;
    assert!(
        answer.content.contains("Current notices from Doffin"),
        "{}",
        answer.content
    );
    assert!(
        answer
            .content
            .contains("https://doffin.no/notices/2026-200001"),
        "{}",
        answer.content
    );
    assert!(
        !answer.content.contains("2026-200003"),
        "{}",
        answer.content
    );
    assert_no_mentions(&answer);

    // An unknown region is said, not silently an empty list.
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::GENERAL_CHANNEL,
        "tenders",
        subcommand("list", options(&[("region", json!("Narnia"))])),
    );
    let bad = t.interaction_reply(command).await;
    assert!(bad.content.contains("Narnia"), "{}", bad.content);

    // An alert for cleaning in Follo.
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::GENERAL_CHANNEL,
        "tenders",
        subcommand(
            "watch",
            options(&[("query", json!("renhold")), ("region", json!("Follo"))]),
        ),
    );
    let set = t.interaction_reply(command).await;
    assert!(set.is_ephemeral());
    assert!(set.content.contains("#1"), "{}", set.content);
    let watches = t.store().tender_watches(None).await.unwrap();
    assert_eq!(watches.len(), 1);
    assert_eq!(watches[0].user_id, ids::SUPPLIER_USER.to_string());

    // A sync brings a new matching notice (and a republished one, not new): one DM.
    t.store()
        .store_tenders(&notices("changed.json"), Utc::now())
        .await
        .unwrap();
    let dm_channel = t.fake.dm_channel_id(ids::SUPPLIER_USER);
    let dm = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.channel_id == dm_channel && p.content.contains("doffin.no")
        })
        .await;
    assert!(dm.content.contains("2026-200008"), "{}", dm.content);
    assert!(
        !dm.content.contains("2026-200007"),
        "republished, not new: {}",
        dm.content
    );
    assert_no_mentions(&dm);
    t.fake
        .assert_no_post(Duration::from_millis(800), |p| {
            p.channel_id == dm_channel && p.message_id != dm.message_id
        })
        .await;

    // Listed, then removed.
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::GENERAL_CHANNEL,
        "tenders",
        subcommand("watches", json!([])),
    );
    let listed = t.interaction_reply(command).await;
    assert!(listed.content.contains("#1"), "{}", listed.content);
    assert!(listed.content.contains("renhold"), "{}", listed.content);
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::GENERAL_CHANNEL,
        "tenders",
        subcommand("unwatch", options(&[("id", json!(1))])),
    );
    let removed = t.interaction_reply(command).await;
    assert!(removed.content.contains("#1"), "{}", removed.content);
    assert!(t.store().tender_watches(None).await.unwrap().is_empty());
    t.fake.assert_no_unknown_routes();
}
