//! Synthetic knowledge bases for measuring speed, memory and scale.
//!
//! [`generate`] recombines a real knowledge base (normally the bundled `knowledge/`) into
//! any number of entries: each synthetic entry takes a bundled topic (its title, example
//! questions, keywords, sources and most of its body), narrows it to a sector, a place and
//! a situation ("cleaning in Ås, for small businesses"), and borrows a paragraph from
//! another topic. Every entry exists in both languages, so `N` entries are `N` ids and
//! `2 × N` files. The text is real Norwegian and English procurement prose, so analysis,
//! compound splitting, typo look-up and the index see realistic vocabularies and lengths.
//!
//! It also makes a question set: example questions of random entries, perturbed the way
//! people type (lower case, a dropped word, a swapped letter, a glossary synonym), each with
//! the id it came from, plus some out-of-scope questions that should be abstained.
//!
//! Everything is deterministic in the seed: the same source, size and seed give the same
//! files on every machine.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;

use crate::knowledge::{Entry, KnowledgeBase, Lang};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthOptions {
    /// Number of entry ids; each has a Bokmål and an English entry.
    pub entries: usize,
    /// The PRNG seed.
    pub seed: u64,
    /// Number of questions in the question set.
    pub questions: usize,
}

/// One question of the synthetic question set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthQuestion {
    /// The id the question was made from; `None` for an out-of-scope question.
    pub expected: Option<String>,
    pub lang: Lang,
    pub text: String,
}

/// A generated knowledge base and the questions that go with it.
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub kb: KnowledgeBase,
    pub questions: Vec<SynthQuestion>,
}

/// Why a synthetic knowledge base could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("the source knowledge base has no entry in both languages to recombine")]
    NoSource,
    #[error("{asked} entries asked for; at most {max} can be made distinct from this source")]
    TooMany { asked: usize, max: usize },
}

/// A tiny deterministic PRNG (splitmix64): good enough to pick and shuffle, no dependency.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        // The modulo bias is far below anything a benchmark could notice.
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Sectors a purchase is in: (Bokmål, English).
const SECTORS: &[(&str, &str)] = &[
    ("renhold", "cleaning"),
    ("bygg og anlegg", "construction"),
    ("IKT-tjenester", "IT services"),
    ("helse og omsorg", "health and care"),
    ("persontransport", "passenger transport"),
    ("matvarer", "food supplies"),
    ("konsulenttjenester", "consultancy"),
    ("veivedlikehold", "road maintenance"),
    ("skoleskyss", "school transport"),
    ("møbler og inventar", "furniture"),
    ("energi", "energy"),
    ("avfallshåndtering", "waste management"),
    ("brøyting", "snow clearing"),
    ("kantinedrift", "canteen services"),
    ("vikartjenester", "temporary staffing"),
    ("arkitekttjenester", "architecture services"),
    ("elektroarbeid", "electrical work"),
    ("rørleggerarbeid", "plumbing"),
    ("grøntanlegg", "landscaping"),
    ("vakthold", "security services"),
    ("trykksaker", "printing"),
    ("kontorrekvisita", "office supplies"),
    ("legemidler", "medicines"),
    ("kjøretøy", "vehicles"),
];

/// Places (the same in both languages).
const PLACES: &[&str] = &[
    "Ski",
    "Ås",
    "Frogn",
    "Nesodden",
    "Vestby",
    "Enebakk",
    "Nordre Follo",
    "Oslo",
    "Bærum",
    "Asker",
    "Lillestrøm",
    "Drammen",
    "Moss",
    "Fredrikstad",
    "Sarpsborg",
    "Halden",
    "Hamar",
    "Lillehammer",
    "Gjøvik",
    "Tønsberg",
    "Sandefjord",
    "Larvik",
    "Skien",
    "Porsgrunn",
    "Kristiansand",
    "Arendal",
    "Stavanger",
    "Sandnes",
    "Haugesund",
    "Bergen",
    "Ålesund",
    "Molde",
    "Trondheim",
    "Bodø",
    "Tromsø",
    "Alta",
];

