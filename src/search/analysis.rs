//! Text analysis shared by indexing and questions, so both sides meet on the same terms.
//!
//! A word goes through: lower-casing → glossary spelling rules (Nynorsk, Swedish,
//! misspellings → Bokmål) → stop words out → stemming (Norwegian or English, tantivy's
//! stemmers) → folding of æ/ø/å (so "innkjøp", "innkjop" and "innkjoep" meet) → compound
//! splitting against the knowledge base's own vocabulary ("anbudskonkurranse" → "anbud" +
//! "konkurranse"). Questions also get typo candidates and glossary synonyms.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use tantivy::tokenizer::{
    Language, Stemmer, TokenFilter, TokenStream, Tokenizer, WhitespaceTokenizer,
};

use super::persisted::{Corrupt, Decoder, Encoder};
use super::words::variety_with;
pub use super::words::{
    detect_language, detect_variety, fold, is_filler, is_general_word, is_stop_word, words, Variety,
};
use crate::knowledge::{Glossary, KnowledgeBase, Lang};
use crate::memo::Memo;

/// The smallest compound part we split off. Shorter parts split words by accident.
const MIN_PART: usize = 4;

/// The longest (folded) word we try to split. The knowledge base's longest word has 34
/// letters ("konkurransegjennomføringsverktøyet"); longer ones are not real compounds, and
/// the work grows with the square of the length.
pub const MAX_COMPOUND_CHARS: usize = 48;

/// What one [`Analyzer::compound_parts`] call has worked out so far.
#[derive(Default)]
struct SplitMemo {
    /// `(from, to)` → is that slice of the word known?
    known: HashMap<(usize, usize), bool>,
    /// Start → the best split of the rest of the word.
    parts: HashMap<usize, Vec<String>>,
}

/// How a query alternative relates to what the user typed; it sets the alternative's weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The word itself (stemmed and folded).
    Exact,
    /// A part of a compound word the user typed.
    Part,
    /// A glossary synonym.
    Synonym,
    /// A known word one or two edits away (a typo).
    Typo,
}

impl Variant {
    pub fn weight(self) -> f32 {
        match self {
            Variant::Exact => 1.0,
            Variant::Part => 0.55,
            Variant::Synonym => 0.6,
            Variant::Typo => 0.7,
        }
    }
}

/// One content word of a question, with every term that may stand for it in the index.
#[derive(Debug, Clone)]
pub struct QueryWord {
    /// The word as typed (lower-case).
    pub surface: String,
    /// `(term, variant)`, distinct terms, best variant first.
    pub alternatives: Vec<(String, Variant)>,
}

/// Index-side analysis of one text: whole-word terms and compound parts.
#[derive(Debug, Clone, Default)]
pub struct AnalysedText {
    pub terms: Vec<String>,
    pub parts: Vec<String>,
}

/// One folded word analysed in one language: its stem and its compound parts.
#[derive(Debug, Clone)]
struct WordAnalysis {
    stem: String,
    parts: Vec<String>,
}

/// A spelling rule of the glossary: the words it matches (in order) and what they become.
type SpellingRule = (Vec<String>, Vec<String>);

/// A question word's alternatives: `(term, variant)`, as in [`QueryWord`].
type Alternatives = Vec<(String, Variant)>;

/// The most question words whose analysis is remembered (a few megabytes at most).
const QUESTION_WORDS_REMEMBERED: usize = 20_000;

