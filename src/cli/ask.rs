//! `anbud ask` and `anbud chat`: questions from the terminal, through the same answering
//! path as the Discord bot.

use std::io::{BufRead, IsTerminal, Write};

use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::{terminal, Format};
use crate::answer::{render_full_text, render_json, render_text, Reply};
use crate::app::{App, PendingAsk};
use crate::config::Settings;
use crate::knowledge::Lang;
use crate::store::Origin;
use crate::tenders::answer as tenders;

#[derive(Debug, Args)]
pub struct AskArgs {
    /// `text` (as a person reads it) or `json` (one object per line).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also print how the question was analysed and how each candidate scored (for
    /// advisers who want to know why the bot answered as it did).
    #[arg(long)]
    pub explain: bool,
    /// Show the whole entry instead of the part that answers the question.
    #[arg(long)]
    pub full: bool,
    /// The question. With --format json and no question, questions are read from stdin.
    pub question: Option<String>,
}

#[derive(Debug, Args)]
pub struct ChatArgs {}

/// The exit status of `ask` and `chat` when a question the bot could not answer could
/// not be passed on to an adviser (the database did not commit it in time). The reply
/// says so; in batch mode the lines with `"queued": false` are the ones.
pub const NOT_QUEUED: u8 = 3;

/// How many batch lines may wait for their commit at once.
const BATCH_WINDOW: usize = 4096;

pub async fn run_ask(settings: &Settings, args: AskArgs) -> anyhow::Result<ExitCode> {
    let app = App::open_command(settings).await?;
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
        drop(err);
        eprintln!(
            "{}",
            terminal::printable(&format!("{:#}", answerer.explain(&cleaned)?))
        );
    }
    let not_queued = match (args.question, args.format) {
        (Some(q), Format::Json) => {
            let asked = app.ask(&q, Origin::terminal()).await;
            let mut value = render_json(&asked.reply);
            mark_queued(&mut value, &asked.reply, asked.logged);
            if let Some(t) = tenders::for_app(&app, &q, asked.reply.lang).await {
                tenders::add_to_json(&mut value, &t);
            }
            writeln!(terminal::stdout(), "{}", terminal::json_line(&value))?;
            usize::from(is_abstention(&asked.reply) && !asked.logged)
        }
        (Some(q), _) => {
            let asked = app.ask(&q, Origin::terminal()).await;
            let text = if args.full {
                render_full_text(&asked.reply)
            } else {
                render_text(&asked.reply, asked.logged)
            };
            let text = with_tenders(&app, &q, &asked.reply, text).await;
            write_reply(&mut terminal::stdout(), &text)?;
            usize::from(is_abstention(&asked.reply) && !asked.logged)
        }
        (None, Format::Json) => ask_batch(&app, args.explain).await?,
        (None, _) => anyhow::bail!("give a question: anbud ask \"Hva er en dialogkonferanse?\" (or use --format json to read questions from standard input)"),
    };
    finish(&app, not_queued).await
}

