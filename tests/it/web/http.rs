//! The pages over HTTP: every refusal the issue names has a test here that fails
//! without its guard, and the advisers' and organisers' work, on both databases.

use anbud::store::{AnnouncementStatus, QueueStatus};

use super::{csrf_of, on_both_databases, session_cookie, Site};
use crate::store::TestDb;

/// An off-topic question the bot abstains on.
const OFF_TOPIC: &str = "Hva blir været i Bergen i morgen?";

async fn without_a_session_pages_redirect_and_json_is_401(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    for path in [
        "/",
        "/queue",
        "/queue/1",
        "/entries",
        "/stats",
        "/announcements",
        "/events",
    ] {
        let response = site.get(path, None).await;
        assert_eq!(response.status(), 303, "{path}");
        let location = response.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/login"), "{path} → {location}");
    }
    let response = site.get("/stats.json", None).await;
    assert_eq!(response.status(), 401);
    let response = site
        .client
        .get(format!("{}/queue", site.base))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A made-up cookie is no session either.
    let response = site.get("/queue", Some(&"0".repeat(64))).await;
    assert_eq!(response.status(), 303);
    // POSTs too, and nothing changes.
    let id = site.queue_question(OFF_TOPIC).await;
    let response = site
        .client
        .post(format!("{}/queue/{}/dismiss", site.base, id.0))
        .form(&[("reason", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        site.store().get_item(id).await.unwrap().status,
        QueueStatus::Open
    );
    // The sign-in page itself is open.
    assert_eq!(site.get("/login", None).await.status(), 200);
}

async fn a_one_time_link_works_once_and_sets_a_safe_cookie(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let link = site.web.login_url();
    let first = site.client.get(&link).send().await.unwrap();
    assert_eq!(first.status(), 303);
    let cookie_header = first.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie_header.contains("HttpOnly") && cookie_header.contains("SameSite=Lax"),
        "{cookie_header}"
    );
    assert!(
        !cookie_header.contains("Secure"),
        "plain http on 127.0.0.1: {cookie_header}"
    );
    let cookie = session_cookie(&first).unwrap();
    assert_eq!(site.get("/queue", Some(&cookie)).await.status(), 200);
    // The database keeps a hash, never the token.
    let audit = site.store().audit_log(10).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "web_sign_in" && a.actor.ends_with("(local)")),
        "{audit:?}"
    );

    let replay = site.client.get(&link).send().await.unwrap();
    assert_eq!(replay.status(), 403);
    assert!(session_cookie(&replay).is_none());
    let text = replay.text().await.unwrap();
    assert!(text.contains("used already"), "{text}");
    let made_up = site
        .client
        .get(format!("{}/login?token=abc", site.base))
        .send()
        .await
        .unwrap();
    assert_eq!(made_up.status(), 403);
}

