//! The node's Prometheus metrics (`GET /metrics`, listed in `docs/running-a-node.md`).
//!
//! Counters and histograms that the event loop and the API update as things happen live in
//! [`Metrics`]; values that already exist elsewhere (the height, the mempool's size, the
//! peers, the database size) are read when the endpoint is scraped, and so are the
//! process-wide counts of signature checks and executions kept by `pov-crypto` and
//! `pov-protocol`. The load harness (`pov-bench`) reads the same text, so every figure it
//! reports per transaction per node is one an operator can watch too.

use std::sync::atomic::Ordering;
use std::time::Duration;

use pov_storage::CommitReceipt;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::shared::{lock, read, Shared};

/// The metrics a node updates as it runs.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    blocks: Counter,
    txs: Counter,
    events: Counter,
    bytes_written: Counter,
    writes: Counter,
    commit_seconds: Histogram,
    execute_seconds: Histogram,
    height_seconds: Histogram,
    rounds: Counter,
    synced_blocks: Counter,
    sync_target: Gauge,
    submitted: Family<Vec<(String, String)>, Counter>,
    gossip_txs: Family<Vec<(String, String)>, Counter>,
    height: Gauge,
    mempool: Gauge,
    mempool_reapplied: Counter,
    peers: Gauge,
    syncing: Gauge,
    db_bytes: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// A fresh set, registered under the `pov` prefix.
    pub fn new() -> Metrics {
        let mut root = Registry::default();
        let registry = root.sub_registry_with_prefix("pov");
        let m = Metrics {
            blocks: Counter::default(),
            txs: Counter::default(),
            events: Counter::default(),
            bytes_written: Counter::default(),
            writes: Counter::default(),
            // 1 ms to about 33 s.
            commit_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            execute_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            // 10 ms to about 5 minutes.
            height_seconds: Histogram::new(exponential_buckets(0.01, 2.0, 16)),
            rounds: Counter::default(),
            synced_blocks: Counter::default(),
            sync_target: Gauge::default(),
            submitted: Family::default(),
            gossip_txs: Family::default(),
            height: Gauge::default(),
            mempool: Gauge::default(),
            mempool_reapplied: Counter::default(),
            peers: Gauge::default(),
            syncing: Gauge::default(),
            db_bytes: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "blocks_committed",
            "Blocks committed to disk (by consensus or by sync)",
            m.blocks.clone(),
        );
        registry.register(
            "txs_committed",
            "Transactions in committed blocks",
            m.txs.clone(),
        );
        registry.register(
            "events_committed",
            "Balance-change events produced by committed blocks",
            m.events.clone(),
        );
        registry.register(
            "storage_bytes_written",
            "Bytes of keys and values written to the store by commits",
            m.bytes_written.clone(),
        );
        registry.register(
            "storage_writes",
            "Key-value writes made by commits",
            m.writes.clone(),
        );
        registry.register(
            "commit_duration_seconds",
            "Time to commit a block: execute (if not already executed), write, flush",
            m.commit_seconds.clone(),
        );
        registry.register(
            "commit_execute_duration_seconds",
            "Part of a commit spent checking the certificate and executing the block",
            m.execute_seconds.clone(),
        );
        registry.register(
            "height_duration_seconds",
            "Time from entering a consensus height to its block being committed",
            m.height_seconds.clone(),
        );
        registry.register(
            "consensus_rounds",
            "Consensus rounds entered (more than one per height means a round failed)",
            m.rounds.clone(),
        );
        registry.register(
            "sync_blocks",
            "Blocks applied from block sync",
            m.synced_blocks.clone(),
        );
        registry.register(
            "sync_target_height",
            "The highest height a peer reported during sync",
            m.sync_target.clone(),
        );
        registry.register(
            "api_txs_submitted",
            "Transactions submitted through the API, by result",
            m.submitted.clone(),
        );
        registry.register(
            "gossip_txs_received",
            "Transactions received by gossip, by result",
            m.gossip_txs.clone(),
        );
        registry.register(
            "height",
            "Height of the last committed block",
            m.height.clone(),
        );
        registry.register(
            "mempool_txs",
            "Pending transactions in the mempool",
            m.mempool.clone(),
        );
        registry.register(
            "mempool_reapplied",
            "Pending transactions re-applied by the mempool's re-check after a block",
            m.mempool_reapplied.clone(),
        );
        registry.register("peers", "Connected peers", m.peers.clone());
        registry.register(
            "syncing",
            "1 while catching up by block sync",
            m.syncing.clone(),
        );
        registry.register(
            "db_size_bytes",
            "Bytes the store uses on disk",
            m.db_bytes.clone(),
        );
        root.register_collector(Box::new(ProcessCounters));
        Metrics {
            registry: root,
            ..m
        }
    }

    /// A block is on disk.
    pub fn committed(&self, receipt: &CommitReceipt, synced: bool) {
        self.blocks.inc();
        self.txs.inc_by(receipt.txs as u64);
        self.events.inc_by(receipt.events as u64);
        self.bytes_written.inc_by(receipt.bytes as u64);
        self.writes.inc_by(receipt.writes as u64);
        let t = receipt.timings;
        self.commit_seconds
            .observe((t.execute + t.index + t.write + t.flush).as_secs_f64());
        self.execute_seconds.observe(t.execute.as_secs_f64());
        if synced {
            self.synced_blocks.inc();
        }
    }

    /// A consensus height ended in a committed block after `elapsed`.
    pub fn height_done(&self, elapsed: Duration) {
        self.height_seconds.observe(elapsed.as_secs_f64());
    }

    /// The engine entered a new round (round 0 of each height included).
    pub fn round_entered(&self) {
        self.rounds.inc();
    }

    /// A peer reported `height` during sync.
    pub fn sync_target(&self, height: u64) {
        self.sync_target.set(height.min(i64::MAX as u64) as i64);
    }

    /// One transaction submitted through the API, with its result (`accepted`, `known`,
    /// `rejected`, `full`, `malformed`, `unavailable`).
    pub fn submitted(&self, result: &str) {
        self.submitted
            .get_or_create(&vec![("result".to_string(), result.to_string())])
            .inc();
    }

    /// One transaction received by gossip, with its result (`accepted`, `known`, `rejected`,
    /// `ignored`).
    pub fn gossip_tx(&self, result: &str) {
        self.gossip_txs
            .get_or_create(&vec![("result".to_string(), result.to_string())])
            .inc();
    }

    /// The text exposition of every metric, with the values read at scrape time refreshed
    /// from `shared`.
    pub fn render(&self, shared: &Shared) -> String {
        {
            let store = read(&shared.store);
            self.height.set(store.height().min(i64::MAX as u64) as i64);
            let size = store.size_on_disk().unwrap_or(0);
            self.db_bytes.set(size.min(i64::MAX as u64) as i64);
        }
        {
            let pool = lock(&shared.mempool);
            self.mempool.set(pool.len() as i64);
            let seen = self.mempool_reapplied.get();
            self.mempool_reapplied
                .inc_by(pool.reapplied().saturating_sub(seen));
        }
        self.peers
            .set(shared.peers.load(Ordering::Relaxed).min(i64::MAX as usize) as i64);
        self.syncing
            .set(i64::from(shared.syncing.load(Ordering::Relaxed)));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::warn!("metrics could not be encoded");
        }
        out
    }
}

