//! Knowledge taught by advisers: entries, phrasings, the version counter.

use anbud::knowledge::Lang;
use anbud::store::{LearnedEntry, Phrasing, StoreError};
use chrono::NaiveDate;

use super::TestDb;

fn entry(body: &str) -> LearnedEntry {
    LearnedEntry {
        id: "learned-frist-klage".into(),
        lang: Lang::Nb,
        title: "Klagefrist".into(),
        body: body.into(),
        questions: vec!["Hva er klagefristen?".into(), "Når må jeg klage?".into()],
        keywords: vec!["klage".into(), "frist".into()],
        source_name: "Anskaffelsesforskriften".into(),
        source_url: Some("https://lovdata.no/forskrift/2016-08-12-974".into()),
        reviewed: NaiveDate::from_ymd_opt(2025, 3, 1).unwrap(),
        created_by: "adviser-1".into(),
    }
}

async fn learned_knowledge_bumps_the_version_and_survives_reconnect(db: &TestDb) {
    let store = db.store().await;
    let other_process = db.store().await;
    assert_eq!(store.knowledge_version().await.unwrap(), 0);

    assert_eq!(
        store.save_learned_entry(&entry("Ti dager.")).await.unwrap(),
        1
    );
    // The other process sees the change by polling the version.
    assert_eq!(other_process.knowledge_version().await.unwrap(), 1);

    // Saving the same id and language replaces it; another language is another entry.
    let mut edited = entry("Ti dager fra meddelelsen.");
    edited.created_by = "adviser-2".into();
    assert_eq!(store.save_learned_entry(&edited).await.unwrap(), 2);
    let mut english = entry("Ten days.");
    english.lang = Lang::En;
    english.source_url = None;
    store.save_learned_entry(&english).await.unwrap();

    assert!(store
        .add_phrasing(
            "learned-frist-klage",
            Lang::Nb,
            "hvor lang tid har jeg på å klage",
            "adviser-1"
        )
        .await
        .unwrap());
    assert!(store
        .add_phrasing(
            "file-entry-terskel",
            Lang::En,
            "what is the threshold",
            "adviser-2"
        )
        .await
        .unwrap());
    let version = store.knowledge_version().await.unwrap();
    assert_eq!(version, 5);
    // A wording already known changes nothing.
    assert!(!store
        .add_phrasing(
            "file-entry-terskel",
            Lang::En,
            "what is the threshold",
            "adviser-3"
        )
        .await
        .unwrap());
    assert_eq!(store.knowledge_version().await.unwrap(), version);

    store.close().await;
    drop(store);
    let store = db.store().await;
    assert_eq!(store.knowledge_version().await.unwrap(), 5);
    let mut expected_nb = edited.clone();
    expected_nb.created_by = "adviser-1".into(); // the first author stays
    assert_eq!(
        store.learned_entries().await.unwrap(),
        vec![english, expected_nb]
    );
    assert_eq!(
        store.phrasings().await.unwrap(),
        vec![
            Phrasing {
                entry_id: "learned-frist-klage".into(),
                lang: Lang::Nb,
                question: "hvor lang tid har jeg på å klage".into(),
            },
            Phrasing {
                entry_id: "file-entry-terskel".into(),
                lang: Lang::En,
                question: "what is the threshold".into(),
            },
        ]
    );

    assert_eq!(
        store
            .delete_learned_entry("learned-frist-klage", "adviser-1")
            .await
            .unwrap(),
        6
    );
    assert!(store.learned_entries().await.unwrap().is_empty());
    assert_eq!(store.phrasings().await.unwrap().len(), 2);
    let missing = store
        .delete_learned_entry("learned-frist-klage", "adviser-1")
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "{missing:?}"
    );
    assert_eq!(store.knowledge_version().await.unwrap(), 6);

    let actions: Vec<_> = store
        .audit_log(100)
        .await
        .unwrap()
        .into_iter()
        .map(|row| (row.actor, row.action))
        .collect();
    let expected: Vec<(String, String)> = [
        ("adviser-1", "delete_entry"),
        ("adviser-2", "add_phrasing"),
        ("adviser-1", "add_phrasing"),
        ("adviser-1", "save_entry"),
        ("adviser-2", "save_entry"),
        ("adviser-1", "save_entry"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(actions, expected);
}

async fn audit_log_lists_newest_first(db: &TestDb) {
    let store = db.store().await;
    store
        .audit("adviser-1", "config", "threshold", Some("0.4 -> 0.5"))
        .await
        .unwrap();
    store
        .audit("adviser-2", "config", "threshold", None)
        .await
        .unwrap();
    let rows = store.audit_log(10).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].actor, "adviser-2");
    assert_eq!(rows[0].detail, None);
    assert_eq!(rows[1].detail.as_deref(), Some("0.4 -> 0.5"));
    assert!(rows[0].id > rows[1].id && rows[0].at >= rows[1].at);
    assert_eq!(store.audit_log(1).await.unwrap().len(), 1);
}

super::on_both_databases!(
    learned_knowledge_bumps_the_version_and_survives_reconnect,
    audit_log_lists_newest_first,
);
