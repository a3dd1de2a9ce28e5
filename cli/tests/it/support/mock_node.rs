//! A stand-in for `povd`'s HTTP API (`docs/api.md`), backed by the real state machine.
//!
//! It exists so that `pov`'s node commands can be tested without a consensus engine: every
//! endpoint `pov` uses answers with the documented JSON, transactions are checked against
//! the state plus pending ones exactly as the API says, and a producer thread turns pending
//! transactions into one-validator "blocks" every 50 ms. It is not a node (no consensus, no
//! storage, no certificates that verify): the end-to-end test runs the real `povd`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use pov_crypto::Address;
use pov_protocol::genesis::Genesis;
use pov_protocol::{Amount, Event, RewardRule, State, Transaction};
use serde_json::{json, Value};

/// One finalized transaction.
struct TxRecord {
    height: u64,
    index: usize,
    tx: Transaction,
    events: Vec<Value>,
}

struct Chain {
    genesis: Genesis,
    state: State,
    pending: Vec<Transaction>,
    txs: HashMap<String, TxRecord>,
    /// Blocks from height 1: (hash, time_ms, tx hashes, state root).
    blocks: Vec<(String, u64, Vec<String>, String)>,
    /// Per member address: history events with their height.
    history: HashMap<Address, Vec<Value>>,
}

impl Chain {
    fn height(&self) -> u64 {
        self.blocks.len() as u64
    }

    fn produce(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let height = self.height() + 1;
        let txs = std::mem::take(&mut self.pending);
        if self.state.begin_block(height).is_err() {
            return;
        }
        let mut hashes = Vec::new();
        for tx in txs {
            let Ok(events) = self.state.apply_verified(&tx) else {
                continue; // invalidated by an earlier transaction: dropped
            };
            let hash = tx.hash().to_string();
            let index = hashes.len();
            let events: Vec<Value> = events
                .iter()
                .map(|e| self.event_json(e, height, &hash, index))
                .collect();
            for e in &events {
                let addr: Address = e["member"]
                    .as_str()
                    .and_then(|a| a.parse().ok())
                    .unwrap_or_default();
                let mut line = e.clone();
                if let Some(obj) = line.as_object_mut() {
                    obj.remove("member");
                    obj.remove("member_id");
                }
                self.history.entry(addr).or_default().push(line);
            }
            hashes.push(hash.clone());
            self.txs.insert(
                hash,
                TxRecord {
                    height,
                    index,
                    tx,
                    events,
                },
            );
        }
        let time = self.genesis.genesis_time_ms + height * 1000;
        let block_hash = pov_crypto::hash(format!("mock-block-{height}-{hashes:?}").as_bytes());
        self.blocks.push((
            block_hash.to_string(),
            time,
            hashes,
            self.state.state_root().to_string(),
        ));
    }

    fn event_json(&self, e: &Event, height: u64, tx_hash: &str, index: usize) -> Value {
        let member = self
            .state
            .member(e.member)
            .map(|m| m.address.to_string())
            .unwrap_or_default();
        json!({
            "height": height, "tx_hash": tx_hash, "tx_index": index,
            "rule": e.rule, "member": member, "member_id": e.member, "asset": e.asset,
            "amount": e.amount, "contribution": e.contribution,
        })
    }

    fn contribution_json(&self, id: u64) -> Option<Value> {
        let c = self.state.contribution(id)?;
        let r = self.state.total_reputation();
        let rep = |m: u32| {
            self.state
                .member(m)
                .map(|x| x.reputation)
                .unwrap_or(Amount::ZERO)
        };
        let engaged = Amount::sum(c.evaluations.iter().map(|e| rep(e.member))).ok()?;
        let share = if r.is_zero() {
            Amount::ZERO
        } else {
            engaged.checked_div(r).ok()?
        };
        // Lower weighted median: reputation that has not evaluated counts at the lowest value.
        let mut weights: Vec<(i64, Amount)> = c
            .evaluations
            .iter()
            .map(|e| (e.value, rep(e.member)))
            .collect();
        weights.push((c.params.lowest_value(), r.checked_sub(engaged).ok()?));
        weights.sort_by_key(|w| w.0);
        let mut running = Amount::ZERO;
        let mut median = c.params.lowest_value();
        for (v, w) in weights {
            running = running.checked_add(w).ok()?;
            if running.mantissa() * 2 > r.mantissa() {
                median = v;
                break;
            }
        }
        let is_median = matches!(c.params.reward, RewardRule::Median { .. });
        let contributor = self.state.member(c.contributor)?.address.to_string();
        Some(json!({
            "id": c.id, "contributor": contributor, "kind": c.kind, "title": c.title,
            "uri": c.uri, "content_hash": c.content_hash,
            "evaluations": c.evaluations.iter().map(|e| json!({
                "member": self.state.member(e.member).map(|m| m.address.to_string()),
                "value": e.value, "seq": e.seq,
            })).collect::<Vec<_>>(),
            "engaged_reputation": engaged, "engaged_share": share,
            "median": if is_median { json!(median) } else { Value::Null },
            "median_max": if is_median { json!(c.median_max) } else { Value::Null },
            "max_score": c.max_score,
            "minted_tokens": c.minted_tokens, "minted_reputation": c.minted_reputation,
            "evaluation_count": c.evaluation_count,
            "reward_rule": if is_median { "median" } else { "threshold" },
        }))
    }

