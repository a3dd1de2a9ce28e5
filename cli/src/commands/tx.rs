//! Transactions: `contribute`, `evaluate` (a `commit` on a sealed contribution), `reveal`,
//! `transfer`, `admit` (and `propose`, whose checks live in `governance`).
//!
//! Every one takes the same path: ask the node which chain it serves (`GET /status`), unlock
//! the signing key, fetch the sender's next nonce (`GET /accounts/{address}`), sign, submit
//! (`POST /tx`), then, unless `--no-wait`, poll `GET /tx/{hash}` until it is final and print
//! what it changed, summed per rule. A rejection exits 6 with the node's reason.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use pov_crypto::{Hash, Keypair, Salt};
use pov_protocol::{Amount, Transaction, TxBody};

use crate::cli::TxArgs;
use crate::exit::{self, InvalidInput};
use crate::node::{Account, Client, Contribution, Proposal, Status, TxEvent, TxStatus};
use crate::output::{self, Align, Table};
use crate::seals::{Seals, Secret};

/// What a rule does, in a few words (for the result table and `pov explain`).
pub fn describe_rule(rule: &str) -> &'static str {
    match rule {
        "fee" => "contribution fee, burned",
        "stake" => "evaluator's stake, burned",
        "redistribution" => "shared with earlier evaluators who gave the same value",
        "referral" => "referrer's share of a referred member's gain",
        "contributor-reward" => "minted for the contributor",
        "evaluator-fund" => "paid from the contribution's evaluator fund",
        "transfer" => "tokens sent or received",
        "admission" => "initial grant of a newly admitted member",
        _ => "",
    }
}

/// `pov contribute`.
pub fn contribute(
    ctx: &super::Ctx,
    kind: String,
    title: String,
    uri: Option<String>,
    file: Option<&Path>,
    args: &TxArgs,
) -> anyhow::Result<i32> {
    check_kind(ctx, &kind)?;
    let content_hash = file.map(hash_file).transpose()?;
    if uri.is_none() && content_hash.is_none() {
        return Err(InvalidInput(
            "a contribution needs --uri (where the work lives), --file (to pin its content hash), or both"
                .into(),
        )
        .into());
    }
    submit(
        ctx,
        args,
        TxBody::Contribute {
            kind,
            title,
            uri: uri.unwrap_or_default(),
            content_hash,
        },
    )
}

/// `pov evaluate`: an `evaluate` transaction, or, on a sealed contribution, a `commit` of
/// the value with a fresh random salt kept encrypted in the keystore folder.
pub fn evaluate(
    ctx: &super::Ctx,
    contribution: u64,
    value: i64,
    args: &TxArgs,
) -> anyhow::Result<i32> {
    let sealed = match ctx
        .client()
        .get_value(&format!("/contributions/{contribution}"))
    {
        Ok(c) if !c["sealed"].is_null() => Some(c),
        Ok(_) => None,
        // An unknown contribution: the node says so when the evaluation arrives.
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    let Some(c) = sealed else {
        return submit(
            ctx,
            args,
            TxBody::Evaluate {
                contribution,
                value,
            },
        );
    };
    commit(ctx, &c, contribution, value, args)
}

/// Commits `value` to the sealed contribution `c` (its `GET /contributions/{id}` answer).
fn commit(
    ctx: &super::Ctx,
    c: &serde_json::Value,
    contribution: u64,
    value: i64,
    args: &TxArgs,
) -> anyhow::Result<i32> {
    let sealed = &c["sealed"];
    let phase = sealed["phase"].as_str().unwrap_or_default();
    let commit_ends = sealed["commit_ends"].as_u64().unwrap_or_default();
    let reveal_ends = sealed["reveal_ends"].as_u64().unwrap_or_default();
    if phase != "commit" {
        let why = match phase {
            "reveal" | "settling" => format!(
                "its commit window ended at height {commit_ends}; a commitment made then is opened with `pov reveal {contribution}` until height {reveal_ends}"
            ),
            _ => "it is settled and closed".to_string(),
        };
        return Err(InvalidInput(format!(
            "contribution #{contribution} is sealed and takes no more commitments: {why} (nothing was signed)"
        ))
        .into());
    }
    let set: Vec<i64> = c["evaluation_set"]
        .as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_i64).collect())
        .unwrap_or_default();
    if !set.is_empty() && !set.contains(&value) {
        return Err(InvalidInput(format!(
            "VALUE {value} is not in contribution #{contribution}'s evaluation set {set:?}: a hidden value outside it could never be revealed (nothing was signed)"
        ))
        .into());
    }
    let (chain_id, genesis_hash) = chain_of(ctx)?;
    let (name, keypair) = ctx.signer(args.from.as_deref())?;
    let secret = Secret {
        value,
        salt: Salt::random(),
    };
    let commitment = pov_protocol::sealed::commitment(
        &chain_id,
        contribution,
        &keypair.address(),
        value,
        &secret.salt,
    );
    // The secret is on disk before the commitment leaves: a commitment nobody can open
    // would only burn the stake.
    let path = Seals::new(ctx.keystore().dir()).save(
        &keypair,
        &chain_id,
        contribution,
        &commitment,
        &secret,
    )?;
    let code = submit_signed(
        ctx,
        args,
        (&chain_id, &genesis_hash),
        &name,
        &keypair,
        TxBody::Commit {
            contribution,
            commitment,
        },
    )?;
    output::note(&format!(
        "committed a hidden value to sealed contribution #{contribution}; the value and its salt are kept encrypted in {}: lose that file and the commitment can never be revealed, and its stake is forfeited. Reveal it after height {commit_ends}, until height {reveal_ends}, with `pov reveal {contribution}` (or `pov reveal --all`).",
        path.display()
    ));
    Ok(code)
}

