// pov explorer: pages built from this node's JSON API (docs/api.md), refreshed live from
// its event stream (/events). Served by povd itself; see docs/explorer.md.
//
// Safety rule: everything that comes from the chain (titles, URIs, names, kinds) enters the
// page as text (text nodes, never innerHTML), and a contribution's URI becomes a link only
// when it is an http(s) URL.
"use strict";

const main = document.getElementById("main");
const live = document.getElementById("live");

// ---- building the page, safely ----

// el("td", {class: "num"}, "text", otherNode): strings become text nodes, never markup.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "href") throw new Error("use link() or external() for links");
    node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// A link inside the explorer: `route` is built here from numbers and hex, and encoded.
function link(route, ...children) {
  const a = el("a", {}, ...children);
  a.href = "#/" + route.map(encodeURIComponent).join("/");
  return a;
}

// A link to a document of this node's API (same origin; the path is built here).
function apiLink(path, file, text) {
  const a = el("a", { download: file }, text);
  a.href = path;
  return a;
}

// A contribution's URI: a link only for http(s), otherwise plain text.
function external(uri) {
  let url = null;
  try {
    url = new URL(uri);
  } catch (_) {
    url = null;
  }
  if (url && (url.protocol === "http:" || url.protocol === "https:")) {
    const a = el("a", { rel: "noopener noreferrer nofollow", target: "_blank" }, uri);
    a.href = url.href;
    return a;
  }
  return el("span", { class: "mono" }, uri);
}

function short(hex) {
  return hex && hex.length > 10 ? hex.slice(0, 8) + "…" : hex || "";
}

function member(address, name) {
  if (!address) return el("span", { class: "muted" }, "unknown");
  return link(["member", address], name || short(address));
}

// Amounts are exact decimal strings; floats only for widths of bars and charts.
function signed(amount) {
  const text = String(amount);
  const span = el("span", {}, text.startsWith("-") || text === "0" ? text : "+" + text);
  if (text.startsWith("-")) span.className = "neg";
  else if (text !== "0") span.className = "pos";
  return span;
}

function abs(amount) {
  const text = String(amount);
  return text.startsWith("-") ? text.slice(1) : text;
}

function percent(share) {
  const value = Number(share) * 100;
  return (Math.round(value * 10) / 10).toString() + "%";
}

function bar(share) {
  const fill = el("i");
  fill.style.width = Math.max(0, Math.min(100, Number(share) * 100)) + "%";
  return el("div", { class: "bar", title: percent(share) + " of all reputation engaged; the line is 50%" }, fill);
}

function stat(label, value) {
  return el("div", { class: "stat" }, el("b", {}, value), el("span", {}, label));
}

function table(headers, rows) {
  const head = el("tr", {}, headers.map((h) => el("th", { class: h.num ? "num" : null }, h.label || h)));
  return el("div", { class: "scroll" }, el("table", {}, el("thead", {}, head), el("tbody", {}, rows)));
}

function cell(content, num) {
  return el("td", { class: num ? "num" : null }, content);
}

function time(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC") : "";
}

// ---- the API ----

async function get(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body.error ? body.error.message : response.status + " " + response.statusText;
    throw new Error(path + ": " + message);
  }
  return body;
}

// ---- pages ----

async function frontPage() {
  const o = await get("/overview");
  const after = Math.max(0, o.contributions - 10) - 1;
  const page = await get("/contributions?limit=10" + (after >= 0 ? "&after=" + after : ""));
  const latest = page.items.slice().reverse();
  return [
    el("h1", {}, "Cooperative ", el("span", { class: "mono" }, o.chain_id)),
    el("div", { class: "stats" },
      stat("members", o.members),
      stat("contributions", o.contributions),
      stat("reputation in all", o.total_reputation),
      stat("tokens in all", o.total_tokens),
      stat("height", o.height)),
    el("h2", {}, "Latest contributions"),
    latest.length ? el("div", { class: "card" }, latest.map(contributionItem))
      : el("p", { class: "muted" }, "No contributions yet."),
  ];
}

function contributionItem(c) {
  return el("div", { class: "item", "data-contribution": c.id },
    el("div", {},
      link(["contribution", String(c.id)], el("span", { class: "title" }, "#" + c.id + " " + c.title)),
      c.open ? el("span", { class: "tag open" }, "open") : el("span", { class: "tag" }, "closed")),
    el("div", { class: "muted" },
      "by ", member(c.contributor, c.contributor_name),
      " · engaged " + percent(c.engaged_share),
      c.median === null || c.median === undefined ? "" : " · median " + c.median,
      " · minted " + c.minted_tokens + " tokens, " + c.minted_reputation + " reputation"),
    bar(c.engaged_share));
}

