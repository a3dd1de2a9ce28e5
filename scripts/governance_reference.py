#!/usr/bin/env python3
"""An independent reference for spec sections 4 and 11 (median rule, parameter proposals).

Written from the spec's text alone (not from pov's Rust code), in Python's `decimal` with the
spec's rounding: 12 places, midpoint to even, after every arithmetic step. It generates
conformance vectors in the section 9/11 form for what `shared/conformance/governance-examples.json`
does not exercise (proposals refused at submission, passing at exactly half, two proposals on
one path, a proposal made void by an earlier one, whole types, disabling governance, changes
of `expiry_blocks`, and the governance fee itself changing), plus seeded random scenarios.

    python3 scripts/governance_reference.py > protocol/tests/vectors/governance-extra.json

`pov simulate --check` (and `protocol/tests/conformance.rs`) must reproduce the file within
1e-9 relative. Rejections are compared by presence only; the reasons here are this script's.
"""

import json
import random
import sys
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext

CTX = Context(prec=60)
Q = Decimal("1e-12")


def rd(x):
    """Round to 12 places, midpoint to even (spec section 2)."""
    return x.quantize(Q, rounding=ROUND_HALF_EVEN, context=CTX)


def mul(a, b):
    return rd(CTX.multiply(a, b))


def div(a, b):
    return rd(CTX.divide(a, b))


def power(x, beta):
    if x == 0:
        return Decimal(0)
    if beta == Decimal("0.5"):
        return rd(CTX.sqrt(x))
    with localcontext(CTX):
        return rd(x ** beta)


def dec(v):
    return rd(Decimal(str(v)))


class Rejected(Exception):
    pass


# ---- parameters ----

TYPE_AMOUNTS = ("fee", "stake", "distribution", "fee_exponent", "evaluator_fund")
GOV_AMOUNTS = ("fee", "stake", "distribution", "fee_exponent")


def validate(params):
    """Genesis validation of the parameters (the subset the vectors can reach)."""
    problems = []
    for kind, t in params["types"].items():
        if kind == "governance" or "." in kind or not kind:
            problems.append(f"types.{kind}: bad name")
        if t["fee"] < 0 or t["evaluator_fund"] < 0:
            problems.append(f"types.{kind}: negative")
        for f in ("stake", "distribution"):
            if not 0 <= t[f] <= 1:
                problems.append(f"types.{kind}.{f}: not a fraction")
        if not 0 < t["fee_exponent"] <= 10:
            problems.append(f"types.{kind}.fee_exponent")
        s = t["evaluation_set"]
        if len(s) < 2 or len(s) > 256 or any(a >= b for a, b in zip(s, s[1:])):
            problems.append(f"types.{kind}.evaluation_set")
        for table in ("token_value", "reputation_value"):
            tv = t[table]
            if len(tv) != len(s) or (tv and tv[0] != 0) or any(a > b for a, b in zip(tv, tv[1:])) or any(x < 0 for x in tv):
                problems.append(f"types.{kind}.{table}")
    if not 0 <= params["referral_fraction"] <= 1:
        problems.append("referral_fraction")
    if params["min_reputation_to_evaluate"] < 0:
        problems.append("min_reputation_to_evaluate")
    g = params["governance"]
    if g["fee"] < 0:
        problems.append("governance.fee")
    for f in ("stake", "distribution"):
        if not 0 <= g[f] <= 1:
            problems.append(f"governance.{f}")
    if not 0 < g["fee_exponent"] <= 10:
        problems.append("governance.fee_exponent")
    if g["expiry_blocks"] < 1:
        problems.append("governance.expiry_blocks")
    return problems


def parse_type(value):
    """A whole type in `pov_params` form."""
    s = [int(x) for x in value["evaluation_set"]]
    rw = value["reward"]
    if rw.get("rule") != "median":
        raise Rejected("only the median rule here")
    return {
        "fee": dec(value.get("fee", "1")),
        "stake": dec(value["stake"]),
        "distribution": dec(value["distribution"]),
        "fee_exponent": dec(value["fee_exponent"]),
        "evaluator_fund": dec(value.get("evaluator_fund", "0")),
        "evaluation_set": s,
        "token_value": [dec(rw["token_value"][str(x)]) for x in s],
        "reputation_value": [dec(rw["reputation_value"][str(x)]) for x in s],
    }


