//! Bootnode bookkeeping: dial every bootnode at start and re-dial it with exponential backoff
//! whenever it is unreachable or drops, so a devnet heals after any node restarts.

use std::time::{Duration, Instant};

use libp2p::{
    multiaddr::Protocol,
    swarm::{
        dial_opts::{DialOpts, PeerCondition},
        ConnectionId,
    },
    Multiaddr, PeerId,
};

use super::config::{BOOTNODE_MAX_BACKOFF, BOOTNODE_MIN_BACKOFF};

/// How often a node without any peer says so at warn, listing what it dials and why that
/// fails.
pub(crate) const ALONE_WARN_EVERY: Duration = Duration::from_secs(30);

/// Longest dial error kept per bootnode (a multi-address dial error lists every attempt).
const MAX_ERROR_CHARS: usize = 300;

/// Where one bootnode stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Not connected; dial at or after this instant.
    Waiting(Instant),
    /// A dial is in flight under this connection id.
    Dialing(ConnectionId),
    /// Connected (by our dial or by theirs).
    Connected,
    /// Never dial again: it is ourselves, or it runs another chain.
    Abandoned,
}

/// One configured bootnode.
#[derive(Debug)]
struct Bootnode {
    addr: Multiaddr,
    /// From the address's `/p2p/` suffix, or learned on the first connection.
    peer: Option<PeerId>,
    state: State,
    /// Delay before the next re-dial after a failure; doubles up to the maximum.
    backoff: Duration,
    /// Why the last dial failed, for the "no peer" warning.
    last_error: Option<String>,
}

impl Bootnode {
    /// Schedules the next dial after the current backoff, and doubles the backoff.
    fn retry_later(&mut self, now: Instant) {
        self.state = State::Waiting(now + self.backoff);
        self.backoff = (self.backoff * 2).min(BOOTNODE_MAX_BACKOFF);
    }
}

/// All configured bootnodes and their dial state.
#[derive(Debug)]
pub(crate) struct Bootnodes {
    entries: Vec<Bootnode>,
}

impl Bootnodes {
    /// Tracks `addrs`, all due for dialling right away.
    pub(crate) fn new(addrs: &[Multiaddr], now: Instant) -> Self {
        let entries = addrs
            .iter()
            .map(|addr| Bootnode {
                addr: addr.clone(),
                peer: peer_of(addr),
                state: State::Waiting(now),
                backoff: BOOTNODE_MIN_BACKOFF,
                last_error: None,
            })
            .collect();
        Self { entries }
    }

    /// Bootnodes with a known peer id, so the swarm can dial them by id (e.g. for a sync
    /// request) before any connection exists.
    pub(crate) fn known_addresses(&self) -> impl Iterator<Item = (PeerId, Multiaddr)> + '_ {
        self.entries
            .iter()
            .filter_map(|b| b.peer.map(|peer| (peer, b.addr.clone())))
    }

    /// Dials that are due at `now`, marked as in flight. A bootnode already connected (say it
    /// dialled us first) is marked connected instead; a blocked one waits another backoff.
    pub(crate) fn due(
        &mut self,
        now: Instant,
        is_connected: impl Fn(&PeerId) -> bool,
        is_blocked: impl Fn(&PeerId) -> bool,
    ) -> Vec<DialOpts> {
        let mut dials = Vec::new();
        for bootnode in &mut self.entries {
            let State::Waiting(at) = bootnode.state else {
                continue;
            };
            if at > now {
                continue;
            }
            let opts = match bootnode.peer {
                Some(peer) if is_connected(&peer) => {
                    bootnode.state = State::Connected;
                    bootnode.backoff = BOOTNODE_MIN_BACKOFF;
                    continue;
                }
                Some(peer) if is_blocked(&peer) => {
                    bootnode.retry_later(now);
                    continue;
                }
                Some(peer) => DialOpts::peer_id(peer)
                    .addresses(vec![bootnode.addr.clone()])
                    .condition(PeerCondition::DisconnectedAndNotDialing)
                    .build(),
                None => DialOpts::unknown_peer_id()
                    .address(bootnode.addr.clone())
                    .build(),
            };
            bootnode.state = State::Dialing(opts.connection_id());
            dials.push(opts);
        }
        dials
    }

    /// A connection is up: it may be one of our dials, or an inbound one from a bootnode.
    pub(crate) fn on_established(&mut self, connection: ConnectionId, peer: PeerId) {
        for bootnode in &mut self.entries {
            let ours = bootnode.state == State::Dialing(connection);
            let theirs = bootnode.peer == Some(peer) && bootnode.state != State::Abandoned;
            if ours || theirs {
                bootnode.peer = Some(peer);
                bootnode.state = State::Connected;
                bootnode.backoff = BOOTNODE_MIN_BACKOFF;
            }
        }
    }

    /// A dial failed (`why`); `abandon` when retrying is pointless (it was ourselves). Returns
    /// whether it was a bootnode dial.
    pub(crate) fn on_dial_failed(
        &mut self,
        connection: ConnectionId,
        now: Instant,
        abandon: bool,
        why: &str,
    ) -> bool {
        let mut ours = false;
        for bootnode in &mut self.entries {
            if bootnode.state == State::Dialing(connection) {
                ours = true;
                bootnode.last_error = Some(why.chars().take(MAX_ERROR_CHARS).collect());
                if abandon {
                    bootnode.state = State::Abandoned;
                } else {
                    bootnode.retry_later(now);
                }
            }
        }
        ours
    }

    /// The last connection to `peer` closed: re-dial it if it is a bootnode.
    pub(crate) fn on_disconnected(&mut self, peer: PeerId, now: Instant) {
        for bootnode in &mut self.entries {
            if bootnode.peer == Some(peer) && bootnode.state == State::Connected {
                bootnode.retry_later(now);
            }
        }
    }

    /// Each bootnode not connected and still dialled, with why its last dial failed: what a
    /// node without peers reports.
    pub(crate) fn describe(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|b| matches!(b.state, State::Waiting(_) | State::Dialing(_)))
            .map(|b| match &b.last_error {
                Some(e) => format!("{} (last attempt: {e})", b.addr),
                None => b.addr.to_string(),
            })
            .collect()
    }

    /// Never dial `peer` again (it runs another chain).
    pub(crate) fn abandon(&mut self, peer: PeerId) {
        for bootnode in &mut self.entries {
            if bootnode.peer == Some(peer) {
                bootnode.state = State::Abandoned;
            }
        }
    }
}

