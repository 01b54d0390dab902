//! One knowledge file: TOML front matter between `+++` lines, then Markdown.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::body::Body;
use super::lint::Problem;
use super::texts::TextList;

/// The two languages anbud answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Norwegian Bokmål (the default when a question gives no clue).
    Nb,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nb => "nb",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "nb" | "no" | "nob" | "nn" => Some(Lang::Nb),
            "en" | "eng" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Nb => Lang::En,
            Lang::En => Lang::Nb,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Where an entry's facts come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Shared (`Arc<str>`): many entries cite the same source, and a knowledge base read
    /// from its cache keeps one copy of each (see `knowledge::cache`).
    pub name: Arc<str>,
    pub url: Arc<str>,
}

/// A figure that changes over time (an amount, a threshold, a percentage, a deadline),
/// with the date it was last checked against its source: `[[facts]]` in the front
/// matter. `kb lint` warns when a figure in the body has no such date, and when the
/// date is older than `knowledge.review_after_days`; `kb review` lists them by age.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    /// The statement as checked, with its figure: "National threshold: NOK 1.3 million".
    /// Shared, as [`Source`]'s texts are.
    pub text: Arc<str>,
    /// When it was last checked against `source`.
    pub checked: NaiveDate,
    /// Where to check it: the most specific public page (or a named document).
    pub source: Arc<str>,
    /// The line of its `[[facts]]` table in the file, for lint messages.
    #[serde(skip)]
    pub line: Option<usize>,
}

/// Two facts are the same statement, checked the same day against the same source,
/// wherever in a file they stand.
impl PartialEq for Fact {
    fn eq(&self, other: &Fact) -> bool {
        (&self.text, self.checked, &self.source) == (&other.text, other.checked, &other.source)
    }
}

/// The facts of an event (a conference, a dialogue meeting). Times are local, Europe/Oslo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventInfo {
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    pub venue: String,
    pub address: Option<String>,
    pub registration_url: Option<String>,
    pub organiser: Option<String>,
    pub audience: Option<String>,
}

/// One knowledge entry in one language.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The topic id, shared by the entry's two languages.
    pub id: String,
    pub lang: Lang,
    pub title: String,
    /// Example questions: how people ask for this entry.
    pub questions: TextList,
    pub keywords: TextList,
    pub related: Vec<String>,
    pub reviewed: NaiveDate,
    pub sources: Vec<Source>,
    /// Figures with the date each was checked (`[[facts]]`).
    pub facts: Vec<Fact>,
    /// The answer, Markdown. Its first paragraph answers the question on its own. Read it
    /// with [`Entry::body_text`]: an entry taken from the cache of parsed files leaves it
    /// there (see [`super::body`]).
    pub body: Body,
    pub event: Option<EventInfo>,
    /// The file it came from; `None` for entries taught by advisers through the database.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

impl Entry {
    /// A minimal entry, for tests and for entries built in code.
    pub fn new(id: &str, lang: Lang, title: &str, questions: &[&str], body: &str) -> Entry {
        Entry {
            id: id.into(),
            lang,
            title: title.into(),
            questions: questions.iter().collect(),
            keywords: TextList::new(),
            related: Vec::new(),
            reviewed: NaiveDate::default(),
            sources: Vec::new(),
            facts: Vec::new(),
            body: Body::from(body),
            event: None,
            path: None,
        }
    }

