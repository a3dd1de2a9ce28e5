//! Rebuilding the state from genesis by re-executing every stored block.
//!
//! Replay is the store's answer to any doubt about the stored state: the blocks are the
//! source of truth (each one certified by the validators), the state is derived from them.
//!
//! Transaction signatures are not re-checked by default. Each block's transactions are
//! bound to its header by `tx_root`, the header to its hash, and the hash to a certificate
//! signed by more than 2/3 of the validator power, which replay does verify; those
//! validators checked every transaction's signature before precommitting. Checking 1,000
//! ed25519 signatures per block again would make replay several times slower for no added
//! assurance under the protocol's own trust assumption. [`ReplayOptions::verify_signatures`]
//! turns the full check on.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use pov_crypto::Hash;
use pov_protocol::genesis::Genesis;
use pov_protocol::State;

use crate::engine::Engine;
use crate::error::StoreError;
use crate::read::{self, StoredBlock};

/// How thoroughly to replay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayOptions {
    /// Re-verify every transaction's signature (see the module docs for why it is off by
    /// default).
    pub verify_signatures: bool,
}

/// What a replay computed, and how fast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayReport {
    /// The height replayed to.
    pub height: u64,
    /// The state root recomputed at that height.
    pub state_root: Hash,
    /// Blocks re-executed.
    pub blocks: u64,
    /// Transactions re-executed.
    pub txs: u64,
    /// Wall time of the replay.
    pub elapsed: Duration,
}

impl ReplayReport {
    /// Transactions per second of wall time (0 when nothing was replayed).
    pub fn tx_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.txs as f64 / secs
        } else {
            0.0
        }
    }
}

/// Blocks decoded ahead of execution: reading and decoding run on a second thread while the
/// state machine executes, which uses both cores of a small machine.
const READ_AHEAD: usize = 4;

/// Re-executes blocks 1..=`height` from the genesis state; fails on the first block that
/// is missing, damaged, not certified, or does not reproduce its header's state root.
pub(crate) fn replay(
    engine: &dyn Engine,
    genesis: &Genesis,
    height: u64,
    options: ReplayOptions,
) -> Result<(State, ReplayReport), StoreError> {
    let started = Instant::now();
    let mut state = genesis.state()?;
    let validators = genesis.validator_set()?;
    let mut parent = genesis.parent();
    let location = engine.location();
    let mut txs = 0u64;

    thread::scope(|scope| -> Result<(), StoreError> {
        let (sender, receiver) = mpsc::sync_channel::<Result<StoredBlock, StoreError>>(READ_AHEAD);
        scope.spawn(move || {
            for h in 1..=height {
                let item = read::block(engine, h).and_then(|b| {
                    b.ok_or_else(|| {
                        StoreError::corrupt(
                            &engine.location(),
                            format!("block {h} is missing below the head at {height}"),
                        )
                    })
                });
                let failed = item.is_err();
                if sender.send(item).is_err() || failed {
                    return;
                }
            }
        });
        for h in 1..=height {
            let stored = receiver.recv().map_err(|_| {
                StoreError::Internal(format!("the block reader stopped before block {h}"))
            })??;
            let StoredBlock {
                block, certificate, ..
            } = stored;
            let hash = block.hash();
            certificate.verify(&validators, h, &hash).map_err(|e| {
                StoreError::corrupt(
                    &location,
                    format!("stored block {h} does not carry a valid certificate: {e}"),
                )
            })?;
            let verify = options.verify_signatures;
            state
                .apply_block(&block, &parent, &validators, &|_| !verify)
                .map_err(|e| {
                    StoreError::corrupt(&location, format!("stored block {h} does not replay: {e}"))
                })?;
            txs += block.txs.len() as u64;
            parent = pov_protocol::block::Parent {
                height: h,
                hash,
                time_ms: block.header.time_ms,
            };
            if h % 10_000 == 0 {
                tracing::info!(height = h, of = height, "replaying");
            }
        }
        Ok(())
    })?;

    let report = ReplayReport {
        height,
        state_root: state.state_root(),
        blocks: height,
        txs,
        elapsed: started.elapsed(),
    };
    Ok((state, report))
}
