//! The devnet under test: `povd` homes written in the documented layout
//! (`docs/running-a-node.md`), processes started and stopped, and what is read off them:
//! `/metrics`, `/proc/PID` (CPU time, peak memory) and the size of each data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use pov_crypto::Keypair;
use pov_protocol::genesis::{dev_validator_key, Genesis, GenesisValidator};

use crate::metrics::{self, Metrics};

/// Node settings the harness writes into every `config.toml`.
#[derive(Debug, Clone)]
pub struct NodeSettings {
    /// `consensus.block_time_ms`.
    pub block_time_ms: u64,
    /// `mempool.max_block_txs`.
    pub max_block_txs: usize,
    /// `mempool.max_txs`.
    pub max_txs: usize,
    /// Extra `section.key=value` lines.
    pub extra: Vec<String>,
}

/// One node: its home, ports and process.
#[derive(Debug)]
pub struct Node {
    /// Its name (`node0`, ..., `sync`).
    pub name: String,
    /// Its home directory.
    pub home: PathBuf,
    /// Its API base URL.
    pub api: String,
    /// The running process, if started.
    pub child: Option<Child>,
}

/// What one node looked like at one moment.
#[derive(Debug, Clone, Default)]
pub struct NodeSnapshot {
    /// Its metrics.
    pub metrics: Metrics,
    /// User + system CPU seconds of the process.
    pub cpu_seconds: f64,
    /// Resident memory now, bytes.
    pub rss_bytes: u64,
    /// Peak resident memory, bytes.
    pub peak_rss_bytes: u64,
    /// Bytes in the node's data directory.
    pub disk_bytes: u64,
}

/// Every validator's snapshot at one moment.
pub type Snapshot = Vec<NodeSnapshot>;

/// The result of timing a fresh node's sync.
#[derive(Debug, Clone, Copy)]
pub struct SyncTiming {
    /// Blocks it had to fetch.
    pub blocks: u64,
    /// Transactions in them.
    pub txs: u64,
    /// From process start to caught up.
    pub total: Duration,
    /// From its first synced block to caught up (the transfer and apply rate).
    pub applying: Duration,
    /// Its peak resident memory.
    pub peak_rss_bytes: u64,
    /// Its CPU seconds.
    pub cpu_seconds: f64,
}

/// The devnet.
pub struct Cluster {
    povd: PathBuf,
    /// The directory holding every home.
    pub dir: PathBuf,
    keep: bool,
    genesis: Genesis,
    settings: NodeSettings,
    base_port: u16,
    /// The validators.
    pub nodes: Vec<Node>,
}

/// `genesis` as a cluster of `validators` on `base_port` runs it: its validators replaced by
/// the dev validator keys with their loopback addresses, its time zero. Transactions sign
/// this genesis's hash, so the workload is signed for it.
pub fn devnet_genesis(genesis: &Genesis, base_port: u16, validators: u32) -> Genesis {
    let mut genesis = genesis.clone();
    genesis.genesis_time_ms = 0;
    genesis.validators = (0..validators)
        .map(|i| GenesisValidator {
            public_key: dev_validator_key(i).address(),
            power: 1,
            addr: Some(p2p_addr(base_port, i)),
        })
        .collect();
    genesis
}

