//! The client configuration: where `pov` keeps its files and which node it talks to.
//!
//! Everything lives in one directory, `<config dir>/pov` (`~/.config/pov` on Linux,
//! `~/Library/Application Support/pov` on macOS), or wherever `--home` / `POV_HOME` point:
//! `config.toml` and the keystore `keys/`. Relocating the whole directory with one variable
//! is what lets tests and several cooperatives on one machine stay apart.
//!
//! Each setting is taken from the first place that has it: flag, environment variable,
//! config file, built-in default.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::exit::InvalidInput;
use crate::output::Format;

/// The node a fresh install talks to: a `povd` on this machine, its default API address.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:7070";

/// The settings a config file may hold. Unknown keys are errors, so a typo never silently
/// falls back to a default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The node's API URL (`http://host:port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The chain `pov` expects; a node serving another chain is refused before signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<String>,
    /// `text` or `json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The keystore directory (default `<home>/keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keystore: Option<PathBuf>,
    /// The key that signs when `--from` is not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// The keys `pov config set` accepts, in the order `pov config show` prints them.
pub const KEYS: [&str; 5] = ["node", "chain_id", "output", "keystore", "from"];

impl ConfigFile {
    /// Reads the file; a missing file is an empty configuration.
    pub fn load(path: &Path) -> anyhow::Result<ConfigFile> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let file: ConfigFile =
            toml::from_str(&text).map_err(|e| InvalidInput(format!("{}: {e}", path.display())))?;
        file.check(path)?;
        Ok(file)
    }

    fn check(&self, path: &Path) -> anyhow::Result<()> {
        if let Some(out) = &self.output {
            out.parse::<Format>()
                .map_err(|e| InvalidInput(format!("{}: output: {e}", path.display())))?;
        }
        Ok(())
    }

    /// Writes the file atomically (a temporary file renamed over the old one).
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let text = toml::to_string_pretty(self)?;
        crate::fsutil::write_atomic(path, text.as_bytes(), 0o644)
    }

    /// The value of one key, as text.
    pub fn get(&self, key: &str) -> Option<String> {
        match key {
            "node" => self.node.clone(),
            "chain_id" => self.chain_id.clone(),
            "output" => self.output.clone(),
            "keystore" => self.keystore.as_ref().map(|p| p.display().to_string()),
            "from" => self.from.clone(),
            _ => None,
        }
    }

    /// Sets (`Some`) or removes (`None`) one key, checking the value.
    pub fn set(&mut self, key: &str, value: Option<String>) -> anyhow::Result<()> {
        match key {
            "node" => self.node = value.map(|v| normalize_node_url(&v)),
            "chain_id" => self.chain_id = value,
            "output" => {
                if let Some(v) = &value {
                    v.parse::<Format>().map_err(InvalidInput)?;
                }
                self.output = value;
            }
            "keystore" => self.keystore = value.map(PathBuf::from),
            "from" => self.from = value,
            other => {
                return Err(InvalidInput(format!(
                    "unknown config key {other:?}; the keys are {}",
                    KEYS.join(", ")
                ))
                .into())
            }
        }
        Ok(())
    }
}

/// `pov`'s directory: `--home`/`POV_HOME`, else `<config dir>/pov`.
pub fn home_dir(flag: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    let base = dirs::config_dir().ok_or_else(|| {
        anyhow::anyhow!("cannot find the user's config directory: set POV_HOME to choose one")
    })?;
    Ok(base.join("pov"))
}

/// Adds `http://` when no scheme is given (`127.0.0.1:7070`) and drops a trailing slash.
pub fn normalize_node_url(url: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    if url.contains("://") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}

/// Where a setting's value came from (shown by `pov config show`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag or its environment variable (clap does not tell them apart).
    FlagOrEnv,
    /// The config file.
    File,
    /// The built-in default.
    Default,
}

impl Source {
    /// The name shown to the user.
    pub fn name(self) -> &'static str {
        match self {
            Source::FlagOrEnv => "flag/env",
            Source::File => "config file",
            Source::Default => "default",
        }
    }
}

