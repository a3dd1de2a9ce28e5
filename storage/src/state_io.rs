//! The state as keyed entries on disk, written incrementally.
//!
//! The state is stored as one entry per member, one per contribution and one chain-wide
//! record (see [`crate::schema`]), keyed by id so that the in-memory [`State`] is rebuilt
//! in admission and submission order. After a block only the entries whose bytes changed
//! are written: the store keeps the blake3 hash of every entry as last written, and
//! compares. Comparing full encodings rather than guessing from the block what it touched
//! costs one encoding pass per block, and stays correct whatever a future protocol rule
//! changes.

use std::path::Path;

use pov_crypto::Hash;
use pov_protocol::governance::GovernanceState;
use pov_protocol::params::Params;
use pov_protocol::{codec, Amount, Contribution, Member, State};
use serde::Serialize;

use crate::engine::{prefix_end, Engine, Scan, Tree, WriteBatch};
use crate::error::StoreError;
use crate::schema::{self, GlobalRecord};

/// The hash of every state entry as last written, to find what a block changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Persisted {
    global: Hash,
    members: Vec<Hash>,
    contributions: Vec<Hash>,
}

fn global_record(state: &State) -> GlobalRecord {
    GlobalRecord {
        chain_id: state.chain_id().to_string(),
        genesis_hash: *state.genesis_hash(),
        params: state.params().clone(),
        height: state.height(),
        total_reputation: state.total_reputation(),
        total_tokens: state.total_tokens(),
        governance: state.governance().clone(),
    }
}

impl Persisted {
    /// Adds to `batch` every entry of `state` that differs from what was last written, and
    /// returns the hashes after the batch. Nothing is deleted: members and contributions
    /// are never removed.
    pub(crate) fn diff(&self, state: &State, batch: &mut WriteBatch) -> Persisted {
        let mut next = Persisted {
            global: Hash::ZERO,
            members: Vec::with_capacity(state.members().len()),
            contributions: Vec::with_capacity(state.contributions().len()),
        };
        let global = codec::encode(&global_record(state));
        next.global = pov_crypto::hash(&global);
        if next.global != self.global {
            batch.put(Tree::State, schema::state::GLOBAL.to_vec(), global);
        }
        for (id, member) in state.members().iter().enumerate() {
            let bytes = codec::encode(member);
            let hash = pov_crypto::hash(&bytes);
            if self.members.get(id) != Some(&hash) {
                batch.put(Tree::State, schema::state::member(id as u32), bytes);
            }
            next.members.push(hash);
        }
        for c in state.contributions() {
            let bytes = codec::encode(c);
            let hash = pov_crypto::hash(&bytes);
            if self.contributions.get(c.id as usize) != Some(&hash) {
                batch.put(Tree::State, schema::state::contribution(c.id), bytes);
            }
            next.contributions.push(hash);
        }
        next
    }
}

/// Adds to `batch` the deletion of every state entry on disk and the writing of all of
/// `state`'s: a full rewrite, after a replay. Returns the hashes of what it writes.
pub(crate) fn rewrite(
    engine: &dyn Engine,
    state: &State,
    batch: &mut WriteBatch,
) -> Result<Persisted, StoreError> {
    for (key, _) in engine.scan(Scan::range(Tree::State, &[], None))? {
        batch.delete(Tree::State, key);
    }
    Ok(Persisted::default().diff(state, batch))
}

/// The fields of [`State`] in its serde order: the state is rebuilt by encoding this and
/// decoding a `State`, which re-derives the address index and re-checks canonical form
/// (the protocol crate keeps `State`'s fields private, and this is its only constructor
/// from parts). A test and the state root check on every open guard the correspondence.
#[derive(Serialize)]
struct StateParts<'a> {
    chain_id: &'a str,
    genesis_hash: &'a Hash,
    params: &'a Params,
    height: u64,
    members: &'a [Member],
    contributions: &'a [Contribution],
    total_reputation: Amount,
    total_tokens: Amount,
    governance: &'a GovernanceState,
}

fn decode_entry<T>(location: &Path, key: &[u8], bytes: &[u8], what: &str) -> Result<T, StoreError>
where
    T: Serialize + serde::de::DeserializeOwned,
{
    codec::decode_canonical(bytes).map_err(|e| {
        StoreError::corrupt(
            location,
            format!(
                "state entry {what} (tree `state`, key {}) does not decode: {e}",
                hex(key)
            ),
        )
    })
}

