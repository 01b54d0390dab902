//! Text that goes from askers' questions into the knowledge base when an adviser teaches
//! the bot: the wordings shown to the adviser for review, the title proposed for a new
//! entry, and how [`Store::forget_user`](crate::store::Store::forget_user) recognises an
//! asker's words among what was taught.

use std::collections::BTreeSet;

use super::group_key;

/// The longest title proposed for an entry made from a question, in characters.
pub const TITLE_CHARS: usize = 100;

/// A question's words as an adviser reviews them: without Discord mentions, emoji tags
/// and links (see [`clean_question`](crate::answer::clean_question)), without control
/// characters, on one line with single spaces.
pub fn wording(question: &str) -> String {
    crate::answer::clean_question(question)
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// `text` cut to at most `chars` characters at a word boundary, with "…" when cut.
fn cut(text: &str, chars: usize) -> String {
    if text.chars().count() <= chars {
        return text.to_string();
    }
    let mut out = String::new();
    for word in text.split(' ') {
        let next = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if next > chars.saturating_sub(1) {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = text.chars().take(chars.saturating_sub(1)).collect();
    }
    out.push('…');
    out
}

/// The title proposed for a new entry made from a question: its [`wording`], cut to
/// [`TITLE_CHARS`]. The adviser reviews (and usually shortens) it before it is saved.
pub fn proposed_title(question: &str) -> String {
    cut(&wording(question), TITLE_CHARS)
}

/// A title made from the adviser's own answer, for an entry whose title was an asker's
/// words and had to go: the answer's first line, cut to 80 characters.
pub fn title_from_answer(body: &str, lang: &str) -> String {
    let first = body
        .lines()
        .map(|line| {
            line.trim_start_matches(['#', '*', '_', '>', '-', ' '])
                .trim()
        })
        .find(|line| !line.is_empty())
        .unwrap_or("");
    if first.is_empty() {
        return if lang == "en" {
            "An adviser's answer".into()
        } else {
            "Svar fra en rådgiver".into()
        };
    }
    cut(&wording(first), 80)
}

/// The grouping keys an asker's questions have, raw and as reviewed: taught text with one
/// of these keys is that asker's words.
pub fn asker_keys<'a>(questions: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    questions
        .into_iter()
        .flat_map(|q| [group_key(q), group_key(&wording(q))])
        .filter(|key| !key.is_empty())
        .collect()
}

/// Whether taught text (a phrasing, an example question) is one of an asker's questions:
/// the same words in the same order, whatever the case, punctuation, mentions or links.
pub fn is_askers_wording(text: &str, keys: &BTreeSet<String>) -> bool {
    [group_key(text), group_key(&wording(text))]
        .iter()
        .any(|key| keys.contains(key))
}

/// Whether an entry's title is an asker's words: the whole question, or its beginning
/// when the title was cut (ends in "…", or is a 120-character cut as titles were once).
pub fn is_askers_title(title: &str, keys: &BTreeSet<String>) -> bool {
    if is_askers_wording(title, keys) {
        return true;
    }
    let trimmed = title.trim_end_matches('…');
    let was_cut = trimmed.len() < title.len() || title.chars().count() >= 120;
    let start = group_key(&wording(trimmed));
    was_cut && start.split(' ').count() >= 3 && keys.iter().any(|key| key.starts_with(&start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wordings_lose_mentions_links_and_controls() {
        assert_eq!(
            wording("<@123>  Hva er\tfristen?\r\nSe https://x.no \u{1b}[2J slutt"),
            "Hva er fristen? Se [2J slutt"
        );
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        let long = "ord ".repeat(60);
        let title = proposed_title(&long);
        assert!(title.chars().count() <= TITLE_CHARS, "{title}");
        assert!(title.ends_with("ord…"), "{title}");
        assert_eq!(proposed_title("Hva er ESPD?"), "Hva er ESPD?");
    }

    #[test]
    fn an_askers_words_are_recognised_after_review() {
        let keys = asker_keys(["<@1> Hva er klagefristen for småbedrifter i Oslo?"]);
        assert!(is_askers_wording(
            "hva er klagefristen for småbedrifter i oslo",
            &keys
        ));
        assert!(is_askers_wording(
            "Hva er klagefristen for småbedrifter i Oslo?",
            &keys
        ));
        assert!(!is_askers_wording("Hva er klagefristen?", &keys));
        assert!(!is_askers_wording(
            "Oslo i småbedrifter for klagefristen er hva",
            &keys
        ));
        let long = format!("Hva er klagefristen {}", "og så videre ".repeat(20));
        let keys = asker_keys([long.as_str()]);
        assert!(is_askers_title(&proposed_title(&long), &keys));
        let legacy: String = long.chars().take(120).collect();
        assert!(is_askers_title(&legacy, &keys));
        assert!(!is_askers_title("Klagefrister", &keys));
    }

    #[test]
    fn titles_from_answers() {
        assert_eq!(
            title_from_answer("## Ti dager\n\nMer tekst.", "nb"),
            "Ti dager"
        );
        assert_eq!(title_from_answer("", "en"), "An adviser's answer");
    }
}
