//! Wiring a node together: `povd init` (a new home) and running a home until shutdown.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pov_crypto::Keypair;
use pov_protocol::genesis::Genesis;
use pov_storage::{OpenOptions, Store};
use thiserror::Error;
use tokio::sync::watch;

use crate::config::{ConfigError, Home, NodeConfig};
use crate::host::{Host, HostConfig, NodeError};
use crate::service::Service;
use crate::shared::Shared;
use crate::wal::{Wal, WalError};

/// Largest gossip message or sync response: a block of 1,000 transactions is a few hundred
/// KiB, far above gossipsub's 64 KiB default, and a sync batch holds up to 32 blocks.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

// The largest valid block, with its proposal or its certificate, must fit in one message
// (certificates hold about 100 bytes per validator): otherwise that height could never be
// gossiped or synced.
const _: () = assert!(pov_protocol::block::MAX_BLOCK_BYTES * 2 <= MAX_MESSAGE_BYTES);

/// Why a node could not be set up or stopped with an error.
#[derive(Debug, Error)]
pub enum RunError {
    /// The config file is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The genesis file is missing or invalid.
    #[error("genesis {path}: {message}")]
    Genesis {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A key file is missing or malformed.
    #[error("key file {path}: {message}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file could not be written or read.
    #[error("cannot read or write {path}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `povd init` into a home that already has a node.
    #[error(
        "{0} already holds a node (config.toml exists): change its settings with `povd config \
         set`, re-initialize it with `povd init --force`, or choose another --home"
    )]
    HomeExists(PathBuf),
    /// `povd init --force` with a genesis other than the one the home's chain data is of.
    #[error(
        "{home} holds the chain of genesis {stored}, not of {given}: re-initializing it with \
         another genesis would orphan its data; choose another --home (or move {home}/data away)"
    )]
    OtherChain {
        /// The home.
        home: PathBuf,
        /// The hash of the genesis in the home.
        stored: pov_crypto::Hash,
        /// The hash of the genesis given.
        given: pov_crypto::Hash,
    },
    /// The store could not be opened (its message names the database and says what to do).
    #[error(transparent)]
    Store(#[from] pov_storage::StoreError),
    /// The consensus log could not be opened.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// The network could not start (the message says which part and why).
    #[error(transparent)]
    Network(#[from] crate::network::NetworkError),
    /// The API address could not be bound.
    #[error("cannot serve the API on {addr} (choose another address with --api-addr)")]
    ApiBind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The event loop stopped with an error.
    #[error(transparent)]
    Node(#[from] NodeError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a secret key file readable by its owner only.
fn write_secret(path: &Path, secret: &[u8; 32]) -> Result<(), RunError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(format!("{}\n", hex::encode(secret)).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io(path))
}

/// Reads a 32-byte secret written by `write_secret`.
pub fn read_secret(path: &Path) -> Result<[u8; 32], RunError> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut out).map_err(|e| RunError::Key {
        path: path.to_path_buf(),
        message: format!("expected 64 hex digits: {e}"),
    })?;
    Ok(out)
}

/// Creates a node home: `genesis.toml`, `config.toml`, `node.key`, and `validator.key` when
/// a validator key is given (a full node has none).
pub fn init_home(
    home: &Home,
    genesis: &Genesis,
    validator: Option<&Keypair>,
    config: &NodeConfig,
) -> Result<(), RunError> {
    if home.config().exists() {
        return Err(RunError::HomeExists(home.dir.clone()));
    }
    reinit_home(home, genesis, validator, config)
}

/// [`init_home`] over an existing home (`povd init --force`): `config.toml` and
/// `genesis.toml` are rewritten, `validator.key` replaced when a key is given; the node's
/// identity (`node.key`), its chain data and its consensus log are kept. Refused when the
/// home already holds blocks of another genesis.
pub fn reinit_home(
    home: &Home,
    genesis: &Genesis,
    validator: Option<&Keypair>,
    config: &NodeConfig,
) -> Result<(), RunError> {
    if home.data().exists() && home.genesis().exists() {
        let stored = load_genesis(home)?.hash();
        if stored != genesis.hash() {
            return Err(RunError::OtherChain {
                home: home.dir.clone(),
                stored,
                given: genesis.hash(),
            });
        }
    }
    std::fs::create_dir_all(&home.dir).map_err(io(&home.dir))?;
    std::fs::write(home.genesis(), genesis.to_toml()).map_err(io(&home.genesis()))?;
    config.save(&home.config()).map_err(io(&home.config()))?;
    if !home.node_key().exists() {
        write_secret(&home.node_key(), &Keypair::generate().secret_bytes())?;
    }
    if let Some(key) = validator {
        if home.validator_key().exists() {
            std::fs::remove_file(home.validator_key()).map_err(io(&home.validator_key()))?;
        }
        write_secret(&home.validator_key(), &key.secret_bytes())?;
    }
    Ok(())
}

