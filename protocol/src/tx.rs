//! Transactions (spec section 5): what a member signs and sends.

use pov_crypto::{Address, Hash, Keypair, Signature};
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::params::EvalValue;
use crate::state::ContributionId;

/// Longest contribution title, in bytes of UTF-8.
pub const MAX_TITLE_BYTES: usize = 200;
/// Longest contribution URI, in bytes.
pub const MAX_URI_BYTES: usize = 2048;
/// Longest contribution kind name, in bytes.
pub const MAX_KIND_BYTES: usize = 64;
/// Longest member name, in bytes of UTF-8 (spec section 5, v1.1).
pub const MAX_NAME_BYTES: usize = 64;

/// Checks a member name's content (its length is checked against [`MAX_NAME_BYTES`]
/// separately): no control characters, and not 64 hex digits, which would read as an
/// address wherever a command accepts "a name or an address". The empty name is allowed.
pub fn check_member_name(name: &str) -> Result<(), &'static str> {
    if name.chars().any(char::is_control) {
        return Err("names may not hold control characters");
    }
    if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("a name of 64 hex digits would read as an address");
    }
    if name.trim() != name {
        return Err("names may not start or end with whitespace");
    }
    Ok(())
}

/// Prefix of every transaction's signing bytes, so that no other signed object of `pov`
/// (a consensus vote, say) can ever be replayed as a transaction. `v3` (protocol 1.2.1):
/// the genesis hash follows the tag.
const TX_SIGN_DOMAIN: &[u8] = b"pov/tx/v3";

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum TxBody {
    /// Submit a contribution; the sender pays its type's fee.
    Contribute {
        /// The contribution type (a key of the genesis `params.types`).
        kind: String,
        /// A short human title.
        title: String,
        /// Where the work lives (may be empty when `content_hash` is given).
        #[serde(default)]
        uri: String,
        /// blake3 of the work itself, if the contributor wants it pinned.
        #[serde(default)]
        content_hash: Option<Hash>,
    },
    /// Evaluate a contribution (spec section 4).
    Evaluate {
        /// The contribution's id.
        contribution: ContributionId,
        /// A value of the contribution's evaluation set.
        value: EvalValue,
    },
    /// Send tokens to another member.
    Transfer {
        /// The recipient.
        to: Address,
        /// How many tokens.
        amount: Amount,
    },
    /// Admit a new member (referred by the sender).
    Admit {
        /// The newcomer's public key.
        member: Address,
        /// Its display name (v1.1): at most 64 bytes, may be empty; a non-empty name is
        /// unique in the cooperative.
        #[serde(default)]
        name: String,
    },
    /// Propose parameter changes, decided by evaluation (spec section 11, v1.1).
    ProposeParams {
        /// A short human title.
        title: String,
        /// Where the reasoning lives (may be empty).
        #[serde(default)]
        uri: String,
        /// The changes, applied in this order when the proposal passes.
        changes: Vec<crate::governance::ParamChange>,
    },
    /// Commit to a hidden value on a sealed contribution, in its commit window (spec
    /// section 12, v1.2). The stake is taken now; a later commitment replaces this one.
    Commit {
        /// The contribution's id.
        contribution: ContributionId,
        /// [`crate::sealed::commitment`] of the value and a secret salt.
        commitment: Hash,
    },
    /// Open one's live commitment on a sealed contribution, in its reveal window (spec
    /// section 12, v1.2).
    Reveal {
        /// The contribution's id.
        contribution: ContributionId,
        /// The committed value.
        value: EvalValue,
        /// The salt the commitment was made with.
        salt: pov_crypto::Salt,
    },
}

/// A signed transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// The cooperative it is meant for (replay protection across chains). The signature
    /// also covers the genesis hash, which is not sent: two cooperatives that chose the
    /// same chain id still cannot replay each other's transactions.
    pub chain_id: String,
    /// The signer, whose account pays.
    pub sender: Address,
    /// The sender's nonce plus one (replay protection within the chain).
    pub nonce: u64,
    /// What it does.
    pub body: TxBody,
    /// ed25519 over [`Transaction::signing_bytes`] (with the chain's genesis hash).
    pub signature: Signature,
}

/// The signed part of a transaction: everything but the signature, in field order.
#[derive(Serialize)]
struct Unsigned<'a> {
    chain_id: &'a str,
    sender: &'a Address,
    nonce: u64,
    body: &'a TxBody,
}

impl Transaction {
    /// Builds and signs a transaction for the chain of `chain_id` and `genesis_hash` (the
    /// hash of its genesis, [`crate::genesis::Genesis::hash`]; a node's `GET /status`
    /// shows it).
    pub fn sign(
        keypair: &Keypair,
        chain_id: &str,
        genesis_hash: &Hash,
        nonce: u64,
        body: TxBody,
    ) -> Transaction {
        let mut tx = Transaction {
            chain_id: chain_id.to_string(),
            sender: keypair.address(),
            nonce,
            body,
            signature: Signature::default(),
        };
        tx.signature = keypair.sign(&tx.signing_bytes(genesis_hash));
        tx
    }

    /// The bytes the sender signs: a domain tag, the genesis hash of the chain it is meant
    /// for, then the canonical bytes of all the rest.
    ///
    /// The genesis hash is signed but not sent: every node knows its own, and 32 bytes
    /// less per transaction is worth more than an error that could name a wrong genesis
    /// (a transaction of another genesis with the same chain id fails its signature check).
    pub fn signing_bytes(&self, genesis_hash: &Hash) -> Vec<u8> {
        let unsigned = Unsigned {
            chain_id: &self.chain_id,
            sender: &self.sender,
            nonce: self.nonce,
            body: &self.body,
        };
        let mut out = TX_SIGN_DOMAIN.to_vec();
        out.extend_from_slice(genesis_hash.as_bytes());
        // Serializing plain structs into a Vec cannot fail.
        out.extend(postcard::to_stdvec(&unsigned).unwrap_or_default());
        out
    }

    /// The canonical bytes of the whole transaction.
    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    /// Decodes canonical bytes, refusing trailing garbage and non-canonical encodings.
    pub fn from_bytes(bytes: &[u8]) -> Result<Transaction, crate::codec::DecodeError> {
        crate::codec::decode_canonical(bytes)
    }

    /// The transaction's id: blake3 of its canonical bytes.
    pub fn hash(&self) -> Hash {
        pov_crypto::hash(&self.to_bytes())
    }

    /// Checks the signature with the strict rule of spec section 7, for the chain whose
    /// genesis hash is `genesis_hash`.
    pub fn verify_signature(&self, genesis_hash: &Hash) -> Result<(), pov_crypto::SignatureError> {
        crate::counters::count_signature_check();
        self.signature
            .verify(&self.sender, &self.signing_bytes(genesis_hash))
    }
}
