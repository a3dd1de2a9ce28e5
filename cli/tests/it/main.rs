//! `pov`'s integration tests, one binary (one link) for all of them:
//!
//! - `simulate`, `genesis`, `keys`, `misc`, `proofs`: the binary on its own;
//! - `node`: the node commands against an API stand-in built on the state machine;
//! - `e2e`: a real single-node devnet (`povd --dev`), driven through `pov` alone.

mod e2e;
mod genesis;
mod keys;
mod misc;
mod node;
mod proofs;
mod scenario;
mod simulate;
mod support;
