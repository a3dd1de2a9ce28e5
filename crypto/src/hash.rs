//! blake3 hashes: transaction ids, block hashes, Merkle nodes, the genesis identity.

use crate::hex_text::fixed_bytes_text;

/// A 32-byte blake3 digest.
///
/// Ordered bytewise so that it can key sorted maps (Merkle leaves are taken in key order).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hash(pub [u8; 32]);

fixed_bytes_text!(Hash, 32, "hash");

impl Hash {
    /// The all-zero hash: the `prev_hash` of the first block and the root of an empty tree.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// blake3 of one byte string.
pub fn hash(bytes: &[u8]) -> Hash {
    Hash(*blake3::hash(bytes).as_bytes())
}

/// blake3 of the concatenation of several byte strings, without building it in memory.
///
/// Callers use a distinct leading tag part for each kind of hashed object (domain separation),
/// so that a leaf can never be read as an inner node or a vote as a transaction.
pub fn hash_parts(parts: &[&[u8]]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    for part in parts {
        hasher.update(part);
    }
    Hash(*hasher.finalize().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_blake3_known_answer() {
        // blake3("") from the reference implementation's test vectors.
        assert_eq!(
            hash(b"").to_string(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"
        );
        assert_eq!(hash_parts(&[b"ab", b"c"]), hash(b"abc"));
    }

    #[test]
    fn text_form_round_trips_and_rejects_bad_input() {
        let h = hash(b"pov");
        let text = h.to_string();
        assert_eq!(text, text.to_lowercase());
        assert_eq!(text.parse::<Hash>(), Ok(h));
        assert_eq!(format!("0x{}", text.to_uppercase()).parse::<Hash>(), Ok(h));
        assert!(matches!(
            "abcd".parse::<Hash>(),
            Err(crate::ParseHexError::Length {
                expected: 64,
                got: 4
            })
        ));
        let bad = format!("{}zz", &text[..62]);
        assert!(matches!(
            bad.parse::<Hash>(),
            Err(crate::ParseHexError::Character { ch: 'z', index: 62 })
        ));
    }

    #[test]
    fn serde_is_bytes_in_postcard_and_hex_in_json() {
        let h = hash(b"x");
        let bytes = postcard::to_stdvec(&h).expect("encode");
        assert_eq!(bytes.len(), 32);
        assert_eq!(postcard::from_bytes::<Hash>(&bytes).expect("decode"), h);
        let json = serde_json::to_string(&h).expect("json");
        assert_eq!(json, format!("\"{h}\""));
        assert_eq!(serde_json::from_str::<Hash>(&json).expect("json decode"), h);
    }
}
