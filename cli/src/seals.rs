//! The secrets of sealed evaluations (protocol 1.2): the value and salt of each commitment,
//! kept encrypted in the keystore folder until `pov reveal` opens the commitment.
//!
//! **Lose the file, lose the reveal**: a commitment can only be opened with its value and
//! its salt (32 random bytes), and nothing else holds them. An unrevealed commitment forfeits
//! its stake at settlement. Back up the keystore folder (`seals/` included) with the keys.
//!
//! One file per commitment, `<keystore>/seals/<chain>/<member address>/<contribution>-<first
//! 16 hex of the commitment>.json`, mode 0600, so a replaced commitment's file stays until
//! the replacement is final (if it never is, the old commitment is still the live one). The
//! value and salt are encrypted with XChaCha20-Poly1305 under a key only the member's signing
//! key can make: blake3's key derivation over the member's (deterministic, RFC 8032) ed25519
//! signature of a fixed message naming the chain. The chain, contribution, member and
//! commitment are bound to the ciphertext as associated data. So reading the folder does
//! not tell anyone how a member voted, and revealing needs the key that committed.
//!
//! ```json
//! {"version": 1, "chain_id": "pov-devnet", "contribution": 3, "member": "<64 hex>",
//!  "commitment": "<64 hex>", "nonce": "<48 hex>", "ciphertext": "<112 hex>"}
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use pov_crypto::{Address, Hash, Keypair, Salt};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::fsutil;

/// The seal file format version this build writes and reads.
const FORMAT_VERSION: u32 = 1;
/// The message whose signature (with the chain id after it) keys a member's seal files.
const KEY_MESSAGE: &[u8] = b"pov/seal-file-key/v1";
/// blake3 key-derivation context for that key.
const KDF_CONTEXT: &str = "pov 2026-11-30 seal file key v1";
/// Associated-data tag of a seal file's ciphertext.
const AAD_DOMAIN: &[u8] = b"pov/seal-file/v1";

/// A commitment's secret: what `pov reveal` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secret {
    /// The committed value.
    pub value: i64,
    /// The salt.
    pub salt: Salt,
}

/// A seal file as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealFile {
    version: u32,
    chain_id: String,
    contribution: u64,
    member: Address,
    commitment: Hash,
    nonce: String,
    ciphertext: String,
}

/// A stored commitment, as listed (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The contribution.
    pub contribution: u64,
    /// The commitment hash.
    pub commitment: Hash,
    /// Its file.
    pub path: PathBuf,
}

/// The seal files of one keystore.
#[derive(Debug, Clone)]
pub struct Seals {
    dir: PathBuf,
}

fn file_key(keypair: &Keypair, chain_id: &str) -> Zeroizing<[u8; 32]> {
    let mut message = KEY_MESSAGE.to_vec();
    message.extend_from_slice(chain_id.as_bytes());
    let signature = keypair.sign(&message);
    Zeroizing::new(blake3::derive_key(KDF_CONTEXT, &signature.0))
}

fn aad(chain_id: &str, contribution: u64, member: &Address, commitment: &Hash) -> Vec<u8> {
    let mut out = AAD_DOMAIN.to_vec();
    out.extend_from_slice(&(chain_id.len() as u64).to_le_bytes());
    out.extend_from_slice(chain_id.as_bytes());
    out.extend_from_slice(&contribution.to_le_bytes());
    out.extend_from_slice(member.as_bytes());
    out.extend_from_slice(commitment.as_bytes());
    out
}

impl Seals {
    /// The seal files under `keystore_dir/seals`.
    pub fn new(keystore_dir: &Path) -> Seals {
        Seals {
            dir: keystore_dir.join("seals"),
        }
    }

    /// The folder of one member's seal files on one chain (the chain id as hex of its
    /// blake3, so any chain id makes a safe file name).
    fn member_dir(&self, chain_id: &str, member: &Address) -> PathBuf {
        let chain = pov_crypto::hash(chain_id.as_bytes()).to_string();
        self.dir.join(&chain[..16]).join(member.to_string())
    }

