//! The cooperative's state: members, contributions, parameters and the running totals.
//!
//! State changes only through [`State::begin_block`] (what the start of a block does, before
//! its transactions), [`State::apply`] (a signed transaction) or the rule entry points they
//! dispatch to. Each of those runs inside a `Change`: every balance change goes
//! through it, so it is checked (never negative, never overflowing), counted into `R` and
//! the token supply, recorded as an [`Event`], and journaled. If any step of a transaction
//! fails, the journal is rolled back and the state is exactly as before.

use std::collections::{BTreeMap, BTreeSet};

use pov_crypto::{Address, Hash};
use serde::{Deserialize, Serialize};

use crate::amount::Amount;
use crate::error::TxError;
use crate::events::{Asset, BlockEvent, Event, Rule};
use crate::governance::{GovernanceState, Proposal, ProposalOutcome};
use crate::params::{EvalValue, Params, TypeParams};
use crate::tx::{Transaction, TxBody};

/// A member's permanent number: its position in admission order.
pub type MemberId = u32;
/// A contribution's permanent number: its position in submission order, from 0.
pub type ContributionId = u64;

/// A member's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member's public key.
    pub address: Address,
    /// A display name (from the genesis or the `Admit` that created it; may be empty). A
    /// non-empty name belongs to one member only.
    pub name: String,
    /// Non-transferable reputation.
    pub reputation: Amount,
    /// Transferable tokens.
    pub tokens: Amount,
    /// Number of transactions the member has had applied.
    pub nonce: u64,
    /// Who admitted the member; it earns a share of the member's gains.
    pub referrer: Option<MemberId>,
}

/// One member's live evaluation of a contribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveEvaluation {
    /// The evaluator.
    pub member: MemberId,
    /// The value given.
    pub value: EvalValue,
    /// Insertion sequence on the contribution (redistribution visits in this order).
    pub seq: u64,
}

/// A contribution and the running state of its evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    /// Its id.
    pub id: ContributionId,
    /// The height of the block that included it (0 for the genesis state).
    pub height: u64,
    /// Who submitted it (and is rewarded).
    pub contributor: MemberId,
    /// Its type.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// Where the work lives.
    pub uri: String,
    /// blake3 of the work, if given.
    pub content_hash: Option<Hash>,
    /// The type's parameters when it was submitted (later changes never apply to it).
    pub params: TypeParams,
    /// Live evaluations in insertion order (a re-vote moves to the end).
    pub evaluations: Vec<LiveEvaluation>,
    /// Everyone who ever evaluated it (for the evaluator fund's "first time" test).
    pub evaluated_ever: BTreeSet<MemberId>,
    /// Next insertion sequence number.
    pub next_seq: u64,
    /// What is left of the evaluator fund, `F_c`.
    pub fund: Amount,
    /// Threshold rule: the best score so far, `max_c` (`None` until first set).
    pub max_score: Option<Amount>,
    /// Median rule: the highest median reached so far, `m*_c`.
    pub median_max: EvalValue,
    /// Tokens minted for the contributor so far.
    pub minted_tokens: Amount,
    /// Reputation minted for the contributor so far.
    pub minted_reputation: Amount,
    /// Evaluations processed, re-votes included.
    pub evaluation_count: u64,
    /// For a parameter proposal (kind `governance`): its changes and where it stands.
    pub proposal: Option<Proposal>,
    /// For a contribution of a sealed type (spec section 12): its commitments and, once
    /// settled, the settlement. Its live `evaluations` stay empty until settlement.
    pub sealed: Option<crate::sealed::SealedState>,
}

