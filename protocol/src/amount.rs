//! Exact decimal amounts of reputation and tokens (spec section 2).
//!
//! Every amount is a `rust_decimal::Decimal` held at scale exactly 12. Each arithmetic step
//! rounds its result to 12 decimal places, midpoint to even, and fails (instead of
//! panicking or wrapping) when it would overflow. Because the scale is fixed, two equal
//! amounts always have the same canonical bytes: under `postcard` an amount is its 96-bit
//! mantissa as an `i128` varint; in human-readable formats (JSON, TOML) it is the normalized
//! decimal string, e.g. `"19.7788854382"`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, MathematicalOps, RoundingStrategy};
use thiserror::Error;

/// Decimal places every amount carries.
pub const SCALE: u32 = 12;

/// The largest mantissa a `Decimal` can hold (2^96 - 1).
const MAX_MANTISSA: i128 = (1i128 << 96) - 1;

/// 10^SCALE: one unit in mantissa terms.
const SCALE_FACTOR: u64 = 1_000_000_000_000;

/// Rounds `quotient + remainder / divisor` to an integer, midpoint to even.
fn round_half_even(quotient: u128, remainder: u128, divisor: u128) -> u128 {
    let twice = remainder * 2;
    if twice > divisor || (twice == divisor && quotient % 2 == 1) {
        quotient + 1
    } else {
        quotient
    }
}

/// `(n / 10^12, n % 10^12)` without a general 128-bit division.
///
/// 10^12 = 2^12 * 5^12: the low 12 bits are set aside, and the rest is divided by
/// 5^12 (< 2^28) in 32-bit chunks, each step a 64-bit division by a constant, which the
/// compiler turns into a multiplication. This is the hot path of redistribution.
fn div_rem_scale(n: u128) -> (u128, u128) {
    const FIVE_12: u64 = 244_140_625;
    let low_bits = n & 0xfff;
    let m = n >> 12;
    let mut quotient: u128 = 0;
    let mut rem: u64 = 0;
    for shift in [96u32, 64, 32, 0] {
        let chunk = ((m >> shift) & 0xffff_ffff) as u64;
        let cur = (rem << 32) | chunk;
        quotient = (quotient << 32) | u128::from(cur / FIVE_12);
        rem = cur % FIVE_12;
    }
    (quotient, (u128::from(rem) << 12) | low_bits)
}

/// `round(a * b / 10^12)` for products that do not fit 128 bits (a, b < 2^96), by
/// schoolbook multiplication into four 64-bit limbs and long division by 10^12.
fn wide_mul_round(a: u128, b: u128) -> Result<u128, AmountError> {
    let (a1, a0) = ((a >> 64) as u64, a as u64);
    let (b1, b0) = ((b >> 64) as u64, b as u64);
    // 256-bit product as limbs, least significant first.
    let mut limbs = [0u64; 4];
    let mut add_at = |pos: usize, value: u128| {
        let mut carry = value;
        let mut i = pos;
        while carry != 0 && i < 4 {
            let sum = u128::from(limbs[i]) + (carry & u128::from(u64::MAX));
            limbs[i] = sum as u64;
            carry = (carry >> 64) + (sum >> 64);
            i += 1;
        }
    };
    add_at(0, u128::from(a0) * u128::from(b0));
    add_at(1, u128::from(a1) * u128::from(b0));
    add_at(1, u128::from(a0) * u128::from(b1));
    add_at(2, u128::from(a1) * u128::from(b1));
    let d = u128::from(SCALE_FACTOR);
    let mut quotient = [0u64; 4];
    let mut rem: u128 = 0;
    for i in (0..4).rev() {
        let cur = (rem << 64) | u128::from(limbs[i]);
        quotient[i] = (cur / d) as u64;
        rem = cur % d;
    }
    if quotient[3] != 0 || quotient[2] != 0 {
        return Err(AmountError::Overflow("multiply"));
    }
    let q = (u128::from(quotient[1]) << 64) | u128::from(quotient[0]);
    Ok(round_half_even(q, rem, d))
}

