// Projects an ITF trace of Malachite's Tendermint model (statemachineAsync) onto what
// pov's model-based test reads (consensus/tests/mbt): the initial state, every state in
// which a node's driver took a step, and the state just before a node (re)starts a height.
// In each kept state, `system` holds only the node that steps (all nodes in the initial
// state), with its consensus state, the driver's pending work, and (before a start) the
// messages it had received; integers become plain JSON numbers. The result is still ITF.
//
// usage: node project-itf.mjs <in.itf.json> <out.itf.json>
// Exits with status 2 (and writes nothing) if the trace has no `_hist`/`system` variables.

import { readFileSync, writeFileSync } from "node:fs";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: node project-itf.mjs <in.itf.json> <out.itf.json>");
  process.exit(1);
}
const trace = JSON.parse(readFileSync(input, "utf8"));

const varName = (state, name) =>
  Object.keys(state).find((k) => k === name || k.endsWith("::" + name));

const states = trace.states ?? [];
const histOk = (s) => typeof s[varName(s, "_hist")]?.validator === "string";
if (states.length === 0 || !varName(states[0], "system") || !histOk(states[0])) {
  console.error(`${input}: not a trace of the model's state machine; skipped`);
  process.exit(2);
}
const HIST = varName(states[0], "_hist");
const SYSTEM = varName(states[0], "system");
const ACTION = "mbt::actionTaken";

// Integers as plain numbers where they fit exactly (ITF allows both forms).
const ints = (v) => {
  if (Array.isArray(v)) return v.map(ints);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "#bigint") {
      const n = Number(v["#bigint"]);
      return Number.isSafeInteger(n) ? n : v;
    }
    return Object.fromEntries(keys.map((k) => [k, ints(v[k])]));
  }
  return v;
};

const nodeOf = (state, name) => state[SYSTEM]["#map"].find(([k]) => k === name)?.[1];

const project = (node, { valset }) => {
  const es = node.es;
  const out = {
    es: {
      cs: es.cs,
      pendingInputs: es.pendingInputs,
      pendingStepChange: es.pendingStepChange,
      started: es.started,
    },
  };
  if (valset) out.es.valset = es.valset;
  if (!es.started) {
    out.incomingVotes = node.incomingVotes;
    out.incomingCertificates = node.incomingCertificates;
  }
  return out;
};

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const isDriverStep = (i) => {
  const action = states[i][ACTION];
  const changed = i === 0 || !same(states[i - 1][HIST], states[i][HIST]);
  if (action !== undefined) return action === "valStep" || (action === "valTimeout" && changed);
  return i > 0 && changed;
};

// Which nodes each kept state shows: the one that steps, and a node about to (re)start
// in the state before its start (for the messages it had received).
const show = new Map();
const add = (i, name) => show.set(i, (show.get(i) ?? new Set()).add(name));
const all = states[0][SYSTEM]["#map"].map(([k]) => k);
for (const name of all) add(0, name);
for (let i = 1; i < states.length; i++) {
  if (!isDriverStep(i)) continue;
  const v = states[i][HIST].validator;
  const before = nodeOf(states[i - 1], v);
  if (before && !before.es.started) add(i - 1, v);
  add(i, v);
}

const kept = [...show.keys()].sort((a, b) => a - b).map((i) => {
  const s = states[i];
  const st = { "#meta": s["#meta"] ?? { index: i } };
  st[HIST] = s[HIST];
  if (s[ACTION] !== undefined) st[ACTION] = s[ACTION];
  const names = all.filter((n) => show.get(i).has(n));
  st[SYSTEM] = { "#map": names.map((n) => [n, project(nodeOf(s, n), { valset: i === 0 })]) };
  return st;
});

// No creation time: the same seed gives the same file.
const meta = { ...trace["#meta"] };
delete meta.timestamp;
meta.description = "Created by Quint; projected by pov's scripts/mbt/project-itf.mjs.";
const vars = [HIST, SYSTEM].concat(states[0][ACTION] !== undefined ? [ACTION] : []);
writeFileSync(output, JSON.stringify(ints({ "#meta": meta, vars, states: kept })) + "\n");