/// The whole state of a cooperative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "StateRepr")]
pub struct State {
    chain_id: String,
    /// The hash of the genesis this state descends from: transactions sign it.
    genesis_hash: Hash,
    params: Params,
    /// The height of the last block begun (0: the genesis state).
    height: u64,
    members: Vec<Member>,
    contributions: Vec<Contribution>,
    /// `R`: the sum of all members' reputation, kept incrementally.
    total_reputation: Amount,
    /// The sum of all members' tokens, kept incrementally.
    total_tokens: Amount,
    /// Passed proposals waiting for the next block, and where changed parameters came from.
    governance: GovernanceState,
    /// Address to member id; derived from `members`, never encoded.
    #[serde(skip)]
    index: BTreeMap<Address, MemberId>,
    /// Non-empty name to member id; derived from `members`, never encoded.
    #[serde(skip)]
    names: BTreeMap<String, MemberId>,
    /// Unsettled sealed contributions by the height at whose start they settle; derived
    /// from `contributions`, never encoded.
    #[serde(skip)]
    due: BTreeMap<u64, BTreeSet<ContributionId>>,
}

/// The encoded fields of [`State`], from which the indexes are rebuilt on decode.
#[derive(Deserialize)]
struct StateRepr {
    chain_id: String,
    genesis_hash: Hash,
    params: Params,
    height: u64,
    members: Vec<Member>,
    contributions: Vec<Contribution>,
    total_reputation: Amount,
    total_tokens: Amount,
    governance: GovernanceState,
}

impl From<StateRepr> for State {
    fn from(r: StateRepr) -> State {
        let index = r
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.address, i as MemberId))
            .collect();
        let names = r
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.name.is_empty())
            .map(|(i, m)| (m.name.clone(), i as MemberId))
            .collect();
        let mut due: BTreeMap<u64, BTreeSet<ContributionId>> = BTreeMap::new();
        for c in &r.contributions {
            if let Some(at) = crate::sealed::settles_at(c) {
                due.entry(at).or_default().insert(c.id);
            }
        }
        State {
            chain_id: r.chain_id,
            genesis_hash: r.genesis_hash,
            params: r.params,
            height: r.height,
            members: r.members,
            contributions: r.contributions,
            total_reputation: r.total_reputation,
            total_tokens: r.total_tokens,
            governance: r.governance,
            index,
            names,
            due,
        }
    }
}

/// What must be restored if a transaction fails half-way.
struct Journal {
    members_len: usize,
    contributions_len: usize,
    pending_len: usize,
    total_reputation: Amount,
    total_tokens: Amount,
    /// (member, reputation, tokens, nonce) before each change, oldest first.
    members: Vec<(MemberId, Amount, Amount, u64)>,
}

/// A transaction in progress: the state, the journal to undo it, and the events so far.
pub(crate) struct Change<'a> {
    pub(crate) state: &'a mut State,
    journal: Journal,
    pub(crate) events: Vec<Event>,
}

