//! The validator set: who may vote, with how much power, who proposes in each round, and
//! what a quorum is.
//!
//! One type for the whole node: the genesis builds it ([`crate::genesis::Genesis::validator_set`]),
//! block headers commit to its hash, certificates are checked against it (storage, sync, the
//! offline verifier of the CLI) and the consensus engine counts votes with it. Its checks
//! (not empty, no duplicate, no zero power, a total that fits in 64 bits) are made once, when
//! it is built, so that every quorum below is plain integer arithmetic that cannot overflow.

use std::collections::BTreeMap;

use pov_crypto::{Address, Hash};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::codec;

/// One validator: its address (public key) and voting power, as named in genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Validator {
    /// The validator's consensus key.
    pub address: Address,
    /// Its weight in every quorum: tallies sum powers, not heads.
    pub power: u64,
}

/// Why a list of validators cannot be used as a validator set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidatorSetError {
    /// No validators: nobody could ever propose or vote.
    #[error("the validator set is empty; genesis must name at least one validator")]
    Empty,
    /// The same address twice would count its power twice.
    #[error("validator {0} appears more than once; list each validator once")]
    Duplicate(Address),
    /// A validator without power can never change a tally; it is a configuration mistake.
    #[error("validator {0} has zero voting power; give it power or remove it")]
    ZeroPower(Address),
    /// The total power must fit in a u64 so that tallies cannot overflow.
    #[error("the validators' total voting power does not fit in 64 bits; use smaller powers")]
    PowerOverflow,
}

/// The serialized form: the list alone (the index and total are derived from it). Kept as a
/// struct with one field so that the canonical bytes, and so every header's
/// `validator_set_hash`, are those of the first release.
#[derive(Serialize, Deserialize)]
struct ValidatorList {
    validators: Vec<Validator>,
}

/// An ordered list of validators with positive power and a total that fits in a u64.
///
/// The order matters: it is the proposer rotation (see [`ValidatorSet::proposer`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ValidatorList", try_from = "ValidatorList")]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    index: BTreeMap<Address, usize>,
    total: u64,
}

impl From<ValidatorSet> for ValidatorList {
    fn from(set: ValidatorSet) -> Self {
        ValidatorList {
            validators: set.validators,
        }
    }
}

impl TryFrom<ValidatorList> for ValidatorSet {
    type Error = ValidatorSetError;

    fn try_from(list: ValidatorList) -> Result<Self, Self::Error> {
        ValidatorSet::new(list.validators)
    }
}

impl ValidatorSet {
    /// Checks and wraps a list of validators, keeping its order.
    pub fn new(validators: Vec<Validator>) -> Result<Self, ValidatorSetError> {
        if validators.is_empty() {
            return Err(ValidatorSetError::Empty);
        }
        let mut index = BTreeMap::new();
        let mut total: u64 = 0;
        for (i, v) in validators.iter().enumerate() {
            if v.power == 0 {
                return Err(ValidatorSetError::ZeroPower(v.address));
            }
            if index.insert(v.address, i).is_some() {
                return Err(ValidatorSetError::Duplicate(v.address));
            }
            total = total
                .checked_add(v.power)
                .ok_or(ValidatorSetError::PowerOverflow)?;
        }
        Ok(Self {
            validators,
            index,
            total,
        })
    }

    /// The validators in rotation order.
    pub fn validators(&self) -> &[Validator] {
        &self.validators
    }

    /// Number of validators (never 0).
    pub fn len(&self) -> usize {
        self.validators.len()
    }