def set_path(params, path, value):
    parts = path.split(".")
    if parts[0] == "types" and len(parts) == 2 and parts[1]:
        if parts[1] == "governance":
            raise Rejected("reserved kind")
        params["types"][parts[1]] = parse_type(value)
    elif parts[0] == "types" and len(parts) == 3:
        t = params["types"].get(parts[1])
        if t is None:
            raise Rejected(f"no type {parts[1]}")
        if parts[2] in TYPE_AMOUNTS:
            t[parts[2]] = dec(value)
        elif parts[2] == "evaluation_set":
            t["evaluation_set"] = [int(x) for x in json.loads(value)]
        elif parts[2] == "reward":
            rule = json.loads(value)["median"]
            t["token_value"] = [dec(x) for x in rule["token_value"]]
            t["reputation_value"] = [dec(x) for x in rule["reputation_value"]]
        else:
            raise Rejected(f"unknown path {path}")
    elif path == "revote":
        if value not in ("reject-same", "reprocess"):
            raise Rejected("bad revote")
        params["revote"] = value
    elif path in ("min_reputation_to_evaluate", "referral_fraction"):
        params[path] = dec(value)
    elif parts[0] == "governance" and len(parts) == 2:
        g = params["governance"]
        if parts[1] in GOV_AMOUNTS:
            g[parts[1]] = dec(value)
        elif parts[1] == "expiry_blocks":
            g["expiry_blocks"] = int(value)
        elif parts[1] == "enabled":
            if value not in ("true", "false"):
                raise Rejected("bad flag")
            g["enabled"] = value == "true"
        else:
            raise Rejected(f"unknown path {path}")
    else:
        raise Rejected(f"unknown path {path}")


def apply_changes(params, changes):
    new = json.loads(json.dumps(params, default=str), parse_float=Decimal)
    new = restore(new)
    for path, value in changes:
        set_path(new, path, value)
    problems = validate(new)
    if problems:
        raise Rejected("invalid parameters: " + "; ".join(problems))
    return new


def restore(p):
    """Decimals back from their JSON strings (deep copy helper)."""
    def amt(x):
        return Decimal(x)
    for t in p["types"].values():
        for f in TYPE_AMOUNTS:
            t[f] = amt(t[f])
        t["token_value"] = [amt(x) for x in t["token_value"]]
        t["reputation_value"] = [amt(x) for x in t["reputation_value"]]
    p["referral_fraction"] = amt(p["referral_fraction"])
    p["min_reputation_to_evaluate"] = amt(p["min_reputation_to_evaluate"])
    for f in GOV_AMOUNTS:
        p["governance"][f] = amt(p["governance"][f])
    return p


# ---- the state machine ----

