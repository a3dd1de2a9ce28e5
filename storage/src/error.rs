//! What can go wrong in the store, worded for the operator who has to act on it.
//!
//! Every error about the data names the directory (and file or record) concerned and says
//! what to do, because the person reading it is an operator looking at a node that will not
//! start, not a developer with a debugger.

use std::path::{Path, PathBuf};

use pov_crypto::Hash;
use pov_protocol::block::{BlockError, CertificateError};
use pov_protocol::genesis::GenesisError;
use pov_protocol::ValidatorSetError;
use thiserror::Error;

use crate::engine::{EngineError, EngineErrorKind};

/// The advice given with every corruption error.
const RECOVER: &str = "The node rebuilds its state from the stored blocks by itself when only the \
state is damaged; this error means the blocks or the database files are. Check them with \
`povd replay --home <node home>`; if that fails too, stop the node, move this data directory \
aside, and restore it from a backup or let the node resynchronize from a peer";

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Data on disk is damaged or inconsistent (a file, a record, or the chain itself).
    #[error("the chain database at {} is damaged: {what}. {RECOVER}", .path.display())]
    Corrupt {
        /// The file or directory concerned.
        path: PathBuf,
        /// What is wrong, naming the record when one is known.
        what: String,
    },
    /// Another process (usually another `povd`) has the database open.
    #[error("the chain database at {} is in use by another process: stop the other node first, only one may open a data directory", .path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// What the operating system said, if the engine passed it on.
        #[source]
        source: Option<std::io::Error>,
    },
    /// Reading or writing the disk failed (permissions, full disk, I/O error).
    #[error("cannot read or write the chain database at {} ({message}); check the disk, free space and permissions, then restart", .path.display())]
    Io {
        /// The file or directory concerned.
        path: PathBuf,
        /// What was being done (and what went wrong, when there is no `source`).
        message: String,
        /// What the operating system said.
        #[source]
        source: Option<std::io::Error>,
    },
    /// The database belongs to another chain.
    #[error("the chain database at {} was created for genesis {stored}, but this genesis is {expected}: point the node at the data directory of this chain, or at an empty one", .path.display())]
    WrongGenesis {
        /// The data directory.
        path: PathBuf,
        /// The genesis hash stored in the database.
        stored: Hash,
        /// The hash of the genesis the node was started with.
        expected: Hash,
    },
    /// The database was written by an incompatible version of this software.
    #[error("the chain database at {} has format version {found}, this build reads version {supported}: use a matching povd, or resynchronize into an empty directory", .path.display())]
    Version {
        /// The data directory.
        path: PathBuf,
        /// The version found.
        found: u32,
        /// The version this build writes.
        supported: u32,
    },
    /// The genesis cannot produce a state.
    #[error(transparent)]
    Genesis(#[from] GenesisError),
    /// The genesis's validators do not make a validator set (none, a duplicate, zero power).
    #[error(transparent)]
    Validators(#[from] ValidatorSetError),
    /// A block offered for commit is not certified final.
    #[error("block {height} is not final: {error}")]
    Certificate {
        /// The block's height.
        height: u64,
        /// Why the certificate does not prove finality.
        error: CertificateError,
    },
    /// A block offered for commit is not a valid next block (wrong parent, a transaction
    /// that fails, a wrong state root, ...). Nothing was written.
    #[error("block {height} is invalid: {error}")]
    InvalidBlock {
        /// The block's height.
        height: u64,
        /// Why.
        error: BlockError,
    },
    /// An earlier write failed, so what is on disk is unknown until the store is reopened.
    #[error("the store refuses writes since an earlier write failed ({0}); reopen it to see what is on disk")]
    Poisoned(String),
    /// The state after a past block cannot be rebuilt within the bound.
    #[error("the state at height {height} is not available: {reason}")]
    PastState {
        /// The height asked for.
        height: u64,
        /// Why.
        reason: String,
    },
    /// A consistency check inside this crate failed: a bug, never a property of the data.
    #[error("internal error in pov-storage (a bug, please report it): {0}")]
    Internal(String),
    /// The engine reported a bug or an unsupported use.
    #[error("the storage engine failed at {}: {message}", .path.display())]
    Engine {
        /// The file or directory concerned.
        path: PathBuf,
        /// The engine's message.
        message: String,
    },
}

impl StoreError {
    /// A corruption error about `path`.
    pub(crate) fn corrupt(path: &Path, what: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }

    /// This error and its causes on one line, for a log field or a remembered reason.
    pub(crate) fn with_causes(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(c) = cause {
            text.push_str(": ");
            text.push_str(&c.to_string());
            cause = c.source();
        }
        text
    }

    /// True for errors that mean the data on disk is damaged.
    pub fn is_corruption(&self) -> bool {
        matches!(self, StoreError::Corrupt { .. })
    }
}

impl From<EngineError> for StoreError {
    fn from(e: EngineError) -> StoreError {
        match e.kind {
            EngineErrorKind::Corrupt => StoreError::Corrupt {
                path: e.path,
                what: e.message,
            },
            EngineErrorKind::Locked => StoreError::Locked {
                path: e.path,
                source: e.source,
            },
            EngineErrorKind::Io => StoreError::Io {
                path: e.path,
                message: e.message,
                source: e.source,
            },
            EngineErrorKind::Other => StoreError::Engine {
                path: e.path,
                message: e.message,
            },
        }
    }
}
