//! The client side of `povd`'s HTTP API (`docs/api.md`), and the shapes of its answers.
//!
//! Every request goes through [`Client::get`] or [`Client::post_tx`], which turn transport
//! failures into [`NodeError::Unreachable`] (exit 5), a `422 tx_rejected` into
//! [`NodeError::Rejected`] (exit 6, with the node's reason), and any other error answer into
//! [`NodeError::Api`] with the node's `code` and `message`. The typed answers ignore fields
//! they do not know, so a newer node does not break an older `pov`.

use std::time::Duration;

use pov_protocol::{Amount, Transaction};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::exit;

/// Why a request to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Nothing answered: connection refused, unknown host, timeout.
    #[error("cannot reach the node at {url}: {reason} (is povd running there? choose another with --node or POV_NODE)")]
    Unreachable {
        /// The URL asked.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// `422 tx_rejected`: the transaction breaks a protocol rule.
    #[error("transaction rejected: {0}")]
    Rejected(String),
    /// Any other error answer, with the node's own code and message.
    #[error("{message} (node answered {status} {code})")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The node's error code (`not_found`, `bad_request`, ...).
        code: String,
        /// The node's message.
        message: String,
    },
    /// Something answered, but not a `povd` API: a web server, a proxy's error page, another
    /// service on that port. Its page is not shown: it says nothing about the node.
    #[error(
        "the server at {url} is not a povd node (it answered HTTP {status} with {what} instead \
         of the node's JSON): check the address with --node or POV_NODE (povd's API listens \
         on 127.0.0.1:7070 unless its api.listen says otherwise)"
    )]
    NotANode {
        /// The URL asked.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What came instead (`an HTML page`, `text/plain`, ...).
        what: String,
    },
    /// An answer that is not the JSON the API specifies.
    #[error("unexpected answer from the node at {url}: {reason}")]
    BadResponse {
        /// The URL asked.
        url: String,
        /// What was wrong with it.
        reason: String,
    },
}

impl NodeError {
    /// The process exit code this error leads to.
    pub fn exit_code(&self) -> i32 {
        match self {
            NodeError::Unreachable { .. } | NodeError::NotANode { .. } => exit::NODE_UNREACHABLE,
            NodeError::Rejected(_) => exit::TX_REJECTED,
            NodeError::Api { .. } | NodeError::BadResponse { .. } => exit::FAILURE,
        }
    }

    /// The `error.code` of `--output json`.
    pub fn code(&self) -> &str {
        match self {
            NodeError::Unreachable { .. } => "node_unreachable",
            NodeError::NotANode { .. } => "not_a_node",
            NodeError::Rejected(_) => "tx_rejected",
            NodeError::Api { code, .. } => code,
            NodeError::BadResponse { .. } => "bad_response",
        }
    }

    /// True for a `404 not_found` answer.
    pub fn is_not_found(&self) -> bool {
        matches!(self, NodeError::Api { status: 404, .. })
    }
}

/// A connection to one node's API.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    /// A client for the node at `base` (`http://127.0.0.1:7070`).
    pub fn new(base: &str) -> Client {
        let config = ureq::Agent::config_builder()
            // Error answers carry the node's reason in their body: read them, don't bail.
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(5)))
            .timeout_global(Some(Duration::from_secs(30)))
            .user_agent(concat!("pov/", env!("CARGO_PKG_VERSION")))
            .build();
        Client {
            base: base.trim_end_matches('/').to_string(),
            agent: ureq::Agent::new_with_config(config),
        }
    }

    /// The node's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn finish(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<serde_json::Value, NodeError> {
        let mut response = result.map_err(|e| NodeError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| NodeError::Unreachable {
                url: url.to_string(),
                reason: format!("reading the answer: {e}"),
            })?;
        let json: Option<serde_json::Value> = serde_json::from_str(&body).ok();
        let not_a_node = || NodeError::NotANode {
            url: url.to_string(),
            status,
            what: describe_body(&content_type, &body),
        };
        if (200..300).contains(&status) {
            return json.ok_or_else(not_a_node);
        }
        // povd answers every error with {"error": {"code", "message"}}; anything else came
        // from something that is not povd.
        let error = json.as_ref().and_then(|j| j.get("error"));
        let code = error.and_then(|e| e.get("code")).and_then(|c| c.as_str());
        let Some(code) = code.map(str::to_string) else {
            return Err(not_a_node());
        };
        let message = error
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .unwrap_or("")
            .to_string();
        if status == 422 && code == "tx_rejected" {
            return Err(NodeError::Rejected(message));
        }
        Err(NodeError::Api {
            status,
            code,
            message,
        })
    }

    /// `GET path`, as raw JSON.
    pub fn get_value(&self, path: &str) -> Result<serde_json::Value, NodeError> {
        let url = self.url(path);
        let result = self.agent.get(&url).call();
        self.finish(&url, result)
    }

    /// `GET path`, typed, together with the raw JSON (which `--output json` prints as is).
    pub fn get<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<(T, serde_json::Value), NodeError> {
        let raw = self.get_value(path)?;
        let typed = serde_json::from_value(raw.clone()).map_err(|e| NodeError::BadResponse {
            url: self.url(path),
            reason: e.to_string(),
        })?;
        Ok((typed, raw))
    }

    /// `POST /tx` with the transaction as JSON; returns the hash the node assigned.
    pub fn post_tx(&self, tx: &Transaction) -> Result<String, NodeError> {
        let url = self.url("/tx");
        let body = serde_json::to_string(tx).map_err(|e| NodeError::BadResponse {
            url: url.clone(),
            reason: format!("encoding the transaction: {e}"),
        })?;
        let result = self
            .agent
            .post(&url)
            .content_type("application/json")
            .send(body.as_bytes());
        let answer = self.finish(&url, result)?;
        answer
            .get("hash")
            .and_then(|h| h.as_str())
            .map(str::to_string)
            .ok_or_else(|| NodeError::BadResponse {
                url,
                reason: "no \"hash\" in the answer to POST /tx".into(),
            })
    }
}