impl<'a> Change<'a> {
    /// Starts a change of `state` that [`Change::rollback`] can undo.
    pub(crate) fn begin(state: &'a mut State) -> Change<'a> {
        let journal = Journal {
            members_len: state.members.len(),
            contributions_len: state.contributions.len(),
            pending_len: state.governance.pending.len(),
            total_reputation: state.total_reputation,
            total_tokens: state.total_tokens,
            members: Vec::new(),
        };
        Change {
            state,
            journal,
            events: Vec::new(),
        }
    }

    /// Undoes every balance change, account and contribution made since
    /// [`Change::begin`]. (Rules change an existing contribution only after their last
    /// fallible step, so there is nothing of it to undo.)
    pub(crate) fn rollback(self) {
        let Change { state, journal, .. } = self;
        for (id, reputation, tokens, nonce) in journal.members.into_iter().rev() {
            if let Some(m) = state.members.get_mut(id as usize) {
                m.reputation = reputation;
                m.tokens = tokens;
                m.nonce = nonce;
            }
        }
        for m in state.members.drain(journal.members_len..) {
            state.index.remove(&m.address);
            if state
                .names
                .get(&m.name)
                .is_some_and(|id| *id as usize >= journal.members_len)
            {
                state.names.remove(&m.name);
            }
        }
        for c in state.contributions.drain(journal.contributions_len..) {
            if let Some(at) = crate::sealed::settles_at(&c) {
                if let Some(ids) = state.due.get_mut(&at) {
                    ids.remove(&c.id);
                    if ids.is_empty() {
                        state.due.remove(&at);
                    }
                }
            }
        }
        state.governance.pending.truncate(journal.pending_len);
        state.total_reputation = journal.total_reputation;
        state.total_tokens = journal.total_tokens;
    }

    fn remember(&mut self, id: MemberId) {
        let m = &self.state.members[id as usize];
        self.journal
            .members
            .push((id, m.reputation, m.tokens, m.nonce));
    }

    /// Adds `delta` (signed) to one balance of `member`, checking it stays non-negative,
    /// updating the running total, and recording the event.
    pub(crate) fn credit(
        &mut self,
        member: MemberId,
        asset: Asset,
        delta: Amount,
        rule: Rule,
        contribution: Option<ContributionId>,
    ) -> Result<(), TxError> {
        if delta.is_zero() {
            return Ok(());
        }
        self.remember(member);
        let m = &mut self.state.members[member as usize];
        let (balance, total) = match asset {
            Asset::Reputation => (&mut m.reputation, &mut self.state.total_reputation),
            Asset::Tokens => (&mut m.tokens, &mut self.state.total_tokens),
        };
        let new_balance = balance.checked_add(delta)?;
        if new_balance.is_negative() {
            return Err(TxError::Negative { member: m.address });
        }
        let new_total = total.checked_add(delta)?;
        *balance = new_balance;
        *total = new_total;
        self.events.push(Event {
            rule,
            member,
            asset,
            amount: delta,
            contribution,
        });
        Ok(())
    }

    /// Credits `amount` to `member` and the referral share to its referrer, if any.
    pub(crate) fn credit_with_referral(
        &mut self,
        member: MemberId,
        asset: Asset,
        amount: Amount,
        rule: Rule,
        contribution: Option<ContributionId>,
    ) -> Result<(), TxError> {
        self.credit(member, asset, amount, rule, contribution)?;
        if let Some(referrer) = self.state.members[member as usize].referrer {
            let share = self.state.params.referral_fraction.checked_mul(amount)?;
            self.credit(referrer, asset, share, Rule::Referral, contribution)?;
        }
        Ok(())
    }

    fn bump_nonce(&mut self, member: MemberId) {
        self.remember(member);
        self.state.members[member as usize].nonce += 1;
    }

    /// Creates an account (already checked to be new, with a valid key and a free name).
    pub(crate) fn create_member(
        &mut self,
        address: Address,
        name: String,
        referrer: Option<MemberId>,
    ) -> MemberId {
        self.state.push_member(address, name, referrer)
    }
}

impl State {
    /// An empty cooperative with these parameters (members come from the genesis).
    ///
    /// Its genesis hash is [`Hash::ZERO`]: a state without a genesis file (the conformance
    /// runner's, a benchmark's); [`crate::genesis::Genesis::state`] sets the real one.
    pub fn new(chain_id: impl Into<String>, params: Params) -> State {
        State {
            chain_id: chain_id.into(),
            genesis_hash: Hash::ZERO,
            params,
            height: 0,
            members: Vec::new(),
            contributions: Vec::new(),
            total_reputation: Amount::ZERO,
            total_tokens: Amount::ZERO,
            governance: GovernanceState::default(),
            index: BTreeMap::new(),
            names: BTreeMap::new(),
            due: BTreeMap::new(),
        }
    }

    fn push_member(
        &mut self,
        address: Address,
        name: String,
        referrer: Option<MemberId>,
    ) -> MemberId {
        let id = self.members.len() as MemberId;
        if !name.is_empty() {
            self.names.insert(name.clone(), id);
        }
        self.members.push(Member {
            address,
            name,
            reputation: Amount::ZERO,
            tokens: Amount::ZERO,
            nonce: 0,
            referrer,
        });
        self.index.insert(address, id);
        id
    }

