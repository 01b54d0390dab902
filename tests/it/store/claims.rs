//! Issue 18.4 for advisers' answers: replies claimed one at a time and held while they are
//! posted, however slow Discord is, and posted part by part, so a reply is never posted
//! twice by two bots and a failure halfway never posts the first parts again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anbud::delivery::{deliver_claimed, deliver_pending, Delivery, ReplySender, SendFuture};
use anbud::store::{DeliveryFailure, OutboxId, OutboxMessage, QueueItemId, Source, Store};

use super::{discord, execute, file, Bind, TestDb};

/// A Discord that takes `delay` for every message and records what it got; the n-th
/// message it is sent (counting from 1) it refuses, if told to.
struct SlowDiscord {
    delay: Duration,
    refuse_call: Option<usize>,
    calls: Mutex<usize>,
    posted: Mutex<Vec<(OutboxId, usize)>>,
}

impl SlowDiscord {
    fn new(delay: Duration, refuse_call: Option<usize>) -> SlowDiscord {
        SlowDiscord {
            delay,
            refuse_call,
            calls: Mutex::new(0),
            posted: Mutex::new(Vec::new()),
        }
    }

    /// How often each part of each reply was posted.
    fn tally(&self) -> HashMap<(OutboxId, usize), usize> {
        let mut counts = HashMap::new();
        for part in self.posted.lock().unwrap().iter() {
            *counts.entry(*part).or_insert(0) += 1;
        }
        counts
    }
}

impl ReplySender for SlowDiscord {
    type Error = String;

    /// Three parts per reply, as a long answer split into three messages.
    fn parts(&self, message: &OutboxMessage) -> Vec<String> {
        (1..=3)
            .map(|i| format!("{} ({i}/3)", message.text))
            .collect()
    }

    fn send_part<'a>(
        &'a self,
        message: &'a OutboxMessage,
        index: usize,
        _part: &'a str,
    ) -> SendFuture<'a, String> {
        Box::pin(async move {
            let call = {
                let mut calls = self.calls.lock().unwrap();
                *calls += 1;
                *calls
            };
            tokio::time::sleep(self.delay).await;
            if Some(call) == self.refuse_call {
                return Err("Discord answered 503".to_string());
            }
            self.posted.lock().unwrap().push((message.id, index));
            Ok(())
        })
    }
}

/// An item asked by `askers` users, answered: one reply each in the outbox.
async fn answered(store: &Store, askers: usize) -> QueueItemId {
    let mut item = None;
    for i in 0..askers {
        let origin = discord(&format!("u{i}"), &format!("m{i}"));
        item = Some(file(store, "Hva er en kvalifikasjonsordning?", origin).await);
    }
    let item = item.unwrap();
    store
        .answer_item(item, "En liste over kvalifiserte leverandører.", "adviser")
        .await
        .unwrap();
    item
}

async fn two_bots_and_a_slow_discord_post_every_part_once(db: &TestDb) {
    answered(&db.store().await, 5).await;
    // Each reply is three parts of 600 ms, longer than the lease: a bot must hold its
    // claim while it posts, or the other bot posts the same reply again.
    let lease = Duration::from_millis(1500);
    let discord = Arc::new(SlowDiscord::new(Duration::from_millis(600), None));
    let mut bots = Vec::new();
    for _ in 0..2 {
        let store = db.store().await;
        let discord = discord.clone();
        bots.push(tokio::spawn(async move {
            let mut rounds = Vec::new();
            // Bots look at the outbox again and again, as the running loop does.
            for _ in 0..40 {
                rounds.push(
                    deliver_pending(&store, Source::Discord, lease, discord.as_ref())
                        .await
                        .unwrap(),
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            rounds
        }));
    }
    let mut delivered = 0;
    for bot in bots {
        delivered += bot
            .await
            .unwrap()
            .iter()
            .map(|round| round.delivered)
            .sum::<usize>();
    }
    let tally = discord.tally();
    assert_eq!(tally.len(), 15, "every part of every reply: {tally:?}");
    assert!(tally.values().all(|n| *n == 1), "posted twice: {tally:?}");
    assert_eq!(delivered, 5);
}

async fn a_reply_that_failed_halfway_goes_on_from_the_next_part(db: &TestDb) {
    let store = db.store().await;
    answered(&store, 1).await;
    let lease = Duration::from_secs(60);
    // The first part goes out, the second is refused.
    let discord = SlowDiscord::new(Duration::ZERO, Some(2));
    let claim = store
        .claim_next_outbox(Source::Discord, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim.message.parts_sent, 0);
    let first = deliver_claimed(&store, &claim, lease, &discord)
        .await
        .unwrap();
    assert_eq!(
        first,
        Delivery::Failed {
            error: "Discord answered 503".into(),
            outcome: DeliveryFailure::WillRetry { attempts: 1 }
        }
    );
    // The back-off is over.
    let sql = "UPDATE outbox SET claimed_until = NULL WHERE id = $1";
    execute(&db.url, sql, &[Bind::Int(claim.message.id.0)]).await;
    let again = store
        .claim_next_outbox(Source::Discord, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.message.parts_sent, 1);
    let second = deliver_claimed(&store, &again, lease, &discord)
        .await
        .unwrap();
    assert_eq!(second, Delivery::Delivered);
    let tally = discord.tally();
    let id = claim.message.id;
    assert_eq!(
        [
            tally.get(&(id, 0)),
            tally.get(&(id, 1)),
            tally.get(&(id, 2))
        ],
        [Some(&1), Some(&1), Some(&1)],
        "{tally:?}"
    );
    assert!(store
        .claim_next_outbox(Source::Discord, lease)
        .await
        .unwrap()
        .is_none());
}

async fn a_bot_whose_claim_was_taken_over_must_stop(db: &TestDb) {
    let (a, b) = (db.store().await, db.store().await);
    answered(&a, 1).await;
    let lease = Duration::from_secs(60);
    let mine = a
        .claim_next_outbox(Source::Discord, lease)
        .await
        .unwrap()
        .unwrap();
    assert!(a.renew_outbox_claim(&mine, lease).await.unwrap());
    assert!(a.record_parts_sent(&mine, 1).await.unwrap());
    // Its lease ran out (the bot hung), and another bot took the reply over.
    let sql = "UPDATE outbox SET claimed_until = NULL WHERE id = $1";
    execute(&db.url, sql, &[Bind::Int(mine.message.id.0)]).await;
    let theirs = b
        .claim_next_outbox(Source::Discord, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        theirs.message.parts_sent, 1,
        "the other bot goes on from part 2"
    );
    assert!(!a.renew_outbox_claim(&mine, lease).await.unwrap());
    assert!(!a.record_parts_sent(&mine, 2).await.unwrap());
    let discord = SlowDiscord::new(Duration::ZERO, None);
    assert_eq!(
        deliver_claimed(&a, &mine, lease, &discord).await.unwrap(),
        Delivery::Lost
    );
    assert_eq!(
        deliver_claimed(&b, &theirs, lease, &discord).await.unwrap(),
        Delivery::Delivered
    );
    // The bot that hung learned before it posted anything; the other posted the rest.
    let id = mine.message.id;
    let tally = discord.tally();
    assert_eq!(
        [
            tally.get(&(id, 0)),
            tally.get(&(id, 1)),
            tally.get(&(id, 2))
        ],
        [None, Some(&1), Some(&1)],
        "{tally:?}"
    );
}

super::on_both_databases!(
    two_bots_and_a_slow_discord_post_every_part_once,
    a_reply_that_failed_halfway_goes_on_from_the_next_part,
    a_bot_whose_claim_was_taken_over_must_stop,
);
