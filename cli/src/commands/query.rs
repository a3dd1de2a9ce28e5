//! Queries: `show account|contribution|block|tx`, `list contributions`.
//!
//! With `--output json` each prints the node's own object (`docs/api.md`), extended only by
//! the fields `docs/cli.md` lists, so scripts can rely on one documented shape.

use super::tx::{render_tx, tx_json};
use super::{label, Ctx};
use crate::cli::ShowCommand;
use crate::exit;
use crate::node::{Account, Block, Contribution, ContributionPage, HistoryEvent, TxStatus};
use crate::output::{self, Align, Table};

/// How many history lines `pov show account` prints (`pov explain --full` prints them all).
const RECENT: usize = 10;

/// Runs a `pov show` subcommand.
pub fn show(ctx: &Ctx, cmd: ShowCommand) -> anyhow::Result<i32> {
    match cmd {
        ShowCommand::Account { member } => account(ctx, &member),
        ShowCommand::Contribution { id } => contribution(ctx, id),
        ShowCommand::Block { height } => block(ctx, height),
        ShowCommand::Params => super::members::params(ctx),
        ShowCommand::Proposal { id } => super::governance::show(ctx, id),
        ShowCommand::Tx { hash } => {
            let client = ctx.client();
            let (tx, raw) = client.get::<TxStatus>(&format!("/tx/{}", hash.trim()))?;
            let events = tx.events.clone().unwrap_or_default();
            let sender = raw
                .get("tx")
                .and_then(|t| t.get("sender"))
                .and_then(|s| s.as_str())
                .map(str::to_string);
            if ctx.json() {
                output::json(&tx_json(
                    &raw,
                    &events,
                    sender.as_deref().unwrap_or_default(),
                ))?;
            } else {
                let mut names = ctx.names();
                super::learn_names(&mut names, &raw);
                output::line(&render_tx(&tx, &events, sender.as_deref(), &names))?;
            }
            Ok(exit::OK)
        }
    }
}

fn account(ctx: &Ctx, member: &str) -> anyhow::Result<i32> {
    let (address, _) = ctx.resolve_address(member)?;
    let client = ctx.client();
    let (acc, mut raw) = client.get::<Account>(&format!("/accounts/{address}"))?;
    let (events, raw_events) = client.history(&address.to_string(), 0)?;
    if ctx.json() {
        raw["history"] = serde_json::Value::Array(raw_events);
        output::json(&raw)?;
        return Ok(exit::OK);
    }
    let mut names = ctx.names();
    super::learn_names(&mut names, &raw);
    let mut pairs = vec![("address", acc.address.clone())];
    let name = names
        .get(&acc.address)
        .cloned()
        .or_else(|| acc.name.clone().filter(|n| !n.is_empty()));
    if let Some(n) = name {
        pairs.push(("name", n));
    }
    if let Some(id) = acc.member_id {
        pairs.push(("member id", id.to_string()));
    }
    pairs.push(("reputation", acc.reputation.to_string()));
    if let Some(share) = acc.share_of_reputation {
        pairs.push((
            "share",
            format!("{} of all reputation", output::percent(share)),
        ));
    }
    pairs.push(("tokens", acc.tokens.to_string()));
    pairs.push(("nonce", format!("{} (next {})", acc.nonce, acc.next_nonce)));
    pairs.push((
        "referrer",
        acc.referrer
            .as_deref()
            .map(|r| label(&names, r))
            .unwrap_or_else(|| "-".into()),
    ));
    if let Some(p) = &acc.provenance {
        pairs.push((
            "founded on",
            format!(
                "{} reputation proven at height {} of cooperative {} (proof {}), times {}",
                p.reputation,
                p.height,
                output::short(&p.source_genesis),
                output::short(&p.proof),
                p.scale
            ),
        ));
    }
    output::line(&output::fields(&pairs))?;
    if events.is_empty() {
        output::line("\nno balance changes since genesis")?;
    } else {
        let skip = events.len().saturating_sub(RECENT);
        output::line(&format!(
            "\nhistory ({} of {} changes; `pov explain {member}` explains them):",
            events.len() - skip,
            events.len()
        ))?;
        output::line(&history_table(&events[skip..]))?;
    }
    Ok(exit::OK)
}

