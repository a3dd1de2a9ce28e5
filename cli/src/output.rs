//! Everything `pov` prints: stdout that survives a closed pipe, the `--output` format, the
//! JSON error object, and the aligned tables of the human form.
//!
//! Results go to stdout, everything else (notes, warnings, progress) to stderr, so that
//! `pov ... --output json | jq` always sees exactly one JSON object.

use std::io::Write;

use pov_protocol::Amount;

/// How results are printed (`--output`, `POV_OUTPUT`, `output` in the config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned text for people.
    #[default]
    Text,
    /// One JSON object on stdout, for scripts (errors too, as `{"error": {...}}`).
    Json,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Format::Text),
            "json" => Ok(Format::Json),
            other => Err(format!("unknown output format {other:?} (text or json)")),
        }
    }
}

impl Format {
    /// The name used in flags and the config file.
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
        }
    }
}

/// Writes `text` and a newline to stdout. A closed pipe ends the process quietly with
/// success, as Unix tools do; any other write error is returned.
pub fn line(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
    }
}

/// Prints one JSON value on stdout, pretty-printed (still one object for `jq`).
pub fn json(value: &serde_json::Value) -> anyhow::Result<()> {
    line(&serde_json::to_string_pretty(value)?)
}

/// A note for the person at the terminal, on stderr (never mixed into results).
pub fn note(text: &str) {
    eprintln!("{text}");
}

/// The JSON form of an error: `{"error": {"code": ..., "message": ...}}`.
pub fn error_json(code: &str, message: &str) -> serde_json::Value {
    serde_json::json!({"error": {"code": code, "message": message}})
}

/// A column's alignment: text left, numbers right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Pad on the right.
    Left,
    /// Pad on the left (amounts line up on their last digit).
    Right,
}

/// A plain aligned table: a header row in capitals, columns two spaces apart, no borders,
/// so the output stays greppable and pastes cleanly into an issue.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            headers: columns.iter().map(|(h, _)| h.to_uppercase()).collect(),
            align: columns.iter().map(|(_, a)| *a).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells print empty, extra cells are ignored).
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as lines of text, without trailing spaces.
    pub fn render(&self) -> String {
        let n = self.headers.len();
        let cell = |row: &Vec<String>, i: usize| row.get(i).cloned().unwrap_or_default();
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, w) in widths.iter_mut().enumerate() {
                *w = (*w).max(cell(row, i).chars().count());
            }
        }
        let fmt_row = |row: &Vec<String>| {
            let mut parts = Vec::with_capacity(n);
            for (i, width) in widths.iter().enumerate() {
                let text = cell(row, i);
                let pad = width - text.chars().count();
                parts.push(match self.align[i] {
                    Align::Left => format!("{text}{}", " ".repeat(pad)),
                    Align::Right => format!("{}{text}", " ".repeat(pad)),
                });
            }
            parts.join("  ").trim_end().to_string()
        };
        let mut out = vec![fmt_row(&self.headers)];
        out.extend(self.rows.iter().map(fmt_row));
        out.join("\n")
    }
}

/// Key/value lines with the keys padded to one width (`pov status`, `pov show account`).
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    pairs
        .iter()
        .map(|(k, v)| format!("{k:<width$}  {v}").trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An amount with an explicit sign, for changes (`+0.0413`, `-1`, `0`).
pub fn signed(amount: Amount) -> String {
    if amount.is_negative() || amount.is_zero() {
        amount.to_string()
    } else {
        format!("+{amount}")
    }
}

/// A share (`0.396`) as a percentage with up to two decimals (`39.6%`).
pub fn percent(share: Amount) -> String {
    let pct = share.checked_mul(Amount::from_int(100)).unwrap_or(share);
    let rounded = pct
        .decimal()
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointNearestEven)
        .normalize();
    format!("{rounded}%")
}

/// The first 8 hex digits of an address or hash, for table cells (`5e1f0a2b…`).
pub fn short(hex: &str) -> String {
    if hex.len() > 10 {
        format!("{}…", &hex[..8])
    } else {
        hex.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Amount {
        s.parse().expect("amount")
    }

    #[test]
    fn tables_align_text_left_and_numbers_right() {
        let mut t = Table::new(&[("rule", Align::Left), ("amount", Align::Right)]);
        t.row(vec!["stake".into(), "-0.2211".into()]);
        t.row(vec!["contributor-reward".into(), "+10".into()]);
        assert_eq!(
            t.render(),
            "RULE                 AMOUNT\n\
             stake               -0.2211\n\
             contributor-reward      +10"
        );
    }

    #[test]
    fn missing_cells_and_trailing_spaces() {
        let mut t = Table::new(&[("a", Align::Left), ("b", Align::Left)]);
        t.row(vec!["long value".into()]);
        let text = t.render();
        assert!(text.lines().all(|l| !l.ends_with(' ')), "{text:?}");
        assert_eq!(text.lines().nth(1), Some("long value"));
    }

    #[test]
    fn amounts_and_shares_print_for_people() {
        assert_eq!(signed(a("0.0413")), "+0.0413");
        assert_eq!(signed(a("-1")), "-1");
        assert_eq!(signed(Amount::ZERO), "0");
        assert_eq!(percent(a("0.396")), "39.6%");
        assert_eq!(percent(a("0.693069306930")), "69.31%");
        assert_eq!(percent(Amount::ONE), "100%");
        assert_eq!(short(&"ab".repeat(32)), "abababab…");
        assert_eq!(
            fields(&[("height", "3".into()), ("chain id", "x".into())]),
            "height    3\nchain id  x"
        );
    }

    #[test]
    fn error_objects_have_code_and_message() {
        let v = error_json("tx_rejected", "wrong nonce");
        assert_eq!(v["error"]["code"], "tx_rejected");
        assert_eq!(v["error"]["message"], "wrong nonce");
    }
}
