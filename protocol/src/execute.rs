//! Transaction bodies other than evaluation (spec section 5): contribute, transfer, admit,
//! propose (spec section 11), and the envelope rules every transaction passes first
//! (sender, nonce, open admission). Evaluations go to [`crate::evaluation`], commitments
//! and reveals (spec section 12) to [`crate::sealed`].

use pov_crypto::Address;

use crate::amount::Amount;
use crate::error::TxError;
use crate::events::{Asset, Rule};
use crate::governance::{ParamChange, Proposal};
use crate::params::{Admission, TypeParams, GOVERNANCE_KIND};
use crate::state::{Change, Contribution, ContributionId, MemberId};
use crate::tx::{
    check_member_name, Transaction, TxBody, MAX_KIND_BYTES, MAX_NAME_BYTES, MAX_TITLE_BYTES,
    MAX_URI_BYTES,
};

/// Runs a transaction whose signature and chain id were checked.
pub(crate) fn execute(change: &mut Change<'_>, tx: &Transaction) -> Result<(), TxError> {
    let sender = match change.state.member_by_address(&tx.sender) {
        Some((id, _)) => id,
        None if change.state.params().admission == Admission::Open => {
            // An unknown key joins with its first valid transaction, with nothing granted.
            tx.sender.verifying_key()?;
            change.create_member(tx.sender, String::new(), None)
        }
        None => return Err(TxError::UnknownSender(tx.sender)),
    };
    change.use_nonce(sender, tx.nonce)?;
    execute_body(change, sender, tx.sender, &tx.body)
}

/// Runs one body on behalf of `sender`.
pub(crate) fn execute_body(
    change: &mut Change<'_>,
    sender: MemberId,
    sender_address: Address,
    body: &TxBody,
) -> Result<(), TxError> {
    match body {
        TxBody::Contribute {
            kind,
            title,
            uri,
            content_hash,
        } => contribute(change, sender, kind, title, uri, *content_hash),
        TxBody::Evaluate {
            contribution,
            value,
        } => crate::evaluation::evaluate(change, sender, *contribution, *value),
        TxBody::Transfer { to, amount } => transfer(change, sender, sender_address, to, *amount),
        TxBody::Admit { member, name } => admit(change, sender, member, name),
        TxBody::ProposeParams {
            title,
            uri,
            changes,
        } => propose(change, sender, title, uri, changes),
        TxBody::Commit {
            contribution,
            commitment,
        } => crate::sealed::commit(change, sender, *contribution, *commitment),
        TxBody::Reveal {
            contribution,
            value,
            salt,
        } => crate::sealed::reveal(change, sender, sender_address, *contribution, *value, salt),
    }
}

fn check_len(field: &'static str, text: &str, max: usize) -> Result<(), TxError> {
    if text.len() > max {
        return Err(TxError::TooLong {
            field,
            max,
            got: text.len(),
        });
    }
    Ok(())
}

fn contribute(
    change: &mut Change<'_>,
    sender: MemberId,
    kind: &str,
    title: &str,
    uri: &str,
    content_hash: Option<pov_crypto::Hash>,
) -> Result<(), TxError> {
    check_len("kind", kind, MAX_KIND_BYTES)?;
    check_text(title, uri)?;
    if uri.is_empty() && content_hash.is_none() {
        return Err(TxError::NoContent);
    }
    if kind == GOVERNANCE_KIND {
        return Err(TxError::ReservedKind);
    }
    let params = change
        .state
        .params()
        .types
        .get(kind)
        .cloned()
        .ok_or_else(|| TxError::UnknownKind(kind.to_string()))?;
    let submission = Submission {
        kind,
        title,
        uri,
        content_hash,
        params,
        proposal: None,
    };
    push_contribution(change, sender, submission)
}

/// A title (required) and a URI within their limits.
fn check_text(title: &str, uri: &str) -> Result<(), TxError> {
    check_len("title", title, MAX_TITLE_BYTES)?;
    check_len("uri", uri, MAX_URI_BYTES)?;
    if title.trim().is_empty() {
        return Err(TxError::Empty("title"));
    }
    Ok(())
}

/// What a new contribution (or proposal) is made of.
struct Submission<'a> {
    kind: &'a str,
    title: &'a str,
    uri: &'a str,
    content_hash: Option<pov_crypto::Hash>,
    params: TypeParams,
    proposal: Option<Proposal>,
}