/// The settings in force for this run, with their origins.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `pov`'s directory.
    pub home: PathBuf,
    /// The config file's path (it may not exist).
    pub config_path: PathBuf,
    /// The file as read.
    pub file: ConfigFile,
    /// The node URL and where it came from.
    pub node: (String, Source),
    /// The expected chain id, if any.
    pub chain_id: (Option<String>, Source),
    /// The output format.
    pub output: (Format, Source),
    /// The keystore directory.
    pub keystore: (PathBuf, Source),
}

/// What the command line (flags and their environment variables) said.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--home` / `POV_HOME`.
    pub home: Option<PathBuf>,
    /// `--node` / `POV_NODE`.
    pub node: Option<String>,
    /// `--chain-id` / `POV_CHAIN_ID`.
    pub chain_id: Option<String>,
    /// `--output` / `POV_OUTPUT`.
    pub output: Option<Format>,
    /// `--keystore` / `POV_KEYSTORE`.
    pub keystore: Option<PathBuf>,
}

fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> (T, Source) {
    match (flag, file) {
        (Some(v), _) => (v, Source::FlagOrEnv),
        (None, Some(v)) => (v, Source::File),
        (None, None) => (default, Source::Default),
    }
}

impl Settings {
    /// Resolves every setting: flag or environment, then the config file, then the default.
    pub fn resolve(over: Overrides) -> anyhow::Result<Settings> {
        let home = home_dir(over.home)?;
        let config_path = home.join("config.toml");
        let file = ConfigFile::load(&config_path)?;
        let file_output = file.output.as_deref().map(|o| o.parse::<Format>());
        let file_output = match file_output {
            Some(Ok(f)) => Some(f),
            Some(Err(e)) => return Err(InvalidInput(e).into()),
            None => None,
        };
        let node = pick(
            over.node.map(|n| normalize_node_url(&n)),
            file.node.clone(),
            DEFAULT_NODE.to_string(),
        );
        let chain_id = pick(
            over.chain_id.map(Some),
            file.chain_id.clone().map(Some),
            None,
        );
        let output = pick(over.output, file_output, Format::Text);
        let keystore = pick(over.keystore, file.keystore.clone(), home.join("keys"));
        Ok(Settings {
            home,
            config_path,
            file,
            node,
            chain_id,
            output,
            keystore,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_file_beats_default() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().to_path_buf();
        let over = Overrides {
            home: Some(home.clone()),
            ..Overrides::default()
        };
        let s = Settings::resolve(over.clone()).expect("defaults");
        assert_eq!(s.node, (DEFAULT_NODE.to_string(), Source::Default));
        assert_eq!(s.keystore, (home.join("keys"), Source::Default));
        assert_eq!(s.output, (Format::Text, Source::Default));

        let file = ConfigFile {
            node: Some("http://10.0.0.1:7070".into()),
            output: Some("json".into()),
            ..ConfigFile::default()
        };
        file.save(&home.join("config.toml")).expect("save");
        let s = Settings::resolve(over.clone()).expect("file");
        assert_eq!(s.node, ("http://10.0.0.1:7070".into(), Source::File));
        assert_eq!(s.output, (Format::Json, Source::File));

        let s = Settings::resolve(Overrides {
            node: Some("127.0.0.1:9000/".into()),
            output: Some(Format::Text),
            ..over
        })
        .expect("flag");
        assert_eq!(s.node, ("http://127.0.0.1:9000".into(), Source::FlagOrEnv));
        assert_eq!(s.output, (Format::Text, Source::FlagOrEnv));
    }

    #[test]
    fn a_typo_in_the_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "nod = \"x\"\n").expect("write");
        let err = ConfigFile::load(&path).expect_err("unknown key");
        assert!(err.to_string().contains("nod"), "{err}");
        std::fs::write(&path, "output = \"yaml\"\n").expect("write");
        let err = ConfigFile::load(&path).expect_err("bad format");
        assert!(err.to_string().contains("yaml"), "{err}");
    }

    #[test]
    fn set_checks_keys_and_values() {
        let mut c = ConfigFile::default();
        c.set("node", Some("localhost:7070".into())).expect("node");
        assert_eq!(c.get("node").as_deref(), Some("http://localhost:7070"));
        assert!(c.set("output", Some("xml".into())).is_err());
        assert!(c.set("colour", Some("red".into())).is_err());
        c.set("node", None).expect("unset");
        assert_eq!(c.get("node"), None);
    }
}
