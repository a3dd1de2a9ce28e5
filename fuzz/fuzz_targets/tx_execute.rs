//! The protocol's rules under arbitrary transaction bodies: a decoded list of transactions
//! is executed on the dev chain after a few blocks, each from a real member (the sender is
//! chosen by the fuzzed nonce, the signature is taken as checked), with block boundaries
//! where the input asks for them. A refused transaction must leave the state exactly as it
//! was, and the state must always encode canonically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pov_protocol::codec::decode_canonical;
use pov_protocol::{State, Transaction};

/// Most transactions executed per input (bounds the work of one run).
const MAX_TXS: usize = 64;

fuzz_target!(|data: &[u8]| {
    let Ok(txs) = decode_canonical::<Vec<Transaction>>(data) else {
        return;
    };
    let chain = pov_fuzz::chain();
    let mut state = chain.busy_state.clone();
    let mut height = state.height();
    for mut tx in txs.into_iter().take(MAX_TXS) {
        // The fuzzed nonce picks the sender (low bits), whether the block ends first (bit 8)
        // and whether the nonce is the right one (bit 9 clear) or the fuzzed one.
        let pick = tx.nonce;
        if pick & 0x100 != 0 {
            height += 1;
            let before = state.clone();
            if state.begin_block(height).is_err() {
                assert_eq!(state, before, "a refused block start changed the state");
                return;
            }
        }
        let key = &chain.members[(pick % chain.members.len() as u64) as usize];
        tx.sender = key.address();
        tx.chain_id = state.chain_id().to_string();
        if pick & 0x200 == 0 {
            if let Some((_, member)) = state.member_by_address(&tx.sender) {
                tx.nonce = member.nonce + 1;
            }
        }
        let before = state.clone();
        if state.apply_verified(&tx).is_err() {
            assert_eq!(state, before, "a refused transaction changed the state");
        }
    }
    let bytes = state.to_bytes();
    let decoded: State = decode_canonical(&bytes).expect("a state's bytes decode");
    assert_eq!(decoded, state, "a state does not survive its encoding");
    let _ = state.state_root();
});
