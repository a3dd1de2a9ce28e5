//! Repeats of one gossip message under fresh nonces, dropped before the node sees them.
//!
//! Every gossip payload starts with a sender-chosen nonce (a postcard varint, `wire.rs`), so
//! that a node can re-send its own votes and pending transactions past gossipsub's duplicate
//! cache. The nonce is not signed, so anyone can wrap a real, validly signed vote in new
//! nonces: each copy is a new gossip message, and without this filter every node would check
//! its signature, accept it and forward it to the whole network, as often as the attacker
//! likes. Here a message's identity is the payload *after* the nonce, which only its signer
//! can produce, and each identity is let through at most once per [`REPEAT_WINDOW`]: the
//! copies in between are ignored at once (no decoding, no signature check, not forwarded).
//!
//! One copy is ignored, not penalised: honest nodes produce such copies too (a validator's
//! periodic re-broadcast right after its first send, or two validators re-sending the same
//! justification), so a copy says nothing about the peer that relayed it. Many do: an honest
//! relay forwards only what its own node let through, so the copies it relays here come from
//! the two nodes' windows not lining up, a few a second at most. A peer that relays more than
//! [`MAX_RELAYED_REPEATS`] in [`RELAY_WINDOW`] is banned ([`Relays`]).

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long after a message is let through its repeats are dropped: half the node's
/// re-broadcast interval (2 s), so that deliberate re-sends still pass.
pub(crate) const REPEAT_WINDOW: Duration = Duration::from_secs(1);

/// Most identities remembered; beyond, the oldest are forgotten first (which only lets a
/// repeat through early). About 100 bytes each.
const MAX_REMEMBERED: usize = 65_536;

/// Repeats dropped since the process started (`pov_gossip_repeats_dropped` in `/metrics`).
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// Repeats dropped since the process started.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// The identity of a gossip payload: blake3 of what follows its leading varint nonce
/// (the whole payload if it does not start with a varint).
pub(crate) fn identity(payload: &[u8]) -> [u8; 32] {
    let nonce_len = payload
        .iter()
        .take(10)
        .position(|b| b & 0x80 == 0)
        .map_or(0, |last| last + 1);
    *blake3::hash(&payload[nonce_len..]).as_bytes()
}

/// When each recent identity was last let through.
#[derive(Debug, Default)]
pub(crate) struct Repeats {
    passed: HashMap<[u8; 32], Instant>,
    order: VecDeque<([u8; 32], Instant)>,
}

impl Repeats {
    /// Whether `payload` may go to the node at `now`: false for a repeat of an identity let
    /// through less than [`REPEAT_WINDOW`] ago (counted in [`dropped`]).
    pub(crate) fn admit(&mut self, payload: &[u8], now: Instant) -> bool {
        self.expire(now);
        let id = identity(payload);
        if let Some(at) = self.passed.get(&id) {
            if now.saturating_duration_since(*at) < REPEAT_WINDOW {
                DROPPED.fetch_add(1, Ordering::Relaxed);
                return false;
            }
        }
        self.passed.insert(id, now);
        self.order.push_back((id, now));
        while self.passed.len() > MAX_REMEMBERED {
            let Some((old, at)) = self.order.pop_front() else {
                break;
            };
            if self.passed.get(&old) == Some(&at) {
                self.passed.remove(&old);
            }
        }
        true
    }

    /// Forgets identities whose window has passed.
    fn expire(&mut self, now: Instant) {
        while let Some((id, at)) = self.order.front().copied() {
            if now.saturating_duration_since(at) < REPEAT_WINDOW {
                break;
            }
            self.order.pop_front();
            if self.passed.get(&id) == Some(&at) {
                self.passed.remove(&id);
            }
        }
    }

    /// Identities remembered now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.passed.len()
    }
}

/// How long the repeats one peer relays are counted over.
pub(crate) const RELAY_WINDOW: Duration = Duration::from_secs(10);

/// Most repeats one peer may relay in a [`RELAY_WINDOW`] (100 a second on average, far above
/// what timing differences between honest nodes produce).
pub(crate) const MAX_RELAYED_REPEATS: u32 = 1_000;

/// Most peers counted at once (the node holds far fewer connections).
const MAX_COUNTED: usize = 4_096;

