//! `config.toml`: a node's operator settings, and the layout of its home directory.
//!
//! Everything here is local (addresses, timeouts, limits); everything every node must agree
//! on is in the genesis. Unknown keys are errors, so a typo never silently does nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A node's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Peer-to-peer networking.
    #[serde(default)]
    pub p2p: P2pConfig,
    /// The HTTP API.
    #[serde(default)]
    pub api: ApiConfig,
    /// Logging.
    #[serde(default)]
    pub log: LogConfig,
    /// Consensus timing.
    #[serde(default)]
    pub consensus: ConsensusTiming,
    /// Mempool limits.
    #[serde(default)]
    pub mempool: MempoolConfig,
    /// The chain store.
    #[serde(default)]
    pub storage: StorageConfig,
}

/// Chain store settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Upper bound of the database's page cache, in MiB: most of a node's memory beyond the
    /// state itself. sled's own default is 1 GiB; 64 MiB keeps a node of a 1,000-member
    /// cooperative well under 256 MiB, and reads of old blocks and history go to disk.
    pub cache_mb: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig { cache_mb: 64 }
    }
}

/// Peer-to-peer settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct P2pConfig {
    /// Multiaddrs to listen on.
    pub listen: Vec<String>,
    /// Peers to dial at start (multiaddrs, ideally ending in `/p2p/<peer id>`).
    #[serde(default)]
    pub bootnodes: Vec<String>,
    /// Discover peers on the local network with mDNS (for local devnets).
    #[serde(default)]
    pub mdns: bool,
    /// Learn further peers of the chain from the peers reached (Kademlia). Turn it off only
    /// for a fixed topology, such as a validator that must talk to its own sentries alone.
    #[serde(default = "yes")]
    pub discovery: bool,
    /// Most established peer connections, inbound and outbound (bootnodes do not count).
    pub max_connections: u32,
    /// Most connections, handshaking or established, from one remote IP address
    /// (loopback exempt: a local devnet runs every node on one machine).
    pub max_connections_per_ip: u32,
    /// Most established connections to one peer.
    pub max_connections_per_peer: u32,
    /// Most inbound connections still in their handshake.
    pub max_pending_incoming: u32,
    /// Most outbound dials in progress.
    pub max_pending_outgoing: u32,
    /// Seconds after which a connection with nothing to do is closed (gossip mesh peers
    /// always have something to do).
    pub idle_timeout_secs: u64,
}

fn yes() -> bool {
    true
}

impl Default for P2pConfig {
    fn default() -> Self {
        let limits = crate::network::Limits::default();
        P2pConfig {
            listen: vec!["/ip4/0.0.0.0/tcp/26656".into()],
            bootnodes: Vec::new(),
            mdns: false,
            discovery: true,
            max_connections: limits.max_connections,
            max_connections_per_ip: limits.max_connections_per_ip,
            max_connections_per_peer: limits.max_connections_per_peer,
            max_pending_incoming: limits.max_pending_incoming,
            max_pending_outgoing: limits.max_pending_outgoing,
            idle_timeout_secs: limits.idle_timeout.as_secs(),
        }
    }
}

impl P2pConfig {
    /// The connection limits, or the name of the first one that is 0 (a node that may hold
    /// no connection, or none from any address, cannot work).
    pub fn limits(&self) -> Result<crate::network::Limits, &'static str> {
        let checks = [
            ("p2p.max_connections", u64::from(self.max_connections)),
            (
                "p2p.max_connections_per_ip",
                u64::from(self.max_connections_per_ip),
            ),
            (
                "p2p.max_connections_per_peer",
                u64::from(self.max_connections_per_peer),
            ),
            (
                "p2p.max_pending_incoming",
                u64::from(self.max_pending_incoming),
            ),
            (
                "p2p.max_pending_outgoing",
                u64::from(self.max_pending_outgoing),
            ),
            ("p2p.idle_timeout_secs", self.idle_timeout_secs),
        ];
        if let Some((name, _)) = checks.iter().find(|(_, value)| *value == 0) {
            return Err(name);
        }
        Ok(crate::network::Limits {
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            max_connections_per_peer: self.max_connections_per_peer,
            max_pending_incoming: self.max_pending_incoming,
            max_pending_outgoing: self.max_pending_outgoing,
            idle_timeout: std::time::Duration::from_secs(self.idle_timeout_secs),
        })
    }
}

