//! Parameter changes by Proof-of-Value (spec section 11): `pov propose`, `pov show proposal`,
//! `pov list proposals`.
//!
//! `propose` reads each `--set PATH=VALUE` as the protocol reads a change, and applies the
//! changes to the parameters in force (`GET /params`) with the protocol's own validation
//! before anything is signed, so a proposal the chain would refuse costs nothing and says
//! why. The node checks again at submission: the rules may change between the two.

use pov_protocol::governance::{apply_changes, ParamChange};
use pov_protocol::{Params, TxBody};
use serde_json::Value;

use super::{label, Ctx};
use crate::cli::TxArgs;
use crate::exit::{self, InvalidInput};
use crate::node::{Proposal, ProposalPage};
use crate::output::{self, Align, Table};

/// `pov propose --set PATH=VALUE ... --title T [--uri U]`.
pub fn propose(
    ctx: &Ctx,
    sets: &[String],
    title: String,
    uri: Option<String>,
    args: &TxArgs,
) -> anyhow::Result<i32> {
    let changes = parse_sets(sets)?;
    check_against_node(ctx, &changes)?;
    super::tx::submit(
        ctx,
        args,
        TxBody::ProposeParams {
            title,
            uri: uri.unwrap_or_default(),
            changes,
        },
    )
}

/// Reads `PATH=VALUE` arguments as changes, naming the argument at fault.
fn parse_sets(sets: &[String]) -> anyhow::Result<Vec<ParamChange>> {
    sets.iter()
        .map(|set| {
            let (path, value) = set.split_once('=').ok_or_else(|| {
                InvalidInput(format!(
                    "--set {set:?}: expected PATH=VALUE, like types.work.fee=2 (nothing was signed)"
                ))
            })?;
            ParamChange::parse(path.trim(), value).map_err(|e| {
                InvalidInput(format!("--set {set:?}: {e} (nothing was signed)")).into()
            })
        })
        .collect()
}

