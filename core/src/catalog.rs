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

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
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
    /// A key could not be read.
    #[error("invalid key: {0}")]
    BadKey(String),
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
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    fn verifying(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.0).ok()
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
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
        let h = s
            .trim()
            .strip_prefix("ed25519:")
            .ok_or_else(|| CatalogError::BadKey("a public key starts with \"ed25519:\"".into()))?;
        let bytes = unhex::<32>(h)
            .ok_or_else(|| CatalogError::BadKey("a public key has 64 hex digits after \"ed25519:\"".into()))?;
        let key = PublicKey(bytes);
        key.verifying().ok_or_else(|| CatalogError::BadKey("not a valid Ed25519 public key".into()))?;
        Ok(key)
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

/// A publisher's signing key pair. The secret half never leaves the publisher's machine.
pub struct SigningKeyPair {
    key: SigningKey,
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKeyPair({})", self.public())
    }
}

const KEY_HEADER: &str = "cityguide signing key v1";

impl SigningKeyPair {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        let mut secret = [0u8; 32];
        // The OS generator failing is not recoverable for key generation.
        getrandom::fill(&mut secret).unwrap_or_else(|e| panic!("no secure random numbers available: {e}"));
        let key = SigningKey::from_bytes(&secret);
        secret.fill(0);
        SigningKeyPair { key }
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// The key file's text (secret and public key).
    pub fn to_file_text(&self) -> String {
        format!("{KEY_HEADER}\nsecret: {}\npublic: {}\n", hex(&self.key.to_bytes()), self.public())
    }

    /// Reads a key file written by [`Self::to_file_text`].
    pub fn from_file_text(text: &str) -> Result<Self, CatalogError> {
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(KEY_HEADER) {
            return Err(CatalogError::BadKey("not a cityguide signing key file".into()));
        }
        let mut secret = None;
        let mut public = None;
        for l in lines {
            if let Some(v) = l.strip_prefix("secret:") {
                secret = unhex::<32>(v);
            } else if let Some(v) = l.strip_prefix("public:") {
                public = Some(v.trim().parse::<PublicKey>()?);
            }
        }
        let secret = secret.ok_or_else(|| CatalogError::BadKey("the key file has no valid secret line".into()))?;
        let pair = SigningKeyPair { key: SigningKey::from_bytes(&secret) };
        if public.is_some_and(|p| p != pair.public()) {
            return Err(CatalogError::BadKey("the public key in the file does not belong to its secret key".into()));
        }
        Ok(pair)
    }

