//! Is the chain moving, and could it? What `/status` reports and what the stall watchdog
//! logs, so that a stopped cooperative says why instead of sitting silently at one height.
//!
//! Two facts, each measured rather than guessed:
//! - **The age of the last block**: now minus the time in the head block's header (the
//!   genesis time at height 0). Block times come from the proposers' clocks, which spec
//!   section 6 keeps within 5 s of everyone's.
//! - **The validators this node sees**: a validator is *seen* when a consensus message it
//!   signed (a vote or a proposal, checked against its key) reached this node within the last
//!   [`SEEN_WINDOW_MS`], or when it is this node's own validator. Every validator re-broadcasts
//!   its current votes every 2 s while it runs, so a running, connected validator is seen
//!   even on a stalled chain; one that stopped, or whose messages cannot reach this node, is
//!   not. Blocks need signatures from more than 2/3 of the voting power: when the validators
//!   seen hold less, this node cannot be part of any new block, and says so.
//!
//! The watchdog ([`watch`]) warns when no block came for [`StallPolicy::after`], repeating
//! every such interval while the stall lasts, with the power seen and the validators not
//! seen; it says so once blocks come again.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pov_crypto::Address;
use pov_protocol::ValidatorSet;
use tokio::sync::watch as tokio_watch;

use crate::config::ConsensusTiming;
use crate::shared::{lock, now_ms, read, Shared};

/// A validator counts as seen for this long (ms) after its last signed consensus message:
/// three of the engine's 2 s re-broadcasts, so two lost messages in a row do not make a live
/// validator unseen, and shorter than a stall (at least 10 s), so that by the time a stall
/// is reported a stopped validator is no longer counted.
pub const SEEN_WINDOW_MS: u64 = 6_000;

/// When (ms since the epoch) the last signed consensus message of each validator arrived.
#[derive(Debug, Default)]
pub struct Liveness {
    last: HashMap<Address, u64>,
}

impl Liveness {
    /// Records a consensus message whose signature by `validator` was checked, at `now_ms`.
    /// Only the genesis validators are recorded (the caller checks membership first), so the
    /// map never grows beyond the validator set.
    pub fn saw(&mut self, validator: Address, now_ms: u64) {
        self.last.insert(validator, now_ms);
    }

    /// The validators of `set` seen within [`SEEN_WINDOW_MS`] before `now_ms`, plus `me`.
    pub fn seen(&self, set: &ValidatorSet, me: Option<Address>, now_ms: u64) -> Vec<Address> {
        set.validators()
            .iter()
            .map(|v| v.address)
            .filter(|a| {
                Some(*a) == me
                    || self
                        .last
                        .get(a)
                        .is_some_and(|at| now_ms.saturating_sub(*at) < SEEN_WINDOW_MS)
            })
            .collect()
    }
}

/// The chain's health as one node sees it (the `/status` fields of `docs/api.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// Milliseconds since the head block's time (the genesis time at height 0); 0 while the
    /// genesis time is still ahead.
    pub last_block_age_ms: u64,
    /// Milliseconds until the genesis time, when it is still ahead.
    pub starts_in_ms: Option<u64>,
    /// Validators seen (see the module docs) and their power.
    pub seen: Vec<Address>,
    /// Their voting power.
    pub seen_power: u64,
    /// Validators of the genesis.
    pub validators: usize,
    /// Their total voting power.
    pub total_power: u64,
    /// Whether the validators seen hold more than 2/3 of the power: blocks are possible.
    pub quorum_seen: bool,
    /// Whether no block came for longer than the stall threshold.
    pub stalled: bool,
}

impl Health {
    /// Measures the health now.
    pub fn of(shared: &Shared, policy: &StallPolicy) -> Health {
        let (head_ms, height, set) = {
            let store = read(&shared.store);
            // The node only runs a genesis whose validator set is valid.
            let set = store.genesis().validator_set().ok();
            (store.parent().time_ms, store.height(), set)
        };
        let now = now_ms();
        let last_block_age_ms = now.saturating_sub(head_ms);
        let (seen, seen_power, validators, total_power, quorum_seen) = match &set {
            Some(set) => {
                let seen = lock(&shared.liveness).seen(set, shared.validator, now);
                let power: u64 = seen.iter().filter_map(|a| set.power_of(a)).sum();
                let quorum = set.is_quorum(power);
                (seen, power, set.len(), set.total_power(), quorum)
            }
            None => (Vec::new(), 0, 0, 0, false),
        };
        Health {
            last_block_age_ms,
            starts_in_ms: (head_ms > now && height == 0).then(|| head_ms - now),
            quorum_seen,
            stalled: u128::from(last_block_age_ms) > policy.after.as_millis(),
            seen,
            seen_power,
            validators,
            total_power,
        }
    }

    /// The power seen, in words: "2 of 3 (66.7%)".
    pub fn power_text(&self) -> String {
        let tenths = (self.seen_power * 1000)
            .checked_div(self.total_power)
            .unwrap_or(0);
        format!(
            "{} of {} ({}.{}%)",
            self.seen_power,
            self.total_power,
            tenths / 10,
            tenths % 10
        )
    }
}

