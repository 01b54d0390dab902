//! The command-line contract other tools depend on: `anbud ask` in text and JSON, the
//! batch mode (one JSON line out for every line in, whatever it holds), `kb export`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

fn anbud(db: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anbud"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .arg("--database")
        .arg(format!("sqlite://{}", db.join("anbud.sqlite").display()));
    cmd
}

#[test]
fn ask_json_is_one_object_on_one_line_with_the_contract_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let out = anbud(tmp.path())
        .args(["ask", "--format", "json", "Hva er en rammeavtale?"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    let v: Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["question"], "Hva er en rammeavtale?");
    assert_eq!(v["answered"], true);
    assert_eq!(v["id"], "framework-agreements");
    assert!(v["score"].as_f64().unwrap() > 0.0);
    let candidates = v["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty() && candidates.len() <= 5);
    assert_eq!(candidates[0], "framework-agreements");
    assert!(v["answer"].as_str().unwrap().len() > 100);
    assert_eq!(v["lang"], "nb");
    assert!(v["source"]["url"].as_str().unwrap().starts_with("https://"));
    assert!(v["source"]["reviewed"].as_str().unwrap().len() == 10);

    let out = anbud(tmp.path())
        .args(["ask", "--format", "json", "What is a framework agreement?"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["lang"], "en");
    assert_eq!(v["id"], "framework-agreements");
    assert!(v["answer"].as_str().unwrap().contains("framework"));
}

#[test]
fn ask_text_shows_title_source_and_review_date_or_abstains_kindly() {
    let tmp = tempfile::tempdir().unwrap();
    let out = anbud(tmp.path())
        .args(["ask", "hvordan fungerer en dialogkonferanse"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Kilde: ") && text.contains("sist gjennomgått 20"),
        "{text}"
    );
    let out = anbud(tmp.path())
        .args(["ask", "What is the weather like in Bergen tomorrow?"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("adviser"), "{text}");
    assert!(!text.contains("Source: "), "{text}");
}

#[test]
fn batch_mode_gives_one_line_per_input_line_whatever_it_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = anbud(tmp.path())
        .args(["ask", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let long = "anbud ".repeat(20_000);
    let mut input: Vec<u8> = Vec::new();
    let lines: Vec<&[u8]> = vec![
        b"Hva er ESPD?",
        b"",
        b"   ",
        b"title:x AND (((((((((",
        b"\xff\xfe invalid utf-8",
        b"nul \0 inside",
        b"<@123456789012345678> @everyone **hva** er `kvalifikasjonskrav`?",
        long.as_bytes(),
        "\u{202e}\u{200b}🙂 SELECT * FROM asks; --".as_bytes(),
    ];
    for l in &lines {
        input.extend_from_slice(l);
        input.push(b'\n');
    }
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let values: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(values.len(), lines.len());
    assert_eq!(values[0]["id"], "espd");
    assert_eq!(values[1]["answered"], false);
    assert!(values[1]["error"].is_string());
    assert!(values[2]["error"].is_string());
    assert!(values[4]["error"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(values[6]["id"], "qualification-requirements");
    for v in &values {
        assert!(v["answered"].is_boolean() && v["candidates"].is_array() && v["lang"].is_string());
    }
}

#[test]
fn kb_export_json_has_every_entry_in_both_languages() {
    let tmp = tempfile::tempdir().unwrap();
    let out = anbud(tmp.path())
        .args(["kb", "export", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let items = v.as_array().unwrap();
    assert!(items.len() >= 37);
    for item in items {
        for key in ["id", "title", "body", "questions", "keywords"] {
            assert!(!item[key].is_null(), "{key} missing in {item}");
        }
        assert_eq!(
            item["languages"].as_array().unwrap().len(),
            2,
            "{}",
            item["id"]
        );
    }
}

#[test]
fn a_bad_configuration_names_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let out = anbud(tmp.path())
        .env("ANBUD__ANSWER__THRESHOLD", "seven")
        .args(["ask", "hei"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("threshold"), "{err}");
}

#[test]
fn answers_while_the_database_is_unreachable() {
    let out = Command::new(env!("CARGO_BIN_EXE_anbud"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "--database",
            "postgres://postgres@127.0.0.1:1/nowhere",
            "ask",
            "--format",
            "json",
            "Hva er ESPD?",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["id"], "espd");
}

/// Runs `anbud ask --format json` over `input` and returns its output lines as JSON.
fn batch(input: &[u8]) -> Vec<Value> {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = anbud(tmp.path())
        .args(["ask", "--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Write on a thread of its own: a large input would fill the pipe while stdout waits.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("the output is UTF-8");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Bytes of one input line: anything but the line feed.
fn line_bytes() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
    use proptest::prelude::*;
    prop_oneof![
        3 => prop::collection::vec(any::<u8>().prop_filter("not a line feed", |b| *b != b'\n'), 0..200),
        2 => "\\PC{0,80}".prop_map(String::into_bytes),
        1 => prop::sample::select(vec![
            &b"Hva er ESPD?"[..], b"\r", b"\0", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80", b"title:x AND (",
            b"<@1> @everyone", b"\x1b[2J", b"\"}{\"", b"\\", b"",
        ]).prop_map(<[u8]>::to_vec),
    ]
}

proptest::proptest! {
    // Each case starts the binary; a handful of cases, each with many lines.
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 12, ..Default::default() })]

    #[test]
    fn batch_mode_gives_one_json_line_for_every_random_line(
        lines in proptest::collection::vec(line_bytes(), 0..120),
        final_newline in proptest::prelude::any::<bool>(),
    ) {
        let mut input = lines.join(&b'\n');
        // The last line may lack its line feed, unless it is empty (then it is no line).
        if !lines.is_empty() && (final_newline || lines.last().is_some_and(Vec::is_empty)) {
            input.push(b'\n');
        }
        let values = batch(&input);
        proptest::prop_assert_eq!(values.len(), lines.len());
        for (line, value) in lines.iter().zip(&values) {
            proptest::prop_assert!(value["answered"].is_boolean() && value["candidates"].is_array());
            match std::str::from_utf8(line) {
                Ok(text) => {
                    let question = text.trim_end_matches(['\n', '\r']);
                    proptest::prop_assert_eq!(value["question"].as_str(), Some(question));
                }
                Err(_) => proptest::prop_assert!(value["error"].as_str().unwrap().contains("UTF-8")),
            }
        }
    }
}

#[test]
fn batch_mode_takes_a_one_megabyte_line_among_others() {
    let mut input: Vec<u8> = b"Hva er ESPD?\n".to_vec();
    input.extend(std::iter::repeat_n(b"anbud \xff\0\r".as_slice(), 1 << 17).flatten());
    input.extend_from_slice(b"\nHva er ESPD?\n");
    let values = batch(&input);
    assert_eq!(values.len(), 3);
    assert_eq!(values[0]["id"], "espd");
    assert!(values[1]["error"].as_str().unwrap().contains("UTF-8"));
    assert_eq!(values[2]["id"], "espd");
}

/// The program starts itself again with malloc asking for transparent huge pages
/// (`anbud::heap`), and answers as usual; a `GLIBC_TUNABLES` it is given, even an empty
/// one, is left as it is.
#[test]
fn the_heap_asks_for_huge_pages_unless_tunables_are_given() {
    let tmp = tempfile::tempdir().unwrap();
    let colours = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    for (given, asked) in [
        (None, true),
        (Some(""), false),
        (Some("glibc.malloc.check=0"), false),
    ] {
        let mut cmd = anbud(tmp.path());
        cmd.env_remove("GLIBC_TUNABLES");
        if let Some(tunables) = given {
            cmd.env("GLIBC_TUNABLES", tunables);
        }
        let out = cmd
            .env("RUST_LOG", "anbud=debug")
            .args(["ask", "--format", "json", "Hva er en rammeavtale?"])
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{log}");
        // The log without its colours.
        let log = colours.replace_all(&log, "");
        let line = log
            .lines()
            .find(|l| l.contains("transparent huge pages"))
            .unwrap_or_else(|| panic!("no line on the heap in:\n{log}"));
        assert!(
            line.contains(&format!("huge_pages={asked}")),
            "GLIBC_TUNABLES {given:?}: {line}"
        );
        let reply: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(reply["id"], "framework-agreements");
    }
}
