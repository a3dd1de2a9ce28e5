//! The consensus log: every vote and proposal this validator signs is written here and
//! flushed to disk *before* it is sent (spec section 6), so that after a crash the validator
//! replays its own messages instead of signing different ones at the same height and round.
//! With an own precommit for a block go the others' prevotes behind it and, if another
//! validator proposed it, that proposal with the block, so that a restarted validator can
//! still show why it is locked (`host/effects.rs`).
//!
//! Format: a sequence of records `len (u32 LE) ‖ blake3(payload) ‖ payload`, payload being
//! the postcard bytes of a [`ConsensusMessage`]. A crash can leave a torn record at the end
//! (appends are the only writes): a last record that is short or fails its checksum is cut
//! off. A damaged record with a good one *after* it is not a crash: it is damage to the
//! disk or the file, and the messages after it are the validator's own votes, which it must
//! not forget. Opening such a log fails, with an error that says what to do. The log only
//! ever holds the current height: it is cleared once a block is final on disk.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::wire::ConsensusMessage;

/// Where the consensus host writes this validator's own messages before sending them, and,
/// with a precommit for a block, the block and the others' prevotes behind it.
///
/// Synchronous on purpose: `append` returns only once the record is durable, and the host
/// sends nothing until it has returned. The daemon uses the file [`Wal`]; simulations use a
/// `MemoryLog` (feature `test-utils`) that survives a simulated crash.
pub trait ConsensusLog: Send {
    /// Appends a record; durable when this returns.
    fn append(&mut self, message: &ConsensusMessage) -> Result<(), WalError>;
    /// Appends several records; all durable when this returns (a log may flush once).
    fn append_all(&mut self, messages: &[ConsensusMessage]) -> Result<(), WalError> {
        messages.iter().try_for_each(|m| self.append(m))
    }
    /// Empties the log (the height's block is final on disk).
    fn clear(&mut self) -> Result<(), WalError>;
}

/// A consensus log in memory, shared between clones: a simulated node that "crashes" drops
/// its host but keeps a clone of its log, and the restarted host reads it back. For tests
/// and simulations only (feature `test-utils`).
#[cfg(any(test, feature = "test-utils"))]
#[derive(Debug, Clone, Default)]
pub struct MemoryLog {
    records: std::sync::Arc<std::sync::Mutex<Vec<ConsensusMessage>>>,
}

#[cfg(any(test, feature = "test-utils"))]
impl MemoryLog {
    /// An empty log.
    pub fn new() -> MemoryLog {
        MemoryLog::default()
    }

    /// The records, in the order they were appended.
    pub fn records(&self) -> Vec<ConsensusMessage> {
        crate::shared::lock(&self.records).clone()
    }
}

#[cfg(any(test, feature = "test-utils"))]
impl ConsensusLog for MemoryLog {
    fn append(&mut self, message: &ConsensusMessage) -> Result<(), WalError> {
        crate::shared::lock(&self.records).push(message.clone());
        Ok(())
    }

    fn clear(&mut self) -> Result<(), WalError> {
        crate::shared::lock(&self.records).clear();
        Ok(())
    }
}

/// Why the consensus log could not be used.
#[derive(Debug, Error)]
pub enum WalError {
    /// Reading or writing the file failed.
    #[error("cannot read or write the consensus log {path}")]
    Io {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A record in the middle of the log is damaged: records after it are readable, so it
    /// is not a write cut short by a crash, and the validator's own messages in it are lost.
    #[error(
        "consensus log {path}: the record at byte {offset} is damaged, and readable records \
         follow it, so this validator's own votes{at_height} may be lost: starting now could \
         make it sign twice (and be slashed for it). To start again, move it aside, renamed to \
         {aside}: the node then signs nothing at {height_text} or below, and catches up from \
         its peers (keep {aside} until the chain is past that height)",
        path = .path.display(),
        aside = aside_path(.path).display(),
        at_height = .height.map(|h| format!(" at height {h}")).unwrap_or_default(),
        height_text = .height.map(|h| format!("height {h}")).unwrap_or_else(|| "the height it was at".into()),
    )]
    Corrupt {
        /// The log file.
        path: PathBuf,
        /// Where the damaged record starts.
        offset: usize,
        /// The height of the log's readable records, if any is readable.
        height: Option<u64>,
    },
}

/// Where an operator moves a damaged consensus log at `path` (what the refusal to start
/// says): the same name with `.damaged` after it.
pub fn aside_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".damaged");
    PathBuf::from(name)
}

