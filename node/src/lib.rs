//! `povd`, the `pov` node daemon: networking, mempool, consensus, block sync and the HTTP API.
//!
//! One path from socket to state (see `docs/architecture.md`): the [`api`] and the
//! [`network`] hand transactions to the [`mempool`]; the consensus [`host`] drives the pure
//! engine (`pov-consensus`), logs its own votes in the [`wal`] before sending them, builds
//! and checks blocks, commits decided blocks to storage, and serves block sync; the
//! [`service`] run loop feeds the host from tokio and libp2p. [`shared`] is the state the API
//! reads (store, mempool, events, counters); [`wire`] holds what nodes send each other;
//! [`config`] a node's settings and home layout; [`run`] wires it all together for the
//! binary.

pub mod api;
pub mod config;
#[cfg(test)]
mod fuzz_seeds;
pub mod genesis_wait;
pub mod health;
pub mod host;
pub mod mempool;
pub mod metrics;
pub mod network;
pub mod run;
pub mod service;
pub mod shared;
pub mod verified;
pub mod wal;
pub mod wire;