    /// The first paragraph of the body: the direct answer.
    pub fn summary(&self) -> Cow<'_, str> {
        match self.body_text() {
            Cow::Borrowed(body) => Cow::Borrowed(first_paragraph(body)),
            Cow::Owned(body) => Cow::Owned(first_paragraph(&body).to_string()),
        }
    }

    /// Write the entry in the knowledge file format (for `kb export --format markdown`).
    ///
    /// Written by hand rather than with `toml::to_string_pretty`: that writes a text with
    /// line breaks as a multi-line string, and a line of it reading `+++` (a learned
    /// question can hold anything) would end the front matter early. Here every string
    /// is a one-line basic string, so no line of the front matter can be a fence.
    pub fn to_markdown(&self) -> String {
        let mut front = String::new();
        let mut line = |key: &str, value: String| front.push_str(&format!("{key} = {value}\n"));
        line("id", toml_string(&self.id));
        line("lang", toml_string(self.lang.code()));
        line("title", toml_string(&self.title));
        line("questions", toml_array(&self.questions));
        line("keywords", toml_array(&self.keywords));
        if !self.related.is_empty() {
            line(
                "related",
                toml_array(self.related.iter().map(String::as_str)),
            );
        }
        line(
            "reviewed",
            toml_string(&self.reviewed.format("%Y-%m-%d").to_string()),
        );
        if let Some(event) = &self.event {
            front.push_str("\n[event]\n");
            front.push_str(&format!(
                "start = {}\n",
                toml_string(&event.start.format("%Y-%m-%d %H:%M").to_string())
            ));
            front.push_str(&format!(
                "end = {}\n",
                toml_string(&event.end.format("%Y-%m-%d %H:%M").to_string())
            ));
            front.push_str(&format!("venue = {}\n", toml_string(&event.venue)));
            for (key, value) in [
                ("address", &event.address),
                ("registration_url", &event.registration_url),
                ("organiser", &event.organiser),
                ("audience", &event.audience),
            ] {
                if let Some(v) = value {
                    front.push_str(&format!("{key} = {}\n", toml_string(v)));
                }
            }
        }
        for source in &self.sources {
            front.push_str(&format!(
                "\n[[sources]]\nname = {}\nurl = {}\n",
                toml_string(&source.name),
                toml_string(&source.url)
            ));
        }
        for fact in &self.facts {
            front.push_str(&format!(
                "\n[[facts]]\ntext = {}\nchecked = {}\nsource = {}\n",
                toml_string(&fact.text),
                toml_string(&fact.checked.format("%Y-%m-%d").to_string()),
                toml_string(&fact.source)
            ));
        }
        format!("+++\n{front}+++\n{}\n", self.body_text().trim())
    }
}

/// The first paragraph of a body that has text.
fn first_paragraph(body: &str) -> &str {
    body.split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty())
        .unwrap_or("")
}

/// A TOML basic string on one line: quotes, backslashes and every control character
/// but tab escaped.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML array of strings: one line when short, else one item per line.
fn toml_array<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = items.into_iter().map(toml_string).collect();
    if quoted.len() < 2 {
        return format!("[{}]", quoted.join(", "));
    }
    let mut out = String::from("[\n");
    for q in quoted {
        out.push_str(&format!("    {q},\n"));
    }
    out.push(']');
    out
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Option<String>,
    lang: Option<String>,
    title: Option<String>,
    questions: Option<Vec<String>>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    related: Vec<String>,
    reviewed: Option<toml::Value>,
    sources: Option<Vec<Source>>,
    #[serde(default)]
    facts: Vec<RawFact>,
    event: Option<RawEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFact {
    text: Option<String>,
    checked: Option<toml::Value>,
    source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    start: Option<toml::Value>,
    end: Option<toml::Value>,
    venue: Option<String>,
    address: Option<String>,
    registration_url: Option<String>,
    organiser: Option<String>,
    audience: Option<String>,
}

/// The smallest number of example questions per entry and language.
pub const MIN_QUESTIONS: usize = 5;

