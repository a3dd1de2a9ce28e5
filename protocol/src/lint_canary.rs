//! Code that breaks this crate's lint rules on purpose. It is compiled only under
//! `--cfg pov_lint_canary`, by `.ci/run`, which expects clippy to refuse every item below:
//! a rule that silently stopped applying (a moved `clippy.toml`, a lint renamed or allowed,
//! a `rust-version` clippy no longer reads) fails CI instead of passing quietly.

#![allow(dead_code, missing_docs)]

/// `disallowed_types` (protocol/clippy.toml): std's hash maps iterate in random order.
fn hash_map() -> std::collections::HashMap<u8, u8> {
    Default::default()
}

/// `disallowed_methods` (protocol/clippy.toml): consensus code never reads the clock.
fn clock() -> std::time::Instant {
    std::time::Instant::now()
}

/// `disallowed_methods` (protocol/clippy.toml): no OS randomness.
fn os_randomness() -> pov_crypto::Keypair {
    pov_crypto::Keypair::generate()
}

/// `float_arithmetic` (lib.rs): no floats deciding state.
fn float(x: f64) -> f64 {
    x * 2.0
}

/// `incompatible_msrv`: `File::lock` is stable since Rust 1.89, after the workspace's
/// declared `rust-version`, so clippy must refuse it.
fn newer_than_msrv(file: &std::fs::File) -> std::io::Result<()> {
    file.lock()
}
