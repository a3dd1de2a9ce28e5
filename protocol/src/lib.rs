//! The `pov` protocol: transactions, blocks, genesis and the Proof-of-Value state machine.
//!
//! This crate is pure: no I/O, no clock, no randomness, no floating point in anything that
//! decides state. Two nodes that apply the same transactions to the same genesis reach
//! byte-identical states and the same state root. The contract it implements is
//! `shared/spec/pov-protocol.md`; `docs/protocol.md` explains it and the decisions taken
//! where the spec was silent.
//!
//! `clippy.toml` beside this crate's manifest turns the rules into checks: clippy (with
//! `-D warnings` in CI) refuses the clock, OS randomness, the environment and std's hash
//! maps here, and the lint below refuses float arithmetic outside the one place that
//! compares results with the conformance vectors.

#![warn(clippy::float_arithmetic)]

pub mod amount;
pub mod block;
pub mod codec;
pub mod conformance;
pub mod counters;
pub mod error;
pub mod evaluation;
pub mod events;
mod execute;
pub mod explain;
pub mod genesis;
pub mod governance;
#[cfg(pov_lint_canary)]
mod lint_canary;
pub mod merkle;
pub mod params;
pub mod proof;
pub mod sealed;
pub mod state;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;
pub mod tx;
pub mod validators;

pub use amount::{Amount, AmountError};
pub use error::TxError;
pub use events::{Asset, BlockEvent, Event, Rule};
pub use governance::{ParamChange, ParamPath, ParamValue, Proposal};
pub use params::{
    Admission, EvalValue, GovernanceParams, Grant, Params, Revote, RewardRule, Sealed, TypeParams,
};
pub use sealed::{Commitment, Phase, SealedState, SettledEvent, Settlement};
pub use state::{
    ChainEntry, Contribution, ContributionId, LiveEvaluation, Member, MemberId, State,
};
pub use tx::{Transaction, TxBody};
pub use validators::{Validator, ValidatorSet, ValidatorSetError};

/// serde, as this crate uses it: crates that must not depend on anything but `pov-protocol`
/// (the consensus core) derive their canonical encodings through this path
/// (`#[serde(crate = "pov_protocol::serde")]`), so there is one serde in their tree and it is
/// the one the canonical codec is built on.
pub use serde;
