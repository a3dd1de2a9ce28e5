//! The composed libp2p behaviour: which protocols a `pov` node speaks.

use std::iter;

use libp2p::{
    allow_block_list::{self, BlockedPeers},
    connection_limits, identify,
    identity::Keypair,
    kad::{self, store::MemoryStore},
    mdns, ping, request_response,
    swarm::{behaviour::toggle::Toggle, NetworkBehaviour},
};

use super::{
    codec::BytesCodec,
    config::{MAX_REQUEST_BYTES, REQUEST_TIMEOUT},
    discovery,
    error::NetworkError,
    gossip::{self, Gossipsub},
    limits::{Limits, PerIp},
    topic::Names,
};

/// All protocols of a node. Field order is the order in which the swarm polls them, and
/// asks them whether to accept a connection: the limits come first, so that a connection
/// they refuse costs the others nothing.
#[derive(NetworkBehaviour)]
pub(crate) struct Behaviour {
    /// Refuses connections beyond the total, per-peer and pending limits.
    pub(crate) limits: connection_limits::Behaviour,
    /// Refuses inbound connections beyond the per-IP limit.
    pub(crate) per_ip: PerIp,
    /// Refuses and closes connections to peers of another chain and to banned peers.
    pub(crate) blocked: allow_block_list::Behaviour<BlockedPeers>,
    /// Exchanges the genesis-scoped protocol version and listen addresses.
    pub(crate) identify: identify::Behaviour,
    /// Liveness check: a connection whose ping fails is closed, since idle connections are
    /// otherwise kept forever.
    pub(crate) ping: ping::Behaviour,
    /// Transaction and consensus gossip.
    pub(crate) gossipsub: Gossipsub,
    /// Block sync: opaque request bytes in, opaque response bytes out.
    pub(crate) sync: request_response::Behaviour<BytesCodec>,
    /// Local peer discovery, present only when the config enables it.
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
    /// Peer discovery over the network: a routing table of verified peers (`discovery.rs`).
    pub(crate) kad: Toggle<kad::Behaviour<MemoryStore>>,
}

impl Behaviour {
    /// Builds every protocol from the node's identity and config.
    pub(crate) fn new(
        keypair: &Keypair,
        names: &Names,
        max_message_bytes: usize,
        enable_mdns: bool,
        enable_discovery: bool,
        limits: &Limits,
    ) -> Result<Self, NetworkError> {
        let local_peer_id = keypair.public().to_peer_id();

        let identify = identify::Behaviour::new(
            identify::Config::new(names.identify_version(), keypair.public())
                .with_agent_version(format!("pov/{}", env!("CARGO_PKG_VERSION"))),
        );

        let sync = request_response::Behaviour::with_codec(
            BytesCodec::new(max_message_bytes, MAX_REQUEST_BYTES),
            iter::once((
                names.sync_protocol()?,
                request_response::ProtocolSupport::Full,
            )),
            request_response::Config::default().with_request_timeout(REQUEST_TIMEOUT),
        );

        let mdns = if enable_mdns {
            let mdns = mdns::tokio::Behaviour::new(mdns::Config::default(), local_peer_id)
                .map_err(|e| NetworkError::Setup(format!("mDNS: {e}")))?;
            Some(mdns)
        } else {
            None
        };

        Ok(Self {
            limits: connection_limits::Behaviour::new(limits.libp2p()),
            per_ip: PerIp::new(limits.max_connections_per_ip),
            blocked: allow_block_list::Behaviour::default(),
            identify,
            ping: ping::Behaviour::default(),
            gossipsub: gossip::build(keypair, names, max_message_bytes)?,
            sync,
            mdns: Toggle::from(mdns),
            kad: Toggle::from(
                enable_discovery
                    .then(|| discovery::build(local_peer_id, names))
                    .transpose()?,
            ),
        })
    }
}
