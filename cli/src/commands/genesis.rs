//! `pov genesis`: form a cooperative. Write a genesis with the defaults, add members and
//! validators, set parameters, check it, show it.
//!
//! Editing commands load the file without the semantic checks (a genesis in progress has
//! no members yet), apply one change, and refuse it if it breaks a rule *of the field it
//! changed* (a stake of 2, a duplicate member); problems elsewhere (no validator yet) are
//! listed as what is still to do. The file is rewritten in the canonical layout of
//! `Genesis::to_toml`, so comments in it are not kept.

use std::path::Path;

use pov_protocol::genesis::{
    Genesis, GenesisError, GenesisMember, GenesisValidator, MemberProvenance, Problem,
};
use pov_protocol::proof::ReputationProof;
use pov_protocol::{Admission, Amount, Params, Revote, RewardRule, Sealed, TypeParams};

use crate::cli::GenesisCommand;
use crate::exit::{self, InvalidInput};
use crate::output;

/// Runs a `pov genesis` subcommand.
pub fn run(ctx: &super::Ctx, cmd: GenesisCommand) -> anyhow::Result<i32> {
    match cmd {
        GenesisCommand::Validate {
            file,
            proofs,
            source_genesis,
        } => validate(ctx, &file, proofs.as_deref(), &source_genesis),
        GenesisCommand::ImportMember {
            proof,
            source_genesis,
            scale,
            name,
            tokens,
            genesis,
        } => {
            let source = super::proofs::read_genesis(&source_genesis)?;
            let (proof_doc, proven) = super::proofs::read_and_verify(&proof, &source)?;
            let scale = amount("--scale", &scale)?;
            if scale.is_negative() {
                return Err(InvalidInput(format!("--scale {scale}: must not be negative")).into());
            }
            let tokens = amount("--tokens", &tokens)?;
            let provenance = MemberProvenance {
                source_genesis: proven.genesis_hash,
                height: proven.height,
                proof: proof_doc.hash(),
                reputation: proven.reputation,
                scale,
            };
            let reputation = provenance
                .scaled()
                .map_err(|e| InvalidInput(format!("--scale: {e}")))?;
            let name = match name {
                Some(n) => n,
                None if !proven.name.is_empty() => proven.name.clone(),
                None => {
                    return Err(InvalidInput(format!(
                        "member {} has no name in {}: give it a --name",
                        proven.member, proven.chain_id
                    ))
                    .into())
                }
            };
            let mut g = load(&genesis)?;
            let at = format!("members[{}]", g.members.len());
            g.members.push(GenesisMember {
                public_key: proven.member,
                name: name.clone(),
                reputation,
                tokens,
                provenance: Some(provenance),
            });
            let what = format!(
                "added member {name} ({}) with {reputation} reputation ({} proven in {} at height {}, times {scale}) and {tokens} tokens",
                proven.member, proven.reputation, proven.chain_id, proven.height
            );
            let code = commit(ctx, &genesis, g, &[at], what)?;
            if !ctx.json() {
                output::note(&format!(
                    "keep {} with the genesis: `pov genesis validate --proofs DIR --source-genesis {}` re-checks the provenance against it",
                    proof.display(),
                    source_genesis.display()
                ));
            }
            Ok(code)
        }
        GenesisCommand::Show { file, dev } => show(ctx, &file, dev),
        GenesisCommand::Fetch { genesis, force } => fetch(ctx, &genesis, force),
        GenesisCommand::New {
            chain_id,
            genesis_time,
            genesis,
            force,
        } => new(ctx, chain_id, genesis_time, &genesis, force),
        GenesisCommand::AddMember {
            member,
            reputation,
            tokens,
            name,
            genesis,
        } => {
            let (address, key_name) = ctx.resolve_local(&member)?;
            let name = name.or(key_name).ok_or_else(|| {
                InvalidInput(format!("{member} is an address: give the member a --name"))
            })?;
            let reputation = amount("--reputation", &reputation)?;
            let tokens = amount("--tokens", &tokens)?;
            let mut g = load(&genesis)?;
            let at = format!("members[{}]", g.members.len());
            g.members.push(GenesisMember {
                public_key: address,
                name: name.clone(),
                reputation,
                tokens,
                provenance: None,
            });
            let what = format!(
                "added member {name} ({address}) with {reputation} reputation and {tokens} tokens"
            );
            commit(ctx, &genesis, g, &[at], what)
        }
        GenesisCommand::AddValidator {
            validator,
            power,
            addr,
            genesis,
        } => {
            let (address, _) = ctx.resolve_local(&validator)?;
            let mut g = load(&genesis)?;
            let at = format!("validators[{}]", g.validators.len());
            g.validators.push(GenesisValidator {
                public_key: address,
                power,
                addr: addr.clone(),
            });
            let what = format!(
                "added validator {address} with power {power}{}",
                addr.map(|a| format!(" at {a}")).unwrap_or_default()
            );
            commit(ctx, &genesis, g, &[at], what)
        }
        GenesisCommand::SetParam {
            key,
            value,
            genesis,
        } => {
            let mut g = load(&genesis)?;
            let (field, notes) = set_param(&mut g.params, &key, &value)?;
            for n in notes {
                output::note(&format!("note: {n}"));
            }
            let what = format!("set {field} = {value}");
            commit(ctx, &genesis, g, &[field], what)
        }
    }
}

