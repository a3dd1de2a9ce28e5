//! Opening a store: creating an empty database for a genesis or checking an existing one
//! (its genesis, format version, final-head marker and head block), and recovering the
//! state, from the stored entries when their root checks out, else by replay from genesis.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use pov_crypto::Hash;
use pov_protocol::block::BlockHeader;
use pov_protocol::genesis::Genesis;
use pov_protocol::State;

use super::{OpenOptions, OpenReport, Store};
use crate::engine::{Engine, Scan, SledEngine, Tree, WriteBatch};
use crate::error::StoreError;
use crate::marker::{Mark, Marker};
use crate::read;
use crate::replay::{self, ReplayOptions};
use crate::schema::{self, Head, FORMAT_VERSION};
use crate::state_io::{self, Persisted};

impl Store {
    /// Opens (or creates) the store in the data directory `dir` for `genesis`: sled's files
    /// in `dir/sled`, the final-head marker in `dir/final-head`. Checks the database
    /// against the marker and the stored state against the head block, and rebuilds the
    /// state by replay if that check fails or `options.verify` asks for it.
    pub fn open(dir: &Path, genesis: Genesis, options: &OpenOptions) -> Result<Store, StoreError> {
        let engine = SledEngine::open(&engine_dir(dir), &options.sled)?;
        Store::start(Box::new(engine), genesis, options, Some(Marker::new(dir)))
    }

    /// A store that keeps everything in memory (tests, simulations; feature `test-utils`).
    #[cfg(any(test, feature = "test-utils"))]
    pub fn in_memory(genesis: Genesis) -> Result<Store, StoreError> {
        Store::with_engine(
            Box::new(crate::engine::MemoryEngine::new()),
            genesis,
            &OpenOptions::default(),
        )
    }

    /// Opens a store over any engine (without a final-head marker): initializes an empty
    /// one, refuses one made for another genesis, checks the stored state against the head
    /// block, replays if needed. For tests that inject an engine (feature `test-utils`).
    #[cfg(any(test, feature = "test-utils"))]
    pub fn with_engine(
        engine: Box<dyn Engine>,
        genesis: Genesis,
        options: &OpenOptions,
    ) -> Result<Store, StoreError> {
        Store::start(engine, genesis, options, None)
    }

    fn start(
        engine: Box<dyn Engine>,
        genesis: Genesis,
        options: &OpenOptions,
        marker: Option<Marker>,
    ) -> Result<Store, StoreError> {
        let genesis_state = genesis.state()?;
        let genesis_root = genesis_state.state_root();
        let location = engine.location();
        let mark = match &marker {
            Some(m) => m.read()?,
            None => None,
        };
        check_identity(
            engine.as_ref(),
            &genesis,
            &genesis_state,
            mark.as_ref(),
            marker.as_ref(),
        )?;

        let head = read::head(engine.as_ref())?;
        let (height, head_root) = match &head {
            Some(h) => (h.height, h.state_root),
            None => (0, genesis_root),
        };
        if let Some(h) = &head {
            check_head_block(engine.as_ref(), h)?;
        }
        if let (Some(mark), Some(marker)) = (&mark, &marker) {
            check_mark(engine.as_ref(), height, mark, marker)?;
        }

        let mut rebuilt = if options.verify {
            Some("verification was requested (--verify)".to_string())
        } else {
            None
        };
        let mut loaded = None;
        if rebuilt.is_none() {
            match state_io::load(engine.as_ref()) {
                Ok((state, persisted)) => {
                    let root = state.state_root();
                    if root == head_root {
                        loaded = Some((state, persisted));
                    } else {
                        rebuilt = Some(format!(
                            "the stored state's root {root} differs from {head_root}, the root of the head block at height {height}"
                        ));
                    }
                }
                Err(e) if e.is_corruption() => {
                    rebuilt = Some(format!("the stored state cannot be read: {e}"));
                }
                Err(e) => return Err(e),
            }
        }

        let (state, persisted, replay) = match loaded {
            Some((state, persisted)) => (state, persisted, None),
            None => {
                let reason = rebuilt.as_deref().unwrap_or_default();
                tracing::warn!(
                    dir = %location.display(),
                    height,
                    "rebuilding the state by replaying {height} blocks from genesis: {reason}"
                );
                let (state, report) =
                    replay::replay(engine.as_ref(), &genesis, height, ReplayOptions::default())?;
                if report.state_root != head_root {
                    return Err(StoreError::corrupt(
                        &location,
                        format!(
                            "replaying to height {height} gives state root {}, but the head record says {head_root}",
                            report.state_root
                        ),
                    ));
                }
                let mut batch = WriteBatch::new();
                let persisted = state_io::rewrite(engine.as_ref(), &state, &mut batch)?;
                engine.write(&batch)?;
                engine.flush()?;
                tracing::warn!(
                    dir = %location.display(),
                    height,
                    state_root = %report.state_root,
                    txs = report.txs,
                    seconds = report.elapsed.as_secs_f64(),
                    "state rebuilt from genesis and written back"
                );
                (state, persisted, Some(report))
            }
        };

        if read::header(engine.as_ref(), height + 1)?.is_some() {
            // Written by a batch whose head update did not land: sled broke atomicity. The
            // block is final (it has a certificate) but was never reported so; it will be
            // committed again, with identical content, when the node catches up.
            tracing::warn!(
                dir = %location.display(),
                height = height + 1,
                "found a block above the head; it will be overwritten when the node commits that height again"
            );
        }
        if let (Some(marker), Some(h)) = (&marker, &head) {
            if mark.map(|m| m.height) != Some(h.height) {
                // A crash between the engine's flush and the marker's write, or a marker
                // lost: the database is the longer record and checked out, so bring the
                // marker up to it.
                marker.write(h)?;
            }
        }
        tracing::info!(
            dir = %location.display(),
            engine = engine.name(),
            height,
            state_root = %head_root,
            "chain store open"
        );

        Ok(Store {
            engine: Arc::from(engine),
            validators: Arc::new(genesis.validator_set()?),
            genesis: Arc::new(genesis),
            genesis_root,
            state: Arc::new(state),
            head,
            persisted,
            marker,
            poisoned: None,
            checkpoint_interval: options.checkpoint_interval.max(1),
            checkpoint_txs: options.checkpoint_txs.max(1),
            // At genesis the genesis state is the base; otherwise the count since the last
            // checkpoint is unknown, so the next block writes one.
            txs_since_checkpoint: (height == 0).then_some(0),
            recent: Arc::default(),
            opened: OpenReport {
                height,
                rebuilt,
                replay,
            },
        })
    }
}