    /// Adds a founding member with its balances (genesis and conformance set-up only;
    /// transactions admit members through the rules).
    pub fn add_founding_member(
        &mut self,
        address: Address,
        name: impl Into<String>,
        reputation: Amount,
        tokens: Amount,
    ) -> Result<MemberId, TxError> {
        if self.index.contains_key(&address) {
            return Err(TxError::AlreadyMember(address));
        }
        let name = name.into();
        if self.member_by_name(&name).is_some() {
            return Err(TxError::NameTaken { name });
        }
        if reputation.is_negative() || tokens.is_negative() {
            return Err(TxError::Negative { member: address });
        }
        let total_reputation = self.total_reputation.checked_add(reputation)?;
        let total_tokens = self.total_tokens.checked_add(tokens)?;
        let id = self.push_member(address, name, None);
        let m = &mut self.members[id as usize];
        m.reputation = reputation;
        m.tokens = tokens;
        self.total_reputation = total_reputation;
        self.total_tokens = total_tokens;
        Ok(id)
    }

    /// The chain this state belongs to.
    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The hash of the genesis this state descends from, which every transaction signs.
    pub fn genesis_hash(&self) -> &Hash {
        &self.genesis_hash
    }

    /// Sets the genesis hash (by [`crate::genesis::Genesis::state`] only).
    pub(crate) fn set_genesis_hash(&mut self, hash: Hash) {
        self.genesis_hash = hash;
    }

    /// The cooperative's parameters (as they rule the current block).
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// The height of the last block begun: the block being applied, or after it the last
    /// one applied (0 for the genesis state).
    pub fn height(&self) -> u64 {
        self.height
    }

    /// Passed proposals waiting for the next block, and the provenance of changed
    /// parameters.
    pub fn governance(&self) -> &GovernanceState {
        &self.governance
    }

    /// One member by its non-empty name.
    pub fn member_by_name(&self, name: &str) -> Option<(MemberId, &Member)> {
        if name.is_empty() {
            return None;
        }
        let id = *self.names.get(name)?;
        Some((id, &self.members[id as usize]))
    }

    /// All members, by id.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// One member by id.
    pub fn member(&self, id: MemberId) -> Option<&Member> {
        self.members.get(id as usize)
    }

    /// One member by address.
    pub fn member_by_address(&self, address: &Address) -> Option<(MemberId, &Member)> {
        let id = *self.index.get(address)?;
        Some((id, &self.members[id as usize]))
    }

    /// All contributions, by id.
    pub fn contributions(&self) -> &[Contribution] {
        &self.contributions
    }

