//! Open-loop submission: client threads send the pre-signed transactions at their scheduled
//! times (or as fast as the nodes accept), each sender's transactions to one node and in
//! nonce order, one per `POST /tx` or many per `POST /txs`.
//!
//! Transaction `k` of the sequence is due at `start + k / rate`. A thread sends whatever is
//! due (up to `--batch` at once); it never waits for finality. A node that answers "mempool
//! full" gets the refused transaction and everything after it again a little later, and
//! later each time nothing got in (a sender's later nonces cannot be admitted before it),
//! which is the back-pressure a real client sees; the time a transaction counts from is its due time, so waiting for room is
//! part of its latency (no coordinated omission).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use pov_crypto::Hash;

use crate::workload::Signed;

/// The first wait before sending again what a full mempool refused.
const FULL_BACKOFF_MIN: Duration = Duration::from_millis(20);
/// The longest wait, doubled up to while a full mempool takes nothing.
const FULL_BACKOFF_MAX: Duration = Duration::from_millis(640);

/// Offered load.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// As fast as the nodes accept.
    Max,
    /// This many transactions per second.
    PerSecond(f64),
}

impl FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Rate, String> {
        if s == "max" {
            return Ok(Rate::Max);
        }
        match s.parse::<f64>() {
            Ok(r) if r > 0.0 && r.is_finite() => Ok(Rate::PerSecond(r)),
            _ => Err(format!(
                "{s:?} is not a rate: give transactions per second, or max"
            )),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rate::Max => f.write_str("max"),
            Rate::PerSecond(r) => write!(f, "{r} tx/s"),
        }
    }
}

/// How to submit.
#[derive(Debug, Clone, Copy)]
pub struct SubmitOptions {
    /// Offered load.
    pub rate: Rate,
    /// Client threads.
    pub clients: usize,
    /// Transactions per request.
    pub batch: usize,
    /// Send to every node rather than one per sender.
    pub submit_to_all: bool,
}

/// What a submission did.
#[derive(Debug, Default)]
pub struct Submitted {
    /// When each transaction was due (rate) or first sent (max): latency counts from here.
    pub started: HashMap<Hash, Instant>,
    /// When the first and last transactions were accepted.
    pub first: Option<Instant>,
    /// When the last was accepted.
    pub last: Option<Instant>,
    /// Requests made.
    pub requests: u64,
    /// Transactions refused for a full mempool and sent again.
    pub retried: u64,
    /// Transactions refused for good, with the reason.
    pub errors: Vec<String>,
}

/// Submits `txs` to the nodes at `apis` and returns once every one was accepted or refused.
pub fn submit(
    apis: &[String],
    txs: &[Signed],
    options: &SubmitOptions,
) -> anyhow::Result<Submitted> {
    anyhow::ensure!(!apis.is_empty(), "no node to submit to");
    let clients = options.clients.max(1);
    let start = Instant::now();
    let due = |k: usize| match options.rate {
        Rate::Max => start,
        Rate::PerSecond(r) => start + Duration::from_secs_f64(k as f64 / r),
    };
    // Each sender's transactions go to one client thread (so to one node), in order.
    let mut lanes: Vec<Vec<(Instant, &Signed)>> = vec![Vec::new(); clients];
    for (k, tx) in txs.iter().enumerate() {
        lanes[tx.sender as usize % clients].push((due(k), tx));
    }
    let result = Mutex::new(Submitted::default());
    std::thread::scope(|scope| {
        for (lane_index, lane) in lanes.iter().enumerate() {
            if lane.is_empty() {
                continue;
            }
            let result = &result;
            scope.spawn(move || {
                let node = lane[0].1.sender as usize % apis.len();
                let targets: Vec<&str> = if options.submit_to_all {
                    apis.iter().map(String::as_str).collect()
                } else {
                    vec![apis[node].as_str()]
                };
                let outcome = run_lane(&targets, lane, options);
                let mut r = result.lock().unwrap_or_else(|p| p.into_inner());
                r.started.extend(outcome.started);
                r.first = earliest(r.first, outcome.first);
                r.last = latest(r.last, outcome.last);
                r.requests += outcome.requests;
                r.retried += outcome.retried;
                r.errors.extend(
                    outcome
                        .errors
                        .into_iter()
                        .map(|e| format!("lane {lane_index}: {e}")),
                );
            });
        }
    });
    Ok(result.into_inner().unwrap_or_else(|p| p.into_inner()))
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn latest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// What one node said about one transaction.
enum Answer {
    Accepted,
    Full,
    Refused(String),
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    )
}