/// Refuses, before signing, changes the chain would refuse: governance switched off, a path
/// that names nothing, or rules that would not make a valid genesis. A node that does not
/// serve its parameters is left to judge.
fn check_against_node(ctx: &Ctx, changes: &[ParamChange]) -> anyhow::Result<()> {
    let raw = match ctx.client().get_value("/params") {
        Ok(raw) => raw,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let Some(params) = raw
        .get("params")
        .cloned()
        .and_then(|p| serde_json::from_value::<Params>(p).ok())
    else {
        return Ok(());
    };
    if !params.governance.enabled {
        return Err(InvalidInput(
            "this cooperative has switched parameter proposals off (governance.enabled is false) \
             (nothing was signed)"
                .into(),
        )
        .into());
    }
    apply_changes(&params, changes)
        .map_err(|e| InvalidInput(format!("{e} (nothing was signed)")))?;
    Ok(())
}

/// One line on where a proposal stands, for `pov evaluate` and `pov list proposals`.
pub fn progress_line(p: &Proposal) -> String {
    let accepted = output::percent(p.accepted_share);
    let line = match p.status.as_str() {
        "applied" => format!(
            "passed in block {} with {accepted} of all reputation accepting; in force from block {}",
            p.passed_at.unwrap_or_default(),
            p.applied.as_ref().map_or(0, |a| a.height)
        ),
        "passed" => format!(
            "passed in block {} with {accepted} of all reputation accepting; in force from block {}",
            p.passed_at.unwrap_or_default(),
            p.passed_at.unwrap_or_default() + 1
        ),
        "void" => format!(
            "passed in block {}, but void: {}",
            p.passed_at.unwrap_or_default(),
            p.void
                .as_ref()
                .and_then(|v| v.reason.clone())
                .unwrap_or_else(|| "its changes no longer made valid parameters".into())
        ),
        "expired" => format!(
            "expired after block {} with {accepted} of all reputation accepting (it needed {})",
            p.expires_at,
            output::percent(p.pass_share)
        ),
        _ => format!(
            "{accepted} of all reputation accepts, {} rejects; it passes at {}; evaluations until block {}",
            output::percent(p.rejected_share),
            output::percent(p.pass_share),
            p.expires_at
        ),
    };
    format!("proposal #{}: {line}", p.id)
}

/// A parameter value as one line: strings bare, the rest as compact JSON.
fn value_text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// `pov show proposal ID`.
pub fn show(ctx: &Ctx, id: u64) -> anyhow::Result<i32> {
    let (p, raw) = ctx.client().get::<Proposal>(&format!("/proposals/{id}"))?;
    if ctx.json() {
        output::json(&raw)?;
        return Ok(exit::OK);
    }
    let mut names = ctx.names();
    super::learn_names(&mut names, &raw);
    let mut pairs = vec![
        ("proposal", format!("#{} {}", p.id, p.title)),
        (
            "proposer",
            format!("{} ({})", label(&names, &p.proposer), p.proposer),
        ),
    ];
    if !p.uri.is_empty() {
        pairs.push(("uri", p.uri.clone()));
    }
    pairs.push(("submitted", format!("in block {}", p.height)));
    let status = match p.status.as_str() {
        "applied" => format!(
            "applied: passed in block {}, in force from block {}",
            p.passed_at.unwrap_or_default(),
            p.applied.as_ref().map_or(0, |a| a.height)
        ),
        "passed" => format!(
            "passed in block {}: in force from block {}",
            p.passed_at.unwrap_or_default(),
            p.passed_at.unwrap_or_default() + 1
        ),
        "void" => format!(
            "void: passed in block {}, but at block {} {}",
            p.passed_at.unwrap_or_default(),
            p.void.as_ref().map_or(0, |v| v.height),
            p.void
                .as_ref()
                .and_then(|v| v.reason.clone())
                .unwrap_or_else(|| "its changes no longer made valid parameters".into())
        ),
        "expired" => format!(
            "expired: evaluations were accepted up to block {}",
            p.expires_at
        ),
        _ => format!("open: evaluations accepted up to block {}", p.expires_at),
    };
    pairs.push(("status", status));
    pairs.push((
        "accepted",
        format!(
            "{} of all reputation ({}); it passes at {}",
            output::percent(p.accepted_share),
            p.accepted_reputation,
            output::percent(p.pass_share)
        ),
    ));
    pairs.push((
        "rejected",
        format!("{} of all reputation", output::percent(p.rejected_share)),
    ));
    output::line(&output::fields(&pairs))?;
    let mut t = match &p.applied {
        Some(applied) => {
            let mut t = Table::new(&[
                ("path", Align::Left),
                ("before", Align::Left),
                ("after", Align::Left),
            ]);
            for c in &applied.changes {
                t.row(vec![
                    c.path.clone(),
                    value_text(c.old.as_ref()),
                    value_text(Some(&c.new)),
                ]);
            }
            t
        }
        None => {
            let mut t = Table::new(&[
                ("path", Align::Left),
                ("proposed", Align::Left),
                ("in force now", Align::Left),
            ]);
            for c in &p.changes {
                t.row(vec![
                    c.path.clone(),
                    value_text(Some(&c.value)),
                    value_text(c.now.as_ref()),
                ]);
            }
            t
        }
    };
    output::line(&format!("\n{}", t.render()))?;
    if !p.evaluations.is_empty() {
        t = Table::new(&[
            ("seq", Align::Right),
            ("member", Align::Left),
            ("value", Align::Left),
        ]);
        for e in &p.evaluations {
            t.row(vec![
                e.seq.map(|s| s.to_string()).unwrap_or_default(),
                label(&names, &e.member),
                match e.value {
                    1 => "1 (accept)".into(),
                    0 => "0 (reject)".into(),
                    v => v.to_string(),
                },
            ]);
        }
        output::line(&format!("\n{}", t.render()))?;
    }
    Ok(exit::OK)
}

/// `pov list proposals [--status S]`.
pub fn list(ctx: &Ctx, status: Option<&str>, limit: u64) -> anyhow::Result<i32> {
    let client = ctx.client();
    let mut items = Vec::new();
    let mut raw_items = Vec::new();
    let mut after: Option<u64> = None;
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    while items.len() < limit {
        let mut path = format!("/proposals?limit={}", limit.min(500));
        if let Some(s) = status {
            path.push_str(&format!("&status={s}"));
        }
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        let (page, raw) = client.get::<ProposalPage>(&path)?;
        if let Some(list) = raw.get("items").and_then(Value::as_array) {
            raw_items.extend(list.iter().cloned());
        }
        items.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    items.truncate(limit);
    raw_items.truncate(limit);
    if ctx.json() {
        output::json(&serde_json::json!({ "items": raw_items }))?;
        return Ok(exit::OK);
    }
    if items.is_empty() {
        output::line("no proposals")?;
        return Ok(exit::OK);
    }
    let mut t = Table::new(&[
        ("id", Align::Right),
        ("status", Align::Left),
        ("accepted", Align::Right),
        ("changes", Align::Left),
        ("title", Align::Left),
    ]);
    for p in &items {
        t.row(vec![
            p.id.to_string(),
            p.status.clone(),
            output::percent(p.accepted_share),
            p.changes
                .iter()
                .map(|c| format!("{}={}", c.path, value_text(Some(&c.value))))
                .collect::<Vec<_>>()
                .join(" "),
            p.title.clone(),
        ]);
    }
    output::line(&t.render())?;
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_read_as_protocol_changes_and_bad_ones_name_the_argument() {
        let changes = parse_sets(&[
            "types.work.fee=2".to_string(),
            "governance.enabled=false".to_string(),
        ])
        .expect("valid");
        assert_eq!(changes[0].path, "types.work.fee");
        assert_eq!(changes[0].value.to_string(), "2");
        assert_eq!(changes[1].value.to_string(), "false");
        for (bad, want) in [
            ("types.work.fee", "expected PATH=VALUE"),
            ("types.work.colour=2", "unknown parameter path"),
            ("types.work.fee=lots", "is not an amount"),
        ] {
            let err = parse_sets(&[bad.to_string()]).expect_err(bad).to_string();
            assert!(err.contains(want) && err.contains(bad), "{bad}: {err}");
        }
    }
}
