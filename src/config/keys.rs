//! Every key anbud reads, and the check that refuses any other (a typo would otherwise
//! leave the default in force without a word).

use std::path::Path;

use super::{ConfigError, Overrides, DEFAULTS};

/// Keys without a default, so absent from `config/default.toml` (where a comment names
/// each): setting one overrides what would otherwise be computed.
pub(super) const OPTIONAL_KEYS: &[&str] = &["answer.threshold"];

/// The dotted paths of every key: those in `config/default.toml`, and [`OPTIONAL_KEYS`].
pub(super) fn known_keys() -> Vec<String> {
    let defaults: toml::Table = DEFAULTS
        .parse()
        .expect("the built-in config/default.toml is valid TOML");
    let mut keys: Vec<String> = OPTIONAL_KEYS.iter().map(|k| k.to_string()).collect();
    leaf_keys(&defaults, "", &mut keys);
    keys
}

/// The dotted paths of the values (not the tables) in `table`.
pub(super) fn leaf_keys(table: &toml::Table, prefix: &str, out: &mut Vec<String>) {
    for (name, value) in table {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match value {
            toml::Value::Table(inner) => leaf_keys(inner, &path, out),
            _ => out.push(path),
        }
    }
}

/// Refuses a key that no part of anbud reads, in a configuration file or an `ANBUD__…`
/// variable: `[answer] treshold = 0.9` would otherwise leave the default threshold in
/// force without a word. A file that is not valid TOML is left to the loader, whose
/// error says where.
pub(super) fn check_keys(
    local_file: Option<&Path>,
    env: &[(String, String)],
    overrides: &Overrides,
) -> Result<(), ConfigError> {
    let known = known_keys();
    let check = |key: String, place: String| -> Result<(), ConfigError> {
        let is_section = known.iter().any(|k| k.starts_with(&format!("{key}.")));
        if known.contains(&key) || is_section {
            return Ok(());
        }
        let nearest = known
            .iter()
            .min_by_key(|k| (edit_distance(k, &key), k.as_str()))
            .cloned()
            .unwrap_or_default();
        Err(ConfigError::UnknownKey {
            place,
            key: key.chars().take(80).collect(),
            nearest,
        })
    };
    for file in local_file
        .iter()
        .copied()
        .chain(overrides.config_file.as_deref())
    {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let Ok(table) = text.parse::<toml::Table>() else {
            continue;
        };
        let mut keys = Vec::new();
        leaf_keys(&table, "", &mut keys);
        for key in keys {
            check(key, file.display().to_string())?;
        }
    }
    for (variable, _) in env {
        if let Some(path) = variable.strip_prefix("ANBUD__") {
            let key = path.to_lowercase().replace("__", ".");
            check(key, format!("environment variable {variable}"))?;
        }
    }
    Ok(())
}

/// The number of single-character insertions, deletions and substitutions that turn `a`
/// into `b` (Levenshtein), for naming the key a typo meant.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}
