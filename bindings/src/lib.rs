//! # cityguide-ffi
//!
//! UniFFI bindings of the cityguide core for Kotlin and Swift. This crate holds no logic of its own: it converts
//! core types into records that read naturally on each platform and core errors into one public error type, and
//! guarantees that nothing panics across the boundary.

uniffi::setup_scaffolding!();

/// Why a call into the guide failed. Messages never contain coordinates or URLs.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum GuideError {
    /// The content pack is damaged, of another format or breaks an invariant.
    #[error("invalid pack: {reason}")]
    InvalidPack {
        /// What is wrong.
        reason: String,
    },
    /// A bug in the core; the call had no effect.
    #[error("internal error: {reason}")]
    Internal {
        /// What happened.
        reason: String,
    },
}

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
        let pack = cityguide_core::pack::PackFile::from_bytes(bytes)
            .map_err(|e| GuideError::InvalidPack { reason: e.to_string() })?;
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

/// Runs `f`, turning a panic into [`GuideError::Internal`] so it never unwinds into Kotlin or Swift.
fn guard<T>(f: impl FnOnce() -> Result<T, GuideError>) -> Result<T, GuideError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unexpected failure".to_owned());
        Err(GuideError::Internal { reason })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_crash() {
        let err = inspect_pack(vec![1, 2, 3, 4, 5, 6, 7, 8, 9]).err();
        assert!(matches!(err, Some(GuideError::InvalidPack { .. })), "{err:?}");
    }

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let r: Result<(), GuideError> = guard(|| panic!("boom"));
        assert!(matches!(r, Err(GuideError::Internal { reason }) if reason == "boom"));
    }
}
