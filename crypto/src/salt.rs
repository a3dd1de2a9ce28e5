//! Salts: the 32 secret random bytes that hide a sealed evaluation's value in its
//! commitment (spec section 12) until the member reveals them.

use rand_core::RngCore;

use crate::hex_text::fixed_bytes_text;

/// 32 random bytes a member mixes into a commitment so that nobody can find the committed
/// value by hashing every value of the evaluation set. Whoever loses it can no longer
/// reveal, and forfeits the stake.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Salt(pub [u8; 32]);

fixed_bytes_text!(Salt, 32, "salt");

impl Salt {
    /// A fresh salt from the operating system's random number generator (the wallet's
    /// job; consensus code never draws one).
    pub fn random() -> Salt {
        let mut bytes = [0u8; 32];
        rand_core::OsRng.fill_bytes(&mut bytes);
        Salt(bytes)
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_salts_differ_and_round_trip_as_hex() {
        let a = Salt::random();
        let b = Salt::random();
        assert_ne!(a, b);
        assert_eq!(a.to_string().parse::<Salt>(), Ok(a));
        let bytes = postcard::to_stdvec(&a).expect("encode");
        assert_eq!(bytes.len(), 32);
        assert_eq!(serde_json::to_string(&a).expect("json"), format!("\"{a}\""));
    }
}
