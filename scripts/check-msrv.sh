#!/usr/bin/env bash
# Checks that the workspace's declared `rust-version` (its MSRV) is not below what the locked
# dependencies declare: every crate built for any target, with the dev- and build-dependencies
# of every workspace member. A dependency that needs a newer Rust than we declare makes the
# declaration false; this fails then, naming the crate.
#
# What this does not check: our own code against an older compiler. This machine has only
# the current toolchain and cannot fetch another, so CI cannot build with 1.88 itself; clippy's
# `incompatible_msrv` (on in `.ci/run`'s clippy, proven live by the lint canary) refuses std
# APIs stabilized after the declared version. Language features are not checked. See
# CONTRIBUTING.md, "Minimum Rust version".
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

declared=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)
if [ -z "$declared" ]; then
  echo "check-msrv: no rust-version in Cargo.toml's [workspace.package]" >&2
  exit 1
fi

built=$(mktemp)
metadata=$(mktemp)
trap 'rm -f "$built" "$metadata"' EXIT
cargo tree --workspace --locked --offline --target all -e normal,build,dev \
  --prefix none --format '{p}' | sed 's/ (.*//; s/ v/ /' | sort -u >"$built"
cargo metadata --format-version 1 --locked --offline >"$metadata"

python3 - "$declared" "$built" "$metadata" <<'PY'
import json, sys

declared, built_path, metadata_path = sys.argv[1:]
version = lambda v: tuple(int(x) for x in v.split(".")) + (0,) * (3 - len(v.split(".")))
built = {tuple(line.split()) for line in open(built_path) if line.strip()}
packages = json.load(open(metadata_path))["packages"]
needs = [
    (version(p["rust_version"]), p["name"], p["version"])
    for p in packages
    if (p["name"], p["version"]) in built and p.get("rust_version")
]
if not needs:
    sys.exit("check-msrv: found no dependency with a rust-version; is the lock file empty?")
floor = max(needs)
newer = sorted(n for n in needs if n[0] > version(declared))
if newer:
    for v, name, ver in newer:
        print(f"check-msrv: {name} {ver} needs Rust {'.'.join(map(str, v))}", file=sys.stderr)
    sys.exit(
        f"check-msrv: the workspace declares rust-version {declared}, but the dependencies "
        f"above need more: raise it (and CONTRIBUTING.md) or pin an older version"
    )
at_floor = sorted(f"{name} {ver}" for v, name, ver in needs if v == floor[0])
print(
    f"check-msrv: rust-version {declared} is at or above every built dependency's: "
    f"{len(needs)} of {len(built)} declare one, the highest is {'.'.join(map(str, floor[0]))} "
    f"({at_floor[0]}{f' and {len(at_floor) - 1} more' if len(at_floor) > 1 else ''})"
)
PY
