//! The cooperative as a whole: `pov list members` (who is in it, by name) and
//! `pov show params` (the rules in force), both read from the node (`GET /members`,
//! `GET /params`).

use serde_json::Value;

use super::{label, learn_names, Ctx};
use crate::exit;
use crate::output::{self, Align, Table};

/// Members asked per request (the node's page limit).
const PAGE: u64 = 500;

/// `pov list members`: every member up to `limit`, by member id.
pub fn list(ctx: &Ctx, limit: u64) -> anyhow::Result<i32> {
    let client = ctx.client();
    let mut items: Vec<Value> = Vec::new();
    let mut after: Option<u64> = None;
    while (items.len() as u64) < limit {
        let size = (limit - items.len() as u64).min(PAGE);
        let mut path = format!("/members?limit={size}");
        if let Some(a) = after {
            path.push_str(&format!("&after={a}"));
        }
        let page = client.get_value(&path)?;
        let got = page
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let empty = got.is_empty();
        items.extend(got);
        match page.get("next").and_then(Value::as_u64) {
            Some(n) if !empty => after = Some(n),
            _ => break,
        }
    }
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if ctx.json() {
        output::json(&serde_json::json!({"count": items.len(), "items": items}))?;
        return Ok(exit::OK);
    }
    if items.is_empty() {
        output::line("no members")?;
        return Ok(exit::OK);
    }
    let mut names = ctx.names();
    for item in &items {
        learn_names(&mut names, item);
    }
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let mut t = Table::new(&[
        ("id", Align::Right),
        ("name", Align::Left),
        ("address", Align::Left),
        ("reputation", Align::Right),
        ("tokens", Align::Right),
        ("referrer", Align::Left),
    ]);
    for m in &items {
        let address = text(m, "address");
        t.row(vec![
            m.get("member_id").map(Value::to_string).unwrap_or_default(),
            names.get(&address).cloned().unwrap_or_else(|| "-".into()),
            address,
            text(m, "reputation"),
            text(m, "tokens"),
            m.get("referrer")
                .and_then(Value::as_str)
                .map(|r| label(&names, r))
                .unwrap_or_else(|| "-".into()),
        ]);
    }
    output::line(&t.render())?;
    Ok(exit::OK)
}

/// `pov show params`: the parameters in force, one line each, in `pov genesis set-param`'s
/// key names, each with the proposal that set it when one did (spec section 11).
pub fn params(ctx: &Ctx) -> anyhow::Result<i32> {
    let raw = ctx.client().get_value("/params")?;
    if ctx.json() {
        output::json(&raw)?;
        return Ok(exit::OK);
    }
    let params = raw.get("params").cloned().unwrap_or(Value::Null);
    let mut lines = Vec::new();
    flatten("", &params, &mut lines);
    let height = raw
        .get("height")
        .and_then(Value::as_u64)
        .map(|h| format!(" at height {h}"))
        .unwrap_or_default();
    output::line(&format!("parameters in force{height}:"))?;
    let set_by = provenance(&raw);
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let value_width = lines.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    for (k, v) in lines {
        match source_of(&set_by, &k) {
            Some(source) => output::line(&format!("  {k:<width$}  {v:<value_width$}  {source}"))?,
            None => output::line(&format!("  {k:<width$}  {v}"))?,
        }
    }
    if set_by.is_empty() {
        output::line("every value is the genesis's: no proposal has changed one")?;
    }
    Ok(exit::OK)
}

/// From `GET /params`'s `paths`: each path a proposal set, with `set by proposal #N, from
/// block H`.
fn provenance(raw: &Value) -> Vec<(String, String)> {
    raw.get("paths")
        .and_then(Value::as_array)
        .map(|paths| {
            paths
                .iter()
                .filter_map(|p| {
                    let proposal = p.get("proposal")?.as_u64()?;
                    let since = p.get("since").and_then(Value::as_u64).unwrap_or_default();
                    let path = p.get("path")?.as_str()?;
                    Some((
                        path.to_string(),
                        format!("set by proposal #{proposal}, from block {since}"),
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Where the value of a flattened key came from: the entry of its path, or of the path that
/// holds it (`types.work.reward` for `types.work.reward.median.token_value`).
fn source_of<'a>(set_by: &'a [(String, String)], key: &str) -> Option<&'a str> {
    set_by
        .iter()
        .find(|(path, _)| {
            key == path
                || key
                    .strip_prefix(path.as_str())
                    .is_some_and(|rest| rest.starts_with('.'))
        })
        .map(|(_, source)| source.as_str())
}

/// `value` as `path value` lines: nested tables joined with dots, lists comma-separated.
fn flatten(path: &str, value: &Value, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&join(k), v, out);
            }
        }
        Value::Array(items) => {
            let text: Vec<String> = items.iter().map(scalar).collect();
            out.push((path.to_string(), text.join(",")));
        }
        // An open contribution type (no sealed windows): the word `set-param` takes.
        Value::Null if path.ends_with(".sealed") => out.push((path.to_string(), "none".into())),
        other => out.push((path.to_string(), scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flattened_key_takes_the_provenance_of_its_path() {
        let raw = serde_json::json!({"paths": [
            {"path": "types.work.fee", "proposal": null, "since": 0},
            {"path": "types.work.reward", "proposal": 3, "since": 18},
            {"path": "revote", "proposal": 5, "since": 40},
        ]});
        let set_by = provenance(&raw);
        assert_eq!(set_by.len(), 2, "genesis values carry no provenance");
        assert_eq!(
            source_of(&set_by, "types.work.reward.median.token_value"),
            Some("set by proposal #3, from block 18")
        );
        assert_eq!(
            source_of(&set_by, "revote"),
            Some("set by proposal #5, from block 40")
        );
        assert_eq!(source_of(&set_by, "types.work.fee"), None);
        assert_eq!(
            source_of(&set_by, "types.work.rewards"),
            None,
            "a prefix is not a path"
        );
    }

    #[test]
    fn parameters_flatten_to_set_param_keys() {
        let params = serde_json::json!({
            "types": {"work": {"fee": "1", "evaluation_set": [0, 1, 2],
                               "reward": {"median": {"token_value": ["0", "1", "2"]}}}},
            "admission": "invite"
        });
        let mut lines = Vec::new();
        flatten("", &params, &mut lines);
        assert_eq!(
            lines,
            vec![
                ("types.work.fee".to_string(), "1".to_string()),
                ("types.work.evaluation_set".to_string(), "0,1,2".to_string()),
                (
                    "types.work.reward.median.token_value".to_string(),
                    "0,1,2".to_string()
                ),
                ("admission".to_string(), "invite".to_string()),
            ]
        );
    }
}