/// `pov genesis fetch`: the node's genesis, checked (valid, and hashing to what the node
/// says), saved atomically.
fn fetch(ctx: &super::Ctx, path: &Path, force: bool) -> anyhow::Result<i32> {
    let client = ctx.client();
    let answer = client.get_value("/genesis")?;
    let text = answer
        .get("toml")
        .and_then(|t| t.as_str())
        .ok_or_else(|| anyhow::anyhow!("the node at {} sent no genesis TOML", client.base()))?;
    let g = Genesis::from_toml(text).map_err(|e| {
        InvalidInput(format!(
            "the genesis the node at {} sent is not valid: {e}",
            client.base()
        ))
    })?;
    let hash = g.hash().to_string();
    if answer.get("hash").and_then(|h| h.as_str()) != Some(hash.as_str()) {
        return Err(InvalidInput(format!(
            "the genesis the node at {} sent does not hash to the hash it announces",
            client.base()
        ))
        .into());
    }
    if let Ok(existing) = std::fs::read_to_string(path) {
        let same = Genesis::parse_toml(&existing).is_ok_and(|e| e.hash() == g.hash());
        if !same && !force {
            return Err(InvalidInput(format!(
                "{} already holds another genesis: pass --force to replace it, or --genesis FILE to write another",
                path.display()
            ))
            .into());
        }
    }
    save(path, &g)?;
    if ctx.json() {
        output::json(&serde_json::json!({
            "file": path.display().to_string(),
            "chain_id": g.chain_id,
            "hash": hash,
            "node": client.base(),
        }))?;
    } else {
        output::line(&format!(
            "{}: genesis of chain {:?} from {}, hash {hash}",
            path.display(),
            g.chain_id,
            client.base()
        ))?;
        output::note("check that this is the hash the organizer announced: the hash is the chain");
    }
    Ok(exit::OK)
}

fn amount(what: &str, text: &str) -> anyhow::Result<Amount> {
    text.parse::<Amount>()
        .map_err(|e| InvalidInput(format!("{what}: {e}")).into())
}

fn load(path: &Path) -> anyhow::Result<Genesis> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(InvalidInput(format!(
                "{} does not exist: start one with `pov genesis new --chain-id ID` (or name another with --genesis FILE)",
                path.display()
            ))
            .into())
        }
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!("reading {}", path.display())))
        }
    };
    Genesis::parse_toml(&text).map_err(|e| InvalidInput(format!("{}: {e}", path.display())).into())
}

fn save(path: &Path, g: &Genesis) -> anyhow::Result<()> {
    let text = g.to_toml();
    if text.trim().is_empty() {
        anyhow::bail!("the genesis could not be written as TOML");
    }
    crate::fsutil::write_atomic(path, text.as_bytes(), 0o644)
}