/// The node's peer id, from `node.key`: what others append as `/p2p/<id>` to a bootnode
/// address.
pub fn peer_id(home: &Home) -> Result<crate::network::PeerId, RunError> {
    let keypair = crate::network::Keypair::ed25519_from_bytes(read_secret(&home.node_key())?)
        .map_err(|e| RunError::Key {
            path: home.node_key(),
            message: e.to_string(),
        })?;
    Ok(keypair.public().to_peer_id())
}

/// Loads and checks a home's genesis.
pub fn load_genesis(home: &Home) -> Result<Genesis, RunError> {
    let path = home.genesis();
    let text = std::fs::read_to_string(&path).map_err(io(&path))?;
    Genesis::from_toml(&text).map_err(|e| RunError::Genesis {
        path,
        message: e.to_string(),
    })
}

/// Where the other validators of the genesis listen: every node dials them, like
/// bootnodes, so that a cooperative starts from its genesis alone. This validator's own
/// address (`me`) is left out; an `addr` that is not a multiaddr is logged and skipped
/// (`pov genesis validate` refuses it, so only a hand-edited genesis has one).
pub fn validator_addrs(
    genesis: &Genesis,
    me: Option<pov_crypto::Address>,
) -> Vec<crate::network::Multiaddr> {
    let mut out = Vec::new();
    for v in &genesis.validators {
        let Some(text) = &v.addr else { continue };
        if Some(v.public_key) == me {
            continue;
        }
        match text.parse::<crate::network::Multiaddr>() {
            Ok(addr) if !out.contains(&addr) => out.push(addr),
            Ok(_) => {}
            Err(e) => tracing::warn!(
                validator = %v.public_key,
                addr = %text,
                error = %e,
                "the genesis gives this validator an addr that is not a multiaddr; not dialled"
            ),
        }
    }
    out
}

/// Says loudly when the validator signs with one of the public development keys on a chain
/// that is not a devnet (its chain id is not the dev genesis's): anyone can sign as it.
fn warn_on_public_dev_key(genesis: &Genesis, key: &Keypair) {
    let dev_chain = Genesis::dev().chain_id;
    let public =
        (0..100).any(|i| pov_protocol::genesis::dev_validator_key(i).address() == key.address());
    if public && genesis.chain_id != dev_chain {
        tracing::warn!(
            chain_id = %genesis.chain_id,
            address = %key.address(),
            "validator.key is a PUBLIC development key (anyone can sign as this validator) on a \
             chain that is not a devnet: replace it before this chain holds any value"
        );
    }
}

/// Command-line overrides of `config.toml`.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--api-addr`.
    pub api_addr: Option<SocketAddr>,
    /// `--p2p-addr`.
    pub p2p_addr: Option<String>,
    /// `--verify`: rebuild the state from genesis at start.
    pub verify: bool,
}