async fn a_wrong_role_is_refused_and_nothing_changes(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let id = site.queue_question(OFF_TOPIC).await;
    // Sessions as Discord sign-in makes them, with one role each.
    let store = site.store();
    let make = |adviser: bool, organiser: bool, token: &'static str| {
        let store = store.clone();
        async move {
            store
                .create_web_session(
                    &anbud_hash(token),
                    &anbud::store::NewWebSession {
                        person: if adviser {
                            "Ada Adviser".into()
                        } else {
                            "Olga Organiser".into()
                        },
                        discord_user_id: None,
                        adviser,
                        organiser,
                        csrf_token: format!("csrf-{token}"),
                        access_token: None,
                    },
                    chrono::Utc::now() + chrono::TimeDelta::hours(1),
                )
                .await
                .unwrap();
        }
    };
    make(true, false, "adviser-token").await;
    make(false, true, "organiser-token").await;
    for path in ["/announcements", "/events"] {
        assert_eq!(
            site.get(path, Some("adviser-token")).await.status(),
            403,
            "{path}"
        );
        assert_eq!(
            site.get(path, Some("organiser-token")).await.status(),
            200,
            "{path}"
        );
    }
    for path in ["/queue", "/entries", "/stats", "/try?q=hei"] {
        assert_eq!(
            site.get(path, Some("organiser-token")).await.status(),
            403,
            "{path}"
        );
        assert_eq!(
            site.get(path, Some("adviser-token")).await.status(),
            200,
            "{path}"
        );
    }
    let response = site
        .post(
            &format!("/queue/{}/answer", id.0),
            "organiser-token",
            &[
                ("csrf", "csrf-organiser-token"),
                ("answer", "Svar"),
                ("learn", "nothing"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        site.store().get_item(id).await.unwrap().status,
        QueueStatus::Open
    );
    let response = site
        .post(
            "/announcements",
            "adviser-token",
            &[
                ("csrf", "csrf-adviser-token"),
                ("channel", "123456789012345678"),
                ("text", "Hei"),
                ("action", "schedule"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    assert!(site
        .store()
        .list_announcements(None)
        .await
        .unwrap()
        .is_empty());
}

fn anbud_hash(token: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn a_form_without_the_csrf_token_is_refused(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let id = site.queue_question(OFF_TOPIC).await;
    let me = site.sign_in().await;
    let path = format!("/queue/{}/dismiss", id.0);
    let missing = site.post(&path, &me.cookie, &[("reason", "spam")]).await;
    assert_eq!(missing.status(), 403);
    let wrong = site
        .post(
            &path,
            &me.cookie,
            &[("reason", "spam"), ("csrf", &"f".repeat(64))],
        )
        .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(
        site.store().get_item(id).await.unwrap().status,
        QueueStatus::Open
    );
    for (path, form) in [
        ("/logout", vec![]),
        (
            "/announcements",
            vec![
                ("channel", "123456789012345678"),
                ("text", "Hei"),
                ("action", "schedule"),
            ],
        ),
        (
            "/events",
            vec![
                ("title", "T"),
                ("start", "2099-01-01 09:00"),
                ("end", "2099-01-01 10:00"),
                ("venue", "V"),
            ],
        ),
        (
            "/entries/espd/edit?lang=nb",
            vec![("title", "T"), ("action", "save")],
        ),
    ] {
        assert_eq!(
            site.post(path, &me.cookie, &form).await.status(),
            403,
            "{path}"
        );
    }
    assert!(site
        .store()
        .list_announcements(None)
        .await
        .unwrap()
        .is_empty());
    assert!(site.store().list_events().await.unwrap().is_empty());
    assert!(site.store().learned_entries().await.unwrap().is_empty());
    // With the token it goes through.
    let ok = site
        .post(&path, &me.cookie, &[("reason", "spam"), ("csrf", &me.csrf)])
        .await;
    assert_eq!(ok.status(), 303);
    assert_eq!(
        site.store().get_item(id).await.unwrap().status,
        QueueStatus::Dismissed
    );
}

async fn users_text_is_shown_escaped_everywhere(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let script = "<script>alert('x')</script> <img src=x onerror=alert(1)> hva med været?";
    let id = site.queue_question(script).await;
    let me = site.sign_in().await;
    for path in [
        "/queue".to_string(),
        format!("/queue/{}", id.0),
        "/stats".to_string(),
        format!("/try?q={}", urlencode(script)),
    ] {
        let page = site
            .get(&path, Some(&me.cookie))
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains("<script>alert"), "{path}: {page}");
        assert!(!page.contains("<img src=x"), "{path}");
        if !path.starts_with("/try") {
            assert!(page.contains("&lt;script&gt;alert("), "{path}");
        }
    }
    // And in what an organiser types.
    let response = site
        .post(
            "/announcements",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("channel", "123456789012345678"),
                ("text", "<script>alert(2)</script> **hei**"),
                ("action", "preview"),
            ],
        )
        .await;
    let page = response.text().await.unwrap();
    assert!(
        page.contains("&lt;script&gt;alert(2)") && !page.contains("<script>alert(2)"),
        "{page}"
    );
    assert!(page.contains("<strong>hei</strong>"), "{page}");
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn an_answer_reaches_the_outbox_and_the_audit_names_the_person(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let id = site.queue_question(OFF_TOPIC).await;
    // The same question again joins the item.
    site.queue_question(OFF_TOPIC).await;
    let me = site.sign_in().await;
    let page = site
        .get("/queue", Some(&me.cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("2 times"), "{page}");
    // The item page proposes what the bot would learn, for review, instead of copying it.
    let item_page = site
        .get(&format!("/queue/{}", id.0), Some(&me.cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        item_page.contains(r#"name="title""#) && item_page.contains(OFF_TOPIC),
        "{item_page}"
    );
    // Saving an entry without a reviewed title and questions is refused, nothing sent.
    let unreviewed = site
        .post(
            &format!("/queue/{}/answer", id.0),
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("answer", "Sjekk yr.no."),
                ("learn", "new"),
            ],
        )
        .await;
    assert_eq!(unreviewed.status(), 422);
    let page = unreviewed.text().await.unwrap();
    assert!(page.contains("needs a title"), "{page}");
    assert_eq!(
        site.store().get_item(id).await.unwrap().status,
        QueueStatus::Open
    );
    let response = site
        .post(
            &format!("/queue/{}/answer", id.0),
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("answer", "Sjekk yr.no."),
                ("learn", "new"),
                ("title", "Været i Bergen"),
                ("questions", OFF_TOPIC),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.contains("answered=") && location.contains("told=2"),
        "{location}"
    );
    let item = site.store().get_item(id).await.unwrap();
    assert_eq!(item.status, QueueStatus::Answered);
    let person = format!(
        "{} (local)",
        std::env::var("USER")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "cli".into())
    );
    assert_eq!(item.handled_by.as_deref(), Some(person.as_str()));
    let outbox = site.store().pending_outbox(10).await.unwrap();
    assert_eq!(outbox.len(), 2);
    assert!(outbox.iter().all(|m| m.text == "Sjekk yr.no."));
    // Saved as an entry: the bot answers it now.
    assert!(site.app.answer_only(OFF_TOPIC).answered());
    let audit = site.store().audit_log(20).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "answer" && a.actor == person),
        "{audit:?}"
    );
    // The page now says so, and a second answer is refused with the reason.
    let again = site
        .post(
            &format!("/queue/{}/answer", id.0),
            &me.cookie,
            &[("csrf", &me.csrf), ("answer", "x")],
        )
        .await;
    assert_eq!(again.status(), 422);
    let page = again.text().await.unwrap();
    assert!(
        page.contains("Nothing was sent") && page.contains("is answered, not open"),
        "{page}"
    );
    assert_eq!(
        site.store().pending_outbox(10).await.unwrap().len(),
        0,
        "claimed above, none added"
    );
}

async fn oversize_and_malformed_input_is_refused_next_to_the_field(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let id = site.queue_question(OFF_TOPIC).await;
    let me = site.sign_in().await;
    let long = format!("START{}", "a".repeat(5000));
    let response = site
        .post(
            &format!("/queue/{}/answer", id.0),
            &me.cookie,
            &[("csrf", &me.csrf), ("answer", &long), ("learn", "nothing")],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("at most 4000"), "{page}");
    assert!(page.contains(&long), "the typed text is kept");
    assert_eq!(
        site.store().get_item(id).await.unwrap().status,
        QueueStatus::Open
    );

    let response = site
        .post(
            &format!("/queue/{}/answer", id.0),
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("answer", "Svar"),
                ("learn", "phrasing"),
                ("entry", "no-such-entry"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("no entry with id"));

    let response = site
        .post(
            "/announcements",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("channel", "general"),
                ("text", "Hei"),
                ("at", "i morgen"),
                ("action", "schedule"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("is not a Discord channel id"), "{page}");
    let response = site
        .post(
            "/announcements",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("channel", "123456789012345678"),
                ("text", &"x".repeat(2001)),
                ("action", "schedule"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("2001 characters"));
    let response = site
        .post(
            "/announcements",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("channel", "123456789012345678"),
                ("text", "Hei"),
                ("at", "2020-01-01 10:00"),
                ("action", "schedule"),
            ],
        )
        .await;
    let page = response.text().await.unwrap();
    assert!(
        page.contains("is in the past") && page.contains("value=\"2020-01-01 10:00\""),
        "{page}"
    );
    assert!(site
        .store()
        .list_announcements(None)
        .await
        .unwrap()
        .is_empty());

    let response = site
        .post(
            "/events",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("title", "Konferansen"),
                ("start", "2099-03-10 09:00"),
                ("end", "2099-03-10 08:00"),
                ("venue", "Ski"),
                ("registration_url", "www.example.org"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("before it starts") && page.contains("value=\"Konferansen\""),
        "{page}"
    );
    assert!(site.store().list_events().await.unwrap().is_empty());

    let response = site
        .post(
            "/entries/espd/edit?lang=nb",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("title", ""),
                ("body", "x"),
                ("sources", "Lovdata | javascript:alert(1)"),
                ("reviewed", "2026-01-01"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("The title is empty") && page.contains("not a web address"),
        "{page}"
    );
    assert!(site.store().learned_entries().await.unwrap().is_empty());
}

async fn a_database_outage_shows_a_clear_page(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let me = site.sign_in().await;
    site.store().close().await;
    for path in ["/queue", "/stats", "/announcements"] {
        let response = site.get(path, Some(&me.cookie)).await;
        assert_eq!(response.status(), 503, "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains("The database is not answering"), "{page}");
    }
}

async fn sign_in_attempts_are_rate_limited(db: TestDb) {
    let site = Site::start(db, |s| s.web.sign_in_per_minute = 3).await;
    for _ in 0..3 {
        let response = site
            .client
            .get(format!("{}/login?token=wrong", site.base))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
    }
    let link = site.web.login_url();
    let response = site.client.get(&link).send().await.unwrap();
    assert_eq!(response.status(), 429, "even a good link waits");
    assert!(session_cookie(&response).is_none());
}

async fn entries_are_edited_with_preview_and_lint_and_exported(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let me = site.sign_in().await;
    let page = site
        .get("/entries/espd/edit?lang=nb", Some(&me.cookie))
        .await
        .text()
        .await
        .unwrap();
    let field = |name: &str| -> String {
        // The form's current values, as a browser would send them back.
        let marker = format!("name=\"{name}\"");
        let at = page.find(&marker).unwrap();
        let rest = &page[at..];
        if let Some(v) = rest
            .split_once("value=\"")
            .filter(|(before, _)| !before.contains('>'))
        {
            html_unescape(v.1.split('"').next().unwrap())
        } else {
            let start = rest.find('>').unwrap() + 1;
            html_unescape(&rest[start..rest.find("</textarea>").unwrap()])
        }
    };
    let (title, questions, sources, keywords) = (
        field("title"),
        field("questions"),
        field("sources"),
        field("keywords"),
    );
    let body = "Nytt svar med **vekt**.\n\n<script>alert(1)</script>";
    let form = |action: &'static str, questions: String| {
        vec![
            ("csrf", me.csrf.clone()),
            ("title", title.clone()),
            ("body", body.to_string()),
            ("questions", questions),
            ("keywords", keywords.clone()),
            ("sources", sources.clone()),
            ("reviewed", "2026-12-01".to_string()),
            ("action", action.to_string()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| {
        v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>()
    };
    let post = |f: Vec<(&'static str, String)>| {
        let site = &site;
        let cookie = me.cookie.clone();
        async move {
            site.client
                .post(format!("{}/entries/espd/edit?lang=nb", site.base))
                .header("cookie", format!("anbud_session={cookie}"))
                .form(&f)
                .send()
                .await
                .unwrap()
        }
    };
    // Preview: the reply as suppliers see it, lint says nothing, nothing saved.
    let response = post(as_refs(&form("preview", questions.clone()))).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("<strong>vekt</strong>") && page.contains("&lt;script&gt;"),
        "{page}"
    );
    assert!(page.contains("No problems."), "{page}");
    assert!(site.store().learned_entries().await.unwrap().is_empty());
    // Too few example questions: kb lint's error, and saving is refused.
    let response = post(as_refs(&form("save", "Bare ett spørsmål?".to_string()))).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("entries/espd.nb.md:") && page.contains("at least 5 are needed"),
        "{page}"
    );
    assert!(site.store().learned_entries().await.unwrap().is_empty());
    // Saved: the bot answers from it, with every source kept.
    let response = post(as_refs(&form("save", questions.clone()))).await;
    assert_eq!(response.status(), 303);
    let learned = site.store().learned_entries().await.unwrap();
    assert_eq!(learned.len(), 1);
    assert_eq!(learned[0].body, body);
    let answerer = site.app.answerer();
    let entry = answerer
        .knowledge()
        .entry("espd", anbud::knowledge::Lang::Nb)
        .unwrap();
    assert_eq!(entry.body_text(), body);
    assert_eq!(
        entry.sources.len(),
        sources.lines().count(),
        "{:?}",
        entry.sources
    );
    // Exported as a knowledge file.
    let response = site.get("/entries/export.tar", Some(&me.cookie)).await;
    assert_eq!(response.status(), 200);
    let tar = response.bytes().await.unwrap();
    let text = String::from_utf8_lossy(&tar);
    assert!(
        text.contains("entries/espd.nb.md") && text.contains("Nytt svar med **vekt**"),
        "{text}"
    );
    assert!(
        !text.contains("entries/framework-agreements"),
        "only changed entries"
    );
}

fn html_unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

async fn announcements_are_previewed_scheduled_edited_and_cancelled(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let me = site.sign_in().await;
    let base = [
        ("csrf", me.csrf.as_str()),
        ("channel", "123456789012345678"),
        ("text", "Påmeldingen er åpen!"),
        ("at", "2099-11-04 09:00"),
    ];
    let mut preview = base.to_vec();
    preview.push(("action", "preview"));
    let page = site
        .post("/announcements", &me.cookie, &preview)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("posted exactly like this") && page.contains("2099-11-04 09:00"),
        "{page}"
    );
    assert!(site
        .store()
        .list_announcements(None)
        .await
        .unwrap()
        .is_empty());
    let mut schedule = base.to_vec();
    schedule.push(("action", "schedule"));
    let response = site.post("/announcements", &me.cookie, &schedule).await;
    assert_eq!(response.status(), 303);
    let list = site.store().list_announcements(None).await.unwrap();
    assert_eq!(list.len(), 1);
    let id = list[0].id.0;
    assert_eq!(
        list[0].publish_at.to_rfc3339(),
        "2099-11-04T08:00:00+00:00",
        "Oslo winter time"
    );
    // A time that does not exist in Oslo is refused, with the reason.
    let response = site
        .post(
            &format!("/announcements/{id}"),
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("text", "Påmeldingen er åpen!"),
                ("at", "2099-03-29 02:30"),
            ],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("does not exist"));
    let response = site
        .post(
            &format!("/announcements/{id}"),
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("text", "Ny tekst"),
                ("at", "2099-11-04 09:00"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        site.store()
            .get_announcement(list[0].id)
            .await
            .unwrap()
            .text,
        "Ny tekst"
    );
    let response = site
        .post(
            &format!("/announcements/{id}/cancel"),
            &me.cookie,
            &[("csrf", &me.csrf)],
        )
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        site.store()
            .get_announcement(list[0].id)
            .await
            .unwrap()
            .status,
        AnnouncementStatus::Cancelled
    );
    let response = site
        .post(
            &format!("/announcements/{id}/cancel"),
            &me.cookie,
            &[("csrf", &me.csrf)],
        )
        .await;
    assert_eq!(
        response.status(),
        422,
        "a cancelled announcement stays cancelled"
    );
}

async fn events_are_added_with_their_calendar_file(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let me = site.sign_in().await;
    let response = site
        .post(
            "/events",
            &me.cookie,
            &[
                ("csrf", &me.csrf),
                ("title", "Leverandørkonferansen 2099"),
                ("start", "2099-02-10 09:00"),
                ("end", "2099-02-10 15:30"),
                ("venue", "Thon Hotel Ski"),
                ("registration_url", "https://example.org/p"),
                ("lang", "nb"),
            ],
        )
        .await;
    assert_eq!(response.status(), 303);
    let events = site.store().list_events().await.unwrap();
    assert_eq!(events.len(), 1);
    let page = site
        .get("/events", Some(&me.cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Leverandørkonferansen 2099") && page.contains("/events/event-1/ics"),
        "{page}"
    );
    let response = site.get("/events/event-1/ics", Some(&me.cookie)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let ics = response.text().await.unwrap();
    assert!(
        ics.contains("BEGIN:VEVENT") && ics.contains("DTSTART:20990210T080000Z"),
        "{ics}"
    );
    // The bot answers about it at once.
    let reply = site.app.answer_only("Når er leverandørkonferansen 2099?");
    assert_eq!(reply.id(), Some("event-1"), "{:?}", reply.candidates);
    let csrf = csrf_of(&page);
    assert_eq!(
        site.post("/events/1/delete", &me.cookie, &[("csrf", &csrf)])
            .await
            .status(),
        303
    );
    assert!(site.store().list_events().await.unwrap().is_empty());
}

async fn statistics_show_the_chart_and_the_tables(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    site.app
        .ask("Hva er ESPD?", anbud::store::Origin::terminal())
        .await;
    site.queue_question(OFF_TOPIC).await;
    let me = site.sign_in().await;
    let page = site
        .get("/stats?days=7", Some(&me.cookie))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<svg") && page.contains("2 questions, 1 answered, 1 not answered"),
        "{page}"
    );
    assert!(page.contains("espd") && page.contains("været"), "{page}");
    let json: serde_json::Value = site
        .client
        .get(format!("{}/stats.json?days=7", site.base))
        .header("cookie", format!("anbud_session={}", me.cookie))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["totals"]["questions"], 2);
    assert_eq!(json["per_day"].as_array().unwrap().len(), 1);
}

/// The queue's language filter is read as a language: `en` shows the English questions
/// only, empty shows all, and an unknown code is refused rather than shown as "any".
async fn the_queue_filters_by_language_and_refuses_an_unknown_one(db: TestDb) {
    let site = Site::start(db, |_| {}).await;
    let english = "How do I book a table at a restaurant in Ski on Friday?";
    site.queue_question(OFF_TOPIC).await;
    site.queue_question(english).await;
    let me = site.sign_in().await;
    let page = |path: &'static str| {
        let site = &site;
        let cookie = me.cookie.clone();
        async move {
            let response = site.get(path, Some(&cookie)).await;
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, all) = page("/queue?lang=").await;
    assert_eq!(status, 200);
    assert!(all.contains(OFF_TOPIC) && all.contains(english), "{all}");
    let (status, en) = page("/queue?lang=en").await;
    assert_eq!(status, 200);
    assert!(en.contains(english) && !en.contains(OFF_TOPIC), "{en}");
    let (status, refused) = page("/queue?lang=de").await;
    assert_eq!(status, 400);
    assert!(refused.contains("unknown language"), "{refused}");
}

on_both_databases!(
    without_a_session_pages_redirect_and_json_is_401,
    a_one_time_link_works_once_and_sets_a_safe_cookie,
    a_wrong_role_is_refused_and_nothing_changes,
    a_form_without_the_csrf_token_is_refused,
    users_text_is_shown_escaped_everywhere,
    an_answer_reaches_the_outbox_and_the_audit_names_the_person,
    oversize_and_malformed_input_is_refused_next_to_the_field,
    a_database_outage_shows_a_clear_page,
    sign_in_attempts_are_rate_limited,
    entries_are_edited_with_preview_and_lint_and_exported,
    announcements_are_previewed_scheduled_edited_and_cancelled,
    events_are_added_with_their_calendar_file,
    statistics_show_the_chart_and_the_tables,
    the_queue_filters_by_language_and_refuses_an_unknown_one,
);