impl Cluster {
    /// Writes the homes of `validators` validators for `genesis` (its validators replaced by
    /// the dev validator keys, with their loopback addresses).
    pub fn create(
        povd: &Path,
        dir: Option<PathBuf>,
        base_port: u16,
        validators: u32,
        genesis: &Genesis,
        settings: &NodeSettings,
    ) -> anyhow::Result<Cluster> {
        let keep = dir.is_some();
        let dir = match dir {
            Some(d) => d,
            None => std::env::temp_dir().join(format!("pov-bench-{}", std::process::id())),
        };
        if dir.exists() {
            anyhow::ensure!(
                std::fs::read_dir(&dir)?.next().is_none(),
                "{} exists and is not empty",
                dir.display()
            );
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let genesis = devnet_genesis(genesis, base_port, validators);
        let mut cluster = Cluster {
            povd: povd.to_path_buf(),
            dir,
            keep,
            genesis,
            settings: settings.clone(),
            base_port,
            nodes: Vec::new(),
        };
        for i in 0..validators {
            let node = cluster.write_home(&format!("node{i}"), i, Some(dev_validator_key(i)))?;
            cluster.nodes.push(node);
        }
        Ok(cluster)
    }

    /// Writes one home: node number `i` takes p2p port `base + i` and API port
    /// `base + 100 + i`.
    fn write_home(&self, name: &str, i: u32, key: Option<Keypair>) -> anyhow::Result<Node> {
        let home = self.dir.join(name);
        std::fs::create_dir_all(&home)?;
        std::fs::write(home.join("genesis.toml"), self.genesis.to_toml())?;
        let api_port = u32::from(self.base_port) + 100 + i;
        let p2p = p2p_addr(self.base_port, i);
        let bootnodes: Vec<String> = self
            .genesis
            .validators
            .iter()
            .filter_map(|v| v.addr.clone())
            .filter(|a| *a != p2p)
            .collect();
        std::fs::write(
            home.join("config.toml"),
            config_toml(&self.settings, &p2p, api_port, &bootnodes)?,
        )?;
        if let Some(key) = key {
            std::fs::write(
                home.join("validator.key"),
                hex::encode(key.secret_bytes()) + "\n",
            )?;
        }
        std::fs::write(
            home.join("node.key"),
            hex::encode(Keypair::generate().secret_bytes()) + "\n",
        )?;
        Ok(Node {
            name: name.to_string(),
            home,
            api: format!("http://127.0.0.1:{api_port}"),
            child: None,
        })
    }

    fn spawn(&self, node: &mut Node) -> anyhow::Result<()> {
        let log = std::fs::File::create(node.home.join("povd.log"))?;
        let child = Command::new(&self.povd)
            .arg("--home")
            .arg(&node.home)
            .env("RUST_LOG", "warn,pov_node=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.povd.display()))?;
        node.child = Some(child);
        Ok(())
    }

    /// Starts every validator.
    pub fn start_validators(&mut self) -> anyhow::Result<()> {
        let mut nodes = std::mem::take(&mut self.nodes);
        let result = nodes.iter_mut().try_for_each(|n| self.spawn(n));
        self.nodes = nodes;
        result
    }

    /// Waits until every validator answers and the chain has moved past height 1.
    pub fn wait_ready(&mut self, limit: Duration) -> anyhow::Result<()> {
        let start = Instant::now();
        loop {
            let heights: Vec<Option<f64>> = self
                .nodes
                .iter()
                .map(|n| {
                    metrics::scrape(&n.api)
                        .ok()
                        .and_then(|m| m.get("pov_height"))
                })
                .collect();
            if heights.iter().all(|h| h.is_some_and(|h| h >= 1.0)) {
                return Ok(());
            }
            for node in &mut self.nodes {
                if let Some(Ok(Some(status))) = node.child.as_mut().map(|c| c.try_wait()) {
                    anyhow::bail!(
                        "{} exited with {status}; its log: {}",
                        node.name,
                        node.home.join("povd.log").display()
                    );
                }
            }
            anyhow::ensure!(
                start.elapsed() < limit,
                "the devnet did not reach height 1 in {limit:?}: heights {heights:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The validators' API base URLs.
    pub fn apis(&self) -> Vec<String> {
        self.nodes.iter().map(|n| n.api.clone()).collect()
    }

    /// Every validator's metrics, process figures and disk use, now.
    pub fn snapshot(&self) -> anyhow::Result<Snapshot> {
        self.nodes.iter().map(snapshot_node).collect()
    }

    /// Starts a fresh full node with no data, bootstrapped from the validators, and times
    /// how long it takes to reach the validators' height.
    pub fn time_sync(&mut self, limit: Duration) -> anyhow::Result<SyncTiming> {
        let target = metrics::scrape(&self.nodes[0].api)?
            .get("pov_height")
            .unwrap_or(0.0) as u64;
        let i = self.nodes.len() as u32;
        let mut node = self.write_home("sync", i, None)?;
        let started = Instant::now();
        self.spawn(&mut node)?;
        let mut first_block: Option<Instant> = None;
        let result = loop {
            if let Ok(m) = metrics::scrape(&node.api) {
                let height = m.get("pov_height").unwrap_or(0.0) as u64;
                if height > 0 && first_block.is_none() {
                    first_block = Some(Instant::now());
                }
                if height >= target {
                    let done = Instant::now();
                    let snap = snapshot_node(&node)?;
                    break Ok(SyncTiming {
                        blocks: height,
                        txs: m.get("pov_txs_committed_total").unwrap_or(0.0) as u64,
                        total: done - started,
                        applying: done - first_block.unwrap_or(started),
                        peak_rss_bytes: snap.peak_rss_bytes,
                        cpu_seconds: snap.cpu_seconds,
                    });
                }
            }
            if started.elapsed() > limit {
                break Err(anyhow::anyhow!(
                    "the new node did not sync to height {target} in {limit:?}"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        stop_node(&mut node);
        result
    }

    /// Stops every process (SIGTERM, then SIGKILL after 10 s) and removes the homes unless
    /// `--dir` was given.
    pub fn stop(&mut self) {
        for node in &mut self.nodes {
            stop_node(node);
        }
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

fn stop_node(node: &mut Node) {
    let Some(mut child) = node.child.take() else {
        return;
    };
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn snapshot_node(node: &Node) -> anyhow::Result<NodeSnapshot> {
    let metrics = metrics::scrape(&node.api)?;
    let pid = node.child.as_ref().map(Child::id).unwrap_or(0);
    let (cpu_seconds, rss_bytes, peak_rss_bytes) = proc_stats(pid).unwrap_or((0.0, 0, 0));
    Ok(NodeSnapshot {
        metrics,
        cpu_seconds,
        rss_bytes,
        peak_rss_bytes,
        disk_bytes: dir_size(&node.home.join("data")),
    })
}

/// CPU seconds, resident and peak resident bytes of process `pid`, from `/proc` (user-space
/// ticks are 1/100 s on Linux).
fn proc_stats(pid: u32) -> Option<(f64, u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    let kib = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()
    };
    Some((
        ticks as f64 / 100.0,
        kib("VmRSS:")? * 1024,
        kib("VmHWM:")? * 1024,
    ))
}

/// Bytes of every file under `dir` (what `du -b` would count).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn p2p_addr(base: u16, i: u32) -> String {
    format!("/ip4/127.0.0.1/tcp/{}", u32::from(base) + i)
}

/// A node's `config.toml`: the documented keys, then the `--set` extras.
fn config_toml(
    settings: &NodeSettings,
    p2p: &str,
    api_port: u32,
    bootnodes: &[String],
) -> anyhow::Result<String> {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut set = |section: &str, key: &str, value: String| {
        sections
            .entry(section.to_string())
            .or_default()
            .insert(key.to_string(), value);
    };
    set("p2p", "listen", format!("[{:?}]", p2p));
    set("p2p", "bootnodes", format!("[{}]", list(bootnodes)));
    set("api", "listen", format!("\"127.0.0.1:{api_port}\""));
    set(
        "consensus",
        "block_time_ms",
        settings.block_time_ms.to_string(),
    );
    set(
        "mempool",
        "max_block_txs",
        settings.max_block_txs.to_string(),
    );
    set("mempool", "max_txs", settings.max_txs.to_string());
    for line in &settings.extra {
        let (path, value) = line
            .split_once('=')
            .with_context(|| format!("--set {line:?}: expected SECTION.KEY=VALUE"))?;
        let (section, key) = path
            .split_once('.')
            .with_context(|| format!("--set {line:?}: expected SECTION.KEY=VALUE"))?;
        set(section.trim(), key.trim(), value.trim().to_string());
    }
    let mut out = String::from("# Written by pov-bench.\n");
    for (section, keys) in sections {
        out.push_str(&format!("\n[{section}]\n"));
        for (key, value) in keys {
            out.push_str(&format!("{key} = {value}\n"));
        }
    }
    Ok(out)
}
