//! The encrypted keystore: one JSON file per key, `<keystore>/<name>.json`, mode 0600.
//!
//! A key's 32-byte ed25519 secret is encrypted with XChaCha20-Poly1305 under a key derived
//! from the passphrase by argon2id (64 MiB, 3 passes: memory-hard, so a stolen file costs
//! an attacker real memory per guess). The address is stored in clear, so `pov keys list`
//! and `pov keys show` need no passphrase, and it is bound to the ciphertext as associated
//! data: a file whose address was edited fails to decrypt rather than signing as someone
//! else. A wrong passphrase and a modified file both fail the cipher's authentication
//! check, and are reported as exactly that, never as a panic or a garbled key.
//!
//! Development keys (`pov keys add-dev`) store no secret at all, only the index of the
//! public dev key (`Keypair::dev`), and are marked insecure wherever they are shown.
//!
//! File format (version 1), all binary fields lowercase hex:
//!
//! ```json
//! {"version": 1, "name": "carl", "address": "<64 hex>",
//!  "kdf": {"algorithm": "argon2id", "version": 19, "m_cost_kib": 65536, "t_cost": 3,
//!          "p_cost": 1, "salt": "<32 hex>"},
//!  "cipher": {"algorithm": "xchacha20poly1305", "nonce": "<48 hex>", "ciphertext": "<96 hex>"}}
//! {"version": 1, "name": "alice", "address": "<64 hex>", "insecure_dev_key": 0}
//! ```

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use pov_crypto::{Address, Keypair};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::fsutil;

/// The keystore file format version this build writes and reads.
const FORMAT_VERSION: u32 = 1;
/// Associated-data tag: ties a ciphertext to this format and, with the address after it,
/// to the address shown in clear.
const AAD_DOMAIN: &[u8] = b"pov/keystore/v1";

/// The names `pov keys add-dev` stores, with their dev key index (as in `Genesis::dev`).
pub const DEV_NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// argon2id cost: memory in KiB, passes, lanes. RFC 9106's second recommended option
/// (64 MiB) with 3 passes: a fraction of a second (0.15 s here), once per signing command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfCost {
    /// Memory, in KiB.
    pub m_cost_kib: u32,
    /// Passes over the memory.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfCost {
    /// The cost new keys are written with.
    pub const DEFAULT: KdfCost = KdfCost {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// A file may not demand more than this (4 GiB, 64 passes, 16 lanes): a key file from
    /// elsewhere must not be able to exhaust the machine's memory.
    fn within_limits(self) -> bool {
        self.m_cost_kib <= 4 * 1024 * 1024 && self.t_cost <= 64 && self.p_cost <= 16
    }
}

/// Why a key could not be created, found or unlocked. Every variant exits with code 7.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// No key file with that name.
    #[error("no key named {name:?} in {dir} (`pov keys list` shows the keys, `pov keys new {name}` creates one)")]
    NotFound {
        /// The name asked for.
        name: String,
        /// The keystore directory.
        dir: PathBuf,
    },
    /// `new`/`import` onto an existing name.
    #[error(
        "a key named {0:?} already exists (choose another name, or `pov keys delete {0}` first)"
    )]
    Exists(String),
    /// A name that cannot be a file name or that looks like an address.
    #[error("{0:?} is not a usable key name: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-', and not 64 hex digits (that reads as an address)")]
    BadName(String),
    /// The cipher's authentication check failed.
    #[error("wrong passphrase for key {0:?} (or its key file was modified: the encrypted secret failed its integrity check)")]
    WrongPassphrase(String),
    /// The file does not parse, or its fields are inconsistent.
    #[error("key file {path} is damaged: {reason}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// No passphrase source and no terminal to ask on.
    #[error("no passphrase: set POV_PASSPHRASE, pass --passphrase-file FILE, or run in a terminal to be asked")]
    NoPassphrase,
    /// New keys must be protected by something.
    #[error("the passphrase is empty: a key must be protected by a passphrase")]
    EmptyPassphrase,
    /// The confirmation typed differs.
    #[error("the two passphrases differ; nothing was written")]
    PassphraseMismatch,
    /// An imported secret that is not 32 bytes of hex.
    #[error("the secret must be 64 hex digits (a 32-byte ed25519 secret key): {0}")]
    BadSecret(String),
}

