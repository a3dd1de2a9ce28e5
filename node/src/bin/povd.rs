//! `povd`, the pov node daemon.
//!
//! `povd --home DIR` runs a node; `povd --dev` runs a single-validator devnet on the
//! embedded dev genesis; `povd init` creates a home; `povd replay` re-checks a stored chain.
//! `main` only parses, sets up logging, runs, and maps the outcome to an exit code.
//!
//! Exit codes: 0 success (also after a graceful stop on SIGINT/SIGTERM); 1 the check ran and
//! failed (for `replay`: the recomputed state root differs from the stored one); 2 the
//! command could not run (bad config, genesis or key, unreadable or damaged database, an
//! address in use, bad arguments).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use pov_crypto::Keypair;
use pov_node::config::{Home, NodeConfig};
use pov_node::run::{init_home, peer_id, reinit_home, Overrides};
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_storage::{ReplayOptions, Verification};

/// The pov node daemon.
///
/// Examples:
///   povd --dev                          a local single-validator devnet, blocks at once
///   povd init --home ~/.povd --genesis genesis.toml --validator-key validator.key
///   povd --home ~/.povd                 run the node of that home
///   povd config set --home ~/.povd p2p.bootnodes /ip4/10.0.0.5/tcp/26656
///   povd replay --home ~/.povd          re-check the stored chain from genesis
#[derive(Debug, Parser)]
#[command(name = "povd", version, about, verbatim_doc_comment)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