class Coop:
    def __init__(self, params, members, contributors):
        self.params = params
        self.rep = [dec(m["reputation"]) for m in members]
        self.tok = [dec(m["tokens"]) for m in members]
        self.height = 0
        self.contribs = []
        self.pending = []
        for c in contributors:  # fees already paid
            self._push(c, "work", self._snapshot("work"), None)

    def _snapshot(self, kind):
        t = self.params["types"][kind]
        return dict(t, evaluation_set=list(t["evaluation_set"]),
                    token_value=list(t["token_value"]), reputation_value=list(t["reputation_value"]))

    def _push(self, who, kind, snap, proposal):
        self.contribs.append({
            "who": who, "kind": kind, "p": snap, "live": [], "ever": set(),
            "fund": snap["evaluator_fund"], "mstar": snap["evaluation_set"][0], "proposal": proposal,
        })

    def begin_block(self):
        self.height += 1
        for cid in self.pending:
            prop = self.contribs[cid]["proposal"]
            try:
                self.params = apply_changes(self.params, prop["changes"])
                prop["outcome"] = "applied"
            except Rejected:
                prop["outcome"] = "void"
        self.pending = []

    def contribute(self, who):
        fee = self.params["types"]["work"]["fee"]
        if self.tok[who] < fee:
            raise Rejected("insufficient tokens")
        self.tok[who] -= fee
        self._push(who, "work", self._snapshot("work"), None)

    def propose(self, who, changes):
        g = self.params["governance"]
        if not g["enabled"]:
            raise Rejected("governance disabled")
        if not changes:
            raise Rejected("no changes")
        apply_changes(self.params, changes)
        if self.tok[who] < g["fee"]:
            raise Rejected("insufficient tokens")
        self.tok[who] -= g["fee"]
        snap = {
            "fee": g["fee"], "stake": g["stake"], "distribution": g["distribution"],
            "fee_exponent": g["fee_exponent"], "evaluator_fund": Decimal(0),
            "evaluation_set": [0, 1], "token_value": [Decimal(0)] * 2,
            "reputation_value": [Decimal(0)] * 2,
        }
        self._push(who, "governance", snap, {
            "changes": changes, "expires_at": self.height + g["expiry_blocks"], "passed_at": None,
        })

    def evaluate(self, k, c, v):
        if c >= len(self.contribs):
            raise Rejected("unknown contribution")
        con = self.contribs[c]
        prop = con["proposal"]
        if prop is not None and self.height > prop["expires_at"]:
            raise Rejected("proposal expired")
        p = con["p"]
        if v not in p["evaluation_set"]:
            raise Rejected("value not in set")
        if self.rep[k] < self.params["min_reputation_to_evaluate"]:
            raise Rejected("reputation too low")
        prev = [e for e in con["live"] if e[0] == k]
        if self.params["revote"] == "reject-same" and prev and prev[0][1] == v:
            raise Rejected("same-value re-vote")
        R = sum(self.rep)
        others = [e for e in con["live"] if e[0] != k]
        # Step 1: evaluator fund.
        if k not in con["ever"] and con["fund"] > 0:
            U = R - sum(self.rep[j] for j, _ in others)
            if U > 0:
                t = div(mul(con["fund"], self.rep[k]), U)
                self.tok[k] += t
                con["fund"] -= t
        # Step 2: snapshot, the new evaluation live.
        live = others + [(k, v)]
        r = self.rep[k]
        V = sum(self.rep[j] for j, _ in live)
        W = sum(self.rep[j] for j, x in live if x == v)
        weights = {x: sum(self.rep[j] for j, y in live if y == x) for x in p["evaluation_set"]}
        # Step 3: stake.
        if R > 0 and r > 0:
            share = power(div(V, R), p["fee_exponent"])
            self.rep[k] -= mul(mul(p["stake"], r), 1 - share)
        # Step 4: redistribution to the others with the same value, in insertion order.
        if W > 0:
            factor = 1 + div(mul(p["distribution"], r), W)
            for j, x in others:
                if x == v:
                    old = self.rep[j]
                    self.rep[j] = mul(old, factor)
        # Step 5: median reward on the snapshot.
        if R > 0:
            running = R - V
            s = p["evaluation_set"]
            m = len(s) - 1
            for i, x in enumerate(s):
                running += weights[x]
                if 2 * running > R:
                    m = i
                    break
            mi = s.index(con["mstar"])
            if m > mi:
                who = con["who"]
                self.tok[who] += p["token_value"][m] - p["token_value"][mi]
                self.rep[who] += p["reputation_value"][m] - p["reputation_value"][mi]
                con["mstar"] = s[m]
                if prop is not None and prop["passed_at"] is None and s[m] == 1:
                    prop["passed_at"] = self.height
                    self.pending.append(c)
        con["live"] = live
        con["ever"].add(k)


# ---- vectors ----

def default_params(fee="1", gov=None, revote="reject-same", min_rep="0", set_=None):
    set_ = set_ or [0, 1, 2, 3, 4, 5]
    tv = [0, 1, 2, 5, 10, 20][: len(set_)]
    rv = [0, 1, 2, 4, 7, 10][: len(set_)]
    g = {"fee": "10", "stake": "0.02", "distribution": "0.08", "fee_exponent": "0.5", "expiry_blocks": 60}
    g.update(gov or {})
    return {
        "evaluation_set": set_, "stake": "0.02", "distribution": "0.08", "fee_exponent": "0.5",
        "fee": fee,
        "reward": {"rule": "median", "token_value": {str(x): t for x, t in zip(set_, tv)},
                   "reputation_value": {str(x): r for x, r in zip(set_, rv)}},
        "evaluator_fund": "0", "revote": revote, "min_reputation_to_evaluate": min_rep,
        "governance": g,
    }


