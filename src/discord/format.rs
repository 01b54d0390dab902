//! Replies as Discord messages: the text (title, body, source as a link, review date),
//! splitting within Discord's 2,000-character limit, and escaping of user text.
//!
//! Everything here is pure and tested without serenity.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::answer::{Candidate, InputProblem, Reply, Texts};
use crate::knowledge::{Entry, Lang};

/// Discord's limit for a message's content, in characters.
pub const DISCORD_LIMIT: usize = 2000;

/// What we aim for, leaving room for Discord counting some characters differently.
pub const MESSAGE_LIMIT: usize = 1950;

/// A related topic or a closest topic, offered as a button.
#[derive(Debug, Clone, PartialEq)]
pub struct TopicButton {
    pub id: String,
    pub label: String,
}

/// A reply turned into what the bot posts.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The message text, already split into chunks that fit in one message each.
    pub chunks: Vec<String>,
    /// The entry answered with, when there is one (feedback and share buttons).
    pub entry_id: Option<String>,
    /// Up to three topics offered as buttons (related after an answer, closest after an
    /// abstention).
    pub topics: Vec<TopicButton>,
    pub lang: Lang,
    /// The answer shows part of its entry: a "More" / "Vis mer" button shows all of it.
    pub more: bool,
}

/// The source line with the sources as links and the review date:
/// "Kilde: [Name](<url>) · sist gjennomgått 2026-11-29".
pub fn source_line(entry: &Entry, lang: Lang) -> String {
    let t = Texts::get(lang);
    let sources = entry
        .sources
        .iter()
        .map(|s| {
            // Our own text, not a user's: only brackets could break the link.
            let name = s.name.replace('[', "(").replace(']', ")");
            if s.url.is_empty() {
                name
            } else {
                // <…> stops Discord from unfurling a preview of every source.
                format!("[{name}](<{}>)", s.url)
            }
        })
        .collect::<Vec<_>>()
        .join("; ");
    format!(
        "{}: {} · {} {}",
        t.source,
        sources,
        t.reviewed,
        entry.reviewed.format("%Y-%m-%d")
    )
}

/// A title as Markdown: escaped when the entry was taught from a question (its title
/// may be the asker's words, and `[text](link)` there must not become a masked link in
/// every later answer), as written otherwise (knowledge files reviewed in git, entries
/// advisers wrote). Escaping does not change what Discord shows.
pub fn title_markdown(id: &str, title: &str) -> String {
    let title = title.trim();
    if crate::adviser::is_taught_from_a_question(id) {
        escape_markdown(title)
    } else {
        title.to_string()
    }
}

/// An entry as a message: bold title, body, source line. The body is the author's own
/// Markdown (the adviser's, for a taught entry).
pub fn entry_text(entry: &Entry, lang: Lang) -> String {
    format!(
        "**{}**\n\n{}\n\n{}",
        title_markdown(&entry.id, &entry.title),
        entry.body_text().trim(),
        source_line(entry, lang)
    )
}

fn topic_buttons(items: &[Candidate]) -> Vec<TopicButton> {
    items
        .iter()
        .take(3)
        .map(|c| TopicButton {
            id: c.id.clone(),
            label: c.title.clone(),
        })
        .collect()
}

/// A reply from the answering core as a Discord message, in the asker's language.
/// `logged` says whether an abstention was passed to advisers (only then does the
/// message say so).
pub fn render_reply(reply: &Reply, logged: bool) -> Rendered {
    let lang = reply.lang;
    let t = Texts::get(lang);
    let mut text = String::new();
    let mut topics = Vec::new();
    let mut more = false;
    if reply.problem == Some(InputProblem::Empty) {
        text.push_str(t.empty);
    } else if let Some(entry) = &reply.entry {
        if let Some(other) = &reply.tied_with {
            let first = title_markdown(&entry.id, &entry.title);
            let second = title_markdown(&other.id, &other.title);
            text.push_str(&crate::answer::tie_line(lang, &first, &second));
            topics.push(TopicButton {
                id: other.id.clone(),
                label: other.title.clone(),
            });
        }
        // The part that answers the question: the lead and the chosen section; the
        // whole entry is one click away ("More").
        text.push_str(&format!(
            "**{}**\n\n{}\n\n{}",
            title_markdown(&entry.id, &entry.title),
            crate::answer::targeted_answer(entry, reply.passage),
            source_line(entry, lang)
        ));
        more =
            crate::answer::targeted_answer(entry, reply.passage).trim() != entry.body_text().trim();
        topics.extend(topic_buttons(&reply.related));
        topics.truncate(3);
    } else if let Some(referral) = &reply.referral {
        text.push_str(&crate::answer::referral_text(lang, referral));
    } else {
        text.push_str(t.abstain);
        text.push(' ');
        text.push_str(if logged {
            t.abstain_logged
        } else {
            t.abstain_not_logged
        });
        if !reply.candidates.is_empty() {
            text.push_str(&format!("\n{}:", t.closest));
            topics = topic_buttons(&reply.candidates);
        }
    }
    if reply.truncated {
        text.push_str("\n\n");
        text.push_str(t.truncated);
    }
    Rendered {
        chunks: split_message(&text, MESSAGE_LIMIT),
        entry_id: reply.id().map(str::to_string),
        topics,
        lang,
        more,
    }
}

