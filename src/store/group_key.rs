//! The key that decides which unanswered questions are "the same question".
//!
//! Advisers should see "asked 7 times" on one queue item instead of seven items that
//! differ only in case, spelling of æøå, spacing, punctuation or filler words, and one
//! answer should reach all seven askers. The key is deliberately simple and predictable,
//! and it keeps the words in their order: "Can my landlord evict me from the office?" and
//! "Can I evict my landlord from the office?" are different questions, and an answer
//! written for one must not go to the asker of the other.

use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words that carry nothing of a question's meaning: greetings, thanks, politeness and
/// articles, in Norwegian (bokmål and nynorsk) and English, already folded the way
/// [`group_key`] folds text.
///
/// Question words, pronouns, verbs and negations are deliberately absent: "hvorfor" is
/// not "hva", "kan jeg klage på deg" is not "kan du klage på meg", and "kan jeg ikke
/// klage" is not "kan jeg klage".
#[rustfmt::skip]
const FILLERS: &[&str] = &[
    // Norwegian greetings, thanks and particles
    "hei", "heisann", "hallo", "takk", "egentlig", "eigentleg", "liksom", "forresten",
    "mvh", "hilsen", "helsing",
    // Norwegian articles
    "en", "ei", "et", "ein", "eit",
    // English greetings, thanks and particles
    "hi", "hello", "hey", "thanks", "thank", "please", "pls", "actually", "basically",
    // English articles
    "a", "an", "the",
];

/// Folds one lower-case character to plain ASCII letters where Norwegian readers
/// treat the spellings as the same word ("æ"/"ae", "ø"/"o", "å"/"a"), and drops
/// accents ("é" → "e") so "kontrakt" and "kontrákt" agree.
fn fold_char(c: char, out: &mut String) {
    match c {
        'æ' => out.push_str("ae"),
        'ø' => out.push('o'),
        'å' => out.push('a'),
        'ß' => out.push_str("ss"),
        _ => out.extend(c.to_string().nfkd().filter(|c| !is_combining_mark(*c))),
    }
}

/// Returns the grouping key of a question: Discord mentions and emoji tags removed,
/// lower-cased, æøå folded to ae/o/a, accents and punctuation removed, filler words dropped, the other words kept in their order and
/// joined by single spaces.
///
/// Questions with the same key share one open queue item (of the same privacy: see
/// [`Origin::is_private`](crate::store::Origin::is_private)). When every word is a filler
/// ("Hei!"), the folded words themselves are the key, so such messages still group with
/// their exact repeats and not with every other short message.
pub fn group_key(question: &str) -> String {
    // A mention of the bot (or anyone) and an emoji tag are markup, not words of the
    // question: "@anbud Hva er ESPD?" asks what /ask "Hva er ESPD?" asks.
    static MARKUP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"<(@[!&]?|#|a?:\w+:)\d+>|@(everyone|here)\b").expect("valid regex")
    });
    let question = MARKUP.replace_all(question, " ");
    let mut folded = String::with_capacity(question.len());
    for c in question.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            fold_char(c, &mut folded);
        } else {
            folded.push(' ');
        }
    }
    // Folding may yield non-alphanumeric leftovers (e.g. from ligatures); treat
    // them as separators too.
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();

    let content: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !FILLERS.contains(w))
        .collect();
    if content.is_empty() {
        words.join(" ")
    } else {
        content.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::group_key;

    #[test]
    fn lower_cases_and_drops_punctuation() {
        assert_eq!(group_key("TERSKELVERDI!!!"), "terskelverdi");
        assert_eq!(group_key("  terskelverdi ,.;  "), "terskelverdi");
    }

    #[test]
    fn folds_norwegian_letters_and_accents() {
        assert_eq!(group_key("særkrav"), "saerkrav");
        assert_eq!(group_key("Søknadsfrist"), "soknadsfrist");
        assert_eq!(
            group_key("åpen anbudskonkurranse"),
            "apen anbudskonkurranse"
        );
        assert_eq!(group_key("kontrákt"), "kontrakt");
    }

    #[test]
    fn drops_fillers_only() {
        assert_eq!(
            group_key("Hei! Hva er terskelverdien for kunngjøring? Takk :)"),
            group_key("hva er terskelverdien for kunngjoring")
        );
        assert_eq!(group_key("Hva er en rammeavtale?"), "hva er rammeavtale");
        assert_eq!(
            group_key("Hello, what is the threshold value? Thanks!"),
            group_key("what is threshold value")
        );
    }

    #[test]
    fn keeps_word_order() {
        assert_ne!(
            group_key("Can my landlord evict me from the office?"),
            group_key("Can I evict my landlord from the office?")
        );
        assert_ne!(
            group_key("Kan jeg klage på deg?"),
            group_key("Kan du klage på meg?")
        );
        assert_ne!(
            group_key("Hva er terskelverdien for kunngjøring?"),
            group_key("terskelverdien kunngjøring, hva er den?")
        );
    }

    #[test]
    fn keeps_question_words_negations_and_numbers() {
        assert_ne!(
            group_key("Kan jeg klage?"),
            group_key("Kan jeg ikke klage?")
        );
        assert_ne!(group_key("frist 10 dager"), group_key("frist 30 dager"));
        assert_ne!(
            group_key("Hva er fristen?"),
            group_key("Hvorfor er fristen?")
        );
        assert_ne!(
            group_key("What is the deadline?"),
            group_key("Why is the deadline?")
        );
    }

    #[test]
    fn mentions_are_not_words() {
        assert_eq!(
            group_key("<@1100000000000000301> Hva er ESPD?"),
            group_key("hva er espd")
        );
        assert_eq!(group_key("@everyone <:anbud:123> frist"), "frist");
    }

    #[test]
    fn spacing_does_not_matter() {
        assert_eq!(group_key("  frist\t\n  for   klage "), "frist for klage");
    }

    #[test]
    fn message_of_only_fillers_keeps_its_words() {
        assert_eq!(group_key("Hei!"), "hei");
        assert_eq!(group_key("hei takk"), "hei takk");
        assert_ne!(group_key("Hei!"), group_key("Takk!"));
    }

    #[test]
    fn empty_input_gives_empty_key() {
        assert_eq!(group_key(""), "");
        assert_eq!(group_key("?!"), "");
    }
}
