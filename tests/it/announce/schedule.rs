//! Posting scheduled announcements: once, at the right instant, across restarts and
//! racing bots; late with a note, or skipped when too old.

use std::collections::HashMap;
use std::sync::Arc;

use anbud::announce::{self, RecordingPoster, Scheduler};
use anbud::store::{AnnouncementStatus, StoreError, ANNOUNCEMENT_LEASE};
use chrono::TimeDelta;
use chrono_tz::Europe::Oslo;

use super::db::{on_both_databases, TestDb};
use super::{config, schedule, scheduler, utc, SlowPoster, CHANNEL};

on_both_databases!(
    a_schedule_survives_a_restart,
    daylight_saving_schedules_post_at_the_right_instants,
    two_schedulers_post_each_announcement_once,
    a_crash_after_claiming_is_retried_after_the_lease,
    a_missed_announcement_is_posted_late_with_a_note,
    a_too_old_announcement_is_skipped_and_audited,
    edit_and_cancel_only_while_scheduled,
    failed_posts_are_retried_with_back_off,
);

async fn a_schedule_survives_a_restart(db: &TestDb) {
    let now = utc("2026-05-01T08:00:00Z");
    let store = db.store().await;
    let stored = schedule(
        &store,
        "Velkommen til dialogmøtet!",
        Some("2026-05-01 12:00"),
        now,
    )
    .await;
    let poster = Arc::new(RecordingPoster::new());
    let report = scheduler(&store, &poster).tick(&[], now).await;
    assert!(report.posted.is_empty());
    store.close().await;

    // The bot restarts: a new pool, a new scheduler.
    let store = db.store().await;
    let poster = Arc::new(RecordingPoster::new());
    let scheduler = scheduler(&store, &poster);
    assert!(scheduler
        .tick(&[], utc("2026-05-01T09:59:59Z"))
        .await
        .posted
        .is_empty());
    let report = scheduler.tick(&[], utc("2026-05-01T10:00:00Z")).await;
    assert_eq!(report.posted, vec![stored.id]);
    scheduler.tick(&[], utc("2026-05-01T10:00:05Z")).await;
    scheduler.tick(&[], utc("2026-05-01T11:00:00Z")).await;
    let posts = poster.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].channel_id, CHANNEL);
    assert_eq!(posts[0].text, "Velkommen til dialogmøtet!");
    let after = store.get_announcement(stored.id).await.unwrap();
    assert_eq!(after.status, AnnouncementStatus::Posted);
    assert!(!after.late);
}

async fn daylight_saving_schedules_post_at_the_right_instants(db: &TestDb) {
    let now = utc("2026-10-24T12:00:00Z");
    let store = db.store().await;
    let before = schedule(&store, "Før omstillingen", Some("2026-10-25 01:30"), now).await;
    let after = schedule(&store, "Etter omstillingen", Some("2026-10-25 03:30"), now).await;
    assert_eq!(before.publish_at, utc("2026-10-24T23:30:00Z"));
    assert_eq!(after.publish_at, utc("2026-10-25T02:30:00Z"));

    // 02:30 happens twice: the first (summer time) is taken, and the organiser is told.
    let draft = announce::AnnouncementDraft {
        channel_id: CHANNEL,
        text: "Tvetydig".into(),
        at: Some("2026-10-25 02:30".into()),
    };
    let prepared = announce::prepare_announcement(&draft, &[], Oslo, "organiser", now).unwrap();
    assert_eq!(
        prepared.announcement.publish_at,
        utc("2026-10-25T00:30:00Z")
    );
    assert!(prepared.notice.as_deref().unwrap_or("").contains("twice"));

    // 02:30 on the spring night does not exist: an error, nothing stored.
    let draft = announce::AnnouncementDraft {
        at: Some("2026-03-29 02:30".into()),
        ..draft
    };
    let err =
        announce::prepare_announcement(&draft, &[], Oslo, "organiser", utc("2026-03-01T00:00:00Z"))
            .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert_eq!(store.list_announcements(None).await.unwrap().len(), 2);

    let poster = Arc::new(RecordingPoster::new());
    let scheduler = scheduler(&store, &poster);
    for (tick, expected) in [
        ("2026-10-24T23:29:59Z", 0),
        ("2026-10-24T23:30:00Z", 1),
        ("2026-10-25T00:30:00Z", 1),
        ("2026-10-25T01:30:00Z", 1),
        ("2026-10-25T02:29:59Z", 1),
        ("2026-10-25T02:30:00Z", 2),
        ("2026-10-25T03:30:00Z", 2),
    ] {
        scheduler.tick(&[], utc(tick)).await;
        assert_eq!(poster.posts().len(), expected, "after the tick at {tick}");
    }
    let texts: Vec<String> = poster.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["Før omstillingen", "Etter omstillingen"]);
    for id in [before.id, after.id] {
        assert!(!store.get_announcement(id).await.unwrap().late);
    }
}

