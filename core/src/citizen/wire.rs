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
/// Path of the endpoint where a phone asks for the status of its own reports.
pub const STATUS_PATH: &str = "v1/status";
/// Most report keys one status request may name.
pub const MAX_STATUS_KEYS: usize = 100;
/// Largest status answer the phone reads, bytes (100 reports with replies of up to 2,000 characters).
pub const MAX_STATUS_ANSWER_BYTES: u64 = 1024 * 1024;
/// Longest grace period a server may allow for ballots written before a consultation closed and sent after it.
pub const MAX_BALLOT_GRACE_S: i64 = 7 * 24 * 3600;

/// The statuses a report goes through at the city, FixMyStreet's set (Open311 `servicerequestupdates`), in the
/// order an office usually uses them. Open311's own `status` field says `open` for the first four and `closed` for
/// the rest.
pub const REPORT_STATUSES: [&str; 10] = [
    "open",
    "investigating",
    "in_progress",
    "action_scheduled",
    "fixed",
    "duplicate",
    "not_councils_responsibility",
    "no_further_action",
    "internal_referral",
    "closed",
];

/// Whether a status from [`REPORT_STATUSES`] means the city has finished with the report.
pub fn status_is_closed(status: &str) -> bool {
    !matches!(status, "open" | "investigating" | "in_progress" | "action_scheduled")
}

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
    /// The user allows the city to list the report publicly (Open311 `GET requests`); off when absent. Contact
    /// details are never listed, whatever this says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
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
    /// The option chosen (the first of `option_ids` when there are several).
    pub option_id: String,
    /// Every option chosen, for a consultation that allows several (pick up to N, or a budget); absent for one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub option_ids: Vec<String>,
    /// 1 for the first vote in this consultation, one more for each change.
    pub seq: i64,
    /// When the user voted, Unix seconds (phone clock).
    pub cast_at: i64,
}

/// A phone asking for the status of its own reports (`POST v1/status`). The server answers only for reports that
/// this installation sent; keys of other installations' reports are answered as if unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRequest {
    /// [`WIRE_VERSION`].
    pub v: u32,
    /// The random installation key the reports were sent with.
    pub installation: String,
    /// Idempotency keys of the reports, at most [`MAX_STATUS_KEYS`].
    pub keys: Vec<String>,
}

/// Where one report stands at the city.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportStatus {
    /// The report's idempotency key.
    pub key: String,
    /// The readable reference the city uses, e.g. `VAR-2027-000123`.
    pub reference: String,
    /// One of [`REPORT_STATUSES`].
    pub status: String,
    /// What the office says publicly about it, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_reply: Option<String>,
    /// The reference of the report this one duplicates, when the office merged it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    /// When the status last changed, Unix seconds (server clock).
    pub updated_at: i64,
}

/// The answer to a [`StatusRequest`] (HTTP 200): the reports found, in no particular order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusAnswer {
    /// One entry per known key of this installation.
    pub reports: Vec<ReportStatus>,
}

/// How a consultation's voters choose; fixed when voting opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum VotingRule {
    /// Exactly one option.
    Single,
    /// From one up to `max` options.
    UpTo {
        /// Most options one ballot may choose.
        max: u32,
    },
    /// Any set of projects whose costs add up to at most `budget` (participatory budgeting).
    Budget {
        /// The amount each voter may spend.
        budget: i64,
    },
}

impl From<crate::pack::model::VotingRuleRec> for VotingRule {
    fn from(r: crate::pack::model::VotingRuleRec) -> Self {
        use crate::pack::model::VotingRuleRec as R;
        match r {
            R::Single => VotingRule::Single,
            R::UpTo { max } => VotingRule::UpTo { max: u32::from(max) },
            R::Budget { budget } => VotingRule::Budget { budget },
        }
    }
}

