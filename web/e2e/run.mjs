// End-to-end: the embedded UI in a real Chromium (playwright-core, Debian's /usr/bin/chromium) against a
// real dockmon-server and dockmon-agent on the test dockerd. Screenshots of the main pages go to
// docs/screenshots/. Usage: node web/e2e/run.mjs <dockmon-server> <dockmon-agent>
// Needs DOCKMON_TEST_DOCKER_HOST (scripts/test-env start). Exits non-zero on the first failure.
// Takes a few minutes: among other things the server is frozen (SIGSTOP) for up to ~30 s to show that the
// live badge notices a silent connection.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, request as apiClient } from "playwright-core";

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
let password = "e2e-admin-password";  // changed through the UI near the end
let promptAnswer = "";
let confirmAnswer = true;
const dialogs = [];
const apiContexts = [];
let serverProc = null;
let serverStopped = false;
const registry = process.env.DOCKMON_TEST_REGISTRY || "127.0.0.1:5000";
const appImage = `${registry}/ui-e2e-app`;
let knownHostId = "";
const longName = "ui-e2e-zz-a-container-name-long-enough-to-be-cut-in-its-column";
const longImage = "dockmon-test/busybox-with-a-repository-name-long-enough-to-be-cut:a-long-tag-for-the-layout";

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
// A client of its own (no browser, no shared cookies) signed in as someone: {status, api}.
async function signInApi(base, username, pw) {
  const api = await apiClient.newContext({ baseURL: base });
  apiContexts.push(api);
  const res = await api.post("/api/auth/login", { data: { username, password: pw } });
  return { status: res.status(), api };
}
function check(cond, message) {
  if (!cond) throw new Error("check failed: " + message);
  console.log("ok -", message);
}