/// The analyser: the stemmers, the glossary and the knowledge base's vocabulary.
#[derive(Clone)]
pub struct Analyzer {
    /// Words of the knowledge base already analysed, per language (Bokmål, English):
    /// the same words recur in thousands of entries, and stemming and compound
    /// splitting are the costly part of indexing and of analysing a question. Filled
    /// while the index is built, from the knowledge base's own text only, so its size
    /// follows the vocabulary, never the questions asked.
    memo: [HashMap<String, WordAnalysis>; 2],
    spelling: HashMap<String, Vec<SpellingRule>>,
    /// Folded stems and folded words that occur anywhere in the knowledge base.
    vocabulary: HashSet<String>,
    /// Deletion neighbourhood for typo look-up: a term with one letter removed → terms.
    deletions: HashMap<String, Vec<String>>,
    /// Synonym groups as analysed term sequences; each sequence → the group's index.
    synonym_index: HashMap<Vec<String>, Vec<usize>>,
    /// Per group, per term: the analysed word sequence, and the words a match adds to a
    /// question (a multi-word term adds only its words that are not everyday words:
    /// "Norwegian Agency for Public and Financial Management" adds nothing generic).
    synonym_groups: Vec<Vec<(Vec<String>, Vec<String>)>>,
    longest_synonym: usize,
    /// Folded words of three letters or more that only the English entries use, and
    /// only the Bokmål entries: evidence of a question's language when it has no
    /// question words ("market dialogue RFI").
    english_only: HashSet<String>,
    norwegian_only: HashSet<String>,
    /// Question words already analysed: each word's [`QueryWord::alternatives`].
    question_words: Memo<Alternatives>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("vocabulary", &self.vocabulary.len())
            .finish()
    }
}

fn lang_slot(lang: Lang) -> usize {
    match lang {
        Lang::Nb => 0,
        Lang::En => 1,
    }
}

impl Analyzer {
    /// Build the analyser for a knowledge base: its vocabulary drives compound splitting
    /// and typo correction.
    pub fn new(kb: &KnowledgeBase) -> Analyzer {
        let mut analyzer = Analyzer {
            memo: [HashMap::default(), HashMap::default()],
            spelling: HashMap::default(),
            vocabulary: HashSet::default(),
            deletions: HashMap::default(),
            synonym_index: HashMap::default(),
            synonym_groups: Vec::new(),
            longest_synonym: 0,
            english_only: HashSet::default(),
            norwegian_only: HashSet::default(),
            question_words: Memo::new(QUESTION_WORDS_REMEMBERED),
        };
        for rule in &kb.glossary.rules {
            let from: Vec<String> = rule.from.iter().map(|w| fold(w)).collect();
            let to: Vec<String> = rule.to.iter().map(|w| fold(w)).collect();
            analyzer
                .spelling
                .entry(from[0].clone())
                .or_default()
                .push((from, to));
        }
        for rules in analyzer.spelling.values_mut() {
            // Longest match first.
            rules.sort_by_key(|rule| std::cmp::Reverse(rule.0.len()));
        }
        // Vocabulary: every word of every entry, stemmed in its language, and unstemmed.
        // Each distinct word is stemmed once per language.
        let mut vocabulary = HashSet::default();
        let mut seen: [HashSet<String>; 2] = [HashSet::default(), HashSet::default()];
        for entry in &kb.entries {
            let seen = &mut seen[lang_slot(entry.lang)];
            let body = entry.body_text();
            let questions = entry.questions_text();
            let texts = std::iter::once(entry.title.as_str())
                .chain(questions.iter())
                .chain(entry.keywords.iter())
                .chain(std::iter::once(&*body));
            for text in texts {
                for w in words(text) {
                    if seen.contains(&w) {
                        continue;
                    }
                    let f = fold(&w);
                    if f.chars().count() >= MIN_PART {
                        vocabulary.insert(analyzer.stem(&w, entry.lang));
                        vocabulary.insert(f);
                    }
                    seen.insert(w);
                }
            }
        }
        for group in &kb.glossary.groups {
            for term in group {
                for w in words(term) {
                    vocabulary.insert(analyzer.stem(&w, Lang::Nb));
                    vocabulary.insert(analyzer.stem(&w, Lang::En));
                    vocabulary.insert(fold(&w));
                }
            }
        }
        analyzer.vocabulary = vocabulary;
        let [nb, en] = seen.map(|words| {
            words
                .iter()
                .map(|w| fold(w))
                .filter(|w| w.chars().count() >= 3 && !w.chars().any(|c| c.is_ascii_digit()))
                .collect::<HashSet<String>>()
        });
        analyzer.english_only = en.difference(&nb).cloned().collect();
        analyzer.norwegian_only = nb.difference(&en).cloned().collect();
        analyzer.build_synonyms(&kb.glossary);
        analyzer
    }

