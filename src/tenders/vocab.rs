//! The words and places of `config/tenders.toml`: regions (NUTS codes, and the buyers that
//! stand for a municipality), topics (words → CPV codes), the words that tell a question
//! asks for actual notices, and those that mark a market dialogue. Data, not code: edit
//! the file.

use std::sync::LazyLock;

use serde::Deserialize;

use super::model::{CpvCode, Kind, Nuts};
use crate::search::analysis::{fold, words};

const BUNDLED: &str = include_str!("../../config/tenders.toml");

/// A region a user may name: a county by its NUTS codes, a municipality by its buyers.
#[derive(Debug, Clone)]
pub struct Region {
    /// The first of its names, as written in the file.
    pub name: String,
    names: Vec<Vec<String>>,
    /// Lower-cased (not folded) names, for questions: "ås" is a place, "as" is not.
    question_names: Vec<Vec<String>>,
    pub nuts: Vec<Nuts>,
    buyers: Vec<Vec<String>>,
}

impl Region {
    /// Whether a notice with these location codes and buyers lies in the region.
    pub fn contains(&self, regions: &[Nuts], buyers: &[String]) -> bool {
        regions
            .iter()
            .any(|r| self.nuts.iter().any(|n| r.within(n)))
            || buyers.iter().any(|b| {
                let folded = folded_words(b);
                self.buyers
                    .iter()
                    .any(|p| contains_sequence(&folded, p, false))
            })
    }
}

/// A topic a question may name, and how a notice is found for it.
#[derive(Debug, Clone)]
pub struct Topic {
    words: Vec<Vec<String>>,
    pub cpv: Vec<CpvCode>,
    /// Folded Norwegian word beginnings looked for in title and description.
    pub text: Vec<String>,
}

