//! The network's error type.

use libp2p::{
    gossipsub::PublishError, request_response::OutboundFailure, Multiaddr, TransportError,
};

/// Why a network operation failed.
///
/// Start-up errors ([`NetworkError::NoRuntime`], [`NetworkError::InvalidConfig`],
/// [`NetworkError::Setup`], [`NetworkError::Listen`], [`NetworkError::AddrInUse`]) mean the node cannot run its network and
/// should stop; the others concern one message or request and are the caller's to retry or
/// drop.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// [`super::spawn`] runs the event loop on the current tokio runtime, and there was none.
    #[error("the network must be spawned from within a tokio runtime")]
    NoRuntime,
    /// The [`super::NetworkConfig`] cannot work as given.
    #[error("invalid network config: {0}")]
    InvalidConfig(String),
    /// Building a libp2p component failed (transport security, gossipsub, mDNS socket).
    #[error("network setup failed: {0}")]
    Setup(String),
    /// The node could not listen on one of its configured addresses (port taken, bad address).
    #[error("cannot listen on {addr}")]
    Listen {
        /// The configured address that failed.
        addr: Multiaddr,
        /// What the transport said (libp2p's own wrapper prints nothing for an I/O error, so
        /// it is unwrapped: see `listen_error`).
        #[source]
        source: std::io::Error,
    },
    /// Another process (often another `povd`) already listens on this address.
    #[error(
        "p2p address {addr} is already in use (is another povd running there?): choose \
         another with --p2p-addr or `povd config set p2p.listen`"
    )]
    AddrInUse {
        /// The configured address that is taken.
        addr: Multiaddr,
    },
    /// The payload exceeds `max_message_bytes`; every peer would refuse it, so it is not sent.
    #[error("message of {size} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// Size of the refused payload.
        size: usize,
        /// The configured limit.
        max: usize,
    },
    /// Gossipsub refused to publish (e.g. all peer queues full, signing failed). Having no
    /// peers yet is not reported as an error: see [`super::NetworkHandle::publish`].
    #[error("gossipsub refused to publish")]
    Publish(#[from] PublishError),
    /// A sync request failed: the peer was unreachable, timed out, closed the connection, or
    /// does not speak our chain's sync protocol.
    #[error("sync request failed")]
    Request(#[from] OutboundFailure),
    /// The event loop has stopped (after [`super::NetworkHandle::shutdown`] or a fatal
    /// error), so the operation could not be carried out.
    #[error("the network has shut down")]
    Shutdown,
}

/// The I/O error inside a transport's refusal to listen on `addr`: libp2p's
/// `TransportError` displays nothing for an I/O error, so keeping it as the cause would print
/// an empty reason.
pub(crate) fn listen_error(
    addr: &Multiaddr,
    error: TransportError<std::io::Error>,
) -> NetworkError {
    let source = match error {
        TransportError::Other(e) => e,
        TransportError::MultiaddrNotSupported(_) => std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no transport of this node supports this address (use /ip4/.../tcp/PORT or /ip6/.../tcp/PORT)",
        ),
    };
    NetworkError::Listen {
        addr: addr.clone(),
        source,
    }
}