/// Batch mode: one JSON line out per line of standard input, in order. Each line's
/// writes join the next group commit while the following lines are answered; a line is
/// printed once its abstention is committed (or known not to be).
async fn ask_batch(app: &App, explain: bool) -> anyhow::Result<usize> {
    let (lines, mut answered) =
        tokio::sync::mpsc::channel::<(serde_json::Value, Option<PendingAsk>)>(BATCH_WINDOW);
    let printer = tokio::spawn(async move {
        let mut out = std::io::BufWriter::new(std::io::stdout());
        let mut not_queued = 0;
        while let Some((mut value, pending)) = answered.recv().await {
            if let Some(pending) = pending {
                let asked = pending.settle().await;
                mark_queued(&mut value, &asked.reply, asked.logged);
                not_queued += usize::from(!asked.logged);
            }
            writeln!(out, "{}", terminal::json_line(&value))?;
        }
        out.flush()?;
        Ok::<usize, std::io::Error>(not_queued)
    });
    let stdin = std::io::stdin();
    let mut reader = stdin.lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        // Read bytes so invalid UTF-8 is a reply with an error, not the end.
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let answered_line = match std::str::from_utf8(&line) {
            Ok(text) => {
                let text = text.trim_end_matches(['\n', '\r']);
                let pending = app.ask_pending(text, Origin::terminal());
                let mut value = render_json(&pending.reply);
                if let Some(t) = tenders::for_app(app, text, pending.reply.lang).await {
                    tenders::add_to_json(&mut value, &t);
                }
                if explain {
                    let cleaned = crate::answer::clean_question(text);
                    value["explain"] = app.answerer().explain(&cleaned).unwrap_or_default();
                }
                (value, pending.is_abstention().then_some(pending))
            }
            Err(_) => (
                json!({
                    "question": String::from_utf8_lossy(&line).trim_end().to_string(),
                    "answered": false, "id": null, "score": 0.0, "candidates": [],
                    "answer": null, "lang": "nb", "source": null,
                    "error": "the line is not valid UTF-8",
                }),
                None,
            ),
        };
        if lines.send(answered_line).await.is_err() {
            break; // the printer stopped (its error comes below)
        }
    }
    drop(lines);
    Ok(printer.await??)
}

/// `text` with the notices from Doffin the question asks for, if it asks (src/tenders/),
/// under the general advice.
async fn with_tenders(app: &App, question: &str, reply: &Reply, text: String) -> String {
    match tenders::for_app(app, question, reply.lang).await {
        Some(t) => format!("{text}\n\n{}", tenders::render(&t, tenders::Style::Plain)),
        None => text,
    }
}

/// An abstention the bot could not answer (not an empty or unreadable question).
fn is_abstention(reply: &Reply) -> bool {
    !reply.answered() && reply.problem.is_none()
}

/// `"queued": true|false` on an abstention's JSON: whether the advisers' queue has it.
fn mark_queued(value: &mut serde_json::Value, reply: &Reply, queued: bool) {
    if is_abstention(reply) {
        value["queued"] = json!(queued);
    }
}

/// Writes what is still buffered (counters), and turns questions that could not be
/// passed on into the exit status.
async fn finish(app: &App, not_queued: usize) -> anyhow::Result<ExitCode> {
    app.close().await;
    // The process ends next: the answering core (at 10,000 entries a million small
    // allocations, 0.1 s to free) is left to the operating system instead of freed.
    std::mem::forget(app.answerer());
    if not_queued == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "anbud: {not_queued} question(s) could not be passed on to an adviser: the database did not store them in time (see the log above)"
    );
    Ok(ExitCode::from(NOT_QUEUED))
}

pub async fn run_chat(settings: &Settings, _args: ChatArgs) -> anyhow::Result<ExitCode> {
    let app = App::open_command(settings).await?;
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
    let mut not_queued = 0;
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
        not_queued += usize::from(is_abstention(&reply.reply) && !reply.logged);
        let text = render_text(&reply.reply, reply.logged);
        let text = with_tenders(&app, question, &reply.reply, text).await;
        write_reply(&mut out, &text)?;
        writeln!(out)?;
        out.flush()?;
    }
    maintenance.abort();
    finish(&app, not_queued).await
}

/// Write a reply: rendered (bold, headings, lists, wrapped at the terminal's width) when
/// standard output is a terminal, plain Markdown when it is piped.
/// Users' text in it has its control characters made visible before rendering, and only
/// the renderer's own escape sequences reach the terminal.
fn write_reply(out: &mut impl Write, markdown: &str) -> std::io::Result<()> {
    if std::io::stdout().is_terminal() {
        out.flush()?;
        let skin = termimad::MadSkin::default();
        let safe = terminal::printable(markdown);
        let mut raw = std::io::stdout();
        write!(raw, "{}", skin.term_text(&safe))?;
        raw.flush()
    } else {
        writeln!(out, "{markdown}")
    }
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
        let heading = if m.lang == Lang::En {
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
