//! The store's part of tenders on SQLite and PostgreSQL: one row per procedure with the
//! newest version winning, the sync's lease taken by one of several processes, alerts
//! claimed exactly once per (watch, notice) through restarts and by two processes at
//! once, at most one digest an hour, and `forget` removing watches.

use anbud::knowledge::KnowledgeBase;
use anbud::store::{NewTenderWatch, Store};
use anbud::tenders::alerts::{claim_due_digests, render_digest, Digest};
use anbud::tenders::answer::Style;
use anbud::tenders::model::parse_search_page;
use anbud::tenders::{Kind, Notice, TextMatcher, Vocabulary};
use chrono::{DateTime, TimeDelta, Utc};

use super::fixture;
use crate::store::{on_both_databases, TestDb};

fn notices(name: &str) -> Vec<Notice> {
    let mut page = parse_search_page(&fixture(name), Vocabulary::bundled())
        .unwrap()
        .notices;
    page.sort_by_key(|n| n.issued);
    page
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// (subscriber, notice id) of each notice in the digests, sorted.
fn sent(digests: &[Digest]) -> Vec<(&str, &str)> {
    let mut sent: Vec<(&str, &str)> = digests
        .iter()
        .flat_map(|d| {
            d.notices
                .iter()
                .map(|n| (d.watch.user_id.as_str(), n.id.as_str()))
        })
        .collect();
    sent.sort();
    sent
}

/// How long a claimed digest is held before another bot may send it.
const LEASE: TimeDelta = TimeDelta::minutes(1);

/// What a bot does: claims the due digests and marks each sent (as if posted).
async fn send_due(store: &Store, now: DateTime<Utc>) -> Vec<Digest> {
    let digests = claim_due_digests(store, Vocabulary::bundled(), &matcher(), now, LEASE)
        .await
        .unwrap();
    for d in &digests {
        assert!(store
            .mark_tender_alerts_sent(d.watch.id, &d.token, now)
            .await
            .unwrap());
    }
    digests
}

fn matcher() -> TextMatcher<'static> {
    TextMatcher::new(&KnowledgeBase::default())
}

/// A watch for market dialogues made at `made`, then the first sync (first.json) at
/// 10:00.
async fn dialogue_watch_then_first_sync(
    store: &Store,
    user: &str,
    made: DateTime<Utc>,
) -> anbud::store::TenderWatch {
    let watch = store
        .add_tender_watch(
            &NewTenderWatch {
                user_id: user.into(),
                kind: Some(Kind::Dialogue),
                ..NewTenderWatch::default()
            },
            made,
        )
        .await
        .unwrap();
    store
        .store_tenders(&notices("first.json"), at("2026-12-06T10:00:00Z"))
        .await
        .unwrap();
    watch
}

async fn one_row_per_procedure_and_the_newest_version_wins(db: &TestDb) {
    let store = db.store().await;
    let now = at("2026-12-06T10:00:00Z");
    let counts = store
        .store_tenders(&notices("first.json"), now)
        .await
        .unwrap();
    assert_eq!((counts.new, counts.changed, counts.unchanged), (5, 0, 0));
    let counts = store
        .store_tenders(&notices("changed.json"), now)
        .await
        .unwrap();
    assert_eq!((counts.new, counts.changed, counts.unchanged), (1, 2, 0));

    let stored = store.list_tenders().await.unwrap();
    let ids: Vec<&str> = stored.iter().map(|s| s.notice.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "2026-200008",
            "2026-200007",
            "2026-200004",
            "2026-200003",
            "2026-200002",
            "2026-200006"
        ]
    );
    // What was stored reads back as it was parsed.
    let changed = notices("changed.json");
    for n in &changed {
        let s = stored.iter().find(|s| s.notice.id == n.id).unwrap();
        assert_eq!(&s.notice, n);
    }

    // The older version coming again (a late page) does not replace the newer.
    let first = notices("first.json");
    let old = first.iter().find(|n| n.id == "2026-200001").unwrap();
    let counts = store
        .store_tenders(std::slice::from_ref(old), now)
        .await
        .unwrap();
    assert_eq!(counts.unchanged, 1);
    let stored = store.list_tenders().await.unwrap();
    assert!(stored.iter().any(|s| s.notice.id == "2026-200007"));
    assert!(!stored.iter().any(|s| s.notice.id == "2026-200001"));

    // The same notice with a corrected title: still one row, with the new title.
    let mut retitled = changed
        .iter()
        .find(|n| n.id == "2026-200008")
        .unwrap()
        .clone();
    retitled.title = "Markedsdialog om renhold av idrettshaller og svømmehaller".into();
    retitled.procedure_key = format!(
        "944383565|{}",
        "markedsdialog om renhold av idrettshaller og svommehaller"
    );
    let counts = store.store_tenders(&[retitled.clone()], now).await.unwrap();
    assert_eq!((counts.new, counts.changed), (0, 1));
    let stored = store.list_tenders().await.unwrap();
    assert_eq!(stored.len(), 6);
    assert_eq!(
        stored
            .iter()
            .filter(|s| s.notice.id == "2026-200008")
            .count(),
        1
    );
    assert_eq!(
        store.tender_sync_from().await.unwrap().unwrap().to_string(),
        "2026-12-06"
    );
}

