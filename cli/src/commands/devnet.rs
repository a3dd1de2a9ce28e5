//! `pov devnet init`: the files for a local multi-validator devnet, one `povd` home per
//! validator, all on 127.0.0.1 with distinct ports.
//!
//! The CLI never links the node: it writes the documented home layout
//! (`docs/running-a-node.md`) and config keys itself, so that `povd --home DIR/nodeI` starts
//! each node. Validators use the well-known dev validator keys and the members are the dev
//! genesis's (alice, bob, carol, dave): a devnet is for testing, never for value.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use pov_crypto::Keypair;
use pov_protocol::genesis::{dev_validator_key, Genesis, GenesisValidator};
use serde_json::json;

use crate::exit::{self, InvalidInput};

/// Options of `pov devnet init`.
#[derive(Debug, Clone)]
pub struct DevnetInit {
    /// How many validators (and homes).
    pub validators: u32,
    /// Where to write the homes and `devnet.json`.
    pub dir: PathBuf,
    /// First peer-to-peer port; node `i` listens on `p2p_port + i`.
    pub p2p_port: u16,
    /// First API port; node `i` serves on `api_port + i`.
    pub api_port: u16,
    /// Block interval written into each config.
    pub block_time_ms: u64,
    /// `KEY=VALUE` parameter changes of the dev genesis (`pov genesis set-param` keys).
    pub set: Vec<String>,
}

/// Writes the devnet and prints where it is.
pub fn init(ctx: &super::Ctx, opts: &DevnetInit) -> anyhow::Result<i32> {
    if opts.validators == 0 || opts.validators > 100 {
        return Err(InvalidInput("--validators must be between 1 and 100".into()).into());
    }
    let top = u32::from(opts.p2p_port.max(opts.api_port)) + opts.validators;
    if top > u32::from(u16::MAX) {
        return Err(InvalidInput(
            "ports would run past 65535: choose lower --p2p-port/--api-port".into(),
        )
        .into());
    }
    if opts.dir.exists()
        && std::fs::read_dir(&opts.dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(InvalidInput(format!(
            "{} exists and is not empty: choose another --dir or remove it",
            opts.dir.display()
        ))
        .into());
    }
    let mut genesis = Genesis::dev();
    for change in &opts.set {
        let (key, value) = change.split_once('=').ok_or_else(|| {
            InvalidInput(format!(
                "--set {change:?}: write KEY=VALUE, e.g. types.work.fee=2"
            ))
        })?;
        for note in super::genesis::set_param(&mut genesis.params, key, value)?.1 {
            crate::output::note(&note);
        }
    }
    std::fs::create_dir_all(&opts.dir)
        .with_context(|| format!("creating {}", opts.dir.display()))?;

    genesis.validators = (0..opts.validators)
        .map(|i| GenesisValidator {
            public_key: dev_validator_key(i).address(),
            power: 1,
            addr: Some(p2p_addr(opts.p2p_port, i)),
        })
        .collect();
    let genesis_toml = genesis.to_toml();
    let mut nodes = Vec::new();
    for i in 0..opts.validators {
        let home = opts.dir.join(format!("node{i}"));
        std::fs::create_dir_all(&home).with_context(|| format!("creating {}", home.display()))?;
        write(&home.join("genesis.toml"), genesis_toml.as_bytes())?;
        let bootnodes: Vec<String> = (0..opts.validators)
            .filter(|j| *j != i)
            .map(|j| p2p_addr(opts.p2p_port, j))
            .collect();
        write(
            &home.join("config.toml"),
            config_toml(opts, i, &bootnodes).as_bytes(),
        )?;
        write_secret(
            &home.join("validator.key"),
            &dev_validator_key(i).secret_bytes(),
        )?;
        write_secret(&home.join("node.key"), &Keypair::generate().secret_bytes())?;
        nodes.push(json!({
            "name": format!("node{i}"),
            "home": home,
            "api": format!("http://127.0.0.1:{}", u32::from(opts.api_port) + i),
            "p2p": p2p_addr(opts.p2p_port, i),
            "validator": dev_validator_key(i).address().to_string(),
        }));
    }
    let manifest = json!({
        "chain_id": genesis.chain_id,
        "genesis_hash": genesis.hash().to_string(),
        "nodes": nodes,
    });
    let manifest_path = opts.dir.join("devnet.json");
    write(
        &manifest_path,
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    if ctx.json() {
        crate::output::json(&manifest)?;
        return Ok(exit::OK);
    }
    crate::output::line(&format!(
        "devnet of {} validators in {} (genesis {})",
        opts.validators,
        opts.dir.display(),
        genesis.hash(),
    ))?;
    let homes: Vec<String> = (0..opts.validators)
        .map(|i| opts.dir.join(format!("node{i}")).display().to_string())
        .collect();
    crate::output::line("start each node, in a terminal of its own:")?;
    for home in homes {
        crate::output::line(&format!("  povd --home {home}"))?;
    }
    Ok(exit::OK)
}

fn p2p_addr(base: u16, i: u32) -> String {
    format!("/ip4/127.0.0.1/tcp/{}", u32::from(base) + i)
}

/// A node's `config.toml`, in the keys of `docs/running-a-node.md`.
fn config_toml(opts: &DevnetInit, i: u32, bootnodes: &[String]) -> String {
    let list = |items: &[String]| {
        items
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "# Written by `pov devnet init` (node {i} of {n}).\n\n\
         [p2p]\nlisten = [{listen:?}]\nbootnodes = [{boot}]\nmdns = false\n\n\
         [api]\nlisten = \"127.0.0.1:{api}\"\n\n\
         [consensus]\nblock_time_ms = {bt}\n",
        n = opts.validators,
        listen = p2p_addr(opts.p2p_port, i),
        boot = list(bootnodes),
        api = u32::from(opts.api_port) + i,
        bt = opts.block_time_ms,
    )
}

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// Writes a secret key as hex, readable by its owner only.
fn write_secret(path: &Path, secret: &[u8; 32]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(format!("{}\n", hex::encode(secret)).as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
