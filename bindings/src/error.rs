//! The one error type Kotlin and Swift see, and the mapping from every core error into it.
//!
//! Why a separate type: core errors carry detail meant for logs and the command line (file paths, sometimes a
//! position or a URL). What crosses the FFI is what an app needs to decide what to show: a variant per situation a
//! user can act on, with the data that situation has (which city, which consent, which HTTP status, which argument).
//! Kotlin gets a sealed exception hierarchy with properties, Swift an enum with associated values. Free text in a
//! variant never contains coordinates (location privacy: an app may forward error texts to crash reporting) nor URLs
//! (the catalog's host is configuration, not user text); [`scrub`] enforces that for every text we do not control.

use cityguide_core::citizen::CitizenError;
use cityguide_core::pack::PackError;
use cityguide_core::update::catalog::{CatalogError, KeyProblem as CoreKeyProblem};
use cityguide_core::{GuideError as CoreGuideError, StoreError, SyncError, TransportError as CoreTransportError};

use crate::types::ConsentScope;

/// What is wrong with a publisher key the app configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum KeyProblem {
    /// Not `ed25519:` followed by 64 hex digits.
    Format,
    /// The bytes are not a point on the curve.
    NotAPoint,
    /// A small-order point (the all-zero key, the identity and the other torsion points): anyone could forge
    /// signatures under it, so it is never trusted.
    Weak,
}

/// Why a call into the guide failed.
///
/// Every variant carries what an app needs to act on it; free-text fields say what went wrong in plain words and
/// never contain a position or a URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum GuideError {
    /// No pack of this city is installed.
    #[error("city {city_id} is not installed")]
    NotInstalled {
        /// The city asked for.
        city_id: String,
    },
    /// The installed city has no place with this id.
    #[error("city {city_id} has no place {place_id}")]
    UnknownPlace {
        /// City.
        city_id: String,
        /// Place asked for.
        place_id: String,
    },
    /// The installed city has no tour with this id.
    #[error("city {city_id} has no tour {tour_id}")]
    UnknownTour {
        /// City.
        city_id: String,
        /// Tour asked for.
        tour_id: String,
    },
    /// The installed city has no category with this id.
    #[error("city {city_id} has no category {category_id}")]
    UnknownCategory {
        /// City.
        city_id: String,
        /// Category asked for.
        category_id: String,
    },
    /// The publisher's catalog does not list this city.
    #[error("the catalog has no city {city_id}")]
    NotInCatalog {
        /// City asked for.
        city_id: String,
    },
    /// An argument was out of range, empty or malformed.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// Which argument ("position", "radius", "search text", ...).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A trusted publisher key given when the guide was opened cannot be used; nothing was opened.
    #[error("invalid publisher key {key_index}: {problem:?}")]
    InvalidKey {
        /// Position of the key in `GuideConfig.trustedKeys`, from 0.
        key_index: u32,
        /// What is wrong with it.
        problem: KeyProblem,
    },
    /// The content pack is damaged, of another format or breaks an invariant; nothing was installed.
    #[error("invalid pack: {reason}")]
    InvalidPack {
        /// What is wrong.
        reason: String,
    },
    /// The offered pack is older than the installed one; nothing was installed.
    #[error("{city_id} version {offered} is older than the installed version {installed}")]
    OlderVersion {
        /// City.
        city_id: String,
        /// Version installed.
        installed: u64,
        /// Version offered.
        offered: u64,
    },
    /// Updates are not configured: the guide was opened without a catalog URL, trusted keys or transport.
    #[error("updates are not configured: {reason}")]
    UpdatesNotConfigured {
        /// What is missing.
        reason: String,
    },
    /// The user has not allowed what the call needs (downloading updates, sending reports); nothing was sent.
    #[error("the {scope:?} consent is off")]
    ConsentRequired {
        /// The consent that is missing; the app offers to turn it on.
        scope: ConsentScope,
    },
    /// No network, or the server cannot be reached.
    #[error("offline")]
    Offline,
    /// The network failed in another way (timeout, reset, too much data).
    #[error("download failed: {reason}")]
    Network {
        /// What happened.
        reason: String,
    },
    /// The server answered with an HTTP error status.
    #[error("the server answered {code} for {file}")]
    HttpStatus {
        /// HTTP status code.
        code: u16,
        /// Which file (a name from the catalog, never a URL).
        file: String,
    },
    /// The catalog is not signed by a key the app trusts.
    #[error("the catalog is not signed by a trusted publisher key")]
    UntrustedCatalog,
    /// The catalog has expired: the publisher must sign a fresh one (a frozen or replayed catalog).
    #[error("the catalog expired at {expired_at}")]
    CatalogExpired {
        /// When it expired, Unix seconds.
        expired_at: i64,
    },
    /// The catalog is older than one this phone already accepted (a rollback).
    #[error("the catalog (version {offered}) is older than the one already seen (version {seen})")]
    CatalogRollback {
        /// Last version accepted.
        seen: u64,
        /// Version offered.
        offered: u64,
    },
    /// The catalog was refused for another reason: malformed, too large, unsafe paths or an unknown format.
    #[error("catalog refused: {reason}")]
    CatalogRejected {
        /// Why.
        reason: String,
    },
    /// A downloaded file does not match what the signed catalog promised (size, hash, city or version).
    #[error("{file} does not match the signed catalog ({reason})")]
    DownloadRejected {
        /// Which file.
        file: String,
        /// Size, hash or content.
        reason: String,
    },
    /// The update was cancelled through its cancel token; nothing changed.
    #[error("cancelled")]
    Cancelled,
    /// The phone's storage failed (database or files).
    #[error("storage error: {reason}")]
    Storage {
        /// What failed.
        reason: String,
    },
    /// A bug in the library; the call had no effect and the guide can still be used.
    #[error("internal error: {reason}")]
    Internal {
        /// What happened.
        reason: String,
    },
}

