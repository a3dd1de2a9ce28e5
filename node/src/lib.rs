//! The `povd` node daemon. (Issue 4: not built yet.)
pub mod consensus;
