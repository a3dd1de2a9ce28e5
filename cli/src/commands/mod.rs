//! One module per command group; each returns the process exit code.
//!
//! [`Ctx`] carries what every command may need: the resolved settings, the output format,
//! the keystore, and how to reach the node. Names on the command line (`--from carl`,
//! `pov show account carl`) are resolved here, in one place: a keystore name first, then
//! (only with `--insecure-dev-keys`) a dev genesis name, then a hex address, then (for
//! commands that talk to a node) the name of a member on the chain. Output labels addresses
//! the same way: the keystore's name, else the member's name on the chain, else short hex.

mod config;
mod devnet;
mod explain;
mod genesis;
mod governance;
mod keys;
mod members;
mod proofs;
mod query;
mod simulate;
mod status;
mod tx;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use anyhow::Context;
use pov_crypto::{Address, Keypair};

use crate::cli::{Command, Global};
use crate::config::{Overrides, Settings};
use crate::exit::InvalidInput;
use crate::keystore::{KeyKind, Keystore, KeystoreError, PassphraseSource, DEV_NAMES};
use crate::node::Client;
use crate::output::Format;

/// What every command may need.
#[derive(Debug)]
pub struct Ctx {
    /// The settings in force.
    pub settings: Settings,
    /// How to print.
    pub format: Format,
    /// Where passphrases come from.
    pub passphrase: PassphraseSource,
    /// `--insecure-dev-keys`.
    pub insecure_dev_keys: bool,
}

impl Ctx {
    /// Resolves the settings from the global flags, the environment and the config file.
    pub fn new(global: &Global) -> anyhow::Result<Ctx> {
        let settings = Settings::resolve(Overrides {
            home: global.home.clone(),
            node: global.node.clone(),
            chain_id: std::env::var("POV_CHAIN_ID").ok().filter(|v| !v.is_empty()),
            output: global.output,
            keystore: global.keystore.clone(),
        })?;
        Ok(Ctx {
            format: settings.output.0,
            settings,
            passphrase: PassphraseSource {
                file: global.passphrase_file.clone(),
            },
            insecure_dev_keys: global.insecure_dev_keys,
        })
    }

    /// True in `--output json` mode.
    pub fn json(&self) -> bool {
        self.format == Format::Json
    }

    /// The keystore.
    pub fn keystore(&self) -> Keystore {
        Keystore::new(self.settings.keystore.0.clone())
    }

    /// A client for the configured node.
    pub fn client(&self) -> Client {
        Client::new(&self.settings.node.0)
    }

    /// Resolves a member named on the command line without asking a node (the genesis
    /// commands work offline): a keystore name, then a dev name (with
    /// `--insecure-dev-keys`), then an address. Returns the address and the name used.
    pub fn resolve_local(&self, text: &str) -> anyhow::Result<(Address, Option<String>)> {
        match self.try_local(text)? {
            Ok(found) => Ok(found),
            Err(e) => Err(InvalidInput(format!(
                "{text:?} is neither a key in the keystore ({}) nor an address ({e})",
                self.keystore().dir().display()
            ))
            .into()),
        }
    }

    /// The keystore, dev-name and address steps of resolution; the inner error is why
    /// `text` is not an address.
    fn try_local(&self, text: &str) -> anyhow::Result<Result<(Address, Option<String>), String>> {
        let ks = self.keystore();
        if ks.contains(text) {
            return Ok(Ok((ks.entry(text)?.address, Some(text.to_string()))));
        }
        if let Some(i) = self.dev_index(text) {
            return Ok(Ok((Keypair::dev(i).address(), Some(text.to_string()))));
        }
        Ok(text
            .parse::<Address>()
            .map(|a| (a, None))
            .map_err(|e| e.to_string()))
    }

