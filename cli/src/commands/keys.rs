//! `pov keys`: the encrypted keystore from the command line.

use std::io::{IsTerminal, Read};

use anyhow::Context;
use pov_crypto::Keypair;
use zeroize::Zeroizing;

use crate::cli::KeysCommand;
use crate::exit::{self, InvalidInput};
use crate::keystore::{self, Entry, KeyKind, KeystoreError, DEV_NAMES};
use crate::output::{self, Align, Table};

/// Shown whenever dev keys are added or used: they are public.
const DEV_WARNING: &str = "WARNING: alice, bob, carol and dave are the PUBLIC development keys of \
`pov genesis show --dev`: anyone can sign with them. Use them only on a local devnet, never \
on a cooperative that holds value.";

/// Runs a `pov keys` subcommand.
pub fn run(ctx: &super::Ctx, cmd: KeysCommand) -> anyhow::Result<i32> {
    let ks = ctx.keystore();
    match cmd {
        KeysCommand::New { name } => {
            keystore::check_name(&name)?;
            if ks.contains(&name) {
                return Err(KeystoreError::Exists(name).into());
            }
            let pass = ctx
                .passphrase
                .get(&format!("passphrase for the new key {name:?}: "), true)?;
            let entry = ks.create(&name, &Keypair::generate(), &pass)?;
            print_created(ctx, &entry, "created")?;
        }
        KeysCommand::Import { name, secret_file } => {
            keystore::check_name(&name)?;
            if ks.contains(&name) {
                return Err(KeystoreError::Exists(name).into());
            }
            let secret_text = read_secret(secret_file.as_deref())?;
            let seed = keystore::parse_secret(&secret_text)?;
            let keypair = Keypair::from_seed(*seed);
            if let Ok((entries, _)) = ks.list() {
                if let Some(same) = entries.iter().find(|e| e.address == keypair.address()) {
                    output::note(&format!(
                        "note: this key is already in the keystore as {:?}",
                        same.name
                    ));
                }
            }
            let pass = ctx
                .passphrase
                .get(&format!("passphrase for the imported key {name:?}: "), true)?;
            let entry = ks.create(&name, &keypair, &pass)?;
            print_created(ctx, &entry, "imported")?;
        }
        KeysCommand::List => {
            let (entries, damaged) = ks.list()?;
            for d in &damaged {
                output::note(&format!("warning: {d}"));
            }
            if ctx.json() {
                output::json(&serde_json::json!({
                    "keystore": ks.dir().display().to_string(),
                    "keys": entries.iter().map(Entry::to_json).collect::<Vec<_>>(),
                    "damaged": damaged.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
                }))?;
            } else if entries.is_empty() {
                output::line(&format!(
                    "no keys in {} (create one with `pov keys new NAME`)",
                    ks.dir().display()
                ))?;
            } else {
                let mut t = Table::new(&[
                    ("name", Align::Left),
                    ("address", Align::Left),
                    ("kind", Align::Left),
                ]);
                for e in &entries {
                    t.row(vec![
                        e.name.clone(),
                        e.address.to_string(),
                        kind_text(e.kind),
                    ]);
                }
                output::line(&t.render())?;
            }
        }
        KeysCommand::Show { name } => {
            let entry = ks.entry(&name)?;
            if ctx.json() {
                let mut v = entry.to_json();
                v["file"] = ks
                    .dir()
                    .join(format!("{name}.json"))
                    .display()
                    .to_string()
                    .into();
                output::json(&v)?;
            } else {
                output::line(&output::fields(&[
                    ("name", entry.name.clone()),
                    ("address", entry.address.to_string()),
                    (
                        "public key",
                        format!("{} (the address is the public key)", entry.address),
                    ),
                    ("kind", kind_text(entry.kind)),
                    (
                        "file",
                        ks.dir().join(format!("{name}.json")).display().to_string(),
                    ),
                ]))?;
            }
        }
        KeysCommand::Export { name } => {
            let entry = ks.entry(&name)?;
            let keypair = match entry.kind {
                KeyKind::InsecureDev(_) => ks.unlock(&name, "")?,
                KeyKind::Encrypted => {
                    let pass = ctx
                        .passphrase
                        .get(&format!("passphrase for key {name:?}: "), false)?;
                    ks.unlock(&name, &pass)?
                }
            };
            let secret = Zeroizing::new(hex::encode(keypair.secret_bytes()));
            output::note(&format!(
                "warning: this is the secret key of {name:?}: anyone who sees it can sign as {}",
                entry.address
            ));
            if ctx.json() {
                output::json(&serde_json::json!({
                    "name": name,
                    "address": entry.address.to_string(),
                    "secret_key": secret.as_str(),
                }))?;
            } else {
                output::line(&secret)?;
            }
        }
        KeysCommand::Delete { name, yes } => {
            let entry = ks.entry(&name)?;
            if !yes {
                confirm_delete(&entry)?;
            }
            ks.delete(&name)?;
            if ctx.json() {
                let mut v = entry.to_json();
                v["deleted"] = true.into();
                output::json(&v)?;
            } else {
                output::line(&format!("deleted key {name} ({})", entry.address))?;
            }
        }
        KeysCommand::AddDev => {
            output::note(DEV_WARNING);
            let mut added = Vec::new();
            for (i, name) in DEV_NAMES.iter().enumerate() {
                let want = Keypair::dev(i as u32).address();
                if ks.contains(name) {
                    let have = ks.entry(name)?;
                    if have.address != want {
                        output::note(&format!(
                            "note: kept your own key {name:?} ({}); the dev key {name} was not added",
                            have.address
                        ));
                    }
                    continue;
                }
                added.push(ks.add_dev(name, i as u32)?);
            }
            if ctx.json() {
                output::json(&serde_json::json!({
                    "added": added.iter().map(Entry::to_json).collect::<Vec<_>>(),
                }))?;
            } else if added.is_empty() {
                output::line("the dev keys are already in the keystore")?;
            } else {
                let mut t = Table::new(&[("name", Align::Left), ("address", Align::Left)]);
                for e in &added {
                    t.row(vec![e.name.clone(), e.address.to_string()]);
                }
                output::line(&format!(
                    "added {} insecure dev keys:\n{}",
                    added.len(),
                    t.render()
                ))?;
            }
        }
    }
    Ok(exit::OK)
}

