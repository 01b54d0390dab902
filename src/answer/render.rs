//! A reply as people read it (terminal and the base of the Discord message) and as JSON.

use serde_json::{json, Value};

use super::{Candidate, InputProblem, Referred, Reply};
use crate::knowledge::passage::passages;
use crate::knowledge::{Entry, Lang};

/// The most characters a reply has, with its source line: one Discord message (2,000)
/// with room to spare.
pub const MAX_REPLY_CHARS: usize = 1900;

/// The fixed sentences of replies, in one language.
#[derive(Debug, Clone, Copy)]
pub struct Texts {
    pub source: &'static str,
    pub reviewed: &'static str,
    pub see_also: &'static str,
    pub did_you_mean: &'static str,
    pub or: &'static str,
    pub here_is: &'static str,
    pub abstain: &'static str,
    pub abstain_logged: &'static str,
    pub abstain_not_logged: &'static str,
    pub closest: &'static str,
    pub empty: &'static str,
    pub truncated: &'static str,
    pub past_event: &'static str,
    pub upcoming_event: &'static str,
    pub referral: &'static str,
    pub more: &'static str,
    pub more_source: &'static str,
    pub more_sources: &'static str,
}

impl Texts {
    pub fn get(lang: Lang) -> &'static Texts {
        match lang {
            Lang::Nb => &NB,
            Lang::En => &EN,
        }
    }
}

static NB: Texts = Texts {
    source: "Kilde",
    reviewed: "sist gjennomgått",
    see_also: "Se også",
    did_you_mean: "Mente du",
    or: "eller",
    here_is: "Her er svaret om",
    abstain: "Det spørsmålet kan jeg ikke svare sikkert på ennå, og jeg vil ikke gjette når det gjelder regler for anskaffelser.",
    abstain_logged: "Spørsmålet er sendt videre til en rådgiver, og du får svaret her når det er klart.",
    abstain_not_logged: "Jeg fikk ikke sendt spørsmålet videre til en rådgiver nå, på grunn av en teknisk feil. Spør gjerne igjen senere, eller kontakt en rådgiver i programmet direkte.",
    closest: "Dette er det nærmeste jeg har",
    empty: "Jeg fant ikke noe spørsmål i meldingen. Skriv for eksempel: «Hva er en dialogkonferanse?»",
    truncated: "(Meldingen var lang, så jeg leste bare begynnelsen.)",
    past_event: "Dette arrangementet er avholdt",
    upcoming_event: "Kommende arrangement",
    referral: "Dette gjelder ikke offentlige anskaffelser, så det svarer jeg ikke på selv. Her får du hjelp:",
    more: "Vis mer",
    more_source: "kilde til",
    more_sources: "kilder til",
};

static EN: Texts = Texts {
    source: "Source",
    reviewed: "last reviewed",
    see_also: "See also",
    did_you_mean: "Did you mean",
    or: "or",
    here_is: "Here is the answer about",
    abstain: "I can't answer that with confidence yet, and I won't guess about procurement rules.",
    abstain_logged: "Your question has been passed to an adviser, and you will get the answer here when it is ready.",
    abstain_not_logged: "I could not pass your question on to an adviser just now because of a technical problem. Please ask again later, or contact an adviser in the programme directly.",
    closest: "The closest topics I have",
    empty: "I couldn't find a question in your message. Try for example: \"What is a dialogue conference?\"",
    truncated: "(Your message was long, so I only read the beginning.)",
    past_event: "This event has taken place",
    upcoming_event: "Upcoming event",
    referral: "That is not about public procurement, so I won't answer it myself. This is where to ask:",
    more: "More",
    more_source: "more source",
    more_sources: "more sources",
};

fn quote(lang: Lang, s: &str) -> String {
    match lang {
        Lang::Nb => format!("«{s}»"),
        Lang::En => format!("\"{s}\""),
    }
}