    fn is_open(&self, id: u64) -> bool {
        let Some(c) = self.state.contribution(id) else {
            return false;
        };
        match c.params.reward {
            RewardRule::Median { .. } => c.median_max < c.params.top_value(),
            RewardRule::Threshold { .. } => c.max_score.is_none_or(|s| s < Amount::ONE),
        }
    }
}

/// A running mock node; dropped, it stops.
pub struct MockNode {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    addr: std::net::SocketAddr,
}

impl MockNode {
    /// Starts a mock node of the development genesis on a free port.
    pub fn start() -> MockNode {
        MockNode::start_on("127.0.0.1:0")
    }

    /// Starts a mock node of the development genesis on `addr`.
    pub fn start_on(addr: &str) -> MockNode {
        let genesis = Genesis::dev();
        let state = genesis.state().expect("dev genesis is valid");
        let chain = Arc::new(Mutex::new(Chain {
            genesis,
            state,
            pending: Vec::new(),
            txs: HashMap::new(),
            blocks: Vec::new(),
            history: HashMap::new(),
        }));
        let listener = TcpListener::bind(addr).expect("bind mock node");
        let addr = listener.local_addr().expect("local addr");
        let stop = Arc::new(AtomicBool::new(false));
        let producer = {
            let chain = chain.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                    chain.lock().expect("lock").produce();
                }
            })
        };
        let server = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(stream) = conn else { continue };
                    let chain = chain.clone();
                    std::thread::spawn(move || {
                        let _ = serve(stream, &chain);
                    });
                }
            })
        };
        MockNode {
            url: format!("http://{addr}"),
            stop,
            threads: vec![producer, server],
            addr,
        }
    }
}

impl Drop for MockNode {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr); // wake the accept loop
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn serve(stream: TcpStream, chain: &Mutex<Chain>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut content_length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body)?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let (status, value) = route(&method, &target, &body, chain);
    let text = value.to_string();
    let reason = match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        _ => "Error",
    };
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    )?;
    out.flush()
}

fn error(status: u16, code: &str, message: impl Into<String>) -> (u16, Value) {
    (
        status,
        json!({"error": {"code": code, "message": message.into()}}),
    )
}

