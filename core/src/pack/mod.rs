//! Content packs: the FlatBuffers format a city publishes, its deterministic writer and its defensive reader.
//!
//! Pack bytes come from the network or a publisher's disk, so the reader trusts nothing: it checks the size, the file
//! identifier and the format major, runs the FlatBuffers verifier with limits sized for a phone, and then checks the
//! invariants the rest of the core relies on (sorted unique ids, references in range, finite coordinates inside the
//! bounding box, a name in the default language). Only then does it hand out zero-copy accessors.

pub mod model;
mod read;
mod write;

#[allow(
    unsafe_code,
    missing_docs,
    unused_imports,
    dead_code,
    deprecated,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unsafe_op_in_unsafe_fn,
    mismatched_lifetime_syntaxes,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used
)]
#[rustfmt::skip]
#[path = "generated/pack_generated.rs"]
mod pack_generated;

/// The FlatBuffers types generated from `core/schema/pack.fbs` (internal: other crates read packs through
/// [`PackFile`] and the [`model`]).
pub(crate) use pack_generated::cityguide::pack as fb;

pub(crate) use read::accessibility_of;
#[cfg(test)]
use read::verify_pack;
pub use read::{Limits, PackFile, PackInfo};
pub use write::write_pack;

/// Format major this core reads and writes. Packs with another major are refused.
pub const FORMAT_MAJOR: u16 = 1;
/// Format minor this core writes. Readers accept any minor of their major.
///
/// 1.1 added `Pack.consultations`; 1.2 added `Metadata.time_zone_rules` (the city's time zone as TZif bytes); 1.3
/// voting rules, costs and phases in `Consultation`; 1.4 added `Pack.latin_chars` and `latin_forms` (the general
/// Latin form of the characters the texts use).
pub const FORMAT_MINOR: u16 = 4;
/// The longest Latin form of one character a pack may carry (`Pack.latin_forms`), bytes.
pub const MAX_LATIN_FORM: usize = 32;

/// Whether `form` may stand as a character's Latin form: ASCII, at most [`MAX_LATIN_FORM`] bytes.
pub(crate) fn valid_latin_form(form: &str) -> bool {
    form.len() <= MAX_LATIN_FORM && form.is_ascii()
}

/// The four bytes at offset 4 of every pack.
pub const FILE_IDENTIFIER: &str = fb::PACK_IDENTIFIER;

/// Why pack bytes were refused.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// The pack is larger than the reader's limit.
    #[error("pack is {size} bytes, more than the limit of {max} bytes")]
    TooLarge {
        /// Actual size.
        size: u64,
        /// The limit.
        max: u64,
    },
    /// The bytes do not start like a cityguide pack.
    #[error("not a cityguide pack: the file identifier is not \"{FILE_IDENTIFIER}\"")]
    WrongIdentifier,
    /// The FlatBuffers verifier refused the bytes.
    #[error("damaged pack: {0}")]
    Malformed(String),
    /// The pack was written for another format major.
    #[error("pack format {found}.x is not supported by this app (it reads format {supported}.x); update the app")]
    UnsupportedFormat {
        /// Major found in the pack.
        found: u16,
        /// Major this core reads.
        supported: u16,
    },
    /// The pack is well-formed FlatBuffers but breaks an invariant.
    #[error("invalid pack: {0}")]
    Invalid(String),
    /// The pack file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests;
