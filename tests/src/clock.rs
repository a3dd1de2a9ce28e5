//! Clock skew for one process, without touching the machine's clock: a tiny `LD_PRELOAD`
//! library, compiled here with the system C compiler (the one Rust links with), that adds
//! `POV_TEST_CLOCK_SKEW_MS` (may be negative) to every wall-clock reading
//! (`CLOCK_REALTIME` and its coarse variant) and leaves monotonic clocks alone, so timers
//! run at normal speed while timestamps are off. Rust's `SystemTime::now` reads the clock
//! through libc's `clock_gettime`, which the library interposes.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable the library reads: milliseconds to add to the wall clock.
pub const SKEW_VAR: &str = "POV_TEST_CLOCK_SKEW_MS";

const SOURCE: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

int clock_gettime(clockid_t clock, struct timespec *ts) {
    static clock_gettime_fn real = 0;
    if (!real) real = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
    int result = real(clock, ts);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        const char *text = getenv("POV_TEST_CLOCK_SKEW_MS");
        long long skew = text ? atoll(text) : 0;
        long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + skew * 1000000LL;
        ts->tv_sec = ns / 1000000000LL;
        ts->tv_nsec = ns % 1000000000LL;
    }
    return result;
}
"#;

/// Builds the skew library in `dir`; its path, or why it could not be built.
pub fn skew_library(dir: &Path) -> Result<PathBuf, String> {
    let source = dir.join("skew.c");
    let library = dir.join("libskew.so");
    std::fs::write(&source, SOURCE).map_err(|e| format!("{}: {e}", source.display()))?;
    let output = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .output()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cc failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(library)
}
