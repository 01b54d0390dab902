//! `anbud ask` and `anbud chat`: questions from the terminal, through the same answering
//! path as the Discord bot.

use std::io::{BufRead, IsTerminal, Write};

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::{terminal, Format};
use crate::answer::{render_json, render_text};
use crate::app::App;
use crate::config::Settings;
use crate::store::Origin;

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

pub async fn run_ask(settings: &Settings, args: AskArgs) -> anyhow::Result<ExitCode> {
    let app = App::open(settings).await?;
    if let (true, Some(q)) = (args.explain, &args.question) {
        let answerer = app.answerer();
        let index = answerer.index();
        let cleaned = crate::answer::clean_question(q);
        let mut err = terminal::stderr();
        for word in index.analyzer().analyse_question(&cleaned) {
            let alts: Vec<String> = word
                .alternatives
                .iter()
                .map(|(t, v)| format!("{t}({v:?})"))
                .collect();
            writeln!(err, "word {:?}: {}", word.surface, alts.join(" "))?;
        }
        for hit in index.search(&cleaned, 8)? {
            writeln!(
                err,
                "hit {:<32} score {:.3} coverage {:.3} bm25 {:.2}",
                hit.id, hit.score, hit.coverage, hit.bm25
            )?;
        }
    }
    match (args.question, args.format) {
        (Some(q), Format::Json) => {
            let reply = app.ask(&q, Origin::terminal()).await;
            writeln!(terminal::stdout(), "{}", terminal::json_line(&render_json(&reply.reply)))?;
        }
        (Some(q), _) => {
            let reply = app.ask(&q, Origin::terminal()).await;
            writeln!(terminal::stdout(), "{}", render_text(&reply.reply, reply.logged))?;
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
                        let mut value = render_json(&app.ask(text, Origin::terminal()).await.reply);
                        if args.explain {
                            let answerer = app.answerer();
                            let hits = answerer.index().search(&crate::answer::clean_question(text), 3).unwrap_or_default();
                            value["explain"] = json!(hits.iter().map(|h| json!({"id": h.id, "score": h.score, "coverage": h.coverage, "known": h.known_coverage, "unknown": h.unknown_share, "bm25": h.bm25, "confidence": h.confidence, "qcov": h.question_coverage})).collect::<Vec<_>>());
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
                writeln!(out, "{}", terminal::json_line(&value))?;
            }
            out.flush()?;
        }
        (None, _) => anyhow::bail!("give a question: anbud ask \"Hva er en dialogkonferanse?\" (or use --format json to read questions from standard input)"),
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn run_chat(settings: &Settings, _args: ChatArgs) -> anyhow::Result<ExitCode> {
    let app = App::open(settings).await?;
    // Pick up knowledge taught by advisers while the chat runs.
    let maintenance = app.spawn_maintenance();
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        println!("anbud: spør om offentlige anskaffelser / ask about public procurement. Ctrl-D avslutter / ends.");
    }
    // Lines come from a blocking reader thread, so answers and the outbox can be
    // served while waiting for the next line.
    let (lines_tx, mut lines) =
        tokio::sync::mpsc::channel::<Result<String, std::io::ErrorKind>>(16);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        loop {
            let mut line = String::new();
            let item = match stdin.lock().read_line(&mut line) {
                Ok(0) => break,
                Ok(_) => Ok(line),
                Err(e) => Err(e.kind()),
            };
            if lines_tx.blocking_send(item).is_err() {
                break;
            }
        }
    });
    let mut out = terminal::stdout();
    let mut outbox_tick = tokio::time::interval(std::time::Duration::from_secs(2));
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let line = tokio::select! {
            line = lines.recv() => line,
            _ = outbox_tick.tick() => {
                deliver_terminal_outbox(&app, &mut out).await?;
                continue;
            }
        };
        let Some(line) = line else { break };
        let question = match line {
            Ok(l) => l,
            Err(std::io::ErrorKind::InvalidData) => {
                writeln!(out, "(could not read that line: not valid UTF-8)")?;
                continue;
            }
            Err(kind) => return Err(std::io::Error::from(kind).into()),
        };
        let question = question.trim();
        if question.is_empty() {
            continue;
        }
        let reply = app.ask(question, Origin::terminal()).await;
        writeln!(out, "{}\n", render_text(&reply.reply, reply.logged))?;
        out.flush()?;
    }
    maintenance.abort();
    app.logger()
        .wait_flushed(std::time::Duration::from_secs(2))
        .await;
    Ok(ExitCode::SUCCESS)
}

/// Print advisers' answers to questions asked in the terminal.
async fn deliver_terminal_outbox(app: &App, out: &mut impl Write) -> anyhow::Result<()> {
    let Some(store) = app.store() else {
        return Ok(());
    };
    let Ok(messages) = store
        .pending_outbox_for(crate::store::Source::Terminal, 20)
        .await
    else {
        return Ok(());
    };
    for m in messages {
        let heading = if m.lang == "en" {
            "An adviser answered your question"
        } else {
            "En rådgiver har svart på spørsmålet ditt"
        };
        writeln!(out, "\n{heading} «{}»:\n{}\n", m.question, m.text)?;
        out.flush()?;
        if let Err(e) = store.mark_delivered(m.id).await {
            tracing::warn!(error = %e, "could not mark a terminal reply delivered");
        }
    }
    Ok(())
}
