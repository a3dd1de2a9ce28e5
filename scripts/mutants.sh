#!/usr/bin/env bash
# Mutation check: does a test fail when the code is changed? Not part of CI (hours for a
# whole crate); docs/testing.md records the runs and what survived.
#
#   scripts/mutants.sh PACKAGE [FILE...]
#   scripts/mutants.sh pov-protocol protocol/src/amount.rs protocol/src/merkle.rs
#
# Installs cargo-mutants from crates.io (pinned) if missing, exports the committed tree
# (HEAD) to a scratch directory (files dated now, so that a reused SCRATCH rebuilds) and
# mutates it in place there, with its own target directory (copying the workspace's target
# would need several GB), at low priority, each test run bounded by a timeout. Results:
# $OUT/mutants.out/{caught,missed,timeout,unviable}.txt.
#
# Environment: OUT (default target/mutants), SCRATCH (default a temporary directory),
# TIMEOUT seconds per test run (default 120), NICE (default 19: the cores are shared),
# POV_CRASH_SECONDS (default 10: the storage crash loop is a 75 s soak by default, and
# only needs to see a few kills here), MUTANTS_ARGS (more cargo-mutants options, e.g.
# "-F check_mark --baseline=skip").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

MUTANTS_VERSION=27.1.0
if [ $# -lt 1 ]; then
  sed -n '2,18p' "$0" >&2
  exit 2
fi
package=$1
shift

if ! cargo mutants --version 2>/dev/null | grep -q "$MUTANTS_VERSION"; then
  cargo install cargo-mutants --version "$MUTANTS_VERSION" --locked
fi

out=$(realpath -m "${OUT:-target/mutants}")
scratch=${SCRATCH:-$(mktemp -d)}
mkdir -p "$out" "$scratch/tree"
git archive HEAD | tar -x -m -C "$scratch/tree"
# Sibling of the tree, as /work/shared is of a checkout: tests that read ../shared find it.
if [ -d ../shared ] && [ ! -e "$scratch/shared" ]; then
  ln -s "$(realpath ../shared)" "$scratch/shared"
fi

files=()
for f in "$@"; do
  files+=(-f "$f")
done

export CARGO_TARGET_DIR="$scratch/target"
export POV_CRASH_SECONDS=${POV_CRASH_SECONDS:-10}
cd "$scratch/tree"
nice -n "${NICE:-19}" cargo mutants --in-place -p "$package" "${files[@]}" \
  --timeout "${TIMEOUT:-120}" --build-timeout 900 -o "$out" ${MUTANTS_ARGS:-}