async fn of_several_processes_one_takes_the_sync(db: &TestDb) {
    let a = db.store().await;
    let b = db.store().await;
    let now = at("2026-12-06T10:00:00Z");
    let due = now - TimeDelta::minutes(60);
    let lease = now + TimeDelta::minutes(10);
    let (got_a, got_b) = tokio::join!(
        a.claim_tender_sync(now, due, lease, "a"),
        b.claim_tender_sync(now, due, lease, "b")
    );
    assert!(got_a.unwrap() ^ got_b.unwrap(), "exactly one");
    // The holder finishes: a success now; nobody syncs again within the hour.
    a.store_tenders(&[], now).await.unwrap();
    a.release_tender_sync("a", None).await.unwrap();
    b.release_tender_sync("b", None).await.unwrap();
    let later = now + TimeDelta::minutes(30);
    assert!(!b
        .claim_tender_sync(
            later,
            later - TimeDelta::minutes(60),
            later + TimeDelta::minutes(10),
            "b"
        )
        .await
        .unwrap());
    let hour = now + TimeDelta::minutes(61);
    assert!(b
        .claim_tender_sync(
            hour,
            hour - TimeDelta::minutes(60),
            hour + TimeDelta::minutes(10),
            "b"
        )
        .await
        .unwrap());
    // A failed run holds others off until its retry time.
    b.release_tender_sync("b", Some(hour + TimeDelta::minutes(15)))
        .await
        .unwrap();
    let soon = hour + TimeDelta::minutes(5);
    assert!(!a
        .claim_tender_sync(
            soon,
            soon - TimeDelta::minutes(60),
            soon + TimeDelta::minutes(10),
            "a"
        )
        .await
        .unwrap());
}

async fn alerts_arrive_once_per_notice_and_subscriber_at_most_hourly(db: &TestDb) {
    let vocab = Vocabulary::bundled();
    let store = db.store().await;
    let made = at("2026-12-06T09:00:00Z");
    let watch = store
        .add_tender_watch(
            &NewTenderWatch {
                user_id: "42".into(),
                query: Some("renhold".into()),
                region: Some("Follo".into()),
                ..NewTenderWatch::default()
            },
            made,
        )
        .await
        .unwrap();
    let other = dialogue_watch_then_first_sync(&store, "43", made).await;
    let t0 = at("2026-12-06T10:00:00Z");

    // Two processes at once: each notice goes to each subscriber once between them.
    let second = db.store().await;
    let m = matcher();
    let (a, b) = tokio::join!(
        claim_due_digests(&store, vocab, &m, t0, LEASE),
        claim_due_digests(&second, vocab, &m, t0, LEASE)
    );
    let mut digests = a.unwrap();
    digests.extend(b.unwrap());
    for d in &digests {
        assert!(store
            .mark_tender_alerts_sent(d.watch.id, &d.token, t0)
            .await
            .unwrap());
    }
    assert_eq!(
        sent(&digests),
        [("42", "2026-200001"), ("43", "2026-200002")]
    );
    let text = render_digest(&digests[0], Style::Discord, anbud::knowledge::Lang::Nb);
    assert!(text.contains("<t:") || text.contains("ikke satt"), "{text}");
    assert!(text.contains("https://doffin.no/notices/"), "{text}");

    // A restart (a new connection) sends nothing again.
    drop(second);
    let restarted = db.store().await;
    let later = t0 + TimeDelta::minutes(90);
    assert!(send_due(&restarted, later).await.is_empty());

    // The next sync: 200007 republishes 200001's procedure (not new to anyone), and
    // 200008 (Vestby, renhold, a dialogue) is new to both watches.
    let t1 = t0 + TimeDelta::minutes(100);
    restarted
        .store_tenders(&notices("changed.json"), t1)
        .await
        .unwrap();
    let soon = t1 + TimeDelta::minutes(1);
    let got = send_due(&restarted, soon).await;
    assert_eq!(sent(&got), [("42", "2026-200008"), ("43", "2026-200008")]);
    // Another notice within the hour waits for the hour to pass, then comes once.
    let mut extra = notices("changed.json")
        .into_iter()
        .find(|n| n.id == "2026-200008")
        .unwrap();
    extra.id = "2026-200010".into();
    extra.title = "Markedsdialog om renhold av svømmehall".into();
    extra.procedure_key = "944383565|markedsdialog om renhold av svommehall".into();
    let t2 = soon + TimeDelta::minutes(10);
    restarted.store_tenders(&[extra], t2).await.unwrap();
    assert!(send_due(&restarted, t2).await.is_empty(), "hourly");
    let t3 = soon + TimeDelta::minutes(61);
    let got = send_due(&restarted, t3).await;
    assert_eq!(got.len(), 2);
    assert!(got
        .iter()
        .all(|d| d.notices.len() == 1 && d.notices[0].id == "2026-200010"));
    assert!(send_due(&restarted, t3 + TimeDelta::hours(2))
        .await
        .is_empty());

    // Removing a watch, and forgetting a user, remove their watches.
    assert!(
        !restarted
            .remove_tender_watch(other.id, Some("42"))
            .await
            .unwrap(),
        "not 42's"
    );
    restarted.forget_user("42").await.unwrap();
    let left = restarted.tender_watches(None).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, other.id);
    assert!(restarted
        .tender_watches(Some("42"))
        .await
        .unwrap()
        .is_empty());
    let _ = watch;
    assert!(restarted
        .remove_tender_watch(other.id, Some("43"))
        .await
        .unwrap());
}

