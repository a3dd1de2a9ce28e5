//! What the node hands the network at start-up, and the fixed policy constants that are not
//! worth a config knob yet.

use std::time::Duration;

use libp2p::{identity::Keypair, Multiaddr};

/// Everything the network needs from the node to start.
///
/// It is a plain struct (no builder) because the node assembles it from its own config file
/// and key store; the network only validates what it cannot work with (see
/// [`super::spawn`]).
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// Addresses to listen on, e.g. `/ip4/127.0.0.1/tcp/0`. Port 0 asks the OS for a free
    /// port; [`super::NetworkHandle::listen_addrs`] reports the port it picked. An empty list
    /// makes a dial-only node.
    pub listen: Vec<Multiaddr>,
    /// Peers dialled at start and re-dialled with exponential backoff whenever the connection
    /// is lost, so a devnet heals after a node restarts. An address may end in
    /// `/p2p/<peer id>`; without it the peer's identity is learned on the first connection.
    pub bootnodes: Vec<Multiaddr>,
    /// Discover peers on the local network by mDNS. Meant for local devnets only: it sends
    /// multicast traffic, so keep it off in tests and on public hosts.
    pub mdns: bool,
    /// Learn further peers of our chain from the ones we reach, by Kademlia
    /// (`discovery.rs`). Off only for a deliberately fixed topology (a validator behind
    /// sentry nodes, a test of a line of nodes).
    pub discovery: bool,
    /// Hash of the chain's genesis block. It scopes the gossip topics, the sync protocol name
    /// and the identify protocol version, so nodes of different chains never exchange data and
    /// disconnect from each other on sight.
    pub genesis_hash: [u8; 32],
    /// The node's long-lived p2p identity (ed25519). Its public key is the node's `PeerId`,
    /// which other nodes put in their bootnode addresses, so it must be stable across restarts.
    pub keypair: Keypair,
    /// Largest payload, in bytes, of one gossip message, one sync request or one sync
    /// response. Gossipsub's default of 64 KiB is far too small for a block of 1,000
    /// transactions, so the node passes a few MiB here; peers must agree on it, as a peer
    /// rejects anything larger than its own limit.
    pub max_message_bytes: usize,
    /// Connection limits and the idle timeout.
    pub limits: super::Limits,
}

/// How long [`super::NetworkHandle::request`] waits for a sync response before failing. Long
/// enough to move a multi-MiB batch of blocks over a slow link, short enough that a dead peer
/// does not stall sync for long.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Interval of the event loop's housekeeping tick (bootnode re-dials, ban expiry, score checks).
pub(crate) const TICK_INTERVAL: Duration = Duration::from_millis(250);

/// First re-dial delay for a lost bootnode; doubled on every failure up to
/// [`BOOTNODE_MAX_BACKOFF`].
pub(crate) const BOOTNODE_MIN_BACKOFF: Duration = Duration::from_millis(500);

/// Cap on the bootnode re-dial delay, so a devnet node that comes back after a long outage is
/// found again within a minute.
pub(crate) const BOOTNODE_MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A connected peer that has not proved, through identify, that it runs our chain within this
/// time is disconnected: every honest node answers identify within milliseconds.
pub(crate) const IDENTIFY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a peer of another chain stays connected after we learned its genesis, so that it
/// surely receives our identify info (and so stops dialling us) before we hang up. It shares
/// no topic or protocol with us meanwhile, so nothing else is exchanged.
pub(crate) const FOREIGN_GRACE: Duration = Duration::from_secs(1);

/// How long a peer whose gossip score fell below the graylist threshold stays disconnected and
/// blocked. Its score is remembered meanwhile, so a peer that keeps misbehaving after the ban
/// is banned again quickly.
pub(crate) const BAN_DURATION: Duration = Duration::from_secs(600);

/// Largest sync request: a valid one is under 20 bytes today; the margin leaves room for new
/// request kinds without letting a peer make us buffer megabytes.
pub(crate) const MAX_REQUEST_BYTES: usize = 4 * 1024;

/// Sync requests one peer may make per second; further ones fail at once (the remote sees
/// its request dropped). Honest sync makes one or two a second.
pub(crate) const SYNC_REQUESTS_PER_SEC: u32 = 20;

/// Consensus events (votes, proposals, peer changes) that may wait inside the event loop;
/// they are delivered before any transaction gossip or sync request, so a flood of those
/// never delays or drops a vote. Larger than [`EVENT_BACKLOG_LIMIT`] yet bounded.
pub(crate) const PRIORITY_BACKLOG_LIMIT: usize = 8 * 1024;

/// Capacity of the channel that carries [`super::NetworkEvent`]s to the node.
pub(crate) const EVENT_CHANNEL_CAPACITY: usize = 1024;

/// Transaction gossip and sync requests that wait inside the event loop when the node is
/// slower than the network. Beyond this they are dropped (gossip reported `Ignore`, nobody is
/// penalised; requests refused), so a stalled node cannot make the network task grow without
/// bound.
pub(crate) const EVENT_BACKLOG_LIMIT: usize = 1024;
