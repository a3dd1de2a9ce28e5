//! The walk-through of `docs/forming-a-cooperative.md`, then the "join an existing
//! cooperative" and "when blocks stop" sections of `docs/running-a-node.md`, run command by
//! command with real `pov` and `povd` processes (`pov_tests::doc` explains how the docs mark
//! what runs and how outputs are compared): five founding members' keys on their own
//! machines, a genesis, three validators on separate homes and ports that find each other
//! from the genesis alone, a contribution minted, names resolved on a member's own machine, a
//! newcomer admitted by name, a full node joining from the genesis alone, and a stopped
//! validator that the others report. No file is edited by hand.
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