async fn two_schedulers_post_each_announcement_once(db: &TestDb) {
    let now = utc("2026-05-01T08:00:00Z");
    let first_store = db.store().await;
    let second_store = db.store().await;
    let mut ids = Vec::new();
    for i in 0..45 {
        ids.push(
            schedule(&first_store, &format!("Kunngjøring {i}"), None, now)
                .await
                .id,
        );
    }
    let first_poster = Arc::new(SlowPoster::default());
    let second_poster = Arc::new(SlowPoster::default());
    let first = Scheduler::new(first_store.clone(), config(), first_poster.clone());
    let second = Scheduler::new(second_store.clone(), config(), second_poster.clone());
    for round in 0..3 {
        let at = now + TimeDelta::seconds(round);
        tokio::join!(first.tick(&[], at), second.tick(&[], at));
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for post in first_poster
        .posts()
        .into_iter()
        .chain(second_poster.posts())
    {
        *counts.entry(post.text).or_default() += 1;
    }
    assert_eq!(counts.len(), 45, "every announcement posted");
    assert!(
        counts.values().all(|n| *n == 1),
        "each posted once: {counts:?}"
    );
    eprintln!(
        "first bot posted {}, second {}",
        first_poster.posts().len(),
        second_poster.posts().len()
    );
    for id in ids {
        assert_eq!(
            first_store.get_announcement(id).await.unwrap().status,
            AnnouncementStatus::Posted
        );
    }
}

async fn a_crash_after_claiming_is_retried_after_the_lease(db: &TestDb) {
    let now = utc("2026-05-01T08:00:00Z");
    let store = db.store().await;
    let stored = schedule(&store, "Etter krasjet", None, now).await;
    // A bot claims it and dies before posting.
    let claimed = store.claim_due_announcements(10, now).await.unwrap();
    assert_eq!(claimed.len(), 1);
    // While claimed it cannot be changed: the claiming bot may be posting it.
    let busy = store
        .cancel_announcement(stored.id, "organiser", now)
        .await
        .unwrap_err();
    assert!(
        matches!(busy, StoreError::AnnouncementBeingPosted { .. }),
        "{busy:?}"
    );

    let poster = Arc::new(RecordingPoster::new());
    let scheduler = scheduler(&store, &poster);
    scheduler.tick(&[], now + TimeDelta::seconds(30)).await;
    assert!(poster.posts().is_empty(), "the lease keeps others away");
    let lease = TimeDelta::from_std(ANNOUNCEMENT_LEASE).unwrap();
    let report = scheduler
        .tick(&[], now + lease + TimeDelta::seconds(1))
        .await;
    assert_eq!(report.posted, vec![stored.id], "{report:?}");
    scheduler.tick(&[], now + lease * 3).await;
    assert_eq!(poster.posts().len(), 1);
    assert_eq!(poster.posts()[0].text, "Etter krasjet");
}

async fn a_missed_announcement_is_posted_late_with_a_note(db: &TestDb) {
    let now = utc("2026-10-24T12:00:00Z");
    let store = db.store().await;
    let stored = schedule(
        &store,
        "Påmeldingen åpner nå.",
        Some("2026-10-25 01:30"),
        now,
    )
    .await;
    store.close().await;
    // No bot ran for three hours after its time.
    let store = db.store().await;
    let poster = Arc::new(RecordingPoster::new());
    let report = scheduler(&store, &poster)
        .tick(&[], utc("2026-10-25T02:30:00Z"))
        .await;
    assert_eq!(report.posted_late, vec![stored.id]);
    let posts = poster.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].text,
        "Påmeldingen åpner nå.\n\n(Forsinket: skulle vært publisert 25. oktober 2026 kl. 01.30.)"
    );
    let after = store.get_announcement(stored.id).await.unwrap();
    assert_eq!(after.status, AnnouncementStatus::Posted);
    assert!(after.late);
}