/// HTTP API settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Address to serve the API on. Loopback by default: the API accepts transactions and
    /// should only face the internet behind a proxy the operator chose.
    pub listen: SocketAddr,
    /// Most open connections; further ones are closed on accept.
    pub max_connections: usize,
    /// Most open connections from one IP address (loopback exempt).
    pub max_connections_per_ip: usize,
    /// Seconds a client has to send a request's headers (and an idle keep-alive connection
    /// stays open).
    pub header_read_timeout_secs: u64,
    /// Seconds within which a request is answered, or gets 503.
    pub request_timeout_secs: u64,
    /// Largest request body in bytes; larger ones get 413.
    pub max_body_bytes: usize,
    /// Most open `/events` streams.
    pub max_event_streams: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        let limits = crate::api::ApiLimits::default();
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            max_connections: limits.max_connections,
            max_connections_per_ip: limits.max_connections_per_ip,
            header_read_timeout_secs: limits.header_read_timeout.as_secs(),
            request_timeout_secs: limits.request_timeout.as_secs(),
            max_body_bytes: limits.max_body_bytes,
            max_event_streams: limits.max_event_streams,
        }
    }
}

impl ApiConfig {
    /// The API's limits, or the name of the first one that is 0.
    pub fn limits(&self) -> Result<crate::api::ApiLimits, &'static str> {
        let checks = [
            ("api.max_connections", self.max_connections as u64),
            (
                "api.max_connections_per_ip",
                self.max_connections_per_ip as u64,
            ),
            (
                "api.header_read_timeout_secs",
                self.header_read_timeout_secs,
            ),
            ("api.request_timeout_secs", self.request_timeout_secs),
            ("api.max_body_bytes", self.max_body_bytes as u64),
            ("api.max_event_streams", self.max_event_streams as u64),
        ];
        if let Some((name, _)) = checks.iter().find(|(_, value)| *value == 0) {
            return Err(name);
        }
        Ok(crate::api::ApiLimits {
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            header_read_timeout: std::time::Duration::from_secs(self.header_read_timeout_secs),
            request_timeout: std::time::Duration::from_secs(self.request_timeout_secs),
            max_body_bytes: self.max_body_bytes,
            max_event_streams: self.max_event_streams,
        })
    }
}

/// Logging settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter (`info`, `pov_node=debug,info`); `RUST_LOG` overrides it.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// Consensus timing (local: validators may differ, but similar values work best).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsensusTiming {
    /// Pause after a block is final before starting the next height (Tendermint's
    /// `timeout_commit`): the target block interval.
    pub block_time_ms: u64,
    /// Wait for a proposal in round 0.
    pub timeout_propose_ms: u64,
    /// Wait for prevotes after seeing more than 2/3 of any.
    pub timeout_prevote_ms: u64,
    /// Wait for precommits after seeing more than 2/3 of any.
    pub timeout_precommit_ms: u64,
    /// Added to every timeout for each further round.
    pub timeout_delta_ms: u64,
}

impl Default for ConsensusTiming {
    fn default() -> Self {
        ConsensusTiming {
            block_time_ms: 1000,
            timeout_propose_ms: 3000,
            timeout_prevote_ms: 1000,
            timeout_precommit_ms: 1000,
            timeout_delta_ms: 500,
        }
    }
}

/// Mempool limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MempoolConfig {
    /// Most pending transactions; beyond, submissions get "mempool full". After a block
    /// from another proposer each pending transaction is executed again on the new state
    /// (after this node's own blocks usually not: see the mempool), so a transaction waits
    /// through at most `max_txs / max_block_txs` of these: 3 by default (at 10,000 it was
    /// 10, most of a loaded node's CPU; `docs/performance.md`).
    pub max_txs: usize,
    /// Most transactions per block this node proposes (at most the protocol's
    /// `MAX_BLOCK_TXS`, 5,000; blocks are also cut at 4 MiB).
    pub max_block_txs: usize,
}