/// The highest height of a readable record in the damaged consensus log moved aside to
/// `aside` ([`aside_path`]), or `None` when there is no such file. The validator must sign
/// nothing at that height or below (`Host::sign_nothing_through`): its own votes there are
/// lost with the damage. A file with no readable record at all names height `u64::MAX`
/// (nothing is known, so nothing is signed until it is removed); a log is refused only
/// when a readable record follows the damage, so that takes an operator's mistake.
pub fn damaged_height(aside: &Path) -> Result<Option<u64>, WalError> {
    let bytes = match std::fs::read(aside) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(WalError::Io {
                path: aside.to_path_buf(),
                source,
            })
        }
    };
    let mut highest = None;
    let mut at = 0;
    while at < bytes.len() {
        match record_at(&bytes, at) {
            Some((end, message)) => {
                highest = highest.max(record_height(&message));
                at = end;
            }
            None => at += 1,
        }
    }
    Ok(Some(highest.unwrap_or(u64::MAX)))
}

/// A record that checks out at `at`: its payload's end and its message.
fn record_at(bytes: &[u8], at: usize) -> Option<(usize, ConsensusMessage)> {
    let header = bytes.get(at..at.checked_add(HEADER)?)?;
    let mut len = [0u8; 4];
    len.copy_from_slice(&header[..4]);
    let start = at + HEADER;
    let end = start.checked_add(u32::from_le_bytes(len) as usize)?;
    let payload = bytes.get(start..end)?;
    if pov_crypto::hash(payload).as_bytes()[..] != header[4..] {
        return None;
    }
    ConsensusMessage::from_bytes(payload)
        .ok()
        .map(|message| (end, message))
}

/// The height a log record is about (evidence is never logged).
fn record_height(message: &ConsensusMessage) -> Option<u64> {
    message.to_engine().map(|m| m.height())
}

/// An open consensus log.
#[derive(Debug)]
pub struct Wal {
    file: File,
    path: PathBuf,
}

const HEADER: usize = 4 + 32;

impl Wal {
    /// Opens (or creates) the log, returning the records it holds. A torn tail is cut off.
    pub fn open(path: &Path) -> Result<(Wal, Vec<ConsensusMessage>), WalError> {
        let io = |source| WalError::Io {
            path: path.to_path_buf(),
            source,
        };
        let created = !path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        if created {
            // A new file is durable only once its directory entry is: fsync the directory
            // too, or a power loss could take the log (and its double-sign protection).
            if let Some(dir) = path.parent() {
                if let Ok(d) = File::open(dir) {
                    d.sync_all().map_err(io)?;
                }
            }
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io)?;
        let mut records = Vec::new();
        let mut good = 0usize;
        while let Some((end, message)) = record_at(&bytes, good) {
            records.push(message);
            good = end;
        }
        if good < bytes.len() {
            // Damage at `good`. A crash only ever tears the last record; a good record
            // further on means the damage is in the middle (a checksum collision at a
            // random offset is out of the question).
            if let Some((_, later)) = (good + 1..bytes.len()).find_map(|at| record_at(&bytes, at)) {
                let height = records.last().or(Some(&later)).and_then(record_height);
                return Err(WalError::Corrupt {
                    path: path.to_path_buf(),
                    offset: good,
                    height,
                });
            }
        }
        if good < bytes.len() {
            tracing::warn!(
                path = %path.display(),
                dropped_bytes = bytes.len() - good,
                "consensus log ends with a torn record (crash while writing); cutting it off"
            );
            file.set_len(good as u64).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        file.seek(SeekFrom::End(0)).map_err(io)?;
        Ok((
            Wal {
                file,
                path: path.to_path_buf(),
            },
            records,
        ))
    }
}

impl ConsensusLog for Wal {
    /// Appends a record and flushes it to disk before returning.
    fn append(&mut self, message: &ConsensusMessage) -> Result<(), WalError> {
        self.append_all(std::slice::from_ref(message))
    }

    /// Appends the records and flushes them to disk once, before returning.
    fn append_all(&mut self, messages: &[ConsensusMessage]) -> Result<(), WalError> {
        let mut records = Vec::new();
        for message in messages {
            let payload = message.to_bytes();
            records.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            records.extend_from_slice(pov_crypto::hash(&payload).as_bytes());
            records.extend_from_slice(&payload);
        }
        self.file
            .write_all(&records)
            .and_then(|()| self.file.sync_data())
            .map_err(|source| WalError::Io {
                path: self.path.clone(),
                source,
            })
    }

