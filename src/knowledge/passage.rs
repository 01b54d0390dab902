//! The passages of an entry: its lead (the text before the first `###` heading) and each
//! `###` section. A reply is the lead, plus the section that answers the question when
//! the lead does not.

/// One passage of an entry's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Passage<'a> {
    /// The `###` heading without the hashes; `None` for the lead.
    pub heading: Option<&'a str>,
    /// The text under the heading (for the lead, the whole lead), trimmed.
    pub text: &'a str,
}

/// Split a body into its passages: the lead first (when the body has text before its
/// first heading), then each `###` section in order. A body without headings is one
/// passage.
pub fn passages(body: &str) -> Vec<Passage<'_>> {
    let mut out = Vec::new();
    let mut heading: Option<&str> = None;
    let mut start = 0;
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        if let Some(title) = line.trim_end().strip_prefix("### ") {
            push(&mut out, heading, &body[start..offset]);
            heading = Some(title.trim());
            start = offset + line.len();
        }
        offset += line.len();
    }
    push(&mut out, heading, &body[start..]);
    out
}

fn push<'a>(out: &mut Vec<Passage<'a>>, heading: Option<&'a str>, text: &'a str) {
    let text = text.trim();
    if heading.is_some() || !text.is_empty() {
        out.push(Passage { heading, text });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_and_sections() {
        let body = "Lead one.\n\nLead two.\n\n### First\nA.\n\n- b\n### Second\n\nC.\n";
        let p = passages(body);
        assert_eq!(p.len(), 3);
        assert_eq!(
            p[0],
            Passage {
                heading: None,
                text: "Lead one.\n\nLead two."
            }
        );
        assert_eq!(
            p[1],
            Passage {
                heading: Some("First"),
                text: "A.\n\n- b"
            }
        );
        assert_eq!(
            p[2],
            Passage {
                heading: Some("Second"),
                text: "C."
            }
        );
    }

    #[test]
    fn a_body_without_headings_is_one_passage_and_a_heading_first_has_no_lead() {
        assert_eq!(passages("Only text.").len(), 1);
        let p = passages("### Heading\nText.");
        assert_eq!(
            p,
            vec![Passage {
                heading: Some("Heading"),
                text: "Text."
            }]
        );
        assert!(passages("").is_empty());
        // "####" is not a passage heading, and "###x" is not a heading.
        assert_eq!(passages("A\n#### Sub\nB\n###x").len(), 1);
    }
}
