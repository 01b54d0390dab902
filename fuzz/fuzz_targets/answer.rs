//! Any bytes, read as UTF-8 (lossily), asked of the bundled knowledge base: a reply or an
//! abstention, never a panic, with non-empty text and JSON that carries the question back.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use anbud::answer::{render_json, render_text, Answerer};
use anbud::config::AnswerSettings;
use anbud::knowledge;
use libfuzzer_sys::fuzz_target;

fn answerer() -> &'static Answerer {
    static ANSWERER: OnceLock<Answerer> = OnceLock::new();
    ANSWERER.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../knowledge");
        let (kb, _) = knowledge::load_dir(&dir).expect("the bundled knowledge base loads");
        Answerer::new(kb, AnswerSettings::default()).expect("the index builds")
    })
}

fuzz_target!(|data: &[u8]| {
    let question = String::from_utf8_lossy(data);
    let reply = answerer().answer(&question).expect("user input never makes the index fail");
    for logged in [false, true] {
        let text = render_text(&reply, logged);
        assert!(!text.trim().is_empty(), "empty reply text");
        assert!(!text.contains("@everyone") && !text.contains("<@"), "the reply pings: {text}");
    }
    let line = serde_json::to_string(&render_json(&reply)).expect("the reply serialises");
    assert!(!line.contains('\n'));
    let back: serde_json::Value = serde_json::from_str(&line).expect("the JSON parses");
    assert_eq!(back["question"].as_str(), Some(question.as_ref()));
});
