//! Reputation proofs (spec section 10): a member's standing at one height, as a file that
//! anyone can check offline with nothing but the cooperative's genesis.
//!
//! A proof of member `a` at height `h` holds the genesis hash, the header of block `h`, that
//! block's commit certificate, the canonical bytes of `a`'s state entry and of the chain-wide
//! entry (which holds `R` and the token supply), and the Merkle path of each to the header's
//! `state_root`. It is a JSON document (`format: "pov-proof/1"`) whose other fields are the
//! lowercase hex of canonical bytes, so that what is checked is exactly what is signed and
//! hashed, and a reformatted file is still the same proof ([`ReputationProof::hash`]).
//!
//! [`ReputationProof::verify`] checks, in order, and stops at the first failure with its
//! reason ([`ProofError`]):
//!
//! 1. the format, and that every field is canonical hex of canonical bytes;
//! 2. the genesis hash is the given genesis's (else: a proof of another cooperative);
//! 3. the header's chain id and `validator_set_hash` are the genesis's;
//! 4. the certificate is for that header's height and hash and carries valid signatures
//!    (`verify_strict`) from validators holding more than 2/3 of the genesis power;
//! 5. the chain-wide entry is leaf 0 of the header's state tree, of this chain and height;
//! 6. the member's entry is a member leaf of the same tree (else: not a member at `h`).
//!
//! It then states: at height `h` (time `t`), member `a` held reputation `r`, a share `r / R`,
//! and tokens; and which validators certified it. A proof says nothing of the present (later
//! blocks never invalidate it; how recent it must be is the checker's choice), and validators
//! holding more than 2/3 of the power can certify anything, exactly as with blocks.

use std::fmt;

use pov_crypto::{Address, Hash};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use thiserror::Error;

use crate::amount::Amount;
use crate::block::{BlockHeader, Certificate, CertificateError};
use crate::codec::{self, DecodeError};
use crate::genesis::Genesis;
use crate::merkle;
use crate::state::{ChainEntry, Member, State};

/// The `format` of a proof document this version writes and reads.
pub const FORMAT: &str = "pov-proof/1";

/// The domain tag of a proof's identity ([`ReputationProof::hash`]).
pub const HASH_DOMAIN: &str = "pov/proof/v1";

/// Bytes written as lowercase hex in JSON (and as a byte string in canonical bytes).
///
/// Reading refuses upper case, a `0x` prefix and odd lengths: a proof document has one text
/// form per value, so a changed character is always a changed proof.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct HexBytes(pub Vec<u8>);

impl fmt::Debug for HexBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", hex::encode(&self.0))
    }
}

impl Serialize for HexBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&hex::encode(&self.0))
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for HexBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            if let Some((i, c)) = text
                .char_indices()
                .find(|(_, c)| !matches!(c, '0'..='9' | 'a'..='f'))
            {
                return Err(D::Error::custom(format!(
                    "{c:?} at position {i} is not a lowercase hex digit"
                )));
            }
            hex::decode(&text)
                .map(HexBytes)
                .map_err(|e| D::Error::custom(e.to_string()))
        } else {
            Ok(HexBytes(serde_bytes_vec(d)?))
        }
    }
}

/// Reads a byte string (postcard writes `serialize_bytes` as a length and the bytes).
fn serde_bytes_vec<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a byte string")
        }
        fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
            Ok(v.to_vec())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(v)
        }
    }
    d.deserialize_byte_buf(V)
}

/// A reputation proof document (spec section 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReputationProof {
    /// Always [`FORMAT`].
    pub format: String,
    /// The cooperative's genesis hash (32 bytes).
    pub genesis_hash: HexBytes,
    /// Canonical bytes of the header of block `h`.
    pub header: HexBytes,
    /// Canonical bytes of block `h`'s commit certificate.
    pub certificate: HexBytes,
    /// Canonical bytes of the member's state entry at `h`.
    pub member_entry: HexBytes,
    /// Canonical bytes of the member entry's Merkle path to the header's state root.
    pub member_path: HexBytes,
    /// Canonical bytes of the chain-wide state entry at `h` (with `R` and the token supply).
    pub chain_entry: HexBytes,
    /// Canonical bytes of the chain-wide entry's Merkle path to the header's state root.
    pub chain_path: HexBytes,
}

/// The binary content of a proof, in field order: what [`ReputationProof::hash`] hashes.
#[derive(Serialize)]
struct ProofBytes<'a> {
    domain: &'a str,
    genesis_hash: &'a HexBytes,
    header: &'a HexBytes,
    certificate: &'a HexBytes,
    member_entry: &'a HexBytes,
    member_path: &'a HexBytes,
    chain_entry: &'a HexBytes,
    chain_path: &'a HexBytes,
}

