//! Problems found in the knowledge folder, reported as `path:line: message`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::entry::{Entry, Fact, Lang};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem in one file, at one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub line: usize,
    pub severity: Severity,
    pub message: String,
}

impl Problem {
    pub fn error(path: &Path, line: usize, message: impl Into<String>) -> Problem {
        Problem {
            path: path.to_path_buf(),
            line: line.max(1),
            severity: Severity::Error,
            message: message.into(),
        }
    }

    pub fn warning(path: &Path, line: usize, message: impl Into<String>) -> Problem {
        Problem {
            path: path.to_path_buf(),
            line: line.max(1),
            severity: Severity::Warning,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "",
            Severity::Warning => "warning: ",
        };
        write!(
            f,
            "{}:{}: {level}{}",
            self.path.display(),
            self.line,
            self.message
        )
    }
}

pub(crate) fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Checks across files: duplicate ids, entries in one language only, unknown `related` ids.
pub(crate) fn check_collection(entries: &[Entry], problems: &mut Vec<Problem>) {
    let mut seen: BTreeMap<(&str, Lang), &Entry> = BTreeMap::new();
    for e in entries {
        if let Some(first) = seen.get(&(e.id.as_str(), e.lang)) {
            problems.push(Problem::error(
                e.path.as_deref().unwrap_or(Path::new("?")),
                1,
                format!(
                    "duplicate id {:?} in language {} (also in {})",
                    e.id,
                    e.lang,
                    first.path.as_deref().unwrap_or(Path::new("?")).display()
                ),
            ));
        } else {
            seen.insert((e.id.as_str(), e.lang), e);
        }
    }
    let ids: BTreeSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    for e in entries {
        let path = e.path.as_deref().unwrap_or(Path::new("?"));
        if !seen.contains_key(&(e.id.as_str(), e.lang.other())) {
            problems.push(Problem::error(
                path,
                1,
                format!(
                    "entry {:?} exists only in {}: add the {} version",
                    e.id,
                    e.lang,
                    e.lang.other()
                ),
            ));
        }
        for r in &e.related {
            if !ids.contains(r.as_str()) {
                problems.push(Problem::warning(
                    path,
                    1,
                    format!("`related` names unknown id {r:?}"),
                ));
            }
        }
    }
}

/// Checks of the referrals: each in both languages, once, with a page to point to, and no
/// id shared with an entry (a referral is not an answer).
pub(crate) fn check_referrals(referrals: &[Entry], entries: &[Entry], problems: &mut Vec<Problem>) {
    let entry_ids: BTreeSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
    for r in referrals {
        let path = r.path.as_deref().unwrap_or(Path::new("?"));
        if entry_ids.contains(r.id.as_str()) {
            problems.push(Problem::error(
                path,
                1,
                format!("referral id {:?} is also an entry's id", r.id),
            ));
        }
        if r.event.is_some() {
            problems.push(Problem::error(path, 1, "a referral has no [event] table"));
        }
        if !r.related.is_empty() {
            problems.push(Problem::warning(
                path,
                1,
                "`related` is not used in a referral",
            ));
        }
        if r.sources.iter().all(|s| s.url.is_empty()) {
            problems.push(Problem::error(
                path,
                1,
                "a referral needs the service's page as its first source",
            ));
        }
    }
    check_collection(referrals, problems);
}

/// What `kb lint` needs to tell a fresh figure from a stale one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// The day the check runs.
    pub today: NaiveDate,
    /// `knowledge.review_after_days`: a check older than this is stale.
    pub review_after_days: u32,
}

impl Freshness {
    /// Whether a check made on `checked` is too old.
    pub fn is_stale(&self, checked: NaiveDate) -> bool {
        (self.today - checked).num_days() > i64::from(self.review_after_days)
    }
}

/// Why a source address does not lead a reader to the statement, or `None`: a bare
/// domain (a home page), or a whole act or regulation on Lovdata instead of its section.
pub(crate) fn vague_source(url: &str) -> Option<String> {
    static LOVDATA_WHOLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"^/(?:dokument/[A-Za-z]+/)?(?:lov|forskrift)/\d{4}-\d{2}-\d{2}(?:-\d+)?/?$",
        )
        .expect("valid pattern")
    });
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let split = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, path) = rest.split_at(split);
    if path.is_empty() || path == "/" {
        return Some(format!(
            "source {url:?} is a bare domain: link the page that says it (the section on Lovdata, \
             the guidance page on the subject)"
        ));
    }
    let host = host.trim_start_matches("www.");
    if host == "lovdata.no" && LOVDATA_WHOLE.is_match(path) {
        return Some(format!(
            "source {url:?} is a whole act or regulation: link the section that says it ({}/§N)",
            url.trim_end_matches('/')
        ));
    }
    None
}

