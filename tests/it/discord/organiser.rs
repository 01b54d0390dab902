//! The organisers' side of the Discord bot end to end, against the fake Discord: the
//! scheduler posting announcements and event reminders, `/announce` with its preview,
//! `/announcements`, `/events`, and the refusals.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anbud::announce::{self, EventDraft};
use anbud::app::Clock;
use anbud::knowledge::Lang;
use anbud::store::{AnnouncementStatus, NewAnnouncement};
use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use chrono_tz::Europe::Oslo;
use serde_json::{json, Value};

use crate::fake_discord::{ids, FakeDiscord, FakeGuild, PostSource, Posted};
use crate::support::{
    assert_no_mentions, options, spawn_bot, spawn_bot_with_clock, subcommand, TestBot, WAIT,
};

/// The scheduler's tick in these tests (the default is 5 s).
const TICK_MS: u64 = 200;

async fn organiser_bot() -> TestBot {
    spawn_bot(|s, _| {
        s.announcements.scheduler_tick_ms = TICK_MS;
        s.announcements.reminder_channel = Some(ids::ANNOUNCEMENTS_CHANNEL);
    })
    .await
}

/// A wall-clock time in Oslo, as organisers type it.
fn oslo(at: DateTime<Utc>) -> String {
    at.with_timezone(&Oslo).format("%Y-%m-%d %H:%M").to_string()
}

/// `/announce` options: the channel as Discord sends a channel option (type 7).
fn announce_options(channel: u64, text: &str, at: Option<&str>) -> Value {
    let mut items = vec![
        json!({ "name": "channel", "type": 7, "value": channel.to_string() }),
        json!({ "name": "text", "type": 3, "value": text }),
    ];
    if let Some(at) = at {
        items.push(json!({ "name": "at", "type": 3, "value": at }));
    }
    json!(items)
}

fn posts_in(t: &TestBot, channel: u64) -> Vec<Posted> {
    t.fake
        .posted()
        .into_iter()
        .filter(|p| p.channel_id == channel && p.source == PostSource::ChannelMessage)
        .collect()
}

/// Runs `/announce` as `user` and returns the interaction id and the preview message
/// (the one with the buttons).
async fn announce_preview(t: &TestBot, text: &str, at: Option<&str>) -> (u64, Posted) {
    let command = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "announce",
        announce_options(ids::ANNOUNCEMENTS_CHANNEL, text, at),
    );
    let intro = t.interaction_reply(command).await;
    assert!(intro.is_ephemeral());
    assert!(
        intro.content.contains("Forhåndsvisning"),
        "{}",
        intro.content
    );
    let preview = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(command) && !p.custom_ids().is_empty()
        })
        .await;
    assert!(preview.is_ephemeral());
    assert_no_mentions(&preview);
    (command, preview)
}

fn button(preview: &Posted, action: &str) -> String {
    preview
        .custom_ids()
        .into_iter()
        .find(|c| c.contains(&format!(":{action}:")))
        .unwrap_or_else(|| panic!("no {action} button on {:?}", preview.custom_ids()))
}

/// A clock the test moves by hand. It counts how often it is read: the scheduler reads
/// it once at the start of every tick, so two more reads mean a whole tick has run.
struct ManualClock {
    micros: AtomicI64,
    reads: AtomicU64,
}

