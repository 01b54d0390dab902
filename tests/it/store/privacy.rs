//! Forgetting a user and purging old personal data.

use anbud::knowledge::Lang;
use anbud::store::{
    AlertMessage, ForgetReport, LearnedEntry, NewFeedback, NewUnanswered, QueueStatus, Reason,
    Store, StoredThread,
};
use chrono::{NaiveDate, TimeDelta};

use super::{all_stored_text, discord, file, now, unanswered, TestDb};

fn feedback(user: &str, helpful: bool, question: &str) -> NewFeedback {
    NewFeedback {
        entry_id: "dokumentasjon".into(),
        lang: Lang::Nb,
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
    store.record_question_asked(false, Lang::Nb).await.unwrap();

    let report = store.forget_user("user-a").await.unwrap();
    assert_eq!(
        report,
        ForgetReport {
            asks_deleted: 4,
            feedback_deleted: 2,
            items_deleted: 2,
            outbox_deleted: 2,
            deleted_items: vec![alone, from_feedback],
            items_retitled: vec![shared],
            ..ForgetReport::default()
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
    let report_b = store
        .forget_user_by("user-b", "adviser-kari")
        .await
        .unwrap();
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

/// A question's words, marked so they can be looked for anywhere.
const MARKED: &str = "Kan Ola Nordmann-7731 på Storgata 5 klage på tildelingen?";
const MARK: &str = "Nordmann-7731";

/// A learned entry as an adviser saves it from a question, title and questions reviewed.
fn taught(id: &str, title: &str, questions: &[&str]) -> LearnedEntry {
    LearnedEntry {
        id: id.into(),
        lang: Lang::Nb,
        title: title.into(),
        body: "Ja, innen ti dager etter meddelelsen.\n\nSe forskriften § 20-3.".into(),
        questions: questions.iter().map(|q| q.to_string()).collect(),
        keywords: vec![],
        source_name: "Svar fra rådgiver".into(),
        source_url: None,
        reviewed: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        created_by: "adviser-kari".into(),
    }
}

/// Issue 18.2: after `forget`, the person's words are nowhere in the database: not in
/// saved entries' titles and questions, not in phrasings, not in audit details; the audit
/// says a user was forgotten and by whom, not who.
async fn forget_removes_the_users_words_from_everything_taught(db: &TestDb) {
    let store = db.store().await;
    let item = file(&store, MARKED, discord("user-a", "a1")).await;
    // The adviser accepted the proposed title (the question) and added a wording of
    // their own; the asker's wording (as reviewed: without the mention) is a question.
    let mentioned = format!("<@42> {MARKED}");
    let second = file(&store, &mentioned, discord("user-a", "a2")).await;
    assert_eq!(second, item, "the mention does not change the question");
    store
        .answer_item(item, "Ja, innen ti dager.", "adviser-kari")
        .await
        .unwrap();
    let entry_id = format!("learned-{}", item.0);
    let questions = [
        MARKED.to_lowercase(),
        "Hvordan klager man på en tildeling?".into(),
    ];
    let questions: Vec<&str> = questions.iter().map(String::as_str).collect();
    store
        .save_entry_taught_from(&taught(&entry_id, MARKED, &questions), item)
        .await
        .unwrap();
    // A phrasing of another entry, taught from a second question of the user's.
    let other_question = "Hvor lang er fristen for Nordmann-7731 sin klage?";
    let other = file(&store, other_question, discord("user-a", "a3")).await;
    store
        .answer_item(other, "Ti dager.", "adviser-kari")
        .await
        .unwrap();
    for phrasing in [other_question, "Hvor lang er klagefristen?"] {
        store
            .add_phrasing_from("complaints", Lang::Nb, phrasing, "adviser-kari", other)
            .await
            .unwrap();
    }
    // What older versions left: the words in audit details, a phrasing without its item,
    // and the command line's own `forget` line naming a user.
    store
        .audit("adviser-kari", "save_entry", "learned-1/nb", Some(MARKED))
        .await
        .unwrap();
    store
        .audit(
            "adviser-kari",
            "add_phrasing",
            "complaints/nb",
            Some(other_question),
        )
        .await
        .unwrap();
    let legacy_phrasing = format!("{other_question}!");
    store
        .add_phrasing("complaints", Lang::Nb, &legacy_phrasing, "adviser-kari")
        .await
        .unwrap();
    store
        .audit("adviser-kari", "forget", "user-a", None)
        .await
        .unwrap();
    let mut helpful = feedback("user-a", true, MARKED);
    helpful.comment = Some(format!("Hilsen {MARK}"));
    store.record_feedback(&helpful).await.unwrap();
    // Someone else's phrasing of another question stays.
    store
        .add_phrasing(
            "complaints",
            Lang::Nb,
            "Kan jeg klage på en tildeling?",
            "adviser-per",
        )
        .await
        .unwrap();
    let version = store.knowledge_version().await.unwrap();
    assert!(all_stored_text(&db.url).await.contains(MARK));

    let report = store
        .forget_user_by("user-a", "adviser-kari")
        .await
        .unwrap();
    assert_eq!(
        (
            report.wordings_removed,
            report.titles_replaced,
            report.audit_lines_cleared
        ),
        (3, 1, 4),
        "{report:?}"
    );
    assert_eq!(report.deleted_items, [item, other]);

    let everything = all_stored_text(&db.url).await;
    for gone in [MARK, "user-a", "Storgata"] {
        assert!(
            !everything.contains(gone),
            "{gone:?} is still stored:\n{everything}"
        );
    }
    // The adviser's answer stays, under a title from its first line.
    let entries = store.learned_entries().await.unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].title, "Ja, innen ti dager etter meddelelsen.");
    assert_eq!(
        entries[0].questions,
        ["Hvordan klager man på en tildeling?"]
    );
    assert!(entries[0].body.contains("§ 20-3"));
    let phrasings: Vec<_> = store
        .phrasings()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.question)
        .collect();
    assert_eq!(
        phrasings,
        [
            "Hvor lang er klagefristen?",
            "Kan jeg klage på en tildeling?"
        ]
    );
    assert!(
        store.knowledge_version().await.unwrap() > version,
        "bots reload"
    );
    // One line says a user was forgotten, by whom, not who.
    let audit = store.audit_log(1).await.unwrap();
    assert_eq!(
        (
            audit[0].action.as_str(),
            audit[0].actor.as_str(),
            audit[0].target.as_str()
        ),
        ("forget_user", "adviser-kari", "user")
    );
}

/// Issue 18.2: on SQLite, the forgotten words cannot be read back from the database file
/// or its write-ahead log (deleted content zeroed, free pages dropped, the log emptied).
async fn forgotten_words_cannot_be_read_from_the_files(db: &TestDb) {
    let store = db.store().await;
    let item = file(&store, MARKED, discord("user-a", "a1")).await;
    // Enough other rows that the text shares pages with data that stays.
    for i in 0..200 {
        let question = format!("Spørsmål nummer {i} om kunngjøring av konkurranse");
        file(&store, &question, discord("user-b", &format!("b{i}"))).await;
    }
    store
        .answer_item(item, "Ja, innen ti dager.", "adviser-kari")
        .await
        .unwrap();
    store
        .save_entry_taught_from(&taught("learned-x", MARKED, &[MARKED]), item)
        .await
        .unwrap();
    store
        .add_phrasing_from("complaints", Lang::Nb, MARKED, "adviser-kari", item)
        .await
        .unwrap();
    // Another process keeps its pool open and reading.
    let other_process = db.store().await;
    assert_eq!(other_process.list_queue(None).await.unwrap().len(), 201);

    store
        .forget_user_by("user-a", "adviser-kari")
        .await
        .unwrap();
    assert_eq!(other_process.list_queue(None).await.unwrap().len(), 200);
    let Some(path) = db.url.strip_prefix("sqlite://") else {
        return; // PostgreSQL keeps its files to itself: the test above covers it.
    };
    for file in [path.to_string(), format!("{path}-wal")] {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let found = bytes.windows(MARK.len()).any(|w| w == MARK.as_bytes());
        assert!(!found, "{MARK} can be read from {file}");
    }
}

/// The command line's `forget` records the adviser, not the user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_forget_does_not_name_the_user_in_the_audit() {
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    file(&store, MARKED, discord("user-a", "a1")).await;
    let out = crate::anbud_on(&db.url)
        .args(["forget", "user-a", "--by", "adviser-kari"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Forgot user user-a"));
    let audit = store.audit_log(10).await.unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].actor, "adviser-kari");
    assert!(!all_stored_text(&db.url).await.contains("user-a"));
}

