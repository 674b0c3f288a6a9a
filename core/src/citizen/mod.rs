//! Citizens in the loop: consent, feedback to the right city office, consultations, and the user's control over
//! their own data.
//!
//! Why one module: these features share one promise, stated in `docs/privacy.md`. Nothing leaves the phone unless a
//! consent the user gave covers it, every outgoing item waits in a durable outbox the user can read, and everything
//! kept about the user can be exported and erased with one call each.
//!
//! - [`Consent`]: three switches, all off until the user turns them on: `updates` (downloading packs), `feedback`
//!   (sending reports and ballots), `location` (attaching a position to a report the user chose to locate). The core
//!   checks them itself before every network call ([`Guide::require_consent`]); the sync client and the outbox
//!   refuse to touch the [`crate::update::transport::Transport`] otherwise.
//! - Feedback ([`Guide::submit_feedback`]): validated, routed to the office the pack names for its category and
//!   place, then stored in the outbox in one synced transaction before the call returns.
//! - Consultations ([`Guide::consultations`], [`Guide::vote`]): one ballot per installation, changeable while the
//!   consultation is open, sent through the same outbox.
//! - Status back ([`Guide::refresh_report_statuses`]): the phone asks the city's server, with the feedback consent,
//!   where its own sent reports stand (readable reference, FixMyStreet's status, the office's public reply), naming
//!   them by their keys; the server answers for this installation's reports only.
//! - The outbox ([`Guide::flush_outbox`]): every item has a random idempotency key; the server stores a key once, so
//!   a retry after a lost answer has no second effect. Failures back off exponentially with jitter, capped.
//! - User data ([`Guide::export_user_data`], [`Guide::import_user_data`], [`Guide::erase_user_data`]).
//!
//! Every call that depends on the time takes `now` (Unix seconds) from the caller, so tests drive it with a fake
//! clock and the apps pass the system time.

mod outbox;
mod userdata;
pub mod wire;

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::guide::{Guide, GuideError};
use crate::store::StoreError;

pub use outbox::{
    Backoff, BallotInfo, ConsultationInfo, ConsultationOptionInfo, FeedbackDraft, FlushReport, OfficeInfo,
    OfficeStatus, OutboxItem, OutboxKind, OutboxStatus, StatusRefresh,
};
pub use userdata::{FavouriteRow, NoteRow, USER_DATA_FORMAT, UserData, UserDataCounts, UserSettings, VisitRow};
pub use wire::ReportLocation;

/// What the user may allow the app to do over the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentScope {
    /// Download catalogs, packs and deltas from the publisher.
    Updates,
    /// Send feedback reports and consultation ballots to the city.
    Feedback,
    /// Attach the user's position to a report the user chose to locate.
    Location,
}

impl ConsentScope {
    /// Every scope.
    pub const ALL: [ConsentScope; 3] = [ConsentScope::Updates, ConsentScope::Feedback, ConsentScope::Location];

    /// The name used in the database, the export and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentScope::Updates => "updates",
            ConsentScope::Feedback => "feedback",
            ConsentScope::Location => "location",
        }
    }
}

impl std::fmt::Display for ConsentScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ConsentScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ConsentScope::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not a consent; use updates, feedback or location"))
    }
}

/// The user's consent settings. All off on a new installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Consent {
    /// Downloading updates is allowed.
    pub updates: bool,
    /// Sending reports and ballots is allowed.
    pub feedback: bool,
    /// Attaching a position to a located report is allowed.
    pub location: bool,
}

impl Consent {
    /// Whether `scope` is granted.
    pub fn allows(&self, scope: ConsentScope) -> bool {
        match scope {
            ConsentScope::Updates => self.updates,
            ConsentScope::Feedback => self.feedback,
            ConsentScope::Location => self.location,
        }
    }
}

