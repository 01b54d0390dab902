//! The bundled knowledge base, and copies of it a test may change.

use std::path::{Path, PathBuf};

/// The bundled `knowledge/` folder (read only: copy it to change it).
pub(crate) fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

/// A copy of the bundled knowledge base in a temporary folder the test may change.
pub(crate) fn knowledge_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&knowledge_dir(), dir.path());
    dir
}

/// Copy a folder and everything in it.
pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
