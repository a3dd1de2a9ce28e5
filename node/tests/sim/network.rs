//! The simulated network: which links are up, how long a message takes, whether it is lost
//! or duplicated. Everything random is drawn from the run's one generator, in event order,
//! so a seed fixes the whole run.

use pov_protocol::test_utils::SplitMix64;

/// How the network behaves: during the chaos window and after it.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// Message loss before `chaos_until_ms`, per mille.
    pub loss_chaos_permille: u64,
    /// Message loss afterwards, per mille.
    pub loss_calm_permille: u64,
    /// Chance that a message is delivered twice, per mille.
    pub duplicate_permille: u64,
    /// Smallest one-way delay.
    pub delay_min_ms: u64,
    /// Largest one-way delay (random in between, so messages overtake each other).
    pub delay_max_ms: u64,
    /// How long a sync request waits for its answer before it fails (libp2p's is 30 s).
    pub request_timeout_ms: u64,
    /// How long a peer's duplicate suppression remembers a gossip message id (gossipsub's
    /// duplicate cache: 60 s).
    pub seen_window_ms: u64,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            loss_chaos_permille: 100,
            loss_calm_permille: 5,
            duplicate_permille: 20,
            delay_min_ms: 5,
            delay_max_ms: 150,
            request_timeout_ms: 30_000,
            seen_window_ms: 60_000,
        }
    }
}

/// A partition: the nodes with `side[i]` true cannot reach the others in `[from, until)`.
#[derive(Clone, Debug)]
pub struct Partition {
    pub from_ms: u64,
    pub until_ms: u64,
    pub side: Vec<bool>,
}

/// The links between `n` nodes, and the randomness of delivery.
pub struct Network {
    pub config: NetConfig,
    pub partitions: Vec<Partition>,
    /// Messages stop being lost at the chaos rate from this time on.
    pub chaos_until_ms: u64,
    pub rng: SplitMix64,
}

impl Network {
    /// Whether `a` and `b` can talk at `now` (no partition separates them).
    pub fn linked(&self, a: usize, b: usize, now: u64) -> bool {
        a != b
            && !self
                .partitions
                .iter()
                .any(|p| p.from_ms <= now && now < p.until_ms && p.side[a] != p.side[b])
    }

    /// The delivery times of one message sent from `a` to `b` at `now`: none (lost or cut),
    /// one, or two (duplicated).
    pub fn deliveries(&mut self, a: usize, b: usize, now: u64) -> Vec<u64> {
        if !self.linked(a, b, now) {
            return Vec::new();
        }
        let loss = if now < self.chaos_until_ms {
            self.config.loss_chaos_permille
        } else {
            self.config.loss_calm_permille
        };
        if self.rng.chance(loss) {
            return Vec::new();
        }
        let mut out = vec![now + self.delay()];
        if self.rng.chance(self.config.duplicate_permille) {
            out.push(now + self.delay());
        }
        out
    }

    /// One message's delay.
    pub fn delay(&mut self) -> u64 {
        self.rng
            .between(self.config.delay_min_ms, self.config.delay_max_ms)
    }
}
