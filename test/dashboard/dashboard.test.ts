// The dashboard in a real browser: a real moby-init boots events,
// container-store, container-runtime and the dashboard (on a free loopback
// port) in a scratch run directory; Debian's chromium, driven by
// playwright-core, opens the page and sees every component healthy, sees a
// component killed with SIGKILL come back (restarts 1, a new pid), restarts
// one with the page's button, runs a container with the real CLI and sees it,
// its events and its logs, stops it from the page, sees the charts drawn,
// and keeps a screenshot in test-artifacts/dashboard.png. The server refuses
// a foreign Origin or Host with 403. The browser, every container and init
// are stopped afterwards, by pid, even when a step fails.
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import type { Browser, BrowserServer, Page } from "playwright-core";
import { makeBusyboxRootfs } from "../../packages/container-runtime/src/busybox-rootfs.js";
import { Init, cid, component, moby, ok, skipContainers } from "../cli/moby-assembly.js";
import { scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";
import { freePort } from "../support/free-port.js";

/** Debian's chromium (playwright's own browser downloads do not work here). */
const CHROMIUM = "/usr/bin/chromium";
const skip = skipContainers !== false ? skipContainers : existsSync(CHROMIUM) ? false : `needs ${CHROMIUM} (apt-get install chromium)`;
/** Where the screenshot is kept (gitignored). */
const ARTIFACTS = join(repoRoot, "test-artifacts");
/** How long the page may take to show a change. */
const SEEN_MS = 30_000;


/** POSTs to the dashboard with the given headers; resolves with the status and body. */
function post(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once("error", reject);
    req.end("{}");
  });
}

/** The text of a cell of a component's row. */
function componentCell(page: Page, name: string, cell: string): Promise<string> {
  return page.locator(`tr[data-component="${name}"] td.${cell}`).innerText();
}

