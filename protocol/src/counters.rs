//! Process-wide counts of the two costly steps a transaction goes through: checking its
//! signature and executing it.
//!
//! A node's metrics (`GET /metrics`) and the load harness divide these by the transactions
//! committed to tell how often each transaction was verified and executed per node, which
//! is what the verified-transaction cache and single execution are measured by. Nothing in
//! consensus reads them: they are plain relaxed atomics, one increment per call.

use std::sync::atomic::{AtomicU64, Ordering};

static SIGNATURE_CHECKS: AtomicU64 = AtomicU64::new(0);
static EXECUTIONS: AtomicU64 = AtomicU64::new(0);

/// Transaction signatures checked by this process so far (valid or not).
pub fn signature_checks() -> u64 {
    SIGNATURE_CHECKS.load(Ordering::Relaxed)
}

/// Transactions executed against some state by this process so far (applied or failed):
/// the mempool's check, a proposal's construction or check, a commit, a replay.
pub fn executions() -> u64 {
    EXECUTIONS.load(Ordering::Relaxed)
}

pub(crate) fn count_signature_check() {
    SIGNATURE_CHECKS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn count_execution() {
    EXECUTIONS.fetch_add(1, Ordering::Relaxed);
}
