//! `cityguide pack report`: the quality report of a source folder or a pack (computed by `cityguide_publisher::report`).

use std::path::Path;

use cityguide_core::pack::PackFile;
use cityguide_core::pack::model::Content;
use cityguide_publisher::build::{Severity, load_sources_for_report};
use cityguide_publisher::report::{ReportOptions, quality_report};

/// The content of a source folder or a pack file.
pub fn load(path: &Path) -> Result<Content, String> {
    if path.is_dir() {
        match load_sources_for_report(path) {
            Ok((content, _warnings)) => Ok(content),
            Err(failed) => {
                for d in failed.diagnostics.iter().filter(|d| d.severity == Severity::Error) {
                    let mut d = d.clone();
                    d.file = path.join(&d.file).display().to_string();
                    eprintln!("{d}");
                }
                Err(format!(
                    "{} error(s) in {}: fix them (see `cityguide pack build`), then ask for the report again",
                    failed.errors().count(),
                    path.display()
                ))
            }
        }
    } else {
        let pack = PackFile::open(path)
            .map_err(|e| format!("{}: {e}; give a pack file or a source folder (with city.toml)", path.display()))?;
        Ok(pack.to_content())
    }
}

/// Runs `cityguide pack report PATH [--json]`.
pub fn run(path: &Path, json: bool) -> Result<(), String> {
    let content = load(path)?;
    let report = quality_report(&content, &ReportOptions::default());
    if json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(())
}
