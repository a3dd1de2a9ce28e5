//! Canonical bytes (spec section 7): postcard, with exactly one encoding per value.
//!
//! postcard itself would accept some byte strings that re-encode differently (trailing
//! bytes, for one). Anything decoded from outside is therefore re-encoded and compared:
//! a value whose bytes are not its canonical bytes is rejected, so a hash or a signature
//! always covers the one and only form of a value.

use serde::{de::DeserializeOwned, Serialize};
use thiserror::Error;

/// Why bytes are not the canonical encoding of a value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// postcard could not read the bytes as the expected type.
    #[error("malformed encoding: {0}")]
    Malformed(String),
    /// The bytes decode, but are not the value's canonical form (trailing bytes, an
    /// over-long integer, ...).
    #[error("non-canonical encoding ({got} bytes, canonical form has {canonical})")]
    NonCanonical {
        /// Length of the given bytes.
        got: usize,
        /// Length of the canonical bytes of the decoded value.
        canonical: usize,
    },
}

/// The canonical bytes of a value.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // postcard into a growable Vec only fails for types serde cannot express as postcard
    // (maps with unknown length), which no pov type is.
    postcard::to_stdvec(value).unwrap_or_default()
}

/// Decodes bytes that must be exactly the canonical encoding of a `T`.
pub fn decode_canonical<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let value: T =
        postcard::from_bytes(bytes).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let canonical = encode(&value);
    if canonical != bytes {
        return Err(DecodeError::NonCanonical {
            got: bytes.len(),
            canonical: canonical.len(),
        });
    }
    Ok(value)
}