    fn build_synonyms(&mut self, glossary: &Glossary) {
        for group in &glossary.groups {
            let index = self.synonym_groups.len();
            let mut analysed = Vec::new();
            for term in group {
                for lang in [Lang::Nb, Lang::En] {
                    let folded: Vec<String> = words(term)
                        .iter()
                        .map(|w| fold(w))
                        .filter(|w| !is_stop_word(w))
                        .collect();
                    let seq: Vec<String> = folded.iter().map(|w| self.stem(w, lang)).collect();
                    if seq.is_empty() || analysed.iter().any(|(s, _)| *s == seq) {
                        continue;
                    }
                    let expansion: Vec<String> = if seq.len() == 1 {
                        seq.clone()
                    } else {
                        folded
                            .iter()
                            .zip(&seq)
                            .filter(|(f, _)| !is_general_word(f))
                            .map(|(_, s)| s.clone())
                            .collect()
                    };
                    self.longest_synonym = self.longest_synonym.max(seq.len());
                    let groups = self.synonym_index.entry(seq.clone()).or_default();
                    if !groups.contains(&index) {
                        groups.push(index);
                    }
                    analysed.push((seq, expansion));
                }
            }
            self.synonym_groups.push(analysed);
        }
    }

    /// [`detect_variety`], with the knowledge base's words as further evidence: a word
    /// only the English entries use counts as an English marker, one only the Bokmål
    /// entries use as a Norwegian one.
    pub fn detect_variety(&self, text: &str) -> Variety {
        let words = words(text);
        let folded: Vec<String> = words.iter().map(|w| fold(w)).collect();
        let (mut nb, mut en) = (0usize, 0usize);
        for f in &folded {
            nb += usize::from(self.norwegian_only.contains(f));
            en += usize::from(self.english_only.contains(f));
        }
        variety_with(&words, &folded, nb, en)
    }

