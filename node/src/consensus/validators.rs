//! The validator set: who may vote, with how much power, and who proposes in each round.

use std::collections::BTreeMap;

use pov_crypto::Address;

use super::error::ValidatorSetError;

/// One validator: its address (public key) and voting power, as named in genesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Validator {
    /// The validator's ed25519 public key.
    pub address: Address,
    /// Its voting power; tallies sum powers, not heads.
    pub power: u64,
}

/// An ordered list of validators with positive power and a total that fits in a u64.
///
/// The order matters: it is the proposer rotation (see [`ValidatorSet::proposer`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatorSet {
    validators: Vec<Validator>,
    index: BTreeMap<Address, usize>,
    total: u64,
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
    pub fn is_quorum(&self, power: u64) -> bool {
        3 * u128::from(power) > 2 * u128::from(self.total)
    }

    /// Whether `power` is strictly more than 1/3 of the total (the paper's f+1): at least one
    /// honest validator is among its holders when fewer than 1/3 are faulty.
    pub fn exceeds_one_third(&self, power: u64) -> bool {
        3 * u128::from(power) > u128::from(self.total)
    }
}
