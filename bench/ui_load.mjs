// The dashboard under a fleet, in Debian's Chromium: time to the first useful paint (every host row, then
// every host's container counts and live numbers) and the browser's CPU while live updates stream.
// Run by bench/ui_load.sh, which starts the server and the simulated agents.
// Usage: node bench/ui_load.mjs <base-url> <user> <password> <hosts> [server-pid]
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { chromium } = createRequire(path.join(repo, "web/package.json"))("playwright-core");
const [base, user, password, hostsArg, serverPidArg] = process.argv.slice(2);
const hosts = Number(hostsArg);
const serverPid = Number(serverPidArg || 0);
const runs = 5;
const cpuWindow = 30;

const tck = 100;  // USER_HZ on Linux
function ticks(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);  // utime, stime
  } catch {
    return 0;
  }
}
// The browser and every process it started (renderer, GPU, network service...).
function family(root) {
  const parent = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const text = readFileSync(`/proc/${d}/stat`, "utf8");
      parent.set(Number(d), Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[1]));
    } catch { /* gone */ }
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, ppid] of parent) if (ppid === out[i]) out.push(pid);
  return out;
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const login = await context.request.post(base + "/api/auth/login", { data: { username: user, password } });
  if (!login.ok()) throw new Error("sign-in failed: " + login.status());

  // First useful paint, several page loads (a new page each time; the assets may be cached). A recorder
  // in the page notes on every animation frame when each condition first holds, in ms since navigation.
  await context.addInitScript((n) => {
    const marks = (window.__marks = {});
    const rows = () => document.querySelectorAll("table.hosts tbody tr");
    const tick = () => {
      const now = performance.now();
      const list = rows();
      if (!marks.rows && list.length >= n) marks.rows = now;
      if (!marks.live && list.length >= n && [...list].every((r) => /\d/.test(r.querySelector("td.num")?.textContent ?? ""))) marks.live = now;
      if (!marks.counts && document.querySelectorAll("table.hosts [data-counts] .n-running").length >= n) marks.counts = now;
      if (!(marks.rows && marks.live && marks.counts)) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }, hosts);
  const rows = [], counts = [], live = [], fcp = [];
  for (let i = 0; i < runs; i++) {
    const page = await context.newPage();
    await page.goto(base + "/#/", { waitUntil: "commit" });
    await page.waitForFunction(() => window.__marks && window.__marks.rows && window.__marks.live && window.__marks.counts,
                               null, { timeout: 60000 });
    const m = await page.evaluate(() => window.__marks);
    rows.push(m.rows);
    live.push(m.live);
    counts.push(m.counts);
    fcp.push(await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN));
    const shown = await page.locator("table.hosts [data-counts]").first().textContent();
    if (i === 0) console.log("first host's containers (running / stopped / unhealthy):", shown.trim());
    await page.close();
  }
  console.log(`dashboard, ${hosts} hosts, median of ${runs} loads:`);
  console.log(`  first contentful paint:            ${median(fcp).toFixed(0)} ms`);
  console.log(`  all ${hosts} host rows:                ${median(rows).toFixed(0)} ms`);
  console.log(`  live CPU in every row:             ${median(live).toFixed(0)} ms`);
  console.log(`  container counts in every row:     ${median(counts).toFixed(0)} ms`);

  // CPU while live updates stream: the dashboard left open for 30 s.
  const page = await context.newPage();
  // Counts the frames the live feed delivers to the page. With ALL_STATS=1 the page's subscription is
  // widened to everything, as the dashboard asked before it left out container samples: the comparison.
  await page.addInitScript((allStats) => {
    const Native = window.WebSocket;
    window.__frames = 0;
    window.WebSocket = class extends Native {
      constructor(...args) {
        super(...args);
        this.addEventListener("message", () => window.__frames++);
      }
      send(data) {
        if (allStats && typeof data === "string" && data.includes('"subscribe"')) data = JSON.stringify({ type: "subscribe" });
        super.send(data);
      }
    };
  }, process.env.ALL_STATS === "1");
  await page.goto(base + "/#/");
  await page.waitForFunction((n) => document.querySelectorAll("table.hosts [data-counts] .n-running").length >= n, hosts, { timeout: 60000 });
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");
  const metric = async () => Object.fromEntries((await cdp.send("Performance.getMetrics")).metrics.map((m) => [m.name, m.value]));
  // Chromium's processes are this script's descendants; the script itself is left out.
  const chromiumPids = () => family(process.pid).filter((p) => p !== process.pid);
  // Per process: one that ends within the window (a closed page's renderer) counts for nothing.
  const before = new Map(chromiumPids().map((p) => [p, ticks(p)]));
  const serverBefore = serverPid ? ticks(serverPid) : 0;
  const m0 = await metric();
  const f0 = await page.evaluate(() => window.__frames);
  await new Promise((r) => setTimeout(r, cpuWindow * 1000));
  const m1 = await metric();
  const f1 = await page.evaluate(() => window.__frames);
  let used = 0;
  for (const p of chromiumPids()) {
    const t = ticks(p);
    used += before.has(p) ? t - before.get(p) : t;
  }
  const serverAfter = serverPid ? ticks(serverPid) : 0;
  const browserCpu = used / tck;
  console.log(`dashboard open ${cpuWindow} s with live updates (${hosts} hosts, stats every 2 s${process.env.ALL_STATS === "1" ? ", every container sample subscribed" : ""}):`);
  console.log(`  live frames received: ${((f1 - f0) / cpuWindow).toFixed(0)}/s`);
  console.log(`  Chromium, all processes: ${browserCpu.toFixed(2)} CPU s = ${(100 * browserCpu / cpuWindow).toFixed(1)}% of one core`);
  console.log(`  page main thread busy (CDP TaskDuration): ${(1000 * (m1.TaskDuration - m0.TaskDuration)).toFixed(0)} ms = ${(100 * (m1.TaskDuration - m0.TaskDuration) / cpuWindow).toFixed(1)}%`);
  console.log(`    of which script: ${(1000 * (m1.ScriptDuration - m0.ScriptDuration)).toFixed(0)} ms, layout: ${(1000 * (m1.LayoutDuration - m0.LayoutDuration)).toFixed(0)} ms, style: ${(1000 * (m1.RecalcStyleDuration - m0.RecalcStyleDuration)).toFixed(0)} ms`);
  console.log(`  JS heap used at the end: ${(m1.JSHeapUsedSize / 1048576).toFixed(1)} MiB`);
  if (serverPid) console.log(`  dockmon-server meanwhile: ${((serverAfter - serverBefore) / tck).toFixed(2)} CPU s`);
} finally {
  await browser.close();
}