impl ManualClock {
    fn at(now: DateTime<Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock {
            micros: AtomicI64::new(now.timestamp_micros()),
            reads: AtomicU64::new(0),
        })
    }

    fn advance(&self, by: TimeDelta) {
        let by = by.num_microseconds().expect("a short step");
        self.micros.fetch_add(by, Ordering::SeqCst);
    }

    /// Waits until the scheduler has run a whole tick that started after this call.
    async fn whole_tick(&self) {
        let seen = self.reads.load(Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.reads.load(Ordering::SeqCst) < seen + 2 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the scheduler stopped"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        DateTime::from_timestamp_micros(self.micros.load(Ordering::SeqCst)).expect("in range")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_announcement_is_posted_at_its_time() {
    let start = Utc::now().trunc_subsecs(6);
    let clock = ManualClock::at(start);
    let fake = FakeDiscord::start(FakeGuild::default_test_guild()).await;
    let t = spawn_bot_with_clock(
        fake,
        |s, _| s.announcements.scheduler_tick_ms = TICK_MS,
        clock.clone(),
    )
    .await;
    let text = "Påmeldingen til leverandørkonferansen er åpen! @everyone";
    let publish_at = start + TimeDelta::hours(1);
    let new = NewAnnouncement {
        channel_id: ids::ANNOUNCEMENTS_CHANNEL,
        text: text.into(),
        publish_at,
        created_by: "test".into(),
    };
    let stored = t.store().add_announcement(&new, start).await.unwrap();

    // Ticks run a minute before its time: nothing is posted.
    clock.advance(TimeDelta::minutes(59));
    clock.whole_tick().await;
    assert!(posts_in(&t, ids::ANNOUNCEMENTS_CHANNEL).is_empty());

    // Its time comes: posted at the next tick.
    clock.advance(TimeDelta::minutes(1));
    let posted = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ANNOUNCEMENTS_CHANNEL)
        .await;
    assert_eq!(posted.source, PostSource::ChannelMessage);
    assert_eq!(posted.content, text, "exactly the text, no late note");
    assert_no_mentions(&posted);

    // Posted once, and marked so.
    clock.whole_tick().await;
    clock.whole_tick().await;
    assert_eq!(posts_in(&t, ids::ANNOUNCEMENTS_CHANNEL).len(), 1);
    let after = t.store().get_announcement(stored.id).await.unwrap();
    assert_eq!(after.status, AnnouncementStatus::Posted);
    assert!(!after.late);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_announcement_for_a_channel_that_is_gone_records_why() {
    let t = organiser_bot().await;
    let new = NewAnnouncement {
        channel_id: 1_100_000_000_000_000_999,
        text: "Hei!".into(),
        publish_at: Utc::now(),
        created_by: "test".into(),
    };
    let stored = t.store().add_announcement(&new, Utc::now()).await.unwrap();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let a = t.store().get_announcement(stored.id).await.unwrap();
        if let Some(error) = &a.last_error {
            assert!(
                error.contains("does not exist or the bot cannot see it"),
                "{error}"
            );
            assert_eq!(a.status, AnnouncementStatus::Scheduled, "retried later");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no attempt recorded: {a:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_reminder_is_posted_before_the_event_with_its_calendar_file() {
    let t = organiser_bot().await;
    // Starts in about 90 minutes: the 2-hour reminder is due now.
    let start = Utc::now() + TimeDelta::minutes(90);
    let draft = EventDraft {
        title: "Dialogmøte om skoleskyss".into(),
        start: oslo(start),
        end: oslo(start + TimeDelta::hours(2)),
        venue: "Rådhuset i Ski".into(),
        address: None,
        registration_url: Some("https://example.org/pamelding".into()),
        audience: None,
        description: Some("Kommunen presenterer behovet.".into()),
        organiser: None,
        lang: Lang::Nb,
    };
    let prepared = announce::prepare_event(&draft, Oslo, "test", Utc::now()).unwrap();
    let stored = announce::add_event(&t.store(), &prepared, Utc::now())
        .await
        .unwrap();
    t.app.reload_if_changed().await;

    let reminder = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ANNOUNCEMENTS_CHANNEL)
        .await;
    assert!(
        reminder
            .content
            .starts_with("**Påminnelse:** Dialogmøte om skoleskyss starter om"),
        "{}",
        reminder.content
    );
    let unix = stored.event.start_at.timestamp();
    assert!(
        reminder.content.contains(&format!("<t:{unix}:F>")),
        "{}",
        reminder.content
    );
    assert!(
        reminder.content.contains("<https://example.org/pamelding>"),
        "{}",
        reminder.content
    );
    assert_no_mentions(&reminder);
    assert_eq!(reminder.attachments.len(), 1, "the calendar file");
    let file = &reminder.attachments[0];
    assert_eq!(file.filename, "event-1.ics");
    assert!(
        file.text().contains("BEGIN:VCALENDAR") && file.text().contains("Dialogmøte om skoleskyss")
    );

    tokio::time::sleep(Duration::from_millis(3 * TICK_MS)).await;
    assert_eq!(
        posts_in(&t, ids::ANNOUNCEMENTS_CHANNEL).len(),
        1,
        "each reminder once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announce_shows_a_preview_and_publishes_on_confirm() {
    let t = organiser_bot().await;

    // Now: preview, nothing stored, publish, posted once by the scheduler.
    let text =
        "Velkommen til høstens dialogmøter!\n\n**Program:** https://example.org/program @everyone";
    let (command, preview) = announce_preview(&t, text, None).await;
    assert_eq!(preview.content, text, "the preview is exactly the message");
    assert!(
        t.store().list_announcements(None).await.unwrap().is_empty(),
        "nothing stored before Publish"
    );
    t.fake.button_click(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        preview.message_id,
        &button(&preview, "publish"),
    );
    let done = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(command) && p.content.contains("Lagret som kunngjøring")
        })
        .await;
    assert!(done.is_ephemeral());
    assert!(
        done.content.contains("#1") && done.content.contains("noen sekunder"),
        "{}",
        done.content
    );
    let posted = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ANNOUNCEMENTS_CHANNEL)
        .await;
    assert_eq!(posted.content, text);
    assert_no_mentions(&posted);
    tokio::time::sleep(Duration::from_millis(3 * TICK_MS)).await;
    assert_eq!(
        posts_in(&t, ids::ANNOUNCEMENTS_CHANNEL).len(),
        1,
        "posted exactly once"
    );

    // At a time: the organiser is told when, as a Discord timestamp.
    let tomorrow = (Utc::now() + TimeDelta::days(1))
        .with_timezone(&Oslo)
        .format("%Y-%m-%d 09:00")
        .to_string();
    let (command, preview) = announce_preview(&t, "Husk fristen i morgen.", Some(&tomorrow)).await;
    t.fake.button_click(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        preview.message_id,
        &button(&preview, "publish"),
    );
    let done = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(command) && p.content.contains("Lagret som kunngjøring")
        })
        .await;
    let list = t
        .store()
        .list_announcements(Some(AnnouncementStatus::Scheduled))
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(oslo(list[0].publish_at), tomorrow);
    let unix = list[0].publish_at.timestamp();
    assert!(
        done.content.contains(&format!("<t:{unix}:F>")),
        "{}",
        done.content
    );

    // Cancel: nothing stored.
    let (command, preview) = announce_preview(&t, "Dette blir ikke noe av.", None).await;
    t.fake.button_click(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        preview.message_id,
        &button(&preview, "cancel"),
    );
    t.fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(command) && p.content.contains("Avbrutt")
        })
        .await;
    assert_eq!(t.store().list_announcements(None).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announcements_are_listed_edited_and_cancelled() {
    let t = organiser_bot().await;
    let new = NewAnnouncement {
        channel_id: ids::ANNOUNCEMENTS_CHANNEL,
        text: "Konferansen flyttes.".into(),
        publish_at: Utc::now() + TimeDelta::days(2),
        created_by: "test".into(),
    };
    let stored = t.store().add_announcement(&new, Utc::now()).await.unwrap();

    let command = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "announcements",
        subcommand("list", json!([])),
    );
    let list = t.interaction_reply(command).await;
    assert!(list.is_ephemeral());
    assert!(
        list.content.contains("**#1** · planlagt · <t:"),
        "{}",
        list.content
    );
    assert!(
        list.content
            .contains(&format!("<#{}>", ids::ANNOUNCEMENTS_CHANNEL)),
        "{}",
        list.content
    );
    assert!(
        list.content.contains("Konferansen flyttes."),
        "{}",
        list.content
    );

    let later = oslo(Utc::now() + TimeDelta::days(3));
    let edit = options(&[
        ("id", json!(1)),
        ("text", json!("Konferansen flyttes til torsdag.")),
        ("at", json!(later)),
    ]);
    let command = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "announcements",
        subcommand("edit", edit),
    );
    let edited = t.interaction_reply(command).await;
    assert!(
        edited.content.contains("Endret kunngjøring #1"),
        "{}",
        edited.content
    );
    let after = t.store().get_announcement(stored.id).await.unwrap();
    assert_eq!(after.text, "Konferansen flyttes til torsdag.");
    assert_eq!(oslo(after.publish_at), later);

    let cancel = options(&[("id", json!(1))]);
    let command = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "announcements",
        subcommand("cancel", cancel.clone()),
    );
    let cancelled = t.interaction_reply(command).await;
    assert!(
        cancelled.content.contains("Avlyste kunngjøring #1"),
        "{}",
        cancelled.content
    );
    assert_eq!(
        t.store().get_announcement(stored.id).await.unwrap().status,
        AnnouncementStatus::Cancelled
    );

    // Only a scheduled one can be cancelled: the core's reason, not an apology.
    let command = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "announcements",
        subcommand("cancel", cancel),
    );
    let refused = t.interaction_reply(command).await;
    assert!(
        refused.content.contains("only a scheduled announcement"),
        "{}",
        refused.content
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_organisers_are_refused_politely_and_nothing_changes() {
    let t = organiser_bot().await;
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::GENERAL_CHANNEL,
        "announce",
        announce_options(ids::ANNOUNCEMENTS_CHANNEL, "Gratis kaffe!", None),
    );
    let refusal = t.interaction_reply(command).await;
    assert!(refusal.is_ephemeral());
    assert!(
        refusal.content.contains("bare for arrangører"),
        "{}",
        refusal.content
    );
    assert!(refusal.custom_ids().is_empty(), "no preview, no buttons");

    // An adviser is not an organiser either.
    let command = t.fake.slash_command(
        ids::ADVISER_USER,
        ids::GENERAL_CHANNEL,
        "announcements",
        subcommand("list", json!([])),
    );
    let refusal = t.interaction_reply(command).await;
    assert!(
        refusal.content.contains("bare for arrangører"),
        "{}",
        refusal.content
    );

    let add = options(&[
        ("title", json!("Falsk konferanse")),
        ("start", json!(oslo(Utc::now() + TimeDelta::days(10)))),
        (
            "end",
            json!(oslo(Utc::now() + TimeDelta::days(10) + TimeDelta::hours(1))),
        ),
        ("venue", json!("Et sted")),
    ]);
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::GENERAL_CHANNEL,
        "events",
        subcommand("add", add),
    );
    let refusal = t.interaction_reply(command).await;
    assert!(
        refusal.is_ephemeral() && refusal.content.contains("bare for arrangører"),
        "{}",
        refusal.content
    );

    tokio::time::sleep(Duration::from_millis(3 * TICK_MS)).await;
    assert!(t.store().list_announcements(None).await.unwrap().is_empty());
    assert!(t.store().list_events().await.unwrap().is_empty());
    assert!(posts_in(&t, ids::ANNOUNCEMENTS_CHANNEL).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_times_and_overlong_texts_are_refused_with_a_clear_message() {
    let t = organiser_bot().await;
    let cases = [
        (
            "Hei!".to_owned(),
            Some("i morgen"),
            "\"i morgen\" is not a time; write it as YYYY-MM-DD HH:MM",
        ),
        (
            "Hei!".to_owned(),
            Some("2020-01-01 10:00"),
            "2020-01-01 10:00 is in the past",
        ),
        (
            "Hei!".to_owned(),
            Some("2030-03-31 02:30"),
            "does not exist in Europe/Oslo",
        ),
        (
            "x".repeat(2001),
            None,
            "the text has 2001 characters; Discord allows at most 2000",
        ),
    ];
    for (text, at, expected) in cases {
        let command = t.fake.slash_command(
            ids::ORGANISER_USER,
            ids::GENERAL_CHANNEL,
            "announce",
            announce_options(ids::ANNOUNCEMENTS_CHANNEL, &text, at),
        );
        let refused = t.interaction_reply(command).await;
        assert!(refused.is_ephemeral());
        assert!(
            refused.content.contains("Ingenting er endret:"),
            "{}",
            refused.content
        );
        assert!(
            refused.content.contains(expected),
            "{expected:?} not in {}",
            refused.content
        );
        assert!(refused.custom_ids().is_empty(), "no preview");
    }
    // A channel that is not one of the server's.
    let command = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "announce",
        announce_options(1_100_000_000_000_000_999, "Hei!", None),
    );
    let refused = t.interaction_reply(command).await;
    assert!(
        refused.content.contains("is not a channel of this server"),
        "{}",
        refused.content
    );
    assert!(
        t.store().list_announcements(None).await.unwrap().is_empty(),
        "nothing stored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_added_listed_with_timestamps_and_give_a_calendar_file() {
    let t = organiser_bot().await;
    let start = Utc::now() + TimeDelta::days(30);
    let add = options(&[
        ("title", json!("Leverandørkonferansen i Ski")),
        ("start", json!(oslo(start))),
        ("end", json!(oslo(start + TimeDelta::hours(6)))),
        ("venue", json!("Thon Hotel Ski")),
        ("address", json!("Jernbanesvingen 6, 1400 Ski")),
        ("registration_url", json!("https://example.org/pamelding")),
        (
            "description",
            json!("Kommunene legger fram planlagte anskaffelser."),
        ),
    ]);
    let command = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "events",
        subcommand("add", add.clone()),
    );
    let added = t.interaction_reply(command).await;
    assert!(added.is_ephemeral());
    assert!(
        added.content.contains("La til arrangementet `event-1`"),
        "{}",
        added.content
    );
    let stored = t.store().list_events().await.unwrap();
    assert_eq!(stored.len(), 1);
    let unix = stored[0].event.start_at.timestamp();

    // The same command again (it seemed to fail, or was sent twice) adds nothing new.
    let again = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "events",
        subcommand("add", add),
    );
    let again = t.interaction_reply(again).await;
    assert!(again.content.contains("`event-1`"), "{}", again.content);
    assert_eq!(
        t.store().list_events().await.unwrap().len(),
        1,
        "not added twice"
    );

    // Everyone can list events and get the calendar file.
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "events",
        subcommand("list", json!([])),
    );
    let list = t.interaction_reply(command).await;
    assert!(
        list.content.starts_with("**Kommende arrangementer**"),
        "{}",
        list.content
    );
    assert!(
        list.content.contains("**Leverandørkonferansen i Ski**"),
        "{}",
        list.content
    );
    assert!(
        list.content
            .contains(&format!("<t:{unix}:F> (<t:{unix}:R>)")),
        "{}",
        list.content
    );
    assert!(
        list.content
            .contains("Sted: Thon Hotel Ski, Jernbanesvingen 6, 1400 Ski"),
        "{}",
        list.content
    );
    assert_no_mentions(&list);

    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "events",
        subcommand("ics", options(&[("id", json!("event-1"))])),
    );
    let ics = t
        .fake
        .wait_for_callback(WAIT, |c| c.interaction_id == command)
        .await;
    assert!(ics.is_ephemeral());
    assert!(
        ics.content().contains("Leverandørkonferansen i Ski"),
        "{}",
        ics.content()
    );
    assert_eq!(ics.files.len(), 1, "the .ics is attached");
    assert_eq!(ics.files[0].filename, "event-1.ics");
    let body = ics.files[0].text();
    assert!(
        body.contains("BEGIN:VEVENT") && body.contains("Leverandørkonferansen i Ski"),
        "{body}"
    );

    // An unknown id is answered with the reason.
    let command = t.fake.slash_command(
        ids::SUPPLIER_USER,
        ids::QA_CHANNEL,
        "events",
        subcommand("ics", options(&[("id", json!("no-such-event"))])),
    );
    let refused = t.interaction_reply(command).await;
    assert!(
        refused
            .content
            .contains("there is no event with id \"no-such-event\""),
        "{}",
        refused.content
    );
}

