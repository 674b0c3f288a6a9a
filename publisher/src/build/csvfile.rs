//! CSV files as a spreadsheet saves them, kept with their raw text so every cell can be located exactly.

use std::path::Path;

use super::Ctx;
use super::diag::{LineIndex, csv_field_offset};

/// A row of a CSV file and where it starts.
pub(crate) struct Row {
    pub rec: csv::StringRecord,
    pub start: usize,
}

/// A loaded CSV file: header, rows and the text they came from.
pub(crate) struct CsvFile {
    pub name: String,
    text: String,
    index: LineIndex,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

impl CsvFile {
    /// Loads `dir/name`. Returns `None` when the file does not exist (the caller decides whether that is an error)
    /// or cannot be used at all (the reason is already reported).
    pub fn load(dir: &Path, name: &str, ctx: &mut Ctx) -> Option<CsvFile> {
        Self::load_named(&dir.join(name), name, ctx)
    }

    /// Loads `path`, naming it `name` in diagnostics.
    pub fn load_named(path: &Path, name: &str, ctx: &mut Ctx) -> Option<CsvFile> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                ctx.error(name, 1, 1, format!("cannot read the file: {e}"));
                return None;
            }
        };
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let good = e.utf8_error().valid_up_to();
                let prefix = String::from_utf8_lossy(&e.as_bytes()[..good]).into_owned();
                let (line, col) = LineIndex::new(&prefix).locate(&prefix, good);
                ctx.error(
                    name,
                    line,
                    col,
                    "the file is not UTF-8 text; in your spreadsheet use \"Save as: CSV UTF-8\"",
                );
                return None;
            }
        };
        let text = text.strip_prefix('\u{feff}').map(str::to_owned).unwrap_or(text);
        let index = LineIndex::new(&text);
        let source = text.clone();
        let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(source.as_bytes());
        let headers: Vec<String> = match rdr.headers() {
            Ok(h) => h.iter().map(|s| s.trim().to_owned()).collect(),
            Err(e) => {
                ctx.error(name, 1, 1, format!("cannot read the header row: {e}"));
                return None;
            }
        };
        if headers.len() == 1 && headers[0].contains(';') {
            ctx.error(
                name,
                1,
                1,
                "the columns are separated by ';'; save the file as CSV with commas (\"CSV UTF-8 (comma delimited)\")",
            );
            return None;
        }
        let mut file = CsvFile { name: name.to_owned(), text, index, headers, rows: Vec::new() };
        for rec in rdr.records() {
            match rec {
                Ok(rec) => {
                    let start = rec.position().map_or(0, |p| p.byte() as usize);
                    if rec.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    let row = Row { rec, start };
                    if row.rec.len() != file.headers.len() {
                        let (line, col) = file.index.locate(&file.text, row.start);
                        ctx.error(
                            name,
                            line,
                            col,
                            format!(
                                "this row has {} cells but the header has {} columns; check for a missing or extra comma, or quote cells that contain commas",
                                row.rec.len(),
                                file.headers.len()
                            ),
                        );
                        continue;
                    }
                    file.rows.push(row);
                }
                Err(e) => {
                    let (line, col) = e.position().map_or((1, 1), |p| file.index.locate(&file.text, p.byte() as usize));
                    ctx.error(name, line, col, format!("malformed CSV: {e}"));
                }
            }
        }
        Some(file)
    }

    /// Index of a column by header name.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// Trimmed cell text ("" when the column does not exist).
    pub fn get<'r>(&self, row: &'r Row, col: Option<usize>) -> &'r str {
        col.and_then(|c| row.rec.get(c)).map_or("", str::trim)
    }

    /// Trimmed cell text, `None` when empty.
    pub fn opt(&self, row: &Row, col: Option<usize>) -> Option<String> {
        Some(self.get(row, col)).filter(|s| !s.is_empty()).map(str::to_owned)
    }

    /// Line and column of a cell (of the row start when the column does not exist).
    pub fn at(&self, row: &Row, col: Option<usize>) -> (usize, usize) {
        let offset = csv_field_offset(self.text.as_bytes(), row.start, col.unwrap_or(0));
        self.index.locate(&self.text, offset)
    }

    /// Reports an error at a cell.
    pub fn error(&self, ctx: &mut Ctx, row: &Row, col: Option<usize>, msg: impl Into<String>) {
        let (line, column) = self.at(row, col);
        ctx.error(&self.name, line, column, msg);
    }

    /// Reports a warning at a cell.
    pub fn warn(&self, ctx: &mut Ctx, row: &Row, col: Option<usize>, msg: impl Into<String>) {
        let (line, column) = self.at(row, col);
        ctx.warn(&self.name, line, column, msg);
    }

    /// Checks the header: every required column present, unknown columns flagged with a likely intended name.
    /// `extra` accepts further column names (e.g. `alt:de`). Returns false when a required column is missing.
    pub fn check_header(
        &self,
        ctx: &mut Ctx,
        required: &[&str],
        optional: &[&str],
        extra: impl Fn(&str) -> bool,
    ) -> bool {
        let mut ok = true;
        for r in required {
            if self.col(r).is_none() {
                ctx.error(
                    &self.name,
                    1,
                    1,
                    format!(
                        "the required column \"{r}\" is missing; the header row must contain: {}",
                        required.join(",")
                    ),
                );
                ok = false;
            }
        }
        let text = &self.text;
        for (i, h) in self.headers.iter().enumerate() {
            if required.contains(&h.as_str()) || optional.contains(&h.as_str()) || extra(h) {
                continue;
            }
            let offset = csv_field_offset(text.as_bytes(), 0, i);
            let (line, col) = self.index.locate(text, offset);
            let all: Vec<&str> = required.iter().chain(optional).copied().collect();
            let hint = all
                .iter()
                .map(|k| (edit_distance(k, h), k))
                .filter(|(d, _)| *d <= 2)
                .min()
                .map(|(_, k)| format!("; did you mean \"{k}\"?"))
                .unwrap_or_else(|| "; it is ignored".to_owned());
            if h.is_empty() {
                ctx.warn(&self.name, line, col, "a column has no name in the header row; it is ignored");
            } else {
                ctx.warn(&self.name, line, col, format!("unknown column \"{h}\"{hint}"));
            }
        }
        ok
    }
}

/// Levenshtein distance, for "did you mean" hints on short names.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
