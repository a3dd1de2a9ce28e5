//! The walk-through of `docs/forming-a-cooperative.md`, then the "join an existing
//! cooperative" and "when blocks stop" sections of `docs/running-a-node.md`, run command by
//! command with real `pov` and `povd` processes (`pov_tests::doc` explains how the docs mark
//! what runs and how outputs are compared): five founding members' keys on their own
//! machines, a genesis, three validators on separate homes and ports that find each other
//! from the genesis alone, a contribution minted, names resolved on a member's own machine, a
//! newcomer admitted by name, a full node joining from the genesis alone, and a stopped
//! validator that the others report. No file is edited by hand.
//!
//! `docs/governance.md` runs the same way, on its own devnet; so do
//! `docs/reputation-proofs.md` (on `povd --dev`) and `docs/sealed-evaluations.md`.
//!
//! `POV_DOC_UPDATE=1 cargo test -p pov-tests --test walkthrough` rewrites the docs' outputs
//! with a fresh run's.

use std::path::Path;
use std::time::Instant;

use pov_tests::doc::DocRun;

/// The ports the docs use: APIs 7171..7174, p2p 26671..26674.
const DOC_PORTS: [u16; 8] = [7171, 7172, 7173, 7174, 26671, 26672, 26673, 26674];

#[test]
fn forming_a_cooperative_and_running_its_nodes_work_as_the_docs_say() {
    let start = Instant::now();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace");
    let mut run = DocRun::new(&DOC_PORTS, "bakery passphrase, not secret");
    run.run_doc(&workspace.join("docs/forming-a-cooperative.md"));
    run.run_doc(&workspace.join("docs/running-a-node.md"));
    eprintln!("walk-through ran in {:.1} s", start.elapsed().as_secs_f64());
}

/// The ports of `docs/governance.md`: the devnet's APIs 7181..7184 and p2p 26681..26684, then
/// the new cooperative's API 7185 and p2p 26685 (`pov devnet init` numbers its nodes' ports
/// from the first, so each range is contiguous here as in the run).
const GOVERNANCE_PORTS: [u16; 10] = [
    7181, 7182, 7183, 7184, 26681, 26682, 26683, 26684, 7185, 26685,
];

/// `docs/governance.md`, end to end through `pov` alone on a 4-validator devnet: a proposal
/// refused before signing, one that stays open below half of all reputation, passes at the
/// evaluation that reaches half and rules the next block (a later contribution pays the new
/// fee, `pov show params` names the proposal); then a new cooperative founded on a member's
/// reputation proof, whose genesis validates with its provenance, starts making blocks and
/// shows where the founding reputation came from.
#[test]
fn changing_the_rules_and_carrying_reputation_work_as_the_docs_say() {
    let start = Instant::now();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace");
    let mut run = DocRun::new(&GOVERNANCE_PORTS, "governance passphrase, not secret");
    run.run_doc(&workspace.join("docs/governance.md"));
    eprintln!(
        "governance walk-through ran in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// The ports of `docs/reputation-proofs.md`: `povd --dev`'s API 7280 and p2p 26780.
const PROOF_PORTS: [u16; 2] = [7280, 26780];

/// `docs/reputation-proofs.md` on a `povd --dev` node: bob's reputation earned on a
/// contribution, his proof at the last final height and at height 1 checked offline against
/// the development genesis, refused against another cooperative's (exit code 8), and a new
/// genesis founded on the proof whose provenance re-checks.
#[test]
fn reputation_proofs_work_as_the_doc_says() {
    let start = Instant::now();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace");
    let mut run = DocRun::new(&PROOF_PORTS, "proof passphrase, not secret");
    run.run_doc(&workspace.join("docs/reputation-proofs.md"));
    eprintln!(
        "reputation-proofs walk-through ran in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

/// The ports of `docs/sealed-evaluations.md`: the devnet's APIs 7270..7273, then p2p
/// 26770..26773 (contiguous, as `pov devnet init` numbers them).
const SEALED_PORTS: [u16; 8] = [7270, 7271, 7272, 7273, 26770, 26771, 26772, 26773];

/// `docs/sealed-evaluations.md` on a 4-validator devnet whose `work` type is sealed: four
/// hidden commitments (the last one's stake 0), an early reveal refused before signing,
/// values hidden in the commit and reveal phases, three reveals, settlement in commitment
/// order with dave's commitment forfeited, carol minted, and a late reveal refused.
#[test]
fn sealed_evaluations_work_as_the_doc_says() {
    let start = Instant::now();
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace");
    let mut run = DocRun::new(&SEALED_PORTS, "sealed passphrase, not secret");
    run.run_doc(&workspace.join("docs/sealed-evaluations.md"));
    eprintln!(
        "sealed-evaluations walk-through ran in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}
