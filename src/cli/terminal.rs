//! Output that is safe in a terminal.
//!
//! Users' text reaches the command line's output: questions in `unanswered list`, entry
//! titles taught from questions in `chat` and `ask`, announcement texts. A question holding
//! ESC, OSC or CSI sequences, BEL or a carriage return could clear or retitle an adviser's
//! terminal, hide what came before it on the line, or fake output. Every command's text
//! output goes through [`Printable`], which shows such characters instead of sending
//! them: C0 controls as the Unicode control pictures (ESC as `␛`, CR as `␍`), C1 controls
//! and the bidirectional overrides as `<U+009B>`. Line breaks and tabs stay; a Windows line
//! end (CR LF) is a line break. JSON output is escaped instead ([`json_line`]), so its
//! values stay exactly the stored text.

use std::borrow::Cow;
use std::io::{self, Write};

/// How a character is shown on a terminal: itself, or a visible stand-in.
enum Shown {
    Itself,
    Picture(char),
    CodePoint,
}

fn shown(c: char) -> Shown {
    match c {
        '\n' | '\t' => Shown::Itself,
        // C0 controls: the control pictures U+2400…U+241F.
        '\0'..='\x1f' => Shown::Picture(char::from_u32(0x2400 + c as u32).unwrap_or('?')),
        '\x7f' => Shown::Picture('\u{2421}'),
        // C1 controls (U+009B is a CSI to some terminals), the bidirectional embeddings,
        // overrides and isolates (they reorder the rest of the line) and the line and
        // paragraph separators.
        '\u{80}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}'
        | '\u{2028}'
        | '\u{2029}' => Shown::CodePoint,
        _ => Shown::Itself,
    }
}

/// `text` with every control character made visible (see the module documentation).
pub fn printable(text: &str) -> Cow<'_, str> {
    let text = if text.contains("\r\n") {
        Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        Cow::Borrowed(text)
    };
    if text.chars().all(|c| matches!(shown(c), Shown::Itself)) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match shown(c) {
            Shown::Itself => out.push(c),
            Shown::Picture(picture) => out.push(picture),
            Shown::CodePoint => out.push_str(&format!("<U+{:04X}>", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// A JSON value on one line, made safe for a terminal by [`safe_json`].
pub fn json_line(value: &serde_json::Value) -> String {
    safe_json(&value.to_string())
}

/// Writes `rows` as one JSON array on one line (the `--format json` of the list commands).
pub fn write_json_rows(
    out: &mut impl std::io::Write,
    rows: Vec<serde_json::Value>,
) -> std::io::Result<()> {
    writeln!(out, "{}", json_line(&serde_json::Value::Array(rows)))
}

/// Serialized JSON with the characters [`printable`] would change written as `\uXXXX`
/// escapes: the same JSON value, nothing a terminal acts on. serde_json escapes the C0
/// controls itself, but not C1 or the bidirectional ones; outside strings JSON holds only
/// ASCII, so every such character is inside a string, where the escape means the same.
pub fn safe_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match shown(c) {
            Shown::CodePoint => out.push_str(&format!("\\u{:04x}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// A writer that passes text through [`printable`]. It takes bytes in any pieces: a
/// character split between two writes is held until it is whole, and bytes that are not
/// UTF-8 are written as U+FFFD.
pub struct Printable<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> Printable<W> {
    pub fn new(inner: W) -> Printable<W> {
        Printable {
            inner,
            pending: Vec::new(),
        }
    }

    /// Writes out what is complete in `pending`; with `all`, also a last incomplete piece.
    fn drain(&mut self, all: bool) -> io::Result<()> {
        let mut text = String::new();
        let mut rest: &[u8] = &self.pending;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            text.push('\u{FFFD}');
                            rest = &after[bad..];
                        }
                        // A character cut off at the end: wait for the rest of it.
                        None if !all => {
                            rest = after;
                            break;
                        }
                        None => {
                            text.push('\u{FFFD}');
                            rest = &[];
                            break;
                        }
                    }
                }
            }
        }
        // A CR at the very end may be the first half of a CR LF.
        if !all && text.ends_with('\r') {
            text.pop();
            let mut kept = b"\r".to_vec();
            kept.extend_from_slice(rest);
            self.pending = kept;
        } else {
            self.pending = rest.to_vec();
        }
        self.inner.write_all(printable(&text).as_bytes())
    }
}

impl<W: Write> Write for Printable<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.drain(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
    }
}

impl<W: Write> Drop for Printable<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Standard output, made safe for a terminal.
pub fn stdout() -> Printable<io::Stdout> {
    Printable::new(io::stdout())
}

/// Standard error, made safe for a terminal.
pub fn stderr() -> Printable<io::Stderr> {
    Printable::new(io::stderr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(
            printable("a\x1b]0;pwned\x07b\x1b[2Jc\rd\x08e\x7f"),
            "a␛]0;pwned␇b␛[2Jc␍d␈e␡"
        );
        assert_eq!(
            printable("x\u{9b}31m y\u{202e}z"),
            "x<U+009B>31m y<U+202E>z"
        );
        assert_eq!(
            printable("linje 1\r\nlinje 2\tfane"),
            "linje 1\nlinje 2\tfane"
        );
        assert!(matches!(
            printable("Hva er en rammeavtale? «æøå» 🙂"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn nothing_a_terminal_acts_on_survives() {
        let every: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let printed = printable(&every);
        assert!(printed
            .chars()
            .all(|c| matches!(shown(c), Shown::Itself)
                && (c == '\n' || c == '\t' || !c.is_control())));
    }

    #[test]
    fn json_keeps_its_values_and_escapes_what_terminals_act_on() {
        let value = serde_json::json!({"question": "a\u{9b}b\u{202e}c\u{1b}d\u{2028}"});
        let line = json_line(&value);
        assert!(line
            .chars()
            .all(|c| !c.is_control() && !matches!(shown(c), Shown::CodePoint)));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&line).unwrap(),
            value
        );
    }

    #[test]
    fn the_writer_takes_pieces_split_anywhere() {
        let text = "å\u{9b}ø\r\n\x1b[Kslutt\r";
        let bytes = text.as_bytes();
        for split in 0..=bytes.len() {
            let mut out = Vec::new();
            {
                let mut writer = Printable::new(&mut out);
                writer.write_all(&bytes[..split]).unwrap();
                writer.write_all(&bytes[split..]).unwrap();
            }
            assert_eq!(
                String::from_utf8(out).unwrap(),
                "å<U+009B>ø\n␛[Kslutt␍",
                "{split}"
            );
        }
        let mut out = Vec::new();
        Printable::new(&mut out).write_all(b"a\xffb").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a\u{FFFD}b");
    }
}
