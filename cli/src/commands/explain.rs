//! `pov explain`: why a member's balances are what they are.
//!
//! By default a few lines a person reads: the node's grouping
//! (`GET /accounts/{address}/explain`, computed by `pov_protocol::explain`) of every change
//! by contribution and rule, with exact totals that add up to the balance. `--full` lists
//! every change, line by line, as the node's history holds it.

use std::collections::BTreeMap;

use pov_protocol::explain::{Explanation, RuleTotal};
use pov_protocol::{Amount, Asset, Rule};

use super::query::history_table;
use super::tx::describe_rule;
use super::Ctx;
use crate::exit;
use crate::node::{Account, History};
use crate::output::{self, Align, Table};

/// Contributions listed one by one by default: with the header, the other contributions,
/// the changes tied to no contribution and the totals by rule, the whole fits on a screen.
pub const DEFAULT_LIMIT: usize = 10;

/// The node's answer: the explanation and what the node adds to it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Explained {
    /// The grouping.
    #[serde(flatten)]
    pub explanation: Explanation,
    /// The member's address.
    pub address: String,
    /// Its name on chain, if any.
    #[serde(default)]
    pub name: Option<String>,
    /// The first block counted.
    pub since: u64,
}

/// `pov explain MEMBER [--since H] [--limit N] [--full]`.
pub fn explain(
    ctx: &Ctx,
    member: &str,
    since: u64,
    limit: Option<usize>,
    full: bool,
) -> anyhow::Result<i32> {
    if full {
        return explain_full(ctx, member, since);
    }
    let (address, name) = ctx.resolve_address(member)?;
    let client = ctx.client();
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    let (explained, raw) = client.get::<Explained>(&format!(
        "/accounts/{address}/explain?since={since}&limit={limit}"
    ))?;
    if ctx.json() {
        output::json(&raw)?;
        return Ok(exit::OK);
    }
    let who = match name.or_else(|| explained.name.clone().filter(|n| !n.is_empty())) {
        Some(n) => format!("{n} ({})", output::short(&explained.address)),
        None => output::short(&explained.address),
    };
    output::line(&render(&explained, &who, member))?;
    Ok(exit::OK)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `3.87 reputation`, or `1 token` / `2.5 tokens`, without a sign.
fn quantity(amount: Amount, asset: Asset) -> String {
    let abs = if amount.is_negative() {
        Amount::ZERO.checked_sub(amount).unwrap_or(amount)
    } else {
        amount
    };
    match asset {
        Asset::Reputation => format!("{abs} reputation"),
        Asset::Tokens if abs == Amount::ONE => "1 token".to_string(),
        Asset::Tokens => format!("{abs} tokens"),
    }
}

/// `+7 reputation, +10 tokens`: the signed totals of one rule's assets.
fn signed_assets(totals: &[&RuleTotal]) -> String {
    totals
        .iter()
        .map(|t| match t.asset {
            Asset::Reputation => format!("{} reputation", output::signed(t.total)),
            Asset::Tokens => format!("{} tokens", output::signed(t.total)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One rule's changes in words, from the member's side ("staked 0.21 reputation when you
/// evaluated it 4"). `value` is the member's evaluation of the contribution, when the
/// phrase is about one contribution.
pub fn phrase(rule: Rule, totals: &[&RuleTotal], value: Option<i64>) -> String {
    let count = totals.iter().map(|t| t.count).max().unwrap_or(0);
    let Some(t) = totals.first().copied() else {
        return String::new();
    };
    let qty = quantity(t.total, t.asset);
    match rule {
        Rule::Fee if count == 1 => format!("paid a fee of {qty}"),
        Rule::Fee => format!("paid {count} fees: {qty}"),
        Rule::Stake => match (count, value) {
            (1, Some(v)) => format!("staked {qty} when you evaluated it {v}"),
            (1, None) => format!("staked {qty} on an evaluation"),
            _ => format!("staked {qty} in {count} evaluations"),
        },
        Rule::Redistribution => format!(
            "{} who agreed with you added {qty}",
            plural(count, "later evaluator", "later evaluators")
        ),
        Rule::ContributorReward => {
            format!(
                "minted for you as its contributor: {}",
                signed_assets(totals)
            )
        }
        Rule::Referral => format!(
            "your share of {} by members you referred: {}",
            plural(count, "gain", "gains"),
            signed_assets(totals)
        ),
        Rule::EvaluatorFund => format!(
            "{} from its evaluator fund: {}",
            plural(count, "payment", "payments"),
            signed_assets(totals)
        ),
        Rule::Transfer => format!(
            "{}: {}",
            plural(count, "transfer", "transfers"),
            signed_assets(totals)
        ),
        Rule::Admission => format!("admission grant: {}", signed_assets(totals)),
    }
}

/// The phrases of a group's rules, in rule order, joined by `; `.
pub fn phrases(rules: &[RuleTotal], value: Option<i64>) -> String {
    let mut by_rule: BTreeMap<Rule, Vec<&RuleTotal>> = BTreeMap::new();
    for r in rules {
        by_rule.entry(r.rule).or_default().push(r);
    }
    by_rule
        .iter()
        .map(|(rule, totals)| phrase(*rule, totals, value))
        .collect::<Vec<_>>()
        .join("; ")
}

/// A title as one short line: control characters dropped, at most 40 characters.
fn short_title(title: &str) -> String {
    let clean: String = title.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() > 40 {
        format!("{}…", clean.chars().take(39).collect::<String>())
    } else {
        clean
    }
}

/// The default, readable form.
pub fn render(e: &Explained, who: &str, member_arg: &str) -> String {
    let x = &e.explanation;
    let mut out = vec![format!(
        "{who}: reputation {} -> {}, tokens {} -> {} since block {} ({})",
        x.opening.reputation,
        x.closing.reputation,
        x.opening.tokens,
        x.closing.tokens,
        e.since,
        plural(x.changes, "change", "changes"),
    )];
    if x.changes == 0 {
        out.push("no changes".into());
        return out.join("\n");
    }
    out.push(String::new());
    for c in &x.contributions {
        let mine = if c.contributor { " (yours)" } else { "" };
        out.push(format!(
            "#{} \"{}\"{mine}: {}",
            c.id,
            short_title(&c.title),
            phrases(&c.rules, c.value)
        ));
    }
    let other = &x.other_contributions;
    if other.contributions > 0 {
        out.push(format!(
            "{}: {}",
            plural(
                other.contributions,
                "more contribution",
                "more contributions"
            ),
            phrases(&other.rules, None)
        ));
    }
    if !x.unattached.is_empty() {
        out.push(format!(
            "not through a contribution: {}",
            phrases(&x.unattached, None)
        ));
    }
    let mut t = Table::new(&[
        ("rule", Align::Left),
        ("reputation", Align::Right),
        ("tokens", Align::Right),
        ("changes", Align::Right),
    ]);
    let mut rows: BTreeMap<Rule, (Amount, Amount, u64)> = BTreeMap::new();
    for r in &x.by_rule {
        let row = rows
            .entry(r.rule)
            .or_insert((Amount::ZERO, Amount::ZERO, 0));
        match r.asset {
            Asset::Reputation => row.0 = r.total,
            Asset::Tokens => row.1 = r.total,
        }
        row.2 = row.2.saturating_add(r.count);
    }
    let cell = |a: Amount| {
        if a.is_zero() {
            String::new()
        } else {
            output::signed(a)
        }
    };
    for (rule, (rep, tok, n)) in &rows {
        t.row(vec![
            rule.name().to_string(),
            cell(*rep),
            cell(*tok),
            n.to_string(),
        ]);
    }
    let net_rep = x
        .closing
        .reputation
        .checked_sub(x.opening.reputation)
        .unwrap_or(Amount::ZERO);
    let net_tok = x
        .closing
        .tokens
        .checked_sub(x.opening.tokens)
        .unwrap_or(Amount::ZERO);
    t.row(vec![
        "total".into(),
        output::signed(net_rep),
        output::signed(net_tok),
        x.changes.to_string(),
    ]);
    out.push(String::new());
    out.push(t.render());
    let mut hint = format!("`pov explain {member_arg} --full` lists every change");
    if other.contributions > 0 {
        hint.push_str(&format!(
            "; `--limit {}` lists every contribution",
            x.contributions.len() as u64 + other.contributions
        ));
    }
    out.push(format!("\n{hint}."));
    out.join("\n")
}

/// What each rule means, for the rules that appear.
fn rules_legend<'a>(rules: impl Iterator<Item = &'a str>) -> Option<String> {
    let rules: BTreeMap<&str, &str> = rules.map(|r| (r, describe_rule(r))).collect();
    if rules.is_empty() {
        return None;
    }
    let width = rules.keys().map(|r| r.len()).max().unwrap_or(0);
    let lines: Vec<String> = rules
        .iter()
        .map(|(r, d)| format!("  {r:<width$}  {d}"))
        .collect();
    Some(format!("\nrules:\n{}", lines.join("\n")))
}

/// `pov explain --full`: every change of a member's balances since a height, with its rule.
fn explain_full(ctx: &Ctx, member: &str, since: u64) -> anyhow::Result<i32> {
    let (address, name) = ctx.resolve_address(member)?;
    let client = ctx.client();
    let (acc, raw_acc) = client.get::<Account>(&format!("/accounts/{address}"))?;
    let name = name.or_else(|| acc.name.clone().filter(|n| !n.is_empty()));
    let (events, raw_events) = client.history(&address.to_string(), since)?;
    let history = History { events, next: None };
    let mut net_rep = Amount::ZERO;
    let mut net_tok = Amount::ZERO;
    for e in &history.events {
        let slot = if e.asset == "reputation" {
            &mut net_rep
        } else {
            &mut net_tok
        };
        *slot = slot.checked_add(e.amount)?;
    }
    if ctx.json() {
        let mut v = serde_json::json!({
            "address": address.to_string(),
            "since": since,
            "events": raw_events,
            "net": {"reputation": net_rep.to_string(), "tokens": net_tok.to_string()},
            "balance": {
                "reputation": raw_acc.get("reputation").cloned().unwrap_or_default(),
                "tokens": raw_acc.get("tokens").cloned().unwrap_or_default(),
            },
        });
        if let Some(n) = name {
            v["name"] = n.into();
        }
        output::json(&v)?;
        return Ok(exit::OK);
    }
    let who = match &name {
        Some(n) => format!("{n} ({address})"),
        None => address.to_string(),
    };
    output::line(&format!(
        "{who}: every change of reputation and tokens since block {since}"
    ))?;
    if history.events.is_empty() {
        output::line("no changes")?;
    } else {
        output::line(&format!("\n{}", history_table(&history.events)))?;
    }
    output::line(&format!(
        "\nnet since block {since}: reputation {}, tokens {}\nnow: reputation {}, tokens {}",
        output::signed(net_rep),
        output::signed(net_tok),
        acc.reputation,
        acc.tokens
    ))?;
    if let Some(legend) = rules_legend(history.events.iter().map(|e| e.rule.as_str())) {
        output::line(&legend)?;
    }
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use pov_crypto::Keypair;
    use pov_protocol::explain::{Balances, Explainer};
    use pov_protocol::test_utils::genesis_with_members;
    use pov_protocol::{Transaction, TxBody};

    use super::*;

    /// Rows the text takes on a terminal `columns` wide (long lines wrap).
    fn rows(text: &str, columns: usize) -> usize {
        text.lines()
            .map(|l| l.chars().count().div_ceil(columns).max(1))
            .sum()
    }

    /// The benchmark's cooperative (1,000 members, 30 contributions, each evaluated by many
    /// members with clustered values) through the real state machine; the explanation of
    /// one member who contributed once and evaluated every contribution, through the same
    /// grouping the node serves, rendered as `pov explain` prints it by default.
    ///
    /// What the default output's length depends on is the number of contributions and
    /// rules, not the number of evaluations: `evaluators` only sets how many redistribution
    /// lines `--full` would print.
    fn benchmark_explanation(evaluators: u32) -> (String, u64) {
        let genesis = genesis_with_members(1000);
        let mut state = genesis.state().expect("genesis");
        let chain = state.chain_id().to_string();
        let genesis_hash = *state.genesis_hash();
        let subject = 500u32;
        let mut nonces = vec![0u64; 1000];
        let mut explainer = Explainer::new(subject);
        let mut apply = |state: &mut pov_protocol::State, who: u32, body: TxBody| {
            nonces[who as usize] += 1;
            let tx = Transaction::sign(
                &Keypair::dev(who),
                &chain,
                &genesis_hash,
                nonces[who as usize],
                body,
            );
            for e in state.apply(&tx).expect("applies") {
                explainer.add(&e).expect("sum");
            }
        };
        for c in 0..30u32 {
            let who = if c == 7 { subject } else { c };
            apply(
                &mut state,
                who,
                TxBody::Contribute {
                    kind: "work".into(),
                    title: format!("Contribution number {c} with a fairly long title"),
                    uri: format!("https://example.org/{c}"),
                    content_hash: None,
                },
            );
        }
        for c in 0..30u64 {
            // The subject evaluates early, so later evaluators who agree share with it.
            let mut order: Vec<u32> = (600..600 + evaluators).collect();
            order.insert(3, subject);
            for (i, who) in order.into_iter().enumerate() {
                let value = [3, 4, 4, 4, 5, 2][(i + c as usize) % 6];
                apply(
                    &mut state,
                    who,
                    TxBody::Evaluate {
                        contribution: c,
                        value,
                    },
                );
            }
        }
        let g = &genesis.members[subject as usize];
        let opening = Balances {
            reputation: g.reputation,
            tokens: g.tokens,
        };
        let explanation = explainer
            .finish(opening, &state, DEFAULT_LIMIT)
            .expect("explanation");
        let member = state.member(subject).expect("member");
        assert_eq!(
            (explanation.closing.reputation, explanation.closing.tokens),
            (member.reputation, member.tokens),
            "the figures add up to the balance"
        );
        let changes = explanation.changes;
        let explained = Explained {
            explanation,
            address: member.address.to_string(),
            name: Some(member.name.clone()),
            since: 0,
        };
        (render(&explained, "m500 (abcdef12…)", "m500"), changes)
    }

    #[test]
    fn explain_for_a_member_of_the_benchmark_cooperative_fits_on_one_screen() {
        let (text, changes) = benchmark_explanation(60);
        assert!(changes > 500, "a long history: {changes} changes");
        println!("{text}");
        assert!(
            rows(&text, 100) <= 40,
            "{} rows on a 100-column terminal:\n{text}",
            rows(&text, 100)
        );
        assert!(text.contains("20 more contributions:"), "{text}");
        assert!(
            text.contains("staked") && text.contains("later evaluators who agreed with you added"),
            "{text}"
        );
        // Twice the evaluators, twice the changes or more: the same screen.
        let (longer, more) = benchmark_explanation(120);
        assert!(more > 2 * changes);
        assert_eq!(longer.lines().count(), text.lines().count());
    }
}