/// Warnings for figures of `entry` whose check (a `[[facts]]` date, or the sentence's own
/// "per DATE") is older than `freshness.review_after_days`. `text` is the file, for lines.
pub(crate) fn check_freshness(
    entry: &Entry,
    text: &str,
    freshness: Freshness,
    problems: &mut Vec<Problem>,
) {
    let Some(path) = entry.path.as_deref() else {
        return;
    };
    for fact in &entry.facts {
        if freshness.is_stale(fact.checked) {
            problems.push(Problem::warning(
                path,
                fact.line.unwrap_or(1),
                format!(
                    "fact {:?} was checked {}, {} days ago (knowledge.review_after_days = {}): \
                     check it against {} and update `checked`",
                    fact.text,
                    fact.checked,
                    (freshness.today - fact.checked).num_days(),
                    freshness.review_after_days,
                    fact.source
                ),
            ));
        }
    }
    let body_line = super::entry::body_start_line(text);
    let body = entry.body_text();
    for found in super::figures::dated_figures(&body) {
        let Some(as_of) = found.as_of else { continue };
        if covering_facts(entry, &found.figure).next().is_some() || !freshness.is_stale(as_of) {
            continue;
        }
        problems.push(Problem::warning(
            path,
            body_line + body[..found.figure.offset].matches('\n').count(),
            format!(
                "figure {:?} is dated {as_of}, {} days ago (knowledge.review_after_days = {}): \
                 check it and update the date",
                found.figure.text,
                (freshness.today - as_of).num_days(),
                freshness.review_after_days
            ),
        ));
    }
}

/// The facts of `entry` that state `figure`.
pub(crate) fn covering_facts<'a>(
    entry: &'a Entry,
    figure: &'a super::figures::Figure,
) -> impl Iterator<Item = &'a Fact> + 'a {
    entry.facts.iter().filter(move |fact| {
        super::figures::figures(&fact.text)
            .iter()
            .any(|f| f.same_as(figure))
    })
}

/// Warnings for figures in a body with no date: no `[[facts]]` table states them and
/// their sentence says no "per DATE"; and for a sentence dated later than the check of
/// the fact that states its figure (a fresh stamp on an old check).
pub(crate) fn check_figures(entry: &Entry, body_line: usize, warnings: &mut Vec<Problem>) {
    let path = entry.path.as_deref().unwrap_or(Path::new("?"));
    let mut seen = BTreeSet::new();
    let body = entry.body_text();
    for found in super::figures::dated_figures(&body) {
        let line = body_line + body[..found.figure.offset].matches('\n').count();
        if !seen.insert((line, found.figure.text.clone())) {
            continue;
        }
        let latest_check = covering_facts(entry, &found.figure)
            .map(|f| f.checked)
            .max();
        match (latest_check, found.as_of) {
            (None, None) => warnings.push(Problem::warning(
                path,
                line,
                format!(
                    "figure {:?} has no date: add a [[facts]] table (text, checked, source) that \
                     states it, or write \"per DATE\" / \"as of DATE\" in the sentence",
                    found.figure.text
                ),
            )),
            (Some(checked), Some(as_of)) if as_of > checked => warnings.push(Problem::warning(
                path,
                line,
                format!(
                    "the sentence says {as_of} for {:?}, but its fact was checked {checked}: \
                     stamp the date the figure was checked",
                    found.figure.text
                ),
            )),
            _ => {}
        }
    }
}

/// The text of an optional file of a knowledge folder: `None` when it is not there, or
/// (with a problem) when it cannot be read.
/// Read and parse a line-based file of a knowledge folder: `None` when there is none or
/// it has problems, each reported as `path:line: message` (line 0 counts as 1).
pub(crate) fn parse_if_there<T>(
    path: &Path,
    problems: &mut Vec<Problem>,
    parse: impl FnOnce(&str) -> Result<T, Vec<(usize, String)>>,
) -> Option<T> {
    let text = read_if_there(path, problems)?;
    match parse(&text) {
        Ok(parsed) => Some(parsed),
        Err(found) => {
            for (line, message) in found {
                problems.push(Problem::error(path, line.max(1), message));
            }
            None
        }
    }
}

pub(crate) fn read_if_there(path: &Path, problems: &mut Vec<Problem>) -> Option<String> {
    if !path.exists() {
        return None;
    }
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) => {
            problems.push(Problem::error(path, 1, format!("cannot read file: {e}")));
            None
        }
    }
}
