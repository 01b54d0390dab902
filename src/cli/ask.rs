//! `anbud ask` and `anbud chat`: questions from the terminal, through the same answering
//! path as the Discord bot.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::Format;
use crate::answer::{render_json, render_text};
use crate::app::App;
use crate::config::Settings;

#[derive(Debug, Args)]
pub struct AskArgs {
    /// `text` (as a person reads it) or `json` (one object per line).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also print how the question was analysed and how each candidate scored (for
    /// advisers who want to know why the bot answered as it did).
    #[arg(long)]
    pub explain: bool,
    /// The question. With --format json and no question, questions are read from stdin.
    pub question: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChatArgs {}

pub fn run_ask(settings: &Settings, args: AskArgs) -> anyhow::Result<ExitCode> {
    let app = App::open_blocking(settings)?;
    if let (true, Some(q)) = (args.explain, &args.question) {
        let answerer = app.answerer();
        let index = answerer.index();
        let cleaned = crate::answer::clean_question(q);
        for word in index.analyzer().analyse_question(&cleaned) {
            let alts: Vec<String> = word.alternatives.iter().map(|(t, v)| format!("{t}({v:?})")).collect();
            eprintln!("word {:?}: {}", word.surface, alts.join(" "));
        }
        for hit in index.search(&cleaned, 8)? {
            eprintln!("hit {:<32} score {:.3} coverage {:.3} bm25 {:.2}", hit.id, hit.score, hit.coverage, hit.bm25);
        }
    }
    match (args.question, args.format) {
        (Some(q), Format::Json) => {
            let reply = app.ask_blocking(&q);
            println!("{}", render_json(&reply.reply));
        }
        (Some(q), _) => {
            let reply = app.ask_blocking(&q);
            println!("{}", render_text(&reply.reply, reply.logged));
        }
        (None, Format::Json) => {
            let stdin = std::io::stdin();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let mut line = Vec::new();
            let mut reader = stdin.lock();
            loop {
                line.clear();
                // Read bytes so invalid UTF-8 is a reply with an error, not the end.
                if reader.read_until(b'\n', &mut line)? == 0 {
                    break;
                }
                let value = match std::str::from_utf8(&line) {
                    Ok(text) => {
                        let text = text.trim_end_matches(['\n', '\r']);
                        let mut value = render_json(&app.ask_blocking(text).reply);
                        if args.explain {
                            let answerer = app.answerer();
                            let hits = answerer.index().search(&crate::answer::clean_question(text), 3).unwrap_or_default();
                            value["explain"] = json!(hits.iter().map(|h| json!({"id": h.id, "score": h.score, "coverage": h.coverage, "known": h.known_coverage, "unknown": h.unknown_share, "bm25": h.bm25, "confidence": h.confidence})).collect::<Vec<_>>());
                        }
                        value
                    }
                    Err(_) => json!({
                        "question": String::from_utf8_lossy(&line).trim_end().to_string(),
                        "answered": false, "id": null, "score": 0.0, "candidates": [],
                        "answer": null, "lang": "nb", "source": null,
                        "error": "the line is not valid UTF-8",
                    }),
                };
                writeln!(out, "{value}")?;
            }
            out.flush()?;
        }
        (None, _) => anyhow::bail!("give a question: anbud ask \"Hva er en dialogkonferanse?\" (or use --format json to read questions from standard input)"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_chat(settings: &Settings, _args: ChatArgs) -> anyhow::Result<ExitCode> {
    let app = App::open_blocking(settings)?;
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!("anbud: spør om offentlige anskaffelser / ask about public procurement. Ctrl-D avslutter / ends.");
    }
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    loop {
        if interactive {
            print!("> ");
            out.flush()?;
        }
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                println!("(could not read that line: not valid UTF-8)");
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        let question = line.trim();
        if question.is_empty() {
            continue;
        }
        let reply = app.ask_blocking(question);
        println!("{}\n", render_text(&reply.reply, reply.logged));
        out.flush()?;
    }
    Ok(ExitCode::SUCCESS)
}