async fn a_too_old_announcement_is_skipped_and_audited(db: &TestDb) {
    let now = utc("2026-05-01T08:00:00Z");
    let store = db.store().await;
    let stored = schedule(&store, "For sent", Some("2026-05-01 12:00"), now).await;
    let poster = Arc::new(RecordingPoster::new());
    // Thirteen hours late, over the twelve-hour limit.
    let report = scheduler(&store, &poster)
        .tick(&[], utc("2026-05-01T23:00:01Z"))
        .await;
    assert_eq!(report.skipped, vec![stored.id]);
    assert!(poster.posts().is_empty());
    assert_eq!(
        store.get_announcement(stored.id).await.unwrap().status,
        AnnouncementStatus::Skipped
    );
    let audit = store.audit_log(5).await.unwrap();
    let skip = audit
        .iter()
        .find(|row| row.action == "skip_announcement")
        .expect("an audit row");
    assert_eq!(skip.target, stored.id.to_string());
    assert!(
        skip.detail
            .as_deref()
            .unwrap_or("")
            .contains("late_limit_hours"),
        "{skip:?}"
    );
}

async fn edit_and_cancel_only_while_scheduled(db: &TestDb) {
    let now = utc("2026-05-01T08:00:00Z");
    let store = db.store().await;
    let first = schedule(&store, "Første utkast", Some("2026-05-01 12:00"), now).await;
    let edited = announce::edit_announcement(
        &store,
        first.id,
        Some(" Endelig tekst "),
        Some("2026-05-01 13:00"),
        Oslo,
        "kari",
        now,
    )
    .await
    .unwrap();
    assert_eq!(edited.announcement.text, "Endelig tekst");
    assert_eq!(edited.announcement.publish_at, utc("2026-05-01T11:00:00Z"));

    let second = schedule(&store, "Avlyses", Some("2026-05-01 12:00"), now).await;
    let cancelled = announce::cancel_announcement(&store, second.id, "kari", now)
        .await
        .unwrap();
    assert_eq!(cancelled.status, AnnouncementStatus::Cancelled);

    let poster = Arc::new(RecordingPoster::new());
    let scheduler = scheduler(&store, &poster);
    scheduler.tick(&[], utc("2026-05-01T10:00:00Z")).await;
    assert!(
        poster.posts().is_empty(),
        "the edit moved it to 13:00; the other is cancelled"
    );
    scheduler.tick(&[], utc("2026-05-01T11:00:00Z")).await;
    let texts: Vec<String> = poster.posts().into_iter().map(|p| p.text).collect();
    assert_eq!(texts, ["Endelig tekst"]);

    // Posted and cancelled announcements stay as they are.
    for id in [first.id, second.id] {
        let err = announce::edit_announcement(&store, id, Some("Nei"), None, Oslo, "kari", now)
            .await
            .unwrap_err();
        assert!(err.is_user_error());
        assert!(
            err.to_string()
                .contains("only a scheduled announcement can be changed"),
            "{err}"
        );
        assert!(announce::cancel_announcement(&store, id, "kari", now)
            .await
            .is_err());
    }
    let missing =
        announce::cancel_announcement(&store, anbud::store::AnnouncementId(999), "kari", now)
            .await
            .unwrap_err();
    assert!(
        missing.is_user_error() && missing.to_string().contains("does not exist"),
        "{missing}"
    );
    let audit: Vec<String> = store
        .audit_log(20)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    for action in [
        "schedule_announcement",
        "edit_announcement",
        "cancel_announcement",
        "post_announcement",
    ] {
        assert!(audit.iter().any(|a| a == action), "{action} in {audit:?}");
    }
}

async fn failed_posts_are_retried_with_back_off(db: &TestDb) {
    let now = utc("2026-05-01T08:00:00Z");
    let store = db.store().await;
    let stored = schedule(&store, "Prøv igjen", None, now).await;
    let poster = Arc::new(RecordingPoster::new());
    poster.fail_with(Some(announce::PostError::Failed("Discord is down".into())));
    let scheduler = scheduler(&store, &poster);
    assert_eq!(scheduler.tick(&[], now).await.failed, vec![stored.id]);
    let failed = store.get_announcement(stored.id).await.unwrap();
    assert_eq!(
        (failed.status, failed.attempts),
        (AnnouncementStatus::Scheduled, 1)
    );
    assert_eq!(
        failed.last_error.as_deref(),
        Some("posting failed: Discord is down")
    );
    poster.fail_with(None);
    scheduler.tick(&[], now + TimeDelta::seconds(10)).await;
    assert!(poster.posts().is_empty(), "waits for the back-off");
    // Still editable during the back-off (no bot holds it).
    announce::edit_announcement(
        &store,
        stored.id,
        Some("Prøv igjen!"),
        None,
        Oslo,
        "kari",
        now,
    )
    .await
    .unwrap();
    scheduler.tick(&[], now + TimeDelta::seconds(40)).await;
    assert_eq!(poster.posts().len(), 1);
    assert_eq!(poster.posts()[0].text, "Prøv igjen!");
}
