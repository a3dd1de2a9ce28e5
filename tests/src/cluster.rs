//! A devnet of real `povd` validators, each in its own network namespace of a [`Lab`]: start,
//! kill -9, restart, stop, wipe a node's data, cut and heal links, and the end checks every
//! fault test makes (the same block at every height, the same state root, every transaction
//! an API reported final in every node's chain).
//!
//! Homes are written here in the documented layout (`docs/running-a-node.md`), one per
//! validator: the dev genesis with `validators` dev validator keys of power 1, each node
//! listening on `0.0.0.0:26656` for peers and `0.0.0.0:7070` for the API inside its
//! namespace, every other validator a bootnode. Extra hosts (attackers) get no node.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use pov_crypto::Keypair;
use pov_protocol::genesis::{dev_validator_key, Genesis, GenesisValidator};
use serde_json::Value;

use crate::impair::{impair, Hub, Impairment};
use crate::netns::Lab;
use crate::{binary, http, NodeProcess};

/// The peer-to-peer port of every node (each has its own address).
pub const P2P_PORT: u16 = 26656;

/// The API port of every node.
pub const API_PORT: u16 = 7070;

/// Consensus timing for fault tests: short enough for many blocks in seconds, long enough
/// that a loaded 2-core machine running four nodes does not time out rounds all the time.
const CONSENSUS_TOML: &str = "[consensus]\n\
     block_time_ms = 300\n\
     timeout_propose_ms = 1500\n\
     timeout_prevote_ms = 600\n\
     timeout_precommit_ms = 600\n\
     timeout_delta_ms = 300\n";

/// What a cluster is made of.
#[derive(Debug, Clone)]
pub struct Options {
    /// Validators, each with its own node (hosts `0..validators`).
    pub validators: usize,
    /// Further hosts without a node, for attackers (hosts `validators..`).
    pub extra_hosts: usize,
    /// Lines appended to every node's `config.toml` (e.g. limits under test).
    pub extra_config: String,
    /// Delay and loss on every link between nodes (see [`crate::impair`]).
    pub impairment: Option<Impairment>,
    /// Extra environment of node processes, per node index.
    pub env: Vec<(usize, String, String)>,
}

impl Options {
    /// `validators` validators, no extra host, default settings.
    pub fn validators(validators: usize) -> Options {
        Options {
            validators,
            extra_hosts: 0,
            extra_config: String::new(),
            impairment: None,
            env: Vec::new(),
        }
    }
}

/// A running devnet in a lab. Dropping it kills every node, then removes the lab.
pub struct Cluster {
    // Field order is drop order: processes first, then their namespaces, then the files.
    nodes: Vec<Option<NodeProcess>>,
    /// The impairing hub, when links are impaired.
    pub hub: Option<Hub>,
    /// The lab the nodes run in (for partitions and attackers).
    pub lab: Lab,
    homes: Vec<PathBuf>,
    env: Vec<(usize, String, String)>,
    started: Instant,
    dir: tempfile::TempDir,
}

impl Cluster {
    /// Makes the lab and the homes and starts every validator. `Err` says why namespaces
    /// cannot be made here (the caller skips); anything else going wrong panics.
    pub fn start(options: &Options) -> Result<Cluster, String> {
        let lab = Lab::new(options.validators + options.extra_hosts)?;
        let hub = match options.impairment {
            Some(impairment) => Some(impair(&lab, impairment)?),
            None => None,
        };
        // Where nodes reach each other: the impaired overlay, or the plain network.
        let peer_ip = |i: usize| match hub {
            Some(_) => lab.overlay_ip(i),
            None => lab.ip(i),
        };
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let mut genesis = Genesis::dev();
        genesis.validators = (0..options.validators)
            .map(|i| GenesisValidator {
                public_key: dev_validator_key(i as u32).address(),
                power: 1,
                addr: Some(format!("/ip4/{}/tcp/{P2P_PORT}", peer_ip(i))),
            })
            .collect();
        let mut homes = Vec::new();
        for i in 0..options.validators {
            let home = dir.path().join(format!("node{i}"));
            std::fs::create_dir_all(&home).expect("home");
            std::fs::write(home.join("genesis.toml"), genesis.to_toml()).expect("genesis");
            let bootnodes: Vec<String> = (0..options.validators)
                .filter(|j| *j != i)
                .map(|j| format!("{:?}", format!("/ip4/{}/tcp/{P2P_PORT}", peer_ip(j))))
                .collect();
            let config = format!(
                "[p2p]\nlisten = [\"/ip4/0.0.0.0/tcp/{P2P_PORT}\"]\nbootnodes = [{}]\n\n\
                 [api]\nlisten = \"0.0.0.0:{API_PORT}\"\n\n{CONSENSUS_TOML}\n{}\n",
                bootnodes.join(", "),
                options.extra_config
            );
            std::fs::write(home.join("config.toml"), config).expect("config");
            write_key(
                &home.join("validator.key"),
                &dev_validator_key(i as u32).secret_bytes(),
            );
            write_key(&home.join("node.key"), &Keypair::generate().secret_bytes());
            homes.push(home);
        }
        let mut cluster = Cluster {
            nodes: (0..options.validators).map(|_| None).collect(),
            hub,
            lab,
            env: options.env.clone(),
            homes,
            started: Instant::now(),
            dir,
        };
        for i in 0..options.validators {
            cluster.restart(i);
        }
        Ok(cluster)
    }