    fn sign(&self, payload: &[u8]) -> String {
        hex(&self.key.sign(payload).to_bytes())
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

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureEntry {
    key: PublicKey,
    sig: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    signed: String,
    signatures: Vec<SignatureEntry>,
}

/// The bytes of `catalog.json` for `catalog`, signed by every key given.
pub fn sign_catalog(catalog: &Catalog, keys: &[&SigningKeyPair]) -> Vec<u8> {
    // Serialising plain data to JSON cannot fail.
    let payload = serde_json::to_string_pretty(catalog).unwrap_or_default();
    let signatures = keys.iter().map(|k| SignatureEntry { key: k.public(), sig: k.sign(payload.as_bytes()) }).collect();
    let env = Envelope { signed: payload, signatures };
    let mut out = serde_json::to_vec_pretty(&env).unwrap_or_default();
    out.push(b'\n');
    out
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
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| CatalogError::Malformed(e.to_string()))?;
    let payload = env.signed.as_bytes();
    let signed_by_trusted = env.signatures.iter().any(|s| {
        policy.trusted.contains(&s.key)
            && unhex::<64>(&s.sig).is_some_and(|sig| {
                s.key.verifying().is_some_and(|vk| vk.verify(payload, &Signature::from_bytes(&sig)).is_ok())
            })
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Catalog {
        Catalog {
            format: 1,
            version: 7,
            created: 100,
            expires: 1000,
            cities: vec![CatalogCity {
                city_id: "varna".into(),
                version: 3,
                size: 10,
                sha256: "a".repeat(64),
                file: "packs/varna/3.pack.zst".into(),
                compressed_size: 5,
                compressed_sha256: "b".repeat(64),
                languages: vec!["bg".into()],
                bbox: [43.0, 27.0, 44.0, 28.0],
                deltas: vec![],
            }],
            rotation: None,
        }
    }

    fn policy(keys: Vec<PublicKey>) -> TrustPolicy {
        TrustPolicy { trusted: keys, last_seen_version: Some(7), now: 500, max_bytes: 1 << 20 }
    }

    #[test]
    fn keys_round_trip_through_their_file_and_text_forms() {
        let k = SigningKeyPair::generate();
        let again = SigningKeyPair::from_file_text(&k.to_file_text()).expect("reads");
        assert_eq!(again.public(), k.public());
        assert_eq!(k.public().to_string().parse::<PublicKey>().expect("parses"), k.public());
        assert!("ed25519:zz".parse::<PublicKey>().is_err());
        assert!(SigningKeyPair::from_file_text("hello").is_err());
        let other = SigningKeyPair::generate();
        let mixed = k.to_file_text().replace(&k.public().to_string(), &other.public().to_string());
        assert!(SigningKeyPair::from_file_text(&mixed).is_err());
    }

    #[test]
    fn signed_catalogs_verify_and_every_check_bites() {
        let k = SigningKeyPair::generate();
        let bytes = sign_catalog(&sample(), &[&k]);
        assert_eq!(verify_catalog(&bytes, &policy(vec![k.public()])).expect("valid"), sample());
        // Unknown key, tampered payload, rollback, freeze, size, paths.
        let stranger = SigningKeyPair::generate();
        assert_eq!(verify_catalog(&bytes, &policy(vec![stranger.public()])), Err(CatalogError::Untrusted));
        let tampered =
            String::from_utf8(bytes.clone()).expect("utf8").replace("\\\"version\\\": 7", "\\\"version\\\": 8");
        assert_ne!(tampered.as_bytes(), &bytes[..]);
        assert_eq!(verify_catalog(tampered.as_bytes(), &policy(vec![k.public()])), Err(CatalogError::Untrusted));
        let p = TrustPolicy { last_seen_version: Some(8), ..policy(vec![k.public()]) };
        assert!(matches!(verify_catalog(&bytes, &p), Err(CatalogError::Rollback { seen: 8, offered: 7 })));
        let p = TrustPolicy { now: 1000, ..policy(vec![k.public()]) };
        assert!(matches!(verify_catalog(&bytes, &p), Err(CatalogError::Expired { .. })));
        let p = TrustPolicy { max_bytes: 10, ..policy(vec![k.public()]) };
        assert!(matches!(verify_catalog(&bytes, &p), Err(CatalogError::TooLarge { .. })));
        for bad in ["../x", "/etc/passwd", "a//b", "a/./b", "packs\\x", "p%2e", ""] {
            let mut c = sample();
            c.cities[0].file = bad.into();
            let b = sign_catalog(&c, &[&k]);
            assert!(matches!(verify_catalog(&b, &policy(vec![k.public()])), Err(CatalogError::UnsafePath(_))), "{bad}");
        }
        assert!(matches!(verify_catalog(b"not json", &policy(vec![k.public()])), Err(CatalogError::Malformed(_))));
    }

    #[test]
    fn a_rotation_signed_by_the_old_key_endorses_the_new_one() {
        let old = SigningKeyPair::generate();
        let new = SigningKeyPair::generate();
        let mut c = sample();
        c.rotation = Some(KeyRotation { keys: vec![new.public()] });
        let verified = verify_catalog(&sign_catalog(&c, &[&old]), &policy(vec![old.public()])).expect("valid");
        let trusted = verified.endorsed_keys(&[old.public()]);
        assert_eq!(trusted, vec![old.public(), new.public()]);
        // The next catalog, signed only by the new key, is accepted with the endorsed keys.
        let next = sign_catalog(&sample(), &[&new]);
        assert!(verify_catalog(&next, &policy(trusted)).is_ok());
        assert_eq!(verify_catalog(&next, &policy(vec![old.public()])), Err(CatalogError::Untrusted));
    }
}
