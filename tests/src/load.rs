//! A steady load of valid transactions from several senders, through the nodes' HTTP APIs,
//! that keeps going while nodes die, restart or are cut off.
//!
//! Each sender is a thread owning one dev member key. It keeps up to `WINDOW` signed
//! transactions in flight (consecutive nonces, as the mempool wants), submits them to one
//! node, and polls that node until they are final. A node that does not answer, or does not
//! make them final within `RESUBMIT_AFTER`, is left for the next one, and every
//! transaction still in flight is submitted there again in nonce order (same bytes, same
//! hash: a transaction is never signed twice for one nonce). The hashes an API reported
//! `final` are what the end checks look for in every node's chain.

use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pov_crypto::{Hash, Keypair};
use pov_protocol::{Amount, Transaction, TxBody};
use serde_json::Value;

/// Transactions a sender keeps in flight.
const WINDOW: usize = 4;

/// How long a sender waits for its oldest transaction to become final at one node before it
/// turns to the next node.
const RESUBMIT_AFTER: Duration = Duration::from_secs(4);

/// The chain id of the dev genesis every cluster runs.
const CHAIN_ID: &str = "pov-devnet";

/// Per-request timeout: short, so that a dead or cut-off node costs a sender little.
const HTTP_TIMEOUT: Duration = Duration::from_secs(2);

fn agent() -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(HTTP_TIMEOUT))
        .build();
    ureq::Agent::new_with_config(config)
}

/// What the load did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Transactions signed.
    pub signed: u64,
    /// Hashes of the transactions some node's API reported `final`.
    pub reported_final: Vec<String>,
}

/// Running senders; [`Load::stop`] ends them.
pub struct Load {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<Report>>,
    finals: Arc<Mutex<u64>>,
}

impl Load {
    /// Starts one sender per dev member index in `members` (0..4 in the dev genesis),
    /// submitting to the nodes at `apis`.
    pub fn start(apis: &[String], members: &[u32]) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let finals = Arc::new(Mutex::new(0));
        let threads = members
            .iter()
            .enumerate()
            .map(|(k, &m)| {
                let sender = Sender {
                    key: Keypair::dev(m),
                    to: Keypair::dev((m + 1) % 4).address(),
                    apis: apis.to_vec(),
                    target: k % apis.len().max(1),
                    agent: agent(),
                    stop: stop.clone(),
                    finals: finals.clone(),
                };
                std::thread::spawn(move || sender.run())
            })
            .collect();
        Load {
            stop,
            threads,
            finals,
        }
    }

    /// How many transactions were reported final so far.
    pub fn finals(&self) -> u64 {
        self.finals.lock().map(|n| *n).unwrap_or(0)
    }

    /// Waits until at least `count` transactions were reported final in all; panics after
    /// `limit`.
    pub fn wait_finals(&self, count: u64, limit: Duration) {
        let start = Instant::now();
        while self.finals() < count {
            assert!(
                start.elapsed() < limit,
                "only {} transactions final after {limit:?} (wanted {count})",
                self.finals()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops every sender and returns what they did.
    pub fn stop(self) -> Report {
        self.stop.store(true, Ordering::Relaxed);
        let mut report = Report::default();
        for thread in self.threads {
            let part = thread.join().expect("sender thread panicked");
            report.signed += part.signed;
            report.reported_final.extend(part.reported_final);
        }
        report
    }
}

struct Sender {
    key: Keypair,
    to: pov_crypto::Address,
    apis: Vec<String>,
    target: usize,
    agent: ureq::Agent,
    stop: Arc<AtomicBool>,
    finals: Arc<Mutex<u64>>,
}

impl Sender {
    fn run(mut self) -> Report {
        let mut report = Report::default();
        let Some((genesis_hash, mut nonce)) = self.chain_and_nonce() else {
            return report;
        };
        let amount = Amount::from_str("0.001").unwrap_or(Amount::ONE);
        let mut in_flight: VecDeque<Transaction> = VecDeque::new();
        let mut since = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            while in_flight.len() < WINDOW {
                nonce += 1;
                let tx = Transaction::sign(
                    &self.key,
                    CHAIN_ID,
                    &genesis_hash,
                    nonce,
                    TxBody::Transfer {
                        to: self.to,
                        amount,
                    },
                );
                report.signed += 1;
                // Whatever the answer, the transaction stays in flight: a refusal (a node
                // that missed its predecessor) is made good by the next resubmission.
                let _ = self.submit(&tx);
                in_flight.push_back(tx);
            }
            let mut progressed = false;
            while let Some(front) = in_flight.front() {
                let hash = front.hash().to_string();
                if self.status(&hash).as_deref() != Some("final") {
                    break;
                }
                report.reported_final.push(hash);
                if let Ok(mut n) = self.finals.lock() {
                    *n += 1;
                }
                in_flight.pop_front();
                progressed = true;
            }
            if progressed {
                since = Instant::now();
            } else if since.elapsed() > RESUBMIT_AFTER {
                self.target = (self.target + 1) % self.apis.len();
                for tx in &in_flight {
                    let _ = self.submit(tx);
                }
                since = Instant::now();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        report
    }

    /// The chain's genesis hash (which transactions sign) and the sender's account nonce,
    /// asked of any node that answers (retrying for a while, since the load may start while
    /// nodes are still coming up).
    fn chain_and_nonce(&mut self) -> Option<(Hash, u64)> {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) && !self.stop.load(Ordering::Relaxed) {
            let api = &self.apis[self.target];
            let genesis = self
                .get(&format!("{api}/status"))
                .and_then(|v| v["genesis_hash"].as_str()?.parse::<Hash>().ok());
            let url = format!("{api}/accounts/{}", self.key.address());
            let nonce = self.get(&url).and_then(|v| v["nonce"].as_u64());
            if let (Some(genesis), Some(nonce)) = (genesis, nonce) {
                return Some((genesis, nonce));
            }
            self.target = (self.target + 1) % self.apis.len();
            std::thread::sleep(Duration::from_millis(200));
        }
        None
    }

    fn get(&self, url: &str) -> Option<Value> {
        let mut response = self.agent.get(url).call().ok()?;
        if !response.status().is_success() {
            return None;
        }
        let text = response.body_mut().read_to_string().ok()?;
        serde_json::from_str(&text).ok()
    }

    fn status(&self, hash: &str) -> Option<String> {
        let url = format!("{}/tx/{hash}", self.apis[self.target]);
        self.get(&url)
            .and_then(|v| v["status"].as_str().map(str::to_string))
    }

    fn submit(&self, tx: &Transaction) -> Option<u16> {
        let body = serde_json::to_string(tx).ok()?;
        let response = self
            .agent
            .post(&format!("{}/tx", self.apis[self.target]))
            .header("Content-Type", "application/json")
            .send(body.as_str())
            .ok()?;
        Some(response.status().as_u16())
    }
}
