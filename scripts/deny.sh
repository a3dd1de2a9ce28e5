#!/usr/bin/env bash
# Checks the dependencies against deny.toml with cargo-deny: licenses, duplicate versions,
# sources, bans (sled only inside pov-storage) and security advisories. Not part of .ci/run:
# building cargo-deny from source takes minutes. See CONTRIBUTING.md, "Dependencies".
#
# Advisories need the RustSec database, which cargo-deny clones from GitHub into
# ~/.cargo/advisory-dbs. Without network access to GitHub (this project's machines reach
# only package registries), an existing copy there is used as it is; with none, the
# advisories check is skipped with a message saying so, and the script fails only if
# POV_DENY_REQUIRE_ADVISORIES=1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qF " $version"; then
  echo "deny.sh: installing cargo-deny $version from crates.io (several minutes)" >&2
  cargo install cargo-deny --version "$version" --locked
fi

cargo deny --locked check bans licenses sources

if cargo deny --locked fetch db >/dev/null 2>&1; then
  cargo deny --locked check advisories
elif compgen -G "${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-*/crates" >/dev/null; then
  echo "deny.sh: cannot fetch the advisory database; checking against the local copy:" >&2
  git -C "$(compgen -G "${CARGO_HOME:-$HOME/.cargo}/advisory-dbs/advisory-db-*" | head -1)" \
    log -1 --format='  last advisory commit %ci' >&2 || true
  cargo deny --locked --offline check advisories
else
  echo "deny.sh: advisories NOT checked: the RustSec database cannot be fetched (no access" \
    "to github.com) and there is no local copy in ~/.cargo/advisory-dbs" >&2
  if [ "${POV_DENY_REQUIRE_ADVISORIES:-0}" = 1 ]; then
    exit 1
  fi
fi