    /// Register the terms of the built index, for typo look-up.
    pub fn set_index_terms<'a>(&mut self, terms: impl IntoIterator<Item = &'a String>) {
        self.deletions.clear();
        self.question_words.clear();
        for term in terms {
            if term.chars().count() < 4 || term.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            for d in deletions_of(term) {
                self.deletions.entry(d).or_default().push(term.clone());
            }
            self.deletions
                .entry(term.clone())
                .or_default()
                .push(term.clone());
        }
    }

    /// Stem one lower-case word in a language, then fold it.
    pub fn stem(&self, word: &str, lang: Lang) -> String {
        if let Some(known) = self.memo[lang_slot(lang)].get(word) {
            return known.stem.clone();
        }
        // Built on the stack for each word: cheaper than cloning a boxed `TextAnalyzer`.
        let language = match lang {
            Lang::Nb => Language::Norwegian,
            Lang::En => Language::English,
        };
        let mut stemmer = Stemmer::new(language).transform(WhitespaceTokenizer::default());
        let lower = word.to_lowercase();
        let mut stream = stemmer.token_stream(&lower);
        let stemmed = if stream.advance() {
            stream.token().text.clone()
        } else {
            lower.clone()
        };
        fold(&stemmed)
    }

    /// Apply the glossary's spelling rules to a word sequence (folded words). A word no
    /// rule matches whole, and that the knowledge base does not know, is respelled by a
    /// one-word rule that matches its end or its start: Swedish and Nynorsk compounds
    /// ("direktupphandling" → "direktanskaffelse", "upphandlingsplan" → "anskaffelsesplan").
    fn respell(&self, folded: Vec<String>, english: bool) -> Vec<String> {
        if self.spelling.is_empty() {
            return folded;
        }
        let folded: Vec<String> = folded
            .into_iter()
            .map(|w| self.respell_compound(w))
            .map(|w| if english { w } else { self.respell_ending(w) })
            .collect();
        let mut out = Vec::with_capacity(folded.len());
        let mut i = 0;
        while i < folded.len() {
            let mut matched = false;
            if let Some(rules) = self.spelling.get(&folded[i]) {
                for (from, to) in rules {
                    if folded[i..].starts_with(from) {
                        out.extend(to.iter().cloned());
                        i += from.len();
                        matched = true;
                        break;
                    }
                }
            }
            if !matched {
                out.push(folded[i].clone());
                i += 1;
            }
        }
        out
    }

    /// See [`Analyzer::respell`]: a rule's word as the last or first part of a compound
    /// whose other part the knowledge base knows (so "kommunalt" is not taken for the
    /// Swedish "kommun" + "alt").
    fn respell_compound(&self, word: String) -> String {
        const MIN_RULE: usize = 5;
        const MIN_REST: usize = 4;
        if self.spelling.contains_key(&word) || self.vocabulary.contains(&word) {
            return word;
        }
        let chars: Vec<char> = word.chars().collect();
        let one_word = |from: &str| -> Option<&String> {
            self.spelling
                .get(from)?
                .iter()
                .find_map(|(f, t)| (f.len() == 1 && t.len() == 1 && f[0] == from).then(|| &t[0]))
        };
        let known = |part: &[char]| {
            let text: String = part.iter().collect();
            self.vocabulary.contains(&text) || self.vocabulary.contains(&self.stem(&text, Lang::Nb))
        };
        // A known part, with or without a linking s or e at its end.
        let known_left = |part: &[char]| {
            known(part)
                || (matches!(part.last(), Some('s' | 'e')) && known(&part[..part.len() - 1]))
        };
        // The longest rule that ends the word, then the longest that starts it.
        for split in MIN_REST..chars.len().saturating_sub(MIN_RULE - 1) {
            let tail: String = chars[split..].iter().collect();
            if let Some(to) = one_word(&tail) {
                if known_left(&chars[..split]) {
                    let head: String = chars[..split].iter().collect();
                    return format!("{head}{to}");
                }
            }
        }
        for split in (MIN_RULE..=chars.len().saturating_sub(MIN_REST)).rev() {
            let head: String = chars[..split].iter().collect();
            let Some(to) = one_word(&head) else {
                continue;
            };
            // Keep a linking s: upphandlings-plan → anskaffelses-plan.
            let rest = &chars[split..];
            let linked = matches!(rest.first(), Some('s')) && rest.len() > MIN_REST;
            if known(rest) || (linked && known(&rest[1..])) {
                let tail: String = rest.iter().collect();
                return format!("{to}{tail}");
            }
        }
        word
    }

    /// A word the knowledge base does not know, respelled by the regular differences
    /// between Swedish or Nynorsk and Bokmål, in a question that is not English
    /// ("fungerar" → "fungerer", "utlysinga" →
    /// "utlysningen", "offentleg" → "offentlig", "information" → "informasjon"), when the
    /// respelled word is one the knowledge base knows. Unchanged otherwise.
    fn respell_ending(&self, word: String) -> String {
        /// `(ending, replacement)`, longest first within a family; folded spellings.
        const ENDINGS: &[(&str, &str)] = &[
            // Swedish and Nynorsk present tense and plural: -ar → -er.
            ("arna", "ene"),
            ("erna", "ene"),
            ("orna", "ene"),
            ("ane", "ene"),
            ("ar", "er"),
            // Swedish -tion → -sjon.
            ("tionerna", "sjonene"),
            ("tioner", "sjoner"),
            ("tionen", "sjonen"),
            ("tion", "sjon"),
            // Nynorsk -ing → -ning.
            ("ingane", "ningene"),
            ("ingar", "ninger"),
            ("inga", "ningen"),
            ("ing", "ning"),
            // Nynorsk -leg → -lig.
            ("lege", "lige"),
            ("leg", "lig"),
            // Swedish past tense and adjectives.
            ("ade", "et"),
            ("igt", "ig"),
            ("iga", "ige"),
            // Infinitives: Swedish -a, Nynorsk -je → -e.
            ("je", "e"),
            ("a", "e"),
        ];
        /// Letters inside a word: Swedish ä (folded "ae") is often Norwegian e, and
        /// Swedish ck is Norwegian kk.
        const INSIDE: &[(&str, &str)] = &[("ae", "e"), ("ck", "kk")];
        if word.chars().count() < 5 || self.is_known_word(&word) {
            return word;
        }
        for (ending, replacement) in ENDINGS {
            if let Some(stem) = word.strip_suffix(ending) {
                let candidate = format!("{stem}{replacement}");
                if self.is_known_word(&candidate) {
                    return candidate;
                }
            }
        }
        for (from, to) in INSIDE {
            if word.contains(from) {
                let candidate = word.replace(from, to);
                if self.is_known_word(&candidate) {
                    return candidate;
                }
            }
        }
        word
    }

    /// Is this folded word, or its Bokmål stem, a word of the knowledge base (or one a
    /// spelling rule maps)?
    fn is_known_word(&self, folded: &str) -> bool {
        self.spelling.contains_key(folded)
            || self.vocabulary.contains(folded)
            || self.vocabulary.contains(&self.stem(folded, Lang::Nb))
    }

    /// Split a folded word into known parts: "anbudskonkurranse" → ["anbud", "konkurranse"].
    /// Parts are returned stemmed in `lang`. Returns nothing when no split is convincing.
    ///
    /// The best split of each remainder is worked out once (a word made of repeated known
    /// words otherwise has exponentially many splits: "rammeavtale" × 200 hung the bot),
    /// and words longer than [`MAX_COMPOUND_CHARS`] are not split at all.
    pub fn compound_parts(&self, folded: &str, lang: Lang) -> Vec<String> {
        if let Some(known) = self.memo[lang_slot(lang)].get(folded) {
            return known.parts.clone();
        }
        let chars: Vec<char> = folded.chars().collect();
        if chars.len() < 2 * MIN_PART
            || chars.len() > MAX_COMPOUND_CHARS
            || chars.iter().any(|c| c.is_ascii_digit())
        {
            return Vec::new();
        }
        let mut memo = SplitMemo::default();
        self.split_from(&chars, 0, lang, &mut memo)
    }

    /// Is `chars[from..to]` a word of the vocabulary (as it is, or stemmed)?
    fn known_range(
        &self,
        chars: &[char],
        from: usize,
        to: usize,
        lang: Lang,
        memo: &mut SplitMemo,
    ) -> bool {
        if to - from < MIN_PART {
            return false;
        }
        *memo.known.entry((from, to)).or_insert_with(|| {
            let s: String = chars[from..to].iter().collect();
            self.vocabulary.contains(&s) || self.vocabulary.contains(&self.stem(&s, lang))
        })
    }

    /// The best split of `chars[start..]` into known parts, or nothing.
    fn split_from(
        &self,
        chars: &[char],
        start: usize,
        lang: Lang,
        memo: &mut SplitMemo,
    ) -> Vec<String> {
        if let Some(done) = memo.parts.get(&start) {
            return done.clone();
        }
        let len = chars.len() - start;
        let mut best: Option<(usize, Vec<String>)> = None;
        if len >= 2 * MIN_PART {
            for split in MIN_PART..=len - MIN_PART {
                let end = start + split;
                // Linking letters: anbud-s-konkurranse, tilbud-s-frist, behov-s-kartlegging.
                let left_ends = [
                    Some(end),
                    matches!(chars[end - 1], 's' | 'e').then(|| end - 1),
                ];
                let Some(left_end) = left_ends
                    .into_iter()
                    .flatten()
                    .find(|&e| self.known_range(chars, start, e, lang, memo))
                else {
                    continue;
                };
                let mut parts =
                    vec![self.stem(&chars[start..left_end].iter().collect::<String>(), lang)];
                if self.known_range(chars, end, chars.len(), lang, memo) {
                    parts.push(self.stem(&chars[end..].iter().collect::<String>(), lang));
                } else {
                    let rest = self.split_from(chars, end, lang, memo);
                    if rest.is_empty() {
                        continue;
                    }
                    parts.extend(rest);
                }
                let covered: usize = parts.iter().map(|p| p.chars().count()).sum();
                if best.as_ref().is_none_or(|(c, _)| covered > *c) {
                    best = Some((covered, parts));
                }
            }
        }
        let parts = best.map(|(_, p)| p).unwrap_or_default();
        memo.parts.insert(start, parts.clone());
        parts
    }

    /// Analyse a text of a knowledge entry (index side).
    pub fn analyse_text(&self, text: &str, lang: Lang) -> AnalysedText {
        let folded: Vec<String> = words(text).iter().map(|w| fold(w)).collect();
        let mut out = AnalysedText::default();
        for w in folded {
            if is_stop_word(&w) {
                continue;
            }
            let stem = self.stem(&w, lang);
            for part in self.compound_parts(&w, lang) {
                if part != stem {
                    out.parts.push(part);
                }
            }
            out.terms.push(stem);
        }
        out
    }

    /// [`Analyzer::analyse_text`], remembering each new word's analysis for the texts and
    /// questions that follow (index side: only knowledge text goes through here).
    pub fn analyse_text_memoised(&mut self, text: &str, lang: Lang) -> AnalysedText {
        let mut out = AnalysedText::default();
        for w in words(text) {
            let w = fold(&w);
            if is_stop_word(&w) {
                continue;
            }
            let slot = lang_slot(lang);
            if !self.memo[slot].contains_key(&w) {
                let analysis = WordAnalysis {
                    stem: self.stem(&w, lang),
                    parts: self.compound_parts(&w, lang),
                };
                self.memo[slot].insert(w.clone(), analysis);
            }
            let analysis = &self.memo[slot][&w];
            out.parts.extend(
                analysis
                    .parts
                    .iter()
                    .filter(|p| **p != analysis.stem)
                    .cloned(),
            );
            out.terms.push(analysis.stem.clone());
        }
        out
    }

    /// Analyse a question (query side): content words with their alternatives, in order.
    pub fn analyse_question(&self, text: &str) -> Vec<QueryWord> {
        self.analyse_question_as(text, self.detect_variety(text))
    }

    /// [`Analyzer::analyse_question`] of a text whose variety is known already (this
    /// analyser's [`Analyzer::detect_variety`] of the same text).
    pub fn analyse_question_as(&self, text: &str, variety: Variety) -> Vec<QueryWord> {
        let folded: Vec<String> = words(text).iter().map(|w| fold(w)).collect();
        let english = variety == Variety::En;
        let respelled = self.respell(folded, english);
        let mut content: Vec<String> = Vec::new();
        for w in respelled {
            if !is_stop_word(&w) && !content.contains(&w) {
                content.push(w);
            }
        }
        let remembered = self.question_words.get_all(&content);
        let mut analysed = Vec::new();
        let mut out: Vec<QueryWord> = Vec::with_capacity(content.len());
        for (w, remembered) in content.into_iter().zip(remembered) {
            let alternatives = match remembered {
                Some(alternatives) => alternatives,
                None => {
                    let alternatives = self.word_alternatives(&w);
                    analysed.push((w.clone(), alternatives.clone()));
                    alternatives
                }
            };
            out.push(QueryWord {
                surface: w,
                alternatives,
            });
        }
        self.question_words.remember(analysed);
        self.expand_synonyms(&mut out);
        out
    }

    /// Every term a question word (folded, not a stop word) may stand for in the index:
    /// its stems, its compound parts, and when the knowledge base does not know it, the
    /// known terms one typo away; distinct, best variant first.
    fn word_alternatives(&self, w: &str) -> Alternatives {
        let mut alternatives: Alternatives = Vec::new();
        let push = |term: String, variant: Variant, alts: &mut Alternatives| {
            if !term.is_empty() && !alts.iter().any(|(t, _)| *t == term) {
                alts.push((term, variant));
            }
        };
        for lang in [Lang::Nb, Lang::En] {
            push(self.stem(w, lang), Variant::Exact, &mut alternatives);
        }
        let known = alternatives
            .iter()
            .any(|(t, _)| self.vocabulary.contains(t))
            || self.vocabulary.contains(w);
        for lang in [Lang::Nb, Lang::En] {
            for part in self.compound_parts(w, lang) {
                push(part, Variant::Part, &mut alternatives);
            }
        }
        if !known {
            let mut sources: Vec<String> = vec![w.to_string()];
            sources.extend(
                alternatives
                    .iter()
                    .filter(|(_, v)| *v == Variant::Exact)
                    .map(|(t, _)| t.clone()),
            );
            for source in sources {
                for typo in self.typo_candidates(&source) {
                    push(typo, Variant::Typo, &mut alternatives);
                }
            }
        }
        alternatives
    }

    /// Add glossary synonyms to the words (and word sequences) that belong to a group.
    fn expand_synonyms(&self, words: &mut [QueryWord]) {
        if self.synonym_groups.is_empty() {
            return;
        }
        // Candidate sequences: each word's exact and typo terms, and runs of up to
        // `longest_synonym` consecutive words (their first exact term).
        let firsts: Vec<Vec<String>> = words
            .iter()
            .map(|w| {
                w.alternatives
                    .iter()
                    .filter(|(_, v)| matches!(v, Variant::Exact | Variant::Typo))
                    .map(|(t, _)| t.clone())
                    .collect()
            })
            .collect();
        let mut additions: Vec<(usize, String)> = Vec::new();
        for start in 0..words.len() {
            for len in 1..=self.longest_synonym.min(words.len() - start) {
                let sequences: Vec<Vec<String>> = if len == 1 {
                    firsts[start].iter().map(|t| vec![t.clone()]).collect()
                } else {
                    // Try each language's stems for multi-word terms.
                    (0..2)
                        .filter_map(|k| {
                            (start..start + len)
                                .map(|i| firsts[i].get(k).or(firsts[i].first()).cloned())
                                .collect::<Option<Vec<String>>>()
                        })
                        .collect()
                };
                for seq in sequences {
                    let Some(groups) = self.synonym_index.get(&seq) else {
                        continue;
                    };
                    for &g in groups {
                        for (synonym, expansion) in &self.synonym_groups[g] {
                            if *synonym == seq {
                                continue;
                            }
                            // A multi-word synonym adds each of its words to the first word
                            // of the match; its weight is shared in the query builder.
                            for term in expansion {
                                additions.push((start, term.clone()));
                            }
                        }
                    }
                }
            }
        }
        for (i, term) in additions {
            let alts = &mut words[i].alternatives;
            if !alts.iter().any(|(t, _)| *t == term) {
                alts.push((term, Variant::Synonym));
            }
        }
    }

    /// Known terms within edit distance 1 (words of 5+ letters) or 2 (9+ letters).
    fn typo_candidates(&self, word: &str) -> Vec<String> {
        let len = word.chars().count();
        if len < 5 || self.deletions.is_empty() || word.chars().any(|c| c.is_ascii_digit()) {
            return Vec::new();
        }
        let max = if len >= 9 { 2 } else { 1 };
        let mut keys = deletions_of(word);
        keys.push(word.to_string());
        let mut found: Vec<(usize, String)> = Vec::new();
        for key in keys {
            if let Some(terms) = self.deletions.get(&key) {
                for t in terms {
                    if found.iter().any(|(_, f)| f == t) {
                        continue;
                    }
                    let d = damerau_levenshtein(word, t);
                    if d <= max {
                        found.push((d, t.clone()));
                    }
                }
            }
        }
        found.sort();
        found.into_iter().take(3).map(|(_, t)| t).collect()
    }
}

