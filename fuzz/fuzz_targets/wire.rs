//! What peers send (gossip and block sync), decoded as each kind the node reads: consensus
//! envelopes, transaction envelopes, sync requests and replies. Whatever decodes must be its
//! canonical bytes, and goes through the checks the node runs on receipt: signatures of
//! votes, proposals, evidence and transactions, a proposal's block hash and proposer, a sync
//! reply's certificates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pov_node::wire::{
    ConsensusMessage, Envelope, SyncRequest, SyncResponse, TxEnvelope, MAX_GOSSIP_TXS,
};

/// Receipt checks of one consensus message, as the gossip handler runs them.
fn check(message: &ConsensusMessage) {
    let chain = pov_fuzz::chain();
    let set = &chain.four_validators;
    let _ = message.to_engine();
    match message {
        ConsensusMessage::Vote(vote) => {
            let _ = set.contains(&vote.vote.validator);
            let _ = vote.verify();
        }
        ConsensusMessage::Proposal(p) => {
            let proposal = &p.proposal.proposal;
            let _ = set.proposer(proposal.height, proposal.round);
            let _ = p.block.hash() == proposal.value;
            let _ = p.proposal.verify();
        }
        ConsensusMessage::Evidence(evidence) => {
            let _ = (evidence.offender(), evidence.height(), evidence.round());
            let _ = evidence.offence();
            let _ = evidence.verify();
            let _ = evidence.clone().normalized();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(envelope) = Envelope::from_bytes(data) {
        assert_eq!(
            envelope.to_bytes(),
            data,
            "envelope bytes are not canonical"
        );
        check(&envelope.message);
    }
    if let Ok(message) = ConsensusMessage::from_bytes(data) {
        assert_eq!(message.to_bytes(), data, "message bytes are not canonical");
        check(&message);
    }
    if let Ok(envelope) = TxEnvelope::from_bytes(data) {
        assert_eq!(
            envelope.to_bytes(),
            data,
            "tx envelope bytes are not canonical"
        );
        let genesis_hash = pov_fuzz::chain().genesis_state.genesis_hash();
        for tx in envelope.txs.iter().take(MAX_GOSSIP_TXS) {
            let _ = tx.hash();
            let _ = tx.verify_signature(genesis_hash);
        }
    }
    if let Ok(request) = SyncRequest::from_bytes(data) {
        assert_eq!(
            request.to_bytes(),
            data,
            "sync request bytes are not canonical"
        );
    }
    if let Ok(response) = SyncResponse::from_bytes(data) {
        assert_eq!(
            response.to_bytes(),
            data,
            "sync reply bytes are not canonical"
        );
        let chain = pov_fuzz::chain();
        match response {
            SyncResponse::Blocks(blocks) => {
                for (block, certificate) in &blocks {
                    let _ =
                        certificate.verify(&chain.validators, block.header.height, &block.hash());
                }
            }
            SyncResponse::Block(Some(block)) => {
                let _ = block.hash();
            }
            SyncResponse::Status { .. } | SyncResponse::Error(_) | SyncResponse::Block(None) => {}
        }
    }
});