/// What a non-povd answer was, in a few words: "an HTML page", "an empty body",
/// "text/plain content".
fn describe_body(content_type: &str, body: &str) -> String {
    let start = body.trim_start().get(..15).unwrap_or(body.trim_start());
    let lower = start.to_ascii_lowercase();
    if content_type.starts_with("text/html")
        || lower.starts_with("<!doctype")
        || lower.starts_with("<html")
    {
        "an HTML page".into()
    } else if body.trim().is_empty() {
        "an empty body".into()
    } else if content_type.is_empty() {
        "content that is not JSON".into()
    } else {
        let kind = content_type
            .split(';')
            .next()
            .unwrap_or(content_type)
            .trim();
        format!("{kind} content")
    }
}

/// `GET /status`.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    /// The chain the node serves (transactions are signed for it).
    pub chain_id: String,
    /// The hash of its genesis, which transactions sign too.
    pub genesis_hash: pov_crypto::Hash,
}

/// `GET /accounts/{address}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    /// The member's address.
    pub address: String,
    /// Its permanent number.
    #[serde(default)]
    pub member_id: Option<u64>,
    /// Its genesis name, if any.
    #[serde(default)]
    pub name: Option<String>,
    /// Reputation.
    pub reputation: Amount,
    /// Tokens.
    pub tokens: Amount,
    /// Transactions applied.
    pub nonce: u64,
    /// The nonce to sign the next transaction with (counts pending ones).
    pub next_nonce: u64,
    /// Who admitted it.
    #[serde(default)]
    pub referrer: Option<String>,
    /// Its share of all reputation.
    #[serde(default)]
    pub share_of_reputation: Option<Amount>,
    /// Where its founding reputation came from, if it was carried over with a proof.
    #[serde(default)]
    pub provenance: Option<Provenance>,
}

/// A founding member's provenance, as `GET /accounts/{address}` shows it.
#[derive(Debug, Clone, Deserialize)]
pub struct Provenance {
    /// The source cooperative's genesis hash.
    pub source_genesis: String,
    /// The height of the proven state.
    pub height: u64,
    /// The proof's hash.
    pub proof: String,
    /// The reputation proven.
    pub reputation: Amount,
    /// The scale applied.
    pub scale: Amount,
}

/// One line of `GET /accounts/{address}/history`.
#[derive(Debug, Clone, Deserialize)]
pub struct HistoryEvent {
    /// The block.
    pub height: u64,
    /// The transaction.
    #[serde(default)]
    pub tx_hash: Option<String>,
    /// The rule that made the change (`stake`, `redistribution`, ...).
    pub rule: String,
    /// `reputation` or `tokens`.
    pub asset: String,
    /// The signed change.
    pub amount: Amount,
    /// The contribution it belongs to.
    #[serde(default)]
    pub contribution: Option<u64>,
    /// The balance of that asset right after the change, when the node reports it.
    #[serde(default)]
    pub balance_after: Option<Amount>,
}