/// Sends one lane's transactions in order.
fn run_lane(targets: &[&str], lane: &[(Instant, &Signed)], options: &SubmitOptions) -> Submitted {
    let agent = agent();
    let mut out = Submitted::default();
    let mut next = 0;
    let mut transport_failures = 0;
    let mut full_backoff = FULL_BACKOFF_MIN;
    while next < lane.len() {
        let now = Instant::now();
        let (due, _) = lane[next];
        if due > now {
            std::thread::sleep(due - now);
        }
        let now = Instant::now();
        let mut end = next + 1;
        while end < lane.len() && end - next < options.batch && lane[end].0 <= now {
            end += 1;
        }
        let chunk = &lane[next..end];
        for (due, tx) in chunk {
            let at = match options.rate {
                Rate::Max => now,
                Rate::PerSecond(_) => *due,
            };
            out.started.entry(tx.hash).or_insert(at);
        }
        let mut answers = None;
        for target in targets {
            out.requests += 1;
            let a = send(&agent, target, chunk, options.batch > 1);
            if answers.is_none() {
                answers = Some(a);
            }
        }
        let answers = match answers {
            Some(Ok(a)) => a,
            Some(Err(e)) => {
                transport_failures += 1;
                if transport_failures > 50 {
                    out.errors
                        .push(format!("giving up after 50 failed requests: {e}"));
                    return out;
                }
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            None => return out,
        };
        transport_failures = 0;
        let mut advanced = 0;
        for answer in &answers {
            match answer {
                Answer::Accepted => advanced += 1,
                Answer::Refused(e) => {
                    out.errors.push(e.clone());
                    advanced += 1;
                }
                Answer::Full => break,
            }
        }
        if advanced > 0 {
            out.last = Some(Instant::now());
            out.first.get_or_insert(Instant::now());
        }
        next += advanced;
        if advanced < chunk.len() {
            // The pool is full: the refused one and those after it go again shortly, later
            // each time nothing got in (up to about a block interval), so that clients
            // polling a full pool do not take the CPU the nodes need to empty it.
            out.retried += (chunk.len() - advanced) as u64;
            full_backoff = if advanced > 0 {
                FULL_BACKOFF_MIN
            } else {
                (full_backoff * 2).min(FULL_BACKOFF_MAX)
            };
            std::thread::sleep(full_backoff);
        }
    }
    out
}

/// Posts `chunk` (one transaction to `/tx`, or a batch to `/txs`) and reads each answer.
fn send(
    agent: &ureq::Agent,
    api: &str,
    chunk: &[(Instant, &Signed)],
    batch: bool,
) -> Result<Vec<Answer>, String> {
    if !batch {
        let (_, tx) = chunk[0];
        let mut response = agent
            .post(format!("{api}/tx"))
            .header("Content-Type", "application/octet-stream")
            .send(&tx.bytes[..])
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        return Ok(vec![match status {
            202 => Answer::Accepted,
            503 if text.contains("mempool_full") => Answer::Full,
            _ => Answer::Refused(format!("{status}: {text}")),
        }]);
    }
    // The canonical postcard bytes of a Vec<Transaction>: the count as a varint, then each
    // transaction's own canonical bytes.
    let mut body = Vec::new();
    let mut n = chunk.len() as u64;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            body.push(byte);
            break;
        }
        body.push(byte | 0x80);
    }
    for (_, tx) in chunk {
        body.extend_from_slice(&tx.bytes);
    }
    let mut response = agent
        .post(format!("{api}/txs"))
        .header("Content-Type", "application/octet-stream")
        .send(&body[..])
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("POST /txs answered {status}: {text}"));
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("POST /txs: not JSON: {e}"))?;
    let results = value["results"]
        .as_array()
        .ok_or_else(|| format!("POST /txs: no results in {text}"))?;
    Ok(results
        .iter()
        .map(|r| match r["error"]["code"].as_str() {
            None => Answer::Accepted,
            Some("mempool_full") => Answer::Full,
            Some(_) => Answer::Refused(r.to_string()),
        })
        .collect())
}
