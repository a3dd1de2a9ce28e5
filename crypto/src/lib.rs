//! Keys, signatures, hashes and addresses of the `pov` chain.
//!
//! Everything that is hashed or signed anywhere in `pov` goes through this crate, so that
//! there is exactly one validity rule for a signature (`verify_strict`, spec section 7) and
//! exactly one hash function (blake3). The types here are plain 32- or 64-byte arrays with a
//! lowercase-hex text form: they serialize to fixed-size byte arrays under `postcard` (the
//! canonical encoding) and to hex strings in human-readable formats (JSON, TOML).

mod hash;
mod hex_text;
mod keys;
mod salt;
mod signature;

pub use hash::{hash, hash_parts, Hash};
pub use hex_text::ParseHexError;
pub use keys::{Address, KeyError, Keypair};
pub use salt::Salt;
pub use signature::{verifications, verify_many, Signature, SignatureError};
