//! `pov prove` (ask a node for a reputation proof) and `pov verify-proof` (check one
//! offline, with the genesis alone): spec section 10. The verifier is
//! `pov_protocol::proof`, pure code, so this command needs no node and no network.

use std::path::Path;

use pov_protocol::genesis::{time_text, Genesis};
use pov_protocol::proof::{ProvenStanding, ReputationProof};

use crate::exit::{self, InvalidInput, ProofInvalid};
use crate::output;

/// `pov prove MEMBER [--height H] [--out FILE]`.
pub fn prove(
    ctx: &super::Ctx,
    member: &str,
    height: Option<u64>,
    out: Option<&Path>,
) -> anyhow::Result<i32> {
    // A keystore name or an address is resolved here; anything else may be a name on chain,
    // which the node resolves.
    let who = match ctx.resolve_address(member) {
        Ok((address, _)) => address.to_string(),
        Err(_) => member.to_string(),
    };
    let path = match height {
        Some(h) => format!("/proofs/{who}?height={h}"),
        None => format!("/proofs/{who}"),
    };
    let raw = ctx.client().get_value(&path)?;
    let proof: ReputationProof = serde_json::from_value(raw)
        .map_err(|e| anyhow::anyhow!("the node answered something that is not a proof: {e}"))?;
    let text = proof.to_json();
    match out {
        None => output::line(&text)?,
        Some(file) => {
            crate::fsutil::write_atomic(file, format!("{text}\n").as_bytes(), 0o644)?;
            if ctx.json() {
                output::json(&serde_json::json!({
                    "file": file.display().to_string(),
                    "proof_hash": proof.hash().to_string(),
                }))?;
            } else {
                output::line(&format!(
                    "wrote the proof to {} (proof hash {}); check it with `pov verify-proof {} --genesis GENESIS.toml`",
                    file.display(),
                    proof.hash(),
                    file.display()
                ))?;
            }
        }
    }
    Ok(exit::OK)
}

/// Reads and parses a genesis file (any problem is bad input, exit 3).
pub fn read_genesis(path: &Path) -> anyhow::Result<Genesis> {
    let text = super::read_input(path)?;
    Genesis::from_toml(&text).map_err(|e| InvalidInput(format!("{}: {e}", path.display())).into())
}

/// The largest proof file read, in bytes. A proof is a few KB (a header, one signature per
/// validator that signed, two Merkle paths of at most 64 hashes); the cap keeps a hostile
/// file from costing more memory than this (200 MB of hex cost 0.5 GB and a minute before).
pub const MAX_PROOF_BYTES: u64 = 1024 * 1024;

/// Why a proof file bigger than [`MAX_PROOF_BYTES`] was not read, naming it.
pub fn too_big(path: &Path) -> String {
    format!(
        "{}: more than {MAX_PROOF_BYTES} bytes, which no reputation proof is (one is a few KB); not read",
        path.display()
    )
}

/// Reads a proof file and verifies it against `genesis`; a proof that fails is exit 8.
pub fn read_and_verify(
    path: &Path,
    genesis: &Genesis,
) -> anyhow::Result<(ReputationProof, ProvenStanding)> {
    let text = super::read_input_at_most(path, MAX_PROOF_BYTES)?
        .ok_or_else(|| ProofInvalid(too_big(path)))?;
    let fail = |e: pov_protocol::proof::ProofError| {
        ProofInvalid(format!(
            "{}: the proof does not verify: {e}",
            path.display()
        ))
    };
    let proof = ReputationProof::from_json(&text).map_err(fail)?;
    let proven = proof.verify(genesis).map_err(fail)?;
    Ok((proof, proven))
}

/// `pov verify-proof FILE --genesis GENESIS`.
pub fn verify(ctx: &super::Ctx, file: &Path, genesis: &Path) -> anyhow::Result<i32> {
    let g = read_genesis(genesis)?;
    let (_, p) = read_and_verify(file, &g)?;
    if ctx.json() {
        let mut v = serde_json::to_value(&p)?;
        v["valid"] = true.into();
        v["time"] = time_text(p.time_ms).into();
        output::json(&v)?;
        return Ok(exit::OK);
    }
    let name = if p.name.is_empty() {
        String::new()
    } else {
        format!("{} ", p.name)
    };
    let signers: Vec<String> = p
        .signers
        .iter()
        .map(|s| output::short(&s.validator.to_string()))
        .collect();
    let pairs = vec![
        ("member", format!("{name}({})", p.member)),
        (
            "cooperative",
            format!("{} (genesis {})", p.chain_id, p.genesis_hash),
        ),
        ("height", format!("{}, block {}", p.height, p.block_hash)),
        ("time", time_text(p.time_ms)),
        ("reputation", p.reputation.to_string()),
        (
            "share",
            format!(
                "{} of all reputation (R = {})",
                output::percent(p.share),
                p.total_reputation
            ),
        ),
        (
            "tokens",
            format!("{} (of a supply of {})", p.tokens, p.total_tokens),
        ),
        (
            "certified by",
            format!(
                "validators with power {} of {}: {}",
                p.signed_power,
                p.total_power,
                signers.join(", ")
            ),
        ),
        ("proof hash", p.proof_hash.to_string()),
    ];
    output::line("valid: every check passed")?;
    output::line(&output::fields(&pairs))?;
    output::note(
        "a proof shows the member's standing at that height, not now; how recent it must be is yours to decide",
    );
    Ok(exit::OK)
}
