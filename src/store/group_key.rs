//! The key that decides which unanswered questions are "the same question".
//!
//! Advisers should see "asked 7 times" on one queue item instead of seven items
//! that differ only in spelling, word order or filler words, and one answer should
//! reach all seven askers. The key is deliberately simple and predictable: two
//! wordings share an item only when they contain the same content words.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words that carry no meaning of their own in a question, in Norwegian (bokmål
/// and nynorsk) and English, already folded the way [`group_key`] folds text.
///
/// Negations ("ikke", "not") and words with procurement meaning are deliberately
/// absent: "kan jeg ikke klage" must not group with "kan jeg klage".
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    // Norwegian question words and fillers
    "hva", "kva", "hvordan", "korleis", "hvor", "kor", "hvem", "kven", "hvilken", "hvilket",
    "hvilke", "nar", "hvorfor", "kvifor", "kan", "ma", "skal", "bor", "vil", "er", "var",
    "blir", "bli", "har", "ha", "gjor", "gjore", "jeg", "eg", "vi", "du", "dere", "de",
    "man", "me", "meg", "oss", "min", "mitt", "mine", "vart", "det", "den",
    "dette", "denne", "disse", "en", "ei", "et", "ein", "eit", "a", "og", "i", "pa", "til",
    "for", "fra", "om", "med", "av", "som", "at", "so", "sa", "seg", "sin", "sitt", "sine",
    "noe", "noko", "nokon", "noen", "egentlig", "eigentleg", "vel", "da", "na", "hei",
    "hallo", "takk",
    // English question words and fillers
    "what", "how", "where", "who", "whom", "which", "when", "why", "can", "could", "may",
    "must", "shall", "should", "will", "would", "do", "does", "did", "is", "are", "was",
    "were", "be", "been", "have", "has", "had", "i", "we", "you", "they", "it", "me", "us",
    "my", "our", "your", "the", "an", "and", "or", "of", "to", "in", "on", "at", "for",
    "from", "with", "by", "about", "as", "this", "that", "these", "those", "there",
    "please", "hi", "hello", "thanks",
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

/// Returns the grouping key of a question: lower-cased, æøå folded to ae/o/a,
/// accents and punctuation removed, question and filler words dropped, and the
/// remaining words de-duplicated and sorted.
///
/// Questions with the same key share one open queue item. When every word is a
/// stop word ("Hva?"), the folded words themselves are the key, so such questions
/// still group with their exact repeats and not with every other short question.
pub fn group_key(question: &str) -> String {
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

    let mut content: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !STOP_WORDS.contains(w))
        .collect();
    if content.is_empty() {
        content = words;
    }
    content.sort_unstable();
    content.dedup();
    content.join(" ")
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
            "anbudskonkurranse apen"
        );
        assert_eq!(group_key("kontrákt"), "kontrakt");
    }

    #[test]
    fn drops_question_words_and_sorts() {
        assert_eq!(
            group_key("Hva er terskelverdien for kunngjøring?"),
            group_key("terskelverdien kunngjøring, hva er den?")
        );
        assert_eq!(
            group_key("Hva er terskelverdien for kunngjøring?"),
            "kunngjoring terskelverdien"
        );
        assert_eq!(
            group_key("What is the threshold value?"),
            group_key("threshold value — what is it")
        );
    }

    #[test]
    fn keeps_negations_and_numbers() {
        assert_ne!(
            group_key("Kan jeg klage?"),
            group_key("Kan jeg ikke klage?")
        );
        assert_ne!(group_key("frist 10 dager"), group_key("frist 30 dager"));
    }

    #[test]
    fn repeated_words_count_once() {
        assert_eq!(group_key("frist frist frist"), "frist");
    }

    #[test]
    fn question_of_only_stop_words_keeps_its_words() {
        assert_eq!(group_key("Hva?"), "hva");
        assert_eq!(group_key("hva er det"), "det er hva");
        assert_ne!(group_key("Hva?"), group_key("Hvordan?"));
    }

    #[test]
    fn empty_input_gives_empty_key() {
        assert_eq!(group_key(""), "");
        assert_eq!(group_key("?!"), "");
    }
}
