//! Peer discovery: a Kademlia routing table of the peers that proved to run our chain, so
//! that a node which knows one peer (a bootnode, a genesis validator) learns the others.
//!
//! How it stays on our chain:
//! - The Kademlia protocol name carries the genesis (`/pov/<16 hex>/kad/1`): nodes of
//!   another chain never answer our queries, nor we theirs.
//! - The routing table is filled by hand ([`kad::BucketInserts::Manual`]): a peer enters only
//!   after identify proved it runs our genesis, with the listen addresses it announced. So
//!   what we tell others is only peers we verified ourselves.
//! - A peer learned from someone else's answer is dialled, then identified like any other:
//!   one of another chain is dropped and refused as usual.
//!
//! What it accepts is bounded: at most [`MAX_ADDRS_PER_PEER`] addresses per peer enter the
//! table or a dial; Kademlia's packet limit (16 KiB) bounds every answer, its buckets (20
//! peers each) bound the table; records and provider records sent to us are dropped unread
//! (record filtering on, and nothing ever stored); at most [`MAX_DIALS_PER_ANSWER`] peers are
//! dialled per answer, none while [`TARGET_PEERS`] are connected, and a peer we tried is not
//! tried again for [`RETRY_AFTER`] (the memory of tries is capped at [`MAX_REMEMBERED`]).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use libp2p::{
    kad::{self, store::MemoryStore, GetClosestPeersError, GetClosestPeersOk, QueryResult},
    multiaddr::Protocol,
    Multiaddr, PeerId,
};
use tracing::debug;

use super::{error::NetworkError, topic::Names};

/// Addresses of one peer kept in the routing table or used in one dial. An honest node
/// listens on a handful (one per interface); more is noise or an attempt to make us dial
/// arbitrary hosts.
pub(crate) const MAX_ADDRS_PER_PEER: usize = 8;

/// Discovered peers dialled per query answer.
pub(crate) const MAX_DIALS_PER_ANSWER: usize = 20;

/// Verified peers beyond which discovered peers are no longer dialled: enough for
/// gossipsub's mesh (6 to 12 peers) and for every validator of a cooperative to be one hop
/// away, few enough to keep connection counts modest.
pub(crate) const TARGET_PEERS: usize = 50;

/// A discovered peer we dialled is not dialled again before this.
pub(crate) const RETRY_AFTER: Duration = Duration::from_secs(60);

/// Most peers remembered as recently tried; older entries are forgotten first.
pub(crate) const MAX_REMEMBERED: usize = 1024;

/// Interval between discovery queries while the node has at least one peer.
pub(crate) const QUERY_INTERVAL: Duration = Duration::from_secs(30);

/// Delay of the first query after a new peer joined the table: short, so a node learns the
/// whole network within seconds of reaching its first peer, yet batched when several join.
pub(crate) const QUERY_SOON: Duration = Duration::from_millis(500);

/// Builds the Kademlia behaviour of a node (see the module docs for its settings).
pub(crate) fn build(
    local_peer_id: PeerId,
    names: &Names,
) -> Result<kad::Behaviour<MemoryStore>, NetworkError> {
    let mut config = kad::Config::new(names.kad_protocol()?);
    config
        .set_kbucket_inserts(kad::BucketInserts::Manual)
        .set_record_filtering(kad::StoreInserts::FilterBoth)
        .set_periodic_bootstrap_interval(None)
        .set_query_timeout(Duration::from_secs(30));
    let mut kad =
        kad::Behaviour::with_config(local_peer_id, MemoryStore::new(local_peer_id), config);
    // Answer queries even without a confirmed public address: a cooperative's nodes often
    // sit on private networks, where the automatic mode would stay a silent client.
    kad.set_mode(Some(kad::Mode::Server));
    Ok(kad)
}

/// The addresses worth keeping for `peer` from what it (or someone) announced: TCP
/// addresses with a concrete IP, without a `/p2p/` suffix (or with `peer`'s own), at most
/// [`MAX_ADDRS_PER_PEER`], duplicates removed.
pub(crate) fn dialable(peer: &PeerId, addrs: &[Multiaddr]) -> Vec<Multiaddr> {
    let mut out: Vec<Multiaddr> = Vec::new();
    for addr in addrs {
        let Some(addr) = strip_own_suffix(peer, addr) else {
            continue;
        };
        let mut parts = addr.iter();
        let ip_ok = match parts.next() {
            Some(Protocol::Ip4(ip)) => !ip.is_unspecified() && !ip.is_broadcast(),
            Some(Protocol::Ip6(ip)) => !ip.is_unspecified(),
            Some(Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_)) => true,
            _ => false,
        };
        let tcp_ok = matches!(parts.next(), Some(Protocol::Tcp(port)) if port != 0);
        if ip_ok && tcp_ok && parts.next().is_none() && !out.contains(&addr) {
            out.push(addr);
            if out.len() == MAX_ADDRS_PER_PEER {
                break;
            }
        }
    }
    out
}

