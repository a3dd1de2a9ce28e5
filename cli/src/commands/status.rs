//! `pov status`: the node's view of the chain, and in words whether it moves and could.
//!
//! The figures are the node's (`GET /status`, `docs/api.md`); this module only says what
//! they mean: how long ago the last block came, whether that is a stall, and whether the
//! validators the node sees hold enough voting power (more than 2/3) to make blocks at all.

use serde_json::Value;

use super::query::utc;
use super::Ctx;
use crate::exit;
use crate::output;

/// `pov status`.
pub fn status(ctx: &Ctx) -> anyhow::Result<i32> {
    let client = ctx.client();
    let mut raw = client.get_value("/status")?;
    if ctx.json() {
        raw["node"] = client.base().into();
        output::json(&raw)?;
        return Ok(exit::OK);
    }
    let text = |k: &str| match raw.get(k) {
        None | Some(Value::Null) => "-".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let mut pairs = vec![
        ("node", client.base().to_string()),
        ("chain id", text("chain_id")),
        ("genesis hash", text("genesis_hash")),
        ("height", text("height")),
        ("head hash", text("head_hash")),
        ("state root", text("state_root")),
    ];
    let time = raw
        .get("time_ms")
        .and_then(|t| t.as_u64())
        .map(|ms| format!("{} ({ms} ms)", utc(ms)))
        .unwrap_or_else(|| "-".into());
    pairs.push(("block time", time));
    if let Some(line) = last_block(&raw) {
        pairs.push(("last block", line));
    }
    if let Some(line) = consensus(&raw) {
        pairs.push(("consensus", line));
    }
    pairs.push(("peers", text("peers")));
    pairs.push(("syncing", text("syncing")));
    pairs.push(("validator", text("validator")));
    pairs.push(("mempool", format!("{} transaction(s)", text("mempool"))));
    pairs.push(("db size", text("db_size_bytes") + " bytes"));
    pairs.push(("version", text("version")));
    output::line(&output::fields(&pairs))?;
    Ok(exit::OK)
}

/// A duration in words: "640 ms", "12 s", "3 min 20 s", "2 h 5 min".
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0 => format!("{ms} ms"),
        1..=59 => format!("{s} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        3600..=86_399 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

/// How long ago the last block came, and what that means; `None` from a node too old to
/// report it.
fn last_block(raw: &Value) -> Option<String> {
    if let Some(wait) = raw.get("starts_in_ms").and_then(Value::as_u64) {
        return Some(format!(
            "none yet: the chain starts in {} (its genesis time)",
            duration(wait)
        ));
    }
    let age = raw.get("last_block_age_ms")?.as_u64()?;
    let mut line = format!("{} ago", duration(age));
    if raw.get("syncing").and_then(Value::as_bool) == Some(true) {
        line.push_str(" (this node is catching up by block sync)");
    } else if raw.get("stalled").and_then(Value::as_bool) == Some(true) {
        let after = raw
            .get("stall_after_ms")
            .and_then(Value::as_u64)
            .map(|ms| format!(" for more than {}", duration(ms)))
            .unwrap_or_default();
        line.push_str(&format!(": STALLED, no block{after}"));
    }
    Some(line)
}

/// Whether the validators this node sees could make blocks; `None` from an older node.
fn consensus(raw: &Value) -> Option<String> {
    let seen = raw.get("validators_seen")?;
    let get = |k: &str| seen.get(k).and_then(Value::as_u64).unwrap_or(0);
    let (count, of_count, power, of_power) =
        (get("count"), get("of_count"), get("power"), get("of_power"));
    let tenths = (power * 1000).checked_div(of_power).unwrap_or(0);
    let share = format!(
        "{power} of {of_power} voting power ({}.{}%)",
        tenths / 10,
        tenths % 10
    );
    let who = format!("{count} of {of_count} validators");
    Some(
        if seen.get("more_than_two_thirds").and_then(Value::as_bool) == Some(true) {
            format!("sees {who}, holding {share}: more than the 2/3 blocks need")
        } else {
            format!(
                "sees only {who}, holding {share}: blocks need more than 2/3, so none can be \
                 made until the validators not seen run and reach this node"
            )
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_stall_and_missing_power_are_said_in_words() {
        let raw = json!({
            "last_block_age_ms": 45_000, "stalled": true, "stall_after_ms": 10_000,
            "syncing": false,
            "validators_seen": {"count": 2, "power": 2, "of_count": 3, "of_power": 3,
                                "more_than_two_thirds": false, "within_ms": 10_000}
        });
        assert_eq!(
            last_block(&raw).as_deref(),
            Some("45 s ago: STALLED, no block for more than 10 s")
        );
        let line = consensus(&raw).expect("line");
        assert!(
            line.starts_with("sees only 2 of 3 validators, holding 2 of 3 voting power (66.6%)"),
            "{line}"
        );
        let healthy = json!({
            "last_block_age_ms": 640, "stalled": false, "syncing": false,
            "validators_seen": {"count": 3, "power": 3, "of_count": 3, "of_power": 3,
                                "more_than_two_thirds": true}
        });
        assert_eq!(last_block(&healthy).as_deref(), Some("640 ms ago"));
        assert!(consensus(&healthy)
            .expect("line")
            .contains("more than the 2/3"));
        let waiting = json!({"starts_in_ms": 200_000, "last_block_age_ms": 0});
        assert_eq!(
            last_block(&waiting).as_deref(),
            Some("none yet: the chain starts in 3 min 20 s (its genesis time)")
        );
        assert_eq!(consensus(&json!({})), None);
    }
}
