//! The sled 0.34.7 [`Engine`], used defensively.
//!
//! - No background flush timer (`flush_every_ms(None)`): data becomes durable only at an
//!   explicit [`Engine::flush`], so "final" means exactly "flushed by us".
//! - One multi-tree transaction per batch over the four fixed trees; nothing else writes.
//! - Every call into sled runs under `catch_unwind`: sled 0.34 asserts on some damaged files
//!   instead of returning an error, and a node must answer a damaged disk with a message
//!   (which file, what to do), not a crash. A panic is reported as corruption of the data
//!   directory.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};

use super::{Engine, EngineError, EngineErrorKind, KeyValue, Scan, Tree, WriteBatch};

/// Tuning of the sled engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SledOptions {
    /// Upper bound of sled's page cache, in bytes. sled's own default (1 GiB) is far more
    /// than a cooperative's chain needs; the cache bounds most of the engine's memory.
    pub cache_capacity: u64,
}

impl Default for SledOptions {
    fn default() -> SledOptions {
        SledOptions {
            cache_capacity: 128 * 1024 * 1024,
        }
    }
}

/// The sled-backed engine: one sled database in a directory, four trees.
pub struct SledEngine {
    dir: PathBuf,
    db: sled::Db,
    trees: Vec<sled::Tree>,
}

impl std::fmt::Debug for SledEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledEngine")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Runs a sled call, turning a panic inside sled into a corruption error.
fn guarded<T>(
    dir: &Path,
    what: &str,
    f: impl FnOnce() -> sled::Result<T>,
) -> Result<T, EngineError> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(map_error(dir, what, err)),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            // sled asserts on what it reads from its log, the `db` file (its `conf` file has
            // a checksum and is reported as an error).
            Err(EngineError {
                kind: EngineErrorKind::Corrupt,
                path: dir.join("db"),
                message: format!("sled failed while {what} (internal assertion: {message})"),
                source: None,
            })
        }
    }
}

fn map_error(dir: &Path, what: &str, err: sled::Error) -> EngineError {
    let (kind, path) = match &err {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            (EngineErrorKind::Locked, dir.join("db"))
        }
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            (EngineErrorKind::Corrupt, dir.join("db"))
        }
        sled::Error::Io(_) => (EngineErrorKind::Io, dir.to_path_buf()),
        // sled reports damage of its `conf` file and of its log the same way, without the
        // file; `at` is a position in the log when it has one.
        sled::Error::Corruption { at: Some(_), .. } => (EngineErrorKind::Corrupt, dir.join("db")),
        sled::Error::Corruption { at: None, .. } => (EngineErrorKind::Corrupt, dir.to_path_buf()),

        _ => (EngineErrorKind::Other, dir.to_path_buf()),
    };
    let (message, source) = match err {
        sled::Error::Corruption { at: None, .. } => (
            format!("sled failed while {what}: its `conf` or `db` file holds damaged data"),
            None,
        ),
        sled::Error::Corruption { at: Some(at), .. } => (
            format!("sled failed while {what}: damaged data in `db` at {at:?}"),
            None,
        ),
        // A failed file operation is kept as the cause; the store words its advice by kind
        // (a truncated file is damage, whatever the OS said).
        sled::Error::Io(io) if kind != EngineErrorKind::Corrupt => {
            (format!("sled failed while {what}"), Some(io))
        }
        err => (format!("sled failed while {what}: {err}"), None),
    };
    EngineError {
        kind,
        path,
        message,
        source,
    }
}