/// True when `problem` is about `field` or something inside it.
fn concerns(problem: &Problem, field: &str) -> bool {
    problem.field == field
        || problem.field.starts_with(&format!("{field}."))
        || problem.field.starts_with(&format!("{field}["))
}

/// Writes an edited genesis, unless the edit broke a rule of the fields it touched.
fn commit(
    ctx: &super::Ctx,
    path: &Path,
    g: Genesis,
    touched: &[String],
    what: String,
) -> anyhow::Result<i32> {
    let problems = g.validate();
    let (own, rest): (Vec<&Problem>, Vec<&Problem>) = problems
        .iter()
        .partition(|p| touched.iter().any(|f| concerns(p, f)));
    if !own.is_empty() {
        let list: Vec<String> = own.iter().map(|p| format!("  - {p}")).collect();
        return Err(InvalidInput(format!(
            "{}: not changed, the edit breaks a rule:\n{}",
            path.display(),
            list.join("\n")
        ))
        .into());
    }
    save(path, &g)?;
    report(ctx, path, &g, &what, &rest)?;
    Ok(exit::OK)
}

fn problems_json(problems: &[&Problem]) -> serde_json::Value {
    problems
        .iter()
        .map(|p| serde_json::json!({"field": p.field, "message": p.message}))
        .collect()
}

fn report(
    ctx: &super::Ctx,
    path: &Path,
    g: &Genesis,
    what: &str,
    remaining: &[&Problem],
) -> anyhow::Result<()> {
    if ctx.json() {
        return output::json(&serde_json::json!({
            "file": path.display().to_string(),
            "change": what,
            "chain_id": g.chain_id,
            "members": g.members.len(),
            "validators": g.validators.len(),
            "hash": g.hash().to_string(),
            "valid": remaining.is_empty(),
            "problems": problems_json(remaining),
        }));
    }
    output::line(&format!("{}: {what}", path.display()))?;
    if remaining.is_empty() {
        output::line(&format!(
            "{}: valid genesis for chain {:?}, {} members, {} validators, hash {}",
            path.display(),
            g.chain_id,
            g.members.len(),
            g.validators.len(),
            g.hash()
        ))?;
    } else {
        let list: Vec<String> = remaining.iter().map(|p| format!("  - {p}")).collect();
        output::note(&format!(
            "still to do before the genesis is valid:\n{}",
            list.join("\n")
        ));
    }
    Ok(())
}

fn new(
    ctx: &super::Ctx,
    chain_id: String,
    genesis_time: Option<String>,
    path: &Path,
    force: bool,
) -> anyhow::Result<i32> {
    if path.exists() && !force {
        return Err(InvalidInput(format!(
            "{} already exists (pass --force to overwrite it, or --genesis FILE to write another)",
            path.display()
        ))
        .into());
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() * 1000)
        .unwrap_or(0);
    let mut g = Genesis {
        chain_id,
        genesis_time_ms: now_ms,
        params: Params::default(),
        members: Vec::new(),
        validators: Vec::new(),
    };
    if let Some(text) = genesis_time {
        let dt: toml::value::Datetime = text.parse().map_err(|e| {
            InvalidInput(format!(
                "--genesis-time {text:?}: {e} (write it like 2026-03-01T00:00:00Z)"
            ))
        })?;
        let mut table: toml::Table = toml::from_str(&g.to_toml())?;
        table.insert("genesis_time".into(), toml::Value::Datetime(dt));
        g = Genesis::parse_toml(&toml::to_string(&table)?)
            .map_err(|e| InvalidInput(format!("--genesis-time: {e}")))?;
    }
    let what = format!(
        "new genesis for chain {:?} with the default rules (median 0..5, stake 0.02, distribution 0.08, exponent 0.5, invite admission, same-value re-votes rejected)",
        g.chain_id
    );
    let problems = g.validate();
    let bad_id: Vec<&Problem> = problems.iter().filter(|p| p.field == "chain_id").collect();
    if !bad_id.is_empty() {
        let list: Vec<String> = bad_id.iter().map(|p| format!("  - {p}")).collect();
        return Err(InvalidInput(format!("--chain-id:\n{}", list.join("\n"))).into());
    }
    save(path, &g)?;
    let rest: Vec<&Problem> = problems.iter().collect();
    report(ctx, path, &g, &what, &rest)?;
    if !ctx.json() {
        output::note(
            "next: `pov genesis add-member NAME --reputation R --tokens T`, `pov genesis add-validator ADDRESS`, then `pov genesis validate`",
        );
    }
    Ok(exit::OK)
}

