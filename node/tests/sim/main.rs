//! A deterministic simulation of real `pov` nodes: several consensus hosts
//! (`pov_node::host::Host`, the code `povd` runs) in one process, each with the real engine,
//! mempool, consensus log (in memory, surviving crashes) and store (the in-memory engine,
//! surviving crashes), over a simulated network and clock.
//!
//! - `network.rs`: links that lose, delay (and so reorder) and duplicate messages, partitions
//!   that cut links and heal, gossip flooding with per-node duplicate suppression as
//!   gossipsub does it, and request-response with a timeout.
//! - `byzantine.rs`: the misbehaviours, one enum, each applicable to any node: it rewrites
//!   what that node's (otherwise honest) host sends.
//! - `harness.rs`: the event queue, the nodes (crash and restart), the invariants checked
//!   after every step, and the trace digest.
//! - `scenarios.rs`: the tests CI runs.
//!
//! `POV_SIM_SEED` (first seed, default 1) and `POV_SIM_RUNS` (seeds per scenario, default
//! small) come from the environment, so anyone can run far more seeds than CI does; a
//! failing run prints the one command that replays it.

mod byzantine;
mod harness;
mod network;
mod scenarios;
