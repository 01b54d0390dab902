//! Events in answers: the next upcoming event first, past ones marked as past, and
//! organisers' database events answerable by every bot after a reload. Also the
//! scheduler as a running bot starts it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anbud::announce::{self, EventDraft, RecordingPoster};
use anbud::answer::{render_text, Answerer};
use anbud::app::App;
use anbud::config::{AnswerSettings, Overrides, Settings};
use anbud::knowledge::{
    parse_local_datetime, Entry, EventInfo, KnowledgeBase, Lang, Source, TextList,
};
use chrono::{NaiveDate, Utc};
use chrono_tz::Europe::Oslo;

use super::db::{on_both_databases, TestDb};
use super::{schedule, utc, CHANNEL};

on_both_databases!(
    database_events_are_answered_upcoming_first,
    a_running_bot_posts_scheduled_announcements
);

fn conference(id: &str, year: i32, start: &str, end: &str) -> Entry {
    Entry {
        id: id.into(),
        lang: Lang::Nb,
        title: format!("Leverandørkonferansen i Ski {year}"),
        questions: TextList::from([
            "Når er konferansen?",
            "Når er neste konferanse?",
            "Hvor er konferansen?",
            "Hvem kan delta på konferansen?",
            "Hvordan melder jeg meg på leverandørkonferansen?",
            "leverandørkonferanse Ski",
        ]),
        keywords: TextList::from(["konferanse", "leverandørkonferanse", "arrangement"]),
        related: Vec::new(),
        reviewed: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        sources: vec![Source {
            name: "Leverandørutviklingsprogrammet".into(),
            url: "https://example.org/".into(),
        }],
        facts: Vec::new(),
        body: format!(
            "Leverandørkonferansen i Ski i {year} er for bedrifter som vil selge til kommunene."
        )
        .into(),
        event: Some(EventInfo {
            start: parse_local_datetime(start).unwrap(),
            end: parse_local_datetime(end).unwrap(),
            venue: "Thon Hotel Ski".into(),
            address: Some("Jernbanesvingen 6, 1400 Ski".into()),
            registration_url: None,
            organiser: None,
            audience: Some("Leverandører".into()),
        }),
        path: None,
    }
}

fn thresholds() -> Entry {
    Entry {
        id: "thresholds".into(),
        lang: Lang::Nb,
        title: "Terskelverdier".into(),
        questions: TextList::from([
            "Hva er terskelverdiene?",
            "Når gjelder kunngjøringsplikt?",
            "terskelverdi",
            "Hvor mye kan vi kjøpe for uten konkurranse?",
            "EØS-terskel",
        ]),
        keywords: TextList::from(["terskelverdi"]),
        related: Vec::new(),
        reviewed: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        sources: vec![Source {
            name: "Lovdata".into(),
            url: "https://lovdata.no/".into(),
        }],
        facts: Vec::new(),
        body: "Terskelverdiene avgjør hvilke regler som gjelder.".into(),
        event: None,
        path: None,
    }
}

#[test]
fn the_upcoming_conference_is_answered_before_the_past_one() {
    let kb = KnowledgeBase {
        entries: vec![
            conference(
                "conference-2017",
                2017,
                "2017-11-01 09:00",
                "2017-11-01 15:30",
            ),
            conference(
                "conference-2026",
                2026,
                "2026-11-04 09:00",
                "2026-11-04 15:30",
            ),
            thresholds(),
        ],
        ..Default::default()
    };
    let answerer = Answerer::new(kb, AnswerSettings::default()).unwrap();
    let now = utc("2026-10-01T10:00:00Z");
    for question in [
        "når er neste konferanse?",
        "Hvor er konferansen?",
        "hvem kan delta på konferansen?",
    ] {
        let mut reply = answerer.answer(question).unwrap();
        assert!(reply.answered(), "{question}: {reply:?}");
        announce::prefer_upcoming_event(&mut reply, answerer.knowledge(), Oslo, now);
        assert_eq!(reply.id(), Some("conference-2026"), "{question}");
        assert_eq!(
            reply.event_note.as_deref(),
            Some("Kommende arrangement: onsdag 4. november 2026 kl. 09.00–15.30, Thon Hotel Ski, Jernbanesvingen 6, 1400 Ski."),
        );
        assert!(
            reply.tied_with.is_none(),
            "two events are told apart by date, not asked about"
        );
        let text = render_text(&reply, false);
        assert!(
            text.contains("*Kommende arrangement: onsdag 4. november 2026"),
            "{text}"
        );
    }

    // A year later both are past: the answer says so.
    let later = utc("2027-06-01T10:00:00Z");
    let mut reply = answerer.answer("når er konferansen?").unwrap();
    announce::prefer_upcoming_event(&mut reply, answerer.knowledge(), Oslo, later);
    let note = reply.event_note.clone().unwrap();
    assert!(
        note.starts_with("Dette arrangementet er avholdt ("),
        "{note}"
    );
    let year = if reply.id() == Some("conference-2017") {
        "2017"
    } else {
        "2026"
    };
    assert!(note.contains(year), "{note}");

    // Questions about other things are left alone.
    let mut reply = answerer.answer("hva er terskelverdiene?").unwrap();
    assert!(!announce::prefer_upcoming_event(
        &mut reply,
        answerer.knowledge(),
        Oslo,
        now
    ));
    assert_eq!(reply.id(), Some("thresholds"));
    assert!(reply.event_note.is_none());
}

