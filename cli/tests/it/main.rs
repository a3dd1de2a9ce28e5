//! `pov`'s integration tests, one binary (one link) for all of them:
//!
//! - `simulate`, `genesis`, `keys`, `misc`, `forming`, `proofs`: the binary on its own;
//! - `node`, `e2e`, `governance`: the node commands against a real `povd --dev` (a child
//!   process per test).

mod e2e;
mod forming;
mod genesis;
mod governance;
mod keys;
mod misc;
mod node;
mod proofs;
mod scenario;
mod simulate;
mod support;
