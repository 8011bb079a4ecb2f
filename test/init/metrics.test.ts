// init's Prometheus endpoint (--metrics-address) and `moby metrics`, on a
// real init with real components: the text is checked by promtool
// (Prometheus' own parser: one HELP and TYPE per family, every line well
// formed), every sample carries its component, counters move as calls are
// made, and a component that is down or does not answer does not fail the
// scrape.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Health } from "@moby-core/component-api/v1";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { ComponentProcess, scratchDirectory } from "../support/component-process.js";
import { Assembly, behaving } from "../support/assembly.js";
import { repoRoot } from "../support/contract-copy.js";
import { parseExposition, promtoolCheck, sampleValue } from "../support/prometheus-text.js";
import type { ParsedFamily } from "../support/prometheus-text.js";

const METRICS_URL = /serving the assembly's metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)/;

describe("init's metrics endpoint", () => {
  let assembly: Assembly;
  let url: string;

  before(async () => {
    assembly = await Assembly.boot(
      `
components:
  a:
${behaving()}
  b:
${behaving()}
    restart: { policy: always, delay: 100ms }
  broken:
${behaving("exit:3")}
    restart: { policy: no }
`,
      undefined,
      ["--metrics-address", "127.0.0.1:0"],
    );
    await assembly.init.waitForOutput(METRICS_URL);
    url = METRICS_URL.exec(assembly.init.output)![1]!;
    const up = (c: { state: ComponentState; health: Health }) => c.state === ComponentState.RUNNING && c.health === Health.SERVING;
    await assembly.until("a", up);
    await assembly.until("b", up);
    await assembly.until("broken", (c) => c.state === ComponentState.FAILED);
  });

  after(async () => {
    await assembly?.shutdown();
    assembly?.remove();
  });

  const scrape = async (): Promise<{ text: string; families: Map<string, ParsedFamily> }> => {
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
    const text = await response.text();
    return { text, families: parseExposition(text) };
  };

  it("serves one exposition that Prometheus' parser accepts, every sample labelled with its component", async () => {
    const { text, families } = await scrape();
    promtoolCheck(text);
    for (const [name, family] of families) {
      for (const sample of family.metrics) {
        if (sample.labels !== undefined) assert.ok(sample.labels.component, `a sample of ${name} has no component label`);
      }
    }
    for (const component of ["init", "a", "b"]) {
      assert.equal(sampleValue(families, "moby_component_up", { component }), 1, `${component} is up`);
      assert.equal(sampleValue(families, "moby_component_info", { component, name: component }), 1);
    }
    assert.equal(sampleValue(families, "moby_component_up", { component: "broken" }), 0);
    assert.equal(sampleValue(families, "moby_component_scrape_error", { component: "broken", error: "not_running" }), 1);
    assert.equal(sampleValue(families, "moby_init_component_state", { component: "init", name: "broken", state: "failed" }), 1);
    assert.equal(sampleValue(families, "moby_init_component_state", { component: "init", name: "a", state: "running" }), 1);
    assert.equal(sampleValue(families, "moby_init_component_health", { component: "init", name: "a", health: "serving" }), 1);
  });

  it("counts calls as they are made: each scrape is a GetMetrics call to each component", async () => {
    const labels = { component: "a", grpc_service: "moby.component.v1.ComponentService", grpc_method: "GetMetrics", grpc_code: "OK" };
    const first = sampleValue((await scrape()).families, "grpc_server_handled_total", labels) ?? 0;
    await scrape();
    const third = sampleValue((await scrape()).families, "grpc_server_handled_total", labels);
    // Each scrape asks a once, and its answer is counted once the call ends, so the one in flight shows in the next.
    assert.equal(third, first + 2);
  });

  it("counts a restart, and the process of the new pid", async () => {
    const before = await assembly.component("b");
    process.kill(before.pid, "SIGKILL");
    await assembly.until("b", (c) => c.state === ComponentState.RUNNING && c.health === Health.SERVING && c.pid !== before.pid);
    const { families } = await scrape();
    assert.equal(sampleValue(families, "moby_init_component_restarts_total", { component: "init", name: "b" }), 1);
    assert.equal(sampleValue(families, "moby_component_up", { component: "b" }), 1);
  });

  it("answers without a component that does not answer in time, and says so", async () => {
    const a = await assembly.component("a");
    process.kill(a.pid, "SIGSTOP");
    try {
      const { text, families } = await scrape();
      promtoolCheck(text);
      assert.equal(sampleValue(families, "moby_component_up", { component: "a" }), 0);
      assert.equal(sampleValue(families, "moby_component_scrape_error", { component: "a", error: "timeout" }), 1);
      assert.equal(sampleValue(families, "moby_component_up", { component: "b" }), 1);
      assert.equal(sampleValue(families, "moby_component_info", { component: "a" }), undefined);
    } finally {
      process.kill(a.pid, "SIGCONT");
    }
  });

  it("serves nothing but /metrics", async () => {
    assert.equal((await fetch(url.replace("/metrics", "/other"))).status, 404);
    assert.equal((await fetch(url, { method: "POST" })).status, 405);
  });

  it("`moby metrics` prints the same exposition through init's API", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", join(repoRoot, "packages/cli/bin/moby.js"), "--run-dir", assembly.runDir, "metrics"], {
      cwd: repoRoot,
      encoding: "utf8",
    });
    assert.equal(result.status, 0, result.stderr);
    promtoolCheck(result.stdout);
    const families = parseExposition(result.stdout);
    assert.equal(sampleValue(families, "moby_component_up", { component: "b" }), 1);
    assert.ok(families.has("grpc_server_started_total"));
  });
});

describe("init's --metrics-address", () => {
  it("refuses an address that is not HOST:PORT with one line naming it, and starts nothing", async () => {
    const scratch = scratchDirectory("moby-metrics-address-");
    try {
      const init = new ComponentProcess("packages/init/bin/moby-init.js", {}, ["--manifest", join(repoRoot, "moby.yaml"), "--run-dir", join(scratch.dir, "run"), "--metrics-address", "localhost:http"]);
      const exit = await init.exited;
      assert.equal(exit.code, 1);
      assert.equal(init.output.trim().split("\n").length, 1, init.output);
      assert.match(init.output, /--metrics-address "localhost:http": "localhost" is not an IP address/);
    } finally {
      scratch.remove();
    }
  });
});
