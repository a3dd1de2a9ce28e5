//! ed25519 signatures and the one rule that decides whether a signature is valid.
//!
//! Every node must accept exactly the same set of signatures, or one block could be valid
//! on some nodes and invalid on others. The rule is `ed25519-dalek`'s `verify_strict`
//! (spec section 7). `ed25519-dalek`'s `verify_batch` accepts a different set (it is the
//! cofactored equation), so it is not used anywhere: [`verify_many`] applies the strict
//! single check to each item, and so accepts precisely what [`Signature::verify`] accepts.

use std::sync::atomic::{AtomicU64, Ordering};

use ed25519_dalek::VerifyingKey;
use thiserror::Error;

use crate::hex_text::fixed_bytes_text;
use crate::keys::{Address, KeyError};

/// A 64-byte ed25519 signature.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

fixed_bytes_text!(Signature, 64, "signature");

impl Default for Signature {
    fn default() -> Self {
        Signature([0u8; 64])
    }
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// The signer's key is unusable.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The signature does not verify under the strict rule.
    #[error("signature does not verify for {0}")]
    Invalid(Address),
}

/// Signatures checked by this process (every kind: transactions, votes, certificates).
static VERIFICATIONS: AtomicU64 = AtomicU64::new(0);

/// How many signatures this process has checked so far, valid or not: what a node's
/// metrics report, since verification is the costliest step of a transaction's path.
pub fn verifications() -> u64 {
    VERIFICATIONS.load(Ordering::Relaxed)
}

impl Signature {
    /// Checks the signature of `signer` over `message` with `verify_strict`.
    pub fn verify(&self, signer: &Address, message: &[u8]) -> Result<(), SignatureError> {
        VERIFICATIONS.fetch_add(1, Ordering::Relaxed);
        let key = signer.verifying_key()?;
        verify_with(&key, signer, message, self)
    }
}

fn verify_with(
    key: &VerifyingKey,
    signer: &Address,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let sig = ed25519_dalek::Signature::from_bytes(&signature.0);
    key.verify_strict(message, &sig)
        .map_err(|_| SignatureError::Invalid(*signer))
}

/// Verifies several signatures, answering for each one exactly as [`Signature::verify`] would.
///
/// This is the only multi-signature entry point (used for commit certificates). It is a loop
/// over the strict check on purpose: see the module documentation.
pub fn verify_many<'a, I>(items: I) -> Vec<Result<(), SignatureError>>
where
    I: IntoIterator<Item = (&'a Address, &'a [u8], &'a Signature)>,
{
    items
        .into_iter()
        .map(|(signer, message, sig)| sig.verify(signer, message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Keypair;
    use proptest::prelude::*;

    #[test]
    fn sign_and_verify() {
        let k = Keypair::dev(1);
        let sig = k.sign(b"hello");
        assert_eq!(sig.verify(&k.address(), b"hello"), Ok(()));
        assert_eq!(
            sig.verify(&k.address(), b"hellp"),
            Err(SignatureError::Invalid(k.address()))
        );
        assert_eq!(
            sig.verify(&Keypair::dev(2).address(), b"hello"),
            Err(SignatureError::Invalid(Keypair::dev(2).address()))
        );
    }

    #[test]
    fn non_canonical_s_is_rejected() {
        // Adding the group order L to s gives a signature that lax verifiers accept.
        let k = Keypair::dev(4);
        let mut sig = k.sign(b"m");
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (byte, l) in sig.0[32..].iter_mut().zip(L) {
            let sum = u16::from(*byte) + u16::from(l) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        assert!(sig.verify(&k.address(), b"m").is_err());
    }

    proptest! {
        #[test]
        fn many_agrees_with_single(
            msgs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..6),
            flips in proptest::collection::vec(any::<bool>(), 6),
        ) {
            let keys: Vec<Keypair> = (0..msgs.len() as u32).map(Keypair::dev).collect();
            let addrs: Vec<Address> = keys.iter().map(Keypair::address).collect();
            let mut sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
            for (sig, flip) in sigs.iter_mut().zip(&flips) {
                if *flip { sig.0[5] ^= 1; }
            }
            let batch = verify_many(
                addrs.iter().zip(&msgs).zip(&sigs).map(|((a, m), s)| (a, m.as_slice(), s)),
            );
            for (i, got) in batch.iter().enumerate() {
                prop_assert_eq!(got, &sigs[i].verify(&addrs[i], &msgs[i]));
                prop_assert_eq!(got.is_ok(), !flips[i]);
            }
        }
    }
}
