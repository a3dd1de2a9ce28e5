//! Writing to standard output without panicking when the reader goes away (`pov ... | head`).

use std::io::Write;

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
