//! Reading the Informal Trace Format (ITF) that Quint writes: integers, sets, maps, tuples,
//! variants, records and lists, as described at
//! <https://apalache-mc.org/docs/adr/015adr-trace.html>.
//!
//! Only what the model's traces use is decoded. Every error names what was expected and
//! shows the JSON that did not fit, so that a trace from another model version fails with a
//! message that says where.

use serde_json::Value;

/// What went wrong while decoding a trace.
pub type Error = String;

/// The JSON, shortened for an error message.
fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        format!("{}...", &s[..200])
    } else {
        s
    }
}

/// An integer: a JSON number or `{"#bigint": "..."}`.
pub fn int(v: &Value) -> Result<i64, Error> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| format!("integer out of range: {n}")),
        Value::Object(o) => match o.get("#bigint") {
            Some(Value::String(s)) => s.parse().map_err(|_| format!("bad #bigint: {s}")),
            _ => Err(format!("expected an integer, found {}", show(v))),
        },
        _ => Err(format!("expected an integer, found {}", show(v))),
    }
}

/// A string.
pub fn string(v: &Value) -> Result<&str, Error> {
    v.as_str()
        .ok_or_else(|| format!("expected a string, found {}", show(v)))
}

/// A boolean.
pub fn boolean(v: &Value) -> Result<bool, Error> {
    v.as_bool()
        .ok_or_else(|| format!("expected a boolean, found {}", show(v)))
}

/// The field `name` of a record.
pub fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, Error> {
    v.get(name)
        .ok_or_else(|| format!("expected a record with field `{name}`, found {}", show(v)))
}

/// The field `name` of a record, if there is one (projected traces leave some out).
pub fn opt_field<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.get(name)
}

fn tagged<'a>(v: &'a Value, tag: &str) -> Result<&'a [Value], Error> {
    v.get(tag)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .ok_or_else(|| format!("expected {tag}, found {}", show(v)))
}

/// The elements of a set (`{"#set": [...]}`).
pub fn set(v: &Value) -> Result<&[Value], Error> {
    tagged(v, "#set")
}

/// The elements of a tuple (`{"#tup": [...]}`).
pub fn tuple(v: &Value) -> Result<&[Value], Error> {
    tagged(v, "#tup")
}

/// The elements of a tuple of exactly `n` elements.
pub fn tuple_n(v: &Value, n: usize) -> Result<&[Value], Error> {
    let t = tuple(v)?;
    if t.len() == n {
        Ok(t)
    } else {
        Err(format!("expected a {n}-tuple, found {}", show(v)))
    }
}

/// The entries of a map (`{"#map": [[key, value], ...]}`), in the order written.
pub fn map(v: &Value) -> Result<Vec<(&Value, &Value)>, Error> {
    tagged(v, "#map")?
        .iter()
        .map(|pair| match pair.as_array().map(Vec::as_slice) {
            Some([k, v]) => Ok((k, v)),
            _ => Err(format!(
                "expected a [key, value] pair, found {}",
                show(pair)
            )),
        })
        .collect()
}

/// The elements of a list (a JSON array).
pub fn list(v: &Value) -> Result<&[Value], Error> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("expected a list, found {}", show(v)))
}

/// A variant (`{"tag": "Name", "value": ...}`): its tag and its payload.
pub fn variant(v: &Value) -> Result<(&str, &Value), Error> {
    match (v.get("tag").and_then(Value::as_str), v.get("value")) {
        (Some(tag), Some(value)) => Ok((tag, value)),
        _ => Err(format!("expected a variant, found {}", show(v))),
    }
}
