//! Evidence of misbehaviour: kept in the store (so it survives restarts and the API can
//! list it) and gossiped, so that every node holds it even if it saw only one of the two
//! conflicting messages.

use std::fmt::Debug;
use std::sync::atomic::Ordering;

use pov_consensus::{Evidence, Message};

use super::witness::Seen;
use super::{Host, NodeError};
use crate::network::Verdict;
use crate::shared::{read, write};
use crate::wire::ConsensusMessage;

/// Evidence of this many heights below the current one is gossiped again, and messages of
/// decided heights this recent are still compared with what this node saw there.
pub const EVIDENCE_REGOSSIP_HEIGHTS: u64 = 10;
/// At most this many pieces of evidence are gossiped again at a time.
pub const EVIDENCE_REGOSSIP_MAX: usize = 16;

impl<P: Clone + Ord + Debug> Host<P> {
    /// Gossips recent evidence again (with each re-broadcast of the height's messages).
    /// Gossip sends a message once: a peer that was down, cut off or lost it would never
    /// hold the evidence (the simulation found an honest node that never learned of a
    /// double proposal). Peers ignore what they already hold; the work is bounded by
    /// [`EVIDENCE_REGOSSIP_HEIGHTS`] and [`EVIDENCE_REGOSSIP_MAX`].
    pub(super) fn regossip_evidence(&mut self) {
        let from = self
            .consensus
            .height()
            .saturating_sub(EVIDENCE_REGOSSIP_HEIGHTS);
        let recent = read(&self.shared.store).evidence(from, EVIDENCE_REGOSSIP_MAX);
        match recent {
            Ok(recent) => {
                for evidence in recent {
                    self.publish_consensus(ConsensusMessage::Evidence(evidence));
                }
            }
            Err(error) => tracing::warn!(%error, "evidence unreadable; not gossiped again"),
        }
    }

    /// Remembers a validator's message (signature checked) of the height being decided or
    /// the next, so that a conflicting one that arrives after the decision is still caught.
    /// The engine compares the messages it is handed too; this also catches those it is
    /// not (a next-height proposal whose block cannot be checked yet). Evidence both find is
    /// recorded once.
    pub(super) fn witness(&mut self, message: Message) -> Result<(), NodeError> {
        if let Seen::Conflict(evidence) = self.witness.see(message) {
            self.on_own_evidence(*evidence)?;
        }
        Ok(())
    }

    /// A validator's message (signature checked) of a height this node has already decided:
    /// the engine drops it, but it can still prove equivocation. Compared with the message
    /// this node saw for its slot: a conflict is evidence (stored and gossiped); the first
    /// one seen is relayed, so that a peer that saw the other version can compare them (the
    /// simulation found double proposals whose two versions reached different honest nodes
    /// only around the decision, and no one recorded them); one already seen, or one past
    /// the witness's bounds, is ignored (not relayed).
    pub(super) fn on_late_message(&mut self, message: Message) -> Result<Verdict, NodeError> {
        let recent = message.height().saturating_add(EVIDENCE_REGOSSIP_HEIGHTS);
        if recent < self.consensus.height() {
            return Ok(Verdict::Ignore);
        }
        Ok(match self.witness.see(message) {
            Seen::Known | Seen::Full => Verdict::Ignore,
            Seen::New => Verdict::Accept,
            Seen::Conflict(evidence) => {
                self.on_own_evidence(*evidence)?;
                Verdict::Accept
            }
        })
    }

    /// Evidence the engine found: stored and, if new, gossiped.
    pub(super) fn on_own_evidence(&mut self, evidence: Evidence) -> Result<(), NodeError> {
        if self.record_evidence(&evidence)? {
            self.publish_consensus(ConsensusMessage::Evidence(evidence.normalized()));
        }
        Ok(())
    }

    /// Evidence from a peer: rejected unless it proves misbehaviour of a validator,
    /// ignored when already on record, stored and relayed otherwise.
    pub(super) fn on_gossip_evidence(&mut self, evidence: Evidence) -> Result<Verdict, NodeError> {
        if !self.consensus.validators().contains(&evidence.offender()) || evidence.verify().is_err()
        {
            return Ok(Verdict::Reject);
        }
        if read(&self.shared.store).has_evidence(&evidence)? {
            return Ok(Verdict::Ignore);
        }
        Ok(if self.record_evidence(&evidence)? {
            Verdict::Accept
        } else {
            Verdict::Ignore
        })
    }

    /// Stores checked evidence; says whether this offence was new.
    fn record_evidence(&mut self, evidence: &Evidence) -> Result<bool, NodeError> {
        let new = write(&self.shared.store).record_evidence(evidence)?;
        if new {
            self.shared.evidence.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                offender = %evidence.offender(),
                height = evidence.height(),
                round = evidence.round(),
                offence = ?evidence.offence(),
                "evidence of misbehaviour: a validator signed two different messages for one slot"
            );
        }
        Ok(new)
    }
}
