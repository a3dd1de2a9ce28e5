//! Latency and loss on every link of a [`Lab`], without `tc netem`.
//!
//! The kernels this project's CI runs on may lack `sch_netem` (this machine's does), so the
//! impairment is made in user space, at the packet level: every host gets a VXLAN device
//! `vx0` whose only remote is a UDP socket of the test (the hub, on the bridge's address).
//! Every Ethernet frame one host sends another goes through the hub, which learns which
//! host owns which MAC address, drops each frame with the given probability, and delivers
//! the rest after the given delay. The hosts' direct (underlay) routes to each other are
//! cut, so node-to-node traffic can only take the impaired overlay; the test still reaches
//! every host's API over the underlay, unimpaired.
//!
//! Loss is drawn from a seeded generator, so a run's drop pattern is reproducible for a
//! given packet order.

use std::collections::{BinaryHeap, HashMap};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::netns::Lab;

/// The UDP port of VXLAN on every host and on the hub.
const VXLAN_PORT: u16 = 4789;

/// VXLAN header length before the inner Ethernet frame.
const VXLAN_HEADER: usize = 8;

/// Link impairments.
#[derive(Debug, Clone, Copy)]
pub struct Impairment {
    /// One-way delay added to every frame.
    pub delay: Duration,
    /// Probability, in percent, that a frame is dropped.
    pub loss_percent: u32,
    /// Seed of the loss generator.
    pub seed: u64,
}

/// Frames the hub handled so far.
#[derive(Debug, Default)]
pub struct Counters {
    /// Frames delivered (after the delay).
    pub delivered: AtomicU64,
    /// Frames dropped on purpose.
    pub dropped: AtomicU64,
}

/// The running hub; dropping it stops the forwarding (the overlay then carries nothing).
pub struct Hub {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    /// What the hub did.
    pub counters: Arc<Counters>,
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A frame waiting for its delivery time (a min-heap by time, then arrival order).
struct Pending {
    at: Instant,
    serial: u64,
    to: SocketAddr,
    bytes: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.serial) == (other.at, other.serial)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (other.at, other.serial).cmp(&(self.at, self.serial))
    }
}