/// Initializes an empty database for `genesis`, or checks that an existing one belongs to
/// it and has this build's format.
fn check_identity(
    engine: &dyn Engine,
    genesis: &Genesis,
    genesis_state: &State,
    mark: Option<&Mark>,
    marker: Option<&Marker>,
) -> Result<(), StoreError> {
    let location = engine.location();
    let expected = genesis.hash();
    let stored = engine.get(Tree::Meta, schema::meta::GENESIS)?;
    let Some(stored) = stored else {
        if let (Some(mark), Some(marker)) = (mark, marker) {
            return Err(StoreError::corrupt(
                &location,
                format!(
                    "the database is empty, but block {} was reported final (recorded in {}): its files were deleted, replaced or truncated",
                    mark.height,
                    marker.path().display()
                ),
            ));
        }
        // A database without a genesis record must be empty: anything else is a damaged
        // database whose identity is lost, not a new one.
        for tree in Tree::ALL {
            if !engine
                .scan(Scan {
                    limit: 1,
                    ..Scan::range(tree, &[], None)
                })?
                .is_empty()
            {
                return Err(StoreError::corrupt(
                    &location,
                    format!("the genesis record is missing but tree `{tree}` holds data"),
                ));
            }
        }
        let mut batch = WriteBatch::new();
        batch.put(
            Tree::Meta,
            schema::meta::VERSION.to_vec(),
            FORMAT_VERSION.to_be_bytes().to_vec(),
        );
        batch.put(
            Tree::Meta,
            schema::meta::GENESIS.to_vec(),
            expected.as_bytes().to_vec(),
        );
        Persisted::default().diff(genesis_state, &mut batch);
        engine.write(&batch)?;
        engine.flush()?;
        tracing::info!(dir = %location.display(), genesis = %expected, "created a new chain store");
        return Ok(());
    };
    let version = engine.get(Tree::Meta, schema::meta::VERSION)?;
    let found = version
        .as_deref()
        .and_then(|v| <[u8; 4]>::try_from(v).ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| {
            StoreError::corrupt(
                &location,
                "the format version record is missing or malformed",
            )
        })?;
    if found != FORMAT_VERSION {
        return Err(StoreError::Version {
            path: location,
            found,
            supported: FORMAT_VERSION,
        });
    }
    let stored: [u8; 32] = stored
        .as_slice()
        .try_into()
        .map_err(|_| StoreError::corrupt(&location, "the genesis record is not a 32-byte hash"))?;
    let stored = Hash(stored);
    if stored != expected {
        return Err(StoreError::WrongGenesis {
            path: location,
            stored,
            expected,
        });
    }
    Ok(())
}

/// Checks the database against the final-head marker: it must hold the marked block.
pub(super) fn check_mark(
    engine: &dyn Engine,
    height: u64,
    mark: &Mark,
    marker: &Marker,
) -> Result<(), StoreError> {
    let location = engine.location();
    if mark.height > height {
        return Err(StoreError::corrupt(
            &location.join("db"),
            format!(
                "the database ends at height {height}, but block {} was reported final (recorded in {}): the database lost final blocks, its files were truncated or damaged",
                mark.height,
                marker.path().display()
            ),
        ));
    }
    if mark.height > 0 {
        let header = read::header(engine, mark.height)?;
        let hash = header.as_ref().map(BlockHeader::hash);
        if hash != Some(mark.hash) {
            return Err(StoreError::corrupt(
                &location,
                format!(
                    "block {} reported final was {} (recorded in {}), the database holds {}",
                    mark.height,
                    mark.hash,
                    marker.path().display(),
                    hash.map_or("nothing".to_string(), |h| h.to_string())
                ),
            ));
        }
    }
    Ok(())
}

/// Checks that the head record and the head block agree (hash and state root).
fn check_head_block(engine: &dyn Engine, head: &Head) -> Result<(), StoreError> {
    let location = engine.location();
    let header = read::header(engine, head.height)?.ok_or_else(|| {
        StoreError::corrupt(
            &location,
            format!(
                "the head is at height {} but that block is missing",
                head.height
            ),
        )
    })?;
    if header.hash() != head.hash || header.state_root != head.state_root {
        return Err(StoreError::corrupt(
            &location,
            format!(
                "the head record (block {}, state root {}) does not match the stored block at height {} (block {}, state root {})",
                head.hash,
                head.state_root,
                head.height,
                header.hash(),
                header.state_root
            ),
        ));
    }
    Ok(())
}

/// The engine's directory inside a data directory.
pub(super) fn engine_dir(dir: &Path) -> PathBuf {
    dir.join("sled")
}
