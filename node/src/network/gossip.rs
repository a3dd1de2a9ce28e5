//! Gossipsub settings for a small validator network, and the peer-scoring policy.
//!
//! Gossipsub's defaults are tuned for large public networks (meshes of 6-12 peers, 64 KiB
//! messages, 1 s heartbeats, messages forwarded before anyone checked them). A `pov` network
//! is a handful of validators moving blocks of several MiB, so every setting that differs from
//! the default is set on purpose and explained where it is set.

use std::{
    collections::{HashMap, HashSet},
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    time::Duration,
};

use libp2p::{
    gossipsub::{
        self, score_parameter_decay, ConfigBuilder, IdentTopic, Message, MessageAuthenticity,
        MessageId, PeerScoreParams, PeerScoreThresholds, TopicScoreParams, ValidationMode,
        WhitelistSubscriptionFilter,
    },
    identity::Keypair,
};

use super::{
    error::NetworkError,
    topic::{Names, Topic},
};

/// The gossipsub behaviour as we run it: no data transform, remote subscriptions only to our
/// own topics.
pub(crate) type Gossipsub =
    gossipsub::Behaviour<gossipsub::IdentityTransform, WhitelistSubscriptionFilter>;

/// Room added to `max_message_bytes` for gossipsub's envelope (author key, signature,
/// sequence number, topic, piggybacked control messages), so that a payload of exactly
/// `max_message_bytes` still fits in one RPC at the receiver.
const ENVELOPE_HEADROOM: usize = 64 * 1024;

/// Score below which a peer is graylisted by gossipsub (its RPCs are ignored) and
/// disconnected and banned by the event loop. Gossipsub's default, restated because the event
/// loop needs it too.
pub(crate) const GRAYLIST_THRESHOLD: f64 = -80.0;

/// Highest positive total topic score a peer can earn (see `topic_score_cap` below). Kept
/// small so that good behaviour cannot bank enough credit to absorb many invalid messages.
const TOPIC_SCORE_CAP: f64 = 10.0;

/// Message id = blake3 of the payload: the same transaction or block relayed by different
/// peers (or re-published by another validator) is recognised as one message and delivered to
/// the node once. The gossipsub default (author + sequence number) would let the same content
/// circulate under many ids.
fn content_id(message: &Message) -> MessageId {
    MessageId::new(blake3::hash(&message.data).as_bytes())
}

/// Builds the gossipsub behaviour, subscribed to every [`Topic`] and with peer scoring on.
pub(crate) fn build(
    keypair: &Keypair,
    names: &Names,
    max_message_bytes: usize,
) -> Result<Gossipsub, NetworkError> {
    let config = ConfigBuilder::default()
        // Small validator sets: the default mesh (D=6, D_lo=5, D_hi=12, D_out=2) is never
        // reached by a 4-node devnet, so gossipsub would spend every heartbeat trying to graft
        // peers that do not exist. 3/2/8/1 forms a full mesh on 3-4 nodes and still keeps the
        // fan-out bounded when the validator set grows.
        .mesh_n(3)
        .mesh_n_low(2)
        .mesh_n_high(8)
        // Must stay <= mesh_n_low and <= mesh_n / 2: one outbound mesh link is enough to
        // resist an eclipse by inbound connections in a permissioned validator network.
        .mesh_outbound_min(1)
        // Publish to every subscribed peer (with an acceptable score), not just the mesh: with
        // a few validators this costs little and gets proposals and votes to everyone in one
        // hop, which matters more for consensus latency than bandwidth does. (Already the
        // default, restated because the latency argument depends on it.)
        .flood_publish(true)
        // Blocks of ~1,000 transactions are several MiB; the 64 KiB default would refuse them.
        // The cap is on the whole RPC, hence the headroom over the payload limit.
        .max_transmit_size(max_message_bytes.saturating_add(ENVELOPE_HEADROOM))
        // Twice the default heartbeat rate: a small mesh repairs itself (grafts after a peer
        // restarts, IHAVE gossip for missed messages) within half a second, which keeps block
        // propagation fast. The traffic cost is negligible with a handful of peers.
        .heartbeat_interval(Duration::from_millis(500))
        // Default is 5 s: devnets start all nodes at once, and the first mesh maintenance
        // should not wait that long.
        .heartbeat_initial_delay(Duration::from_millis(500))
        // The message cache spans `history_length` heartbeats, and a message whose verdict
        // arrives after it left the cache is never forwarded. With 500 ms heartbeats the
        // default 5 would give the node only 2.5 s to validate a block; 20 gives 10 s.
        .history_length(20)
        // IHAVE gossip covers the last 6 heartbeats = 3 s, the same span as the default
        // (3 heartbeats of 1 s).
        .history_gossip(6)
        // Forwarded multi-MiB blocks can queue behind each other on a slow link; the default
        // 1 s before a queued forward is abandoned would silently drop them. 5 s matches the
        // publish queue timeout.
        .forward_queue_duration(Duration::from_secs(5))
        // Nothing is forwarded until the node's verdict (see `NetworkHandle::report`), so
        // invalid transactions or blocks never spread past the first honest node.
        .validate_messages()
        // The default, restated: messages must be signed by their author and carry a sequence
        // number; unsigned or forged messages are rejected before the node sees them.
        .validation_mode(ValidationMode::Strict)
        .message_id_fn(content_id)
        .build()
        .map_err(|e| NetworkError::InvalidConfig(format!("gossipsub: {e}")))?;

    let topics: Vec<IdentTopic> = Topic::ALL.iter().map(|t| names.topic(*t)).collect();
    // Peers may only register subscriptions to our own topics: a peer cannot make us track
    // arbitrary topic strings.
    let filter = WhitelistSubscriptionFilter(topics.iter().map(|t| t.hash()).collect());
    let mut gossipsub = Gossipsub::new_with_subscription_filter(
        MessageAuthenticity::Signed(keypair.clone()),
        config,
        filter,
    )
    .map_err(|e| NetworkError::Setup(format!("gossipsub: {e}")))?;

    gossipsub
        .with_peer_score(score_params(&topics), score_thresholds())
        .map_err(|e| NetworkError::Setup(format!("gossipsub peer scoring: {e}")))?;

    for topic in &topics {
        gossipsub
            .subscribe(topic)
            .map_err(|e| NetworkError::Setup(format!("gossipsub subscribe {topic}: {e}")))?;
    }
    Ok(gossipsub)
}

