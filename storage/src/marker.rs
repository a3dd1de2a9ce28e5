//! The final-head marker: a witness, outside the database, of the last block reported final.
//!
//! sled recovers a damaged or truncated log by keeping its longest valid prefix, silently:
//! a data file cut in half opens without an error, some blocks shorter. For a chain that
//! is the worst failure, final blocks gone without a word. So after every flushed commit
//! the store also writes a one-line file, `final-head`, beside the engine's files: the height,
//! hash and state root just reported final. It is written after the engine's flush
//! (so it can never be ahead of what the engine made durable, unless the engine lost data),
//! through a temporary file, `fsync` and `rename` (so it is never half-written). On open, a
//! marker above the database's head means the database lost final blocks, and the store
//! refuses to start instead of quietly forgetting them.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use pov_crypto::Hash;

use crate::error::StoreError;
use crate::schema::Head;

/// The marker's file name inside the data directory.
pub const FILE: &str = "final-head";

/// Where the marker lives, and how to read and write it.
#[derive(Debug, Clone)]
pub(crate) struct Marker {
    path: PathBuf,
}

/// What a marker file said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mark {
    pub(crate) height: u64,
    pub(crate) hash: Hash,
    pub(crate) state_root: Hash,
}

impl Marker {
    pub(crate) fn new(dir: &Path) -> Marker {
        Marker {
            path: dir.join(FILE),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the marker: `Ok(None)` if there is none, an error if it cannot be read. A
    /// marker that does not parse is reported (it is written atomically, so that is damage).
    pub(crate) fn read(&self) -> Result<Option<Mark>, StoreError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::Io {
                    path: self.path.clone(),
                    message: "cannot read the final-head marker".to_string(),
                    source: Some(e),
                })
            }
        };
        let mut parts = text.split_whitespace();
        let parsed = (|| {
            let height = parts.next()?.parse().ok()?;
            let hash = parts.next()?.parse().ok()?;
            let state_root = parts.next()?.parse().ok()?;
            parts.next().is_none().then_some(Mark {
                height,
                hash,
                state_root,
            })
        })();
        parsed.map(Some).ok_or_else(|| {
            StoreError::corrupt(
                &self.path,
                format!("the final-head marker does not parse ({:?})", text.trim()),
            )
        })
    }

    /// Records `head` as reported final: temporary file, fsync, rename.
    pub(crate) fn write(&self, head: &Head) -> Result<(), StoreError> {
        let tmp = self.path.with_extension("tmp");
        let io = |e: std::io::Error| StoreError::Io {
            path: self.path.clone(),
            message: "cannot write the final-head marker".to_string(),
            source: Some(e),
        };
        let mut f = fs::File::create(&tmp).map_err(io)?;
        writeln!(f, "{} {} {}", head.height, head.hash, head.state_root).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trips_and_refuses_garbage() {
        let dir = tempfile::tempdir().expect("tempdir");
        let marker = Marker::new(dir.path());
        assert_eq!(marker.read().expect("read"), None);
        let head = Head {
            height: 42,
            hash: Hash([1; 32]),
            state_root: Hash([2; 32]),
            time_ms: 5,
        };
        marker.write(&head).expect("write");
        assert_eq!(
            marker.read().expect("read"),
            Some(Mark {
                height: 42,
                hash: head.hash,
                state_root: head.state_root
            })
        );
        fs::write(marker.path(), "42 zz").expect("write");
        let err = marker.read().expect_err("garbage");
        assert!(err.to_string().contains(FILE), "{err}");
    }
}