/// Adviser and organiser commands are hidden from ordinary members by
/// `default_member_permissions` (the role check on the server stays); everyone's
/// commands are not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_commands_are_registered_hidden_from_members() {
    let t = spawn_bot(|_, _| {}).await;
    let commands = t.fake.registered_commands();
    let permissions = |name: &str| {
        commands
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name} not registered"))["default_member_permissions"]
            .clone()
    };
    for name in ["unanswered", "answer", "dismiss", "kb", "stats"] {
        assert_eq!(permissions(name), json!("8192"), "{name}: Manage Messages");
    }
    for name in ["announce", "announcements"] {
        assert_eq!(
            permissions(name),
            json!("8589934592"),
            "{name}: Manage Events"
        );
    }
    for name in ["ask", "help", "forget-me", "events"] {
        assert_eq!(permissions(name), json!(null), "{name} is for everyone");
    }
}

/// `/announce` without `text` opens a form with a paragraph field: an announcement of
/// several lines is previewed and posted with its line breaks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announce_without_text_takes_several_lines_in_a_form() {
    let t = organiser_bot().await;
    let command = t.fake.slash_command(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        "announce",
        json!([{ "name": "channel", "type": 7, "value": ids::ANNOUNCEMENTS_CHANNEL.to_string() }]),
    );
    let text = "Velkommen til dialogmøtet!\n\n**Program**\n09.00 Kaffe\n09.30 Innledning";
    let submit = t
        .fill_text_form(command, ids::ORGANISER_USER, ids::GENERAL_CHANNEL, text)
        .await;
    let preview = t
        .fake
        .wait_for_post(WAIT, |p| {
            p.interaction_id == Some(submit) && !p.custom_ids().is_empty()
        })
        .await;
    assert_eq!(preview.content, text, "the preview is exactly the message");
    t.fake.button_click(
        ids::ORGANISER_USER,
        ids::GENERAL_CHANNEL,
        preview.message_id,
        &button(&preview, "publish"),
    );
    let posted = t
        .fake
        .wait_for_post(WAIT, |p| p.channel_id == ids::ANNOUNCEMENTS_CHANNEL)
        .await;
    assert_eq!(posted.content, text);
}
