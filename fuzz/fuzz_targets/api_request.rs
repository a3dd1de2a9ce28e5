//! What an HTTP client sends, read by the functions the handlers call
//! (`pov_node::api::request`): `POST /tx` and `POST /txs` bodies as postcard bytes and as
//! JSON, the content type, query strings (through axum's `Query`, as the handlers extract
//! them) and their parameters, and hashes and addresses in paths.
#![no_main]

use axum::extract::Query;
use axum::http::{header, HeaderMap, HeaderValue, Uri};
use libfuzzer_sys::fuzz_target;
use pov_node::api::request::{self, param, parse_address, parse_hash, Params};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let json = flags & 1 == 1;
    if let Ok(tx) = request::transaction(body, json) {
        if !json {
            assert_eq!(tx.to_bytes(), body, "POST /tx accepted non-canonical bytes");
        }
    }
    let _ = request::transactions(body, json);
    if let Ok(value) = HeaderValue::from_bytes(body) {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, value);
        let _ = request::is_json(&headers);
    }
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let _ = parse_hash(text);
    let _ = parse_address(text);
    let Ok(uri) = format!("/contributions?{text}").parse::<Uri>() else {
        return;
    };
    let Ok(Query(params)) = Query::<Params>::try_from_uri(&uri) else {
        return;
    };
    for name in ["since", "after", "height", "from", "to"] {
        let _ = param::<u64>(&params, name);
    }
    let _ = param::<usize>(&params, "limit");
    let _ = param::<usize>(&params, "after");
    let _ = param::<bool>(&params, "open");
    let _ = param::<u32>(&params, "member");
    if let Some(by) = params.get("by") {
        let _ = parse_address(by);
    }
});