/// Something valid but probably not what the founders want; `validate` says it and passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The field it concerns, as `validate` names fields.
    pub field: String,
    /// What will happen, and what to do.
    pub message: String,
}

/// The warnings of a valid genesis: validators whose single failure stops the chain (always
/// the case with fewer than 4), and members who cannot pay for any contribution.
pub fn warnings(g: &Genesis) -> Vec<Warning> {
    let mut out = Vec::new();
    let total: u128 = g.validators.iter().map(|v| u128::from(v.power)).sum();
    // Blocks need more than 2/3 of the power: without validator v, the rest must still hold
    // it, i.e. 3 (total - p) > 2 total.
    let stops_alone = |p: u64| 3 * (total - u128::from(p)) <= 2 * total;
    let n = g.validators.len();
    if n > 0 && n < 4 {
        out.push(Warning {
            field: "validators".into(),
            message: if n == 1 {
                "a single validator tolerates no failure: if it stops, no block can be made \
                 (4 validators of equal power tolerate one stopped)"
                    .to_string()
            } else {
                format!(
                    "{n} validators tolerate no failure: if any one stops, the others hold no \
                     more than 2/3 of the voting power and no block can be made (4 validators \
                     of equal power tolerate one stopped)"
                )
            },
        });
    } else {
        for (i, v) in g.validators.iter().enumerate() {
            if stops_alone(v.power) {
                out.push(Warning {
                    field: format!("validators[{i}].power"),
                    message: format!(
                        "{} holds {} of {total} voting power: if it stops, the others hold no \
                         more than 2/3 and no block can be made",
                        v.public_key, v.power
                    ),
                });
            }
        }
    }
    let cheapest = g
        .params
        .types
        .iter()
        .min_by_key(|(_, t)| t.fee)
        .map(|(kind, t)| (kind.clone(), t.fee));
    if let Some((kind, fee)) = cheapest {
        for (i, m) in g.members.iter().enumerate() {
            if m.tokens < fee {
                out.push(Warning {
                    field: format!("members[{i}].tokens"),
                    message: format!(
                        "{} has {} tokens and the cheapest contribution kind ({kind}) costs a \
                         fee of {fee}: {} cannot contribute until someone transfers tokens \
                         (give more with --tokens)",
                        m.name, m.tokens, m.name
                    ),
                });
            }
        }
    }
    out
}

/// Most files `--proofs DIR` reads (a bound on what one command loads).
const MAX_PROOF_FILES: usize = 10_000;

/// Every `*.json` file of `dir`, read as a reputation proof (a file that is not one is bad
/// input, named).
fn read_proofs(dir: &Path) -> anyhow::Result<Vec<ReputationProof>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| InvalidInput(format!("--proofs {}: {e}", dir.display())))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| InvalidInput(format!("--proofs {}: {e}", dir.display())))?
            .path();
        if path.extension().is_some_and(|x| x == "json") {
            paths.push(path);
        }
    }
    if paths.len() > MAX_PROOF_FILES {
        return Err(InvalidInput(format!(
            "--proofs {}: {} proof files, at most {MAX_PROOF_FILES} are read",
            dir.display(),
            paths.len()
        ))
        .into());
    }
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = super::read_input_at_most(p, super::proofs::MAX_PROOF_BYTES)?
                .ok_or_else(|| InvalidInput(super::proofs::too_big(p)))?;
            ReputationProof::from_json(&text)
                .map_err(|e| InvalidInput(format!("{}: {e}", p.display())).into())
        })
        .collect()
}

