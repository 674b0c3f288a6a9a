//! Keys and signatures on the publisher's side: generating a key pair, reading and writing the key file, and
//! signing a catalog. The phone only verifies (`cityguide_core::update::catalog`), so none of this ships to phones.

use std::fmt;

use cityguide_core::update::catalog::{
    Catalog, CatalogEnvelope, CatalogError, CatalogSignature, KeyProblem, PublicKey,
};
use ed25519_dalek::{Signer, SigningKey};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
        // The public half of a secret key is a point of the prime-order subgroup, never weak.
        PublicKey::from_bytes(self.key.verifying_key().to_bytes())
            .unwrap_or_else(|e| unreachable!("an Ed25519 secret key gave an unusable public key: {e}"))
    }

    /// The key file's text (secret and public key).
    pub fn to_file_text(&self) -> String {
        format!("{KEY_HEADER}\nsecret: {}\npublic: {}\n", hex(&self.key.to_bytes()), self.public())
    }

    /// Reads a key file written by [`Self::to_file_text`].
    pub fn from_file_text(text: &str) -> Result<Self, CatalogError> {
        let mut lines = text.lines();
        if lines.next().map(str::trim) != Some(KEY_HEADER) {
            return Err(CatalogError::BadKey(KeyProblem::Format));
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
        let secret = secret.ok_or(CatalogError::BadKey(KeyProblem::Format))?;
        let pair = SigningKeyPair { key: SigningKey::from_bytes(&secret) };
        if public.is_some_and(|p| p != pair.public()) {
            return Err(CatalogError::BadKey(KeyProblem::Mismatch));
        }
        Ok(pair)
    }

    fn sign(&self, payload: &[u8]) -> String {
        hex(&self.key.sign(payload).to_bytes())
    }
}

/// The bytes of `catalog.json` for `catalog`, signed by every key given.
pub fn sign_catalog(catalog: &Catalog, keys: &[&SigningKeyPair]) -> Vec<u8> {
    // Serialising plain data to JSON cannot fail.
    let payload = serde_json::to_string_pretty(catalog).unwrap_or_default();
    let signatures =
        keys.iter().map(|k| CatalogSignature { key: k.public(), sig: k.sign(payload.as_bytes()) }).collect();
    let env = CatalogEnvelope { signed: payload, signatures };
    let mut out = serde_json::to_vec_pretty(&env).unwrap_or_default();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cityguide_core::update::catalog::{CatalogCity, KeyRotation, TrustPolicy, verify_catalog};

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