function plainWords(name, t) {
  const lines = [];
  const stake = percent(t.stake);
  lines.push("Submitting a " + name + " contribution costs " + t.fee + (t.fee === "1" ? " token" : " tokens") + ", burned.");
  lines.push(
    "Evaluating costs " + stake + " of your reputation" +
      (Number(t.fee_exponent) > 0 ? ", less the more others have already evaluated." : "."));
  lines.push(
    "Each evaluation shares " + percent(t.distribution) +
      " of the evaluator's reputation among the earlier evaluators who gave the same value.");
  lines.push("Values allowed: " + t.evaluation_set.join(", ") + ".");
  if (t.reward && t.reward.median) {
    const m = t.reward.median;
    lines.push(
      "The contributor is minted up to " + m.token_value[m.token_value.length - 1] + " tokens and " +
        m.reputation_value[m.reputation_value.length - 1] +
        " reputation, by the reputation-weighted median value, once half of all reputation has evaluated.");
  } else if (t.reward && t.reward.threshold) {
    const th = t.reward.threshold;
    lines.push(
      "The contributor is minted tokens (" + th.token_factor + " per unit of score) and reputation (" +
        th.reputation_factor + ") once more than " + percent(th.threshold) +
        " of all reputation has given the top value.");
  }
  if (Number(t.evaluator_fund) > 0) {
    lines.push("First-time evaluators share a fund of " + t.evaluator_fund + " tokens per contribution.");
  }
  return lines;
}

async function cooperativePage() {
  const [o, p] = await Promise.all([get("/overview"), get("/params")]);
  const params = p.params;
  const validators = o.validators.map((v) =>
    el("tr", {},
      cell(el("span", { class: "mono" }, short(v.address))),
      cell(String(v.power), true),
      cell(v.signing === null ? "no block yet" : v.signing ? "signing" : "not signing")));
  const rules = [];
  for (const [name, t] of Object.entries(params.types || {})) {
    rules.push(el("h2", {}, "Contributions of type “" + name + "”"));
    rules.push(el("ul", {}, plainWords(name, t).map((line) => el("li", {}, line))));
  }
  const general = [
    "Whoever admitted a member earns " + percent(params.referral_fraction) + " of that member's gains.",
    "A new member starts with " + params.initial_grant.reputation + " reputation and " +
      params.initial_grant.tokens + " tokens (admission: " + params.admission + ").",
    params.revote === "reject-same"
      ? "Evaluating again with the same value is refused; a new value replaces the old one."
      : "Re-evaluation: " + params.revote + ".",
  ];
  if (Number(params.min_reputation_to_evaluate) > 0) {
    general.push("Evaluating needs at least " + params.min_reputation_to_evaluate + " reputation.");
  }
  if (params.governance && params.governance.enabled) {
    general.push("Any member may propose to change these rules (" + params.governance.fee +
      " tokens); a proposal passes when members holding half of all reputation accept it.");
  }
  // Parameters the cooperative changed by proposal (GET /params's provenance).
  const changed = (p.paths || []).filter((x) => x.proposal !== null && x.proposal !== undefined)
    .map((x) => el("li", {}, el("span", { class: "mono" }, x.path), " = " + JSON.stringify(x.value) +
      ", by ", link(["contribution", String(x.proposal)], "proposal #" + x.proposal), " (block " + x.since + ")"));
  return [
    el("h1", {}, "The cooperative"),
    el("div", { class: "stats" },
      stat("chain id", o.chain_id),
      stat("height", o.height),
      stat("reputation in all", o.total_reputation),
      stat("tokens in all", o.total_tokens),
      stat("members", o.members)),
    el("p", { class: "muted" }, "Genesis ", el("span", { class: "mono" }, o.genesis_hash)),
    el("h2", {}, "Validators"),
    el("p", { class: "muted" }, "Signing: its signature is in the certificate of block " + o.height + "."),
    table(["validator", { label: "power", num: true }, "status"], validators),
    el("h2", {}, "Rules"),
    el("ul", {}, general.map((line) => el("li", {}, line))),
    rules,
    changed.length ? [el("h2", {}, "Changed by the cooperative"), el("ul", {}, changed)] : null,
  ];
}

