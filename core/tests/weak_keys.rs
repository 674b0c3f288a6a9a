//! Publisher keys that cannot be trusted are refused when the guide is configured, and a signature forged under a
//! small-order key never verifies.
//!
//! Under a small-order public key `A` (the identity, the all-zero encoding and the other torsion points), the
//! signature `(R = identity, s = 0)` satisfies the non-strict Ed25519 equation `[s]B = R + [k]A` for every message
//! whose `k` is a multiple of `A`'s order; for the identity that is every message. These tests build such a forgery,
//! show that a lenient verifier accepts it, and that ours does not.

use cityguide_core::update::catalog::{
    CatalogEnvelope, CatalogError, KeyProblem, PublicKey, TrustPolicy, verify_catalog,
};
use ed25519_dalek::{Signature, Verifier, VerifyingKey};

/// The eight points of small order, as 32-byte encodings (both signs of x where the encoding allows it).
const SMALL_ORDER: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000", // identity
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // order 2
    "0000000000000000000000000000000000000000000000000000000000000000", // order 4
    "0000000000000000000000000000000000000000000000000000000000000080", // order 4
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", // order 8
];

fn bytes(hex: &str) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn the_all_zero_key_and_every_small_order_key_are_refused() {
    for h in SMALL_ORDER {
        let text = format!("ed25519:{h}");
        assert_eq!(text.parse::<PublicKey>(), Err(CatalogError::BadKey(KeyProblem::Weak)), "{h}");
        assert_eq!(PublicKey::from_bytes(bytes(h)), Err(CatalogError::BadKey(KeyProblem::Weak)), "{h}");
        // The curve library agrees that each one is weak, so the list above is what it claims to be.
        assert!(VerifyingKey::from_bytes(&bytes(h)).expect("a point").is_weak(), "{h}");
    }
    let err = "ed25519:0000000000000000000000000000000000000000000000000000000000000000"
        .parse::<PublicKey>()
        .expect_err("the all-zero key");
    assert!(err.to_string().contains("weak"), "the message says why: {err}");
}

#[test]
fn bytes_that_are_not_a_point_and_malformed_text_are_refused() {
    // Find an encoding that does not decompress (about half of all y values have no x).
    let not_a_point = (2u8..=255)
        .map(|y| {
            let mut b = [0u8; 32];
            b[0] = y;
            b
        })
        .find(|b| VerifyingKey::from_bytes(b).is_err())
        .expect("some y has no point");
    assert_eq!(PublicKey::from_bytes(not_a_point), Err(CatalogError::BadKey(KeyProblem::NotAPoint)));
    assert_eq!(
        format!("ed25519:{}", hex(&not_a_point)).parse::<PublicKey>(),
        Err(CatalogError::BadKey(KeyProblem::NotAPoint))
    );
    for bad in
        ["", "ed25519:", "ed25519:zz", "ed25519:00", "a22c02eedb3ec798a3013f1a3934148c5d885bc95b02112e0551e9e901f539cd"]
    {
        assert_eq!(bad.parse::<PublicKey>(), Err(CatalogError::BadKey(KeyProblem::Format)), "{bad:?}");
    }
}

#[test]
fn the_varna_demo_key_is_a_real_key() {
    let key: PublicKey =
        "ed25519:a22c02eedb3ec798a3013f1a3934148c5d885bc95b02112e0551e9e901f539cd".parse().expect("a usable key");
    let file = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../data/keys/varna-demo.key"))
        .expect("the demo key file");
    assert!(file.contains(&key.to_string()), "the documented public key is the file's");
}

/// `(R = identity, s = 0)`: the forgery that verifies under the identity key for any message with a lenient check.
fn forged_signature() -> [u8; 64] {
    let mut sig = [0u8; 64];
    sig[0] = 1;
    sig
}

#[test]
fn a_signature_forged_under_a_small_order_key_is_refused() {
    let identity = bytes(SMALL_ORDER[0]);
    let payload = br#"{"format":1,"version":999,"created":0,"expires":9999999999,"cities":[]}"#;
    // The attack is real: the lenient (cofactorless, non-strict) check accepts the forgery.
    let vk = VerifyingKey::from_bytes(&identity).expect("a point");
    let sig = Signature::from_bytes(&forged_signature());
    assert!(vk.verify(payload, &sig).is_ok(), "a lenient verifier accepts a signature nobody made");
    assert!(vk.verify_strict(payload, &sig).is_err());

    // Our catalog check refuses it: the envelope names a key that cannot be a trusted key.
    let envelope = serde_json::json!({
        "signed": std::str::from_utf8(payload).expect("utf8"),
        "signatures": [{ "key": format!("ed25519:{}", hex(&identity)), "sig": hex(&forged_signature()) }],
    });
    let bytes = serde_json::to_vec(&envelope).expect("json");
    let trusted: PublicKey =
        "ed25519:a22c02eedb3ec798a3013f1a3934148c5d885bc95b02112e0551e9e901f539cd".parse().expect("key");
    let policy = TrustPolicy { trusted: vec![trusted], last_seen_version: None, now: 0, max_bytes: 1 << 20 };
    let err = verify_catalog(&bytes, &policy).expect_err("forged");
    assert!(matches!(err, CatalogError::Malformed(_) | CatalogError::Untrusted), "{err:?}");
    assert!(serde_json::from_slice::<CatalogEnvelope>(&bytes).is_err(), "the weak key does not even parse");
}

#[test]
fn for_an_order_eight_key_a_forgery_exists_for_one_message_in_eight_and_is_refused() {
    // The forgery passes the lenient check when k = H(R || A || M) mod l is a multiple of 8: then [k]A is the
    // identity. Vary the message until it happens (one message in eight).
    let a = bytes(SMALL_ORDER[4]);
    let vk = VerifyingKey::from_bytes(&a).expect("a point");
    let sig = Signature::from_bytes(&forged_signature());
    let payload = (0..200u32)
        .map(|n| format!(r#"{{"format":1,"version":{n},"created":0,"expires":9999999999,"cities":[]}}"#))
        .find(|m| vk.verify(m.as_bytes(), &sig).is_ok())
        .expect("a forged catalog that a lenient verifier accepts");
    // Our key type cannot even hold this key, and the strict check refuses the signature.
    assert_eq!(PublicKey::from_bytes(a), Err(CatalogError::BadKey(KeyProblem::Weak)));
    assert!(vk.verify_strict(payload.as_bytes(), &sig).is_err());
}