    /// One contribution by id.
    pub fn contribution(&self, id: ContributionId) -> Option<&Contribution> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.contributions.get(i))
    }

    /// `R`, the total reputation.
    pub fn total_reputation(&self) -> Amount {
        self.total_reputation
    }

    /// The token supply.
    pub fn total_tokens(&self) -> Amount {
        self.total_tokens
    }

    /// The canonical bytes of the state.
    pub fn to_bytes(&self) -> Vec<u8> {
        crate::codec::encode(self)
    }

    /// Starts block `height` (the next one): what the protocol does at the start of a block,
    /// before any of its transactions, happens here and is reported as events.
    ///
    /// - Parameter proposals that passed in the previous block take effect, in the order
    ///   they passed (spec section 11).
    /// - Then sealed contributions whose reveal window ended with the previous block settle,
    ///   in ascending id (spec section 12). They keep the parameters they were submitted
    ///   with, so the order of these two steps changes nothing but the order of the events.
    ///
    /// This is the one hook for start-of-block rules. Transactions applied afterwards see
    /// `height` as the current height.
    pub fn begin_block(
        &mut self,
        height: u64,
    ) -> Result<Vec<BlockEvent>, crate::block::BlockError> {
        let expected = self.height.checked_add(1);
        if expected != Some(height) {
            return Err(crate::block::BlockError::StateHeight {
                state: self.height,
                got: height,
            });
        }
        self.height = height;
        let mut events = crate::governance::take_effect(self, height);
        events.extend(crate::sealed::settle_due(self, height));
        Ok(events)
    }

    /// Whether [`State::begin_block`] at `height` would change nothing but the height: no
    /// passed proposal waits to take effect and no sealed contribution settles by then.
    ///
    /// A node's mempool asks this to keep, rather than rebuild, the state it computed for
    /// the transactions still waiting when a block held exactly its first ones.
    pub fn start_is_empty(&self, height: u64) -> bool {
        self.governance.pending.is_empty() && self.due.range(..=height).next().is_none()
    }

    /// Applies a signed transaction: chain id, signature, nonce, then its body.
    ///
    /// On error nothing changed. On success the events say what changed and why. The chain
    /// is checked before the signature, so a transaction of another chain is reported as such
    /// even when its chain id was altered after signing.
    pub fn apply(&mut self, tx: &Transaction) -> Result<Vec<Event>, TxError> {
        if tx.chain_id != self.chain_id {
            return Err(TxError::WrongChain {
                expected: self.chain_id.clone(),
                got: tx.chain_id.clone(),
            });
        }
        tx.verify_signature(&self.genesis_hash)?;
        self.apply_verified(tx)
    }

    /// [`State::apply`] for a transaction whose signature was already checked (the mempool
    /// caches that result by transaction hash, spec section 7).
    pub fn apply_verified(&mut self, tx: &Transaction) -> Result<Vec<Event>, TxError> {
        crate::counters::count_execution();
        if tx.chain_id != self.chain_id {
            return Err(TxError::WrongChain {
                expected: self.chain_id.clone(),
                got: tx.chain_id.clone(),
            });
        }
        let mut change = Change::begin(self);
        match crate::execute::execute(&mut change, tx) {
            Ok(()) => Ok(change.events),
            Err(err) => {
                change.rollback();
                Err(err)
            }
        }
    }

    /// Checks a transaction against the state without changing it (the mempool's test).
    pub fn check(&self, tx: &Transaction) -> Result<(), TxError> {
        // Cloning is the price of a simple, obviously side-effect-free check; the mempool
        // calls it on a scratch copy per block anyway.
        self.clone().apply_verified(tx).map(|_| ())
    }

    /// The rule of spec section 4 alone, for member `evaluator` (no signature, no nonce):
    /// the entry point of the conformance runner and the benchmarks.
    pub fn evaluate(
        &mut self,
        evaluator: MemberId,
        contribution: ContributionId,
        value: EvalValue,
    ) -> Result<Vec<Event>, TxError> {
        if self.member(evaluator).is_none() {
            return Err(TxError::UnknownMember(Address::default()));
        }
        let mut change = Change::begin(self);
        match crate::evaluation::evaluate(&mut change, evaluator, contribution, value) {
            Ok(()) => Ok(change.events),
            Err(err) => {
                change.rollback();
                Err(err)
            }
        }
    }

    /// Submits a contribution for `contributor` as a `Contribute` body would (fee included).
    pub fn contribute(
        &mut self,
        contributor: MemberId,
        kind: &str,
        title: &str,
        uri: &str,
        content_hash: Option<Hash>,
    ) -> Result<(ContributionId, Vec<Event>), TxError> {
        let address = self
            .member(contributor)
            .map(|m| m.address)
            .ok_or(TxError::UnknownMember(Address::default()))?;
        let mut change = Change::begin(self);
        let body = TxBody::Contribute {
            kind: kind.to_string(),
            title: title.to_string(),
            uri: uri.to_string(),
            content_hash,
        };
        match crate::execute::execute_body(&mut change, contributor, address, &body) {
            Ok(()) => {
                let id = (change.state.contributions.len() - 1) as ContributionId;
                Ok((id, change.events))
            }
            Err(err) => {
                change.rollback();
                Err(err)
            }
        }
    }

    /// Applies a transaction body as `member` would send it, without signature or nonce:
    /// the entry point of the conformance runner for commitments and reveals.
    pub fn submit(&mut self, member: MemberId, body: &TxBody) -> Result<Vec<Event>, TxError> {
        let address = self
            .member(member)
            .map(|m| m.address)
            .ok_or(TxError::UnknownMember(Address::default()))?;
        let mut change = Change::begin(self);
        match crate::execute::execute_body(&mut change, member, address, body) {
            Ok(()) => Ok(change.events),
            Err(err) => {
                change.rollback();
                Err(err)
            }
        }
    }

    /// Submits a parameter proposal for `proposer` as a `ProposeParams` body would (fee
    /// included): the entry point of the conformance runner.
    pub fn propose(
        &mut self,
        proposer: MemberId,
        title: &str,
        uri: &str,
        changes: Vec<crate::governance::ParamChange>,
    ) -> Result<(ContributionId, Vec<Event>), TxError> {
        let address = self
            .member(proposer)
            .map(|m| m.address)
            .ok_or(TxError::UnknownMember(Address::default()))?;
        let mut change = Change::begin(self);
        let body = TxBody::ProposeParams {
            title: title.to_string(),
            uri: uri.to_string(),
            changes,
        };
        match crate::execute::execute_body(&mut change, proposer, address, &body) {
            Ok(()) => {
                let id = (change.state.contributions.len() - 1) as ContributionId;
                Ok((id, change.events))
            }
            Err(err) => {
                change.rollback();
                Err(err)
            }
        }
    }

    pub(crate) fn contributions_mut(&mut self) -> &mut Vec<Contribution> {
        &mut self.contributions
    }

    /// Appends a contribution (its id already the next one), indexing its settlement
    /// height if it is sealed.
    pub(crate) fn push_contribution(&mut self, c: Contribution) {
        if let Some(at) = crate::sealed::settles_at(&c) {
            self.due.entry(at).or_default().insert(c.id);
        }
        self.contributions.push(c);
    }

    /// Removes and returns, in ascending id, the unsettled sealed contributions that settle
    /// at or before `height`.
    pub(crate) fn take_due(&mut self, height: u64) -> Vec<ContributionId> {
        let later = match height.checked_add(1) {
            Some(next) => self.due.split_off(&next),
            None => BTreeMap::new(),
        };
        let now = std::mem::replace(&mut self.due, later);
        let ids: BTreeSet<ContributionId> = now.into_values().flatten().collect();
        ids.into_iter().collect()
    }

    pub(crate) fn governance_mut(&mut self) -> &mut GovernanceState {
        &mut self.governance
    }

    /// Empties the queue of passed proposals, returning it in pass order.
    pub(crate) fn take_pending(&mut self) -> Vec<ContributionId> {
        std::mem::take(&mut self.governance.pending)
    }

    pub(crate) fn set_params(&mut self, params: Params) {
        self.params = params;
    }

    pub(crate) fn set_outcome(&mut self, id: ContributionId, outcome: ProposalOutcome) {
        if let Some(p) = self
            .contributions
            .get_mut(id as usize)
            .and_then(|c| c.proposal.as_mut())
        {
            p.outcome = Some(outcome);
        }
    }

    pub(crate) fn members_slice(&self) -> &[Member] {
        &self.members
    }
}