/// The advisers' alerts quote the item's question: forget returns those that quote the
/// forgotten user's words (deleted items, and shared items titled with their words), so
/// the chat adapter can redact them; an alert quoting someone else's words stays.
async fn forget_returns_the_alerts_that_quote_the_user(db: &TestDb) {
    let store = db.store().await;
    let log = |question: &str, user: &str, message: &str| {
        let ask = unanswered(question, discord(user, message));
        let store = store.clone();
        async move { store.log_unanswered(&ask).await.unwrap().item_id }
    };
    let alone = log("Må vi bruke Doffin?", "user-a", "a1").await;
    let shared = log("Hva er en dynamisk innkjøpsordning?", "user-a", "a2").await;
    log("hva er en dynamisk innkjøpsordning!", "user-b", "b1").await;
    let theirs = log("Hva er ESPD?", "user-b", "b2").await;
    log("hva er espd", "user-a", "a3").await;
    let unalerted = log("Hva er en kvalifikasjonsordning?", "user-a", "a4").await;
    for (item, quoted, message) in [
        (alone, "Må vi bruke Doffin?", "901"),
        (shared, "Hva er en dynamisk innkjøpsordning?", "902"),
        (theirs, "Hva er ESPD?", "903"),
    ] {
        assert!(store
            .set_alert_message(item, quoted, "77", message)
            .await
            .unwrap());
    }
    // An item that is gone, or no longer has the question the alert quotes, records
    // nothing: the caller redacts that alert itself.
    let gone = anbud::store::QueueItemId(999);
    assert!(!store
        .set_alert_message(gone, "x", "77", "904")
        .await
        .unwrap());
    assert!(!store
        .set_alert_message(unalerted, "Hva er ESPD?", "77", "905")
        .await
        .unwrap());

    let report = store.forget_user("user-a").await.unwrap();
    let alert = |item, message: &str| AlertMessage {
        item_id: item,
        channel_id: "77".into(),
        message_id: message.into(),
    };
    assert_eq!(report.alerts, [alert(alone, "901"), alert(shared, "902")]);
    assert!(report.deleted_items.contains(&unalerted));
    assert!(report.items_retitled.contains(&theirs));
    assert!(store.forget_user("user-a").await.unwrap().alerts.is_empty());
}