async function contributionsPage() {
  const o = await get("/overview");
  const open = await get("/contributions?open=true&limit=100");
  const after = Math.max(0, o.contributions - 50) - 1;
  const recent = await get("/contributions?limit=50" + (after >= 0 ? "&after=" + after : ""));
  const closed = recent.items.filter((c) => !c.open).reverse();
  return [
    el("h1", {}, "Contributions"),
    el("p", { class: "muted" },
      "The bar is the share of all reputation engaged in a contribution's evaluations; the line marks 50%, from which a median reward can be minted."),
    el("h2", {}, "Open (" + open.items.length + (open.next !== null ? "+" : "") + ")"),
    open.items.length ? el("div", { class: "card" }, open.items.map(contributionItem))
      : el("p", { class: "muted" }, "None open."),
    el("h2", {}, "Recently closed"),
    closed.length ? el("div", { class: "card" }, closed.map(contributionItem))
      : el("p", { class: "muted" }, "None closed among the latest 50."),
  ];
}

async function contributionPage(id) {
  const [c, evs] = await Promise.all([
    get("/contributions/" + encodeURIComponent(id)),
    get("/contributions/" + encodeURIComponent(id) + "/evaluations?limit=200"),
  ]);
  const rows = evs.items.map((e) =>
    el("tr", {},
      cell(String(e.n + 1), true),
      cell(member(e.member, e.name)),
      cell(String(e.value), true),
      cell(e.stake === "0" ? "0" : abs(e.stake), true),
      cell(e.shared.with ? [abs(e.shared.total), el("span", { class: "muted" }, " to " + e.shared.with)] : "", true),
      cell(e.received ? (e.received.from ? [signed(e.received.total), el("span", { class: "muted" }, " from " + e.received.from)] : "") : "?", true),
      cell(e.minted.tokens !== "0" || e.minted.reputation !== "0"
        ? e.minted.tokens + " tok, " + e.minted.reputation + " rep" : "", true)));
  return [
    el("h1", {}, "#" + c.id + " ", el("span", {}, c.title),
      c.open ? el("span", { class: "tag open" }, "open") : el("span", { class: "tag" }, "closed")),
    el("div", { class: "card" },
      el("div", {}, "by ", member(c.contributor, c.contributor_name), " · kind ", el("span", {}, c.kind)),
      c.uri ? el("div", {}, "where: ", external(c.uri)) : null,
      c.content_hash ? el("div", { class: "mono muted" }, "content hash " + c.content_hash) : null,
      el("div", {}, "engaged: " + percent(c.engaged_share) + " of all reputation (" + c.engaged_reputation + ")"),
      bar(c.engaged_share),
      el("div", {}, c.reward_rule === "median"
        ? "median now: " + (c.median === null ? "none" : c.median) + " · highest reached: " + c.median_max
        : "best score: " + (c.max_score || "none"))),
    el("div", { class: "stats" },
      el("div", { class: "stat", "data-test": "minted" },
        el("b", {}, c.minted_tokens + " tokens, " + c.minted_reputation + " reputation"),
        el("span", {}, "minted for the contributor")),
      stat("evaluations processed", c.evaluation_count)),
    el("h2", {}, "Evaluations, in order"),
    el("p", { class: "muted" },
      "Stake: the reputation the evaluator burned. Shared: its share of the evaluator's reputation, given to the earlier evaluators who gave the same value. Received: what later evaluations that agreed gave this evaluator. Minted: the contributor's reward at that evaluation."),
    evs.items.length
      ? table(["#", "member", { label: "value", num: true }, { label: "stake", num: true },
        { label: "shared", num: true }, { label: "received", num: true }, { label: "minted", num: true }], rows)
      : el("p", { class: "muted" }, "No evaluations yet."),
    evs.next !== null ? el("p", { class: "muted" }, "The first " + evs.items.length + " of " + evs.total + " evaluations.") : null,
  ];
}

