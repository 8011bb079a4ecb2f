// moby-init with real child processes: a start or restart that races a stop.
// A restart in flight when init gets SIGTERM, a StartComponent or
// RestartComponent while init shuts down, and a StopComponent during a
// restart must all leave the component stopped, and no process may outlive
// init.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, describe, it } from "node:test";
import { Code } from "@moby-core/sdk";
import type { ConnectError } from "@moby-core/sdk";
import { ComponentState } from "@moby-core/supervisor-api/v1";
import { alive } from "../support/component-process.js";
import { Assembly } from "../support/assembly.js";
import { repoRoot } from "../support/contract-copy.js";
import { rejection } from "../support/rejection.js";

/**
 * The manifest lines of a component that appends "<name> <pid>" to ${RECORD}.pids,
 * serves nothing (it stays STARTING) and takes stopDelayMs to exit after SIGTERM.
 */
function slowToStop(stopDelayMs: number): string {
  const script = [
    "require('fs').appendFileSync(process.env.PIDS, process.env.MOBY_COMPONENT_NAME + ' ' + process.pid + require('os').EOL);",
    "process.on('SIGTERM', () => setTimeout(() => process.exit(0), Number(process.env.STOP_DELAY)));",
    "setInterval(() => {}, 60000);",
  ].join(" ");
  return [
    `    command: ["node", "-e", "${script}"]`,
    `    workingDir: ${repoRoot}`,
    `    env: { PIDS: "\${RECORD}.pids", STOP_DELAY: "${stopDelayMs}" }`,
    `    health: { startPeriod: 10m, startInterval: 1s }`,
    `    restart: { policy: "no" }`,
    `    stopTimeout: 20s`,
  ].join("\n");
}

/** The pids each component process wrote, in start order. */
function pidsOf(assembly: Assembly, name: string): number[] {
  const file = `${assembly.recordFile}.pids`;
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => line.split(" "))
    .filter(([component]) => component === name)
    .map(([, pid]) => Number(pid));
}

/** Resolves once the count-th process of the component has written its pid, and so handles SIGTERM. */
async function untilStarted(assembly: Assembly, name: string, count = 1): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (pidsOf(assembly, name).length < count) {
    if (Date.now() > deadline) assert.fail(`${name} did not start its process ${count}:\n${assembly.init.output}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Kills whatever a failed test left running, and removes the scratch directory. */
function cleanUp(assembly: Assembly | undefined, names: string[]): void {
  if (assembly === undefined) return;
  assembly.connection.close();
  for (const pid of names.flatMap((name) => pidsOf(assembly, name)).filter(alive)) process.kill(-pid, "SIGKILL");
  assembly.remove();
}

/** Sends SIGTERM to init without waiting for it to exit; the supervisor API keeps answering while it stops the components. */
function beginShutdown(assembly: Assembly) {
  return assembly.init.stop("SIGTERM");
}

/** What a call settled with: its rejection as a ConnectError, or "resolved". */
function outcome(call: Promise<unknown>): Promise<ConnectError | "resolved"> {
  return rejection(call).catch(() => "resolved" as const);
}

describe("a restart in flight when init gets SIGTERM", () => {
  let assembly: Assembly | undefined;
  after(() => cleanUp(assembly, ["slow"]));

  it("is refused with UNAVAILABLE, and the component does not outlive init", async () => {
    assembly = await Assembly.boot(`
components:
  slow:
${slowToStop(1500)}
`);
    const booted = assembly;
    await untilStarted(booted, "slow");
    const restarted = outcome(booted.supervisor.restartComponent({ name: "slow" }));
    await booted.until("slow", (c) => c.state === ComponentState.STOPPING);
    const exit = await beginShutdown(booted);
    assert.deepEqual(exit, { code: 0, signal: null });
    const error = await restarted;
    assert.notEqual(error, "resolved", "the restart must not report success");
    if (error !== "resolved") {
      assert.equal(error.code, Code.Unavailable, error.message);
      assert.match(error.message, /init is shutting down/);
    }
    const pids = pidsOf(booted, "slow");
    assert.equal(pids.length, 1, `one process only, not one started by the restart: ${pids.join(", ")}`);
    assert.deepEqual(pids.filter(alive), [], "no component process outlives init");
  });
});

describe("starts and stops racing while init runs and while it shuts down", () => {
  let assembly: Assembly | undefined;
  after(() => cleanUp(assembly, ["slow", "quick"]));

  it("leaves a component stopped when StopComponent arrives during its restart, and tells the restart's caller", async () => {
    assembly = await Assembly.boot(`
components:
  slow:
${slowToStop(1500)}
  quick:
${slowToStop(0)}
`);
    const booted = assembly;
    await untilStarted(booted, "slow");
    await untilStarted(booted, "quick");
    const restarted = outcome(booted.supervisor.restartComponent({ name: "slow" }));
    await booted.until("slow", (c) => c.state === ComponentState.STOPPING);
    const { component } = await booted.supervisor.stopComponent({ name: "slow" });
    assert.equal(component?.state, ComponentState.STOPPED);
    const error = await restarted;
    assert.notEqual(error, "resolved", "the restart must not undo the stop");
    if (error !== "resolved") {
      assert.equal(error.code, Code.FailedPrecondition, error.message);
      assert.match(error.message, /slow was stopped by another request while it restarted.*StartComponent/);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const later = await booted.component("slow");
    assert.equal(later.state, ComponentState.STOPPED);
    assert.equal(later.pid, 0);
    assert.equal(pidsOf(booted, "slow").length, 1, "no second process");
  });

  it("refuses StartComponent and RestartComponent with UNAVAILABLE while init shuts down, and nothing outlives init", async () => {
    const booted = assembly!;
    await booted.supervisor.startComponent({ name: "slow" });
    await untilStarted(booted, "slow", 2);
    const exited = beginShutdown(booted);
    // quick stops at once; slow keeps init shutting down for a while longer.
    await booted.until("quick", (c) => c.state === ComponentState.STOPPED, 5000);
    const started = await rejection(booted.supervisor.startComponent({ name: "quick" }));
    assert.equal(started.code, Code.Unavailable, started.message);
    assert.match(started.message, /init is shutting down and starts no component; start quick again once init is running/);
    const restarted = await rejection(booted.supervisor.restartComponent({ name: "quick" }));
    assert.equal(restarted.code, Code.Unavailable, restarted.message);
    assert.deepEqual(await exited, { code: 0, signal: null });
    assert.equal(pidsOf(booted, "quick").length, 1, "quick was not started again");
    assert.deepEqual([...pidsOf(booted, "slow"), ...pidsOf(booted, "quick")].filter(alive), [], "no component process outlives init");
  });
});