/// Process-wide counts kept outside the node (signature checks, executions) and the
/// process's CPU time and memory, read at each scrape.
#[derive(Debug)]
struct ProcessCounters;

impl Collector for ProcessCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let counters = [
            (
                "pov_tx_signature_checks",
                "Transaction signatures checked (each one verify_strict)",
                pov_protocol::counters::signature_checks(),
            ),
            (
                "pov_tx_executions",
                "Transaction executions against a state (mempool, proposals, commits, replay)",
                pov_protocol::counters::executions(),
            ),
            (
                "pov_signature_verifications",
                "Signatures verified, of every kind (transactions, votes, certificates)",
                pov_crypto::verifications(),
            ),
            (
                "pov_gossip_repeats_dropped",
                "Copies of a recent gossip message under another nonce, dropped unread",
                crate::network::gossip_repeats_dropped(),
            ),
            (
                "pov_peer_bans",
                "Peers disconnected and banned (low gossip score, or a broken sync protocol)",
                crate::network::peer_bans(),
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            let metric = encoder.encode_descriptor(name, help, None, counter.metric_type())?;
            counter.encode(metric)?;
        }
        if let Some(stats) = process_stats() {
            let cpu = ConstCounter::new(stats.cpu_seconds);
            let metric = encoder.encode_descriptor(
                "process_cpu_seconds",
                "User and system CPU time of this process",
                None,
                cpu.metric_type(),
            )?;
            cpu.encode(metric)?;
            for (name, help, bytes) in [
                (
                    "process_resident_memory_bytes",
                    "Resident memory of this process",
                    stats.rss_bytes,
                ),
                (
                    "process_max_resident_memory_bytes",
                    "Peak resident memory of this process",
                    stats.peak_rss_bytes,
                ),
            ] {
                let gauge = ConstGauge::new(bytes.min(i64::MAX as u64) as i64);
                let metric = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
                gauge.encode(metric)?;
            }
        }
        Ok(())
    }
}

