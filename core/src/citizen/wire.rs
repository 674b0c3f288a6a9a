//! What travels between the phone's outbox and the city's server: two small JSON documents and their answers.
//!
//! Both sides use these types and the same checks, so a report the phone accepts is one the server accepts, and the
//! server refuses anything else with a reason the phone shows the user. Everything here parses untrusted bytes
//! (the server reads bodies from anyone): it never panics, caps sizes, and refuses unknown fields.

use serde::{Deserialize, Serialize};

use crate::pack::model::FEEDBACK_KINDS;

/// Version of the wire format, the `v` field of every request.
pub const WIRE_VERSION: u32 = 1;
/// Largest request body either side accepts, bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest report text, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Longest contact, photo reference, office or id, in characters.
pub const MAX_SHORT_CHARS: usize = 256;
/// Largest answer the phone reads from the server, bytes.
pub const MAX_ANSWER_BYTES: u64 = 4096;
/// Path of the feedback endpoint under the server's base URL.
pub const FEEDBACK_PATH: &str = "v1/feedback";
/// Path of the ballot endpoint under the server's base URL.
pub const BALLOT_PATH: &str = "v1/ballots";

/// A position the user chose to attach to one report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportLocation {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Horizontal accuracy, metres, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_m: Option<f64>,
}

/// One citizen report as sent to `POST v1/feedback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackRequest {
    /// [`WIRE_VERSION`].
    pub v: u32,
    /// The item's idempotency key: 32 lowercase hex digits, random, made on the phone.
    pub key: String,
    /// The random installation key: 64 lowercase hex digits. Not linked to any account or device id.
    pub installation: String,
    /// City the report is about.
    pub city_id: String,
    /// Office the pack's feedback routes chose.
    pub office: String,
    /// Report kind, one of [`FEEDBACK_KINDS`].
    pub category: String,
    /// Place the report is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_id: Option<String>,
    /// The place's name in the pack's default language, for the office's convenience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_name: Option<String>,
    /// What the user wrote (may be empty only for a rating).
    pub text: String,
    /// 1 to 5, for a rating only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    /// Reference to a photo the user chose to share (a URL or an upload id), never the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
    /// How the office may answer, only when the user gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The user's position, only when the user chose to locate this report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<ReportLocation>,
    /// Language the user writes in (BCP 47), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// When the user made the report, Unix seconds (phone clock).
    pub created_at: i64,
}

/// One consultation ballot as sent to `POST v1/ballots`. The server keeps, per installation and consultation, the
/// ballot with the highest `seq`, so a changed vote wins whatever order the requests arrive in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BallotRequest {
    /// [`WIRE_VERSION`].
    pub v: u32,
    /// The item's idempotency key (32 lowercase hex digits).
    pub key: String,
    /// The random installation key (64 lowercase hex digits).
    pub installation: String,
    /// City whose pack carries the consultation.
    pub city_id: String,
    /// Consultation id.
    pub consultation_id: String,
    /// The option chosen.
    pub option_id: String,
    /// 1 for the first vote in this consultation, one more for each change.
    pub seq: i64,
    /// When the user voted, Unix seconds (phone clock).
    pub cast_at: i64,
}

/// The server's answer to an accepted request (HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    /// The key of the request.
    pub key: String,
    /// `stored`, or `duplicate` when the key was already stored (a retry after a lost answer).
    pub status: String,
}

/// The server's answer to a refused request (HTTP 4xx or 5xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// What was wrong, in words for the user.
    pub error: String,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

fn short(what: &str, s: &str) -> Result<(), String> {
    if s.chars().count() > MAX_SHORT_CHARS {
        return Err(format!("{what} is longer than {MAX_SHORT_CHARS} characters"));
    }
    if s.chars().any(char::is_control) {
        return Err(format!("{what} contains control characters"));
    }
    Ok(())
}

fn check_keys(key: &str, installation: &str) -> Result<(), String> {
    if !is_hex(key, 32) {
        return Err("key must be 32 lowercase hex digits".into());
    }
    if !is_hex(installation, 64) {
        return Err("installation must be 64 lowercase hex digits".into());
    }
    Ok(())
}

