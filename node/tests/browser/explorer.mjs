// Drives headless Chromium through the explorer of a running povd devnet (started by
// node/tests/explorer.rs, which also signs the transactions this script submits).
//
//   node explorer.mjs API_URL TXS_JSON OUT_DIR
//
// TXS_JSON: {"contributions": [tx...], "evaluations": [tx...], "member": "<address>"}.
// It submits the contributions through the API, opens the first one's page, submits the
// evaluations, and waits for the page to show the minted reward without a reload; then the
// contributor's page with its chart, on a desktop and a phone screen. Screenshots go to
// OUT_DIR. Exit status 0 when every check held; the reason on stderr otherwise.
import { readFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [api, txsPath, outDir] = process.argv.slice(2);
const txs = JSON.parse(readFileSync(txsPath, "utf8"));
const executablePath = process.env.POV_CHROMIUM || "/usr/bin/chromium";
mkdirSync(outDir, { recursive: true });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function submit(tx) {
  const response = await fetch(api + "/tx", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(tx),
  });
  const body = await response.json();
  check(response.status === 202, "POST /tx: " + response.status + " " + JSON.stringify(body));
  return body.hash;
}

async function waitFinal(hashes) {
  const deadline = Date.now() + 60_000;
  for (const hash of hashes) {
    for (;;) {
      const t = await (await fetch(api + "/tx/" + hash)).json();
      if (t.status === "final") break;
      check(Date.now() < deadline, "transaction " + hash + " not final within 60 s");
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let page = null;
const errors = [];
try {
  const hashes = [];
  for (const tx of txs.contributions) hashes.push(await submit(tx));
  await waitFinal(hashes);

  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  page = await context.newPage();
  page.on("pageerror", (e) => errors.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
  page.on("dialog", (d) => { errors.push("a dialog opened: " + d.message()); d.dismiss(); });

  // Contribution 1's title and URI are hostile: they must show as text, and the URI must
  // not become a link.
  await page.goto(api + "/#/contribution/1");
  await page.waitForSelector("main h1");
  const hostile = await page.evaluate(() => ({
    title: document.querySelector("main h1").textContent,
    images: document.querySelectorAll("main img").length,
    links: [...document.querySelectorAll("main a")].map((a) => a.getAttribute("href")),
  }));
  check(hostile.title.includes("<img src=x onerror=alert(1)>"), "title not shown as text: " + JSON.stringify(hostile));
  check(hostile.images === 0, "markup from a title became an element");
  check(hostile.links.every((h) => h.startsWith("#/")), "a non-http(s) URI became a link: " + hostile.links);

  // Contribution 0 before any evaluation: nothing minted.
  await page.goto(api + "/#/contribution/0");
  await page.waitForSelector("[data-test=minted]");
  const before = await page.textContent("[data-test=minted] b");
  check(before === "0 tokens, 0 reputation", "minted before evaluations: " + before);
  const link = await page.getAttribute("main a[target=_blank]", "href");
  check(link === "https://example.org/logo", "the https URI is a link: " + link);
  await page.evaluate(() => { window.notReloaded = true; });

  // Evaluations through the API; the page follows the event stream.
  const started = Date.now();
  for (const tx of txs.evaluations) await submit(tx);
  await page.waitForFunction(
    () => !document.querySelector("[data-test=minted] b").textContent.startsWith("0 tokens"),
    null, { timeout: 60_000 });
  const updatedMs = Date.now() - started;
  check(await page.evaluate(() => window.notReloaded === true), "the page was reloaded");
  const minted = await page.textContent("[data-test=minted] b");
  await page.waitForFunction(
    (n) => document.querySelectorAll("main tbody tr").length === n, txs.evaluations.length,
    { timeout: 30_000 });
  await page.screenshot({ path: join(outDir, "contribution.png"), fullPage: true });

  // The contributor's page: chart, explanation.
  await page.evaluate((m) => { location.hash = "#/member/" + m; }, txs.member);
  await page.waitForSelector("[data-test=chart] svg path");
  await page.waitForFunction(() => document.querySelector("main").textContent.includes("minted for you as its contributor"));
  check(await page.evaluate(() => window.notReloaded === true), "the page was reloaded");
  await page.screenshot({ path: join(outDir, "member.png"), fullPage: true });
  const proofPath = await page.getAttribute("main a[download]", "href");
  const proof = await fetch(api + proofPath);
  check(proof.status === 200 && (await proof.json()).format === "pov-proof/1",
    "the reputation proof link " + proofPath + " answered " + proof.status);

  for (const [route, file] of [["#/", "front.png"], ["#/cooperative", "cooperative.png"], ["#/blocks", "blocks.png"]]) {
    await page.evaluate((r) => { location.hash = r; }, route);
    await page.waitForFunction(() => !document.querySelector("main").textContent.includes("Loading"));
    await page.waitForSelector("main h1");
    await page.screenshot({ path: join(outDir, file), fullPage: true });
  }
  const cooperative = await page.evaluate(async () => {
    location.hash = "#/cooperative";
    for (let i = 0; i < 100 && !document.querySelector("main h1")?.textContent.includes("The cooperative"); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    return document.querySelector("main").textContent;
  });
  check(cooperative.includes("signing") && cooperative.includes("Evaluating costs"), "cooperative page: " + cooperative.slice(0, 300));

  // A phone: the member page fits the screen's width.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const small = await phone.newPage();
  small.on("pageerror", (e) => errors.push("page error (phone): " + e.message));
  await small.goto(api + "/#/member/" + txs.member);
  await small.waitForSelector("[data-test=chart] svg path");
  const overflow = await small.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await small.screenshot({ path: join(outDir, "member-phone.png"), fullPage: true });
  check(overflow <= 1, "the member page is " + overflow + " px wider than a phone's screen");

  check(errors.length === 0, errors.join("\n"));
  console.log(JSON.stringify({ minted, updated_after_ms: updatedMs }));
} catch (e) {
  if (page) await page.screenshot({ path: join(outDir, "failure.png"), fullPage: true }).catch(() => {});
  console.error(e.stack || String(e));
  if (errors.length) console.error(errors.join("\n"));
  process.exitCode = 1;
} finally {
  await browser.close();
}
