//! A bounded memo of results computed from a text, shared by the threads that answer.
//!
//! Answering recomputes things that depend only on a text and on data fixed once the
//! index is built: what a question word stands for in the index (stemming, compound
//! splitting and typo look-up, a tenth of an answer at 10,000 entries), whether a
//! passage holds a figure (a Unicode regex, a thirtieth). Questions keep using the same
//! words and replies the same passages, so a remembered result, which is exactly what
//! computing it again would give, saves that work. The memo holds at most `capacity`
//! texts and starts afresh when full, so its size never follows the number of questions
//! asked.

use std::sync::Mutex;

use rustc_hash::FxHashMap as HashMap;

pub struct Memo<V> {
    results: Mutex<HashMap<String, V>>,
    capacity: usize,
}

impl<V: Clone> Memo<V> {
    pub fn new(capacity: usize) -> Memo<V> {
        Memo {
            results: Mutex::new(HashMap::default()),
            capacity,
        }
    }

    /// The remembered result for `text`.
    pub fn get(&self, text: &str) -> Option<V> {
        self.lock().get(text).cloned()
    }

    /// The remembered result for each of `texts` (`None` where there is none), under one
    /// lock.
    pub fn get_all(&self, texts: &[String]) -> Vec<Option<V>> {
        let results = self.lock();
        texts.iter().map(|t| results.get(t).cloned()).collect()
    }

    /// `text`'s result, from the memo or computed (outside the lock) and remembered.
    pub fn get_or_compute(&self, text: &str, compute: impl FnOnce(&str) -> V) -> V {
        if let Some(result) = self.get(text) {
            return result;
        }
        let result = compute(text);
        self.remember(vec![(text.to_string(), result.clone())]);
        result
    }

    /// Remember `computed` results.
    pub fn remember(&self, computed: Vec<(String, V)>) {
        if computed.is_empty() {
            return;
        }
        let mut results = self.lock();
        if results.len() + computed.len() > self.capacity {
            results.clear();
        }
        results.extend(computed.into_iter().take(self.capacity));
    }

    /// Forget every result: what they were computed from has changed.
    pub fn clear(&mut self) {
        self.results
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clear();
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, V>> {
        // A panic while holding the lock cannot leave the map half-changed in a way that
        // matters: at worst a result is missing, and it is computed again.
        self.results
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A clone starts empty: the clone's owner may change what results are computed from
/// (new index terms) before it is used.
impl<V: Clone> Clone for Memo<V> {
    fn clone(&self) -> Memo<V> {
        Memo::new(self.capacity)
    }
}

impl<V> std::fmt::Debug for Memo<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo")
            .field("capacity", &self.capacity)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_results_and_starts_afresh_when_full() {
        let memo: Memo<u32> = Memo::new(100);
        memo.remember(vec![("anbud".into(), 1)]);
        assert_eq!(
            memo.get_all(&["anbud".into(), "tilbud".into()]),
            vec![Some(1), None]
        );
        let mut computed = 0;
        assert_eq!(
            memo.get_or_compute("tilbud", |_| {
                computed += 1;
                2
            }),
            2
        );
        assert_eq!(
            memo.get_or_compute("tilbud", |_| {
                computed += 1;
                3
            }),
            2
        );
        assert_eq!(computed, 1, "computed once, then remembered");
        memo.remember((0..100).map(|i| (format!("w{i}"), i)).collect());
        assert_eq!(memo.len(), 100, "cleared, then filled with the new results");
        assert_eq!(memo.get("anbud"), None);
        assert_eq!(memo.get("w7"), Some(7));
        assert!(memo.clone().is_empty(), "a clone starts empty");
    }
}
