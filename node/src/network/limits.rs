//! Connection limits: how many connections the swarm holds, in total, per remote IP, per peer
//! and while still handshaking, and how long an idle one lives.
//!
//! Without them one host can open connections until the node runs out of file handles (a
//! store that cannot open its files stops the node). The total, per-peer and pending limits
//! are libp2p's `connection_limits`; the per-IP limit is [`PerIp`] below, since a peer id
//! costs nothing to make and so bounds nothing on its own. Bootnodes bypass the total and
//! pending limits (see `super::spawn`), so a node whose slots an attacker filled still keeps
//! the peers its operator named.

use std::collections::HashMap;
use std::net::IpAddr;
use std::task::{Context, Poll};
use std::time::Duration;

use libp2p::{
    core::{multiaddr::Protocol, transport::PortUse, Endpoint},
    swarm::{
        dummy, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
        THandlerInEvent, THandlerOutEvent, ToSwarm,
    },
    Multiaddr, PeerId,
};

/// The connection limits of a node (see `docs/running-a-node.md` for the defaults' reasons).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Established connections in all, inbound and outbound.
    pub max_connections: u32,
    /// Connections (handshaking or established) from one remote IP address. Loopback
    /// addresses are exempt: they are this machine (local devnets run every node on it).
    pub max_connections_per_ip: u32,
    /// Established connections to one peer id (two allow a simultaneous dial both ways).
    pub max_connections_per_peer: u32,
    /// Inbound connections still in their security and multiplexing handshake.
    pub max_pending_incoming: u32,
    /// Outbound dials in progress.
    pub max_pending_outgoing: u32,
    /// A connection none of whose protocols has anything to do for this long is closed
    /// (gossip mesh peers always have: consensus keeps them busy).
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 128,
            max_connections_per_ip: 8,
            max_connections_per_peer: 2,
            max_pending_incoming: 32,
            max_pending_outgoing: 32,
            idle_timeout: Duration::from_secs(120),
        }
    }
}

impl Limits {
    /// libp2p's limits for the total, per-peer and pending counts.
    pub(crate) fn libp2p(&self) -> libp2p::connection_limits::ConnectionLimits {
        libp2p::connection_limits::ConnectionLimits::default()
            .with_max_established(Some(self.max_connections))
            .with_max_established_per_peer(Some(self.max_connections_per_peer))
            .with_max_pending_incoming(Some(self.max_pending_incoming))
            .with_max_pending_outgoing(Some(self.max_pending_outgoing))
    }
}

/// Why [`PerIp`] refused a connection.
#[derive(Debug, thiserror::Error)]
#[error("{ip} already has {limit} connections to this node (p2p.max_connections_per_ip)")]
pub(crate) struct TooManyFromIp {
    ip: IpAddr,
    limit: u32,
}

/// Counts inbound connections, handshaking and established, by remote IP, and refuses
/// those beyond the limit before any handshake work is done.
pub(crate) struct PerIp {
    limit: u32,
    by_connection: HashMap<ConnectionId, IpAddr>,
    by_ip: HashMap<IpAddr, u32>,
}

impl PerIp {
    pub(crate) fn new(limit: u32) -> Self {
        PerIp {
            limit,
            by_connection: HashMap::new(),
            by_ip: HashMap::new(),
        }
    }

    /// Connections counted for `ip` now.
    #[cfg(test)]
    pub(crate) fn count(&self, ip: &IpAddr) -> u32 {
        self.by_ip.get(ip).copied().unwrap_or(0)
    }

    fn release(&mut self, connection: ConnectionId) {
        if let Some(ip) = self.by_connection.remove(&connection) {
            if let Some(n) = self.by_ip.get_mut(&ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.by_ip.remove(&ip);
                }
            }
        }
    }
}

/// The IP address a multiaddr starts with, if any.
fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    match addr.iter().next()? {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(IpAddr::V6(ip)),
        _ => None,
    }
}

impl NetworkBehaviour for PerIp {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = std::convert::Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        _local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        let Some(ip) = ip_of(remote_addr) else {
            return Ok(());
        };
        if ip.is_loopback() {
            return Ok(());
        }
        let count = self.by_ip.entry(ip).or_insert(0);
        if *count >= self.limit {
            return Err(ConnectionDenied::new(TooManyFromIp {
                ip,
                limit: self.limit,
            }));
        }
        *count += 1;
        self.by_connection.insert(connection_id, ip);
        Ok(())
    }

    fn handle_established_inbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _local_addr: &Multiaddr,
        _remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _connection_id: ConnectionId,
        _peer: PeerId,
        _addr: &Multiaddr,
        _role_override: Endpoint,
        _port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionClosed(closed) => self.release(closed.connection_id),
            FromSwarm::ListenFailure(failure) => self.release(failure.connection_id),
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _peer: PeerId,
        _connection: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Multiaddr {
        text.parse().expect("multiaddr")
    }

    #[test]
    fn refuses_beyond_the_limit_per_ip_and_frees_slots_on_close() {
        let mut per_ip = PerIp::new(2);
        let local = addr("/ip4/10.0.0.1/tcp/26656");
        let attacker = addr("/ip4/10.0.0.9/tcp/40000");
        let other = addr("/ip4/10.0.0.8/tcp/40000");
        let a = ConnectionId::new_unchecked(1);
        let b = ConnectionId::new_unchecked(2);
        let c = ConnectionId::new_unchecked(3);
        assert!(per_ip
            .handle_pending_inbound_connection(a, &local, &attacker)
            .is_ok());
        assert!(per_ip
            .handle_pending_inbound_connection(b, &local, &attacker)
            .is_ok());
        let denied = per_ip
            .handle_pending_inbound_connection(c, &local, &attacker)
            .expect_err("third from one IP");
        let why = denied
            .downcast_ref::<TooManyFromIp>()
            .expect("denied for the per-IP limit")
            .to_string();
        assert!(why.contains("10.0.0.9"), "{why}");
        // Another address is not affected; loopback is never counted.
        assert!(per_ip
            .handle_pending_inbound_connection(c, &local, &other)
            .is_ok());
        for i in 10..20 {
            assert!(per_ip
                .handle_pending_inbound_connection(
                    ConnectionId::new_unchecked(i),
                    &local,
                    &addr("/ip4/127.0.0.1/tcp/1")
                )
                .is_ok());
        }
        // A closed connection frees its slot.
        per_ip.release(a);
        let ip: IpAddr = "10.0.0.9".parse().expect("ip");
        assert_eq!(per_ip.count(&ip), 1);
        assert!(per_ip
            .handle_pending_inbound_connection(ConnectionId::new_unchecked(30), &local, &attacker)
            .is_ok());
    }
}