/// Runs the node in `home` until `shutdown` turns true. Returns once every task stopped;
/// every block reported final is on disk.
pub async fn run(
    home: &Home,
    overrides: Overrides,
    shutdown: watch::Receiver<bool>,
) -> Result<(), RunError> {
    let mut config = NodeConfig::load(&home.config())?;
    if let Some(addr) = overrides.api_addr {
        config.api.listen = addr;
    }
    if let Some(addr) = &overrides.p2p_addr {
        config.p2p.listen = vec![addr.clone()];
    }
    let genesis = load_genesis(home)?;
    let genesis_hash = genesis.hash();
    let validator = if home.validator_key().exists() {
        let key = Keypair::from_seed(read_secret(&home.validator_key())?);
        if genesis
            .validators
            .iter()
            .any(|v| v.public_key == key.address())
        {
            Some(key)
        } else {
            tracing::warn!(
                address = %key.address(),
                "validator.key is not a validator of this genesis; running as a full node"
            );
            None
        }
    } else {
        None
    };
    if let Some(key) = &validator {
        warn_on_public_dev_key(&genesis, key);
    }
    let node_key = read_secret(&home.node_key())?;
    let keypair =
        crate::network::Keypair::ed25519_from_bytes(node_key).map_err(|e| RunError::Key {
            path: home.node_key(),
            message: e.to_string(),
        })?;
    let parse_addrs =
        |field: &str, list: &[String]| -> Result<Vec<crate::network::Multiaddr>, RunError> {
            list.iter()
                .map(|a| {
                    a.parse().map_err(|e| {
                        RunError::Config(ConfigError::Parse {
                            path: home.config(),
                            message: format!("{field}: {a:?} is not a multiaddr: {e}"),
                        })
                    })
                })
                .collect()
        };
    let listen = parse_addrs("p2p.listen", &config.p2p.listen)?;
    let limits = config.p2p.limits().map_err(|name| {
        RunError::Config(ConfigError::Parse {
            path: home.config(),
            message: format!("{name} must be at least 1"),
        })
    })?;
    let mut bootnodes = parse_addrs("p2p.bootnodes", &config.p2p.bootnodes)?;
    let configured = bootnodes.len();
    for addr in validator_addrs(&genesis, validator.as_ref().map(Keypair::address)) {
        if !bootnodes.contains(&addr) && !listen.contains(&addr) {
            bootnodes.push(addr);
        }
    }
    tracing::info!(
        bootnodes = configured,
        genesis_validators = bootnodes.len() - configured,
        "dialling bootnodes and the genesis validators' addresses"
    );

    let options = OpenOptions {
        verify: overrides.verify,
        sled: pov_storage::SledOptions {
            cache_capacity: config.storage.cache_mb.saturating_mul(1024 * 1024),
        },
        ..OpenOptions::default()
    };
    let store = Store::open(&home.data(), genesis.clone(), &options)?;
    let report = store.open_report().clone();
    match &report.rebuilt {
        Some(why) => {
            tracing::warn!(height = report.height, reason = %why, "state rebuilt by replaying blocks from genesis")
        }
        None => tracing::info!(
            height = report.height,
            "store opened; stored state root matches the head block"
        ),
    }
    let (wal, wal_records) = Wal::open(&home.wal())?;
    // A damaged log its operator moved aside: the own votes of its height are lost.
    let silent_through = crate::wal::damaged_height(&crate::wal::aside_path(&home.wal()))?;

    let network_config = crate::network::NetworkConfig {
        listen,
        bootnodes,
        mdns: config.p2p.mdns,
        discovery: config.p2p.discovery,
        genesis_hash: genesis_hash.0,
        keypair,
        max_message_bytes: MAX_MESSAGE_BYTES,
        limits,
    };
    let (net, net_rx) = crate::network::spawn(network_config).map_err(RunError::Network)?;
    tracing::info!(peer_id = %net.local_peer_id(), listen = ?net.listen_addrs().await, "p2p started");

    let shared = Arc::new(Shared::new(
        store,
        config.mempool.max_txs,
        validator.as_ref().map(Keypair::address),
    )?);

    let listener = tokio::net::TcpListener::bind(config.api.listen)
        .await
        .map_err(|source| RunError::ApiBind {
            addr: config.api.listen,
            source,
        })?;
    let api_addr = listener.local_addr().map_err(io(&home.dir))?;
    let api_limits = config.api.limits().map_err(|name| {
        RunError::Config(ConfigError::Parse {
            path: home.config(),
            message: format!("{name} must be at least 1"),
        })
    })?;
    let stall = crate::health::StallPolicy::from_timing(&config.consensus);
    let router = crate::api::router(crate::api::ApiState {
        shared: shared.clone(),
        net: net.clone(),
        stall,
        event_streams: std::sync::Arc::new(tokio::sync::Semaphore::new(
            api_limits.max_event_streams,
        )),
    });
    let router = crate::api::with_limits(router, &api_limits);
    // The API stops when the event loop stops, whatever the reason: a node whose consensus
    // died must not keep accepting transactions it will never include.
    let (api_stop, api_shutdown) = watch::channel(false);
    let api = tokio::spawn(crate::api::serve(
        listener,
        router,
        api_limits,
        api_shutdown,
    ));
    tracing::info!(
        chain_id = %genesis.chain_id,
        genesis = %genesis_hash,
        api = %api_addr,
        validator = ?validator.as_ref().map(Keypair::address),
        "povd started"
    );

    let watchdog = tokio::spawn(crate::health::watch(
        shared.clone(),
        stall,
        api_stop.subscribe(),
    ));
    let mut shutdown = shutdown;
    let result = if crate::genesis_wait::until(genesis.genesis_time_ms, &mut shutdown).await {
        let mut host = Host::new(
            shared.clone(),
            validator,
            Box::new(wal),
            HostConfig::from_node_config(&config),
        );
        host.sign_nothing_through(silent_through.unwrap_or(0));
        let service = Service::new(host, shared.clone(), net.clone(), net_rx);
        service.run(wal_records, shutdown).await
    } else {
        Ok(())
    };
    if let Err(e) = &result {
        tracing::error!(
            error = e as &dyn std::error::Error,
            "event loop failed; stopping the node"
        );
    }
    shared
        .stopping
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = api_stop.send(true);
    let _ = watchdog.await;
    net.shutdown().await;
    // Open event streams would hold a graceful shutdown forever: give them a moment.
    let mut api = api;
    match tokio::time::timeout(std::time::Duration::from_secs(5), &mut api).await {
        Ok(_) => {}
        Err(_) => api.abort(),
    }
    tracing::info!(
        height = crate::shared::read(&shared.store).height(),
        "povd stopped"
    );
    result.map_err(RunError::from)
}