function chart(points, key, color, label) {
  const ns = "http://www.w3.org/2000/svg";
  const width = 600, height = 140, pad = 28;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + width + " " + height);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label + " over time");
  const xs = points.map((p) => p.height);
  const ys = points.map((p) => Number(p[key]));
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
  let y0 = Math.min(...ys), y1 = Math.max(...ys);
  if (y1 === y0) { y0 -= 1; y1 += 1; }
  const x = (v) => pad + ((v - x0) / (x1 - x0)) * (width - 2 * pad);
  const y = (v) => height - pad + 8 - ((v - y0) / (y1 - y0)) * (height - 2 * pad);
  // A step line: a balance holds until the block that changes it.
  let d = "";
  points.forEach((p, i) => {
    const px = x(p.height).toFixed(1), py = y(Number(p[key])).toFixed(1);
    d += i === 0 ? "M" + px + " " + py : " H" + px + " V" + py;
  });
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "none");
  path.setAttribute("stroke", color);
  path.setAttribute("stroke-width", "2");
  svg.append(path);
  const text = (tx, ty, content, anchor) => {
    const t = document.createElementNS(ns, "text");
    t.setAttribute("x", tx);
    t.setAttribute("y", ty);
    if (anchor) t.setAttribute("text-anchor", anchor);
    t.textContent = content;
    svg.append(t);
  };
  text(4, 18, label + ": " + y0.toFixed(2) + " to " + y1.toFixed(2));
  text(pad, height - 4, "block " + x0);
  text(width - pad, height - 4, "block " + x1, "end");
  return svg;
}

const RULE_WORDS = {
  fee: "contribution fees",
  stake: "stakes",
  redistribution: "shared by later evaluators who agreed",
  referral: "referral shares",
  "contributor-reward": "minted as contributor",
  "evaluator-fund": "evaluator fund payments",
  transfer: "transfers",
  admission: "admission grant",
};

// One rule's totals in words, as `pov explain` prints them.
function phrase(rule, totals, value) {
  const count = Math.max(...totals.map((t) => t.count));
  const t = totals[0];
  const qty = (r) => abs(r.total) + (r.asset === "reputation" ? " reputation" : r.total === "1" || r.total === "-1" ? " token" : " tokens");
  const both = () => totals.map((r) => (String(r.total).startsWith("-") ? "" : "+") + r.total + " " + r.asset).join(", ");
  const n = (k, one, many) => k === 1 ? "1 " + one : k + " " + many;
  switch (rule) {
    case "fee": return count === 1 ? "paid a fee of " + qty(t) : "paid " + count + " fees: " + qty(t);
    case "stake":
      if (count === 1 && value !== null && value !== undefined) return "staked " + qty(t) + " when you evaluated it " + value;
      return count === 1 ? "staked " + qty(t) + " on an evaluation" : "staked " + qty(t) + " in " + count + " evaluations";
    case "redistribution": return n(count, "later evaluator", "later evaluators") + " who agreed with you added " + qty(t);
    case "contributor-reward": return "minted for you as its contributor: " + both();
    case "referral": return "your share of " + n(count, "gain", "gains") + " by members you referred: " + both();
    case "evaluator-fund": return n(count, "payment", "payments") + " from its evaluator fund: " + both();
    case "transfer": return n(count, "transfer", "transfers") + ": " + both();
    case "admission": return "admission grant: " + both();
    default: return rule + ": " + both();
  }
}

function phrases(rules, value) {
  const byRule = new Map();
  for (const r of rules) {
    if (!byRule.has(r.rule)) byRule.set(r.rule, []);
    byRule.get(r.rule).push(r);
  }
  return [...byRule.entries()].map(([rule, totals]) => phrase(rule, totals, value)).join("; ");
}

function explanation(x, address) {
  const items = x.contributions.map((c) =>
    el("li", {},
      link(["contribution", String(c.id)], "#" + c.id + " “" + c.title + "”"),
      c.contributor ? " (yours)" : "", ": " + phrases(c.rules, c.value)));
  if (x.other_contributions.contributions > 0) {
    items.push(el("li", {}, x.other_contributions.contributions + (x.other_contributions.contributions === 1 ? " more contribution: " : " more contributions: ") + phrases(x.other_contributions.rules, null)));
  }
  if (x.unattached.length) {
    items.push(el("li", {}, "not through a contribution: " + phrases(x.unattached, null)));
  }
  const rows = new Map();
  for (const r of x.by_rule) {
    const row = rows.get(r.rule) || { reputation: "", tokens: "", count: 0 };
    row[r.asset] = r.total;
    row.count += r.count;
    rows.set(r.rule, row);
  }
  const trs = [...rows.entries()].map(([rule, row]) =>
    el("tr", {}, cell(RULE_WORDS[rule] || rule), cell(row.reputation ? signed(row.reputation) : "", true),
      cell(row.tokens ? signed(row.tokens) : "", true), cell(String(row.count), true)));
  trs.unshift(el("tr", {}, cell("balance at block " + x.since), cell(x.opening.reputation, true), cell(x.opening.tokens, true), cell("", true)));
  trs.push(el("tr", {}, cell(el("b", {}, "balance now")), cell(el("b", {}, x.closing.reputation), true),
    cell(el("b", {}, x.closing.tokens), true), cell(String(x.changes), true)));
  return [
    x.changes ? el("ul", { class: "explain" }, items) : el("p", { class: "muted" }, "No changes since block " + x.since + "."),
    table(["", { label: "reputation", num: true }, { label: "tokens", num: true }, { label: "changes", num: true }], trs),
    el("p", {}, link(["member", address, "full"], "Every change, line by line (" + x.changes + ")")),
  ];
}