pub(crate) fn history_table(events: &[HistoryEvent]) -> String {
    // Nodes that report the balance after each change get it shown: the line then explains
    // the balance itself, not only the change.
    let with_balance = events.iter().any(|e| e.balance_after.is_some());
    let mut columns = vec![
        ("height", Align::Right),
        ("rule", Align::Left),
        ("asset", Align::Left),
        ("amount", Align::Right),
    ];
    if with_balance {
        columns.push(("balance after", Align::Right));
    }
    columns.extend([("contribution", Align::Right), ("tx", Align::Left)]);
    let mut t = Table::new(&columns);
    for e in events {
        let mut row = vec![
            e.height.to_string(),
            e.rule.clone(),
            e.asset.clone(),
            output::signed(e.amount),
        ];
        if with_balance {
            row.push(e.balance_after.map(|b| b.to_string()).unwrap_or_default());
        }
        row.push(e.contribution.map(|c| format!("#{c}")).unwrap_or_default());
        row.push(e.tx_hash.as_deref().map(output::short).unwrap_or_default());
        t.row(row);
    }
    t.render()
}

fn contribution(ctx: &Ctx, id: u64) -> anyhow::Result<i32> {
    let (c, raw) = ctx
        .client()
        .get::<Contribution>(&format!("/contributions/{id}"))?;
    if ctx.json() {
        output::json(&raw)?;
        return Ok(exit::OK);
    }
    let mut names = ctx.names();
    super::learn_names(&mut names, &raw);
    let mut pairs = vec![
        ("contribution", format!("#{} {}", c.id, c.title)),
        ("kind", c.kind.clone()),
        (
            "contributor",
            format!("{} ({})", label(&names, &c.contributor), c.contributor),
        ),
    ];
    if !c.uri.is_empty() {
        pairs.push(("uri", c.uri.clone()));
    }
    if let Some(h) = &c.content_hash {
        pairs.push(("content hash", h.clone()));
    }
    if let Some(rule) = &c.reward_rule {
        pairs.push(("reward rule", rule.clone()));
    }
    // A sealed contribution has no live evaluation before it settles: its tally says nothing.
    let unsettled = raw["sealed"]["settlement"].is_null() && !raw["sealed"].is_null();
    let engaged = match (c.engaged_share, c.engaged_reputation) {
        (Some(s), Some(r)) => format!("{} of all reputation ({r})", output::percent(s)),
        (Some(s), None) => output::percent(s),
        (None, Some(r)) => r.to_string(),
        (None, None) => "-".into(),
    };
    if !unsettled {
        pairs.push(("engaged", engaged));
    }
    if let Some(m) = c.median.filter(|_| !unsettled) {
        pairs.push((
            "median",
            format!(
                "{m} now{}",
                c.median_max
                    .map(|x| format!(", highest reached {x}"))
                    .unwrap_or_default()
            ),
        ));
    }
    if let Some(s) = c.max_score {
        pairs.push(("best score", s.to_string()));
    }
    pairs.push((
        "minted",
        format!(
            "{} tokens, {} reputation",
            c.minted_tokens, c.minted_reputation
        ),
    ));
    if let Some(n) = c.evaluation_count.filter(|_| !unsettled) {
        pairs.push((
            "evaluations",
            format!("{n} processed, {} live", c.evaluations.len()),
        ));
    }
    let sealed = &raw["sealed"];
    if !sealed.is_null() {
        sealed_fields(sealed, &names, &mut pairs);
    }
    output::line(&output::fields(&pairs))?;
    if !sealed.is_null() {
        sealed_tables(sealed, &names)?;
        return Ok(exit::OK);
    }
    if !c.evaluations.is_empty() {
        let mut t = Table::new(&[
            ("seq", Align::Right),
            ("member", Align::Left),
            ("value", Align::Right),
        ]);
        for e in &c.evaluations {
            t.row(vec![
                e.seq.map(|s| s.to_string()).unwrap_or_default(),
                label(&names, &e.member),
                e.value.to_string(),
            ]);
        }
        output::line(&format!("\n{}", t.render()))?;
    }
    Ok(exit::OK)
}