def params_from_vector(pp):
    s = pp["evaluation_set"]
    g = pp["governance"]
    return {
        "types": {"work": {
            "fee": dec(pp.get("fee", "1")), "stake": dec(pp["stake"]),
            "distribution": dec(pp["distribution"]), "fee_exponent": dec(pp["fee_exponent"]),
            "evaluator_fund": dec(pp.get("evaluator_fund", "0")), "evaluation_set": list(s),
            "token_value": [dec(pp["reward"]["token_value"][str(x)]) for x in s],
            "reputation_value": [dec(pp["reward"]["reputation_value"][str(x)]) for x in s],
        }},
        "revote": pp.get("revote", "reject-same"),
        "referral_fraction": Decimal("0.2"),
        "min_reputation_to_evaluate": dec(pp.get("min_reputation_to_evaluate", "0")),
        "governance": {
            "fee": dec(g.get("fee", "10")), "stake": dec(g.get("stake", "0.02")),
            "distribution": dec(g.get("distribution", "0.08")),
            "fee_exponent": dec(g.get("fee_exponent", "0.5")),
            "expiry_blocks": int(g.get("expiry_blocks", 604800)),
            "enabled": bool(g.get("enabled", True)),
        },
    }


def run(vector):
    coop = Coop(params_from_vector(vector["pov_params"]), vector["initial_state_after_contribution_fees"],
                vector["contributors"])
    for step in vector["steps"]:
        blocks = step["advance"] if "advance" in step else 1
        for _ in range(blocks):
            coop.begin_block()
        try:
            if "advance" in step:
                pass
            elif "contribute" in step:
                coop.contribute(step["contribute"][0])
            elif "propose" in step:
                who, changes = step["propose"]
                coop.propose(who, list(changes.items()))
            else:
                coop.evaluate(step["evaluator"], step["contribution"], step["value"])
            step.pop("rejected", None)
            step["median_max_after"] = [c["mstar"] for c in coop.contribs]
        except Rejected as e:
            step["rejected"] = str(e)
            step.pop("median_max_after", None)
        step["after"] = [[float(r), float(t)] for r, t in zip(coop.rep, coop.tok)]
    return vector


def members(reps, tokens=100):
    return [{"reputation": r, "tokens": tokens} for r in reps]


def ev(k, c, v):
    return {"evaluator": k, "contribution": c, "value": v}


