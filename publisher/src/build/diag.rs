//! Diagnostics with exact source locations, and the helpers that find those locations in CSV, JSON and TOML text.
//!
//! A culture department fixes its spreadsheet from our messages alone, so every message says where
//! (`file:line:column`, 1-based, columns in characters) and what to do.

use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks the build.
    Error,
    /// Reported, but the pack is still written.
    Warning,
}

/// One problem found in the sources.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Source file, relative to the source directory (e.g. `texts/bg.csv`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}:{}:{}: {sev}: {}", self.file, self.line, self.column, self.message)
    }
}

/// Maps byte offsets of one text to 1-based line and character column.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    /// Indexes the line starts of `text`.
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// Line and column of byte `offset` in `text` (clamped to the text).
    pub fn locate(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let col = text.get(start..offset).map_or(offset - start, |s| s.chars().count()) + 1;
        (line, col)
    }
}

/// Byte offset where field `field` (0-based) of the CSV record starting at byte `start` begins.
pub fn csv_field_offset(raw: &[u8], start: usize, field: usize) -> usize {
    let mut i = start;
    let mut f = 0;
    let mut quoted = false;
    while i < raw.len() && f < field {
        let c = raw[i];
        if quoted {
            if c == b'"' {
                if raw.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    quoted = false;
                }
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' {
            f += 1;
        } else if c == b'\n' {
            break;
        }
        i += 1;
    }
    i
}

/// One step into a JSON document.
#[derive(Debug, Clone, Copy)]
pub enum JsonStep<'a> {
    /// A member of an object.
    Key(&'a str),
    /// An element of an array.
    Index(usize),
}

/// Byte offset of the value reached by following `path` from the document root, or of the deepest value that exists
/// on the way. Used to point at the exact feature or coordinate a GeoJSON error is about.
pub fn json_locate(text: &str, path: &[JsonStep<'_>]) -> usize {
    let b = text.as_bytes();
    let mut pos = skip_ws(b, 0);
    for step in path {
        match (step, b.get(pos)) {
            (JsonStep::Key(key), Some(b'{')) => {
                let mut i = skip_ws(b, pos + 1);
                let mut found = None;
                while let Some(b'"') = b.get(i) {
                    let end = skip_string(b, i);
                    let name = text.get(i + 1..end.saturating_sub(1)).unwrap_or("");
                    i = skip_ws(b, end);
                    if b.get(i) != Some(&b':') {
                        return pos;
                    }
                    i = skip_ws(b, i + 1);
                    if name == *key {
                        found = Some(i);
                        break;
                    }
                    i = skip_ws(b, skip_value(b, i));
                    if b.get(i) == Some(&b',') {
                        i = skip_ws(b, i + 1);
                    }
                }
                match found {
                    Some(v) => pos = v,
                    None => return pos,
                }
            }
            (JsonStep::Index(n), Some(b'[')) => {
                let mut i = skip_ws(b, pos + 1);
                for _ in 0..*n {
                    if matches!(b.get(i), None | Some(b']')) {
                        return pos;
                    }
                    i = skip_ws(b, skip_value(b, i));
                    if b.get(i) == Some(&b',') {
                        i = skip_ws(b, i + 1);
                    }
                }
                if matches!(b.get(i), None | Some(b']')) {
                    return pos;
                }
                pos = i;
            }
            _ => return pos,
        }
    }
    pos
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// `i` is at an opening quote; returns the offset after the closing quote.
fn skip_string(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while let Some(c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

fn skip_value(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => skip_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while let Some(c) = b.get(j) {
                match c {
                    b'"' => {
                        j = skip_string(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            j
        }
        _ => {
            let mut j = i;
            while let Some(c) = b.get(j) {
                if matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    break;
                }
                j += 1;
            }
            j
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "ab\nвар,на\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.locate(text, 0), (1, 1));
        assert_eq!(idx.locate(text, 3), (2, 1));
        let comma = text.find(',').unwrap_or_default();
        assert_eq!(idx.locate(text, comma + 1), (2, 5));
    }

    #[test]
    fn csv_fields_skip_quoted_commas() {
        let raw = b"a,\"x,\"\"y\"\"\",c\n";
        assert_eq!(csv_field_offset(raw, 0, 0), 0);
        assert_eq!(csv_field_offset(raw, 0, 1), 2);
        assert_eq!(csv_field_offset(raw, 0, 2), 12);
    }

    #[test]
    fn json_paths_reach_nested_values() {
        let text = "{\"type\": \"FeatureCollection\",\n \"features\": [ {\"a\": 1},\n  {\"geometry\": {\"coordinates\": [[1,2],[3,4]]}}]}";
        let at = json_locate(
            text,
            &[
                JsonStep::Key("features"),
                JsonStep::Index(1),
                JsonStep::Key("geometry"),
                JsonStep::Key("coordinates"),
                JsonStep::Index(1),
            ],
        );
        assert_eq!(&text[at..at + 5], "[3,4]");
        let missing = json_locate(text, &[JsonStep::Key("features"), JsonStep::Index(7)]);
        assert_eq!(&text[missing..missing + 1], "[");
    }
}