    /// Resolves a member named on the command line: a keystore name, a dev name (with
    /// `--insecure-dev-keys`), an address, and last the name of a member on the chain (asked
    /// of the node: `GET /members?name=`). Returns the address and the name used.
    pub fn resolve_address(&self, text: &str) -> anyhow::Result<(Address, Option<String>)> {
        let not_address = match self.try_local(text)? {
            Ok(found) => return Ok(found),
            Err(e) => e,
        };
        let client = self.client();
        let query = format!("/members?name={}", query_escape(text));
        let answer = client.get_value(&query).map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "{text:?} is neither a key in the keystore ({}) nor an address ({not_address}); \
                 asking the node for a member of that name failed",
                self.keystore().dir().display()
            ))
        })?;
        let found = answer
            .get("items")
            .and_then(|i| i.as_array())
            .and_then(|items| items.first())
            .and_then(|m| m.get("address"))
            .and_then(|a| a.as_str())
            .and_then(|a| a.parse::<Address>().ok());
        match found {
            Some(address) => Ok((address, Some(text.to_string()))),
            None => Err(InvalidInput(format!(
                "{text:?} is not a key in the keystore ({}), not an address ({not_address}), and \
                 no member of the chain at {} has that name",
                self.keystore().dir().display(),
                client.base()
            ))
            .into()),
        }
    }

    fn dev_index(&self, name: &str) -> Option<u32> {
        if !self.insecure_dev_keys {
            return None;
        }
        DEV_NAMES.iter().position(|n| *n == name).map(|i| i as u32)
    }

    /// The key that signs: `--from` (or `POV_FROM`), else `from` in the config file;
    /// unlocked with the passphrase if it is encrypted.
    pub fn signer(&self, from: Option<&str>) -> anyhow::Result<(String, Keypair)> {
        let name = from
            .map(str::to_string)
            .or_else(|| self.settings.file.from.clone())
            .ok_or_else(|| {
                InvalidInput(
                    "no signing key: pass --from NAME (or set POV_FROM, or `pov config set from NAME`)"
                        .into(),
                )
            })?;
        let ks = self.keystore();
        if !ks.contains(&name) {
            if let Some(i) = self.dev_index(&name) {
                crate::output::note(&format!(
                    "warning: signing with the PUBLIC dev key {name:?} (--insecure-dev-keys): devnets only"
                ));
                return Ok((name, Keypair::dev(i)));
            }
            let err = ks.entry(&name).err().unwrap_or(KeystoreError::NotFound {
                name: name.clone(),
                dir: ks.dir().to_path_buf(),
            });
            if DEV_NAMES.contains(&name.as_str()) {
                return Err(anyhow::Error::new(err).context(format!(
                    "{name:?} is a dev genesis name: on a devnet run `pov keys add-dev`, or pass --insecure-dev-keys"
                )));
            }
            return Err(err.into());
        }
        let keypair = match ks.entry(&name)?.kind {
            KeyKind::InsecureDev(_) => ks.unlock(&name, "")?,
            KeyKind::Encrypted => {
                let pass = self
                    .passphrase
                    .get(&format!("passphrase for key {name:?}: "), false)?;
                ks.unlock(&name, &pass)?
            }
        };
        Ok((name, keypair))
    }

    /// Address -> key name, for labelling addresses in tables.
    pub fn names(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        if let Ok((entries, _)) = self.keystore().list() {
            for e in entries {
                map.insert(e.address.to_string(), e.name);
            }
        }
        if self.insecure_dev_keys {
            for (i, n) in DEV_NAMES.iter().enumerate() {
                map.entry(Keypair::dev(i as u32).address().to_string())
                    .or_insert_with(|| (*n).to_string());
            }
        }
        map
    }
}

