//! The devnet scenario of issue 5, item 6, through `pov` alone, checked against the protocol
//! library: a new key is admitted, contributes, and dev members evaluate until at least half
//! of all reputation has; the balances `pov show account --output json` reads back must be
//! exactly those the state machine computes for the same signed transactions.
//!
//! It runs against the real `povd` (`e2e.rs`).

use std::collections::HashMap;

use pov_crypto::{Address, Keypair};
use pov_protocol::genesis::Genesis;
use pov_protocol::{Amount, State, Transaction, TxBody};

use crate::support::{amount, Pov};

/// What the scenario found, for callers that check more.
pub struct Outcome {
    /// The contribution evaluated.
    pub contribution: u64,
    /// carl's address.
    pub carl: Address,
    /// The state the protocol library computed.
    pub state: State,
}

/// Mirrors each transaction `pov` sent: signs the same body with the same key and nonce,
/// applies it to the library's state at the height of the block that included it (empty
/// blocks before it begun too: the height is part of the state), and returns its hash.
struct Mirror {
    state: State,
    chain_id: String,
    genesis_hash: pov_crypto::Hash,
    nonces: HashMap<Address, u64>,
}

impl Mirror {
    fn apply(&mut self, key: &Keypair, body: TxBody, out: &serde_json::Value) -> String {
        let height = out["height"]
            .as_u64()
            .expect("a final transaction has a height");
        advance(&mut self.state, height);
        let nonce = self.nonces.entry(key.address()).or_insert(0);
        *nonce += 1;
        let tx = Transaction::sign(key, &self.chain_id, &self.genesis_hash, *nonce, body);
        self.state
            .apply(&tx)
            .unwrap_or_else(|e| panic!("the library rejects {:?}: {e}", tx.body));
        tx.hash().to_string()
    }
}

/// Begins empty blocks on `state` up to and including `height`.
pub fn advance(state: &mut State, height: u64) {
    while state.height() < height {
        let next = state.height() + 1;
        state.begin_block(next).expect("an empty block begins");
    }
}

