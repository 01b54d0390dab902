//! The advisers' queue: grouping, answering, dismissing.

use anbud::knowledge::Lang;
use anbud::store::{NewFeedback, Origin, QueueItemId, QueueStatus, Reason, Source, StoreError};
use chrono::TimeDelta;

use super::{discord, execute, file, now, unanswered, Bind, TestDb};

async fn same_question_groups_with_count(db: &TestDb) {
    let store = db.store().await;
    let first_at = now() - TimeDelta::minutes(10);
    let mut first = unanswered("Hva er terskelverdien?", discord("u1", "m1"));
    first.asked_at = first_at;
    first.best_candidate = Some("terskel-a".into());
    first.score = 0.2;
    let created = store.log_unanswered(&first).await.unwrap();
    assert!(created.is_new);

    let mut second = unanswered("hva  er terskelverdien", discord("u2", "m2"));
    second.best_candidate = Some("terskel-b".into());
    second.score = 0.4;
    let joined = store.log_unanswered(&second).await.unwrap();
    assert!(!joined.is_new);
    assert_eq!(joined.item_id, created.item_id);

    let mut third = unanswered("HVA ER TERSKELVERDIEN!!", discord("u3", "m3"));
    third.best_candidate = Some("terskel-c".into());
    third.score = 0.3; // worse than the second: keeps terskel-b
    let last_at = third.asked_at;
    assert_eq!(
        store.log_unanswered(&third).await.unwrap().item_id,
        created.item_id
    );

    let other = store
        .log_unanswered(&unanswered("Hvordan klager jeg?", discord("u1", "m4")))
        .await
        .unwrap();
    assert!(other.is_new);
    assert_ne!(other.item_id, created.item_id);

    let open = store.list_queue(Some(QueueStatus::Open)).await.unwrap();
    assert_eq!(open.len(), 2);
    let item = &open[0];
    assert_eq!(item.id, created.item_id);
    assert_eq!(item.question, "Hva er terskelverdien?");
    assert_eq!(item.count, 3);
    assert_eq!(item.asked_at, first_at);
    assert_eq!(item.last_asked_at, last_at);
    assert_eq!(item.best_candidate.as_deref(), Some("terskel-b"));
    assert!((item.score - 0.4).abs() < 1e-6);
    assert_eq!(item.reason.abstained, 3);
    assert_eq!(item.status, QueueStatus::Open);
    assert_eq!(open[1].count, 1);

    let asks = store.asks_for_item(created.item_id).await.unwrap();
    let users: Vec<_> = asks
        .iter()
        .map(|a| a.origin.user_id.clone().unwrap())
        .collect();
    assert_eq!(users, ["u1", "u2", "u3"]);
    assert_eq!(asks[1].question, "hva  er terskelverdien");
    assert_eq!(asks[0].origin, discord("u1", "m1"));

    assert!(store
        .list_queue(Some(QueueStatus::Answered))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(store.list_queue(None).await.unwrap().len(), 2);
    assert_eq!(store.get_item(created.item_id).await.unwrap(), *item);
}

async fn answer_queues_a_reply_for_every_asker(db: &TestDb) {
    let store = db.store().await;
    let question = "Når må vi kunngjøre?";
    let in_channel = discord("u1", "m1");
    let in_dm = Origin {
        source: Source::Discord,
        guild_id: None,
        channel_id: None,
        message_id: None,
        thread_id: None,
        user_id: Some("u2".into()),
    };
    let nowhere = Origin {
        user_id: None,
        ..in_dm.clone()
    };
    let mut in_thread = discord("u3", "m3");
    in_thread.thread_id = Some("900000000000000009".into());

    let id = store
        .log_unanswered(&unanswered(question, in_channel.clone()))
        .await
        .unwrap()
        .item_id;
    for origin in [Origin::terminal(), in_thread.clone()] {
        let mut ask = unanswered("når må vi kunngjøre", origin);
        ask.lang = Lang::En;
        assert_eq!(store.log_unanswered(&ask).await.unwrap().item_id, id);
    }
    // Direct messages are private: their own item, answered on its own.
    let private = store
        .log_unanswered(&unanswered("når må vi kunngjøre", in_dm.clone()))
        .await
        .unwrap()
        .item_id;
    assert_ne!(private, id);
    assert_eq!(
        store
            .log_unanswered(&unanswered(question, nowhere))
            .await
            .unwrap()
            .item_id,
        private
    );

    let replies = store
        .answer_item(id, "Over terskelverdien.", "adviser-1")
        .await
        .unwrap();
    let origins: Vec<_> = replies.iter().map(|r| r.origin.clone()).collect();
    assert_eq!(origins, [in_channel, Origin::terminal(), in_thread]);
    assert!(replies
        .iter()
        .all(|r| r.text == "Over terskelverdien." && r.attempts == 0));
    assert!(replies.iter().all(|r| r.item_id == id));
    assert_eq!(replies[0].question, question);
    assert_eq!((replies[0].lang, replies[1].lang), (Lang::Nb, Lang::En));

    let item = store.get_item(id).await.unwrap();
    assert_eq!(item.status, QueueStatus::Answered);
    assert_eq!(item.answer.as_deref(), Some("Over terskelverdien."));
    assert_eq!(item.handled_by.as_deref(), Some("adviser-1"));
    assert!(item.handled_at.is_some());
    assert!(!item.private);

    let claimed = store.pending_outbox(100).await.unwrap();
    assert_eq!(claimed, replies);

    let audit = store.audit_log(10).await.unwrap();
    assert_eq!(audit[0].action, "answer");
    assert_eq!(audit[0].actor, "adviser-1");
    assert_eq!(audit[0].target, id.to_string());

    // The private item's answer goes only to the one asker it can reach, by DM.
    assert!(store.get_item(private).await.unwrap().private);
    let replies = store
        .answer_item(private, "Over terskelverdien.", "adviser-1")
        .await
        .unwrap();
    let origins: Vec<_> = replies.iter().map(|r| r.origin.clone()).collect();
    assert_eq!(origins, [in_dm]);
}

async fn dismissed_item_is_closed_and_new_asks_open_a_new_one(db: &TestDb) {
    let store = db.store().await;
    let first = store
        .log_unanswered(&unanswered("Kan jeg kjøpe is?", discord("u1", "m1")))
        .await
        .unwrap();
    store
        .dismiss_item(first.item_id, Some("off topic"), "adviser-2")
        .await
        .unwrap();

    let item = store.get_item(first.item_id).await.unwrap();
    assert_eq!(item.status, QueueStatus::Dismissed);
    assert_eq!(item.dismiss_reason.as_deref(), Some("off topic"));
    assert_eq!(item.handled_by.as_deref(), Some("adviser-2"));
    assert!(item.answer.is_none());
    assert!(store.pending_outbox(10).await.unwrap().is_empty());

    let again = store
        .log_unanswered(&unanswered("kan jeg kjøpe is", discord("u2", "m2")))
        .await
        .unwrap();
    assert!(again.is_new);
    assert_ne!(again.item_id, first.item_id);
    assert_eq!(store.get_item(first.item_id).await.unwrap().count, 1);

    let audit = store.audit_log(1).await.unwrap();
    assert_eq!(audit[0].action, "dismiss");
    assert_eq!(audit[0].detail.as_deref(), Some("off topic"));
}

async fn closed_or_missing_items_cannot_be_answered_or_dismissed(db: &TestDb) {
    let store = db.store().await;
    let answered = store
        .log_unanswered(&unanswered("spørsmål om anbud", discord("u1", "m1")))
        .await
        .unwrap()
        .item_id;
    let dismissed = store
        .log_unanswered(&unanswered("spørsmål om kontrakt", discord("u1", "m2")))
        .await
        .unwrap()
        .item_id;
    store.answer_item(answered, "svar", "a").await.unwrap();
    store.dismiss_item(dismissed, None, "a").await.unwrap();
    let audit_before = store.audit_log(100).await.unwrap().len();

    let invalid = |result: Result<_, StoreError>, id, status| match result {
        Err(StoreError::InvalidState { id: got, actual }) => {
            assert_eq!((got, actual), (id, status));
        }
        other => panic!("expected InvalidState, got {other:?}"),
    };
    invalid(
        store
            .answer_item(answered, "nytt svar", "b")
            .await
            .map(|_| ()),
        answered,
        QueueStatus::Answered,
    );
    invalid(
        store.dismiss_item(answered, None, "b").await,
        answered,
        QueueStatus::Answered,
    );
    invalid(
        store.answer_item(dismissed, "svar", "b").await.map(|_| ()),
        dismissed,
        QueueStatus::Dismissed,
    );
    invalid(
        store.dismiss_item(dismissed, None, "b").await,
        dismissed,
        QueueStatus::Dismissed,
    );

    let missing = QueueItemId(999_999);
    for result in [
        store.answer_item(missing, "svar", "b").await.map(|_| ()),
        store.dismiss_item(missing, None, "b").await,
        store.get_item(missing).await.map(|_| ()),
    ] {
        assert!(
            matches!(
                result,
                Err(StoreError::NotFound {
                    what: "queue item",
                    ..
                })
            ),
            "{result:?}"
        );
    }

    // Nothing changed: one reply from the first answer, the first answer kept.
    assert_eq!(store.pending_outbox(10).await.unwrap().len(), 1);
    assert_eq!(
        store.get_item(answered).await.unwrap().answer.as_deref(),
        Some("svar")
    );
    assert_eq!(store.audit_log(100).await.unwrap().len(), audit_before);
}

async fn not_helpful_feedback_queues_the_question(db: &TestDb) {
    let store = db.store().await;
    let helpful = NewFeedback {
        entry_id: "frister".into(),
        lang: Lang::Nb,
        helpful: true,
        comment: None,
        origin: discord("u1", "m1"),
        question: "Hva er fristen?".into(),
        at: now(),
    };
    assert_eq!(store.record_feedback(&helpful).await.unwrap(), None);
    assert!(store.list_queue(None).await.unwrap().is_empty());

    let unhelpful = NewFeedback {
        helpful: false,
        comment: Some("Gjelder ikke under terskelverdi".into()),
        origin: discord("u2", "m2"),
        ..helpful.clone()
    };
    let logged = store.record_feedback(&unhelpful).await.unwrap().unwrap();
    assert!(logged.is_new);

    let item = store.get_item(logged.item_id).await.unwrap();
    assert_eq!(item.question, "Hva er fristen?");
    assert_eq!(item.best_candidate.as_deref(), Some("frister"));
    assert_eq!((item.reason.abstained, item.reason.not_helpful), (0, 1));
    let asks = store.asks_for_item(logged.item_id).await.unwrap();
    assert_eq!(
        asks[0].reason,
        Reason::NotHelpful {
            comment: Some("Gjelder ikke under terskelverdi".into()),
            entry_id: "frister".into(),
        }
    );

    // The same question abstained later joins the same item.
    let joined = store
        .log_unanswered(&unanswered("Hei, hva er fristen", discord("u3", "m3")))
        .await
        .unwrap();
    assert_eq!(joined.item_id, logged.item_id);
    let item = store.get_item(logged.item_id).await.unwrap();
    assert_eq!((item.reason.abstained, item.reason.not_helpful), (1, 1));
}

/// Issue 18.3: the same words in another order are another question, and the answer
/// written for one asker never reaches the other.
async fn reordered_words_are_different_questions(db: &TestDb) {
    let store = db.store().await;
    let tenant_question = "Can my landlord evict me from the office?";
    let tenant = file(&store, tenant_question, discord("tenant", "m1")).await;
    let landlord_question = "Can I evict my landlord from the office?";
    let landlord = file(&store, landlord_question, discord("landlord", "m2")).await;
    assert_ne!(tenant, landlord);
    // Case, spacing, punctuation, æøå spelling and fillers still group.
    for wording in [
        "can my LANDLORD evict me   from the office",
        "Hi! Can my landlord evict me from the office? Thanks",
    ] {
        let again = file(&store, wording, discord("tenant-2", "m3")).await;
        assert_eq!(again, tenant, "{wording}");
    }
    let norwegian = file(
        &store,
        "Kan utleier kaste meg ut av kontoret?",
        discord("u", "m4"),
    )
    .await;
    let same = file(
        &store,
        "kan utleier kaste meg ut av kontoret",
        discord("v", "m5"),
    )
    .await;
    assert_eq!(same, norwegian);
    let other = file(
        &store,
        "Kan jeg kaste utleier ut av kontoret?",
        discord("w", "m6"),
    )
    .await;
    assert_ne!(other, norwegian);

    let replies = store
        .answer_item(tenant, "Only with notice.", "adviser")
        .await
        .unwrap();
    let askers: Vec<_> = replies
        .iter()
        .map(|r| r.origin.user_id.clone().unwrap())
        .collect();
    assert_eq!(askers, ["tenant", "tenant-2", "tenant-2"]);
}

/// Issue 18.3: a question asked privately never shares an item with a public one.
async fn private_and_public_questions_never_share_an_item(db: &TestDb) {
    let store = db.store().await;
    let question = "Hva er terskelverdien for varer?";
    let public = file(&store, question, discord("public", "m1")).await;
    let dm = Origin {
        guild_id: None,
        message_id: None,
        ..discord("in-dm", "m2")
    };
    let private_ask = Origin {
        channel_id: None,
        message_id: None,
        ..discord("private-ask", "m3")
    };
    let private = file(&store, question, dm.clone()).await;
    assert_ne!(private, public);
    let also_private = file(&store, question, private_ask).await;
    assert_eq!(also_private, private, "private questions may share an item");
    // A not-helpful verdict on a private answer files privately too.
    let feedback = NewFeedback {
        entry_id: "terskelverdier".into(),
        lang: Lang::Nb,
        helpful: false,
        comment: None,
        origin: dm,
        question: question.into(),
        at: now(),
    };
    let filed = store.record_feedback(&feedback).await.unwrap().unwrap();
    assert_eq!(filed.item_id, private);

    let items = store.list_queue(Some(QueueStatus::Open)).await.unwrap();
    let flags: Vec<_> = items.iter().map(|i| (i.id, i.private)).collect();
    assert_eq!(flags, [(public, false), (private, true)]);

    // The public answer is posted where the public asker asked, and nowhere else.
    let replies = store
        .answer_item(public, "50 000 kroner.", "adviser")
        .await
        .unwrap();
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].origin.user_id.as_deref(), Some("public"));
    let replies = store
        .answer_item(private, "Det avhenger av oppdragsgiveren.", "adviser")
        .await
        .unwrap();
    assert_eq!(replies.len(), 3);
    assert!(replies.iter().all(|r| r.origin.is_private()));
}