/// "<t:…:F> (<t:…:R>)": a moment shown in each reader's own time zone and language.
pub fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{} ({})",
        crate::announce::discord_timestamp(at, 'F'),
        crate::announce::discord_timestamp(at, 'R')
    )
}

/// Escape what could hide or fake content when user text is echoed: Markdown markers,
/// headings, quotes, masked links, and mentions (shown as text; pings are off anyway).
/// One implementation for every place that shows users' text: [`escape_user_text`].
pub fn escape_markdown(text: &str) -> String {
    crate::answer::escape_user_text(text)
}

/// User text as a block quote, escaped, cut to `max_chars`.
pub fn quote_block(text: &str, max_chars: usize) -> String {
    let mut cut: String = text.trim().chars().take(max_chars).collect();
    if text.trim().chars().count() > max_chars {
        cut.push('…');
    }
    cut.lines()
        .map(|l| format!("> {}", escape_markdown(l)))
        .collect::<Vec<_>>()
        .join("\n")
}

// ------------------------------------------------------------------ splitting

static PROTECTED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?s)```.*?```",            // fenced code
        r"|`[^`\n]+`",               // code span
        r"|\*\*.+?\*\*",             // bold
        r"|\[[^\]\n]*\]\([^)\s]*\)", // masked link
        r"|<https?://[^>\s]+>",      // link without preview
        r"|https?://\S+",            // bare URL
    ))
    .expect("valid regex")
});

/// Byte ranges that must not be split: code, bold, links.
fn protected_ranges(text: &str) -> Vec<Range<usize>> {
    PROTECTED.find_iter(text).map(|m| m.range()).collect()
}

fn is_protected(ranges: &[Range<usize>], at: usize) -> bool {
    ranges.iter().any(|r| r.start < at && at < r.end)
}

/// Split `text` into messages of at most `limit` characters. Never inside a word, a URL,
/// a `**bold**` span, a code span or a link; prefers paragraph, then line, then sentence,
/// then word boundaries. Only a single word (or protected span) longer than `limit` is cut
/// hard, since nothing else can fit it.
pub fn split_message(text: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(10);
    let ranges = protected_ranges(text);
    let mut chunks = Vec::new();
    let mut start = 0;
    while start < text.len() {
        // Skip the whitespace a previous split left.
        let rest = &text[start..];
        let skipped = rest.len() - rest.trim_start().len();
        start += skipped;
        if start >= text.len() {
            break;
        }
        let rest = &text[start..];
        if rest.chars().count() <= limit {
            chunks.push(rest.trim_end().to_string());
            break;
        }
        // The byte index just after `limit` characters.
        let window_end = start
            + rest
                .char_indices()
                .nth(limit)
                .map_or(rest.len(), |(i, _)| i);
        let split = best_split(text, start, window_end, limit, &ranges);
        let chunk = text[start..split].trim_end();
        if !chunk.is_empty() {
            chunks.push(chunk.to_string());
        }
        start = split;
    }
    chunks
}