/// `addr` without a trailing `/p2p/<peer>`; `None` if it names another peer.
fn strip_own_suffix(peer: &PeerId, addr: &Multiaddr) -> Option<Multiaddr> {
    let mut addr = addr.clone();
    match addr.iter().last() {
        Some(Protocol::P2p(id)) if id == *peer => {
            addr.pop();
            Some(addr)
        }
        Some(Protocol::P2p(_)) => None,
        _ => Some(addr),
    }
}

/// When to query, and which discovered peers were tried lately.
#[derive(Debug)]
pub(crate) struct Discovery {
    /// This node's id: the key of every other query.
    local: PeerId,
    /// Whether the last query was for our own id.
    own_turn: bool,
    /// When the next query is due (once a peer is known).
    next_query: Instant,
    /// Discovered peers we dialled, and when: not dialled again before [`RETRY_AFTER`].
    tried: HashMap<PeerId, Instant>,
}

impl Discovery {
    /// Nothing known yet; the first query runs as soon as a peer is verified.
    pub(crate) fn new(local: PeerId, now: Instant) -> Self {
        Self {
            local,
            own_turn: false,
            next_query: now + QUERY_INTERVAL,
            tried: HashMap::new(),
        }
    }

    /// A peer proved to run our chain: put it in the routing table with the addresses it
    /// listens on, and query soon so its own peers are learned.
    pub(crate) fn on_verified(
        &mut self,
        kad: &mut kad::Behaviour<MemoryStore>,
        peer: PeerId,
        listen_addrs: &[Multiaddr],
        now: Instant,
    ) {
        let addrs = dialable(&peer, listen_addrs);
        if addrs.is_empty() {
            debug!(%peer, "verified peer announced no dialable address; not shared");
            return;
        }
        for addr in addrs {
            kad.add_address(&peer, addr);
        }
        self.next_query = self.next_query.min(now + QUERY_SOON);
    }

    /// A peer runs another chain or was banned: never hand it out again.
    pub(crate) fn forget(&mut self, kad: &mut kad::Behaviour<MemoryStore>, peer: &PeerId) {
        kad.remove_peer(peer);
    }

    /// Starts a query if one is due and the node has a peer to ask. Alternates between our
    /// own id (our neighbourhood) and a random one (the rest of the network).
    pub(crate) fn on_tick(
        &mut self,
        kad: &mut kad::Behaviour<MemoryStore>,
        have_peers: bool,
        now: Instant,
    ) {
        if now < self.next_query || !have_peers {
            return;
        }
        self.next_query = now + QUERY_INTERVAL;
        self.own_turn = !self.own_turn;
        let key = if self.own_turn {
            self.local
        } else {
            PeerId::random()
        };
        kad.get_closest_peers(key);
        self.tried
            .retain(|_, at| now.saturating_duration_since(*at) < RETRY_AFTER);
    }

    /// The peers a finished (or timed-out) query found, with their usable addresses, that
    /// are worth a dial: not tried lately, at most [`MAX_DIALS_PER_ANSWER`]. The caller
    /// still skips connected, blocked and local peers, and stops at [`TARGET_PEERS`].
    pub(crate) fn candidates(
        &mut self,
        result: QueryResult,
        now: Instant,
    ) -> Vec<(PeerId, Vec<Multiaddr>)> {
        let peers = match result {
            QueryResult::GetClosestPeers(Ok(GetClosestPeersOk { peers, .. }))
            | QueryResult::GetClosestPeers(Err(GetClosestPeersError::Timeout { peers, .. })) => {
                peers
            }
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        for info in peers {
            if out.len() == MAX_DIALS_PER_ANSWER {
                break;
            }
            let recent = self
                .tried
                .get(&info.peer_id)
                .is_some_and(|at| now.saturating_duration_since(*at) < RETRY_AFTER);
            if recent {
                continue;
            }
            let addrs = dialable(&info.peer_id, &info.addrs);
            if !addrs.is_empty() {
                out.push((info.peer_id, addrs));
            }
        }
        out
    }

    /// Remembers that `peer` was dialled now, forgetting the oldest tries beyond the cap.
    pub(crate) fn mark_tried(&mut self, peer: PeerId, now: Instant) {
        if self.tried.len() >= MAX_REMEMBERED && !self.tried.contains_key(&peer) {
            if let Some(oldest) = self
                .tried
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(peer, _)| *peer)
            {
                self.tried.remove(&oldest);
            }
        }
        self.tried.insert(peer, now);
    }
}