/// Open items from before keys kept word order are keyed again when a store connects,
/// so new asks of the same question still join them.
async fn open_items_from_before_are_keyed_again(db: &TestDb) {
    let store = db.store().await;
    let old = file(&store, "Hva er en rammeavtale?", discord("u1", "m1")).await;
    let taken = file(&store, "Hva er kvalifikasjonskrav?", discord("u2", "m2")).await;
    let other = file(&store, "Hva er ESPD?", discord("u3", "m3")).await;
    store.close().await;
    // What the migration leaves: marked keys (sorted words, as before), and here another
    // open item that holds the key of one legacy item's wording.
    set_group_key(&db.url, old, "legacy:rammeavtale").await;
    set_group_key(&db.url, taken, "legacy:kvalifikasjonskrav").await;
    set_group_key(&db.url, other, "hva er kvalifikasjonskrav").await;

    let store = db.store().await;
    let joined = file(&store, "hva er en rammeavtale", discord("u4", "m4")).await;
    assert_eq!(joined, old);
    let joined = file(&store, "hva er kvalifikasjonskrav", discord("u5", "m5")).await;
    assert_eq!(joined, other);
    assert_eq!(store.get_item(taken).await.unwrap().count, 1);
    assert_eq!(store.list_queue(None).await.unwrap().len(), 3);
}

