#!/usr/bin/env python3
"""Recomputes consensus byte forms without pov's code, and checks that the values pinned in
protocol/tests/known_answers.rs are these.

The Rust test pins what the code produces; this script shows the pinned values are what the
documented layouts say (docs/protocol.md, docs/consensus.md), computed by other
implementations: Python's `blake3` bindings, the `cryptography` package's Ed25519, and
postcard built by hand. Not part of CI (it needs `pip install blake3 cryptography`); run it
after a deliberate encoding change, and extend it with the new layout.

Usage: python3 scripts/check_known_answers.py
"""

import pathlib
import sys

import blake3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = pathlib.Path(__file__).resolve().parent.parent
PINNED = (ROOT / "protocol" / "tests" / "known_answers.rs").read_text()


def h(data: bytes) -> bytes:
    return blake3.blake3(data).digest()


def dev_key(index: int) -> Ed25519PrivateKey:
    """`Keypair::dev`: the seed is blake3("pov/dev-key/v1" || index as u32 LE)."""
    seed = h(b"pov/dev-key/v1" + index.to_bytes(4, "little"))
    return Ed25519PrivateKey.from_private_bytes(seed)


def address(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def varint(n: int) -> bytes:
    out = b""
    while True:
        low, n = n & 0x7F, n >> 7
        if n:
            out += bytes([low | 0x80])
        else:
            return out + bytes([low])


def text(value: bytes) -> bytes:
    return varint(len(value)) + value


def zigzag(n: int) -> int:
    return n << 1 if n >= 0 else ((-n) << 1) - 1


failures = []


def expect(name: str, value: bytes) -> None:
    if value.hex() not in PINNED:
        failures.append(f"{name}: {value.hex()} is not pinned")


alice, bob, validator = dev_key(0), dev_key(1), dev_key(1000)
A, B, V = address(alice), address(bob), address(validator)
expect("dev key 0", A)
expect("dev key 1", B)
expect("dev validator key 0", V)

# Merkle: leaves tagged 0, inner nodes tagged 1, an odd last node promoted.
leaves = [h(b"\x00" + bytes([i])) for i in range(5)]


def node(left: bytes, right: bytes) -> bytes:
    return h(b"\x01" + left + right)


expect("leaf of no bytes", h(b"\x00"))
two = node(leaves[0], leaves[1])
four = node(two, node(leaves[2], leaves[3]))
expect("two leaves", two)
expect("three leaves", node(two, leaves[2]))
expect("four leaves", four)
expect("five leaves", node(four, leaves[4]))

# Votes: "pov/vote/v1", kind, height u64 BE, round u32 BE, 0/1, value or zeros, validator.
block = h(b"block")


def vote(kind: int, height: int, round_: int, value) -> bytes:
    present = b"\x01" + value if value else b"\x00" + bytes(32)
    return (
        b"pov/vote/v1"
        + bytes([kind])
        + height.to_bytes(8, "big")
        + round_.to_bytes(4, "big")
        + present
        + V
    )


expect("prevote for a block", vote(1, 5, 1, block))
expect("prevote nil", vote(1, 5, 1, None))
expect("precommit for a block", vote(2, 0x0102030405060708, 0x0A0B0C0D, block))
expect("precommit nil", vote(2, 5, 0, None))

# Transactions: "pov/tx/v3" || genesis hash (32 bytes) || postcard(chain_id, sender, nonce,
# body); the transaction is postcard(chain_id, sender, nonce, body, signature) and its hash
# blake3 of that. Bodies are enum variants by index: contribute 0, evaluate 1, transfer 2,
# admit 3, propose-params 4 (protocol 1.1 added admit's name and propose-params, and moved
# the tag from v1 to v2; 1.2.1 signs the genesis hash, tag v3). The pinned transactions sign
# the genesis hash blake3("genesis").
signed_genesis = h(b"genesis")
chain = text(b"pov-devnet")
contribute = (
    chain
    + A
    + varint(1)
    + varint(0)
    + text(b"work")
    + text(b"Fix the roof")
    + text(b"https://example.org/roof")
    + b"\x01"
    + h(b"the roof")
)
evaluate = chain + B + varint(300) + varint(1) + varint(7) + varint(zigzag(-2))
transfer = chain + B + varint(1) + varint(2) + A + varint(zigzag(2_500_000_000_000))
admit = chain + A + varint(3) + varint(3) + address(dev_key(9)) + text(b"carl")
# A change is (path, value); a value is an enum: amount 0, count 1, flag 2, ...
propose = (
    chain
    + B
    + varint(4)
    + varint(4)
    + text(b"Cheaper work")
    + text(b"")
    + varint(2)
    + text(b"types.work.fee")
    + varint(0)
    + varint(zigzag(500_000_000_000))
    + text(b"governance.enabled")
    + varint(2)
    + b"\x00"
)
# Sealed evaluations (protocol 1.2, spec section 12): commit 5, reveal 6, appended, so
# the earlier bodies keep their bytes (1.2 kept the tag v2; 1.2.1 signs them under v3 with
# the genesis hash, like every other body). A commitment is
# blake3("pov/seal/v1" || chain id || contribution u64 LE || sender || value i64 LE || salt).
salt = bytes(range(32))
commitment = h(
    b"pov/seal/v1"
    + b"pov-devnet"
    + (7).to_bytes(8, "little")
    + A
    + (3).to_bytes(8, "little", signed=True)
    + salt
)
expect("commitment to 3 on contribution 7 by alice", commitment)
commit = chain + A + varint(5) + varint(5) + varint(7) + commitment
reveal = chain + A + varint(6) + varint(6) + varint(7) + varint(zigzag(3)) + salt
for name, unsigned, key in [
    ("contribute", contribute, alice),
    ("evaluate", evaluate, bob),
    ("transfer", transfer, bob),
    ("admit", admit, alice),
    ("propose-params", propose, bob),
    ("commit", commit, alice),
    ("reveal", reveal, alice),
]:
    signing = b"pov/tx/v3" + signed_genesis + unsigned
    whole = unsigned + key.sign(signing)
    expect(f"{name}: signing bytes", signing)
    expect(f"{name}: canonical bytes", whole)
    expect(f"{name}: hash", h(whole))

# Amounts: the mantissa at scale 12 as a zigzag varint.
expect("amount 1", varint(zigzag(10**12)))
expect("amount -1", varint(zigzag(-(10**12))))

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("every recomputed value is pinned in protocol/tests/known_answers.rs")
