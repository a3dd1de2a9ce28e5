//! An in-memory [`Engine`]: ordered maps behind one lock.
//!
//! It exists so that the store's logic is tested against a second implementation of the
//! interface (and runs fast in unit tests); it keeps nothing across processes.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::RwLock;

use super::{Engine, EngineError, KeyValue, Scan, Tree, WriteBatch};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

/// An engine that keeps every tree in memory. Writes are atomic (one lock), flushes do
/// nothing, and everything is lost when it is dropped.
#[derive(Debug, Default)]
pub struct MemoryEngine {
    trees: RwLock<[Map; 4]>,
}

impl MemoryEngine {
    /// An empty in-memory database.
    pub fn new() -> MemoryEngine {
        MemoryEngine::default()
    }
}

impl Engine for MemoryEngine {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn location(&self) -> PathBuf {
        PathBuf::from("<memory>")
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        // A poisoned lock only means another thread panicked while holding it; each map is
        // still a valid map, and the store above re-checks its state root on open.
        let trees = self.trees.read().unwrap_or_else(|e| e.into_inner());
        Ok(trees[tree.index()].get(key).cloned())
    }

    fn scan(&self, scan: Scan<'_>) -> Result<Vec<KeyValue>, EngineError> {
        let trees = self.trees.read().unwrap_or_else(|e| e.into_inner());
        let map = &trees[scan.tree.index()];
        let end = match scan.end {
            Some(end) if end <= scan.start => return Ok(Vec::new()),
            Some(end) => Bound::Excluded(end),
            None => Bound::Unbounded,
        };
        let range = map.range::<[u8], _>((Bound::Included(scan.start), end));
        let clone = |(k, v): (&Vec<u8>, &Vec<u8>)| (k.clone(), v.clone());
        Ok(if scan.reverse {
            range.rev().take(scan.limit).map(clone).collect()
        } else {
            range.take(scan.limit).map(clone).collect()
        })
    }

    fn write(&self, batch: &WriteBatch) -> Result<(), EngineError> {
        // One lock for the whole batch: no reader ever sees half of it, and nothing of an
        // in-memory engine survives a crash, so in-place updates are atomic enough.
        let mut trees = self.trees.write().unwrap_or_else(|e| e.into_inner());
        for op in batch.ops() {
            let map = &mut trees[op.tree.index()];
            match &op.value {
                Some(value) => {
                    map.insert(op.key.clone(), value.clone());
                }
                None => {
                    map.remove(&op.key);
                }
            }
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), EngineError> {
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64, EngineError> {
        Ok(0)
    }
}