/// Flags of the daemon itself (no subcommand).
#[derive(Debug, Args)]
struct RunArgs {
    /// The node's home directory (config.toml, genesis.toml, keys, data/).
    #[arg(long, env = "POVD_HOME")]
    home: Option<PathBuf>,
    /// Run a single-validator devnet on the embedded dev genesis. Uses --home if given (and
    /// creates it if empty), else a fresh temporary directory.
    #[arg(long)]
    dev: bool,
    /// Serve the HTTP API on this address (overrides config.toml).
    #[arg(long, value_name = "HOST:PORT")]
    api_addr: Option<SocketAddr>,
    /// Listen for peers on this multiaddr (overrides config.toml).
    #[arg(long, value_name = "MULTIADDR")]
    p2p_addr: Option<String>,
    /// Rebuild the state by replaying every block from genesis at start.
    #[arg(long)]
    verify: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a node home from a genesis (and, for a validator, its key).
    ///
    /// Example: povd init --home ~/.povd --genesis genesis.toml --validator-key validator.key
    Init(InitArgs),
    /// Show or change a home's config.toml (the node reads it at start: restart it after).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Replay the stored chain from genesis and check the state root at the head.
    ///
    /// Reads HOME/genesis.toml and the database in HOME/data (without changing it), re-executes
    /// every block, prints the recomputed state root as hex, and exits 0 only if it equals the
    /// stored head's root and the stored state's root.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The home directory to create.
    #[arg(long, env = "POVD_HOME")]
    home: PathBuf,
    /// The cooperative's genesis TOML.
    #[arg(long)]
    genesis: PathBuf,
    /// A file holding this validator's secret key (64 hex digits); omit for a full node.
    #[arg(long)]
    validator_key: Option<PathBuf>,
    /// Serve the HTTP API on this address.
    #[arg(long, default_value = "127.0.0.1:7070")]
    api_addr: SocketAddr,
    /// Listen for peers on this multiaddr.
    #[arg(long, default_value = "/ip4/0.0.0.0/tcp/26656")]
    p2p_addr: String,
    /// A peer to dial at start, for any node (repeatable). The genesis validators' `addr`s
    /// are dialled anyway; add a bootnode when they are not reachable from this node.
    #[arg(long = "bootnode", value_name = "MULTIADDR")]
    bootnodes: Vec<String>,
    /// Re-initialize an existing home: rewrite config.toml and genesis.toml from these flags
    /// (and validator.key if given), keeping the node's identity, chain data and consensus
    /// log. Refused if the home holds blocks of another genesis.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print the config in force (config.toml with every default filled in).
    ///
    /// Example: povd config show --home ~/.povd
    Show {
        /// The node's home directory.
        #[arg(long, env = "POVD_HOME")]
        home: PathBuf,
    },
    /// Set one key; lists are comma-separated (`""` is the empty list).
    ///
    /// Keys: p2p.listen, p2p.bootnodes, p2p.mdns, p2p.discovery, api.listen, log.level,
    /// consensus.block_time_ms, consensus.timeout_propose_ms, consensus.timeout_prevote_ms,
    /// consensus.timeout_precommit_ms, consensus.timeout_delta_ms, mempool.max_txs,
    /// mempool.max_block_txs, storage.cache_mb (docs/running-a-node.md explains each).
    ///
    /// Example: povd config set --home ~/.povd p2p.bootnodes /ip4/10.0.0.5/tcp/26656
    Set {
        /// The node's home directory.
        #[arg(long, env = "POVD_HOME")]
        home: PathBuf,
        /// The key, as section.key.
        key: String,
        /// Its new value.
        #[arg(allow_hyphen_values = true)]
        value: String,
    },
    /// Reset one key to its default.
    ///
    /// Example: povd config unset --home ~/.povd p2p.bootnodes
    Unset {
        /// The node's home directory.
        #[arg(long, env = "POVD_HOME")]
        home: PathBuf,
        /// The key, as section.key.
        key: String,
    },
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The node's home directory (holds genesis.toml and data/).
    #[arg(long, env = "POVD_HOME")]
    home: PathBuf,
    /// Also re-verify every transaction signature (they are covered by the validators'
    /// certificates, which are always checked; this makes replay several times slower).
    #[arg(long)]
    verify_signatures: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // RUST_LOG wins; then the home's config.toml; then info.
    let configured = cli
        .run
        .home
        .as_ref()
        .and_then(|h| NodeConfig::load(&Home::new(h).config()).ok())
        .map(|c| c.log.level);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new(configured.unwrap_or_else(|| "info".into()))
            }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Some(Command::Replay(args)) => replay(&args),
        Some(Command::Init(args)) => init(&args),
        Some(Command::Config(command)) => config(command),
        None => daemon(cli.run),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("povd: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn init(args: &InitArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.genesis)
        .with_context(|| format!("cannot read the genesis file {}", args.genesis.display()))?;
    let genesis =
        Genesis::from_toml(&text).with_context(|| format!("in {}", args.genesis.display()))?;
    let key = match &args.validator_key {
        Some(path) => Some(Keypair::from_seed(pov_node::run::read_secret(path)?)),
        None => None,
    };
    let mut config = NodeConfig::default();
    config.api.listen = args.api_addr;
    config.p2p.listen = vec![args.p2p_addr.clone()];
    config.p2p.bootnodes = args.bootnodes.clone();
    config.check().map_err(anyhow::Error::msg)?;
    if let Some(key) = &key {
        if !genesis
            .validators
            .iter()
            .any(|v| v.public_key == key.address())
        {
            eprintln!(
                "povd: warning: {} is not a validator of this genesis: the node will run as a full node",
                key.address()
            );
        }
    }
    let home = Home::new(&args.home);
    let again = args.force && home.config().exists();
    if args.force {
        reinit_home(&home, &genesis, key.as_ref(), &config)?;
    } else {
        init_home(&home, &genesis, key.as_ref(), &config)?;
    }
    println!(
        "{} {} for chain {:?} (genesis {})",
        if again {
            "re-initialized"
        } else {
            "initialized"
        },
        args.home.display(),
        genesis.chain_id,
        genesis.hash()
    );
    println!(
        "peer id {} (a bootnode address for this node ends in /p2p/<peer id>)",
        peer_id(&home)?
    );
    println!("start it with: povd --home {}", args.home.display());
    Ok(ExitCode::SUCCESS)
}