/// Checks a ballot's choices against the consultation's rule; `options` are the consultation's option ids with
/// their costs. Used by the phone before it stores a vote and by the server before it counts one.
pub fn check_choices(rule: &VotingRule, options: &[(String, i64)], choices: &[String]) -> Result<(), String> {
    if choices.is_empty() {
        return Err("a ballot needs at least one option".into());
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut total: i64 = 0;
    for c in choices {
        let Some((_, cost)) = options.iter().find(|(id, _)| id == c) else {
            let ids: Vec<&str> = options.iter().map(|(id, _)| id.as_str()).collect();
            return Err(format!("there is no option {c}; the options are {}", ids.join(", ")));
        };
        if !seen.insert(c.as_str()) {
            return Err(format!("option {c} is chosen twice"));
        }
        total = total.saturating_add(*cost);
    }
    match *rule {
        VotingRule::Single if choices.len() != 1 => Err(format!("choose one option, not {}", choices.len())),
        VotingRule::UpTo { max } if choices.len() > max as usize => {
            Err(format!("choose at most {max} options, not {}", choices.len()))
        }
        VotingRule::Budget { budget } if total > budget => {
            Err(format!("the chosen projects cost {total} together, more than the budget of {budget}"))
        }
        _ => Ok(()),
    }
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
        if !self.option_ids.is_empty() {
            if self.option_ids.len() > 256 {
                return Err("option_ids has more than 256 entries".into());
            }
            if self.option_ids.iter().any(|o| !is_id(o)) {
                return Err("option_ids must be lowercase ids".into());
            }
            if self.option_ids[0] != self.option_id {
                return Err("option_id must be the first of option_ids".into());
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

impl BallotRequest {
    /// Every option the ballot chooses.
    pub fn choices(&self) -> Vec<String> {
        if self.option_ids.is_empty() { vec![self.option_id.clone()] } else { self.option_ids.clone() }
    }
}

impl StatusRequest {
    /// Every check the server makes on a status request.
    pub fn validate(&self) -> Result<(), String> {
        if self.v != WIRE_VERSION {
            return Err(format!("wire format {} is not supported (expected {WIRE_VERSION})", self.v));
        }
        if !is_hex(&self.installation, 64) {
            return Err("installation must be 64 lowercase hex digits".into());
        }
        if self.keys.len() > MAX_STATUS_KEYS {
            return Err(format!("at most {MAX_STATUS_KEYS} keys per request, not {}", self.keys.len()));
        }
        if let Some(k) = self.keys.iter().find(|k| !is_hex(k, 32)) {
            return Err(format!("key {:?} is not 32 lowercase hex digits", k.chars().take(40).collect::<String>()));
        }
        Ok(())
    }
}

/// Parses and validates a status request from the network.
pub fn parse_status(body: &[u8]) -> Result<StatusRequest, String> {
    let r: StatusRequest = parse(body)?;
    r.validate()?;
    Ok(r)
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
            public: None,
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
    fn choices_follow_the_rule() {
        let opts: Vec<(String, i64)> = [("a", 50), ("b", 40), ("c", 30)].map(|(i, c)| (i.to_owned(), c)).to_vec();
        let ch = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(check_choices(&VotingRule::Single, &opts, &ch(&["a"])).is_ok());
        assert!(check_choices(&VotingRule::Single, &opts, &ch(&["a", "b"])).expect_err("two").contains("one option"));
        assert!(check_choices(&VotingRule::Single, &opts, &ch(&["z"])).expect_err("unknown").contains("no option z"));
        assert!(check_choices(&VotingRule::Single, &opts, &[]).is_err());
        let up2 = VotingRule::UpTo { max: 2 };
        assert!(check_choices(&up2, &opts, &ch(&["a", "c"])).is_ok());
        assert!(check_choices(&up2, &opts, &ch(&["a", "b", "c"])).expect_err("3").contains("at most 2"));
        assert!(check_choices(&up2, &opts, &ch(&["a", "a"])).expect_err("twice").contains("twice"));
        let b = VotingRule::Budget { budget: 80 };
        assert!(check_choices(&b, &opts, &ch(&["a", "c"])).is_ok(), "50 + 30 = 80 fits exactly");
        assert!(check_choices(&b, &opts, &ch(&["a", "b"])).expect_err("90").contains("more than the budget of 80"));
    }

    #[test]
    fn status_requests_name_only_well_formed_keys() {
        let good = StatusRequest { v: 1, installation: "a".repeat(64), keys: vec!["0".repeat(32)] };
        assert_eq!(parse_status(&serde_json::to_vec(&good).expect("json")).expect("valid"), good);
        let mut bad = good.clone();
        bad.keys.push("x' OR 1=1 --".into());
        assert!(bad.validate().expect_err("key").contains("32 lowercase hex"));
        let mut many = good.clone();
        many.keys = vec!["0".repeat(32); MAX_STATUS_KEYS + 1];
        assert!(many.validate().expect_err("many").contains("at most"));
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
            let _ = parse_status(&bytes);
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