fn validate(
    ctx: &super::Ctx,
    file: &Path,
    proofs: Option<&Path>,
    sources: &[std::path::PathBuf],
) -> anyhow::Result<i32> {
    let text = super::read_input(file)?;
    let checked = match proofs {
        None => Genesis::from_toml(&text),
        Some(dir) => {
            let proofs = read_proofs(dir)?;
            let sources = sources
                .iter()
                .map(|s| super::proofs::read_genesis(s))
                .collect::<anyhow::Result<Vec<Genesis>>>()?;
            Genesis::parse_toml(&text).and_then(|g| {
                let mut problems = g.validate();
                problems.extend(g.check_provenance(&proofs, &sources));
                if problems.is_empty() {
                    Ok(g)
                } else {
                    Err(GenesisError::Invalid(problems))
                }
            })
        }
    };
    match checked {
        Ok(g) => {
            let warnings = warnings(&g);
            let founded = g.members.iter().filter(|m| m.provenance.is_some()).count();
            if ctx.json() {
                let warnings: Vec<serde_json::Value> = warnings
                    .iter()
                    .map(|w| serde_json::json!({"field": w.field, "message": w.message}))
                    .collect();
                output::json(&serde_json::json!({
                    "file": file.display().to_string(),
                    "valid": true,
                    "chain_id": g.chain_id,
                    "members": g.members.len(),
                    "validators": g.validators.len(),
                    "hash": g.hash().to_string(),
                    "warnings": warnings,
                    "members_with_provenance": founded,
                    "provenance_checked": proofs.is_some(),
                }))?;
            } else {
                output::line(&format!(
                    "{}: valid genesis for chain {:?}, {} members, {} validators, hash {}",
                    file.display(),
                    g.chain_id,
                    g.members.len(),
                    g.validators.len(),
                    g.hash()
                ))?;
                for w in &warnings {
                    output::note(&format!("warning: {}: {}", w.field, w.message));
                }
                if founded > 0 {
                    output::line(&match proofs {
                        Some(_) => format!(
                            "provenance of {founded} member(s) checked against their proofs and source genesis"
                        ),
                        None => format!(
                            "{founded} member(s) founded on reputation proofs: add --proofs DIR --source-genesis FILE to check them"
                        ),
                    })?;
                }
            }
            Ok(exit::OK)
        }
        Err(GenesisError::Invalid(problems)) => {
            let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
            let message = format!(
                "{}: {} problem(s):\n{}",
                file.display(),
                problems.len(),
                list.join("\n")
            );
            if ctx.json() {
                let refs: Vec<&Problem> = problems.iter().collect();
                output::json(&serde_json::json!({"error": {
                    "code": "invalid_input",
                    "message": message,
                    "problems": problems_json(&refs),
                }}))?;
                return Ok(exit::INVALID_INPUT);
            }
            Err(InvalidInput(message).into())
        }
        Err(e) => Err(InvalidInput(format!("{}: {e}", file.display())).into()),
    }
}

fn show(ctx: &super::Ctx, file: &Path, dev: bool) -> anyhow::Result<i32> {
    let genesis = if dev {
        Genesis::dev()
    } else {
        let text = super::read_input(file)?;
        let g = Genesis::parse_toml(&text)
            .map_err(|e| InvalidInput(format!("{}: {e}", file.display())))?;
        let problems = g.validate();
        if !problems.is_empty() {
            output::note(&format!(
                "warning: {} is not valid yet ({} problem(s); `pov genesis validate` lists them)",
                file.display(),
                problems.len()
            ));
        }
        g
    };
    if ctx.json() {
        output::json(&serde_json::json!({
            "hash": genesis.hash().to_string(),
            "genesis": serde_json::to_value(&genesis)?,
        }))?;
        return Ok(exit::OK);
    }
    output::line(&format!(
        "# genesis hash (chain identity): {}",
        genesis.hash()
    ))?;
    output::line(genesis.to_toml().trim_end())?;
    Ok(exit::OK)
}

fn list<T: std::str::FromStr>(field: &str, text: &str) -> anyhow::Result<Vec<T>>
where
    T::Err: std::fmt::Display,
{
    text.split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<T>()
                .map_err(|e| InvalidInput(format!("{field}: {s:?}: {e}")).into())
        })
        .collect()
}

