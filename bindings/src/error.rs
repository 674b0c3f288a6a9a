//! The one error type Kotlin and Swift see, and the mapping from every core error into it.
//!
//! Why a separate type: core errors carry detail meant for logs and the command line (file paths, sometimes a
//! position or a URL). What crosses the FFI is what an app needs to decide what to show: a variant per situation a
//! user can act on, and a message in plain words. Messages never contain coordinates (location privacy: an app may
//! forward error texts to crash reporting) nor URLs (the catalog's host is configuration, not user text);
//! [`scrub`] enforces that for every message built from text we do not control.

use cityguide_core::catalog::CatalogError;
use cityguide_core::guide::GuideError as CoreGuideError;
use cityguide_core::pack::PackError;
use cityguide_core::store::StoreError;
use cityguide_core::sync::SyncError;
use cityguide_core::transport::TransportError as CoreTransportError;

/// Why a call into the guide failed. Every message says what went wrong in plain words and never contains a
/// position or a URL.
///
/// Exported as a *flat* error: Kotlin and Swift get one case per variant whose message is the text below (for
/// example `GuideException.NotInstalled("city varna is not installed")`), so an app branches on the case and can show
/// or log the message as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
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
    /// The publisher's catalog does not list this city.
    #[error("the catalog has no city {city_id}")]
    NotInCatalog {
        /// City asked for.
        city_id: String,
    },
    /// An argument was out of range, empty or malformed (a position, a language tag, a key, ...).
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong with it.
        reason: String,
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
    #[error("the server answered {status} for {file}")]
    Http {
        /// HTTP status.
        status: u16,
        /// Which file (a name from the catalog, never a URL).
        file: String,
    },
    /// The catalog is not signed by a key the app trusts.
    #[error("the catalog is not signed by a trusted publisher key")]
    UntrustedCatalog,
    /// The catalog was refused for another reason: expired, older than one already seen, malformed or unsafe.
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

impl From<CoreGuideError> for GuideError {
    fn from(e: CoreGuideError) -> Self {
        match e {
            CoreGuideError::NotInstalled { city_id } => GuideError::NotInstalled { city_id },
            CoreGuideError::UnknownPlace { city_id, place_id } => GuideError::UnknownPlace { city_id, place_id },
            CoreGuideError::UnknownTour { city_id, tour_id } => GuideError::UnknownTour { city_id, tour_id },
            CoreGuideError::InvalidPack(p) => p.into(),
            CoreGuideError::Older { city_id, installed, offered } => {
                GuideError::OlderVersion { city_id, installed, offered }
            }
            CoreGuideError::InvalidArgument(reason) => GuideError::InvalidArgument { reason: scrub(&reason) },
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
            CatalogError::BadKey(reason) => {
                GuideError::InvalidArgument { reason: scrub(&format!("invalid publisher key: {reason}")) }
            }
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
            SyncError::Http { status, what } => GuideError::Http { status, file: scrub(&what) },
            SyncError::Catalog(c) => c.into(),
            SyncError::UnknownCity(city_id) => GuideError::NotInCatalog { city_id },
            SyncError::Mismatch { what, reason } => {
                GuideError::DownloadRejected { file: scrub(&what), reason: scrub(&reason) }
            }
            SyncError::Cancelled => GuideError::Cancelled,
            SyncError::Guide(g) => g.into(),
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
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // A URL: a run of scheme characters followed by "://".
        if chars[i].is_ascii_alphabetic() && (i == 0 || !is_scheme_char(chars[i - 1])) {
            let mut j = i;
            while j < chars.len() && is_scheme_char(chars[j]) {
                j += 1;
            }
            if chars.get(j..j + 3) == Some(&[':', '/', '/']) {
                let mut k = j + 3;
                while k < chars.len() && !chars[k].is_whitespace() && !matches!(chars[k], '"' | '\'' | '<' | '>') {
                    k += 1;
                }
                out.push_str("<url>");
                i = k;
                continue;
            }
        }
        // A number with a long fraction: digits '.' digits{3,}. The sign, if any, stays (harmless).
        if chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit()) {
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
