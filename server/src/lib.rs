//! # cityguide-server
//!
//! The city's HTTP side, run as `cityguide server --config city.toml`:
//!
//! - the published site (catalog, packs, deltas, basemaps) with byte ranges ([`app`]);
//! - the phone's own JSON endpoints for reports, ballots and the status of one's own reports ([`phone`]);
//! - Open311 GeoReport v2 with FixMyStreet's updates extension ([`open311`]);
//! - the offices' web inbox with accounts, roles and CSRF-protected forms ([`web`], [`auth`]);
//! - delivery to offices with their own systems, by e-mail or Open311, with retries and a dead-letter list
//!   ([`delivery`]);
//! - storage on PostgreSQL or embedded SQLite with one schema and one set of queries ([`db`], [`store`]);
//! - health, readiness and Prometheus metrics ([`metrics`]).
//!
//! Every request is checked with the rules the phone applies (`cityguide_core::citizen::wire`), refused with a
//! reason when anything is wrong, and stored at most once per idempotency key.

#![deny(missing_docs)]
// Handlers return `Result<_, Response>` so an early refusal is one `?`; axum's Response is large by design.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod delivery;
pub mod metrics;
pub mod open311;
pub mod phone;
pub mod serve;
pub mod store;
pub mod web;

pub use app::Background;
pub use config::Config;