async fn two_processes_store_the_same_sync_once(db: &TestDb) {
    let a = db.store().await;
    let b = db.store().await;
    let now = at("2026-12-06T10:00:00Z");
    let first = notices("first.json");
    let (x, y) = tokio::join!(a.store_tenders(&first, now), b.store_tenders(&first, now));
    let (x, y) = (x.unwrap(), y.unwrap());
    assert_eq!(x.new + y.new, 5);
    assert_eq!(a.list_tenders().await.unwrap().len(), 5);
    let _: &Store = &a;
}

async fn an_alert_claimed_but_never_sent_is_sent_after_its_lease(db: &TestDb) {
    let vocab = Vocabulary::bundled();
    let store = db.store().await;
    let made = at("2026-12-06T09:00:00Z");
    let _ = dialogue_watch_then_first_sync(&store, "42", made).await;
    let t0 = at("2026-12-06T10:00:00Z");
    // A bot claims with a two-hour lease and dies before posting.
    let died = claim_due_digests(&store, vocab, &matcher(), t0, TimeDelta::hours(2))
        .await
        .unwrap();
    assert_eq!(sent(&died), [("42", "2026-200002")]);
    // Past the hour but within the lease: still held, nobody sends it.
    let restarted = db.store().await;
    assert!(send_due(&restarted, t0 + TimeDelta::minutes(90))
        .await
        .is_empty());
    // After the lease: sent once, and then never again.
    let later = t0 + TimeDelta::minutes(150);
    assert_eq!(
        sent(&send_due(&restarted, later).await),
        [("42", "2026-200002")]
    );
    assert!(send_due(&restarted, later + TimeDelta::hours(3))
        .await
        .is_empty());
    // The dead bot's claim is gone: marking with its token changes nothing.
    assert!(!restarted
        .mark_tender_alerts_sent(died[0].watch.id, &died[0].token, later)
        .await
        .unwrap());
}

async fn two_bots_on_a_schedule_sync_once(db: &TestDb) {
    let fake = super::FakeDoffin::start().await;
    fake.script([super::Scripted::ok("first.json")]);
    let settings = anbud::config::Settings::defaults().tenders;
    let bots: Vec<_> = [db.store().await, db.store().await]
        .into_iter()
        .map(|store| {
            let client = anbud::tenders::DoffinClient::new(
                &fake.url,
                secrecy::SecretString::from(super::TEST_KEY.to_string()),
                std::time::Duration::from_secs(5),
            );
            tokio::spawn(anbud::tenders::sync::run_schedule(
                store,
                settings.clone(),
                client,
            ))
        })
        .collect();
    let store = db.store().await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while store.list_tenders().await.unwrap().len() < 5 {
        assert!(std::time::Instant::now() < deadline, "no sync within 20 s");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(fake.seen().len(), 1, "one of the two bots synced, once");
    for bot in bots {
        bot.abort();
    }
}

on_both_databases!(
    two_bots_on_a_schedule_sync_once,
    an_alert_claimed_but_never_sent_is_sent_after_its_lease,
    one_row_per_procedure_and_the_newest_version_wins,
    of_several_processes_one_takes_the_sync,
    alerts_arrive_once_per_notice_and_subscriber_at_most_hourly,
    two_processes_store_the_same_sync_once,
);
