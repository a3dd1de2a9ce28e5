//! What the network tells the node.

use libp2p::{gossipsub::MessageId, PeerId};
use tokio::sync::oneshot;

use super::topic::Topic;

/// Something the node has to act on, delivered on the receiver returned by [`super::spawn`].
///
/// The node must keep draining the receiver: when it falls too far behind, gossip is dropped
/// (without penalising anyone) and inbound requests are refused.
#[derive(Debug)]
pub enum NetworkEvent {
    /// A gossip message awaiting validation: the node MUST call
    /// [`super::NetworkHandle::report`] with `id`, `source` and a verdict; only
    /// [`super::Verdict::Accept`] forwards it. Until then the message is held, not relayed, so
    /// invalid data never spreads beyond the first honest node. A verdict that comes after the
    /// message left the cache (about 10 s) is ignored and the message is not forwarded.
    Gossip {
        /// The channel it arrived on.
        topic: Topic,
        /// Content hash (blake3 of `data`) identifying the message network-wide.
        id: MessageId,
        /// The peer that relayed it to us (not necessarily its author): the one penalised on
        /// [`super::Verdict::Reject`].
        source: PeerId,
        /// The payload, exactly as published.
        data: Vec<u8>,
    },
    /// An inbound sync request (opaque bytes); answer through `reply`. Dropping `reply` fails
    /// the request on the requester's side, which is the way to refuse it.
    Request {
        /// The peer asking.
        peer: PeerId,
        /// The request payload.
        data: Vec<u8>,
        /// Where the answer goes; it must fit in `max_message_bytes` or it is dropped.
        reply: oneshot::Sender<Vec<u8>>,
    },
    /// A peer of our chain is connected: it answered identify with our genesis hash. Peers of
    /// other chains never show up here.
    PeerConnected(PeerId),
    /// A peer previously reported by [`NetworkEvent::PeerConnected`] has lost its last
    /// connection.
    PeerDisconnected(PeerId),
}