/// What a valid proof states.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenStanding {
    /// The cooperative.
    pub chain_id: String,
    /// Its genesis hash.
    pub genesis_hash: Hash,
    /// The height of the proven state.
    pub height: u64,
    /// That block's time, milliseconds since the Unix epoch (the proposer's clock).
    pub time_ms: u64,
    /// That block's hash.
    pub block_hash: Hash,
    /// The member.
    pub member: Address,
    /// Its name on chain (may be empty).
    pub name: String,
    /// Its reputation at that height.
    pub reputation: Amount,
    /// Its tokens at that height.
    pub tokens: Amount,
    /// `R` at that height.
    pub total_reputation: Amount,
    /// The token supply at that height.
    pub total_tokens: Amount,
    /// `r / R` (0 when `R` is 0), rounded to 12 places.
    pub share: Amount,
    /// The validators whose precommits certified the block, in the certificate's order.
    pub signers: Vec<Signer>,
    /// Their power together.
    pub signed_power: u64,
    /// The genesis validators' total power.
    pub total_power: u64,
    /// The proof's identity ([`ReputationProof::hash`]).
    pub proof_hash: Hash,
}

/// A validator that certified the proven block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// Its consensus key.
    pub validator: Address,
    /// Its voting power in the genesis.
    pub power: u64,
}

/// Why a proof does not verify. Each says what failed; none is ever "probably fine".
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError {
    /// Not a proof document at all.
    #[error("not a reputation proof document: {0}")]
    Document(String),
    /// Another format (or version) than this build reads.
    #[error("unknown proof format {0:?} (this build reads {FORMAT:?})")]
    Format(String),
    /// A field's bytes do not decode, or not canonically.
    #[error("field `{field}` is damaged: {error}")]
    Field {
        /// The JSON field.
        field: &'static str,
        /// What is wrong with its bytes.
        #[source]
        error: DecodeError,
    },
    /// The proof is of another cooperative.
    #[error("the proof is of another cooperative: its genesis hash is {proof}, this genesis's is {genesis}")]
    OtherGenesis {
        /// The proof's genesis hash (hex).
        proof: String,
        /// The given genesis's hash.
        genesis: Hash,
    },
    /// The given genesis itself cannot be used (no validators, ...).
    #[error("the genesis cannot check proofs: {0}")]
    Genesis(String),
    /// The header names another chain.
    #[error("the header is of chain {header:?}, the genesis is {genesis:?}")]
    ChainId {
        /// The header's chain id.
        header: String,
        /// The genesis's chain id.
        genesis: String,
    },
    /// The header commits to another validator set than the genesis's.
    #[error("the header's validator_set_hash {header} is not the genesis validators' {genesis}")]
    ValidatorSet {
        /// The header's.
        header: Hash,
        /// The genesis's.
        genesis: Hash,
    },
    /// The certificate does not make the header's block final.
    #[error("the certificate does not make block {height} final: {error}")]
    Certificate {
        /// The header's height.
        height: u64,
        /// Why.
        #[source]
        error: CertificateError,
    },
    /// The chain-wide entry is not the state's at the header.
    #[error("the chain-wide entry is not in the state of block {height}: {reason}")]
    ChainEntry {
        /// The header's height.
        height: u64,
        /// What does not match.
        reason: String,
    },
    /// The member's entry is not in the state at the header: it was not a member then (or
    /// the entry was altered).
    #[error("member {member} was not a member at height {height} with this entry: its Merkle path does not lead to that block's state root")]
    NotAMember {
        /// The member the entry names.
        member: Address,
        /// The header's height.
        height: u64,
    },
}

fn field<T: Serialize + DeserializeOwned>(
    name: &'static str,
    bytes: &HexBytes,
) -> Result<T, ProofError> {
    codec::decode_canonical(&bytes.0).map_err(|error| ProofError::Field { field: name, error })
}

/// Why a proof cannot be made from a state.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProveError {
    /// The address is not a member of that state.
    #[error("{member} was not a member at height {height}")]
    NotAMember {
        /// The address asked for.
        member: Address,
        /// The height.
        height: u64,
    },
    /// The state given is not the one the header commits to.
    #[error("the state (root {state}) is not the one block {height} commits to ({header})")]
    WrongState {
        /// The block's height.
        height: u64,
        /// The state's root.
        state: Hash,
        /// The header's root.
        header: Hash,
    },
}

impl ReputationProof {
    /// The proof of `member` in `state`, the state after the block `header` heads and
    /// `certificate` makes final.
    pub fn new(
        genesis_hash: Hash,
        header: &BlockHeader,
        certificate: &Certificate,
        state: &State,
        member: &Address,
    ) -> Result<ReputationProof, ProveError> {
        let not_a_member = || ProveError::NotAMember {
            member: *member,
            height: header.height,
        };
        let (_, entry) = state.member_by_address(member).ok_or_else(not_a_member)?;
        let (root, member_path, chain_path) =
            state.prove_standing(member).ok_or_else(not_a_member)?;
        if root != header.state_root || state.height() != header.height {
            return Err(ProveError::WrongState {
                height: header.height,
                state: root,
                header: header.state_root,
            });
        }
        Ok(ReputationProof {
            format: FORMAT.to_string(),
            genesis_hash: HexBytes(genesis_hash.as_bytes().to_vec()),
            header: HexBytes(codec::encode(header)),
            certificate: HexBytes(codec::encode(certificate)),
            member_entry: HexBytes(codec::encode(entry)),
            member_path: HexBytes(codec::encode(&member_path)),
            chain_entry: HexBytes(codec::encode(&state.chain_entry())),
            chain_path: HexBytes(codec::encode(&chain_path)),
        })
    }