/// CPU time and memory of this process.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessStats {
    /// User plus system CPU seconds.
    pub cpu_seconds: f64,
    /// Resident memory now.
    pub rss_bytes: u64,
    /// Peak resident memory.
    pub peak_rss_bytes: u64,
}

/// Reads this process's CPU time and memory from `/proc` (Linux; `None` elsewhere).
pub fn process_stats() -> Option<ProcessStats> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_process_stats(&stat, &status)
}

/// Parses `/proc/PID/stat` and `/proc/PID/status`. CPU ticks are in the kernel's `USER_HZ`,
/// which Linux fixes at 100 for user space on every architecture it exports `/proc` on.
pub fn parse_process_stats(stat: &str, status: &str) -> Option<ProcessStats> {
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some(ProcessStats {
        cpu_seconds: (utime + stime) as f64 / 100.0,
        rss_bytes: kib("VmRSS:")? * 1024,
        peak_rss_bytes: kib("VmHWM:")? * 1024,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_and_status_parse() {
        let stat = "4242 (povd (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1 2 3";
        let status = "Name:\tpovd\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n";
        let stats = parse_process_stats(stat, status).expect("parses");
        assert_eq!(stats.cpu_seconds, 3.0);
        assert_eq!(stats.rss_bytes, 100 * 1024 * 1024);
        assert_eq!(stats.peak_rss_bytes, 200 * 1024 * 1024);
        assert_eq!(parse_process_stats("garbage", status), None);
    }

    #[test]
    fn this_process_has_stats_on_linux() {
        if cfg!(target_os = "linux") {
            let stats = process_stats().expect("/proc/self");
            assert!(stats.rss_bytes > 0 && stats.peak_rss_bytes >= stats.rss_bytes);
        }
    }

    #[test]
    fn exposition_names_every_metric() {
        let m = Metrics::new();
        m.submitted("accepted");
        m.gossip_tx("known");
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &m.registry).expect("encode");
        for name in [
            "pov_blocks_committed_total",
            "pov_txs_committed_total",
            "pov_storage_bytes_written_total",
            "pov_commit_duration_seconds_bucket",
            "pov_height_duration_seconds_bucket",
            "pov_consensus_rounds_total",
            "pov_sync_blocks_total",
            "pov_api_txs_submitted_total{result=\"accepted\"} 1",
            "pov_gossip_txs_received_total{result=\"known\"} 1",
            "pov_mempool_txs",
            "pov_mempool_reapplied_total",
            "pov_peers",
            "pov_tx_signature_checks_total",
            "pov_tx_executions_total",
            "pov_signature_verifications_total",
        ] {
            assert!(out.contains(name), "{name} missing from:\n{out}");
        }
    }
}
