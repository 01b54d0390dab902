//! The light Markdown of knowledge entries and replies, as HTML: what a supplier sees
//! in Discord, shown on the web page.
//!
//! Every character of the text is HTML-escaped first; the only markup that comes out
//! is the markup made here (paragraphs, headings, lists, bold, italics, code, and links
//! to http(s) addresses). So a `<script>` in an entry or a question is text, and a
//! `javascript:` link is not a link.

use maud::{Markup, PreEscaped};

/// `text` (Discord-flavoured Markdown) as safe HTML.
pub fn to_html(text: &str) -> Markup {
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Option<(&'static str, Vec<String>)> = None;
    let mut in_code = false;
    let mut code = String::new();

    let flush_paragraph = |out: &mut String, paragraph: &mut Vec<&str>| {
        if !paragraph.is_empty() {
            let lines: Vec<String> = paragraph.iter().map(|l| inline(l)).collect();
            out.push_str(&format!("<p>{}</p>\n", lines.join("<br>\n")));
            paragraph.clear();
        }
    };
    let flush_list = |out: &mut String, list: &mut Option<(&'static str, Vec<String>)>| {
        if let Some((tag, items)) = list.take() {
            out.push_str(&format!("<{tag}>"));
            for item in items {
                out.push_str(&format!("<li>{item}</li>"));
            }
            out.push_str(&format!("</{tag}>\n"));
        }
    };

    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            if in_code {
                out.push_str(&format!("<pre><code>{}</code></pre>\n", escape(&code)));
                code.clear();
                in_code = false;
            } else {
                flush_paragraph(&mut out, &mut paragraph);
                flush_list(&mut out, &mut list);
                in_code = true;
            }
            continue;
        }
        if in_code {
            code.push_str(line);
            code.push('\n');
            continue;
        }
        if trimmed.is_empty() {
            flush_paragraph(&mut out, &mut paragraph);
            flush_list(&mut out, &mut list);
            continue;
        }
        if let Some((level, heading)) = heading(trimmed) {
            flush_paragraph(&mut out, &mut paragraph);
            flush_list(&mut out, &mut list);
            // Entries use ### for their sections; the page's own headings are h1–h2.
            let tag = format!("h{}", (level + 2).min(6));
            out.push_str(&format!("<{tag}>{}</{tag}>\n", inline(heading)));
            continue;
        }
        if let Some((kind, item)) = list_item(trimmed) {
            flush_paragraph(&mut out, &mut paragraph);
            match &mut list {
                Some((tag, items)) if *tag == kind => items.push(inline(item)),
                _ => {
                    flush_list(&mut out, &mut list);
                    list = Some((kind, vec![inline(item)]));
                }
            }
            continue;
        }
        if let Some((_, items)) = &mut list {
            // A continuation line of the last item.
            if line.starts_with(' ') {
                if let Some(last) = items.last_mut() {
                    last.push(' ');
                    last.push_str(&inline(trimmed));
                    continue;
                }
            }
            flush_list(&mut out, &mut list);
        }
        if let Some(quoted) = trimmed.strip_prefix("> ") {
            flush_paragraph(&mut out, &mut paragraph);
            out.push_str(&format!("<blockquote>{}</blockquote>\n", inline(quoted)));
            continue;
        }
        paragraph.push(trimmed);
    }
    if in_code {
        out.push_str(&format!("<pre><code>{}</code></pre>\n", escape(&code)));
    }
    flush_paragraph(&mut out, &mut paragraph);
    flush_list(&mut out, &mut list);
    PreEscaped(out)
}

fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|c| *c == '#').count();
    if (1..=6).contains(&level) {
        line[level..]
            .strip_prefix(' ')
            .map(|rest| (level, rest.trim()))
    } else {
        None
    }
}

