//! `pov config`: the client configuration file and the settings in force.

use crate::cli::ConfigCommand;
use crate::config::{ConfigFile, KEYS};
use crate::exit;
use crate::output::{self, Align, Table};

/// Runs a `pov config` subcommand.
pub fn run(ctx: &super::Ctx, cmd: ConfigCommand) -> anyhow::Result<i32> {
    let s = &ctx.settings;
    match cmd {
        ConfigCommand::Path => {
            if ctx.json() {
                output::json(&serde_json::json!({
                    "config": s.config_path.display().to_string(),
                    "home": s.home.display().to_string(),
                }))?;
            } else {
                output::line(&s.config_path.display().to_string())?;
            }
        }
        ConfigCommand::Show => {
            let rows: Vec<(&str, String, &str)> = vec![
                ("node", s.node.0.clone(), s.node.1.name()),
                (
                    "chain_id",
                    s.chain_id.0.clone().unwrap_or_default(),
                    s.chain_id.1.name(),
                ),
                ("output", s.output.0.name().to_string(), s.output.1.name()),
                (
                    "keystore",
                    s.keystore.0.display().to_string(),
                    s.keystore.1.name(),
                ),
                (
                    "from",
                    s.file.from.clone().unwrap_or_default(),
                    if s.file.from.is_some() {
                        "config file"
                    } else {
                        "default"
                    },
                ),
            ];
            if ctx.json() {
                let mut settings = serde_json::Map::new();
                for (k, v, src) in &rows {
                    settings.insert(
                        (*k).to_string(),
                        serde_json::json!({"value": if v.is_empty() { serde_json::Value::Null } else { v.clone().into() }, "source": src}),
                    );
                }
                output::json(&serde_json::json!({
                    "home": s.home.display().to_string(),
                    "config": s.config_path.display().to_string(),
                    "settings": settings,
                }))?;
            } else {
                output::line(&format!("config file: {}", s.config_path.display()))?;
                let mut t = Table::new(&[
                    ("key", Align::Left),
                    ("value", Align::Left),
                    ("source", Align::Left),
                ]);
                for (k, v, src) in rows {
                    t.row(vec![
                        k.to_string(),
                        if v.is_empty() { "-".into() } else { v },
                        src.to_string(),
                    ]);
                }
                output::line(&t.render())?;
            }
        }
        ConfigCommand::Set { key, value } => edit(ctx, &key, Some(value))?,
        ConfigCommand::Unset { key } => edit(ctx, &key, None)?,
    }
    Ok(exit::OK)
}

fn edit(ctx: &super::Ctx, key: &str, value: Option<String>) -> anyhow::Result<()> {
    let path = &ctx.settings.config_path;
    let mut file = ConfigFile::load(path)?;
    file.set(key, value)?;
    file.save(path)?;
    let now = file.get(key);
    if ctx.json() {
        output::json(&serde_json::json!({
            "config": path.display().to_string(),
            "key": key,
            "value": now,
        }))?;
    } else {
        match now {
            Some(v) => output::line(&format!("{key} = {v:?} in {}", path.display()))?,
            None => output::line(&format!("{key} removed from {}", path.display()))?,
        }
    }
    debug_assert!(KEYS.contains(&key));
    Ok(())
}
