//! Error messages that never print a secret: what a value may show of itself.

/// The config crate and the TOML parser quote what they could not use: a value of the
/// wrong type (`invalid type: string "…"`), an unknown variant, the source line of a
/// syntax error. Any of those may be a token or a password put in the wrong place, so
/// the source lines are dropped and quoted values are shown only when they cannot be a
/// secret (see [`shown`]).
pub(super) fn redact(message: &str) -> String {
    static QUOTED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"`[^`]*`|"(?:[^"\\]|\\.)*""#).expect("valid regex")
    });
    static SOURCE_LINE: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"^\s*\d*\s*\|").expect("valid regex"));
    let kept: Vec<&str> = message
        .lines()
        .filter(|l| !SOURCE_LINE.is_match(l))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let text = kept.join(" ");
    // The one message that names a value without quotes: a bad enum value.
    static VARIANT: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(does not have variant constructor )(.*?)( for key `|$)")
            .expect("valid regex")
    });
    let text = VARIANT.replace_all(&text, |c: &regex::Captures| {
        let value = &c[2];
        let shown_value = if shown(value) {
            value.to_string()
        } else {
            hidden(value)
        };
        format!("{}{shown_value}{}", &c[1], &c[3])
    });
    QUOTED
        .replace_all(&text, |c: &regex::Captures| {
            let quoted = &c[0];
            let inner = &quoted[1..quoted.len() - 1];
            if shown(inner) {
                quoted.to_string()
            } else {
                hidden(inner)
            }
        })
        .into_owned()
}

/// Whether a value may appear in an error message: short, and made of the characters of
/// names, numbers and keys. Tokens (long) and URLs or passwords (`:`, `@`) are not.
pub(super) fn shown(value: &str) -> bool {
    static KEY: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"^[a-z][a-z0-9]*([._][a-z][a-z0-9]*)+$").expect("valid regex")
    });
    let n = value.chars().count();
    n <= 3 && !value.chars().any(char::is_alphanumeric)
        || n <= 24 && value.chars().all(|c| c.is_alphanumeric() || " _-.,#/+".contains(c))
        // A configuration key such as `discord.rate_limit_per_minute`.
        || n <= 64 && KEY.is_match(value)
}

pub(super) fn hidden(value: &str) -> String {
    format!(
        "(a value of {} characters, not shown)",
        value.chars().count()
    )
}

/// A value for an error message: quoted when [`shown`], else described.
pub(super) fn show(value: &str) -> String {
    if shown(value) {
        format!("{value:?}")
    } else {
        hidden(value)
    }
}
