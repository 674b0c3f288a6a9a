//! `cityguide`: the publisher's and developer's tool.
fn main() {}
