//! Named points in the download, verify, write, rename and commit steps of an update, where a crash test can stop
//! the process.
//!
//! Updates promise that a crash at any moment leaves the old or the complete new version active, with the user's
//! data intact. That promise is only as good as the test that kills the process at each step, so the steps are named
//! here and the install and sync code announces each one.
//!
//! The hook exists only with the `failpoints` feature, which the crash tests enable (a dev-dependency of the core on
//! itself) and which no release build turns on: without it [`hit`] is an empty inline function and the phone library
//! has no hook at all.

#[cfg(feature = "failpoints")]
use std::sync::OnceLock;

/// Called with the name of each point the update passes.
#[cfg(feature = "failpoints")]
pub type Hook = Box<dyn Fn(&str) + Send + Sync>;

#[cfg(feature = "failpoints")]
static HOOK: OnceLock<Hook> = OnceLock::new();

/// After each chunk of a download is appended to its partial file.
pub const DOWNLOAD_CHUNK: &str = "download.chunk-written";
/// A download is complete and synced to disk, before its SHA-256 is checked.
pub const DOWNLOAD_COMPLETE: &str = "download.complete";
/// A delta was applied and the rebuilt pack matches the catalog's hash.
pub const DELTA_APPLIED: &str = "verify.delta-applied";
/// The new pack passed every check and is about to be installed.
pub const VERIFIED: &str = "verify.done";
/// The pack bytes are written to the temporary file, not yet synced.
pub const TEMP_WRITTEN: &str = "write.temp-written";
/// The temporary file is synced, not yet renamed.
pub const TEMP_SYNCED: &str = "write.temp-synced";
/// The file has its final name; the directory is not yet synced.
pub const RENAMED: &str = "rename.done";
/// The directory is synced; the database still names the old pack.
pub const DIR_SYNCED: &str = "rename.dir-synced";
/// Inside the database transaction that switches the active pack, before it commits.
pub const BEFORE_COMMIT: &str = "commit.before";
/// The switch is committed; the old pack file is still on disk.
pub const COMMITTED: &str = "commit.done";
/// The old pack file was removed.
pub const OLD_REMOVED: &str = "commit.old-removed";

/// Every point, in the order a full-pack update passes them (the delta path adds [`DELTA_APPLIED`]).
pub const ALL: &[&str] = &[
    DOWNLOAD_CHUNK,
    DOWNLOAD_COMPLETE,
    DELTA_APPLIED,
    VERIFIED,
    TEMP_WRITTEN,
    TEMP_SYNCED,
    RENAMED,
    DIR_SYNCED,
    BEFORE_COMMIT,
    COMMITTED,
    OLD_REMOVED,
];

/// Installs the hook for the rest of the process (crash tests only). Returns false when one was already installed.
#[cfg(feature = "failpoints")]
pub fn set_hook(hook: Hook) -> bool {
    HOOK.set(hook).is_ok()
}

/// Announces that the update reached `point`.
#[cfg(feature = "failpoints")]
pub(crate) fn hit(point: &str) {
    if let Some(hook) = HOOK.get() {
        hook(point);
    }
}

/// Without the `failpoints` feature there is nothing to announce to.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub(crate) fn hit(_point: &str) {}
