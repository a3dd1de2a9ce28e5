//! Exit codes, documented in `docs/cli.md`, so scripts can tell failures apart.

/// Success.
pub const OK: i32 = 0;
/// Any failure not covered below.
pub const FAILURE: i32 = 1;
// 2 is clap's code for a usage error (bad flag or argument).
/// The input file (a genesis, a vector file) is malformed or invalid.
pub const INVALID_INPUT: i32 = 3;
/// `--check` found figures that differ from the file's expected ones.
pub const MISMATCH: i32 = 4;

/// Marks an error as bad input, so `main` exits with [`INVALID_INPUT`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

/// The exit code for an error that reached `main`.
pub fn classify(err: &anyhow::Error) -> i32 {
    if err.downcast_ref::<InvalidInput>().is_some() {
        INVALID_INPUT
    } else {
        FAILURE
    }
}