/// `GET /accounts/{address}/history`.
#[derive(Debug, Clone, Deserialize)]
pub struct History {
    /// Oldest first.
    pub events: Vec<HistoryEvent>,
    /// The cursor of the next page (`after=`), or `None` on the last page.
    #[serde(default)]
    pub next: Option<String>,
}

impl Client {
    /// A member's whole history since `since`, page after page (`GET
    /// /accounts/{address}/history`), with the raw JSON of every event.
    pub fn history(
        &self,
        address: &str,
        since: u64,
    ) -> Result<(Vec<HistoryEvent>, Vec<serde_json::Value>), NodeError> {
        let mut events = Vec::new();
        let mut raw_events = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                None => format!("/accounts/{address}/history?since={since}&limit=1000"),
                Some(cursor) => format!("/accounts/{address}/history?after={cursor}&limit=1000"),
            };
            let (page, raw) = self.get::<History>(&path)?;
            events.extend(page.events);
            if let Some(list) = raw.get("events").and_then(|e| e.as_array()) {
                raw_events.extend(list.iter().cloned());
            }
            match page.next {
                Some(next) if Some(&next) != after.as_ref() => after = Some(next),
                _ => return Ok((events, raw_events)),
            }
        }
    }
}

/// One event of `GET /tx/{hash}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TxEvent {
    /// The rule.
    pub rule: String,
    /// The member's address.
    pub member: String,
    /// `reputation` or `tokens`.
    pub asset: String,
    /// The signed change.
    pub amount: Amount,
    /// The contribution it belongs to.
    #[serde(default)]
    pub contribution: Option<u64>,
}

/// `GET /tx/{hash}`.
#[derive(Debug, Clone, Deserialize)]
pub struct TxStatus {
    /// The transaction's hash.
    pub hash: String,
    /// `pending` or `final`.
    pub status: String,
    /// The block, once final.
    #[serde(default)]
    pub height: Option<u64>,
    /// The index in the block, once final.
    #[serde(default)]
    pub index: Option<u64>,
    /// What it changed, once final.
    #[serde(default)]
    pub events: Option<Vec<TxEvent>>,
}

/// A live evaluation in `GET /contributions/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Evaluation {
    /// The evaluator.
    pub member: String,
    /// The value given.
    pub value: i64,
    /// Its place in the insertion order.
    #[serde(default)]
    pub seq: Option<u64>,
}

/// One change of a parameter proposal in `GET /proposals/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct ProposalChange {
    /// The parameter path.
    pub path: String,
    /// The value it proposes (JSON: amounts are strings).
    pub value: serde_json::Value,
    /// The value in force now.
    #[serde(default)]
    pub now: Option<serde_json::Value>,
}

/// One parameter a passed proposal changed, with the value it replaced.
#[derive(Debug, Clone, Deserialize)]
pub struct AppliedChange {
    /// The parameter path.
    pub path: String,
    /// The value before (`null` when a contribution type was added).
    #[serde(default)]
    pub old: Option<serde_json::Value>,
    /// The value after.
    pub new: serde_json::Value,
}

/// What a passed proposal did at the start of the block after it passed.
#[derive(Debug, Clone, Deserialize)]
pub struct Applied {
    /// The first block ruled by the new values.
    pub height: u64,
    /// Each change with its old value.
    pub changes: Vec<AppliedChange>,
}

