//! Reading what a client sent: transaction bodies, query parameters, hashes and addresses.
//!
//! Pure functions of the request's bytes, separate from the handlers that call them, so that
//! the fuzz targets (`fuzz/fuzz_targets/api_request.rs`) drive exactly the parsing a hostile
//! client reaches, without a running node. Every failure is a message for a 400 answer.

use axum::http::{header, HeaderMap};
use pov_crypto::{Address, Hash};
use pov_protocol::Transaction;
use serde_json::Value;

use super::ApiError;

/// Query parameters as axum's `Query` extractor reads them (percent-decoded name and value
/// pairs), interpreted one by one with [`param`] so that a bad one gets a JSON error naming
/// it.
pub type Params = std::collections::HashMap<String, String>;

/// Parameter `name` read as a `T`: `None` when absent, a 400 naming it when it does not
/// parse.
pub fn param<T: std::str::FromStr>(params: &Params, name: &str) -> Result<Option<T>, ApiError> {
    match params.get(name) {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            ApiError::bad_request(format!("query parameter {name}={text:?} is not valid"))
        }),
    }
}

/// A hash from a path segment (`GET /tx/{hash}`), or a 400 quoting it.
pub fn parse_hash(text: &str) -> Result<Hash, ApiError> {
    text.parse()
        .map_err(|e| ApiError::bad_request(format!("{text:?} is not a hash: {e}")))
}

/// An address from a path segment or parameter (`GET /accounts/{address}`), or a 400
/// quoting it.
pub fn parse_address(text: &str) -> Result<Address, ApiError> {
    text.parse()
        .map_err(|e| ApiError::bad_request(format!("{text:?} is not an address: {e}")))
}

/// True when the request declares a JSON body (`Content-Type: application/json`, with or
/// without parameters); any other body is read as canonical postcard bytes.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The transaction of a `POST /tx` body: JSON when `json`, else its canonical postcard
/// bytes. The error says which form failed and why (and hints at a missing content type
/// when undeclared bytes look like JSON).
pub fn transaction(body: &[u8], json: bool) -> Result<Transaction, String> {
    if json {
        return serde_json::from_slice::<Transaction>(body)
            .map_err(|e| format!("malformed transaction JSON: {e}"));
    }
    Transaction::from_bytes(body).map_err(|e| {
        // Without `Content-Type: application/json` the body is read as postcard bytes; a
        // JSON body sent without the header is the usual reason those fail.
        let hint = if body.first() == Some(&b'{') {
            " (the body looks like JSON: send it with Content-Type: application/json)"
        } else {
            ""
        };
        format!("malformed transaction bytes: {e}{hint}")
    })
}

/// The transactions of a `POST /txs` body: a JSON array when `json`, else the canonical
/// postcard bytes of a `Vec<Transaction>`. The outer error refuses the whole body; with JSON
/// each element is parsed on its own, so one malformed transaction is answered in its place
/// rather than failing the batch (postcard bytes parse whole or not at all). The number of
/// elements is the caller's to bound.
pub fn transactions(body: &[u8], json: bool) -> Result<Vec<Result<Transaction, String>>, String> {
    if json {
        let items = serde_json::from_slice::<Vec<Value>>(body)
            .map_err(|e| format!("malformed JSON: expected an array of transactions: {e}"))?;
        return Ok(items
            .into_iter()
            .map(|v| {
                serde_json::from_value::<Transaction>(v)
                    .map_err(|e| format!("malformed transaction JSON: {e}"))
            })
            .collect());
    }
    pov_protocol::codec::decode_canonical::<Vec<Transaction>>(body)
        .map(|txs| txs.into_iter().map(Ok).collect())
        .map_err(|e| format!("malformed transaction list bytes: {e}"))
}