fn threshold_defaults() -> RewardRule {
    RewardRule::Threshold {
        threshold: Amount::ONE
            .checked_div(Amount::from_int(2))
            .unwrap_or(Amount::ONE),
        token_factor: Amount::from_int(50),
        reputation_factor: Amount::from_int(5),
    }
}

/// Applies `key = value` to `params`. Returns the field path validation problems are named
/// by, and notes for the user about side effects.
/// Sets one parameter by its `set-param` key; returns the field written and notes to print.
pub(crate) fn set_param(
    params: &mut Params,
    key: &str,
    value: &str,
) -> anyhow::Result<(String, Vec<String>)> {
    let key = key.strip_prefix("params.").unwrap_or(key);
    let field = format!("params.{key}");
    let parts: Vec<&str> = key.split('.').collect();
    let amt = |v: &str| amount(&field, v);
    let mut notes = Vec::new();
    match parts.as_slice() {
        ["revote"] => {
            params.revote = match value {
                "reject-same" => Revote::RejectSame,
                "reprocess" => Revote::Reprocess,
                _ => return Err(bad_choice(&field, value, "reject-same or reprocess")),
            }
        }
        ["admission"] => {
            params.admission = match value {
                "invite" => Admission::Invite,
                "open" => Admission::Open,
                _ => return Err(bad_choice(&field, value, "invite or open")),
            }
        }
        ["referral_fraction"] => params.referral_fraction = amt(value)?,
        ["initial_grant", "reputation"] => params.initial_grant.reputation = amt(value)?,
        ["initial_grant", "tokens"] => params.initial_grant.tokens = amt(value)?,
        ["min_reputation_to_evaluate"] => params.min_reputation_to_evaluate = amt(value)?,
        ["types", kind] => match value {
            "default" => {
                params
                    .types
                    .insert((*kind).to_string(), TypeParams::default_median());
            }
            "remove" => {
                if params.types.remove(*kind).is_none() {
                    return Err(InvalidInput(format!("{field}: there is no kind {kind:?}")).into());
                }
            }
            _ => return Err(bad_choice(&field, value, "default or remove")),
        },
        ["types", kind, rest @ ..] => {
            if !params.types.contains_key(*kind) {
                notes.push(format!(
                    "added contribution kind {kind:?} with the default rules"
                ));
            }
            let t = params
                .types
                .entry((*kind).to_string())
                .or_insert_with(TypeParams::default_median);
            set_type_param(t, &field, rest, value, &mut notes)?;
        }
        _ => {
            return Err(InvalidInput(format!(
                "unknown parameter {key:?} (`pov genesis set-param --help` lists them)"
            ))
            .into())
        }
    }
    Ok((field, notes))
}

fn bad_choice(field: &str, value: &str, choices: &str) -> anyhow::Error {
    InvalidInput(format!("{field}: {value:?} is not one of {choices}")).into()
}