/// An amount of reputation or tokens, or a change of one (events carry signed deltas).
///
/// Held as its mantissa at scale 12 (the `Decimal` it stands for is `mantissa / 10^12`),
/// always within a `Decimal`'s 96-bit range: comparisons, sums and differences are plain
/// integer operations, and a `Decimal` is built only to divide, take powers or print.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i128);

/// Why an arithmetic step or a parse could not produce an amount.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    /// The result does not fit a 96-bit mantissa at 12 decimal places.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
    /// Division by zero.
    #[error("division by zero in {0}")]
    DivisionByZero(&'static str),
    /// Text that is not a decimal number.
    #[error("{0:?} is not a decimal number")]
    Malformed(String),
    /// A number with more digits after the point than the chain keeps.
    #[error("{0} has more than 12 decimal places")]
    TooPrecise(String),
}

impl Amount {
    /// Zero, at scale 12.
    pub const ZERO: Amount = Amount(0);
    /// One, at scale 12.
    pub const ONE: Amount = Amount(SCALE_FACTOR as i128);

    /// Brings any decimal to scale 12 by rounding (midpoint to even), checking the range.
    pub fn round(value: Decimal) -> Result<Amount, AmountError> {
        let mut d = value.round_dp_with_strategy(SCALE, RoundingStrategy::MidpointNearestEven);
        if d.scale() != SCALE {
            d.rescale(SCALE);
            if d.scale() != SCALE {
                return Err(AmountError::Overflow("rescale"));
            }
        }
        Ok(Amount(d.mantissa()))
    }

    /// An amount from a decimal that must already be exact at 12 places (input parsing:
    /// a value given with more places is an error, not silently rounded).
    pub fn exact(value: Decimal) -> Result<Amount, AmountError> {
        let normalized = value.normalize();
        if normalized.scale() > SCALE {
            return Err(AmountError::TooPrecise(normalized.to_string()));
        }
        Amount::round(normalized)
    }

    /// A whole number of units.
    pub fn from_int(value: i64) -> Amount {
        // An i64 times 10^12 is below 2^104 but above 2^96 only for |value| > 7.9e16,
        // which no integer literal in this code base reaches; clamp through `round` anyway.
        Amount::round(Decimal::from(value)).unwrap_or(Amount::ZERO)
    }

    /// The amount's mantissa at scale 12 (its canonical integer form).
    pub fn mantissa(self) -> i128 {
        self.0
    }

    /// The amount whose mantissa at scale 12 is `mantissa`.
    pub fn from_mantissa(mantissa: i128) -> Result<Amount, AmountError> {
        if !(-MAX_MANTISSA..=MAX_MANTISSA).contains(&mantissa) {
            return Err(AmountError::Overflow("mantissa"));
        }
        Ok(Amount(mantissa))
    }

    /// The underlying decimal (scale 12).
    pub fn decimal(self) -> Decimal {
        Decimal::from_i128_with_scale(self.0, SCALE)
    }

