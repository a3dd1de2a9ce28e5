//! `pov-bench`: the load harness of issue 9, one command from a genesis to a report.
//!
//! It writes a devnet of `--validators` real `povd` homes on loopback (genesis with
//! `--members` members of equal reputation), starts them, submits `--contributions`
//! contributions and waits for them to be final, then submits a pre-signed workload (every
//! member evaluating every contribution, plus `--transfers` token transfers) open-loop at
//! `--rate` transactions per second or as fast as the nodes accept, follows finality on
//! the event stream, and reads every node's `/metrics` and `/proc` entry. Then it starts a
//! fresh full node and times its block sync. It prints a table and, with `--json FILE`,
//! writes the same figures as JSON.
//!
//! `scripts/bench` builds the release binaries and runs this with its arguments;
//! `docs/performance.md` says how the published figures were taken.

mod cluster;
mod follow;
mod metrics;
mod report;
mod submit;
mod workload;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

use crate::cluster::{Cluster, NodeSettings};
use crate::report::Report;
use crate::submit::{Rate, SubmitOptions};

/// Measure a devnet of real `povd` processes under load.
///
/// Example: pov-bench --validators 4 --members 1000 --contributions 30 --rate max
#[derive(Debug, Parser)]
#[command(name = "pov-bench", version, about, verbatim_doc_comment)]
pub struct Args {
    /// Validators (each a `povd` process on loopback); 1 for a single-node devnet.
    #[arg(long, default_value_t = 4)]
    pub validators: u32,
    /// Members in the genesis, all with the same reputation.
    #[arg(long, default_value_t = 1000)]
    pub members: u32,
    /// Contributions submitted first (each then evaluated by every member).
    #[arg(long, default_value_t = 30)]
    pub contributions: u32,
    /// Token transfers mixed into the evaluations, from random members.
    #[arg(long, default_value_t = 0)]
    pub transfers: u32,
    /// Offered load in transactions per second, or `max` to submit as fast as accepted.
    #[arg(long, default_value = "max")]
    pub rate: Rate,
    /// Client threads submitting (members are split among them).
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Transactions per request: 1 posts each to `POST /tx`; more uses `POST /txs`.
    #[arg(long, default_value_t = 1)]
    pub batch: usize,
    /// Send every transaction to every validator's API (as the baseline did)
    /// instead of to one validator per sender.
    #[arg(long)]
    pub submit_to_all: bool,
    /// The nodes' `block_time_ms`.
    #[arg(long, default_value_t = 1000)]
    pub block_time_ms: u64,
    /// The nodes' `mempool.max_block_txs`.
    #[arg(long, default_value_t = 1000)]
    pub max_block_txs: usize,
    /// The nodes' `mempool.max_txs`.
    #[arg(long, default_value_t = 3_000)]
    pub max_txs: usize,
    /// Extra `config.toml` lines for every node (`section.key=value`, repeatable), e.g.
    /// `storage.cache_mb=64`.
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub set: Vec<String>,
    /// Skip the sync measurement (a fresh full node catching up at the end).
    #[arg(long)]
    pub no_sync: bool,
    /// The `povd` binary (default: next to this one).
    #[arg(long)]
    pub povd: Option<PathBuf>,
    /// Where to put the node homes (default: a new directory under the system temp dir).
    /// Kept after the run when given.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// First of the loopback ports to use (each node takes two).
    #[arg(long, default_value_t = 27_000)]
    pub base_port: u16,
    /// Give up when the workload is not final after this many seconds.
    #[arg(long, default_value_t = 900)]
    pub timeout_s: u64,
    /// Write the report as JSON to this file (`-` for standard output).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// A label stored in the report (what was being measured).
    #[arg(long, default_value = "")]
    pub label: String,
}

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("pov-bench: {e:#}");
            std::process::exit(2);
        }
    }
}

