//! Bad input gets a clear error and changes nothing.

use anbud::announce::{self, AnnounceError, AnnouncementDraft, EventDraft, DISCORD_MESSAGE_LIMIT};
use anbud::knowledge::Lang;
use chrono_tz::Europe::Oslo;

use super::db::{on_both_databases, TestDb};
use super::{schedule, utc, CHANNEL};

on_both_databases!(bad_announcements_change_nothing, bad_events_change_nothing);

async fn bad_announcements_change_nothing(db: &TestDb) {
    let now = utc("2026-05-01T08:00:00Z");
    let store = db.store().await;
    let existing = schedule(&store, "Uendret", Some("2026-05-02 12:00"), now).await;
    let before = store.list_announcements(None).await.unwrap();
    let draft = |text: &str, at: Option<&str>| AnnouncementDraft {
        channel_id: CHANNEL,
        text: text.into(),
        at: at.map(str::to_owned),
    };
    let too_long = "a".repeat(DISCORD_MESSAGE_LIMIT + 1);
    let cases: Vec<(AnnouncementDraft, Vec<u64>, &str)> = vec![
        (
            draft("Hei", Some("2026-05-01 09:00")),
            vec![],
            "is in the past",
        ),
        (
            draft(&too_long, None),
            vec![],
            "Discord allows at most 2000",
        ),
        (draft("  \n ", None), vec![], "the text is empty"),
        (
            draft("Hei", Some("1. mai kl. 12")),
            vec![],
            "is not a time; write it as YYYY-MM-DD HH:MM",
        ),
        (
            draft("Hei", Some("2026-02-30 12:00")),
            vec![],
            "is not a time",
        ),
        (
            draft("Hei", Some("2027-03-28 02:30")),
            vec![],
            "does not exist in Europe/Oslo",
        ),
        (
            draft("Hei", None),
            vec![1, 2, 3],
            "is not a channel of this server",
        ),
    ];
    for (draft, known, message) in cases {
        let err = announce::prepare_announcement(&draft, &known, Oslo, "kari", now).unwrap_err();
        assert!(err.is_user_error(), "{err}");
        assert!(
            err.to_string().contains(message),
            "{err:?} should say {message:?}"
        );
    }
    // A channel that is no snowflake is refused where it is typed.
    for bad in ["general", "#general", "0", "-1", "99999999999999999999999"] {
        let err = announce::parse_channel_id(bad).unwrap_err();
        assert!(
            matches!(err, AnnounceError::BadChannel { .. })
                && err.to_string().contains("not a Discord channel id")
        );
    }
    // Edits are checked the same way.
    for (text, at, message) in [
        (Some(too_long.as_str()), None, "at most 2000"),
        (Some(" "), None, "empty"),
        (None, Some("2026-04-30 10:00"), "in the past"),
        (None, Some("snart"), "is not a time"),
        (None, Some("2026-03-29 02:30"), "does not exist"),
        (None, None, "nothing to change"),
    ] {
        let err = announce::edit_announcement(&store, existing.id, text, at, Oslo, "kari", now)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains(message),
            "{err:?} should say {message:?}"
        );
    }
    assert_eq!(
        store.list_announcements(None).await.unwrap(),
        before,
        "nothing changed"
    );
}

async fn bad_events_change_nothing(db: &TestDb) {
    let now = utc("2026-05-01T08:00:00Z");
    let store = db.store().await;
    let version = store.knowledge_version().await.unwrap();
    let good = EventDraft {
        title: "Dialogmøte".into(),
        start: "2026-06-01 09:00".into(),
        end: "2026-06-01 11:00".into(),
        venue: "Rådhuset".into(),
        address: None,
        registration_url: None,
        audience: None,
        description: None,
        organiser: None,
        lang: Lang::Nb,
    };
    let cases = [
        (
            EventDraft {
                end: "2026-06-01 08:00".into(),
                ..good.clone()
            },
            "ends (2026-06-01 08:00) before it starts",
        ),
        (
            EventDraft {
                start: "1. juni".into(),
                ..good.clone()
            },
            "is not a time",
        ),
        (
            EventDraft {
                start: "2026-04-01 09:00".into(),
                end: "2026-04-01 10:00".into(),
                ..good.clone()
            },
            "already over",
        ),
        (
            EventDraft {
                title: " ".into(),
                ..good.clone()
            },
            "`title` is empty",
        ),
        (
            EventDraft {
                registration_url: Some("example.org".into()),
                ..good.clone()
            },
            "not a web address",
        ),
        (
            EventDraft {
                start: "2027-03-28 02:00".into(),
                end: "2027-03-28 04:00".into(),
                ..good.clone()
            },
            "does not exist",
        ),
    ];
    for (draft, message) in cases {
        let err = announce::prepare_event(&draft, Oslo, "kari", now).unwrap_err();
        assert!(
            err.is_user_error() && err.to_string().contains(message),
            "{err:?} should say {message:?}"
        );
    }
    assert!(store.list_events().await.unwrap().is_empty());
    assert_eq!(store.knowledge_version().await.unwrap(), version);
    // The good one is stored and bumps the version, so running bots reload.
    let prepared = announce::prepare_event(&good, Oslo, "kari", now).unwrap();
    announce::add_event(&store, &prepared, now).await.unwrap();
    assert_eq!(store.knowledge_version().await.unwrap(), version + 1);
}