/// `pov reveal CONTRIBUTION` or `pov reveal --all`: opens the signer's live commitments
/// whose reveal window is open, with the secrets kept by `pov evaluate`.
pub fn reveal(
    ctx: &super::Ctx,
    contribution: Option<u64>,
    all: bool,
    args: &TxArgs,
) -> anyhow::Result<i32> {
    let (chain_id, genesis_hash) = chain_of(ctx)?;
    let (name, keypair) = ctx.signer(args.from.as_deref())?;
    let me = keypair.address();
    let seals = Seals::new(ctx.keystore().dir());
    let targets: Vec<u64> = match (contribution, all) {
        (Some(id), false) => vec![id],
        (None, true) => {
            let (stored, damaged) = seals.list(&chain_id, &me)?;
            for d in damaged {
                output::note(&format!("warning: skipped {d}"));
            }
            let mut ids: Vec<u64> = stored.iter().map(|s| s.contribution).collect();
            ids.dedup();
            ids
        }
        _ => return Err(InvalidInput("give a CONTRIBUTION id or --all (not both)".into()).into()),
    };
    let mut revealed = 0;
    for id in targets {
        let c = ctx.client().get_value(&format!("/contributions/{id}"))?;
        let sealed = &c["sealed"];
        if sealed.is_null() {
            return Err(InvalidInput(format!(
                "contribution #{id} is not sealed: there is nothing to reveal, `pov evaluate {id} VALUE` evaluates it"
            ))
            .into());
        }
        let phase = sealed["phase"].as_str().unwrap_or_default();
        let mine = sealed["committers"]
            .as_array()
            .and_then(|a| a.iter().find(|m| m["member"] == me.to_string()).cloned());
        let problem = match (phase, &mine) {
            (_, None) => Some(format!("{name} has no live commitment on it")),
            (_, Some(m)) if m["revealed"] == true => Some("already revealed".to_string()),
            ("commit", _) => Some(format!(
                "its reveal window opens after height {}",
                sealed["commit_ends"]
            )),
            ("settling" | "settled", _) => Some(format!(
                "its reveal window ended at height {}",
                sealed["reveal_ends"]
            )),
            _ => None,
        };
        if let Some(problem) = problem {
            if all {
                output::note(&format!(
                    "contribution #{id}: nothing to reveal ({problem})"
                ));
                continue;
            }
            return Err(InvalidInput(format!(
                "cannot reveal on contribution #{id}: {problem} (nothing was signed)"
            ))
            .into());
        }
        let commitment: Hash = mine
            .as_ref()
            .and_then(|m| m["commitment"].as_str())
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the node did not give the commitment of #{id}"))?;
        let Some(secret) = seals.open(&keypair, &chain_id, id, &commitment)? else {
            let problem = format!(
                "the secret of {name}'s commitment on contribution #{id} is not in {}: it was made elsewhere or its file was lost, and without it the commitment cannot be opened",
                ctx.keystore().dir().join("seals").display()
            );
            if all {
                output::note(&format!("warning: {problem}"));
                continue;
            }
            return Err(InvalidInput(problem).into());
        };
        submit_signed(
            ctx,
            args,
            (&chain_id, &genesis_hash),
            &name,
            &keypair,
            TxBody::Reveal {
                contribution: id,
                value: secret.value,
                salt: secret.salt,
            },
        )?;
        revealed += 1;
    }
    if all && revealed == 0 {
        output::note("nothing to reveal: no stored commitment is in its reveal window");
    }
    Ok(exit::OK)
}