/// Situations: (Bokmål, English).
const FACETS: &[(&str, &str)] = &[
    ("for små bedrifter", "for small businesses"),
    ("ved rammeavtaler", "for framework agreements"),
    (
        "under nasjonal terskelverdi",
        "below the national threshold",
    ),
    ("over EØS-terskelverdiene", "above the EEA thresholds"),
    ("for nyetablerte firma", "for newly started companies"),
    ("med underleverandører", "with subcontractors"),
    ("i et leverandørsamarbeid", "in a joint bid"),
    ("med miljøkrav", "with environmental requirements"),
];

/// Questions no entry answers: (Bokmål, English).
const OUT_OF_SCOPE: &[(&str, &str)] = &[
    (
        "Hvordan blir været i Bergen i morgen?",
        "What is the weather in Bergen tomorrow?",
    ),
    (
        "Hvem vant fotballkampen i går?",
        "Who won the football match yesterday?",
    ),
    (
        "Kan du anbefale en god pizzarestaurant?",
        "Can you recommend a good pizza restaurant?",
    ),
    (
        "Hvordan bytter jeg dekk på bilen?",
        "How do I change the tyres on my car?",
    ),
    (
        "Hva koster en flybillett til Spania?",
        "How much is a plane ticket to Spain?",
    ),
    (
        "Hvordan lager jeg surdeigsbrød?",
        "How do I bake sourdough bread?",
    ),
    (
        "Når åpner svømmehallen på lørdag?",
        "When does the swimming pool open on Saturday?",
    ),
    (
        "Hvordan installerer jeg en skriver?",
        "How do I install a printer?",
    ),
];

/// A bundled topic in both languages.
struct Base<'a> {
    nb: &'a Entry,
    en: &'a Entry,
}

impl<'a> Base<'a> {
    fn get(&self, lang: Lang) -> &'a Entry {
        match lang {
            Lang::Nb => self.nb,
            Lang::En => self.en,
        }
    }
}

/// The largest number of distinct entries `source` gives: every topic × sector × place ×
/// situation, and a margin so that drawing distinct combinations stays quick.
pub fn max_entries(source: &KnowledgeBase) -> usize {
    let topics = crate::knowledge::by_id(&source.entries)
        .values()
        .filter(|group| {
            [Lang::Nb, Lang::En]
                .iter()
                .all(|l| group.iter().any(|e| e.lang == *l && e.event.is_none()))
        })
        .count();
    topics * SECTORS.len() * PLACES.len() * FACETS.len() / 2
}