/// Checks a report's text fields as the user typed them (shared by the phone, before storing, and the server).
pub fn check_report_fields(category: &str, text: &str, rating: Option<u8>) -> Result<(), String> {
    if !FEEDBACK_KINDS.contains(&category) {
        return Err(format!("category {category:?} is not one of {}", FEEDBACK_KINDS.join(", ")));
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(format!("the text has {chars} characters; at most {MAX_TEXT_CHARS} are accepted"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r') {
        return Err("the text contains control characters".into());
    }
    match (category, rating) {
        ("rating", Some(1..=5)) => {}
        ("rating", Some(r)) => return Err(format!("a rating is 1 to 5 stars, not {r}")),
        ("rating", None) => return Err("a rating needs 1 to 5 stars".into()),
        (_, Some(_)) => return Err("only a report of category rating has stars".into()),
        (_, None) if text.trim().is_empty() => {
            return Err("the text is empty; say what is wrong or what you suggest".into());
        }
        _ => {}
    }
    Ok(())
}

/// Checks a position: finite, in range, accuracy non-negative.
pub fn check_location(l: &ReportLocation) -> Result<(), String> {
    if !(l.lat.is_finite() && l.lon.is_finite() && (-90.0..=90.0).contains(&l.lat) && (-180.0..=180.0).contains(&l.lon))
    {
        return Err(format!("location {}, {} is not a valid position", l.lat, l.lon));
    }
    if let Some(a) = l.accuracy_m
        && !(a.is_finite() && a >= 0.0)
    {
        return Err(format!("location accuracy {a} is not a distance in metres"));
    }
    Ok(())
}

impl FeedbackRequest {
    /// Every check the server makes on a report.
    pub fn validate(&self) -> Result<(), String> {
        if self.v != WIRE_VERSION {
            return Err(format!("wire format {} is not supported (expected {WIRE_VERSION})", self.v));
        }
        check_keys(&self.key, &self.installation)?;
        if !is_id(&self.city_id) {
            return Err("city_id must be a lowercase id".into());
        }
        if self.office.trim().is_empty() {
            return Err("office is empty".into());
        }
        short("office", &self.office)?;
        check_report_fields(&self.category, &self.text, self.rating)?;
        if let Some(p) = &self.place_id
            && !is_id(p)
        {
            return Err("place_id must be a lowercase id".into());
        }
        for (what, v) in
            [("place_name", &self.place_name), ("photo", &self.photo), ("contact", &self.contact), ("lang", &self.lang)]
        {
            if let Some(v) = v {
                short(what, v)?;
            }
        }
        if let Some(l) = &self.location {
            check_location(l)?;
        }
        if self.place_id.is_none() && self.location.is_none() {
            return Err("a report needs a place or a location".into());
        }
        if self.created_at < 0 {
            return Err("created_at is before 1970".into());
        }
        Ok(())
    }
}

impl BallotRequest {
    /// Every check the server makes on a ballot that does not need the consultation itself.
    pub fn validate(&self) -> Result<(), String> {
        if self.v != WIRE_VERSION {
            return Err(format!("wire format {} is not supported (expected {WIRE_VERSION})", self.v));
        }
        check_keys(&self.key, &self.installation)?;
        for (what, v) in
            [("city_id", &self.city_id), ("consultation_id", &self.consultation_id), ("option_id", &self.option_id)]
        {
            if !is_id(v) {
                return Err(format!("{what} must be a lowercase id"));
            }
        }
        if self.seq < 1 {
            return Err("seq must be 1 or more".into());
        }
        if self.cast_at < 0 {
            return Err("cast_at is before 1970".into());
        }
        Ok(())
    }
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, String> {
    if body.len() > MAX_BODY_BYTES {
        return Err(format!("the body has {} bytes; at most {MAX_BODY_BYTES} are accepted", body.len()));
    }
    serde_json::from_slice(body).map_err(|e| format!("not a valid request: {e}"))
}

/// Parses and validates a report body from the network.
pub fn parse_feedback(body: &[u8]) -> Result<FeedbackRequest, String> {
    let r: FeedbackRequest = parse(body)?;
    r.validate()?;
    Ok(r)
}

/// Parses and validates a ballot body from the network.
pub fn parse_ballot(body: &[u8]) -> Result<BallotRequest, String> {
    let r: BallotRequest = parse(body)?;
    r.validate()?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn report() -> FeedbackRequest {
        FeedbackRequest {
            v: 1,
            key: "0".repeat(32),
            installation: "a".repeat(64),
            city_id: "varna".into(),
            office: "Varna Municipality".into(),
            category: "damage".into(),
            place_id: Some("roman-thermae".into()),
            place_name: None,
            text: "The railing is broken.".into(),
            rating: None,
            photo: None,
            contact: None,
            location: None,
            lang: Some("en".into()),
            created_at: 1_800_000_000,
        }
    }

    #[test]
    fn a_good_report_passes_and_each_bad_field_is_named() {
        let good = report();
        let body = serde_json::to_vec(&good).expect("json");
        assert_eq!(parse_feedback(&body).expect("valid"), good);
        type Edit = Box<dyn Fn(&mut FeedbackRequest)>;
        let cases: Vec<(Edit, &str)> = vec![
            (Box::new(|r| r.text = "  ".into()), "text is empty"),
            (Box::new(|r| r.category = "graffiti".into()), "category"),
            (Box::new(|r| r.key = "XYZ".into()), "key"),
            (Box::new(|r| r.installation = "0".repeat(63)), "installation"),
            (Box::new(|r| r.text = "x".repeat(MAX_TEXT_CHARS + 1)), "at most"),
            (Box::new(|r| r.rating = Some(3)), "only a report of category rating"),
            (Box::new(|r| r.place_id = None), "a place or a location"),
            (Box::new(|r| r.location = Some(ReportLocation { lat: 91.0, lon: 0.0, accuracy_m: None })), "position"),
            (Box::new(|r| r.v = 2), "wire format"),
        ];
        for (edit, want) in cases {
            let mut r = report();
            edit(&mut r);
            let err = parse_feedback(&serde_json::to_vec(&r).expect("json")).expect_err(want);
            assert!(err.contains(want), "{err:?} should mention {want:?}");
        }
        let mut rating = report();
        rating.category = "rating".into();
        rating.text.clear();
        rating.rating = Some(5);
        rating.validate().expect("a rating needs no text");
        rating.rating = Some(6);
        assert!(rating.validate().expect_err("6 stars").contains("1 to 5"));
    }

    #[test]
    fn oversized_and_unknown_fields_are_refused() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(parse_feedback(&big).expect_err("big").contains("at most"));
        let mut v = serde_json::to_value(report()).expect("json");
        v["device_id"] = serde_json::json!("tracking");
        assert!(parse_feedback(&serde_json::to_vec(&v).expect("json")).expect_err("unknown").contains("unknown field"));
    }

    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,40}".prop_map(serde_json::Value::from),
            "[0-9a-f]{32}".prop_map(serde_json::Value::from),
            "[0-9a-f]{64}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("v".to_owned()),
                        Just("key".to_owned()),
                        Just("installation".to_owned()),
                        Just("text".to_owned()),
                        Just("category".to_owned()),
                        Just("rating".to_owned()),
                        Just("location".to_owned()),
                        Just("seq".to_owned()),
                        "[a-z_]{1,12}",
                    ],
                    inner,
                    0..10
                )
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn random_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_feedback(&bytes);
            let _ = parse_ballot(&bytes);
        }

        #[test]
        fn random_json_never_panics_and_refusals_say_why(v in json_value()) {
            let body = serde_json::to_vec(&v).expect("json");
            if let Err(e) = parse_feedback(&body) { prop_assert!(!e.is_empty()); }
            if let Err(e) = parse_ballot(&body) { prop_assert!(!e.is_empty()); }
        }

        #[test]
        fn mutated_reports_never_panic(text in ".{0,300}", rating in any::<Option<u8>>(), lat in any::<f64>(), cat in 0usize..10) {
            let mut r = report();
            r.text = text;
            r.rating = rating;
            r.category = FEEDBACK_KINDS.get(cat).copied().unwrap_or("nonsense").to_owned();
            r.location = Some(ReportLocation { lat, lon: 27.9, accuracy_m: Some(lat) });
            let _ = parse_feedback(&serde_json::to_vec(&r).expect("json"));
        }
    }
}
