//! The lowercase-hex text form shared by hashes, addresses and signatures.

use thiserror::Error;

/// Why a hex string could not be read as a fixed-size value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseHexError {
    /// The string has the wrong number of hex digits for the value.
    #[error("expected {expected} hex digits, got {got}")]
    Length {
        /// Digits the value needs (twice its byte length).
        expected: usize,
        /// Digits the string had.
        got: usize,
    },
    /// A character is not a hex digit.
    #[error("invalid hex character {ch:?} at position {index}")]
    Character {
        /// The offending character.
        ch: char,
        /// Its position in the string, counting from 0.
        index: usize,
    },
}

/// Decodes exactly `N` bytes from hex, accepting an optional `0x` prefix and either case.
pub(crate) fn decode_fixed<const N: usize>(text: &str) -> Result<[u8; N], ParseHexError> {
    let digits = text.strip_prefix("0x").unwrap_or(text);
    if digits.len() != 2 * N {
        return Err(ParseHexError::Length {
            expected: 2 * N,
            got: digits.chars().count(),
        });
    }
    let mut out = [0u8; N];
    hex::decode_to_slice(digits, &mut out).map_err(|err| match err {
        hex::FromHexError::InvalidHexCharacter { c, index } => ParseHexError::Character {
            ch: c,
            index: index + (text.len() - digits.len()),
        },
        _ => ParseHexError::Length {
            expected: 2 * N,
            got: digits.len(),
        },
    })?;
    Ok(out)
}

/// Writes a byte array as a fixed-length tuple: no length prefix under postcard.
pub(crate) fn serialize_array<const N: usize, S: serde::Serializer>(
    bytes: &[u8; N],
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeTuple;
    let mut tuple = s.serialize_tuple(N)?;
    for byte in bytes {
        tuple.serialize_element(byte)?;
    }
    tuple.end()
}

/// Reads what [`serialize_array`] wrote.
pub(crate) fn deserialize_array<'de, const N: usize, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<[u8; N], D::Error> {
    struct ArrayVisitor<const N: usize>;
    impl<'de, const N: usize> serde::de::Visitor<'de> for ArrayVisitor<N> {
        type Value = [u8; N];
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{N} bytes")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
            let mut out = [0u8; N];
            for (i, slot) in out.iter_mut().enumerate() {
                *slot = seq
                    .next_element()?
                    .ok_or_else(|| serde::de::Error::invalid_length(i, &self))?;
            }
            Ok(out)
        }
    }
    d.deserialize_tuple(N, ArrayVisitor::<N>)
}

/// Implements `Display`, `Debug`, `FromStr` and a serde form (hex when human-readable,
/// a fixed-size byte array otherwise) for a newtype over `[u8; N]`.
macro_rules! fixed_bytes_text {
    ($ty:ident, $n:expr, $what:expr) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&::hex::encode(self.0))
            }
        }

        impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($ty), self)
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = $crate::hex_text::ParseHexError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::hex_text::decode_fixed::<$n>(s).map($ty)
            }
        }

        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                if s.is_human_readable() {
                    s.serialize_str(&self.to_string())
                } else {
                    $crate::hex_text::serialize_array(&self.0, s)
                }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                if d.is_human_readable() {
                    let text = <::std::borrow::Cow<'de, str>>::deserialize(d)?;
                    text.parse().map_err(|err| {
                        ::serde::de::Error::custom(format!("invalid {}: {}", $what, err))
                    })
                } else {
                    $crate::hex_text::deserialize_array::<$n, D>(d).map($ty)
                }
            }
        }
    };
}
pub(crate) use fixed_bytes_text;
