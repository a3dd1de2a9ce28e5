#!/usr/bin/env bash
# Soak: the fault and attack tests (tests/faults.rs, tests/attacks.rs: real povd
# validators in network namespaces) run again and again for a given time, counting passes
# and failures per test. Not part of CI (one round is a minute or two; CI runs each once).
#
#   scripts/soak.sh [MINUTES] [NAME_FILTER]        (default 30 minutes, every test)
#   scripts/soak.sh 10 kill_9
#
# A round runs each test file once (its tests concurrently, as CI does); no round starts
# after MINUTES, so the last one may end a round's length later. Logs of every round are in
# $OUT/round-N-FILE.log; the summary names the logs of failed rounds. Exit status 1 if any
# test failed. Needs root for the namespaces: elsewhere every test prints SKIPPED and the
# summary counts them.
#
# Environment: FILES (default "faults attacks"), OUT (default target/soak), NICE (default
# 10), THREADS (libtest's --test-threads, default its own).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

minutes=${1:-30}
filter=${2:-}
files=${FILES:-faults attacks}
out=${OUT:-target/soak}
nice=${NICE:-10}
if ! [[ $minutes =~ ^[0-9]+$ ]] || [ "$minutes" -eq 0 ]; then
  echo "minutes must be a positive whole number, got '$minutes'" >&2
  exit 2
fi

test_args=()
for f in $files; do test_args+=(--test "$f"); done
nice -n "$nice" cargo test -p pov-tests --locked "${test_args[@]}" --no-run

mkdir -p "$out"
declare -A passed failed
skipped=0
failed_logs=()
deadline=$((SECONDS + minutes * 60))
round=0
while [ "$SECONDS" -lt "$deadline" ]; do
  round=$((round + 1))
  for f in $files; do
    log="$out/round-$round-$f.log"
    args=(--nocapture)
    [ -n "$filter" ] && args+=("$filter")
    [ -n "${THREADS:-}" ] && args+=("--test-threads=$THREADS")
    start=$SECONDS
    status=0
    nice -n "$nice" cargo test -p pov-tests --locked --test "$f" -- "${args[@]}" >"$log" 2>&1 \
      || status=$?
    while read -r name result; do
      if [ "$result" = ok ]; then
        passed[$name]=$(( ${passed[$name]:-0} + 1 ))
        failed[$name]=${failed[$name]:-0}
      else
        failed[$name]=$(( ${failed[$name]:-0} + 1 ))
        passed[$name]=${passed[$name]:-0}
      fi
    done < <(sed -n 's/^test \([^ ]*\) \.\.\. \(ok\|FAILED\)$/\1 \2/p' "$log")
    skipped=$((skipped + $(grep -c '^SKIPPED:' "$log" || true)))
    [ "$status" -ne 0 ] && failed_logs+=("$log")
    echo "round $round $f: exit $status in $((SECONDS - start)) s" >&2
  done
done

echo "$round rounds in $((SECONDS / 60)) min $((SECONDS % 60)) s"
printf '%6s %6s  %s\n' passed failed test
for name in $(printf '%s\n' "${!passed[@]}" | sort); do
  printf '%6d %6d  %s\n' "${passed[$name]}" "${failed[$name]}" "$name"
done
[ "$skipped" -gt 0 ] && echo "$skipped test runs printed SKIPPED (no network namespaces here)"
if [ "${#failed_logs[@]}" -gt 0 ]; then
  printf 'failed: %s\n' "${failed_logs[@]}"
  exit 1
fi