/// The peer id in an address's trailing `/p2p/` component, if any.
fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    match addr.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn backoff_doubles_until_capped_and_resets_on_connect() {
        let now = Instant::now();
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().expect("valid multiaddr");
        let mut nodes = Bootnodes::new(&[addr], now);
        let mut delays = Vec::new();
        let mut t = now;
        for _ in 0..10 {
            let dials = nodes.due(t, |_| false, |_| false);
            assert_eq!(dials.len(), 1);
            assert!(nodes.on_dial_failed(dials[0].connection_id(), t, false, "refused"));
            let State::Waiting(at) = nodes.entries[0].state else {
                panic!("should wait after a failure");
            };
            delays.push(at - t);
            assert!(nodes.due(t, |_| false, |_| false).is_empty());
            t = at;
        }
        assert_eq!(delays[0], BOOTNODE_MIN_BACKOFF);
        assert_eq!(delays[1], BOOTNODE_MIN_BACKOFF * 2);
        assert_eq!(*delays.last().expect("ten delays"), BOOTNODE_MAX_BACKOFF);

        let dials = nodes.due(t, |_| false, |_| false);
        let peer = PeerId::random();
        nodes.on_established(dials[0].connection_id(), peer);
        assert_eq!(nodes.entries[0].state, State::Connected);
        nodes.on_disconnected(peer, t);
        assert_eq!(
            nodes.entries[0].state,
            State::Waiting(t + BOOTNODE_MIN_BACKOFF)
        );

        nodes.abandon(peer);
        assert!(nodes
            .due(t + BOOTNODE_MAX_BACKOFF, |_| false, |_| false)
            .is_empty());
    }

    #[test]
    fn a_node_alone_can_say_what_it_dials_and_why_that_fails() {
        let now = Instant::now();
        let addr: Multiaddr = "/ip4/10.0.0.5/tcp/26656".parse().expect("valid multiaddr");
        let mut nodes = Bootnodes::new(std::slice::from_ref(&addr), now);
        assert_eq!(nodes.describe(), vec![addr.to_string()]);
        let dials = nodes.due(now, |_| false, |_| false);
        assert!(nodes.on_dial_failed(dials[0].connection_id(), now, false, "Connection refused"));
        assert_eq!(
            nodes.describe(),
            vec![format!("{addr} (last attempt: Connection refused)")]
        );
        let dials = nodes.due(now + BOOTNODE_MAX_BACKOFF, |_| false, |_| false);
        nodes.on_established(dials[0].connection_id(), PeerId::random());
        assert!(
            nodes.describe().is_empty(),
            "a connected bootnode is not listed"
        );
    }
}