/// How a stored key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Encrypted under a passphrase.
    Encrypted,
    /// A public development key (`Keypair::dev(index)`): no secret stored, no protection.
    InsecureDev(u32),
}

/// A key as listed: no secret, no passphrase needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name (the file name without `.json`).
    pub name: String,
    /// Its address (the ed25519 public key).
    pub address: Address,
    /// How it is kept.
    pub kind: KeyKind,
}

impl Entry {
    /// The JSON form `pov keys list/show --output json` prints.
    pub fn to_json(&self) -> serde_json::Value {
        let (kind, dev) = match self.kind {
            KeyKind::Encrypted => ("encrypted", None),
            KeyKind::InsecureDev(i) => ("insecure-dev-key", Some(i)),
        };
        let mut v = serde_json::json!({
            "name": self.name,
            "address": self.address.to_string(),
            "public_key": self.address.to_string(),
            "kind": kind,
        });
        if let Some(i) = dev {
            v["dev_key_index"] = i.into();
        }
        v
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    version: u32,
    name: String,
    address: Address,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kdf: Option<KdfSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cipher: Option<CipherSection>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    insecure_dev_key: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfSection {
    algorithm: String,
    version: u32,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CipherSection {
    algorithm: String,
    nonce: String,
    ciphertext: String,
}

/// A passphrase held in memory that is wiped when dropped.
pub type Passphrase = Zeroizing<String>;

/// The keystore directory.
#[derive(Debug, Clone)]
pub struct Keystore {
    dir: PathBuf,
}

/// Checks a key name (it becomes a file name, so no separators, no leading dot).
pub fn check_name(name: &str) -> Result<(), KeystoreError> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let looks_like_address = name.len() == 64 && name.chars().all(|c| c.is_ascii_hexdigit());
    if name.is_empty()
        || name.len() > 64
        || !ok_chars
        || name.starts_with('.')
        || name.starts_with('-')
        || looks_like_address
    {
        return Err(KeystoreError::BadName(name.to_string()));
    }
    Ok(())
}

fn aad(address: &Address) -> Vec<u8> {
    let mut out = AAD_DOMAIN.to_vec();
    out.extend_from_slice(address.as_bytes());
    out
}

fn derive_key(passphrase: &str, salt: &[u8], cost: KdfCost) -> Result<Zeroizing<[u8; 32]>, String> {
    let params = argon2::Params::new(cost.m_cost_kib, cost.t_cost, cost.p_cost, Some(32))
        .map_err(|e| format!("argon2 parameters: {e}"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| format!("argon2: {e}"))?;
    Ok(key)
}

impl Keystore {
    /// The keystore in `dir` (created on the first write).
    pub fn new(dir: impl Into<PathBuf>) -> Keystore {
        Keystore { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// True if a key file with that name exists.
    pub fn contains(&self, name: &str) -> bool {
        check_name(name).is_ok() && self.path(name).is_file()
    }

    /// Every key, sorted by name. Files that do not parse are returned as errors beside
    /// the good ones, so one damaged file never hides the others.
    pub fn list(&self) -> anyhow::Result<(Vec<Entry>, Vec<KeystoreError>)> {
        let mut entries = Vec::new();
        let mut damaged = Vec::new();
        let dir = match std::fs::read_dir(&self.dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((entries, damaged)),
            Err(e) => {
                return Err(anyhow::Error::new(e).context(format!("reading {}", self.dir.display())))
            }
        };
        for item in dir {
            let path = item?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if check_name(name).is_err() {
                continue;
            }
            match self.entry(name) {
                Ok(e) => entries.push(e),
                Err(e) => damaged.push(e),
            }
        }
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        Ok((entries, damaged))
    }

    fn read(&self, name: &str) -> Result<(PathBuf, KeyFile), KeystoreError> {
        check_name(name)?;
        let path = self.path(name);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeystoreError::NotFound {
                    name: name.to_string(),
                    dir: self.dir.clone(),
                })
            }
            Err(e) => {
                return Err(KeystoreError::Damaged {
                    path,
                    reason: format!("cannot read it: {e}"),
                })
            }
        };
        let damaged = |reason: String| KeystoreError::Damaged {
            path: path.clone(),
            reason,
        };
        let file: KeyFile = serde_json::from_str(&text).map_err(|e| damaged(e.to_string()))?;
        if file.version != FORMAT_VERSION {
            return Err(damaged(format!(
                "format version {} (this pov reads version {FORMAT_VERSION})",
                file.version
            )));
        }
        if file.name != name {
            return Err(damaged(format!(
                "it names the key {:?}, but the file is {name}.json",
                file.name
            )));
        }
        match (&file.kdf, &file.cipher, file.insecure_dev_key) {
            (Some(_), Some(_), None) => {}
            (None, None, Some(i)) => {
                if Keypair::dev(i).address() != file.address {
                    return Err(damaged(format!("its address is not that of dev key {i}")));
                }
            }
            _ => {
                return Err(damaged(
                    "it must hold either kdf and cipher, or insecure_dev_key".into(),
                ))
            }
        }
        Ok((path, file))
    }

    /// One key's entry (no passphrase needed).
    pub fn entry(&self, name: &str) -> Result<Entry, KeystoreError> {
        let (_, file) = self.read(name)?;
        Ok(Entry {
            name: file.name,
            address: file.address,
            kind: match file.insecure_dev_key {
                Some(i) => KeyKind::InsecureDev(i),
                None => KeyKind::Encrypted,
            },
        })
    }

    /// Encrypts `keypair` under `passphrase` as a new key `name`.
    pub fn create(&self, name: &str, keypair: &Keypair, passphrase: &str) -> anyhow::Result<Entry> {
        self.create_with_cost(name, keypair, passphrase, KdfCost::DEFAULT)
    }

    /// [`Keystore::create`] with a chosen KDF cost (tests use a cheap one).
    pub fn create_with_cost(
        &self,
        name: &str,
        keypair: &Keypair,
        passphrase: &str,
        cost: KdfCost,
    ) -> anyhow::Result<Entry> {
        check_name(name)?;
        if passphrase.is_empty() {
            return Err(KeystoreError::EmptyPassphrase.into());
        }
        if self.path(name).exists() {
            return Err(KeystoreError::Exists(name.to_string()).into());
        }
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let key = derive_key(passphrase, &salt, cost).map_err(|e| anyhow::anyhow!(e))?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let address = keypair.address();
        let secret = Zeroizing::new(keypair.secret_bytes());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_ref(),
                    aad: &aad(&address),
                },
            )
            .map_err(|_| anyhow::anyhow!("encrypting the key failed"))?;
        let file = KeyFile {
            version: FORMAT_VERSION,
            name: name.to_string(),
            address,
            kdf: Some(KdfSection {
                algorithm: "argon2id".into(),
                version: 0x13,
                m_cost_kib: cost.m_cost_kib,
                t_cost: cost.t_cost,
                p_cost: cost.p_cost,
                salt: hex::encode(salt),
            }),
            cipher: Some(CipherSection {
                algorithm: "xchacha20poly1305".into(),
                nonce: hex::encode(nonce),
                ciphertext: hex::encode(ciphertext),
            }),
            insecure_dev_key: None,
        };
        self.write(name, &file)?;
        Ok(Entry {
            name: name.to_string(),
            address,
            kind: KeyKind::Encrypted,
        })
    }

