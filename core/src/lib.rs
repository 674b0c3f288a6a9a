//! # cityguide-core
//!
//! Everything an offline city guide knows, with no FFI: the content-pack format and its defensive reader, the
//! deterministic pack builder that turns a culture department's spreadsheets and GIS files into a pack, and (in later
//! modules) the queries, store and sync the phone apps use through the `cityguide-ffi` bindings.
//!
//! ```no_run
//! use std::path::Path;
//! use cityguide_core::build::{build_pack, BuildOptions};
//! use cityguide_core::pack::PackFile;
//!
//! let built = build_pack(Path::new("data/varna"), &BuildOptions::default()).expect("valid sources");
//! let pack = PackFile::from_bytes(built.bytes).expect("a pack the builder wrote verifies");
//! assert_eq!(pack.meta().city_id(), "varna");
//! ```

// The FlatBuffers code generated for the pack schema refers to `alloc::` paths.
extern crate alloc;

pub mod build;
pub mod catalog;
pub mod citizen;
pub mod delta;
pub mod export;
pub mod failpoint;
pub mod geodesy;
pub mod guide;
pub mod hours;
pub mod lang;
pub mod model;
#[cfg(feature = "osm")]
pub mod osm;
pub mod pack;
pub mod proximity;
pub mod publish;
pub mod report;
pub mod search;
pub mod spatial;
pub mod store;
pub mod sync;
pub mod tour;
pub mod translit;
pub mod transport;