fn route(method: &str, target: &str, body: &[u8], chain: &Mutex<Chain>) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params: HashMap<&str, &str> = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .collect();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut chain = chain.lock().expect("lock");
    match (method, segs.as_slice()) {
        ("GET", ["status"]) => {
            let head = chain.blocks.last().cloned();
            let validator = pov_protocol::genesis::dev_validator_key(0).address();
            (
                200,
                json!({
                    "chain_id": chain.genesis.chain_id, "genesis_hash": chain.genesis.hash(),
                    "height": chain.height(),
                    "head_hash": head.as_ref().map(|b| b.0.clone()).unwrap_or_else(|| chain.genesis.hash().to_string()),
                    "state_root": chain.state.state_root(),
                    "time_ms": head.as_ref().map_or(chain.genesis.genesis_time_ms, |b| b.1),
                    "peers": 0, "syncing": false, "validator": validator,
                    "mempool": chain.pending.len(), "db_size_bytes": 0, "version": "mock",
                }),
            )
        }
        ("POST", ["tx"]) => {
            let tx: Transaction = match serde_json::from_slice(body) {
                Ok(tx) => tx,
                Err(e) => return error(400, "bad_request", format!("malformed transaction: {e}")),
            };
            if let Err(e) = tx.verify_signature() {
                return error(422, "tx_rejected", e.to_string());
            }
            let mut scratch = chain.state.clone();
            for p in &chain.pending {
                let _ = scratch.apply_verified(p);
            }
            if let Err(e) = scratch.apply_verified(&tx) {
                return error(422, "tx_rejected", e.to_string());
            }
            let hash = tx.hash().to_string();
            chain.pending.push(tx);
            (202, json!({"hash": hash}))
        }
        ("GET", ["tx", hash]) => {
            if let Some(r) = chain.txs.get(*hash) {
                return (
                    200,
                    json!({"hash": hash, "status": "final", "height": r.height, "index": r.index,
                           "tx": r.tx, "events": r.events}),
                );
            }
            if let Some(tx) = chain.pending.iter().find(|t| t.hash().to_string() == *hash) {
                return (200, json!({"hash": hash, "status": "pending", "tx": tx}));
            }
            error(404, "not_found", format!("no transaction {hash}"))
        }
        ("GET", ["accounts", addr, rest @ ..]) => {
            let Ok(address) = addr.parse::<Address>() else {
                return error(400, "bad_request", format!("{addr} is not an address"));
            };
            let Some((id, m)) = chain.state.member_by_address(&address) else {
                return error(404, "not_found", format!("no account {address}"));
            };
            match rest {
                [] => {
                    let pending =
                        chain.pending.iter().filter(|t| t.sender == address).count() as u64;
                    let r = chain.state.total_reputation();
                    let share = if r.is_zero() {
                        Amount::ZERO
                    } else {
                        m.reputation.checked_div(r).unwrap_or(Amount::ZERO)
                    };
                    let referrer = m
                        .referrer
                        .and_then(|i| chain.state.member(i))
                        .map(|x| x.address.to_string());
                    (
                        200,
                        json!({"address": address, "member_id": id, "name": m.name,
                               "reputation": m.reputation, "tokens": m.tokens, "nonce": m.nonce,
                               "next_nonce": m.nonce + 1 + pending, "referrer": referrer,
                               "share_of_reputation": share}),
                    )
                }
                ["history"] => {
                    let since: u64 = params
                        .get("since")
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(0);
                    let events: Vec<Value> = chain
                        .history
                        .get(&address)
                        .map(|h| {
                            h.iter()
                                .filter(|e| e["height"].as_u64().unwrap_or(0) >= since)
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    (200, json!({"address": address, "events": events}))
                }
                _ => error(404, "not_found", "no such route"),
            }
        }
        ("GET", ["contributions", id]) => match id.parse::<u64>() {
            Ok(id) => match chain.contribution_json(id) {
                Some(v) => (200, v),
                None => error(404, "not_found", format!("no contribution {id}")),
            },
            Err(_) => error(400, "bad_request", format!("{id} is not a contribution id")),
        },
        ("GET", ["contributions"]) => {
            let open = params.get("open") == Some(&"true");
            let by: Option<Address> = params.get("by").and_then(|b| b.parse().ok());
            let after: Option<u64> = params.get("after").and_then(|a| a.parse().ok());
            let limit: usize = params
                .get("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(50)
                .min(500);
            let mut items = Vec::new();
            let mut next = None;
            for c in chain.state.contributions() {
                if after.is_some_and(|a| c.id <= a) {
                    continue;
                }
                if open && !chain.is_open(c.id) {
                    continue;
                }
                if let Some(b) = by {
                    if chain.state.member(c.contributor).map(|m| m.address) != Some(b) {
                        continue;
                    }
                }
                if items.len() == limit {
                    next = items.last().and_then(|v: &Value| v["id"].as_u64());
                    break;
                }
                if let Some(v) = chain.contribution_json(c.id) {
                    items.push(v);
                }
            }
            (200, json!({"items": items, "next": next}))
        }
        ("GET", ["blocks", h]) => {
            let Ok(h) = h.parse::<u64>() else {
                return error(400, "bad_request", format!("{h} is not a height"));
            };
            let Some((hash, time, txs, root)) = h
                .checked_sub(1)
                .and_then(|i| chain.blocks.get(i as usize))
                .cloned()
            else {
                return error(404, "not_found", format!("no block {h}"));
            };
            let prev = if h == 1 {
                chain.genesis.hash().to_string()
            } else {
                chain.blocks[h as usize - 2].0.clone()
            };
            (
                200,
                json!({"height": h, "hash": hash,
                       "header": {"chain_id": chain.genesis.chain_id, "height": h, "prev_hash": prev,
                                  "time_ms": time,
                                  "proposer": pov_protocol::genesis::dev_validator_key(0).address(),
                                  "state_root": root},
                       "txs": txs, "certificate": {"round": 0, "signatures": []}}),
            )
        }
        _ => error(404, "not_found", format!("no route {method} {path}")),
    }
}