/// Generate `options.entries` entries (ids, each in both languages) and the question set
/// by recombining `source`. Pure: no files are read or written.
pub fn generate(source: &KnowledgeBase, options: SynthOptions) -> Result<Synthetic, SynthError> {
    let bases: Vec<Base> = crate::knowledge::by_id(&source.entries)
        .into_values()
        .filter_map(|group| {
            let pick = |lang| {
                group
                    .iter()
                    .copied()
                    .find(|e: &&Entry| e.lang == lang && e.event.is_none())
            };
            Some(Base {
                nb: pick(Lang::Nb)?,
                en: pick(Lang::En)?,
            })
        })
        .collect();
    if bases.is_empty() {
        return Err(SynthError::NoSource);
    }
    let max = max_entries(source);
    if options.entries > max {
        return Err(SynthError::TooMany {
            asked: options.entries,
            max,
        });
    }
    let mut rng = SplitMix64::new(options.seed);
    let mut used: HashSet<(usize, usize, usize, usize)> = HashSet::with_capacity(options.entries);
    let mut ids: Vec<String> = Vec::with_capacity(options.entries);
    let mut entries: Vec<Entry> = Vec::with_capacity(2 * options.entries);
    for i in 0..options.entries {
        let combo = loop {
            let c = (
                rng.below(bases.len()),
                rng.below(SECTORS.len()),
                rng.below(PLACES.len()),
                rng.below(FACETS.len()),
            );
            if used.insert(c) {
                break c;
            }
        };
        let (b, s, p, f) = combo;
        let base = &bases[b];
        let id = format!("s{i:05}-{}", base.nb.id);
        // A paragraph from another topic, and "see also" links to earlier entries.
        let donor = &bases[rng.below(bases.len())];
        let related: Vec<String> = if i == 0 {
            Vec::new()
        } else {
            (0..1 + rng.below(2))
                .map(|_| ids[rng.below(i)].clone())
                .collect::<HashSet<_>>()
                .into_iter()
                .collect()
        };
        let mut related = related;
        related.sort();
        let keep_seed = rng.next_u64();
        for lang in [Lang::Nb, Lang::En] {
            let mut local = SplitMix64::new(keep_seed);
            entries.push(make_entry(
                &id,
                lang,
                base.get(lang),
                donor.get(lang),
                (s, p, f),
                &related,
                &mut local,
            ));
        }
        ids.push(id);
    }
    let mut kb = KnowledgeBase {
        entries,
        glossary: source.glossary.clone(),
        referrals: Vec::new(),
        calibration: source.calibration.clone(),
    };
    kb.entries
        .sort_by(|a, b| (a.id.as_str(), a.lang).cmp(&(b.id.as_str(), b.lang)));
    let questions = make_questions(&kb, options.questions, &mut rng);
    Ok(Synthetic { kb, questions })
}

fn make_entry(
    id: &str,
    lang: Lang,
    base: &Entry,
    donor: &Entry,
    (s, p, f): (usize, usize, usize),
    related: &[String],
    rng: &mut SplitMix64,
) -> Entry {
    let (sector, place, facet) = match lang {
        Lang::Nb => (SECTORS[s].0, PLACES[p], FACETS[f].0),
        Lang::En => (SECTORS[s].1, PLACES[p], FACETS[f].1),
    };
    let (title, context, about) = match lang {
        Lang::Nb => (
            format!("{} – {sector} i {place} {facet}", base.title),
            format!("Dette gjelder {sector} i {place} kommune {facet}."),
            format!("Det gjelder {sector} i {place} {facet}."),
        ),
        Lang::En => (
            format!("{} – {sector} in {place} {facet}", base.title),
            format!("This applies to {sector} in {place} municipality {facet}."),
            format!("It is about {sector} in {place} {facet}."),
        ),
    };
    // Example questions: most of the topic's own, each narrowed to the situation, and one
    // typed like a search.
    let mut questions: Vec<String> = base
        .questions
        .iter()
        .filter(|_| rng.chance(0.7))
        .map(|q| format!("{q} {about}"))
        .collect();
    for q in &base.questions {
        if questions.len() >= crate::knowledge::MIN_QUESTIONS - 1 {
            break;
        }
        let q = format!("{q} {about}");
        if !questions.contains(&q) {
            questions.push(q);
        }
    }
    let keyword = base.keywords.first().unwrap_or(base.title.as_str());
    questions.push(format!("{keyword} {sector} {place}").to_lowercase());
    let mut keywords: Vec<String> = base.keywords.iter().take(6).map(str::to_string).collect();
    keywords.push(sector.to_string());
    keywords.push(place.to_string());
    // The body: the direct answer narrowed to the situation, most of the topic's detail,
    // and one paragraph from another topic.
    let base_body = base.body_text();
    let mut paragraphs: Vec<&str> = base_body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    let summary = paragraphs.first().copied().unwrap_or("");
    // Keep the direct answer short enough for the first chat message (lint warns at 700).
    let mut body = if context.chars().count() + summary.chars().count() < 680 {
        format!("{context} {summary}")
    } else {
        format!("{summary}\n\n{context}")
    };
    for para in paragraphs.drain(..).skip(1) {
        if rng.chance(0.75) {
            body.push_str("\n\n");
            body.push_str(para);
        }
    }
    let donor_body = donor.body_text();
    let donor_paragraphs: Vec<&str> = donor_body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .skip(1)
        .collect();
    if !donor_paragraphs.is_empty() {
        body.push_str("\n\n");
        let paragraph = *rng.pick(&donor_paragraphs);
        body.push_str(paragraph);
    }
    Entry {
        id: id.to_string(),
        lang,
        title,
        questions: questions.into(),
        keywords: keywords.into(),
        related: related.to_vec(),
        reviewed: base.reviewed,
        sources: base.sources.clone(),
        facts: base.facts.clone(),
        body: body.into(),
        event: None,
        path: None,
    }
}