/// Runs the parsed command line.
pub fn run(ctx: &Ctx, command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Simulate {
            file,
            check,
            tolerance,
        } => simulate::run(ctx, &file, check, tolerance),
        Command::Genesis(cmd) => genesis::run(ctx, cmd),
        Command::Keys(cmd) => keys::run(ctx, cmd),
        Command::Config(cmd) => config::run(ctx, cmd),
        Command::Devnet(crate::cli::DevnetCommand::Init {
            validators,
            dir,
            p2p_port,
            api_port,
            block_time_ms,
            set,
        }) => devnet::init(
            ctx,
            &devnet::DevnetInit {
                validators,
                dir,
                p2p_port,
                api_port,
                block_time_ms,
                set,
            },
        ),
        Command::Completions { shell } => completions(shell),
        Command::Contribute {
            kind,
            title,
            uri,
            file,
            tx,
        } => tx::contribute(ctx, kind, title, uri, file.as_deref(), &tx),
        Command::Evaluate {
            contribution,
            value,
            tx,
        } => tx::evaluate(ctx, contribution, value, &tx),
        Command::Reveal {
            contribution,
            all,
            tx,
        } => tx::reveal(ctx, contribution, all, &tx),
        Command::Transfer { to, amount, tx } => tx::transfer(ctx, &to, &amount, &tx),
        Command::Admit { member, name, tx } => tx::admit(ctx, &member, name, &tx),
        Command::Propose {
            set,
            title,
            uri,
            tx,
        } => governance::propose(ctx, &set, title, uri, &tx),
        Command::Prove {
            member,
            height,
            out,
        } => proofs::prove(ctx, &member, height, out.as_deref()),
        Command::VerifyProof { file, genesis } => proofs::verify(ctx, &file, &genesis),
        Command::Show(cmd) => query::show(ctx, cmd),
        Command::List(crate::cli::ListCommand::Members { limit }) => members::list(ctx, limit),
        Command::List(crate::cli::ListCommand::Contributions { open, by, limit }) => {
            query::list_contributions(ctx, open, by, limit)
        }
        Command::List(crate::cli::ListCommand::Proposals { status, limit }) => {
            governance::list(ctx, status.as_deref(), limit)
        }
        Command::Status => status::status(ctx),
        Command::Explain {
            member,
            since,
            limit,
            full,
        } => explain::explain(ctx, &member, since, limit, full),
    }
}

/// `pov completions SHELL`: the script on stdout (never JSON: the shell reads it).
fn completions(shell: clap_complete::Shell) -> anyhow::Result<i32> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::cli::Cli::command(), "pov", &mut script);
    let text = String::from_utf8(script).context("completion script is not UTF-8")?;
    crate::output::line(text.trim_end())?;
    Ok(crate::exit::OK)
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

/// Reads at most `max` bytes of a file, or of standard input for `-`: `Ok(None)` when there
/// is more (the caller says what the file should have been), so a hostile or mistaken file
/// costs at most `max` bytes of memory however big it is.
pub fn read_input_at_most(path: &Path, max: u64) -> anyhow::Result<Option<String>> {
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .context("reading standard input")?
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(max + 1).read_to_end(&mut bytes))
            .with_context(|| format!("reading {}", path.display()))?
    };
    if read as u64 > max {
        return Ok(None);
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| anyhow::anyhow!("{}: not UTF-8 text: {e}", path.display()))?;
    Ok(Some(text))
}

/// `text` made safe for a URL query value (percent-encoding everything but unreserved
/// characters).
pub fn query_escape(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Adds to `names` the on-chain names a node's answer carries beside addresses (`member` and
/// `name`, `address` and `name`, `contributor` and `contributor_name`, `referrer` and
/// `referrer_name`, at any depth), without replacing a name the keystore gave.
pub fn learn_names(names: &mut BTreeMap<String, String>, raw: &serde_json::Value) {
    match raw {
        serde_json::Value::Object(map) => {
            for (addr_key, name_key) in [
                ("member", "name"),
                ("address", "name"),
                ("contributor", "contributor_name"),
                ("referrer", "referrer_name"),
            ] {
                if let (Some(a), Some(n)) = (
                    map.get(addr_key).and_then(|v| v.as_str()),
                    map.get(name_key).and_then(|v| v.as_str()),
                ) {
                    if !n.is_empty() {
                        names.entry(a.to_string()).or_insert_with(|| n.to_string());
                    }
                }
            }
            for v in map.values() {
                learn_names(names, v);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                learn_names(names, v);
            }
        }
        _ => {}
    }
}

/// A label for an address: its name if the keystore (or the chain, through
/// [`learn_names`]) knows it, else its short hex.
pub fn label(names: &BTreeMap<String, String>, address: &str) -> String {
    match names.get(address) {
        Some(name) => name.clone(),
        None => crate::output::short(address),
    }
}
