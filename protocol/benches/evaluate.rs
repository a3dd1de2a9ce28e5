//! Throughput of the evaluation rule at 100, 1,000 and 10,000 members.
//!
//! Each cooperative has 10 open contributions, each already evaluated by half the members
//! with values clustered around a "true" value per contribution (how real communities
//! vote: mostly agreeing, some spread). The measured stream is random members evaluating
//! random contributions with the same kind of values, under `revote = reprocess` so that
//! every evaluation does the full work (no cheap rejections). Also measured: the signed
//! transaction path (signature check included) and the state root.

// A benchmark measures time; the clock rules of protocol/clippy.toml are for the crate's code.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pov_crypto::{Hash, Keypair};
// A seeded generator, so that every run measures the same stream.
use pov_protocol::test_utils::SplitMix64 as Rng;
use pov_protocol::{Amount, Params, Revote, State, Transaction, TxBody};

const CONTRIBUTIONS: u64 = 10;

/// A value near the contribution's "true" value on the 0..5 scale.
fn value_for(rng: &mut Rng, contribution: u64) -> i64 {
    let truth = (contribution % 6) as i64;
    let spread = rng.below(5) as i64 - 2; // -2..=2, mostly small after clamping
    (truth + if rng.below(3) == 0 { spread } else { 0 }).clamp(0, 5)
}

fn cooperative(members: usize, rng: &mut Rng) -> State {
    let params = Params {
        revote: Revote::Reprocess,
        ..Default::default()
    };
    let mut state = State::new("bench", params);
    for i in 0..members {
        let mut address = [0u8; 32];
        address[..8].copy_from_slice(&(i as u64).to_le_bytes());
        let reputation = Amount::from_int(1 + rng.below(100) as i64);
        state
            .add_founding_member(
                pov_crypto::Address(address),
                "",
                reputation,
                Amount::from_int(1000),
            )
            .expect("member");
    }
    for c in 0..CONTRIBUTIONS {
        state
            .contribute(
                (c % members as u64) as u32,
                "work",
                "bench",
                "https://example.org/x",
                None,
            )
            .expect("contribution");
    }
    for c in 0..CONTRIBUTIONS {
        for m in 0..members as u32 {
            if rng.below(2) == 0 {
                let v = value_for(rng, c);
                let _ = state.evaluate(m, c, v);
            }
        }
    }
    state
}

fn stream(members: usize, rng: &mut Rng, len: usize) -> Vec<(u32, u64, i64)> {
    (0..len)
        .map(|_| {
            let c = rng.below(CONTRIBUTIONS);
            (rng.below(members as u64) as u32, c, value_for(rng, c))
        })
        .collect()
}

fn evaluations(c: &mut Criterion) {
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    for members in [100usize, 1_000, 10_000] {
        let mut rng = Rng::new(members as u64);
        let state = cooperative(members, &mut rng);
        let steps = stream(members, &mut rng, 2048);
        // Every 2,048 evaluations the state is reset to the prepared one (untimed), so each
        // sample measures the same stationary mix however many iterations criterion runs.
        group.bench_with_input(BenchmarkId::from_parameter(members), &members, |b, _| {
            b.iter_custom(|iters| {
                let mut total = std::time::Duration::ZERO;
                let mut done = 0u64;
                while done < iters {
                    let mut s = state.clone();
                    let n = (iters - done).min(steps.len() as u64) as usize;
                    let start = std::time::Instant::now();
                    for (m, c, v) in &steps[..n] {
                        let _ = criterion::black_box(s.evaluate(*m, *c, *v));
                    }
                    total += start.elapsed();
                    done += n as u64;
                }
                total
            })
        });
    }
    group.finish();
}

/// The life of 10 contributions: every member evaluates every contribution once, in a
/// random order, from an empty start. Reported per evaluation.
fn lifecycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("lifecycle");
    group.sample_size(10);
    for members in [100usize, 1_000, 10_000] {
        let mut rng = Rng::new(members as u64 + 1);
        let mut fresh = cooperative(members, &mut Rng::new(0));
        // Start from no evaluations at all.
        let mut base = State::new("bench", fresh.params().clone());
        for m in fresh.members() {
            base.add_founding_member(m.address, "", m.reputation, m.tokens)
                .expect("member");
        }
        for c in 0..CONTRIBUTIONS {
            base.contribute(
                (c % members as u64) as u32,
                "work",
                "bench",
                "https://example.org/x",
                None,
            )
            .expect("contribution");
        }
        fresh = base;
        let mut order: Vec<(u32, u64)> = (0..CONTRIBUTIONS)
            .flat_map(|c| (0..members as u32).map(move |m| (m, c)))
            .collect();
        for i in (1..order.len()).rev() {
            let j = rng.below(i as u64 + 1) as usize;
            order.swap(i, j);
        }
        let steps: Vec<(u32, u64, i64)> = order
            .into_iter()
            .map(|(m, c)| (m, c, value_for(&mut rng, c)))
            .collect();
        group.throughput(Throughput::Elements(steps.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(members), &members, |b, _| {
            b.iter_batched(
                || fresh.clone(),
                |mut s| {
                    for (m, c, v) in &steps {
                        let _ = s.evaluate(*m, *c, *v);
                    }
                    s
                },
                criterion::BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

fn signed_transactions(c: &mut Criterion) {
    let members = 1_000;
    let mut rng = Rng::new(7);
    let params = Params {
        revote: Revote::Reprocess,
        ..Default::default()
    };
    let mut state = State::new("bench", params);
    let keys: Vec<Keypair> = (0..members).map(Keypair::dev).collect();
    for k in &keys {
        state
            .add_founding_member(
                k.address(),
                "",
                Amount::from_int(1 + rng.below(100) as i64),
                Amount::from_int(1000),
            )
            .expect("member");
    }
    for c in 0..CONTRIBUTIONS {
        state
            .contribute(c as u32, "work", "bench", "https://example.org/x", None)
            .expect("contribution");
    }
    let mut nonces = vec![0u64; members as usize];
    let txs: Vec<Transaction> = (0..4096)
        .map(|_| {
            let m = rng.below(u64::from(members)) as usize;
            let contribution = rng.below(CONTRIBUTIONS);
            nonces[m] += 1;
            Transaction::sign(
                &keys[m],
                "bench",
                &Hash::ZERO,
                nonces[m],
                TxBody::Evaluate {
                    contribution,
                    value: value_for(&mut rng, contribution),
                },
            )
        })
        .collect();
    let mut group = c.benchmark_group("signed-evaluate-1000-members");
    group.throughput(Throughput::Elements(txs.len() as u64));
    group.sample_size(10);
    group.bench_function("apply-with-verify_strict", |b| {
        b.iter_batched(
            || state.clone(),
            |mut s| {
                for tx in &txs {
                    let _ = s.apply(tx);
                }
                s
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();

    let mut root = c.benchmark_group("state-root");
    for members in [1_000usize, 10_000] {
        let mut rng = Rng::new(members as u64);
        let state = cooperative(members, &mut rng);
        root.bench_with_input(BenchmarkId::from_parameter(members), &members, |b, _| {
            b.iter(|| state.state_root())
        });
    }
    root.finish();
}

mod group {
    #![allow(missing_docs)]
    use super::*;
    criterion_group!(benches, evaluations, lifecycle, signed_transactions);
}
use group::benches;
criterion_main!(benches);