fn titles(lang: Lang, items: &[Candidate]) -> String {
    items
        .iter()
        .map(|c| quote(lang, &c.title))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The source line: "Kilde: Name (url); Name (url) · sist gjennomgått 2026-11-29".
pub fn source_line(entry: &Entry, lang: Lang) -> String {
    sources_line(entry, lang, entry.sources.len())
}

/// The source line of a targeted reply: the entry's first (main) source, and how many
/// more the whole entry lists.
pub fn short_source_line(entry: &Entry, lang: Lang) -> String {
    sources_line(entry, lang, 1)
}

fn sources_line(entry: &Entry, lang: Lang, shown: usize) -> String {
    let t = Texts::get(lang);
    let mut sources = entry
        .sources
        .iter()
        .take(shown)
        .map(|s| {
            if s.url.is_empty() {
                s.name.to_string()
            } else {
                format!("{} ({})", s.name, s.url)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let more = entry.sources.len().saturating_sub(shown);
    if more > 0 {
        let word = if more == 1 {
            t.more_source
        } else {
            t.more_sources
        };
        sources.push_str(&format!(" (+{more} {word})"));
    }
    format!(
        "{}: {} · {} {}",
        t.source,
        sources,
        t.reviewed,
        entry.reviewed.format("%Y-%m-%d")
    )
}

/// "Did you mean A or B? Here is the answer about A:" for a near-tie.
pub fn tie_line(lang: Lang, first: &str, second: &str) -> String {
    let t = Texts::get(lang);
    format!(
        "{} {} {} {}? {} {}:\n\n",
        t.did_you_mean,
        quote(lang, first),
        t.or,
        quote(lang, second),
        t.here_is,
        quote(lang, first)
    )
}

/// The reply as plain text with light Markdown, the way a person reads it: for an answer,
/// the entry's title, its lead, the section that answers the question (when one was
/// chosen) and the source line, at most [`MAX_REPLY_CHARS`] characters.
/// `logged` says whether an abstention is committed to the advisers' queue: only then
/// does the reply say it was passed on; otherwise it says it could not be.
pub fn render_text(reply: &Reply, logged: bool) -> String {
    render(reply, logged, false)
}

/// The reply with the entry's whole text instead of the targeted part (`anbud ask
/// --full`, and Discord's "More" button).
pub fn render_full_text(reply: &Reply) -> String {
    render(reply, false, true)
}

/// The targeted answer text: the lead and the chosen section (Markdown).
pub fn targeted_answer(entry: &Entry, passage: Option<usize>) -> String {
    let body = entry.body_text();
    let parts = passages(&body);
    let mut out = String::new();
    if let Some(lead) = parts.first().filter(|p| p.heading.is_none()) {
        out.push_str(lead.text);
    }
    if let Some(section) = passage.and_then(|i| parts.get(i)) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        if let Some(heading) = section.heading {
            out.push_str(&format!("### {heading}\n"));
        }
        out.push_str(section.text);
    }
    if out.is_empty() {
        // A body that starts with a heading and no section chosen: its first section.
        if let Some(first) = parts.first() {
            if let Some(heading) = first.heading {
                out.push_str(&format!("### {heading}\n"));
            }
            out.push_str(first.text);
        }
    }
    out
}

/// The heading of the chosen section, if any.
pub fn passage_heading(entry: &Entry, passage: Option<usize>) -> Option<String> {
    let i = passage?;
    passages(&entry.body_text())
        .get(i)
        .and_then(|p| p.heading)
        .map(str::to_string)
}

/// Cut `text` to at most `budget` characters at a line, or else a sentence, boundary,
/// ending with "…".
fn cut(text: &str, budget: usize) -> String {
    if text.chars().count() <= budget {
        return text.to_string();
    }
    let budget = budget.saturating_sub(1);
    let prefix: String = text.chars().take(budget).collect();
    let at = prefix
        .rfind('\n')
        .filter(|&i| i > budget / 3)
        .or_else(|| prefix.rfind(". ").map(|i| i + 1))
        .unwrap_or(prefix.len());
    format!("{}…", prefix[..at].trim_end())
}

fn render(reply: &Reply, logged: bool, full: bool) -> String {
    let lang = reply.lang;
    let t = Texts::get(lang);
    if reply.problem == Some(InputProblem::Empty) {
        return t.empty.to_string();
    }
    let mut out = String::new();
    match (&reply.entry, &reply.referral) {
        (Some(entry), _) => {
            let mut head = String::new();
            if let Some(other) = &reply.tied_with {
                head.push_str(&tie_line(lang, &entry.title, &other.title));
            }
            head.push_str(&format!("**{}**\n\n", entry.title));
            if let Some(note) = &reply.event_note {
                head.push_str(&format!("*{note}*\n\n"));
            }
            let sources = if full {
                source_line(entry, lang)
            } else {
                short_source_line(entry, lang)
            };
            let mut tail = format!("\n\n{sources}");
            if !reply.related.is_empty() {
                tail.push_str(&format!(
                    "\n{}: {}",
                    t.see_also,
                    titles(lang, &reply.related)
                ));
            }
            if reply.truncated {
                tail.push_str("\n\n");
                tail.push_str(t.truncated);
            }
            let body = if full {
                entry.body_text().trim().to_string()
            } else {
                let budget =
                    MAX_REPLY_CHARS.saturating_sub(head.chars().count() + tail.chars().count());
                cut(&targeted_answer(entry, reply.passage), budget)
            };
            out.push_str(&head);
            out.push_str(&body);
            out.push_str(&tail);
            return out;
        }
        (None, Some(referral)) => {
            out.push_str(&referral_text(lang, referral));
        }
        (None, None) => {
            out.push_str(t.abstain);
            out.push(' ');
            out.push_str(if logged {
                t.abstain_logged
            } else {
                t.abstain_not_logged
            });
            if !reply.candidates.is_empty() {
                let closest: Vec<Candidate> = reply.candidates.iter().take(3).cloned().collect();
                out.push_str(&format!("\n{}: {}", t.closest, titles(lang, &closest)));
            }
        }
    }
    if reply.truncated {
        out.push_str("\n\n");
        out.push_str(t.truncated);
    }
    out
}

/// "That is not about public procurement …: **Name**: what it helps with. url".
pub fn referral_text(lang: Lang, referral: &Referred) -> String {
    let t = Texts::get(lang);
    format!(
        "{}\n**{}**: {} {}",
        t.referral, referral.name, referral.text, referral.url
    )
}

/// Characters that Discord's Markdown gives a meaning: emphasis, underline, strike-through,
/// spoilers, quotes, headings and subtext (`-#`), masked links, code. Escaped with a backslash so a user's
/// text shows as typed.
const MARKDOWN: &[char] = &[
    '\\', '*', '_', '~', '|', '>', '#', '[', ']', '(', ')', '`', '-', '<', ':',
];

/// Text written by a user, made safe to show back in Discord (to advisers, in the queue
/// listing): it displays literally, pings nobody and cannot hide or fake content.
///
/// - Markdown characters get a backslash, so `**x**`, `||spoiler||`, `# heading`,
///   `> quote`, `[text](link)` and code fences show as typed instead of formatting (or
///   hiding) what follows.
/// - Every `@` is followed by an invisible zero-width space, so `@everyone`, `@here`,
///   `<@123>` (a user) and `<@&1>` (a role) neither ping nor render as mentions.
///   Channel mentions `<#1>` are already broken by the escaped `#`.
///
/// The Discord layer should still send such messages with mentions disabled
/// (`allowed_mentions` empty): this is the second lock.
pub fn escape_user_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        if MARKDOWN.contains(&c) {
            out.push('\\');
        }
        out.push(c);
        if c == '@' {
            out.push('\u{200B}');
        }
    }
    out
}

/// The reply as the JSON object of `anbud ask --format json`.
pub fn render_json(reply: &Reply) -> Value {
    let source = reply.entry.as_ref().map(|e| {
        json!({
            "name": e.sources.first().map(|s| s.name.clone()),
            "url": e.sources.first().map(|s| s.url.clone()),
            "sources": e.sources,
            "reviewed": e.reviewed.format("%Y-%m-%d").to_string(),
        })
    });
    let mut value = json!({
        "question": reply.question,
        "answered": reply.answered(),
        "id": reply.id(),
        "score": (reply.score * 1000.0).round() / 1000.0,
        "candidates": reply.candidates.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        "answer": reply.entry.as_ref().map(|e| targeted_answer(e, reply.passage)),
        "passage": reply.entry.as_ref().and_then(|e| passage_heading(e, reply.passage)),
        "full": reply.entry.as_ref().map(|e| e.body_text().into_owned()),
        "referral": reply.referral.as_ref().map(|r| json!({"name": r.name, "url": r.url, "id": r.id})),
        "title": reply.entry.as_ref().map(|e| e.title.clone()),
        "lang": reply.lang.code(),
        "source": source,
        "tied_with": reply.tied_with.as_ref().map(|c| c.id.clone()),
        "event_note": reply.event_note,
    });
    if let Some(problem) = reply.problem {
        value["error"] = json!(match problem {
            InputProblem::Empty => "empty question",
        });
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Discord shows for escaped text: a backslash makes the next character literal,
    /// and the zero-width space is invisible.
    fn displayed(escaped: &str) -> String {
        let mut out = String::new();
        let mut chars = escaped.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.extend(chars.next()),
                '\u{200B}' => {}
                c => out.push(c),
            }
        }
        out
    }

    #[test]
    fn mentions_do_not_ping() {
        for text in [
            "@everyone",
            "@here",
            "<@123456789012345678>",
            "<@!1>",
            "<@&1>",
            "hei @everyone!",
        ] {
            let escaped = escape_user_text(text);
            assert!(
                !escaped.contains("@everyone") && !escaped.contains("@here"),
                "{escaped}"
            );
            assert!(
                !escaped.contains("<@1") && !escaped.contains("<@!") && !escaped.contains("<@&"),
                "{escaped}"
            );
            assert_eq!(displayed(&escaped), text);
        }
        assert!(!escape_user_text("<#123>").contains("<#"));
    }

    #[test]
    fn markdown_shows_as_typed() {
        assert_eq!(escape_user_text("**fet**"), "\\*\\*fet\\*\\*");
        assert_eq!(escape_user_text("||skjult||"), "\\|\\|skjult\\|\\|");
        assert_eq!(escape_user_text("`kode`"), "\\`kode\\`");
        assert_eq!(escape_user_text("# Overskrift"), "\\# Overskrift");
        assert_eq!(escape_user_text("> sitat"), "\\> sitat");
        assert_eq!(
            escape_user_text("[klikk](https://x.no)"),
            "\\[klikk\\]\\(https\\://x.no\\)"
        );
        assert_eq!(
            escape_user_text("a\\*b"),
            "a\\\\\\*b",
            "a user's own backslash cannot unescape"
        );
        for text in [
            "~~x~~ __y__ *z* _w_",
            "```rust\nfn main() {}\n```",
            "-# small",
            "a\\",
            "Hva er ESPD?",
        ] {
            assert_eq!(displayed(&escape_user_text(text)), text);
        }
    }

    #[test]
    fn plain_questions_are_unchanged() {
        assert_eq!(
            escape_user_text("Hva er en rammeavtale?"),
            "Hva er en rammeavtale?"
        );
        assert_eq!(
            escape_user_text("Når er fristen, og hvor mange?"),
            "Når er fristen, og hvor mange?"
        );
    }

    #[test]
    fn every_special_character_is_escaped() {
        let text: String = MARKDOWN.iter().collect();
        let escaped = escape_user_text(&text);
        assert_eq!(escaped.chars().count(), 2 * MARKDOWN.len());
        assert_eq!(displayed(&escaped), text);
    }
}