fn settings(db: &TestDb, env: &[(&str, &str)]) -> Settings {
    let knowledge: PathBuf = [env!("CARGO_MANIFEST_DIR"), "knowledge"].iter().collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let overrides = Overrides {
        knowledge_dir: Some(knowledge),
        database_url: Some(db.url.clone()),
        ..Default::default()
    };
    Settings::from_sources(None, &env, &overrides).expect("test settings")
}

async fn database_events_are_answered_upcoming_first(db: &TestDb) {
    let app = App::open(&settings(db, &[])).await.expect("the app opens");
    let now = utc("2026-12-01T10:00:00Z");

    // Before any database event: the 2017 conference, marked as past.
    let reply = app.answer_only_at("Når og hvor er leverandørkonferansen i Ski?", now);
    assert_eq!(reply.id(), Some("conference-follo-2017"), "{reply:?}");
    assert_eq!(
        reply.event_note.as_deref(),
        Some("Dette arrangementet er avholdt (1. november 2017).")
    );

    // An organiser adds next year's conference (through another process, say).
    let store = db.store().await;
    let draft = EventDraft {
        title: "Leverandørkonferansen i Ski 2027".into(),
        start: "2027-02-10 09:00".into(),
        end: "2027-02-10 15:30".into(),
        venue: "Thon Hotel Ski".into(),
        address: Some("Jernbanesvingen 6, 1400 Ski".into()),
        registration_url: Some("https://example.org/pamelding".into()),
        audience: Some("Bedrifter som vil selge til kommunene".into()),
        description: Some(
            "Follo-kommunene legger fram planlagte anskaffelser på leverandørkonferansen.".into(),
        ),
        organiser: Some("Leverandørutviklingsprogrammet".into()),
        lang: Lang::Nb,
    };
    let prepared = announce::prepare_event(&draft, Oslo, "organiser", now).unwrap();
    let stored = announce::add_event(&store, &prepared, now).await.unwrap();
    assert!(
        app.reload_if_changed().await,
        "the knowledge version changed"
    );

    for question in [
        "Når er neste leverandørkonferanse?",
        "Hvor er leverandørkonferansen?",
    ] {
        let reply = app.answer_only_at(question, now);
        assert_eq!(
            reply.id(),
            Some(stored.id.knowledge_id().as_str()),
            "{question}: {reply:?}"
        );
        let note = reply.event_note.as_deref().unwrap_or_default();
        assert!(
            note.starts_with("Kommende arrangement: onsdag 10. februar 2027 kl. 09.00–15.30"),
            "{note}"
        );
        let text = render_text(&reply, false);
        assert!(text.contains("Jernbanesvingen 6"), "{text}");
    }

    // `/events` lists it with Discord timestamps; the past one is not listed.
    let events = announce::upcoming_events(app.answerer().knowledge(), Lang::Nb, Oslo, now);
    assert_eq!(
        events.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        ["event-1"]
    );
    let list = announce::format::event_list(&events, Lang::Nb);
    let unix = utc("2027-02-10T08:00:00Z").timestamp();
    assert!(
        list.contains(&format!("<t:{unix}:F> (<t:{unix}:R>)")),
        "{list}"
    );

    // Its calendar file, by database id and by knowledge id.
    let kb = app.answerer();
    for id in ["1", "event-1"] {
        let event = announce::find_event(id, kb.knowledge(), Some(&store), Lang::Nb, Oslo)
            .await
            .unwrap();
        let ics = announce::ics::event_ics(&event, now);
        assert!(
            ics.contains("SUMMARY:Leverandørkonferansen i Ski 2027\r\n"),
            "{ics}"
        );
    }
    let file_event = announce::find_event(
        "conference-follo-2017",
        kb.knowledge(),
        None,
        Lang::Nb,
        Oslo,
    )
    .await
    .unwrap();
    assert_eq!(file_event.start, utc("2017-11-01T08:00:00Z"));
    assert!(
        announce::find_event("nope", kb.knowledge(), None, Lang::Nb, Oslo)
            .await
            .is_err()
    );
}

async fn a_running_bot_posts_scheduled_announcements(db: &TestDb) {
    let app = App::open(&settings(db, &[])).await.expect("the app opens");
    let store = app.store().expect("connected");
    let stored = schedule(&store, "Hei fra planleggeren!", None, Utc::now()).await;
    let poster = Arc::new(RecordingPoster::new());
    let handle = announce::schedule::spawn_scheduler_every(
        app.clone(),
        poster.clone(),
        Duration::from_millis(50),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while poster.posts().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    handle.abort();
    let posts = poster.posts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(
        (posts[0].channel_id, posts[0].text.as_str()),
        (CHANNEL, "Hei fra planleggeren!")
    );
    assert_eq!(
        store.get_announcement(stored.id).await.unwrap().status,
        anbud::store::AnnouncementStatus::Posted
    );
}
