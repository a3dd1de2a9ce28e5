#!/usr/bin/env bash
# Fuzzing: builds the cargo-fuzz targets of fuzz/ and runs each for a bounded time, then
# prints per target the inputs run, executions per second, corpus size and crashes. Not part
# of CI; docs/testing.md ("Fuzzing") records the runs.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     (default 60 s, every target)
#   scripts/fuzz.sh 300 wire genesis
#
# Needs the nightly toolchain and cargo-fuzz (installed from crates.io, pinned, if missing).
# Each target starts from its committed seeds (fuzz/seeds/TARGET, real encodings) and from
# what earlier runs found (fuzz/corpus/TARGET, not committed). A crash stops that target;
# its input is in fuzz/artifacts/TARGET/ and its log in fuzz/logs/TARGET.log; reproduce
# with `cd fuzz && cargo +nightly fuzz run -s none TARGET ARTIFACT`. Exit status 1 if any
# target crashed.
#
# Environment: SANITIZER (default none: the workspace forbids unsafe code, and without
# AddressSanitizer a run is about twice as fast and the build much smaller; `address` to
# check dependencies' unsafe code too), NICE (default 15: the cores are shared),
# TIMEOUT seconds one input may take before it counts as a hang (default 10), RSS_MB (memory
# limit of one run, default 2048).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"

CARGO_FUZZ_VERSION=0.13.2
seconds=${1:-60}
shift || true
sanitizer=${SANITIZER:-none}
nice=${NICE:-15}
timeout=${TIMEOUT:-10}
rss=${RSS_MB:-2048}

if ! [[ $seconds =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "seconds per target must be a positive whole number, got '$seconds'" >&2
  exit 2
fi
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "the nightly toolchain is missing: rustup toolchain install nightly" >&2
  exit 2
fi
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

# `cargo fuzz build` takes one target or none (all of them).
if [ "${#targets[@]}" -eq 1 ]; then
  nice -n "$nice" cargo +nightly fuzz build -s "$sanitizer" "${targets[0]}"
else
  nice -n "$nice" cargo +nightly fuzz build -s "$sanitizer"
fi

mkdir -p logs
crashed=0
rows=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target" "artifacts/$target"
  log="logs/$target.log"
  before=$(find "artifacts/$target" -type f | wc -l)
  echo "== $target: $seconds s" >&2
  status=0
  nice -n "$nice" cargo +nightly fuzz run -s "$sanitizer" "$target" \
    "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss" \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  peak=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  corpus=$(find "corpus/$target" -type f | wc -l)
  found=$(( $(find "artifacts/$target" -type f | wc -l) - before ))
  if [ "$status" -ne 0 ] && [ "$found" -eq 0 ]; then
    # A failure that left no input behind (a build or harness error): count it, show why.
    found=1
    tail -20 "$log" >&2
  fi
  [ "$found" -gt 0 ] && crashed=1
  rows+=("$(printf '%-14s %12s %10s %8s %8s %8s' "$target" "${runs:-?}" "${rate:-?}" \
    "$corpus" "${peak:-?}" "$found")")
done

printf '%-14s %12s %10s %8s %8s %8s\n' target runs execs/s corpus rss_mb crashes
printf '%s\n' "${rows[@]}"
exit "$crashed"