/// When a missing block counts as a stall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallPolicy {
    /// No block for this long is a stall.
    pub after: Duration,
}

impl StallPolicy {
    /// Ten block intervals, and at least two full rounds of timeouts: one proposer down
    /// delays a block by about one round, which must not read as a stall.
    pub fn from_timing(t: &ConsensusTiming) -> StallPolicy {
        let round = t
            .timeout_propose_ms
            .saturating_add(t.timeout_prevote_ms)
            .saturating_add(t.timeout_precommit_ms);
        let ms = t
            .block_time_ms
            .saturating_mul(10)
            .max(round.saturating_mul(2))
            .max(1_000);
        StallPolicy {
            after: Duration::from_millis(ms),
        }
    }
}

/// Logs stalls until `stop` turns true: a warning when no block came for `policy.after`
/// (not in the first `policy.after` after start, when the node may still be catching up, nor
/// while it syncs or waits for the genesis time), repeated every `policy.after`, and one line
/// when blocks come again.
pub async fn watch(
    shared: Arc<Shared>,
    policy: StallPolicy,
    mut stop: tokio_watch::Receiver<bool>,
) {
    let started = Instant::now();
    let mut last_warning: Option<Instant> = None;
    let mut stalled_at_height: Option<u64> = None;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            _ = tick.tick() => {}
        }
        let health = Health::of(&shared, &policy);
        let height = read(&shared.store).height();
        if let Some(h) = stalled_at_height {
            if height > h {
                tracing::info!(height, "blocks are being made again");
                stalled_at_height = None;
                last_warning = None;
            }
        }
        let syncing = shared.syncing.load(Ordering::Relaxed);
        if !health.stalled
            || syncing
            || health.starts_in_ms.is_some()
            || started.elapsed() < policy.after
            || last_warning.is_some_and(|at| at.elapsed() < policy.after)
        {
            continue;
        }
        last_warning = Some(Instant::now());
        stalled_at_height = Some(height);
        let unseen: Vec<String> = read(&shared.store)
            .genesis()
            .validators
            .iter()
            .filter(|v| !health.seen.contains(&v.public_key))
            .map(|v| v.public_key.to_string())
            .collect();
        if health.quorum_seen {
            tracing::warn!(
                height,
                seconds = health.last_block_age_ms / 1000,
                power_seen = %health.power_text(),
                "no block for {} s, although this node sees validators holding more than 2/3 of \
                 the voting power: consensus is slow or its messages are lost",
                health.last_block_age_ms / 1000
            );
        } else {
            tracing::warn!(
                height,
                seconds = health.last_block_age_ms / 1000,
                power_seen = %health.power_text(),
                not_seen = %unseen.join(","),
                "no block for {} s: this node sees validators holding only {} of the voting \
                 power, and blocks need more than 2/3; start the validators not seen, or check \
                 that they can reach each other",
                health.last_block_age_ms / 1000,
                health.power_text()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pov_protocol::Validator;

    fn set(powers: &[u64]) -> (ValidatorSet, Vec<Address>) {
        let addrs: Vec<Address> = (0..powers.len())
            .map(|i| pov_crypto::Keypair::dev(i as u32).address())
            .collect();
        let set = ValidatorSet::new(
            addrs
                .iter()
                .zip(powers)
                .map(|(a, p)| Validator {
                    address: *a,
                    power: *p,
                })
                .collect(),
        )
        .expect("valid set");
        (set, addrs)
    }

    #[test]
    fn a_validator_is_seen_for_the_window_after_its_last_message_and_always_itself() {
        let (set, v) = set(&[1, 1, 1]);
        let t0 = 1_000_000;
        let mut live = Liveness::default();
        live.saw(v[1], t0);
        assert_eq!(live.seen(&set, Some(v[0]), t0), vec![v[0], v[1]]);
        let later = t0 + SEEN_WINDOW_MS;
        assert_eq!(live.seen(&set, Some(v[0]), later), vec![v[0]]);
        assert_eq!(live.seen(&set, None, later), Vec::<Address>::new());
    }

    #[test]
    fn stall_threshold_covers_a_slow_round_and_ten_block_intervals() {
        let default = StallPolicy::from_timing(&ConsensusTiming::default());
        assert_eq!(default.after, Duration::from_secs(10));
        let slow = StallPolicy::from_timing(&ConsensusTiming {
            block_time_ms: 5_000,
            ..ConsensusTiming::default()
        });
        assert_eq!(slow.after, Duration::from_secs(50));
        let fast = StallPolicy::from_timing(&ConsensusTiming {
            block_time_ms: 10,
            timeout_propose_ms: 100,
            timeout_prevote_ms: 50,
            timeout_precommit_ms: 50,
            timeout_delta_ms: 10,
        });
        assert_eq!(fast.after, Duration::from_secs(1));
    }
}