    /// Encrypts and writes the secret of `commitment` before it is sent, and returns the
    /// file's path.
    pub fn save(
        &self,
        keypair: &Keypair,
        chain_id: &str,
        contribution: u64,
        commitment: &Hash,
        secret: &Secret,
    ) -> anyhow::Result<PathBuf> {
        let member = keypair.address();
        let dir = self.member_dir(chain_id, &member);
        fsutil::create_private_dir(&self.dir)?;
        fsutil::create_private_dir(dir.parent().unwrap_or(&dir))?;
        fsutil::create_private_dir(&dir)?;
        let mut plain = Zeroizing::new(Vec::with_capacity(40));
        plain.extend_from_slice(&secret.value.to_le_bytes());
        plain.extend_from_slice(secret.salt.as_bytes());
        let mut nonce = [0u8; 24];
        OsRng.fill_bytes(&mut nonce);
        let key = file_key(keypair, chain_id);
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad(chain_id, contribution, &member, commitment),
                },
            )
            .map_err(|_| anyhow::anyhow!("encrypting the seal file failed"))?;
        let file = SealFile {
            version: FORMAT_VERSION,
            chain_id: chain_id.to_string(),
            contribution,
            member,
            commitment: *commitment,
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        };
        let path = dir.join(format!(
            "{contribution}-{}.json",
            &commitment.to_string()[..16]
        ));
        let text = serde_json::to_string_pretty(&file)?;
        fsutil::write_atomic(&path, text.as_bytes(), 0o600)?;
        Ok(path)
    }

    /// Every stored commitment of `member` on `chain_id` (files that do not parse are
    /// skipped with a warning by the caller: they are returned as errors).
    pub fn list(
        &self,
        chain_id: &str,
        member: &Address,
    ) -> anyhow::Result<(Vec<Stored>, Vec<String>)> {
        let dir = self.member_dir(chain_id, member);
        let mut out = Vec::new();
        let mut damaged = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((out, damaged)),
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let path = entry
                .with_context(|| format!("reading {}", dir.display()))?
                .path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match read_file(&path) {
                Ok(f) if f.chain_id == chain_id && f.member == *member => out.push(Stored {
                    contribution: f.contribution,
                    commitment: f.commitment,
                    path,
                }),
                Ok(_) => damaged.push(format!(
                    "{}: belongs to another chain or member",
                    path.display()
                )),
                Err(e) => damaged.push(format!("{e:#}")),
            }
        }
        out.sort_by_key(|s| (s.contribution, s.commitment));
        Ok((out, damaged))
    }

    /// The secret of `commitment` on `contribution`, decrypted with the member's key.
    pub fn open(
        &self,
        keypair: &Keypair,
        chain_id: &str,
        contribution: u64,
        commitment: &Hash,
    ) -> anyhow::Result<Option<Secret>> {
        let member = keypair.address();
        let (stored, _) = self.list(chain_id, &member)?;
        let Some(found) = stored
            .iter()
            .find(|s| s.contribution == contribution && s.commitment == *commitment)
        else {
            return Ok(None);
        };
        let file = read_file(&found.path)?;
        let damaged = |what: &str| anyhow::anyhow!("{}: {what}", found.path.display());
        let nonce = hex::decode(&file.nonce).map_err(|_| damaged("the nonce is not hex"))?;
        let ciphertext =
            hex::decode(&file.ciphertext).map_err(|_| damaged("the ciphertext is not hex"))?;
        if nonce.len() != 24 {
            return Err(damaged("the nonce is not 24 bytes"));
        }
        let key = file_key(keypair, chain_id);
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let plain = cipher
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad(chain_id, contribution, &member, commitment),
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                damaged("it does not decrypt with this key (modified, or written by another key)")
            })?;
        if plain.len() != 40 {
            return Err(damaged("the secret is not 40 bytes"));
        }
        let mut value = [0u8; 8];
        value.copy_from_slice(&plain[..8]);
        let mut salt = [0u8; 32];
        salt.copy_from_slice(&plain[8..]);
        Ok(Some(Secret {
            value: i64::from_le_bytes(value),
            salt: Salt(salt),
        }))
    }
}

fn read_file(path: &Path) -> anyhow::Result<SealFile> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: SealFile = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a seal file", path.display()))?;
    if file.version != FORMAT_VERSION {
        anyhow::bail!(
            "{}: seal file version {} (this pov reads {FORMAT_VERSION})",
            path.display(),
            file.version
        );
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_only_with_its_key_and_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let seals = Seals::new(dir.path());
        let alice = Keypair::dev(0);
        let secret = Secret {
            value: 4,
            salt: Salt::random(),
        };
        let commitment = pov_crypto::hash(b"a commitment");
        let path = seals
            .save(&alice, "coop", 7, &commitment, &secret)
            .expect("save");
        assert_eq!(
            seals.open(&alice, "coop", 7, &commitment).expect("open"),
            Some(secret)
        );
        // The file does not hold the value or the salt in clear.
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(!text.contains(&secret.salt.to_string()), "{text}");
        // Another member's key finds nothing of alice's, and cannot decrypt her file.
        let bob = Keypair::dev(1);
        assert_eq!(
            seals.open(&bob, "coop", 7, &commitment).expect("open"),
            None
        );
        let (listed, damaged) = seals.list("coop", &alice.address()).expect("list");
        assert_eq!(listed.len(), 1);
        assert!(damaged.is_empty());
        // Another chain's folder is another folder.
        assert_eq!(
            seals.open(&alice, "other", 7, &commitment).expect("open"),
            None
        );
        // A modified ciphertext is refused with the file named.
        let tampered = text.replace("\"ciphertext\": \"", "\"ciphertext\": \"00");
        std::fs::write(&path, tampered).expect("write");
        let e = seals
            .open(&alice, "coop", 7, &commitment)
            .expect_err("tampered");
        assert!(e.to_string().contains("does not decrypt"), "{e}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
    }
}
