//! # cityguide-ffi
//!
//! UniFFI bindings of the cityguide core for Kotlin and Swift. This crate holds no logic of its own: it converts
//! core types into records that read naturally on each platform, maps core errors into one public error type whose
//! messages never contain positions or URLs, adapts the apps' HTTP stacks (a foreign trait) to the core's transport,
//! and guarantees that nothing panics across the boundary (every exported function runs inside a panic guard).
//!
//! The exported surface: [`Guide`] (open with a [`GuideConfig`]; cities, queries, tours, user data, updates),
//! [`ProximityTracker`], [`CancelToken`], the foreign traits [`Transport`] and [`ProgressListener`], the error
//! [`GuideError`], and the free functions [`inspect_pack`] and [`debug_panic_for_tests`].

uniffi::setup_scaffolding!();

mod error;
mod guide;
mod transport;
mod types;

pub use error::GuideError;
pub use guide::{
    CancelToken, Geofence, GeofencePlan, Guide, LocationFix, ProgressListener, ProximityConfig, ProximityEvent,
    ProximityTracker,
};
pub use transport::{ByteRange, HttpHeader, HttpMethod, HttpRequest, HttpResponse, Transport, TransportError};
pub use types::*;

use error::guard;

/// What a content pack holds, for a pack list or an install prompt.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PackSummary {
    /// Stable city id.
    pub city_id: String,
    /// Content version.
    pub version: u64,
    /// Default language.
    pub default_language: String,
    /// All languages, default first.
    pub languages: Vec<String>,
    /// Number of places.
    pub places: u32,
    /// Number of tours.
    pub tours: u32,
    /// Size in bytes.
    pub size_bytes: u64,
}

/// Verifies pack bytes and summarises them; damaged bytes give [`GuideError::InvalidPack`], never a crash.
#[uniffi::export]
pub fn inspect_pack(bytes: Vec<u8>) -> Result<PackSummary, GuideError> {
    guard(|| {
        let size = bytes.len() as u64;
        let pack = cityguide_core::pack::PackFile::from_bytes(bytes)?;
        let p = pack.pack();
        let meta = p.meta();
        Ok(PackSummary {
            city_id: meta.city_id().to_owned(),
            version: meta.version(),
            default_language: meta.default_language().to_owned(),
            languages: meta.languages().map(|l| l.iter().map(str::to_owned).collect()).unwrap_or_default(),
            places: p.pois().map_or(0, |v| v.len() as u32),
            tours: p.tours().map_or(0, |v| v.len() as u32),
            size_bytes: size,
        })
    })
}

/// **For tests only.** Panics inside the library on purpose, so Kotlin and Swift tests can prove that a panic
/// arrives as `GuideError.Internal` and never crashes the app. Apps must not call it.
#[uniffi::export]
pub fn debug_panic_for_tests() -> Result<(), GuideError> {
    guard(|| panic!("deliberate panic for tests"))
}

/// The version of the library, e.g. "0.1.0".
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