fn list_item(line: &str) -> Option<(&'static str, &str)> {
    for bullet in ["- ", "* ", "• "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return Some(("ul", rest));
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < 4 {
        if let Some(rest) = line[digits..].strip_prefix(". ") {
            return Some(("ol", rest));
        }
    }
    None
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether a link target may become a link: a web address and nothing else.
pub fn is_web_url(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// One line's inline markup: `code`, **bold**, *italics* / _italics_, [text](url),
/// <url> and bare web addresses.
fn inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let mut bold = false;
    let mut italic: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        let rest: String = chars[i..].iter().collect();
        if c == '\\' && i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() {
            out.push_str(&escape(&chars[i + 1].to_string()));
            i += 2;
            continue;
        }
        if c == '`' {
            if let Some(end) = chars[i + 1..].iter().position(|&d| d == '`') {
                let code: String = chars[i + 1..i + 1 + end].iter().collect();
                out.push_str(&format!("<code>{}</code>", escape(&code)));
                i += end + 2;
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix("**") {
            let closes_later = after.contains("**");
            if bold {
                out.push_str("</strong>");
                bold = false;
                i += 2;
                continue;
            } else if closes_later {
                out.push_str("<strong>");
                bold = true;
                i += 2;
                continue;
            }
        }
        if (c == '*' || c == '_') && italic == Some(c) {
            out.push_str("</em>");
            italic = None;
            i += 1;
            continue;
        }
        if (c == '*' || c == '_')
            && italic.is_none()
            && i + 1 < chars.len()
            && !chars[i + 1].is_whitespace()
            && (i == 0 || !chars[i - 1].is_alphanumeric())
            && chars[i + 1..].contains(&c)
        {
            out.push_str("<em>");
            italic = Some(c);
            i += 1;
            continue;
        }
        if c == '[' {
            if let Some((label, url, used)) = markdown_link(&chars[i..]) {
                if is_web_url(&url) {
                    out.push_str(&format!(
                        "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                        escape(&url),
                        inline(&label)
                    ));
                } else {
                    out.push_str(&escape(&label));
                }
                i += used;
                continue;
            }
        }
        if c == '<' {
            if let Some(end) = chars[i + 1..].iter().position(|&d| d == '>') {
                let url: String = chars[i + 1..i + 1 + end].iter().collect();
                if is_web_url(&url) {
                    out.push_str(&link(&url));
                    i += end + 2;
                    continue;
                }
            }
        }
        if (rest.starts_with("https://") || rest.starts_with("http://"))
            && (i == 0 || !chars[i - 1].is_alphanumeric())
        {
            let mut url: String = chars[i..]
                .iter()
                .take_while(|c| !c.is_whitespace() && **c != '<' && **c != '>')
                .collect();
            while url.ends_with(['.', ',', ')', ';', ':', '!', '?']) {
                url.pop();
            }
            let used = url.chars().count();
            out.push_str(&link(&url));
            i += used;
            continue;
        }
        out.push_str(&escape(&c.to_string()));
        i += 1;
    }
    if italic.is_some() {
        out.push_str("</em>");
    }
    if bold {
        out.push_str("</strong>");
    }
    out
}

fn link(url: &str) -> String {
    format!(
        "<a href=\"{0}\" rel=\"noopener noreferrer\">{0}</a>",
        escape(url)
    )
}

/// `[label](url)` at the start of `chars`: the label, the url and the characters used.
fn markdown_link(chars: &[char]) -> Option<(String, String, usize)> {
    let close = chars.iter().position(|&c| c == ']')?;
    if chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let end = chars[close + 2..].iter().position(|&c| c == ')')?;
    let label: String = chars[1..close].iter().collect();
    let url: String = chars[close + 2..close + 2 + end].iter().collect();
    Some((label, url.trim().to_string(), close + 3 + end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(text: &str) -> String {
        to_html(text).into_string()
    }

    #[test]
    fn markup_is_made_and_everything_else_escaped() {
        let out = html(
            "**Svar** med *vekt* og `kode`\n\n- én\n- to\n\n### Kilde\nSe https://lovdata.no/x.",
        );
        assert!(out.contains("<strong>Svar</strong>"), "{out}");
        assert!(out.contains("<em>vekt</em>"), "{out}");
        assert!(out.contains("<code>kode</code>"), "{out}");
        assert!(out.contains("<ul><li>én</li><li>to</li></ul>"), "{out}");
        assert!(out.contains("<h5>Kilde</h5>"), "{out}");
        assert!(
            out.contains("<a href=\"https://lovdata.no/x\" rel=\"noopener noreferrer\">"),
            "{out}"
        );
    }

    #[test]
    fn html_and_script_links_stay_text() {
        let out = html(
            "<script>alert(1)</script> [klikk](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        assert!(!out.contains("href=\"javascript"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
        let out = html("[x](https://a.example/\"onmouseover=\"alert(1))");
        assert!(!out.contains("\"onmouseover"), "{out}");
        let out = html("`<b>` **<i>**");
        assert!(out.contains("<code>&lt;b&gt;</code>"), "{out}");
        assert!(out.contains("<strong>&lt;i&gt;</strong>"), "{out}");
    }
}