/// Peer-score parameters. The aim is narrow: a peer that relays invalid messages (the node
/// answers [`super::Verdict::Reject`]) loses score fast, and a few rejections push it below
/// [`GRAYLIST_THRESHOLD`], where gossipsub ignores it and the event loop disconnects and bans
/// it. Counters that measure traffic volume are off, since a quiet devnet must not look like
/// misbehaviour.
fn score_params(topics: &[IdentTopic]) -> PeerScoreParams {
    let topic_params: HashMap<_, _> = topics
        .iter()
        .map(|topic| (topic.hash(), topic_score_params()))
        .collect();
    PeerScoreParams {
        topics: topic_params,
        // Default 3600: caps how much credit good behaviour can earn, so that good history
        // cannot offset more than a fraction of one rejected message (P4 below is -20 per
        // message, squared).
        topic_score_cap: TOPIC_SCORE_CAP,
        // All nodes of a local devnet share 127.0.0.1 (or ::1), which would otherwise count as
        // a Sybil cluster (P6) once more than 10 nodes run on one host.
        ip_colocation_factor_whitelist: HashSet::from([
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ]),
        ..PeerScoreParams::default()
    }
}

/// Per-topic scoring, the same for transactions and consensus.
fn topic_score_params() -> TopicScoreParams {
    TopicScoreParams {
        // Default 0.5: full weight, so the per-message penalty below is exactly what a
        // rejected message costs.
        topic_weight: 1.0,
        // P1 (time in mesh), default 1 point per millisecond (!) capped at 3600: instead
        // 0.01 per second, capped at 1,000 s, i.e. at most +10, the topic score cap.
        time_in_mesh_weight: 0.01,
        time_in_mesh_quantum: Duration::from_secs(1),
        time_in_mesh_cap: 1000.0,
        // P2 (first deliveries), default cap 2000: capped at 10, the topic score cap, and
        // decaying over an hour instead of halving every second.
        first_message_deliveries_weight: 1.0,
        first_message_deliveries_decay: score_parameter_decay(Duration::from_secs(3600)),
        first_message_deliveries_cap: TOPIC_SCORE_CAP,
        // P3/P3b (mesh delivery rate), default on: off. They penalise mesh peers that deliver
        // fewer than N messages per window, and a devnet with one block every few seconds and
        // no transactions would see every honest peer fall below any N.
        mesh_message_deliveries_weight: 0.0,
        mesh_failure_penalty_weight: 0.0,
        // P4 (invalid messages), default weight -1 decaying by 70 % a second, which forgives
        // anything within seconds. Here each rejected message squares into the penalty:
        // 1 -> -20 (below the gossip threshold), 2 -> -80, 3 -> -180 (graylisted, banned),
        // and the counter takes ten minutes to decay to a tenth, so a peer that keeps sending
        // junk stays out.
        invalid_message_deliveries_weight: -20.0,
        invalid_message_deliveries_decay: score_parameter_decay(Duration::from_secs(600)),
        ..TopicScoreParams::default()
    }
}

/// Score thresholds: gossipsub's defaults except the opportunistic graft threshold.
fn score_thresholds() -> PeerScoreThresholds {
    PeerScoreThresholds {
        graylist_threshold: GRAYLIST_THRESHOLD,
        // Default 20, above the topic score cap of 10, so the median mesh score would always
        // look poor and gossipsub would graft replacement peers every minute. Half the cap
        // keeps the mechanism for real low-scoring meshes.
        opportunistic_graft_threshold: TOPIC_SCORE_CAP / 2.0,
        ..PeerScoreThresholds::default()
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn score_settings_validate() {
        let names = Names::new(&[7; 32]);
        let topics: Vec<IdentTopic> = Topic::ALL.iter().map(|t| names.topic(*t)).collect();
        score_params(&topics)
            .validate()
            .expect("score params valid");
        score_thresholds().validate().expect("thresholds valid");
    }

    #[test]
    fn three_rejections_cross_the_graylist_threshold() {
        // Max positive topic score, then P4 with 3 invalid messages (weights times counter²).
        let p4 = |n: f64| topic_score_params().invalid_message_deliveries_weight * n * n;
        assert!(TOPIC_SCORE_CAP + p4(2.0) > GRAYLIST_THRESHOLD);
        assert!(TOPIC_SCORE_CAP + p4(3.0) < GRAYLIST_THRESHOLD);
    }
}
