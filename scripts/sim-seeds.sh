#!/usr/bin/env bash
# Runs many seeds of every simulation scenario (`node/tests/sim`), far more than CI does, in a
# release build, and goes on past a failing seed: prints each failure's replay command and,
# per scenario, the seeds run, the failing seeds and the wall and CPU time (on stdout), and
# the runs' own summaries (slowest honest node after the heal, crashes, equivocators
# caught; on stderr, with the failures).
#
#   scripts/sim-seeds.sh [runs] [first-seed] [scenario-filter]
#
# Defaults: 300 seeds from 1, every scenario. Two scenarios run at a time (this machine has
# two cores); it runs under `nice -n 10`. The scenarios that run one chosen seed
# (`*_seed_*`) and the determinism check are left out: `POV_SIM_RUNS` does not change them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

runs=${1:-300}
first=${2:-1}
filter=${3:-}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

nice -n 10 cargo test --release -p pov-node --test sim --locked --no-run 2>"$out/build" || {
  cat "$out/build" >&2
  exit 1
}
binary=$(sed -n 's/.*Executable tests\/sim\/main.rs (\(.*\))/\1/p' "$out/build" | tail -1)
scenarios=$("$binary" --list 2>/dev/null | sed -n 's/^\(scenarios::[a-z0-9_]*\): test$/\1/p' |
  grep -v -e '_seed_[0-9]*$' -e 'the_same_seed_gives_the_same_trace' | grep -e "$filter" || true)
if [ -z "$scenarios" ]; then
  echo "sim-seeds: no scenario matches '$filter'" >&2
  exit 1
fi

# The run's own summary (slowest honest node after the heal, crashes, equivocators caught
# and unprovable), without the list of goal heights.
summary() {
  sed -n "s/.*$1: \([0-9]* seeds from [0-9]*\), goal heights \[[0-9, ]*\], /  [$1] \1: /p" "$2" >&2
}

# One scenario: runs its seeds, restarting after each failing seed at the next one.
one() {
  local scenario=$1 name=${1#scenarios::} seed=$first end=$((first + runs)) failed=""
  local start=$SECONDS cpu_before cpu_after
  cpu_before=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  while [ "$seed" -lt "$end" ]; do
    if POV_SIM_SEED=$seed POV_SIM_RUNS=$((end - seed)) nice -n 10 "$binary" "$scenario" \
      --exact --test-threads 1 --nocapture >"$out/$name.log" 2>&1; then
      summary "$name" "$out/$name.log"
      break
    fi
    local bad
    bad=$(sed -n "s/.*simulation $name failed at seed \([0-9]*\).*/\1/p" "$out/$name.log" | head -1)
    if [ -z "$bad" ]; then
      echo "sim-seeds: $name failed without naming a seed:" >&2
      cat "$out/$name.log" >&2
      failed="$failed ?"
      break
    fi
    grep -A2 -e 'panicked' -e 'replay it with' "$out/$name.log" | sed "s/^/  [$name] /" >&2
    failed="$failed $bad"
    seed=$((bad + 1))
  done
  cpu_after=$(awk '{print $14 + $15 + $16 + $17}' /proc/$$/stat)
  local ticks
  ticks=$(getconf CLK_TCK)
  printf '%s\t%s seeds from %s\tfailed:%s\twall %ss\tcpu %ss\n' "$name" "$runs" "$first" \
    "${failed:- none}" "$((SECONDS - start))" "$(((cpu_after - cpu_before) / ticks))"
}
export -f one summary
export binary runs first out

echo "$scenarios" | xargs -P 2 -I{} bash -c 'one "$@"' _ {}
