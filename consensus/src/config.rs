//! Timeouts and limits of the consensus core.

use super::types::Step;

/// A timeout that grows linearly with the round: `base_ms + round * delta_ms`.
///
/// Growth is what gives liveness after the network stabilises: whatever the real message
/// delay is, some round's timeout is long enough for an honest proposer's round to finish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutParams {
    /// Duration in round 0, in milliseconds.
    pub base_ms: u64,
    /// Extra duration per round, in milliseconds.
    pub delta_ms: u64,
}

impl TimeoutParams {
    /// The duration in `round` (saturating, so a huge round cannot overflow).
    pub fn duration_ms(&self, round: u32) -> u64 {
        self.base_ms
            .saturating_add(self.delta_ms.saturating_mul(u64::from(round)))
    }
}

/// The three timeouts of Algorithm 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeoutConfig {
    /// How long to wait for the round's proposal before prevoting nil.
    pub propose: TimeoutParams,
    /// How long to wait after seeing 2/3+ prevotes of any kind before precommitting nil.
    pub prevote: TimeoutParams,
    /// How long to wait after seeing 2/3+ precommits of any kind before the next round.
    pub precommit: TimeoutParams,
}

impl TimeoutConfig {
    /// The duration of the timeout of `step` in `round`.
    pub fn duration_ms(&self, step: Step, round: u32) -> u64 {
        match step {
            Step::Propose => self.propose.duration_ms(round),
            Step::Prevote => self.prevote.duration_ms(round),
            Step::Precommit => self.precommit.duration_ms(round),
        }
    }
}

impl Default for TimeoutConfig {
    /// Tendermint's long-standing defaults: propose 3 s, prevote and precommit 1 s, each
    /// growing by 500 ms per round.
    fn default() -> Self {
        Self {
            propose: TimeoutParams {
                base_ms: 3_000,
                delta_ms: 500,
            },
            prevote: TimeoutParams {
                base_ms: 1_000,
                delta_ms: 500,
            },
            precommit: TimeoutParams {
                base_ms: 1_000,
                delta_ms: 500,
            },
        }
    }
}

/// Everything tunable about the core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsensusConfig {
    /// The three timeouts.
    pub timeouts: TimeoutConfig,
    /// Messages for rounds more than this far above the current round are dropped.
    ///
    /// Bounds the memory a faulty validator can make the core spend on made-up future
    /// rounds (at most this many rounds of votes per validator). Honest validators cannot
    /// get this far ahead: every round needs more than 2/3 of the power to end, and its
    /// timeouts grow.
    pub max_round_lookahead: u32,
}

impl Default for ConsensusConfig {
    fn default() -> Self {
        Self {
            timeouts: TimeoutConfig::default(),
            max_round_lookahead: 1_000,
        }
    }
}
