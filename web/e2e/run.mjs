// End-to-end: the embedded UI in a real Chromium (playwright-core, Debian's /usr/bin/chromium) against a
// real dockmon-server and dockmon-agent on the test dockerd. Screenshots of the main pages go to
// docs/screenshots/. Usage: node web/e2e/run.mjs <dockmon-server> <dockmon-agent>
// Needs DOCKMON_TEST_DOCKER_HOST (scripts/test-env start). Exits non-zero on the first failure.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const [serverBin, agentBin] = process.argv.slice(2);
const dockerHost = process.env.DOCKMON_TEST_DOCKER_HOST;
if (!serverBin || !agentBin || !dockerHost) {
  console.error("usage: DOCKMON_TEST_DOCKER_HOST=... node run.mjs <dockmon-server> <dockmon-agent>");
  process.exit(2);
}
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shots = path.join(repo, "docs/screenshots");
mkdirSync(shots, { recursive: true });
const work = mkdtempSync(path.join(tmpdir(), "dockmon-e2e-"));
const children = [];
const procs = [];
const containers = [];
const password = "e2e-admin-password";

function docker(...args) {
  return execFileSync("docker", ["-H", dockerHost, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}
function inspect(name, format) {
  try {
    return docker("inspect", "-f", format, name);
  } catch {
    return "<missing>";
  }
}
function start(bin, args, env, log) {
  const child = spawn(bin, args, { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  children.push(child);
  const proc = { child, log: () => out, name: log };
  procs.push(proc);
  return proc;
}
async function until(what, check, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      /* not yet */
    }
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 200));
  }
}
function check(cond, message) {
  if (!cond) throw new Error("check failed: " + message);
  console.log("ok -", message);
}

let browser;
let exitCode = 0;
try {
  const server = start(serverBin, ["--listen", "127.0.0.1:0", "--data-dir", path.join(work, "server")],
                       { DOCKMON_ADMIN_PASSWORD: password, LOG_LEVEL: "info" }, "server");
  let port = 0;
  await until("the server to listen", () => {
    const m = server.log().match(/listening on http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) port = Number(m[1]);
    return port !== 0;
  });
  const base = `http://127.0.0.1:${port}`;

  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());

  // Sign in.
  await page.goto(base + "/");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").waitFor();
  check((await page.getByRole("alert").textContent()).includes("invalid"), "a wrong password is refused with the server's words");
  await page.screenshot({ path: path.join(shots, "login.png") });
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("admin (admin)").waitFor();
  check(true, "signed in; the header shows who and which role");
  await page.locator(".live.live").waitFor({ timeout: 10000 });
  check(true, "the live feed is connected");

  // A host registers and appears on the dashboard.
  const token = (await (await page.request.post(base + "/api/agent/generate-token")).json()).token;
  start(agentBin, [], {
    DOCKMON_URL: base, REGISTRATION_TOKEN: token, DOCKER_HOST: dockerHost,
    DATA_PATH: path.join(work, "agent"), STATS_INTERVAL: "1s", LOG_LEVEL: "info",
  }, "agent");
  const hostRow = page.locator("table.hosts tbody tr").first();
  await until("the host to appear online", async () => (await hostRow.locator(".badge").textContent()) === "online", 30000);
  check(true, "the new host appears online without a reload");
  await until("host CPU to show", async () => /\d/.test(await hostRow.locator("td.num").first().textContent()), 15000);
  await page.screenshot({ path: path.join(shots, "dashboard.png") });

  // Containers: stop and start one from the table; watch a busy one's CPU.
  for (const name of ["e2e-web", "e2e-busy"]) {
    try { docker("rm", "-f", name); } catch { /* none */ }
  }
  docker("run", "-d", "--name", "e2e-web", "--network", "none", "dockmon-test/busybox:latest", "sleep", "100000");
  docker("run", "-d", "--name", "e2e-busy", "--network", "none", "--cpus", "0.5", "dockmon-test/busybox:latest",
         "sh", "-c", "while :; do :; done");
  containers.push("e2e-web", "e2e-busy");
  await hostRow.locator("a").click();
  const web = page.locator('tr[data-container="e2e-web"]');
  await web.waitFor();
  await web.getByRole("button", { name: "stop" }).click();
  await until("e2e-web to stop", () => inspect("e2e-web", "{{.State.Running}}") === "false", 30000);
  await until("the table to show it stopped", async () => (await web.locator("[data-state]").textContent()) === "exited");
  check(true, "stop from the table stops the real container");
  await web.getByRole("button", { name: "start" }).click();
  await until("e2e-web to run", () => inspect("e2e-web", "{{.State.Running}}") === "true", 30000);
  check(true, "start from the table starts it again");
  const busyCpu = page.locator('tr[data-container="e2e-busy"] td[data-cpu]');
  await until("live CPU of the busy container", async () => parseFloat(await busyCpu.textContent()) > 20, 30000);
  check(true, "live CPU moves for a busy container: " + (await busyCpu.textContent()).trim());
  await until("the buttons to be usable again", () => web.getByRole("button", { name: "stop" }).isEnabled());
  await page.screenshot({ path: path.join(shots, "host.png") });

  // A viewer sees the buttons disabled, and the API refuses them anyway.
  const made = await page.request.post(base + "/api/users", { data: { username: "watcher", password: "watcher-password", role: "viewer" } });
  check(made.status() === 201, "an admin adds a viewer");
  const viewerContext = await browser.newContext({ viewport: { width: 390, height: 844 } });  // phone width
  const viewer = await viewerContext.newPage();
  await viewer.goto(base + "/" + "#/hosts/" + page.url().split("#/hosts/")[1]);
  await viewer.getByLabel("User name").fill("watcher");
  await viewer.getByLabel("Password").fill("watcher-password");
  await viewer.getByRole("button", { name: "Sign in" }).click();
  await viewer.getByText("watcher (viewer)").waitFor();
  const viewerStop = viewer.locator('tr[data-container="e2e-web"]').getByRole("button", { name: "stop" });
  await viewerStop.waitFor();
  check(await viewerStop.isDisabled(), "a viewer's buttons are disabled");
  const hostId = page.url().split("#/hosts/")[1];
  const refused = await viewer.request.post(`${base}/api/hosts/${hostId}/containers/e2e-web/stop`);
  check(refused.status() === 403, "the API refuses a viewer's stop anyway");
  check(inspect("e2e-web", "{{.State.Running}}") === "true", "the container still runs");
  await viewer.screenshot({ path: path.join(shots, "host-phone-viewer.png") });
  console.log("all e2e checks passed; screenshots in docs/screenshots/");
} catch (e) {
  exitCode = 1;
  console.error("FAILED:", e.message);
  for (const p of procs) console.error(`--- ${p.name} log (last 3000 characters)\n` + p.log().slice(-3000));
} finally {
  if (browser) await browser.close().catch(() => undefined);
  for (const c of children) c.kill("SIGTERM");
  for (const name of containers) {
    try { docker("rm", "-f", name); } catch { /* gone */ }
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);
