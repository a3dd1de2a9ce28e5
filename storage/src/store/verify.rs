//! Checking the stored chain without changing it: replay every block from genesis and
//! compare the result with the stored head and state (`povd replay`).

use std::path::Path;

use pov_crypto::Hash;
use pov_protocol::genesis::Genesis;

use super::open::{check_mark, engine_dir};
use super::{Store, Verification};
use crate::engine::{Engine, SledEngine, SledOptions, Tree};
use crate::error::StoreError;
use crate::marker::Marker;
use crate::read;
use crate::replay::{self, ReplayOptions, ReplayReport};
use crate::schema;
use crate::state_io;

impl Store {
    /// Replays every stored block from genesis and returns what it computed, without
    /// changing anything.
    pub fn replay(&self, options: ReplayOptions) -> Result<ReplayReport, StoreError> {
        replay::replay(self.engine.as_ref(), &self.genesis, self.height(), options).map(|(_, r)| r)
    }

    /// Replays from genesis and compares with the stored head and state (what
    /// `povd replay` prints).
    pub fn verify(&self, options: ReplayOptions) -> Result<Verification, StoreError> {
        verify_engine(self.engine.as_ref(), &self.genesis, options)
    }
}

/// Replays the chain in `engine` and compares with what is stored, changing nothing.
fn verify_engine(
    engine: &dyn Engine,
    genesis: &Genesis,
    options: ReplayOptions,
) -> Result<Verification, StoreError> {
    let stored = engine.get(Tree::Meta, schema::meta::GENESIS)?;
    if stored.as_deref() != Some(genesis.hash().as_bytes().as_slice()) {
        return Err(match stored {
            Some(bytes) if bytes.len() == 32 => {
                let mut h = [0u8; 32];
                h.copy_from_slice(&bytes);
                StoreError::WrongGenesis {
                    path: engine.location(),
                    stored: Hash(h),
                    expected: genesis.hash(),
                }
            }
            _ => StoreError::corrupt(
                &engine.location(),
                "the genesis record is missing or malformed",
            ),
        });
    }
    let head = read::head(engine)?;
    let head_root = match &head {
        Some(h) => h.state_root,
        None => genesis.state()?.state_root(),
    };
    let stored_state_root = state_io::load(engine)
        .map(|(state, _)| state.state_root())
        .map_err(|e| e.with_causes());
    let (_, replay) = replay::replay(engine, genesis, head.map_or(0, |h| h.height), options)?;
    Ok(Verification {
        head,
        head_root,
        stored_state_root,
        replay,
    })
}

/// Replays the chain stored in the data directory `dir` and compares it with the stored head
/// and state, without repairing anything (`povd replay`). Refuses a directory that holds no
/// database, and one that lost blocks reported final.
pub fn verify_dir(
    dir: &Path,
    genesis: &Genesis,
    options: ReplayOptions,
) -> Result<Verification, StoreError> {
    let engine_dir = engine_dir(dir);
    if !engine_dir.join("db").exists() {
        return Err(StoreError::Io {
            path: engine_dir,
            message: "no chain database here".to_string(),
            source: None,
        });
    }
    let engine = SledEngine::open(&engine_dir, &SledOptions::default())?;
    let marker = Marker::new(dir);
    if let Some(mark) = marker.read()? {
        let height = read::head(&engine)?.map_or(0, |h| h.height);
        check_mark(&engine, height, &mark, &marker)?;
    }
    verify_engine(&engine, genesis, options)
}