impl Change<'_> {
    /// Applies the nonce rule for `sender` and bumps it.
    pub(crate) fn use_nonce(&mut self, sender: MemberId, nonce: u64) -> Result<(), TxError> {
        let expected = self.state.members[sender as usize].nonce + 1;
        if nonce != expected {
            return Err(TxError::Nonce {
                expected,
                got: nonce,
            });
        }
        self.bump_nonce(sender);
        Ok(())
    }
}

/// Key prefixes of the state's Merkle leaves (spec section 6: entries in key order).
mod leaf_key {
    pub(super) const META: u8 = 0;
    pub(super) const MEMBER: u8 = 1;
    pub(super) const CONTRIBUTION: u8 = 2;
}

/// The chain-wide entry of the state tree: what a reputation proof shows besides the
/// member's own entry (spec section 10), and what ties parameters and their provenance to
/// the state root (spec section 11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainEntry {
    /// The cooperative.
    pub chain_id: String,
    /// The hash of its genesis (what transactions sign besides the chain id).
    pub genesis_hash: Hash,
    /// The height of the block after which this is the state.
    pub height: u64,
    /// The parameters in force.
    pub params: Params,
    /// `R`, the total reputation.
    pub total_reputation: Amount,
    /// The token supply.
    pub total_tokens: Amount,
    /// Number of members (so the tree's size can be checked).
    pub members: u64,
    /// Number of contributions, proposals included.
    pub contributions: u64,
    /// Passed proposals and parameter provenance.
    pub governance: GovernanceState,
}

impl ChainEntry {
    /// The key of the chain-wide leaf.
    pub const KEY: [u8; 1] = [leaf_key::META];
}

