//! `kb export --format markdown` (issue 18.7): the folder it writes loads (`kb lint`
//! accepts it, the bot answers from it), it holds what was taught through the bot and the
//! organisers' events, and it does not overwrite a folder without `--force`.

use std::path::Path;

use anbud::knowledge::Lang;
use anbud::store::{LearnedEntry, NewEvent, QueueItemId};
use chrono::{NaiveDate, TimeDelta, Utc};
use serde_json::Value;

use crate::store::TestDb;

fn learned(id: &str, lang: Lang, questions: &[&str], source_url: Option<&str>) -> LearnedEntry {
    LearnedEntry {
        id: id.into(),
        lang,
        title: if lang == Lang::En {
            "Parking permits for company cars".into()
        } else {
            "Parkeringstillatelse for firmabil".into()
        },
        body: "Søk hos kommunens parkeringsetat; det er ikke en anskaffelse.".into(),
        questions: questions.iter().map(|q| q.to_string()).collect(),
        keywords: vec!["parkering".into()],
        source_name: "Oslo kommune".into(),
        source_url: source_url.map(Into::into),
        reviewed: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        created_by: "kari".into(),
    }
}

fn event(title: &str, registration_url: Option<&str>) -> NewEvent {
    let start = Utc::now() + TimeDelta::days(30);
    NewEvent {
        title: title.into(),
        description: "Møt innkjøperne i regionen.".into(),
        start_at: start,
        end_at: start + TimeDelta::hours(3),
        venue: "Stormen bibliotek".into(),
        address: Some("Storgata 1, Bodø".into()),
        registration_url: registration_url.map(Into::into),
        organiser: Some("Bodø kommune".into()),
        audience: None,
        lang: Lang::Nb,
        created_by: "organiser".into(),
    }
}

/// `anbud --knowledge DIR ARGS…` on a fresh database of its own.
fn with_knowledge(dir: &Path, args: &[&str]) -> std::process::Output {
    let db = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", db.path().join("db.sqlite").display());
    crate::anbud_on(&url)
        .arg("--knowledge")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn export(url: &str, dir: &Path, force: bool) -> std::process::Output {
    let mut cmd = crate::anbud_on(url);
    cmd.args(["kb", "export", "--format", "markdown"]).arg(dir);
    if force {
        cmd.arg("--force");
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_markdown_export_is_a_folder_that_loads() {
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    // Taught in both languages, with enough example questions and a web source.
    let nb = [
        "Hvor søker firmaet om parkeringstillatelse?",
        "parkeringstillatelse firmabil",
        "Hvem gir parkeringstillatelse for firmabiler?",
        "Kan firmabilen få parkeringstillatelse?",
        "Hvordan får vi parkeringskort til firmabilen?",
    ];
    let en = [
        "Where does the company apply for a parking permit?",
        "parking permit company car",
        "Who issues parking permits for company cars?",
        "Can the company car get a parking permit?",
        "How do we get a parking card for the company car?",
    ];
    let url = Some("https://www.oslo.kommune.no/gate-transport-og-parkering/");
    store
        .save_learned_entry(&learned("learned-parking", Lang::Nb, &nb, url))
        .await
        .unwrap();
    store
        .save_learned_entry(&learned("learned-parking", Lang::En, &en, url))
        .await
        .unwrap();
    // Taught from one question: one language, one example question, no web source.
    store
        .save_entry_taught_from(
            &learned("learned-7", Lang::Nb, &["Hvor parkerer vi?"], None),
            QueueItemId(7),
        )
        .await
        .unwrap();
    let phrasing = "Hva kaller man en avtale med flere avrop over fire år?";
    store
        .add_phrasing("framework-agreements", Lang::Nb, phrasing, "kari")
        .await
        .unwrap();
    store
        .add_event(
            &event(
                "Leverandørdag i Bodø",
                Some("https://bodo.kommune.no/leverandordag"),
            ),
            Utc::now(),
        )
        .await
        .unwrap();
    store
        .add_event(&event("Dialogmøte om skoleskyss", None), Utc::now())
        .await
        .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("export");
    let out = export(&db.url, &dir, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("learned-7") && said.contains("event-2"),
        "{said}"
    );

    let lint = with_knowledge(&dir, &["kb", "lint"]);
    assert_eq!(
        lint.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    for file in [
        "entries/learned-parking.nb.md",
        "entries/learned-parking.en.md",
        "entries/espd.en.md",
        "events/conference-follo-2017.nb.md",
        "events/event-1.nb.md",
        "events/event-1.en.md",
        "drafts/learned-7.nb.md",
        "drafts/event-2.nb.md",
        "glossary.txt",
    ] {
        assert!(dir.join(file).is_file(), "{file} was not written");
    }
    let reasons = std::fs::read_to_string(dir.join("drafts/README.md")).unwrap();
    for needed in [
        "learned-7",
        "at least 5",
        "no en version",
        "event-2",
        "https://",
    ] {
        assert!(reasons.contains(needed), "{needed}: {reasons}");
    }
    let framework =
        std::fs::read_to_string(dir.join("entries/framework-agreements.nb.md")).unwrap();
    assert!(
        framework.contains(phrasing),
        "the taught phrasing is exported"
    );
    let english_event = std::fs::read_to_string(dir.join("events/event-1.en.md")).unwrap();
    assert!(
        english_event.contains("When is Leverandørdag i Bodø?"),
        "{english_event}"
    );

    // The bot answers from the folder alone, taught knowledge and events included.
    for (question, id) in [
        (
            "Where does the company apply for a parking permit?",
            "learned-parking",
        ),
        ("Når er Leverandørdag i Bodø?", "event-1"),
    ] {
        let asked = with_knowledge(&dir, &["ask", "--format", "json", question]);
        let reply: Value = serde_json::from_slice(&asked.stdout).unwrap();
        assert_eq!(reply["id"], id, "{reply}");
    }

    // A folder with something in it is not overwritten without --force.
    std::fs::write(dir.join("entries/stale.nb.md"), "left from before").unwrap();
    let again = export(&db.url, &dir, false);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert!(
        dir.join("entries/stale.nb.md").exists(),
        "nothing was touched"
    );
    let forced = export(&db.url, &dir, true);
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    assert!(
        !dir.join("entries/stale.nb.md").exists(),
        "the folder holds this export only"
    );
    assert_eq!(with_knowledge(&dir, &["kb", "lint"]).status.code(), Some(0));
}