/// `pov transfer`.
pub fn transfer(ctx: &super::Ctx, to: &str, amount: &str, args: &TxArgs) -> anyhow::Result<i32> {
    let amount: Amount = amount
        .parse()
        .map_err(|e| InvalidInput(format!("AMOUNT: {e}")))?;
    if amount <= Amount::ZERO {
        return Err(InvalidInput(format!(
            "AMOUNT must be more than 0, got {amount}: a transfer moves tokens from the signer \
             to TO (nothing was signed)"
        ))
        .into());
    }
    let (to, _) = ctx.resolve_address(to)?;
    submit(ctx, args, TxBody::Transfer { to, amount })
}

/// `pov admit`: the newcomer's name is `--name`, else its keystore name, else none.
pub fn admit(
    ctx: &super::Ctx,
    member: &str,
    name: Option<String>,
    args: &TxArgs,
) -> anyhow::Result<i32> {
    let (member, key_name) = ctx.resolve_local(member)?;
    let name = name.or(key_name).unwrap_or_default();
    submit(ctx, args, TxBody::Admit { member, name })
}

/// Refuses, before anything is signed, a kind the cooperative does not have, listing the
/// ones it has (`GET /params`). A node too old to serve its parameters is left to judge.
fn check_kind(ctx: &super::Ctx, kind: &str) -> anyhow::Result<()> {
    let params = match ctx.client().get_value("/params") {
        Ok(p) => p,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let kinds: Vec<&str> = params
        .get("params")
        .and_then(|p| p.get("types"))
        .and_then(|t| t.as_object())
        .map(|t| t.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if kinds.is_empty() || kinds.contains(&kind) {
        return Ok(());
    }
    Err(InvalidInput(format!(
        "unknown contribution kind {kind:?}: this cooperative's kinds are {} (nothing was signed)",
        kinds.join(", ")
    ))
    .into())
}

/// blake3 of a file, streamed (a contribution may be a large file).
fn hash_file(path: &Path) -> anyhow::Result<Hash> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(Hash(*hasher.finalize().as_bytes()))
}

/// The chain the node serves (its id, checked against the configuration's, and its genesis
/// hash, which every transaction signs).
fn chain_of(ctx: &super::Ctx) -> anyhow::Result<(String, Hash)> {
    let client = ctx.client();
    let (status, _) = client.get::<Status>("/status")?;
    if let Some(expected) = &ctx.settings.chain_id.0 {
        if *expected != status.chain_id {
            return Err(InvalidInput(format!(
                "the node at {} serves chain {:?}, but the configuration expects {expected:?}: nothing was signed",
                client.base(),
                status.chain_id
            ))
            .into());
        }
    }
    Ok((status.chain_id, status.genesis_hash))
}

/// Signs, submits and (by default) follows one transaction.
pub(super) fn submit(ctx: &super::Ctx, args: &TxArgs, body: TxBody) -> anyhow::Result<i32> {
    let (chain_id, genesis_hash) = chain_of(ctx)?;
    let (name, keypair) = ctx.signer(args.from.as_deref())?;
    submit_signed(ctx, args, (&chain_id, &genesis_hash), &name, &keypair, body)
}

/// [`submit`] with the chain (id and genesis hash) and the signing key already in hand.
fn submit_signed(
    ctx: &super::Ctx,
    args: &TxArgs,
    (chain_id, genesis_hash): (&str, &Hash),
    name: &str,
    keypair: &Keypair,
    body: TxBody,
) -> anyhow::Result<i32> {
    let client = ctx.client();
    let sender = keypair.address();
    let nonce = match client.get::<Account>(&format!("/accounts/{sender}")) {
        Ok((account, _)) => account.next_nonce,
        // Not a member yet: only open admission lets it send, starting at nonce 1.
        Err(e) if e.is_not_found() => 1,
        Err(e) => return Err(e.into()),
    };
    let contribution_wanted = matches!(
        body,
        TxBody::Contribute { .. } | TxBody::ProposeParams { .. }
    );
    let proposing = matches!(body, TxBody::ProposeParams { .. });
    let evaluated = match &body {
        TxBody::Evaluate { contribution, .. }
        | TxBody::Commit { contribution, .. }
        | TxBody::Reveal { contribution, .. } => Some(*contribution),
        _ => None,
    };
    let tx = Transaction::sign(keypair, chain_id, genesis_hash, nonce, body);
    let hash = client.post_tx(&tx)?;
    let expected_hash = tx.hash().to_string();
    if hash != expected_hash {
        output::note(&format!(
            "warning: the node answered hash {hash}, but the transaction's hash is {expected_hash}"
        ));
    }
    if args.no_wait {
        if ctx.json() {
            output::json(&serde_json::json!({
                "hash": hash,
                "status": "pending",
                "from": name,
                "sender": sender.to_string(),
                "nonce": nonce,
            }))?;
        } else {
            output::line(&hash)?;
            output::note(&format!(
                "submitted; `pov show tx {hash}` shows it once it is final"
            ));
        }
        return Ok(exit::OK);
    }
    let (final_tx, raw) = wait_final(&client, &hash, Duration::from_secs(args.timeout))?;
    let events = final_tx.events.clone().unwrap_or_default();
    let created = if contribution_wanted {
        created_contribution(&client, &events, &sender.to_string())
    } else {
        None
    };
    let contribution_id = created.or(evaluated);
    let contribution = contribution_id.and_then(|id| {
        client
            .get::<Contribution>(&format!("/contributions/{id}"))
            .ok()
    });
    // A parameter proposal (one proposed, or one evaluated) is shown as a proposal.
    let proposal = contribution
        .as_ref()
        .filter(|(c, _)| c.kind == pov_protocol::params::GOVERNANCE_KIND)
        .and_then(|(c, _)| client.get::<Proposal>(&format!("/proposals/{}", c.id)).ok());
    let sender_text = sender.to_string();
    if ctx.json() {
        let mut v = tx_json(&raw, &events, &sender_text);
        v["from"] = name.into();
        v["sender"] = sender_text.into();
        v["nonce"] = nonce.into();
        if let Some(id) = contribution_id {
            v["contribution_id"] = id.into();
        }
        if let Some((_, raw_c)) = contribution {
            v["contribution"] = raw_c;
        }
        if let Some((_, raw_p)) = &proposal {
            v["proposal"] = raw_p.clone();
        }
        output::json(&v)?;
        return Ok(exit::OK);
    }
    let mut names = ctx.names();
    super::learn_names(&mut names, &raw);
    output::line(&render_tx(&final_tx, &events, Some(&sender_text), &names))?;
    if let Some((p, _)) = &proposal {
        if proposing {
            output::line(&format!(
                "proposal #{} submitted: it passes when members holding half of all reputation \
                 accept it (`pov evaluate {} 1`; 0 rejects), until block {}",
                p.id, p.id, p.expires_at
            ))?;
        } else {
            output::line(&super::governance::progress_line(p))?;
        }
    } else if let Some(id) = created {
        output::line(&format!(
            "contribution #{id} submitted; members evaluate it with `pov evaluate {id} VALUE`"
        ))?;
    } else if let Some((c, _)) = contribution {
        output::line(&contribution_line(&c))?;
    }
    Ok(exit::OK)
}

/// Polls `GET /tx/{hash}` until the transaction is final or the time is up.
pub fn wait_final(
    client: &Client,
    hash: &str,
    timeout: Duration,
) -> anyhow::Result<(TxStatus, serde_json::Value)> {
    let start = Instant::now();
    let mut last: String;
    let mut delay = Duration::from_millis(100);
    loop {
        match client.get::<TxStatus>(&format!("/tx/{hash}")) {
            Ok((status, raw)) if status.status == "final" => return Ok((status, raw)),
            Ok((status, _)) => last = status.status,
            // Just accepted: the node may not list it yet; a dropped transaction stays 404.
            Err(e) if e.is_not_found() => last = "unknown to the node".into(),
            Err(e) => return Err(e.into()),
        }
        if start.elapsed() >= timeout {
            anyhow::bail!(
                "transaction {hash} is not final after {} s (last seen: {last}); `pov show tx {hash}` shows it later, or raise --timeout",
                timeout.as_secs()
            );
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

/// The id of the contribution a final `contribute` created: the fee event names it; with no
/// fee there is no event, so the contributor's newest contribution is taken.
fn created_contribution(client: &Client, events: &[TxEvent], sender: &str) -> Option<u64> {
    if let Some(id) = events
        .iter()
        .find(|e| e.rule == "fee")
        .and_then(|e| e.contribution)
    {
        return Some(id);
    }
    let mut after: Option<u64> = None;
    let mut newest = None;
    loop {
        let mut path = format!("/contributions?by={sender}&limit=500");
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        let (page, _) = client.get::<crate::node::ContributionPage>(&path).ok()?;
        if let Some(last) = page.items.last() {
            newest = Some(last.id);
        }
        match page.next {
            Some(n) if !page.items.is_empty() => after = Some(n),
            _ => return newest,
        }
    }
}

/// One row per rule, asset and direction (credits and debits apart, so a transfer shows
/// both sides instead of summing to zero): the summed change and who it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTotal {
    /// The rule.
    pub rule: String,
    /// The asset.
    pub asset: String,
    /// The summed signed change.
    pub total: Amount,
    /// The distinct members touched, in order of appearance.
    pub members: Vec<String>,
}

/// Sums events per rule, asset and direction, in the order they first appear.
pub fn summarize(events: &[TxEvent]) -> Vec<RuleTotal> {
    let mut rows: Vec<RuleTotal> = Vec::new();
    for e in events {
        let negative = e.amount.is_negative();
        let row = match rows
            .iter_mut()
            .find(|r| r.rule == e.rule && r.asset == e.asset && r.total.is_negative() == negative)
        {
            Some(row) => row,
            None => {
                rows.push(RuleTotal {
                    rule: e.rule.clone(),
                    asset: e.asset.clone(),
                    total: Amount::ZERO,
                    members: Vec::new(),
                });
                let last = rows.len() - 1;
                &mut rows[last]
            }
        };
        row.total = row.total.checked_add(e.amount).unwrap_or(row.total);
        if !row.members.contains(&e.member) {
            row.members.push(e.member.clone());
        }
    }
    rows
}

/// The net change of one member's reputation and tokens.
pub fn net_change(events: &[TxEvent], member: &str) -> (Amount, Amount) {
    let mut rep = Amount::ZERO;
    let mut tok = Amount::ZERO;
    for e in events.iter().filter(|e| e.member == member) {
        let slot = if e.asset == "reputation" {
            &mut rep
        } else {
            &mut tok
        };
        *slot = slot.checked_add(e.amount).unwrap_or(*slot);
    }
    (rep, tok)
}

/// The JSON printed for a final transaction: the node's object plus `summary` and
/// `sender_change` (documented in docs/cli.md).
pub fn tx_json(raw: &serde_json::Value, events: &[TxEvent], sender: &str) -> serde_json::Value {
    let mut v = raw.clone();
    v["summary"] = summarize(events)
        .iter()
        .map(|t| {
            serde_json::json!({
                "rule": t.rule, "asset": t.asset,
                "total": t.total.to_string(), "members": t.members,
            })
        })
        .collect();
    let (rep, tok) = net_change(events, sender);
    v["sender_change"] =
        serde_json::json!({"reputation": rep.to_string(), "tokens": tok.to_string()});
    v
}

/// The human form of a final (or pending) transaction.
pub fn render_tx(
    tx: &TxStatus,
    events: &[TxEvent],
    sender: Option<&str>,
    names: &BTreeMap<String, String>,
) -> String {
    let mut out = Vec::new();
    match (tx.status.as_str(), tx.height) {
        ("final", Some(h)) => out.push(format!(
            "transaction {} final in block {h}{}",
            tx.hash,
            tx.index
                .map(|i| format!(" (index {i})"))
                .unwrap_or_default()
        )),
        (s, _) => out.push(format!("transaction {} {s}", tx.hash)),
    }
    if events.is_empty() {
        if tx.status == "final" {
            out.push("no balance changed".into());
        }
        return out.join("\n");
    }
    let mut t = Table::new(&[
        ("rule", Align::Left),
        ("asset", Align::Left),
        ("change", Align::Right),
        ("who", Align::Left),
        ("what it is", Align::Left),
    ]);
    for r in summarize(events) {
        let who = match r.members.as_slice() {
            [one] => super::label(names, one),
            many => format!("{} members", many.len()),
        };
        t.row(vec![
            r.rule.clone(),
            r.asset.clone(),
            output::signed(r.total),
            who,
            describe_rule(&r.rule).to_string(),
        ]);
    }
    out.push(t.render());
    if let Some(s) = sender {
        let (rep, tok) = net_change(events, s);
        out.push(format!(
            "signer {}: reputation {}, tokens {}",
            super::label(names, s),
            output::signed(rep),
            output::signed(tok)
        ));
    }
    out.join("\n")
}

/// One line on a contribution's progress after an evaluation.
pub fn contribution_line(c: &Contribution) -> String {
    if let Some(sealed) = c.sealed.as_ref().filter(|s| !s.is_null()) {
        let phase = sealed["phase"].as_str().unwrap_or("?");
        let settles_at = &sealed["settles_at"];
        return match phase {
            "settled" => format!(
                "contribution #{} (sealed): settled at height {settles_at}; minted {} tokens and {} reputation",
                c.id, c.minted_tokens, c.minted_reputation
            ),
            _ => {
                let n = sealed["commitments"].as_u64().unwrap_or_default();
                format!(
                    "contribution #{} (sealed): {phase} phase, {n} commitment{}; values stay hidden until it settles at height {settles_at}",
                    c.id,
                    if n == 1 { "" } else { "s" }
                )
            }
        };
    }
    let engaged = c
        .engaged_share
        .map(output::percent)
        .unwrap_or_else(|| "?".into());
    let median = match (c.median, c.median_max) {
        (Some(m), Some(mx)) => format!(", median {m} (highest {mx})"),
        (Some(m), None) => format!(", median {m}"),
        _ => String::new(),
    };
    format!(
        "contribution #{}: {engaged} of reputation engaged{median}; minted so far {} tokens and {} reputation",
        c.id, c.minted_tokens, c.minted_reputation
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(rule: &str, member: &str, asset: &str, amount: &str) -> TxEvent {
        TxEvent {
            rule: rule.into(),
            member: member.into(),
            asset: asset.into(),
            amount: amount.parse().expect("amount"),
            contribution: Some(0),
        }
    }

    #[test]
    fn events_are_summed_per_rule_and_asset() {
        let events = vec![
            ev("stake", "b", "reputation", "-0.5"),
            ev("redistribution", "a", "reputation", "0.1"),
            ev("redistribution", "c", "reputation", "0.2"),
            ev("contributor-reward", "k", "tokens", "10"),
            ev("contributor-reward", "k", "reputation", "7"),
        ];
        let s = summarize(&events);
        assert_eq!(s.len(), 4);
        assert_eq!(s[1].rule, "redistribution");
        assert_eq!(s[1].total, "0.3".parse().expect("0.3"));
        assert_eq!(s[1].members, vec!["a".to_string(), "c".to_string()]);
        assert_eq!(
            net_change(&events, "k"),
            (Amount::from_int(7), Amount::from_int(10))
        );
        let status = TxStatus {
            hash: "ab".repeat(32),
            status: "final".into(),
            height: Some(3),
            index: Some(0),
            events: Some(events.clone()),
        };
        let text = render_tx(&status, &events, Some("b"), &BTreeMap::new());
        assert!(text.contains("final in block 3 (index 0)"), "{text}");
        assert!(
            text.contains("redistribution      reputation    +0.3  2 members  shared"),
            "{text}"
        );
        let transfer = [
            ev("transfer", "a", "tokens", "-2.5"),
            ev("transfer", "b", "tokens", "2.5"),
        ];
        let rows = summarize(&transfer);
        assert_eq!(rows.len(), 2, "both sides of a transfer");
        assert_eq!(rows[1].total, "2.5".parse().expect("2.5"));
        assert!(
            text.contains("signer b: reputation -0.5, tokens 0"),
            "{text}"
        );
        let json = tx_json(&serde_json::json!({"hash": "x"}), &events, "k");
        assert_eq!(json["sender_change"]["tokens"], "10");
        assert_eq!(json["summary"][0]["rule"], "stake");
    }
}
