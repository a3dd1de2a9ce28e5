//! The node's side of the network: a cheap, cloneable handle that sends commands to the event
//! loop, which owns the swarm.

use libp2p::{gossipsub::MessageId, Multiaddr, PeerId};
use tokio::sync::{mpsc, oneshot};
use tracing::debug;

use super::{
    error::NetworkError,
    topic::{Topic, Verdict},
};

/// A request from a [`NetworkHandle`] to the event loop.
///
/// The channel carrying these is unbounded on purpose: every command except `Report` makes
/// its caller wait for the answer, so the queue is bounded by the number of concurrent
/// callers, and `Report`s are bounded by the gossip the loop handed out. That lets
/// [`NetworkHandle::report`] stay synchronous and never lose a verdict.
#[derive(Debug)]
pub(crate) enum Command {
    Publish {
        topic: Topic,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<(), NetworkError>>,
    },
    Report {
        id: MessageId,
        source: PeerId,
        verdict: Verdict,
    },
    Ban {
        peer: PeerId,
        reason: String,
    },
    Request {
        peer: PeerId,
        data: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<u8>, NetworkError>>,
    },
    Peers {
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    TopicPeers {
        topic: Topic,
        reply: oneshot::Sender<Vec<PeerId>>,
    },
    ListenAddrs {
        reply: oneshot::Sender<Vec<Multiaddr>>,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
    #[cfg(test)]
    Debug {
        reply: oneshot::Sender<DebugState>,
    },
}

/// Swarm internals the tests check but the node has no business with.
#[cfg(test)]
#[derive(Debug, Clone)]
pub(crate) struct DebugState {
    /// Peers with at least one open connection, verified or not.
    pub(crate) connected: Vec<PeerId>,
    /// Peers refused by the block list (other chain, or banned for a low score).
    pub(crate) blocked: Vec<PeerId>,
}

/// Handle to a running network, returned by [`super::spawn`].
///
/// Clone it freely (it is a channel sender and a peer id): block production, sync and the
/// RPC layer each keep their own. Once the event loop has stopped, async calls return
/// [`NetworkError::Shutdown`] or an empty answer.
#[derive(Debug, Clone)]
pub struct NetworkHandle {
    commands: mpsc::UnboundedSender<Command>,
    local_peer_id: PeerId,
}

impl NetworkHandle {
    pub(crate) fn new(commands: mpsc::UnboundedSender<Command>, local_peer_id: PeerId) -> Self {
        Self {
            commands,
            local_peer_id,
        }
    }

    /// Sends a command expecting one answer, and waits for it.
    async fn ask<T>(
        &self,
        command: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, NetworkError> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(command(tx))
            .map_err(|_| NetworkError::Shutdown)?;
        rx.await.map_err(|_| NetworkError::Shutdown)
    }

    /// Gossips `data` on `topic` to every subscribed peer of our chain.
    ///
    /// Having no subscribed peer yet (a node alone, or still connecting) is not an error: the
    /// message is dropped, logged at debug, and `Ok` returned, since a lone validator must
    /// keep producing. Publishing content identical to an earlier message (same blake3 id) is
    /// likewise a no-op. Errors: [`NetworkError::MessageTooLarge`] above
    /// `max_message_bytes`, [`NetworkError::Publish`] if gossipsub could not queue it,
    /// [`NetworkError::Shutdown`].
    pub async fn publish(&self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        self.ask(|reply| Command::Publish { topic, data, reply })
            .await?
    }

    /// Delivers the node's verdict on a [`super::NetworkEvent::Gossip`] message: `Accept`
    /// forwards it to our mesh, `Reject` drops it and penalises `source`, `Ignore` drops it.
    /// Fire-and-forget, so it can be called from synchronous validation code.
    pub fn report(&self, id: MessageId, source: PeerId, verdict: Verdict) {
        let command = Command::Report {
            id,
            source,
            verdict,
        };
        if self.commands.send(command).is_err() {
            debug!("network has shut down; verdict dropped");
        }
    }

    /// Disconnects `peer` and refuses it for the ban duration (10 minutes): for what no honest
    /// node sends (a sync answer that breaks the protocol, a block that does not verify, a
    /// malformed request). `reason` goes to the log. Like [`NetworkHandle::report`], it never
    /// waits.
    pub fn ban(&self, peer: PeerId, reason: impl Into<String>) {
        let command = Command::Ban {
            peer,
            reason: reason.into(),
        };
        if self.commands.send(command).is_err() {
            debug!("network has shut down; ban dropped");
        }
    }

    /// Sends a sync request to `peer` and waits for its response, at most 30 s. The peer is
    /// dialled if not connected and its address is known (bootnode, mDNS, identify).
    pub async fn request(&self, peer: PeerId, data: Vec<u8>) -> Result<Vec<u8>, NetworkError> {
        self.ask(|reply| Command::Request { peer, data, reply })
            .await?
    }

    /// Connected peers of our chain (those announced by
    /// [`super::NetworkEvent::PeerConnected`]); empty once shut down.
    pub async fn peers(&self) -> Vec<PeerId> {
        self.ask(|reply| Command::Peers { reply })
            .await
            .unwrap_or_default()
    }

    /// Peers known to be subscribed to `topic`, i.e. who would receive a publish now. Lets the
    /// node (or a test) wait until gossip can actually go out before producing.
    pub async fn topic_peers(&self, topic: Topic) -> Vec<PeerId> {
        self.ask(|reply| Command::TopicPeers { topic, reply })
            .await
            .unwrap_or_default()
    }

    /// This node's peer id, derived from the configured keypair.
    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// The addresses actually bound (port 0 resolved), without a `/p2p/` suffix. Waits until
    /// every configured listener has reported its address, so it is safe to call right after
    /// [`super::spawn`]; empty once shut down.
    pub async fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.ask(|reply| Command::ListenAddrs { reply })
            .await
            .unwrap_or_default()
    }

    /// Stops the event loop, closing every connection and listener, and returns once it has
    /// stopped. The event receiver then yields `None`. Calling it again, or from another
    /// clone, is harmless.
    pub async fn shutdown(&self) {
        // An error means the loop is already gone, which is what the caller wants.
        let _ = self.ask(|done| Command::Shutdown { done }).await;
    }

    /// Snapshot of swarm internals for tests.
    #[cfg(test)]
    pub(crate) async fn debug_state(&self) -> Result<DebugState, NetworkError> {
        self.ask(|reply| Command::Debug { reply }).await
    }
}