impl From<CoreKeyProblem> for KeyProblem {
    fn from(p: CoreKeyProblem) -> Self {
        match p {
            CoreKeyProblem::NotAPoint => KeyProblem::NotAPoint,
            CoreKeyProblem::Weak => KeyProblem::Weak,
            CoreKeyProblem::Format | CoreKeyProblem::Mismatch => KeyProblem::Format,
        }
    }
}

impl From<CoreGuideError> for GuideError {
    fn from(e: CoreGuideError) -> Self {
        match e {
            CoreGuideError::NotInstalled { city_id } => GuideError::NotInstalled { city_id },
            CoreGuideError::UnknownPlace { city_id, place_id } => GuideError::UnknownPlace { city_id, place_id },
            CoreGuideError::UnknownTour { city_id, tour_id } => GuideError::UnknownTour { city_id, tour_id },
            CoreGuideError::UnknownCategory { city_id, category_id } => {
                GuideError::UnknownCategory { city_id, category_id }
            }
            CoreGuideError::InvalidPack(p) => p.into(),
            CoreGuideError::Older { city_id, installed, offered } => {
                GuideError::OlderVersion { city_id, installed, offered }
            }
            CoreGuideError::InvalidArgument { field, reason } => {
                GuideError::InvalidArgument { field: field.to_owned(), reason: scrub(&reason) }
            }
            CoreGuideError::Store(s) => s.into(),
        }
    }
}

impl From<PackError> for GuideError {
    fn from(e: PackError) -> Self {
        match e {
            // The path is the app's private storage: the file name is enough to say which.
            PackError::Io { path, source } => {
                GuideError::Storage { reason: scrub(&format!("cannot read {}: {source}", file_name(&path))) }
            }
            other => GuideError::InvalidPack { reason: scrub(&other.to_string()) },
        }
    }
}

impl From<StoreError> for GuideError {
    fn from(e: StoreError) -> Self {
        let reason = match &e {
            StoreError::Io { path, source } => format!("file error on {}: {source}", file_name(path)),
            other => other.to_string(),
        };
        GuideError::Storage { reason: scrub(&reason) }
    }
}

impl From<CatalogError> for GuideError {
    fn from(e: CatalogError) -> Self {
        match e {
            CatalogError::Untrusted => GuideError::UntrustedCatalog,
            CatalogError::Expired { expires, .. } => GuideError::CatalogExpired { expired_at: expires },
            CatalogError::Rollback { seen, offered } => GuideError::CatalogRollback { seen, offered },
            CatalogError::BadKey(problem) => GuideError::InvalidKey { key_index: 0, problem: problem.into() },
            other => GuideError::CatalogRejected { reason: scrub(&other.to_string()) },
        }
    }
}

