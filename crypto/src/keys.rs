//! Account keys: the ed25519 key pair a member signs with and the address that names it.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use thiserror::Error;

use crate::hex_text::fixed_bytes_text;
use crate::signature::Signature;

/// A member's or validator's address: its 32-byte ed25519 public key, shown as lowercase hex.
///
/// Any 32 bytes can be carried in a transaction, so an `Address` is not known to be a valid
/// key until [`Address::verifying_key`] says so; accounts are only ever created for addresses
/// that pass it (spec section 7: weak keys are rejected when an account is created).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 32]);

fixed_bytes_text!(Address, 32, "address");

/// Why 32 bytes are not usable as an account key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The bytes are not the compressed form of a point on the curve.
    #[error("address {0} is not a valid ed25519 public key")]
    NotAPoint(Address),
    /// The key has small order: signatures under it prove nothing.
    #[error("address {0} is a weak (small-order) ed25519 key and cannot hold an account")]
    Weak(Address),
}

impl Address {
    /// The raw public-key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Decompresses the key, rejecting bytes that are not a point and small-order points.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| KeyError::NotAPoint(*self))?;
        if key.is_weak() {
            return Err(KeyError::Weak(*self));
        }
        Ok(key)
    }
}

/// An ed25519 signing key together with its address.
///
/// The secret never leaves this type except through [`Keypair::secret_bytes`], which the
/// wallet uses to encrypt it into its keystore.
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret, not even in a debug log.
        write!(f, "Keypair({})", self.address())
    }
}

impl Keypair {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        Self {
            signing: SigningKey::generate(&mut rand_core::OsRng),
        }
    }

    /// The key whose secret is `seed` (the 32-byte ed25519 secret key).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            signing: SigningKey::from_bytes(&seed),
        }
    }

    /// The deterministic development key number `index`.
    ///
    /// Dev keys are public knowledge (anyone can derive them), which is what a local devnet
    /// wants: every tool and test can sign as `alice` without a keystore. They must never
    /// hold value on a real cooperative.
    pub fn dev(index: u32) -> Self {
        let seed = crate::hash_parts(&[b"pov/dev-key/v1", &index.to_le_bytes()]);
        Self::from_seed(seed.0)
    }

    /// The public key, which is the account's address.
    pub fn address(&self) -> Address {
        Address(self.signing.verifying_key().to_bytes())
    }

    /// Signs `message` (always the canonical bytes of a value, never free text).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing.sign(message).to_bytes())
    }

    /// The 32-byte secret, for the wallet's encrypted keystore.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_keys_are_deterministic_and_distinct() {
        assert_eq!(Keypair::dev(0).address(), Keypair::dev(0).address());
        assert_ne!(Keypair::dev(0).address(), Keypair::dev(1).address());
        let k = Keypair::dev(3);
        assert_eq!(Keypair::from_seed(k.secret_bytes()).address(), k.address());
    }

    #[test]
    fn weak_and_invalid_keys_are_rejected() {
        // The identity point (small order) encodes as 1 followed by zeros.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            Address(identity).verifying_key(),
            Err(KeyError::Weak(_))
        ));
        // y = 2 is not on the curve.
        let mut not_point = [0u8; 32];
        not_point[0] = 2;
        assert!(matches!(
            Address(not_point).verifying_key(),
            Err(KeyError::NotAPoint(_))
        ));
        assert!(Keypair::generate().address().verifying_key().is_ok());
    }

    #[test]
    fn debug_does_not_leak_the_secret() {
        let k = Keypair::dev(0);
        let shown = format!("{k:?}");
        assert!(!shown.contains(&hex::encode(k.secret_bytes())));
        assert!(shown.contains(&k.address().to_string()));
    }
}