/// Parse one file. Returns the entry and its warnings, or every error found.
pub fn parse_entry_file(path: &Path, text: &str) -> Result<(Entry, Vec<Problem>), Vec<Problem>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    // Line endings: "\n" or "\r\n", and any further "\r" before them goes too, so that
    // parsing the file `to_markdown` writes gives the same entry back.
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    if lines.first().map(|l| l.trim_end()) != Some("+++") {
        return Err(vec![Problem::error(
            path,
            1,
            "the file must start with a `+++` line (front matter)",
        )]);
    }
    let Some(close) = front_matter_close(&lines) else {
        return Err(vec![Problem::error(
            path,
            1,
            "the front matter is not closed by a `+++` line",
        )]);
    };
    let front_text = lines[1..close].join("\n");
    let body = lines[close + 1..].join("\n").trim().to_string();
    let body_line = close + 2;

    let front: FrontMatter = match toml::from_str(&front_text) {
        Ok(f) => f,
        Err(e) => {
            let line = e
                .span()
                .map(|s| {
                    front_text[..s.start.min(front_text.len())]
                        .matches('\n')
                        .count()
                        + 2
                })
                .unwrap_or(1);
            let message = e.message().trim().to_string();
            return Err(vec![Problem::error(
                path,
                line,
                format!("front matter: {message}"),
            )]);
        }
    };
    // Line numbers of keys, for messages about a key that is present but wrong.
    let key_line = |key: &str| -> usize {
        lines[1..close]
            .iter()
            .position(|l| {
                let l = l.trim_start();
                l.starts_with(key) && l[key.len()..].trim_start().starts_with(['=', ']'])
                    || l.starts_with(&format!("[{key}]"))
                    || l.starts_with(&format!("[[{key}]]"))
            })
            .map(|i| i + 2)
            .unwrap_or(1)
    };
    // The line of a source's `url`, for messages about that source.
    let source_line = |url: &str| -> usize {
        lines[1..close]
            .iter()
            .position(|l| l.trim_start().starts_with("url") && l.contains(url))
            .map(|i| i + 2)
            .unwrap_or(1)
    };
    let mut require = |value: Option<String>, key: &str| -> String {
        match value.map(|v| v.trim().to_string()) {
            Some(v) if !v.is_empty() => v,
            Some(_) => {
                errors.push(Problem::error(
                    path,
                    key_line(key),
                    format!("`{key}` is empty"),
                ));
                String::new()
            }
            None => {
                errors.push(Problem::error(path, 1, format!("missing field `{key}`")));
                String::new()
            }
        }
    };
    let id = require(front.id, "id");
    let lang_text = require(front.lang, "lang");
    let title = require(front.title, "title");

    let lang = match lang_text.as_str() {
        "nb" => Some(Lang::Nb),
        "en" => Some(Lang::En),
        "" => None,
        other => {
            errors.push(Problem::error(
                path,
                key_line("lang"),
                format!("`lang` must be \"nb\" or \"en\", not {other:?}"),
            ));
            None
        }
    };
    if !id.is_empty() && !is_valid_id(&id) {
        errors.push(Problem::error(
            path,
            key_line("id"),
            format!("`id` {id:?} must be lower-case letters, digits and hyphens"),
        ));
    }
    if let (Some(stem), Some(lang)) = (file_stem_parts(path), lang) {
        if !id.is_empty() && (stem.0 != id || stem.1 != lang.code()) {
            warnings.push(Problem::warning(
                path,
                key_line("id"),
                format!(
                    "the file should be named {id}.{}.md to match its `id` and `lang`",
                    lang.code()
                ),
            ));
        }
    }

    let questions: Vec<String> = front
        .questions
        .unwrap_or_else(|| {
            errors.push(Problem::error(path, 1, "missing field `questions`"));
            Vec::new()
        })
        .into_iter()
        .map(|q| q.trim().to_string())
        .collect();
    if questions.iter().any(|q| q.is_empty()) {
        errors.push(Problem::error(
            path,
            key_line("questions"),
            "`questions` has an empty question",
        ));
    }
    let distinct_questions = questions.iter().filter(|q| !q.is_empty()).count();
    if distinct_questions < MIN_QUESTIONS && !questions.is_empty() {
        errors.push(Problem::error(
            path,
            key_line("questions"),
            format!("`questions` has {distinct_questions} example question(s); at least {MIN_QUESTIONS} are needed"),
        ));
    }

    let reviewed = match front.reviewed {
        None => {
            errors.push(Problem::error(path, 1, "missing field `reviewed`"));
            None
        }
        Some(value) => match parse_date(&value) {
            Some(d) => Some(d),
            None => {
                errors.push(Problem::error(
                    path,
                    key_line("reviewed"),
                    format!("`reviewed` must be a date YYYY-MM-DD, not {value}"),
                ));
                None
            }
        },
    };
    if let Some(d) = reviewed {
        if d > chrono::Local::now().date_naive() + chrono::Duration::days(1) {
            errors.push(Problem::error(
                path,
                key_line("reviewed"),
                format!("`reviewed` date {d} is in the future"),
            ));
        }
    }

    let sources = front.sources.unwrap_or_default();
    if sources.is_empty() {
        errors.push(Problem::error(
            path,
            1,
            "missing field `sources`: at least one [[sources]] with name and url",
        ));
    }
    for s in &sources {
        if s.name.trim().is_empty() {
            errors.push(Problem::error(
                path,
                key_line("sources"),
                "a source has an empty `name`",
            ));
        }
        if !(s.url.starts_with("https://") || s.url.starts_with("http://")) {
            errors.push(Problem::error(
                path,
                key_line("sources"),
                format!("source url {:?} must start with https://", s.url),
            ));
        } else if let Some(why) = super::lint::vague_source(&s.url) {
            warnings.push(Problem::warning(path, source_line(&s.url), why));
        }
    }

    // `[[facts]]` tables, in file order, each with the line of its header.
    let fact_lines: Vec<usize> = lines[1..close]
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[facts]]")
        .map(|(i, _)| i + 2)
        .collect();
    let today = chrono::Local::now().date_naive();
    let mut facts = Vec::new();
    for (i, raw) in front.facts.into_iter().enumerate() {
        let line = fact_lines.get(i).copied().unwrap_or(1);
        let text = raw.text.map(|t| t.trim().to_string()).unwrap_or_default();
        if text.is_empty() {
            errors.push(Problem::error(path, line, "a fact has no `text`"));
        }
        let source = raw.source.map(|t| t.trim().to_string()).unwrap_or_default();
        if source.is_empty() {
            errors.push(Problem::error(
                path,
                line,
                "a fact has no `source`: name the page it was checked against",
            ));
        } else if source.contains("://") {
            if !(source.starts_with("https://") || source.starts_with("http://")) {
                errors.push(Problem::error(
                    path,
                    line,
                    format!("fact source {source:?} must start with https://"),
                ));
            } else if let Some(why) = super::lint::vague_source(&source) {
                warnings.push(Problem::warning(path, line, why));
            }
        }
        let checked = match raw.checked.as_ref().map(|v| (v, parse_date(v))) {
            None => {
                errors.push(Problem::error(
                    path,
                    line,
                    "a fact has no `checked` date (YYYY-MM-DD, the day it was checked)",
                ));
                None
            }
            Some((value, None)) => {
                errors.push(Problem::error(
                    path,
                    line,
                    format!("a fact's `checked` must be a date YYYY-MM-DD, not {value}"),
                ));
                None
            }
            Some((_, Some(d))) if d > today + chrono::Duration::days(1) => {
                errors.push(Problem::error(
                    path,
                    line,
                    format!("a fact's `checked` date {d} is in the future"),
                ));
                None
            }
            Some((_, Some(d))) => Some(d),
        };
        if let Some(checked) = checked {
            facts.push(Fact {
                text: text.into(),
                checked,
                source: source.into(),
                line: Some(line),
            });
        }
    }

    let event = front.event.and_then(|raw| {
        let line = key_line("event");
        let time = |v: Option<toml::Value>,
                    key: &str,
                    errors: &mut Vec<Problem>|
         -> Option<NaiveDateTime> {
            match v {
                None => {
                    errors.push(Problem::error(
                        path,
                        line,
                        format!("missing field `event.{key}`"),
                    ));
                    None
                }
                Some(v) => parse_datetime(&v).or_else(|| {
                    errors.push(Problem::error(
                        path,
                        line,
                        format!("`event.{key}` must be a local time \"YYYY-MM-DD HH:MM\", not {v}"),
                    ));
                    None
                }),
            }
        };
        let start = time(raw.start, "start", &mut errors);
        let end = time(raw.end, "end", &mut errors);
        let venue = raw.venue.filter(|v| !v.trim().is_empty());
        if venue.is_none() {
            errors.push(Problem::error(path, line, "missing field `event.venue`"));
        }
        if let (Some(s), Some(e)) = (start, end) {
            if e < s {
                errors.push(Problem::error(
                    path,
                    line,
                    "the event ends before it starts",
                ));
            }
        }
        Some(EventInfo {
            start: start?,
            end: end?,
            venue: venue?,
            address: raw.address,
            registration_url: raw.registration_url,
            organiser: raw.organiser,
            audience: raw.audience,
        })
    });

    if body.is_empty() {
        errors.push(Problem::error(
            path,
            body_line.min(lines.len().max(1)),
            "the entry has an empty body",
        ));
    } else {
        let first = body.split("\n\n").next().unwrap_or("").chars().count();
        if first > 700 {
            warnings.push(Problem::warning(
                path,
                body_line,
                format!("the first paragraph has {first} characters; keep the direct answer under about 600"),
            ));
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let entry = Entry {
        id,
        lang: lang.unwrap_or(Lang::Nb),
        title,
        questions: questions.into(),
        keywords: front.keywords.into(),
        related: front.related,
        reviewed: reviewed.unwrap_or_default(),
        sources,
        facts,
        body: Body::from(body),
        event,
        path: Some(path.to_path_buf()),
    };
    Ok((entry, warnings))
}

/// The index of the `+++` line that closes the front matter opened on the first line.
fn front_matter_close(lines: &[&str]) -> Option<usize> {
    lines
        .iter()
        .skip(1)
        .position(|l| l.trim_end() == "+++")
        .map(|i| i + 1)
}

/// The line (1-based) where the body of a knowledge file starts: the first line after
/// the closing `+++` that is not blank. Line 1 if there is no front matter.
pub(crate) fn body_start_line(text: &str) -> usize {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let Some(close) = front_matter_close(&lines) else {
        return 1;
    };
    let blank = lines[close + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty())
        .count();
    close + 2 + blank
}

fn is_valid_id(id: &str) -> bool {
    !id.starts_with('-')
        && !id.ends_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `thresholds.nb.md` → ("thresholds", "nb").
fn file_stem_parts(path: &Path) -> Option<(String, String)> {
    let name = path.file_name()?.to_str()?.strip_suffix(".md")?;
    let (id, lang) = name.rsplit_once('.')?;
    Some((id.to_string(), lang.to_string()))
}

fn parse_date(value: &toml::Value) -> Option<NaiveDate> {
    match value {
        toml::Value::String(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok(),
        toml::Value::Datetime(d) if d.time.is_none() => {
            NaiveDate::parse_from_str(&d.to_string(), "%Y-%m-%d").ok()
        }
        _ => None,
    }
}

/// Parse a local date and time as organisers write it: "2017-11-01 09:00" (or with `T`).
pub fn parse_local_datetime(text: &str) -> Option<NaiveDateTime> {
    let t = text.trim();
    [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
}

fn parse_datetime(value: &toml::Value) -> Option<NaiveDateTime> {
    match value {
        toml::Value::String(s) => parse_local_datetime(s),
        toml::Value::Datetime(d) if d.offset.is_none() => parse_local_datetime(&d.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(front_extra: &str, body: &str) -> String {
        format!(
            "+++\nid = \"thresholds\"\nlang = \"nb\"\ntitle = \"Terskelverdier\"\nquestions = [\"a\", \"b\", \"c\", \"d\", \"e\"]\nreviewed = \"2026-01-02\"\n{front_extra}\n[[sources]]\nname = \"Lovdata\"\nurl = \"https://lovdata.no/forskrift/2016-08-12-974/§5-3\"\n+++\n{body}\n"
        )
    }

    #[test]
    fn parses_a_valid_entry() {
        let text = sample("keywords = [\"terskel\"]", "Første avsnitt.\n\nDetalj.");
        let (entry, warnings) =
            parse_entry_file(Path::new("k/entries/thresholds.nb.md"), &text).unwrap();
        assert!(warnings.is_empty());
        assert_eq!(entry.id, "thresholds");
        assert_eq!(entry.lang, Lang::Nb);
        assert_eq!(entry.summary(), "Første avsnitt.");
        assert_eq!(entry.reviewed, NaiveDate::from_ymd_opt(2026, 1, 2).unwrap());
    }

    #[test]
    fn unknown_key_is_reported_on_its_line() {
        let text = sample("colour = \"blue\"", "Body.");
        let errs = parse_entry_file(Path::new("k/entries/thresholds.nb.md"), &text).unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(errs[0].message.contains("colour"), "{}", errs[0].message);
        assert_eq!(errs[0].line, 7);
    }

    #[test]
    fn a_text_with_a_front_matter_fence_line_round_trips() {
        // Found by the round-trip property: a title (or a learned question) holding a line
        // `+++` was written as a multi-line string and closed the front matter early.
        let text = sample("keywords = [\"terskel\"]", "Body.");
        let path = Path::new("k/entries/thresholds.nb.md");
        let (mut entry, _) = parse_entry_file(path, &text).unwrap();
        entry.title = "+++\n\0".into();
        let mut questions = entry.questions.to_vec();
        questions[0] = "first\n+++ \nsecond".into();
        entry.questions = questions.into();
        let (again, _) = parse_entry_file(path, &entry.to_markdown()).unwrap();
        assert_eq!(entry, again);
    }

    #[test]
    fn carriage_returns_before_a_line_end_do_not_survive_into_the_body() {
        // Found by the `knowledge_file` fuzz target: a body line ending "\r\r\n" kept one
        // "\r", so the body held "\r\n", which the next parse (of `to_markdown`) cut.
        let text = sample("", "First.\r\r\r\nSecond\r.\r\n\r\r\nThird.");
        let path = Path::new("k/entries/thresholds.nb.md");
        let (entry, _) = parse_entry_file(path, &text).unwrap();
        assert_eq!(entry.body_text(), "First.\nSecond\r.\n\nThird.");
        let (again, _) = parse_entry_file(path, &entry.to_markdown()).unwrap();
        assert_eq!(entry, again);
    }

    #[test]
    fn markdown_round_trips() {
        let text = sample("keywords = [\"terskel\"]", "Første avsnitt.\n\nDetalj.");
        let path = Path::new("k/entries/thresholds.nb.md");
        let (entry, _) = parse_entry_file(path, &text).unwrap();
        let (again, _) = parse_entry_file(path, &entry.to_markdown()).unwrap();
        assert_eq!(entry, again);
    }

    const FACTS: &str = "\n[[facts]]\ntext = \"Nasjonal terskelverdi: 1,3 millioner kroner\"\nchecked = \"2026-12-01\"\nsource = \"https://anskaffelser.no/avtaler-og-regelverk/terskelverdier-offentlige-anskaffelser\"\n\n[[facts]]\ntext = \"Karensperiode: 10 dager\"\nchecked = 2026-11-29\nsource = \"DFØ, Meddele valg av leverandør\"\n";

    #[test]
    fn facts_are_read_with_their_lines_and_round_trip() {
        let text = sample(FACTS, "Body.");
        let path = Path::new("k/entries/thresholds.nb.md");
        let (entry, warnings) = parse_entry_file(path, &text).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(entry.facts.len(), 2);
        assert_eq!(
            entry.facts[0].checked,
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        assert_eq!(&*entry.facts[1].source, "DFØ, Meddele valg av leverandør");
        assert_eq!(entry.facts[0].line, Some(8));
        assert_eq!(entry.facts[1].line, Some(13));
        let (again, _) = parse_entry_file(path, &entry.to_markdown()).unwrap();
        assert_eq!(entry, again);
    }

    #[test]
    fn a_fact_needs_a_past_date_and_a_source() {
        let path = Path::new("k/entries/thresholds.nb.md");
        let undated = sample(
            "[[facts]]\ntext = \"30 dager\"\nsource = \"DFØ\"\n",
            "Body.",
        );
        let errs = parse_entry_file(path, &undated).unwrap_err();
        assert!(errs[0].message.contains("`checked`"), "{errs:?}");
        assert_eq!(errs[0].line, 7);
        let future = sample(
            "[[facts]]\ntext = \"30 dager\"\nchecked = \"2999-01-01\"\nsource = \"DFØ\"\n",
            "Body.",
        );
        let errs = parse_entry_file(path, &future).unwrap_err();
        assert!(errs[0].message.contains("in the future"), "{errs:?}");
        let sourceless = sample(
            "[[facts]]\ntext = \"30 dager\"\nchecked = \"2026-01-01\"\n",
            "Body.",
        );
        let errs = parse_entry_file(path, &sourceless).unwrap_err();
        assert!(errs[0].message.contains("`source`"), "{errs:?}");
    }

    #[test]
    fn vague_sources_are_warned_about_on_their_line() {
        let path = Path::new("k/entries/thresholds.nb.md");
        let text = sample("", "Body.").replace(
            "https://lovdata.no/forskrift/2016-08-12-974/§5-3",
            "https://lovdata.no/forskrift/2016-08-12-974",
        );
        let (_, warnings) = parse_entry_file(path, &text).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].message.contains("whole act"), "{warnings:?}");
        assert_eq!(warnings[0].line, 10);
        let text = sample("", "Body.").replace(
            "https://lovdata.no/forskrift/2016-08-12-974/§5-3",
            "https://www.skatteetaten.no/",
        );
        let (_, warnings) = parse_entry_file(path, &text).unwrap();
        assert!(warnings[0].message.contains("bare domain"), "{warnings:?}");
    }

    #[test]
    fn the_body_start_line_skips_blank_lines_after_the_front_matter() {
        assert_eq!(body_start_line("+++\nid = \"x\"\n+++\n\n\nText"), 6);
        assert_eq!(body_start_line("+++\nid = \"x\"\n+++\nText"), 4);
        assert_eq!(body_start_line("no front matter"), 1);
    }
}
