//! The task that owns the swarm: it turns swarm events into [`NetworkEvent`]s for the node and
//! node commands into swarm calls, and enforces the connection policy (chain check, bans,
//! bootnode re-dials, liveness).

use std::{
    collections::{HashMap, HashSet, VecDeque},
    time::{Duration, Instant},
};

use futures::{future::BoxFuture, stream::FuturesUnordered, FutureExt, StreamExt};
use libp2p::{
    core::transport::ListenerId,
    gossipsub::{self, MessageAcceptance, PublishError, TopicHash},
    identify, kad, mdns, ping,
    request_response::{self, OutboundRequestId, ResponseChannel},
    swarm::{
        dial_opts::{DialOpts, PeerCondition},
        ConnectionId, DialError, SwarmEvent,
    },
    Multiaddr, PeerId, Swarm,
};
use tokio::{
    sync::{mpsc, oneshot},
    time::{self, MissedTickBehavior},
};
use tracing::{debug, info, trace, warn};

use super::{
    behaviour::{Behaviour, BehaviourEvent},
    bootnodes::{Bootnodes, ALONE_WARN_EVERY},
    config::{
        BAN_DURATION, EVENT_BACKLOG_LIMIT, FOREIGN_GRACE, IDENTIFY_TIMEOUT, MAX_REQUEST_BYTES,
        PRIORITY_BACKLOG_LIMIT, REQUEST_TIMEOUT, SYNC_REQUESTS_PER_SEC, TICK_INTERVAL,
    },
    discovery::{Discovery, TARGET_PEERS},
    error::NetworkError,
    event::NetworkEvent,
    gossip::GRAYLIST_THRESHOLD,
    handle::Command,
    topic::{Names, Topic},
};

/// Peers banned since the process started (`pov_peer_bans` in `/metrics`).
static BANS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Peers banned since the process started: for a low gossip score, or by the node for
/// breaking the sync protocol.
pub fn bans() -> u64 {
    BANS.load(std::sync::atomic::Ordering::Relaxed)
}

/// An inbound sync request waiting for the node's answer.
type PendingReply = BoxFuture<'static, (PeerId, ResponseChannel<Vec<u8>>, Option<Vec<u8>>)>;

/// State of the network task. Built by [`super::spawn`], consumed by [`EventLoop::run`].
pub(crate) struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<NetworkEvent>,
    /// Consensus gossip and peer events the channel had no room for yet, oldest first:
    /// delivered before anything in `backlog`.
    priority: VecDeque<NetworkEvent>,
    /// Transaction gossip and sync requests the channel had no room for yet, oldest first.
    backlog: VecDeque<NetworkEvent>,
    /// Sync requests per peer in the current one-second window, and when it began.
    sync_rate: HashMap<PeerId, (Instant, u32)>,
    /// The node dropped its receiver: events are discarded from then on.
    events_closed: bool,
    /// Gossip and requests dropped since the backlog last hit its limit (logged once when
    /// dropping starts and once when it stops, not per event).
    dropped: u64,
    /// Genesis-scoped topic names.
    names: Names,
    /// Received topic hash -> topic.
    topics: HashMap<TopicHash, Topic>,
    /// Our identify protocol version; a peer announcing another one runs another chain.
    identify_version: String,
    max_message_bytes: usize,
    /// Our sync requests awaiting a response.
    pending_requests: HashMap<OutboundRequestId, oneshot::Sender<Result<Vec<u8>, NetworkError>>>,
    /// Inbound sync requests awaiting the node's answer.
    pending_replies: FuturesUnordered<PendingReply>,
    /// Connected peers that proved to run our chain (announced to the node).
    verified: HashSet<PeerId>,
    /// Connected peers not yet identified, and since when.
    unverified: HashMap<PeerId, Instant>,
    /// Peers of another chain, blocked for the life of the process.
    foreign: HashSet<PeerId>,
    /// Foreign peers still connected during their grace period, and when it ends. Hanging up
    /// only once they have surely read our identify info lets them learn our genesis and stop
    /// dialling us too.
    foreign_pending: HashMap<PeerId, Instant>,
    /// Peers banned for a low gossip score, and until when.
    bans: HashMap<PeerId, Instant>,
    /// Gossip identities let through lately, to drop their repeats under fresh nonces.
    repeats: super::repeats::Repeats,
    /// Repeats each peer relayed lately: a peer relaying far too many is banned.
    relays: super::repeats::Relays<PeerId>,
    bootnodes: Bootnodes,
    /// Peer discovery: when to query, which discovered peers were tried.
    discovery: Discovery,
    /// When the node last said, at warn, that it has no peer and why (see `warn_if_alone`).
    alone_since: Option<Instant>,
    /// Listeners that have not reported a bound address yet.
    pending_listeners: HashSet<ListenerId>,
    /// `listen_addrs` callers waiting for `pending_listeners` to empty.
    listen_waiters: Vec<oneshot::Sender<Vec<Multiaddr>>>,
}

