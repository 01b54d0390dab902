//! A short list of texts (an entry's example questions or keywords) kept in two
//! allocations rather than one per text.
//!
//! At 10,000 entries (20,000 files) the example questions and keywords as a
//! `Vec<String>` each were some 200,000 allocations and the largest holder of a second
//! start's memory after the bodies were left on disk (about 33 MB of a 113 MB heap): a
//! short string costs its header and the allocator's overhead as much as its text.
//! Here the texts are written one after the other in one `Box<str>`, with where each
//! ends in a `Box<[u32]>`.

use std::fmt;

/// Texts in order, read as `&str`; see the module's notes.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct TextList {
    /// The texts one after the other.
    joined: Box<str>,
    /// Where each text ends in `joined`.
    ends: Box<[u32]>,
}

impl TextList {
    /// No texts.
    pub fn new() -> TextList {
        TextList::default()
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`th text.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        Some(&self.joined[start..end])
    }

    pub fn first(&self) -> Option<&str> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&str> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            front: 0,
            back: self.len(),
        }
    }

    /// Whether `text` is one of the texts.
    pub fn contains(&self, text: &str) -> bool {
        self.iter().any(|t| t == text)
    }

    /// Add `text` at the end (copies the list: lists are short and rarely added to).
    pub fn push(&mut self, text: &str) {
        *self = self.iter().chain(std::iter::once(text)).collect();
    }

    /// The texts with `separator` between them.
    pub fn join(&self, separator: &str) -> String {
        let mut out = String::with_capacity(self.joined.len() + separator.len() * self.len());
        for (i, text) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(separator);
            }
            out.push_str(text);
        }
        out
    }

    /// The texts as strings of their own.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_string).collect()
    }
}

/// The texts of a [`TextList`], in order.
#[derive(Clone)]
pub struct Iter<'a> {
    list: &'a TextList,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        self.list.get(self.front - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        self.list.get(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a TextList {
    type Item = &'a str;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// A [`TextList`] being written, text by text; [`TextListBuilder::finish`] allocates it
/// at its exact size (a list shrunk from a grown `String` kept the spare room or moved).
#[derive(Default)]
pub(crate) struct TextListBuilder {
    joined: String,
    ends: Vec<u32>,
}

impl TextListBuilder {
    pub(crate) fn push(&mut self, text: &str) {
        self.joined.push_str(text);
        // Lists are a few short texts; one over 4 GB could not have been read.
        let end = u32::try_from(self.joined.len()).unwrap_or(u32::MAX);
        self.ends.push(end);
    }

    /// The list, leaving the builder empty for the next.
    pub(crate) fn finish(&mut self) -> TextList {
        let list = TextList {
            joined: Box::from(self.joined.as_str()),
            ends: Box::from(self.ends.as_slice()),
        };
        self.joined.clear();
        self.ends.clear();
        list
    }
}

impl<S: AsRef<str>> FromIterator<S> for TextList {
    fn from_iter<I: IntoIterator<Item = S>>(items: I) -> TextList {
        let mut builder = TextListBuilder::default();
        for item in items {
            builder.push(item.as_ref());
        }
        builder.finish()
    }
}

impl From<Vec<String>> for TextList {
    fn from(items: Vec<String>) -> TextList {
        items.into_iter().collect()
    }
}

impl From<&[String]> for TextList {
    fn from(items: &[String]) -> TextList {
        items.iter().collect()
    }
}

impl<const N: usize> From<[&str; N]> for TextList {
    fn from(items: [&str; N]) -> TextList {
        items.into_iter().collect()
    }
}

impl std::ops::Index<usize> for TextList {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(text) => text,
            None => panic!("text {i} of a list of {}", self.len()),
        }
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for TextList {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for TextList {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for TextList {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl fmt::Debug for TextList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Serialised as a sequence of strings, as a `Vec<String>` is.
impl serde::Serialize for TextList {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> serde::Deserialize<'de> for TextList {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<TextList, D::Error> {
        Vec::<String>::deserialize(deserializer).map(TextList::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_read_back_in_order_whatever_they_hold() {
        let texts = ["Hva er en rammeavtale?", "", "første\n+++\nandre", "ø"];
        let list: TextList = texts.iter().collect();
        assert_eq!(list.len(), 4);
        assert!(!list.is_empty());
        assert_eq!(list.iter().collect::<Vec<_>>(), texts);
        assert_eq!(list.iter().rev().collect::<Vec<_>>(), [texts[3], texts[2], texts[1], texts[0]]);
        assert_eq!(list.iter().len(), 4);
        assert_eq!(list.get(2), Some(texts[2]));
        assert_eq!(&list[1], "");
        assert_eq!(list.get(4), None);
        assert_eq!(list.first(), Some(texts[0]));
        assert_eq!(list.last(), Some("ø"));
        assert!(list.contains("ø") && !list.contains("o"));
        assert_eq!(list.join(" | "), texts.join(" | "));
        assert_eq!(list, texts);
        assert_eq!(list.to_vec(), texts.map(String::from).to_vec());
        assert_eq!(format!("{list:?}"), format!("{texts:?}"));

        let mut grown = TextList::new();
        assert!(grown.is_empty() && grown.first().is_none() && grown.join(", ").is_empty());
        for text in texts {
            grown.push(text);
        }
        assert_eq!(grown, list);
    }

    /// Serialised exactly as the `Vec<String>` it replaced (exports and web pages show
    /// it so), and read back from one.
    #[test]
    fn it_serialises_as_a_list_of_strings() {
        let texts = vec!["a \"b\"".to_string(), "c".to_string()];
        let list = TextList::from(texts.clone());
        assert_eq!(
            serde_json::to_string(&list).unwrap(),
            serde_json::to_string(&texts).unwrap()
        );
        let back: TextList = serde_json::from_str(r#"["a \"b\"", "c"]"#).unwrap();
        assert_eq!(back, list);
    }
}
