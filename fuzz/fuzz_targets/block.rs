//! A block as it arrives (proposal, sync reply): decoding, the canonical form, the header
//! check and execution against the dev genesis; then the same transactions in a header
//! repaired so that it passes (the fields a fuzzer cannot guess: parent hash, validator set,
//! tx root), so that execution of arbitrary transactions is reached through the block path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pov_protocol::block::{tx_root, Block, BlockError};
use pov_protocol::codec::{decode_canonical, encode};
use pov_protocol::genesis::dev_validator_key;

/// Most transactions executed per input.
const MAX_TXS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Ok(block) = decode_canonical::<Block>(data) else {
        return;
    };
    assert_eq!(encode(&block), data, "decoded bytes are not canonical");
    let _ = block.hash();
    let chain = pov_fuzz::chain();
    let parent = chain.genesis.parent();
    let state = &chain.genesis_state;
    // As received: with signatures checked, as for a block from sync.
    if let Ok((_, outcome)) = state.after_block(&block, &parent, &chain.validators, &|_| false) {
        assert_eq!(outcome.state_root, block.header.state_root);
    }
    if block.txs.len() > MAX_TXS {
        return;
    }
    let mut fixed = block;
    fixed.header.chain_id = state.chain_id().to_string();
    fixed.header.height = 1;
    fixed.header.prev_hash = parent.hash;
    fixed.header.time_ms = fixed.header.time_ms.max(parent.time_ms);
    fixed.header.proposer = dev_validator_key(0).address();
    fixed.header.validator_set_hash = chain.validators.hash();
    fixed.header.tx_root = tx_root(&fixed.txs);
    // Signatures taken as checked, to reach the rules.
    match state.after_block(&fixed, &parent, &chain.validators, &|_| true) {
        Ok((after, outcome)) => {
            assert_eq!(outcome.state_root, fixed.header.state_root);
            assert_eq!(after.state_root(), outcome.state_root);
        }
        Err(BlockError::StateRoot { computed, .. }) => {
            // Executed to the end: the repaired block with the right root must then apply.
            fixed.header.state_root = computed;
            let mut copy = state.clone();
            let outcome = copy
                .apply_block(&fixed, &parent, &chain.validators, &|_| true)
                .expect("the block with the computed state root applies");
            assert_eq!(
                outcome.state_root, computed,
                "execution is not deterministic"
            );
        }
        Err(_) => {}
    }
});