fn run(args: &Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=16).contains(&args.validators),
        "--validators must be 1 to 16"
    );
    anyhow::ensure!(args.members >= 1, "--members must be at least 1");
    anyhow::ensure!(
        args.contributions >= 1 && args.contributions <= args.members,
        "--contributions must be 1 to --members (each is submitted by a different member)"
    );
    anyhow::ensure!(args.clients >= 1, "--clients must be at least 1");
    anyhow::ensure!(
        (1..=10_000).contains(&args.batch),
        "--batch must be 1 to 10000"
    );
    let povd = match &args.povd {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .context("locating pov-bench")?
            .with_file_name("povd"),
    };
    anyhow::ensure!(
        povd.exists(),
        "{} not found: build it (cargo build --release -p pov-node) or pass --povd",
        povd.display()
    );
    let settings = NodeSettings {
        block_time_ms: args.block_time_ms,
        max_block_txs: args.max_block_txs,
        max_txs: args.max_txs,
        extra: args.set.clone(),
    };

    eprintln!(
        "signing the workload: {} members, {} contributions, {} evaluations, {} transfers",
        args.members,
        args.contributions,
        u64::from(args.members) * u64::from(args.contributions),
        args.transfers
    );
    let signed_at = Instant::now();
    let work = workload::Workload::new(args.members, args.contributions, args.transfers, |g| {
        cluster::devnet_genesis(&g, args.base_port, args.validators)
    });
    eprintln!("signed in {:.1} s", signed_at.elapsed().as_secs_f64());

    let mut cluster = Cluster::create(
        &povd,
        args.dir.clone(),
        args.base_port,
        args.validators,
        &work.genesis,
        &settings,
    )?;
    cluster.start_validators()?;
    cluster.wait_ready(Duration::from_secs(60))?;
    eprintln!("devnet up: {} validators", args.validators);

    let events = follow::Follower::start(&cluster.nodes[0].api)?;

    // Phase 1: the contributions, final before anyone evaluates them.
    let setup = SubmitOptions {
        rate: Rate::Max,
        clients: args.clients.min(work.contributions.len()),
        batch: args.batch,
        submit_to_all: args.submit_to_all,
    };
    let first = submit::submit(&cluster.apis(), &work.contributions, &setup)?;
    anyhow::ensure!(
        first.errors.is_empty(),
        "contributions refused: {:?}",
        first.errors.iter().take(3).collect::<Vec<_>>()
    );
    let hashes: Vec<_> = work.contributions.iter().map(|t| t.hash).collect();
    events.wait_final(&hashes, Duration::from_secs(args.timeout_s))?;
    eprintln!("{} contributions final", hashes.len());

    // Phase 2: the measured workload.
    let before = cluster.snapshot()?;
    let options = SubmitOptions {
        rate: args.rate,
        clients: args.clients,
        batch: args.batch,
        submit_to_all: args.submit_to_all,
    };
    eprintln!(
        "submitting {} transactions at {} with {} clients",
        work.measured.len(),
        args.rate,
        args.clients
    );
    let submitted = submit::submit(&cluster.apis(), &work.measured, &options)?;
    let hashes: Vec<_> = work.measured.iter().map(|t| t.hash).collect();
    let finals = events.wait_final(&hashes, Duration::from_secs(args.timeout_s))?;
    let after = cluster.snapshot()?;
    let blocks = events.blocks();
    eprintln!("workload final");

    let sync = if args.no_sync {
        None
    } else {
        eprintln!("starting a fresh full node to time its sync");
        Some(cluster.time_sync(Duration::from_secs(args.timeout_s))?)
    };

    let report = Report::build(
        args, &work, &submitted, &finals, &blocks, &before, &after, sync,
    );
    print!("{}", report.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report.json())?;
        if path.as_os_str() == "-" {
            println!("{text}");
        } else {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("report written to {}", path.display());
        }
    }
    cluster.stop();
    Ok(())
}