async function memberPage(address) {
  const a = encodeURIComponent(address);
  const [acc, tl, x, contributed] = await Promise.all([
    get("/accounts/" + a),
    get("/accounts/" + a + "/timeline?points=200"),
    get("/accounts/" + a + "/explain?limit=20"),
    get("/contributions?limit=50&by=" + a),
  ]);
  const points = tl.points.concat([{ height: tl.height, reputation: acc.reputation, tokens: acc.tokens }]);
  return [
    el("h1", {}, acc.name ? acc.name + " " : "", el("span", { class: "mono muted" }, acc.address)),
    el("div", { class: "stats" },
      stat("reputation", acc.reputation),
      stat("share of all reputation", percent(acc.share_of_reputation)),
      stat("tokens", acc.tokens),
      stat("member number", acc.member_id)),
    acc.referrer ? el("p", {}, "Admitted by ", member(acc.referrer, acc.referrer_name)) : null,
    acc.provenance ? el("p", {}, "Founding reputation carried over: " + acc.provenance.reputation +
      " reputation proven at height " + acc.provenance.height + " of cooperative ",
      el("span", { class: "mono" }, short(acc.provenance.source_genesis)), ", times " + acc.provenance.scale + ".") : null,
    el("p", {}, apiLink("/proofs/" + encodeURIComponent(acc.address), "proof-" + short(acc.address).replace("…", "") + ".json", "Reputation proof at the last block"),
      el("span", { class: "muted" }, " (a file anyone checks offline with pov verify-proof)")),
    el("h2", {}, "Over time"),
    el("div", { "data-test": "chart" },
      chart(points, "reputation", "#2456c9", "reputation"),
      chart(points, "tokens", "#1d7a46", "tokens")),
    el("h2", {}, "Why: the changes, by contribution and rule"),
    explanation(x, acc.address),
    el("h2", {}, "Contributions"),
    contributed.items.length ? el("div", { class: "card" }, contributed.items.map(contributionItem))
      : el("p", { class: "muted" }, "None."),
    el("h2", {}, "Latest evaluations"),
    tl.evaluations.length
      ? table(["contribution", { label: "value", num: true }, { label: "block", num: true }],
        tl.evaluations.slice().reverse().map((e) => el("tr", {},
          cell(link(["contribution", String(e.contribution)], "#" + e.contribution + " " + (e.title || ""))),
          cell(String(e.value), true), cell(String(e.height), true))))
      : el("p", { class: "muted" }, "None."),
  ];
}

const FULL_ROWS = 20000;

async function memberFullPage(address) {
  // The history comes a page at a time (at most 1,000 events each): follow the pages.
  const base = "/accounts/" + encodeURIComponent(address) + "/history?limit=1000";
  let events = [];
  let next = null;
  do {
    const h = await get(base + (next ? "&after=" + encodeURIComponent(next) : ""));
    events = events.concat(h.events);
    next = h.next;
  } while (next && events.length < FULL_ROWS);
  const more = next !== null || events.length > FULL_ROWS;
  const rows = events.slice(0, FULL_ROWS).map((e) =>
    el("tr", {},
      cell(String(e.height), true), cell(e.rule), cell(e.asset), cell(signed(e.amount), true),
      cell(e.balance_after, true),
      cell(e.contribution === null ? "" : link(["contribution", String(e.contribution)], "#" + e.contribution), true)));
  return [
    el("h1", {}, "Every change of ", member(address, null)),
    el("p", {}, link(["member", address], "Back to the explanation")),
    more ? el("p", { class: "muted" }, "The first " + FULL_ROWS + " changes.") : null,
    table([{ label: "block", num: true }, "rule", "asset", { label: "amount", num: true }, { label: "balance after", num: true }, { label: "contribution", num: true }], rows),
  ];
}

