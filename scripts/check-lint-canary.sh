#!/usr/bin/env bash
# Proves that the house rules enforced by clippy are live: compiles the lint canaries
# (`protocol/src/lint_canary.rs`, `consensus/src/lint_canary.rs`: code that breaks each rule
# on purpose, built only under `--cfg pov_lint_canary`) and fails unless clippy flags every
# one. Without it, a moved `clippy.toml`, a renamed lint or an `rust-version` clippy stopped
# reading would let CI pass quietly.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# Cargo does not see a changed clippy.toml: make it check both crates again.
touch protocol/src/lint_canary.rs consensus/src/lint_canary.rs
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# Warnings, not errors: the protocol crate must compile for the consensus crate to be checked.
cargo clippy -p pov-protocol -p pov-consensus --lib --locked --message-format short \
  -- --cfg pov_lint_canary -W clippy::all >"$out" 2>&1 || {
  cat "$out" >&2
  echo "lint canary: clippy failed to run" >&2
  exit 1
}

missing=0
expect() {
  local file=$1 what=$2
  if ! grep -F "$file" "$out" | grep -qF "$what"; then
    echo "lint canary: clippy did not flag $what in $file" >&2
    missing=1
  fi
}
expect protocol/src/lint_canary.rs 'disallowed type `std::collections::HashMap`'
expect protocol/src/lint_canary.rs 'disallowed method `std::time::Instant::now`'
expect protocol/src/lint_canary.rs 'disallowed method `pov_crypto::Keypair::generate`'
expect protocol/src/lint_canary.rs 'floating-point arithmetic detected'
expect protocol/src/lint_canary.rs 'but this item is stable since'
expect consensus/src/lint_canary.rs 'disallowed type `std::collections::HashSet`'
expect consensus/src/lint_canary.rs 'disallowed method `std::time::SystemTime::now`'
expect consensus/src/lint_canary.rs 'floating-point arithmetic detected'
if [ "$missing" -ne 0 ]; then
  cat "$out" >&2
  exit 1
fi
echo "lint canary: clippy flags every broken rule (determinism in protocol and consensus, MSRV)"