/// The parsed `config/tenders.toml`.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    pub regions: Vec<Region>,
    pub topics: Vec<Topic>,
    nouns: Vec<Vec<String>>,
    cues: Vec<String>,
    dialogue_words: Vec<Vec<String>>,
    open_words: Vec<Vec<String>>,
    planned_words: Vec<Vec<String>>,
    dialogue_text: Vec<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVocabulary {
    region: Vec<RawRegion>,
    topic: Vec<RawTopic>,
    asking: RawAsking,
    kind_words: RawKindWords,
    dialogue_text: RawWords,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegion {
    names: Vec<String>,
    #[serde(default)]
    nuts: Vec<String>,
    #[serde(default)]
    buyers: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    words: Vec<String>,
    cpv: Vec<String>,
    text: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsking {
    nouns: Vec<String>,
    cues: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKindWords {
    dialogue: Vec<String>,
    open: Vec<String>,
    planned: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWords {
    words: Vec<String>,
}

fn folded_words(text: &str) -> Vec<String> {
    words(text).iter().map(|w| fold(w)).collect()
}

/// Whether `phrase` occurs in `text` as consecutive words; with `prefix`, each word of
/// the phrase may be the beginning of the text's word ("markedsdialog" in
/// "markedsdialoger").
fn contains_sequence(text: &[String], phrase: &[String], prefix: bool) -> bool {
    if phrase.is_empty() || phrase.len() > text.len() {
        return false;
    }
    text.windows(phrase.len()).any(|window| {
        window.iter().zip(phrase).all(|(t, p)| {
            if prefix {
                t.starts_with(p.as_str())
            } else {
                t == p
            }
        })
    })
}

impl Vocabulary {
    /// The vocabulary compiled into the binary.
    pub fn bundled() -> &'static Vocabulary {
        static BUNDLED_VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
            Vocabulary::parse(BUNDLED).expect("the bundled config/tenders.toml is valid")
        });
        &BUNDLED_VOCABULARY
    }

    /// Parse a vocabulary file; every bad NUTS or CPV code is named.
    pub fn parse(text: &str) -> Result<Vocabulary, String> {
        let raw: RawVocabulary = toml::from_str(text).map_err(|e| e.to_string())?;
        let phrases = |list: &[String]| list.iter().map(|p| folded_words(p)).collect();
        let mut regions = Vec::new();
        for r in raw.region {
            let nuts = r
                .nuts
                .iter()
                .map(|n| {
                    Nuts::parse(n)
                        .ok_or_else(|| format!("region {:?}: bad NUTS code {n:?}", r.names))
                })
                .collect::<Result<Vec<_>, _>>()?;
            regions.push(Region {
                name: r.names.first().cloned().unwrap_or_default(),
                names: phrases(&r.names),
                question_names: r.names.iter().map(|n| words(n)).collect(),
                nuts,
                buyers: phrases(&r.buyers),
            });
        }
        let mut topics = Vec::new();
        for t in raw.topic {
            let cpv = t
                .cpv
                .iter()
                .map(|c| {
                    CpvCode::parse(c)
                        .ok_or_else(|| format!("topic {:?}: bad CPV code {c:?}", t.words))
                })
                .collect::<Result<Vec<_>, _>>()?;
            topics.push(Topic {
                words: phrases(&t.words),
                cpv,
                text: t.text.iter().map(|w| fold(&w.to_lowercase())).collect(),
            });
        }
        Ok(Vocabulary {
            regions,
            topics,
            nouns: phrases(&raw.asking.nouns),
            cues: raw.asking.cues.iter().map(|c| fold(c)).collect(),
            dialogue_words: phrases(&raw.kind_words.dialogue),
            open_words: phrases(&raw.kind_words.open),
            planned_words: phrases(&raw.kind_words.planned),
            dialogue_text: phrases(&raw.dialogue_text.words),
        })
    }

    /// Whether a notice's text says it is a market dialogue.
    pub fn says_dialogue(&self, text: &str) -> bool {
        let text = folded_words(text);
        self.dialogue_text
            .iter()
            .any(|p| contains_sequence(&text, p, true))
    }

    /// The region a user named (`--region`, `/tenders region:`): a name of the file,
    /// folded, or a NUTS code ("NO084"), which stands for itself and the codes within it.
    pub fn region_named(&self, name: &str) -> Option<Region> {
        let folded = folded_words(name);
        if let Some(r) = self.regions.iter().find(|r| r.names.contains(&folded)) {
            return Some(r.clone());
        }
        let nuts =
            Nuts::parse(name).filter(|n| n.as_str().starts_with("NO") || n.as_str().len() == 5)?;
        Some(Region {
            name: nuts.as_str().to_string(),
            names: vec![vec![fold(nuts.as_str())]],
            question_names: Vec::new(),
            nuts: vec![nuts],
            buyers: Vec::new(),
        })
    }

    /// The regions a question names, the longest name first ("Nordre Follo", not
    /// "Follo"), each once.
    pub fn regions_in(&self, question: &str) -> Vec<Region> {
        let mut text = words(question);
        let mut named: Vec<(&Region, &Vec<String>)> = self
            .regions
            .iter()
            .flat_map(|r| r.question_names.iter().map(move |n| (r, n)))
            .collect();
        named.sort_by_key(|(_, n)| std::cmp::Reverse(n.len()));
        let mut found: Vec<Region> = Vec::new();
        for (region, name) in named {
            let Some(at) = (0..text.len().saturating_sub(name.len() - 1))
                .find(|&i| text[i..i + name.len()] == name[..])
            else {
                continue;
            };
            // Used up: "Follo" inside "Nordre Follo" is not a second region.
            for w in &mut text[at..at + name.len()] {
                w.clear();
            }
            if !found.iter().any(|r| r.name == region.name) {
                found.push(region.clone());
            }
        }
        found
    }

    /// The topics a question names ("renhold", "cleaning", "IKT").
    pub fn topics_in(&self, question: &str) -> Vec<Topic> {
        let text = folded_words(question);
        self.topics
            .iter()
            .filter(|t| t.words.iter().any(|p| contains_sequence(&text, p, true)))
            .cloned()
            .collect()
    }

    /// The one kind a question asks for, if it names exactly one.
    pub fn kind_in(&self, question: &str) -> Option<Kind> {
        let text = folded_words(question);
        let has = |list: &[Vec<String>]| list.iter().any(|p| contains_sequence(&text, p, true));
        let kinds: Vec<Kind> = [
            (Kind::Dialogue, has(&self.dialogue_words)),
            (Kind::Open, has(&self.open_words)),
            (Kind::Planned, has(&self.planned_words)),
        ]
        .into_iter()
        .filter_map(|(k, yes)| yes.then_some(k))
        .collect();
        match kinds[..] {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Whether a question asks for actual notices: it names a kind of notice and a cue
    /// that it wants current ones, a region or a topic.
    pub fn asks_for_notices(&self, question: &str) -> bool {
        let text = folded_words(question);
        let noun = self.nouns.iter().any(|p| contains_sequence(&text, p, true));
        if !noun {
            return false;
        }
        let cue = text.iter().any(|w| self.cues.contains(w));
        cue || !self.regions_in(question).is_empty() || !self.topics_in(question).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_file_parses() {
        let v = Vocabulary::bundled();
        assert!(v.regions.len() >= 10);
        assert!(!v.topics.is_empty());
    }

    #[test]
    fn questions_for_notices_are_told_from_questions_about_tendering() {
        let v = Vocabulary::bundled();
        for q in [
            "hvilke anbud kommer i Nordre Follo?",
            "upcoming cleaning tenders in Akershus",
            "er det noen markedsdialoger om IKT nå?",
            "Finnes det åpne konkurranser innen renhold?",
        ] {
            assert!(v.asks_for_notices(q), "{q}");
        }
        for q in [
            "Hvordan skriver jeg et godt anbud?",
            "Hva er en markedsdialog?",
            "What is a framework agreement?",
            "How do I write a tender?",
        ] {
            assert!(!v.asks_for_notices(q), "{q}");
        }
    }

    #[test]
    fn regions_are_found_longest_first_and_as_is_not_as() {
        let v = Vocabulary::bundled();
        let names = |q: &str| {
            v.regions_in(q)
                .into_iter()
                .map(|r| r.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("hvilke anbud kommer i Nordre Follo?"),
            ["Nordre Follo"]
        );
        let mut both = names("anbud i Follo og Oslo");
        both.sort();
        assert_eq!(both, ["Follo", "Oslo"]);
        assert_eq!(names("anbud i Ås"), ["Ås"]);
        assert!(names("tenders as a small firm").is_empty());
        assert!(v.region_named("follo").is_some());
        assert!(v.region_named("as").is_some(), "folded on the command line");
        assert_eq!(v.region_named("NO084").unwrap().nuts[0].as_str(), "NO084");
        assert!(v.region_named("Narnia").is_none());
    }

    #[test]
    fn follo_is_found_by_its_buyers_and_akershus_by_its_codes() {
        let v = Vocabulary::bundled();
        let follo = v.region_named("Follo").unwrap();
        assert!(follo.contains(&[], &["Nordre Follo kommune".into()]));
        assert!(follo.contains(&[], &["Ås kommune".into()]));
        assert!(!follo.contains(&[Nuts::parse("NO081").unwrap()], &["Oslo kommune".into()]));
        let akershus = v.region_named("akershus").unwrap();
        assert!(akershus.contains(&[Nuts::parse("NO084").unwrap()], &[]));
        assert!(akershus.contains(&[Nuts::parse("NO082").unwrap()], &[]));
    }

    #[test]
    fn kinds_and_dialogue_text() {
        let v = Vocabulary::bundled();
        assert_eq!(
            v.kind_in("er det noen markedsdialoger om IKT nå?"),
            Some(Kind::Dialogue)
        );
        assert_eq!(v.kind_in("open tenders in Oslo"), Some(Kind::Open));
        assert_eq!(v.kind_in("hvilke anbud kommer"), None);
        assert!(v.says_dialogue("Invitasjon til dialogkonferanse om renhold"));
        assert!(!v.says_dialogue("Rammeavtale renhold"));
    }
}