    /// Reads a proof document (JSON), refusing unknown or missing fields.
    pub fn from_json(text: &str) -> Result<ReputationProof, ProofError> {
        serde_json::from_str(text).map_err(|e| ProofError::Document(e.to_string()))
    }

    /// The proof as a JSON document, pretty-printed.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The proof's identity: blake3 of its binary content (every field's bytes, in order,
    /// under the domain tag `pov/proof/v1`), so reformatting the JSON changes nothing. A
    /// genesis member's `provenance` names its proof by this hash.
    pub fn hash(&self) -> Hash {
        pov_crypto::hash(&codec::encode(&ProofBytes {
            domain: HASH_DOMAIN,
            genesis_hash: &self.genesis_hash,
            header: &self.header,
            certificate: &self.certificate,
            member_entry: &self.member_entry,
            member_path: &self.member_path,
            chain_entry: &self.chain_entry,
            chain_path: &self.chain_path,
        }))
    }

    /// Checks the proof against `genesis` alone (see the module docs for the steps) and
    /// returns what it proves.
    pub fn verify(&self, genesis: &Genesis) -> Result<ProvenStanding, ProofError> {
        if self.format != FORMAT {
            return Err(ProofError::Format(self.format.clone()));
        }
        let genesis_hash = genesis.hash();
        if self.genesis_hash.0 != genesis_hash.as_bytes() {
            return Err(ProofError::OtherGenesis {
                proof: hex::encode(&self.genesis_hash.0),
                genesis: genesis_hash,
            });
        }
        let header: BlockHeader = field("header", &self.header)?;
        let certificate: Certificate = field("certificate", &self.certificate)?;
        let member: Member = field("member_entry", &self.member_entry)?;
        let member_path: merkle::Proof = field("member_path", &self.member_path)?;
        let chain: ChainEntry = field("chain_entry", &self.chain_entry)?;
        let chain_path: merkle::Proof = field("chain_path", &self.chain_path)?;

        if header.chain_id != genesis.chain_id {
            return Err(ProofError::ChainId {
                header: header.chain_id,
                genesis: genesis.chain_id.clone(),
            });
        }
        let validators = genesis
            .validator_set()
            .map_err(|e| ProofError::Genesis(e.to_string()))?;
        if header.validator_set_hash != validators.hash() {
            return Err(ProofError::ValidatorSet {
                header: header.validator_set_hash,
                genesis: validators.hash(),
            });
        }
        let block_hash = header.hash();
        certificate
            .verify(&validators, header.height, &block_hash)
            .map_err(|error| ProofError::Certificate {
                height: header.height,
                error,
            })?;

        let height = header.height;
        let chain_mismatch = |reason: String| ProofError::ChainEntry { height, reason };
        if chain.chain_id != genesis.chain_id {
            return Err(chain_mismatch(format!(
                "it names chain {:?}",
                chain.chain_id
            )));
        }
        if chain.height != height {
            return Err(chain_mismatch(format!(
                "it is the state at height {}",
                chain.height
            )));
        }
        let leaves = chain
            .members
            .checked_add(chain.contributions)
            .and_then(|n| n.checked_add(1));
        if chain_path.index != 0 || Some(chain_path.leaves) != leaves {
            return Err(chain_mismatch(
                "its path is not that of leaf 0 of a tree of this state's size".into(),
            ));
        }
        if !merkle::verify(
            &chain_path,
            State::chain_leaf_bytes(&self.chain_entry.0),
            &header.state_root,
        ) {
            return Err(chain_mismatch(
                "its Merkle path does not lead to the header's state root".into(),
            ));
        }

        // Member leaves are 1..=members (after the chain-wide entry, before contributions).
        let in_range = member_path.index >= 1 && member_path.index <= chain.members;
        if !in_range
            || member_path.leaves != chain_path.leaves
            || !merkle::verify(
                &member_path,
                State::member_leaf_bytes(member.address, &self.member_entry.0),
                &header.state_root,
            )
        {
            return Err(ProofError::NotAMember {
                member: member.address,
                height,
            });
        }

        let share = if chain.total_reputation > Amount::ZERO {
            member
                .reputation
                .checked_div(chain.total_reputation)
                .unwrap_or(Amount::ZERO)
        } else {
            Amount::ZERO
        };
        let signers: Vec<Signer> = certificate
            .signatures
            .iter()
            .map(|s| Signer {
                validator: s.validator,
                power: validators.power_of(&s.validator).unwrap_or(0),
            })
            .collect();
        Ok(ProvenStanding {
            chain_id: header.chain_id,
            genesis_hash,
            height,
            time_ms: header.time_ms,
            block_hash,
            member: member.address,
            name: member.name,
            reputation: member.reputation,
            tokens: member.tokens,
            total_reputation: chain.total_reputation,
            total_tokens: chain.total_tokens,
            share,
            signed_power: signers.iter().map(|s| s.power).sum(),
            signers,
            total_power: validators.total_power(),
            proof_hash: self.hash(),
        })
    }
}
