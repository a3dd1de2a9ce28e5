//! The sync server: answers peers' block-sync requests from the store (and, for a block
//! asked for by hash, from the blocks proposed at the current height).
//!
//! A pure function of the store and a lookup of proposed blocks. The production driver
//! serves it off the consensus loop ([`answer_locked`], on a blocking thread, a few at a
//! time, without proposed blocks) and has the host answer requests for a block by hash,
//! which may be only proposed; the network bounds request size and rate per peer and
//! answers only peers that passed the chain check.

use std::sync::RwLock;

use pov_crypto::Hash;
use pov_protocol::block::Block;
use pov_storage::Store;

use crate::shared::read;

use crate::wire::{SyncRequest, SyncResponse, MAX_SYNC_BATCH, MAX_SYNC_RESPONSE_BYTES};

/// The answer to the sync request `data` (its bytes), from `store`: the head height, or up
/// to [`MAX_SYNC_BATCH`] certified blocks and at most [`MAX_SYNC_RESPONSE_BYTES`] of them
/// (always at least one block when any is asked for and stored), or one block by hash
/// (final, or found by `proposed` among the blocks proposed at this height).
pub fn answer(
    store: &Store,
    genesis_hash: Hash,
    data: &[u8],
    proposed: &dyn Fn(&Hash) -> Option<Block>,
) -> SyncResponse {
    match SyncRequest::from_bytes(data) {
        Ok(SyncRequest::Status) => SyncResponse::Status {
            genesis: genesis_hash,
            height: store.height(),
        },
        Ok(SyncRequest::Blocks { from, to }) => {
            let to = to
                .min(from.saturating_add(MAX_SYNC_BATCH - 1))
                .min(store.height());
            let mut out = Vec::new();
            let mut bytes = 0usize;
            for h in from.max(1)..=to {
                match store.block(h) {
                    Ok(Some(b)) => {
                        // Stay well under the network's message cap; always send one.
                        bytes += pov_protocol::codec::encode(&b.block).len();
                        if !out.is_empty() && bytes > MAX_SYNC_RESPONSE_BYTES {
                            break;
                        }
                        out.push((b.block, b.certificate));
                    }
                    _ => break,
                }
            }
            SyncResponse::Blocks(out)
        }
        Ok(SyncRequest::Block { hash }) => match store.block_by_hash(&hash) {
            Ok(Some(stored)) => SyncResponse::Block(Some(Box::new(stored.block))),
            _ => SyncResponse::Block(proposed(&hash).map(Box::new)),
        },
        Err(e) => SyncResponse::Error(format!("malformed request: {e}")),
    }
}

/// Like [`answer`], for the production driver, which serves sync off the consensus loop:
/// the store's read lock is taken once per block read, never across the whole batch, so a
/// commit waits for at most one block read however large the batch.
pub fn answer_locked(store: &RwLock<Store>, genesis_hash: Hash, data: &[u8]) -> SyncResponse {
    match SyncRequest::from_bytes(data) {
        Ok(SyncRequest::Blocks { from, to }) => {
            let to = to
                .min(from.saturating_add(MAX_SYNC_BATCH - 1))
                .min(read(store).height());
            let mut out = Vec::new();
            let mut bytes = 0usize;
            for h in from.max(1)..=to {
                let block = read(store).block(h);
                match block {
                    Ok(Some(b)) => {
                        bytes += pov_protocol::codec::encode(&b.block).len();
                        if !out.is_empty() && bytes > MAX_SYNC_RESPONSE_BYTES {
                            break;
                        }
                        out.push((b.block, b.certificate));
                    }
                    _ => break,
                }
            }
            SyncResponse::Blocks(out)
        }
        _ => answer(&read(store), genesis_hash, data, &|_| None),
    }
}
