//! Helpers of the protocol crate's integration tests.

pub mod accounting;