    /// Records the public development key `index` under `name` (no secret is stored).
    pub fn add_dev(&self, name: &str, index: u32) -> anyhow::Result<Entry> {
        check_name(name)?;
        if self.path(name).exists() {
            return Err(KeystoreError::Exists(name.to_string()).into());
        }
        let address = Keypair::dev(index).address();
        let file = KeyFile {
            version: FORMAT_VERSION,
            name: name.to_string(),
            address,
            kdf: None,
            cipher: None,
            insecure_dev_key: Some(index),
        };
        self.write(name, &file)?;
        Ok(Entry {
            name: name.to_string(),
            address,
            kind: KeyKind::InsecureDev(index),
        })
    }

    fn write(&self, name: &str, file: &KeyFile) -> anyhow::Result<()> {
        fsutil::create_private_dir(&self.dir)?;
        let text = serde_json::to_string_pretty(file)?;
        fsutil::write_atomic(&self.path(name), text.as_bytes(), 0o600)
    }

    /// Decrypts the key `name`.
    pub fn unlock(&self, name: &str, passphrase: &str) -> Result<Keypair, KeystoreError> {
        let (path, file) = self.read(name)?;
        if let Some(i) = file.insecure_dev_key {
            return Ok(Keypair::dev(i));
        }
        let damaged = |reason: String| KeystoreError::Damaged {
            path: path.clone(),
            reason,
        };
        let (Some(kdf), Some(c)) = (&file.kdf, &file.cipher) else {
            return Err(damaged("no encrypted secret".into()));
        };
        if kdf.algorithm != "argon2id" || kdf.version != 0x13 {
            return Err(damaged(format!(
                "unsupported kdf {} version {}",
                kdf.algorithm, kdf.version
            )));
        }
        if c.algorithm != "xchacha20poly1305" {
            return Err(damaged(format!("unsupported cipher {}", c.algorithm)));
        }
        let cost = KdfCost {
            m_cost_kib: kdf.m_cost_kib,
            t_cost: kdf.t_cost,
            p_cost: kdf.p_cost,
        };
        if !cost.within_limits() {
            return Err(damaged(format!(
                "kdf cost {cost:?} is beyond what pov accepts"
            )));
        }
        let salt = hex::decode(&kdf.salt).map_err(|e| damaged(format!("salt: {e}")))?;
        let nonce = hex::decode(&c.nonce).map_err(|e| damaged(format!("nonce: {e}")))?;
        let ciphertext =
            hex::decode(&c.ciphertext).map_err(|e| damaged(format!("ciphertext: {e}")))?;
        if nonce.len() != 24 {
            return Err(damaged(format!("nonce is {} bytes, not 24", nonce.len())));
        }
        if ciphertext.len() != 32 + 16 {
            return Err(damaged(format!(
                "ciphertext is {} bytes, not 48",
                ciphertext.len()
            )));
        }
        let key = derive_key(passphrase, &salt, cost).map_err(damaged)?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let secret = cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad(&file.address),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| KeystoreError::WrongPassphrase(name.to_string()))?;
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&secret);
        let keypair = Keypair::from_seed(*seed);
        if keypair.address() != file.address {
            // Unreachable unless the file was forged with the right passphrase.
            return Err(damaged("the secret does not match the address".into()));
        }
        warn_if_readable_by_others(&path);
        Ok(keypair)
    }

    /// Removes the key file `name`.
    pub fn delete(&self, name: &str) -> anyhow::Result<Entry> {
        let entry = self.entry(name)?;
        let path = self.path(name);
        std::fs::remove_file(&path)
            .map_err(|e| anyhow::Error::new(e).context(format!("removing {}", path.display())))?;
        Ok(entry)
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                crate::output::note(&format!(
                    "warning: {} is readable by other users; run `chmod 600 {}`",
                    path.display(),
                    path.display()
                ));
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Parses an imported secret: 64 hex digits, optionally `0x`-prefixed, whitespace ignored.
pub fn parse_secret(text: &str) -> Result<Zeroizing<[u8; 32]>, KeystoreError> {
    let trimmed = text.trim();
    let hex_text = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    let bytes =
        Zeroizing::new(hex::decode(hex_text).map_err(|e| KeystoreError::BadSecret(e.to_string()))?);
    if bytes.len() != 32 {
        return Err(KeystoreError::BadSecret(format!(
            "got {} bytes",
            bytes.len()
        )));
    }
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&bytes);
    Ok(out)
}