let browser;
let lastPage;
let exitCode = 0;
try {
  const server = serverProc = start(serverBin, ["--listen", "127.0.0.1:0", "--data-dir", path.join(work, "server")],
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
  lastPage = page;
  page.on("dialog", (d) => {
    dialogs.push({ type: d.type(), message: d.message() });
    if (d.type() === "prompt") d.accept(promptAnswer);
    else if (d.type() === "confirm" && !confirmAnswer) d.dismiss();
    else d.accept();
  });
  // Heartbeats on the live feed, as the browser receives them.
  const heartbeats = [];
  page.on("websocket", (ws) => {
    if (!ws.url().endsWith("/ws")) return;
    ws.on("framereceived", (f) => {
      if (typeof f.payload === "string" && f.payload.includes('"heartbeat"')) heartbeats.push(Date.now());
    });
  });
  const hostId = () => page.url().match(/#\/hosts\/([0-9a-fA-F-]+)/)?.[1] ?? knownHostId;

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
  await page.locator(".live-state.live").waitFor({ timeout: 10000 });
  check(true, "the live feed is connected");

  // Add a host through the UI: mint a token, read the lines to paste, start an agent with that token.
  await page.getByRole("button", { name: "Add a host" }).click();
  await page.getByRole("button", { name: "Mint a registration token" }).click();
  const tokenCode = page.locator("code[data-token]");
  await tokenCode.waitFor();
  const token = (await tokenCode.textContent()).trim();
  check(/^[A-Za-z0-9_-]{20,}$/.test(token), "a registration token is shown");
  const snippets = await page.locator(".add-host pre").allTextContents();
  check(snippets.length === 2 && snippets.every((t) => t.includes(`REGISTRATION_TOKEN=${token}`) && t.includes(`DOCKMON_URL=${base}`)),
        "the docker run line and the native line carry this token and this server's address");
  check(snippets[0].startsWith("docker run") && snippets[0].includes("/var/run/docker.sock"), "the container line mounts the Docker socket");
  const left = (await page.locator(".countdown strong").textContent()).trim();
  check(/^1[45]:\d\d$/.test(left), "the countdown shows the token's 15 minutes: " + left);
  await until("the countdown to move", async () => (await page.locator(".countdown strong").textContent()).trim() !== left, 5000);
  await page.screenshot({ path: path.join(shots, "add-host.png") });
  start(agentBin, [], {
    DOCKMON_URL: base, REGISTRATION_TOKEN: token, DOCKER_HOST: dockerHost,
    DATA_PATH: path.join(work, "agent"), STATS_INTERVAL: "1s", LOG_LEVEL: "info",
  }, "agent");
  await page.locator("[data-arrived]").waitFor({ timeout: 30000 });
  check((await page.locator("[data-arrived]").textContent()).includes("Registered"), "the panel says the new host registered");
  const hostRow = page.locator("table.hosts tbody tr").first();
  await until("the host to appear online", async () => (await hostRow.locator(".badge").textContent()) === "online", 30000);
  check(true, "the new host appears online on the dashboard without a reload");
  knownHostId = await hostRow.getAttribute("data-host-id");
  const rowText = await hostRow.textContent();
  const dockerVersion = docker("version", "-f", "{{.Server.Version}}");
  check(rowText.includes(dockerVersion), "the dashboard shows the host's Docker version " + dockerVersion);
  await until("host CPU to show", async () => /\d/.test(await hostRow.locator("td.num").first().textContent()), 15000);
  await page.getByRole("button", { name: "Close" }).click();

  // Test images in the local registry: v1 to run (with a healthcheck), v2 only in the registry to update to.
  const marker = "ui-e2e-marker-" + process.pid;
  for (const version of ["v1", "v2"]) {
    const dir = path.join(work, "image-" + version);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "version"), version + "\n");
    writeFileSync(path.join(dir, "Dockerfile"),
      "FROM dockmon-test/busybox:latest\nCOPY version /version\n" +
      "HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD test -f /version\n" +
      `LABEL dockmon.test.version=${version}\nCMD ["sh", "-c", "cat /version; sleep 100000"]\n`);
    execFileSync("docker", ["-H", dockerHost, "build", "-q", "-t", `${appImage}:${version}`, dir],
                 { env: { ...process.env, DOCKER_BUILDKIT: "0" }, stdio: ["ignore", "pipe", "pipe"] });
    docker("push", `${appImage}:${version}`);
  }
  docker("rmi", `${appImage}:v2`);  // the update really pulls it

  // Containers: stop and start one from the table; watch a busy one's CPU.
  for (const name of ["ui-e2e-web", "ui-e2e-web2", "ui-e2e-busy", "ui-e2e-app"]) {
    try { docker("rm", "-f", name); } catch { /* none */ }
  }
  containers.push("ui-e2e-web", "ui-e2e-web2", "ui-e2e-busy", "ui-e2e-app");
  docker("run", "-d", "--name", "ui-e2e-web", "--network", "none", "dockmon-test/busybox:latest",
         "sh", "-c", `trap "exit 0" TERM; echo ${marker} was here; while :; do sleep 1; done`);
  docker("run", "-d", "--name", "ui-e2e-busy", "--network", "none", "--cpus", "0.5", "dockmon-test/busybox:latest",
         "sh", "-c", "while :; do :; done");
  docker("run", "-d", "--name", "ui-e2e-app", "--network", "none", `${appImage}:v1`);
  // A never-started container whose name and image are too long for their columns: the layout checks
  // need its rename and remove buttons, and its text cut rather than pushing the table wider.
  docker("tag", "dockmon-test/busybox:latest", longImage);
  try { docker("rm", "-f", longName); } catch { /* none */ }
  containers.push(longName);
  docker("create", "--name", longName, "--network", "none", longImage, "true");

  // The dashboard counts the host's containers by state, as docker sees them.
  const counts = hostRow.locator("[data-counts]");
  await until("running containers to be counted", async () => {
    const running = Number(await counts.locator(".n-running").textContent());
    return running === docker("ps", "-q").split("\n").filter(Boolean).length;
  }, 30000);
  check(true, "the dashboard's running count matches docker ps: " + (await counts.textContent()).trim());
  await page.screenshot({ path: path.join(shots, "dashboard.png") });

  // Keyboard: Tab reaches the main links and buttons, and the focus is visible.
  await page.evaluate(() => document.activeElement?.blur());
  let reached = false;
  for (let i = 0; i < 12 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement?.textContent === "Add a host");
  }
  check(reached, "Tab reaches the Add a host button");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  check(outline !== "none", "the focused button shows a focus outline: " + outline);

  await hostRow.locator("a").click();
  const web = page.locator('tr[data-container="ui-e2e-web"]');
  await web.waitFor();
  await web.getByRole("button", { name: "stop" }).click();
  await until("ui-e2e-web to stop", () => inspect("ui-e2e-web", "{{.State.Running}}") === "false", 30000);
  await until("the table to show it stopped", async () => (await web.locator("[data-state]").textContent()) === "exited");
  check(true, "stop from the table stops the real container");
  await web.getByRole("button", { name: "start" }).click();
  await until("ui-e2e-web to run", () => inspect("ui-e2e-web", "{{.State.Running}}") === "true", 30000);
  check(true, "start from the table starts it again");
  await until("the uptime to show", async () => /^(Less than a second|\d+ seconds?|About a minute|\d+ minutes)$/.test(await web.locator("td.uptime").textContent()));
  check(true, "the table shows the uptime: " + (await web.locator("td.uptime").textContent()));
  const busyCpu = page.locator('tr[data-container="ui-e2e-busy"] td[data-cpu]');
  await until("live CPU of the busy container", async () => parseFloat(await busyCpu.textContent()) > 20, 30000);
  check(true, "live CPU moves for a busy container: " + (await busyCpu.textContent()).trim());
  const spark = page.locator('tr[data-container="ui-e2e-busy"] svg.spark polyline').first();
  await spark.waitFor({ timeout: 15000 });
  check(((await spark.getAttribute("points")) ?? "").split(" ").length >= 2, "the CPU sparkline draws the recent values");
  const app = page.locator('tr[data-container="ui-e2e-app"]');
  await until("the health to show", async () => (await app.locator(".badge.healthy").count()) === 1, 30000);
  check(true, "the table shows the healthcheck's verdict: healthy");
  // Live numbers must not move the layout: the columns keep their places while values change.
  const columns = async () => page.locator("table.containers thead th").evaluateAll((ths) => ths.map((t) => Math.round(t.getBoundingClientRect().x)));
  const before = await columns();
  const cpuBefore = await busyCpu.textContent();
  await until("a new CPU value", async () => (await busyCpu.textContent()) !== cpuBefore, 15000);
  check(JSON.stringify(await columns()) === JSON.stringify(before), "the columns stay put while live values change");
  await until("the buttons to be usable again", () => web.getByRole("button", { name: "stop" }).isEnabled());
  await page.locator(".table-wrap").evaluate((e) => (e.scrollLeft = 0));
  await page.screenshot({ path: path.join(shots, "host.png") });

  // Rename from the table.
  promptAnswer = "ui-e2e-web2";
  await web.getByRole("button", { name: "rename" }).click();
  await until("the container to be renamed", () => inspect("ui-e2e-web2", "{{.Name}}") === "/ui-e2e-web2", 20000);
  await page.locator('tr[data-container="ui-e2e-web2"]').waitFor();
  check(true, "rename from the table renames the real container");

  // Tags: one set from the container's row shows as a chip, and the tag filter keeps only that row.
  const tagged = page.locator('tr[data-container="ui-e2e-web2"]');
  await until("the buttons to be usable again", () => tagged.getByRole("button", { name: "tags" }).isEnabled());
  promptAnswer = "e2e-tag, team-a";
  await tagged.getByRole("button", { name: "tags" }).click();
  await tagged.locator('.tag[data-tag="e2e-tag"]').waitFor({ timeout: 10000 });
  await page.locator('select[name="tag-filter"]').selectOption("team-a");
  await until("the filter to keep only the tagged container", async () => (await page.locator("table.containers tbody tr").count()) === 1);
  check((await page.locator("table.containers tbody tr").getAttribute("data-container")) === "ui-e2e-web2",
        "a tag set in the UI shows on its container and filters the list");
  await page.locator('select[name="tag-filter"]').selectOption("");

  // An error from the server reaches the user as it came: renaming to a name another container has is
  // refused by Docker, and Docker's words are shown.
  const web2 = page.locator('tr[data-container="ui-e2e-web2"]');
  await until("the buttons to be usable again", () => web2.getByRole("button", { name: "rename" }).isEnabled());
  promptAnswer = "ui-e2e-busy";
  const [refusedRename] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/rename"), { timeout: 20000 }),
    web2.getByRole("button", { name: "rename" }).click(),
  ]);
  const renameError = (await refusedRename.json().catch(() => ({}))).error ?? "";
  const alert = page.locator("p.error[role=alert]");
  await alert.waitFor({ timeout: 10000 });
  const alertText = await alert.textContent();
  check(refusedRename.status() >= 400 && renameError !== "" && alertText.includes(renameError),
        `the server's error is shown as it came (${refusedRename.status()}): ${alertText}`);
  check(/already in use/i.test(alertText), "it carries Docker's reason: the name is already in use");
  check(inspect("ui-e2e-web2", "{{.Name}}") === "/ui-e2e-web2" && inspect("ui-e2e-busy", "{{.Name}}") === "/ui-e2e-busy",
        "both containers keep their names");

  // A destructive action asks first, and cancelling does nothing: no request, the container runs on.
  const changes = [];
  const noteChange = (r) => r.method() !== "GET" && r.url().includes("/containers/") && changes.push(r.method() + " " + r.url());
  page.on("request", noteChange);
  await until("the buttons to be usable again", () => web2.getByRole("button", { name: "kill" }).isEnabled());
  const startedAt = inspect("ui-e2e-web2", "{{.State.StartedAt}}");
  confirmAnswer = false;
  dialogs.length = 0;
  await web2.getByRole("button", { name: "kill" }).click();
  const longRow = page.locator(`tr[data-container="${longName}"]`);
  await longRow.getByRole("button", { name: "remove" }).click();
  confirmAnswer = true;
  // The click handlers have run to their end once the page answers; a request they made was sent by then.
  await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
  page.off("request", noteChange);
  check(dialogs.length === 2 && dialogs.every((d) => d.type === "confirm") &&
        dialogs[0].message.includes("ui-e2e-web2") && dialogs[1].message.includes(longName),
        "kill and remove ask for confirmation, naming the container: " + dialogs.map((d) => d.message).join(" | "));
  check(changes.length === 0, "cancelling sends nothing to the server" + (changes.length ? ": " + changes.join(", ") : ""));
  check(inspect("ui-e2e-web2", "{{.State.Running}}") === "true" && inspect("ui-e2e-web2", "{{.State.StartedAt}}") === startedAt,
        "after a cancelled kill the container is still running, not restarted");
  check(inspect(longName, "{{.State.Status}}") === "created", "after a cancelled remove the container is still there");

  // Filtering and sorting the table: the rows shown are the ones Docker has that match, in the chosen order.
  const shownRows = () => page.locator("table.containers tbody tr").evaluateAll((rows) =>
    rows.map((r) => ({ name: r.getAttribute("data-container"), state: r.querySelector("[data-state]")?.getAttribute("data-state") })));
  const ours = docker("ps", "-a", "--format", "{{.Names}}\t{{.Image}}").split("\n").filter(Boolean).map((l) => l.split("\t"))
    .filter(([n, img]) => n.includes("ui-e2e") || img.includes("ui-e2e")).map(([n]) => n).sort((a, b) => a.localeCompare(b));
  await page.getByLabel("Filter").fill("ui-e2e");
  let rows = [];
  await until("the filter to apply", async () => {
    rows = await shownRows();
    return JSON.stringify(rows.map((r) => r.name)) === JSON.stringify(ours);
  }, 10000).catch((e) => { throw new Error(`${e.message}: shown ${rows.map((r) => r.name)}, docker has ${ours}`); });
  check(ours.length >= 4, "filtering by 'ui-e2e' shows exactly Docker's ui-e2e containers, sorted by name: " + ours.join(", "));
  const byName = rows.map((r) => r.state);
  await page.getByLabel("Sort by").selectOption("state");
  await until("the rows to be sorted by state", async () => {
    rows = await shownRows();
    return rows[0]?.name === longName;
  }, 5000);
  const states = rows.map((r) => r.state);
  check(JSON.stringify(states) === JSON.stringify([...states].sort()) && JSON.stringify(states) !== JSON.stringify(byName) &&
        JSON.stringify(rows.map((r) => r.name).sort((a, b) => a.localeCompare(b))) === JSON.stringify(ours),
        "sorting by state reorders the same rows by state: " + states.join(", "));
  await page.getByLabel("Filter").fill("repository-name-long-enough");
  await until("the filter on the image", async () => JSON.stringify((await shownRows()).map((r) => r.name)) === JSON.stringify([longName]), 5000);
  check(true, "the filter matches images too: only the container on the long-named image is left");
  await page.getByLabel("Filter").fill("no-container-is-called-this");
  await until("no rows", async () => (await shownRows()).length === 0, 5000);
  check(true, "a filter nothing matches leaves no rows");
  await page.getByLabel("Filter").fill("");
  await page.getByLabel("Sort by").selectOption("name");

  // Desktop widths: every page fits without sideways scrolling, of the page or of a table in its box,
  // and a row's rename and remove buttons are in view (they used to be cut off at 1280 px).
  async function fits(what) {
    const m = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth - window.innerWidth,
      tables: [...document.querySelectorAll(".table-wrap")].map((w) => w.scrollWidth - w.clientWidth),
    }));
    check(m.page <= 0 && m.tables.every((x) => x <= 0),
          `${what} fits without sideways scrolling (page ${m.page} px over, tables ${m.tables.join(", ") || "none"})`);
  }
  async function inView(button, what) {
    const r = await button.evaluate((b) => {
      const box = b.getBoundingClientRect();
      const wrap = b.closest(".table-wrap").getBoundingClientRect();
      return { left: box.left, right: box.right, min: Math.max(0, wrap.left), max: Math.min(window.innerWidth, wrap.right) };
    });
    check(r.left >= r.min && r.right <= r.max, `${what} is in view (${Math.round(r.left)}-${Math.round(r.right)} px of ${Math.round(r.max)})`);
  }
  for (const width of [1280, 1440]) {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`${base}/#/`);
    await hostRow.locator("[data-counts] .n-running").waitFor({ timeout: 15000 });
    await fits(`at ${width} px the dashboard`);
    await page.getByRole("button", { name: "Add a host" }).click();
    await page.getByRole("button", { name: "Mint a registration token" }).click();
    await page.locator("code[data-token]").waitFor();
    await fits(`at ${width} px the add-host panel`);
    await page.getByRole("button", { name: "Close" }).click();
    await page.goto(`${base}/#/hosts/${hostId()}`);
    await longRow.waitFor();
    await until("live numbers in the table", async () => /\d/.test(await page.locator('tr[data-container="ui-e2e-busy"] td[data-cpu]').textContent()), 15000);
    await fits(`at ${width} px the host's containers`);
    await inView(longRow.getByRole("button", { name: "rename" }), `at ${width} px a stopped container's rename button`);
    await inView(longRow.getByRole("button", { name: "remove" }), `at ${width} px a stopped container's remove button`);
    await inView(web2.getByRole("button", { name: "rename" }), `at ${width} px a running container's rename button`);
    const cut = await longRow.evaluate((tr) => [...tr.querySelectorAll("td.name, td.image")].map((td) => ({ cut: td.scrollWidth > td.clientWidth, title: td.title })));
    check(cut.length === 2 && cut.every((c) => c.cut) && cut[0].title.startsWith(longName) && cut[1].title === longImage,
          `at ${width} px a long name and image are cut, and whole in their titles`);
    await page.goto(`${base}/#/hosts/${hostId()}/containers/${inspect("ui-e2e-busy", "{{.Id}}")}`);
    await page.locator(".facts-grid").waitFor({ timeout: 15000 });
    await until("the four charts", async () => (await page.locator(".chart canvas").count()) === 4, 15000);
    await fits(`at ${width} px the container page`);
    await page.goto(`${base}/#/events`);
    await page.locator("table.events tbody tr").first().waitFor({ timeout: 15000 });
    await fits(`at ${width} px the events page`);
    await page.goto(`${base}/#/settings`);
    await page.locator("table.users tbody tr").first().waitFor({ timeout: 15000 });
    await page.locator("table.keys").waitFor({ timeout: 15000 });
    await fits(`at ${width} px the settings page`);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${base}/#/hosts/${hostId()}`);
  await web2.waitFor();

  // The container page: details, charts, logs.
  await page.locator('tr[data-container="ui-e2e-web2"] a').click();
  await page.getByRole("heading", { name: "ui-e2e-web2" }).waitFor();
  const webId = inspect("ui-e2e-web2", "{{.Id}}");
  await page.locator(".facts-grid").getByText(webId).waitFor();
  check(true, "the container page shows the inspect data (its full id)");
  const logs = page.locator("pre.logs");
  await until("the container's line in the logs", async () => (await logs.textContent()).includes(marker + " was here"), 15000);
  check(true, "the logs show the line the container printed");
  await page.getByLabel("Search").fill(marker);
  await until("the match to be marked", async () => (await logs.locator("mark").first().textContent()) === marker, 5000);
  const printed = execFileSync("docker", ["-H", dockerHost, "logs", "ui-e2e-web2"], { encoding: "utf8" }).split("\n").filter((l) => l.includes(marker)).length;
  await until("every match to be marked", async () => (await logs.locator("mark").count()) === printed, 5000);
  check(printed >= 1 && (await page.getByText(`${printed} matching lines`).count()) === 1, `search marks the ${printed} matching lines and counts them`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()]);
  const saved = path.join(work, "download.log");
  await download.saveAs(saved);
  check(readFileSync(saved, "utf8").includes(marker) && download.suggestedFilename() === "ui-e2e-web2.log",
        "Download saves the logs as ui-e2e-web2.log");
  await page.getByLabel("Follow").check();
  docker("exec", "ui-e2e-web2", "sh", "-c", `echo followed-${marker} > /proc/1/fd/1`);
  await until("the followed line", async () => (await logs.textContent()).includes("followed-" + marker), 15000);
  check(true, "follow shows a line printed after the page opened");
  await page.getByLabel("Follow").uncheck();

  // A health check from the container page: a TCP port this script listens on, added through the form,
  // healthy as the agent probes it, paused, then removed.
  const listener = net.createServer((sock) => sock.end());
  await new Promise((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const healthSection = page.getByRole("region", { name: "Health check" });
  await healthSection.getByRole("button", { name: "Add a check" }).click();
  await healthSection.locator('select[name="check-type"]').selectOption("tcp");
  await healthSection.locator('input[name="check-target"]').fill(`127.0.0.1:${listener.address().port}`);
  await healthSection.locator('input[name="check-interval"]').fill("5");
  await healthSection.getByRole("button", { name: "Add check" }).click();
  const checkState = healthSection.getByLabel("Check state");
  await until("the check to be healthy", async () => (await checkState.textContent().catch(() => "")) === "healthy", 30000);
  check(true, "a TCP health check added from the container page turns healthy as the agent probes the port");
  await healthSection.screenshot({ path: path.join(shots, "health-check.png") });
  await healthSection.getByRole("button", { name: "Pause" }).click();
  await until("the check to be paused", async () => (await checkState.textContent()) === "paused", 10000);
  check(true, "the check can be paused");
  await healthSection.getByRole("button", { name: "Remove" }).click();
  await healthSection.getByText("No health check.").waitFor({ timeout: 10000 });
  const gone = (await page.request.get(`${base}/api/hosts/${hostId()}/containers/${webId}/health-check`)).status();
  check(gone === 404, "removed: the API has no check for the container any more");
  listener.close();

  // Charts of the busy container over the last hour, growing live.
  await page.goto(`${base}/#/hosts/${hostId()}/containers/${inspect("ui-e2e-busy", "{{.Id}}")}`);
  const cpuChart = page.locator('[data-chart="cpu"]');
  await cpuChart.locator("canvas").waitFor({ timeout: 15000 });
  const points = async () => Number(await cpuChart.getAttribute("data-points"));
  await until("points in the CPU chart", async () => (await points()) >= 2, 20000);
  const firstCount = await points();
  await until("the chart to grow live", async () => (await points()) > firstCount, 15000);
  check(true, `the CPU chart holds the history and grows live (${firstCount} -> ${await points()} points)`);
  check((await page.locator(".chart canvas").count()) === 4, "CPU, memory, network and disk charts are drawn");
  await page.getByRole("button", { name: "24h" }).click();
  await until("the 24h range to be chosen", async () => (await page.getByRole("button", { name: "24h" }).getAttribute("aria-pressed")) === "true");
  check(true, "the range can be switched to 24 h");
  await page.getByRole("button", { name: "1h" }).click();
  await until("points again", async () => (await points()) >= 2, 10000);
  await page.screenshot({ path: path.join(shots, "container.png"), fullPage: true });

  // Update ui-e2e-app to v2 from its page, and watch the stages to the end.
  await page.goto(`${base}/#/hosts/${hostId()}/containers/${inspect("ui-e2e-app", "{{.Id}}")}`);
  await page.getByRole("button", { name: "Update…" }).click();
  await page.locator('input[name="image"]').fill(`${appImage}:v2`);
  await page.getByRole("button", { name: "Start the update" }).click();
  await page.locator('[data-outcome]').waitFor({ timeout: 120000 });
  const outcome = await page.locator("[data-outcome]").getAttribute("data-outcome");
  const stages = await page.locator(".stages li").evaluateAll((li) => li.map((x) => x.getAttribute("data-stage")));
  check(outcome === "completed", "the update ends in completed (stages: " + stages.join(", ") + ")");
  check(stages.includes("pulling") && stages.includes("health_check"), "the stages are shown as they come");
  check((await page.locator(".layers li").count()) >= 1, "per-layer pull progress is shown");
  check(inspect("ui-e2e-app", '{{index .Config.Labels "dockmon.test.version"}}') === "v2", "the container now runs v2");
  await page.screenshot({ path: path.join(shots, "update.png"), fullPage: true });
  await page.getByRole("link", { name: "open the new one" }).click();
  await page.getByRole("heading", { name: "ui-e2e-app", exact: true }).waitFor();
  await page.locator(".facts-grid").getByText(inspect("ui-e2e-app", "{{.Id}}")).waitFor();
  check((await page.locator("p.facts").textContent()).includes("ui-e2e-app:v2"), "the page leads on to the new container, on v2");

  // Events across hosts: the update's outcome and the stop, filtered by type.
  await page.getByRole("link", { name: "Events" }).click();
  await page.getByRole("heading", { name: "Events" }).waitFor();
  await until("the stop of ui-e2e-web in the events", async () =>
    (await page.locator('table.events tr[data-event-action="stop"]').count()) >= 1, 20000);
  check(true, "the events page lists the stop done from the table");
  await page.getByLabel("Type").selectOption("update");
  let shownActions = [];
  await until("only update events", async () => {
    shownActions = await page.locator("table.events tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-event-action")));
    return shownActions.includes("completed") && !shownActions.includes("stop");
  }, 20000).catch(async (e) => {
    const all = await (await page.request.get(base + "/api/events?type=update&limit=100")).text();
    throw new Error(e.message + "; shown: " + shownActions.join(", ") + "; stored: " + all);
  });
  check(true, "filtering by type shows the update's completion and no container events");
  await page.getByLabel("Type").selectOption("");
  await page.screenshot({ path: path.join(shots, "events.png") });
  const countBefore = await page.locator('table.events tr[data-event-action="kill"]').count();
  docker("kill", "ui-e2e-busy");
  await until("the kill to appear by itself", async () =>
    (await page.locator('table.events tr[data-event-action="kill"]').count()) > countBefore, 20000);
  check(true, "a new event appears on the events page without a reload");

  // Alerts: a webhook channel made in the UI and its test button, a rule with a preview, and a killed
  // container's alert appearing on the page by itself while the receiver gets the message.
  const received = [];
  const hook = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      try { received.push(JSON.parse(body)); } catch { received.push({ unparsed: body }); }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise((r) => hook.listen(0, "127.0.0.1", r));
  const hookUrl = `http://127.0.0.1:${hook.address().port}/hook`;
  try { docker("rm", "-f", "ui-e2e-alert"); } catch { /* none */ }
  containers.push("ui-e2e-alert");
  const alertId = docker("run", "-d", "--name", "ui-e2e-alert", "--network", "none", "dockmon-test/busybox:latest", "sleep", "100000");
  await page.getByRole("link", { name: "Alerts" }).click();
  await page.getByRole("heading", { name: "Alerts" }).waitFor();
  await page.locator('input[name="channel-name"]').fill("e2e-hook");
  await page.locator('select[name="channel-type"]').selectOption("webhook");
  await page.locator('input[name="channel-url"]').fill(hookUrl);
  await page.getByRole("button", { name: "Add channel" }).click();
  const channelRow = page.locator('table[aria-label="Channels"] tr', { hasText: "e2e-hook" });
  await channelRow.waitFor();
  await channelRow.getByRole("button", { name: "Send test" }).click();
  await until("the test message at the receiver", async () => received.some((m) => m.event === "test"));
  await page.getByText("Test message delivered to e2e-hook.").waitFor();
  check(true, "a webhook channel made in the UI delivers its test message");

  await page.locator('input[name="rule-name"]').fill("e2e stopped");
  await page.locator('select[name="rule-kind"]').selectOption("container_stopped");
  await page.locator('input[name="rule-pattern"]').fill("ui-e2e-alert");
  await page.locator('input[name="rule-channel-e2e-hook"]').check();
  await page.getByRole("button", { name: "Preview" }).click();
  const preview = await page.getByLabel("Preview").textContent();
  check(/would have fired \d+ times and sent \d+ messages in the last 24 hours/.test(preview), "the rule's preview says how often it would have fired: " + preview);
  await page.getByRole("button", { name: "Add rule" }).click();
  await page.locator('table[aria-label="Rules"] tr', { hasText: "e2e stopped" }).waitFor();
  await until("the server to see ui-e2e-alert start", async () => {
    const r = await page.request.get(`${base}/api/events?type=container&container_id=${alertId}`);
    return (await r.text()).includes('"action":"start"');
  });
  docker("kill", "ui-e2e-alert");
  await page.locator('table[aria-label="Firing alerts"] tr', { hasText: "ui-e2e-alert" }).waitFor({ timeout: 20000 });
  check(true, "the killed container's alert appears on the alerts page by itself");
  await until("the alert's message at the receiver", async () =>
    received.some((m) => m.event === "fired" && m.container_name === "ui-e2e-alert"));
  check(true, "the receiver got the alert naming the container");
  await until("the header's badge of firing alerts", async () => Number(await page.locator(".alert-badge").getAttribute("data-firing")) >= 1, 20000);
  check(true, "the header counts the firing alert");
  await page.locator('table[aria-label="Firing alerts"] button.link', { hasText: "ui-e2e-alert" }).click();
  await page.getByLabel("Timeline").getByText(/message sent to e2e-hook/).waitFor({ timeout: 20000 });
  check(true, "the alert's timeline shows the message sent, naming the channel");
  await page.screenshot({ path: path.join(shots, "alerts.png"), fullPage: true });

  // A rule edited in the UI: its form fills, and saving changes the rule; a snooze of the rule and a wake.
  const ruleRow = page.locator('table[aria-label="Rules"] tr', { hasText: "e2e stopped" });
  await ruleRow.getByRole("button", { name: "Edit" }).click();
  check((await page.locator('input[name="rule-pattern"]').inputValue()) === "ui-e2e-alert", "editing a rule fills its form");
  await page.locator('input[name="rule-name"]').fill("e2e stopped, edited");
  await page.locator('select[name="rule-severity"]').selectOption("critical");
  await page.getByRole("button", { name: "Save rule" }).click();
  await page.locator('table[aria-label="Rules"] tr', { hasText: "e2e stopped, edited" }).waitFor();
  const rules = await (await page.request.get(`${base}/api/alert-rules`)).json();
  const edited = rules.find((r) => r.name === "e2e stopped, edited");
  check(rules.length === 1 && edited?.severity === "critical" && edited?.scope.name === "ui-e2e-alert",
        "saving an edited rule changes it, not a copy: " + JSON.stringify(rules));
  const editedRow = page.locator('tr[data-rule="e2e stopped, edited"]');
  await editedRow.getByRole("button", { name: "Snooze 1 h" }).click();
  await editedRow.getByText(/snoozed until/).waitFor();
  const snoozedRule = (await (await page.request.get(`${base}/api/alert-rules`)).json())[0];
  check(typeof snoozedRule.snoozed_until === "string", "a rule snoozed in the UI is snoozed on the server");
  await editedRow.getByRole("button", { name: "Wake" }).click();
  await editedRow.getByRole("button", { name: "Snooze 1 h" }).waitFor();

  // A channel edited in the UI keeps its secret (shown masked, sent back masked) and still delivers.
  await channelRow.getByRole("button", { name: "Edit" }).click();
  check((await page.locator('input[name="channel-url"]').inputValue()) === "********", "an edited channel's secret stays masked");
  await page.locator('input[name="channel-name"]').fill("e2e-hook-renamed");
  await page.getByRole("button", { name: "Save channel" }).click();
  const renamedRow = page.locator('table[aria-label="Channels"] tr', { hasText: "e2e-hook-renamed" });
  await renamedRow.waitFor();
  const tests = received.filter((m) => m.event === "test").length;
  await renamedRow.getByRole("button", { name: "Send test" }).click();
  await until("a second test message at the receiver", async () => received.filter((m) => m.event === "test").length > tests);
  check(true, "a renamed channel keeps its stored URL and delivers");
  hook.close();

  // Settings: an API key made in the UI works; a viewer is added there.
  await page.getByRole("link", { name: "Settings" }).click();
  await page.locator('input[name="key-name"]').fill("ui-e2e-key");
  await page.locator('select[name="key-role"]').selectOption("viewer");
  await page.getByRole("button", { name: "Create key" }).click();
  const newKey = (await page.locator("code[data-new-key]").textContent({ timeout: 10000 })).trim();
  const asKey = await page.request.fetch(base + "/api/hosts", { headers: { Authorization: "Bearer " + newKey } });
  check(asKey.status() === 200, "the API key made in the UI opens the API");
  await page.locator('tr[data-key-name="ui-e2e-key"]').waitFor();
  await page.locator('input[name="new-username"]').fill("watcher");
  await page.locator('input[name="new-password"]').fill("watcher-password");
  await page.locator('select[name="new-role"]').selectOption("viewer");
  await page.getByRole("button", { name: "Add user" }).click();
  await page.locator('tr[data-username="watcher"]').waitFor({ timeout: 10000 });
  check((await page.locator('tr[data-username="watcher"]').getByLabel("Role of watcher").inputValue()) === "viewer", "an admin adds a viewer in the settings");
  await page.screenshot({ path: path.join(shots, "settings.png"), fullPage: true });
  await page.locator('tr[data-key-name="ui-e2e-key"]').getByRole("button", { name: "Revoke" }).click();
  await until("the key to be refused", async () =>
    (await page.request.fetch(base + "/api/hosts", { headers: { Authorization: "Bearer " + newKey } })).status() === 401, 10000);
  check(true, "revoking the key in the UI shuts it out");

  // A viewer at phone width sees the buttons disabled, and the API refuses them anyway.
  const viewerContext = await browser.newContext({ viewport: { width: 390, height: 844 } });  // phone width
  const viewer = await viewerContext.newPage();
  await viewer.goto(base + "/" + "#/hosts/" + hostId());
  await viewer.getByLabel("User name").fill("watcher");
  await viewer.getByLabel("Password").fill("watcher-password");
  await viewer.getByRole("button", { name: "Sign in" }).click();
  await viewer.getByText("watcher (viewer)").waitFor();
  const viewerStop = viewer.locator('tr[data-container="ui-e2e-web2"]').getByRole("button", { name: "stop" });
  await viewerStop.waitFor();
  check(await viewerStop.isDisabled(), "a viewer's buttons are disabled");
  const refused = await viewer.request.post(`${base}/api/hosts/${hostId()}/containers/ui-e2e-web2/stop`);
  check(refused.status() === 403, "the API refuses a viewer's stop anyway");
  check(inspect("ui-e2e-web2", "{{.State.Running}}") === "true", "the container still runs");
  const overflow = await viewer.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, "at phone width the page does not scroll sideways (tables scroll in their own box)");
  await viewer.screenshot({ path: path.join(shots, "host-phone-viewer.png") });
  await viewer.goto(`${base}/#/hosts/${hostId()}/containers/${inspect("ui-e2e-web2", "{{.Id}}")}`);
  await viewer.locator("pre.logs").getByText(marker + " was here").first().waitFor({ timeout: 15000 });
  check((await viewer.getByRole("button", { name: "Update…" }).count()) === 0, "a viewer is not offered the update");
  const phoneOverflow = await viewer.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(phoneOverflow <= 0, "the container page fits the phone's width");
  await viewer.screenshot({ path: path.join(shots, "container-phone.png") });
  for (const [where, ready] of [["#/events", "table.events"], ["#/settings", "table.keys"], ["#/", "table.hosts"]]) {
    await viewer.goto(`${base}/${where}`);
    await viewer.locator(ready).waitFor({ timeout: 15000 });
    const sideways = await viewer.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(sideways <= 0, `at phone width ${where} does not scroll sideways`);
  }
  check((await viewer.getByRole("button", { name: "Add a host" }).count()) === 0, "a viewer is not offered to add a host");

  // User management in the settings, checked against what the server then does.
  await page.goto(`${base}/#/settings`);
  const usersNow = async () => (await page.request.get(base + "/api/users")).json();
  const userOf = async (name) => (await usersNow()).find((u) => u.username === name);
  const usersMessage = page.locator("[data-users-message]");
  const textOf = async (l) => ((await l.count()) ? (await l.textContent()) ?? "" : "");  // without waiting for it
  const anonymous = await apiClient.newContext({ baseURL: base });  // no cookie: only the key counts
  apiContexts.push(anonymous);
  const person = "ui-e2e-person";
  const personPassword = "person-password-1";
  await page.locator('input[name="new-username"]').fill(person);
  await page.locator('input[name="new-password"]').fill(personPassword);
  await page.locator('select[name="new-role"]').selectOption("viewer");
  await page.getByRole("button", { name: "Add user" }).click();
  const personRow = page.locator(`tr[data-username="${person}"]`);
  await personRow.waitFor({ timeout: 10000 });
  check((await userOf(person))?.role === "viewer" && (await personRow.getByLabel(`Role of ${person}`).inputValue()) === "viewer",
        "an admin creates a viewer; the server has it as one");
  const first = await signInApi(base, person, personPassword);
  check(first.status === 200, "the new user can sign in");
  const personKey = (await (await first.api.post("/api/api-keys", { data: { name: "ui-e2e-person-key", role: "viewer" } })).json()).key;
  const asPersonKey = () => anonymous.get("/api/hosts", { headers: { Authorization: "Bearer " + personKey } });
  check((await asPersonKey()).status() === 200, "the new user made an API key that works");

  await personRow.getByLabel(`Role of ${person}`).selectOption("operator");
  await until("the server to have the new role", async () => (await userOf(person))?.role === "operator", 10000);
  await until("the table to show the new role", async () => (await personRow.getByLabel(`Role of ${person}`).inputValue()) === "operator", 10000);
  check((await personRow.getByLabel(`Role of ${person}`).inputValue()) === "operator", "changing the role in the table makes the user an operator");

  await personRow.getByRole("button", { name: "Sign out everywhere" }).click();
  await until("the sign-out to be reported", async () => /sessions? ended/.test(await textOf(usersMessage)), 10000);
  const ended = (await usersMessage.textContent()).match(/(\d+) sessions? ended, (\d+) API keys? revoked/);
  check(ended && Number(ended[1]) >= 1 && Number(ended[2]) === 1, "sign out everywhere reports what it ended: " + (ended?.[0] ?? "nothing"));
  check((await first.api.get("/api/auth/me")).status() === 401, "the user's session no longer works");
  check((await asPersonKey()).status() === 401, "the user's API key no longer works");

  await personRow.getByRole("button", { name: "Disable" }).click();
  await until("the server to have the user disabled", async () => (await userOf(person))?.disabled === true, 10000);
  await until("the row to say disabled", async () => (await personRow.getAttribute("data-disabled")) === "true", 5000);
  const personContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const personPage = await personContext.newPage();
  await personPage.goto(base + "/");
  await personPage.getByLabel("User name").fill(person);
  await personPage.getByLabel("Password").fill(personPassword);
  const [refusedLogin] = await Promise.all([
    personPage.waitForResponse((r) => r.url().endsWith("/api/auth/login")),
    personPage.getByRole("button", { name: "Sign in" }).click(),
  ]);
  await personPage.getByRole("alert").waitFor();
  check([401, 403].includes(refusedLogin.status()) && (await personPage.getByText(`${person} (operator)`).count()) === 0,
        `a disabled user's sign-in fails (${refusedLogin.status()}: ${await personPage.getByRole("alert").textContent()})`);
  await personRow.getByRole("button", { name: "Enable" }).click();
  await until("the server to have the user enabled", async () => (await userOf(person))?.disabled === false, 10000);
  check((await signInApi(base, person, personPassword)).status === 200, "enabled again, the user can sign in again");

  // The server keeps one enabled admin; its refusal is shown as it came, and nothing changes.
  const adminRow = page.locator('tr[data-username="admin"]');
  const [lastAdmin] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/users/")),
    adminRow.getByLabel("Role of admin").selectOption("viewer"),
  ]);
  const lastAdminError = (await lastAdmin.json().catch(() => ({}))).error ?? "";
  await until("the refusal to be shown", async () => (await textOf(usersMessage)).includes(lastAdminError), 5000)
    .catch(() => { throw new Error("check failed: the server's refusal is not shown: " + lastAdminError); });
  await until("the select to show admin again", async () => (await adminRow.getByLabel("Role of admin").inputValue()) === "admin", 5000);
  check(lastAdmin.status() === 409 && lastAdminError !== "" && (await userOf("admin")).role === "admin",
        `making the only admin a viewer is refused (409) and the reason shown: ${lastAdminError}`);
  const [selfDelete] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "DELETE" && r.url().includes("/api/users/")),
    adminRow.getByRole("button", { name: "Delete" }).click(),
  ]);
  const selfDeleteError = (await selfDelete.json().catch(() => ({}))).error ?? "";
  await until("the refusal to be shown", async () => {
    const t = await textOf(usersMessage);
    return t.includes("delete admin") && t.includes(selfDeleteError);
  }, 5000).catch(() => { throw new Error("check failed: the server's refusal is not shown: " + selfDeleteError); });
  check(selfDelete.status() === 409 && selfDeleteError !== "" && (await userOf("admin")) !== undefined,
        `an admin cannot delete themself (409), and is told: ${selfDeleteError}`);

  confirmAnswer = false;
  await personRow.getByRole("button", { name: "Delete" }).click();
  confirmAnswer = true;
  check((await userOf(person)) !== undefined, "a cancelled delete keeps the user");
  dialogs.length = 0;
  await personRow.getByRole("button", { name: "Delete" }).click();
  await personRow.waitFor({ state: "detached", timeout: 10000 });
  check(dialogs.some((d) => d.type === "confirm" && d.message.includes(person)) && (await userOf(person)) === undefined,
        "deleting asks first, then the user is gone from the table and the server");
  check([401, 403].includes((await signInApi(base, person, personPassword)).status), "a deleted user cannot sign in");
  await personContext.close();

  // My own password: a wrong current one is refused with the server's words; the right one changes it,
  // ends my other sessions and keeps this one.
  const otherSession = await signInApi(base, "admin", password);
  check(otherSession.status === 200, "a second session of admin is open");
  const newPassword = "e2e-admin-password-2";
  const passwordMessage = page.locator("[data-password-message]");
  await page.locator('input[name="current-password"]').fill("not the password");
  await page.locator('input[name="new-own-password"]').fill(newPassword);
  await page.locator('input[name="new-own-password-again"]').fill(newPassword);
  const [wrongCurrent] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/auth/password")),
    page.getByRole("button", { name: "Change password" }).click(),
  ]);
  const wrongCurrentError = (await wrongCurrent.json().catch(() => ({}))).error ?? "";
  await passwordMessage.waitFor();
  check(wrongCurrent.status() === 403 && wrongCurrentError !== "" && (await passwordMessage.textContent()).includes(wrongCurrentError) &&
        (await passwordMessage.getAttribute("role")) === "alert",
        "a wrong current password is refused (403) and the reason shown: " + wrongCurrentError);
  await page.locator('input[name="current-password"]').fill(password);
  await page.getByRole("button", { name: "Change password" }).click();
  await until("the change to be confirmed", async () => (await passwordMessage.textContent()).startsWith("Password changed"), 10000);
  check((await otherSession.api.get("/api/auth/me")).status() === 401, "changing the password ended my other session");
  check((await page.request.get(base + "/api/auth/me")).status() === 200, "this session stays signed in");
  check([401, 403].includes((await signInApi(base, "admin", password)).status), "the old password no longer signs in");
  password = newPassword;
  await page.screenshot({ path: path.join(shots, "settings-users.png"), fullPage: true });

  // The live badge tells the truth: live while frames arrive, lost when the server goes silent. A stopped
  // process keeps its TCP connections open, so no close event comes: the heartbeat timeout has to notice.
  await page.goto(`${base}/#/events`);
  const badge = page.locator("header [data-live]");
  await page.locator(".live-state.live").waitFor({ timeout: 20000 });
  const beats = heartbeats.length;
  await until("a heartbeat frame on /ws", async () => heartbeats.length > beats, 15000);
  check(true, "the server sends heartbeat frames on the live feed");
  const liveColour = await badge.evaluate((e) => getComputedStyle(e).backgroundColor);
  serverProc.child.kill("SIGSTOP");
  serverStopped = true;
  const stoppedAt = Date.now();
  await until("the badge to say the connection is lost", async () => (await page.locator(".live-state.lost").count()) === 1, 40000);
  const lostText = await badge.textContent();
  const lostColour = await badge.evaluate((e) => getComputedStyle(e).backgroundColor);
  check(lostText === "connection lost, retrying…" && lostColour !== liveColour,
        `with the server silent the badge turns to "${lostText}" after ${Math.round((Date.now() - stoppedAt) / 1000)} s, in another colour (${liveColour} -> ${lostColour})`);
  await page.screenshot({ path: path.join(shots, "connection-lost.png") });
  serverProc.child.kill("SIGCONT");
  serverStopped = false;
  await page.locator(".live-state.live").waitFor({ timeout: 30000 });
  check(true, "with the server back the badge returns to live");

  // Signing out: the sign-in form comes back and the session is dead on the server too.
  check((await page.request.get(base + "/api/auth/me")).status() === 200, "signed in before signing out");
  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await page.getByRole("form", { name: "Sign in" }).waitFor({ timeout: 10000 });
  check((await page.request.get(base + "/api/auth/me")).status() === 401, "after signing out the sign-in form is shown and the API answers 401");
  await page.getByLabel("User name").fill("admin");
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByText("admin (admin)").waitFor({ timeout: 10000 });
  check(true, "admin signs in again with the new password");
  console.log("all e2e checks passed; screenshots in docs/screenshots/");
} catch (e) {
  exitCode = 1;
  console.error("FAILED:", e.message);
  if (lastPage) {
    await lastPage.screenshot({ path: path.join(work, "..", "dockmon-e2e-failure.png") }).catch(() => undefined);
    console.error("the page at the failure: " + path.join(work, "..", "dockmon-e2e-failure.png"));
  }
  for (const p of procs) console.error(`--- ${p.name} log (last 3000 characters)\n` + p.log().slice(-3000));
} finally {
  for (const a of apiContexts) await a.dispose().catch(() => undefined);
  if (browser) await browser.close().catch(() => undefined);
  if (serverStopped) serverProc.child.kill("SIGCONT");  // a stopped process would not act on SIGTERM
  for (const c of children) c.kill("SIGTERM");
  for (const name of containers) {
    try { docker("rm", "-f", name); } catch { /* gone */ }
  }
  try { docker("rmi", longImage); } catch { /* untagged already */ }
  // The test's images, tagged or not (a pushed image keeps its digest after its tag is gone).
  try {
    const ids = [...new Set(docker("images", "-q", appImage).split("\n").filter(Boolean))];
    if (ids.length) docker("rmi", "-f", ...ids);
  } catch { /* none */ }
  rmSync(work, { recursive: true, force: true });
}
process.exit(exitCode);
