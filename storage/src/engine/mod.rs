//! The small key-value interface the store is written against, and its two engines.
//!
//! sled 0.34 is unmaintained and has open reports of corruption after abrupt stops, so it is
//! treated as an untrusted component: everything the rest of the crate needs from a database
//! is this trait, a handful of ordered keyspaces ([`Tree`]), point reads, ordered range
//! scans, one atomic [`WriteBatch`] per finalized block, and an explicit durability barrier
//! ([`Engine::flush`]). Replacing sled (redb is the natural candidate) means writing one more
//! implementation of [`Engine`] in this module and nothing else. [`MemoryEngine`] is the
//! second implementation: the tests run the same store logic against it, which keeps the
//! trait honest.

#[cfg(any(test, feature = "test-utils"))]
mod memory;
mod sled_engine;

use std::fmt;
use std::path::PathBuf;

#[cfg(any(test, feature = "test-utils"))]
pub use memory::MemoryEngine;
pub use sled_engine::{SledEngine, SledOptions};

/// The keyspaces of the store. Few and fixed, with prefixed keys inside each (see
/// [`crate::schema`]), because sled's cost and its recovery risk grow with the number of
/// trees, and a multi-tree transaction names every tree it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tree {
    /// Format version, genesis hash, head of the chain.
    Meta,
    /// Headers, certificates and transactions by height, block and transaction indexes.
    Chain,
    /// The current state: one entry per member, per contribution, and the chain-wide record.
    State,
    /// Per-member and per-contribution history (events and evaluations over time).
    History,
}

impl Tree {
    /// Every tree, in a fixed order (engines index their handles by it).
    pub const ALL: [Tree; 4] = [Tree::Meta, Tree::Chain, Tree::State, Tree::History];

    /// The tree's name on disk: stable, because renaming one loses its data.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Chain => "chain",
            Tree::State => "state",
            Tree::History => "history",
        }
    }

    /// Position in [`Tree::ALL`], for engines that keep one handle per tree.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One write of a batch: a put (`Some`) or a delete (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOp {
    /// The tree written.
    pub tree: Tree,
    /// The key.
    pub key: Vec<u8>,
    /// The new value, or `None` to delete the key.
    pub value: Option<Vec<u8>>,
}

/// Writes that must land together or not at all: everything one finalized block changes.
///
/// Operations apply in order, so a later write to the same key wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<WriteOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch::default()
    }

    /// Sets `key` to `value` in `tree`.
    pub fn put(&mut self, tree: Tree, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push(WriteOp {
            tree,
            key,
            value: Some(value),
        });
    }

    /// Removes `key` from `tree` (no error if it is absent).
    pub fn delete(&mut self, tree: Tree, key: Vec<u8>) {
        self.ops.push(WriteOp {
            tree,
            key,
            value: None,
        });
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[WriteOp] {
        &self.ops
    }

    /// Number of operations (for logs and benchmarks).
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// True when the batch writes nothing.
    #[cfg(any(test, feature = "test-utils"))]
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// Total bytes of keys and values (for logs and benchmarks).
    pub fn byte_size(&self) -> usize {
        self.ops
            .iter()
            .map(|op| op.key.len() + op.value.as_ref().map_or(0, Vec::len))
            .sum()
    }
}

/// A key and its value, as scans return them.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// An ordered scan of one tree: keys in `[start, end)` (no `end`: to the last key).
#[derive(Debug, Clone, Copy)]
pub struct Scan<'a> {
    /// The tree scanned.
    pub tree: Tree,
    /// First key (inclusive).
    pub start: &'a [u8],
    /// Key bound (exclusive); `None` scans to the end of the tree.
    pub end: Option<&'a [u8]>,
    /// Newest (largest key) first instead of oldest first.
    pub reverse: bool,
    /// Stop after this many entries.
    pub limit: usize,
}

impl<'a> Scan<'a> {
    /// Every key of `tree` in `[start, end)`, in key order, without a limit.
    pub fn range(tree: Tree, start: &'a [u8], end: Option<&'a [u8]>) -> Scan<'a> {
        Scan {
            tree,
            start,
            end,
            reverse: false,
            limit: usize::MAX,
        }
    }
}

