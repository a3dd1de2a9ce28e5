//! The run loop: the production driver of the consensus [`Host`] on tokio and libp2p.
//!
//! It owns nothing of consensus. It turns network events, fired timers and sync answers
//! into host [`Input`]s (with the wall-clock time), and carries out the host's [`Output`]s:
//! verdicts and replies to the network, gossip, sync requests (each in a task of its own,
//! answered back through a channel), and timers (a sleeping task each). Peers' sync
//! requests never reach the host here: they are answered off the loop (`serve_sync`). Everything the host
//! does happens on this one task, in the order of its inputs.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use crate::host::{Host, Input, NodeError, Output, Timer};
use crate::network::{MessageId, NetworkEvent, NetworkHandle, PeerId};
use crate::shared::{lock, now_ms, read, Shared};
use crate::wire::{ConsensusMessage, SyncRequest, SyncResponse};

/// What an output of the host answers: the gossip message or the sync request that was
/// just handed in, if any.
enum Context {
    None,
    Gossip { id: MessageId, source: PeerId },
    Request(oneshot::Sender<Vec<u8>>),
}

/// The event loop of a running node.
pub struct Service {
    host: Host<PeerId>,
    shared: Arc<Shared>,
    net: NetworkHandle,
    net_rx: mpsc::Receiver<NetworkEvent>,
    timer_tx: mpsc::UnboundedSender<Timer>,
    timer_rx: mpsc::UnboundedReceiver<Timer>,
    sync_tx: mpsc::UnboundedSender<(PeerId, SyncRequest, Option<SyncResponse>)>,
    sync_rx: mpsc::UnboundedReceiver<(PeerId, SyncRequest, Option<SyncResponse>)>,
    progress: Option<indicatif::ProgressBar>,
    /// Slots for sync answers in progress.
    sync_answers: Arc<tokio::sync::Semaphore>,
    /// Peers with a sync answer in progress.
    sync_serving: Arc<std::sync::Mutex<std::collections::HashSet<PeerId>>>,
}

/// Sync answers computed at once, off the consensus loop (each reads at most
/// `MAX_SYNC_BATCH` blocks).
const SYNC_ANSWERS_AT_ONCE: usize = 4;

impl Service {
    /// The loop around `host`, fed by `net_rx` and talking through `net`.
    pub fn new(
        host: Host<PeerId>,
        shared: Arc<Shared>,
        net: NetworkHandle,
        net_rx: mpsc::Receiver<NetworkEvent>,
    ) -> Service {
        let (timer_tx, timer_rx) = mpsc::unbounded_channel();
        let (sync_tx, sync_rx) = mpsc::unbounded_channel();
        Service {
            host,
            shared,
            net,
            net_rx,
            timer_tx,
            timer_rx,
            sync_tx,
            sync_rx,
            progress: None,
            sync_answers: Arc::new(tokio::sync::Semaphore::new(SYNC_ANSWERS_AT_ONCE)),
            sync_serving: Arc::default(),
        }
    }

    /// Runs until `shutdown` turns true. `wal_records` are the messages the consensus log
    /// held at start. Every decided block is on disk before it is reported, so stopping
    /// between events loses nothing final.
    pub async fn run(
        mut self,
        wal_records: Vec<ConsensusMessage>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), NodeError> {
        let outputs = self.host.start(now_ms(), wal_records)?;
        self.execute(outputs, Context::None).await;
        loop {
            let (input, context) = tokio::select! {
                _ = shutdown.changed() => break,
                Some(event) = self.net_rx.recv() => match event {
                    NetworkEvent::Gossip { topic, id, source, data } => {
                        (Input::Gossip { topic, data }, Context::Gossip { id, source })
                    }
                    NetworkEvent::Request { peer, data, reply } => {
                        // A block by hash may be one only proposed at this height, which only
                        // the host holds: a single lookup, answered on the loop. All else is
                        // served off it.
                        if matches!(SyncRequest::from_bytes(&data), Ok(SyncRequest::Block { .. })) {
                            (Input::SyncRequest { data }, Context::Request(reply))
                        } else {
                            self.serve_sync(peer, data, reply);
                            continue;
                        }
                    }
                    NetworkEvent::PeerConnected(peer) => (Input::PeerUp(peer), Context::None),
                    NetworkEvent::PeerDisconnected(peer) => (Input::PeerDown(peer), Context::None),
                },
                Some(timer) = self.timer_rx.recv() => (Input::Timer(timer), Context::None),
                Some((peer, request, response)) = self.sync_rx.recv() => {
                    (Input::SyncReply { peer, request, response }, Context::None)
                }
            };
            let is_sync_reply = matches!(input, Input::SyncReply { .. });
            let outputs = self.host.handle(now_ms(), input)?;
            self.execute(outputs, context).await;
            if is_sync_reply {
                self.show_progress();
            }
        }
        tracing::info!(
            height = read(&self.shared.store).height(),
            "event loop stopped"
        );
        Ok(())
    }