fn kind_text(kind: KeyKind) -> String {
    match kind {
        KeyKind::Encrypted => "encrypted".into(),
        KeyKind::InsecureDev(i) => format!("INSECURE dev key {i} (public)"),
    }
}

fn print_created(ctx: &super::Ctx, entry: &Entry, verb: &str) -> anyhow::Result<()> {
    let file = ctx
        .keystore()
        .dir()
        .join(format!("{}.json", entry.name))
        .display()
        .to_string();
    if ctx.json() {
        let mut v = entry.to_json();
        v["file"] = file.into();
        return output::json(&v);
    }
    output::line(&output::fields(&[
        (verb, format!("key {}", entry.name)),
        ("address", entry.address.to_string()),
        ("file", format!("{file} (encrypted; mode 0600)")),
    ]))?;
    output::note(&format!(
        "keep the passphrase safe: without it the key cannot be recovered (back it up with `pov keys export {}`)",
        entry.name
    ));
    Ok(())
}

/// The secret to import: `--secret-file`, else piped stdin, else a no-echo prompt.
fn read_secret(file: Option<&std::path::Path>) -> anyhow::Result<Zeroizing<String>> {
    if let Some(path) = file {
        return Ok(Zeroizing::new(
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ));
    }
    if !std::io::stdin().is_terminal() {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the secret from standard input")?;
        return Ok(text);
    }
    Ok(Zeroizing::new(
        rpassword::prompt_password("secret key (64 hex digits): ")
            .context("reading the secret from the terminal")?,
    ))
}

fn confirm_delete(entry: &Entry) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(InvalidInput(format!(
            "refusing to delete key {:?} without confirmation: pass --yes",
            entry.name
        ))
        .into());
    }
    eprintln!(
        "deleting key {:?} ({}) cannot be undone unless you have its secret.",
        entry.name, entry.address
    );
    eprint!("type the key's name to confirm: ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("reading the confirmation")?;
    if answer.trim() != entry.name {
        return Err(InvalidInput("not confirmed; nothing was deleted".into()).into());
    }
    Ok(())
}