async function blocksPage() {
  const o = await get("/overview");
  const heights = [];
  for (let h = o.height; h >= 1 && heights.length < 10; h--) heights.push(h);
  const blocks = await Promise.all(heights.map((h) => get("/blocks/" + h)));
  return [
    el("h1", {}, "Latest blocks"),
    blocks.length ? blocks.map(blockCard) : el("p", { class: "muted" }, "No blocks yet."),
  ];
}

function blockCard(b) {
  const txs = b.txs.map((hash) => {
    const details = el("details", {}, el("summary", { class: "mono" }, short(hash)));
    details.addEventListener("toggle", async () => {
      if (!details.open || details.dataset.loaded) return;
      details.dataset.loaded = "1";
      try {
        const t = await get("/tx/" + encodeURIComponent(hash));
        const kind = Object.keys(t.tx.body)[0];
        append(details, [el("div", {}, kind + " by ", member(t.tx.sender, null), " (nonce " + t.tx.nonce + ")"),
          el("pre", { class: "mono" }, JSON.stringify(t.tx.body, null, 1))]);
      } catch (e) {
        append(details, [el("div", { class: "error" }, e.message)]);
      }
    });
    return details;
  });
  return el("div", { class: "card" },
    el("div", {}, el("b", {}, "Block " + b.height), " ", el("span", { class: "mono muted" }, short(b.hash)),
      " · " + time(b.header.time_ms)),
    el("div", {}, b.txs.length + " transaction" + (b.txs.length === 1 ? "" : "s")), txs,
    el("div", { class: "muted" }, "certificate: round " + b.certificate.round + ", signed by ",
      b.certificate.signatures.map((s, i) => [i ? ", " : "", el("span", { class: "mono" }, short(s.validator))])));
}

// ---- routing and live updates ----

function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case undefined: return frontPage();
    case "cooperative": return cooperativePage();
    case "contributions": return contributionsPage();
    case "contribution": return contributionPage(parts[1]);
    case "member": return parts[2] === "full" ? memberFullPage(parts[1]) : memberPage(parts[1]);
    case "blocks": return blocksPage();
    default: return Promise.resolve([el("h1", {}, "No such page"), el("p", {}, link([], "Back to the overview"))]);
  }
}

let rendering = null;
let again = false;

// Builds the current page off-screen, then swaps it in (no flicker, no lost scroll).
async function render() {
  if (rendering) { again = true; return rendering; }
  rendering = (async () => {
    const hash = location.hash;
    let content;
    try {
      content = await route();
    } catch (e) {
      content = [el("h1", {}, "Could not load this page"), el("p", { class: "error" }, e.message)];
    }
    if (hash === location.hash) {
      main.replaceChildren(...[content].flat(Infinity).filter(Boolean));
    }
  })();
  await rendering;
  rendering = null;
  if (again) { again = false; render(); }
}

let lastHeight = 0;
let refreshTimer = null;
let lastRefresh = 0;

// At most one refresh a second, however fast blocks come.
function refreshSoon() {
  if (refreshTimer) return;
  const wait = Math.max(0, lastRefresh + 1000 - Date.now());
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    lastRefresh = Date.now();
    render();
  }, wait);
}

function connect() {
  const events = new EventSource("/events");
  events.addEventListener("open", () => { live.className = "live on"; live.textContent = "live"; });
  events.addEventListener("block", (message) => {
    const block = JSON.parse(message.data);
    lastHeight = block.height;
    live.className = "live on";
    live.textContent = "live · block " + block.height;
    // Pages change with blocks that carry transactions; the blocks page with every block
    // (unless a transaction is open there).
    const onBlocks = location.hash.startsWith("#/blocks");
    if (onBlocks && document.querySelector("main details[open]")) return;
    if (block.txs.length || onBlocks) refreshSoon();
  });
  events.addEventListener("error", () => { live.className = "live"; live.textContent = "reconnecting…"; });
}

window.addEventListener("hashchange", () => { window.scrollTo(0, 0); render(); });
render();
connect();
