//! Evidence of misbehaviour (a validator that signed two votes, or two proposals, for one
//! slot), kept beside the chain so that it survives restarts and can be listed.
//!
//! Evidence is not part of the chain's state: it is what this node saw or was told, checked
//! by the consensus host before it gets here. One record is kept per offence (validator,
//! height, round, kind of message), whichever proof of it came first.

use pov_consensus::{Evidence, Offence, VoteKind};
use pov_protocol::codec;

use super::Store;
use crate::engine::{prefix_end, Scan, Tree, WriteBatch};
use crate::error::StoreError;
use crate::read;
use crate::schema;

/// The key of an offence.
fn key(evidence: &Evidence) -> Vec<u8> {
    let offence = match evidence.offence() {
        Offence::Proposal => 0,
        Offence::Vote(VoteKind::Prevote) => 1,
        Offence::Vote(VoteKind::Precommit) => 2,
    };
    schema::chain::evidence(
        evidence.height(),
        evidence.round(),
        offence,
        &evidence.offender(),
    )
}

impl Store {
    /// Keeps `evidence` (which the caller has checked) unless this offence is already on
    /// record; flushed before it returns. Returns whether it was new.
    pub fn record_evidence(&mut self, evidence: &Evidence) -> Result<bool, StoreError> {
        if let Some(reason) = &self.poisoned {
            return Err(StoreError::Poisoned(reason.clone()));
        }
        let key = key(evidence);
        if self.engine.get(Tree::Chain, &key)?.is_some() {
            return Ok(false);
        }
        let mut batch = WriteBatch::new();
        batch.put(
            Tree::Chain,
            key,
            codec::encode(&evidence.clone().normalized()),
        );
        self.engine.write(&batch)?;
        self.engine.flush()?;
        Ok(true)
    }

    /// Whether this offence is on record.
    pub fn has_evidence(&self, evidence: &Evidence) -> Result<bool, StoreError> {
        Ok(self.engine.get(Tree::Chain, &key(evidence))?.is_some())
    }

    /// Evidence on record, in height order, starting at `from_height`, at most `limit`.
    pub fn evidence(&self, from_height: u64, limit: usize) -> Result<Vec<Evidence>, StoreError> {
        let prefix = [schema::chain::EVIDENCE];
        let start = schema::chain::evidence(from_height, 0, 0, &pov_crypto::Address::default());
        let end = prefix_end(&prefix);
        let mut scan = Scan::range(Tree::Chain, &start, end.as_deref());
        scan.limit = limit;
        let engine = self.engine.as_ref();
        engine
            .scan(scan)?
            .into_iter()
            .map(|(key, bytes)| read::decode(engine, Tree::Chain, &key, &bytes, "evidence"))
            .collect()
    }

    /// How many offences are on record.
    pub fn evidence_count(&self) -> Result<usize, StoreError> {
        Ok(self.evidence(0, usize::MAX)?.len())
    }
}
