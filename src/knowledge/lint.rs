//! Problems found in the knowledge folder, reported as `path:line: message`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use super::entry::{Entry, Lang};

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
