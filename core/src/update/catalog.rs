//! The publisher's signed catalog: which pack of which city is current, with sizes, hashes and deltas, and the keys
//! that may sign it.
//!
//! The catalog is the root of trust for updates. It is a JSON document whose exact bytes are signed with Ed25519 and
//! carried as a string inside an envelope (`{"signed": "...", "signatures": [...]}`), so verification never depends
//! on re-serialising JSON the same way. A phone accepts a catalog only if a key it trusts signed it, its version is not
//! older than the last one it accepted (rollback), it has not expired (freeze), it is within the size cap (endless
//! data), and every file name in it is a safe relative path (path traversal). A publisher rotates keys by listing the
//! new keys in a catalog signed with the old one; phones then trust the new keys too (`Catalog::endorsed_keys`).

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a catalog or a key was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// Larger than the cap.
    #[error("the catalog is {size} bytes, more than the limit of {max}")]
    TooLarge {
        /// Size received.
        size: u64,
        /// The cap.
        max: u64,
    },
    /// Not a catalog envelope or not valid catalog JSON.
    #[error("the catalog is malformed: {0}")]
    Malformed(String),
    /// No valid signature by a trusted key.
    #[error("the catalog is not signed by a trusted publisher key")]
    Untrusted,
    /// Older than the last catalog accepted.
    #[error("the catalog (version {offered}) is older than the one already seen (version {seen}); refusing a rollback")]
    Rollback {
        /// Last version accepted.
        seen: u64,
        /// Version offered.
        offered: u64,
    },
    /// Past its expiry.
    #[error("the catalog expired at {expires} (now {now}); the publisher must sign a fresh one")]
    Expired {
        /// Expiry, Unix seconds.
        expires: i64,
        /// Current time, Unix seconds.
        now: i64,
    },
    /// A file name that could leave the site.
    #[error("the catalog names an unsafe file path {0:?}")]
    UnsafePath(String),
    /// Well-formed but inconsistent.
    #[error("the catalog is invalid: {0}")]
    Invalid(String),
    /// A key could not be used.
    #[error("invalid publisher key: {0}")]
    BadKey(KeyProblem),
}

/// What is wrong with a publisher key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    /// The text is not `ed25519:` followed by 64 hex digits.
    #[error("a public key is written \"ed25519:\" followed by 64 hex digits")]
    Format,
    /// The 32 bytes are not the encoding of a point on the curve.
    #[error("the 32 bytes are not an Ed25519 public key (not a point on the curve)")]
    NotAPoint,
    /// The point has small order (the identity, the all-zero key and the other torsion points): under such a key
    /// anyone can make signatures that verify, so it can never be trusted.
    #[error(
        "the key is a weak (small-order) point, under which anyone can forge signatures; use the key printed by `cityguide keygen`"
    )]
    Weak,
    /// A key file's public key does not belong to its secret key.
    #[error("the public key in the key file does not belong to its secret key")]
    Mismatch,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of `bytes` in lowercase hex, the form catalogs use.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex(&sha2::Sha256::digest(bytes))
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.trim();
    if s.len() != N * 2 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// A publisher's public key, written `ed25519:<64 hex digits>` (the form apps embed).
///
/// Only keys that can be trusted exist as values of this type: every constructor refuses bytes that are not a point
/// on the curve and points of small order ([`KeyProblem`]), so a weak key is caught when the guide is configured,
/// not when a forged catalog arrives.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// A key from its 32 bytes, refused if it is not a point or is weak.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<PublicKey, CatalogError> {
        let vk = VerifyingKey::from_bytes(&bytes).map_err(|_| CatalogError::BadKey(KeyProblem::NotAPoint))?;
        if vk.is_weak() {
            return Err(CatalogError::BadKey(KeyProblem::Weak));
        }
        Ok(PublicKey(bytes))
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `sig` (128 hex digits) is this key's signature of `payload`, by the strict rules (RFC 8032 with
    /// small-order `R` and non-canonical `s` refused), so no signature is accepted that the key's owner did not make.
    pub fn verifies(&self, payload: &[u8], sig_hex: &str) -> bool {
        let Some(sig) = unhex::<64>(sig_hex) else { return false };
        VerifyingKey::from_bytes(&self.0)
            .is_ok_and(|vk| !vk.is_weak() && vk.verify_strict(payload, &Signature::from_bytes(&sig)).is_ok())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ed25519:{}", hex(&self.0))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for PublicKey {
    type Err = CatalogError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes =
            s.trim().strip_prefix("ed25519:").and_then(unhex::<32>).ok_or(CatalogError::BadKey(KeyProblem::Format))?;
        PublicKey::from_bytes(bytes)
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A delta offered in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogDelta {
    /// Version the delta applies to.
    pub from_version: u64,
    /// SHA-256 of that version's pack, hex.
    pub from_sha256: String,
    /// Relative path of the delta file.
    pub file: String,
    /// Size of the delta file, bytes.
    pub size: u64,
    /// SHA-256 of the delta file, hex.
    pub sha256: String,
}

/// One city's current pack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogCity {
    /// City id.
    pub city_id: String,
    /// Content version.
    pub version: u64,
    /// Size of the uncompressed pack, bytes.
    pub size: u64,
    /// SHA-256 of the uncompressed pack, hex.
    pub sha256: String,
    /// Relative path of the zstd-compressed pack.
    pub file: String,
    /// Size of the compressed pack, bytes.
    pub compressed_size: u64,
    /// SHA-256 of the compressed pack, hex.
    pub compressed_sha256: String,
    /// Languages of the pack.
    pub languages: Vec<String>,
    /// Bounding box: min lat, min lon, max lat, max lon.
    pub bbox: [f64; 4],
    /// Deltas from earlier versions.
    pub deltas: Vec<CatalogDelta>,
}