/// A sealed contribution's phase, countdown, windows and commitments (protocol 1.2).
fn sealed_fields(
    sealed: &serde_json::Value,
    names: &std::collections::BTreeMap<String, String>,
    pairs: &mut Vec<(&'static str, String)>,
) {
    let n = |k: &str| sealed[k].as_u64().unwrap_or_default();
    let phase = sealed["phase"].as_str().unwrap_or_default();
    let left = n("blocks_left_in_phase");
    let plural = |k: u64| if k == 1 { "block" } else { "blocks" };
    let status = match phase {
        "commit" => format!(
            "commit: values are hidden; {left} {} left to commit (until height {}), then reveal until {}",
            plural(left),
            n("commit_ends"),
            n("reveal_ends")
        ),
        "reveal" => format!(
            "reveal: committers open their values; {left} {} left (until height {}), settles at {}",
            plural(left),
            n("reveal_ends"),
            n("settles_at")
        ),
        "settling" => format!("settling at the start of the next block ({})", n("settles_at")),
        _ => format!("settled at height {} and closed", n("settles_at")),
    };
    pairs.push(("sealed", status));
    pairs.push((
        "windows",
        format!(
            "commit {} blocks (to height {}), reveal {} blocks (to height {})",
            n("commit_blocks"),
            n("commit_ends"),
            n("reveal_blocks"),
            n("reveal_ends")
        ),
    ));
    let committers = sealed["committers"].as_array().cloned().unwrap_or_default();
    let opened = committers.iter().filter(|m| m["revealed"] == true).count();
    let who: Vec<String> = committers
        .iter()
        .map(|m| label(names, m["member"].as_str().unwrap_or_default()))
        .collect();
    pairs.push((
        "commitments",
        format!(
            "{} ({} revealed), engaging {} reputation now{}",
            committers.len(),
            opened,
            sealed["committed_reputation"].as_str().unwrap_or("0"),
            if who.is_empty() {
                String::new()
            } else {
                format!(": {}", who.join(", "))
            }
        ),
    ));
}

/// After settlement: each commitment's value (or forfeit) and what each rule did.
fn sealed_tables(
    sealed: &serde_json::Value,
    names: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let settlement = &sealed["settlement"];
    if settlement.is_null() {
        output::line("\nvalues stay hidden until settlement")?;
        return Ok(());
    }
    let n = |k: &str| settlement[k].as_u64().unwrap_or_default();
    output::line(&format!(
        "\nsettled at height {}: {} committed, {} revealed, {} forfeited (stake kept burned)",
        n("height"),
        n("committed"),
        n("revealed"),
        n("forfeited")
    ))?;
    let mut t = Table::new(&[
        ("order", Align::Right),
        ("member", Align::Left),
        ("value", Align::Right),
        ("r at commit", Align::Right),
    ]);
    for (i, v) in settlement["values"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        t.row(vec![
            (i + 1).to_string(),
            label(names, v["member"].as_str().unwrap_or_default()),
            v["value"]
                .as_i64()
                .map_or("forfeited".to_string(), |x| x.to_string()),
            v["recorded_reputation"].as_str().unwrap_or("-").to_string(),
        ]);
    }
    output::line(&format!("\n{}", t.render()))?;
    let events: Vec<crate::node::TxEvent> =
        serde_json::from_value(settlement["events"].clone()).unwrap_or_default();
    if events.is_empty() {
        output::line("\nsettlement changed no balance")?;
        return Ok(());
    }
    let mut t = Table::new(&[
        ("rule", Align::Left),
        ("asset", Align::Left),
        ("total", Align::Right),
        ("members", Align::Left),
    ]);
    for row in super::tx::summarize(&events) {
        t.row(vec![
            row.rule.clone(),
            row.asset.clone(),
            output::signed(row.total),
            row.members
                .iter()
                .map(|m| label(names, m))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    output::line(&format!("\nwhat settlement did:\n{}", t.render()))?;
    Ok(())
}

fn block(ctx: &Ctx, height: u64) -> anyhow::Result<i32> {
    let (b, raw) = ctx.client().get::<Block>(&format!("/blocks/{height}"))?;
    if ctx.json() {
        output::json(&raw)?;
        return Ok(exit::OK);
    }
    let mut pairs = vec![("height", b.height.to_string()), ("hash", b.hash.clone())];
    let mut header_fields: Vec<(String, String)> = Vec::new();
    if let Some(h) = b.header.as_object() {
        for (k, v) in h {
            if k == "height" {
                continue;
            }
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "-".into(),
                other => other.to_string(),
            };
            let text = if k == "time_ms" {
                v.as_u64()
                    .map(|ms| format!("{ms} ({})", utc(ms)))
                    .unwrap_or(text)
            } else {
                text
            };
            header_fields.push((k.replace('_', " "), text));
        }
    }
    for (k, v) in &header_fields {
        pairs.push((k.as_str(), v.clone()));
    }
    if let Some(cert) = &b.certificate {
        let sigs = cert
            .get("signatures")
            .and_then(|s| s.as_array())
            .map_or(0, Vec::len);
        let round = cert.get("round").map(|r| r.to_string()).unwrap_or_default();
        pairs.push(("certificate", format!("round {round}, {sigs} signature(s)")));
    }
    pairs.push(("transactions", b.txs.len().to_string()));
    output::line(&output::fields(&pairs))?;
    for tx in &b.txs {
        output::line(&format!("  {tx}"))?;
    }
    Ok(exit::OK)
}

/// `pov list contributions`.
pub fn list_contributions(
    ctx: &Ctx,
    open: bool,
    by: Option<String>,
    limit: u64,
) -> anyhow::Result<i32> {
    let by = by.map(|b| ctx.resolve_address(&b)).transpose()?;
    let client = ctx.client();
    let mut items: Vec<serde_json::Value> = Vec::new();
    let mut typed: Vec<Contribution> = Vec::new();
    let mut after: Option<u64> = None;
    while (typed.len() as u64) < limit {
        let page_size = (limit - typed.len() as u64).min(500);
        let mut path = format!("/contributions?limit={page_size}");
        if open {
            path.push_str("&open=true");
        }
        if let Some((a, _)) = &by {
            path.push_str(&format!("&by={a}"));
        }
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        let (page, raw) = client.get::<ContributionPage>(&path)?;
        if let Some(raw_items) = raw.get("items").and_then(|i| i.as_array()) {
            items.extend(raw_items.iter().cloned());
        }
        let empty = page.items.is_empty();
        typed.extend(page.items);
        match page.next {
            Some(n) if !empty => after = Some(n),
            _ => break,
        }
    }
    items.truncate(limit as usize);
    typed.truncate(limit as usize);
    if ctx.json() {
        output::json(&serde_json::json!({"count": items.len(), "items": items}))?;
        return Ok(exit::OK);
    }
    if typed.is_empty() {
        output::line("no contributions")?;
        return Ok(exit::OK);
    }
    let mut names = ctx.names();
    for item in &items {
        super::learn_names(&mut names, item);
    }
    let mut t = Table::new(&[
        ("id", Align::Right),
        ("kind", Align::Left),
        ("title", Align::Left),
        ("contributor", Align::Left),
        ("evals", Align::Right),
        ("engaged", Align::Right),
        ("median", Align::Right),
        ("minted tokens", Align::Right),
    ]);
    for c in &typed {
        let title: String = if c.title.chars().count() > 40 {
            format!("{}…", c.title.chars().take(39).collect::<String>())
        } else {
            c.title.clone()
        };
        t.row(vec![
            c.id.to_string(),
            c.kind.clone(),
            title,
            label(&names, &c.contributor),
            c.evaluations.len().to_string(),
            c.engaged_share.map(output::percent).unwrap_or_default(),
            c.median.map(|m| m.to_string()).unwrap_or_default(),
            c.minted_tokens.to_string(),
        ]);
    }
    output::line(&t.render())?;
    Ok(exit::OK)
}

/// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use pov_protocol::Amount;

    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(1_767_225_600_000), "2026-01-01T00:00:00.000Z");
        assert_eq!(utc(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }

    #[test]
    fn history_lines_show_height_rule_asset_amount_contribution_and_tx() {
        let e = HistoryEvent {
            height: 7,
            tx_hash: Some("ab".repeat(32)),
            rule: "contributor-reward".into(),
            asset: "tokens".into(),
            amount: Amount::from_int(10),
            contribution: Some(0),
            balance_after: None,
        };
        let text = history_table(std::slice::from_ref(&e));
        assert_eq!(
            text.lines().nth(1),
            Some("     7  contributor-reward  tokens     +10            #0  abababab…")
        );
        let with_balance = HistoryEvent {
            balance_after: Some(Amount::from_int(18)),
            ..e
        };
        let text = history_table(&[with_balance]);
        assert!(
            text.starts_with("HEIGHT  RULE                ASSET   AMOUNT  BALANCE AFTER"),
            "{text}"
        );
        assert!(
            text.lines()
                .nth(1)
                .is_some_and(|l| l.contains("+10             18")),
            "{text}"
        );
    }
}