impl SledEngine {
    /// Opens (or creates) the sled database in `dir`.
    pub fn open(dir: &Path, options: &SledOptions) -> Result<SledEngine, EngineError> {
        std::fs::create_dir_all(dir).map_err(|e| EngineError {
            kind: EngineErrorKind::Io,
            path: dir.to_path_buf(),
            message: "cannot create the data directory".to_string(),
            source: Some(e),
        })?;
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(options.cache_capacity)
            .mode(sled::Mode::LowSpace)
            // Durability only where the store asks for it: see the module docs.
            .flush_every_ms(None);
        // sled releases its file lock asynchronously: after a `Db` is dropped its background
        // threads may hold the lock a little longer, so an immediate reopen in the same
        // process can find it busy. Retry briefly; a directory really held by another
        // process still ends in a `Locked` error.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            match guarded(dir, "opening the database", || config.open()) {
                Err(e)
                    if e.kind == EngineErrorKind::Locked
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                other => break other?,
            }
        };
        let mut trees = Vec::with_capacity(Tree::ALL.len());
        for tree in Tree::ALL {
            trees.push(guarded(dir, "opening a tree", || {
                db.open_tree(tree.name())
            })?);
        }
        Ok(SledEngine {
            dir: dir.to_path_buf(),
            db,
            trees,
        })
    }

    fn tree(&self, tree: Tree) -> &sled::Tree {
        &self.trees[tree.index()]
    }
}

/// How long [`SledEngine::open`] waits for a lock that a just-closed handle still holds.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

impl Engine for SledEngine {
    fn name(&self) -> &'static str {
        "sled 0.34.7"
    }

    fn location(&self) -> PathBuf {
        self.dir.clone()
    }

    fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        guarded(&self.dir, "reading", || {
            Ok(self.tree(tree).get(key)?.map(|v| v.to_vec()))
        })
    }

    fn scan(&self, scan: Scan<'_>) -> Result<Vec<KeyValue>, EngineError> {
        if matches!(scan.end, Some(end) if end <= scan.start) {
            return Ok(Vec::new());
        }
        guarded(&self.dir, "scanning", || {
            let tree = self.tree(scan.tree);
            let iter = match scan.end {
                Some(end) => tree.range(scan.start..end),
                None => tree.range(scan.start..),
            };
            let mut out = Vec::new();
            let mut push = |item: sled::Result<(sled::IVec, sled::IVec)>| -> sled::Result<bool> {
                let (k, v) = item?;
                out.push((k.to_vec(), v.to_vec()));
                Ok(out.len() < scan.limit)
            };
            if scan.limit > 0 {
                if scan.reverse {
                    for item in iter.rev() {
                        if !push(item)? {
                            break;
                        }
                    }
                } else {
                    for item in iter {
                        if !push(item)? {
                            break;
                        }
                    }
                }
            }
            Ok(out)
        })
    }

    fn write(&self, batch: &WriteBatch) -> Result<(), EngineError> {
        // Build one sled batch per tree outside the transaction: the closure may be retried
        // on a conflict, and must not rebuild them.
        let mut per_tree: Vec<Option<sled::Batch>> = Tree::ALL.iter().map(|_| None).collect();
        for op in batch.ops() {
            let b = per_tree[op.tree.index()].get_or_insert_with(sled::Batch::default);
            match &op.value {
                Some(value) => b.insert(op.key.as_slice(), value.as_slice()),
                None => b.remove(op.key.as_slice()),
            }
        }
        guarded(&self.dir, "writing a block", || {
            let result: Result<(), TransactionError<()>> =
                self.trees.as_slice().transaction(|views| {
                    for (view, b) in views.iter().zip(&per_tree) {
                        if let Some(b) = b {
                            view.apply_batch(b)
                                .map_err(ConflictableTransactionError::from)?;
                        }
                    }
                    Ok(())
                });
            match result {
                Ok(()) => Ok(()),
                Err(TransactionError::Storage(err)) => Err(err),
                Err(TransactionError::Abort(())) => Err(sled::Error::ReportableBug(
                    "transaction aborted without a reason".to_string(),
                )),
            }
        })
    }

    fn flush(&self) -> Result<(), EngineError> {
        guarded(&self.dir, "flushing to disk", || {
            self.db.flush().map(|_| ())
        })
    }

    fn size_on_disk(&self) -> Result<u64, EngineError> {
        guarded(&self.dir, "measuring its size", || self.db.size_on_disk())
    }
}