/// Charges the snapshot's fee and appends the contribution with the next id.
fn push_contribution(
    change: &mut Change<'_>,
    sender: MemberId,
    s: Submission<'_>,
) -> Result<(), TxError> {
    let id = change.state.contributions().len() as ContributionId;
    let fee = s.params.fee;
    let have = change.state.members_slice()[sender as usize].tokens;
    if have < fee {
        return Err(TxError::InsufficientTokens { have, need: fee });
    }
    change.credit(sender, Asset::Tokens, zero_minus(fee)?, Rule::Fee, Some(id))?;
    let median_max = s.params.lowest_value();
    let fund = s.params.evaluator_fund;
    let height = change.state.height();
    let sealed = s
        .params
        .sealed
        .map(|_| crate::sealed::SealedState::default());
    change.state.push_contribution(Contribution {
        id,
        height,
        contributor: sender,
        kind: s.kind.to_string(),
        title: s.title.to_string(),
        uri: s.uri.to_string(),
        content_hash: s.content_hash,
        params: s.params,
        evaluations: Vec::new(),
        evaluated_ever: Default::default(),
        next_seq: 0,
        fund,
        max_score: None,
        median_max,
        minted_tokens: Amount::ZERO,
        minted_reputation: Amount::ZERO,
        evaluation_count: 0,
        proposal: s.proposal,
        sealed,
    });
    Ok(())
}

/// `ProposeParams` (spec section 11): refused when governance is off, a path is unknown or
/// the resulting parameters would not pass genesis validation; otherwise a contribution of
/// the reserved kind with the governance table's parameters, paying its fee.
fn propose(
    change: &mut Change<'_>,
    sender: MemberId,
    title: &str,
    uri: &str,
    changes: &[ParamChange],
) -> Result<(), TxError> {
    check_text(title, uri)?;
    let governance = &change.state.params().governance;
    if !governance.enabled {
        return Err(TxError::GovernanceDisabled);
    }
    let params = governance.type_params();
    let expires_at = change
        .state
        .height()
        .saturating_add(governance.expiry_blocks);
    crate::governance::apply_changes(change.state.params(), changes)?;
    let submission = Submission {
        kind: GOVERNANCE_KIND,
        title,
        uri,
        content_hash: None,
        params,
        proposal: Some(Proposal {
            changes: changes.to_vec(),
            expires_at,
            passed_at: None,
            outcome: None,
        }),
    };
    push_contribution(change, sender, submission)
}

fn zero_minus(amount: Amount) -> Result<Amount, TxError> {
    Ok(Amount::ZERO.checked_sub(amount)?)
}

fn transfer(
    change: &mut Change<'_>,
    sender: MemberId,
    sender_address: Address,
    to: &Address,
    amount: Amount,
) -> Result<(), TxError> {
    if amount.is_negative() || amount.is_zero() {
        return Err(TxError::NonPositiveAmount(amount));
    }
    if *to == sender_address {
        return Err(TxError::SelfTransfer);
    }
    let (recipient, _) = change
        .state
        .member_by_address(to)
        .ok_or(TxError::UnknownMember(*to))?;
    let have = change.state.members_slice()[sender as usize].tokens;
    if have < amount {
        return Err(TxError::InsufficientTokens { have, need: amount });
    }
    change.credit(
        sender,
        Asset::Tokens,
        zero_minus(amount)?,
        Rule::Transfer,
        None,
    )?;
    change.credit(recipient, Asset::Tokens, amount, Rule::Transfer, None)
}

fn admit(
    change: &mut Change<'_>,
    sender: MemberId,
    member: &Address,
    name: &str,
) -> Result<(), TxError> {
    if change.state.members_slice()[sender as usize].reputation <= Amount::ZERO {
        return Err(TxError::AdmitWithoutReputation);
    }
    if change.state.member_by_address(member).is_some() {
        return Err(TxError::AlreadyMember(*member));
    }
    member.verifying_key()?;
    check_len("name", name, MAX_NAME_BYTES)?;
    check_member_name(name).map_err(|reason| TxError::BadName {
        name: name.to_string(),
        reason,
    })?;
    if change.state.member_by_name(name).is_some() {
        return Err(TxError::NameTaken {
            name: name.to_string(),
        });
    }
    let grant = match change.state.params().admission {
        Admission::Invite => change.state.params().initial_grant,
        // Under open admission anyone can join for free, so a grant would be a faucet.
        Admission::Open => Default::default(),
    };
    let id = change.create_member(*member, name.to_string(), Some(sender));
    change.credit(
        id,
        Asset::Reputation,
        grant.reputation,
        Rule::Admission,
        None,
    )?;
    change.credit(id, Asset::Tokens, grant.tokens, Rule::Admission, None)
}
