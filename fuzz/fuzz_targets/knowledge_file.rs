//! Any bytes as a knowledge file and as a glossary: an entry or problems with a line
//! number, never a panic; an entry that parses writes back (`Entry::to_markdown`) to a file
//! that parses to the same entry.

#![no_main]

use std::path::Path;

use anbud::knowledge::{parse_entry_file, Glossary};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("knowledge/entries/fuzz.nb.md");
    let max_line = text.lines().count() + 2;
    match parse_entry_file(path, &text) {
        Ok((entry, warnings)) => {
            assert!(warnings.iter().all(|w| w.line >= 1 && w.line <= max_line));
            let again = parse_entry_file(path, &entry.to_markdown());
            match again {
                Ok((again, _)) => assert_eq!(again, entry, "round trip through to_markdown"),
                Err(problems) => panic!("to_markdown wrote a file that does not parse: {problems:?}"),
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty());
            for p in &problems {
                assert!(p.line >= 1 && p.line <= max_line, "{p}");
            }
        }
    }
    let lines = text.lines().count().max(1);
    let (_, problems) = Glossary::parse(Path::new("glossary.txt"), &text);
    assert!(problems.iter().all(|p| p.line >= 1 && p.line <= lines));
});
