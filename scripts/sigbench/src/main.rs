//! How fast ed25519 signatures check on this machine, three ways, on the same signatures:
//! `ed25519-dalek`'s `verify_strict` one at a time (the rule of spec section 7 today), and
//! `ed25519-consensus` (ZIP-215 rules, whose single and batch checks accept the same set)
//! one at a time and in batches. Rounds alternate the three so that a busy machine slows
//! them alike. `cargo run --release -- [signatures] [batch] [rounds]`.

use std::time::Instant;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let n = args.next().and_then(Result::ok).unwrap_or(4096);
    let batch = args.next().and_then(Result::ok).unwrap_or(1000).max(1);
    let rounds = args.next().and_then(Result::ok).unwrap_or(5).max(1);
    let mut rng = rand_core::OsRng;
    let mut dalek = Vec::with_capacity(n);
    let mut zip215 = Vec::with_capacity(n);
    for i in 0..n {
        let msg = format!("pov/tx/v3 transaction {i} with some body bytes to sign").into_bytes();
        let sk = ed25519_dalek::SigningKey::generate(&mut rng);
        let sig = ed25519_dalek::Signer::sign(&sk, &msg);
        dalek.push((sk.verifying_key(), sig, msg.clone()));
        let vk_bytes = ed25519_consensus::VerificationKeyBytes::from(sk.verifying_key().to_bytes());
        let zsig = ed25519_consensus::Signature::from(sig.to_bytes());
        zip215.push((vk_bytes, zsig, msg));
    }
    let mut best = [f64::MAX; 3];
    for round in 0..rounds {
        let t = Instant::now();
        let ok = dalek
            .iter()
            .filter(|(vk, sig, msg)| vk.verify_strict(msg, sig).is_ok())
            .count();
        let strict = t.elapsed().as_secs_f64() / n as f64;
        assert_eq!(ok, n);

        let t = Instant::now();
        let ok = zip215
            .iter()
            .filter(|(vk, sig, msg)| {
                ed25519_consensus::VerificationKey::try_from(*vk)
                    .and_then(|k| k.verify(sig, msg))
                    .is_ok()
            })
            .count();
        let single = t.elapsed().as_secs_f64() / n as f64;
        assert_eq!(ok, n);

        let t = Instant::now();
        for chunk in zip215.chunks(batch) {
            let mut verifier = ed25519_consensus::batch::Verifier::new();
            for (vk, sig, msg) in chunk {
                verifier.queue((*vk, *sig, msg));
            }
            assert!(verifier.verify(rng).is_ok());
        }
        let batched = t.elapsed().as_secs_f64() / n as f64;
        println!(
            "round {round}: verify_strict {:.1} us, zip215 single {:.1} us, zip215 batch of {batch} {:.1} us per signature",
            strict * 1e6,
            single * 1e6,
            batched * 1e6
        );
        for (b, x) in best.iter_mut().zip([strict, single, batched]) {
            *b = b.min(x);
        }
    }
    println!(
        "best of {rounds}: verify_strict {:.1} us ({:.0}/s), zip215 single {:.1} us ({:.0}/s), zip215 batch of {batch} {:.1} us ({:.0}/s) per signature, one thread",
        best[0] * 1e6,
        1.0 / best[0],
        best[1] * 1e6,
        1.0 / best[1],
        best[2] * 1e6,
        1.0 / best[2]
    );
}
