//! The report: finalized throughput, submit-to-final latency, block interval, and per node
//! the CPU time, memory, disk and work per transaction, with a fresh node's sync rate; a
//! table for people and JSON for scripts.

use std::collections::HashMap;
use std::time::Instant;

use pov_crypto::Hash;
use serde_json::{json, Value};

use crate::cluster::{NodeSnapshot, Snapshot, SyncTiming};
use crate::follow::SeenBlock;
use crate::submit::{Rate, Submitted};
use crate::workload::{Kind, Workload};
use crate::Args;

/// Per-node figures over the measured phase.
#[derive(Debug, Clone)]
pub struct NodeFigures {
    /// CPU seconds used during the phase.
    pub cpu_seconds: f64,
    /// Peak resident memory at the end, MiB.
    pub peak_rss_mib: f64,
    /// Resident memory at the end, MiB.
    pub rss_mib: f64,
    /// Data directory bytes per transaction in the chain.
    pub disk_bytes_per_tx: f64,
    /// Transaction signature checks per committed transaction.
    pub signature_checks_per_tx: f64,
    /// Transaction executions per committed transaction.
    pub executions_per_tx: f64,
    /// Bytes written to the store per committed transaction.
    pub bytes_written_per_tx: f64,
    /// Transactions in the chain at the end.
    pub chain_txs: f64,
}