/// Runs the scenario with `pov` (whose node must serve the development genesis, fresh).
pub fn devnet(pov: &Pov) -> Outcome {
    let genesis = Genesis::dev();

    // Keys: one new encrypted key, and the dev members (explicitly, insecurely).
    let carl = pov.json(&["keys", "new", "carl"]);
    assert_eq!(carl["kind"], "encrypted");
    let carl_address: Address = carl["address"]
        .as_str()
        .expect("address")
        .parse()
        .expect("hex");
    let added = pov.json(&["keys", "add-dev"]);
    assert_eq!(added["added"].as_array().map(Vec::len), Some(4));
    let listed = pov.json(&["keys", "list"]);
    assert_eq!(listed["keys"].as_array().map(Vec::len), Some(5));
    let exported = pov.json(&["keys", "export", "carl"]);
    let secret = hex::decode(exported["secret_key"].as_str().expect("secret")).expect("hex");
    let carl_key = Keypair::from_seed(secret.try_into().expect("32 bytes"));
    assert_eq!(carl_key.address(), carl_address);

    let status = pov.json(&["status"]);
    assert_eq!(status["chain_id"], genesis.chain_id.as_str());
    assert_eq!(status["genesis_hash"], genesis.hash().to_string().as_str());

    let mut mirror = Mirror {
        state: genesis.state().expect("dev genesis"),
        chain_id: genesis.chain_id.clone(),
        genesis_hash: genesis.hash(),
        nonces: HashMap::new(),
    };
    let dev = |i: u32| Keypair::dev(i);

    // alice admits carl, who is named after the key in her keystore.
    let out = pov.json(&["admit", "carl", "--from", "alice"]);
    assert_eq!(out["status"], "final", "{out}");
    let want = mirror.apply(
        &dev(0),
        TxBody::Admit {
            member: carl_address,
            name: "carl".into(),
        },
        &out,
    );
    assert_eq!(out["hash"], want.as_str());

    // carl contributes.
    let out = pov.json(&[
        "contribute",
        "--kind",
        "work",
        "--title",
        "Fix the roof",
        "--uri",
        "https://example.org/roof",
        "--from",
        "carl",
    ]);
    assert_eq!(out["status"], "final", "{out}");
    let id = out["contribution_id"].as_u64().expect("contribution id");
    assert_eq!(out["contribution"]["title"], "Fix the roof");
    let want = mirror.apply(
        &carl_key,
        TxBody::Contribute {
            kind: "work".into(),
            title: "Fix the roof".into(),
            uri: "https://example.org/roof".into(),
            content_hash: None,
        },
        &out,
    );
    assert_eq!(out["hash"], want.as_str());
    assert_eq!(
        amount(&out["sender_change"]["tokens"]),
        Amount::from_int(-1),
        "the fee"
    );

    // Dev members evaluate it with 4 until at least half of all reputation has evaluated.
    let id_text = id.to_string();
    let mut engaged_half = false;
    for (i, name) in ["alice", "bob", "carol", "dave"].iter().enumerate() {
        let out = pov.json(&["evaluate", &id_text, "4", "--from", name]);
        assert_eq!(out["status"], "final", "{out}");
        let want = mirror.apply(
            &dev(i as u32),
            TxBody::Evaluate {
                contribution: id,
                value: 4,
            },
            &out,
        );
        assert_eq!(out["hash"], want.as_str());
        let share = amount(&out["contribution"]["engaged_share"]);
        if share.checked_mul(Amount::from_int(2)).expect("2x") >= Amount::ONE {
            engaged_half = true;
            break;
        }
    }
    assert!(
        engaged_half,
        "all dev members evaluated but less than half the reputation engaged"
    );

    // The contributor's balances, read back through pov, equal the library's.
    let (_, member) = mirror
        .state
        .member_by_address(&carl_address)
        .expect("carl is a member");
    let shown = pov.json(&["show", "account", "carl"]);
    assert_eq!(amount(&shown["reputation"]), member.reputation, "{shown}");
    assert_eq!(amount(&shown["tokens"]), member.tokens, "{shown}");
    let c = mirror.state.contribution(id).expect("contribution");
    assert!(c.minted_tokens > Amount::ZERO, "something was minted");
    let shown_c = pov.json(&["show", "contribution", &id_text]);
    assert_eq!(amount(&shown_c["minted_tokens"]), c.minted_tokens);
    assert_eq!(amount(&shown_c["minted_reputation"]), c.minted_reputation);

    // explain accounts for the reward: grouped by contribution and rule by default, exact,
    // and line by line with --full.
    let grouped = pov.json(&["explain", "carl"]);
    let part = grouped["contributions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|p| p["id"] == id))
        .unwrap_or_else(|| panic!("contribution {id} in {grouped}"));
    let reward = part["rules"]
        .as_array()
        .and_then(|rs| {
            rs.iter()
                .find(|r| r["rule"] == "contributor-reward" && r["asset"] == "tokens")
        })
        .unwrap_or_else(|| panic!("the reward in {part}"));
    assert_eq!(amount(&reward["total"]), c.minted_tokens);
    assert_eq!(amount(&grouped["closing"]["tokens"]), member.tokens);
    let explained = pov.json(&["explain", "carl", "--full"]);
    let rewards: Vec<&serde_json::Value> = explained["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["rule"] == "contributor-reward" && e["asset"] == "tokens")
        .collect();
    let total = Amount::sum(rewards.iter().map(|e| amount(&e["amount"]))).expect("sum");
    assert_eq!(total, c.minted_tokens);

    // The human forms print without error and say what matters.
    let text = pov.ok(&["show", "account", "carl"]);
    assert!(text.contains(&member.reputation.to_string()), "{text}");
    let text = pov.ok(&["explain", "carl"]);
    assert!(text.contains("minted for you as its contributor"), "{text}");
    let text = pov.ok(&["explain", "carl", "--full"]);
    assert!(text.contains("contributor-reward"), "{text}");
    let text = pov.ok(&["list", "contributions"]);
    assert!(text.contains("Fix the roof"), "{text}");

    Outcome {
        contribution: id,
        carl: carl_address,
        state: mirror.state,
    }
}
