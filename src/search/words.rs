//! The words of a text before any knowledge base is involved: splitting it into words,
//! folding the letters users type in several ways, the lists of stop words, fillers and
//! everyday words, and which language (Bokmål, Nynorsk, Swedish or English) a question is
//! written in. [`super::analysis`] builds on these with the knowledge base's vocabulary
//! and glossary.

use rustc_hash::FxHashSet as HashSet;
use std::sync::LazyLock;

use crate::knowledge::Lang;

/// Lower-case and fold letters that users type in several ways.
pub fn fold(word: &str) -> String {
    // "aa" is the old spelling of å: a run of "a"s (typed, or from å, à, æ …) folds to one
    // "a", so that folding a folded word changes nothing ("aaa" → "a") and both sides of
    // the index meet on one form. Done as each letter is added, in one pass: replacing
    // "aa" until none was left, and lower-casing every letter through Unicode's tables
    // even in plain ASCII words, was a fortieth of an answer.
    let mut out = String::with_capacity(word.len() + 2);
    let mut push = |c: char| {
        if c != 'a' || !out.ends_with('a') {
            out.push(c);
        }
    };
    if word.is_ascii() {
        for b in word.bytes() {
            push(char::from(b.to_ascii_lowercase()));
        }
        return out;
    }
    for c in word.chars().flat_map(char::to_lowercase) {
        match c {
            'æ' | 'ä' => {
                push('a');
                push('e');
            }
            'ø' | 'ö' | 'ó' | 'ò' | 'ô' => push('o'),
            'å' | 'à' | 'á' | 'â' => push('a'),
            'é' | 'è' | 'ê' | 'ë' => push('e'),
            'ü' | 'ú' => push('u'),
            _ => push(c),
        }
    }
    out
}

/// Split text into lower-case words: letters and digits, with inner hyphens, dots and
/// slashes as separators. Everything else (markdown, mentions, query syntax) is a separator.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect()
}

/// Words that carry no topic: question words, pronouns, fillers; Bokmål, Nynorsk, Swedish
/// and English. Compared after folding.
const STOP_WORDS: &str = include_str!("stop_words.txt");

/// Words that carry little topic but are not stop words: generic verbs and nouns of
/// asking ("how does X work", "what does X mean"). They still count, at a low weight,
/// so an entry is not judged on whether it happens to use them. Compared after folding.
const FILLERS: &str = include_str!("fillers.txt");

/// Everyday words: the most frequent words of Bokmål and English (see the file's header).
const GENERAL_WORDS: &str = include_str!("general_words.txt");

static GENERAL_WORD_SET: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| word_list(GENERAL_WORDS).collect());

/// The words of a word-list file: one per line; blank lines and `#` comments left out.
fn word_list(text: &'static str) -> impl Iterator<Item = &'static str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Is this folded word an everyday word rather than a term of the trade?
pub fn is_general_word(folded: &str) -> bool {
    GENERAL_WORD_SET.contains(folded)
}

/// Is this folded word a low-content filler?
pub fn is_filler(folded: &str) -> bool {
    static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| word_list(FILLERS).collect());
    SET.contains(folded)
}

/// Words that tell the question's language (folded). Shared words count for neither.
const NB_MARKERS: &str = include_str!("markers_nb.txt");
const EN_MARKERS: &str = include_str!("markers_en.txt");

/// Which language to answer a question in: English when the question is English, else
/// Bokmål (most users are Norwegian, and Nynorsk or Swedish is answered in Bokmål).
pub fn detect_language(text: &str) -> Lang {
    detect_variety(text).reply_lang()
}

/// The language a question is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Variety {
    Nb,
    Nn,
    Sv,
    En,
}

