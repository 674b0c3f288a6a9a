//! From the publisher's site to the phone: the signed catalog, record-level deltas, the HTTP transport the apps
//! provide, and the sync that checks, downloads, verifies and activates a new pack.
//!
//! Everything here treats the network as hostile: see [`catalog`] for what a catalog must prove and [`sync`] for the
//! order of the checks on every downloaded byte.

pub mod catalog;
pub mod delta;
pub mod sync;
pub mod transport;