fn make_questions(kb: &KnowledgeBase, count: usize, rng: &mut SplitMix64) -> Vec<SynthQuestion> {
    // Single-word glossary synonyms, for swapping a word the way another user would say it.
    let synonyms: Vec<&Vec<String>> = kb
        .glossary
        .groups
        .iter()
        .filter(|g| g.iter().filter(|t| !t.contains(' ')).count() >= 2)
        .collect();
    let mut out = Vec::with_capacity(count);
    if kb.entries.is_empty() {
        return out;
    }
    for _ in 0..count {
        if rng.chance(0.1) {
            let (nb, en) = *rng.pick(OUT_OF_SCOPE);
            let lang = if rng.chance(0.5) { Lang::Nb } else { Lang::En };
            let text = perturb(if lang == Lang::Nb { nb } else { en }, &synonyms, rng);
            out.push(SynthQuestion {
                expected: None,
                lang,
                text,
            });
            continue;
        }
        let entry = rng.pick(&kb.entries);
        let question = &entry.questions[rng.below(entry.questions.len())];
        out.push(SynthQuestion {
            expected: Some(entry.id.clone()),
            lang: entry.lang,
            text: perturb(question, &synonyms, rng),
        });
    }
    out
}

/// Change a question the way people type: one or two of lower case, no question mark, a
/// dropped word, two letters swapped in a long word, a word replaced by a synonym.
fn perturb(question: &str, synonyms: &[&Vec<String>], rng: &mut SplitMix64) -> String {
    let mut words: Vec<String> = question.split_whitespace().map(str::to_string).collect();
    for _ in 0..1 + rng.below(2) {
        match rng.below(5) {
            0 => words.iter_mut().for_each(|w| *w = w.to_lowercase()),
            1 => {
                if let Some(last) = words.last_mut() {
                    *last = last.trim_end_matches('?').to_string();
                }
            }
            2 if words.len() > 4 => {
                let i = rng.below(words.len());
                words.remove(i);
            }
            3 => {
                let long: Vec<usize> = (0..words.len())
                    .filter(|&i| {
                        words[i].chars().all(char::is_alphabetic) && words[i].chars().count() >= 6
                    })
                    .collect();
                if !long.is_empty() {
                    let i = *rng.pick(&long);
                    let mut chars: Vec<char> = words[i].chars().collect();
                    let at = 1 + rng.below(chars.len() - 3);
                    chars.swap(at, at + 1);
                    words[i] = chars.into_iter().collect();
                }
            }
            _ => {
                for (i, w) in words.iter().enumerate() {
                    let bare = w
                        .trim_matches(|c: char| !c.is_alphanumeric())
                        .to_lowercase();
                    if let Some(group) = synonyms.iter().find(|g| g.contains(&bare)) {
                        let single: Vec<&String> = group
                            .iter()
                            .filter(|t| !t.contains(' ') && **t != bare)
                            .collect();
                        if !single.is_empty() {
                            words[i] = rng.pick(&single).to_string();
                            break;
                        }
                    }
                }
            }
        }
    }
    words.join(" ")
}