/// Where passphrases come from, in order: `--passphrase-file`, `POV_PASSPHRASE`, a
/// no-echo prompt on the terminal. Without any of them the command fails (exit 7) instead
/// of hanging on a prompt nobody sees.
#[derive(Debug, Clone, Default)]
pub struct PassphraseSource {
    /// `--passphrase-file` / `POV_PASSPHRASE_FILE`.
    pub file: Option<PathBuf>,
}

impl PassphraseSource {
    /// Gets a passphrase; `confirm` asks twice when prompting (for new keys).
    pub fn get(&self, prompt: &str, confirm: bool) -> anyhow::Result<Passphrase> {
        if let Some(path) = &self.file {
            let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
                anyhow::Error::new(e).context(format!("reading {}", path.display()))
            })?);
            // The first line, as the help says: a file may hold a trailing comment or
            // several lines, and only the first is the passphrase.
            let line = text.lines().next().unwrap_or("");
            return Ok(Zeroizing::new(line.to_string()));
        }
        if let Ok(p) = std::env::var("POV_PASSPHRASE") {
            return Ok(Zeroizing::new(p));
        }
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return Err(KeystoreError::NoPassphrase.into());
        }
        let first = Zeroizing::new(
            rpassword::prompt_password(prompt).map_err(|_| KeystoreError::NoPassphrase)?,
        );
        if confirm {
            let again = Zeroizing::new(
                rpassword::prompt_password("repeat it: ")
                    .map_err(|_| KeystoreError::NoPassphrase)?,
            );
            if *again != *first {
                return Err(KeystoreError::PassphraseMismatch.into());
            }
        }
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passphrase_file_gives_its_first_line_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("passphrase");
        std::fs::write(&path, "correct horse\r\nsecond line\n").expect("write");
        let source = PassphraseSource { file: Some(path) };
        let got = source.get("passphrase: ", false).expect("read");
        assert_eq!(got.as_str(), "correct horse");
    }

    /// Cheap enough for many unit tests; real keys use [`KdfCost::DEFAULT`].
    const CHEAP: KdfCost = KdfCost {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    fn store() -> (tempfile::TempDir, Keystore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ks = Keystore::new(dir.path().join("keys"));
        (dir, ks)
    }

    #[test]
    fn round_trip_gives_back_the_same_key() {
        let (_d, ks) = store();
        let kp = Keypair::generate();
        let entry = ks
            .create_with_cost("carl", &kp, "correct horse", CHEAP)
            .expect("create");
        assert_eq!(entry.address, kp.address());
        assert_eq!(ks.entry("carl").expect("entry"), entry);
        let back = ks.unlock("carl", "correct horse").expect("unlock");
        assert_eq!(back.secret_bytes(), kp.secret_bytes());
        let (list, damaged) = ks.list().expect("list");
        assert_eq!(list, vec![entry]);
        assert!(damaged.is_empty());
    }

    #[test]
    fn the_default_cost_round_trips_too() {
        let (_d, ks) = store();
        let kp = Keypair::generate();
        ks.create("k", &kp, "pw").expect("create");
        let text = std::fs::read_to_string(ks.path("k")).expect("read");
        assert!(text.contains("\"m_cost_kib\": 65536"), "{text}");
        assert!(!text.contains(&hex::encode(kp.secret_bytes())));
        assert_eq!(
            ks.unlock("k", "pw").expect("unlock").address(),
            kp.address()
        );
    }

    #[test]
    fn wrong_passphrase_is_a_clear_error() {
        let (_d, ks) = store();
        ks.create_with_cost("carl", &Keypair::generate(), "right", CHEAP)
            .expect("create");
        let err = ks.unlock("carl", "wrong").expect_err("wrong passphrase");
        assert!(matches!(err, KeystoreError::WrongPassphrase(ref n) if n == "carl"));
        assert!(err
            .to_string()
            .contains("wrong passphrase for key \"carl\""));
    }

    #[cfg(unix)]
    #[test]
    fn key_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_d, ks) = store();
        ks.create_with_cost("carl", &Keypair::generate(), "pw", CHEAP)
            .expect("create");
        ks.add_dev("alice", 0).expect("dev");
        for name in ["carl", "alice"] {
            let mode = std::fs::metadata(ks.path(name))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
        let mode = std::fs::metadata(ks.dir())
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn tampered_files_are_refused() {
        let (_d, ks) = store();
        let kp = Keypair::generate();
        ks.create_with_cost("carl", &kp, "pw", CHEAP)
            .expect("create");
        let path = ks.path("carl");
        let original = std::fs::read_to_string(&path).expect("read");
        let file: serde_json::Value = serde_json::from_str(&original).expect("json");

        // One flipped bit in the ciphertext: the integrity check fails.
        let ct = file["cipher"]["ciphertext"]
            .as_str()
            .expect("ct")
            .to_string();
        let flipped = format!(
            "{}{}",
            if ct.starts_with('0') { '1' } else { '0' },
            &ct[1..]
        );
        std::fs::write(&path, original.replace(&ct, &flipped)).expect("write");
        assert!(matches!(
            ks.unlock("carl", "pw"),
            Err(KeystoreError::WrongPassphrase(_))
        ));

        // Someone else's address pasted in: the associated data no longer matches.
        let addr = kp.address().to_string();
        let other = Keypair::generate().address().to_string();
        std::fs::write(&path, original.replace(&addr, &other)).expect("write");
        assert!(matches!(
            ks.unlock("carl", "pw"),
            Err(KeystoreError::WrongPassphrase(_))
        ));

        // Truncated ciphertext, garbage, a missing section: damaged, naming the problem.
        std::fs::write(&path, original.replace(&ct, &ct[..40])).expect("write");
        let err = ks.unlock("carl", "pw").expect_err("short");
        assert!(err.to_string().contains("ciphertext is 20 bytes"), "{err}");
        std::fs::write(&path, "{not json").expect("write");
        assert!(matches!(
            ks.unlock("carl", "pw"),
            Err(KeystoreError::Damaged { .. })
        ));
        let (list, damaged) = ks.list().expect("list");
        assert!(list.is_empty());
        assert_eq!(damaged.len(), 1);

        // A huge memory cost is refused before any allocation.
        let greedy = original.replace("\"m_cost_kib\": 64", "\"m_cost_kib\": 4294967295");
        std::fs::write(&path, greedy).expect("write");
        let err = ks.unlock("carl", "pw").expect_err("greedy");
        assert!(err.to_string().contains("beyond what pov accepts"), "{err}");

        std::fs::write(&path, &original).expect("restore");
        assert_eq!(
            ks.unlock("carl", "pw").expect("unlock").address(),
            kp.address()
        );
    }

    /// Every way a key file can be well-formed JSON and still not be one this build can
    /// use: each is refused as damaged, naming the file and what is wrong, before any
    /// decryption is tried.
    #[test]
    fn foreign_and_renamed_key_files_are_refused_with_the_reason() {
        let (_d, ks) = store();
        let kp = Keypair::generate();
        ks.create_with_cost("carl", &kp, "pw", CHEAP)
            .expect("create");
        let path = ks.path("carl");
        let original: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let damaged = |edit: &dyn Fn(&mut serde_json::Value), want: &str| {
            let mut file = original.clone();
            edit(&mut file);
            std::fs::write(&path, file.to_string()).expect("write");
            let err = ks.unlock("carl", "pw").expect_err(want);
            assert!(
                matches!(&err, KeystoreError::Damaged { path: p, .. } if *p == path),
                "{want}: {err}"
            );
            assert!(err.to_string().contains(want), "{err}");
        };
        damaged(
            &|f| f["version"] = 2.into(),
            "format version 2 (this pov reads version 1)",
        );
        damaged(
            &|f| f["kdf"]["algorithm"] = "scrypt".into(),
            "unsupported kdf scrypt version 19",
        );
        damaged(
            &|f| f["kdf"]["version"] = 16.into(),
            "unsupported kdf argon2id version 16",
        );
        damaged(
            &|f| f["cipher"]["algorithm"] = "aes256gcm".into(),
            "unsupported cipher aes256gcm",
        );
        damaged(
            &|f| {
                let nonce = f["cipher"]["nonce"].as_str().expect("nonce")[..32].to_string();
                f["cipher"]["nonce"] = nonce.into();
            },
            "nonce is 16 bytes, not 24",
        );
        damaged(
            &|f| f["cipher"]["nonce"] = "zz".repeat(24).into(),
            "nonce: ",
        );
        std::fs::write(&path, original.to_string()).expect("restore");
        assert_eq!(
            ks.unlock("carl", "pw").expect("unlock").address(),
            kp.address()
        );

        // A key file renamed (or copied) to another name is refused under the new name:
        // the name inside it is the key's, and it is covered by nothing else.
        std::fs::copy(&path, ks.path("dave")).expect("copy");
        let err = ks.entry("dave").expect_err("renamed");
        assert!(
            err.to_string()
                .contains("it names the key \"carl\", but the file is dave.json"),
            "{err}"
        );
        assert!(matches!(
            ks.unlock("dave", "pw"),
            Err(KeystoreError::Damaged { .. })
        ));
        let (listed, damaged) = ks.list().expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(damaged.len(), 1);
    }

    #[test]
    fn names_are_checked_and_not_overwritten() {
        let (_d, ks) = store();
        for bad in [
            "",
            "../x",
            ".hidden",
            "-flag",
            "a/b",
            &"ab".repeat(32),
            &"x".repeat(65),
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        check_name("carl.work-2").expect("ok");
        ks.create_with_cost("carl", &Keypair::generate(), "pw", CHEAP)
            .expect("create");
        let err = ks
            .create_with_cost("carl", &Keypair::generate(), "pw", CHEAP)
            .expect_err("exists");
        assert!(err.to_string().contains("already exists"));
        assert!(ks
            .create_with_cost("empty", &Keypair::generate(), "", CHEAP)
            .is_err());
        assert!(matches!(
            ks.entry("nobody"),
            Err(KeystoreError::NotFound { .. })
        ));
    }

    #[test]
    fn dev_keys_store_no_secret_and_need_no_passphrase() {
        let (_d, ks) = store();
        let e = ks.add_dev("alice", 0).expect("dev");
        assert_eq!(e.kind, KeyKind::InsecureDev(0));
        assert_eq!(
            ks.entry("alice").expect("entry").kind,
            KeyKind::InsecureDev(0)
        );
        assert_eq!(
            ks.unlock("alice", "").expect("unlock").address(),
            Keypair::dev(0).address()
        );
        let text = std::fs::read_to_string(ks.path("alice")).expect("read");
        assert!(!text.contains(&hex::encode(Keypair::dev(0).secret_bytes())));
        // A dev entry whose address was changed is refused.
        let other = Keypair::dev(1).address().to_string();
        let addr = Keypair::dev(0).address().to_string();
        std::fs::write(ks.path("alice"), text.replace(&addr, &other)).expect("write");
        assert!(matches!(
            ks.entry("alice"),
            Err(KeystoreError::Damaged { .. })
        ));
    }

    #[test]
    fn secrets_parse_strictly() {
        let kp = Keypair::generate();
        let text = format!("0x{}\n", hex::encode(kp.secret_bytes()));
        assert_eq!(*parse_secret(&text).expect("parse"), kp.secret_bytes());
        assert!(parse_secret("abcd").is_err());
        assert!(parse_secret(&"zz".repeat(32)).is_err());
    }
}
