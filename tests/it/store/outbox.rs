//! The outbox: claiming, delivery reports, giving up, exactly-once claims.

use std::collections::HashSet;
use std::sync::Arc;

use anbud::store::{
    DeliveryFailure, OutboxId, QueueItemId, Store, StoreError, MAX_DELIVERY_ATTEMPTS,
};
use tokio::sync::Barrier;

use super::{discord, unanswered, TestDb};

/// An answered item with `askers` replies in the outbox.
async fn answered_item(store: &Store, askers: usize) -> QueueItemId {
    let mut id = None;
    for i in 0..askers {
        let ask = unanswered(
            "Hvem er oppdragsgiver?",
            discord(&format!("u{i}"), &format!("m{i}")),
        );
        id = Some(store.log_unanswered(&ask).await.unwrap().item_id);
    }
    let id = id.expect("at least one asker");
    assert_eq!(
        store
            .answer_item(id, "Den som kjøper.", "adviser")
            .await
            .unwrap()
            .len(),
        askers
    );
    id
}

async fn claimed_messages_are_not_offered_twice(db: &TestDb) {
    let store = db.store().await;
    answered_item(&store, 3).await;

    let first = store.pending_outbox(2).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = store.pending_outbox(10).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(first[1].id < rest[0].id, "oldest first");
    // All three are leased now.
    assert!(store.pending_outbox(10).await.unwrap().is_empty());

    store.mark_delivered(first[0].id).await.unwrap();
    assert_eq!(
        store
            .mark_failed(first[1].id, "discord said 500")
            .await
            .unwrap(),
        DeliveryFailure::WillRetry { attempts: 1 }
    );
    // A failure waits for its back-off, a delivery is never offered again.
    assert!(store.pending_outbox(10).await.unwrap().is_empty());
}

async fn failing_too_often_gives_up(db: &TestDb) {
    let store = db.store().await;
    answered_item(&store, 1).await;
    let message = store.pending_outbox(1).await.unwrap().remove(0);
    for attempt in 1..MAX_DELIVERY_ATTEMPTS {
        assert_eq!(
            store.mark_failed(message.id, "no access").await.unwrap(),
            DeliveryFailure::WillRetry { attempts: attempt }
        );
    }
    assert_eq!(
        store.mark_failed(message.id, "no access").await.unwrap(),
        DeliveryFailure::GaveUp
    );
    // Still given up on a later report.
    assert_eq!(
        store.mark_failed(message.id, "no access").await.unwrap(),
        DeliveryFailure::GaveUp
    );

    for result in [
        store.mark_delivered(OutboxId(424_242)).await,
        store.mark_failed(OutboxId(424_242), "x").await.map(|_| ()),
    ] {
        assert!(
            matches!(
                result,
                Err(StoreError::NotFound {
                    what: "outbox message",
                    ..
                })
            ),
            "{result:?}"
        );
    }
}

async fn concurrent_claimers_get_each_message_once(db: &TestDb) {
    const MESSAGES: usize = 60;
    let setup = db.store().await;
    answered_item(&setup, MESSAGES).await;

    // Two pools stand for two bot processes sharing the database.
    let barrier = Arc::new(Barrier::new(2));
    let mut claimers = Vec::new();
    for _ in 0..2 {
        let store = db.store().await;
        let barrier = Arc::clone(&barrier);
        claimers.push(tokio::spawn(async move {
            barrier.wait().await;
            let mut mine = Vec::new();
            loop {
                let batch = store.pending_outbox(3).await.unwrap();
                if batch.is_empty() {
                    return mine;
                }
                for message in batch {
                    mine.push(message.id);
                    store.mark_delivered(message.id).await.unwrap();
                }
            }
        }));
    }

    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), MESSAGES, "every message claimed exactly once");
    assert_eq!(unique.len(), MESSAGES);
}

super::on_both_databases!(
    claimed_messages_are_not_offered_twice,
    failing_too_often_gives_up,
    concurrent_claimers_get_each_message_once,
);
