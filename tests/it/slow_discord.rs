//! Issue 18.4 end to end: two `anbud serve` processes share one database and a Discord
//! that takes 800 ms to answer every post. Advisers' long answers (three messages each)
//! and a late announcement (two messages) take longer to post than a claim's lease
//! (`claims.lease_ms` = 1,500 here), so only a claim renewed while posting keeps the other
//! bot away. Every message reaches Discord exactly once.

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use anbud::store::{AnnouncementStatus, NewAnnouncement, Origin, QueueStatus, Source};
use chrono::{TimeDelta, Utc};

use crate::fake_discord::{ids, FakeDiscord, FakeGuild, TOKEN};
use crate::store::{count, unanswered, TestDb};

/// The paragraphs of the answer to item `item`: each starts with its own marker, and
/// together they need three Discord messages.
fn long_answer(item: char) -> String {
    (1..=15)
        .map(|n| {
            format!(
                "{item}-{n:02} Svaret om kvalifikasjonsordninger fortsetter her med mer tekst, \
                 slik at hvert avsnitt blir langt nok til at hele svaret må deles i tre \
                 meldinger når det sendes til den som spurte i kanalen."
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A running `anbud serve`, killed when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(url: &str, fake: &FakeDiscord) -> Serve {
    let mut child = crate::anbud_on(url)
        .env("DISCORD_TOKEN", TOKEN)
        .env("ANBUD__DISCORD__API_URL", fake.api_url())
        .env("ANBUD__DISCORD__TEST_WITHOUT_RATE_LIMITER", "true")
        .env("ANBUD__CLAIMS__LEASE_MS", "1500")
        .env("ANBUD__ANNOUNCEMENTS__SCHEDULER_TICK_MS", "200")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the log while the bot runs: a full pipe would block it.
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
    Serve(child)
}

async fn two_bots_and_a_slow_discord(db: &TestDb) {
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    fake.answer_posts_slowly(Duration::from_millis(800));
    let store = db.store().await;
    let in_channel = Origin {
        source: Source::Discord,
        guild_id: Some(ids::GUILD.to_string()),
        channel_id: Some(ids::QA_CHANNEL.to_string()),
        message_id: None,
        thread_id: None,
        user_id: Some(ids::SUPPLIER_USER.to_string()),
    };
    let items = ['A', 'B', 'C'];
    for (n, item) in items.iter().enumerate() {
        let question = format!("Spørsmål {item} nummer {n} om kvalifikasjonsordninger?");
        let id = store
            .log_unanswered(&unanswered(&question, in_channel.clone()))
            .await
            .unwrap()
            .item_id;
        store
            .answer_item(id, &long_answer(*item), "adviser")
            .await
            .unwrap();
    }
    let now = Utc::now();
    let announcement = NewAnnouncement {
        channel_id: ids::ANNOUNCEMENTS_CHANNEL,
        text: format!("ANN-1 {}", "Velkommen til leverandørdagen. ".repeat(63)),
        publish_at: now - TimeDelta::minutes(10),
        created_by: "organiser".into(),
    };
    let announcement = store
        .add_announcement(&announcement, now - TimeDelta::hours(1))
        .await
        .unwrap()
        .id;

    let bots = [serve(&db.url, &fake), serve(&db.url, &fake)];
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        // Counted behind the store's back: nothing here claims a reply.
        let sql = "SELECT COUNT(*) FROM outbox WHERE status = 'pending'";
        let replies_left = count(&db.url, sql).await;
        let posted = store.get_announcement(announcement).await.unwrap().status
            == AnnouncementStatus::Posted;
        if replies_left == 0 && posted {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not everything was posted in time"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // A second bot that took a reply over would be posting it now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    drop(bots);

    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for post in fake.posted() {
        for word in post.content.split_whitespace() {
            let marker = word.len() == 4 && word.as_bytes()[1] == b'-';
            if marker || word == "ANN-1" || word == "(Forsinket:" {
                *seen.entry(word.to_string()).or_insert(0) += 1;
            }
        }
    }
    let expected: usize = items.len() * 15 + 2;
    assert_eq!(seen.len(), expected, "every paragraph posted: {seen:?}");
    assert!(
        seen.values().all(|n| *n == 1),
        "posted more than once: {seen:?}"
    );
    let items = store.list_queue(Some(QueueStatus::Answered)).await.unwrap();
    assert_eq!(items.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_bots_and_a_slow_discord_post_every_message_once() {
    two_bots_and_a_slow_discord(&TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_bots_and_a_slow_discord_post_every_message_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    two_bots_and_a_slow_discord(&db).await;
}