/// Keys a publisher moves to; trusted once a catalog signed by a trusted key lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRotation {
    /// The new keys.
    pub keys: Vec<PublicKey>,
}

/// The signed content of `catalog.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// Catalog format, 1.
    pub format: u32,
    /// Grows with every publication.
    pub version: u64,
    /// When it was signed, Unix seconds.
    pub created: i64,
    /// After this, phones refuse it, Unix seconds.
    pub expires: i64,
    /// Current pack of each city, sorted by city id.
    pub cities: Vec<CatalogCity>,
    /// Key rotation endorsed by this catalog's signer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<KeyRotation>,
}

impl Catalog {
    /// The keys to trust from now on: the trusted ones plus any this (verified) catalog endorses.
    pub fn endorsed_keys(&self, trusted: &[PublicKey]) -> Vec<PublicKey> {
        let mut keys = trusted.to_vec();
        for k in self.rotation.iter().flat_map(|r| &r.keys) {
            if !keys.contains(k) {
                keys.push(*k);
            }
        }
        keys
    }
}

/// One signature in a catalog envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSignature {
    /// The signing key.
    pub key: PublicKey,
    /// The Ed25519 signature of the envelope's `signed` bytes, 128 hex digits.
    pub sig: String,
}

/// The bytes of `catalog.json`: the catalog's exact JSON text and its signatures. The publisher writes it
/// (`cityguide-publisher`); [`verify_catalog`] reads it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogEnvelope {
    /// The signed payload: a [`Catalog`] as JSON text.
    pub signed: String,
    /// Signatures of `signed`.
    pub signatures: Vec<CatalogSignature>,
}

/// What a phone knows when it checks a catalog.
#[derive(Debug, Clone)]
pub struct TrustPolicy {
    /// Publisher keys the app trusts.
    pub trusted: Vec<PublicKey>,
    /// Version of the last catalog accepted, if any.
    pub last_seen_version: Option<u64>,
    /// Current time, Unix seconds.
    pub now: i64,
    /// Largest catalog accepted, bytes.
    pub max_bytes: u64,
}

/// Whether `path` is a safe relative file name inside a site.
pub fn is_safe_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 512
        && !path.starts_with('/')
        && path.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
        && path.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

fn is_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Verifies `catalog.json` bytes against a policy; see the module documentation for the checks and their order.
pub fn verify_catalog(bytes: &[u8], policy: &TrustPolicy) -> Result<Catalog, CatalogError> {
    if bytes.len() as u64 > policy.max_bytes {
        return Err(CatalogError::TooLarge { size: bytes.len() as u64, max: policy.max_bytes });
    }
    let env: CatalogEnvelope = serde_json::from_slice(bytes).map_err(|e| CatalogError::Malformed(e.to_string()))?;
    let payload = env.signed.as_bytes();
    let signed_by_trusted =
        env.signatures.iter().any(|s| policy.trusted.contains(&s.key) && s.key.verifies(payload, &s.sig));
    if !signed_by_trusted {
        return Err(CatalogError::Untrusted);
    }
    let catalog: Catalog = serde_json::from_slice(payload).map_err(|e| CatalogError::Malformed(e.to_string()))?;
    if catalog.format != 1 {
        return Err(CatalogError::Invalid(format!(
            "catalog format {} is not supported; update the app",
            catalog.format
        )));
    }
    if let Some(seen) = policy.last_seen_version
        && catalog.version < seen
    {
        return Err(CatalogError::Rollback { seen, offered: catalog.version });
    }
    if catalog.expires <= policy.now {
        return Err(CatalogError::Expired { expires: catalog.expires, now: policy.now });
    }
    let mut ids = std::collections::HashSet::new();
    for c in &catalog.cities {
        let id_ok = !c.city_id.is_empty()
            && c.city_id.len() <= 64
            && c.city_id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !id_ok || !ids.insert(c.city_id.as_str()) {
            return Err(CatalogError::Invalid(format!("city id {:?} is malformed or listed twice", c.city_id)));
        }
        for f in std::iter::once(&c.file).chain(c.deltas.iter().map(|d| &d.file)) {
            if !is_safe_path(f) {
                return Err(CatalogError::UnsafePath(f.clone()));
            }
        }
        let digests = [&c.sha256, &c.compressed_sha256]
            .into_iter()
            .chain(c.deltas.iter().flat_map(|d| [&d.sha256, &d.from_sha256]));
        for d in digests {
            if !is_hex_digest(d) {
                return Err(CatalogError::Invalid(format!("{:?} is not a SHA-256 in hex", d)));
            }
        }
    }
    Ok(catalog)
}
