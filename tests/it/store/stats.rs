//! Statistics from the anonymous counters.

use anbud::knowledge::Lang;
use anbud::store::{NewFeedback, Source, Stats};
use chrono::{NaiveDate, TimeDelta, TimeZone, Utc};

use super::{discord, now, unanswered, TestDb};

async fn stats_count_questions_answers_and_feedback(db: &TestDb) {
    let store = db.store().await;
    let empty = store.stats(None).await.unwrap();
    assert_eq!(
        empty,
        Stats {
            questions: 0,
            answered: 0,
            abstained: 0,
            referred: 0,
            referrals: vec![],
            share_answered: 0.0,
            top_entries: vec![],
            open_queue: 0,
            unhelpful: 0,
        }
    );

    for _ in 0..3 {
        store.record_question_asked(true, Lang::Nb).await.unwrap();
    }
    store.record_question_asked(false, Lang::En).await.unwrap();
    store
        .record_answer_given("terskelverdier", Lang::Nb, Source::Discord)
        .await
        .unwrap();
    store
        .record_answer_given("terskelverdier", Lang::Nb, Source::Terminal)
        .await
        .unwrap();
    store
        .record_answer_given("klage", Lang::En, Source::Discord)
        .await
        .unwrap();
    // An answer long ago: counted over all time, not since 2024.
    let long_ago = Utc.with_ymd_and_hms(2021, 6, 1, 12, 0, 0).unwrap();
    for _ in 0..5 {
        store
            .record_answer_given_at("gammel", Lang::Nb, Source::Discord, long_ago)
            .await
            .unwrap();
    }
    store
        .record_question_asked_at(false, Lang::Nb, long_ago)
        .await
        .unwrap();

    let feedback = NewFeedback {
        entry_id: "klage".into(),
        lang: Lang::En,
        helpful: false,
        comment: None,
        origin: discord("u1", "m1"),
        question: "How do I complain?".into(),
        at: now(),
    };
    store.record_feedback(&feedback).await.unwrap();
    store
        .record_feedback(&NewFeedback {
            helpful: true,
            ..feedback.clone()
        })
        .await
        .unwrap();
    store
        .log_unanswered(&unanswered("Hva er en rammeavtale?", discord("u2", "m2")))
        .await
        .unwrap();
    // Referred questions count as questions, neither answered nor abstained.
    store
        .record_referral("skatteetaten", Lang::Nb)
        .await
        .unwrap();
    store
        .record_referral("skatteetaten", Lang::En)
        .await
        .unwrap();
    store.record_referral("brreg", Lang::Nb).await.unwrap();

    let since = NaiveDate::from_ymd_opt(2024, 1, 1);
    let recent = store.stats(since).await.unwrap();
    assert_eq!(
        recent,
        Stats {
            questions: 7,
            answered: 3,
            abstained: 1,
            referred: 3,
            referrals: vec![("skatteetaten".into(), 2), ("brreg".into(), 1)],
            share_answered: 3.0 / 7.0,
            top_entries: vec![("terskelverdier".into(), 2), ("klage".into(), 1)],
            open_queue: 2,
            unhelpful: 1,
        }
    );

    let all_time = store.stats(None).await.unwrap();
    assert_eq!((all_time.questions, all_time.abstained), (8, 2));
    assert_eq!(all_time.top_entries[0], ("gammel".into(), 5));

    // Nothing yet tomorrow, but the queue is the queue of now.
    let tomorrow = (now() + TimeDelta::days(2)).date_naive();
    let future = store.stats(Some(tomorrow)).await.unwrap();
    assert_eq!(
        (future.questions, future.share_answered, future.open_queue),
        (0, 0.0, 2)
    );
    assert!(future.top_entries.is_empty());
}

super::on_both_databases!(stats_count_questions_answers_and_feedback);
