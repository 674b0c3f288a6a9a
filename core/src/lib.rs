//! # cityguide-core
//!
//! What a phone runs, and nothing else: an offline city guide over a signed content pack. The crate follows the
//! data from the pack to the screen; each stage is one module:
//!
//! 1. [`pack`]: the FlatBuffers content-pack format: the model of a city's content, the defensive reader that
//!    verifies untrusted bytes, and the deterministic writer that rebuilding a pack from a delta needs.
//! 2. [`update`]: from the publisher's site to the phone: the signed catalog (verification only), record-level
//!    deltas (decode and apply), the HTTP [`Transport`] the apps implement, and the sync that activates a pack
//!    atomically.
//! 3. The phone's state: the store (SQLite, user data and the installed-pack records) and the [`Guide`], the one
//!    object an app holds.
//! 4. [`query`]: the questions a tourist asks: nearby, search, opening hours, tours, proximity; over [`text`]
//!    (languages, transliteration) and [`geodesy`] (positions and distances).
//! 5. [`citizen`]: consent, feedback to the city, consultations, and the user's control over their own data.
//!
//! Making packs (sources, reports, signing, deltas, publishing) is `cityguide-publisher`'s work; the city's server is
//! `cityguide-server`; Kotlin and Swift reach this crate through `cityguide-ffi`.
//!
//! ```no_run
//! use cityguide_core::{Guide, GuideConfig, LatLon, NearbyQuery};
//!
//! let guide = Guide::open(GuideConfig::new("/data/cityguide", ["bg", "en"])).expect("opens");
//! guide.install_pack_file("varna.pack".as_ref()).expect("a valid pack");
//! let cathedral = LatLon::new(43.20497, 27.91021).expect("valid degrees");
//! for place in guide.nearby("varna", &NearbyQuery::new(cathedral, 5), None).expect("installed") {
//!     println!("{} m  {}", place.distance_m.unwrap_or(0.0).round(), place.name);
//! }
//! ```

#![deny(missing_docs)]
// Unsafe code is limited to mapping pack files into memory (`pack::read`), where the reason is written down.
#![deny(unsafe_code)]

// The FlatBuffers code generated for the pack schema refers to `alloc::` paths.
extern crate alloc;

// 1. The pack format.
pub mod pack;

// 2. Catalog, deltas, transport, sync.
pub mod update;

// 3. The phone's state and the facade apps hold.
mod guide;
mod store;

// 4. Queries, text and positions.
pub mod geodesy;
pub mod query;
pub mod text;

// 5. Citizens.
pub mod citizen;

pub mod failpoint;

pub use geodesy::LatLon;
pub use guide::*;
pub use store::StoreError;
pub use update::sync::{CancelToken, Caps, SyncConfig, SyncError, Syncer, UpdateInfo, UpdateMethod, UpdateOutcome};
pub use update::transport::{Fetched, Transport, TransportError};
