//! What the fuzz targets share: the development chain that decoded input is checked
//! against, built once per process.
//!
//! The targets check what a node checks, against a real chain: the dev genesis (four
//! members, one validator), the same chain after a few blocks of the deterministic test
//! workload (so there are contributions to evaluate and settle), and a set of four
//! validators of unequal power for the certificate rule.

use std::sync::OnceLock;

use pov_crypto::Keypair;
use pov_protocol::block::{Parent, ValidatorSet};
use pov_protocol::genesis::{dev_validator_key, Genesis};
use pov_protocol::test_utils::{build_block, Workload};
use pov_protocol::{State, Validator};

/// The chain every target checks input against.
pub struct Chain {
    /// The dev genesis.
    pub genesis: Genesis,
    /// Its validator set (one validator).
    pub validators: ValidatorSet,
    /// The state before block 1.
    pub genesis_state: State,
    /// The state after [`BUSY_BLOCKS`] blocks of the test workload.
    pub busy_state: State,
    /// The members' keys, in member order.
    pub members: Vec<Keypair>,
    /// Four validators of power 1, 2, 3 and 4 (a quorum needs more than 20 / 3).
    pub four_validators: ValidatorSet,
}

/// Blocks of the test workload behind [`Chain::busy_state`].
pub const BUSY_BLOCKS: u64 = 4;

/// The shared chain (built on first use).
pub fn chain() -> &'static Chain {
    static CHAIN: OnceLock<Chain> = OnceLock::new();
    CHAIN.get_or_init(build)
}

fn build() -> Chain {
    let genesis = Genesis::dev();
    let validators = genesis
        .validator_set()
        .expect("the dev genesis has validators");
    let genesis_state = genesis.state().expect("the dev genesis is valid");
    let workload = Workload::dev(4);
    let proposer = dev_validator_key(0);
    let mut state = genesis_state.clone();
    let mut parent = genesis.parent();
    for height in 1..=BUSY_BLOCKS {
        let txs = workload.next_txs(&state, height, 12);
        let block = build_block(
            &state,
            &parent,
            &validators,
            &proposer,
            parent.time_ms + 1000,
            txs,
            &|_| false,
        )
        .expect("workload blocks apply");
        state
            .apply_block(&block, &parent, &validators, &|_| false)
            .expect("workload blocks apply");
        parent = Parent {
            height,
            hash: block.hash(),
            time_ms: block.header.time_ms,
        };
    }
    let four_validators = ValidatorSet::new(
        (0..4u32)
            .map(|i| Validator {
                address: dev_validator_key(i).address(),
                power: u64::from(i) + 1,
            })
            .collect(),
    )
    .expect("four distinct validators");
    Chain {
        genesis,
        validators,
        genesis_state,
        busy_state: state,
        members: (0..4).map(Keypair::dev).collect(),
        four_validators,
    }
}