describe("the dashboard in a browser", { skip }, () => {
  const scratch = scratchDirectory("moby-dashboard-");
  const rootfs = join(scratch.dir, "rootfs");
  const id = cid("dash");
  let port = 0;
  let init: Init;
  let server: BrowserServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  before(async () => {
    makeBusyboxRootfs(rootfs);
    port = await freePort();
    init = new Init(scratch.dir, {
      events: component("packages/events/bin/moby-events.js", { services: ["moby.events.v1.EventsService"] }),
      "container-store": component("packages/container-store/bin/moby-container-store.js", {
        services: ["moby.container.store.v1.ContainerStoreService"],
      }),
      "container-runtime": component("packages/container-runtime/bin/moby-container-runtime.js", {
        services: ["moby.container.runtime.v1.ContainerRuntimeService"],
        requires: ["container-store"],
      }),
      dashboard: component("packages/dashboard/bin/moby-dashboard.js", {
        requires: ["events"],
        config: { address: `127.0.0.1:${port}`, sampleInterval: "500ms" },
      }),
    });
    await init.boot();
    // launchServer, not launch: its process() gives the browser's pid, to kill it by pid at the end.
    server = await chromium.launchServer({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    browser = await chromium.connect(server.wsEndpoint());
    page = await browser.newPage({ viewport: { width: 1300, height: 1200 } });
    await page.goto(`http://127.0.0.1:${port}/`);
  });

  after(async () => {
    try {
      if (page !== undefined && browser !== undefined) {
        mkdirSync(ARTIFACTS, { recursive: true });
        await page.screenshot({ path: join(ARTIFACTS, "dashboard.png"), fullPage: true }).catch(() => undefined);
      }
      const pid = server?.process().pid;
      await browser?.close().catch(() => undefined);
      await server?.close().catch(() => undefined);
      if (pid !== undefined) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await moby(init.runDir, "rm", "-f", id);
      await init.stopCleanly();
    } finally {
      scratch.remove();
    }
  });

  it("shows every component running and serving", async () => {
    for (const name of ["init", "events", "container-store", "container-runtime", "dashboard"]) {
      await page.locator(`tr[data-component="${name}"] td.health`, { hasText: "serving" }).waitFor({ timeout: SEEN_MS });
      assert.equal(await componentCell(page, name, "state"), "running");
    }
  });

  it("shows a component killed with SIGKILL restarted by init, with a new pid", async () => {
    const pid = Number(await componentCell(page, "container-store", "pid"));
    assert.ok(pid > 0);
    process.kill(pid, "SIGKILL");
    await page.waitForFunction(
      // No named functions inside: tsx would add a __name helper the page does not have.
      ([old]) => {
        const row = document.querySelector('tr[data-component="container-store"]');
        return (
          row?.querySelector("td.restarts")?.textContent === "1" &&
          row.querySelector("td.health")?.textContent === "serving" &&
          row.querySelector("td.pid")?.textContent !== String(old)
        );
      },
      [pid],
      { timeout: SEEN_MS },
    );
  });

  it("restarts a component with the page's button", async () => {
    await page.locator('tr[data-component="events"] button[data-action="restart"]').click();
    await page.waitForFunction(
      () => {
        const row = document.querySelector('tr[data-component="events"]');
        return row?.querySelector("td.restarts")?.textContent === "1" && row.querySelector("td.health")?.textContent === "serving";
      },
      undefined,
      { timeout: SEEN_MS },
    );
  });

  it("shows a container run with the CLI, its events and its logs, and stops it", async () => {
    await ok(init.runDir, "run", "-d", "--name", id, "--rootfs", rootfs, "--", "sh", "-c", "echo hello from the dashboard test; sleep 1000");
    const row = page.locator(`tr[data-container="${id}"]`);
    await row.locator("td.status", { hasText: "running" }).waitFor({ timeout: SEEN_MS });
    assert.match(await row.locator("td.command").innerText(), /sh -c echo hello from the dashboard test; sleep 1000/);
    // Its events, in the live stream (the page follows it again after the events component's restart).
    await page.locator("#events li.event[data-topic='/containers/create']", { hasText: id }).waitFor({ timeout: SEEN_MS });
    await page.locator("#events li.event[data-topic='/tasks/start']", { hasText: id }).waitFor({ timeout: SEEN_MS });
    await row.locator('button[data-action="logs"]').click();
    await page.locator("#logs", { hasText: "hello from the dashboard test" }).waitFor({ timeout: SEEN_MS });
    await row.locator('button[data-action="stop"]').click();
    await row.locator("td.status", { hasText: "stopped" }).waitFor({ timeout: SEEN_MS });
    await page.locator("#events li.event[data-topic='/tasks/exit']", { hasText: id }).waitFor({ timeout: SEEN_MS });
  });

  it("filters the events as moby events --filter does", async () => {
    await page.locator("#event-filter input[name=filter]").fill('topic~="^/components/"');
    await page.locator("#event-filter button[type=submit]").click();
    await page.locator("#events li.event[data-topic='/components/started']").first().waitFor({ timeout: SEEN_MS });
    const topics = await page.locator("#events li.event").evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.topic ?? ""));
    assert.ok(topics.length > 0 && topics.every((topic) => topic.startsWith("/components/")), topics.join(", "));
  });

  it("draws the charts: calls per component, container CPU and memory, event rate", async () => {
    for (const metric of ["calls_per_second", "error_ratio", "container_cpu_cores", "container_memory_bytes", "events_per_second"]) {
      await page.waitForFunction((m) => Number(document.querySelector(`figure[data-metric="${m}"]`)?.getAttribute("data-lines") ?? 0) > 0, metric, { timeout: SEEN_MS });
      assert.ok(await page.locator(`figure[data-metric="${metric}"] canvas`).count() > 0, `${metric} has a canvas`);
    }
  });

  it("refuses a foreign Origin or Host with 403, before any RPC", async () => {
    const path = "/moby.dashboard.v1.DashboardService/RestartComponent";
    const origin = await post(port, path, { origin: "http://evil.example" });
    assert.equal(origin.status, 403);
    assert.match(origin.body, /Origin "http:\/\/evil\.example" is not this dashboard's/);
    const host = await post(port, path, { host: `evil.example:${port}` });
    assert.equal(host.status, 403);
    const own = await post(port, "/moby.dashboard.v1.DashboardService/ListComponents", { origin: `http://127.0.0.1:${port}` });
    assert.equal(own.status, 200);
  });
});