/// What went wrong in an engine, in terms the store can turn into advice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineErrorKind {
    /// Reading or writing a file failed (disk full, permissions, I/O error).
    Io,
    /// The engine found its own files damaged (checksums, impossible structures, a
    /// truncated file, or a panic inside the engine while reading them).
    Corrupt,
    /// Another process holds the database open.
    Locked,
    /// The engine reported a bug or an unsupported use.
    Other,
}

/// An engine failure, with the file or directory it concerns.
#[derive(Debug)]
pub struct EngineError {
    /// The class of failure.
    pub kind: EngineErrorKind,
    /// The file or directory concerned.
    pub path: PathBuf,
    /// What the engine was doing and, unless `source` says it, what went wrong.
    pub message: String,
    /// The operating system's error, when a file operation failed: kept as the cause (not
    /// copied into `message`) so that it is printed once, by whoever prints the chain.
    pub source: Option<std::io::Error>,
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for EngineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The storage interface of the store: ordered trees, atomic batches, explicit flushes.
///
/// Contract (what the crash tests check for sled):
/// - [`Engine::write`] applies a whole batch atomically: after any crash, either every
///   operation of the batch is visible or none is.
/// - [`Engine::flush`] returns only when every batch written before it survives a crash.
///   Nothing may be reported final before it returns.
/// - Reads see every batch written before them, flushed or not.
pub trait Engine: Send + Sync {
    /// The engine's name, for logs and status (`"sled 0.34.7"`, `"memory"`).
    fn name(&self) -> &'static str;

    /// Where the data lives (a directory, or a label for in-memory engines); used in errors.
    fn location(&self) -> PathBuf;

    /// The value of `key` in `tree`, if any.
    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError>;

    /// Entries of a range of one tree, in key order (or reversed), at most `scan.limit`.
    fn scan(&self, scan: Scan<'_>) -> Result<Vec<KeyValue>, EngineError>;

    /// Applies every operation of `batch` atomically (see the trait's contract).
    fn write(&self, batch: &WriteBatch) -> Result<(), EngineError>;

    /// Makes every write so far durable; returns only once it is.
    fn flush(&self) -> Result<(), EngineError>;

    /// Bytes the engine uses on disk (0 for in-memory engines).
    fn size_on_disk(&self) -> Result<u64, EngineError>;
}

/// The first key after every key that starts with `prefix` (`None` if there is none, when
/// the prefix is all `0xff`): the exclusive end of a prefix scan.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_is_the_next_key_after_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
        assert_eq!(prefix_end(&[]), None);
    }

    /// The behaviour every engine must share, run against both.
    fn engine_contract(engine: &dyn Engine) {
        let mut batch = WriteBatch::new();
        for i in 0u8..10 {
            batch.put(Tree::Chain, vec![b'k', i], vec![i]);
        }
        batch.put(Tree::Meta, b"head".to_vec(), b"1".to_vec());
        batch.delete(Tree::Chain, vec![b'k', 3]);
        engine.write(&batch).expect("write");
        engine.flush().expect("flush");
        assert_eq!(
            engine.get(Tree::Meta, b"head").expect("get"),
            Some(b"1".to_vec())
        );
        assert_eq!(engine.get(Tree::Chain, &[b'k', 3]).expect("get"), None);
        assert_eq!(engine.get(Tree::State, b"head").expect("get"), None);
        let all = engine
            .scan(Scan::range(Tree::Chain, b"k", prefix_end(b"k").as_deref()))
            .expect("scan");
        assert_eq!(all.len(), 9);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        let last_two = engine
            .scan(Scan {
                tree: Tree::Chain,
                start: &[b'k', 2],
                end: Some(&[b'k', 8]),
                reverse: true,
                limit: 2,
            })
            .expect("scan");
        assert_eq!(
            last_two,
            vec![(vec![b'k', 7], vec![7]), (vec![b'k', 6], vec![6])]
        );
        let to_end = engine
            .scan(Scan::range(Tree::Chain, &[b'k', 8], None))
            .expect("scan");
        assert_eq!(to_end.len(), 2);
    }

    #[test]
    fn memory_engine_keeps_the_contract() {
        engine_contract(&MemoryEngine::new());
    }

    #[test]
    fn sled_engine_keeps_the_contract() {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = SledEngine::open(dir.path(), &SledOptions::default()).expect("open");
        engine_contract(&engine);
        assert!(engine.size_on_disk().expect("size") > 0);
    }
}