impl Default for MempoolConfig {
    fn default() -> Self {
        MempoolConfig {
            max_txs: 3_000,
            max_block_txs: 1_000,
        }
    }
}

/// Why a config file could not be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a valid config (the message names the line and key).
    #[error("{path} is not a valid node config: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// toml's message, with line and key.
        message: String,
    },
}

/// Why a `povd config set` edit was refused.
#[derive(Debug, Error)]
pub enum EditError {
    /// No such key; the message lists the keys there are.
    #[error("unknown config key {key:?}; the keys are {known}")]
    UnknownKey {
        /// What was asked for.
        key: String,
        /// Every settable key, comma-separated.
        known: String,
    },
    /// The value does not fit the key.
    #[error("{key} = {value:?}: {message}")]
    BadValue {
        /// The key.
        key: String,
        /// The refused value.
        value: String,
        /// Why it does not fit.
        message: String,
    },
    /// The edited config would not work (the message names the key).
    #[error("{0}")]
    Invalid(String),
}

impl NodeConfig {
    /// Every key `povd config set` accepts, as `section.key`, in file order.
    pub fn keys() -> Vec<String> {
        let value =
            toml::Value::try_from(NodeConfig::default()).unwrap_or(toml::Value::Boolean(false));
        let mut out = Vec::new();
        if let toml::Value::Table(sections) = value {
            for (section, table) in sections {
                if let toml::Value::Table(keys) = table {
                    out.extend(keys.keys().map(|k| format!("{section}.{k}")));
                }
            }
        }
        out
    }

    /// Sets one key (`p2p.bootnodes`, `api.listen`, ...) from its text form, or resets it to
    /// its default with `None`. Lists are comma-separated (an empty text is the empty list);
    /// numbers and booleans are parsed as such. The whole config is checked again, so a value
    /// the node could not start with is refused here and nothing changes.
    pub fn set(&mut self, key: &str, value: Option<&str>) -> Result<(), EditError> {
        let unknown = || EditError::UnknownKey {
            key: key.to_string(),
            known: NodeConfig::keys().join(", "),
        };
        let (section, field) = key.split_once('.').ok_or_else(unknown)?;
        let mut current = toml::Value::try_from(&*self).map_err(|e| EditError::BadValue {
            key: key.to_string(),
            value: value.unwrap_or_default().to_string(),
            message: e.to_string(),
        })?;
        let defaults = toml::Value::try_from(NodeConfig::default()).map_err(|_| unknown())?;
        let default = defaults
            .get(section)
            .and_then(|t| t.get(field))
            .cloned()
            .ok_or_else(unknown)?;
        let new = match value {
            None => default,
            Some(text) => parse_like(&default, text).map_err(|message| EditError::BadValue {
                key: key.to_string(),
                value: text.to_string(),
                message,
            })?,
        };
        if let Some(table) = current.get_mut(section).and_then(|t| t.as_table_mut()) {
            table.insert(field.to_string(), new);
        }
        let checked: NodeConfig =
            current
                .try_into()
                .map_err(|e: toml::de::Error| EditError::BadValue {
                    key: key.to_string(),
                    value: value.unwrap_or_default().to_string(),
                    message: e.message().to_string(),
                })?;
        checked.check().map_err(EditError::Invalid)?;
        *self = checked;
        Ok(())
    }

    /// Checks what serde cannot: that addresses parse as what the node will use them for,
    /// and that limits fit the protocol's.
    pub fn check(&self) -> Result<(), String> {
        let max_block = pov_protocol::block::MAX_BLOCK_TXS;
        if self.mempool.max_block_txs == 0 || self.mempool.max_block_txs > max_block {
            return Err(format!(
                "mempool.max_block_txs: {} is not between 1 and {max_block}, the protocol's limit",
                self.mempool.max_block_txs
            ));
        }
        for (field, list) in [
            ("p2p.listen", &self.p2p.listen),
            ("p2p.bootnodes", &self.p2p.bootnodes),
        ] {
            for addr in list {
                addr.parse::<crate::network::Multiaddr>().map_err(|e| {
                    format!(
                        "{field}: {addr:?} is not a multiaddr (like /ip4/10.0.0.5/tcp/26656): {e}"
                    )
                })?;
            }
        }
        Ok(())
    }

