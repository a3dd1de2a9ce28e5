//! `pov simulate`: the conformance runner (the logic lives in `pov_protocol::conformance`).

use std::path::Path;

use pov_protocol::conformance;

use crate::exit::{self, InvalidInput};

/// Runs the vectors of `file`; prints the computed JSON, or with `check` a comparison.
pub fn run(ctx: &super::Ctx, file: &Path, check: bool, tolerance: f64) -> anyhow::Result<i32> {
    let text = super::read_input(file)?;
    let input: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| InvalidInput(format!("{}: not JSON: {e}", file.display())))?;
    let output = conformance::simulate(&input)
        .map_err(|e| InvalidInput(format!("{}: {e}", file.display())))?;
    if !check {
        crate::output::line(&serde_json::to_string_pretty(&output)?)?;
        return Ok(exit::OK);
    }
    let cmp = conformance::compare(&input, &output);
    let vectors = input
        .get("vectors")
        .and_then(|v| v.as_array())
        .map_or(1, Vec::len);
    let ok = cmp.passes(tolerance);
    if ctx.json() {
        crate::output::json(&serde_json::json!({
            "vectors": vectors,
            "figures": cmp.numbers,
            "max_relative_error": cmp.max_relative_error,
            "worst": cmp.worst,
            "rejection_mismatches": cmp.rejection_mismatches,
            "shape_mismatches": cmp.shape_mismatches,
            "tolerance": tolerance,
            "ok": ok,
        }))?;
        return Ok(if ok { exit::OK } else { exit::MISMATCH });
    }
    crate::output::line(&format!(
        "{vectors} vectors, {} figures compared, max relative error {:.3e}{}",
        cmp.numbers,
        cmp.max_relative_error,
        if cmp.worst.is_empty() {
            String::new()
        } else {
            format!(" (at {})", cmp.worst)
        }
    ))?;
    for place in &cmp.rejection_mismatches {
        crate::output::line(&format!("rejection differs: {place}"))?;
    }
    for place in &cmp.shape_mismatches {
        crate::output::line(&format!("shape differs: {place}"))?;
    }
    if ok {
        crate::output::line(&format!("ok: every figure within {tolerance:e}"))?;
        Ok(exit::OK)
    } else {
        crate::output::line(&format!("MISMATCH: tolerance {tolerance:e}"))?;
        Ok(exit::MISMATCH)
    }
}
