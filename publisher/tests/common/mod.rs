//! Shared helpers for the publisher's integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the publisher sits in the workspace").to_path_buf()
}

/// The small test city with every kind of source file.
pub fn mini() -> PathBuf {
    repo().join("data/fixtures/mini")
}

/// Copies a source directory into a fresh temporary directory.
pub fn copy_sources(src: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("temp dir");
    copy_dir(src, tmp.path());
    tmp
}

fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).expect("mkdir");
    for entry in std::fs::read_dir(src).expect("read dir") {
        let entry = entry.expect("entry");
        let to = dst.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), &to).expect("copy");
        }
    }
}

/// Replaces the first occurrence of `from` in `dir/file` (which must contain it).
pub fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).expect("read source");
    assert!(text.contains(from), "{file} does not contain {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write source");
}

/// Edits a copy of the mini sources into a next version: one English summary changed and the clock tower removed
/// (from places, texts and the tour that passed it).
pub fn next_version_sources(src: &Path) {
    edit(src, "texts/en.csv", "The main church of Varna.", "The main Orthodox church of Varna.");
    for f in ["places.csv", "texts/bg.csv", "texts/en.csv"] {
        let t = std::fs::read_to_string(src.join(f)).expect("read");
        let kept: String = t
            .lines()
            .filter(|l| !l.starts_with("clock-tower,") && !l.contains(",clock-tower,"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(src.join(f), kept).expect("write");
    }
    edit(src, "tours.csv", "cathedral;clock-tower;", "cathedral;");
}
