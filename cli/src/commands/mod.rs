//! One module per command group; each returns the process exit code.

mod genesis;
mod simulate;

use std::io::Read;
use std::path::Path;

use anyhow::Context;

use crate::cli::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Simulate {
            file,
            check,
            tolerance,
        } => simulate::run(&file, check, tolerance),
        Command::Genesis(cmd) => genesis::run(cmd),
    }
}

/// Reads a file, or standard input for `-`, naming the path in any error.
pub fn read_input(path: &Path) -> anyhow::Result<String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        return Ok(text);
    }
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}
