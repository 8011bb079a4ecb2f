// The container runtime's health when it cannot run containers, as an
// operator sees it: a real moby-init runs the real runtime with a PATH that
// has no runc; the runtime keeps serving, its ContainerRuntimeService is
// NOT_SERVING with the reason in GetInfo, init reports the component
// DEGRADED with that reason as its message (and does not restart it), and
// `moby components` (the real CLI) shows both.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { dialSocket } from "@moby-core/sdk";
import { ComponentService, Health } from "@moby-core/component-api/v1";
import { ContainerRuntimeService } from "@moby-core/container-runtime-api/v1";
import { Health as HealthService, HealthCheckResponse_ServingStatus } from "@moby-core/grpc-health-api/v1";
import { Assembly } from "../support/assembly.js";
import { scratchDirectory } from "../support/component-process.js";
import { repoRoot } from "../support/contract-copy.js";

const MOBY = join(repoRoot, "packages/cli/bin/moby.js");
const RUNTIME = ContainerRuntimeService.typeName;

function moby(runDir: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MOBY, "--run-dir", runDir, ...args], { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
    });
  });
}

describe("container-runtime without runc, under init", () => {
  const scratch = scratchDirectory("moby-rt-health-");
  const emptyPath = join(scratch.dir, "empty-path");
  let assembly: Assembly;

  before(async () => {
    mkdirSync(emptyPath);
    assembly = await Assembly.boot(
      [
        "components:",
        "  container-runtime:",
        `    command: [${JSON.stringify(process.execPath)}, "packages/container-runtime/bin/moby-container-runtime.js"]`,
        `    workingDir: ${repoRoot}`,
        `    env: { PATH: ${JSON.stringify(emptyPath)}, MOBY_LOG_LEVEL: "error" }`,
        `    services: [${RUNTIME}]`,
        "    health: { interval: 200ms, timeout: 2s, retries: 2, startInterval: 100ms }",
        "",
      ].join("\n"),
      scratch,
    );
  });

  after(async () => {
    await assembly?.shutdown();
    scratch.remove();
  });

  it("is DEGRADED with the reason, in init, in GetInfo and in `moby components`, and is not restarted", async () => {
    const component = await assembly.until("container-runtime", (c) => c.health === Health.DEGRADED);
    assert.match(component.message, new RegExp(`^${RUNTIME.replaceAll(".", "\\.")} is NOT_SERVING: runc not found in PATH \\(${emptyPath}\\): install runc`));

    const connection = dialSocket(component.socketPath, { retry: false });
    try {
      const info = (await connection.client(ComponentService).getInfo({})).info!;
      const served = new Map(info.services.map((s) => [s.name, s.notServingReason]));
      assert.match(served.get(RUNTIME) ?? "", /^runc not found in PATH .*install runc/);
      assert.equal(served.get(ComponentService.typeName), "", "a serving service gives no reason");
      const health = connection.client(HealthService);
      assert.equal((await health.check({ service: RUNTIME })).status, HealthCheckResponse_ServingStatus.NOT_SERVING);
      assert.equal((await health.check({ service: "" })).status, HealthCheckResponse_ServingStatus.SERVING, "the component itself serves");
    } finally {
      connection.close();
    }

    const json = await moby(assembly.runDir, "components", "--json");
    assert.equal(json.code, 0, json.stderr);
    const listed = (JSON.parse(json.stdout) as { name: string; health: string; message: string; restarts: number }[]).find((c) => c.name === "container-runtime");
    assert.equal(listed?.health, "degraded");
    assert.match(listed?.message ?? "", /is NOT_SERVING: runc not found in PATH .*install runc/);

    const table = await moby(assembly.runDir, "components");
    assert.equal(table.code, 0, table.stderr);
    const row = table.stdout.split("\n").find((line) => line.startsWith("container-runtime "));
    assert.ok(row !== undefined, table.stdout);
    assert.match(row, /\sdegraded\s.*runc not found in PATH/);

    assert.equal((await assembly.component("container-runtime")).restarts, 0, "a degraded component is not restarted");
  });
});