/// Everything one run measured.
pub struct Report {
    json: Value,
    table: String,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn node_figures(before: &NodeSnapshot, after: &NodeSnapshot) -> NodeFigures {
    let delta = |name: &str| after.metrics.value(name) - before.metrics.value(name);
    let txs = delta("pov_txs_committed_total").max(1.0);
    let chain_txs = after.metrics.value("pov_txs_committed_total").max(1.0);
    NodeFigures {
        cpu_seconds: after.cpu_seconds - before.cpu_seconds,
        peak_rss_mib: after.peak_rss_bytes as f64 / 1048576.0,
        rss_mib: after.rss_bytes as f64 / 1048576.0,
        disk_bytes_per_tx: after.disk_bytes as f64 / chain_txs,
        signature_checks_per_tx: delta("pov_tx_signature_checks_total") / txs,
        executions_per_tx: delta("pov_tx_executions_total") / txs,
        bytes_written_per_tx: delta("pov_storage_bytes_written_total") / txs,
        chain_txs,
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

impl Report {
    /// Computes the figures.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        args: &Args,
        work: &Workload,
        submitted: &Submitted,
        finals: &HashMap<Hash, Instant>,
        blocks: &[SeenBlock],
        before: &Snapshot,
        after: &Snapshot,
        sync: Option<SyncTiming>,
    ) -> Report {
        let n = work.measured.len();
        let mut latencies: Vec<f64> = work
            .measured
            .iter()
            .filter_map(|t| {
                let start = submitted.started.get(&t.hash)?;
                let end = finals.get(&t.hash)?;
                Some(end.saturating_duration_since(*start).as_secs_f64())
            })
            .collect();
        latencies.sort_by(f64::total_cmp);
        let first_submit = submitted.started.values().min().copied();
        let last_final = finals.values().max().copied();
        let first_final = finals.values().min().copied();
        // The blocks that held the workload: from the first to the last final one.
        let window: Vec<&SeenBlock> = blocks
            .iter()
            .filter(|b| {
                first_final.is_some_and(|f| b.at >= f) && last_final.is_some_and(|l| b.at <= l)
            })
            .collect();
        let end_to_end = match (first_submit, last_final) {
            (Some(a), Some(b)) if b > a => n as f64 / (b - a).as_secs_f64(),
            _ => 0.0,
        };
        let sustained = match (window.first(), window.last()) {
            // Too few blocks for a steady state: the end-to-end rate is all there is.
            _ if window.len() < 3 => end_to_end,
            (Some(a), Some(b)) if b.at > a.at => {
                let txs: usize = window.iter().skip(1).map(|b| b.txs).sum();
                txs as f64 / (b.at - a.at).as_secs_f64()
            }
            _ => 0.0,
        };
        let accepted_rate = match (submitted.first, submitted.last) {
            (Some(a), Some(b)) if b > a => n as f64 / (b - a).as_secs_f64(),
            _ => 0.0,
        };
        let mut intervals: Vec<f64> = window
            .windows(2)
            .map(|w| (w[1].at - w[0].at).as_secs_f64())
            .collect();
        intervals.sort_by(f64::total_cmp);
        let mean_interval = if intervals.is_empty() {
            0.0
        } else {
            intervals.iter().sum::<f64>() / intervals.len() as f64
        };
        let block_txs: Vec<usize> = window.iter().map(|b| b.txs).collect();
        let nodes: Vec<NodeFigures> = before
            .iter()
            .zip(after)
            .map(|(b, a)| node_figures(b, a))
            .collect();
        let count = |k: Kind| work.measured.iter().filter(|t| t.kind == k).count();
        let offered = match args.rate {
            Rate::Max => Value::from("max"),
            Rate::PerSecond(r) => Value::from(r),
        };
        let ms = |s: f64| (s * 1000.0).round() / 1000.0;
        let json = json!({
            "label": args.label,
            "machine": {
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
                "load_average_at_end": load_average(),
            },
            "setup": {
                "validators": args.validators,
                "members": args.members,
                "contributions": args.contributions,
                "evaluations": count(Kind::Evaluate),
                "transfers": count(Kind::Transfer),
                "offered_rate": offered,
                "clients": args.clients,
                "batch": args.batch,
                "submit_to_all": args.submit_to_all,
                "block_time_ms": args.block_time_ms,
                "max_block_txs": args.max_block_txs,
                "max_txs": args.max_txs,
                "set": args.set,
            },
            "submission": {
                "transactions": n,
                "accepted_per_second": accepted_rate.round(),
                "requests": submitted.requests,
                "retried_full": submitted.retried,
                "refused": submitted.errors.len(),
            },
            "finality": {
                "finalized_per_second_sustained": sustained.round(),
                "finalized_per_second_end_to_end": end_to_end.round(),
                "latency_s": {
                    "p50": ms(percentile(&latencies, 50.0)),
                    "p90": ms(percentile(&latencies, 90.0)),
                    "p99": ms(percentile(&latencies, 99.0)),
                    "max": ms(percentile(&latencies, 100.0)),
                },
                "blocks": window.len(),
                "block_interval_s": {
                    "mean": ms(mean_interval),
                    "p50": ms(percentile(&intervals, 50.0)),
                    "p90": ms(percentile(&intervals, 90.0)),
                },
                "txs_per_block_max": block_txs.iter().max().copied().unwrap_or(0),
            },
            "nodes": nodes.iter().map(|f| json!({
                "cpu_seconds": ms(f.cpu_seconds),
                "peak_rss_mib": f.peak_rss_mib.round(),
                "rss_mib": f.rss_mib.round(),
                "disk_bytes_per_tx": f.disk_bytes_per_tx.round(),
                "signature_checks_per_tx": ms(f.signature_checks_per_tx),
                "executions_per_tx": ms(f.executions_per_tx),
                "bytes_written_per_tx": f.bytes_written_per_tx.round(),
                "chain_txs": f.chain_txs,
            })).collect::<Vec<_>>(),
            "sync": sync.map(|s| json!({
                "blocks": s.blocks,
                "txs": s.txs,
                "seconds_total": ms(s.total.as_secs_f64()),
                "seconds_applying": ms(s.applying.as_secs_f64()),
                "txs_per_second": (s.txs as f64 / s.applying.as_secs_f64().max(1e-9)).round(),
                "peak_rss_mib": (s.peak_rss_bytes as f64 / 1048576.0).round(),
                "cpu_seconds": ms(s.cpu_seconds),
            })),
        });
        let table = table(&json);
        Report { json, table }
    }

    /// The figures as JSON.
    pub fn json(&self) -> Value {
        self.json.clone()
    }

    /// The figures as a table.
    pub fn table(&self) -> String {
        self.table.clone()
    }
}

fn table(j: &Value) -> String {
    let mut out = String::new();
    let mut row = |what: &str, value: String| out.push_str(&format!("| {what} | {value} |\n"));
    let s = &j["setup"];
    row(
        "setup",
        format!(
            "{} validators, {} members, {} evaluations + {} transfers, offered {}, {} clients, batch {}, blocks {} ms / {} txs",
            s["validators"], s["members"], s["evaluations"], s["transfers"], s["offered_rate"],
            s["clients"], s["batch"], s["block_time_ms"], s["max_block_txs"]
        ),
    );
    let f = &j["finality"];
    row(
        "finalized tx/s (sustained; end to end)",
        format!(
            "{}; {}",
            f["finalized_per_second_sustained"], f["finalized_per_second_end_to_end"]
        ),
    );
    let l = &f["latency_s"];
    row(
        "submit-to-final p50 / p90 / p99 / max (s)",
        format!("{} / {} / {} / {}", l["p50"], l["p90"], l["p99"], l["max"]),
    );
    let b = &f["block_interval_s"];
    row(
        "block interval mean / p50 / p90 (s)",
        format!(
            "{} / {} / {} ({} blocks, at most {} txs)",
            b["mean"], b["p50"], b["p90"], f["blocks"], f["txs_per_block_max"]
        ),
    );
    let sub = &j["submission"];
    row(
        "accepted tx/s; requests; retried (full); refused",
        format!(
            "{}; {}; {}; {}",
            sub["accepted_per_second"], sub["requests"], sub["retried_full"], sub["refused"]
        ),
    );
    if let Some(nodes) = j["nodes"].as_array() {
        for (i, n) in nodes.iter().enumerate() {
            row(
                &format!("node{i}: CPU s; peak / now RSS MiB; disk B/tx"),
                format!(
                    "{}; {} / {}; {}",
                    n["cpu_seconds"], n["peak_rss_mib"], n["rss_mib"], n["disk_bytes_per_tx"]
                ),
            );
            row(
                &format!("node{i}: per tx: signature checks; executions; bytes written"),
                format!(
                    "{}; {}; {}",
                    n["signature_checks_per_tx"], n["executions_per_tx"], n["bytes_written_per_tx"]
                ),
            );
        }
    }
    if !j["sync"].is_null() {
        let y = &j["sync"];
        row(
            "new node sync: txs; s (total / applying); tx/s; peak RSS MiB",
            format!(
                "{}; {} / {}; {}; {}",
                y["txs"],
                y["seconds_total"],
                y["seconds_applying"],
                y["txs_per_second"],
                y["peak_rss_mib"]
            ),
        );
    }
    row(
        "load average at end",
        j["machine"]["load_average_at_end"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    );
    format!("| what | measured |\n|---|---|\n{out}")
}
