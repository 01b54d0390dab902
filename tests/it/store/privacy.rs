//! Forgetting a user and purging old personal data.

use anbud::store::{ForgetReport, NewFeedback, NewUnanswered, QueueStatus, Reason, Store};
use chrono::TimeDelta;

use super::{discord, now, unanswered, TestDb};

fn feedback(user: &str, helpful: bool, question: &str) -> NewFeedback {
    NewFeedback {
        entry_id: "dokumentasjon".into(),
        lang: "nb".into(),
        helpful,
        comment: Some(format!("kommentar fra {user}")),
        origin: discord(user, &format!("{user}-feedback")),
        question: question.into(),
        at: now(),
    }
}

/// Every user id still found in asks and claimable replies.
async fn user_ids(store: &Store) -> Vec<String> {
    let mut ids = Vec::new();
    for item in store.list_queue(None).await.unwrap() {
        for ask in store.asks_for_item(item.id).await.unwrap() {
            ids.extend(ask.origin.user_id);
        }
    }
    ids
}

async fn forget_user_deletes_exactly_that_users_data(db: &TestDb) {
    let store = db.store().await;
    let log = |question: &str, user: &str, message: &str| {
        let ask = unanswered(question, discord(user, message));
        let store = store.clone();
        async move { store.log_unanswered(&ask).await.unwrap().item_id }
    };
    let alone = log("Må vi bruke Doffin?", "user-a", "a1").await;
    let shared = log("Hva er en dynamisk innkjøpsordning?", "user-a", "a2").await;
    assert_eq!(
        log("hva er en dynamisk innkjøpsordning!", "user-b", "b1").await,
        shared
    );
    assert_eq!(
        log("hva er en DYNAMISK innkjøpsordning", "user-a", "a3").await,
        shared
    );
    let others = log("Hva er ESPD?", "user-b", "b2").await;

    // A's unhelpful feedback files its own item; B's helpful one does not.
    let from_feedback = store
        .record_feedback(&feedback("user-a", false, "Hvilken dokumentasjon trengs?"))
        .await
        .unwrap()
        .unwrap()
        .item_id;
    store
        .record_feedback(&feedback("user-a", true, "x"))
        .await
        .unwrap();
    store
        .record_feedback(&feedback("user-b", true, "y"))
        .await
        .unwrap();

    store
        .answer_item(shared, "Et elektronisk system.", "adviser")
        .await
        .unwrap();
    store.record_question_asked(false, "nb").await.unwrap();

    let report = store.forget_user("user-a").await.unwrap();
    assert_eq!(
        report,
        ForgetReport {
            asks_deleted: 4,
            feedback_deleted: 2,
            items_deleted: 2,
            outbox_deleted: 2,
        }
    );

    // A is gone everywhere.
    assert_eq!(user_ids(&store).await, ["user-b", "user-b"]);
    for missing in [alone, from_feedback] {
        assert!(store.get_item(missing).await.is_err());
    }
    let replies = store.pending_outbox(100).await.unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].origin.user_id.as_deref(), Some("user-b"));

    // The shared item stays, titled with B's words; B's own item is untouched.
    let item = store.get_item(shared).await.unwrap();
    assert_eq!(item.question, "hva er en dynamisk innkjøpsordning!");
    assert_eq!((item.count, item.status), (1, QueueStatus::Answered));
    let asks = store.asks_for_item(shared).await.unwrap();
    assert_eq!(item.asked_at, asks[0].asked_at);
    assert_eq!(item.last_asked_at, asks[0].asked_at);
    assert_eq!(store.get_item(others).await.unwrap().count, 1);

    // B's feedback is still there: forgetting B finds it.
    let report_b = store.forget_user("user-b").await.unwrap();
    assert_eq!(report_b.feedback_deleted, 1);
    assert_eq!(report_b.asks_deleted, 2);
    assert!(store.list_queue(None).await.unwrap().is_empty());

    // The anonymous counters are kept, and the audit does not name the user.
    assert_eq!(store.stats(None).await.unwrap().questions, 1);
    let audit = store.audit_log(100).await.unwrap();
    let forgets: Vec<_> = audit.iter().filter(|r| r.action == "forget_user").collect();
    assert_eq!(forgets.len(), 2);
    assert!(audit
        .iter()
        .all(|r| !format!("{r:?}").contains("user-a") && !format!("{r:?}").contains("user-b")));

    // Forgetting someone unknown deletes nothing.
    assert_eq!(
        store.forget_user("nobody").await.unwrap(),
        ForgetReport::default()
    );
}

async fn purge_anonymises_only_old_rows(db: &TestDb) {
    let store = db.store().await;
    let cutoff = now() - TimeDelta::days(90);

    let mut old = unanswered(
        "Hva er kvalifikasjonskrav?",
        discord("old-user", "old-message"),
    );
    old.asked_at = cutoff - TimeDelta::days(1);
    old.reason = Reason::NotHelpful {
        comment: Some("min e-post er ola@example.no".into()),
        entry_id: "kvalifikasjon".into(),
    };
    let recent = NewUnanswered {
        origin: discord("new-user", "new-message"),
        asked_at: now(),
        ..old.clone()
    };
    let item = store.log_unanswered(&old).await.unwrap().item_id;
    assert_eq!(store.log_unanswered(&recent).await.unwrap().item_id, item);

    let mut old_feedback = feedback("old-user", true, "gammelt spørsmål");
    old_feedback.at = cutoff - TimeDelta::days(10);
    store.record_feedback(&old_feedback).await.unwrap();
    store
        .record_feedback(&feedback("old-user", true, "nytt spørsmål"))
        .await
        .unwrap();

    assert_eq!(store.purge_personal_data(cutoff).await.unwrap(), 2);

    let asks = store.asks_for_item(item).await.unwrap();
    let (purged, kept) = (&asks[0], &asks[1]);
    assert_eq!(purged.question, "Hva er kvalifikasjonskrav?");
    assert_eq!(purged.origin.user_id, None);
    assert_eq!(purged.origin.message_id, None);
    assert_eq!(
        purged.reason,
        Reason::NotHelpful {
            comment: None,
            entry_id: "kvalifikasjon".into()
        }
    );
    assert_eq!(purged.origin.channel_id, old.origin.channel_id);
    assert_eq!(kept.origin, recent.origin);
    assert_eq!(kept.reason, recent.reason);
    assert_eq!(
        store.get_item(item).await.unwrap().question,
        "Hva er kvalifikasjonskrav?"
    );

    // Only the recent feedback still names the user.
    assert_eq!(
        store
            .forget_user("old-user")
            .await
            .unwrap()
            .feedback_deleted,
        1
    );
    // Nothing left to purge.
    assert_eq!(store.purge_personal_data(cutoff).await.unwrap(), 0);
    let audit = store.audit_log(10).await.unwrap();
    assert!(audit.iter().any(|row| row.action == "purge"));
}

super::on_both_databases!(
    forget_user_deletes_exactly_that_users_data,
    purge_anonymises_only_old_rows,
);