    /// How many validators (running or not).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// True for a cluster of no validator.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i`'s API base URL.
    pub fn api(&self, i: usize) -> String {
        format!("http://{}:{API_PORT}", self.lab.ip(i))
    }

    /// Every node's API base URL.
    pub fn apis(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.api(i)).collect()
    }

    /// Node `i`'s home.
    pub fn home(&self, i: usize) -> &Path {
        &self.homes[i]
    }

    /// The directory holding every home.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Node `i`, which must be running.
    pub fn node(&self, i: usize) -> &NodeProcess {
        self.nodes[i]
            .as_ref()
            .unwrap_or_else(|| panic!("node {i} is not running"))
    }

    /// Indices of the running nodes.
    pub fn running(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|i| self.nodes[*i].is_some())
            .collect()
    }

    /// Starts node `i` (again), appending to its `povd.log`.
    pub fn restart(&mut self, i: usize) {
        assert!(self.nodes[i].is_none(), "node {i} is already running");
        let home = self.homes[i].clone();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(home.join("povd.log"))
            .expect("log file");
        let mut command = self.lab.command(i, &binary("povd"));
        for (_, key, value) in self.env.iter().filter(|(node, _, _)| *node == i) {
            command.env(key, value);
        }
        let child = command
            .arg("--home")
            .arg(&home)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("povd starts");
        self.nodes[i] = Some(NodeProcess {
            child,
            api: self.api(i),
            home,
        });
    }

    /// Kills node `i` with SIGKILL (no chance to flush or say goodbye) and reaps it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i].take() {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }

    /// Stops node `i` with SIGTERM; it must exit 0.
    pub fn stop(&mut self, i: usize) {
        if let Some(node) = self.nodes[i].take() {
            let status = node.stop();
            assert!(status.success(), "node {i} exited with {status} on SIGTERM");
        }
    }

    /// Deletes node `i`'s chain store, `HOME/data` (the node must be stopped; its keys,
    /// config and consensus log stay).
    pub fn wipe_data(&mut self, i: usize) {
        assert!(self.nodes[i].is_none(), "stop node {i} before wiping it");
        std::fs::remove_dir_all(self.homes[i].join("data")).expect("data directory removed");
    }

    /// Node `i`'s finalized height (0 when unreachable).
    pub fn height(&self, i: usize) -> u64 {
        self.nodes[i].as_ref().map(NodeProcess::height).unwrap_or(0)
    }

    /// The highest height among running nodes.
    pub fn max_height(&self) -> u64 {
        self.running()
            .into_iter()
            .map(|i| self.height(i))
            .max()
            .unwrap_or(0)
    }

    /// Waits until every node in `which` reaches `target`; panics with their logs if not
    /// within `limit`.
    pub fn wait_height(&self, which: &[usize], target: u64, limit: Duration) {
        let start = Instant::now();
        for &i in which {
            let left = limit.saturating_sub(start.elapsed());
            if !self.node(i).wait_height(target, left) {
                panic!(
                    "node {i} at height {} did not reach {target} within {limit:?}\n{}",
                    self.height(i),
                    self.logs()
                );
            }
        }
    }

    /// Waits for `blocks` more blocks on every node in `which` (counted from the highest
    /// of them now).
    pub fn wait_progress(&self, which: &[usize], blocks: u64, limit: Duration) -> u64 {
        let from = which.iter().map(|i| self.height(*i)).max().unwrap_or(0);
        self.wait_height(which, from + blocks, limit);
        from + blocks
    }

    /// The last log lines of every node, for failure messages.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for (i, home) in self.homes.iter().enumerate() {
            let text = std::fs::read_to_string(home.join("povd.log")).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("--- node {i} ({}) ---\n", home.display()));
            out.push_str(&lines[lines.len().saturating_sub(25)..].join("\n"));
            out.push('\n');
        }
        out
    }

    /// Seconds since the cluster started (for progress messages).
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The end checks of every fault test, over the running nodes: they all reach one
    /// common height; at every height up to it they hold the same block (hash, so also the
    /// same header and the state root in it); the state roots their `/status` reports at a
    /// height they all pass are equal; and every transaction in `reported_final` is in the
    /// chain of every node. Returns the common height.
    pub fn check_agreement(&self, reported_final: &[String], limit: Duration) -> u64 {
        let running = self.running();
        assert!(!running.is_empty(), "no node running to check");
        let common = self.max_height();
        self.wait_height(&running, common, limit);
        let mut reference: Vec<String> = Vec::new();
        let mut included: Vec<BTreeSet<String>> = Vec::new();
        for (k, &i) in running.iter().enumerate() {
            let mut txs = BTreeSet::new();
            for h in 1..=common {
                let block = self.block(i, h);
                let hash = block["hash"].as_str().unwrap_or_default().to_string();
                assert!(!hash.is_empty(), "node {i} has no block {h}: {block}");
                if k == 0 {
                    reference.push(hash);
                } else {
                    assert_eq!(
                        hash,
                        reference[(h - 1) as usize],
                        "node {i} and node {} differ at height {h}",
                        running[0]
                    );
                }
                for tx in block["txs"].as_array().into_iter().flatten() {
                    txs.insert(tx.as_str().unwrap_or_default().to_string());
                }
            }
            included.push(txs);
        }
        self.check_state_roots(&running, limit);
        for (k, txs) in included.iter().enumerate() {
            let missing: Vec<&String> = reported_final
                .iter()
                .filter(|h| !txs.contains(*h))
                .collect();
            assert!(
                missing.is_empty(),
                "node {} lacks {} transactions an API reported final, e.g. {:?}",
                running[k],
                missing.len(),
                missing.first()
            );
        }
        common
    }

    /// Block `h` of node `i` as the API shows it (retrying briefly).
    fn block(&self, i: usize, h: u64) -> Value {
        let url = format!("{}/blocks/{h}", self.api(i));
        for _ in 0..20 {
            if let Some(block) = http::get_json(&url) {
                return block;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("node {i} does not serve block {h}\n{}", self.logs());
    }

    /// Polls every node's `/status` until one height has been reported by all of them, and
    /// asserts that at every height two nodes both reported, their state roots are equal.
    fn check_state_roots(&self, nodes: &[usize], limit: Duration) {
        let start = Instant::now();
        let mut seen: Vec<std::collections::BTreeMap<u64, String>> =
            vec![Default::default(); nodes.len()];
        loop {
            for (k, &i) in nodes.iter().enumerate() {
                if let Some(status) = http::get_json(&format!("{}/status", self.api(i))) {
                    if let (Some(h), Some(root)) =
                        (status["height"].as_u64(), status["state_root"].as_str())
                    {
                        seen[k].insert(h, root.to_string());
                    }
                }
            }
            let mut all_at_one = false;
            for (h, root) in &seen[0] {
                let mut everyone = true;
                for (k, other) in seen.iter().enumerate().skip(1) {
                    match other.get(h) {
                        Some(r) => assert_eq!(
                            r, root,
                            "nodes {} and {} report different state roots at height {h}",
                            nodes[0], nodes[k]
                        ),
                        None => everyone = false,
                    }
                }
                all_at_one |= everyone;
            }
            if all_at_one {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "no height at which every node reported its state root: {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn write_key(path: &Path, secret: &[u8; 32]) {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).expect("key file");
    let text: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    writeln!(file, "{text}").expect("key written");
}