    /// Carries out the host's outputs, in order.
    async fn execute(&mut self, outputs: Vec<Output<PeerId>>, mut context: Context) {
        for output in outputs {
            match output {
                Output::Verdict(verdict) => {
                    if let Context::Gossip { id, source } = &context {
                        self.net.report(id.clone(), *source, verdict);
                    }
                }
                Output::Ban { peer, reason } => self.net.ban(peer, reason),
                Output::Reply(response) => {
                    if let Context::Request(reply) = std::mem::replace(&mut context, Context::None)
                    {
                        // The requester may have gone; nothing to do then.
                        let _ = reply.send(response.to_bytes());
                    }
                }
                Output::Publish { topic, data } => {
                    if let Err(e) = self.net.publish(topic, data).await {
                        tracing::debug!(
                            error = &e as &dyn std::error::Error,
                            ?topic,
                            "gossip not sent"
                        );
                    }
                }
                Output::Request { peer, request } => {
                    let net = self.net.clone();
                    let tx = self.sync_tx.clone();
                    tokio::spawn(async move {
                        let response = match net.request(peer, request.to_bytes()).await {
                            Ok(bytes) => match SyncResponse::from_bytes(&bytes) {
                                Ok(response) => Some(response),
                                Err(e) => {
                                    net.ban(peer, format!("malformed sync answer: {e}"));
                                    None
                                }
                            },
                            Err(e) => {
                                tracing::debug!(
                                    %peer,
                                    error = &e as &dyn std::error::Error,
                                    "sync request failed"
                                );
                                None
                            }
                        };
                        // The loop may have stopped; nothing to do then.
                        let _ = tx.send((peer, request, response));
                    });
                }
                Output::Schedule { timer, after_ms } => {
                    let tx = self.timer_tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(after_ms)).await;
                        let _ = tx.send(timer);
                    });
                }
            }
        }
    }

    /// Answers a sync request off the consensus loop, on a blocking thread, with at most
    /// [`SYNC_ANSWERS_AT_ONCE`] in progress and one per peer; beyond that the request is
    /// declined (its reply sender dropped), so sync work can neither stall consensus nor
    /// pile up, and one flooding peer cannot take every slot from peers that need blocks. A
    /// request that does not decode gets its sender banned.
    fn serve_sync(&self, peer: PeerId, data: Vec<u8>, reply: oneshot::Sender<Vec<u8>>) {
        // No honest node sends a request that does not decode (it is a few bytes).
        if let Err(e) = SyncRequest::from_bytes(&data) {
            self.net.ban(peer, format!("malformed sync request: {e}"));
            return;
        }
        if !lock(&self.sync_serving).insert(peer) {
            tracing::debug!(%peer, "a sync answer for this peer is in progress; declined");
            return;
        }
        let Ok(permit) = self.sync_answers.clone().try_acquire_owned() else {
            lock(&self.sync_serving).remove(&peer);
            tracing::debug!(%peer, "sync answers busy; request declined");
            return;
        };
        let shared = self.shared.clone();
        let serving = self.sync_serving.clone();
        tokio::task::spawn_blocking(move || {
            let response =
                crate::host::sync_server::answer_locked(&shared.store, shared.genesis_hash, &data);
            let _ = reply.send(response.to_bytes());
            lock(&serving).remove(&peer);
            drop(permit);
        });
    }

    /// A progress bar on a terminal while far behind; plain logs otherwise.
    fn show_progress(&mut self) {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return;
        }
        let height = read(&self.shared.store).height();
        let Some(target) = self.host.sync_target().filter(|t| *t > height) else {
            if let Some(bar) = self.progress.take() {
                bar.finish_and_clear();
            }
            return;
        };
        let bar = self.progress.get_or_insert_with(|| {
            let bar = indicatif::ProgressBar::new(target);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "syncing {bar:40} {pos}/{len} blocks ({per_sec}, eta {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        bar.set_length(target);
        bar.set_position(height);
    }
}