def hand_written():
    out = []
    whole = {"evaluation_set": [0, 1, 2], "stake": "0.05", "distribution": "0.1", "fee_exponent": "1",
             "fee": "2", "evaluator_fund": "0",
             "reward": {"rule": "median", "token_value": {"0": "0", "1": "4", "2": "9"},
                        "reputation_value": {"0": "0", "1": "1", "2": "3"}}}
    out.append({
        "name": "exactly_half_passes_and_not_before",
        # No stake and no redistribution on proposals: reputations stay put, so the
        # snapshot's share is exactly the founders' figures.
        "pov_params": default_params(gov={"stake": "0", "distribution": "0"}),
        "contributors": [],
        "initial_state_after_contribution_fees": members(["49.999999999999", "0.000000000001", "50"]),
        "steps": [
            {"propose": [2, {"types.work.fee": "4"}]},
            ev(0, 0, 1),  # just under half: no pass
            ev(1, 0, 1),  # the last 1e-12 reaches exactly half at the snapshot: passes
            {"contribute": [2]},  # the next block: pays 4
            ev(2, 0, 0),  # a later fall undoes nothing
            {"contribute": [1]},
        ],
    })
    out.append({
        "name": "two_proposals_on_one_path_later_pass_wins",
        "pov_params": default_params(),
        "contributors": [],
        "initial_state_after_contribution_fees": members([30, 30, 20, 20]),
        "steps": [
            {"propose": [2, {"types.work.fee": "3"}]},
            {"propose": [3, {"types.work.fee": "7"}]},
            ev(0, 0, 1), ev(0, 1, 1),
            ev(1, 1, 1),  # passes: fee 7 from the next block
            {"contribute": [3]},
            ev(1, 0, 1),  # passes later: fee 3 wins
            {"contribute": [3]},
        ],
    })
    out.append({
        "name": "later_pass_wins_on_the_shared_path_and_keeps_its_others",
        "pov_params": default_params(),
        "contributors": [],
        "initial_state_after_contribution_fees": members([60, 20, 20]),
        "steps": [
            {"propose": [1, {"types.work.fee": "3", "types.work.stake": "0.5"}]},
            {"propose": [2, {"types.work.fee": "5"}]},
            ev(0, 1, 1),
            ev(0, 0, 1),
            {"contribute": [1]},  # fee 3 now (the later pass wins), stake 0.5
            ev(2, 2, 4), ev(0, 2, 4),
        ],
    })
    out.append({
        "name": "refused_at_submission",
        "pov_params": default_params(),
        "contributors": [0],
        "initial_state_after_contribution_fees": members([50, 50], tokens=12),
        "steps": [
            {"propose": [0, {"types.work.stake": "1.5"}]},
            {"propose": [0, {"types.work.colour": "1"}]},
            {"propose": [0, {"types.design.fee": "1"}]},
            {"propose": [0, {"types.work.evaluation_set": "[0, 1]"}]},
            {"propose": [0, {"governance.expiry_blocks": "0"}]},
            {"propose": [0, {"governance.fee_exponent": "0"}]},
            {"propose": [0, {}]},
            {"propose": [0, {"referral_fraction": "0.5"}]},  # valid: pays 10 of 12
            {"propose": [0, {"referral_fraction": "0.6"}]},  # 2 tokens left: refused
            ev(1, 1, 1), ev(0, 0, 3),
        ],
    })
    out.append({
        "name": "void_when_an_earlier_pass_breaks_it",
        "pov_params": default_params(),
        "contributors": [],
        "initial_state_after_contribution_fees": members([20, 20, 60]),
        "steps": [
            {"propose": [0, {"types.work.evaluation_set": "[0, 1, 2]",
                             "types.work.reward": '{"median": {"token_value": ["0", "3", "6"], "reputation_value": ["0", "1", "2"]}}'}]},
            {"propose": [1, {"types.work.reward": '{"median": {"token_value": [0, 1, 1, 1, 1, 1], "reputation_value": [0, 1, 1, 1, 1, 1]}}'}]},
            ev(2, 0, 1),
            ev(2, 1, 1),  # passes, but void at the next block: the set has 3 values by then
            {"contribute": [0]},
            ev(2, 2, 2), ev(1, 2, 2), ev(0, 2, 5),
        ],
    })
    out.append({
        "name": "whole_type_replaced",
        "pov_params": default_params(),
        "contributors": [1],
        "initial_state_after_contribution_fees": members([40, 35, 25]),
        "steps": [
            {"propose": [0, {"types.work": whole}]},
            ev(0, 1, 1), ev(1, 1, 1),
            {"contribute": [2]},
            ev(0, 2, 2), ev(1, 2, 1), ev(2, 2, 2),
            ev(0, 0, 5), ev(2, 0, 5),  # the old contribution keeps 0..5
            ev(1, 2, 5),  # 5 is not in the new type's set
        ],
    })
    out.append({
        "name": "governance_switched_off",
        "pov_params": default_params(gov={"fee": "1"}),
        "contributors": [],
        "initial_state_after_contribution_fees": members([55, 45]),
        "steps": [
            {"propose": [1, {"governance.enabled": "false"}]},
            {"propose": [1, {"types.work.fee": "2"}]},
            ev(0, 0, 1),
            {"propose": [1, {"types.work.fee": "3"}]},  # same block as nothing: disabled now
            ev(0, 1, 1),  # the earlier proposal may still pass
            {"contribute": [1]},
        ],
    })
    out.append({
        "name": "expiry_and_governance_parameters_change",
        "pov_params": default_params(gov={"expiry_blocks": 3, "fee": "5"}),
        "contributors": [],
        "initial_state_after_contribution_fees": members([30, 30, 40]),
        "steps": [
            {"propose": [2, {"governance.expiry_blocks": "10", "governance.fee": "1",
                             "governance.stake": "0.2"}]},
            {"propose": [2, {"min_reputation_to_evaluate": "31"}]},
            ev(2, 0, 1),
            ev(0, 0, 1),  # passes at height 4 = H + 3
            ev(1, 1, 1),  # height 5 = 2 + 3: still accepted
            ev(0, 1, 1),  # height 6: expired (its expiry was fixed when proposed)
            {"propose": [0, {"revote": "reprocess"}]},  # pays 1, stake 0.2, lives 10 blocks
            {"advance": 9},
            ev(2, 2, 1), ev(2, 2, 1),
            ev(1, 2, 1),  # expired at height 17 > 6 + 10
        ],
    })
    out.append({
        "name": "min_reputation_rules_proposals_too",
        "pov_params": default_params(revote="reprocess"),
        "contributors": [0],
        "initial_state_after_contribution_fees": members([10, 45, 45]),
        "steps": [
            {"propose": [1, {"min_reputation_to_evaluate": "20"}]},
            ev(1, 1, 1), ev(0, 1, 1),
            {"propose": [0, {"min_reputation_to_evaluate": "0"}]},
            ev(0, 2, 1),  # 10 < 20: refused
            ev(2, 2, 1), ev(2, 2, 1), ev(1, 2, 0),
            ev(0, 0, 3), ev(1, 0, 4),
        ],
    })
    return out