/// Waits for room in the event channel, then moves the oldest waiting event into it, a
/// priority one first. Returns false if the node dropped its receiver. Cancel-safe: nothing
/// is taken from the queues until the channel has room.
async fn deliver(
    events: &mpsc::Sender<NetworkEvent>,
    priority: &mut VecDeque<NetworkEvent>,
    backlog: &mut VecDeque<NetworkEvent>,
) -> bool {
    match events.reserve().await {
        Ok(permit) => {
            if let Some(event) = priority.pop_front().or_else(|| backlog.pop_front()) {
                permit.send(event);
            }
            true
        }
        Err(_) => false,
    }
}

/// Whether an event must never wait behind bulk traffic: consensus gossip and peer changes.
fn is_priority(event: &NetworkEvent) -> bool {
    match event {
        NetworkEvent::Gossip { topic, .. } => *topic == Topic::Consensus,
        NetworkEvent::Request { .. } => false,
        _ => true,
    }
}

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        commands: mpsc::UnboundedReceiver<Command>,
        events: mpsc::Sender<NetworkEvent>,
        names: &Names,
        max_message_bytes: usize,
        bootnodes: Bootnodes,
        pending_listeners: HashSet<ListenerId>,
    ) -> Self {
        let local_peer_id = *swarm.local_peer_id();
        let topics = Topic::ALL
            .iter()
            .map(|t| (names.topic(*t).hash(), *t))
            .collect();
        Self {
            swarm,
            commands,
            events,
            priority: VecDeque::new(),
            backlog: VecDeque::new(),
            sync_rate: HashMap::new(),
            events_closed: false,
            dropped: 0,
            names: names.clone(),
            topics,
            identify_version: names.identify_version(),
            max_message_bytes,
            pending_requests: HashMap::new(),
            pending_replies: FuturesUnordered::new(),
            verified: HashSet::new(),
            unverified: HashMap::new(),
            foreign: HashSet::new(),
            foreign_pending: HashMap::new(),
            bans: HashMap::new(),
            repeats: Default::default(),
            relays: Default::default(),
            bootnodes,
            discovery: Discovery::new(local_peer_id, Instant::now()),
            alone_since: None,
            pending_listeners,
            listen_waiters: Vec::new(),
        }
    }

    /// Runs until [`Command::Shutdown`] or until every handle is dropped. Returns the shutdown
    /// acknowledgement, to be sent once `self` (and with it the swarm, its connections and
    /// listeners) is dropped.
    pub(crate) async fn run(mut self) -> Option<oneshot::Sender<()>> {
        let mut tick = time::interval(TICK_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.recv() => match command {
                    Some(command) => {
                        if let Some(done) = self.on_command(command) {
                            info!("network shutting down");
                            return Some(done);
                        }
                    }
                    None => {
                        info!("every network handle dropped; network shutting down");
                        return None;
                    }
                },
                open = deliver(&self.events, &mut self.priority, &mut self.backlog),
                    if !self.priority.is_empty() || !self.backlog.is_empty() => {
                    if !open {
                        self.on_events_closed();
                    }
                }
                Some((peer, channel, answer)) = self.pending_replies.next() => {
                    self.on_reply(peer, channel, answer);
                }
                _ = tick.tick() => self.on_tick(Instant::now()),
            }
        }
    }

    // ---- events to the node ----

    /// Queues `event` for the node, or discards it when the node is too far behind. Consensus
    /// gossip and peer changes wait in their own queue, delivered first, so transaction
    /// gossip and sync requests can neither delay nor crowd them out.
    fn emit(&mut self, event: NetworkEvent) {
        if self.events_closed {
            self.discard(event);
            return;
        }
        let priority = is_priority(&event);
        let (queued, limit) = if priority {
            (self.priority.len(), PRIORITY_BACKLOG_LIMIT)
        } else {
            (self.backlog.len(), EVENT_BACKLOG_LIMIT)
        };
        // Peer (dis)connections are always kept: they are bounded by the connection limits
        // and the node's view of its peers must stay right.
        let droppable = matches!(
            event,
            NetworkEvent::Gossip { .. } | NetworkEvent::Request { .. }
        );
        if droppable && queued >= limit {
            if self.dropped == 0 {
                warn!(
                    priority,
                    "node is not draining network events; dropping some"
                );
            }
            self.dropped += 1;
            self.discard(event);
            return;
        }
        if self.dropped > 0
            && self.backlog.len() < EVENT_BACKLOG_LIMIT
            && self.priority.len() < PRIORITY_BACKLOG_LIMIT
        {
            warn!(dropped = self.dropped, "node caught up with network events");
            self.dropped = 0;
        }
        // Keep order within each queue: nothing overtakes what already waits in its queue
        // (and bulk never overtakes priority).
        if !self.priority.is_empty() || (!priority && !self.backlog.is_empty()) {
            if priority {
                self.priority.push_back(event);
            } else {
                self.backlog.push_back(event);
            }
            return;
        }
        match self.events.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(event)) => {
                if priority {
                    self.priority.push_back(event);
                } else {
                    self.backlog.push_back(event);
                }
            }
            Err(mpsc::error::TrySendError::Closed(event)) => {
                self.on_events_closed();
                self.discard(event);
            }
        }
    }

    /// Drops an event the node will never see, without penalising anyone for it.
    fn discard(&mut self, event: NetworkEvent) {
        if let NetworkEvent::Gossip { id, source, .. } = event {
            self.swarm
                .behaviour_mut()
                .gossipsub
                .report_message_validation_result(&id, &source, MessageAcceptance::Ignore);
        }
        // A dropped `Request` drops its reply sender, which fails the remote's request.
    }

    fn on_events_closed(&mut self) {
        if !self.events_closed {
            warn!("node dropped its network event receiver; discarding events");
            self.events_closed = true;
        }
        while let Some(event) = self
            .priority
            .pop_front()
            .or_else(|| self.backlog.pop_front())
        {
            self.discard(event);
        }
    }

    // ---- commands from the node ----

    /// Carries out a command; returns the acknowledgement to send if it was `Shutdown`.
    fn on_command(&mut self, command: Command) -> Option<oneshot::Sender<()>> {
        match command {
            Command::Publish { topic, data, reply } => {
                let result = self.publish(topic, data);
                // The caller may have given up waiting; nothing to do then.
                let _ = reply.send(result);
            }
            Command::Report {
                id,
                source,
                verdict,
            } => {
                let known = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .report_message_validation_result(&id, &source, verdict.into());
                if !known {
                    debug!(%id, ?verdict, "verdict came after the message left the cache");
                }
            }
            Command::Ban { peer, reason } => self.ban(peer, &reason, Instant::now()),
            Command::Request { peer, data, reply } => {
                if data.len() > MAX_REQUEST_BYTES {
                    let _ = reply.send(Err(NetworkError::MessageTooLarge {
                        size: data.len(),
                        max: MAX_REQUEST_BYTES,
                    }));
                    return None;
                }
                let id = self.swarm.behaviour_mut().sync.send_request(&peer, data);
                self.pending_requests.insert(id, reply);
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.verified.iter().copied().collect());
            }
            Command::TopicPeers { topic, reply } => {
                let hash = self.names.topic(topic).hash();
                let peers = self
                    .swarm
                    .behaviour()
                    .gossipsub
                    .all_peers()
                    .filter(|(_, topics)| topics.contains(&&hash))
                    .map(|(peer, _)| *peer)
                    .collect();
                let _ = reply.send(peers);
            }
            Command::ListenAddrs { reply } => {
                if self.pending_listeners.is_empty() {
                    let _ = reply.send(self.swarm.listeners().cloned().collect());
                } else {
                    self.listen_waiters.push(reply);
                }
            }
            Command::Shutdown { done } => return Some(done),
            #[cfg(test)]
            Command::Debug { reply } => {
                let _ = reply.send(super::handle::DebugState {
                    connected: self.swarm.connected_peers().copied().collect(),
                    blocked: self
                        .swarm
                        .behaviour()
                        .blocked
                        .blocked_peers()
                        .iter()
                        .copied()
                        .collect(),
                });
            }
        }
        None
    }

    fn too_large(&self, size: usize) -> NetworkError {
        NetworkError::MessageTooLarge {
            size,
            max: self.max_message_bytes,
        }
    }

    fn publish(&mut self, topic: Topic, data: Vec<u8>) -> Result<(), NetworkError> {
        if data.len() > self.max_message_bytes {
            return Err(self.too_large(data.len()));
        }
        let hash = self.names.topic(topic).hash();
        match self.swarm.behaviour_mut().gossipsub.publish(hash, data) {
            Ok(id) => {
                debug!(%id, ?topic, "published");
                Ok(())
            }
            Err(PublishError::NoPeersSubscribedToTopic) => {
                debug!(
                    ?topic,
                    "no peer subscribed to the topic yet; message not sent"
                );
                Ok(())
            }
            Err(PublishError::Duplicate) => {
                debug!(
                    ?topic,
                    "identical message already published; not sent again"
                );
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The node answered (or declined, `None`) an inbound sync request.
    fn on_reply(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<Vec<u8>>,
        answer: Option<Vec<u8>>,
    ) {
        let Some(data) = answer else {
            debug!(%peer, "node declined a sync request");
            return;
        };
        if data.len() > self.max_message_bytes {
            warn!(
                %peer,
                size = data.len(),
                max = self.max_message_bytes,
                "sync response too large; dropped"
            );
            return;
        }
        if self
            .swarm
            .behaviour_mut()
            .sync
            .send_response(channel, data)
            .is_err()
        {
            debug!(%peer, "sync requester gone before the response");
        }
    }

    // ---- swarm events ----

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        let now = Instant::now();
        match event {
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            SwarmEvent::NewListenAddr {
                listener_id,
                address,
            } => {
                info!(%address, "listening");
                self.listener_settled(listener_id);
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                ..
            } => {
                warn!(?reason, "listener closed");
                self.listener_settled(listener_id);
            }
            SwarmEvent::ListenerError { listener_id, error } => {
                warn!(%error, "listener error");
                self.listener_settled(listener_id);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                debug!(
                    peer = %peer_id,
                    addr = %endpoint.get_remote_address(),
                    "connection established"
                );
                self.bootnodes.on_established(connection_id, peer_id);
                if !self.verified.contains(&peer_id) {
                    self.unverified.entry(peer_id).or_insert(now);
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => {
                debug!(peer = %peer_id, ?cause, "connection closed");
                if num_established == 0 {
                    self.unverified.remove(&peer_id);
                    self.sync_rate.remove(&peer_id);
                    if self.foreign_pending.contains_key(&peer_id) {
                        self.block_foreign(peer_id);
                    }
                    if self.verified.remove(&peer_id) {
                        info!(peer = %peer_id, "peer disconnected");
                        self.emit(NetworkEvent::PeerDisconnected(peer_id));
                    }
                    self.bootnodes.on_disconnected(peer_id, now);
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                debug!(peer = ?peer_id, %error, "dial failed");
                self.bootnode_dial_failed(connection_id, &error, now);
            }
            SwarmEvent::IncomingConnectionError {
                error,
                send_back_addr,
                ..
            } => {
                // Refusals by the connection limits land here too: debug, not warn, since an
                // attacker decides how many there are.
                debug!(%error, from = %send_back_addr, "inbound connection failed or refused");
            }
            other => trace!(?other, "swarm event"),
        }
    }

    /// A listener reported an address or failed: answer `listen_addrs` callers once all have.
    fn listener_settled(&mut self, listener: ListenerId) {
        self.pending_listeners.remove(&listener);
        if self.pending_listeners.is_empty() {
            let addrs: Vec<Multiaddr> = self.swarm.listeners().cloned().collect();
            for waiter in self.listen_waiters.drain(..) {
                let _ = waiter.send(addrs.clone());
            }
        }
    }

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Blocked(never) => match never {},
            BehaviourEvent::Limits(never) => match never {},
            BehaviourEvent::PerIp(never) => match never {},
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                self.on_identified(
                    peer_id,
                    &info.protocol_version,
                    &info.listen_addrs,
                    Instant::now(),
                );
            }
            BehaviourEvent::Identify(identify::Event::Error { peer_id, error, .. }) => {
                debug!(peer = %peer_id, %error, "identify failed");
            }
            BehaviourEvent::Identify(_) => {}
            BehaviourEvent::Ping(ping::Event {
                peer,
                connection,
                result,
            }) => match result {
                Ok(rtt) => trace!(%peer, ?rtt, "ping"),
                // Every pov node speaks ping; a peer that does not is not worth a disconnect.
                Err(ping::Failure::Unsupported) => debug!(%peer, "peer does not support ping"),
                Err(error) => {
                    // A dead mesh connection is kept alive by gossipsub: close it here.
                    info!(%peer, %error, "ping failed; closing the connection");
                    self.swarm.close_connection(connection);
                }
            },
            BehaviourEvent::Gossipsub(event) => self.on_gossip_event(event),
            BehaviourEvent::Sync(event) => self.on_sync_event(event),
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    self.dial_discovered(peer, vec![addr], "mDNS");
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Expired(_)) => {}
            BehaviourEvent::Kad(kad::Event::OutboundQueryProgressed { result, .. }) => {
                let now = Instant::now();
                for (peer, addrs) in self.discovery.candidates(result, now) {
                    if self.verified.len() >= TARGET_PEERS {
                        break;
                    }
                    if self.dial_discovered(peer, addrs, "Kademlia") {
                        self.discovery.mark_tried(peer, now);
                    }
                }
            }
            BehaviourEvent::Kad(event) => trace!(?event, "kademlia"),
        }
    }

    /// Identify told us which chain `peer` runs, and where it listens.
    fn on_identified(
        &mut self,
        peer: PeerId,
        version: &str,
        listen_addrs: &[Multiaddr],
        now: Instant,
    ) {
        if version != self.identify_version {
            if self.foreign.insert(peer) {
                warn!(
                    %peer,
                    theirs = version,
                    ours = %self.identify_version,
                    "peer runs another chain (genesis mismatch); disconnecting and refusing it"
                );
            }
            self.bootnodes.abandon(peer);
            if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
                self.discovery.forget(kad, &peer);
            }
            self.unverified.remove(&peer);
            if self.verified.remove(&peer) {
                self.emit(NetworkEvent::PeerDisconnected(peer));
            }
            // Not blocked at once: identify's "sent" event does not mean our info reached them,
            // and closing now could cut it off, leaving them to re-dial us forever.
            self.foreign_pending
                .entry(peer)
                .or_insert(now + FOREIGN_GRACE);
            return;
        }
        self.unverified.remove(&peer);
        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
            self.discovery.on_verified(kad, peer, listen_addrs, now);
        }
        if self.verified.insert(peer) {
            info!(%peer, "peer connected");
            self.alone_since = None;
            self.emit(NetworkEvent::PeerConnected(peer));
        }
    }

    /// Closes every connection to a peer of another chain and refuses it from now on.
    fn block_foreign(&mut self, peer: PeerId) {
        self.foreign_pending.remove(&peer);
        self.swarm.behaviour_mut().blocked.block_peer(peer);
    }

    fn on_gossip_event(&mut self, event: gossipsub::Event) {
        match event {
            gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            } => match self.topics.get(&message.topic).copied() {
                Some(_) if !self.repeats.admit(&message.data, Instant::now()) => {
                    trace!(%message_id, "repeat of a recent message under another nonce; ignored");
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .report_message_validation_result(
                            &message_id,
                            &propagation_source,
                            MessageAcceptance::Ignore,
                        );
                    let now = Instant::now();
                    if self.relays.note(propagation_source, now) {
                        self.ban(
                            propagation_source,
                            &format!(
                                "relayed more than {} copies of recent messages in {:?}",
                                super::repeats::MAX_RELAYED_REPEATS,
                                super::repeats::RELAY_WINDOW
                            ),
                            now,
                        );
                    }
                }
                Some(topic) => self.emit(NetworkEvent::Gossip {
                    topic,
                    id: message_id,
                    source: propagation_source,
                    data: message.data,
                }),
                None => {
                    // The subscription filter makes this unreachable; drop without penalty.
                    debug!(topic = %message.topic, "gossip on an unknown topic");
                    self.swarm
                        .behaviour_mut()
                        .gossipsub
                        .report_message_validation_result(
                            &message_id,
                            &propagation_source,
                            MessageAcceptance::Ignore,
                        );
                }
            },
            gossipsub::Event::Subscribed { peer_id, topic } => {
                debug!(peer = %peer_id, %topic, "peer subscribed");
            }
            gossipsub::Event::Unsubscribed { peer_id, topic } => {
                debug!(peer = %peer_id, %topic, "peer unsubscribed");
            }
            gossipsub::Event::GossipsubNotSupported { peer_id } => {
                debug!(peer = %peer_id, "peer does not speak gossipsub");
            }
            gossipsub::Event::SlowPeer {
                peer_id,
                failed_messages,
            } => {
                warn!(peer = %peer_id, ?failed_messages, "peer too slow to take our gossip");
            }
        }
    }

    fn on_sync_event(&mut self, event: request_response::Event<Vec<u8>, Vec<u8>>) {
        match event {
            request_response::Event::Message { peer, message, .. } => match message {
                request_response::Message::Request {
                    request, channel, ..
                } => self.on_request(peer, request, channel),
                request_response::Message::Response {
                    request_id,
                    response,
                } => {
                    if let Some(reply) = self.pending_requests.remove(&request_id) {
                        let _ = reply.send(Ok(response));
                    }
                }
            },
            request_response::Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                debug!(%peer, %error, "sync request failed");
                if let request_response::OutboundFailure::Io(e) = &error {
                    if e.kind() == std::io::ErrorKind::InvalidData {
                        self.ban(peer, &format!("sync answer: {e}"), Instant::now());
                    }
                }
                if let Some(reply) = self.pending_requests.remove(&request_id) {
                    let _ = reply.send(Err(error.into()));
                }
            }
            request_response::Event::InboundFailure { peer, error, .. } => {
                // (An oversized request never gets here: the codec hands it on empty, and the
                // node bans its sender for a request that does not decode.)
                debug!(%peer, %error, "inbound sync request failed");
            }
            request_response::Event::ResponseSent { peer, .. } => {
                trace!(%peer, "sync response sent");
            }
        }
    }

    /// Hands an inbound sync request to the node and waits (at most the request timeout) for
    /// its answer without blocking the loop. Requests from peers that have not passed the
    /// chain check, or beyond [`SYNC_REQUESTS_PER_SEC`] from one peer, are dropped unanswered
    /// (the requester sees its request fail).
    fn on_request(&mut self, peer: PeerId, data: Vec<u8>, channel: ResponseChannel<Vec<u8>>) {
        if !self.verified.contains(&peer) {
            debug!(%peer, "sync request from a peer not known to run our chain; dropped");
            return;
        }
        let now = Instant::now();
        let (since, count) = self.sync_rate.entry(peer).or_insert((now, 0));
        if now.duration_since(*since) >= Duration::from_secs(1) {
            *since = now;
            *count = 0;
        }
        if *count >= SYNC_REQUESTS_PER_SEC {
            debug!(%peer, "sync requests above the per-peer rate; dropped");
            drop(channel);
            return;
        }
        *count += 1;
        let (reply, answer) = oneshot::channel();
        self.emit(NetworkEvent::Request { peer, data, reply });
        self.pending_replies.push(
            async move {
                let answer = time::timeout(REQUEST_TIMEOUT, answer).await;
                (peer, channel, answer.ok().and_then(Result::ok))
            }
            .boxed(),
        );
    }

    /// Dials a peer found by mDNS or Kademlia unless it is us, already connected or refused.
    /// Returns whether a dial started.
    fn dial_discovered(&mut self, peer: PeerId, addrs: Vec<Multiaddr>, how: &str) -> bool {
        if peer == *self.swarm.local_peer_id()
            || self.swarm.is_connected(&peer)
            || self
                .swarm
                .behaviour()
                .blocked
                .blocked_peers()
                .contains(&peer)
            || self.foreign.contains(&peer)
        {
            return false;
        }
        debug!(%peer, ?addrs, "dialling peer found by {how}");
        let opts = DialOpts::peer_id(peer)
            .addresses(addrs)
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        match self.swarm.dial(opts) {
            Ok(()) => true,
            Err(error) => {
                debug!(%peer, %error, "cannot dial peer found by {how}");
                false
            }
        }
    }

    // ---- housekeeping ----

    fn on_tick(&mut self, now: Instant) {
        let late: Vec<PeerId> = self
            .foreign_pending
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in late {
            self.block_foreign(peer);
        }
        self.expire_bans(now);
        self.ban_low_scores(now);
        self.drop_unidentified(now);
        self.dial_bootnodes(now);
        let have_peers = !self.verified.is_empty();
        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
            self.discovery.on_tick(kad, have_peers, now);
        }
        self.warn_if_alone(now);
    }

    /// With no peer of our chain, says so at warn every [`ALONE_WARN_EVERY`], with what is
    /// being dialled and why it fails: a node that cannot reach anyone must not be silent.
    fn warn_if_alone(&mut self, now: Instant) {
        if !self.verified.is_empty() {
            self.alone_since = None;
            return;
        }
        let since = *self.alone_since.get_or_insert(now);
        if now.saturating_duration_since(since) < ALONE_WARN_EVERY {
            return;
        }
        self.alone_since = Some(now);
        let dialling = self.bootnodes.describe();
        if dialling.is_empty() {
            warn!(
                "no peer connected, and no address to dial: give bootnodes (p2p.bootnodes, \
                 `povd init --bootnode`) or genesis validators with an addr"
            );
        } else {
            warn!(
                dialling = %dialling.join("; "),
                "no peer connected yet; still dialling"
            );
        }
    }

    fn expire_bans(&mut self, now: Instant) {
        let expired: Vec<PeerId> = self
            .bans
            .iter()
            .filter(|(_, until)| **until <= now)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in expired {
            self.bans.remove(&peer);
            if !self.foreign.contains(&peer) {
                info!(%peer, "ban expired");
                self.swarm.behaviour_mut().blocked.unblock_peer(peer);
            }
        }
    }

    /// Disconnects and bans peers whose gossip score fell below the graylist threshold, i.e.
    /// who kept relaying messages the node rejected. Gossipsub alone would only ignore them.
    fn ban_low_scores(&mut self, now: Instant) {
        let gossipsub = &self.swarm.behaviour().gossipsub;
        let low: Vec<(PeerId, f64)> = self
            .swarm
            .connected_peers()
            .filter_map(|peer| gossipsub.peer_score(peer).map(|score| (*peer, score)))
            .filter(|(_, score)| *score < GRAYLIST_THRESHOLD)
            .collect();
        for (peer, score) in low {
            self.ban(
                peer,
                &format!("gossip score {score:.1} is below the graylist threshold"),
                now,
            );
        }
    }

    /// Disconnects `peer` and refuses it until `now` + [`BAN_DURATION`] (unless it is banned
    /// already, or refused for good as a peer of another chain).
    fn ban(&mut self, peer: PeerId, reason: &str, now: Instant) {
        if self.foreign.contains(&peer) || self.bans.contains_key(&peer) {
            return;
        }
        BANS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        warn!(
            %peer,
            reason,
            ban = ?BAN_DURATION,
            "peer misbehaved; disconnecting and banning it"
        );
        self.bans.insert(peer, now + BAN_DURATION);
        self.relays.forget(&peer);
        self.swarm.behaviour_mut().blocked.block_peer(peer);
        if let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() {
            self.discovery.forget(kad, &peer);
        }
    }

    /// Disconnects peers that did not identify in time: we cannot tell which chain they run.
    fn drop_unidentified(&mut self, now: Instant) {
        let late: Vec<PeerId> = self
            .unverified
            .iter()
            .filter(|(_, since)| now.duration_since(**since) >= IDENTIFY_TIMEOUT)
            .map(|(peer, _)| *peer)
            .collect();
        for peer in late {
            warn!(%peer, "peer did not identify in time; disconnecting");
            self.unverified.remove(&peer);
            // Err only means it is already gone.
            let _ = self.swarm.disconnect_peer_id(peer);
        }
    }

    /// Schedules a re-dial if `connection` was a bootnode dial, or gives up on a bootnode
    /// that turned out to be this very node.
    fn bootnode_dial_failed(&mut self, connection: ConnectionId, error: &DialError, now: Instant) {
        let ourselves = matches!(error, DialError::LocalPeerId { .. });
        let why = error.to_string();
        if self
            .bootnodes
            .on_dial_failed(connection, now, ourselves, &why)
            && ourselves
        {
            warn!("a bootnode address points at this node itself; not dialling it again");
        }
    }

    fn dial_bootnodes(&mut self, now: Instant) {
        let swarm = &self.swarm;
        let dials = self.bootnodes.due(
            now,
            |peer| swarm.is_connected(peer),
            |peer| swarm.behaviour().blocked.blocked_peers().contains(peer),
        );
        for opts in dials {
            let connection = opts.connection_id();
            if let Err(error) = self.swarm.dial(opts) {
                debug!(%error, "cannot dial bootnode");
                self.bootnode_dial_failed(connection, &error, now);
            }
        }
    }
}