/// The question a thread was opened on is kept (follow-ups after a restart are read
/// with it) and goes when its asker is forgotten; another asker's thread stays.
async fn forget_deletes_the_threads_opened_on_the_users_questions(db: &TestDb) {
    let store = db.store().await;
    let thread = |id: &str, asker: &str, question: &str| StoredThread {
        thread_id: id.into(),
        asker_id: asker.into(),
        question: question.into(),
    };
    let theirs = thread("701", "user-a", "Hva er en dialogkonferanse?");
    let others = thread("702", "user-b", "Hva er ESPD?");
    for t in [&theirs, &others] {
        store.save_thread(t).await.unwrap();
    }
    assert_eq!(store.thread("701").await.unwrap(), Some(theirs));
    assert_eq!(store.thread("703").await.unwrap(), None);

    let report = store.forget_user("user-a").await.unwrap();
    assert_eq!(report.opened_threads, ["701"]);
    assert_eq!(store.thread("701").await.unwrap(), None);
    assert_eq!(store.thread("702").await.unwrap(), Some(others));
}

super::on_both_databases!(
    forget_deletes_the_threads_opened_on_the_users_questions,
    forget_removes_the_users_words_from_everything_taught,
    forgotten_words_cannot_be_read_from_the_files,
    forget_user_deletes_exactly_that_users_data,
    forget_returns_the_alerts_that_quote_the_user,
    purge_anonymises_only_old_rows,
);
