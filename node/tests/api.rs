//! The HTTP API (`docs/api.md`) as a black box: a real `povd --dev` child process, driven
//! over HTTP, so the tests hold whatever the node's insides look like.
//!
//! One node at the normal block time covers binary submission, contribution paging and
//! filters, and reward events on the stream; one with a minute between blocks and a
//! three-transaction mempool covers what is only visible while transactions are pending:
//! `GET /tx` of a pending transaction, `next_nonce` from the pending state, and 503 when the
//! mempool is full.

use std::time::{Duration, Instant};

use pov_crypto::Keypair;
use pov_protocol::{Transaction, TxBody};
use pov_tests::{free_ports, http, NodeProcess};
use serde_json::Value;

const CHAIN: &str = "pov-devnet";

fn contribute(who: u32, nonce: u64, title: &str) -> Transaction {
    Transaction::sign(
        &Keypair::dev(who),
        CHAIN,
        &pov_protocol::genesis::Genesis::dev().hash(),
        nonce,
        TxBody::Contribute {
            kind: "work".into(),
            title: title.into(),
            uri: format!("https://example.org/{title}"),
            content_hash: None,
        },
    )
}

fn evaluate(who: u32, nonce: u64, contribution: u64, value: i64) -> Transaction {
    Transaction::sign(
        &Keypair::dev(who),
        CHAIN,
        &pov_protocol::genesis::Genesis::dev().hash(),
        nonce,
        TxBody::Evaluate {
            contribution,
            value,
        },
    )
}

fn submit(node: &NodeProcess, tx: &Transaction) -> (u16, Value) {
    let body = serde_json::to_string(tx).expect("json");
    http::post_json(&format!("{}/tx", node.api), &body).expect("answer")
}

fn get(node: &NodeProcess, path: &str) -> (u16, Value) {
    http::get_with_status(&format!("{}{path}", node.api)).expect("answer")
}

