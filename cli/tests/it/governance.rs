//! `pov propose`, `pov show proposal` and `pov list proposals` against a real `povd --dev`,
//! in the JSON forms scripts read: the proposal a `propose` created and where an evaluation
//! left it, the list by status, and changes refused before signing with the reason (exit 3,
//! no fee paid). The text forms and the whole life of a proposal on a 4-validator devnet are
//! in `docs/governance.md`, which a test runs.

use crate::support::povd::DevNode;
use crate::support::{amount, Pov};

#[test]
fn proposals_in_json_and_refusals_before_signing() {
    let node = DevNode::start();
    let pov = Pov::with_node(&node.url);
    pov.ok(&["keys", "add-dev"]);
    let tokens = |who: &str| amount(&pov.json(&["show", "account", who])["tokens"]);
    let before = tokens("carol");

    for (set, why) in [
        ("types.work.stake=2", "must be between 0 and 1"),
        ("types.work.colour=2", "unknown parameter path"),
        (
            "types.poetry.fee=2",
            "there is no contribution type \"poetry\"",
        ),
        ("governance.enabled=maybe", "expected true or false"),
        ("types.work.fee", "expected PATH=VALUE"),
    ] {
        let (_, err) = pov.fails(
            3,
            &["propose", "--set", set, "--title", "t", "--from", "carol"],
        );
        assert!(
            err.contains(why) && err.contains("nothing was signed"),
            "{set}: {err}"
        );
    }
    assert_eq!(tokens("carol"), before, "no refused proposal paid a fee");

    let proposed = pov.json(&[
        "propose",
        "--set",
        "types.work.fee=2",
        "--set",
        "referral_fraction=0.1",
        "--title",
        "Fees up, referrals down",
        "--from",
        "carol",
    ]);
    assert_eq!(proposed["contribution_id"], 0, "{proposed}");
    let p = &proposed["proposal"];
    assert_eq!(p["status"], "open", "{proposed}");
    assert_eq!(p["changes"][1]["path"], "referral_fraction");
    assert_eq!(p["changes"][1]["value"], "0.1");
    assert_eq!(
        tokens("carol"),
        before.checked_sub("10".parse().expect("10")).expect("sub"),
        "governance.fee, burned"
    );

    let evaluated = pov.json(&["evaluate", "0", "0", "--from", "dave"]);
    assert_eq!(
        evaluated["proposal"]["evaluations"][0]["value"], 0,
        "{evaluated}"
    );
    assert_eq!(evaluated["proposal"]["accepted_share"], "0");
    let shown = pov.json(&["show", "proposal", "0"]);
    assert_eq!(
        shown["rejected_share"],
        evaluated["proposal"]["rejected_share"]
    );

    let open = pov.json(&["list", "proposals", "--status", "open"]);
    assert_eq!(open["items"][0]["id"], 0, "{open}");
    let applied = pov.json(&["list", "proposals", "--status", "applied"]);
    assert_eq!(applied["items"], serde_json::json!([]));
    let (_, err) = pov.fails(1, &["show", "proposal", "7"]);
    assert!(err.contains("no proposal 7"), "{err}");
}
