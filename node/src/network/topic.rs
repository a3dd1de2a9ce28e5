//! Gossip topics, validation verdicts, and the genesis-scoped names the network announces.

use libp2p::{
    gossipsub::{IdentTopic, MessageAcceptance},
    StreamProtocol,
};

use super::error::NetworkError;

/// A gossip channel. The node names a channel by meaning; the network turns it into a topic
/// string scoped by the genesis hash, so two chains on one host never share a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Pending transactions, relayed so that every validator can include them.
    Transactions,
    /// Consensus traffic (proposals, votes, finalized blocks).
    Consensus,
}

impl Topic {
    /// Every topic, so the network can subscribe to all of them and map a received topic hash
    /// back to the enum.
    pub const ALL: [Topic; 2] = [Topic::Transactions, Topic::Consensus];

    /// Short name used in the topic string.
    fn slug(self) -> &'static str {
        match self {
            Topic::Transactions => "tx",
            Topic::Consensus => "consensus",
        }
    }
}

/// The node's judgement of a gossip message, which decides whether it travels further.
///
/// Only [`Verdict::Accept`] forwards the message. [`Verdict::Reject`] costs the peer that sent
/// it gossip score (enough rejections disconnect and ban it), so reserve it for messages that
/// are invalid in themselves (malformed, bad signature); use [`Verdict::Ignore`] for messages
/// that are merely useless now (stale, duplicate, from the future), which an honest peer can
/// relay in a race.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Valid: deliver it to our mesh peers.
    Accept,
    /// Invalid: drop it and penalise the peer it came from.
    Reject,
    /// Not worth forwarding, but no fault of the sender: drop it without penalty.
    Ignore,
}

impl From<Verdict> for MessageAcceptance {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Accept => MessageAcceptance::Accept,
            Verdict::Reject => MessageAcceptance::Reject,
            Verdict::Ignore => MessageAcceptance::Ignore,
        }
    }
}

/// The genesis-scoped names the network uses on the wire.
#[derive(Debug, Clone)]
pub(crate) struct Names {
    /// Hex of the whole genesis hash, sent in identify and compared exactly.
    genesis_hex: String,
}

impl Names {
    pub(crate) fn new(genesis_hash: &[u8; 32]) -> Self {
        let genesis_hex = genesis_hash.iter().map(|b| format!("{b:02x}")).collect();
        Self { genesis_hex }
    }

    /// First 16 hex digits (64 bits) of the genesis hash: unique enough to separate chains in
    /// names, short enough to keep topic strings and protocol names readable in logs.
    fn short(&self) -> &str {
        &self.genesis_hex[..16]
    }

    /// Gossip topic for `topic`, e.g. `/pov/0123456789abcdef/tx/1`.
    pub(crate) fn topic(&self, topic: Topic) -> IdentTopic {
        IdentTopic::new(format!("/pov/{}/{}/1", self.short(), topic.slug()))
    }

    /// Request-response protocol for block sync, e.g. `/pov/0123456789abcdef/sync/1`.
    pub(crate) fn sync_protocol(&self) -> Result<StreamProtocol, NetworkError> {
        let name = format!("/pov/{}/sync/1", self.short());
        StreamProtocol::try_from_owned(name)
            .map_err(|e| NetworkError::InvalidConfig(format!("sync protocol name: {e}")))
    }

    /// Kademlia protocol for peer discovery, e.g. `/pov/0123456789abcdef/kad/1`: nodes of
    /// another chain do not speak it, so they never enter each other's routing tables.
    pub(crate) fn kad_protocol(&self) -> Result<StreamProtocol, NetworkError> {
        let name = format!("/pov/{}/kad/1", self.short());
        StreamProtocol::try_from_owned(name)
            .map_err(|e| NetworkError::InvalidConfig(format!("kad protocol name: {e}")))
    }

    /// Identify protocol version, e.g. `/pov/1/<64 hex digits>`: it carries the whole genesis
    /// hash so a peer of another chain is recognised and dropped right after the handshake.
    pub(crate) fn identify_version(&self) -> String {
        format!("/pov/1/{}", self.genesis_hex)
    }
}
