//! [`SplitMix64`]: the seeded generator of every test, simulation and benchmark, so a run is
//! reproducible from its seed alone and no test depends on a random-number crate.

/// The splitmix64 generator (Steele, Lea, Flood 2014): tiny, fast, and fully determined by
/// its seed. Not for keys or anything an adversary may predict.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose whole output is fixed by `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `0..n` (the modulo bias is irrelevant to tests); 0 when `n` is 0, so a
    /// pick from an empty range cannot divide by zero.
    pub fn below(&mut self, n: u64) -> u64 {
        match n {
            0 => 0,
            n => self.next_u64() % n,
        }
    }

    /// Uniform-ish in `lo..=hi` (`lo` when `hi < lo`).
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below((hi.saturating_sub(lo)).saturating_add(1))
    }

    /// True with probability `permille / 1000`.
    pub fn chance(&mut self, permille: u64) -> bool {
        self.below(1000) < permille
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn splitmix_matches_the_reference_and_is_fixed_by_its_seed() {
        // First outputs for seed 0 of the reference implementation (Vigna's splitmix64.c).
        let mut zero = SplitMix64::new(0);
        assert_eq!(zero.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(zero.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        let run = |seed| {
            let mut r = SplitMix64::new(seed);
            (0..5).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn ranges_stay_in_bounds_and_reach_both_ends() {
        let mut r = SplitMix64::new(1);
        assert_eq!(r.below(0), 0);
        assert_eq!(r.between(5, 5), 5);
        assert_eq!(r.between(9, 3), 9);
        let picks: Vec<u64> = (0..200).map(|_| r.between(3, 6)).collect();
        assert!(picks.iter().all(|p| (3..=6).contains(p)));
        assert!(picks.contains(&3) && picks.contains(&6));
        assert!(!(0..100).any(|_| r.chance(0)));
        assert!((0..100).all(|_| r.chance(1000)));
    }
}