impl State {
    /// The state's entries as (key, canonical value bytes), in key order.
    ///
    /// Keys: `0` for the chain-wide entry, `1 ‖ address` per member, `2 ‖ id (big-endian)`
    /// per contribution. Each leaf hashes `key ‖ value`, so a member's proof shows its
    /// address, reputation and tokens together.
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut out = Vec::with_capacity(1 + self.members.len() + self.contributions.len());
        out.push((
            ChainEntry::KEY.to_vec(),
            crate::codec::encode(&self.chain_entry()),
        ));
        for (address, id) in &self.index {
            let mut key = vec![leaf_key::MEMBER];
            key.extend_from_slice(address.as_bytes());
            out.push((key, crate::codec::encode(&self.members[*id as usize])));
        }
        for c in &self.contributions {
            let mut key = vec![leaf_key::CONTRIBUTION];
            key.extend_from_slice(&c.id.to_be_bytes());
            out.push((key, crate::codec::encode(c)));
        }
        out
    }

    /// The chain-wide entry.
    pub fn chain_entry(&self) -> ChainEntry {
        ChainEntry {
            chain_id: self.chain_id.clone(),
            genesis_hash: self.genesis_hash,
            height: self.height,
            params: self.params.clone(),
            total_reputation: self.total_reputation,
            total_tokens: self.total_tokens,
            members: self.members.len() as u64,
            contributions: self.contributions.len() as u64,
            governance: self.governance.clone(),
        }
    }

    fn leaf_hashes(&self) -> Vec<Hash> {
        self.entries().iter().map(|(k, v)| leaf_of(k, v)).collect()
    }

    /// The state root: the Merkle root over all entries in key order.
    pub fn state_root(&self) -> Hash {
        crate::merkle::root(&self.leaf_hashes())
    }

    /// A proof of one member's entry under [`State::state_root`].
    pub fn prove_member(&self, address: &Address) -> Option<crate::merkle::Proof> {
        // The member's leaf index is 1 (after the meta entry) plus its rank by address.
        let rank = self.index.range(..*address).count();
        self.index.get(address)?;
        crate::merkle::prove(&self.leaf_hashes(), 1 + rank)
    }

    /// A proof of the chain-wide entry under [`State::state_root`] (always leaf 0).
    pub fn prove_chain_entry(&self) -> Option<crate::merkle::Proof> {
        crate::merkle::prove(&self.leaf_hashes(), 0)
    }

    /// The state root with the proofs of one member's entry and of the chain-wide entry,
    /// from one pass over the entries (what a reputation proof needs).
    pub fn prove_standing(
        &self,
        address: &Address,
    ) -> Option<(Hash, crate::merkle::Proof, crate::merkle::Proof)> {
        self.index.get(address)?;
        let rank = self.index.range(..*address).count();
        let leaves = self.leaf_hashes();
        let member = crate::merkle::prove(&leaves, 1 + rank)?;
        let chain = crate::merkle::prove(&leaves, 0)?;
        Some((crate::merkle::root(&leaves), member, chain))
    }

    /// The leaf hash a member proof is checked against.
    pub fn member_leaf(member: &Member) -> Hash {
        Self::member_leaf_bytes(member.address, &crate::codec::encode(member))
    }

    /// The leaf hash of a member entry given as canonical bytes.
    pub fn member_leaf_bytes(address: Address, value: &[u8]) -> Hash {
        let mut key = vec![leaf_key::MEMBER];
        key.extend_from_slice(address.as_bytes());
        leaf_of(&key, value)
    }

    /// The leaf hash of the chain-wide entry given as canonical bytes.
    pub fn chain_leaf_bytes(value: &[u8]) -> Hash {
        leaf_of(&ChainEntry::KEY, value)
    }
}

/// A state leaf: `0 ‖ key length (u32 LE) ‖ key ‖ value`, hashed.
fn leaf_of(key: &[u8], value: &[u8]) -> Hash {
    pov_crypto::hash_parts(&[&[0u8], &(key.len() as u32).to_le_bytes(), key, value])
}