/// `povd config ...`: edits config.toml in place, checked, written atomically.
fn config(command: ConfigCommand) -> anyhow::Result<ExitCode> {
    let load = |home: &Path| -> anyhow::Result<(Home, NodeConfig)> {
        let home = Home::new(home);
        if !home.config().exists() {
            anyhow::bail!(
                "{} has no config.toml: create the home with `povd init --home {} --genesis FILE`",
                home.dir.display(),
                home.dir.display()
            );
        }
        let config = NodeConfig::load(&home.config())?;
        Ok((home, config))
    };
    match command {
        ConfigCommand::Show { home } => {
            let (_, config) = load(&home)?;
            print!("{}", config.to_toml());
        }
        ConfigCommand::Set { home, key, value } => {
            let (home, mut config) = load(&home)?;
            config.set(&key, Some(&value))?;
            config
                .save(&home.config())
                .with_context(|| format!("writing {}", home.config().display()))?;
            println!(
                "{key} = {} in {}",
                shown(&config, &key),
                home.config().display()
            );
        }
        ConfigCommand::Unset { home, key } => {
            let (home, mut config) = load(&home)?;
            config.set(&key, None)?;
            config
                .save(&home.config())
                .with_context(|| format!("writing {}", home.config().display()))?;
            println!(
                "{key} = {} (the default) in {}",
                shown(&config, &key),
                home.config().display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A key's value as it reads in config.toml.
fn shown(config: &NodeConfig, key: &str) -> String {
    let value = toml::Value::try_from(config).ok();
    key.split_once('.')
        .and_then(|(section, field)| value.as_ref()?.get(section)?.get(field).cloned())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// Runs the daemon until SIGINT or SIGTERM.
fn daemon(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut _temp = None;
    let home = match (&args.home, args.dev) {
        (Some(dir), _) => Home::new(dir),
        (None, true) => {
            let dir = tempfile::Builder::new().prefix("povd-dev-").tempdir()?;
            let home = Home::new(dir.path());
            _temp = Some(dir);
            home
        }
        (None, false) => anyhow::bail!(
            "give --home DIR (a home made by `povd init`), or --dev for a local devnet"
        ),
    };
    if args.dev && !home.config().exists() {
        let mut config = NodeConfig::default();
        config.p2p.listen = vec!["/ip4/127.0.0.1/tcp/0".into()];
        init_home(&home, &Genesis::dev(), Some(&dev_validator_key(0)), &config)?;
        eprintln!(
            "povd: devnet home {} (embedded dev genesis, dev keys: never use for value)",
            home.dir.display()
        );
    }
    let overrides = Overrides {
        api_addr: args.api_addr,
        p2p_addr: args.p2p_addr,
        verify: args.verify,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            tracing::info!("shutdown requested: finishing the block in hand, then stopping");
            let _ = stop_tx.send(true);
        });
        pov_node::run::run(&home, overrides, stop_rx).await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Loads HOME/genesis.toml.
fn load_genesis(home: &Path) -> anyhow::Result<Genesis> {
    let path = home.join("genesis.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the genesis file {}", path.display()))?;
    Genesis::from_toml(&text).with_context(|| format!("in {}", path.display()))
}

fn replay(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    let genesis = load_genesis(&args.home)?;
    let data = args.home.join("data");
    let options = ReplayOptions {
        verify_signatures: args.verify_signatures,
    };
    let v = pov_storage::verify_dir(&data, &genesis, options)?;
    print_verification(&v);
    if v.matches() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "povd: the state recomputed from the blocks differs from the stored one; the node \
             rebuilds it on its next start (or start it with --verify)"
        );
        Ok(ExitCode::from(1))
    }
}

fn print_verification(v: &Verification) {
    let r = &v.replay;
    let verdict = |ok: bool| if ok { "matches" } else { "DIFFERS" };
    println!("height {}", r.height);
    println!("state_root {}", r.state_root);
    println!(
        "replayed {} blocks, {} transactions in {:.3} s ({:.0} tx/s)",
        r.blocks,
        r.txs,
        r.elapsed.as_secs_f64(),
        r.tx_per_second()
    );
    println!(
        "stored head root  {} {}",
        v.head_root,
        verdict(v.head_root == r.state_root)
    );
    match &v.stored_state_root {
        Ok(root) => println!(
            "stored state root {} {}",
            root,
            verdict(*root == r.state_root)
        ),
        Err(e) => println!("stored state root unreadable: {e}"),
    }
}
