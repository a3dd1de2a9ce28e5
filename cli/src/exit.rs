//! Exit codes, documented in `docs/cli.md`, so scripts can tell failures apart.
//!
//! A command returns an `anyhow::Error`; [`classify`] walks its chain for one of the typed
//! errors below (or the node client's and keystore's own) to pick the code, and [`code_name`]
//! gives the stable string `--output json` reports it under.

use crate::keystore::KeystoreError;
use crate::node::NodeError;

/// Success.
pub const OK: i32 = 0;
/// Any failure not covered below (an unreadable file, an unexpected answer, a timeout).
pub const FAILURE: i32 = 1;
/// A usage error: unknown flag, missing or malformed argument (clap's own code).
pub const USAGE: i32 = 2;
/// The input (a genesis, a vector file, an amount, an address) is malformed or invalid.
pub const INVALID_INPUT: i32 = 3;
/// `simulate --check` found figures that differ from the file's expected ones.
pub const MISMATCH: i32 = 4;
/// The node could not be reached (connection refused, DNS, timeout on connect).
pub const NODE_UNREACHABLE: i32 = 5;
/// The node rejected the transaction (the message is the node's reason).
pub const TX_REJECTED: i32 = 6;
/// A key problem: no such key, wrong passphrase, damaged key file, no passphrase given.
pub const KEY_ERROR: i32 = 7;
/// A reputation proof does not verify (`verify-proof`, `genesis import-member`): damaged,
/// of another cooperative, without a quorum of signatures, or not of a member at its height.
pub const PROOF_INVALID: i32 = 8;
/// Interrupted by Ctrl-C (SIGINT): the shell reports 128 + 2; `pov` does not catch it, so
/// an interrupted command leaves nothing half-written (files are replaced atomically).
#[allow(dead_code)] // Documented for scripts; the shell produces it, not `pov`.
pub const INTERRUPTED: i32 = 130;

/// Marks an error as bad input, so `main` exits with [`INVALID_INPUT`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// Marks a reputation proof that does not verify, so `main` exits with [`PROOF_INVALID`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProofInvalid(pub String);

/// The exit code for an error that reached `main`.
pub fn classify(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.downcast_ref::<InvalidInput>().is_some() {
            return INVALID_INPUT;
        }
        if cause.downcast_ref::<ProofInvalid>().is_some() {
            return PROOF_INVALID;
        }
        if let Some(e) = cause.downcast_ref::<NodeError>() {
            return e.exit_code();
        }
        if cause.downcast_ref::<KeystoreError>().is_some() {
            return KEY_ERROR;
        }
    }
    FAILURE
}

/// The stable string under which `--output json` reports an error (`error.code`).
///
/// Errors the node answered with keep the node's own code (`not_found`, `bad_request`, ...:
/// `docs/api.md`), so a script sees the same code whether it asked the node or `pov`.
pub fn code_name(err: &anyhow::Error) -> String {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<NodeError>() {
            return e.code().to_string();
        }
    }
    match classify(err) {
        INVALID_INPUT => "invalid_input",
        KEY_ERROR => "key_error",
        PROOF_INVALID => "proof_invalid",
        _ => "failure",
    }
    .to_string()
}
