//! Transaction bodies other than evaluation (spec section 5): contribute, transfer, admit,
//! and the envelope rules every transaction passes first (sender, nonce, open admission).

use pov_crypto::Address;

use crate::amount::Amount;
use crate::error::TxError;
use crate::events::{Asset, Rule};
use crate::params::Admission;
use crate::state::{Change, Contribution, ContributionId, MemberId};
use crate::tx::{Transaction, TxBody, MAX_KIND_BYTES, MAX_TITLE_BYTES, MAX_URI_BYTES};

/// Runs a transaction whose signature and chain id were checked.
pub(crate) fn execute(change: &mut Change<'_>, tx: &Transaction) -> Result<(), TxError> {
    let sender = match change.state.member_by_address(&tx.sender) {
        Some((id, _)) => id,
        None if change.state.params().admission == Admission::Open => {
            // An unknown key joins with its first valid transaction, with nothing granted.
            tx.sender.verifying_key()?;
            change.create_member(tx.sender, None)
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
        TxBody::Admit { member } => admit(change, sender, member),
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
    check_len("title", title, MAX_TITLE_BYTES)?;
    check_len("uri", uri, MAX_URI_BYTES)?;
    if title.trim().is_empty() {
        return Err(TxError::Empty("title"));
    }
    if uri.is_empty() && content_hash.is_none() {
        return Err(TxError::NoContent);
    }
    let params = change
        .state
        .params()
        .types
        .get(kind)
        .cloned()
        .ok_or_else(|| TxError::UnknownKind(kind.to_string()))?;
    let id = change.state.contributions().len() as ContributionId;
    let have = change.state.members_slice()[sender as usize].tokens;
    if have < params.fee {
        return Err(TxError::InsufficientTokens {
            have,
            need: params.fee,
        });
    }
    change.credit(
        sender,
        Asset::Tokens,
        zero_minus(params.fee)?,
        Rule::Fee,
        Some(id),
    )?;
    let median_max = params.lowest_value();
    let fund = params.evaluator_fund;
    change.state.contributions_mut().push(Contribution {
        id,
        contributor: sender,
        kind: kind.to_string(),
        title: title.to_string(),
        uri: uri.to_string(),
        content_hash,
        params,
        evaluations: Vec::new(),
        evaluated_ever: Default::default(),
        next_seq: 0,
        fund,
        max_score: None,
        median_max,
        minted_tokens: Amount::ZERO,
        minted_reputation: Amount::ZERO,
        evaluation_count: 0,
    });
    Ok(())
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

fn admit(change: &mut Change<'_>, sender: MemberId, member: &Address) -> Result<(), TxError> {
    if change.state.members_slice()[sender as usize].reputation <= Amount::ZERO {
        return Err(TxError::AdmitWithoutReputation);
    }
    if change.state.member_by_address(member).is_some() {
        return Err(TxError::AlreadyMember(*member));
    }
    member.verifying_key()?;
    let grant = match change.state.params().admission {
        Admission::Invite => change.state.params().initial_grant,
        // Under open admission anyone can join for free, so a grant would be a faucet.
        Admission::Open => Default::default(),
    };
    let id = change.create_member(*member, Some(sender));
    change.credit(
        id,
        Asset::Reputation,
        grant.reputation,
        Rule::Admission,
        None,
    )?;
    change.credit(id, Asset::Tokens, grant.tokens, Rule::Admission, None)
}