/// What an analyser learned from the entries, kept beside the index on disk (see
/// [`super::persisted`]); the glossary's part (spelling rules, synonyms) is rebuilt from
/// the glossary, and the typo neighbourhood from the index's terms.
impl Analyzer {
    pub(super) fn encode_learned(&self, e: &mut Encoder) {
        // Sorted, so that the same knowledge always gives the same file.
        for memo in &self.memo {
            let mut words: Vec<(&String, &WordAnalysis)> = memo.iter().collect();
            words.sort_unstable_by_key(|(word, _)| *word);
            e.len(words.len());
            for (word, analysis) in words {
                e.str(word);
                e.str(&analysis.stem);
                e.strings(analysis.parts.iter());
            }
        }
        for set in [&self.vocabulary, &self.english_only, &self.norwegian_only] {
            let mut words: Vec<&String> = set.iter().collect();
            words.sort_unstable();
            e.strings(words.into_iter());
        }
    }

    pub(super) fn decode_learned(
        glossary: &Glossary,
        d: &mut Decoder<impl std::io::Read>,
    ) -> Result<Analyzer, Corrupt> {
        let mut analyzer = Analyzer::new(&KnowledgeBase {
            glossary: glossary.clone(),
            ..Default::default()
        });
        for memo in &mut analyzer.memo {
            let n = d.len(24)?;
            memo.reserve(n);
            for _ in 0..n {
                let word = d.string()?;
                let analysis = WordAnalysis {
                    stem: d.string()?,
                    parts: d.strings()?,
                };
                memo.insert(word, analysis);
            }
        }
        for set in [
            &mut analyzer.vocabulary,
            &mut analyzer.english_only,
            &mut analyzer.norwegian_only,
        ] {
            *set = d.strings()?.into_iter().collect();
        }
        Ok(analyzer)
    }
}