fn wait_final(node: &NodeProcess, txs: &[&Transaction]) {
    let start = Instant::now();
    for tx in txs {
        loop {
            let (_, info) = get(node, &format!("/tx/{}", tx.hash()));
            if info["status"] == "final" {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "{} not final: {info}\n{}",
                tx.hash(),
                node.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn ids(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["id"].as_u64().expect("id"))
        .collect()
}

#[test]
fn binary_submission_paging_filters_and_reward_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let node = NodeProcess::start_dev(&dir.path().join("dev"), free_ports(1));
    assert!(
        node.wait_height(1, Duration::from_secs(30)),
        "{}",
        node.log_tail()
    );

    // POST /tx takes a transaction's canonical bytes as well as JSON.
    let first = contribute(0, 1, "a0");
    let (status, answer) =
        http::post_bytes(&format!("{}/tx", node.api), &first.to_bytes()).expect("answer");
    assert_eq!(
        (status, &answer["hash"]),
        (202, &Value::from(first.hash().to_string()))
    );
    // Bytes that are not exactly one canonical transaction are refused, saying so.
    let mut trailing = contribute(0, 2, "a1").to_bytes();
    trailing.push(0);
    let (status, answer) =
        http::post_bytes(&format!("{}/tx", node.api), &trailing).expect("answer");
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"]["code"], "bad_request");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("transaction bytes")),
        "{answer}"
    );
    let (status, _) = http::post_bytes(&format!("{}/tx", node.api), b"\xff\xff").expect("answer");
    assert_eq!(status, 400);

    // Five contributions: alice's 0..2, bob's 3 and 4.
    let mut txs = vec![first];
    for (who, nonce, title) in [(0, 2, "a1"), (0, 3, "a2"), (1, 1, "b0"), (1, 2, "b1")] {
        let tx = contribute(who, nonce, title);
        let (status, answer) = submit(&node, &tx);
        assert_eq!(status, 202, "{answer}");
        txs.push(tx);
    }
    wait_final(&node, &txs.iter().collect::<Vec<_>>());

    // Paging: `limit` items from after `after`, and `next` is the cursor of the next page.
    let (status, page) = get(&node, "/contributions?limit=2");
    assert_eq!(status, 200, "{page}");
    assert_eq!((ids(&page), &page["next"]), (vec![0, 1], &Value::from(1)));
    let (_, page) = get(&node, "/contributions?limit=2&after=1");
    assert_eq!((ids(&page), &page["next"]), (vec![2, 3], &Value::from(3)));
    let (_, page) = get(&node, "/contributions?limit=2&after=3");
    assert_eq!((ids(&page), &page["next"]), (vec![4], &Value::Null));
    let (_, page) = get(&node, "/contributions");
    assert_eq!(ids(&page), vec![0, 1, 2, 3, 4]);
    // Filters: by contributor, combined with paging.
    let bob = Keypair::dev(1).address().to_string();
    let (_, page) = get(&node, &format!("/contributions?by={bob}"));
    assert_eq!(ids(&page), vec![3, 4]);
    assert!(page["items"]
        .as_array()
        .expect("items")
        .iter()
        .all(|c| c["contributor"] == bob.as_str()));
    let (_, page) = get(&node, &format!("/contributions?by={bob}&limit=1"));
    assert_eq!((ids(&page), &page["next"]), (vec![3], &Value::from(3)));
    let (status, answer) = get(&node, "/contributions?by=carl");
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &Value::from("bad_request"))
    );
    let stranger = Keypair::dev(77).address();
    let (status, answer) = get(&node, &format!("/contributions?by={stranger}"));
    assert_eq!(
        (status, &answer["error"]["code"]),
        (404, &Value::from("not_found"))
    );
    let (status, _) = get(&node, "/contributions?open=maybe");
    assert_eq!(status, 400);

    // Every member evaluates contribution 1 with the top value: it is minted its top
    // reward, which the event stream announces, and it is no longer open.
    let stream_url = format!("{}/events", node.api);
    let stream = std::thread::spawn(move || {
        http::read_sse_until(&stream_url, "contributor-reward", Duration::from_secs(60))
    });
    std::thread::sleep(Duration::from_millis(300)); // the stream is subscribed
    let nonces = [4, 3, 1, 1];
    let evaluations: Vec<Transaction> = (0..4)
        .map(|who| evaluate(who, nonces[who as usize], 1, 5))
        .collect();
    for tx in &evaluations {
        let (status, answer) = submit(&node, tx);
        assert_eq!(status, 202, "{answer}");
    }
    wait_final(&node, &evaluations.iter().collect::<Vec<_>>());
    let seen = stream.join().expect("stream reader");
    let reward = seen
        .lines()
        .skip_while(|l| *l != "event: reward")
        .find_map(|l| l.strip_prefix("data:"))
        .unwrap_or_else(|| panic!("no reward event in the stream:\n{seen}"));
    let reward: Value = serde_json::from_str(reward.trim()).expect("reward JSON");
    assert_eq!(reward["contribution"], 1, "{reward}");
    assert_eq!(
        reward["member"],
        Keypair::dev(0).address().to_string().as_str()
    );
    assert!(reward["height"].as_u64().is_some_and(|h| h > 0), "{reward}");
    let (_, c) = get(&node, "/contributions/1");
    assert_eq!(
        (&c["median_max"], &c["open"]),
        (&Value::from(5), &Value::Bool(false)),
        "{c}"
    );
    let (_, page) = get(&node, "/contributions?open=true");
    assert_eq!(ids(&page), vec![0, 2, 3, 4]);
    let (_, page) = get(&node, "/contributions?open=true&after=0&limit=1");
    assert_eq!((ids(&page), &page["next"]), (vec![2], &Value::from(2)));

    // The explanation of alice's balances: contribution 1, which she submitted and
    // evaluated first, is the one listed (limit=1): her stake, the three later evaluators
    // who agreed with her, her reward; her other two contributions (fees only) are summed.
    let alice = Keypair::dev(0).address().to_string();
    let (status, x) = get(&node, &format!("/accounts/{alice}/explain?limit=1"));
    assert_eq!(status, 200, "{x}");
    let listed = x["contributions"].as_array().expect("contributions");
    assert_eq!(listed.len(), 1, "{x}");
    assert_eq!(
        (
            &listed[0]["id"],
            &listed[0]["title"],
            &listed[0]["contributor"],
            &listed[0]["value"]
        ),
        (
            &Value::from(1),
            &Value::from("a1"),
            &Value::Bool(true),
            &Value::from(5)
        ),
        "{x}"
    );
    let rule = |rules: &Value, name: &str, asset: &str| -> Option<Value> {
        rules
            .as_array()?
            .iter()
            .find(|r| r["rule"] == name && r["asset"] == asset)
            .cloned()
    };
    let shared = rule(&listed[0]["rules"], "redistribution", "reputation").expect("redistribution");
    assert_eq!(shared["count"], 3, "{x}");
    assert!(
        rule(&listed[0]["rules"], "stake", "reputation").is_some(),
        "{x}"
    );
    assert!(
        rule(&listed[0]["rules"], "contributor-reward", "tokens").is_some(),
        "{x}"
    );
    assert_eq!(x["other_contributions"]["contributions"], 2, "{x}");
    assert_eq!(
        rule(&x["other_contributions"]["rules"], "fee", "tokens").expect("fees")["count"],
        2
    );
    // Exact figures that add up: opening plus the totals by rule is the balance now.
    let amount = |v: &Value| -> pov_protocol::Amount {
        serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{v}: {e}"))
    };
    let (_, account) = get(&node, &format!("/accounts/{alice}"));
    for asset in ["reputation", "tokens"] {
        let mut total = amount(&x["opening"][asset]);
        for r in x["by_rule"]
            .as_array()
            .expect("by_rule")
            .iter()
            .filter(|r| r["asset"] == asset)
        {
            total = total.checked_add(amount(&r["total"])).expect("sum");
        }
        assert_eq!(total, amount(&x["closing"][asset]), "{asset}: {x}");
        assert_eq!(total, amount(&account[asset]), "{asset}: {x}");
    }
    let (status, _) = get(&node, &format!("/accounts/{alice}/explain?limit=x"));
    assert_eq!(status, 400);

    // Contribution 1's evaluations in order: alice first, whose stake the three later
    // evaluators who agreed added to; the last shared with the three before it; the reward
    // as it was minted adds up to the contribution's.
    let (status, evs) = get(&node, "/contributions/1/evaluations");
    assert_eq!(status, 200, "{evs}");
    let items = evs["items"].as_array().expect("items");
    assert_eq!(
        (items.len(), &evs["total"], &evs["next"]),
        (4, &Value::from(4), &Value::Null)
    );
    assert_eq!(items[0]["member"], alice.as_str());
    assert_eq!(items[0]["received"]["from"], 3, "{evs}");
    assert_eq!(items[3]["shared"]["with"], 3, "{evs}");
    assert!(amount(&items[0]["stake"]).is_negative(), "{evs}");
    let mut minted = pov_protocol::Amount::ZERO;
    for e in items {
        minted = minted
            .checked_add(amount(&e["minted"]["tokens"]))
            .expect("sum");
    }
    assert_eq!(minted, amount(&c["minted_tokens"]), "{evs}");
    let (_, page) = get(&node, "/contributions/1/evaluations?limit=2");
    let ns = |p: &Value| -> Vec<u64> {
        p["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|e| e["n"].as_u64().expect("n"))
            .collect()
    };
    assert_eq!((ns(&page), &page["next"]), (vec![0, 1], &Value::from(1)));
    let (_, page) = get(&node, "/contributions/1/evaluations?after=1&limit=2");
    assert_eq!((ns(&page), &page["next"]), (vec![2, 3], &Value::Null));
    let (status, _) = get(&node, "/contributions/99/evaluations");
    assert_eq!(status, 404);

    // alice's balances over time: the genesis balances first, the balances now last, and
    // never more points than asked for.
    let (_, account) = get(&node, &format!("/accounts/{alice}"));
    let (status, tl) = get(&node, &format!("/accounts/{alice}/timeline"));
    assert_eq!(status, 200, "{tl}");
    let points = tl["points"].as_array().expect("points");
    assert_eq!(
        (&points[0]["reputation"], &points[0]["tokens"]),
        (&Value::from("40"), &Value::from("100")),
        "{tl}"
    );
    let last = points.last().expect("a point");
    assert_eq!(
        (&last["reputation"], &last["tokens"]),
        (&account["reputation"], &account["tokens"]),
        "{tl}"
    );
    assert_eq!(tl["evaluations"][0]["contribution"], 1, "{tl}");
    let (_, tl) = get(&node, &format!("/accounts/{alice}/timeline?points=2"));
    assert_eq!(tl["points"].as_array().expect("points").len(), 2, "{tl}");

    // The cooperative at a glance.
    let (status, o) = get(&node, "/overview");
    assert_eq!(status, 200, "{o}");
    assert_eq!(
        (&o["members"], &o["contributions"]),
        (&Value::from(4), &Value::from(5)),
        "{o}"
    );
    assert_eq!(o["validators"][0]["signing"], true, "{o}");

    // A member's history, page by page: the pages, followed by their `next` cursors, are
    // the whole history in order, and the last page says there is no more.
    let alice = Keypair::dev(0).address();
    let history = format!("/accounts/{alice}/history");
    let (status, whole) = get(&node, &format!("{history}?limit=1000"));
    assert_eq!(status, 200, "{whole}");
    assert_eq!(whole["next"], Value::Null);
    let whole = whole["events"].as_array().expect("events").clone();
    assert!(
        whole.len() >= 5,
        "alice paid 3 fees and evaluated: {whole:?}"
    );
    let mut paged = Vec::new();
    let mut path = format!("{history}?limit=2");
    loop {
        let (status, page) = get(&node, &path);
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().expect("events");
        assert!(events.len() <= 2, "{page}");
        paged.extend(events.iter().cloned());
        match page["next"].as_str() {
            Some(next) => path = format!("{history}?limit=2&after={next}"),
            None => break,
        }
        assert!(paged.len() <= whole.len(), "paging does not end: {paged:?}");
    }
    assert_eq!(paged, whole);
    // Newest first: the same events the other way round.
    let (_, newest) = get(&node, &format!("{history}?order=newest&limit=1000"));
    let mut reversed = newest["events"].as_array().expect("events").clone();
    reversed.reverse();
    assert_eq!(reversed, whole);
    // A cursor that does not parse is a bad request.
    let (status, answer) = get(&node, &format!("{history}?after=3.x"));
    assert_eq!(
        (status, &answer["error"]["code"]),
        (400, &Value::from("bad_request"))
    );
}