async fn set_group_key(url: &str, id: QueueItemId, key: &str) {
    let sql = "UPDATE queue_items SET group_key = $1 WHERE id = $2";
    execute(url, sql, &[Bind::Text(key), Bind::Int(id.0)]).await;
}

async fn concurrent_asks_of_one_question_share_one_item(db: &TestDb) {
    // Two pools stand for two bot processes.
    let (a, b) = (db.store().await, db.store().await);
    let mut tasks = Vec::new();
    for i in 0..20 {
        let store = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let ask = unanswered("Hva koster en klage?", discord(&format!("u{i}"), "m"));
            store.log_unanswered(&ask).await.unwrap()
        }));
    }
    let mut new_items = 0;
    for task in tasks {
        new_items += usize::from(task.await.unwrap().is_new);
    }
    assert_eq!(new_items, 1);
    let open = a.list_queue(Some(QueueStatus::Open)).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].count, 20);
}

super::on_both_databases!(
    same_question_groups_with_count,
    answer_queues_a_reply_for_every_asker,
    dismissed_item_is_closed_and_new_asks_open_a_new_one,
    closed_or_missing_items_cannot_be_answered_or_dismissed,
    not_helpful_feedback_queues_the_question,
    concurrent_asks_of_one_question_share_one_item,
    reordered_words_are_different_questions,
    private_and_public_questions_never_share_an_item,
    open_items_from_before_are_keyed_again,
);