    /// Empties the log (called once the height's block is final on disk).
    fn clear(&mut self) -> Result<(), WalError> {
        self.file
            .set_len(0)
            .and_then(|()| self.file.sync_all())
            .map_err(|source| WalError::Io {
                path: self.path.clone(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pov_consensus::{NilOrVal, SignedVote, Vote, VoteKind};
    use pov_crypto::{Keypair, Signature};

    fn vote(round: u32) -> ConsensusMessage {
        ConsensusMessage::Vote(SignedVote {
            vote: Vote {
                kind: VoteKind::Precommit,
                height: 7,
                round,
                value: NilOrVal::Val(pov_crypto::hash(b"block")),
                validator: Keypair::dev(1000).address(),
            },
            signature: Signature::default(),
        })
    }

    #[test]
    fn records_survive_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("consensus.wal");
        {
            let (mut wal, records) = Wal::open(&path).expect("open");
            assert!(records.is_empty());
            wal.append(&vote(0)).expect("append");
            wal.append(&vote(1)).expect("append");
        }
        // Simulate a crash in the middle of a third record.
        let good_len = std::fs::metadata(&path).expect("meta").len();
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(&[50, 0, 0, 0, 1, 2, 3]).expect("torn write");
        drop(f);
        let (mut wal, records) = Wal::open(&path).expect("reopen");
        assert_eq!(records, vec![vote(0), vote(1)]);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), good_len);
        wal.append(&vote(2)).expect("append after repair");
        drop(wal);
        let (mut wal, records) = Wal::open(&path).expect("reopen");
        assert_eq!(records.len(), 3);
        wal.clear().expect("clear");
        drop(wal);
        assert!(Wal::open(&path).expect("reopen").1.is_empty());
    }

    /// Every way a crash can tear the last record: a partial length, a length with part of
    /// the checksum, a full header whose payload runs past the end, and a full record
    /// whose payload was only partly written. Each is cut back to the good records.
    #[test]
    fn every_torn_tail_is_cut_back_to_the_last_good_record() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("consensus.wal");
        {
            let (mut wal, _) = Wal::open(&path).expect("open");
            wal.append(&vote(0)).expect("append");
        }
        let good = std::fs::read(&path).expect("read");
        let payload = vote(1).to_bytes();
        let mut record = (payload.len() as u32).to_le_bytes().to_vec();
        record.extend_from_slice(pov_crypto::hash(&payload).as_bytes());
        record.extend_from_slice(&payload);
        let cuts = [
            ("partial length", 2),
            ("length and part of the checksum", 4 + 10),
            ("full header, no payload", HEADER),
            (
                "full header, payload past the end",
                HEADER + payload.len() / 2,
            ),
            ("all but the last payload byte", record.len() - 1),
        ];
        for (case, cut) in cuts {
            let mut torn = good.clone();
            torn.extend_from_slice(&record[..cut]);
            std::fs::write(&path, &torn).expect("write");
            let (mut wal, records) = Wal::open(&path).expect("reopen");
            assert_eq!(records, vec![vote(0)], "{case}");
            assert_eq!(
                std::fs::read(&path).expect("read"),
                good,
                "{case}: cut back to the good record"
            );
            // The log goes on after the cut: a new record reads back whole.
            wal.append(&vote(2)).expect("append");
            drop(wal);
            assert_eq!(
                Wal::open(&path).expect("reopen").1,
                vec![vote(0), vote(2)],
                "{case}"
            );
            std::fs::write(&path, &good).expect("reset");
        }
        // The whole record is read.
        let mut whole = good.clone();
        whole.extend_from_slice(&record);
        std::fs::write(&path, &whole).expect("write");
        assert_eq!(Wal::open(&path).expect("reopen").1, vec![vote(0), vote(1)]);
    }

    #[test]
    fn a_damaged_last_record_is_cut_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("consensus.wal");
        let (mut wal, _) = Wal::open(&path).expect("open");
        wal.append(&vote(0)).expect("append");
        wal.append(&vote(1)).expect("append");
        drop(wal);
        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).expect("write");
        let (_, records) = Wal::open(&path).expect("reopen");
        assert_eq!(records, vec![vote(0)]);
    }

    #[test]
    fn a_damaged_record_in_the_middle_refuses_to_open_and_says_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("consensus.wal");
        let (mut wal, _) = Wal::open(&path).expect("open");
        for round in 0..3 {
            wal.append(&vote(round)).expect("append");
        }
        drop(wal);
        let intact = std::fs::read(&path).expect("read");
        let record = intact.len() / 3;
        // A flipped payload byte, and a damaged length, each in the second record.
        for at in [record + HEADER + 5, record + 1] {
            let mut bytes = intact.clone();
            bytes[at] ^= 0x40;
            std::fs::write(&path, &bytes).expect("write");
            let error = Wal::open(&path).expect_err("a damaged middle record is refused");
            assert!(
                matches!(error, WalError::Corrupt { offset, height: Some(7), .. } if offset == record),
                "{error:?}"
            );
            let text = error.to_string();
            for needed in ["damaged", "sign twice", "height 7", "move", "aside"] {
                assert!(text.contains(needed), "{needed:?} missing from: {text}");
            }
            assert_eq!(
                std::fs::read(&path).expect("read"),
                bytes,
                "the damaged log is left as it was, for the operator"
            );
            // What the operator does: the log moved aside names the height to stay silent at.
            let aside = aside_path(&path);
            assert!(text.contains(&aside.display().to_string()), "{text}");
            assert_eq!(damaged_height(&aside).expect("readable"), None);
            std::fs::rename(&path, &aside).expect("rename");
            assert_eq!(damaged_height(&aside).expect("readable"), Some(7));
            std::fs::remove_file(&aside).expect("remove");
        }
    }
}