    /// Reads a config file and checks it ([`NodeConfig::check`]).
    pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let config: NodeConfig = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.check().map_err(|message| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    /// The config as TOML.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the config to `path` through a synced temporary file renamed over it, so an
    /// interrupted edit leaves the old file or the new one, never half of one.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        use std::io::Write;
        let tmp = path.with_extension("toml.tmp");
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(self.to_toml().as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result
    }
}

/// Parses `text` as a value of the same TOML type as `like`.
fn parse_like(like: &toml::Value, text: &str) -> Result<toml::Value, String> {
    Ok(match like {
        toml::Value::String(_) => toml::Value::String(text.to_string()),
        toml::Value::Integer(_) => toml::Value::Integer(
            text.trim()
                .parse::<u64>()
                .ok()
                .and_then(|n| i64::try_from(n).ok())
                .ok_or_else(|| "expected a whole number".to_string())?,
        ),
        toml::Value::Boolean(_) => toml::Value::Boolean(
            text.trim()
                .parse()
                .map_err(|_| "expected true or false".to_string())?,
        ),
        toml::Value::Array(_) => toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
        _ => return Err("this key cannot be set from the command line".into()),
    })
}

/// The files of a node's home directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Home {
    /// The directory.
    pub dir: PathBuf,
}

impl Home {
    /// A home at `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Home {
        Home { dir: dir.into() }
    }
    /// `config.toml`.
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.toml")
    }
    /// `genesis.toml`.
    pub fn genesis(&self) -> PathBuf {
        self.dir.join("genesis.toml")
    }
    /// `validator.key`: the validator's secret key in hex (absent on a full node).
    pub fn validator_key(&self) -> PathBuf {
        self.dir.join("validator.key")
    }
    /// `node.key`: the libp2p identity's secret key in hex.
    pub fn node_key(&self) -> PathBuf {
        self.dir.join("node.key")
    }
    /// `data/`: the chain store.
    pub fn data(&self) -> PathBuf {
        self.dir.join("data")
    }
    /// `consensus.wal`: the consensus log.
    pub fn wal(&self) -> PathBuf {
        self.dir.join("consensus.wal")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_typos_are_errors() {
        let config = NodeConfig::default();
        let text = config.to_toml();
        assert_eq!(toml::from_str::<NodeConfig>(&text).expect("parses"), config);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[api]\nlisen = \"127.0.0.1:1\"\n").expect("write");
        let err = NodeConfig::load(&path).expect_err("typo");
        assert!(err.to_string().contains("lisen"), "{err}");
        assert!(err.to_string().contains("config.toml"), "{err}");
        std::fs::write(&path, "[api]\nlisten = \"not an address\"\n").expect("write");
        assert!(NodeConfig::load(&path).is_err());
        // Any key may be left out, inside a section too.
        std::fs::write(&path, "[consensus]\nblock_time_ms = 250\n").expect("write");
        let partial = NodeConfig::load(&path).expect("partial section");
        assert_eq!(partial.consensus.block_time_ms, 250);
        assert_eq!(
            partial.consensus.timeout_propose_ms,
            ConsensusTiming::default().timeout_propose_ms
        );
    }

    #[test]
    fn a_block_limit_above_the_protocols_is_refused_with_its_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[mempool]\nmax_block_txs = 5001\n").expect("write");
        let err = NodeConfig::load(&path).expect_err("above the protocol's limit");
        assert!(err.to_string().contains("mempool.max_block_txs"), "{err}");
        assert!(err.to_string().contains("5000"), "{err}");
        std::fs::write(&path, "[mempool]\nmax_block_txs = 5000\n").expect("write");
        assert_eq!(
            NodeConfig::load(&path)
                .expect("at the limit")
                .mempool
                .max_block_txs,
            5_000
        );
    }
}