    /// Always false (a set is never empty); present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.validators.is_empty()
    }

    /// Sum of all voting power.
    pub fn total_power(&self) -> u64 {
        self.total
    }

    /// The power of `address`, or `None` if it is not a validator (its votes are ignored).
    pub fn power_of(&self, address: &Address) -> Option<u64> {
        self.index.get(address).map(|&i| self.validators[i].power)
    }

    /// Whether `address` is a validator.
    pub fn contains(&self, address: &Address) -> bool {
        self.index.contains_key(address)
    }

    /// The proposer of `(height, round)`: index `(height + round) mod n` in the list.
    ///
    /// Round-robin by position, not weighted by power: every validator proposes equally
    /// often, and the next round always has a different proposer when n > 1, which is what
    /// liveness needs (a crashed proposer only costs one round).
    pub fn proposer(&self, height: u64, round: u32) -> &Validator {
        let n = self.validators.len() as u64;
        let index = ((height % n) + (u64::from(round) % n)) % n;
        // `index < n`, so the conversion and the indexing cannot fail.
        &self.validators[index as usize]
    }

    /// Whether `power` is a quorum: strictly more than 2/3 of the total (the paper's 2f+1).
    ///
    /// The one quorum rule of the node: the engine's tallies and every certificate check
    /// call it.
    pub fn is_quorum(&self, power: u64) -> bool {
        3 * u128::from(power) > 2 * u128::from(self.total)
    }

    /// Whether `power` is strictly more than 1/3 of the total (the paper's f+1): at least one
    /// honest validator is among its holders when fewer than 1/3 are faulty.
    pub fn exceeds_one_third(&self, power: u64) -> bool {
        3 * u128::from(power) > u128::from(self.total)
    }

    /// The hash a header commits to: blake3 of the canonical bytes of the list.
    pub fn hash(&self) -> Hash {
        pov_crypto::hash(&codec::encode(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pov_crypto::Keypair;

    fn validator(i: u32, power: u64) -> Validator {
        Validator {
            address: Keypair::dev(i).address(),
            power,
        }
    }

    #[test]
    fn sets_are_checked_when_built() {
        assert_eq!(ValidatorSet::new(vec![]), Err(ValidatorSetError::Empty));
        let a = validator(0, 1);
        assert_eq!(
            ValidatorSet::new(vec![a, a]),
            Err(ValidatorSetError::Duplicate(a.address))
        );
        let zero = validator(1, 0);
        assert_eq!(
            ValidatorSet::new(vec![a, zero]),
            Err(ValidatorSetError::ZeroPower(zero.address))
        );
        assert_eq!(
            ValidatorSet::new(vec![validator(0, u64::MAX), validator(1, 1)]),
            Err(ValidatorSetError::PowerOverflow)
        );
    }

    #[test]
    fn quorums_are_strictly_more_than_two_thirds_of_the_power() {
        let set = ValidatorSet::new((0..4).map(|i| validator(i, 1)).collect()).expect("set");
        assert_eq!(set.total_power(), 4);
        assert!(!set.is_quorum(2));
        assert!(set.is_quorum(3));
        assert!(!set.exceeds_one_third(1));
        assert!(set.exceeds_one_third(2));
        // Weighted: one validator with 3 of 4 power is a quorum alone.
        let set = ValidatorSet::new(vec![validator(0, 3), validator(1, 1)]).expect("set");
        assert!(set.is_quorum(3));
        assert!(!set.is_quorum(2));
        // The arithmetic is exact at the top of the range.
        let big =
            ValidatorSet::new(vec![validator(0, u64::MAX - 1), validator(1, 1)]).expect("set");
        assert!(big.is_quorum(u64::MAX - 1));
        assert!(!big.is_quorum(u64::MAX / 3 * 2));
    }

    #[test]
    fn the_proposer_rotates_by_position() {
        let set = ValidatorSet::new((0..3).map(|i| validator(i, 1 + u64::from(i))).collect())
            .expect("set");
        let order: Vec<Address> = (0..4).map(|r| set.proposer(5, r).address).collect();
        let v = set.validators();
        assert_eq!(
            order,
            vec![v[2].address, v[0].address, v[1].address, v[2].address]
        );
        // Huge heights and rounds do not overflow.
        let _ = set.proposer(u64::MAX, u32::MAX);
    }

    #[test]
    fn the_canonical_bytes_are_the_list_alone_and_are_checked_on_decode() {
        let set = ValidatorSet::new(vec![validator(0, 1), validator(1, 2)]).expect("set");
        let bytes = codec::encode(&set);
        let list = ValidatorList {
            validators: set.validators().to_vec(),
        };
        assert_eq!(bytes, codec::encode(&list));
        assert_eq!(codec::decode_canonical::<ValidatorSet>(&bytes), Ok(set));
        let duplicate = ValidatorList {
            validators: vec![validator(0, 1), validator(0, 1)],
        };
        assert!(codec::decode_canonical::<ValidatorSet>(&codec::encode(&duplicate)).is_err());
    }
}
