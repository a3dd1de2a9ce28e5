//! The command line: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// pov: the wallet and cooperative tool for Proof-of-Value chains.
#[derive(Debug, Parser)]
#[command(name = "pov", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Replay conformance vectors through the state machine (spec section 9).
    ///
    /// Reads a vector file (one vector object, or {"vectors": [...]}), ignores the expected
    /// figures in it, and prints the same JSON with `after` and `max_score_after` (or
    /// `median_max_after`) computed by pov.
    ///
    /// Example: pov simulate protocol/tests/vectors/backfeed-2016.json --check
    Simulate {
        /// The vector file (JSON); `-` reads standard input.
        file: PathBuf,
        /// Instead of printing the output, compare it with the file's expected figures
        /// and print a summary; exit 4 if any figure is off by more than the tolerance.
        #[arg(long)]
        check: bool,
        /// Relative tolerance for --check.
        #[arg(long, default_value_t = 1e-9, requires = "check")]
        tolerance: f64,
    },
    /// Create, inspect and check a cooperative's genesis.
    #[command(subcommand)]
    Genesis(GenesisCommand),
}

/// `pov genesis ...`
#[derive(Debug, Subcommand)]
pub enum GenesisCommand {
    /// Check a genesis file and list every problem, each naming its field.
    ///
    /// Example: pov genesis validate genesis.toml
    Validate {
        /// The genesis TOML.
        file: PathBuf,
    },
    /// Print a genesis (default: the embedded devnet genesis) with its hash.
    ///
    /// Example: pov genesis show --dev
    Show {
        /// The genesis TOML to show.
        #[arg(conflicts_with = "dev", required_unless_present = "dev")]
        file: Option<PathBuf>,
        /// Show the embedded development genesis.
        #[arg(long)]
        dev: bool,
    },
}
