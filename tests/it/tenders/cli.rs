//! `anbud tenders sync|list|watch` and answers, through the real binary against the fake
//! Doffin, on SQLite. Every run logs at debug level and is checked for the key.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use super::{FakeDoffin, Scripted, TEST_KEY};

fn db_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("anbud.sqlite").display())
}

/// Runs anbud on the test's database against the fake, with `key` as DOFFIN_API_KEY (or
/// none), logging everything at debug level; fails the test if the key shows anywhere.
async fn anbud(dir: &Path, fake: &FakeDoffin, key: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = crate::anbud_on(&db_url(dir));
    cmd.env("ANBUD__TENDERS__API_URL", &fake.url)
        .env("RUST_LOG", "debug")
        .env_remove("DOFFIN_API_KEY")
        .args(args);
    if let Some(key) = key {
        cmd.env("DOFFIN_API_KEY", key);
    }
    let out = run(cmd).await;
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !String::from_utf8_lossy(text).contains(TEST_KEY),
            "the key appeared on {name} of {args:?}"
        );
    }
    out
}

/// Runs the binary off the runtime's threads, so the fake Doffin keeps answering.
async fn run(mut cmd: std::process::Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// Runs anbud with `input` on its standard input (logs off).
async fn with_stdin(dir: &Path, args: &[&str], input: &'static [u8]) -> Output {
    let mut cmd = crate::anbud_on(&db_url(dir));
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = cmd.spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn sync(dir: &Path, fake: &FakeDoffin) -> Output {
    anbud(dir, fake, Some(TEST_KEY), &["tenders", "sync"]).await
}

async fn list_json(dir: &Path, fake: &FakeDoffin, filters: &[&str]) -> Vec<Value> {
    let mut args = vec!["tenders", "list", "--format", "json"];
    args.extend_from_slice(filters);
    let out = anbud(dir, fake, None, &args).await;
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    v.as_array().unwrap().clone()
}

fn ids(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_without_a_key_exits_1_naming_doffin_api_key_and_calls_nothing() {
    let fake = FakeDoffin::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = anbud(tmp.path(), &fake, None, &["tenders", "sync"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("DOFFIN_API_KEY"), "{}", stderr(&out));
    assert!(fake.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_stores_new_then_changed_and_republished_notices_once() {
    let fake = FakeDoffin::start().await;
    let tmp = tempfile::tempdir().unwrap();
    fake.script([Scripted::ok("first.json")]);
    let out = sync(tmp.path(), &fake).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("5 new, 0 changed"),
        "{}",
        stdout(&out)
    );

    // The request: the key in its header, every kind as a repeated `type`, newest first.
    let first = &fake.seen()[0];
    assert_eq!(first.path, "/v2/search");
    assert_eq!(first.key.as_deref(), Some(TEST_KEY));
    for t in [
        "type=ADVISORY_NOTICE",
        "type=PRE_ANNOUNCEMENT",
        "type=NOTICE_ON_BUYER_PROFILE",
        "type=ANNOUNCEMENT_OF_COMPETITION",
        "type=DYNAMIC_PURCHASING_SCHEME",
        "sortBy=PUBLICATION_DATE_DESC",
        "issueDateFrom=",
    ] {
        assert!(first.query.contains(t), "{t} missing in {}", first.query);
    }
    assert!(
        !first.query.contains("status="),
        "planning notices have no status"
    );

    let listed = list_json(tmp.path(), &fake, &[]).await;
    assert_eq!(
        ids(&listed),
        [
            "2026-200004",
            "2026-200003",
            "2026-200002",
            "2026-200001",
            "2026-200006"
        ],
        "newest first, the result notice not kept"
    );

    // Republished (new id, same procedure), changed (same id, new deadline), one new.
    fake.script([Scripted::ok("changed.json")]);
    let out = sync(tmp.path(), &fake).await;
    assert!(
        stdout(&out).contains("1 new, 2 changed"),
        "{}",
        stdout(&out)
    );
    let second = &fake.seen()[1];
    assert!(
        second.query.contains("issueDateFrom=2026-12-03"),
        "incremental: a day before the newest stored publication date: {}",
        second.query
    );
    let listed = list_json(tmp.path(), &fake, &[]).await;
    assert_eq!(
        ids(&listed),
        [
            "2026-200008",
            "2026-200007",
            "2026-200004",
            "2026-200003",
            "2026-200002",
            "2026-200006"
        ],
        "2026-200001 replaced by its republication 2026-200007"
    );
    let oslo = listed.iter().find(|n| n["id"] == "2026-200003").unwrap();
    assert_eq!(oslo["deadline"], "2030-01-20T11:00:00Z");
    let follo = listed.iter().find(|n| n["id"] == "2026-200007").unwrap();
    assert_eq!(follo["kind"], "open");

    // The same again stores nothing twice.
    fake.script([Scripted::ok("changed.json")]);
    let out = sync(tmp.path(), &fake).await;
    assert!(
        stdout(&out).contains("0 new, 0 changed, 3 unchanged"),
        "{}",
        stdout(&out)
    );
    assert_eq!(list_json(tmp.path(), &fake, &[]).await.len(), 6);

    // Nothing issued since: fine, nothing changes.
    fake.script([Scripted::ok("empty.json")]);
    let out = sync(tmp.path(), &fake).await;
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("0 new, 0 changed, 0 unchanged"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_waited_out_as_retry_after_says_then_the_run_succeeds() {
    let fake = FakeDoffin::start().await;
    let tmp = tempfile::tempdir().unwrap();
    fake.script([
        Scripted {
            status: 429,
            retry_after: Some("1".into()),
            body: super::fixture("rate-limited.json"),
        },
        Scripted::ok("first.json"),
    ]);
    let started = std::time::Instant::now();
    let out = sync(tmp.path(), &fake).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(fake.seen().len(), 2, "the same page asked again");
    assert_eq!(fake.seen()[0].query, fake.seen()[1].query);
    assert!(stdout(&out).contains("5 new"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_asking_longer_than_allowed_fails_the_run() {
    let fake = FakeDoffin::start().await;
    let tmp = tempfile::tempdir().unwrap();
    // No Retry-After header: the seconds in Doffin's message count.
    fake.script([Scripted {
        status: 429,
        retry_after: None,
        body: super::fixture("rate-limited.json").replace("in 1 seconds", "in 53 seconds"),
    }]);
    let mut cmd = crate::anbud_on(&db_url(tmp.path()));
    cmd.env("ANBUD__TENDERS__API_URL", &fake.url)
        .env("ANBUD__TENDERS__MAX_RETRY_WAIT_SECS", "5")
        .env("DOFFIN_API_KEY", TEST_KEY)
        .args(["tenders", "sync"]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("53 s"), "{}", stderr(&out));
    assert!(!stderr(&out).contains(TEST_KEY));
    assert_eq!(fake.seen().len(), 1, "not waited for, not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_key_or_a_broken_response_fails_that_run_and_keeps_what_was_stored() {
    let fake = FakeDoffin::start().await;
    let tmp = tempfile::tempdir().unwrap();
    fake.script([Scripted::ok("first.json")]);
    assert!(sync(tmp.path(), &fake).await.status.success());
    let before = list_json(tmp.path(), &fake, &[]).await;
    assert_eq!(before.len(), 5);

    // 401: exit 1, names the variable, never the key.
    fake.script([Scripted {
        status: 401,
        retry_after: None,
        body: super::fixture("unauthorized.json"),
    }]);
    let out = sync(tmp.path(), &fake).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("401") && stderr(&out).contains("DOFFIN_API_KEY"),
        "{}",
        stderr(&out)
    );
    assert_eq!(list_json(tmp.path(), &fake, &[]).await, before);

    // A truncated body.
    fake.script([Scripted::ok("truncated.json")]);
    let out = sync(tmp.path(), &fake).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing"), "{}", stderr(&out));
    assert_eq!(list_json(tmp.path(), &fake, &[]).await, before);

    // A first page that is fine and a second that is truncated: nothing of the first.
    fake.script([
        Scripted::ok("page-1-of-2.json"),
        Scripted::ok("truncated.json"),
    ]);
    let out = sync(tmp.path(), &fake).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(fake.seen().last().unwrap().query.contains("page=2"));
    let after = list_json(tmp.path(), &fake, &[]).await;
    assert_eq!(after, before, "2026-200009 of page 1 must not be stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_list_filter_and_the_json_contract() {
    let fake = FakeDoffin::start().await;
    let tmp = tempfile::tempdir().unwrap();
    fake.script([Scripted::ok("first.json"), Scripted::ok("changed.json")]);
    assert!(sync(tmp.path(), &fake).await.status.success());
    assert!(sync(tmp.path(), &fake).await.status.success());

    let all = list_json(tmp.path(), &fake, &[]).await;
    let oslo = all.iter().find(|n| n["id"] == "2026-200003").unwrap();
    let keys: Vec<&str> = oslo
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = vec![
        "buyer",
        "cpv",
        "deadline",
        "id",
        "kind",
        "published",
        "region",
        "title",
        "url",
        "value",
    ];
    want.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, want);
    assert_eq!(oslo["title"], "Rammeavtale om IKT-konsulenttjenester");
    assert_eq!(oslo["buyer"], "Oslo kommune");
    assert_eq!(oslo["published"], "2026-12-03");
    assert_eq!(oslo["cpv"], serde_json::json!(["72200000", "72000000"]));
    assert_eq!(oslo["region"], serde_json::json!(["NO081"]));
    assert_eq!(
        oslo["value"],
        serde_json::json!({"amount": 5000000.0, "currency": "NOK"})
    );
    assert_eq!(oslo["url"], "https://doffin.no/notices/2026-200003");
    let dialogue = all.iter().find(|n| n["id"] == "2026-200002").unwrap();
    assert_eq!(dialogue["value"], Value::Null);
    assert_eq!(
        dialogue["kind"], "dialogue",
        "a planning notice inviting to a dialogue conference"
    );

    let cases: &[(&[&str], &[&str])] = &[
        // Norwegian analysis: a compound's first part, æøå folded, a stem.
        (
            &["--query", "renhold"],
            &["2026-200008", "2026-200007", "2026-200006"],
        ),
        (&["--query", "idrettshall"], &["2026-200008"]),
        (&["--query", "grontarealer"], &["2026-200004"]),
        (&["--query", "konsulenter"], &["2026-200003"]),
        (
            &["--query", "renhold skoler"],
            &["2026-200007", "2026-200006"],
        ),
        // A code and its sub-codes.
        (
            &["--cpv", "90900000"],
            &["2026-200008", "2026-200007", "2026-200006"],
        ),
        (&["--cpv", "72000000"], &["2026-200003"]),
        (&["--buyer", "nordre follo"], &["2026-200007"]),
        (&["--buyer", "Oslo"], &["2026-200003"]),
        // Municipalities by their buyers, Follo by all six, counties and NUTS by code.
        (&["--region", "Nordre Follo"], &["2026-200007"]),
        (&["--region", "Ås"], &["2026-200004"]),
        (
            &["--region", "follo"],
            &["2026-200008", "2026-200007", "2026-200004"],
        ),
        (
            &["--region", "Akershus"],
            &["2026-200008", "2026-200007", "2026-200004", "2026-200002"],
        ),
        (&["--region", "NO081"], &["2026-200003"]),
        (&["--region", "Vestfold"], &["2026-200006"]),
        (&["--kind", "planned"], &[]),
        (&["--kind", "dialogue"], &["2026-200008", "2026-200002"]),
        (
            &["--kind", "open"],
            &["2026-200007", "2026-200004", "2026-200003", "2026-200006"],
        ),
        (
            &[
                "--region", "akershus", "--kind", "open", "--query", "renhold",
            ],
            &["2026-200007"],
        ),
    ];
    for (filters, want) in cases {
        let got = ids(&list_json(tmp.path(), &fake, filters).await);
        assert_eq!(got, *want, "{filters:?}");
    }

    // A region or code anbud does not know fails loudly instead of listing nothing.
    for bad in [["--region", "Narnia"], ["--cpv", "9090"]] {
        let mut args = vec!["tenders", "list"];
        args.extend_from_slice(&bad);
        let out = anbud(tmp.path(), &fake, None, &args).await;
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
    }

    // Text output names each notice with its page.
    let out = anbud(
        tmp.path(),
        &fake,
        None,
        &["tenders", "list", "--kind", "dialogue"],
    )
    .await;
    assert!(
        stdout(&out).contains("https://doffin.no/notices/2026-200008"),
        "{}",
        stdout(&out)
    );
}

async fn ask_json(dir: &Path, fake: &FakeDoffin, question: &str) -> Value {
    let out = anbud(dir, fake, None, &["ask", "--format", "json", question]).await;
    serde_json::from_str(stdout(&out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(&out)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_for_tenders_get_the_matching_notices_in_both_languages() {
    let fake = FakeDoffin::start().await;
    let tmp = tempfile::tempdir().unwrap();

    // Nothing synced: said honestly, with Doffin's search.
    let v = ask_json(tmp.path(), &fake, "hvilke anbud kommer i Nordre Follo?").await;
    assert_eq!(v["tenders"], serde_json::json!([]));
    let note = v["tenders_note"].as_str().unwrap();
    assert!(
        note.contains("ikke hentet") && note.contains("https://doffin.no/search"),
        "{note}"
    );

    fake.script([Scripted::ok("first.json"), Scripted::ok("changed.json")]);
    assert!(sync(tmp.path(), &fake).await.status.success());
    assert!(sync(tmp.path(), &fake).await.status.success());

    let cases: &[(&str, &[&str])] = &[
        ("hvilke anbud kommer i Nordre Follo?", &["2026-200007"]),
        (
            "upcoming cleaning tenders in Akershus",
            &["2026-200008", "2026-200007"],
        ),
        ("er det noen markedsdialoger om IKT nå?", &["2026-200002"]),
        (
            "Are there any open ICT tenders in Oslo now?",
            &["2026-200003"],
        ),
    ];
    for (question, want) in cases {
        let v = ask_json(tmp.path(), &fake, question).await;
        let got = ids(v["tenders"]
            .as_array()
            .unwrap_or_else(|| panic!("{question}: {v}")));
        assert_eq!(got, *want, "{question}");
        // The general advice is still there.
        assert!(
            v["answer"].is_string() || v["answered"] == false,
            "{question}"
        );
        let first = &v["tenders"][0];
        for key in [
            "id",
            "title",
            "buyer",
            "kind",
            "published",
            "deadline",
            "cpv",
            "region",
            "value",
            "url",
        ] {
            assert!(first.get(key).is_some(), "{question}: {key}");
        }
    }

    // The expired Vestfold competition is never offered.
    let v = ask_json(tmp.path(), &fake, "kommende anbud om renhold i Vestfold?").await;
    assert_eq!(v["tenders"], serde_json::json!([]));
    assert!(v["tenders_note"].as_str().unwrap().contains("ingen"), "{v}");

    // A question about tendering itself gets no list.
    let v = ask_json(tmp.path(), &fake, "Hvordan skriver jeg et godt anbud?").await;
    assert!(v.get("tenders").is_none(), "{v}");

    // Batch mode and the terminal chat too.
    let out = with_stdin(
        tmp.path(),
        &["ask", "--format", "json"],
        b"Hva er en rammeavtale?\nhvilke anbud kommer i Nordre Follo?\n",
    )
    .await;
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].get("tenders").is_none());
    assert_eq!(
        ids(lines[1]["tenders"].as_array().unwrap()),
        ["2026-200007"]
    );
    let out = with_stdin(
        tmp.path(),
        &["chat"],
        b"er det noen markedsdialoger om IKT n\xc3\xa5?\n",
    )
    .await;
    assert!(
        stdout(&out).contains("https://doffin.no/notices/2026-200002"),
        "{}",
        stdout(&out)
    );

    // As text: under the answer, with title, buyer, kind, deadline and link.
    let out = anbud(
        tmp.path(),
        &fake,
        None,
        &["ask", "upcoming cleaning tenders in Akershus"],
    )
    .await;
    let text = stdout(&out);
    assert!(text.contains("Current notices from Doffin"), "{text}");
    assert!(
        text.contains("Renholdstjenester for kommunale bygg"),
        "{text}"
    );
    assert!(text.contains("Nordre Follo kommune"), "{text}");
    assert!(text.contains("open competition"), "{text}");
    assert!(text.contains("2030-01-25 12:00"), "Oslo time: {text}");
    assert!(
        text.contains("https://doffin.no/notices/2026-200007"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_from_the_command_line() {
    let fake = FakeDoffin::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let out = anbud(
        tmp.path(),
        &fake,
        None,
        &[
            "tenders", "watch", "add", "--user", "42", "--query", "renhold", "--region", "Follo",
            "--kind", "open",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("watch 1 added"));
    let out = anbud(
        tmp.path(),
        &fake,
        None,
        &[
            "tenders", "watch", "add", "--user", "42", "--region", "Narnia",
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "a bad region is refused when the watch is made"
    );
    let out = anbud(
        tmp.path(),
        &fake,
        None,
        &["tenders", "watch", "list", "--format", "json"],
    )
    .await;
    let v: Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["user"], "42");
    assert_eq!(v[0]["query"], "renhold");
    assert_eq!(v[0]["region"], "Follo");
    assert_eq!(v[0]["kind"], "open");
    let out = anbud(
        tmp.path(),
        &fake,
        None,
        &["tenders", "watch", "remove", "1"],
    )
    .await;
    assert!(out.status.success());
    let out = anbud(
        tmp.path(),
        &fake,
        None,
        &["tenders", "watch", "remove", "1"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let out = anbud(tmp.path(), &fake, None, &["tenders", "watch", "list"]).await;
    assert!(stdout(&out).contains("No watches."));
}
