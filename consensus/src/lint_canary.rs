//! Code that breaks this crate's lint rules on purpose. It is compiled only under
//! `--cfg pov_lint_canary`, by `.ci/run`, which expects clippy to refuse every item below, so
//! that a rule that silently stopped applying (a moved `clippy.toml`, a lint renamed or
//! allowed) fails CI instead of passing quietly. (`protocol/src/lint_canary.rs` also checks
//! the MSRV rule.)

#![allow(dead_code, missing_docs)]

/// `disallowed_types` (consensus/clippy.toml): std's hash maps iterate in random order.
fn hash_map() -> std::collections::HashSet<u8> {
    Default::default()
}

/// `disallowed_methods` (consensus/clippy.toml): the engine never reads the clock.
fn clock() -> std::time::SystemTime {
    std::time::SystemTime::now()
}

/// `float_arithmetic` (lib.rs): no floats deciding state.
fn float(x: f64) -> f64 {
    x / 3.0
}
