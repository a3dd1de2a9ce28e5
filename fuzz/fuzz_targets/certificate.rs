//! A commit certificate as it arrives (sync reply, storage): decoding, the canonical form,
//! and the certificate rule against a set of four validators of unequal power, with real
//! signature checks and with every signature accepted (the quorum and duplicate rules alone,
//! compared with an independent count).
#![no_main]

use std::collections::BTreeSet;

use libfuzzer_sys::fuzz_target;
use pov_protocol::block::Certificate;
use pov_protocol::codec::{decode_canonical, encode};

fuzz_target!(|data: &[u8]| {
    let Ok(cert) = decode_canonical::<Certificate>(data) else {
        return;
    };
    assert_eq!(encode(&cert), data, "decoded bytes are not canonical");
    let chain = pov_fuzz::chain();
    for set in [&chain.validators, &chain.four_validators] {
        let real = cert.verify(set, cert.height, &cert.block_hash);
        let counted = cert.verify_with(set, cert.height, &cert.block_hash, |_, _| Ok(()));
        if real.is_ok() {
            assert!(
                counted.is_ok(),
                "valid signatures but no quorum: {counted:?}"
            );
        }
        // The rule, counted independently: known and distinct signers holding more than
        // two thirds of the power.
        let mut seen = BTreeSet::new();
        let mut power: u128 = 0;
        let mut ok = true;
        for sig in &cert.signatures {
            match set.power_of(&sig.validator) {
                Some(p) if seen.insert(sig.validator) => power += u128::from(p),
                _ => ok = false,
            }
        }
        ok &= 3 * power > 2 * u128::from(set.total_power());
        assert_eq!(
            counted.is_ok(),
            ok,
            "certificate rule disagrees: {counted:?}"
        );
        // Another height or block is always refused.
        assert!(cert
            .verify_with(
                set,
                cert.height.wrapping_add(1),
                &cert.block_hash,
                |_, _| Ok(())
            )
            .is_err());
    }
});