fn set_type_param(
    t: &mut TypeParams,
    field: &str,
    rest: &[&str],
    value: &str,
    notes: &mut Vec<String>,
) -> anyhow::Result<()> {
    let amt = |v: &str| amount(field, v);
    match rest {
        ["fee"] => t.fee = amt(value)?,
        ["stake"] => t.stake = amt(value)?,
        ["distribution"] => t.distribution = amt(value)?,
        ["fee_exponent"] => t.fee_exponent = amt(value)?,
        ["evaluator_fund"] => t.evaluator_fund = amt(value)?,
        ["evaluation_set"] => t.evaluation_set = list::<i64>(field, value)?,
        ["reward"] => match value {
            "median" => {
                let d = TypeParams::default_median();
                t.evaluation_set = d.evaluation_set;
                t.reward = d.reward;
                notes.push("the median rule: evaluation set 0..5 with the default token and reputation tables".into());
            }
            "threshold" => {
                t.evaluation_set = vec![0, 1];
                t.reward = threshold_defaults();
                notes.push("the threshold rule needs a binary set: evaluation set 0,1, threshold 0.5, token factor 50, reputation factor 5".into());
            }
            _ => return Err(bad_choice(field, value, "median or threshold")),
        },
        ["reward", "median", table] => {
            let RewardRule::Median {
                token_value,
                reputation_value,
            } = &mut t.reward
            else {
                return Err(InvalidInput(format!(
                    "{field}: this kind uses the threshold rule; switch first with `set-param {} median`",
                    field.trim_start_matches("params.").rsplitn(3, '.').last().unwrap_or_default()
                ))
                .into());
            };
            let values = list::<Amount>(field, value)?;
            match *table {
                "token_value" => *token_value = values,
                "reputation_value" => *reputation_value = values,
                _ => return Err(unknown(field)),
            }
        }
        ["reward", "threshold", which] => {
            let RewardRule::Threshold {
                threshold,
                token_factor,
                reputation_factor,
            } = &mut t.reward
            else {
                return Err(InvalidInput(format!(
                    "{field}: this kind uses the median rule; switch first with `set-param {} threshold`",
                    field.trim_start_matches("params.").rsplitn(3, '.').last().unwrap_or_default()
                ))
                .into());
            };
            let v = amt(value)?;
            match *which {
                "threshold" => *threshold = v,
                "token_factor" => *token_factor = v,
                "reputation_factor" => *reputation_factor = v,
                _ => return Err(unknown(field)),
            }
        }
        // Sealed evaluations (protocol 1.2): `none` makes the kind open again; a window's
        // length on an open kind seals it with both windows that long.
        ["sealed"] => match value {
            "none" => {
                if t.sealed.take().is_some() {
                    notes.push("the kind is open again: members evaluate directly".into());
                }
            }
            _ => {
                return Err(bad_choice(
                    field,
                    value,
                    "none (or set sealed.commit_blocks and sealed.reveal_blocks)",
                ))
            }
        },
        ["sealed", window @ ("commit_blocks" | "reveal_blocks")] => {
            let blocks: u64 = value.trim().parse().map_err(|_| {
                InvalidInput(format!(
                    "{field}: {value:?} is not a whole number of blocks"
                ))
            })?;
            let sealed = t.sealed.get_or_insert_with(|| {
                notes.push(format!(
                    "the kind is now sealed: values are committed, revealed, then settled together; both windows are {blocks} blocks until set"
                ));
                Sealed {
                    commit_blocks: blocks,
                    reveal_blocks: blocks,
                }
            });
            match *window {
                "commit_blocks" => sealed.commit_blocks = blocks,
                _ => sealed.reveal_blocks = blocks,
            }
        }
        _ => return Err(unknown(field)),
    }
    Ok(())
}