impl From<CoreTransportError> for GuideError {
    fn from(e: CoreTransportError) -> Self {
        match e {
            CoreTransportError::Offline => GuideError::Offline,
            other => GuideError::Network { reason: scrub(&other.to_string()) },
        }
    }
}

impl From<SyncError> for GuideError {
    fn from(e: SyncError) -> Self {
        match e {
            SyncError::Offline => GuideError::Offline,
            SyncError::Transport(t) => t.into(),
            SyncError::Http { status, file } => GuideError::HttpStatus { code: status, file: scrub(&file) },
            SyncError::Catalog(c) => c.into(),
            SyncError::UnknownCity { city_id } => GuideError::NotInCatalog { city_id },
            SyncError::Mismatch { file, reason } => {
                GuideError::DownloadRejected { file: scrub(&file), reason: scrub(&reason) }
            }
            SyncError::Cancelled => GuideError::Cancelled,
            SyncError::ConsentRequired { scope } => GuideError::ConsentRequired { scope: scope.into() },
            SyncError::Guide(g) => g.into(),
        }
    }
}

impl From<CitizenError> for GuideError {
    fn from(e: CitizenError) -> Self {
        match e {
            CitizenError::Guide(g) => g.into(),
            CitizenError::ConsentRequired { scope } => GuideError::ConsentRequired { scope: scope.into() },
            other => GuideError::InvalidArgument { field: "request".into(), reason: scrub(&other.to_string()) },
        }
    }
}

/// The last component of a path (messages name files, not the app's directory layout).
fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).find(|s| !s.is_empty()).unwrap_or(path)
}

/// Removes what must never reach an error message: URLs (`scheme://…` up to the next space) become `<url>`, and
/// decimal numbers with three or more fractional digits (how positions are written; sizes and versions are not)
/// become `<number>`.
pub(crate) fn scrub(text: &str) -> String {
    scrub_numbers(&scrub_urls(text))
}

