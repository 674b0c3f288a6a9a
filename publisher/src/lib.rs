//! # cityguide-publisher
//!
//! The culture department's side of cityguide, everything that makes what phones download and nothing a phone runs:
//!
//! - [`build`]: publisher sources (TOML, CSV, GeoJSON) to content and a deterministic pack, every problem reported
//!   with its `file:line:column`;
//! - [`report`]: what the content still lacks, per language; [`preview`]: a page to check a pack by eye;
//!   [`export`]: the content as open data (GeoJSON);
//! - [`latin`]: the general transliteration a pack carries for the characters of its texts;
//! - [`delta`]: record-level deltas between two versions; [`signing`]: keys and catalog signatures;
//! - [`publish`]: a site of plain files (signed catalog, packs, deltas) any static host serves;
//! - [`osm`] (feature `osm`): OpenStreetMap extracts to editable sources.
//!
//! ```no_run
//! use std::path::Path;
//! use cityguide_publisher::build::{BuildOptions, build_pack};
//! use cityguide_core::pack::PackFile;
//!
//! let built = build_pack(Path::new("data/varna"), &BuildOptions::default()).expect("valid sources");
//! let pack = PackFile::from_bytes(built.bytes).expect("a pack the builder wrote verifies");
//! assert_eq!(pack.info().city_id, "varna");
//! ```

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod build;
pub mod delta;
pub mod export;
pub mod latin;
#[cfg(feature = "osm")]
pub mod osm;
pub mod preview;
pub mod publish;
pub mod report;
pub mod signing;