fn deletions_of(word: &str) -> Vec<String> {
    let chars: Vec<char> = word.chars().collect();
    (0..chars.len())
        .map(|i| chars[..i].iter().chain(chars[i + 1..].iter()).collect())
        .collect()
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions, transpositions.
pub fn damerau_levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[n][m]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{Entry, Glossary};

    fn kb(body: &str, glossary: &str) -> KnowledgeBase {
        let entry = Entry::new("x", Lang::Nb, "Rammeavtale", &[], body);
        let (glossary, _) = Glossary::parse(std::path::Path::new("g"), glossary);
        KnowledgeBase {
            entries: vec![entry],
            glossary,
            ..Default::default()
        }
    }

    #[test]
    fn compound_words_split_into_known_parts() {
        let a = Analyzer::new(&kb(
            "En anbud er et tilbud i en konkurranse. Avtale og ramme.",
            "",
        ));
        let parts = a.compound_parts(&fold("anbudskonkurransen"), Lang::Nb);
        assert!(parts.contains(&a.stem("anbud", Lang::Nb)), "{parts:?}");
        assert!(
            parts.contains(&a.stem("konkurranse", Lang::Nb)),
            "{parts:?}"
        );
        assert!(a.compound_parts("xyzqwertyu", Lang::Nb).is_empty());
    }

    #[test]
    fn repeated_known_words_split_in_bounded_time() {
        // Found by the robustness tests: "rammeavtale" × 200 took exponential time (each
        // "ramme"/"rammeavtale" boundary doubled the splits tried) and hung the answerer.
        let a = Analyzer::new(&kb("ramme avtale rammeavtale anbud konkurranse", ""));
        for word in [
            "rammeavtale".repeat(200),
            "rammeavtale".repeat(4),
            "anbuds".repeat(8),
        ] {
            let start = std::time::Instant::now();
            let parts = a.compound_parts(&fold(&word), Lang::Nb);
            assert!(
                start.elapsed() < std::time::Duration::from_secs(1),
                "{word}: {:?}",
                start.elapsed()
            );
            assert!(parts
                .iter()
                .all(|p| p.chars().count() <= word.chars().count()));
        }
        // Within the length limit, repeated words still split.
        assert!(!a
            .compound_parts(&fold(&"rammeavtale".repeat(4)), Lang::Nb)
            .is_empty());
    }

    #[test]
    fn typos_find_known_words() {
        let mut a = Analyzer::new(&kb("kvalifikasjonskrav og dokumentasjon", ""));
        let terms: Vec<String> = a.vocabulary.iter().cloned().collect();
        a.set_index_terms(terms.iter());
        let words = a.analyse_question("dokumentasjn");
        assert!(
            words[0]
                .alternatives
                .iter()
                .any(|(t, v)| *v == Variant::Typo && t.starts_with("dokumentasj")),
            "{words:?}"
        );
    }

    #[test]
    fn spelling_rules_and_synonyms_apply() {
        let a = Analyzer::new(&kb(
            "rammeavtale",
            "rammeavtale, framework agreement\nramavtal => rammeavtale\n",
        ));
        let words = a.analyse_question("Vad är ett ramavtal?");
        let rammeavtale = a.stem("rammeavtale", Lang::Nb);
        assert!(
            words.iter().any(|w| w
                .alternatives
                .iter()
                .any(|(t, v)| *t == rammeavtale && *v == Variant::Exact)),
            "{words:?}"
        );
        assert!(
            words.iter().any(|w| w
                .alternatives
                .iter()
                .any(|(t, v)| t == "framework" && *v == Variant::Synonym)),
            "{words:?}"
        );
    }

    #[test]
    fn edit_distance() {
        assert_eq!(damerau_levenshtein("anbud", "anbdu"), 1);
        assert_eq!(damerau_levenshtein("anbud", "anbud"), 0);
        assert_eq!(damerau_levenshtein("kommune", "komune"), 1);
    }
}