/// Why a citizen-facing call failed. Nothing was stored or sent in any error case.
#[derive(Debug, thiserror::Error)]
pub enum CitizenError {
    /// The user has not given the consent this call needs.
    #[error(
        "{scope} consent is off; the user can turn it on in the privacy settings (cityguide explore consent set {scope} on)"
    )]
    ConsentRequired {
        /// The missing consent.
        scope: ConsentScope,
    },
    /// The input was refused before anything was stored.
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The pack names no office for this kind of report.
    #[error("{city_id} has no office for {category} reports{}", place_id.as_ref().map(|p| format!(" about {p}")).unwrap_or_default())]
    NoRoute {
        /// City.
        city_id: String,
        /// Report kind.
        category: String,
        /// Place, if any.
        place_id: Option<String>,
    },
    /// The installed pack has no such consultation.
    #[error("{city_id} has no consultation {consultation_id}")]
    UnknownConsultation {
        /// City.
        city_id: String,
        /// The id asked for.
        consultation_id: String,
    },
    /// The consultation has no such option.
    #[error("consultation {consultation_id} has no option {option_id}; choose one of {}", options.join(", "))]
    UnknownOption {
        /// Consultation.
        consultation_id: String,
        /// The id asked for.
        option_id: String,
        /// The valid option ids.
        options: Vec<String>,
    },
    /// Voting is not open at this time.
    #[error("consultation {consultation_id} is not open for votes now (open from {opens} to {closes}, Unix seconds)")]
    ConsultationClosed {
        /// Consultation.
        consultation_id: String,
        /// Opening time.
        opens: i64,
        /// Closing time.
        closes: i64,
    },
    /// The ballot breaks the consultation's voting rule (too many options, over the budget, ...).
    #[error("consultation {consultation_id}: {reason}")]
    BallotRule {
        /// Consultation.
        consultation_id: String,
        /// What is wrong.
        reason: String,
    },
    /// The city's server could not be reached or did not answer as expected; nothing stored changed.
    #[error("the city's server did not answer: {0}")]
    Unavailable(String),
    /// An export document was refused; the stored data is unchanged.
    #[error("not a cityguide user-data export: {0}")]
    InvalidExport(String),
    /// The guide or its database failed.
    #[error(transparent)]
    Guide(#[from] GuideError),
}

impl From<StoreError> for CitizenError {
    fn from(e: StoreError) -> Self {
        CitizenError::Guide(GuideError::Store(e))
    }
}

impl From<rusqlite::Error> for CitizenError {
    fn from(e: rusqlite::Error) -> Self {
        CitizenError::Guide(GuideError::from(e))
    }
}

/// Settings key of the random installation key.
const INSTALLATION_KEY: &str = "citizen.installation_key";

/// `n` random bytes as lowercase hex.
pub(crate) fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).unwrap_or_else(|e| panic!("no secure random numbers available: {e}"));
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

impl Guide {
    /// The user's consent settings (all off until the user turns them on).
    pub fn consent(&self) -> Result<Consent, CitizenError> {
        let rows: Vec<(String, bool)> = self.store().read(|c| {
            let mut st = c.prepare("SELECT scope, granted FROM consent")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
        })?;
        let mut consent = Consent::default();
        for (scope, granted) in rows {
            match scope.as_str() {
                "updates" => consent.updates = granted,
                "feedback" => consent.feedback = granted,
                "location" => consent.location = granted,
                _ => {}
            }
        }
        Ok(consent)
    }

    /// Turns one consent on or off and returns the new settings. Turning `location` off also removes the position
    /// from every report still waiting in the outbox.
    pub fn set_consent(&self, scope: ConsentScope, granted: bool, now: i64) -> Result<Consent, CitizenError> {
        self.store().write(|tx| -> Result<(), CitizenError> {
            tx.execute(
                "INSERT INTO consent (scope, granted, changed_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scope) DO UPDATE SET granted = ?2, changed_at = ?3",
                params![scope.as_str(), granted, now],
            )?;
            if scope == ConsentScope::Location && !granted {
                outbox::strip_locations(tx, now)?;
            }
            Ok(())
        })?;
        self.consent()
    }

    /// Fails with [`CitizenError::ConsentRequired`] unless the user granted `scope`. Every network call of the core
    /// goes through this check first.
    pub fn require_consent(&self, scope: ConsentScope) -> Result<(), CitizenError> {
        if self.consent()?.allows(scope) { Ok(()) } else { Err(CitizenError::ConsentRequired { scope }) }
    }

    /// The random installation key that stands for this phone at the city's server (made on first use, forgotten
    /// by [`Guide::erase_user_data`]). It is not derived from any device or account id.
    pub fn installation_key(&self) -> Result<String, CitizenError> {
        if let Some(k) = self.store().setting(INSTALLATION_KEY)? {
            return Ok(k);
        }
        let fresh = random_hex(32);
        self.store().write(|tx| -> Result<String, CitizenError> {
            // Another thread may have made one meanwhile: keep the first.
            tx.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![INSTALLATION_KEY, fresh],
            )?;
            Ok(tx.query_row("SELECT value FROM settings WHERE key = ?1", [INSTALLATION_KEY], |r| r.get(0))?)
        })
    }

    fn existing_installation_key(&self) -> Result<Option<String>, CitizenError> {
        Ok(self.store().read(|c| {
            c.query_row("SELECT value FROM settings WHERE key = ?1", [INSTALLATION_KEY], |r| r.get(0)).optional()
        })?)
    }
}
