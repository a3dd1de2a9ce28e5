//! Following finality: a thread reads node 0's event stream (`GET /events`) and records
//! when each block was announced and which transactions it held.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pov_crypto::Hash;

/// One final block as the harness saw it.
#[derive(Debug, Clone)]
pub struct SeenBlock {
    /// When its event arrived.
    pub at: Instant,
    /// How many transactions it held.
    pub txs: usize,
}

#[derive(Debug, Default)]
struct Seen {
    finals: HashMap<Hash, Instant>,
    blocks: Vec<SeenBlock>,
    error: Option<String>,
}

/// The follower thread's record, shared.
pub struct Follower {
    seen: Arc<Mutex<Seen>>,
}

impl Follower {
    /// Connects to `api/events` and starts recording.
    pub fn start(api: &str) -> anyhow::Result<Follower> {
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder().timeout_global(None).build(),
        );
        let response = agent.get(format!("{api}/events")).call()?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let record = seen.clone();
        std::thread::spawn(move || {
            let mut response = response;
            let reader = std::io::BufReader::new(response.body_mut().as_reader());
            let mut event = String::new();
            for line in reader.lines() {
                let line = match line {
                    Ok(l) => l,
                    Err(e) => {
                        lock(&record).error = Some(e.to_string());
                        return;
                    }
                };
                if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_string();
                } else if let Some(data) = line.strip_prefix("data:") {
                    if event == "block" {
                        on_block(&record, data.trim());
                    }
                }
            }
            lock(&record).error = Some("the event stream ended".to_string());
        });
        Ok(Follower { seen })
    }

    /// Waits until every hash in `hashes` was in a final block; returns when each was.
    pub fn wait_final(
        &self,
        hashes: &[Hash],
        limit: Duration,
    ) -> anyhow::Result<HashMap<Hash, Instant>> {
        let start = Instant::now();
        loop {
            {
                let seen = lock(&self.seen);
                let missing = hashes
                    .iter()
                    .filter(|h| !seen.finals.contains_key(h))
                    .count();
                if missing == 0 {
                    return Ok(hashes.iter().map(|h| (*h, seen.finals[h])).collect());
                }
                if let Some(e) = &seen.error {
                    anyhow::bail!("following finality failed: {e} ({missing} not final)");
                }
                anyhow::ensure!(
                    start.elapsed() < limit,
                    "{missing} of {} transactions not final after {limit:?}",
                    hashes.len()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Every block seen so far, in arrival order.
    pub fn blocks(&self) -> Vec<SeenBlock> {
        lock(&self.seen).blocks.clone()
    }
}

fn lock(m: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn on_block(record: &Mutex<Seen>, data: &str) {
    let at = Instant::now();
    let Ok(value) = serde_json::from_str::<serde_json::Value>(data) else {
        return;
    };
    let txs: Vec<Hash> = value["txs"]
        .as_array()
        .map(|a| a.iter().filter_map(|h| h.as_str()?.parse().ok()).collect())
        .unwrap_or_default();
    let mut seen = lock(record);
    seen.blocks.push(SeenBlock { at, txs: txs.len() });
    for hash in txs {
        seen.finals.entry(hash).or_insert(at);
    }
}