/// A passed proposal that could not take effect.
#[derive(Debug, Clone, Deserialize)]
pub struct Void {
    /// The block at whose start it was due.
    pub height: u64,
    /// Why none of its changes applied.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `GET /proposals/{id}` (and the items of the list): a parameter proposal (spec section 11).
#[derive(Debug, Clone, Deserialize)]
pub struct Proposal {
    /// Its id (a contribution id).
    pub id: u64,
    /// The proposer's address.
    pub proposer: String,
    /// Its title.
    pub title: String,
    /// Where the reasoning lives.
    #[serde(default)]
    pub uri: String,
    /// The block that included it.
    pub height: u64,
    /// The last height at which evaluations are accepted.
    pub expires_at: u64,
    /// `open`, `passed`, `applied`, `void` or `expired`.
    pub status: String,
    /// What it changes.
    pub changes: Vec<ProposalChange>,
    /// The share of all reputation whose live evaluation accepts it (1).
    pub accepted_share: Amount,
    /// That reputation.
    pub accepted_reputation: Amount,
    /// The share of all reputation whose live evaluation rejects it (0).
    pub rejected_share: Amount,
    /// The share at which it passes (one half).
    pub pass_share: Amount,
    /// Live evaluations.
    #[serde(default)]
    pub evaluations: Vec<Evaluation>,
    /// The block in which it passed.
    #[serde(default)]
    pub passed_at: Option<u64>,
    /// What it changed, once in force.
    #[serde(default)]
    pub applied: Option<Applied>,
    /// Why it did not take effect, if it was void.
    #[serde(default)]
    pub void: Option<Void>,
}

/// `GET /proposals`: one page.
#[derive(Debug, Clone, Deserialize)]
pub struct ProposalPage {
    /// This page.
    pub items: Vec<Proposal>,
    /// The `after` of the next page, if there is one.
    #[serde(default)]
    pub next: Option<u64>,
}

/// `GET /contributions/{id}` (and the items of the list).
#[derive(Debug, Clone, Deserialize)]
pub struct Contribution {
    /// Its id.
    pub id: u64,
    /// The contributor's address.
    pub contributor: String,
    /// Its type.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// Where the work lives.
    #[serde(default)]
    pub uri: String,
    /// blake3 of the work.
    #[serde(default)]
    pub content_hash: Option<String>,
    /// Live evaluations.
    #[serde(default)]
    pub evaluations: Vec<Evaluation>,
    /// Reputation of its live evaluators.
    #[serde(default)]
    pub engaged_reputation: Option<Amount>,
    /// That as a share of all reputation.
    #[serde(default)]
    pub engaged_share: Option<Amount>,
    /// The current lower weighted median (median rule).
    #[serde(default)]
    pub median: Option<i64>,
    /// The highest median reached (median rule).
    #[serde(default)]
    pub median_max: Option<i64>,
    /// The best score so far (threshold rule).
    #[serde(default)]
    pub max_score: Option<Amount>,
    /// Tokens minted for the contributor.
    pub minted_tokens: Amount,
    /// Reputation minted for the contributor.
    pub minted_reputation: Amount,
    /// Evaluations processed, re-votes included.
    #[serde(default)]
    pub evaluation_count: Option<u64>,
    /// `median` or `threshold`.
    #[serde(default)]
    pub reward_rule: Option<String>,
    /// For a sealed contribution (protocol 1.2): its phase, windows and commitments.
    #[serde(default)]
    pub sealed: Option<serde_json::Value>,
}

/// `GET /contributions?...`.
#[derive(Debug, Clone, Deserialize)]
pub struct ContributionPage {
    /// This page.
    pub items: Vec<Contribution>,
    /// The `after` of the next page, if there is one.
    #[serde(default)]
    pub next: Option<u64>,
}

/// `GET /blocks/{height}`.
#[derive(Debug, Clone, Deserialize)]
pub struct Block {
    /// Its height.
    pub height: u64,
    /// Its hash.
    pub hash: String,
    /// The header, shown field by field.
    #[serde(default)]
    pub header: serde_json::Value,
    /// Its transactions' hashes.
    #[serde(default)]
    pub txs: Vec<String>,
    /// The finality certificate.
    #[serde(default)]
    pub certificate: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_port_is_unreachable_with_exit_5() {
        // Bind then drop a listener: the port is very likely closed right after.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let client = Client::new(&format!("http://127.0.0.1:{port}"));
        let err = client.get_value("/status").expect_err("nothing listens");
        assert!(matches!(err, NodeError::Unreachable { .. }), "{err}");
        assert_eq!(err.exit_code(), exit::NODE_UNREACHABLE);
        assert_eq!(err.code(), "node_unreachable");
        assert!(err.to_string().contains("POV_NODE"));
    }

    /// A one-shot HTTP server answering every request with `status` and `body` as HTML.
    fn web_server(status: &'static str, body: &'static str) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            for stream in listener.incoming().take(4) {
                let Ok(mut stream) = stream else { return };
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        url
    }

    #[test]
    fn a_server_that_is_not_povd_is_named_as_such_without_its_page() {
        for status in ["404 Not Found", "200 OK"] {
            let url = web_server(
                status,
                "<!DOCTYPE html><html><body>Welcome to nginx</body></html>",
            );
            let err = Client::new(&url)
                .get_value("/status")
                .expect_err("not povd");
            assert!(matches!(err, NodeError::NotANode { .. }), "{err}");
            let text = err.to_string();
            assert!(
                text.contains("is not a povd node") && text.contains("an HTML page"),
                "{text}"
            );
            assert!(
                !text.contains("nginx"),
                "the page must not be printed: {text}"
            );
            assert_eq!(err.exit_code(), exit::NODE_UNREACHABLE);
            assert_eq!(err.code(), "not_a_node");
        }
    }
}
