//! The paper's vocabulary as types: a vote is for a value or for nil ([`NilOrVal`]), a lock
//! and a valid value are a value with the round it was seen in ([`RoundValue`]), and the
//! host's verdict on a proposed block is a [`Validity`].
//!
//! They replace `Option<Hash>` (which reads as "maybe unknown", not "nil"),
//! `Option<Option<Hash>>` ("maybe a vote, for maybe a value"), tuples `(u32, Hash)`, and a
//! `valid: bool` next to a field called `valid` that meant the valid value.

use pov_protocol::serde::{Deserialize, Serialize};

/// What a vote is for: a value, or the paper's `nil` ("not this round's proposal").
///
/// Ordered with `Nil` first, and encoded (postcard) exactly as `Option` is: a tag byte 0 for
/// `Nil`, 1 followed by the value for `Val`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(crate = "pov_protocol::serde")]
pub enum NilOrVal<T> {
    /// nil.
    Nil,
    /// A value.
    Val(T),
}

impl<T> NilOrVal<T> {
    /// Whether this is nil.
    pub fn is_nil(&self) -> bool {
        matches!(self, NilOrVal::Nil)
    }

    /// The value, or `None` for nil.
    pub fn value(self) -> Option<T> {
        match self {
            NilOrVal::Nil => None,
            NilOrVal::Val(value) => Some(value),
        }
    }

    /// A reference to the value, or `None` for nil.
    pub fn as_ref(&self) -> NilOrVal<&T> {
        match self {
            NilOrVal::Nil => NilOrVal::Nil,
            NilOrVal::Val(value) => NilOrVal::Val(value),
        }
    }
}

impl<T> From<Option<T>> for NilOrVal<T> {
    fn from(value: Option<T>) -> Self {
        match value {
            None => NilOrVal::Nil,
            Some(value) => NilOrVal::Val(value),
        }
    }
}

/// A value together with the round in which this node saw it backed by a quorum of
/// prevotes: the paper's `(lockedRound, lockedValue)` and `(validRound, validValue)`. Where
/// the paper writes `-1, nil`, the engine has `None`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoundValue<T> {
    /// The round.
    pub round: u32,
    /// The value.
    pub value: T,
}

/// The host's verdict on a proposed block: the paper's `valid(v)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Validity {
    /// The block is well formed and applies to the parent state.
    Valid,
    /// It is not: honest validators prevote nil on it and never decide it.
    Invalid,
}

impl Validity {
    /// Whether the block is valid.
    pub fn is_valid(self) -> bool {
        self == Validity::Valid
    }
}

impl From<bool> for Validity {
    fn from(valid: bool) -> Self {
        if valid {
            Validity::Valid
        } else {
            Validity::Invalid
        }
    }
}