/// Hex of a key, for error messages.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the state entries back into a [`State`] and the hashes of what is on disk.
pub(crate) fn load(engine: &dyn Engine) -> Result<(State, Persisted), StoreError> {
    let location = engine.location();
    let global_bytes = engine
        .get(Tree::State, schema::state::GLOBAL)?
        .ok_or_else(|| StoreError::corrupt(&location, "the state's chain-wide entry is missing"))?;
    let global: GlobalRecord = decode_entry(&location, schema::state::GLOBAL, &global_bytes, "g")?;
    let mut persisted = Persisted {
        global: pov_crypto::hash(&global_bytes),
        ..Persisted::default()
    };

    let prefix = [schema::state::MEMBER];
    let end = prefix_end(&prefix);
    let mut members = Vec::new();
    for (key, bytes) in engine.scan(Scan::range(Tree::State, &prefix, end.as_deref()))? {
        let expected = schema::state::member(members.len() as u32);
        if key != expected {
            return Err(StoreError::corrupt(
                &location,
                format!(
                    "state entry {} is out of sequence (expected member {})",
                    hex(&key),
                    members.len()
                ),
            ));
        }
        members.push(decode_entry::<Member>(&location, &key, &bytes, "member")?);
        persisted.members.push(pov_crypto::hash(&bytes));
    }

    let prefix = [schema::state::CONTRIBUTION];
    let end = prefix_end(&prefix);
    let mut contributions = Vec::new();
    for (key, bytes) in engine.scan(Scan::range(Tree::State, &prefix, end.as_deref()))? {
        let id = contributions.len() as u64;
        if key != schema::state::contribution(id) {
            return Err(StoreError::corrupt(
                &location,
                format!(
                    "state entry {} is out of sequence (expected contribution {id})",
                    hex(&key)
                ),
            ));
        }
        let c: Contribution = decode_entry(&location, &key, &bytes, "contribution")?;
        if c.id != id {
            return Err(StoreError::corrupt(
                &location,
                format!(
                    "state entry {} holds contribution {} instead of {id}",
                    hex(&key),
                    c.id
                ),
            ));
        }
        contributions.push(c);
        persisted.contributions.push(pov_crypto::hash(&bytes));
    }

    let state = from_parts(StateParts {
        chain_id: &global.chain_id,
        genesis_hash: &global.genesis_hash,
        params: &global.params,
        height: global.height,
        members: &members,
        contributions: &contributions,
        total_reputation: global.total_reputation,
        total_tokens: global.total_tokens,
        governance: &global.governance,
    })
    .map_err(|e| {
        StoreError::corrupt(
            &location,
            format!("the stored state does not assemble: {e}"),
        )
    })?;
    Ok((state, persisted))
}

/// Builds a [`State`] from its parts (see [`StateParts`]).
fn from_parts(parts: StateParts<'_>) -> Result<State, codec::DecodeError> {
    codec::decode_canonical(&codec::encode(&parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::MemoryEngine;
    use pov_protocol::genesis::Genesis;

    fn busy_state() -> State {
        let mut state = Genesis::dev().state().expect("dev genesis");
        for c in 0..3u32 {
            state
                .contribute(c, "work", "a title", "https://example.org/w", None)
                .expect("contribute");
        }
        for m in 0..4u32 {
            for c in 0..3u64 {
                state
                    .evaluate(m, c, i64::from(m) + c as i64)
                    .expect("evaluate");
            }
        }
        state
    }

    #[test]
    fn state_survives_entries_and_back() {
        let state = busy_state();
        let engine = MemoryEngine::new();
        let mut batch = WriteBatch::new();
        let written = Persisted::default().diff(&state, &mut batch);
        engine.write(&batch).expect("write");
        let (loaded, persisted) = load(&engine).expect("load");
        assert_eq!(loaded, state);
        assert_eq!(loaded.state_root(), state.state_root());
        assert_eq!(persisted, written);
        // The address index is rebuilt too.
        let alice = state.members()[0].address;
        assert_eq!(loaded.member_by_address(&alice).map(|(id, _)| id), Some(0));
    }

    #[test]
    fn only_changed_entries_are_written_again() {
        let mut state = busy_state();
        let mut batch = WriteBatch::new();
        let written = Persisted::default().diff(&state, &mut batch);
        assert_eq!(batch.len(), 1 + 4 + 3);
        state.evaluate(0, 1, 5).expect("evaluate");
        let mut batch = WriteBatch::new();
        written.diff(&state, &mut batch);
        // The evaluator, whoever was paid (here: contributor and aligned evaluators), the
        // contribution and the totals change; nothing else is rewritten.
        assert!(batch.len() < 1 + 4 + 3, "rewrote {} entries", batch.len());
        assert!(batch
            .ops()
            .iter()
            .any(|op| op.key == schema::state::contribution(1)));
        assert!(!batch
            .ops()
            .iter()
            .any(|op| op.key == schema::state::contribution(2)));
    }
}