#[test]
fn pending_transactions_next_nonce_and_a_full_mempool() {
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("dev");
    // First start makes the dev home; then a minute between blocks and room for three
    // pending transactions.
    let node = NodeProcess::start_dev(&home, free_ports(1));
    assert!(
        node.wait_height(1, Duration::from_secs(30)),
        "{}",
        node.log_tail()
    );
    assert!(node.stop().success());
    let config = home.join("config.toml");
    let text = std::fs::read_to_string(&config).expect("config");
    let text = text
        .replace("block_time_ms = 1000", "block_time_ms = 60000")
        .replace("max_txs = 3000", "max_txs = 3");
    assert!(
        text.contains("block_time_ms = 60000") && text.contains("max_txs = 3\n"),
        "{text}"
    );
    std::fs::write(&config, text).expect("config");
    let node = NodeProcess::start_dev(&home, free_ports(1));
    // A restarted validator decides its next height at once, then waits block_time_ms:
    // once its log (new for this run) shows that block final, the next is a minute away.
    let start = Instant::now();
    while !std::fs::read_to_string(home.join("povd.log"))
        .unwrap_or_default()
        .contains("block final")
    {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{}",
            node.log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let at = node.height();

    // bob's first transaction is pending: GET /tx says so and shows it, and next_nonce
    // counts it while his finalized nonce does not.
    let bob = Keypair::dev(1).address();
    let one = contribute(1, 1, "pending-1");
    assert_eq!(submit(&node, &one).0, 202);
    let (status, info) = get(&node, &format!("/tx/{}", one.hash()));
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["status"], "pending", "{info}");
    assert_eq!(info["tx"]["nonce"], 1, "{info}");
    let (_, account) = get(&node, &format!("/accounts/{bob}"));
    assert_eq!(
        (&account["nonce"], &account["next_nonce"]),
        (&Value::from(0), &Value::from(2))
    );
    let two = contribute(1, 2, "pending-2");
    assert_eq!(submit(&node, &two).0, 202);
    let (_, account) = get(&node, &format!("/accounts/{bob}"));
    assert_eq!(account["next_nonce"], 3, "{account}");
    // A member with nothing pending: next_nonce is the finalized nonce plus one.
    let (_, carol) = get(&node, &format!("/accounts/{}", Keypair::dev(2).address()));
    assert_eq!(carol["next_nonce"], 1, "{carol}");

    // The third fills the mempool; the fourth gets 503 with the stable code, and is not
    // kept; a known one is still answered 202 (it is already in).
    assert_eq!(submit(&node, &contribute(2, 1, "pending-3")).0, 202);
    let fourth = contribute(3, 1, "pending-4");
    let (status, answer) = submit(&node, &fourth);
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"]["code"], "mempool_full", "{answer}");
    let (status, _) = get(&node, &format!("/tx/{}", fourth.hash()));
    assert_eq!(status, 404);
    assert_eq!(submit(&node, &one).0, 202);
    let (_, status_doc) = get(&node, "/status");
    assert_eq!(status_doc["mempool"], 3, "{status_doc}");
    assert_eq!(
        node.height(),
        at,
        "no block came in between: the checks saw pending state"
    );
    assert!(node.stop().success());
}