fn unknown(field: &str) -> anyhow::Error {
    InvalidInput(format!(
        "unknown parameter {:?} (`pov genesis set-param --help` lists them)",
        field.trim_start_matches("params.")
    ))
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_validators(powers: &[u64]) -> Genesis {
        let mut g = Genesis::dev();
        g.validators = powers
            .iter()
            .enumerate()
            .map(|(i, p)| GenesisValidator {
                public_key: pov_protocol::genesis::dev_validator_key(i as u32).address(),
                power: *p,
                addr: None,
            })
            .collect();
        g
    }

    #[test]
    fn warnings_name_validators_that_stop_the_chain_alone_and_members_who_cannot_pay() {
        let fields =
            |g: &Genesis| -> Vec<String> { warnings(g).into_iter().map(|w| w.field).collect() };
        assert_eq!(fields(&with_validators(&[1, 1, 1])), vec!["validators"]);
        assert_eq!(fields(&with_validators(&[1])), vec!["validators"]);
        assert!(fields(&with_validators(&[1, 1, 1, 1])).is_empty());
        // Four validators, but one holds a third of the power: it alone stops the chain.
        assert_eq!(
            fields(&with_validators(&[3, 2, 2, 2])),
            vec!["validators[0].power"]
        );
        let mut g = with_validators(&[1, 1, 1, 1]);
        g.members[3].tokens = Amount::ZERO;
        let w = warnings(&g);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].field, "members[3].tokens");
        assert!(
            w[0].message.contains("dave cannot contribute"),
            "{}",
            w[0].message
        );
    }

    #[test]
    fn set_param_reaches_every_documented_key() {
        let mut p = Params::default();
        let cases = [
            ("revote", "reprocess"),
            ("admission", "open"),
            ("referral_fraction", "0.1"),
            ("initial_grant.reputation", "2"),
            ("initial_grant.tokens", "5"),
            ("min_reputation_to_evaluate", "0.5"),
            ("params.types.work.fee", "2"),
            ("types.work.stake", "0.03"),
            ("types.work.distribution", "0.1"),
            ("types.work.fee_exponent", "0.6"),
            ("types.work.evaluator_fund", "3"),
            ("types.work.evaluation_set", "0,1,2,3,4,5"),
            ("types.work.reward.median.token_value", "0,1,2,3,4,5"),
            (
                "types.work.reward.median.reputation_value",
                "0, 1, 1, 2, 2, 3",
            ),
            ("types.vote.reward", "threshold"),
            ("types.vote.reward.threshold.threshold", "0.6"),
            ("types.vote.reward.threshold.token_factor", "40"),
            ("types.vote.reward.threshold.reputation_factor", "4"),
            ("types.care", "default"),
            ("types.work.sealed.commit_blocks", "20"),
            ("types.work.sealed.reveal_blocks", "10"),
            ("types.vote.sealed.reveal_blocks", "5"),
            ("types.vote.sealed", "none"),
        ];
        for (k, v) in cases {
            set_param(&mut p, k, v).unwrap_or_else(|e| panic!("{k}: {e}"));
        }
        // Every key set above has the value given, read back field by field.
        let a = |s: &str| s.parse::<Amount>().expect("amount");
        let ints = |v: &[i64]| v.iter().map(|i| Amount::from_int(*i)).collect::<Vec<_>>();
        assert_eq!(p.revote, Revote::Reprocess);
        assert_eq!(p.admission, Admission::Open);
        assert_eq!(p.referral_fraction, a("0.1"));
        assert_eq!(p.initial_grant.reputation, a("2"));
        assert_eq!(p.initial_grant.tokens, a("5"));
        assert_eq!(p.min_reputation_to_evaluate, a("0.5"));
        let work = &p.types["work"];
        assert_eq!(work.fee, a("2"));
        assert_eq!(work.stake, a("0.03"));
        assert_eq!(work.distribution, a("0.1"));
        assert_eq!(work.fee_exponent, a("0.6"));
        assert_eq!(work.evaluator_fund, a("3"));
        assert_eq!(work.evaluation_set, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(
            work.reward,
            RewardRule::Median {
                token_value: ints(&[0, 1, 2, 3, 4, 5]),
                reputation_value: ints(&[0, 1, 1, 2, 2, 3]),
            }
        );
        assert_eq!(
            work.sealed,
            Some(Sealed {
                commit_blocks: 20,
                reveal_blocks: 10
            })
        );
        assert_eq!(p.types["vote"].sealed, None);
        assert_eq!(p.types["vote"].evaluation_set, vec![0, 1]);
        assert_eq!(
            p.types["vote"].reward,
            RewardRule::Threshold {
                threshold: a("0.6"),
                token_factor: a("40"),
                reputation_factor: a("4"),
            }
        );
        assert_eq!(p.types["care"], TypeParams::default_median());
        assert!(p.types.contains_key("care"));
        set_param(&mut p, "types.care", "remove").expect("remove");
        assert!(!p.types.contains_key("care"));
        let g = Genesis {
            params: p,
            ..Genesis::dev()
        };
        assert!(g.validate().is_empty(), "{:?}", g.validate());
    }

    #[test]
    fn bad_keys_and_values_are_invalid_input() {
        let mut p = Params::default();
        for (k, v) in [
            ("revote", "sometimes"),
            ("types.work.stake", "a lot"),
            ("types.work.colour", "red"),
            ("types.work.reward.threshold.threshold", "0.5"),
            ("types.work.evaluation_set", "0,one"),
            ("nonsense", "1"),
            ("types.nope", "remove"),
        ] {
            let err = set_param(&mut p, k, v).expect_err(k);
            assert!(err.downcast_ref::<InvalidInput>().is_some(), "{k}: {err}");
        }
    }
}