/// Repeats relayed per peer, over a window that restarts when it has passed.
#[derive(Debug)]
pub(crate) struct Relays<K> {
    counts: HashMap<K, (Instant, u32)>,
}

impl<K> Default for Relays<K> {
    fn default() -> Self {
        Relays {
            counts: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq> Relays<K> {
    /// Counts a repeat relayed by `peer` at `now`: true exactly when this one takes the peer
    /// past [`MAX_RELAYED_REPEATS`] in its window (the caller bans it then, once).
    pub(crate) fn note(&mut self, peer: K, now: Instant) -> bool {
        if self.counts.len() >= MAX_COUNTED && !self.counts.contains_key(&peer) {
            self.counts
                .retain(|_, (start, _)| now.saturating_duration_since(*start) < RELAY_WINDOW);
            if self.counts.len() >= MAX_COUNTED {
                return false;
            }
        }
        let (start, count) = self.counts.entry(peer).or_insert((now, 0));
        if now.saturating_duration_since(*start) >= RELAY_WINDOW {
            (*start, *count) = (now, 0);
        }
        *count += 1;
        *count == MAX_RELAYED_REPEATS + 1
    }

    /// Forgets a peer (it disconnected or was banned).
    pub(crate) fn forget(&mut self, peer: &K) {
        self.counts.remove(peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_nonce(nonce: u8, message: &[u8]) -> Vec<u8> {
        let mut out = vec![nonce];
        out.extend_from_slice(message);
        out
    }

    #[test]
    fn the_nonce_is_not_part_of_the_identity() {
        assert_eq!(
            identity(&with_nonce(1, b"vote")),
            identity(&with_nonce(2, b"vote"))
        );
        assert_ne!(
            identity(&with_nonce(1, b"vote")),
            identity(&with_nonce(1, b"note"))
        );
        // A multi-byte varint nonce.
        let mut long = vec![0x80, 0x80, 0x01];
        long.extend_from_slice(b"vote");
        assert_eq!(identity(&long), identity(&with_nonce(5, b"vote")));
    }

    #[test]
    fn repeats_under_fresh_nonces_pass_once_per_window() {
        let mut repeats = Repeats::default();
        let start = Instant::now();
        let before = dropped();
        assert!(repeats.admit(&with_nonce(1, b"vote"), start));
        for nonce in 2..100 {
            assert!(!repeats.admit(
                &with_nonce(nonce, b"vote"),
                start + Duration::from_millis(5)
            ));
        }
        assert!(dropped() >= before + 98);
        // Another message is not held up.
        assert!(repeats.admit(&with_nonce(1, b"other"), start));
        // After the window, a deliberate re-send passes again, once.
        let later = start + REPEAT_WINDOW;
        assert!(repeats.admit(&with_nonce(100, b"vote"), later));
        assert!(!repeats.admit(&with_nonce(101, b"vote"), later));
        // Expired identities are forgotten.
        let _ = repeats.admit(b"\x01x", later + REPEAT_WINDOW * 2);
        assert_eq!(repeats.len(), 1);
    }

    #[test]
    fn a_peer_relaying_repeats_beyond_the_rate_is_named_once() {
        let mut relays = Relays::default();
        let start = Instant::now();
        // An honest relay's few repeats a second never come near the limit.
        for i in 0..(10 * 20) {
            let at = start + Duration::from_millis(i * 50);
            assert!(!relays.note("honest", at));
        }
        // A flood crosses it once: the caller bans the peer then.
        let over: Vec<bool> = (0..=MAX_RELAYED_REPEATS)
            .map(|_| relays.note("flood", start))
            .collect();
        assert_eq!(over.iter().filter(|o| **o).count(), 1);
        assert_eq!(over.last(), Some(&true));
        // A window later, the count starts again.
        assert!(!relays.note("flood", start + RELAY_WINDOW));
    }

    #[test]
    fn memory_is_bounded() {
        let mut repeats = Repeats::default();
        let now = Instant::now();
        for i in 0..(MAX_REMEMBERED as u32 + 1_000) {
            let mut payload = vec![0u8];
            payload.extend_from_slice(&i.to_le_bytes());
            assert!(repeats.admit(&payload, now));
        }
        assert_eq!(repeats.len(), MAX_REMEMBERED);
        assert!(repeats.order.len() <= MAX_REMEMBERED + 1_000);
    }
}
