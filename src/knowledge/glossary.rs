//! The glossary: synonym groups and spelling rules (Nynorsk, Swedish, misspellings → the
//! words the entries use).

use std::path::Path;

use super::lint::Problem;

/// A spelling rule `from => to`, applied to a question before analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpellingRule {
    /// Lower-case words to find (one or more).
    pub from: Vec<String>,
    /// Lower-case words to put in their place.
    pub to: Vec<String>,
}

/// Synonym groups and spelling rules, as read from `glossary.txt`.
#[derive(Debug, Clone, Default)]
pub struct Glossary {
    /// Each group: terms (lower-case, one or more words each) that mean the same.
    pub groups: Vec<Vec<String>>,
    pub rules: Vec<SpellingRule>,
}

fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(|w| w.to_lowercase()).collect()
}

impl Glossary {
    /// Parse the glossary text. Broken lines are reported and skipped.
    pub fn parse(path: &Path, text: &str) -> (Glossary, Vec<Problem>) {
        let mut glossary = Glossary::default();
        let mut problems = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line_no = index + 1;
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            if let Some((from, to)) = line.split_once("=>") {
                let (from, to) = (words(from), words(to));
                if from.is_empty() || to.is_empty() || to.iter().any(|w| w.contains("=>")) {
                    problems.push(Problem::error(
                        path,
                        line_no,
                        "a spelling rule needs `from => to` with words on both sides",
                    ));
                } else if from == to {
                    problems.push(Problem::error(
                        path,
                        line_no,
                        "a spelling rule maps a word to itself",
                    ));
                } else {
                    glossary.rules.push(SpellingRule { from, to });
                }
                continue;
            }
            if line.contains("->") || line.contains('=') || line.contains(';') {
                problems.push(Problem::error(
                    path,
                    line_no,
                    "cannot read this line: write a synonym group `a, b, c` or a spelling rule `from => to`",
                ));
                continue;
            }
            let terms: Vec<String> = line.split(',').map(|t| words(t).join(" ")).collect();
            if terms.iter().any(|t| t.is_empty()) {
                problems.push(Problem::error(path, line_no, "a synonym group has an empty term (two commas in a row, or a comma at the end)"));
                continue;
            }
            if terms.len() < 2 {
                problems.push(Problem::error(
                    path,
                    line_no,
                    "a synonym group needs at least two terms separated by commas",
                ));
                continue;
            }
            let mut unique = terms.clone();
            unique.sort();
            unique.dedup();
            if unique.len() != terms.len() {
                problems.push(Problem::warning(
                    path,
                    line_no,
                    "a synonym group repeats a term",
                ));
            }
            glossary.groups.push(terms);
        }
        (glossary, problems)
    }

    /// The glossary in its file format; [`Glossary::parse`] reads it back unchanged.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for group in &self.groups {
            out.push_str(&group.join(", "));
            out.push('\n');
        }
        for rule in &self.rules {
            out.push_str(&format!(
                "{} => {}\n",
                rule.from.join(" "),
                rule.to.join(" ")
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_groups_rules_and_reports_broken_lines() {
        let text = "# comment\nanbud, tilbud, bid\n\nkva => hva\nbroken line\n, a\nx => \n";
        let (g, problems) = Glossary::parse(Path::new("glossary.txt"), text);
        assert_eq!(
            g.groups,
            vec![vec!["anbud".to_string(), "tilbud".into(), "bid".into()]]
        );
        assert_eq!(g.rules.len(), 1);
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![5, 6, 7]);
    }

    #[test]
    fn text_round_trips() {
        let (g, _) = Glossary::parse(
            Path::new("g"),
            "Anbud, tilbud, tender competition
kva => hva
upp handling => anskaffelse
",
        );
        let (again, problems) = Glossary::parse(Path::new("g"), &g.to_text());
        assert!(problems.is_empty());
        assert_eq!(again.groups, g.groups);
        assert_eq!(again.rules, g.rules);
    }
}