/// Replaces every `scheme://rest` (the scheme being the run of scheme characters before `://`) by `<url>`.
fn scrub_urls(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        if chars.get(i..i + 3) == Some(&[':', '/', '/']) {
            while out.last().is_some_and(|&c| is_scheme_char(c)) {
                out.pop();
            }
            let mut k = i + 3;
            while k < chars.len() && !chars[k].is_whitespace() && !matches!(chars[k], '"' | '\'' | '<' | '>') {
                k += 1;
            }
            out.extend("<url>".chars());
            i = k;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out.into_iter().collect()
}

/// Replaces decimal numbers with three or more fractional digits by `<number>`.
fn scrub_numbers(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if chars.get(j) == Some(&'.') {
                let mut k = j + 1;
                while k < chars.len() && chars[k].is_ascii_digit() {
                    k += 1;
                }
                if k - (j + 1) >= 3 {
                    out.push_str("<number>");
                    i = k;
                    continue;
                }
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

fn is_scheme_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')
}

/// Runs `f`, turning a panic into [`GuideError::Internal`] so it never unwinds into Kotlin or Swift.
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, GuideError>) -> Result<T, GuideError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let reason = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unexpected failure".to_owned());
        Err(GuideError::Internal { reason: scrub(&reason) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scrub_removes_urls_and_positions_and_keeps_the_rest() {
        assert_eq!(
            scrub("GET https://cdn.example.org/a/b.pack failed at 43.204970, 27.910210 after 1.5 s (v3, 256 bytes)"),
            "GET <url> failed at <number>, <number> after 1.5 s (v3, 256 bytes)"
        );
        assert_eq!(scrub("city varna is not installed"), "city varna is not installed");
        assert_eq!(scrub("\"http://x\" and file:///data/a"), "\"<url>\" and <url>");
        assert_eq!(scrub("lat -43.2049"), "lat -<number>");
    }

    #[test]
    fn core_errors_map_to_the_variant_an_app_acts_on() {
        assert_eq!(GuideError::from(SyncError::Offline), GuideError::Offline);
        assert_eq!(GuideError::from(SyncError::Cancelled), GuideError::Cancelled);
        assert_eq!(GuideError::from(SyncError::Catalog(CatalogError::Untrusted)), GuideError::UntrustedCatalog);
        assert_eq!(
            GuideError::from(SyncError::Catalog(CatalogError::Expired { expires: 1, now: 2 })),
            GuideError::CatalogExpired { expired_at: 1 }
        );
        assert_eq!(
            GuideError::from(SyncError::Http { status: 404, file: "catalog.json".into() }),
            GuideError::HttpStatus { code: 404, file: "catalog.json".into() }
        );
        assert_eq!(
            GuideError::from(SyncError::UnknownCity { city_id: "sofia".into() }),
            GuideError::NotInCatalog { city_id: "sofia".into() }
        );
        assert_eq!(
            GuideError::from(SyncError::ConsentRequired { scope: cityguide_core::citizen::ConsentScope::Updates }),
            GuideError::ConsentRequired { scope: ConsentScope::Updates }
        );
        assert_eq!(
            GuideError::from(SyncError::Catalog(CatalogError::Rollback { seen: 8, offered: 7 })),
            GuideError::CatalogRollback { seen: 8, offered: 7 }
        );
        assert!(matches!(
            GuideError::from(SyncError::Transport(CoreTransportError::Timeout)),
            GuideError::Network { .. }
        ));
        assert!(matches!(
            GuideError::from(CoreGuideError::InvalidPack(PackError::WrongIdentifier)),
            GuideError::InvalidPack { .. }
        ));
        assert_eq!(
            GuideError::from(CoreGuideError::Older { city_id: "varna".into(), installed: 4, offered: 3 }),
            GuideError::OlderVersion { city_id: "varna".into(), installed: 4, offered: 3 }
        );
        let io = GuideError::from(StoreError::Io {
            path: "/data/user/0/org.cityguide/files/guide/packs/varna.pack".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(io, GuideError::Storage { reason: "file error on varna.pack: disk full".into() });
    }

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_message() {
        let r: Result<(), GuideError> = guard(|| panic!("boom at 43.20497"));
        assert_eq!(r, Err(GuideError::Internal { reason: "boom at <number>".into() }));
        let r: Result<(), GuideError> = guard(|| std::panic::panic_any(42_u8));
        assert_eq!(r, Err(GuideError::Internal { reason: "unexpected failure".into() }));
    }

    proptest! {
        /// Whatever text an error is built from (a transport's exception, a pack's complaint), its message never
        /// contains a URL or a position written with five or six decimals.
        #[test]
        fn no_message_leaks_a_url_or_a_position(
            before in "\\PC{0,30}",
            host in "[a-z]{1,10}\\.[a-z]{2,3}",
            lat in -90.0f64..90.0,
            lon in -180.0f64..180.0,
            after in "\\PC{0,30}",
        ) {
            let url = format!("https://{host}/{lat:.5}/catalog.json");
            let text = format!("{before}{url} {lat:.6},{lon:.5}{after}");
            let errors = [
                GuideError::from(CoreTransportError::Other(text.clone())),
                GuideError::from(SyncError::Mismatch { file: text.clone(), reason: text.clone() }),
                GuideError::from(CoreGuideError::InvalidArgument { field: "search text", reason: text.clone() }),
                GuideError::from(PackError::Invalid(text.clone())),
            ];
            for e in errors {
                let m = e.to_string();
                prop_assert!(!m.contains(&url), "{}", m);
                prop_assert!(!m.contains("://"), "{}", m);
                let lat_text = format!("{:.6}", lat.abs());
                let lon_text = format!("{:.5}", lon.abs());
                prop_assert!(!m.contains(&lat_text), "{}", m);
                prop_assert!(!m.contains(&lon_text), "{}", m);
            }
        }

        /// Scrubbing never panics and is idempotent on any text.
        #[test]
        fn scrub_is_total_and_idempotent(text in "\\PC{0,200}") {
            let once = scrub(&text);
            prop_assert_eq!(scrub(&once), once);
        }
    }
}