/// Where to end the chunk that starts at `start` and may reach `window_end` (exclusive).
fn best_split(
    text: &str,
    start: usize,
    window_end: usize,
    limit: usize,
    ranges: &[Range<usize>],
) -> usize {
    let window = &text[start..window_end];
    // Boundaries of higher rank are only taken when the chunk is not tiny.
    let min_good = start + window.char_indices().nth(limit / 3).map_or(0, |(i, _)| i);
    let candidates = |pattern: &'static str, offset: usize| {
        window
            .match_indices(pattern)
            .map(move |(i, _)| start + i + offset)
            .collect::<Vec<_>>()
    };
    let levels: [Vec<usize>; 3] = [
        candidates("\n\n", 0),
        candidates("\n", 0),
        [". ", "? ", "! ", ".\n"]
            .iter()
            .flat_map(|p| candidates(p, 1))
            .collect(),
    ];
    for level in levels {
        if let Some(at) = level
            .into_iter()
            .filter(|&at| at >= min_good && !is_protected(ranges, at))
            .max()
        {
            return at;
        }
    }
    // Any whitespace outside protected spans.
    let spaces = window
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .map(|(i, _)| start + i)
        .filter(|&at| at > start && !is_protected(ranges, at));
    if let Some(at) = spaces.max() {
        return at;
    }
    // Only protected text in reach (a bold span or code longer than a message): a space
    // inside it is still better than cutting a word; a single overlong word is cut hard.
    window
        .char_indices()
        .filter(|(i, c)| *i > 0 && c.is_whitespace())
        .map(|(i, _)| start + i)
        .max()
        .unwrap_or(window_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lens_ok(chunks: &[String], limit: usize) {
        for c in chunks {
            assert!(
                c.chars().count() <= limit,
                "chunk of {} chars: {c:?}",
                c.chars().count()
            );
            assert!(!c.is_empty());
        }
    }

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn short_text_is_one_chunk() {
        assert_eq!(split_message("Hei på deg.", 2000), vec!["Hei på deg."]);
        assert!(split_message("   ", 2000).is_empty());
    }

    #[test]
    fn prefers_paragraphs() {
        let para = "Ord ".repeat(20).trim().to_string() + ".";
        let text = format!("{para}\n\n{para}\n\n{para}");
        let chunks = split_message(&text, 200);
        lens_ok(&chunks, 200);
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0], format!("{para}\n\n{para}"));
        assert_eq!(chunks[1], para);
    }

    #[test]
    fn prefers_lines_then_sentences() {
        let text = format!("{}\n{}", "a ".repeat(30).trim(), "b ".repeat(30).trim());
        let chunks = split_message(&text, 80);
        assert_eq!(
            chunks,
            vec![
                "a ".repeat(30).trim().to_string(),
                "b ".repeat(30).trim().to_string()
            ]
        );
        let text = format!("{}. {}.", "a ".repeat(30).trim(), "b ".repeat(30).trim());
        let chunks = split_message(&text, 80);
        assert_eq!(chunks[0], format!("{}.", "a ".repeat(30).trim()));
    }

    #[test]
    fn never_inside_a_word() {
        let text = "anskaffelsesregelverket ".repeat(40);
        let chunks = split_message(&text, 100);
        lens_ok(&chunks, 100);
        for c in &chunks {
            for w in words(c) {
                assert_eq!(w, "anskaffelsesregelverket");
            }
        }
    }

    #[test]
    fn never_inside_a_url_bold_or_code() {
        let url =
            "https://www.anskaffelser.no/verktoy/veiledere/en-veldig-lang-sti?med=parametre og mer";
        let bold = "**dette er en fet tekst med flere ord**";
        let code = "`kode med mellomrom i seg`";
        let link =
            "[Lov om offentlige anskaffelser](<https://lovdata.no/dokument/NL/lov/2016-06-17-73>)";
        let filler = "ord ".repeat(7);
        let text = format!("{filler}{url} {filler}{bold} {filler}{code} {filler}{link} {filler}")
            .repeat(6);
        for limit in [100, 120, 200, 333] {
            let chunks = split_message(&text, limit);
            lens_ok(&chunks, limit);
            let joined = chunks.join(" ");
            assert_eq!(words(&joined), words(&text), "limit {limit}");
            for c in &chunks {
                assert_eq!(
                    c.matches("**").count() % 2,
                    0,
                    "bold split at {limit}: {c:?}"
                );
                assert_eq!(
                    c.matches('`').count() % 2,
                    0,
                    "code split at {limit}: {c:?}"
                );
                if c.contains("https://www.anskaffelser") {
                    assert!(c.contains("parametre"), "url split at {limit}: {c:?}");
                }
                if c.contains("[Lov") {
                    assert!(
                        c.contains("2016-06-17-73>)"),
                        "link split at {limit}: {c:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_word_longer_than_the_limit_is_cut_hard() {
        let text = format!("kort {} kort", "x".repeat(50));
        let chunks = split_message(&text, 20);
        lens_ok(&chunks, 20);
        assert_eq!(chunks.concat().replace(' ', ""), text.replace(' ', ""));
    }

    #[test]
    fn multibyte_text_is_counted_in_characters() {
        let text = "æøå ".repeat(600);
        let chunks = split_message(&text, MESSAGE_LIMIT);
        lens_ok(&chunks, MESSAGE_LIMIT);
        assert_eq!(chunks.len(), 2);
    }

    #[test]
    fn escaping_hides_markdown_and_mentions() {
        let e = escape_markdown("@everyone **fet** [lenke](http://x) <@&123> # overskrift");
        assert!(!e.contains("@everyone"));
        assert!(e.contains("\\*\\*fet\\*\\*"));
        assert!(e.contains("\\[lenke\\]\\(http\\://x\\)"));
        assert!(e.contains("\\<@\u{200B}&123\\>"));
        assert_eq!(quote_block("a\nb", 100), "> a\n> b");
        assert_eq!(quote_block("abcdef", 3), "> abc…");
    }

    proptest::proptest! {
        #[test]
        fn chunks_fit_and_keep_every_word(text in "([a-zæøå]{1,12}[ .\n]{1,3}|\\*\\*[a-z ]{1,20}\\*\\*|https://x\\.no/[a-z]{1,30} ){0,120}", limit in 60usize..300) {
            // A word longer than the limit is cut hard (its own test above): the generator
            // can glue a bold run, a word and a link into one such word.
            proptest::prop_assume!(text.split_whitespace().all(|w| w.chars().count() <= limit));
            let chunks = split_message(&text, limit);
            for c in &chunks {
                proptest::prop_assert!(c.chars().count() <= limit);
            }
            let joined = chunks.join(" ");
            proptest::prop_assert_eq!(words(&joined), words(&text));
        }
    }
}
