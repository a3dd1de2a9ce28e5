//! A listen address already taken is an error at start-up, not a silent second listener.
//!
//! libp2p's TCP transport binds its listeners with `SO_REUSEPORT`, so a second node started
//! on the port of a running one binds too, and the kernel splits incoming connections between
//! the two. Binding the address once without that option, and releasing it at once, fails
//! exactly when any socket listens there, whatever options it used.

use std::net::{IpAddr, SocketAddr, TcpListener};

use libp2p::{multiaddr::Protocol, Multiaddr};

use super::error::NetworkError;

/// Fails if `addr` (`/ip4|ip6/<ip>/tcp/<port>`) cannot be bound now. Port 0 (any free port)
/// and addresses of other shapes are left to the transport, which reports its own errors.
pub(crate) fn ensure_free(addr: &Multiaddr) -> Result<(), NetworkError> {
    let mut parts = addr.iter();
    let ip: IpAddr = match parts.next() {
        Some(Protocol::Ip4(ip)) => ip.into(),
        Some(Protocol::Ip6(ip)) => ip.into(),
        _ => return Ok(()),
    };
    let port = match parts.next() {
        Some(Protocol::Tcp(port)) if port != 0 => port,
        _ => return Ok(()),
    };
    match TcpListener::bind(SocketAddr::new(ip, port)) {
        Ok(probe) => {
            drop(probe);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            Err(NetworkError::AddrInUse { addr: addr.clone() })
        }
        Err(e) => Err(NetworkError::Listen {
            addr: addr.clone(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn a_port_someone_listens_on_is_refused_and_a_free_one_passes() {
        let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = taken.local_addr().expect("addr").port();
        let addr: Multiaddr = format!("/ip4/127.0.0.1/tcp/{port}").parse().expect("addr");
        let err = ensure_free(&addr).expect_err("in use");
        assert!(matches!(err, NetworkError::AddrInUse { .. }), "{err}");
        assert!(err.to_string().contains(&port.to_string()), "{err}");
        drop(taken);
        ensure_free(&addr).expect("free again");
        let any: Multiaddr = "/ip4/127.0.0.1/tcp/0".parse().expect("addr");
        ensure_free(&any).expect("port 0 is not probed");
    }
}
