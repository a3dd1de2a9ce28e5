//! Peer-to-peer networking for a `pov` node, on libp2p.
//!
//! The node calls [`spawn`] once; it gets a [`NetworkHandle`] to publish gossip, report
//! verdicts and send sync requests, and a receiver of [`NetworkEvent`]s to act on. One tokio
//! task (the event loop) owns the libp2p swarm, so the node never touches libp2p types beyond
//! the few re-exported here.
//!
//! What runs on the wire:
//! - TCP, secured by noise, multiplexed by yamux.
//! - identify, whose protocol version carries the genesis hash: a peer of another chain is
//!   disconnected and refused for the life of the process (logged at warn).
//! - ping, closing connections that stop answering.
//! - gossipsub on `/pov/<16 hex of genesis>/{tx,consensus}/1`, message id = blake3 of the
//!   payload, nothing forwarded before the node's verdict, and peer scoring that disconnects
//!   and bans peers relaying rejected messages (settings explained in `gossip.rs`); copies of
//!   one message under fresh nonces reach the node at most once a second (`repeats.rs`).
//! - request-response on `/pov/<16 hex of genesis>/sync/1`: length-prefixed opaque bytes.
//! - bootnodes (and the genesis validators' addresses, which the node passes as bootnodes)
//!   dialled at start and re-dialled with backoff; mDNS discovery if enabled.
//! - Kademlia on `/pov/<16 hex of genesis>/kad/1` for peer discovery, its routing table
//!   holding only peers that passed the chain check (`discovery.rs`).
//! - connection limits (total, per IP, per peer, handshaking) and an idle timeout
//!   (`limits.rs`).

mod behaviour;
mod bootnodes;
mod codec;
mod config;
mod discovery;
mod error;
mod event;
mod event_loop;
mod gossip;
mod handle;
mod limits;
mod port_check;
mod repeats;
mod topic;

#[cfg(test)]
mod discovery_tests;
#[cfg(test)]
mod tests;

use std::{collections::HashSet, time::Instant};

use libp2p::{noise, tcp, yamux, SwarmBuilder};
use tokio::sync::mpsc;
use tracing::info;

pub use config::NetworkConfig;
pub use error::NetworkError;
pub use event::NetworkEvent;
pub use event_loop::bans as peer_bans;
pub use handle::NetworkHandle;
/// Re-exported so the node can build and store a [`NetworkConfig`] keypair, name peers and
/// messages, and parse addresses without depending on libp2p paths.
pub use libp2p::{gossipsub::MessageId, identity::Keypair, Multiaddr, PeerId};
pub use limits::Limits;
pub use repeats::dropped as gossip_repeats_dropped;
pub use topic::{Topic, Verdict};

use behaviour::Behaviour;
use bootnodes::Bootnodes;
use config::EVENT_CHANNEL_CAPACITY;
use event_loop::EventLoop;
use topic::Names;

/// Builds the swarm, starts listening on `config.listen`, and spawns the event loop on the
/// current tokio runtime; bootnodes are dialled right away.
///
/// Returns the handle and the receiver of [`NetworkEvent`]s, which the node must keep
/// draining. Fails if called outside a tokio runtime, if `max_message_bytes` is 0 or does
/// not fit in 32 bits, or if a listen address cannot be bound (one in use by another process
/// included: [`NetworkError::AddrInUse`]).
pub fn spawn(
    config: NetworkConfig,
) -> Result<(NetworkHandle, mpsc::Receiver<NetworkEvent>), NetworkError> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| NetworkError::NoRuntime)?;
    if config.max_message_bytes == 0 || u32::try_from(config.max_message_bytes).is_err() {
        return Err(NetworkError::InvalidConfig(format!(
            "max_message_bytes must be between 1 and {}, got {}",
            u32::MAX,
            config.max_message_bytes
        )));
    }

    for addr in &config.listen {
        port_check::ensure_free(addr)?;
    }

    let names = Names::new(&config.genesis_hash);
    let behaviour = Behaviour::new(
        &config.keypair,
        &names,
        config.max_message_bytes,
        config.mdns,
        config.discovery,
        &config.limits,
    )?;
    let mut swarm = SwarmBuilder::with_existing_identity(config.keypair.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| NetworkError::Setup(format!("noise: {e}")))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| NetworkError::Setup(format!("behaviour: {e}")))?
        // Gossipsub keeps its mesh peers alive (consensus traffic never stops); any other
        // connection that stays idle this long is closed, so idle connections cannot pile up.
        // Dead connections are closed sooner, on ping failure.
        .with_swarm_config(|c| c.with_idle_connection_timeout(config.limits.idle_timeout))
        .build();

    let mut pending_listeners = HashSet::new();
    for addr in &config.listen {
        let listener = swarm
            .listen_on(addr.clone())
            .map_err(|error| error::listen_error(addr, error))?;
        pending_listeners.insert(listener);
    }

    let bootnodes = Bootnodes::new(&config.bootnodes, Instant::now());
    for (peer, addr) in bootnodes.known_addresses() {
        // The operator named these peers: they keep their slots whatever the limits.
        swarm.behaviour_mut().limits.bypass_peer_id(&peer);
        swarm.add_peer_address(peer, addr);
    }

    let local_peer_id = *swarm.local_peer_id();
    info!(peer = %local_peer_id, "network starting");
    let (command_tx, command_rx) = mpsc::unbounded_channel();
    let (event_tx, event_rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
    let event_loop = EventLoop::new(
        swarm,
        command_rx,
        event_tx,
        &names,
        config.max_message_bytes,
        bootnodes,
        pending_listeners,
    );
    runtime.spawn(async move {
        // `run` consumes the loop, so the swarm is dropped (connections and listeners
        // closed) before the shutdown is acknowledged.
        if let Some(done) = event_loop.run().await {
            let _ = done.send(());
        }
        info!("network stopped");
    });
    Ok((NetworkHandle::new(command_tx, local_peer_id), event_rx))
}
