//! `pov genesis`: check and show a cooperative's genesis.

use pov_protocol::genesis::{Genesis, GenesisError};

use crate::cli::GenesisCommand;
use crate::exit::{self, InvalidInput};

/// Runs a `pov genesis` subcommand.
pub fn run(cmd: GenesisCommand) -> anyhow::Result<i32> {
    match cmd {
        GenesisCommand::Validate { file } => {
            let text = super::read_input(&file)?;
            match Genesis::from_toml(&text) {
                Ok(g) => {
                    crate::output::line(&format!(
                        "{}: valid genesis for chain {:?}, {} members, {} validators, hash {}",
                        file.display(),
                        g.chain_id,
                        g.members.len(),
                        g.validators.len(),
                        g.hash()
                    ))?;
                    Ok(exit::OK)
                }
                Err(GenesisError::Invalid(problems)) => {
                    let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
                    Err(InvalidInput(format!(
                        "{}: {} problem(s):\n{}",
                        file.display(),
                        problems.len(),
                        list.join("\n")
                    ))
                    .into())
                }
                Err(e) => Err(InvalidInput(format!("{}: {e}", file.display())).into()),
            }
        }
        GenesisCommand::Show { file, dev } => {
            let genesis = if dev {
                Genesis::dev()
            } else {
                let path = file.ok_or_else(|| InvalidInput("a genesis file or --dev".into()))?;
                let text = super::read_input(&path)?;
                Genesis::from_toml(&text)
                    .map_err(|e| InvalidInput(format!("{}: {e}", path.display())))?
            };
            crate::output::line(&format!(
                "# genesis hash (chain identity): {}",
                genesis.hash()
            ))?;
            crate::output::line(genesis.to_toml().trim_end())?;
            Ok(exit::OK)
        }
    }
}
