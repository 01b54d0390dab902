//! The language of stored rows: written as the text older versions wrote ("nb", "en"),
//! read back as a [`Lang`], and a value no version writes is an error, not a panic or
//! a guess.

use anbud::knowledge::Lang;
use anbud::store::{LearnedEntry, NewEvent, NewFeedback, Store, StoreError};
use chrono::{NaiveDate, TimeDelta};

use super::{count, discord, execute, now, unanswered, Bind, TestDb};

fn learned(lang: Lang) -> LearnedEntry {
    LearnedEntry {
        id: "learned-frist".into(),
        lang,
        title: "Klagefrist".into(),
        body: "Ti dager.".into(),
        questions: vec!["Hva er klagefristen?".into()],
        keywords: Vec::new(),
        source_name: "Anskaffelsesforskriften".into(),
        source_url: None,
        reviewed: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        created_by: "adviser-1".into(),
    }
}

fn event(lang: Lang) -> NewEvent {
    let start = now() + TimeDelta::days(30);
    NewEvent {
        title: format!("Leverandørdag {lang}"),
        description: "Møt innkjøperne.".into(),
        start_at: start,
        end_at: start + TimeDelta::hours(3),
        venue: "Stormen".into(),
        address: None,
        registration_url: None,
        organiser: None,
        audience: None,
        lang,
        created_by: "organiser".into(),
    }
}

/// Every model with a language, written in `lang` and read back through the store.
async fn reads_back(store: &Store, lang: Lang) {
    let (question, unhelped) = match lang {
        Lang::Nb => (
            "Hva er terskelverdien for kunngjøring?",
            "Hvordan klager jeg?",
        ),
        Lang::En => ("What is the threshold for a notice?", "How do I complain?"),
    };
    let mut ask = unanswered(question, discord("u1", &format!("m-{lang}")));
    ask.lang = lang;
    let item = store.log_unanswered(&ask).await.unwrap().item_id;
    assert_eq!(store.get_item(item).await.unwrap().lang, lang);
    let asks = store.asks_for_item(item).await.unwrap();
    assert_eq!(asks.iter().map(|a| a.lang).collect::<Vec<_>>(), [lang]);

    let written = store.answer_item(item, "Svar.", "adviser-1").await.unwrap();
    assert_eq!(written[0].lang, lang);
    let claimed = store.pending_outbox(10).await.unwrap();
    assert_eq!(claimed.iter().map(|m| m.lang).collect::<Vec<_>>(), [lang]);

    // A not-helpful verdict is queued in the feedback's language.
    let feedback = NewFeedback {
        entry_id: "klage".into(),
        lang,
        helpful: false,
        comment: None,
        origin: discord("u2", &format!("f-{lang}")),
        question: unhelped.into(),
        at: now(),
    };
    let queued = store.record_feedback(&feedback).await.unwrap().unwrap();
    assert_eq!(store.get_item(queued.item_id).await.unwrap().lang, lang);

    store.save_learned_entry(&learned(lang)).await.unwrap();
    let entries = store.learned_entries().await.unwrap();
    assert!(entries.iter().any(|e| e.lang == lang), "{entries:?}");
    store
        .add_phrasing("klage", lang, &format!("klage på {lang}"), "adviser-1")
        .await
        .unwrap();
    let phrasings = store.phrasings().await.unwrap();
    assert!(
        phrasings
            .iter()
            .any(|p| p.lang == lang && p.question == format!("klage på {lang}")),
        "{phrasings:?}"
    );

    let (stored, _) = store.add_event(&event(lang), now()).await.unwrap();
    assert_eq!(store.get_event(stored.id).await.unwrap().event.lang, lang);
}

async fn each_language_reads_back_as_the_typed_value(db: &TestDb) {
    let store = db.store().await;
    reads_back(&store, Lang::Nb).await;
    reads_back(&store, Lang::En).await;
    // Stored as the same text as before the type, so old rows and old readers agree.
    for (sql, expected) in [
        ("SELECT COUNT(*) FROM queue_items WHERE lang = 'en'", 2),
        ("SELECT COUNT(*) FROM queue_items WHERE lang = 'nb'", 2),
        ("SELECT COUNT(*) FROM asks WHERE lang IN ('nb', 'en')", 4),
        ("SELECT COUNT(*) FROM outbox WHERE lang = 'en'", 1),
        ("SELECT COUNT(*) FROM feedback WHERE lang = 'en'", 1),
        ("SELECT COUNT(*) FROM learned_entries WHERE lang = 'en'", 1),
        ("SELECT COUNT(*) FROM phrasings WHERE lang = 'en'", 1),
        ("SELECT COUNT(*) FROM events WHERE lang = 'en'", 1),
    ] {
        assert_eq!(count(&db.url, sql).await, expected, "{sql}");
    }
}

async fn older_spellings_of_a_language_still_read(db: &TestDb) {
    let store = db.store().await;
    let mut english = unanswered("What is the threshold?", discord("u1", "m1"));
    english.lang = Lang::En;
    let english = store.log_unanswered(&english).await.unwrap().item_id;
    let nynorsk = store
        .log_unanswered(&unanswered("Kva er terskelverdien?", discord("u2", "m2")))
        .await
        .unwrap()
        .item_id;
    let set = "UPDATE queue_items SET lang = $1 WHERE id = $2";
    execute(&db.url, set, &[Bind::Text("EN"), Bind::Int(english.0)]).await;
    execute(&db.url, set, &[Bind::Text("nn"), Bind::Int(nynorsk.0)]).await;
    // What `Lang::parse` takes: any case, and Nynorsk answered in Bokmål.
    assert_eq!(store.get_item(english).await.unwrap().lang, Lang::En);
    assert_eq!(store.get_item(nynorsk).await.unwrap().lang, Lang::Nb);
}

/// The error a row in language "de" gives: a database decode error naming the value.
fn assert_unknown_language(result: Result<impl std::fmt::Debug, StoreError>) {
    match result {
        Err(StoreError::Database(sqlx::Error::Decode(message))) => {
            assert_eq!(message.to_string(), r#"unknown language "de""#)
        }
        other => panic!("expected an unknown-language error, got {other:?}"),
    }
}

async fn an_unknown_stored_language_is_a_clear_error(db: &TestDb) {
    let store = db.store().await;
    let item = store
        .log_unanswered(&unanswered("Hva er terskelverdien?", discord("u1", "m1")))
        .await
        .unwrap()
        .item_id;
    store.answer_item(item, "Svar.", "adviser-1").await.unwrap();
    store.save_learned_entry(&learned(Lang::Nb)).await.unwrap();
    store
        .add_phrasing("klage", Lang::Nb, "klage", "adviser-1")
        .await
        .unwrap();
    for sql in [
        "UPDATE queue_items SET lang = 'de'",
        "UPDATE asks SET lang = 'de'",
        "UPDATE outbox SET lang = 'de'",
        "UPDATE learned_entries SET lang = 'de'",
        "UPDATE phrasings SET lang = 'de'",
    ] {
        execute(&db.url, sql, &[]).await;
    }
    assert_unknown_language(store.get_item(item).await);
    assert_unknown_language(store.list_queue(None).await);
    assert_unknown_language(store.asks_for_item(item).await);
    assert_unknown_language(store.pending_outbox(10).await);
    assert_unknown_language(store.learned_entries().await);
    assert_unknown_language(store.phrasings().await);
}

super::on_both_databases!(
    each_language_reads_back_as_the_typed_value,
    older_spellings_of_a_language_still_read,
    an_unknown_stored_language_is_a_clear_error,
);
