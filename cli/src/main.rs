//! `pov`: the wallet and cooperative command-line tool.

mod cli;
mod commands;
mod exit;
mod output;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    let code = match commands::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            exit::classify(&err)
        }
    };
    std::process::exit(code);
}