/// splitmix64: a small, good-enough seeded generator for drop decisions.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Puts every host of `lab` on an overlay whose frames all pass through a hub that applies
/// `impairment`; returns the hub. Host `i`'s overlay address is [`Lab::overlay_ip`]`(i)`.
pub fn impair(lab: &Lab, impairment: Impairment) -> Result<Hub, String> {
    let hub_ip = lab.bridge_ip();
    let socket = UdpSocket::bind((hub_ip.as_str(), VXLAN_PORT))
        .map_err(|e| format!("hub cannot bind {hub_ip}:{VXLAN_PORT}: {e}"))?;
    socket
        .set_read_timeout(Some(Duration::from_millis(5)))
        .map_err(|e| format!("hub socket: {e}"))?;
    let mut hosts = Vec::new();
    for i in 0..lab.hosts() {
        let ns = lab.namespace(i).to_string();
        let vni = "42";
        lab.ip_in(
            i,
            &[
                "link",
                "add",
                "vx0",
                "type",
                "vxlan",
                "id",
                vni,
                "remote",
                &hub_ip,
                "dstport",
                &VXLAN_PORT.to_string(),
                "dev",
                "eth0",
            ],
        )
        .map_err(|e| format!("{ns}: {e}"))?;
        let overlay = format!("{}/24", lab.overlay_ip(i));
        lab.ip_in(i, &["addr", "add", &overlay, "dev", "vx0"])?;
        lab.ip_in(i, &["link", "set", "vx0", "up"])?;
        let addr: Ipv4Addr = lab
            .ip(i)
            .parse()
            .map_err(|e| format!("host address: {e}"))?;
        hosts.push(SocketAddr::from((addr, VXLAN_PORT)));
    }
    // Node-to-node traffic only on the overlay.
    let all: Vec<usize> = (0..lab.hosts()).collect();
    for &a in &all {
        for &b in &all {
            if a < b {
                lab.partition(&[a], &[b])?;
            }
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let thread = {
        let stop = stop.clone();
        let counters = counters.clone();
        std::thread::spawn(move || forward(socket, hosts, impairment, &stop, &counters))
    };
    Ok(Hub {
        stop,
        thread: Some(thread),
        counters,
    })
}

/// Fills in the TCP or UDP checksum of an IPv4 frame.
///
/// A host's kernel leaves the inner checksum of what it sends through `vx0` to "hardware"
/// (the veth pair claims checksum offload), so the frame reaches the hub with a partial
/// checksum; the receiving host, getting it over UDP from the hub, checks it and would drop
/// it. Real hardware would have filled it in: the hub does.
fn fix_checksum(frame: &mut [u8]) {
    const ETHERNET: usize = 14;
    if frame.len() < ETHERNET + 20 || frame[12..14] != [0x08, 0x00] {
        return;
    }
    let ip = &frame[ETHERNET..];
    let header = usize::from(ip[0] & 0x0f) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    let fragmented = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
    if header < 20 || total < header || ETHERNET + total > frame.len() || fragmented {
        return;
    }
    let protocol = ip[9];
    let at = match protocol {
        6 => 16, // TCP
        17 => 6, // UDP
        _ => return,
    };
    let segment_len = total - header;
    if segment_len < at + 2 {
        return;
    }
    let start = ETHERNET + header;
    let mut sum: u32 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
            sum += u32::from(word);
        }
    };
    add(&frame[ETHERNET + 12..ETHERNET + 20]); // source and destination addresses
    add(&[0, protocol]);
    add(&(segment_len as u16).to_be_bytes());
    frame[start + at] = 0;
    frame[start + at + 1] = 0;
    add(&frame[start..start + segment_len]);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let mut checksum = !(sum as u16);
    if protocol == 17 && checksum == 0 {
        checksum = 0xffff;
    }
    frame[start + at..start + at + 2].copy_from_slice(&checksum.to_be_bytes());
}

/// The hub's loop: receive, learn, drop or schedule, deliver what is due.
fn forward(
    socket: UdpSocket,
    hosts: Vec<SocketAddr>,
    impairment: Impairment,
    stop: &AtomicBool,
    counters: &Counters,
) {
    let mut rng = Rng(impairment.seed);
    let mut owner: HashMap<[u8; 6], SocketAddr> = HashMap::new();
    let mut queue: BinaryHeap<Pending> = BinaryHeap::new();
    let mut serial = 0u64;
    let mut buffer = vec![0u8; 65_536];
    while !stop.load(Ordering::Relaxed) {
        let now = Instant::now();
        while queue.peek().is_some_and(|p| p.at <= now) {
            if let Some(p) = queue.pop() {
                let _ = socket.send_to(&p.bytes, p.to);
                counters.delivered.fetch_add(1, Ordering::Relaxed);
            }
        }
        let Ok((len, from)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        if len < VXLAN_HEADER + 14 {
            continue;
        }
        fix_checksum(&mut buffer[VXLAN_HEADER..len]);
        let frame = &buffer[VXLAN_HEADER..len];
        let mut dst = [0u8; 6];
        let mut src = [0u8; 6];
        dst.copy_from_slice(&frame[0..6]);
        src.copy_from_slice(&frame[6..12]);
        let from_host = SocketAddr::from((from.ip(), VXLAN_PORT));
        owner.insert(src, from_host);
        let targets: Vec<SocketAddr> = match owner.get(&dst) {
            Some(to) if dst[0] & 1 == 0 => vec![*to],
            _ => hosts.iter().copied().filter(|h| *h != from_host).collect(),
        };
        for to in targets {
            if rng.next() % 100 < u64::from(impairment.loss_percent) {
                counters.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            serial += 1;
            queue.push(Pending {
                at: now + impairment.delay,
                serial,
                to,
                bytes: buffer[..len].to_vec(),
            });
        }
    }
}
