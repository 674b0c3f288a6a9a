//! # cityguide-server
//!
//! The city's HTTP side: [`serve`] serves a published site (catalog, packs, deltas) with byte ranges, and with an
//! [`inbox`] it accepts the reports and ballots phones send from their outbox, checked with the same wire rules the
//! phone uses (`cityguide_core::citizen::wire`).

#![deny(missing_docs)]

pub mod inbox;
pub mod serve;
