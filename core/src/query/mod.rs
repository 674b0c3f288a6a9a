//! The questions a tourist asks of an installed pack, offline: what is near (spatial), what is called so (search),
//! is it open (hours), where am I on this tour (tour) and what did I just walk past (proximity).
//!
//! Each module answers over plain indices and positions; [`crate::Guide`] turns the answers into the records apps
//! show.

pub mod hours;
pub mod proximity;
pub(crate) mod search;
pub mod spatial;
pub mod tour;