def random_vector(rng, index):
    n = rng.randint(3, 7)
    reps = [str(rd(Decimal(rng.randint(1, 100000)) / 1000)) for _ in range(n)]
    toks = [rng.randint(5, 60) for _ in range(n)]
    gov = {"fee": str(rng.choice([0, 1, 5, 10])), "expiry_blocks": rng.randint(3, 20)}
    pp = default_params(fee=str(rng.choice([0, 1, 2])), gov=gov,
                        revote=rng.choice(["reject-same", "reprocess"]))
    contributors = [rng.randrange(n) for _ in range(rng.randint(0, 2))]
    paths = [
        ("types.work.fee", lambda: str(rng.choice([0, 1, 3, "0.5"]))),
        ("types.work.stake", lambda: str(rng.choice(["0.01", "0.05", "0.3", "2"]))),
        ("types.work.distribution", lambda: str(rng.choice(["0.02", "0.2", "0.9"]))),
        ("types.work.fee_exponent", lambda: str(rng.choice(["0.5", "1", "2", "0.7"]))),
        ("governance.fee", lambda: str(rng.choice([0, 2, 20]))),
        ("governance.stake", lambda: str(rng.choice(["0.01", "0.1"]))),
        ("governance.distribution", lambda: str(rng.choice(["0.01", "0.2"]))),
        ("governance.fee_exponent", lambda: str(rng.choice(["0.5", "1.5"]))),
        ("governance.expiry_blocks", lambda: str(rng.choice([2, 5, 30]))),
        ("min_reputation_to_evaluate", lambda: str(rng.choice([0, 1, 10]))),
        ("revote", lambda: rng.choice(["reject-same", "reprocess"])),
        ("referral_fraction", lambda: str(rng.choice(["0.1", "0.3"]))),
    ]
    steps = []
    # Which ids are proposals (a refused step takes no id, but the reference decides that
    # only when run: a wrong guess just makes an evaluation that is refused).
    proposal = [False] * len(contributors)
    for _ in range(rng.randint(20, 40)):
        x = rng.random()
        if x < 0.12:
            steps.append({"contribute": [rng.randrange(n)]})
            proposal.append(False)
        elif x < 0.27:
            chosen = rng.sample(paths, rng.randint(1, 2))
            steps.append({"propose": [rng.randrange(n), {p: f() for p, f in chosen}]})
            proposal.append(True)
        elif x < 0.32:
            steps.append({"advance": rng.randint(1, 6)})
        elif proposal:
            c = rng.randrange(len(proposal))
            values = [0, 1, 1, 1] if proposal[c] else [0, 1, 2, 3, 4, 5]
            steps.append(ev(rng.randrange(n), c, rng.choice(values)))
    return {
        "name": f"random_{index:03}",
        "pov_params": pp,
        "contributors": contributors,
        "initial_state_after_contribution_fees": [{"reputation": float(r), "tokens": t} for r, t in zip(reps, toks)],
        "steps": steps,
    }


def main():
    rng = random.Random(20260111)
    vectors = hand_written() + [random_vector(rng, i) for i in range(12)]
    for v in vectors:
        run(v)
    doc = {
        "about": "governance vectors (spec sections 4 and 11) generated by scripts/governance_reference.py, "
                 "an independent decimal implementation of the spec text; they cover what "
                 "governance-examples.json does not. Compare within 1e-9 relative; rejections by presence.",
        "vectors": vectors,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