/// Write a synthetic knowledge base as a knowledge folder: `entries/ID.LANG.md`,
/// `glossary.txt`, and the question set as `questions.tsv` (expected id or `-`, language,
/// question) and `questions.txt` (one question per line, for `anbud ask --format json`).
pub fn write_dir(synthetic: &Synthetic, dir: &Path) -> anyhow::Result<()> {
    let entries = dir.join("entries");
    std::fs::create_dir_all(&entries).with_context(|| format!("creating {}", entries.display()))?;
    for e in &synthetic.kb.entries {
        let path = entries.join(format!("{}.{}.md", e.id, e.lang.code()));
        std::fs::write(&path, e.to_markdown())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let glossary = dir.join("glossary.txt");
    std::fs::write(&glossary, synthetic.kb.glossary.to_text())
        .with_context(|| format!("writing {}", glossary.display()))?;
    let mut tsv = String::from("expected\tlang\tquestion\n");
    let mut txt = String::new();
    for q in &synthetic.questions {
        let text = q.text.replace(['\t', '\n'], " ");
        tsv.push_str(&format!(
            "{}\t{}\t{text}\n",
            q.expected.as_deref().unwrap_or("-"),
            q.lang
        ));
        txt.push_str(&text);
        txt.push('\n');
    }
    std::fs::write(dir.join("questions.tsv"), tsv).context("writing questions.tsv")?;
    std::fs::write(dir.join("questions.txt"), txt).context("writing questions.txt")?;
    Ok(())
}

/// The bundled knowledge base, the source that tests generate synthetic bases from.
#[cfg(test)]
pub(crate) fn bundled() -> KnowledgeBase {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    crate::knowledge::load_dir(&dir)
        .expect("the bundled knowledge base loads")
        .0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_base() {
        let source = bundled();
        let options = SynthOptions {
            entries: 50,
            seed: 7,
            questions: 20,
        };
        let a = generate(&source, options).unwrap();
        let b = generate(&source, options).unwrap();
        assert_eq!(a.kb.entries, b.kb.entries);
        assert_eq!(a.questions, b.questions);
        let c = generate(&source, SynthOptions { seed: 8, ..options }).unwrap();
        assert_ne!(a.kb.entries, c.kb.entries);
    }

    #[test]
    fn written_files_load_and_lint_clean() {
        let source = bundled();
        let synthetic = generate(
            &source,
            SynthOptions {
                entries: 40,
                seed: 1,
                questions: 30,
            },
        )
        .unwrap();
        assert_eq!(synthetic.kb.entries.len(), 80, "two languages per id");
        assert_eq!(synthetic.questions.len(), 30);
        let dir = tempfile::tempdir().unwrap();
        write_dir(&synthetic, dir.path()).unwrap();
        let (loaded, problems) = crate::knowledge::load_dir(dir.path()).unwrap();
        let warnings: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(warnings.is_empty(), "{warnings:#?}");
        assert_eq!(loaded.ids().len(), 40);
        assert_eq!(loaded.glossary.groups, source.glossary.groups);
        assert_eq!(loaded.glossary.rules, source.glossary.rules);
        let lines = std::fs::read_to_string(dir.path().join("questions.txt")).unwrap();
        assert_eq!(lines.lines().count(), 30);
    }

    #[test]
    fn questions_name_existing_ids() {
        let synthetic = generate(
            &bundled(),
            SynthOptions {
                entries: 30,
                seed: 3,
                questions: 100,
            },
        )
        .unwrap();
        let ids = synthetic.kb.ids();
        assert!(synthetic
            .questions
            .iter()
            .filter_map(|q| q.expected.as_deref())
            .all(|id| ids.contains(id)));
        assert!(synthetic.questions.iter().any(|q| q.expected.is_none()));
    }

    #[test]
    fn asking_for_too_many_is_an_error() {
        let source = bundled();
        let err = generate(
            &source,
            SynthOptions {
                entries: max_entries(&source) + 1,
                seed: 0,
                questions: 0,
            },
        );
        assert!(matches!(err, Err(SynthError::TooMany { .. })));
    }
}
