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

pub use error::{GuideError, KeyProblem};
pub use guide::{CancelToken, Guide, ProgressListener, ProximityTracker};
pub use transport::{ByteRange, HttpHeader, HttpMethod, HttpRequest, HttpResponse, Transport, TransportError};
pub use types::*;

use error::guard;

/// Verifies pack bytes and summarises them; damaged bytes give [`GuideError::InvalidPack`], never a crash.
#[uniffi::export]
pub fn inspect_pack(bytes: Vec<u8>) -> Result<PackSummary, GuideError> {
    guard(|| Ok(cityguide_core::pack::PackFile::from_bytes(bytes)?.info().into()))
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

#[cfg(test)]
mod tests;