impl Variety {
    pub fn code(self) -> &'static str {
        match self {
            Variety::Nb => "nb",
            Variety::Nn => "nn",
            Variety::Sv => "sv",
            Variety::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Variety> {
        match code {
            "nb" => Some(Variety::Nb),
            "nn" => Some(Variety::Nn),
            "sv" => Some(Variety::Sv),
            "en" => Some(Variety::En),
            _ => None,
        }
    }

    /// The language of the reply: English for English, Bokmål for the rest.
    pub fn reply_lang(self) -> Lang {
        match self {
            Variety::En => Lang::En,
            _ => Lang::Nb,
        }
    }
}

/// Which language a question is written in. English when the English signal is
/// clearly stronger than the Scandinavian one; among the Scandinavian languages, words
/// that only Nynorsk or only Swedish uses decide (and the letters ä and ö, Swedish);
/// Bokmål when nothing does.
pub fn detect_variety(text: &str) -> Variety {
    let words = words(text);
    let folded: Vec<String> = words.iter().map(|w| fold(w)).collect();
    variety_with(&words, &folded, 0, 0)
}

/// The word lists of [`detect_variety`] as sets: looking a word up in each list in turn
/// was a fortieth of an answer (every question is told twice).
struct VarietyMarkers {
    nb: HashSet<&'static str>,
    en: HashSet<&'static str>,
    nn_only: HashSet<&'static str>,
    sv_only: HashSet<&'static str>,
}

static VARIETY_MARKERS: LazyLock<VarietyMarkers> = LazyLock::new(|| {
    let set = |list: &'static str| word_list(list).collect();
    VarietyMarkers {
        nb: set(NB_MARKERS),
        en: set(EN_MARKERS),
        nn_only: set(NN_ONLY),
        sv_only: set(SV_ONLY),
    }
});

/// [`detect_variety`] of the lower-case `words` of a text, `folded` one for one, with
/// `scandinavian` and `en` counted already.
pub(super) fn variety_with(
    words: &[String],
    folded: &[String],
    mut scandinavian: usize,
    mut en: usize,
) -> Variety {
    let markers = &*VARIETY_MARKERS;
    let mut nn = 0usize;
    let mut sv = 0usize;
    for (w, f) in words.iter().zip(folded) {
        if w.contains(['æ', 'ø', 'å']) {
            scandinavian += 2;
        }
        if w.contains(['ä', 'ö']) {
            sv += 1;
        }
        let f = f.as_str();
        if markers.nb.contains(f) {
            scandinavian += 1;
        }
        if markers.en.contains(f) {
            en += 1;
        }
        if markers.nn_only.contains(f) {
            nn += 1;
        }
        if markers.sv_only.contains(f) {
            sv += 1;
        }
    }
    if en > scandinavian + sv {
        Variety::En
    } else if sv > nn {
        Variety::Sv
    } else if nn > 0 {
        Variety::Nn
    } else {
        Variety::Nb
    }
}

/// Words only Nynorsk uses (folded).
const NN_ONLY: &str = include_str!("nynorsk_only.txt");
const SV_ONLY: &str = include_str!("swedish_only.txt");

/// Folded word → is it a stop word?
pub fn is_stop_word(folded: &str) -> bool {
    // A set, not a scan of the list: this runs for every word of every entry.
    static SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| word_list(STOP_WORDS).collect());
    SET.contains(folded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_meets_typed_without_special_letters() {
        assert_eq!(fold("Innkjøp"), fold("innkjop"));
        assert_eq!(fold("Når"), fold("naar"));
        assert_eq!(fold("særlig"), "saerlig");
    }

    /// The one-pass `fold` gives what folding letter by letter and then replacing "aa"
    /// until none is left gives, for every string of up to four letters from an alphabet
    /// of the cases that matter (runs of "a" made by å and æ, upper case, ASCII and not,
    /// a letter that lower-cases to two).
    #[test]
    fn folding_in_one_pass_matches_its_definition() {
        fn by_definition(word: &str) -> String {
            let mut out = String::new();
            for c in word.chars().flat_map(char::to_lowercase) {
                match c {
                    'æ' | 'ä' => out.push_str("ae"),
                    'ø' | 'ö' | 'ó' | 'ò' | 'ô' => out.push('o'),
                    'å' | 'à' | 'á' | 'â' => out.push('a'),
                    'é' | 'è' | 'ê' | 'ë' => out.push('e'),
                    'ü' | 'ú' => out.push('u'),
                    _ => out.push(c),
                }
            }
            while out.contains("aa") {
                out = out.replace("aa", "a");
            }
            out
        }
        let alphabet = ['a', 'A', 'å', 'Å', 'æ', 'Æ', 'e', 'ø', 'b', 'İ', '1', '-'];
        let mut words = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = words
                .iter()
                .filter(|w| w.chars().count() == words.last().map_or(0, |l| l.chars().count()))
                .flat_map(|w| alphabet.iter().map(move |c| format!("{w}{c}")))
                .collect();
            words.extend(longer);
        }
        assert!(words.len() > 20_000);
        for word in &words {
            assert_eq!(fold(word), by_definition(word), "{word:?}");
        }
    }

    #[test]
    fn folding_is_idempotent_on_runs_of_a() {
        // Found by the property test: "aaa" folded to "aa", which folds to "a".
        for w in ["aaa", "aaaa", "Åaa", "naaar"] {
            assert_eq!(fold(&fold(w)), fold(w), "{w}");
        }
        assert_eq!(fold("aaa"), "a");
    }

    #[test]
    fn language_detection() {
        assert_eq!(detect_language("How do I find tenders?"), Lang::En);
        assert_eq!(detect_language("Hvordan finner jeg anbud?"), Lang::Nb);
        assert_eq!(detect_language("korleis finn eg anbod"), Lang::Nb);
        assert_eq!(detect_language(""), Lang::Nb);
        assert_eq!(detect_language("ESPD"), Lang::Nb);
    }
}