    /// True when strictly below zero.
    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// True when zero.
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + rhs`, rounded.
    pub fn checked_add(self, rhs: Amount) -> Result<Amount, AmountError> {
        Amount::from_mantissa(self.mantissa() + rhs.mantissa())
    }

    /// `self - rhs`, rounded.
    pub fn checked_sub(self, rhs: Amount) -> Result<Amount, AmountError> {
        Amount::from_mantissa(self.mantissa() - rhs.mantissa())
    }

    /// `self * rhs`, rounded once, exactly.
    ///
    /// Computed on the integer mantissas: the exact product at scale 24 is divided by 10^12
    /// and rounded midpoint-to-even, so the result is the true product correctly rounded
    /// (rust_decimal's own multiplication may round an over-long product before we would,
    /// rounding twice). This is also the hot path of redistribution.
    pub fn checked_mul(self, rhs: Amount) -> Result<Amount, AmountError> {
        let (a, b) = (self.mantissa(), rhs.mantissa());
        let negative = (a < 0) != (b < 0);
        let (ua, ub) = (a.unsigned_abs(), b.unsigned_abs());
        let magnitude = match ua.checked_mul(ub) {
            Some(product) => {
                let (q, r) = div_rem_scale(product);
                round_half_even(q, r, u128::from(SCALE_FACTOR))
            }
            None => wide_mul_round(ua, ub)?,
        };
        let m = i128::try_from(magnitude).map_err(|_| AmountError::Overflow("multiply"))?;
        Amount::from_mantissa(if negative { -m } else { m })
    }

    /// `self / rhs`, rounded.
    pub fn checked_div(self, rhs: Amount) -> Result<Amount, AmountError> {
        if rhs.is_zero() {
            return Err(AmountError::DivisionByZero("divide"));
        }
        let quotient = self
            .decimal()
            .checked_div(rhs.decimal())
            .ok_or(AmountError::Overflow("divide"))?;
        Amount::round(quotient)
    }

    /// `self ^ exponent` for a non-negative base: `sqrt` when the exponent is 0.5,
    /// rust_decimal's `powd` otherwise (spec section 2), rounded.
    pub fn pow(self, exponent: Amount) -> Result<Amount, AmountError> {
        if self.is_negative() {
            return Err(AmountError::Overflow("power of a negative base"));
        }
        if self.is_zero() {
            return Ok(if exponent.is_zero() {
                Amount::ONE
            } else {
                Amount::ZERO
            });
        }
        if self == Amount::ONE || exponent == Amount::ONE {
            return Ok(self);
        }
        if exponent.is_zero() {
            return Ok(Amount::ONE);
        }
        let half = Decimal::new(5, 1);
        let result = if exponent.decimal() == half {
            self.decimal().sqrt()
        } else {
            self.decimal().checked_powd(exponent.decimal())
        };
        Amount::round(result.ok_or(AmountError::Overflow("power"))?)
    }

    /// The sum of many amounts, exact (one range check at the end).
    pub fn sum<I: IntoIterator<Item = Amount>>(items: I) -> Result<Amount, AmountError> {
        let mut total: i128 = 0;
        for item in items {
            total = total
                .checked_add(item.mantissa())
                .ok_or(AmountError::Overflow("sum"))?;
        }
        Amount::from_mantissa(total)
    }

    /// The nearest `f64`, for printing conformance output only (never in consensus code).
    pub fn to_f64_lossy(self) -> f64 {
        // Decimal's Display is exact; parsing it gives the nearest double.
        self.decimal()
            .normalize()
            .to_string()
            .parse()
            .unwrap_or(f64::NAN)
    }
}

impl Default for Amount {
    fn default() -> Self {
        Amount::ZERO
    }
}

impl fmt::Display for Amount {
    /// The canonical text form: normalized, no trailing zeros (`19.7788854382`, `20`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.decimal().normalize(), f)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    /// Parses plain decimal notation (`12`, `0.02`, `-3.5`); at most 12 decimal places.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        if trimmed.is_empty()
            || !trimmed
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == '-' || c == '+')
        {
            return Err(AmountError::Malformed(s.to_string()));
        }
        let d =
            Decimal::from_str_exact(trimmed).map_err(|_| AmountError::Malformed(s.to_string()))?;
        Amount::exact(d)
    }
}

impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_i128(self.mantissa())
        }
    }
}

impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_any(TextVisitor)
        } else {
            let mantissa = i128::deserialize(d)?;
            Amount::from_mantissa(mantissa).map_err(serde::de::Error::custom)
        }
    }
}

/// Reads an amount from a string or an integer; refuses floats, which cannot be exact.
struct TextVisitor;

impl serde::de::Visitor<'_> for TextVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal amount as a string (\"0.02\") or an integer")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Amount, E> {
        Amount::round(Decimal::from(v)).map_err(E::custom)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Amount, E> {
        Amount::round(Decimal::from(v)).map_err(E::custom)
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Amount, E> {
        Err(E::custom(format!(
            "amount {v} is a floating-point number, which cannot be exact: write it as a string, e.g. \"{v}\""
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Amount {
        s.parse().expect("amount")
    }

    #[test]
    fn rounds_to_twelve_places_midpoint_even() {
        assert_eq!(
            Amount::round(Decimal::from_str_exact("0.0000000000005").expect("d")).expect("r"),
            Amount::ZERO
        );
        assert_eq!(
            Amount::round(Decimal::from_str_exact("0.0000000000015").expect("d")).expect("r"),
            a("0.000000000002")
        );
        assert_eq!(
            a("1").checked_div(a("3")).expect("div"),
            a("0.333333333333")
        );
        assert_eq!(
            a("2").checked_div(a("3")).expect("div"),
            a("0.666666666667")
        );
    }

    #[test]
    fn equal_amounts_have_equal_bytes() {
        let x = a("1.0");
        let y = a("1.00");
        assert_eq!(x, y);
        assert_eq!(
            postcard::to_stdvec(&x).expect("enc"),
            postcard::to_stdvec(&y).expect("enc")
        );
        assert_eq!(x.decimal().scale(), SCALE);
        assert_eq!(x.to_string(), "1");
        assert_eq!(a("19.77888543820").to_string(), "19.7788854382");
    }

    #[test]
    fn parse_errors_are_clear() {
        assert!(matches!(
            "abc".parse::<Amount>(),
            Err(AmountError::Malformed(_))
        ));
        assert!(matches!(
            "1e5".parse::<Amount>(),
            Err(AmountError::Malformed(_))
        ));
        assert!(matches!(
            "0.0000000000001".parse::<Amount>(),
            Err(AmountError::TooPrecise(_))
        ));
        let err = serde_json::from_str::<Amount>("0.02").expect_err("float refused");
        assert!(err.to_string().contains("string"), "{err}");
        assert_eq!(
            serde_json::from_str::<Amount>("\"0.02\"").expect("str"),
            a("0.02")
        );
        assert_eq!(serde_json::from_str::<Amount>("7").expect("int"), a("7"));
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let big = Amount::from_mantissa(MAX_MANTISSA).expect("max");
        assert!(big.checked_add(Amount::ONE).is_err());
        assert!(big.checked_mul(a("2")).is_err());
        assert!(Amount::ONE.checked_div(Amount::ZERO).is_err());
        assert!(postcard::from_bytes::<Amount>(
            &postcard::to_stdvec(&(MAX_MANTISSA + 1)).expect("enc")
        )
        .is_err());
    }

    /// `round_half_even(a * b / 10^12)` in exact big-integer arithmetic, or `None` when the
    /// result does not fit a mantissa: the independent reference for `checked_mul`.
    fn reference_mul(a: i128, b: i128) -> Option<i128> {
        use num_bigint::BigInt;
        let product = BigInt::from(a) * BigInt::from(b);
        let negative = product < BigInt::from(0);
        let magnitude = if negative { -product } else { product };
        let d = BigInt::from(SCALE_FACTOR);
        let (mut q, r) = (&magnitude / &d, &magnitude % &d);
        let twice = r * 2;
        if twice > d || (twice == d && (&q % 2u32) == BigInt::from(1)) {
            q += 1;
        }
        let q = i128::try_from(q).ok().filter(|q| *q <= MAX_MANTISSA)?;
        Some(if negative { -q } else { q })
    }

    /// A mantissa of exactly `bits` bits (0 to 96) and the given sign.
    fn with_bits(bits: u32, raw: u128, negative: bool) -> i128 {
        let m = match bits {
            0 => 0,
            _ => {
                let top = 1u128 << (bits - 1);
                ((raw & (top - 1)) | top).min(MAX_MANTISSA as u128) as i128
            }
        };
        if negative {
            -m
        } else {
            m
        }
    }

    /// Pairs of mantissas whose products spread over the whole range: half with random bit
    /// lengths (products from 0 to 2^192), half with products between 2^128 and 2^136, where
    /// the wide path gives results that still fit.
    fn factor_pair() -> impl proptest::strategy::Strategy<Value = (i128, i128)> {
        use proptest::prelude::*;
        let anywhere = (0u32..=96, 0u32..=96);
        let wide = (33u32..=96, 0u32..8).prop_map(|(a, extra)| (a, (129 + extra - a).min(96)));
        (
            prop_oneof![anywhere, wide],
            any::<(u128, u128, bool, bool)>(),
        )
            .prop_map(|((bits_a, bits_b), (ra, rb, na, nb))| {
                (with_bits(bits_a, ra, na), with_bits(bits_b, rb, nb))
            })
    }

    /// Runs `cases` random cases of `check`, which returns the branch it reached, and
    /// asserts that every branch in `expected` was reached at least `min` times: a property
    /// whose generator never reaches a branch proves nothing about it.
    fn run_counting<S: proptest::strategy::Strategy>(
        cases: u32,
        strategy: S,
        expected: &[&'static str],
        min: usize,
        check: impl Fn(S::Value) -> Result<&'static str, proptest::test_runner::TestCaseError>,
    ) {
        use std::cell::RefCell;
        use std::collections::BTreeMap;
        let counts: RefCell<BTreeMap<&'static str, usize>> = RefCell::default();
        let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
            cases,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        });
        let result = runner.run(&strategy, |value| {
            let branch = check(value)?;
            *counts.borrow_mut().entry(branch).or_default() += 1;
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        let counts = counts.into_inner();
        for branch in expected {
            let n = counts.get(branch).copied().unwrap_or(0);
            assert!(
                n >= min,
                "branch {branch:?} reached {n} times in {cases} cases (want {min}): {counts:?}"
            );
        }
    }

    /// `checked_mul` is the correctly rounded product over the whole range: products below
    /// 2^96, between 2^96 and 2^128 (narrow path), above 2^128 (wide path), and results
    /// that overflow, checked against exact big-integer arithmetic.
    #[test]
    fn integer_multiply_is_the_correctly_rounded_product() {
        run_counting(
            2000,
            factor_pair(),
            &[
                "product below 2^96",
                "product in [2^96, 2^128)",
                "product >= 2^128, fits",
                "overflow",
            ],
            60,
            |(a, b)| {
                let x = Amount::from_mantissa(a).expect("a");
                let y = Amount::from_mantissa(b).expect("b");
                let got = x.checked_mul(y).ok().map(Amount::mantissa);
                proptest::prop_assert_eq!(got, reference_mul(a, b), "{} * {}", a, b);
                let product = a.unsigned_abs().checked_mul(b.unsigned_abs());
                Ok(match product {
                    _ if got.is_none() => "overflow",
                    Some(p) if p < 1u128 << 96 => "product below 2^96",
                    Some(_) => "product in [2^96, 2^128)",
                    None => "product >= 2^128, fits",
                })
            },
        );
    }

    /// The wide path alone, for any factors below 2^96 (also those the narrow path would
    /// take), against exact big-integer arithmetic.
    #[test]
    fn wide_path_is_exact() {
        run_counting(
            1000,
            factor_pair(),
            &["product below 2^128", "product >= 2^128, fits", "overflow"],
            25,
            |(a, b)| {
                let (ua, ub) = (a.unsigned_abs(), b.unsigned_abs());
                let want = reference_mul(ua as i128, ub as i128);
                let got = wide_mul_round(ua, ub)
                    .ok()
                    .filter(|m| *m <= MAX_MANTISSA as u128);
                proptest::prop_assert_eq!(got, want.map(|m| m as u128), "{} * {}", ua, ub);
                Ok(match (want, ua.checked_mul(ub)) {
                    (None, _) => "overflow",
                    (Some(_), Some(_)) => "product below 2^128",
                    (Some(_), None) => "product >= 2^128, fits",
                })
            },
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn fast_division_by_the_scale_is_exact(n in proptest::num::u128::ANY) {
            let d = u128::from(SCALE_FACTOR);
            proptest::prop_assert_eq!(div_rem_scale(n), (n / d, n % d));
        }
    }

    #[test]
    fn wide_products_round_and_overflow_correctly() {
        // (2^90 units) * 1.5 needs the wide path; the exact answer is 1.5 * 2^90 units.
        let big = Amount::from_mantissa(1i128 << 90).expect("big");
        let one_and_half = "1.5".parse::<Amount>().expect("1.5");
        let got = big.checked_mul(one_and_half).expect("fits");
        assert_eq!(got.mantissa(), (1i128 << 90) + (1i128 << 89));
        let max = Amount::from_mantissa(MAX_MANTISSA).expect("max");
        assert!(max.checked_mul(max).is_err());
        assert_eq!(
            "-2".parse::<Amount>()
                .expect("-2")
                .checked_mul(one_and_half)
                .expect("mul"),
            "-3".parse().expect("-3")
        );
    }

    fn mul(a: i128, b: i128) -> i128 {
        let x = Amount::from_mantissa(a).expect("a");
        let y = Amount::from_mantissa(b).expect("b");
        x.checked_mul(y).expect("fits").mantissa()
    }

    /// Exact ties (remainder exactly half of 10^12) go to the even neighbour, on both the
    /// narrow and the wide path, for both signs. Expected values from exact integer
    /// arithmetic outside this code (Python's integers).
    #[test]
    fn multiplication_ties_round_to_even() {
        // Narrow path: 0.000001 * 0.0000005 = 0.0000000000005 -> 0 (0 is even);
        // 0.000001 * 0.0000015 = 0.0000000000015 -> 0.000000000002.
        assert_eq!(mul(1_000_000, 500_000), 0);
        assert_eq!(mul(1_000_000, 1_500_000), 2);
        assert_eq!(mul(1_000_000, 2_500_000), 2);
        assert_eq!(mul(-1_000_000, 1_500_000), -2);
        assert_eq!(mul(-1_000_000, -2_500_000), 2);
        // Wide path (products above 2^128) ending in exactly ...500000000000.
        let a = 1_073_741_824_500_000_000_000;
        assert_eq!(
            mul(a, 55_340_232_221_128_654_849),
            59_421_121_913_368_369_306_796_032_000
        );
        assert_eq!(
            mul(a, 18_446_744_073_709_551_619),
            19_807_040_637_789_456_438_461_988_866
        );
        assert_eq!(
            mul(-a, 18_446_744_073_709_551_619),
            -19_807_040_637_789_456_438_461_988_866
        );
        // The tie rule itself, below the multiplication.
        let d = u128::from(SCALE_FACTOR);
        assert_eq!(round_half_even(4, d / 2, d), 4);
        assert_eq!(round_half_even(5, d / 2, d), 6);
        assert_eq!(round_half_even(5, d / 2 - 1, d), 5);
        assert_eq!(round_half_even(4, d / 2 + 1, d), 5);
    }

    /// A product both of whose factors have two non-zero 64-bit limbs: every partial
    /// product of the schoolbook multiplication (both cross terms included) contributes.
    #[test]
    fn wide_products_use_every_partial_product() {
        let a = 1_173_294_908_543_862_283_231; // 0x3f_9abcdef013579bdf
        let b = 46_649_766_124_238_310_094; // 0x2_87654321_02468ace
        let want = 54_733_933_078_330_752_928_335_606_290;
        assert_eq!(mul(a, b), want);
        assert_eq!(mul(b, a), want);
        assert_eq!(mul(-a, b), -want);
        let (a, b) = (a as u128, b as u128);
        assert_eq!(wide_mul_round(a, b), Ok(want as u128));
        assert_eq!(wide_mul_round(b, a), Ok(want as u128));
    }

    #[test]
    fn powers_are_accurate() {
        // Values computed with 50-digit arithmetic.
        let cases = [
            ("0.598520000000", "0.5", "0.773640743498"),
            ("0.25", "0.6", "0.435275281648"),
            ("0.123456789012", "0.6", "0.285042085154"),
            ("0.999999", "0.6", "0.999999400000"),
            ("0.5", "1", "0.5"),
        ];
        for (x, e, want) in cases {
            let got = a(x).pow(a(e)).expect("pow");
            let err = got.checked_sub(a(want)).expect("sub").mantissa().abs();
            assert!(err <= 1, "{x}^{e} = {got}, want {want}");
        }
        assert_eq!(Amount::ZERO.pow(a("0.5")).expect("pow"), Amount::ZERO);
    }
}
